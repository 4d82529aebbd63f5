//! `gen all` never leaves a half-written `generated/`: a failure before the
//! renames keeps every previous file, a killed run keeps them too, and
//! temporary files do not outlive the next run. Oversized documents are
//! refused with a clear error.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn files_under(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.insert(
                path.to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            );
        }
    }
    out
}

fn temporaries(dir: &Path) -> Vec<String> {
    files_under(dir)
        .into_keys()
        .filter(|k| k.contains("/.gen-") && k.ends_with(".tmp"))
        .collect()
}

/// A copy of the fixture document, and a first complete `gen all` run.
fn project() -> (tempfile::TempDir, BTreeMap<String, Vec<u8>>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        support::root().join("tests/fixtures/roundtrip/base.md"),
        dir.path().join("doc.md"),
    )
    .unwrap();
    let status = gen_all(dir.path()).status().unwrap();
    assert!(status.success());
    let before = files_under(&dir.path().join("out"));
    assert!(before.len() >= 10, "{}", before.len());
    // Change the documents so that the next run rewrites files.
    let doc = dir.path().join("doc.md");
    let text = std::fs::read_to_string(&doc)
        .unwrap()
        .replace("Store name", "The store's name");
    std::fs::write(&doc, text).unwrap();
    (dir, before)
}

fn gen_all(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gen"));
    command
        .current_dir(dir)
        .args(["all", "--docs", "doc.md", "--out", "out"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    command
}

#[test]
fn a_failure_mid_write_keeps_every_previous_file_and_no_temporary() {
    let (dir, before) = project();
    let status = gen_all(dir.path())
        .env("GEN_TEST_FAIL_AFTER_TEMP_FILES", "2")
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(2));
    let out = dir.path().join("out");
    assert_eq!(files_under(&out), before, "the previous outputs are intact");
    assert!(temporaries(&out).is_empty());
    // A normal run then writes the change.
    assert!(gen_all(dir.path()).status().unwrap().success());
    assert_ne!(files_under(&out), before);
}

#[test]
fn a_killed_run_keeps_every_previous_file_and_the_next_run_cleans_up() {
    let (dir, before) = project();
    let out = dir.path().join("out");
    let mut child = gen_all(dir.path())
        .env("GEN_TEST_SLOW_WRITE_MS", "400")
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while temporaries(&out).is_empty() {
        assert!(
            started.elapsed().as_secs() < 30,
            "no temporary file appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let after: BTreeMap<String, Vec<u8>> = files_under(&out)
        .into_iter()
        .filter(|(k, _)| !k.contains("/.gen-"))
        .collect();
    assert_eq!(after, before, "the killed run changed no file");
    assert!(gen_all(dir.path()).status().unwrap().success());
    assert!(
        temporaries(&out).is_empty(),
        "the next run removed what the killed one left"
    );
}

#[test]
fn a_fifty_megabyte_document_is_refused_with_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("huge.md");
    let row = "| column_name | varchar | YES | A description of this column |\n";
    let text = row.repeat(50 * 1024 * 1024 / row.len() + 1);
    std::fs::write(&doc, text).unwrap();
    let started = std::time::Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_gen"))
        .args(["lint", "--docs"])
        .arg(&doc)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("huge.md") && stderr.contains("the limit is 16 MiB"),
        "{stderr}"
    );
    assert!(started.elapsed().as_secs() < 5, "refused quickly");
}

/// Outputs get the mode of any new file (0666 less the umask), not the
/// owner-only mode of the temporary files they are renamed from, so that a
/// web server or a container build can read them.
#[cfg(unix)]
#[test]
fn outputs_have_the_mode_of_a_newly_created_file() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, _) = project();
    let reference = dir.path().join("reference");
    std::fs::File::create(&reference).unwrap();
    let expected = std::fs::metadata(&reference).unwrap().permissions().mode() & 0o777;
    assert_ne!(expected & 0o400, 0, "the umask leaves files readable");
    // The first run wrote every file; the second rewrites the changed ones.
    assert!(gen_all(dir.path()).status().unwrap().success());
    let outputs = files_under(&dir.path().join("out"));
    for path in outputs.keys() {
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, expected, "{path} has mode {mode:o}");
    }
}
