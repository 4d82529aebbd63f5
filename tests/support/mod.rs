//! Shared test helpers: loading the real documents, and `check()`, the one
//! data-driven helper that every fixture goes through.
#![allow(dead_code)]

use schemagen::diag::{Diagnostic, Severity};
use schemagen::emit::{EmitContext, Emitter, Target, Templates};
use schemagen::model::Schema;
use schemagen::model::physical::RealizeOptions;
use schemagen::model::stages::Documented;
use schemagen::source::SourceFile;
use schemagen::{Project, Settings};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub const JAVARI: &str = "schema/docs/javari-architecture.md";
pub const MASTER: &str = "schema/docs/platform-master-schema.md";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Decodes files as the CLI would, with paths shown relative to the root.
pub fn source_files(paths: &[&str]) -> Vec<SourceFile> {
    paths
        .iter()
        .map(|p| {
            let bytes = std::fs::read(root().join(p)).expect("fixture exists");
            SourceFile::decode(*p, &bytes).0
        })
        .collect()
}

/// Settings with the given target and realisation options.
pub fn settings(target: Target, realize: RealizeOptions) -> Settings {
    Settings {
        target,
        realize,
        ..Settings::default()
    }
}

/// The project of files, as `gen` would build it with default settings.
pub fn project_of_files(files: Vec<SourceFile>, settings: &Settings) -> Project {
    Project::from_files(files, Vec::new(), settings)
}

/// The project of the real documents, in the configured precedence order,
/// with what decoding them reported, as the CLI builds it.
pub fn real_project(settings: &Settings) -> Project {
    let mut files = Vec::new();
    let mut diagnostics = Vec::new();
    for path in [JAVARI, MASTER] {
        let bytes = std::fs::read(root().join(path)).expect("the document exists");
        let (file, found) = SourceFile::decode(path, &bytes);
        files.push(file);
        diagnostics.extend(found);
    }
    Project::from_files(files, diagnostics, settings)
}

/// A project whose documented model is `schema`.
pub fn project_of_schema(schema: &Schema, settings: &Settings) -> Project {
    Project::from_documented(Documented::new(schema.clone()), settings)
}

/// The documented model of files, with default settings.
pub fn schema_of_files(files: Vec<SourceFile>) -> Schema {
    project_of_files(files, &Settings::default())
        .documented()
        .clone()
        .into_inner()
}

/// `sql/schema.sql` of a project: the complete DDL for a fresh database.
pub fn ddl(project: &Project) -> String {
    let templates = Templates::load(None).expect("embedded templates load");
    let context = EmitContext::new(project, &templates);
    Emitter::Sql.render(&context).expect("the DDL renders")[0]
        .contents
        .clone()
}

/// The complete DDL of a documented schema under the given settings.
pub fn ddl_of(schema: &Schema, settings: &Settings) -> String {
    ddl(&project_of_schema(schema, settings))
}

/// The two real documents, in the configured precedence order, and every
/// diagnostic `gen lint` reports on them.
pub fn real_schema() -> (Schema, Vec<Diagnostic>) {
    let project = real_project(&Settings::default());
    let diagnostics = project.diagnostics().to_vec();
    (project.documented().clone().into_inner(), diagnostics)
}

/// Reads one document (bytes) and returns everything `gen lint` would report
/// with the default configuration: the project's own diagnostics, so the
/// fixtures run exactly the pipeline `gen lint` runs.
pub fn lint_bytes(path: &str, bytes: &[u8]) -> (Schema, Vec<Diagnostic>) {
    let (file, diagnostics) = SourceFile::decode(path, bytes);
    let project = Project::from_files(vec![file], diagnostics, &Settings::default());
    let diagnostics = project.diagnostics().to_vec();
    (project.documented().clone().into_inner(), diagnostics)
}

/// Expectations written in a fixture as `<!-- expect: code@line -->`. The
/// line is an `Option` to compare with a diagnostic's span, which fixtures
/// always have: an unlocated diagnostic can never be expected.
fn expectations(text: &str) -> BTreeSet<(String, Option<u32>)> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("<!-- expect:"))
        .filter_map(|l| l.strip_suffix("-->"))
        .filter_map(|l| {
            let (code, line) = l.trim().split_once('@')?;
            Some((code.trim().to_owned(), Some(line.trim().parse().ok()?)))
        })
        .collect()
}

/// Runs a fixture and compares its diagnostics with its expectations.
///
/// Every warning and error must be expected, and every expectation must be
/// met. Info diagnostics are compared only for codes the fixture mentions,
/// so a fixture states exactly what it is about. Fixtures under `ok/` expect
/// no warnings or errors at all.
pub fn check(fixture: &Path) -> Schema {
    let bytes = std::fs::read(fixture).expect("fixture exists");
    let text = String::from_utf8_lossy(&bytes);
    let name = fixture.file_name().unwrap().to_string_lossy().into_owned();
    let (schema, diagnostics) = lint_bytes(&name, &bytes);
    let expected = expectations(&text);
    let mentioned: BTreeSet<&str> = expected.iter().map(|(c, _)| c.as_str()).collect();
    let actual: BTreeSet<(String, Option<u32>)> = diagnostics
        .iter()
        .filter(|d| d.severity >= Severity::Warning || mentioned.contains(d.code.as_str()))
        .map(|d| (d.code.as_str().to_owned(), d.span.as_ref().map(|s| s.line)))
        .collect();
    let rendered: Vec<String> = diagnostics
        .iter()
        .map(|d| {
            let line = d
                .span
                .as_ref()
                .map_or("-".to_owned(), |s| s.line.to_string());
            format!("{line}:{} {} {}", d.severity, d.code, d.message)
        })
        .collect();
    assert_eq!(
        actual,
        expected,
        "fixture {} diagnostics differ from its <!-- expect: --> lines\nall diagnostics:\n{}",
        fixture.display(),
        rendered.join("\n")
    );
    schema
}
pub mod cli;
pub mod db;
pub mod plans;
pub mod populate;
pub mod rows;
