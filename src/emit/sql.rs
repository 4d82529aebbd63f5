//! SQL rendering: a list of changes becomes a script through the
//! `migration.sql.tera` template. `gen sql` renders the diff from an empty
//! database, wrapped in one transaction; migrations use the same renderer.

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
    let changes = diff(&Schema::default(), realized);
    let body = render_script(
        &Script {
            title: "Complete schema for a fresh database",
            changes: &changes,
            prelude: prelude(options.target, templates, true)?,
            epilogue: None,
        },
        templates,
    )?;
    Ok(format!("BEGIN;\n\n{body}\nCOMMIT;\n"))
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
        full_ddl_realized(context.realized(), context.options, context.templates)?,
    )])
}
