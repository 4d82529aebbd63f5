//! Every fixture under tests/fixtures/{ok,err} goes through `check()`.

mod support;

use std::path::PathBuf;

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = support::root().join("tests/fixtures").join(kind);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture directory")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no fixtures in {}", dir.display());
    paths
}

#[test]
fn ok_fixtures_have_no_findings_and_document_tables() {
    for fixture in fixtures("ok") {
        let schema = support::check(&fixture);
        assert!(
            schema.documented_tables().count() > 0,
            "{} documents no table",
            fixture.display()
        );
    }
}

#[test]
fn err_fixtures_report_exactly_what_they_expect() {
    for fixture in fixtures("err") {
        support::check(&fixture);
    }
}
