//! Migrations: sqlx-cli reversible pairs (`<version>_<name>.up.sql` and
//! `.down.sql`) in `migrations/`. The first run writes the initial migration;
//! later runs diff the current realised schema against
//! `schema.snapshot.yaml` (the realised schema as of the last migration) and
//! write only the change. Existing files are never rewritten, and a checksum
//! file with line-ending-normalised hashes detects edited migrations.

use super::sql::{
    ChangeSummary, Direction, SCHEMA_TITLE, Script, initial_script, prelude, render_script, retitle,
};
use super::{EmitContext, OutputFile, TemplateError};
use crate::diag::{Code, Diagnostic, Span};
use crate::diff::{Change, diff};
use crate::model::Schema;
use crate::model::stages::Realized;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub const DIRECTORY: &str = "migrations";
pub const SNAPSHOT: &str = "schema.snapshot.yaml";
/// No underscore and no `.sql`, so sqlx's migrator skips it.
pub const CHECKSUMS: &str = "migrations/checksums.sha256";

/// What is on disk from earlier runs.
#[derive(Debug, Default, Clone)]
pub struct Existing {
    /// Migration file names (no directory) and their contents.
    pub migrations: BTreeMap<String, String>,
    pub snapshot: Option<String>,
    pub checksums: Option<String>,
}

/// What the caller asks for.
#[derive(Debug, Clone)]
pub struct MigrationRequest<'a> {
    pub name: &'a str,
    /// `YYYYMMDDHHMMSS`; bumped when not after the last existing version.
    pub version: &'a str,
    pub allow_destructive: bool,
}

#[derive(Debug)]
pub enum Plan {
    /// The snapshot already matches the documents.
    UpToDate,
    /// Destructive steps that need `--allow-destructive`.
    Refused { destructive: Vec<Change> },
    /// Migration files were changed after they were generated: nothing
    /// can be planned on top of them.
    Edited(Vec<EditedMigration>),
    Write {
        files: Vec<OutputFile>,
        /// The up migration's changes: how many, and the first few.
        summary: ChangeSummary,
        up_name: String,
    },
}

/// A migration file that no longer matches the checksum file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditedMigration {
    /// The file, relative to the output directory
    /// (`migrations/20260101000000_schema.up.sql`, or the checksum file
    /// itself when one of its lines cannot be read).
    pub file: String,
    pub reason: EditReason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditReason {
    /// Its contents changed.
    Changed,
    /// The checksum file lists it and it is gone.
    Deleted,
    /// A line of the checksum file is not `<hash>  <name>`.
    UnreadableChecksumLine(String),
}

/// What a plan means, for exit codes: every command that plans maps the
/// same status the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanStatus {
    UpToDate,
    /// There are changes to write.
    Ready,
    /// Destructive steps were not allowed: an input error (exit 2).
    Refused,
    /// Migration files were edited: a finding (exit 1).
    Edited,
}

impl Plan {
    pub fn status(&self) -> PlanStatus {
        match self {
            Plan::UpToDate => PlanStatus::UpToDate,
            Plan::Write { .. } => PlanStatus::Ready,
            Plan::Refused { .. } => PlanStatus::Refused,
            Plan::Edited(_) => PlanStatus::Edited,
        }
    }

    /// Why the plan cannot be written as asked, one diagnostic per
    /// refused step or edited file, in the one wording every command uses.
    /// `paths` names files as the user sees them.
    pub fn blockers(&self, paths: &PlanPaths) -> Vec<Diagnostic> {
        match self {
            Plan::UpToDate | Plan::Write { .. } => Vec::new(),
            Plan::Refused { destructive } => destructive
                .iter()
                .map(|change| {
                    Diagnostic::error(
                        Code::DestructiveChange,
                        Span::new(&paths.snapshot, 1, 1),
                        format!(
                            "the documents' changes include a step that loses data: {}",
                            change.describe()
                        ),
                    )
                    .with_help(
                        "rerun with --allow-destructive to write it, or restore the documents",
                    )
                })
                .collect(),
            Plan::Edited(edited) => edited
                .iter()
                .map(|edit| {
                    let path = paths.file(&edit.file);
                    let message = match &edit.reason {
                        EditReason::Changed => format!("{path} was changed after it was generated"),
                        EditReason::Deleted => format!("{path} was deleted after it was generated"),
                        EditReason::UnreadableChecksumLine(line) => {
                            format!("{path} has a line that is not `<sha256>  <file>`: `{line}`")
                        }
                    };
                    Diagnostic::error(Code::MigrationEdited, Span::new(&path, 1, 1), message)
                        .with_help(
                            "restore it (git checkout) and put the change in the documents instead",
                        )
                })
                .collect(),
        }
    }

    /// When the documents changed and no migration captures it (the plan
    /// would write, or would need --allow-destructive to): the finding of
    /// `gen migrations --check` and of `gen check`.
    pub fn behind(&self, paths: &PlanPaths) -> Option<Diagnostic> {
        let (count, first): (usize, Vec<&Change>) = match self {
            Plan::Write { summary, .. } => (summary.count, summary.first.iter().collect()),
            Plan::Refused { destructive } => (
                destructive.len(),
                destructive.iter().take(ChangeSummary::FIRST).collect(),
            ),
            Plan::UpToDate | Plan::Edited(_) => return None,
        };
        let steps: Vec<String> = first.iter().map(|c| c.describe()).collect();
        let more = if count > first.len() {
            format!("; and {} more", count - first.len())
        } else {
            String::new()
        };
        Some(
            Diagnostic::error(
                Code::MigrationsBehind,
                Span::new(&paths.snapshot, 1, 1),
                format!(
                    "the documents changed and no migration in {} captures it: {}{more}",
                    paths.directory,
                    steps.join("; ")
                ),
            )
            .with_help("run `gen migrations` (or `gen all`) and commit the new migration"),
        )
    }
}

/// How the output directory's files are named in messages: relative to
/// the repository root, as the caller displays them.
#[derive(Debug, Clone)]
pub struct PlanPaths {
    /// The output directory, as displayed (`generated`).
    pub output: String,
    /// `generated/migrations`.
    pub directory: String,
    /// `generated/schema.snapshot.yaml`.
    pub snapshot: String,
}

impl PlanPaths {
    /// The paths under an output directory displayed as `output`.
    pub fn under(output: &str) -> PlanPaths {
        let join = |name: &str| {
            if output.is_empty() || output == "." {
                name.to_owned()
            } else {
                format!("{}/{name}", output.trim_end_matches('/'))
            }
        };
        PlanPaths {
            output: output.to_owned(),
            directory: join(DIRECTORY),
            snapshot: join(SNAPSHOT),
        }
    }

    /// A file relative to the output directory, as displayed.
    pub fn file(&self, relative: &str) -> String {
        if self.output.is_empty() || self.output == "." {
            relative.to_owned()
        } else {
            format!("{}/{relative}", self.output.trim_end_matches('/'))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("{SNAPSHOT} cannot be read: {0}")]
    Snapshot(String),
    #[error("invalid migration name `{0}`: use letters, digits and underscores")]
    Name(String),
}

/// Hash of a file with CRLF normalised to LF, so a checkout on Windows does
/// not look like an edit.
pub fn normalised_hash(contents: &str) -> String {
    let normalised = contents.replace("\r\n", "\n");
    let digest = Sha256::digest(normalised.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Files whose hash no longer matches the checksum file, files the
/// checksum file lists that are gone, and lines of it that cannot be read.
pub fn edited_migrations(existing: &Existing) -> Vec<EditedMigration> {
    let Some(checksums) = &existing.checksums else {
        return Vec::new();
    };
    let mut edited = Vec::new();
    for line in checksums.lines().filter(|l| !l.trim().is_empty()) {
        let Some((hash, name)) = line.split_once("  ") else {
            edited.push(EditedMigration {
                file: CHECKSUMS.to_owned(),
                reason: EditReason::UnreadableChecksumLine(line.to_owned()),
            });
            continue;
        };
        let name = name.trim();
        let file = format!("{DIRECTORY}/{name}");
        match existing.migrations.get(name) {
            Some(contents) if normalised_hash(contents) == hash.trim() => {}
            Some(_) => edited.push(EditedMigration {
                file,
                reason: EditReason::Changed,
            }),
            None => edited.push(EditedMigration {
                file,
                reason: EditReason::Deleted,
            }),
        }
    }
    edited
}

fn checksum_file(migrations: &BTreeMap<String, String>) -> String {
    migrations
        .iter()
        .map(|(name, contents)| format!("{}  {name}\n", normalised_hash(contents)))
        .collect()
}

/// The version to use: the requested one, or one past the newest existing.
fn next_version(requested: &str, existing: &Existing) -> String {
    let newest = existing
        .migrations
        .keys()
        .filter_map(|name| name.split('_').next())
        .filter_map(|v| v.parse::<u64>().ok())
        .max();
    match (requested.parse::<u64>(), newest) {
        (Ok(requested), Some(newest)) if requested <= newest => (newest + 1).to_string(),
        _ => requested.to_owned(),
    }
}

/// Reads a snapshot: the realised schema as of the last migration.
/// Snapshots written by earlier versions (serde_yaml) read the same.
pub fn read_snapshot(text: &str) -> Result<Realized, MigrationError> {
    serde_saphyr::from_str::<Schema>(text)
        .map(Realized::physical)
        .map_err(|e| MigrationError::Snapshot(e.to_string()))
}

/// Plans the next migration: from the snapshot (or an empty database) to
/// the project's realised schema. A first migration reuses the script
/// `sql/schema.sql` is rendered from.
pub fn plan(
    context: &EmitContext<'_>,
    existing: &Existing,
    request: &MigrationRequest<'_>,
) -> Result<Plan, MigrationError> {
    if request.name.is_empty()
        || !request
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(MigrationError::Name(request.name.to_owned()));
    }
    let edited = edited_migrations(existing);
    if !edited.is_empty() {
        return Ok(Plan::Edited(edited));
    }
    let previous = existing
        .snapshot
        .as_deref()
        .map(read_snapshot)
        .transpose()?;
    let empty = Realized::default();
    let base = previous.as_ref().unwrap_or(&empty);
    let current = context.realized();
    let target = context.settings().target;
    let templates = context.templates;
    let version = next_version(request.version, existing);
    let stem = format!("{version}_{}", request.name);
    let up_title = format!("{stem} (up)");
    let (up_text, summary) = match previous {
        // A first migration is the script of sql/schema.sql under its own
        // title. The context renders that once and keeps a summary of its
        // changes, so the schema is not diffed a second time: at ten
        // thousand tables the changes take 150 MB. Going from an empty
        // database, no change is destructive.
        None => match context
            .initial_script_and_summary()
            .map(|(script, summary)| {
                retitle(script, SCHEMA_TITLE, &up_title, templates)
                    .map(|text| (text, summary.clone()))
            })? {
            Some(reused) => reused,
            // An overridden script template may print the title anywhere:
            // the script is rendered again under the migration's title.
            None => initial_script(current, &up_title, target, templates)?,
        },
        Some(_) => {
            let up = diff(base, current);
            if up.is_empty() {
                return Ok(Plan::UpToDate);
            }
            let destructive: Vec<Change> =
                up.iter().filter(|c| c.is_destructive()).cloned().collect();
            if !destructive.is_empty() && !request.allow_destructive {
                return Ok(Plan::Refused { destructive });
            }
            let text = render_script(
                &Script {
                    title: &up_title,
                    changes: &up,
                    prelude: None,
                    epilogue: None,
                },
                templates,
            )?;
            (text, ChangeSummary::of(up))
        }
    };
    let initial = existing.snapshot.is_none();
    let down = diff(current, base);
    let down_text = render_script(
        &Script {
            title: &format!("{stem} (down)"),
            changes: &down,
            prelude: None,
            epilogue: if initial {
                prelude(target, templates, Direction::Down)?
            } else {
                None
            },
        },
        templates,
    )?;
    let up_name = format!("{stem}.up.sql");
    let down_name = format!("{stem}.down.sql");
    let mut all = existing.migrations.clone();
    all.insert(up_name.clone(), up_text.clone());
    all.insert(down_name.clone(), down_text.clone());
    let snapshot =
        serde_saphyr::to_string(&**current).map_err(|e| MigrationError::Snapshot(e.to_string()))?;
    let files = vec![
        OutputFile::new(format!("{DIRECTORY}/{up_name}"), up_text),
        OutputFile::new(format!("{DIRECTORY}/{down_name}"), down_text),
        OutputFile::new(CHECKSUMS, checksum_file(&all)),
        OutputFile::new(SNAPSHOT, snapshot),
    ];
    Ok(Plan::Write {
        files,
        summary,
        up_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::Templates;
    use crate::settings::Target;

    #[test]
    fn hashes_ignore_line_endings() {
        assert_eq!(normalised_hash("a\r\nb\n"), normalised_hash("a\nb\n"));
        assert_ne!(normalised_hash("a\nb\n"), normalised_hash("a\nc\n"));
    }

    #[test]
    fn an_edited_file_is_detected() {
        let mut existing = Existing::default();
        existing
            .migrations
            .insert("1_a.up.sql".into(), "x\n".into());
        existing.checksums = Some(checksum_file(&existing.migrations));
        assert!(edited_migrations(&existing).is_empty());
        existing
            .migrations
            .insert("1_a.up.sql".into(), "y\n".into());
        assert_eq!(
            edited_migrations(&existing),
            [EditedMigration {
                file: "migrations/1_a.up.sql".to_owned(),
                reason: EditReason::Changed,
            }]
        );
    }

    #[test]
    fn a_bad_checksum_line_names_the_checksum_file() {
        let existing = Existing {
            checksums: Some("not a checksum line\n".to_owned()),
            ..Existing::default()
        };
        let edited = edited_migrations(&existing);
        assert_eq!(edited[0].file, CHECKSUMS);
        let paths = PlanPaths::under("generated");
        let diagnostics = Plan::Edited(edited).blockers(&paths);
        let span = diagnostics[0].span.clone().expect("a location");
        assert_eq!(span.file, "generated/migrations/checksums.sha256");
        assert!(
            diagnostics[0].message.contains("not a checksum line"),
            "{}",
            diagnostics[0].message
        );
    }

    fn written(plan: Plan) -> Vec<OutputFile> {
        match plan {
            Plan::Write { files, .. } => files,
            other => panic!("expected files, got {other:?}"),
        }
    }

    #[test]
    fn a_first_migration_reuses_the_schema_script_under_its_own_title() {
        use crate::project::Project;
        use crate::settings::Settings;
        let doc = "## Shop\n\n```sql\nCREATE TABLE stores (\n  id UUID PRIMARY KEY,\n  name TEXT NOT NULL\n);\n```\n";
        let request = MigrationRequest {
            name: "init",
            version: "20260101000000",
            allow_destructive: false,
        };
        let templates = Templates::load(None).unwrap();
        for target in [Target::Supabase, Target::Postgres] {
            let settings = Settings {
                target,
                ..Settings::default()
            };
            let project = Project::from_text("doc.md", doc, &settings);
            let context = EmitContext::new(&project, &templates);
            let reused = written(plan(&context, &Existing::default(), &request).unwrap());
            let (rendered, _) = initial_script(
                project.realized(),
                "20260101000000_init (up)",
                target,
                &templates,
            )
            .unwrap();
            assert_eq!(reused[0].contents, rendered);
            assert!(
                reused[0]
                    .contents
                    .starts_with("-- 20260101000000_init (up)\n")
            );
        }
        assert_eq!(
            retitle("-- a\nrest", "a", "b", &templates).as_deref(),
            Some("-- b\nrest")
        );
        // An overridden script template may print the title anywhere.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("migration.sql.tera"), "{{ title }}").unwrap();
        let overridden = Templates::load(Some(dir.path())).unwrap();
        assert_eq!(retitle("-- a\nrest", "a", "b", &overridden), None);
    }

    #[test]
    fn versions_only_move_forward() {
        let mut existing = Existing::default();
        existing
            .migrations
            .insert("20250101000000_init.up.sql".into(), String::new());
        assert_eq!(next_version("20240101000000", &existing), "20250101000001");
        assert_eq!(next_version("20260101000000", &existing), "20260101000000");
    }
}
