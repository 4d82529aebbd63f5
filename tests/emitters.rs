//! The emitter registry on the real documents: every file an emitter
//! writes is one its declaration names (`Emitter::writes`), every path it
//! declares without a pattern is written, and the snapshot of the last
//! migration, written before the YAML library changed, still reads.

mod support;

use schemagen::Settings;
use schemagen::emit::migrations::{self, Existing, MigrationRequest, Plan};
use schemagen::emit::{EmitContext, Emitter, Templates};

#[test]
fn every_emitter_writes_exactly_what_it_declares() {
    let project = support::real_project(&Settings::default());
    let templates = Templates::load(None).unwrap();
    let context = EmitContext::new(&project, &templates);
    for &emitter in Emitter::ALL {
        let files = emitter.render(&context).unwrap();
        assert!(!files.is_empty(), "{} writes nothing", emitter.name());
        for file in &files {
            assert!(
                emitter.declares(&file.path),
                "{} writes {} but does not declare it",
                emitter.name(),
                file.path.display()
            );
        }
        for declared in emitter.writes().iter().filter(|p| !p.contains('*')) {
            assert!(
                files.iter().any(|f| f.path.to_string_lossy() == *declared),
                "{} declares {declared} but does not write it",
                emitter.name()
            );
        }
        let others: Vec<&Emitter> = Emitter::ALL.iter().filter(|&&e| e != emitter).collect();
        for file in &files {
            assert!(
                others.iter().all(|other| !other.declares(&file.path)),
                "{} is declared by two emitters",
                file.path.display()
            );
        }
    }
}

/// `generated/schema.snapshot.yaml` was written before serde_yaml gave way
/// to serde-saphyr (it is byte-identical to the one of cb0493f, written by
/// the earlier writer); it must read as the schema it describes, so that
/// the next migration is planned from it and finds nothing to do.
#[test]
fn a_snapshot_written_before_the_yaml_switch_reads_and_plans_nothing() {
    let text =
        std::fs::read_to_string(support::root().join("generated/schema.snapshot.yaml")).unwrap();
    let snapshot = migrations::read_snapshot(&text).expect("the old snapshot reads");
    assert!(snapshot.tables.len() > 40);
    let config = schemagen::config::ConfigFile::parse(
        &std::fs::read_to_string(support::root().join("schema/gen.yaml")).unwrap(),
        "schema/gen.yaml",
    )
    .unwrap();
    let project =
        support::real_project(&config.settings(Vec::new(), Default::default(), None, None));
    assert_eq!(&snapshot, project.realized());
    let existing = Existing {
        snapshot: Some(text),
        ..Existing::default()
    };
    let templates = Templates::load(None).unwrap();
    let context = EmitContext::new(&project, &templates);
    let request = MigrationRequest {
        name: "none",
        version: "20990101000000",
        allowed: Default::default(),
    };
    assert!(matches!(
        migrations::plan(&context, &existing, &request).unwrap(),
        Plan::UpToDate
    ));
}
