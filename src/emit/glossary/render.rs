//! Rendering the entries: JSON Lines by serde, Markdown and SQL through
//! the entry templates and the two whole-file templates.

use super::*;

/// One JSON object per line, sorted by kind then name.
pub fn render_jsonl(glossary: &Glossary) -> Result<String, EmitError> {
    let mut out = Vec::new();
    write_jsonl(glossary, &mut out)?;
    String::from_utf8(out).map_err(|e| EmitError::Serialize {
        what: "glossary/glossary.jsonl".to_owned(),
        message: e.to_string(),
    })
}

pub(super) fn write_jsonl(
    glossary: &Glossary,
    out: &mut dyn std::io::Write,
) -> Result<(), EmitError> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(out);
    for entry in &glossary.entries {
        serde_json::to_writer(&mut out, entry).map_err(|e| EmitError::Serialize {
            what: format!("glossary entry {}", entry.title()),
            message: e.to_string(),
        })?;
        out.write_all(b"\n").map_err(write_error)?;
    }
    out.flush().map_err(write_error)
}

fn write_error(source: std::io::Error) -> EmitError {
    EmitError::Write {
        path: "glossary/glossary.jsonl".to_owned(),
        source,
    }
}

/// What the entry templates see of an entry, as top-level variables: its
/// JSONL keys and what the templates compute from them. The keys are spelt
/// out rather than flattened from `Entry`, which serde serialises through a
/// slower path, and they are not under one name (`e.name`) because tera
/// walks a dotted path with several allocations per lookup.
#[derive(Serialize)]
struct EntryView<'a> {
    kind: EntryKind,
    name: &'a str,
    definition: &'a Option<String>,
    types: &'a [TypeUse],
    tables: &'a [TableRef],
    enum_values: &'a [ValueSet],
    notes: &'a [Note],
    sources: &'a [String],
    content_hash: &'a str,
    title: String,
    anchor: String,
    tags: Vec<String>,
    /// The tag holding the content hash, which the SQL compares.
    hash_tag: String,
    conventions: Vec<&'a Note>,
    inconsistencies: Vec<&'a Note>,
    info: Vec<&'a Note>,
}

impl<'a> EntryView<'a> {
    fn new(entry: &'a Entry) -> EntryView<'a> {
        let by = |category| {
            entry
                .content
                .notes
                .iter()
                .filter(|n| n.category == category)
                .collect::<Vec<_>>()
        };
        let content = &entry.content;
        EntryView {
            kind: content.kind,
            name: &content.name,
            definition: &content.definition,
            types: &content.types,
            tables: &content.tables,
            enum_values: &content.enum_values,
            notes: &content.notes,
            sources: &content.sources,
            content_hash: &entry.content_hash,
            title: entry.title(),
            anchor: anchor(entry.content.kind, &entry.content.name),
            tags: tags(entry),
            hash_tag: format!("{HASH_TAG}{}", entry.content_hash),
            conventions: by(NoteCategory::Convention),
            inconsistencies: by(NoteCategory::Inconsistency),
            info: by(NoteCategory::Info),
        }
    }
}

/// `field-user_id`: lowercase letters, digits, `_` and `-` only, so the
/// anchor is the same in every Markdown renderer.
pub(super) fn anchor(kind: EntryKind, name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("{kind}-{slug}")
}

/// The row's tags: kind, key, modules, whether it needs attention, and the
/// content hash that decides whether the row is updated.
fn tags(entry: &Entry) -> Vec<String> {
    let mut tags = vec![format!("kind:{}", entry.content.kind), entry.title()];
    let modules: BTreeSet<&str> = entry
        .content
        .tables
        .iter()
        .filter_map(|t| match t {
            TableRef::Column(c) => c.module.as_deref(),
            TableRef::Table(f) if f.table == entry.content.name => f.module.as_deref(),
            TableRef::Table(_) => None,
        })
        .collect();
    tags.extend(modules.into_iter().map(|m| format!("module:{m}")));
    if entry.inconsistencies().next().is_some() {
        tags.push("inconsistent".to_owned());
    }
    tags.push(format!("{HASH_TAG}{}", entry.content_hash));
    tags
}

/// The templates that render one entry, each on its own.
const ENTRY_MARKDOWN: &str = "glossary-entry.md.tera";
const ENTRY_SQL: &str = "glossary-entry.sql.tera";

/// Which renderings of each entry [`render_entries`] makes.
pub(super) struct EntryRenderings {
    /// Through `glossary-entry.md.tera`.
    pub(super) markdown: bool,
    /// Through `glossary-entry.sql.tera`.
    pub(super) sql: bool,
}

/// Every entry's Markdown sections, in entry order, fields then tables.
#[derive(Default)]
pub(super) struct Sections {
    pub(super) fields: Vec<String>,
    pub(super) tables: Vec<String>,
}

/// The entries as the entry templates render them.
#[derive(Default)]
pub(super) struct RenderedEntries {
    pub(super) sections: Sections,
    /// One `VALUES` row per entry, in entry order.
    pub(super) rows: Vec<String>,
}

/// Renders each entry on its own, both renderings from one template
/// context, so that only one entry is ever held as template values: as
/// values, the entries of ten thousand tables took about 100 MB per
/// rendering, where the rendered text takes half that for both.
pub(super) fn render_entries(
    glossary: &Glossary,
    templates: &Templates,
    wanted: &EntryRenderings,
) -> Result<RenderedEntries, EmitError> {
    let mut rendered = RenderedEntries::default();
    if wanted.sql {
        rendered.rows.reserve(glossary.entries.len());
    }
    for entry in &glossary.entries {
        // A struct always serialises to an object, which is a valid
        // context; the error is kept for the rule, not the case.
        let context = tera::Context::from_serialize(EntryView::new(entry))
            .map_err(crate::emit::templates::TemplateError::from)?;
        if wanted.markdown {
            let section = templates.render(ENTRY_MARKDOWN, &context)?;
            match entry.content.kind {
                EntryKind::Field => rendered.sections.fields.push(section),
                EntryKind::Table => rendered.sections.tables.push(section),
            }
        }
        if wanted.sql {
            rendered.rows.push(templates.render(ENTRY_SQL, &context)?);
        }
    }
    Ok(rendered)
}

pub fn render_markdown(glossary: &Glossary, templates: &Templates) -> Result<String, EmitError> {
    let rendered = render_entries(
        glossary,
        templates,
        &EntryRenderings {
            markdown: true,
            sql: false,
        },
    )?;
    let context = markdown_context(glossary, rendered.sections, templates);
    let mut out = templates.render("glossary.md.tera", &context)?;
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

pub(super) fn markdown_context(
    glossary: &Glossary,
    sections: Sections,
    templates: &Templates,
) -> tera::Context {
    let mut context = context_of_texts(vec![
        ("field_sections", sections.fields),
        ("table_sections", sections.tables),
    ]);
    let anchored = |entry: &Entry| {
        (
            entry.content.name.clone(),
            anchor(entry.content.kind, &entry.content.name),
        )
    };
    context.insert(
        "inconsistent_fields",
        &glossary
            .fields()
            .filter(|f| f.inconsistencies().next().is_some())
            .map(anchored)
            .collect::<Vec<_>>(),
    );
    context.insert(
        "clustered_tables",
        &glossary
            .tables()
            .filter(|t| t.content.tables.len() > 1)
            .map(anchored)
            .collect::<Vec<_>>(),
    );
    // The embedded template prints the sections; a replacement may want
    // the entries, which are template values only then (see above).
    if !templates.is_embedded("glossary.md.tera") {
        context.insert(
            "fields",
            &glossary.fields().map(EntryView::new).collect::<Vec<_>>(),
        );
        context.insert(
            "tables",
            &glossary.tables().map(EntryView::new).collect::<Vec<_>>(),
        );
    }
    context
}

/// The upsert script for `javari_knowledge`: entries are staged in a
/// temporary table, rows whose hash tag differs are updated (version + 1),
/// missing rows are inserted, and rows of entries that are gone are
/// deactivated. The hash covers the entry, not the row text the template
/// renders from it, so a template change alone does not rewrite rows.
pub fn render_sql(
    glossary: &Glossary,
    schema: &Schema,
    options: &GlossaryOptions,
    templates: &Templates,
) -> Result<String, EmitError> {
    check_knowledge_table(schema)?;
    let rendered = render_entries(
        glossary,
        templates,
        &EntryRenderings {
            markdown: false,
            sql: true,
        },
    )?;
    let context = sql_context(glossary, rendered.rows, options, templates);
    let mut out = templates.render("glossary.sql.tera", &context)?;
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// Fails when the documents define the knowledge table without the
/// columns the script writes.
pub(super) fn check_knowledge_table(schema: &Schema) -> Result<(), EmitError> {
    if let Some(table) = schema.tables.get(KNOWLEDGE_TABLE)
        && table.is_documented()
    {
        let missing: Vec<&str> = KNOWLEDGE_COLUMNS
            .iter()
            .copied()
            .filter(|c| table.column(c).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(EmitError::Serialize {
                what: "glossary/glossary.sql".to_owned(),
                message: format!(
                    "the documented `{KNOWLEDGE_TABLE}` table has no column {}",
                    missing.join(", ")
                ),
            });
        }
    }
    Ok(())
}

/// What `glossary.sql.tera` reads.
pub(super) fn sql_context(
    glossary: &Glossary,
    rows: Vec<String>,
    options: &GlossaryOptions,
    templates: &Templates,
) -> tera::Context {
    let mut context = context_of_texts(vec![("rows", rows)]);
    context.insert("table", KNOWLEDGE_TABLE);
    context.insert("category", &options.category);
    context.insert("source", KNOWLEDGE_SOURCE);
    if !templates.is_embedded("glossary.sql.tera") {
        context.insert(
            "entries",
            &glossary
                .entries
                .iter()
                .map(EntryView::new)
                .collect::<Vec<_>>(),
        );
    }
    context
}
