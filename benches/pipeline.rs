//! Benchmarks of every stage: read+parse, model build, realisation, each
//! emitter (given the realised schema, which `gen all` computes once for
//! all of them), the migrations, and everything `gen all` renders, on the
//! two real documents and on synthetic corpora. `GEN_BENCH_SIZES=docs,100,1000,10000 cargo bench` chooses the
//! corpora (default: docs,100,1000).

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use schemagen::config::Target;
use schemagen::emit::consolidation::Definitions;
use schemagen::emit::migrations::{self, Existing, MigrationRequest};
use schemagen::emit::{EmitContext, EmitInputs, EmitOptions, Emitter, Templates};
use schemagen::model::Schema;
use schemagen::model::physical::{RealizeOptions, realize};
use schemagen::source::SourceFile;
use schemagen::synth::{SynthOptions, generate};
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
    let options = EmitOptions {
        target: Target::Postgres,
        realize: RealizeOptions::default(),
    };
    let glossary = Default::default();
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
        group.bench_with_input(BenchmarkId::new("model", &size), &files, |b, files| {
            b.iter(|| black_box(schemagen::build_schema(files, &Default::default())))
        });
        let (schema, _) = schemagen::build_schema(&files, &Default::default());
        group.bench_with_input(BenchmarkId::new("realize", &size), &size, |b, _| {
            b.iter(|| black_box(realize(&schema, &options.realize)))
        });
        let context = EmitContext::new(&schema, &options, &templates);
        context.realized();
        // As `gen all` has them from loading the documents.
        let definitions = Definitions::read(&files);
        let inputs = EmitInputs {
            sources: &files,
            glossary: &glossary,
            definitions: Some(&definitions),
        };
        for &emitter in Emitter::ALL {
            group.bench_with_input(
                BenchmarkId::new(format!("emit-{}", emitter.name()), &size),
                &size,
                |b, _| {
                    b.iter(|| black_box(schemagen::emit::emit(emitter, &context, inputs).unwrap()))
                },
            );
        }
        let request = MigrationRequest {
            name: "bench",
            version: "20260101000000",
            allow_destructive: true,
        };
        let first_migration = |realized: &Schema| {
            migrations::plan_realized(
                realized,
                &Existing::default(),
                &request,
                &options,
                &templates,
            )
            .unwrap()
        };
        group.bench_with_input(BenchmarkId::new("migrations", &size), &size, |b, _| {
            b.iter(|| black_box(first_migration(context.realized())))
        });
        // What `gen all` does into an empty directory, without the disk.
        group.bench_with_input(BenchmarkId::new("all", &size), &size, |b, _| {
            b.iter(|| {
                let (schema, _) = schemagen::build_schema(&files, &Default::default());
                let context = EmitContext::new(&schema, &options, &templates);
                for &emitter in Emitter::ALL {
                    black_box(schemagen::emit::emit(emitter, &context, inputs).unwrap());
                }
                black_box(first_migration(context.realized()));
            })
        });
    }
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
