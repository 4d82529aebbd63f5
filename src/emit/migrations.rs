//! Migrations: sqlx-cli reversible pairs (`<version>_<name>.up.sql` and
//! `.down.sql`) in `migrations/`. The first run writes the initial migration;
//! later runs diff the current realised schema against
//! `schema.snapshot.yaml` (the realised schema as of the last migration) and
//! write only the change. Existing files are never rewritten, and a checksum
//! file with line-ending-normalised hashes detects edited migrations.
//!
//! Every step of a later migration is classified with its hazards
//! (`diff::hazard`): they are written as comments above its statement, a
//! `data-loss` step is refused unless that kind is allowed, and the steps
//! whose outcome depends on the rows go into `<stem>.preflight.json`, for
//! `gen apply` to count before it runs anything. The snapshot before the
//! newest migration is kept as `schema.snapshot.previous.yaml`, so that a
//! migration that failed or was never applied can be withdrawn.

use super::sql::{
    ChangeSummary, Direction, SCHEMA_TITLE, Script, initial_script, prelude, render_script, retitle,
};
use super::{EmitContext, OutputFile, TemplateError};
use crate::diag::{Code, Diagnostic, Span};
use crate::diff::hazard::{Hazard, HazardKind, Probe, Step, classify};
use crate::diff::{Change, diff, online};
use crate::model::stages::Realized;
use crate::model::{Schema, Source};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

pub const DIRECTORY: &str = "migrations";
pub const SNAPSHOT: &str = "schema.snapshot.yaml";
/// The snapshot before the newest migration, restored by `--withdraw`.
pub const PREVIOUS_SNAPSHOT: &str = "schema.snapshot.previous.yaml";
/// No underscore and no `.sql`, so sqlx's migrator skips it.
pub const CHECKSUMS: &str = "migrations/checksums.sha256";
/// Beside `<stem>.up.sql`; not `.sql`, so sqlx's migrator skips it.
pub const PREFLIGHT_SUFFIX: &str = ".preflight.json";

/// What is on disk from earlier runs.
#[derive(Debug, Default, Clone)]
pub struct Existing {
    /// Migration file names (no directory) and their contents: the `.sql`
    /// files and their `.preflight.json` files.
    pub migrations: BTreeMap<String, String>,
    pub snapshot: Option<String>,
    pub previous_snapshot: Option<String>,
    pub checksums: Option<String>,
}

/// The hazard kinds a migration may contain. `data-loss` is the only kind
/// refused when not allowed: the others are reported, and `fails-on-data`
/// is decided by the preflight against the live rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHazards(pub BTreeSet<HazardKind>);

impl AllowedHazards {
    pub fn of(kinds: impl IntoIterator<Item = HazardKind>) -> AllowedHazards {
        AllowedHazards(kinds.into_iter().collect())
    }

    pub fn allows(&self, kind: HazardKind) -> bool {
        self.0.contains(&kind)
    }

    /// The steps these allowances refuse.
    fn refuses(&self, step: &Step) -> bool {
        step.has(HazardKind::DataLoss) && !self.allows(HazardKind::DataLoss)
    }
}

/// What the caller asks for.
#[derive(Debug, Clone)]
pub struct MigrationRequest<'a> {
    pub name: &'a str,
    /// `YYYYMMDDHHMMSS`; bumped when not after the last existing version.
    pub version: &'a str,
    pub allowed: AllowedHazards,
}

/// `<stem>.preflight.json`: what `gen apply` counts in the live data before
/// it runs the migration, one entry per step whose outcome depends on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreflightFile {
    /// The up migration this belongs to.
    pub migration: String,
    pub steps: Vec<PreflightStep>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreflightStep {
    /// What the step does, in the words of `gen migrations`.
    pub description: String,
    /// The documentation line that asked for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// The table's primary key before the migration: examples are named by it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key: Vec<String>,
    pub hazards: Vec<Hazard>,
    pub probes: Vec<Probe>,
}

impl PreflightFile {
    /// The preflight file's name for an up migration's file name.
    pub fn name_for(up_name: &str) -> String {
        let stem = up_name
            .strip_suffix(".up.sql")
            .or_else(|| up_name.strip_suffix(".sql"))
            .unwrap_or(up_name);
        format!("{stem}{PREFLIGHT_SUFFIX}")
    }

    pub fn parse(text: &str) -> Result<PreflightFile, serde_json::Error> {
        serde_json::from_str(text)
    }
}

#[derive(Debug)]
pub enum Plan {
    /// The snapshot already matches the documents.
    UpToDate,
    /// Steps with a hazard that was not allowed (`data-loss`).
    Refused {
        refused: Vec<Step>,
        /// The plan's added columns and tables: a drop beside an add may
        /// be a rename, and the message says so.
        adds: Vec<Change>,
        /// `possible-rename` warnings: drops whose add is just like them.
        possible_renames: Vec<Diagnostic>,
    },
    /// Migration files were changed after they were generated: nothing
    /// can be planned on top of them.
    Edited(Vec<EditedMigration>),
    Write {
        files: Vec<OutputFile>,
        /// The up migration's changes: how many, and the first few.
        summary: ChangeSummary,
        up_name: String,
        /// The up files of the migration's later parts, in the order they
        /// run (empty when it is one file).
        later_parts: Vec<String>,
        /// The up migration's steps that have hazards, in order.
        hazardous: Vec<Step>,
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

/// The later parts of a migration of several files, for the line that
/// says what was written (empty for one file).
pub fn later_parts_note(later_parts: &[String]) -> String {
    if later_parts.is_empty() {
        String::new()
    } else {
        format!(
            "; it goes on in {}, run after it in that order, so that the tables keep taking reads and writes",
            later_parts.join(", ")
        )
    }
}

/// What a plan means, for exit codes: every command that plans maps the
/// same status the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanStatus {
    UpToDate,
    /// There are changes to write.
    Ready,
    /// A `data-loss` step was not allowed: an input error (exit 2).
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
            Plan::Refused {
                refused,
                adds,
                possible_renames,
            } => refused
                .iter()
                .map(|step| refusal(step, adds, paths))
                .chain(possible_renames.iter().cloned())
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
            Plan::Refused { refused, .. } => (
                refused.len(),
                refused
                    .iter()
                    .take(ChangeSummary::FIRST)
                    .map(|s| &s.change)
                    .collect(),
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

/// Why one refused step was refused, at the documentation line behind it.
fn refusal(step: &Step, adds: &[Change], paths: &PlanPaths) -> Diagnostic {
    let span = match &step.source {
        Some(source) => Span::new(&*source.file, source.line, 1),
        None => Span::new(&paths.snapshot, 1, 1),
    };
    let reasons: Vec<&str> = step
        .hazards
        .iter()
        .filter(|h| h.kind == HazardKind::DataLoss)
        .map(|h| h.reason.as_str())
        .collect();
    let mut help = "rerun with --allow-hazard data-loss to write it; `gen apply` then counts \
                    the rows and values it would lose and needs --accept-data-loss for them"
        .to_owned();
    if let Some(rename) = looks_like_rename(&step.change, adds) {
        help = format!(
            "{rename} reads as a drop and an add, which loses the values; to keep them, {}, or {help}",
            rename.marker_help()
        );
    }
    Diagnostic::error(
        Code::DestructiveChange,
        span,
        format!(
            "{} has hazard data-loss: {}",
            step.change.describe(),
            reasons.join("; ")
        ),
    )
    .with_help(help)
}

/// A drop that comes with an add of the same kind in the same plan: most
/// likely a rename the documents did not mark.
struct LikelyRename<'a> {
    /// The table of a column rename; `None` for a table rename.
    table: Option<&'a str>,
    from: &'a str,
    to: &'a str,
}

impl LikelyRename<'_> {
    /// The marker that makes the diff rename, spelled exactly as the
    /// documents would write it.
    fn marker_help(&self) -> String {
        match self.table {
            Some(_) => format!(
                "mark it in the documents: `(renamed from `{}`)` in the description of `{}`",
                self.from, self.to
            ),
            None => format!(
                "mark it in the documents: `**Renamed from:** `{}`` in the section of `{}`",
                self.from, self.to
            ),
        }
    }
}

impl std::fmt::Display for LikelyRename<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.table {
            Some(table) => write!(
                f,
                "if {table}.{} was renamed to {}, the rename",
                self.from, self.to
            ),
            None => write!(f, "if {} was renamed to {}, the rename", self.from, self.to),
        }
    }
}

fn looks_like_rename<'a>(change: &'a Change, adds: &'a [Change]) -> Option<LikelyRename<'a>> {
    match change {
        Change::DropColumn { table, column } => adds.iter().find_map(|add| match add {
            Change::AddColumn {
                table: t,
                column: c,
            } if t == table => Some(LikelyRename {
                table: Some(table),
                from: column,
                to: &c.name,
            }),
            _ => None,
        }),
        Change::DropTable { table } => adds.iter().find_map(|add| match add {
            Change::CreateTable { table: created } => Some(LikelyRename {
                table: None,
                from: table,
                to: &created.name,
            }),
            _ => None,
        }),
        _ => None,
    }
}

/// `possible-rename`: a dropped column and an added one of one table with
/// the same type and description, or a dropped table and a created one
/// with the same columns. Said at the added one's line, where the marker
/// goes.
fn possible_renames(steps: &[Step], base: &Schema, current: &Schema) -> Vec<Diagnostic> {
    let adds: Vec<&Change> = steps.iter().map(|s| &s.change).collect();
    let shape = |t: &crate::model::Table| -> Vec<(String, String)> {
        t.columns
            .iter()
            .map(|c| (c.name.clone(), c.ty.to_string()))
            .collect()
    };
    let mut out = Vec::new();
    for step in steps {
        let found = match &step.change {
            Change::DropColumn { table, column } => {
                let Some(old) = base.tables.get(table).and_then(|t| t.column(column)) else {
                    continue;
                };
                adds.iter().find_map(|add| match add {
                    Change::AddColumn {
                        table: t,
                        column: c,
                    } if t == table && c.ty == old.ty && c.description == old.description => {
                        let rename = LikelyRename {
                            table: Some(table),
                            from: column,
                            to: &c.name,
                        };
                        let like = format!("the same type ({}) and description", c.ty);
                        Some((rename, c.source.clone(), like))
                    }
                    _ => None,
                })
            }
            Change::DropTable { table } => {
                let Some(old) = base.tables.get(table) else {
                    continue;
                };
                adds.iter().find_map(|add| match add {
                    Change::CreateTable { table: created }
                        if !old.columns.is_empty()
                            && current
                                .tables
                                .get(&created.name)
                                .is_some_and(|t| shape(t) == shape(old)) =>
                    {
                        let rename = LikelyRename {
                            table: None,
                            from: table,
                            to: &created.name,
                        };
                        Some((
                            rename,
                            created.source.clone(),
                            "the same columns".to_owned(),
                        ))
                    }
                    _ => None,
                })
            }
            _ => None,
        };
        if let Some((rename, source, like)) = found {
            let what = match rename.table {
                Some(table) => format!("column {table}.{}", rename.from),
                None => format!("table {}", rename.from),
            };
            out.push(
                Diagnostic::warning(
                    Code::PossibleRename,
                    source.span(),
                    format!(
                        "the migration drops {what} and adds `{}` with {like}: is it a rename?",
                        rename.to
                    ),
                )
                .with_help(format!(
                    "if it is, {}, so that the migration renames it and keeps the values",
                    rename.marker_help()
                )),
            );
        }
    }
    out
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

/// What `gen migrations --withdraw` changes under the output directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Withdrawal {
    /// `<version>_<name>` of the withdrawn migration.
    pub stem: String,
    pub version: i64,
    /// Every version of its files: more than one when one documentation
    /// change became a group of migrations.
    pub versions: Vec<i64>,
    /// Files to remove, relative to the output directory.
    pub remove: Vec<String>,
    /// Files to write: the checksums without it, the snapshot before it.
    pub write: Vec<OutputFile>,
    /// It was the first migration: no snapshot is left.
    pub was_first: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WithdrawError {
    #[error("there is no migration to withdraw")]
    NoMigrations,
    #[error(
        "{PREVIOUS_SNAPSHOT} is missing, so the snapshot before {stem} cannot be restored; restore {SNAPSHOT} from version control as it was before {stem} instead"
    )]
    NoPreviousSnapshot { stem: String },
    #[error("migration files other than the newest were edited: {}", .0.iter().map(|e| e.file.as_str()).collect::<Vec<_>>().join(", "))]
    Edited(Vec<EditedMigration>),
}

/// Withdraws the newest migration: its files go, the checksums no longer
/// list them, and the snapshot goes back to what it was before it (kept in
/// `schema.snapshot.previous.yaml`), so that the next `gen migrations`
/// writes it again from the fixed documents. Whether the migration was
/// applied somewhere is for the caller to check. The newest files may have
/// been edited (a hand fix that failed too); the others may not.
pub fn withdraw(existing: &Existing) -> Result<Withdrawal, WithdrawError> {
    let newest = existing
        .migrations
        .keys()
        .filter_map(|name| name.strip_suffix(".up.sql"))
        .filter_map(|stem| {
            let version = stem.split('_').next()?.parse::<i64>().ok()?;
            Some((version, stem.to_owned()))
        })
        .max();
    let Some((newest_version, newest_stem)) = newest else {
        return Err(WithdrawError::NoMigrations);
    };
    // A later part of a group names the group's first migration: the
    // whole group goes.
    let first = existing
        .migrations
        .get(&format!("{newest_stem}.up.sql"))
        .and_then(|text| group_first(text))
        .map(str::to_owned);
    let (version, stem) = match first {
        Some(first) => match first.split('_').next().and_then(|v| v.parse::<i64>().ok()) {
            Some(version) => (version, first),
            None => (newest_version, newest_stem),
        },
        None => (newest_version, newest_stem),
    };
    let stems: Vec<String> = existing
        .migrations
        .keys()
        .filter_map(|name| name.strip_suffix(".up.sql"))
        .filter(|stem| {
            stem.split('_')
                .next()
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v >= version && v <= newest_version)
        })
        .map(str::to_owned)
        .collect();
    let versions: Vec<i64> = stems
        .iter()
        .filter_map(|stem| stem.split('_').next()?.parse().ok())
        .collect();
    let belongs = |name: &str| {
        stems
            .iter()
            .any(|stem| name.starts_with(&format!("{stem}.")))
    };
    let edited: Vec<EditedMigration> = edited_migrations(existing)
        .into_iter()
        .filter(|e| {
            let name = e
                .file
                .strip_prefix(&format!("{DIRECTORY}/"))
                .unwrap_or(&e.file);
            !belongs(name)
        })
        .collect();
    if !edited.is_empty() {
        return Err(WithdrawError::Edited(edited));
    }
    let remaining: BTreeMap<String, String> = existing
        .migrations
        .iter()
        .filter(|(name, _)| !belongs(name))
        .map(|(n, c)| (n.clone(), c.clone()))
        .collect();
    let mut remove: Vec<String> = existing
        .migrations
        .keys()
        .filter(|name| belongs(name))
        .map(|name| format!("{DIRECTORY}/{name}"))
        .collect();
    let was_first = !remaining.keys().any(|name| name.ends_with(".sql"));
    let mut write = Vec::new();
    if was_first {
        remove.push(SNAPSHOT.to_owned());
        remove.push(CHECKSUMS.to_owned());
    } else {
        let previous = existing
            .previous_snapshot
            .clone()
            .ok_or_else(|| WithdrawError::NoPreviousSnapshot { stem: stem.clone() })?;
        write.push(OutputFile::new(SNAPSHOT, previous));
        write.push(OutputFile::new(CHECKSUMS, checksum_file(&remaining)));
    }
    if existing.previous_snapshot.is_some() {
        remove.push(PREVIOUS_SNAPSHOT.to_owned());
    }
    Ok(Withdrawal {
        stem,
        version,
        versions,
        remove,
        write,
        was_first,
    })
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
    let (up_text, summary, steps) = match previous {
        // A first migration is the script of sql/schema.sql under its own
        // title. The context renders that once and keeps a summary of its
        // changes, so the schema is not diffed a second time: at ten
        // thousand tables the changes take 150 MB. Going from an empty
        // database, no change has a hazard.
        None => match context
            .initial_script_and_summary()
            .map(|(script, summary)| {
                retitle(script, SCHEMA_TITLE, &up_title, templates)
                    .map(|text| (text, summary.clone()))
            })? {
            Some((text, summary)) => (text, summary, Vec::new()),
            // An overridden script template may print the title anywhere:
            // the script is rendered again under the migration's title.
            None => {
                let (text, summary) = initial_script(current, &up_title, target, templates)?;
                (text, summary, Vec::new())
            }
        },
        Some(_) => {
            let up = diff(base, current);
            if up.is_empty() {
                return Ok(Plan::UpToDate);
            }
            let steps = classify(up, base, current);
            let refused: Vec<Step> = steps
                .iter()
                .filter(|s| request.allowed.refuses(s))
                .cloned()
                .collect();
            if !refused.is_empty() {
                let adds = steps
                    .iter()
                    .filter(|s| {
                        matches!(
                            s.change,
                            Change::AddColumn { .. } | Change::CreateTable { .. }
                        )
                    })
                    .map(|s| s.change.clone())
                    .collect();
                let possible_renames = possible_renames(&steps, base, current);
                return Ok(Plan::Refused {
                    refused,
                    adds,
                    possible_renames,
                });
            }
            let request = MigrationRequest {
                version: &version,
                ..request.clone()
            };
            return later_migration(context, existing, &request, base, steps);
        }
    };
    let up_text = with_timeouts(up_text, &timeouts(context, true)?);
    let down = diff(current, base);
    let down_text = render_script(
        &Script {
            title: &format!("{stem} (down)"),
            changes: &super::sql::initial_down(&down, current),
            hazards: &[],
            prelude: None,
            epilogue: prelude(target, templates, Direction::Down)?,
        },
        templates,
    )?;
    let up_name = format!("{stem}.up.sql");
    let files = vec![
        OutputFile::new(format!("{DIRECTORY}/{up_name}"), up_text),
        OutputFile::new(format!("{DIRECTORY}/{stem}.down.sql"), down_text),
    ];
    written_plan(
        existing,
        current,
        Written {
            files,
            summary,
            up_name,
            steps,
        },
    )
}

/// A later migration: the classified steps in their online phases
/// (`diff::online`), one migration file per phase, in consecutive
/// versions. A migration of several files is one group: the first file's
/// title names none, the later ones say which part of which migration they
/// are (`withdraw` reads that), the first carries the preflight and the
/// down migration of the whole group (sqlx-cli reverts the newest file
/// first, so the later parts' downs are empty and the first one's runs last).
fn later_migration(
    context: &EmitContext<'_>,
    existing: &Existing,
    request: &MigrationRequest<'_>,
    base: &Realized,
    steps: Vec<Step>,
) -> Result<Plan, MigrationError> {
    let current = context.realized();
    // The preflight counts for the steps as the documents asked for them,
    // in their words: it runs before any part does.
    let preflight = preflight_file(
        &format!("{}_{}.up.sql", request.version, request.name),
        &steps,
        base,
    );
    let phases = online::phases(steps, base);
    let first_version: u64 = request.version.parse().unwrap_or(0);
    let stems: Vec<String> = phases
        .iter()
        .enumerate()
        .map(|(i, phase)| {
            // The first part has the migration's own name, whatever it holds.
            let version = first_version + i as u64;
            match phase.kind.suffix().filter(|_| i > 0) {
                Some(suffix) => format!("{version}_{}_{suffix}", request.name),
                None => format!("{version}_{}", request.name),
            }
        })
        .collect();
    let first = stems[0].clone();
    let parts = phases.len();
    let mut files = Vec::new();
    for (i, (phase, stem)) in phases.iter().zip(&stems).enumerate() {
        let title = if parts == 1 {
            format!("{stem} (up)")
        } else if i == 0 {
            format!("{stem} (up: part 1 of {parts})")
        } else {
            format!("{stem} (up: part {} of {parts} of {first})", i + 1)
        };
        let mut text = script_of_steps(&title, &phase.steps, context, phase.kind.in_transaction())?;
        if !phase.kind.in_transaction() {
            // sqlx-cli and `gen apply` read this first line; PostgreSQL
            // refuses to build an index concurrently inside a transaction.
            text.insert_str(0, "-- no-transaction\n");
        }
        let down_text = if i == 0 {
            script_of_steps(
                &format!("{stem} (down)"),
                &classify(diff(current, base), current, base),
                context,
                true,
            )?
        } else {
            format!(
                "-- {stem} (down)\n-- Nothing to undo on its own: {first}.down.sql reverts the whole migration.\n"
            )
        };
        files.push(OutputFile::new(format!("{DIRECTORY}/{stem}.up.sql"), text));
        files.push(OutputFile::new(
            format!("{DIRECTORY}/{stem}.down.sql"),
            down_text,
        ));
    }
    let steps: Vec<Step> = phases.into_iter().flat_map(|p| p.steps).collect();
    let summary = ChangeSummary::of(steps.iter().map(|s| s.change.clone()).collect());
    let up_name = format!("{first}.up.sql");
    if let Some(preflight) = preflight {
        let mut text = serde_json::to_string_pretty(&preflight)
            .map_err(|e| MigrationError::Snapshot(e.to_string()))?;
        text.push('\n');
        files.push(OutputFile::new(
            format!("{DIRECTORY}/{}", PreflightFile::name_for(&up_name)),
            text,
        ));
    }
    written_plan(
        existing,
        current,
        Written {
            files,
            summary,
            up_name,
            steps,
        },
    )
}

/// A planned migration's files and what `Plan::Write` says about it.
struct Written {
    files: Vec<OutputFile>,
    summary: ChangeSummary,
    up_name: String,
    steps: Vec<Step>,
}

/// The migration's files with the checksums of every migration, the new
/// snapshot and the one before it.
fn written_plan(
    existing: &Existing,
    current: &Schema,
    written: Written,
) -> Result<Plan, MigrationError> {
    let Written {
        mut files,
        summary,
        up_name,
        steps,
    } = written;
    let mut all = existing.migrations.clone();
    for file in &files {
        let name = file.path.to_string_lossy();
        let name = name.strip_prefix(&format!("{DIRECTORY}/")).unwrap_or(&name);
        all.insert(name.to_owned(), file.contents.clone());
    }
    let snapshot =
        serde_saphyr::to_string(current).map_err(|e| MigrationError::Snapshot(e.to_string()))?;
    files.push(OutputFile::new(CHECKSUMS, checksum_file(&all)));
    files.push(OutputFile::new(SNAPSHOT, snapshot));
    if let Some(previous) = &existing.snapshot {
        files.push(OutputFile::new(PREVIOUS_SNAPSHOT, previous.clone()));
    }
    let hazardous = steps
        .into_iter()
        .filter(|s| !s.hazards.is_empty())
        .collect();
    let later_parts = files
        .iter()
        .map(|f| f.path.to_string_lossy().into_owned())
        .filter_map(|p| p.strip_prefix(&format!("{DIRECTORY}/")).map(str::to_owned))
        .filter(|name| name.ends_with(".up.sql") && *name != up_name)
        .collect();
    Ok(Plan::Write {
        files,
        summary,
        up_name,
        later_parts,
        hazardous,
    })
}

/// What to do after a migration failed in `gen apply`: withdraw it and fix
/// the documents; but a later part of a group (`sql` is its text) follows
/// parts that are applied, so it is fixed forward: every part can run
/// again.
pub fn recovery_help(sql: &str) -> String {
    match group_first(sql) {
        Some(first) => format!(
            "this is a later part of {first}, whose earlier parts are applied: fix the cause (the rows, or the lock holder) and run `gen apply` again; every part can run again (a failed concurrent build's INVALID index is dropped first)"
        ),
        None => "fix the rows, or withdraw the migration (`gen migrations --withdraw --database-url URL`), fix the documents, then `gen migrations` and `gen apply`; see README.md, \"Recovering from a failed migration\"".to_owned(),
    }
}

/// The first migration of the group a later part belongs to, from its
/// title (`(up: part 2 of 3 of <first stem>)`).
fn group_first(text: &str) -> Option<&str> {
    let title = text
        .lines()
        .find(|l| l.starts_with("-- ") && !l.starts_with("-- no-transaction"))?;
    // `K of N of <first>)`: the first part says only `K of N)`.
    let part = title.split_once("(up: part ")?.1;
    let mut pieces = part.splitn(3, " of ");
    let (_, _, first) = (pieces.next()?, pieces.next()?, pieces.next()?);
    first.strip_suffix(')')
}

/// A script of classified steps, each with its hazards above it, after
/// the timeouts (`timeouts.sql.tera`).
fn script_of_steps(
    title: &str,
    steps: &[Step],
    context: &EmitContext<'_>,
    in_transaction: bool,
) -> Result<String, TemplateError> {
    let changes: Vec<Change> = steps.iter().map(|s| s.change.clone()).collect();
    let hazards: Vec<Vec<Hazard>> = steps.iter().map(|s| s.hazards.clone()).collect();
    render_script(
        &Script {
            title,
            changes: &changes,
            hazards: &hazards,
            prelude: Some(timeouts(context, in_transaction)?),
            epilogue: None,
        },
        context.templates,
    )
}

/// The configured timeouts as the migration's first statements
/// (`timeouts.sql.tera`): `SET LOCAL` in a transaction, `SET` outside one.
fn timeouts(context: &EmitContext<'_>, in_transaction: bool) -> Result<String, TemplateError> {
    let options = &context.settings().migrations;
    let mut values = tera::Context::new();
    values.insert("lock_timeout", options.lock_timeout.as_str());
    values.insert("statement_timeout", options.statement_timeout.as_str());
    values.insert("local", &in_transaction);
    Ok(context
        .templates
        .render("timeouts.sql.tera", &values)?
        .trim()
        .to_owned())
}

/// A first migration with the timeouts after its leading comments: the
/// script is `sql/schema.sql`'s, which a person may run by hand and which
/// sets none.
fn with_timeouts(script: String, timeouts: &str) -> String {
    let header: usize = script
        .split_inclusive('\n')
        .take_while(|line| line.starts_with("--"))
        .map(str::len)
        .sum();
    let (head, rest) = script.split_at(header);
    format!("{head}\n{timeouts}\n{rest}")
}

/// The preflight file of a migration whose steps depend on the rows, or
/// `None` when nothing in it does.
fn preflight_file(up_name: &str, steps: &[Step], base: &Schema) -> Option<PreflightFile> {
    let steps: Vec<PreflightStep> = steps
        .iter()
        .filter(|s| !s.probes.is_empty())
        .map(|s| PreflightStep {
            description: s.change.describe(),
            source: s.source.clone(),
            key: s
                .probes
                .first()
                .and_then(|p| base.tables.get(p.table()))
                .and_then(|t| t.primary_key.as_ref())
                .map(|pk| pk.columns.clone())
                .unwrap_or_default(),
            hazards: s.hazards.clone(),
            probes: s.probes.clone(),
        })
        .collect();
    (!steps.is_empty()).then(|| PreflightFile {
        migration: up_name.to_owned(),
        steps,
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
            allowed: AllowedHazards::default(),
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
            // The script of sql/schema.sql, with the timeouts after its
            // leading comments.
            let timeouts = "SET LOCAL lock_timeout = '5s';\nSET LOCAL statement_timeout = '15min';";
            assert_eq!(reused[0].contents, with_timeouts(rendered, timeouts));
            assert!(
                reused[0]
                    .contents
                    .contains("do not edit.\n-- Change the documents and run `gen migrations` instead.\n\nSET LOCAL lock_timeout = '5s';\nSET LOCAL statement_timeout = '15min';\n\n"),
                "{}",
                reused[0].contents
            );
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
    fn a_later_part_names_its_group_and_is_fixed_forward() {
        let later = "-- no-transaction\n-- 20260102000001_schema_concurrently (up: part 2 of 3 of 20260102000000_schema)\n";
        assert_eq!(group_first(later), Some("20260102000000_schema"));
        assert!(recovery_help(later).contains("run `gen apply` again"));
        let first = "-- 20260102000000_schema (up: part 1 of 3)\nSET LOCAL lock_timeout = '5s';\n";
        assert_eq!(group_first(first), None);
        assert!(recovery_help(first).contains("--withdraw"));
        assert_eq!(group_first("-- 20260102000000_schema (up)\n"), None);
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
