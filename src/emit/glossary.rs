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
use super::{EmitContext, EmitError, Ending, OutputFile, OutputSink, Templates, render_into};
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
pub const DEFAULT_CATEGORY: &str = "schema_glossary";

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

/// What the glossary emitter can be configured with (the `glossary:`
/// section of schema/gen.yaml).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GlossaryOptions {
    /// The `javari_knowledge.category` of every row the SQL writes.
    pub category: String,
}

impl Default for GlossaryOptions {
    fn default() -> Self {
        GlossaryOptions {
            category: DEFAULT_CATEGORY.to_owned(),
        }
    }
}

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
pub fn emit(context: &EmitContext<'_>) -> Result<Vec<OutputFile>, EmitError> {
    emit_with(context, &GlossaryOptions::default())
}

/// The three files, with explicit options.
pub fn emit_with(
    context: &EmitContext<'_>,
    options: &GlossaryOptions,
) -> Result<Vec<OutputFile>, EmitError> {
    let mut files = Vec::new();
    emit_into(context, options, &mut files)?;
    Ok(files)
}

/// The three files, each written into the sink as it is rendered: for ten
/// thousand tables they are a hundred megabytes.
pub fn emit_into(
    context: &EmitContext<'_>,
    options: &GlossaryOptions,
    sink: &mut dyn OutputSink,
) -> Result<(), EmitError> {
    let glossary = build(context.schema)?;
    check_knowledge_table(context.schema)?;
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
        "glossary/glossary.md",
        context.templates,
        "glossary.md.tera",
        &markdown_context(&glossary, rendered.sections, context.templates),
        Ending::Newline,
    )?;
    sink.stream(&["glossary/glossary.jsonl"], &mut |writers| {
        write_jsonl(&glossary, &mut *writers[0])
    })?;
    render_into(
        sink,
        "glossary/glossary.sql",
        context.templates,
        "glossary.sql.tera",
        &sql_context(&glossary, rendered.rows, options, context.templates),
        Ending::Newline,
    )
}

// ---------------------------------------------------------------------------
// Building the entries
// ---------------------------------------------------------------------------

/// Builds every entry from the model.
pub fn build(schema: &Schema) -> Result<Glossary, EmitError> {
    let mut entries = Vec::new();
    let uses = field_uses(schema);
    let synonyms = near_synonyms(schema, &uses);
    for (name, columns) in &uses {
        let content = field_entry(schema, name, columns, synonyms.get(name.as_str()));
        entries.push(Entry::new(content)?);
    }
    let clusters = duplicate_clusters(schema);
    for table in schema.tables.values() {
        entries.push(Entry::new(table_entry(schema, table, &clusters))?);
    }
    entries
        .sort_by(|a, b| (a.content.kind, &a.content.name).cmp(&(b.content.kind, &b.content.name)));
    Ok(Glossary { entries })
}

/// Every field name (glossary and documented columns) with the documented
/// columns that carry it, in table order.
fn field_uses(schema: &Schema) -> BTreeMap<String, Vec<(&Table, &Column)>> {
    let mut uses: BTreeMap<String, Vec<(&Table, &Column)>> = schema
        .glossary
        .keys()
        .map(|name| (name.clone(), Vec::new()))
        .collect();
    for table in schema.documented_tables() {
        // A table documented twice, differently, keeps the other document's
        // extra columns: they are documented fields too.
        for column in table.all_documented_columns() {
            uses.entry(column.name.clone())
                .or_default()
                .push((table, column));
        }
    }
    uses
}

fn field_entry(
    schema: &Schema,
    name: &str,
    uses: &[(&Table, &Column)],
    synonyms: Option<&BTreeMap<String, String>>,
) -> EntryContent {
    let glossary = schema.glossary.get(name);
    let mut sources: BTreeSet<Source> = BTreeSet::new();
    if let Some(g) = glossary {
        sources.insert(g.source.clone());
    }
    for (_, column) in uses {
        sources.insert(column.source.clone());
    }

    let definition = glossary
        .and_then(|g| g.description.clone())
        .filter(|d| !d.trim().is_empty())
        .or_else(|| most_common(uses.iter().filter_map(|(_, c)| c.description.as_deref())));

    let tables = uses
        .iter()
        .map(|(table, column)| {
            TableRef::Column(ColumnUse {
                table: table.name.clone(),
                module: table.module.clone(),
                ty: column.ty.to_string(),
                nullable: column.nullable,
                description: column.description.clone(),
                source: column.source.to_string(),
            })
        })
        .collect();

    let enum_values = value_sets(schema, name, glossary, uses, &mut sources);

    let mut notes = Vec::new();
    convention_notes(name, glossary.and_then(|g| g.ty.as_ref()), uses, &mut notes);
    type_notes(name, glossary.and_then(|g| g.ty.as_ref()), uses, &mut notes);
    description_notes(name, uses, &mut notes);
    value_notes(&enum_values, &mut notes);
    if let Some(synonyms) = synonyms {
        for (other, why) in synonyms {
            notes.push(
                Note::new(
                    NoteKind::NearSynonym,
                    format!("near-synonym of `{other}` ({why})"),
                )
                .related([other.clone()]),
            );
        }
    }
    if uses.is_empty() {
        notes.push(Note::new(
            NoteKind::GlossaryOnly,
            "defined in the Field Glossary; no documented table has this column",
        ));
    }

    EntryContent {
        kind: EntryKind::Field,
        name: name.to_owned(),
        definition,
        types: type_uses(glossary.and_then(|g| g.ty.as_ref()), uses),
        tables,
        enum_values,
        notes,
        sources: sources.iter().map(Source::to_string).collect(),
    }
}

/// The most frequent non-empty text; ties go to the alphabetically first, so
/// the choice does not depend on table order.
fn most_common<'a>(texts: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for text in texts.map(str::trim).filter(|t| !t.is_empty()) {
        *counts.entry(text).or_default() += 1;
    }
    // `max_by_key` keeps the last maximum, so iterate in reverse to keep the
    // alphabetically first of the tied texts.
    counts
        .into_iter()
        .rev()
        .max_by_key(|(_, count)| *count)
        .map(|(text, _)| text.to_owned())
}

fn type_uses<'t>(glossary_type: Option<&PgType>, uses: &[(&'t Table, &Column)]) -> Vec<TypeUse> {
    // Each type's tables in the order met, without repeats; the set beside
    // the list keeps that check cheap for a field used in thousands of tables.
    let mut by_type: BTreeMap<String, (TypeUse, BTreeSet<&'t str>)> = BTreeMap::new();
    let mut record = |ty: &PgType, table: Option<&'t str>| {
        let text = ty.to_string();
        let (use_, seen) = by_type.entry(text).or_insert_with_key(|text| {
            (
                TypeUse {
                    ty: text.clone(),
                    base: ty.base().to_owned(),
                    tables: Vec::new(),
                    glossary: false,
                },
                BTreeSet::new(),
            )
        });
        match table {
            None => use_.glossary = true,
            Some(name) if seen.insert(name) => use_.tables.push(name.to_owned()),
            Some(_) => {}
        }
    };
    if let Some(ty) = glossary_type {
        record(ty, None);
    }
    for (table, column) in uses {
        record(&column.ty, Some(&table.name));
    }
    by_type.into_values().map(|(use_, _)| use_).collect()
}

/// Value sets from column descriptions, named enums, CHECK constraints and
/// the glossary, grouped so each distinct set is listed once.
fn value_sets(
    schema: &Schema,
    name: &str,
    glossary: Option<&crate::model::GlossaryEntry>,
    uses: &[(&Table, &Column)],
    sources: &mut BTreeSet<Source>,
) -> Vec<ValueSet> {
    let mut sets: BTreeMap<(ValueOrigin, Option<String>, Vec<String>), BTreeSet<String>> =
        BTreeMap::new();
    let mut enums_seen: BTreeSet<&str> = BTreeSet::new();
    for (table, column) in uses {
        if !column.documented_values.is_empty() {
            // A column whose values came from a named enum lists that enum.
            let (origin, enum_name, values) = match column
                .enum_name
                .as_deref()
                .and_then(|e| schema.enums.get(e))
            {
                Some(def) => {
                    enums_seen.insert(def.name.as_str());
                    sources.insert(def.source.clone());
                    (
                        ValueOrigin::Enum,
                        Some(def.name.clone()),
                        def.values.clone(),
                    )
                }
                None => (
                    ValueOrigin::Documented,
                    None,
                    column.documented_values.clone(),
                ),
            };
            sets.entry((origin, enum_name, values))
                .or_default()
                .insert(table.name.clone());
        }
        for check in &table.check_constraints {
            if check.allowed_values.is_empty() || !check_is_on(check, &column.name) {
                continue;
            }
            sources.insert(check.source.clone());
            sets.entry((ValueOrigin::Check, None, check.allowed_values.clone()))
                .or_default()
                .insert(table.name.clone());
        }
    }
    // A named enum whose name is the field's (`property_type`) or its plural
    // (`commission_types`) documents the field's values even where no column
    // links to it, as in the glossary.
    for def in schema.enums.values() {
        let matches = def.name == name || singular(&def.name) == name;
        if matches && !enums_seen.contains(def.name.as_str()) {
            sources.insert(def.source.clone());
            sets.entry((
                ValueOrigin::Enum,
                Some(def.name.clone()),
                def.values.clone(),
            ))
            .or_default();
        }
    }
    if let Some(g) = glossary
        && !g.values.is_empty()
    {
        sets.entry((ValueOrigin::Glossary, None, g.values.clone()))
            .or_default();
    }
    sets.into_iter()
        .map(|((origin, enum_name, values), tables)| ValueSet {
            origin,
            enum_name,
            values,
            tables: tables.into_iter().collect(),
        })
        .collect()
}

/// Whether a CHECK constrains `column`: written on it, or a table CHECK
/// whose expression names only that column.
fn check_is_on(check: &crate::model::CheckConstraint, column: &str) -> bool {
    match &check.column {
        Some(c) => c == column,
        None => {
            let columns = crate::lint::expression_columns(&check.expression);
            columns.len() == 1 && columns.contains(column)
        }
    }
}

fn join_tables<'a>(tables: impl IntoIterator<Item = &'a String>) -> String {
    let set: BTreeSet<&String> = tables.into_iter().collect();
    set.into_iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

fn convention_notes(
    name: &str,
    glossary_type: Option<&PgType>,
    uses: &[(&Table, &Column)],
    notes: &mut Vec<Note>,
) {
    let prefix = BOOLEAN_PREFIXES.iter().find(|p| name.starts_with(**p));
    if let Some(prefix) = prefix {
        notes.push(Note::new(
            NoteKind::BooleanPrefix,
            format!("`{prefix}` prefix: a boolean flag by the naming conventions"),
        ));
        let mut breaks: Vec<String> = uses
            .iter()
            .filter(|(_, c)| c.ty != PgType::Boolean)
            .map(|(t, c)| format!("{} ({})", t.name, c.ty))
            .collect();
        if glossary_type.is_some_and(|t| *t != PgType::Boolean) {
            breaks.push("the Field Glossary".to_owned());
        }
        if !breaks.is_empty() {
            notes.push(Note::new(
                NoteKind::ConventionBreak,
                format!(
                    "has the `{prefix}` prefix but is not boolean in: {}",
                    breaks.join(", ")
                ),
            ));
        }
    } else {
        let booleans: Vec<&String> = uses
            .iter()
            .filter(|(_, c)| c.ty == PgType::Boolean)
            .map(|(t, _)| &t.name)
            .collect();
        if !booleans.is_empty() {
            notes.push(Note::new(
                NoteKind::ConventionBreak,
                format!(
                    "boolean without an is_/has_/can_ prefix in: {}",
                    join_tables(booleans)
                ),
            ));
        }
    }

    // FK targets, by position in each FK (a composite FK maps column i to
    // referenced column i).
    let mut targets: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut without_fk: BTreeSet<String> = BTreeSet::new();
    for (table, column) in uses {
        let mut found = false;
        for fk in &table.foreign_keys {
            let Some(i) = fk.columns.iter().position(|c| *c == column.name) else {
                continue;
            };
            found = true;
            let target = match fk.referenced_columns.get(i) {
                Some(referenced) => format!("{}.{referenced}", fk.references),
                None => fk.references.to_string(),
            };
            targets
                .entry(target)
                .or_default()
                .insert(table.name.clone());
        }
        if !found {
            without_fk.insert(table.name.clone());
        }
    }
    let has_suffix = name.len() > FK_SUFFIX.len() && name.ends_with(FK_SUFFIX);
    if has_suffix {
        notes.push(Note::new(
            NoteKind::IdSuffix,
            format!("`{FK_SUFFIX}` suffix: a reference to another row by the naming conventions"),
        ));
    }
    for (target, tables) in &targets {
        notes.push(
            Note::new(
                NoteKind::ForeignKey,
                format!("FK to `{target}` in: {}", join_tables(tables)),
            )
            .related([target.clone()]),
        );
    }
    if targets.len() > 1 {
        let listed: Vec<String> = targets
            .iter()
            .map(|(target, tables)| format!("`{target}` ({})", join_tables(tables)))
            .collect();
        notes.push(
            Note::new(
                NoteKind::ForeignKeyMismatch,
                format!(
                    "the same name references different tables: {}",
                    listed.join("; ")
                ),
            )
            .related(targets.keys().cloned()),
        );
    }
    if has_suffix && !without_fk.is_empty() {
        notes.push(Note::new(
            NoteKind::NoForeignKey,
            format!("no FK documented in: {}", join_tables(&without_fk)),
        ));
    }
    if !has_suffix && !targets.is_empty() {
        notes.push(Note::new(
            NoteKind::ConventionBreak,
            format!("an FK column without the `{FK_SUFFIX}` suffix"),
        ));
    }
}

fn type_notes(
    name: &str,
    glossary_type: Option<&PgType>,
    uses: &[(&Table, &Column)],
    notes: &mut Vec<Note>,
) {
    let mut by_base: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    for (table, column) in uses {
        by_base
            .entry(column.ty.base())
            .or_default()
            .insert(table.name.clone());
    }
    if by_base.len() > 1 {
        let listed: Vec<String> = by_base
            .iter()
            .map(|(base, tables)| format!("{base} ({})", join_tables(tables)))
            .collect();
        notes.push(Note::new(
            NoteKind::TypeMismatch,
            format!(
                "`{name}` has different base types across tables: {}",
                listed.join("; ")
            ),
        ));
    }
    if let Some(ty) = glossary_type
        && !by_base.is_empty()
        && !by_base.contains_key(ty.base())
    {
        notes.push(Note::new(
            NoteKind::GlossaryTypeMismatch,
            format!(
                "the Field Glossary says {ty}, but no documented table uses a {} type",
                ty.base()
            ),
        ));
    }
}

/// The words of a text that carry meaning: lowercase, crudely singular,
/// without stopwords and without the words in `ignore` (the field's and the
/// table's own names, which every description may repeat).
fn meaning_words(text: &str, ignore: &BTreeSet<String>) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| stem(&w.to_lowercase()))
        .filter(|w| !STOPWORDS.contains(&w.as_str()) && !ignore.contains(w))
        .collect()
}

/// Drops a plural `s` so that `users` and `user` compare equal.
fn stem(word: &str) -> String {
    match word.strip_suffix('s') {
        Some(stem) if stem.len() >= 3 && !stem.ends_with('s') => stem.to_owned(),
        _ => word.to_owned(),
    }
}

fn name_words(name: &str) -> impl Iterator<Item = String> + '_ {
    name.split('_').filter(|w| !w.is_empty()).map(stem)
}

/// Flags a field when two tables describe it with texts that share no
/// meaning word, such as "Lead source" and "Source (chat/doc/web)". A text
/// that only repeats the field's or the table's name says nothing and never
/// disagrees. The Field Glossary's text is the definition, not one more
/// description: it is usually the longer wording of a terse column
/// description ("Record creation time (UTC)" for "Created"), so comparing it
/// would flag wording, not meaning.
fn description_notes(name: &str, uses: &[(&Table, &Column)], notes: &mut Vec<Note>) {
    let field_words: BTreeSet<String> = name_words(name).collect();
    // Each distinct text, with the tables that use it and its meaning words.
    let mut described: BTreeMap<&str, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for (table, column) in uses {
        let Some(text) = column
            .description
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            continue;
        };
        let mut ignore = field_words.clone();
        ignore.extend(name_words(&table.name));
        ignore.extend(name_words(&singular(&table.name)));
        let entry = described.entry(text).or_default();
        entry.0.insert(table.name.clone());
        // The same text may lose different words in different tables; keep
        // the union so that a text never disagrees with itself.
        entry.1.extend(meaning_words(text, &ignore));
    }
    let meaningful: Vec<&BTreeSet<String>> = described
        .values()
        .map(|(_, words)| words)
        .filter(|w| !w.is_empty())
        .collect();
    let disagree = some_pair_disjoint(&meaningful);
    if disagree {
        let listed: Vec<String> = described
            .iter()
            .map(|(text, (tables, _))| format!("\"{text}\" ({})", join_tables(tables)))
            .collect();
        notes.push(Note::new(
            NoteKind::DescriptionMismatch,
            format!("descriptions disagree: {}", listed.join("; ")),
        ));
    }
}

/// Whether two of the sets share no word. A field used by thousands of
/// tables can have thousands of distinct descriptions, so rather than
/// comparing every pair, each set marks (in a bit per set) the sets that
/// share one of its words: some pair is disjoint exactly when some set
/// does not reach every other.
fn some_pair_disjoint(sets: &[&BTreeSet<String>]) -> bool {
    if sets.len() < 2 {
        return false;
    }
    // Sets that all share a word have no disjoint pair.
    let shared_by_all = sets[0]
        .iter()
        .any(|word| sets[1..].iter().all(|set| set.contains(word)));
    if shared_by_all {
        return false;
    }
    let blocks = sets.len().div_ceil(64);
    let mut containing: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for (i, set) in sets.iter().enumerate() {
        for word in set.iter() {
            containing
                .entry(word.as_str())
                .or_insert_with(|| vec![0; blocks])[i / 64] |= 1 << (i % 64);
        }
    }
    let mut reached = vec![0u64; blocks];
    sets.iter().any(|set| {
        reached.iter_mut().for_each(|b| *b = 0);
        for word in set.iter() {
            for (r, c) in reached.iter_mut().zip(&containing[word.as_str()]) {
                *r |= c;
            }
        }
        let count: usize = reached.iter().map(|b| b.count_ones() as usize).sum();
        count < sets.len()
    })
}

fn value_notes(sets: &[ValueSet], notes: &mut Vec<Note>) {
    // Only sets that tables state are compared; the glossary's and unlinked
    // enums describe the field in general.
    let distinct: BTreeSet<BTreeSet<&String>> = sets
        .iter()
        .filter(|s| !s.tables.is_empty())
        .map(|s| s.values.iter().collect())
        .collect();
    if distinct.len() > 1 {
        let listed: Vec<String> = sets
            .iter()
            .filter(|s| !s.tables.is_empty())
            .map(|s| format!("{} ({})", s.values.join("/"), join_tables(&s.tables)))
            .collect();
        notes.push(Note::new(
            NoteKind::ValueMismatch,
            format!("tables list different values: {}", listed.join("; ")),
        ));
    }
}

/// Near-synonyms of every field name: name → (other name → why).
fn near_synonyms<'a>(
    schema: &Schema,
    uses: &'a BTreeMap<String, Vec<(&Table, &Column)>>,
) -> BTreeMap<&'a str, BTreeMap<String, String>> {
    // The base types each name is declared with, in tables or the glossary.
    let bases: BTreeMap<&str, BTreeSet<&'static str>> = uses
        .iter()
        .map(|(name, columns)| {
            let mut set: BTreeSet<&'static str> =
                columns.iter().map(|(_, c)| c.ty.base()).collect();
            if let Some(ty) = schema.glossary.get(name).and_then(|g| g.ty.as_ref()) {
                set.insert(ty.base());
            }
            set.remove("unknown");
            (name.as_str(), set)
        })
        .collect();
    // Only two kinds of pair can be near-synonyms: a name and the same name
    // with one more `_word` (a participle extension), and two names of one
    // time-synonym group. Listing those pairs, instead of trying every pair
    // of names, keeps this linear in the number of names.
    let mut candidates: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut pair = |x: &'a str, y: &'a str| {
        if x != y {
            candidates.insert(if x < y { (x, y) } else { (y, x) });
        }
    };
    for &long in bases.keys() {
        if let Some((short, _)) = long.rsplit_once('_')
            && let Some((&short, _)) = bases.get_key_value(short)
        {
            pair(short, long);
        }
    }
    for group in TIME_SYNONYM_GROUPS {
        let present: Vec<&'a str> = group
            .iter()
            .filter_map(|name| bases.get_key_value(name).map(|(n, _)| *n))
            .collect();
        for (i, &x) in present.iter().enumerate() {
            for &y in &present[i + 1..] {
                pair(x, y);
            }
        }
    }
    let mut found: BTreeMap<&str, BTreeMap<String, String>> = BTreeMap::new();
    for (a, b) in candidates {
        let (a_bases, b_bases) = (&bases[a], &bases[b]);
        if a_bases.is_disjoint(b_bases) {
            continue;
        }
        let why = participle_extension(a, b)
            .or_else(|| participle_extension(b, a))
            .or_else(|| time_synonyms(a, b, a_bases, b_bases));
        if let Some(why) = why {
            found
                .entry(a)
                .or_default()
                .insert(b.to_owned(), why.clone());
            found.entry(b).or_default().insert(a.to_owned(), why);
        }
    }
    found
}

/// `model_used` is `model` extended by the trailing participle `used`. A
/// trailing participle says what role the thing played (`provider_used`)
/// without naming a different thing, unlike a trailing noun (`source_url`)
/// or convention marker (`viewed_at`). A leading word, participle or not,
/// usually names a different value (`predicted_cost_usd`, `first_name`),
/// so prefix extensions are not near-synonyms.
fn participle_extension(short: &str, long: &str) -> Option<String> {
    let extra = long.strip_prefix(short)?.strip_prefix('_')?;
    let one_word = !extra.is_empty() && !extra.contains('_');
    let participle = extra.len() >= 4 && extra.ends_with("ed");
    if !one_word || !participle || CONVENTION_TOKENS.contains(&extra) {
        return None;
    }
    Some(format!(
        "`{long}` is `{short}` with the participle `_{extra}`"
    ))
}

fn time_synonyms(
    a: &str,
    b: &str,
    a_bases: &BTreeSet<&str>,
    b_bases: &BTreeSet<&str>,
) -> Option<String> {
    let timestamps = a_bases.contains("timestamp") && b_bases.contains("timestamp");
    let grouped = TIME_SYNONYM_GROUPS
        .iter()
        .any(|group| group.contains(&a) && group.contains(&b));
    (timestamps && grouped).then(|| "both name the same moment in time".to_owned())
}

/// Declared duplicates grouped transitively (`users`/`profiles` and
/// `agents`/`profiles` make one cluster): table → its cluster, sorted.
fn duplicate_clusters(schema: &Schema) -> BTreeMap<String, BTreeSet<String>> {
    let mut clusters: Vec<BTreeSet<String>> = Vec::new();
    for declared in &schema.duplicates {
        let mut merged: BTreeSet<String> = declared.tables.iter().cloned().collect();
        // Absorb every existing cluster that shares a table with this one.
        clusters.retain(|cluster| {
            if cluster.is_disjoint(&merged) {
                true
            } else {
                merged.extend(cluster.iter().cloned());
                false
            }
        });
        clusters.push(merged);
    }
    clusters
        .into_iter()
        .flat_map(|cluster| {
            cluster
                .iter()
                .map(|t| (t.clone(), cluster.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn table_facts(schema: &Schema, name: &str) -> TableFacts {
    match schema.tables.get(name) {
        Some(table) => TableFacts {
            table: table.name.clone(),
            module: table.module.clone(),
            documentation: table.documentation,
            columns: table.columns.len(),
            apps: table.apps().into_iter().map(str::to_owned).collect(),
            purpose: table_purpose(table),
        },
        // A duplicates declaration can name a table the model does not hold
        // (an ignored table); it is still a member of the cluster.
        None => TableFacts {
            table: name.to_owned(),
            module: None,
            documentation: Documentation::NameOnly,
            columns: 0,
            apps: Vec::new(),
            purpose: None,
        },
    }
}

/// The `**Purpose:**` line, else what app mappings say the table is for.
fn table_purpose(table: &Table) -> Option<String> {
    table
        .meta
        .purpose
        .clone()
        .filter(|p| !p.trim().is_empty())
        .or_else(|| most_common(table.mentions.iter().filter_map(|m| m.purpose.as_deref())))
}

/// How a mention is described in a note.
fn mention_kind(kind: MentionKind) -> &'static str {
    match kind {
        MentionKind::AppMapping => "app mappings",
        MentionKind::Duplicates => "the duplicates table",
        MentionKind::Prose => "prose",
        MentionKind::FkTarget => "foreign keys",
        MentionKind::SqlReference => "SQL",
    }
}

fn table_entry(
    schema: &Schema,
    table: &Table,
    clusters: &BTreeMap<String, BTreeSet<String>>,
) -> EntryContent {
    let mut sources: BTreeSet<Source> = BTreeSet::new();
    sources.insert(table.source.clone());
    sources.extend(table.definitions.iter().cloned());
    sources.extend(table.mentions.iter().map(|m| m.source.clone()));

    let mut tables = vec![TableRef::Table(table_facts(schema, &table.name))];
    let mut notes = Vec::new();
    match table.documentation {
        Documentation::Full => notes.push(Note::new(
            NoteKind::Documentation,
            format!(
                "documented with {} columns at {}",
                table.columns.len(),
                table.source
            ),
        )),
        Documentation::NameOnly => {
            let kinds: BTreeSet<&str> = table
                .mentions
                .iter()
                .map(|m| mention_kind(m.kind))
                .collect();
            let named_in = if kinds.is_empty() {
                String::new()
            } else {
                format!(
                    " (named in: {})",
                    kinds.into_iter().collect::<Vec<_>>().join(", ")
                )
            };
            notes.push(Note::new(
                NoteKind::Documentation,
                format!("name-only: its columns are not documented{named_in}"),
            ));
        }
    }
    if let Some(claimed) = table.claimed_columns
        && claimed as usize != table.columns.len()
    {
        notes.push(Note::new(
            NoteKind::ColumnCount,
            format!(
                "the heading claims {claimed} columns; {} are documented",
                table.columns.len()
            ),
        ));
    }
    if table.definitions.len() > 1 {
        let places: Vec<String> = table.definitions.iter().map(Source::to_string).collect();
        notes.push(Note::new(
            NoteKind::MultipleDefinitions,
            format!(
                "documented in {} places ({}); the definition at {} wins",
                places.len(),
                places.join(", "),
                table.source
            ),
        ));
    }
    for mirror in &table.mirrors {
        let text = match &mirror.table {
            Some(other) => format!("some columns mirror `{other}` and are not listed"),
            None => format!(
                "a placeholder row stands for unlisted columns: {}",
                mirror.text
            ),
        };
        notes.push(Note::new(NoteKind::Mirror, text).related(mirror.table.clone()));
        sources.insert(mirror.source.clone());
    }
    if let Some(cluster) = clusters.get(&table.name) {
        let others: Vec<String> = cluster
            .iter()
            .filter(|t| **t != table.name)
            .cloned()
            .collect();
        tables.extend(
            others
                .iter()
                .map(|t| TableRef::Table(table_facts(schema, t))),
        );
        let recommendations: BTreeSet<String> = schema
            .duplicates
            .iter()
            .filter(|d| d.tables.iter().any(|t| cluster.contains(t)))
            .map(|d| {
                sources.insert(d.source.clone());
                format!("{}: {}", d.tables.join(" vs "), d.recommendation.trim())
            })
            .collect();
        notes.push(
            Note::new(
                NoteKind::DuplicateCluster,
                format!(
                    "declared duplicates cluster: {} (recommendations: {})",
                    join_tables(cluster),
                    recommendations.into_iter().collect::<Vec<_>>().join("; ")
                ),
            )
            .related(others),
        );
    }

    EntryContent {
        kind: EntryKind::Table,
        name: table.name.clone(),
        definition: table_purpose(table),
        types: Vec::new(),
        tables,
        enum_values: Vec::new(),
        notes,
        sources: sources.iter().map(Source::to_string).collect(),
    }
}

// ---------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------

/// One JSON object per line, sorted by kind then name.
pub fn render_jsonl(glossary: &Glossary) -> Result<String, EmitError> {
    let mut out = Vec::new();
    write_jsonl(glossary, &mut out)?;
    String::from_utf8(out).map_err(|e| EmitError::Serialize {
        what: "glossary/glossary.jsonl".to_owned(),
        message: e.to_string(),
    })
}

fn write_jsonl(glossary: &Glossary, out: &mut dyn std::io::Write) -> Result<(), EmitError> {
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
fn anchor(kind: EntryKind, name: &str) -> String {
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
struct EntryRenderings {
    /// Through `glossary-entry.md.tera`.
    markdown: bool,
    /// Through `glossary-entry.sql.tera`.
    sql: bool,
}

/// Every entry's Markdown sections, in entry order, fields then tables.
#[derive(Default)]
struct Sections {
    fields: Vec<String>,
    tables: Vec<String>,
}

/// The entries as the entry templates render them.
#[derive(Default)]
struct RenderedEntries {
    sections: Sections,
    /// One `VALUES` row per entry, in entry order.
    rows: Vec<String>,
}

/// Renders each entry on its own, both renderings from one template
/// context, so that only one entry is ever held as template values: as
/// values, the entries of ten thousand tables took about 100 MB per
/// rendering, where the rendered text takes half that for both.
fn render_entries(
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
            .map_err(super::templates::TemplateError::from)?;
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

fn markdown_context(
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
fn check_knowledge_table(schema: &Schema) -> Result<(), EmitError> {
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
fn sql_context(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::EmitOptions;
    use crate::model::physical::RealizeOptions;
    use crate::source::SourceFile;
    use crate::{LoadOptions, build_schema};

    /// Two stores tables that disagree the way the real documents do, a
    /// glossary and a duplicates declaration.
    const DOC: &str = r#"# SHOP
## Module: Shop

## 1. OWNERS (6 columns)
**Purpose:** People who own stores

| Column | Type | Nullable | Description |
|--------|------|----------|-------------|
| id | uuid | NO | Primary key |
| name | varchar | NO | Owner name |
| model | varchar | YES | Car model |
| timestamp | timestamptz | YES | When |
| priority | integer | YES | Routing priority |
| is_open | varchar | YES | Open flag |

## 2. STORES (8 columns)
**Purpose:** Stores

| Column | Type | Nullable | Description |
|--------|------|----------|-------------|
| id | uuid | NO | Primary key |
| owner_id | uuid | NO | FK to owners |
| name | text | NO | Store name |
| first_name | varchar | YES | Manager first name |
| model_used | varchar | YES | Model |
| created_at | timestamptz | NO | Created |
| priority | varchar | YES | high/medium/low |
| price | decimal | YES | Price |

## 3. SHELVES (3 columns)
**Purpose:** Shelves

| Column | Type | Nullable | Description |
|--------|------|----------|-------------|
| id | uuid | NO | Primary key |
| price | numeric(10,2) | YES | Shelf price |
| store_id | uuid | NO | FK to stores |

## Identity Fields
| Field | Type | Description |
|-------|------|-------------|
| `id` | uuid | Primary key, auto-generated |
| `uuid` | uuid | Alternative key |

**Identified Duplicates:**
| Tables | Recommendation |
|--------|----------------|
| `owners` vs `profiles` | Merge |
| `people` vs `profiles` | Merge too |
"#;

    fn schema_of(text: &str) -> Schema {
        let (file, _) = SourceFile::decode("doc.md", text.as_bytes());
        build_schema(&[file], &LoadOptions::default()).0
    }

    fn field<'a>(glossary: &'a Glossary, name: &str) -> &'a Entry {
        glossary
            .get(EntryKind::Field, name)
            .unwrap_or_else(|| panic!("no field entry `{name}`"))
    }

    fn kinds(entry: &Entry) -> BTreeSet<NoteKind> {
        entry.content.notes.iter().map(|n| n.kind).collect()
    }

    fn flagged(glossary: &Glossary, kind: NoteKind) -> BTreeSet<&str> {
        glossary
            .fields()
            .filter(|e| kinds(e).contains(&kind))
            .map(|e| e.content.name.as_str())
            .collect()
    }

    fn render_all(schema: &Schema) -> Vec<OutputFile> {
        let templates = Templates::load(None).unwrap();
        let options = EmitOptions {
            target: crate::config::Target::Postgres,
            realize: RealizeOptions::default(),
        };
        let context = EmitContext::new(schema, &options, &templates);
        emit(&context).unwrap()
    }

    #[test]
    fn every_documented_column_is_in_exactly_one_field_entry() {
        let schema = schema_of(DOC);
        let glossary = build(&schema).unwrap();
        let mut pairs = Vec::new();
        for entry in glossary.fields() {
            for item in &entry.content.tables {
                match item {
                    TableRef::Column(c) => {
                        pairs.push((c.table.clone(), entry.content.name.clone()))
                    }
                    TableRef::Table(t) => panic!("field entry lists a table: {t:?}"),
                }
            }
        }
        let unique: BTreeSet<_> = pairs.iter().cloned().collect();
        assert_eq!(unique.len(), pairs.len(), "a column is listed twice");
        let documented: BTreeSet<(String, String)> = schema
            .documented_tables()
            .flat_map(|t| t.columns.iter().map(|c| (t.name.clone(), c.name.clone())))
            .collect();
        assert_eq!(unique, documented);
        // The glossary-only field has an entry with no tables.
        assert!(field(&glossary, "uuid").content.tables.is_empty());
        assert!(kinds(field(&glossary, "uuid")).contains(&NoteKind::GlossaryOnly));
    }

    #[test]
    fn flags_base_types_that_differ_and_nothing_else() {
        let glossary = build(&schema_of(DOC)).unwrap();
        // varchar and text are one base type, so are decimal and numeric.
        assert_eq!(
            flagged(&glossary, NoteKind::TypeMismatch),
            BTreeSet::from(["priority"])
        );
        let name = field(&glossary, "name");
        let types: Vec<(&str, &str)> = name
            .content
            .types
            .iter()
            .map(|t| (t.ty.as_str(), t.base.as_str()))
            .collect();
        assert_eq!(types, [("character varying", "text"), ("text", "text")]);
    }

    proptest::proptest! {
        #[test]
        fn disjoint_pairs_are_found_as_by_comparing_every_pair(
            sets in proptest::collection::vec(
                proptest::collection::btree_set("[a-e]", 1..4),
                0..80,
            )
        ) {
            let sets: Vec<&BTreeSet<String>> = sets.iter().collect();
            let every_pair = sets
                .iter()
                .enumerate()
                .any(|(i, a)| sets.iter().skip(i + 1).any(|b| a.is_disjoint(b)));
            proptest::prop_assert_eq!(some_pair_disjoint(&sets), every_pair);
        }
    }

    #[test]
    fn near_synonyms_follow_the_rules() {
        let glossary = build(&schema_of(DOC)).unwrap();
        assert_eq!(
            flagged(&glossary, NoteKind::NearSynonym),
            BTreeSet::from(["created_at", "model", "model_used", "timestamp"])
        );
        let model = field(&glossary, "model");
        let note = model
            .content
            .notes
            .iter()
            .find(|n| n.kind == NoteKind::NearSynonym)
            .unwrap();
        assert_eq!(note.related, ["model_used"]);

        assert!(participle_extension("model", "model_used").is_some());
        assert!(participle_extension("provider", "provider_used").is_some());
        // Nouns, convention markers and leading words name something else.
        assert!(participle_extension("source", "source_url").is_none());
        assert!(participle_extension("customer_viewed", "customer_viewed_at").is_none());
        assert!(participle_extension("cost_usd", "predicted_cost_usd").is_none());
        assert!(participle_extension("name", "first_name").is_none());
        assert!(participle_extension("id", "owner_id").is_none());
        assert!(participle_extension("model", "model").is_none());
    }

    #[test]
    fn descriptions_disagree_when_they_share_no_meaning_word() {
        let glossary = build(&schema_of(DOC)).unwrap();
        // "Routing priority" and "high/medium/low"; "Owner name" and "Store
        // name" lose their table's word and agree.
        assert_eq!(
            flagged(&glossary, NoteKind::DescriptionMismatch),
            BTreeSet::from(["priority"])
        );
        let ignore: BTreeSet<String> = ["source".to_owned()].into();
        assert_eq!(
            meaning_words("Source (chat/doc/web)", &ignore),
            ["chat", "doc", "web"].map(String::from).into()
        );
        assert!(meaning_words("Active flag", &["active".to_owned()].into()).is_empty());
        assert_eq!(
            meaning_words("FK to users", &BTreeSet::new()),
            ["user"].map(String::from).into()
        );
    }

    #[test]
    fn conventions_and_foreign_keys_are_noted() {
        let glossary = build(&schema_of(DOC)).unwrap();
        let owner_id = field(&glossary, "owner_id");
        assert!(kinds(owner_id).contains(&NoteKind::IdSuffix));
        let fk = owner_id
            .content
            .notes
            .iter()
            .find(|n| n.kind == NoteKind::ForeignKey)
            .unwrap();
        assert_eq!(fk.text, "FK to `owners.id` in: stores");
        let is_open = field(&glossary, "is_open");
        assert!(kinds(is_open).contains(&NoteKind::BooleanPrefix));
        assert!(kinds(is_open).contains(&NoteKind::ConventionBreak));
        assert!(!kinds(field(&glossary, "name")).contains(&NoteKind::IdSuffix));
    }

    #[test]
    fn definitions_prefer_the_glossary_then_the_most_common_text() {
        let glossary = build(&schema_of(DOC)).unwrap();
        assert_eq!(
            field(&glossary, "id").content.definition.as_deref(),
            Some("Primary key, auto-generated")
        );
        // Each price text is used once: the alphabetically first wins.
        assert_eq!(
            field(&glossary, "price").content.definition.as_deref(),
            Some("Price")
        );
        assert_eq!(
            most_common(["b", "a", "b", "a", " "].into_iter()).as_deref(),
            Some("a")
        );
        assert_eq!(
            most_common(["b", "a", "b"].into_iter()).as_deref(),
            Some("b")
        );
        assert_eq!(most_common(std::iter::empty()), None);
    }

    #[test]
    fn duplicates_are_clustered_transitively() {
        let schema = schema_of(DOC);
        let glossary = build(&schema).unwrap();
        let owners = glossary.get(EntryKind::Table, "owners").unwrap();
        let members: Vec<&str> = owners
            .content
            .tables
            .iter()
            .map(|t| match t {
                TableRef::Table(f) => f.table.as_str(),
                TableRef::Column(c) => panic!("table entry lists a column: {c:?}"),
            })
            .collect();
        // The table itself first, then the rest of its cluster.
        assert_eq!(members, ["owners", "people", "profiles"]);
        let note = owners
            .content
            .notes
            .iter()
            .find(|n| n.kind == NoteKind::DuplicateCluster)
            .unwrap();
        assert_eq!(note.related, ["people", "profiles"]);
        assert_eq!(
            owners.content.definition.as_deref(),
            Some("People who own stores")
        );
        let stores = glossary.get(EntryKind::Table, "stores").unwrap();
        assert_eq!(stores.content.tables.len(), 1);
        // Every table has an entry, documented or name-only.
        assert_eq!(glossary.tables().count(), schema.tables.len());
    }

    #[test]
    fn the_content_hash_covers_the_content_and_nothing_else() {
        let mut schema = schema_of(DOC);
        let before = build(&schema).unwrap();
        for entry in &before.entries {
            assert_eq!(entry.content_hash, content_hash(&entry.content).unwrap());
            assert_eq!(entry.content_hash.len(), 64);
        }
        if let Some(g) = schema.glossary.get_mut("uuid") {
            g.description = Some("Another key".to_owned());
        }
        let after = build(&schema).unwrap();
        let changed: Vec<String> = before
            .entries
            .iter()
            .zip(&after.entries)
            .filter(|(a, b)| a.content_hash != b.content_hash)
            .map(|(a, _)| a.title())
            .collect();
        assert_eq!(changed, ["field:uuid"]);
    }

    /// The keys of a JSON object in the order they are written.
    struct KeyOrder(Vec<String>);

    impl<'de> serde::Deserialize<'de> for KeyOrder {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Visitor;
            impl<'de> serde::de::Visitor<'de> for Visitor {
                type Value = KeyOrder;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<KeyOrder, A::Error> {
                    let mut keys = Vec::new();
                    while let Some(key) = map.next_key::<String>()? {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        keys.push(key);
                    }
                    Ok(KeyOrder(keys))
                }
            }
            d.deserialize_map(Visitor)
        }
    }

    #[test]
    fn jsonl_has_the_contract_keys_in_order() {
        let glossary = build(&schema_of(DOC)).unwrap();
        let jsonl = render_jsonl(&glossary).unwrap();
        assert_eq!(jsonl.lines().count(), glossary.entries.len());
        for line in jsonl.lines() {
            let KeyOrder(keys) = serde_json::from_str(line).unwrap();
            assert_eq!(
                keys,
                [
                    "kind",
                    "name",
                    "definition",
                    "types",
                    "tables",
                    "enum_values",
                    "notes",
                    "sources",
                    "content_hash"
                ]
            );
        }
    }

    #[test]
    fn output_is_deterministic() {
        let schema = schema_of(DOC);
        assert_eq!(render_all(&schema), render_all(&schema));
        let paths: Vec<String> = render_all(&schema)
            .iter()
            .map(|f| f.path.display().to_string())
            .collect();
        assert_eq!(
            paths,
            [
                "glossary/glossary.md",
                "glossary/glossary.jsonl",
                "glossary/glossary.sql"
            ]
        );
    }

    #[test]
    fn document_text_reaches_sql_only_as_quoted_literals() {
        let hostile = "it's'); DROP TABLE owners; --";
        let doc = DOC.replace("| Alternative key |", &format!("| {hostile} |"));
        let schema = schema_of(&doc);
        let files = render_all(&schema);
        let sql = &files[2].contents;
        assert!(!sql.contains(hostile), "raw document text in SQL");
        assert!(sql.contains("it''s''); DROP TABLE owners; --"));
        assert!(sql.contains("'schema_glossary'"));
        assert!(sql.contains("'field:uuid'"));
    }

    #[test]
    fn markdown_is_alphabetical_with_anchors() {
        let schema = schema_of(DOC);
        let glossary = build(&schema).unwrap();
        let md = render_markdown(&glossary, &Templates::load(None).unwrap()).unwrap();
        let mut last = 0;
        for entry in &glossary.entries {
            let anchor = format!(
                "<a id=\"{}\"></a>",
                anchor(entry.content.kind, &entry.content.name)
            );
            let at = md.find(&anchor).unwrap_or_else(|| panic!("no {anchor}"));
            assert!(at > last, "{anchor} out of order");
            last = at;
        }
        assert!(md.contains("[`priority`](#field-priority)"));
    }

    #[test]
    fn refuses_a_knowledge_table_without_the_columns_it_writes() {
        let doc = format!(
            "{DOC}\n## 4. JAVARI_KNOWLEDGE (2 columns)\n\n| Column | Type | Description |\n|---|---|---|\n| id | uuid | Primary key |\n| title | varchar | Title |\n"
        );
        let schema = schema_of(&doc);
        let glossary = build(&schema).unwrap();
        let error = render_sql(
            &glossary,
            &schema,
            &GlossaryOptions::default(),
            &Templates::load(None).unwrap(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("no column category"), "{error}");
    }

    #[test]
    fn the_category_is_configurable() {
        let schema = schema_of(DOC);
        let glossary = build(&schema).unwrap();
        let options = GlossaryOptions {
            category: "docs".to_owned(),
        };
        let sql = render_sql(
            &glossary,
            &schema,
            &options,
            &Templates::load(None).unwrap(),
        )
        .unwrap();
        assert!(sql.contains("k.category = 'docs'"));
        assert!(!sql.contains(DEFAULT_CATEGORY));
    }

    /// Entries are rendered one by one through the entry templates; a
    /// replacement of either whole-file template still gets every entry
    /// as values, and a replacement entry template changes every section.
    #[test]
    fn replacement_templates_get_the_entries_or_replace_each_section() {
        let schema = schema_of(DOC);
        let glossary = build(&schema).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("glossary.md.tera"),
            "{% for e in fields %}{{ e.name }}:{{ e.anchor }} {% endfor %}|{{ tables | length }}",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("glossary.sql.tera"),
            "{% for e in entries %}{{ e.title | sql_literal }};{% endfor %}",
        )
        .unwrap();
        let templates = Templates::load(Some(dir.path())).unwrap();
        let md = render_markdown(&glossary, &templates).unwrap();
        assert!(md.contains("priority:field-priority "), "{md}");
        assert!(
            md.ends_with(&format!("|{}\n", glossary.tables().count())),
            "{md}"
        );
        let sql = render_sql(&glossary, &schema, &GlossaryOptions::default(), &templates).unwrap();
        assert!(sql.contains("'field:priority';"), "{sql}");
        assert!(sql.contains("'table:stores';"), "{sql}");

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("glossary-entry.md.tera"),
            "* {{ kind }} {{ name }}\n",
        )
        .unwrap();
        let templates = Templates::load(Some(dir.path())).unwrap();
        let md = render_markdown(&glossary, &templates).unwrap();
        assert!(md.contains("\n* field priority\n"), "{md}");
        assert!(md.contains("\n* table stores\n"), "{md}");
        assert!(!md.contains("### `priority`"), "{md}");
    }
}
