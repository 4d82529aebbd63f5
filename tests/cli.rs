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
    // The report is data (stdout); the summary is a note (stderr).
    let notes = String::from_utf8_lossy(&output.stderr);
    let last = notes.lines().last().unwrap();
    assert!(
        last.starts_with(
            "summary: 164 tables named, 40 with columns, 538 columns, 289 tables claimed"
        ),
        "{last}"
    );
    assert!(!text.contains("summary:"), "the summary is not data");
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
    let yaml: serde_json::Value = serde_saphyr::from_slice(&output.stdout).unwrap();
    assert!(yaml["tables"]["users"].is_object());
    // The serialised model reads back into the model type: it is a contract.
    let model: schemagen::model::Schema = serde_saphyr::from_slice(&output.stdout).unwrap();
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
    let value = json_with_config(
        "## 1. ITEMS (2 columns)\n| Column | Type | Nullable | Description |\n|---|---|---|---|\n| id | uuid | NO | Primary key |\n| price | decimal | YES | Price |\n",
        "sources: [doc.md]\noverrides:\n  tables:\n    items:\n      columns:\n        price: { type: 'numeric(12,2)', nullable: false }\n",
        &["schema", "--format", "json"],
    );
    let price = &value["tables"]["items"]["columns"][1];
    assert_eq!(price["type"], "numeric(12,2)");
    assert_eq!(price["nullable"], false);
}

/// `gen ARGS --config gen.yaml` in a directory holding `doc.md` and
/// `gen.yaml` with the given texts; it must exit 0 and print JSON.
fn json_with_config(doc: &str, config: &str, args: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("doc.md"), doc).unwrap();
    fs::write(dir.path().join("gen.yaml"), config).unwrap();
    let output = gen_cmd()
        .args(args)
        .arg("--config")
        .arg(dir.path().join("gen.yaml"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `gen lint --format json` under a configuration with `stubs: MODE`, on a
/// document with two FKs to tables whose columns are not documented.
fn lint_with_stubs(mode: &str) -> Vec<serde_json::Value> {
    let value = json_with_config(
        "## 1. PETS (3 columns)\n| Column | Type | Nullable | Description |\n|---|---|---|---|\n| id | uuid | NO | Primary key |\n| owner_id | uuid | NO | FK to owners |\n| vet_id | uuid | YES | FK to vets |\n",
        &format!("sources: [doc.md]\nstubs: {mode}\n"),
        &["lint", "--format", "json"],
    );
    value["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "undocumented-fk-target")
        .cloned()
        .collect()
}

/// Realisation is the one producer of `undocumented-fk-target`: one finding
/// per FK in every stubs mode, whose help says what happens to the FK.
#[test]
fn an_fk_to_an_undocumented_table_is_one_finding_whose_help_fits_the_stubs_mode() {
    let none = lint_with_stubs("none");
    let lines: Vec<_> = none.iter().map(|d| d["span"]["line"].clone()).collect();
    assert_eq!(lines, [5, 6], "one finding per FK: {none:#?}");
    for finding in &none {
        let help = finding["help"].as_str().unwrap();
        assert!(!help.contains("stub table for it"), "{help}");
        assert!(help.contains("stubs: referenced"), "{help}");
        assert!(
            finding["message"]
                .as_str()
                .unwrap()
                .contains("is left out of the migrations"),
            "{finding}"
        );
    }
    for mode in ["referenced", "all"] {
        let stubbed = lint_with_stubs(mode);
        assert_eq!(stubbed.len(), 2, "stubs: {mode}: {stubbed:#?}");
        for finding in &stubbed {
            let help = finding["help"].as_str().unwrap();
            assert!(help.contains("stub table for it"), "stubs: {mode}: {help}");
        }
    }
}

/// `--docs` takes one path per flag, so it may come before the command
/// (where a multi-value flag would swallow the command's name) and is
/// repeated for several documents, which are all read.
#[test]
fn docs_goes_before_or_after_the_command_and_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let items = dir.path().join("items.md");
    let tags = dir.path().join("tags.md");
    fs::write(
        &items,
        "## 1. ITEMS (1 columns)\n| Column | Type | Nullable | Description |\n|---|---|---|---|\n| id | uuid | NO | Primary key |\n",
    )
    .unwrap();
    fs::write(
        &tags,
        "## 1. TAGS (1 columns)\n| Column | Type | Nullable | Description |\n|---|---|---|---|\n| id | uuid | NO | Primary key |\n",
    )
    .unwrap();
    let before = gen_cmd()
        .arg("--docs")
        .arg(&items)
        .arg("--docs")
        .arg(&tags)
        .args(["schema", "--format", "json"])
        .output()
        .unwrap();
    let after = gen_cmd()
        .args(["schema", "--format", "json", "--docs"])
        .arg(&items)
        .arg("--docs")
        .arg(&tags)
        .output()
        .unwrap();
    for output in [&before, &after] {
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let tables: Vec<&String> = value["tables"].as_object().unwrap().keys().collect();
        assert_eq!(tables, ["items", "tags"]);
    }
    assert_eq!(before.stdout, after.stdout);
}

/// A documents directory and an output directory for migration runs.
struct MigrationProject {
    dir: tempfile::TempDir,
}

impl MigrationProject {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        fs::copy(
            support::root().join("tests/fixtures/roundtrip/base.md"),
            dir.path().join("doc.md"),
        )
        .unwrap();
        MigrationProject { dir }
    }

    fn run(&self, extra: &[&str]) -> std::process::Output {
        gen_cmd()
            .arg("migrations")
            .arg("--docs")
            .arg(self.dir.path().join("doc.md"))
            .arg("--out")
            .arg(self.dir.path().join("out"))
            .args(extra)
            .output()
            .unwrap()
    }

    fn migrations(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.dir.path().join("out/migrations"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn edit_doc(&self, from: &str, to: &str) {
        let path = self.dir.path().join("doc.md");
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains(from));
        fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }
}

#[test]
fn a_second_run_with_unchanged_docs_writes_nothing() {
    let project = MigrationProject::new();
    let first = project.run(&["--timestamp", "20260101000000"]);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let files = project.migrations();
    assert_eq!(
        files,
        [
            "20260101000000_schema.down.sql",
            "20260101000000_schema.up.sql",
            "checksums.sha256"
        ]
    );
    let mtime = |name: &str| {
        fs::metadata(project.dir.path().join("out/migrations").join(name))
            .unwrap()
            .modified()
            .unwrap()
    };
    let before = mtime("checksums.sha256");
    let second = project.run(&[]);
    assert_eq!(second.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&second.stderr).contains("nothing written"));
    assert_eq!(project.migrations(), files);
    assert_eq!(
        mtime("checksums.sha256"),
        before,
        "unchanged files are not rewritten"
    );
    assert_eq!(project.run(&["--check"]).status.code(), Some(0));
}

#[test]
fn check_fails_when_the_docs_change_and_a_new_migration_captures_it() {
    let project = MigrationProject::new();
    project.run(&["--timestamp", "20260101000000"]);
    project.edit_doc(
        "| rating | decimal | YES | Average rating |",
        "| rating | decimal | YES | Average rating |\n| city | varchar | YES | City |",
    );
    let check = project.run(&["--check"]);
    assert_eq!(check.status.code(), Some(1));
    let notes = String::from_utf8_lossy(&check.stderr);
    assert!(notes.contains("error[migrations-behind]"), "{notes}");
    assert!(
        notes.contains("captures it: add column stores.city"),
        "{notes}"
    );
    assert_eq!(project.migrations().len(), 3, "--check writes nothing");
    let write = project.run(&["--name", "add_city", "--timestamp", "20260102000000"]);
    assert_eq!(write.status.code(), Some(0));
    let up = fs::read_to_string(
        project
            .dir
            .path()
            .join("out/migrations/20260102000000_add_city.up.sql"),
    )
    .unwrap();
    assert!(
        up.contains("ALTER TABLE public.stores ADD COLUMN city character varying;"),
        "{up}"
    );
    assert_eq!(project.run(&["--check"]).status.code(), Some(0));
}

#[test]
fn an_edited_migration_is_detected_even_across_line_endings() {
    let project = MigrationProject::new();
    project.run(&["--timestamp", "20260101000000"]);
    let up = project
        .dir
        .path()
        .join("out/migrations/20260101000000_schema.up.sql");
    let text = fs::read_to_string(&up).unwrap();
    // CRLF alone is not an edit.
    fs::write(&up, text.replace('\n', "\r\n")).unwrap();
    assert_eq!(project.run(&[]).status.code(), Some(0));
    fs::write(&up, text.replace("CREATE TABLE", "CREATE UNLOGGED TABLE")).unwrap();
    let output = project.run(&[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("20260101000000_schema.up.sql"), "{stderr}");
    assert_eq!(project.run(&["--check"]).status.code(), Some(1));
}

#[test]
fn destructive_steps_are_refused_and_listed_unless_allowed() {
    let project = MigrationProject::new();
    project.run(&["--timestamp", "20260101000000"]);
    project.edit_doc("| rating | decimal | YES | Average rating |\n", "");
    project.edit_doc("credits DECIMAL(10,2)", "credits DECIMAL(8,2)");
    let refused = project.run(&[]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("drop column stores.rating has hazard data-loss"),
        "{stderr}"
    );
    // Fewer integer digits fail on a value too large (PostgreSQL raises
    // rather than changing it): fails-on-data, for the preflight, not a
    // refusal.
    assert!(!stderr.contains("owners.credits"), "{stderr}");
    assert!(stderr.contains("--allow-hazard data-loss"), "{stderr}");
    assert_eq!(project.migrations().len(), 3);
    let allowed = project.run(&["--allow-destructive", "--timestamp", "20260102000000"]);
    assert_eq!(allowed.status.code(), Some(0));
    let notes = String::from_utf8_lossy(&allowed.stderr);
    assert!(
        notes.contains("hazard fails-on-data: owners.credits from numeric(10,2) to numeric(8,2)"),
        "{notes}"
    );
    // Up, down, and the preflight file for both steps.
    assert_eq!(project.migrations().len(), 6);
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The committed `generated/` is what `gen all` writes from the default
/// documents: run on a copy of it, nothing is written and no migration is due.
#[test]
fn gen_all_on_the_default_documents_finds_the_committed_outputs_current() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("generated");
    copy_tree(&support::root().join("generated"), &out);
    let output = gen_cmd()
        .arg("all")
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("gen all: 0 file(s) written"),
        "run `gen all` and commit generated/:\n{stderr}"
    );
    assert!(stderr.contains("migrations: up to date"), "{stderr}");
}

#[test]
fn gen_all_refuses_a_destructive_change_with_the_exit_code_of_gen_migrations_and_writes_nothing() {
    let project = MigrationProject::new();
    let all = |dir: &std::path::Path| {
        gen_cmd()
            .arg("all")
            .arg("--docs")
            .arg(dir.join("doc.md"))
            .arg("--out")
            .arg(dir.join("out"))
            .output()
            .unwrap()
    };
    let first = all(project.dir.path());
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let before = files_under(&project.dir.path().join("out"));
    project.edit_doc("| rating | decimal | YES | Average rating |\n", "");
    let refused = all(project.dir.path());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert_eq!(
        project.run(&[]).status.code(),
        Some(2),
        "gen migrations agrees"
    );
    assert!(stderr.contains("error[destructive-change]"), "{stderr}");
    assert!(stderr.contains("drop column stores.rating"), "{stderr}");
    assert!(stderr.contains("nothing written"), "{stderr}");
    assert_eq!(
        files_under(&project.dir.path().join("out")),
        before,
        "no output describes the schema whose migration was refused"
    );
}

/// Every file under `dir` and its bytes.
fn files_under(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.insert(path.display().to_string(), fs::read(&path).unwrap());
            }
        }
    }
    out
}

#[test]
fn every_command_puts_data_on_stdout_and_its_summary_on_stderr() {
    let json_commands: [&[&str]; 4] = [
        &["lint", "--format", "json"],
        &["lint", "--format", "sarif"],
        &["check", "--format", "json"],
        &["check", "--format", "sarif"],
    ];
    for args in json_commands {
        let output = gen_cmd().args(args).output().unwrap();
        let notes = String::from_utf8_lossy(&output.stderr);
        serde_json::from_slice::<serde_json::Value>(&output.stdout)
            .unwrap_or_else(|e| panic!("gen {args:?}: stdout is not JSON ({e})"));
        assert_eq!(
            notes.lines().count(),
            1,
            "gen {args:?}: one summary line\n{notes}"
        );
    }
    let text_commands: [&[&str]; 4] = [
        &["lint"],
        &["lint", "--format", "github"],
        &["check"],
        &["check", "--format", "github"],
    ];
    for args in text_commands {
        let output = gen_cmd().args(args).output().unwrap();
        let data = stdout(&output);
        let notes = String::from_utf8_lossy(&output.stderr);
        let summary = notes.lines().last().unwrap_or_default().to_owned();
        assert!(!summary.is_empty(), "gen {args:?}: no summary on stderr");
        assert!(
            !data.contains(&summary),
            "gen {args:?}: the summary is on stdout"
        );
    }
}

#[test]
fn outputs_made_in_one_directory_check_clean_from_another() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("a");
    copy_tree(
        &support::root().join("schema/docs"),
        &repo.join("schema/docs"),
    );
    let git = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(&repo)
        .status()
        .expect("git is installed (bash .ci/run)");
    assert!(git.success());
    let made = gen_cmd().current_dir(&repo).arg("all").output().unwrap();
    assert_eq!(
        made.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let sub = repo.join("sub");
    fs::create_dir_all(&sub).unwrap();
    let check = gen_cmd()
        .current_dir(&sub)
        .args(["--docs", "../schema/docs", "check", "--out", "../generated"])
        .output()
        .unwrap();
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}{}",
        stdout(&check),
        String::from_utf8_lossy(&check.stderr)
    );
    // Documents are named from the root in the outputs.
    let spec = fs::read_to_string(repo.join("generated/openapi/openapi.json")).unwrap();
    assert!(
        spec.contains("\"x-source\": \"schema/docs/"),
        "x-source is root-relative"
    );
    // An annotation from below the root, for an output given as an
    // absolute path, names the file from the root.
    let edited = repo.join("generated/sql/schema.sql");
    let original = fs::read_to_string(&edited).unwrap();
    fs::write(
        &edited,
        original.replace("bedrooms integer", "bedrooms bigint"),
    )
    .unwrap();
    let stale = gen_cmd()
        .current_dir(&sub)
        .args([
            "--docs",
            "../schema/docs",
            "check",
            "--format",
            "github",
            "--out",
        ])
        .arg(repo.join("generated"))
        .output()
        .unwrap();
    assert_eq!(stale.status.code(), Some(1));
    let annotations = stdout(&stale);
    assert!(
        annotations.contains("::error file=generated/sql/schema.sql,line=1,"),
        "{annotations}"
    );
    assert!(
        !annotations.contains(&dir.path().display().to_string()),
        "{annotations}"
    );
}
