//! The glossary for the Javari assistant (`gen glossary`, issue #8): one entry
//! per field name and one per table, built from the Field Glossary sections
//! and every documented column, with the types, tables, values, conventions
//! and inconsistencies the documents hold. It is written three ways:
//! `glossary.md` for people, `glossary.jsonl` for machines (one object per
//! line, each with a SHA-256 `content_hash`), and `glossary.sql`, which
//! upserts every entry into the `javari_knowledge` table so that Javari can
//! answer questions about the schema. Everything is sorted, so unchanged
//! documents give byte-identical output, and the SQL only touches a row when
//! its entry's hash changed.
//!
//! Inconsistencies are found by rule, never from a list of answers: base
//! types that differ across tables (`PgType::base`, so `varchar`/`text` and
//! `decimal`/`numeric` agree), FK targets that differ, descriptions whose
//! meaning words do not overlap, value sets that differ, and near-synonyms
//! (a name extended by a trailing participle, as `model`/`model_used`, or
//! two names from one of the small time-field synonym groups below).

use super::templates::context_of_texts;
use super::{EmitContext, EmitError, Ending, OutputSink, TemplateOutput, Templates, render_into};
use crate::model::inflect::singular;
use crate::model::{Column, Documentation, MentionKind, PgType, Schema, Source, Table};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// The table the SQL output writes to.
pub const KNOWLEDGE_TABLE: &str = "javari_knowledge";

/// The `source` value of every row the SQL output writes. Rows are keyed on
/// category, source and title, so hand-written knowledge in the same
/// category is never updated or retired by a glossary run.
pub const KNOWLEDGE_SOURCE: &str = "schema-docs";

/// The `category` used when nothing is configured.
pub const DEFAULT_CATEGORY: &str = crate::settings::DEFAULT_GLOSSARY_CATEGORY;

/// Columns of `javari_knowledge` the SQL output writes or matches on. When
/// the documents describe the table without one of them, emitting fails
/// rather than writing SQL that cannot run.
const KNOWLEDGE_COLUMNS: &[&str] = &[
    "category",
    "subcategory",
    "title",
    "content",
    "tags",
    "source",
    "version",
    "is_active",
    "updated_at",
];

/// Prefix of the tag that stores an entry's content hash in its row.
const HASH_TAG: &str = "content_hash:";

/// Prefixes the documents' naming conventions reserve for booleans
/// (`Boolean prefix: is_, has_, can_`); `lint` checks the same rule.
const BOOLEAN_PREFIXES: &[&str] = &["is_", "has_", "can_"];

/// The suffix the naming conventions reserve for foreign keys.
const FK_SUFFIX: &str = "_id";

/// Tokens that mark a naming convention rather than a meaning; a name
/// extended by one of them is a different kind of field (`viewed` is a
/// boolean, `viewed_at` a time), never a near-synonym.
const CONVENTION_TOKENS: &[&str] = &["id", "at", "is", "has", "can", "by"];

/// Small synonym groups for time fields: names that, by common usage, all
/// mean "when the row was recorded" or "when the row last changed". Two
/// names from one group, both used as timestamps, are near-synonyms. This
/// is vocabulary, not a list of findings: a group only matters when the
/// documents use two of its names.
const TIME_SYNONYM_GROUPS: &[&[&str]] = &[
    &[
        "created_at",
        "created",
        "created_on",
        "creation_time",
        "inserted_at",
        "logged_at",
        "recorded_at",
        "timestamp",
    ],
    &[
        "updated_at",
        "last_modified",
        "last_updated",
        "modified",
        "modified_at",
        "updated",
        "updated_on",
    ],
];

/// Words that carry no meaning when comparing two descriptions: function
/// words, and words that say what kind of column it is ("Active flag",
/// "Status enum", "FK to projects") rather than what it means.
const STOPWORDS: &[&str] = &[
    "a", "an", "and", "as", "by", "column", "enum", "field", "fk", "flag", "for", "in", "of", "on",
    "or", "record", "the", "to", "value", "with",
];

pub use crate::settings::GlossaryOptions;

/// Whether an entry describes a field name or a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    Field,
    Table,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Field => "field",
            EntryKind::Table => "table",
        }
    }
}

impl std::fmt::Display for EntryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One type a field is declared with, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypeUse {
    /// Canonical PostgreSQL spelling (`character varying`, `numeric(10,2)`).
    #[serde(rename = "type")]
    pub ty: String,
    /// The type family (`PgType::base`): `text` for varchar and text.
    pub base: String,
    /// Documented tables whose column has this type.
    pub tables: Vec<String>,
    /// Whether the Field Glossary declares this type.
    pub glossary: bool,
}

/// One documented column: a field name as used in one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnUse {
    pub table: String,
    pub module: Option<String>,
    #[serde(rename = "type")]
    pub ty: String,
    pub nullable: bool,
    pub description: Option<String>,
    pub source: String,
}

/// What the documents say about a table, as listed in a table entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableFacts {
    pub table: String,
    pub module: Option<String>,
    /// `full` when its columns are documented, `name-only` otherwise.
    pub documentation: Documentation,
    /// Number of documented columns.
    pub columns: usize,
    pub apps: Vec<String>,
    pub purpose: Option<String>,
}

/// An item of an entry's `tables`: a column for field entries; for table
/// entries, the table itself first, then the other members of its declared
/// duplicates cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum TableRef {
    Column(ColumnUse),
    Table(TableFacts),
}

/// Where a set of allowed or documented values comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueOrigin {
    /// Listed in a column description (`active/pending/sold`).
    Documented,
    /// A named enum (`## Property Status Values`).
    Enum,
    /// A CHECK constraint's `IN (…)` list: enforced.
    Check,
    /// The Field Glossary's Values column.
    Glossary,
}

/// One set of values a field takes, and the tables that say so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValueSet {
    pub origin: ValueOrigin,
    /// The named enum, for `origin: enum`.
    #[serde(rename = "enum")]
    pub enum_name: Option<String>,
    pub values: Vec<String>,
    pub tables: Vec<String>,
}

/// What a note is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoteKind {
    /// An `is_`/`has_`/`can_` name: a boolean by convention.
    BooleanPrefix,
    /// An `_id` name: a reference by convention.
    IdSuffix,
    /// The FK target of the field, with the tables that declare it.
    ForeignKey,
    /// A use that breaks the naming conventions.
    ConventionBreak,
    /// An `_id` field with no FK in some tables.
    NoForeignKey,
    /// The base type differs across tables.
    TypeMismatch,
    /// The Field Glossary's type differs from every table's.
    GlossaryTypeMismatch,
    /// Tables reference different targets through the same field name.
    ForeignKeyMismatch,
    /// Descriptions that share no meaning word.
    DescriptionMismatch,
    /// Tables list different value sets for the field.
    ValueMismatch,
    /// Another field name that means the same.
    NearSynonym,
    /// The Field Glossary defines the field but no documented table has it.
    GlossaryOnly,
    /// How a table is documented.
    Documentation,
    /// A table's heading claims a different column count.
    ColumnCount,
    /// A table documented in more than one place.
    MultipleDefinitions,
    /// Rows that stand for columns mirrored from another table.
    Mirror,
    /// A table in a declared duplicates cluster.
    DuplicateCluster,
}

/// How a note is presented: conventions and facts, or inconsistencies that
/// someone should resolve in the documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NoteCategory {
    Convention,
    Inconsistency,
    Info,
}

impl NoteKind {
    pub fn category(self) -> NoteCategory {
        match self {
            NoteKind::BooleanPrefix
            | NoteKind::IdSuffix
            | NoteKind::ForeignKey
            | NoteKind::ConventionBreak
            | NoteKind::NoForeignKey => NoteCategory::Convention,
            NoteKind::TypeMismatch
            | NoteKind::GlossaryTypeMismatch
            | NoteKind::ForeignKeyMismatch
            | NoteKind::DescriptionMismatch
            | NoteKind::ValueMismatch
            | NoteKind::NearSynonym
            | NoteKind::DuplicateCluster => NoteCategory::Inconsistency,
            NoteKind::GlossaryOnly
            | NoteKind::Documentation
            | NoteKind::ColumnCount
            | NoteKind::MultipleDefinitions
            | NoteKind::Mirror => NoteCategory::Info,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub category: NoteCategory,
    pub kind: NoteKind,
    pub text: String,
    /// Other field or table names the note is about.
    pub related: Vec<String>,
}

impl Note {
    fn new(kind: NoteKind, text: impl Into<String>) -> Note {
        Note {
            category: kind.category(),
            kind,
            text: text.into(),
            related: Vec::new(),
        }
    }

    fn related(mut self, names: impl IntoIterator<Item = String>) -> Note {
        self.related = names.into_iter().collect();
        self
    }
}

/// Everything an entry says: the part its content hash covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryContent {
    pub kind: EntryKind,
    pub name: String,
    pub definition: Option<String>,
    pub types: Vec<TypeUse>,
    pub tables: Vec<TableRef>,
    pub enum_values: Vec<ValueSet>,
    pub notes: Vec<Note>,
    /// `file:line` of every place the entry's facts were written.
    pub sources: Vec<String>,
}

/// A glossary entry: its content and the SHA-256 of that content. The JSONL
/// keys are exactly `kind, name, definition, types, tables, enum_values,
/// notes, sources, content_hash`, in that order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    #[serde(flatten)]
    pub content: EntryContent,
    pub content_hash: String,
}

impl Entry {
    fn new(content: EntryContent) -> Result<Entry, EmitError> {
        let content_hash = content_hash(&content)?;
        Ok(Entry {
            content,
            content_hash,
        })
    }

    /// `field:user_id`, `table:users`: the key of the entry's row.
    pub fn title(&self) -> String {
        format!("{}:{}", self.content.kind, self.content.name)
    }

    pub fn inconsistencies(&self) -> impl Iterator<Item = &Note> {
        self.content
            .notes
            .iter()
            .filter(|n| n.category == NoteCategory::Inconsistency)
    }
}

/// SHA-256 (hex) of the entry's content as compact JSON.
pub fn content_hash(content: &EntryContent) -> Result<String, EmitError> {
    // The JSON goes straight into the hash, and the digest is spelt into
    // one string: an entry's JSON can be long (`id` is in every table), and
    // this runs once per entry.
    let mut hasher = HashingWriter(Sha256::new());
    serde_json::to_writer(&mut hasher, content).map_err(|e| EmitError::Serialize {
        what: format!("glossary entry {}:{}", content.kind, content.name),
        message: e.to_string(),
    })?;
    let digest = hasher.0.finalize();
    let mut hex = String::with_capacity(2 * digest.len());
    for byte in digest.iter() {
        use std::fmt::Write;
        let _ = write!(hex, "{byte:02x}");
    }
    Ok(hex)
}

/// Feeds what serde_json writes to a SHA-256 hasher.
struct HashingWriter(Sha256);

impl std::io::Write for HashingWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// All entries, sorted by kind then name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glossary {
    pub entries: Vec<Entry>,
}

impl Glossary {
    pub fn fields(&self) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(|e| e.content.kind == EntryKind::Field)
    }

    pub fn tables(&self) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(|e| e.content.kind == EntryKind::Table)
    }

    pub fn get(&self, kind: EntryKind, name: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.content.kind == kind && e.content.name == name)
    }
}

/// The three files with the default options. The CLI passes the
/// configuration's `glossary:` section to `emit_with` (see `emit::EmitInputs`).
/// The glossary for people.
pub const MARKDOWN: &str = "glossary/glossary.md";
/// One JSON object per entry, for Javari's retrieval.
pub const JSONL: &str = "glossary/glossary.jsonl";
/// The entries as rows of `javari_knowledge`.
pub const SQL: &str = "glossary/glossary.sql";

/// The three files, each written into the sink as it is rendered: for ten
/// thousand tables they are a hundred megabytes.
pub fn emit(context: &EmitContext<'_>, sink: &mut dyn OutputSink) -> Result<(), EmitError> {
    let documented = context.documented();
    let options = &context.settings().glossary;
    let glossary = build(documented)?;
    check_knowledge_table(documented)?;
    let rendered = render_entries(
        &glossary,
        context.templates,
        &EntryRenderings {
            markdown: true,
            sql: true,
        },
    )?;
    render_into(
        sink,
        context.templates,
        TemplateOutput {
            path: MARKDOWN,
            template: "glossary.md.tera",
            ending: Ending::Newline,
        },
        &markdown_context(&glossary, rendered.sections, context.templates),
    )?;
    sink.stream(&[JSONL], &mut |writers| {
        write_jsonl(&glossary, &mut *writers[0])
    })?;
    render_into(
        sink,
        context.templates,
        TemplateOutput {
            path: SQL,
            template: "glossary.sql.tera",
            ending: Ending::Newline,
        },
        &sql_context(&glossary, rendered.rows, options, context.templates),
    )
}

mod build;
mod render;
#[cfg(test)]
mod tests;

pub use build::build;
use render::{
    EntryRenderings, check_knowledge_table, markdown_context, render_entries, sql_context,
    write_jsonl,
};
pub use render::{render_jsonl, render_markdown, render_sql};
