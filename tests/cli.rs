//! The `gen` binary as users and CI run it: exit codes, formats, errors.

mod support;

use assert_cmd::Command;
use std::fs;

fn gen_cmd() -> Command {
    let mut cmd = Command::cargo_bin("gen").unwrap();
    cmd.current_dir(support::root()).env("NO_COLOR", "1");
    cmd
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn help_lists_the_commands_and_exit_codes() {
    let output = gen_cmd().arg("--help").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    for needle in [
        "schema",
        "lint",
        "--docs",
        "--config",
        "Exit codes: 0 ok, 1 findings",
    ] {
        assert!(text.contains(needle), "--help lacks {needle}:\n{text}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let output = gen_cmd().args(["lint", "--no-such-flag"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let output = gen_cmd()
        .args(["lint", "--docs", "does/not/exist.md"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("does/not/exist.md"));
}

#[test]
fn lint_on_the_default_documents_ends_with_the_summary() {
    let output = gen_cmd().arg("lint").output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "no error-level findings in the real documents"
    );
    let text = stdout(&output);
    let last = text.lines().last().unwrap();
    assert!(
        last.starts_with(
            "summary: 164 tables named, 40 with columns, 538 columns, 289 tables claimed"
        ),
        "{last}"
    );
    assert!(text.contains("warning[column-count-mismatch]"));
    assert!(text.contains("schema/docs/platform-master-schema.md:155:1"));
}

#[test]
fn deny_warnings_turns_findings_into_exit_1() {
    let output = gen_cmd()
        .args(["lint", "--deny", "warnings"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn github_format_annotates_doc_lines() {
    let output = gen_cmd()
        .args(["lint", "--format", "github"])
        .output()
        .unwrap();
    let text = stdout(&output);
    assert!(text.contains(
        "::warning file=schema/docs/platform-master-schema.md,line=155,col=1,title=column-count-mismatch::`properties` claims 47 columns but 48 are documented"
    ));
    for line in text.lines().filter(|l| !l.starts_with("summary:")) {
        assert!(line.starts_with("::"), "not a workflow command: {line}");
    }
}

#[test]
fn json_and_sarif_are_machine_readable() {
    let output = gen_cmd()
        .args(["lint", "--format", "json"])
        .output()
        .unwrap();
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["summary"]["schema"]["tables_with_columns"], 40);
    let first = &value["diagnostics"][0];
    for key in ["code", "severity", "message", "span", "help"] {
        assert!(first.get(key).is_some(), "diagnostic lacks {key}: {first}");
    }
    let output = gen_cmd()
        .args(["lint", "--format", "sarif"])
        .output()
        .unwrap();
    let sarif: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(sarif["runs"][0]["results"].as_array().unwrap().len() > 10);
}

#[test]
fn schema_prints_yaml_and_json_models() {
    let output = gen_cmd()
        .args(["schema", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        value["tables"]["properties"]["columns"]
            .as_array()
            .unwrap()
            .len(),
        48
    );
    let output = gen_cmd().args(["schema"]).output().unwrap();
    let yaml: serde_yaml::Value = serde_yaml::from_slice(&output.stdout).unwrap();
    assert!(yaml["tables"]["users"].is_mapping());
    // The serialised model reads back into the model type: it is a contract.
    let model: schemagen::model::Schema = serde_yaml::from_slice(&output.stdout).unwrap();
    assert_eq!(model.documented_tables().count(), 40);
}

#[test]
fn same_docs_give_byte_identical_output() {
    let a = gen_cmd()
        .args(["schema", "--format", "json"])
        .output()
        .unwrap()
        .stdout;
    let b = gen_cmd()
        .args(["schema", "--format", "json"])
        .output()
        .unwrap()
        .stdout;
    assert_eq!(a, b);
    let a = gen_cmd()
        .args(["lint", "--format", "json"])
        .output()
        .unwrap()
        .stdout;
    let b = gen_cmd()
        .args(["lint", "--format", "json"])
        .output()
        .unwrap()
        .stdout;
    assert_eq!(a, b);
}

#[test]
fn bad_config_is_rejected_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gen.yaml");
    fs::write(
        &config,
        "sources: [x.md]\ntarget: postgres\nunknown_key: 1\n",
    )
    .unwrap();
    let output = gen_cmd()
        .args(["lint", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("gen.yaml:3:"), "{stderr}");
    assert!(stderr.contains("unknown_key"), "{stderr}");
}

#[test]
fn non_utf8_document_is_an_input_error_naming_the_byte_offset() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("bad.md");
    fs::write(&doc, b"# T\n\n## 1. T (1 columns)\nbad \xff byte\n").unwrap();
    let output = gen_cmd()
        .args(["lint", "--docs"])
        .arg(&doc)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = stdout(&output);
    assert!(text.contains("invalid-utf8"), "{text}");
    assert!(text.contains("byte offset 29"), "{text}");
    assert!(text.contains("bad.md:4:1"), "{text}");
}

#[test]
fn config_sources_and_overrides_apply() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("doc.md"),
        "## 1. ITEMS (2 columns)\n| Column | Type | Nullable | Description |\n|---|---|---|---|\n| id | uuid | NO | Primary key |\n| price | decimal | YES | Price |\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("gen.yaml"),
        "sources: [doc.md]\noverrides:\n  tables:\n    items:\n      columns:\n        price: { type: 'numeric(12,2)', nullable: false }\n",
    )
    .unwrap();
    let output = gen_cmd()
        .args(["schema", "--format", "json", "--config"])
        .arg(dir.path().join("gen.yaml"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let price = &value["tables"]["items"]["columns"][1];
    assert_eq!(price["type"], "numeric(12,2)");
    assert_eq!(price["nullable"], false);
}
