//! SQL rendering: a list of changes becomes a script through the
//! `migration.sql.tera` template. `gen sql` renders the diff from an empty
//! database, wrapped in one transaction; migrations use the same renderer.
//! The script from an empty database is both `sql/schema.sql` and the first
//! migration, under different titles; with the embedded template, where the
//! title is the first line and nothing else, `gen all` renders it once
//! ([`EmitContext::initial_script`]) and changes the title line. The
//! initial migration's down leaves alone what may have existed before its
//! up ([`initial_down`]): extensions and stub tables.

use super::{EmitContext, EmitError, OutputFile, OutputSink, TemplateError, Templates};
use crate::diff::hazard::Hazard;
use crate::diff::{Change, diff};
use crate::model::Schema;
use crate::model::stages::Realized;
use crate::settings::Target;
use serde::Serialize;

/// What a rendered script contains besides the changes.
pub struct Script<'a> {
    pub title: &'a str,
    pub changes: &'a [Change],
    /// The hazards of each change, written as comments above it; empty
    /// when the script goes from an empty database (nothing can go wrong).
    pub hazards: &'a [Vec<Hazard>],
    /// SQL placed before the changes (the Supabase prelude going up).
    pub prelude: Option<String>,
    /// SQL placed after the changes (going down: what the initial down
    /// keeps, and the prelude's removal).
    pub epilogue: Option<String>,
}

pub fn render_script(script: &Script<'_>, templates: &Templates) -> Result<String, TemplateError> {
    let statements = render_statements(script.changes, script.hazards, templates)?;
    let mut context = super::templates::context_of_texts(vec![("statements", statements)]);
    context.insert("title", script.title);
    // The embedded script template prints the statements; a replacement may
    // want the changes. They are put in the context only then: as template
    // values, the changes of a large schema take hundreds of megabytes.
    if !templates.is_embedded("migration.sql.tera") {
        context.insert("changes", script.changes);
    }
    context.insert("prelude", &script.prelude);
    context.insert("epilogue", &script.epilogue);
    let mut out = templates.render("migration.sql.tera", &context)?;
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// Each change through `statement.sql.tera`, one at a time, so that only
/// one change is ever held as a template value; spread over the machine's
/// cores (up to four), since the changes do not depend on each other.
/// `hazards[i]`, when given, are change `i`'s, printed above it.
pub fn render_statements(
    changes: &[Change],
    hazards: &[Vec<Hazard>],
    templates: &Templates,
) -> Result<Vec<String>, TemplateError> {
    let render = |first: usize, changes: &[Change]| -> Result<Vec<String>, TemplateError> {
        changes
            .iter()
            .enumerate()
            .map(|(i, change)| {
                let mut context = tera::Context::new();
                context.insert("change", change);
                if let Some(hazards) = hazards.get(first + i).filter(|h| !h.is_empty()) {
                    context.insert("hazards", hazards);
                }
                templates.render("statement.sql.tera", &context)
            })
            .collect()
    };
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    if workers < 2 || changes.len() < 256 {
        return render(0, changes);
    }
    let chunk = changes.len().div_ceil(workers);
    std::thread::scope(|scope| {
        let parts: Vec<_> = changes
            .chunks(chunk)
            .enumerate()
            .map(|(k, part)| scope.spawn(move || render(k * chunk, part)))
            .collect();
        let mut statements = Vec::with_capacity(changes.len());
        for part in parts {
            match part.join() {
                Ok(rendered) => statements.extend(rendered?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(statements)
    })
}

/// Which way a migration goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

/// What the initial migration adds around its changes. Going up, the
/// Supabase baseline, for `target: postgres` only. Going down, for every
/// target, a comment saying what the down keeps ([`initial_down`]), then
/// for `target: postgres` the baseline's removal.
pub fn prelude(
    target: Target,
    templates: &Templates,
    direction: Direction,
) -> Result<Option<String>, TemplateError> {
    let name = match direction {
        Direction::Up if target != Target::Postgres => return Ok(None),
        Direction::Up => "prelude.up.sql.tera",
        Direction::Down => "prelude.down.sql.tera",
    };
    let mut context = tera::Context::new();
    context.insert("target", &target);
    let text = templates.render(name, &context)?;
    let text = text.trim();
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

/// The initial down migration's changes: the way back to an empty
/// database, less what may have existed before the up ran, which the up
/// cannot tell it made (`IF NOT EXISTS`) and so the down never removes.
/// That is every extension (Supabase provides pgcrypto, uuid-ossp,
/// vector, …) and every stub table (a table the documents only name, such
/// as a Supabase project's `profiles`).
pub(crate) fn initial_down(changes: &[Change], realized: &Schema) -> Vec<Change> {
    changes
        .iter()
        .filter(|change| match change {
            Change::DropExtension { .. } => false,
            Change::DropTable { table } => !realized.tables.get(table).is_some_and(|t| t.stub),
            _ => true,
        })
        .cloned()
        .collect()
}

/// The title of `sql/schema.sql`'s script.
pub const SCHEMA_TITLE: &str = "Complete schema for a fresh database";

/// The script from an empty database to `realized`, titled `title`, with
/// a summary of its changes, which are dropped once rendered.
pub(crate) fn initial_script(
    realized: &Realized,
    title: &str,
    target: Target,
    templates: &Templates,
) -> Result<(String, ChangeSummary), TemplateError> {
    let changes = diff(&Schema::default(), realized);
    let text = render_script(
        &Script {
            title,
            changes: &changes,
            hazards: &[],
            prelude: prelude(target, templates, Direction::Up)?,
            epilogue: None,
        },
        templates,
    )?;
    Ok((text, ChangeSummary::of(changes)))
}

/// How many changes a script makes, and the first few of them, for
/// messages: a script from an empty database has a hundred thousand
/// changes at ten thousand tables, too many to keep for a count.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeSummary {
    pub count: usize,
    /// The first [`ChangeSummary::FIRST`] changes, in script order.
    pub first: Vec<Change>,
}

impl ChangeSummary {
    /// How many changes messages list before "and N more".
    pub const FIRST: usize = 5;

    pub fn of(mut changes: Vec<Change>) -> ChangeSummary {
        let count = changes.len();
        changes.truncate(Self::FIRST);
        changes.shrink_to_fit();
        ChangeSummary {
            count,
            first: changes,
        }
    }
}

/// A script rendered under `from` with the title `to` instead, when the
/// script template is the embedded one (whose first line is `-- <title>`
/// and which prints the title nowhere else).
pub(crate) fn retitle(script: &str, from: &str, to: &str, templates: &Templates) -> Option<String> {
    if !templates.is_embedded("migration.sql.tera") {
        return None;
    }
    let rest = script.strip_prefix("-- ")?.strip_prefix(from)?;
    rest.starts_with('\n').then(|| format!("-- {to}{rest}"))
}

/// Where the complete DDL is written, relative to the output directory.
pub const SCHEMA_PATH: &str = "sql/schema.sql";

fn in_transaction(body: &str) -> String {
    format!("BEGIN;\n\n{body}\nCOMMIT;\n")
}

/// `sql/schema.sql`: the complete DDL for a fresh database, as one
/// transaction, from the project's realised schema.
pub fn emit(context: &EmitContext<'_>, sink: &mut dyn OutputSink) -> Result<(), EmitError> {
    sink.file(OutputFile::new(
        SCHEMA_PATH,
        in_transaction(context.initial_script()?),
    ))
}

/// Which destructive steps a repair script may include.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DestructiveSteps {
    /// Printed commented out, for a person to decide.
    CommentedOut,
    /// Printed as SQL.
    Included,
}

/// One step of `gen diff`'s script.
#[derive(Serialize)]
struct DiffStep<'a> {
    change: &'a Change,
    /// Destructive and not allowed: printed commented out.
    left_out: bool,
    description: String,
}

/// A repair script, and how many of its steps were commented out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffScript {
    pub text: String,
    pub left_out: usize,
}

/// `gen diff`'s script through `diff.sql.tera`: the changes that bring a
/// live database to the documents.
pub fn diff_script(
    changes: &[Change],
    destructive: DestructiveSteps,
    templates: &Templates,
) -> Result<DiffScript, TemplateError> {
    let steps: Vec<DiffStep> = changes
        .iter()
        .map(|change| DiffStep {
            change,
            left_out: change.is_destructive() && destructive == DestructiveSteps::CommentedOut,
            description: change.describe(),
        })
        .collect();
    let left_out = steps.iter().filter(|s| s.left_out).count();
    let mut context = tera::Context::new();
    context.insert("steps", &steps);
    context.insert("destructive_left_out", &left_out);
    let mut text = templates.render("diff.sql.tera", &context)?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(DiffScript { text, left_out })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::Project;

    /// A replacement script template written against the changes, as the
    /// embedded one was before it printed `statements`.
    const BY_CHANGES: &str = r#"{%- import "ddl.sql.tera" as ddl -%}
-- {{ title }}
-- Generated by schemagen from the documentation; do not edit.
-- Change the documents and run `gen migrations` instead.
{%- if prelude %}

{{ prelude }}
{%- endif %}
{%- for change in changes %}

{{ ddl::change(c=change) }}
{%- endfor %}
{%- if epilogue %}

{{ epilogue }}
{%- endif %}
"#;

    #[test]
    fn a_replacement_script_template_gets_the_changes_and_statements_match_them() {
        let doc = "## Shop\n\n```sql\nCREATE TABLE stores (\n  id UUID PRIMARY KEY,\n  name TEXT NOT NULL,\n  owner_id UUID REFERENCES owners(id)\n);\nCREATE INDEX stores_name ON stores (name);\n```\n\n```sql\nCREATE TABLE owners (\n  id UUID PRIMARY KEY\n);\n```\n";
        let project = Project::from_text("doc.md", doc, &Default::default());
        let changes = diff(&Schema::default(), project.realized());
        // Enough changes to be rendered on several threads.
        let many: Vec<Change> = changes.iter().cycle().take(600).cloned().collect();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("migration.sql.tera"), BY_CHANGES).unwrap();
        let replaced = Templates::load(Some(dir.path())).unwrap();
        let embedded = Templates::load(None).unwrap();
        for changes in [&changes, &many] {
            let script = Script {
                title: "t",
                changes,
                hazards: &[],
                prelude: prelude(Target::Postgres, &embedded, Direction::Up).unwrap(),
                epilogue: Some("-- the end".to_owned()),
            };
            assert_eq!(
                render_script(&script, &replaced).unwrap(),
                render_script(&script, &embedded).unwrap()
            );
        }
    }
}
