//! The README's code tables agree with the code table in
//! `src/diag/codes.rs`: every code the tool can emit is documented, every
//! documented code exists, and the diagnostic table's severity and meaning
//! are the code's `default_severity()` and `doc()`. The code table is the one
//! source of truth; when this test fails it prints the rows the README
//! should have. And `diag` stays a leaf module: it names nothing else in the
//! crate, so every stage can report through it without a cycle.

use schemagen::diag::{Code, DriftKind};
use std::collections::{BTreeMap, BTreeSet};

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md is readable")
}

/// The rows of the first Markdown table after the line `heading`, cut into
/// cells, header and separator row left out.
fn table_after(text: &str, heading: &str) -> Vec<Vec<String>> {
    let after = text
        .split_once(heading)
        .unwrap_or_else(|| panic!("README.md has no line `{heading}`"))
        .1;
    after
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .skip(2)
        .map(|line| {
            line.trim()
                .trim_matches('|')
                .split('|')
                .map(|cell| cell.trim().to_owned())
                .collect()
        })
        .collect()
}

/// The backticked codes of a `code` cell: one row may name several.
fn codes_in(cell: &str) -> Vec<String> {
    cell.split(',')
        .map(|code| code.trim().trim_matches('`').to_owned())
        .collect()
}

fn expected_diagnostic_table() -> String {
    Code::ALL
        .iter()
        .filter(|code| !matches!(code, Code::Drift(_)))
        .map(|code| {
            format!(
                "| `{}` | {} | {} |\n",
                code.as_str(),
                code.default_severity(),
                code.doc()
            )
        })
        .collect()
}

#[test]
fn the_diagnostic_code_table_is_the_code_table() {
    let rows = table_after(&readme(), "### Diagnostic codes");
    let mut documented: BTreeMap<String, (String, String)> = BTreeMap::new();
    for row in &rows {
        assert_eq!(
            row.len(),
            3,
            "README row {row:?} is not | code | severity | meaning |"
        );
        for code in codes_in(&row[0]) {
            let previous = documented.insert(code.clone(), (row[1].clone(), row[2].clone()));
            assert!(previous.is_none(), "README documents `{code}` twice");
        }
    }
    let declared: BTreeMap<String, (String, String)> = Code::ALL
        .iter()
        .filter(|code| !matches!(code, Code::Drift(_)))
        .map(|code| {
            (
                code.as_str().to_owned(),
                (code.default_severity().to_string(), code.doc().to_owned()),
            )
        })
        .collect();
    assert_eq!(
        documented,
        declared,
        "README.md's \"### Diagnostic codes\" table differs from src/diag/codes.rs; it should read:\n\n\
         | code | severity | meaning |\n|---|---|---|\n{}",
        expected_diagnostic_table()
    );
}

#[test]
fn the_drift_code_table_lists_every_drift_kind() {
    let text = readme();
    let drift_section = text
        .split_once("## Drift")
        .expect("README.md has a Drift section")
        .1;
    // The drift table is the first table of the section, after the bullet
    // that introduces drift items.
    let rows = table_after(drift_section, "**Drift items**");
    let mut documented = BTreeSet::new();
    for row in &rows {
        assert_eq!(
            row.len(),
            2,
            "README drift row {row:?} is not | code | meaning |"
        );
        for code in codes_in(&row[0]) {
            assert!(
                documented.insert(code.clone()),
                "README documents `{code}` twice"
            );
        }
    }
    let declared: BTreeSet<String> = DriftKind::ALL
        .iter()
        .map(|kind| kind.code().to_owned())
        .collect();
    assert_eq!(
        documented, declared,
        "README.md's drift table differs from the drift kinds in src/diag/codes.rs"
    );
    // Every drift kind is also a code, reachable from `Code::ALL`.
    for &kind in DriftKind::ALL {
        assert!(Code::ALL.contains(&Code::Drift(kind)));
    }
}

#[test]
fn diag_names_nothing_else_in_the_crate() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![root.join("diag.rs")];
    for entry in std::fs::read_dir(root.join("diag")).expect("src/diag exists") {
        files.push(entry.unwrap().path());
    }
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (index, line) in text.lines().enumerate() {
            for (at, _) in line.match_indices("crate::") {
                let rest = &line[at + "crate::".len()..];
                assert!(
                    rest.starts_with("diag"),
                    "{}:{}: diag must not depend on the rest of the crate: {line}",
                    file.display(),
                    index + 1
                );
            }
        }
    }
}
