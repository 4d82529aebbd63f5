//! Shared test helpers: loading the real documents, and `check()`, the one
//! data-driven helper that every fixture goes through.
#![allow(dead_code)]

use schemagen::diag::{Diagnostic, Severity};
use schemagen::model::Schema;
use schemagen::source::SourceFile;
use schemagen::{LoadOptions, build_schema, lint};
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

/// The two real documents, in the configured precedence order.
pub fn real_schema() -> (Schema, Vec<Diagnostic>) {
    let files = source_files(&[JAVARI, MASTER]);
    let mut diagnostics: Vec<Diagnostic> = [JAVARI, MASTER]
        .iter()
        .flat_map(|p| SourceFile::decode(*p, &std::fs::read(root().join(p)).unwrap()).1)
        .collect();
    let (schema, found) = build_schema(&files, &LoadOptions::default());
    diagnostics.extend(found);
    diagnostics.extend(lint::lint(&schema));
    (schema, diagnostics)
}

/// Reads one document (bytes) and returns everything `gen lint` would report
/// with the default configuration.
pub fn lint_bytes(path: &str, bytes: &[u8]) -> (Schema, Vec<Diagnostic>) {
    let (file, mut diagnostics) = SourceFile::decode(path, bytes);
    let (schema, found) = build_schema(&[file], &LoadOptions::default());
    diagnostics.extend(found);
    diagnostics.extend(lint::lint(&schema));
    let (realized, found) = schemagen::model::physical::realize(&schema, &Default::default());
    diagnostics.extend(found);
    diagnostics.extend(lint::lint_realized(&realized));
    (schema, diagnostics)
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
pub mod db;
pub mod rows;
