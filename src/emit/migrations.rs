//! Migrations: sqlx-cli reversible pairs (`<version>_<name>.up.sql` and
//! `.down.sql`) in `migrations/`. The first run writes the initial migration;
//! later runs diff the current realised schema against
//! `schema.snapshot.yaml` (the realised schema as of the last migration) and
//! write only the change. Existing files are never rewritten, and a checksum
//! file with line-ending-normalised hashes detects edited migrations.

use super::sql::{ChangeSummary, SCHEMA_TITLE, Script, prelude, render_script, retitle};
use super::{EmitContext, EmitOptions, OutputFile, TemplateError, Templates};
use crate::diff::{Change, diff};
use crate::model::Schema;
use crate::model::physical::realize;
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
    Write {
        files: Vec<OutputFile>,
        /// The up migration's changes: how many, and the first few.
        summary: ChangeSummary,
        up_name: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("{SNAPSHOT} cannot be read: {0}")]
    Snapshot(String),
    #[error("migration files were changed after they were generated: {}", .0.join(", "))]
    Edited(Vec<String>),
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

/// Files whose hash no longer matches the checksum file, and files the
/// checksum file lists that are gone.
pub fn edited_migrations(existing: &Existing) -> Vec<String> {
    let Some(checksums) = &existing.checksums else {
        return Vec::new();
    };
    let mut edited = Vec::new();
    for line in checksums.lines().filter(|l| !l.trim().is_empty()) {
        let Some((hash, name)) = line.split_once("  ") else {
            edited.push(format!("{CHECKSUMS} (unreadable line `{line}`)"));
            continue;
        };
        match existing.migrations.get(name.trim()) {
            Some(contents) if normalised_hash(contents) == hash.trim() => {}
            Some(_) => edited.push(name.trim().to_owned()),
            None => edited.push(format!("{} (deleted)", name.trim())),
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

pub fn plan(
    schema: &Schema,
    existing: &Existing,
    request: &MigrationRequest<'_>,
    options: &EmitOptions,
    templates: &Templates,
) -> Result<Plan, MigrationError> {
    let (current, _) = realize(schema, &options.realize);
    plan_realized(&current, existing, request, options, templates)
}

/// [`plan`] with the documents' schema already realised (`current`).
pub fn plan_realized(
    current: &Schema,
    existing: &Existing,
    request: &MigrationRequest<'_>,
    options: &EmitOptions,
    templates: &Templates,
) -> Result<Plan, MigrationError> {
    plan_with(current, existing, request, options, templates, None)
}

/// [`plan`] from an emit context: a first migration reuses the script
/// `sql/schema.sql` was rendered from.
pub fn plan_in(
    context: &EmitContext<'_>,
    existing: &Existing,
    request: &MigrationRequest<'_>,
) -> Result<Plan, MigrationError> {
    plan_with(
        context.realized(),
        existing,
        request,
        context.options,
        context.templates,
        Some(context),
    )
}

fn plan_with(
    current: &Schema,
    existing: &Existing,
    request: &MigrationRequest<'_>,
    options: &EmitOptions,
    templates: &Templates,
    context: Option<&EmitContext<'_>>,
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
        return Err(MigrationError::Edited(edited));
    }
    let previous: Option<Schema> = match &existing.snapshot {
        Some(text) => {
            Some(serde_yaml::from_str(text).map_err(|e| MigrationError::Snapshot(e.to_string()))?)
        }
        None => None,
    };
    let empty = Schema::default();
    let base = previous.as_ref().unwrap_or(&empty);
    let initial = previous.is_none();
    let version = next_version(request.version, existing);
    let stem = format!("{version}_{}", request.name);
    let up_title = format!("{stem} (up)");
    // A first migration is the script of sql/schema.sql under its own
    // title. The context renders that once and keeps a summary of its
    // changes, so the schema is not diffed a second time: at ten thousand
    // tables the changes take 150 MB. Going from an empty database, no
    // change is destructive.
    let reused = match (initial, context) {
        (true, Some(context)) => {
            let (script, summary) = context.initial_script_and_summary()?;
            retitle(script, SCHEMA_TITLE, &up_title, templates).map(|text| (text, summary.clone()))
        }
        _ => None,
    };
    let (up_text, summary) = match reused {
        Some(reused) => reused,
        None => {
            let up = diff(base, current);
            if up.is_empty() && previous.is_some() {
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
                    prelude: if initial {
                        prelude(options.target, templates, true)?
                    } else {
                        None
                    },
                    epilogue: None,
                },
                templates,
            )?;
            (text, ChangeSummary::of(up))
        }
    };
    let down = diff(current, base);
    let down_text = render_script(
        &Script {
            title: &format!("{stem} (down)"),
            changes: &down,
            prelude: None,
            epilogue: if initial {
                prelude(options.target, templates, false)?
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
    let snapshot = serde_saphyr::to_string(current).expect("the model serialises");
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
        assert_eq!(edited_migrations(&existing), ["1_a.up.sql"]);
    }

    fn written(plan: Plan) -> Vec<OutputFile> {
        match plan {
            Plan::Write { files, .. } => files,
            other => panic!("expected files, got {other:?}"),
        }
    }

    #[test]
    fn a_first_migration_reuses_the_schema_script_under_its_own_title() {
        use crate::config::Target;
        use crate::model::physical::RealizeOptions;
        use crate::source::SourceFile;
        let doc = "## Shop\n\n```sql\nCREATE TABLE stores (\n  id UUID PRIMARY KEY,\n  name TEXT NOT NULL\n);\n```\n";
        let (file, _) = SourceFile::decode("doc.md", doc.as_bytes());
        let (schema, _) = crate::build_schema(&[file], &Default::default());
        let request = MigrationRequest {
            name: "init",
            version: "20260101000000",
            allow_destructive: false,
        };
        let templates = Templates::load(None).unwrap();
        for target in [Target::Supabase, Target::Postgres] {
            let options = EmitOptions {
                target,
                realize: RealizeOptions::default(),
            };
            let context = EmitContext::new(&schema, &options, &templates);
            let reused = written(plan_in(&context, &Existing::default(), &request).unwrap());
            let rendered = written(
                plan_realized(
                    context.realized(),
                    &Existing::default(),
                    &request,
                    &options,
                    &templates,
                )
                .unwrap(),
            );
            assert_eq!(reused, rendered);
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
