//! The typed schema model: one value that holds everything the documents say
//! about the database. Every emitter reads it, the diff engine compares two of
//! them, and introspection builds one from a live catalog. Its serialised
//! form (`gen schema --format json|yaml`) is a contract that CI and Javari
//! consume, so field names are stable and maps are sorted.

pub mod inflect;
pub mod json_shape;
pub mod lower;
pub mod overrides;
pub mod physical;
pub mod rls;
pub mod stages;
pub mod types;

pub use json_shape::JsonShape;
pub use types::PgType;

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Where a fact was written: file and 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Source {
    /// Shared by every fact of the file: a schema of ten thousand tables
    /// has hundreds of thousands of sources, copied again by realisation
    /// and by the diff, and a path string each cost 40 MB and as many
    /// allocations.
    pub file: Arc<str>,
    pub line: u32,
}

impl Source {
    pub fn new(file: &str, line: u32) -> Self {
        Source {
            file: Arc::from(file),
            line,
        }
    }

    /// Another line of the same file, sharing its name.
    pub fn at_line(&self, line: u32) -> Self {
        Source {
            file: self.file.clone(),
            line,
        }
    }

    pub fn span(&self) -> crate::diag::Span {
        crate::diag::Span::new(&*self.file, self.line, 1)
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    pub tables: BTreeMap<String, Table>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extensions: BTreeMap<String, Extension>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub functions: BTreeMap<String, Function>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub enums: BTreeMap<String, EnumDef>,
    /// JSON examples that could not be attached to a documented column.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub json_examples: Vec<JsonExample>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub glossary: BTreeMap<String, GlossaryEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub naming_conventions: Vec<NamingConvention>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duplicates: Vec<DeclaredDuplicate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<Claim>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub apps: BTreeMap<String, App>,
}

impl Schema {
    pub fn documented_tables(&self) -> impl Iterator<Item = &Table> {
        self.tables.values().filter(|t| t.is_documented())
    }

    pub fn name_only_tables(&self) -> impl Iterator<Item = &Table> {
        self.tables.values().filter(|t| !t.is_documented())
    }

    pub fn column_count(&self) -> usize {
        self.tables.values().map(|t| t.columns.len()).sum()
    }
}

/// Whether a table's columns are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Documentation {
    /// Columns are documented, in a Markdown column table or a CREATE TABLE.
    Full,
    /// The table is only named: in an app mapping, in prose, or as an FK target.
    NameOnly,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub critical: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

impl TableMeta {
    pub fn is_empty(&self) -> bool {
        *self == TableMeta::default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    pub name: String,
    pub documentation: Documentation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    #[serde(default, skip_serializing_if = "TableMeta::is_empty")]
    pub meta: TableMeta,
    /// The column count a section heading claims, such as `(47 columns)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_columns: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<Column>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mirrors: Vec<Mirror>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<PrimaryKey>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unique_constraints: Vec<UniqueConstraint>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub check_constraints: Vec<CheckConstraint>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<ForeignKey>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<Policy>,
    /// Prose RLS rules such as "Agents: CRUD own properties", kept for the
    /// RLS emitter to interpret.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rls_rules: Vec<RlsRule>,
    /// Places the table is named: app mappings, duplicates, prose, FKs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<Mention>,
    /// Definitions that lost a `conflicting-definition` merge, with their
    /// columns: what the other document says, kept for the glossary and the
    /// consolidation report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicting_definitions: Vec<ConflictingDefinition>,
    /// How the winning definition was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defined_by: Option<DefinitionKind>,
    /// A stub created for a name-only table that FKs point at: `id` and the
    /// audit timestamps, because its columns are undocumented.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stub: bool,
    /// Row Level Security enabled (deny by default unless a policy allows).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rls_enabled: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<Trigger>,
    /// Every place the table is defined with columns; more than one when two
    /// sources document it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub definitions: Vec<Source>,
    /// The name the table had before (`**Renamed from:** `old``): the diff
    /// renames a table of that name instead of dropping it and creating
    /// this one. Kept in the snapshot, where it says nothing once the old
    /// name is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    pub source: Source,
}

impl Table {
    pub fn new(name: impl Into<String>, documentation: Documentation, source: Source) -> Self {
        Table {
            name: name.into(),
            documentation,
            module: None,
            meta: TableMeta::default(),
            claimed_columns: None,
            columns: Vec::new(),
            mirrors: Vec::new(),
            primary_key: None,
            unique_constraints: Vec::new(),
            check_constraints: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
            policies: Vec::new(),
            rls_rules: Vec::new(),
            mentions: Vec::new(),
            conflicting_definitions: Vec::new(),
            defined_by: None,
            stub: false,
            rls_enabled: false,
            triggers: Vec::new(),
            definitions: Vec::new(),
            renamed_from: None,
            source,
        }
    }

    pub fn is_documented(&self) -> bool {
        self.documentation == Documentation::Full
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.name == name)
    }

    /// Every documented column: the winning definition's, then the columns
    /// only a losing definition documents (each name once).
    pub fn all_documented_columns(&self) -> impl Iterator<Item = &Column> {
        let extra = self
            .conflicting_definitions
            .iter()
            .flat_map(|d| &d.columns)
            .filter(|c| self.column(&c.name).is_none());
        let mut seen = BTreeSet::new();
        self.columns
            .iter()
            .chain(extra)
            .filter(move |c| seen.insert(c.name.clone()))
    }

    /// The foreign key made of this one column, if there is one.
    pub fn single_column_foreign_key(&self, column: &str) -> Option<&ForeignKey> {
        self.foreign_keys
            .iter()
            .find(|fk| fk.columns.len() == 1 && fk.columns[0] == column)
    }

    /// The closed set of values a CHECK `column IN (...)` enforces on the
    /// column, if there is one.
    pub fn allowed_values(&self, column: &str) -> Option<&[String]> {
        self.check_constraints
            .iter()
            .filter(|c| !c.allowed_values.is_empty())
            .find(|c| c.column.as_deref() == Some(column))
            .map(|c| c.allowed_values.as_slice())
    }

    /// Secrets a client may send but should never get back: the OpenAPI
    /// spec marks them write-only and the Rust models never serialise them.
    /// A foreign key such as `api_key_id` only points at a credential, so it
    /// is not one.
    pub fn is_sensitive(&self, column: &Column) -> bool {
        let name = column.name.as_str();
        let secret_name = name == "encrypted_value"
            || name == "slack_webhook"
            || name.starts_with("encryption_")
            || name.starts_with("api_key")
            || name.starts_with("password")
            || name.ends_with("_token")
            || name.ends_with("_secret");
        secret_name && self.single_column_foreign_key(&column.name).is_none()
    }

    /// Apps that use the table, from every mention.
    pub fn apps(&self) -> BTreeSet<&str> {
        self.mentions
            .iter()
            .filter_map(|m| m.app.as_deref())
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: PgType,
    pub nullable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// What rows that exist when the column is added get: one SQL
    /// expression over the table's other columns (`**Backfill:**` in the
    /// document, or `backfill` in the configuration). Migration-time
    /// information, not structure: the diff never compares it, and it only
    /// matters for a NOT NULL column without a default added to a table
    /// that holds rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backfill: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_by: Option<String>,
    /// Values the documents list for this column (an inline `a/b/c`
    /// description, a named enum, or a values list). Documentation, not a
    /// constraint: CHECK constraints say what is enforced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documented_values: Vec<String>,
    /// The named enum the values came from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enum_name: Option<String>,
    /// The inferred shape of a jsonb column, from documented JSON examples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_shape: Option<JsonShape>,
    /// The name the column had before (`(renamed from `old`)` in its
    /// description): the diff renames a column of that name instead of
    /// dropping it and adding this one, so its values stay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    pub source: Source,
}

/// Whether `text` is exactly one SQL expression (sqlparser reads it to
/// the end): a default or a backfill from a document or the configuration
/// goes into the migration verbatim, so nothing else may get through.
pub fn single_expression(text: &str) -> Result<(), String> {
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;
    use sqlparser::tokenizer::Token;
    let dialect = PostgreSqlDialect {};
    let mut parser = Parser::new(&dialect)
        .try_with_sql(text)
        .map_err(|e| e.to_string())?;
    parser.parse_expr().map_err(|e| e.to_string())?;
    match parser.peek_token().token {
        Token::EOF => Ok(()),
        other => Err(format!("unexpected `{other}` after the expression")),
    }
}

impl Column {
    pub fn new(name: impl Into<String>, ty: PgType, source: Source) -> Self {
        Column {
            name: name.into(),
            ty,
            nullable: true,
            default: None,
            description: None,
            used_by: None,
            documented_values: Vec::new(),
            enum_name: None,
            json_shape: None,
            backfill: None,
            renamed_from: None,
            source,
        }
    }
}

/// How a table's columns were documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DefinitionKind {
    /// A Markdown column table: types and nullability, little else.
    Markdown,
    /// A CREATE TABLE: exact, including defaults and constraints.
    Sql,
}

/// A definition of a table that lost the merge to another source's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConflictingDefinition {
    pub source: Source,
    pub columns: Vec<Column>,
}

/// A row trigger calling a function, such as the optional `updated_at` one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    pub name: String,
    /// `BEFORE UPDATE`, `AFTER INSERT OR UPDATE`…
    pub timing: String,
    /// Schema-qualified function name, called with no arguments.
    pub function: String,
}

/// A placeholder row such as `[... property fields mirror properties table ...]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mirror {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrimaryKey {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UniqueConstraint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckConstraint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The column a column-level CHECK was written on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The boolean expression, as SQL.
    pub expression: String,
    /// For `col IN ('a', 'b')`: the closed set of values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_values: Vec<String>,
    pub source: Source,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReferentialAction {
    Cascade,
    SetNull,
    SetDefault,
    Restrict,
    NoAction,
}

impl ReferentialAction {
    pub fn as_sql(self) -> &'static str {
        match self {
            ReferentialAction::Cascade => "CASCADE",
            ReferentialAction::SetNull => "SET NULL",
            ReferentialAction::SetDefault => "SET DEFAULT",
            ReferentialAction::Restrict => "RESTRICT",
            ReferentialAction::NoAction => "NO ACTION",
        }
    }
}

/// A table that may live in another schema (`auth.users`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub table: String,
}

impl TableRef {
    /// Parses `profiles` or `auth.users`.
    pub fn parse(raw: &str) -> TableRef {
        match raw.split_once('.') {
            Some((schema, table)) => TableRef {
                schema: Some(schema.to_owned()),
                table: table.to_owned(),
            },
            None => TableRef {
                schema: None,
                table: raw.to_owned(),
            },
        }
    }

    /// Whether the table lives outside the documented schema (Supabase's
    /// `auth.users`), so it is provided by the platform, not by us.
    pub fn is_external(&self) -> bool {
        self.schema.as_deref().is_some_and(|s| s != "public")
    }
}

impl std::fmt::Display for TableRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.table),
            None => f.write_str(&self.table),
        }
    }
}

/// How the documents stated a foreign key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FkOrigin {
    /// `REFERENCES` in a CREATE TABLE.
    Sql,
    /// "FK to profiles" in a column description.
    Description,
    /// A `**Key Relationships:**` bullet.
    Relationship,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForeignKey {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub references: TableRef,
    pub referenced_columns: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_delete: Option<ReferentialAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_update: Option<ReferentialAction>,
    pub origin: FkOrigin,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IndexMethod {
    Btree,
    Hash,
    Gin,
    Gist,
    Spgist,
    Brin,
    Ivfflat,
    Hnsw,
}

impl IndexMethod {
    pub fn parse(raw: &str) -> Option<IndexMethod> {
        Some(match raw.trim().to_ascii_lowercase().as_str() {
            "btree" => IndexMethod::Btree,
            "hash" => IndexMethod::Hash,
            "gin" => IndexMethod::Gin,
            "gist" => IndexMethod::Gist,
            "spgist" => IndexMethod::Spgist,
            "brin" => IndexMethod::Brin,
            "ivfflat" => IndexMethod::Ivfflat,
            "hnsw" => IndexMethod::Hnsw,
            _ => return None,
        })
    }

    pub fn as_sql(&self) -> &'static str {
        match self {
            IndexMethod::Btree => "btree",
            IndexMethod::Hash => "hash",
            IndexMethod::Gin => "gin",
            IndexMethod::Gist => "gist",
            IndexMethod::Spgist => "spgist",
            IndexMethod::Brin => "brin",
            IndexMethod::Ivfflat => "ivfflat",
            IndexMethod::Hnsw => "hnsw",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexColumn {
    /// A column name, or an expression as SQL.
    pub expression: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub descending: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_class: Option<String>,
}

impl IndexColumn {
    pub fn column(name: impl Into<String>) -> Self {
        IndexColumn {
            expression: name.into(),
            descending: false,
            operator_class: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Index {
    pub name: String,
    pub columns: Vec<IndexColumn>,
    pub method: IndexMethod,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unique: bool,
    /// The documents said `CREATE INDEX CONCURRENTLY`: a later migration
    /// builds it without blocking writes even on a table it creates.
    /// Not part of what the index is (the catalog cannot tell).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub concurrently: bool,
    pub source: Source,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PolicyCommand {
    All,
    Select,
    Insert,
    Update,
    Delete,
}

impl PolicyCommand {
    pub fn as_sql(self) -> &'static str {
        match self {
            PolicyCommand::All => "ALL",
            PolicyCommand::Select => "SELECT",
            PolicyCommand::Insert => "INSERT",
            PolicyCommand::Update => "UPDATE",
            PolicyCommand::Delete => "DELETE",
        }
    }
}

/// Where a policy came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyOrigin {
    Sql,
    ProseRule,
    PrivacyNote,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub name: String,
    pub command: PolicyCommand,
    /// Empty means PUBLIC, as in PostgreSQL.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    pub permissive: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub using: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_check: Option<String>,
    pub origin: PolicyOrigin,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RlsRule {
    pub text: String,
    pub source: Source,
}

/// How a table came to be named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MentionKind {
    AppMapping,
    Duplicates,
    Prose,
    FkTarget,
    SqlReference,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mention {
    pub kind: MentionKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write: Option<bool>,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extension {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub source: Source,
}

/// A function, kept verbatim: we carry it into migrations, we do not
/// interpret it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Function {
    pub name: String,
    /// `name(type, type)`: the identity PostgreSQL uses for DROP FUNCTION.
    pub signature: String,
    /// Argument types, in order.
    #[serde(default)]
    pub arguments: Vec<PgType>,
    pub definition: String,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnumDef {
    pub name: String,
    pub values: Vec<String>,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonExample {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub shape: JsonShape,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlossaryEntry {
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ty: Option<PgType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
    pub section: String,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamingConvention {
    pub category: String,
    pub rule: String,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredDuplicate {
    pub tables: Vec<String>,
    pub recommendation: String,
    pub source: Source,
}

/// A number the documents claim, checked against what they contain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Claim {
    /// `Total Tables: 289`.
    TotalTables { claimed: u32, source: Source },
    /// `## Tables Used (37)` under an app.
    AppTables {
        app: String,
        claimed: u32,
        source: Source,
    },
    /// `### Complete Schema (33 Tables)` or `#### **Core System Tables (5)**`:
    /// the number of CREATE TABLEs that follow.
    SectionTables {
        section: String,
        claimed: u32,
        found: u32,
        source: Source,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct App {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub tables: BTreeSet<String>,
    pub source: Source,
}

/// Identifiers that come from documents must be plain SQL identifiers.
/// Anything else is rejected before it can reach generated SQL.
pub fn validate_identifier(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "`{name}` is not a valid identifier: use letters, digits and underscores, starting with a letter or underscore"
        ));
    }
    if name.len() > 63 {
        return Err(format!(
            "`{name}` is longer than PostgreSQL's 63-byte identifier limit"
        ));
    }
    Ok(())
}
