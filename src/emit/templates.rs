//! Tera templates: embedded in the binary, overridable file by file with
//! `--templates DIR`. Everything that lands in SQL is escaped by the filters
//! registered here, never by hand in a template.
//!
//! Compiling a template costs tera about half a microsecond per byte, so
//! the embedded templates compile in groups, one per kind of output, the
//! first time one of a group's templates is rendered: a command compiles
//! only what it renders, and `gen all`'s jobs compile their own groups on
//! their own threads. Overrides are compiled all together when they are
//! loaded, so that a broken override is reported before anything runs and
//! an override may import any template.

use crate::model::PgType;
use crate::model::physical::{EXTENSION_SCHEMA, quote_identifier};
use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;
use tera::{Tera, Value};

/// The templates shipped with the binary: name, text, and the group it
/// compiles in.
const EMBEDDED: &[(&str, &str, Group)] = &[
    (
        "ddl.sql.tera",
        include_str!("../../templates/ddl.sql.tera"),
        Group::Sql,
    ),
    (
        "migration.sql.tera",
        include_str!("../../templates/migration.sql.tera"),
        Group::Sql,
    ),
    (
        "statement.sql.tera",
        include_str!("../../templates/statement.sql.tera"),
        Group::Sql,
    ),
    (
        "timeouts.sql.tera",
        include_str!("../../templates/timeouts.sql.tera"),
        Group::Sql,
    ),
    (
        "prelude.up.sql.tera",
        include_str!("../../templates/prelude.up.sql.tera"),
        Group::Sql,
    ),
    (
        "prelude.down.sql.tera",
        include_str!("../../templates/prelude.down.sql.tera"),
        Group::Sql,
    ),
    (
        "rls.sql.tera",
        include_str!("../../templates/rls.sql.tera"),
        Group::Sql,
    ),
    (
        "diff.sql.tera",
        include_str!("../../templates/diff.sql.tera"),
        Group::Sql,
    ),
    (
        "glossary.md.tera",
        include_str!("../../templates/glossary.md.tera"),
        Group::Glossary,
    ),
    (
        "glossary.sql.tera",
        include_str!("../../templates/glossary.sql.tera"),
        Group::Glossary,
    ),
    (
        "glossary-entry.md.tera",
        include_str!("../../templates/glossary-entry.md.tera"),
        Group::Glossary,
    ),
    (
        "glossary-entry.sql.tera",
        include_str!("../../templates/glossary-entry.sql.tera"),
        Group::Glossary,
    ),
    (
        "consolidation.md.tera",
        include_str!("../../templates/consolidation.md.tera"),
        Group::Consolidation,
    ),
    (
        "consolidation.sql.tera",
        include_str!("../../templates/consolidation.sql.tera"),
        Group::Consolidation,
    ),
    (
        "rust/Cargo.toml.tera",
        include_str!("../../templates/rust/Cargo.toml.tera"),
        Group::RustModels,
    ),
    (
        "rust/lib.rs.tera",
        include_str!("../../templates/rust/lib.rs.tera"),
        Group::RustModels,
    ),
    (
        "rust/module.rs.tera",
        include_str!("../../templates/rust/module.rs.tera"),
        Group::RustModels,
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read templates from {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("template error: {0}")]
    Tera(String),
}

impl From<tera::Error> for TemplateError {
    fn from(error: tera::Error) -> Self {
        // Tera keeps the useful part in the source chain.
        let mut message = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(inner) = source {
            message.push_str(": ");
            message.push_str(&inner.to_string());
            source = inner.source();
        }
        TemplateError::Tera(message)
    }
}

/// The kinds of output whose embedded templates compile together. A group
/// holds every template its templates import (`ddl.sql.tera`'s macros are
/// in the SQL group).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Sql,
    Glossary,
    Consolidation,
    RustModels,
}

impl Group {
    const COUNT: usize = 4;
}

pub struct Templates {
    /// With an override directory: every template, compiled at load.
    together: Option<Tera>,
    /// Without one: each [`Group`], by its number, compiled when first
    /// used. A failure is kept as its message, to be reported by every
    /// render that needs the group.
    groups: [OnceLock<Result<Tera, String>>; Group::COUNT],
    /// Names replaced from the override directory.
    overridden: std::collections::BTreeSet<String>,
}

impl Templates {
    /// The embedded templates, with any `*.tera` file in `override_dir`
    /// replacing the one of the same name (`rust/lib.rs.tera` in a `rust`
    /// subdirectory).
    pub fn load(override_dir: Option<&Path>) -> Result<Templates, TemplateError> {
        let Some(dir) = override_dir else {
            return Ok(Templates {
                together: None,
                groups: Default::default(),
                overridden: Default::default(),
            });
        };
        let mut overridden = std::collections::BTreeSet::new();
        let mut sources: Vec<(String, String)> = EMBEDDED
            .iter()
            .map(|(name, text, _)| ((*name).to_owned(), (*text).to_owned()))
            .collect();
        for (name, path) in template_files(dir, "")? {
            let text = std::fs::read_to_string(&path).map_err(|source| TemplateError::Read {
                path: path.display().to_string(),
                source,
            })?;
            sources.retain(|(n, _)| *n != name);
            overridden.insert(name.clone());
            sources.push((name, text));
        }
        Ok(Templates {
            together: Some(compile(sources)?),
            groups: Default::default(),
            overridden,
        })
    }

    /// The compiled templates that hold `name`, compiling its group first
    /// if this is the group's first use.
    fn tera_for(&self, name: &str) -> Result<&Tera, TemplateError> {
        if let Some(tera) = &self.together {
            return Ok(tera);
        }
        let Some(&(_, _, group)) = EMBEDDED.iter().find(|(embedded, _, _)| *embedded == name)
        else {
            return Err(TemplateError::Tera(format!(
                "there is no embedded template named {name}"
            )));
        };
        let sources = EMBEDDED
            .iter()
            .filter(|(_, _, of)| *of == group)
            .map(|(embedded, text, _)| (*embedded, *text));
        compile_once(&self.groups[group as usize], sources)
    }

    /// Whether `name` is the embedded template rather than an override.
    pub fn is_embedded(&self, name: &str) -> bool {
        EMBEDDED.iter().any(|(embedded, _, _)| *embedded == name) && !self.overridden.contains(name)
    }

    pub fn render(&self, name: &str, context: &tera::Context) -> Result<String, TemplateError> {
        let mut rendered = self.tera_for(name)?.render(name, context)?;
        // tera starts every rendering with room for 2,000 bytes; a schema's
        // statements are rendered one by one and kept, so that room, unused
        // by most statements, would cost 250 MB at 10,000 tables.
        rendered.shrink_to_fit();
        Ok(rendered)
    }

    /// Renders into a writer, for outputs too large to hold; with
    /// `Ending::Newline` the output ends with a newline, as the emitters'
    /// in-memory renderings do.
    pub(crate) fn render_to(
        &self,
        name: &str,
        context: &tera::Context,
        ending: super::Ending,
        write: &mut dyn std::io::Write,
    ) -> Result<(), TemplateError> {
        let mut tracked = LastByte {
            inner: write,
            last: None,
        };
        self.tera_for(name)?
            .render_to(name, context, &mut tracked)?;
        if ending == super::Ending::Newline && tracked.last != Some(b'\n') {
            tracked
                .inner
                .write_all(b"\n")
                .map_err(|e| TemplateError::Tera(e.to_string()))?;
        }
        Ok(())
    }
}

/// The templates in `cell`, compiled from `sources` if they are not yet.
/// A failure stays in the cell, so every later use reports it too.
fn compile_once(
    cell: &OnceLock<Result<Tera, String>>,
    sources: impl IntoIterator<Item = (&'static str, &'static str)>,
) -> Result<&Tera, TemplateError> {
    let compiled = cell.get_or_init(|| {
        // Kept as tera's message, so that the error rebuilt from it reads
        // as the original did ("template error: ..." once).
        compile(sources).map_err(|error| match error {
            TemplateError::Tera(message) => message,
            other => other.to_string(),
        })
    });
    compiled
        .as_ref()
        .map_err(|message| TemplateError::Tera(message.clone()))
}

/// Templates compiled together, with the SQL filters and no escaping.
fn compile<I, N, C>(sources: I) -> Result<Tera, TemplateError>
where
    I: IntoIterator<Item = (N, C)>,
    N: AsRef<str>,
    C: AsRef<str>,
{
    let mut tera = Tera::default();
    tera.add_raw_templates(sources)?;
    tera.autoescape_on(vec![]);
    register_filters(&mut tera);
    Ok(tera)
}

/// A writer that remembers the last byte written through it.
struct LastByte<'w> {
    inner: &'w mut dyn std::io::Write,
    last: Option<u8>,
}

impl std::io::Write for LastByte<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        if n > 0 {
            self.last = Some(buf[n - 1]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The `*.tera` files under `dir`, named by their path relative to it
/// (`rust/lib.rs.tera`), sorted.
fn template_files(
    dir: &Path,
    prefix: &str,
) -> Result<Vec<(String, std::path::PathBuf)>, TemplateError> {
    let read_error = |source| TemplateError::Read {
        path: dir.display().to_string(),
        source,
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(read_error)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    let mut out = Vec::new();
    for path in entries {
        let file_name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let name = format!("{prefix}{file_name}");
        if path.is_dir() {
            out.extend(template_files(&path, &format!("{name}/"))?);
        } else if path.extension().is_some_and(|e| e == "tera") {
            out.push((name, path));
        }
    }
    Ok(out)
}

fn string_arg<'a>(value: &'a Value, filter: &str) -> tera::Result<&'a str> {
    value
        .as_str()
        .ok_or_else(|| tera::Error::msg(format!("{filter} expects a string, got {value}")))
}

/// A template context holding lists of rendered text (statements, glossary
/// sections), moved into it rather than copied as `Context::insert` would:
/// together they are as large as the output.
pub(crate) fn context_of_texts(lists: Vec<(&str, Vec<String>)>) -> tera::Context {
    let values: serde_json::Map<String, Value> = lists
        .into_iter()
        .map(|(name, texts)| {
            let texts = texts.into_iter().map(Value::String).collect();
            (name.to_owned(), Value::Array(texts))
        })
        .collect();
    // An object is always a valid context, so this never falls back.
    tera::Context::from_value(Value::Object(values)).unwrap_or_default()
}

fn register_filters(tera: &mut Tera) {
    // Turns SQL into comments line by line, so that a step the user must
    // opt into is visible but never runs.
    tera.register_filter(
        "sql_comment_out",
        |v: &Value, _: &HashMap<String, Value>| {
            let text = string_arg(v, "sql_comment_out")?;
            let commented: Vec<String> = text.lines().map(|line| format!("-- {line}")).collect();
            Ok(Value::String(commented.join("\n")))
        },
    );
    tera.register_filter("sql_ident", |v: &Value, _: &HashMap<String, Value>| {
        Ok(Value::String(quote_identifier(string_arg(v, "sql_ident")?)))
    });
    tera.register_filter("sql_idents", |v: &Value, _: &HashMap<String, Value>| {
        let items = v
            .as_array()
            .ok_or_else(|| tera::Error::msg("sql_idents expects a list of names"))?;
        let quoted: tera::Result<Vec<String>> = items
            .iter()
            .map(|i| string_arg(i, "sql_idents").map(quote_identifier))
            .collect();
        Ok(Value::String(quoted?.join(", ")))
    });
    tera.register_filter("sql_literal", |v: &Value, _: &HashMap<String, Value>| {
        Ok(Value::String(match v {
            Value::Null => "NULL".to_owned(),
            Value::String(s) => quote_literal(s),
            other => quote_literal(&other.to_string()),
        }))
    });
    tera.register_filter("sql_table", |v: &Value, _: &HashMap<String, Value>| {
        let name = string_arg(v, "sql_table")?;
        Ok(Value::String(qualified(name, "public")))
    });
    tera.register_filter("sql_qualified", |v: &Value, _: &HashMap<String, Value>| {
        let name = string_arg(v, "sql_qualified")?;
        let parts: Vec<String> = name.split('.').map(quote_identifier).collect();
        Ok(Value::String(parts.join(".")))
    });
    tera.register_filter("sql_type", |v: &Value, _: &HashMap<String, Value>| {
        let ty = PgType::parse(string_arg(v, "sql_type")?);
        Ok(Value::String(type_sql(&ty)))
    });
    tera.register_filter("sql_types", |v: &Value, _: &HashMap<String, Value>| {
        let items = v
            .as_array()
            .ok_or_else(|| tera::Error::msg("sql_types expects a list of types"))?;
        let types: tera::Result<Vec<String>> = items
            .iter()
            .map(|i| string_arg(i, "sql_types").map(|t| type_sql(&PgType::parse(t))))
            .collect();
        Ok(Value::String(types?.join(", ")))
    });
    tera.register_filter(
        "sql_index_expression",
        |v: &Value, _: &HashMap<String, Value>| {
            let expression = string_arg(v, "sql_index_expression")?;
            // Plain column names are quoted; anything else came from a parsed
            // SQL block and is carried as sqlparser printed it.
            Ok(Value::String(
                if crate::model::validate_identifier(expression).is_ok() {
                    quote_identifier(expression)
                } else {
                    expression.to_owned()
                },
            ))
        },
    );
}

/// A type as SQL. Unknown types are carried as written only when they are
/// plain words; anything else is refused by quoting it, which PostgreSQL then
/// rejects loudly rather than executing it.
pub fn type_sql(ty: &PgType) -> String {
    match ty {
        PgType::Unknown(raw) => {
            let plain = raw.chars().all(|c| {
                c.is_ascii_alphanumeric()
                    || matches!(c, '_' | ' ' | '(' | ')' | ',' | '.' | '[' | ']')
            });
            if plain {
                raw.clone()
            } else {
                quote_identifier(raw)
            }
        }
        other => other.to_sql(Some(EXTENSION_SCHEMA)),
    }
}

/// `users` → `public.users`; `auth.users` → `auth.users`.
pub fn qualified(name: &str, default_schema: &str) -> String {
    match name.split_once('.') {
        Some((schema, table)) => {
            format!("{}.{}", quote_identifier(schema), quote_identifier(table))
        }
        None => format!(
            "{}.{}",
            quote_identifier(default_schema),
            quote_identifier(name)
        ),
    }
}

/// A SQL string literal; backslashes are plain characters in standard strings.
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_escape_what_they_are_given() {
        let mut tera = compile(EMBEDDED.iter().map(|(name, text, _)| (*name, *text))).unwrap();
        tera.add_raw_template(
            "t",
            "{{ a | sql_ident }} {{ b | sql_literal }} {{ c | sql_table }} {{ d | sql_type }} {{ e | sql_idents }}",
        )
        .unwrap();
        let mut context = tera::Context::new();
        context.insert("a", "x\"; DROP TABLE users; --");
        context.insert("b", "it's");
        context.insert("c", "auth.users");
        context.insert("d", "vector(3)");
        context.insert("e", &["id", "user"]);
        assert_eq!(
            tera.render("t", &context).unwrap(),
            "\"x\"\"; DROP TABLE users; --\" 'it''s' auth.users extensions.vector(3) id, \"user\""
        );
    }

    #[test]
    fn every_embedded_template_is_in_one_group_that_compiles_on_its_own() {
        for (name, _, _) in EMBEDDED {
            let entries = EMBEDDED.iter().filter(|(n, _, _)| n == name).count();
            assert_eq!(entries, 1, "{name} is embedded {entries} times");
        }
        let groups: std::collections::BTreeSet<usize> =
            EMBEDDED.iter().map(|(_, _, g)| *g as usize).collect();
        assert_eq!(groups.len(), Group::COUNT, "{groups:?}");
        let templates = Templates::load(None).unwrap();
        for (name, _, _) in EMBEDDED {
            // Each group compiles alone the first time one of its templates
            // is asked for, so a missing import would fail here.
            templates.tera_for(name).unwrap();
        }
        let error = templates.tera_for("nonexistent.tera").err().unwrap();
        assert!(error.to_string().contains("nonexistent.tera"), "{error}");
    }

    #[test]
    fn a_group_that_fails_to_compile_reports_it_on_every_use() {
        let cell = OnceLock::new();
        let broken = [("broken.sql.tera", "{% if %}")];
        for _ in 0..2 {
            let message = compile_once(&cell, broken).err().unwrap().to_string();
            assert!(message.contains("broken.sql.tera"), "{message}");
            assert_eq!(message.matches("template error").count(), 1, "{message}");
        }
        let cell = OnceLock::new();
        let fine = compile_once(&cell, [("fine.tera", "{{ 1 + 1 }}")]).unwrap();
        assert_eq!(
            fine.render("fine.tera", &tera::Context::new()).unwrap(),
            "2"
        );
    }

    #[test]
    fn a_broken_override_is_reported_when_loaded() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("glossary.md.tera"), "{% if %}").unwrap();
        let error = Templates::load(Some(dir.path())).err().unwrap();
        assert!(error.to_string().contains("glossary.md.tera"), "{error}");
    }

    #[test]
    fn a_template_directory_overrides_by_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("migration.sql.tera"), "custom {{ title }}").unwrap();
        let templates = Templates::load(Some(dir.path())).unwrap();
        let mut context = tera::Context::new();
        context.insert("title", "x");
        assert_eq!(
            templates.render("migration.sql.tera", &context).unwrap(),
            "custom x"
        );
    }
}
