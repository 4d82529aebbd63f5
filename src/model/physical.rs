//! Realisation: the documented model becomes the physical schema that
//! migrations create. It keeps the tables documented with columns, adds stub
//! tables for name-only FK targets (as configured), fills in what the
//! documents imply (glossary defaults, PostgreSQL's own constraint names,
//! qualified extension objects), and leaves out what cannot be created.
//! Migrations, snapshots and the drift check all compare realised schemas.

use crate::diag::{Code, Diagnostic};
use crate::model::rls::{self, RlsOptions};
use crate::model::{
    CheckConstraint, Column, DefinitionKind, Documentation, Extension, Function, PgType,
    PrimaryKey, Schema, Source, Table, Trigger,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Which name-only tables referenced by FKs become stub tables.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stubs {
    /// Only those an FK points at.
    #[default]
    Referenced,
    /// Every name-only table.
    All,
    /// None; FKs to name-only tables are left out and reported.
    None,
}

/// The schema extensions are installed in, as on Supabase.
pub const EXTENSION_SCHEMA: &str = "extensions";

#[derive(Debug, Clone)]
pub struct RealizeOptions {
    pub stubs: Stubs,
    pub enforce_documented_enums: bool,
    pub updated_at_trigger: bool,
    pub rls: RlsOptions,
}

impl Default for RealizeOptions {
    fn default() -> Self {
        RealizeOptions {
            stubs: Stubs::Referenced,
            enforce_documented_enums: false,
            updated_at_trigger: false,
            rls: RlsOptions::default(),
        }
    }
}

/// Functions provided by extensions we qualify, so that defaults resolve
/// under an empty search_path.
const EXTENSION_FUNCTIONS: &[&str] = &[
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v3",
    "uuid_generate_v4",
    "uuid_generate_v5",
    "uuid_nil",
    "gen_random_bytes",
    "gen_salt",
    "crypt",
    "digest",
    "hmac",
];

/// pgvector's operator classes.
const EXTENSION_OPERATOR_CLASSES: &[&str] = &[
    "vector_cosine_ops",
    "vector_l2_ops",
    "vector_ip_ops",
    "vector_l1_ops",
    "halfvec_cosine_ops",
    "halfvec_l2_ops",
    "halfvec_ip_ops",
];

pub fn realize(schema: &Schema, options: &RealizeOptions) -> (Schema, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut out = Schema::default();
    let documented: BTreeSet<&str> = schema
        .documented_tables()
        .map(|t| t.name.as_str())
        .collect();
    let stubbed: BTreeSet<String> = match options.stubs {
        Stubs::None => BTreeSet::new(),
        Stubs::All => schema.name_only_tables().map(|t| t.name.clone()).collect(),
        Stubs::Referenced => schema
            .documented_tables()
            .flat_map(|t| &t.foreign_keys)
            .filter(|fk| {
                !fk.references.is_external() && !documented.contains(fk.references.table.as_str())
            })
            .map(|fk| fk.references.table.clone())
            .filter(|name| schema.tables.contains_key(name))
            .collect(),
    };
    for table in schema.documented_tables() {
        let mut table = table.clone();
        let kept: Vec<_> = std::mem::take(&mut table.foreign_keys)
            .into_iter()
            .filter(|fk| {
                let target = fk.references.table.as_str();
                if fk.references.is_external() || documented.contains(target) {
                    return true;
                }
                let is_stubbed = stubbed.contains(target);
                diagnostics.push(undocumented_fk_target(
                    &table,
                    fk,
                    is_stubbed,
                    options.stubs,
                ));
                is_stubbed
            })
            .collect();
        table.foreign_keys = kept;
        if table.defined_by == Some(DefinitionKind::Markdown) {
            apply_glossary_defaults(&mut table, schema);
        }
        if options.enforce_documented_enums {
            enforce_enums(&mut table);
        }
        qualify_extension_objects(&mut table);
        drop_redundant_indexes(&mut table);
        name_constraints(&mut table);
        if options.updated_at_trigger && table.column("updated_at").is_some() {
            table.triggers.push(Trigger {
                name: format!("{}_set_updated_at", table.name),
                timing: "BEFORE UPDATE".to_owned(),
                function: "public.set_updated_at".to_owned(),
            });
        }
        rls::apply(&mut table, &options.rls, &mut diagnostics);
        out.tables.insert(table.name.clone(), table);
    }
    for name in &stubbed {
        let mut table = stub(&schema.tables[name]);
        rls::apply(&mut table, &options.rls, &mut diagnostics);
        out.tables.insert(name.clone(), table);
    }
    out.extensions = realize_extensions(schema, &out);
    out.functions = schema.functions.clone();
    if options.updated_at_trigger {
        let function = updated_at_function();
        out.functions.insert(function.signature.clone(), function);
    }
    (out, diagnostics)
}

/// The glossary says `id` is "Primary key, auto-generated" and gives
/// `created_at`/`updated_at` as record times; Markdown tables carry no
/// defaults, so these are applied where the glossary defines the field.
fn apply_glossary_defaults(table: &mut Table, schema: &Schema) {
    let glossary = |field: &str| {
        schema
            .glossary
            .get(field)
            .and_then(|g| g.description.as_deref())
    };
    let id_generated =
        glossary("id").is_some_and(|d| d.to_ascii_lowercase().contains("auto-generated"));
    let is_pk = |name: &str| {
        table
            .primary_key
            .as_ref()
            .is_some_and(|pk| pk.columns == [name.to_owned()])
    };
    let id_is_pk = is_pk("id");
    for column in &mut table.columns {
        if column.default.is_some() {
            continue;
        }
        let timestamp = matches!(column.ty, PgType::Timestamptz | PgType::Timestamp);
        if column.name == "id" && column.ty == PgType::Uuid && id_is_pk && id_generated {
            column.default = Some("gen_random_uuid()".to_owned());
        } else if timestamp
            && ["created_at", "updated_at"].contains(&column.name.as_str())
            && glossary(&column.name).is_some()
        {
            column.default = Some("now()".to_owned());
        }
    }
}

/// Documented values become a CHECK when the configuration asks for it.
fn enforce_enums(table: &mut Table) {
    let checked: BTreeSet<String> = table
        .check_constraints
        .iter()
        .filter_map(|c| c.column.clone())
        .collect();
    for column in &table.columns {
        let text = matches!(column.ty, PgType::Text | PgType::Varchar(_));
        if column.documented_values.is_empty() || !text || checked.contains(&column.name) {
            continue;
        }
        let values: Vec<String> = column
            .documented_values
            .iter()
            .map(|v| format!("'{}'", v.replace('\'', "''")))
            .collect();
        table.check_constraints.push(CheckConstraint {
            name: None,
            column: Some(column.name.clone()),
            expression: format!(
                "{} IN ({})",
                quote_identifier(&column.name),
                values.join(", ")
            ),
            allowed_values: column.documented_values.clone(),
            source: column.source.clone(),
        });
    }
}

fn qualify_extension_objects(table: &mut Table) {
    for column in &mut table.columns {
        if let Some(default) = &column.default {
            column.default = Some(qualify_function_call(default));
        }
    }
    for index in &mut table.indexes {
        for column in &mut index.columns {
            if let Some(class) = &column.operator_class
                && EXTENSION_OPERATOR_CLASSES.contains(&class.to_ascii_lowercase().as_str())
            {
                column.operator_class =
                    Some(format!("{EXTENSION_SCHEMA}.{}", class.to_ascii_lowercase()));
            }
        }
    }
}

/// `uuid_generate_v4()` → `extensions.uuid_generate_v4()`.
fn qualify_function_call(expression: &str) -> String {
    let trimmed = expression.trim();
    let lower = trimmed.to_ascii_lowercase();
    for function in EXTENSION_FUNCTIONS {
        if lower.starts_with(&format!("{function}(")) {
            return format!("{EXTENSION_SCHEMA}.{trimmed}");
        }
    }
    trimmed.to_owned()
}

/// An index on exactly the primary key's columns duplicates the key's own
/// index; so does a second index with the same name.
fn drop_redundant_indexes(table: &mut Table) {
    let pk: Option<Vec<String>> = table.primary_key.as_ref().map(|pk| pk.columns.clone());
    let mut seen = BTreeSet::new();
    table.indexes.retain(|index| {
        let columns: Vec<String> = index.columns.iter().map(|c| c.expression.clone()).collect();
        let duplicates_pk = pk.as_ref() == Some(&columns) && !index.unique;
        !duplicates_pk && seen.insert(index.name.clone())
    });
}

/// PostgreSQL's makeObjectName: `name1_name2_label`, shortening the longer
/// part until the whole fits in 63 bytes, so our names are the names
/// PostgreSQL would choose.
pub fn pg_object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    let overhead = label.len() + 1 + usize::from(name2.is_some());
    let available = 63usize.saturating_sub(overhead);
    let (mut n1, mut n2) = (name1.len(), name2.map_or(0, str::len));
    while n1 + n2 > available {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    match name2 {
        Some(name2) => format!("{}_{}_{label}", &name1[..n1], &name2[..n2]),
        None => format!("{}_{label}", &name1[..n1]),
    }
}

/// Gives every unnamed constraint the name PostgreSQL would give it.
fn name_constraints(table: &mut Table) {
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut choose = |name1: &str, name2: Option<&str>, label: &str| -> String {
        let mut candidate = pg_object_name(name1, name2, label);
        let mut n = 0;
        while used.contains(&candidate) {
            n += 1;
            candidate = pg_object_name(name1, name2, &format!("{label}{n}"));
        }
        used.insert(candidate.clone());
        candidate
    };
    let t = table.name.clone();
    if let Some(pk) = &mut table.primary_key
        && pk.name.is_none()
    {
        pk.name = Some(choose(&t, None, "pkey"));
    }
    for unique in &mut table.unique_constraints {
        if unique.name.is_none() {
            unique.name = Some(choose(&t, Some(&unique.columns.join("_")), "key"));
        }
    }
    let columns: BTreeSet<String> = table.columns.iter().map(|c| c.name.clone()).collect();
    for check in &mut table.check_constraints {
        if check.name.is_none() {
            let referenced = referenced_columns(&check.expression, &columns);
            let single = match (&check.column, referenced.len()) {
                (_, 1) => referenced.iter().next().cloned(),
                (Some(column), 0) => Some(column.clone()),
                _ => None,
            };
            check.name = Some(choose(&t, single.as_deref(), "check"));
        }
    }
    for fk in &mut table.foreign_keys {
        if fk.name.is_none() {
            fk.name = Some(choose(&t, Some(&fk.columns.join("_")), "fkey"));
        }
    }
}

/// The table's columns an expression mentions, read with sqlparser's tokenizer.
fn referenced_columns(expression: &str, columns: &BTreeSet<String>) -> BTreeSet<String> {
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::tokenizer::{Token, Tokenizer};
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, expression).tokenize() else {
        return BTreeSet::new();
    };
    tokens
        .into_iter()
        .filter_map(|token| match token {
            Token::Word(word) => Some(word.value),
            _ => None,
        })
        .filter(|word| columns.contains(word))
        .collect()
}

/// The one `undocumented-fk-target` finding for an FK whose target has no
/// documented columns. Realisation is its only producer because only here
/// is it known what becomes of the FK: kept, pointing at a stub table, or
/// left out of the migrations, and the help says which.
fn undocumented_fk_target(
    table: &Table,
    fk: &crate::model::ForeignKey,
    is_stubbed: bool,
    stubs: Stubs,
) -> Diagnostic {
    let columns = fk.columns.join(", ");
    if is_stubbed {
        return Diagnostic::warning(
            Code::UndocumentedFkTarget,
            fk.source.span(),
            format!(
                "`{}.{columns}` references `{}`, whose columns are not documented",
                table.name, fk.references
            ),
        )
        .with_help("migrations create a stub table for it; document it to replace the stub");
    }
    let (why, help) = match stubs {
        Stubs::None => (
            "the target has no columns and stubs are off",
            "document the target table, or set `stubs: referenced` in schema/gen.yaml",
        ),
        // Stubs are on, but a stub is made only for a table of the schema.
        // Lowering adds every FK target as a name-only table, so this is
        // for schemas built otherwise.
        Stubs::Referenced | Stubs::All => (
            "the target is not a table of the schema, so no stub is made for it",
            "document the target table",
        ),
    };
    Diagnostic::warning(
        Code::UndocumentedFkTarget,
        fk.source.span(),
        format!(
            "FK `{}.{columns}` → `{}` is left out of the migrations: {why}",
            table.name, fk.references
        ),
    )
    .with_help(help)
}

fn stub(original: &Table) -> Table {
    let source = original
        .mentions
        .first()
        .map_or_else(|| original.source.clone(), |m| m.source.clone());
    let mut table = Table::new(&original.name, Documentation::NameOnly, source.clone());
    table.stub = true;
    table.module = original.module.clone();
    table.mentions = original.mentions.clone();
    table.meta.purpose = Some(format!(
        "Stub for `{}`: the documentation names this table but does not document its columns.",
        original.name
    ));
    let column = |name: &str, ty: PgType, default: &str, description: &str| {
        let mut c = Column::new(name, ty, source.clone());
        c.nullable = false;
        c.default = Some(default.to_owned());
        c.description = Some(description.to_owned());
        c
    };
    table.columns = vec![
        column(
            "id",
            PgType::Uuid,
            "gen_random_uuid()",
            "Primary key, auto-generated",
        ),
        column(
            "created_at",
            PgType::Timestamptz,
            "now()",
            "Record creation time (UTC)",
        ),
        column(
            "updated_at",
            PgType::Timestamptz,
            "now()",
            "Last modification time (UTC)",
        ),
    ];
    table.primary_key = Some(PrimaryKey {
        name: None,
        columns: vec!["id".to_owned()],
        source,
    });
    name_constraints(&mut table);
    table
}

fn realize_extensions(schema: &Schema, realized: &Schema) -> BTreeMap<String, Extension> {
    let mut extensions: BTreeMap<String, Extension> = schema
        .extensions
        .iter()
        .map(|(name, e)| {
            (
                name.clone(),
                Extension {
                    name: e.name.clone(),
                    schema: Some(EXTENSION_SCHEMA.to_owned()),
                    source: e.source.clone(),
                },
            )
        })
        .collect();
    let uses_vector = realized
        .tables
        .values()
        .flat_map(|t| &t.columns)
        .any(|c| c.ty.needs_vector_extension());
    if uses_vector && !extensions.contains_key("vector") {
        let source = realized
            .tables
            .values()
            .flat_map(|t| &t.columns)
            .find(|c| c.ty.needs_vector_extension())
            .map(|c| c.source.clone())
            .unwrap_or_else(|| Source::new("", 0));
        extensions.insert(
            "vector".to_owned(),
            Extension {
                name: "vector".to_owned(),
                schema: Some(EXTENSION_SCHEMA.to_owned()),
                source,
            },
        );
    }
    extensions
}

fn updated_at_function() -> Function {
    Function {
        name: "set_updated_at".to_owned(),
        signature: "set_updated_at()".to_owned(),
        arguments: Vec::new(),
        definition: "CREATE OR REPLACE FUNCTION public.set_updated_at() RETURNS trigger\nLANGUAGE plpgsql AS $$\nBEGIN\n  NEW.updated_at := now();\n  RETURN NEW;\nEND;\n$$;".to_owned(),
        source: Source::new("schema/gen.yaml", 1),
    }
}

/// PostgreSQL 15's reserved keywords and type/function-name keywords: the
/// words that cannot stand unquoted as a table or column name (from the
/// server's kwlist.h). Unreserved and column-name keywords are fine as they are.
const POSTGRES_RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "binary",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "natural",
    "not",
    "notnull",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "overlaps",
    "placing",
    "primary",
    "references",
    "returning",
    "right",
    "select",
    "session_user",
    "similar",
    "some",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
];

/// Quotes an identifier when PostgreSQL needs it: when it is not a plain
/// lower-case name, or when it is a reserved word. Names from documents are
/// validated before they get here; quoting is the second line of defence.
pub fn quote_identifier(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain && !POSTGRES_RESERVED.contains(&name) {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_like_postgresql() {
        assert_eq!(
            pg_object_name("users", Some("plan"), "check"),
            "users_plan_check"
        );
        assert_eq!(pg_object_name("users", None, "pkey"), "users_pkey");
        let long = pg_object_name(
            "javari_credentials",
            Some("user_id_project_id_subproject_id_name"),
            "key",
        );
        assert_eq!(
            long,
            "javari_credentials_user_id_project_id_subproject_id_name_key"
        );
        let truncated = pg_object_name(&"a".repeat(40), Some(&"b".repeat(40)), "fkey");
        assert_eq!(truncated.len(), 63);
    }

    #[test]
    fn quotes_keywords_and_odd_names() {
        assert_eq!(quote_identifier("users"), "users");
        assert_eq!(quote_identifier("timestamp"), "timestamp");
        assert_eq!(quote_identifier("user"), "\"user\"");
        assert_eq!(quote_identifier("x\"; DROP"), "\"x\"\"; DROP\"");
        assert_eq!(quote_identifier("Mixed"), "\"Mixed\"");
    }

    #[test]
    fn qualifies_extension_functions() {
        assert_eq!(
            qualify_function_call("uuid_generate_v4()"),
            "extensions.uuid_generate_v4()"
        );
        assert_eq!(qualify_function_call("NOW()"), "NOW()");
    }
}
