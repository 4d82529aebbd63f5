//! SQL rendering: a list of changes becomes a script through the
//! `migration.sql.tera` template. `gen sql` renders the diff from an empty
//! database, wrapped in one transaction; migrations use the same renderer.
//! The script from an empty database is both `sql/schema.sql` and the first
//! migration, under different titles; with the embedded template, where the
//! title is the first line and nothing else, `gen all` renders it once
//! ([`EmitContext::initial_script`]) and changes the title line.

use super::{EmitContext, EmitOptions, OutputFile, TemplateError, Templates};
use crate::config::Target;
use crate::diff::{Change, diff};
use crate::model::Schema;
use crate::model::physical::realize;

/// What a rendered script contains besides the changes.
pub struct Script<'a> {
    pub title: &'a str,
    pub changes: &'a [Change],
    /// SQL placed before the changes (the Supabase prelude going up).
    pub prelude: Option<String>,
    /// SQL placed after the changes (the prelude's removal going down).
    pub epilogue: Option<String>,
}

pub fn render_script(script: &Script<'_>, templates: &Templates) -> Result<String, TemplateError> {
    let mut context = tera::Context::new();
    context.insert("title", script.title);
    context.insert("changes", script.changes);
    context.insert("prelude", &script.prelude);
    context.insert("epilogue", &script.epilogue);
    let mut out = templates.render("migration.sql.tera", &context)?;
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// The Supabase baseline, for `target: postgres`.
pub fn prelude(
    target: Target,
    templates: &Templates,
    up: bool,
) -> Result<Option<String>, TemplateError> {
    if target != Target::Postgres {
        return Ok(None);
    }
    let name = if up {
        "prelude.up.sql.tera"
    } else {
        "prelude.down.sql.tera"
    };
    Ok(Some(
        templates
            .render(name, &tera::Context::new())?
            .trim_end()
            .to_owned(),
    ))
}

/// The title of `sql/schema.sql`'s script.
pub const SCHEMA_TITLE: &str = "Complete schema for a fresh database";

/// The script from an empty database to `realized`, titled `title`.
pub(crate) fn initial_script(
    realized: &Schema,
    title: &str,
    options: &EmitOptions,
    templates: &Templates,
) -> Result<String, TemplateError> {
    let changes = diff(&Schema::default(), realized);
    render_script(
        &Script {
            title,
            changes: &changes,
            prelude: prelude(options.target, templates, true)?,
            epilogue: None,
        },
        templates,
    )
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

/// The complete DDL for a fresh database, as one transaction.
pub fn full_ddl(
    schema: &Schema,
    options: &EmitOptions,
    templates: &Templates,
) -> Result<String, TemplateError> {
    let (realized, _) = realize(schema, &options.realize);
    full_ddl_realized(&realized, options, templates)
}

/// [`full_ddl`] of a schema already realised.
pub fn full_ddl_realized(
    realized: &Schema,
    options: &EmitOptions,
    templates: &Templates,
) -> Result<String, TemplateError> {
    let body = initial_script(realized, SCHEMA_TITLE, options, templates)?;
    Ok(in_transaction(&body))
}

fn in_transaction(body: &str) -> String {
    format!("BEGIN;\n\n{body}\nCOMMIT;\n")
}

pub fn emit(
    schema: &Schema,
    options: &EmitOptions,
    templates: &Templates,
) -> Result<Vec<OutputFile>, TemplateError> {
    emit_realized(&EmitContext::new(schema, options, templates))
}

/// `sql/schema.sql` from the context's realised schema.
pub fn emit_realized(context: &EmitContext<'_>) -> Result<Vec<OutputFile>, TemplateError> {
    Ok(vec![OutputFile::new(
        "sql/schema.sql",
        in_transaction(context.initial_script()?),
    )])
}
