//! Benchmarks of every stage: read+parse, model build, realisation, each
//! emitter (given the realised schema, which `gen all` computes once for
//! all of them), the migrations, and everything `gen all` renders, on the
//! two real documents and on synthetic corpora. `GEN_BENCH_SIZES=docs,100,1000,10000 cargo bench` chooses the
//! corpora (default: docs,100,1000).

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use schemagen::emit::Target;
use schemagen::emit::migrations::{self, Existing, MigrationRequest};
use schemagen::emit::{EmitContext, Emitter, Templates};
use schemagen::source::SourceFile;
use schemagen::synth::{SynthOptions, generate};
use schemagen::{Project, Settings};
use std::hint::black_box;

fn corpus(name: &str) -> Vec<SourceFile> {
    let files: Vec<(String, Vec<u8>)> = if name == "docs" {
        [
            "schema/docs/javari-architecture.md",
            "schema/docs/platform-master-schema.md",
        ]
        .iter()
        .map(|p| {
            (
                p.to_string(),
                std::fs::read(p).expect("run from the repository root"),
            )
        })
        .collect()
    } else {
        let tables: usize = name.parse().expect("a size or `docs`");
        generate(&SynthOptions { tables, seed: 1 })
            .files
            .into_iter()
            .map(|(n, t)| (n, t.into_bytes()))
            .collect()
    };
    files
        .iter()
        .map(|(n, b)| SourceFile::decode(n.as_str(), b).0)
        .collect()
}

fn sizes() -> Vec<String> {
    std::env::var("GEN_BENCH_SIZES")
        .unwrap_or_else(|_| "docs,100,1000".to_owned())
        .split(',')
        .map(str::to_owned)
        .collect()
}

fn stages(c: &mut Criterion) {
    let templates = Templates::load(None).unwrap();
    let settings = Settings {
        target: Target::Postgres,
        ..Settings::default()
    };
    let mut group = c.benchmark_group("pipeline");
    group.sample_size(10);
    for size in sizes() {
        let raw: Vec<(String, String)> = corpus(&size)
            .into_iter()
            .map(|f| (f.display_path.clone(), f.text.clone()))
            .collect();
        group.bench_with_input(BenchmarkId::new("read+parse", &size), &raw, |b, raw| {
            b.iter(|| {
                for (name, text) in raw {
                    let (file, _) = SourceFile::decode(name.as_str(), text.as_bytes());
                    black_box(schemagen::source::document::read_document(&file));
                }
            })
        });
        let files = corpus(&size);
        // Lowering, realising and the lint checks: the whole project.
        group.bench_with_input(BenchmarkId::new("project", &size), &files, |b, files| {
            b.iter(|| black_box(Project::from_files(files.clone(), Vec::new(), &settings)))
        });
        let project = Project::from_files(files.clone(), Vec::new(), &settings);
        group.bench_with_input(BenchmarkId::new("realize", &size), &size, |b, _| {
            b.iter(|| black_box(project.documented().realize(&settings.realize)))
        });
        let context = EmitContext::new(&project, &templates);
        for &emitter in Emitter::ALL {
            group.bench_with_input(
                BenchmarkId::new(format!("emit-{}", emitter.name()), &size),
                &size,
                |b, _| b.iter(|| black_box(emitter.render(&context).unwrap())),
            );
        }
        let request = MigrationRequest {
            name: "bench",
            version: "20260101000000",
            allowed: migrations::AllowedHazards::of(schemagen::diff::hazard::HazardKind::ALL),
        };
        // A first migration in a context of its own, so that it renders the
        // script rather than reusing `sql/schema.sql`'s.
        group.bench_with_input(BenchmarkId::new("migrations", &size), &size, |b, _| {
            b.iter(|| {
                let fresh = EmitContext::new(&project, &templates);
                black_box(migrations::plan(&fresh, &Existing::default(), &request).unwrap())
            })
        });
        // What `gen all` does into an empty directory, without the disk.
        group.bench_with_input(BenchmarkId::new("all", &size), &size, |b, _| {
            b.iter(|| {
                let project = Project::from_files(files.clone(), Vec::new(), &settings);
                let context = EmitContext::new(&project, &templates);
                for &emitter in Emitter::ALL {
                    black_box(emitter.render(&context).unwrap());
                }
                black_box(migrations::plan(&context, &Existing::default(), &request).unwrap());
            })
        });
    }
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
