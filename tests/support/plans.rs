//! The files a migration plan writes, as the tests read them: one by the
//! end of its name, all of them in the order a migration tool runs them,
//! and what a later `gen migrations` would find on disk after them.

use schemagen::emit::OutputFile;
use schemagen::emit::migrations::{self, Existing};

/// The contents of the first file whose path ends with `suffix`.
pub fn file_ending<'a>(files: &'a [OutputFile], suffix: &str) -> &'a str {
    &files
        .iter()
        .find(|f| f.path.to_string_lossy().ends_with(suffix))
        .unwrap_or_else(|| panic!("no {suffix}"))
        .contents
}

/// The migration files of a plan, (name, contents), sorted by name: the
/// order a migration tool runs them in.
pub fn migration_files(files: &[OutputFile]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = files
        .iter()
        .map(|f| (f.path.to_string_lossy().into_owned(), f.contents.clone()))
        .filter(|(name, _)| name.ends_with(".sql"))
        .collect();
    out.sort();
    out
}

/// What a later run of `gen migrations` finds on disk after `files`.
pub fn existing_after(files: &[OutputFile]) -> Existing {
    let mut existing = Existing::default();
    for f in files {
        let path = f.path.to_string_lossy().into_owned();
        if path.ends_with(".sql") {
            existing.migrations.insert(
                path.rsplit('/').next().unwrap().to_owned(),
                f.contents.clone(),
            );
        } else if path.ends_with(migrations::SNAPSHOT) {
            existing.snapshot = Some(f.contents.clone());
        } else if path.ends_with("checksums.sha256") {
            existing.checksums = Some(f.contents.clone());
        }
    }
    existing
}
