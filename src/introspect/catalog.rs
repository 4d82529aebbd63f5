//! The catalog queries, one per kind of object, and the assembly of their
//! rows into a `Schema`. Every query takes the schema list as `$1` and
//! returns rows for all tables at once.

use super::IntrospectOptions;
use crate::model::{
    CheckConstraint, Column, Documentation, Extension, FkOrigin, ForeignKey, Function, Index,
    IndexColumn, IndexMethod, PgType, Policy, PolicyCommand, PolicyOrigin, PrimaryKey,
    ReferentialAction, Schema, Source, Table, TableRef, Trigger, UniqueConstraint,
};
use sqlx::postgres::{PgConnection, Postgres};
use sqlx::{AssertSqlSafe, Connection, Transaction};
use std::collections::HashMap;

/// Where facts read from the database "come from" in the model: drift items
/// show the documents' line, and the live side has none.
fn live_source() -> Source {
    Source::new("database", 0)
}

/// What failed, and why.
pub type QueryError = (&'static str, sqlx::Error);

// Comments come from joins on pg_description rather than obj_description()
// and col_description(), which run a query per row.
const TABLES: &str = "
SELECT n.nspname::text AS schema_name, c.relname::text AS table_name,
       c.relrowsecurity AS rls_enabled, dsc.description AS comment
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_description dsc
       ON dsc.objoid = c.oid AND dsc.classoid = 'pg_class'::regclass AND dsc.objsubid = 0
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2";

const COLUMNS: &str = "
SELECT n.nspname::text AS schema_name, c.relname::text AS table_name,
       a.attnum AS column_number, a.attname::text AS column_name,
       format_type(a.atttypid, a.atttypmod) AS column_type, a.attnotnull AS not_null,
       -- A default cannot refer to columns, so it deparses without opening
       -- the table (relid 0), which is several times faster; a generated
       -- column's expression can, so it gets the table.
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, 0)
            ELSE pg_get_expr(d.adbin, d.adrelid) END AS default_expression,
       dsc.description AS comment
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_description dsc
       ON dsc.objoid = c.oid AND dsc.classoid = 'pg_class'::regclass AND dsc.objsubid = a.attnum
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = ANY($1)
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum";

/// Column numbers (`conkey`, `confkey`) are turned into names from the
/// columns query, without a subquery per constraint; only an FK to a table
/// outside the compared schemas (`auth.users`) has its names looked up here.
const CONSTRAINTS: &str = "
SELECT n.nspname::text AS schema_name, c.relname::text AS table_name,
       con.conname::text AS constraint_name, con.contype::text AS constraint_type,
       pg_get_expr(con.conbin, con.conrelid, true) AS check_expression,
       con.conkey AS column_numbers, fn.nspname::text AS referenced_schema,
       fc.relname::text AS referenced_table, con.confkey AS referenced_column_numbers,
       CASE WHEN con.contype = 'f' AND NOT fn.nspname = ANY($1) THEN
         ARRAY(SELECT a.attname::text
               FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
               ORDER BY k.ord)
       END AS referenced_column_names,
       con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE con.contype IN ('p', 'u', 'f', 'c') AND n.nspname = ANY($1)";

/// Indexes that do not back a PRIMARY KEY, UNIQUE or EXCLUDE constraint (those
/// are the constraints'), one row per key column in order. A plain column is
/// its number, named from the columns query; only expression columns go
/// through `pg_get_indexdef(oid, k, true)`.
/// A non-default operator class is schema-qualified.
const INDEXES: &str = "
SELECT n.nspname::text AS schema_name, t.relname::text AS table_name,
       i.relname::text AS index_name, am.amname::text AS access_method,
       ix.indisunique AS is_unique, k.attnum AS column_number,
       CASE WHEN k.attnum = 0 THEN pg_get_indexdef(ix.indexrelid, k.ord::int, true) END
         AS expression,
       (ix.indoption[k.ord - 1] & 1) = 1 AS is_descending,
       CASE WHEN oc.opcdefault THEN '' ELSE ocn.nspname || '.' || oc.opcname END
         AS operator_class
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_am am ON am.oid = i.relam
CROSS JOIN LATERAL unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_opclass oc ON oc.oid = ix.indclass[k.ord - 1]
JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace
WHERE n.nspname = ANY($1) AND t.relkind IN ('r', 'p') AND k.ord <= ix.indnkeyatts
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con
                  WHERE con.conindid = ix.indexrelid AND con.conrelid = ix.indrelid
                    AND con.contype IN ('p', 'u', 'x'))
ORDER BY ix.indexrelid, k.ord";

const POLICIES: &str = "
SELECT schemaname::text AS schema_name, tablename::text AS table_name,
       policyname::text AS policy_name, permissive, roles::text[] AS roles, cmd AS command,
       qual AS using_expression, with_check
FROM pg_policies
WHERE schemaname = ANY($1)
ORDER BY 1, 2, 3";

const TRIGGERS: &str = "
SELECT n.nspname::text AS schema_name, c.relname::text AS table_name,
       t.tgname::text AS trigger_name, t.tgtype::int4 AS trigger_type,
       pn.nspname::text AS function_schema, p.proname::text AS function_name
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_proc p ON p.oid = t.tgfoid
JOIN pg_namespace pn ON pn.oid = p.pronamespace
WHERE NOT t.tgisinternal AND n.nspname = ANY($1)
ORDER BY 1, 2, 3";

/// Functions in the compared schemas, except those an extension installed.
/// Bodies are not compared (the documents keep them verbatim, PostgreSQL
/// reformats them); the argument types identify a function.
const FUNCTIONS: &str = "
SELECT p.proname::text AS function_name,
       ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) WITH ORDINALITY AS a(t, ord)
             ORDER BY a.ord) AS argument_types
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY($1) AND p.prokind = 'f'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
ORDER BY n.nspname, p.proname";

const EXTENSIONS: &str = "
SELECT e.extname::text AS extension_name, n.nspname::text AS schema_name
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname <> 'plpgsql'
ORDER BY 1";

/// Starts the transaction introspection runs in: READ ONLY, so that the
/// server itself rejects any write (SQLSTATE 25006), REPEATABLE READ, so
/// that every query sees one snapshot, with the statement timeout, and with
/// only `pg_catalog` on the search_path, so that expressions are deparsed
/// with every user object schema-qualified.
pub async fn begin_read_only(
    connection: &mut PgConnection,
    statement_timeout: std::time::Duration,
) -> Result<Transaction<'_, Postgres>, QueryError> {
    let mut transaction = connection
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .map_err(|e| ("begin a read-only transaction", e))?;
    let timeout_ms = statement_timeout.as_millis().max(1);
    let set_timeout = format!("SET LOCAL statement_timeout = {timeout_ms}");
    sqlx::raw_sql(AssertSqlSafe(set_timeout))
        .execute(&mut *transaction)
        .await
        .map_err(|e| ("set statement_timeout", e))?;
    sqlx::raw_sql("SET LOCAL search_path = pg_catalog")
        .execute(&mut *transaction)
        .await
        .map_err(|e| ("set search_path", e))?;
    Ok(transaction)
}

// One struct per query, its fields named as the query's columns: sqlx
// decodes them by name, so a column added to a query cannot shift the rest.

#[derive(sqlx::FromRow)]
struct TableRow {
    schema_name: String,
    table_name: String,
    rls_enabled: bool,
    comment: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ColumnRow {
    schema_name: String,
    table_name: String,
    column_number: i16,
    column_name: String,
    column_type: String,
    not_null: bool,
    default_expression: Option<String>,
    comment: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ConstraintRow {
    schema_name: String,
    table_name: String,
    constraint_name: String,
    /// `p`, `u`, `f` or `c`.
    constraint_type: String,
    check_expression: Option<String>,
    column_numbers: Option<Vec<i16>>,
    referenced_schema: Option<String>,
    referenced_table: Option<String>,
    referenced_column_numbers: Option<Vec<i16>>,
    /// Only for an FK to a table outside the compared schemas.
    referenced_column_names: Option<Vec<String>>,
    /// `pg_constraint.confdeltype`'s letter.
    on_delete: String,
    on_update: String,
}

/// One key column of one index.
#[derive(sqlx::FromRow)]
struct IndexRow {
    schema_name: String,
    table_name: String,
    index_name: String,
    access_method: String,
    is_unique: bool,
    /// 0 for an expression column.
    column_number: i16,
    expression: Option<String>,
    is_descending: bool,
    /// Empty for the type's default class.
    operator_class: String,
}

#[derive(sqlx::FromRow)]
struct PolicyRow {
    schema_name: String,
    table_name: String,
    policy_name: String,
    /// `PERMISSIVE` or `RESTRICTIVE`.
    permissive: String,
    roles: Vec<String>,
    command: String,
    using_expression: Option<String>,
    with_check: Option<String>,
}

#[derive(sqlx::FromRow)]
struct TriggerRow {
    schema_name: String,
    table_name: String,
    trigger_name: String,
    /// `pg_trigger.tgtype`'s bits.
    trigger_type: i32,
    function_schema: String,
    function_name: String,
}

#[derive(sqlx::FromRow)]
struct FunctionRow {
    function_name: String,
    argument_types: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct ExtensionRow {
    extension_name: String,
    schema_name: String,
}

/// Every row the queries return, before assembly.
#[derive(Default)]
pub(super) struct Rows {
    tables: Vec<TableRow>,
    columns: Vec<ColumnRow>,
    constraints: Vec<ConstraintRow>,
    indexes: Vec<IndexRow>,
    policies: Vec<PolicyRow>,
    triggers: Vec<TriggerRow>,
    functions: Vec<FunctionRow>,
    extensions: Vec<ExtensionRow>,
}

async fn fetch<R>(
    connection: &mut PgConnection,
    what: &'static str,
    sql: &'static str,
    schemas: &[String],
) -> Result<Vec<R>, QueryError>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    sqlx::query_as(sql)
        .bind(schemas)
        .fetch_all(connection)
        .await
        .map_err(|e| (what, e))
}

/// The queries in four groups of about equal cost, so that `introspect` can
/// run the groups on four connections at once.
pub(super) async fn group_tables(
    connection: &mut PgConnection,
    schemas: &[String],
) -> Result<Rows, QueryError> {
    Ok(Rows {
        tables: fetch(connection, "tables", TABLES, schemas).await?,
        columns: fetch(connection, "columns", COLUMNS, schemas).await?,
        ..Rows::default()
    })
}

pub(super) async fn group_constraints(
    connection: &mut PgConnection,
    schemas: &[String],
) -> Result<Rows, QueryError> {
    Ok(Rows {
        constraints: fetch(connection, "constraints", CONSTRAINTS, schemas).await?,
        ..Rows::default()
    })
}

pub(super) async fn group_indexes(
    connection: &mut PgConnection,
    schemas: &[String],
) -> Result<Rows, QueryError> {
    Ok(Rows {
        indexes: fetch(connection, "indexes", INDEXES, schemas).await?,
        ..Rows::default()
    })
}

pub(super) async fn group_rest(
    connection: &mut PgConnection,
    schemas: &[String],
) -> Result<Rows, QueryError> {
    Ok(Rows {
        policies: fetch(connection, "policies", POLICIES, schemas).await?,
        triggers: fetch(connection, "triggers", TRIGGERS, schemas).await?,
        functions: fetch(connection, "functions", FUNCTIONS, schemas).await?,
        extensions: sqlx::query_as(EXTENSIONS)
            .fetch_all(connection)
            .await
            .map_err(|e| ("extensions", e))?,
        ..Rows::default()
    })
}

impl Rows {
    pub(super) fn merge(mut self, other: Rows) -> Rows {
        self.tables.extend(other.tables);
        self.columns.extend(other.columns);
        self.constraints.extend(other.constraints);
        self.indexes.extend(other.indexes);
        self.policies.extend(other.policies);
        self.triggers.extend(other.triggers);
        self.functions.extend(other.functions);
        self.extensions.extend(other.extensions);
        self
    }
}

/// Reads everything inside one READ ONLY transaction on one connection,
/// which is rolled back: nothing here writes, and the transaction proves it.
/// (`introspect` does the same on four connections sharing one snapshot.)
pub async fn read_schema(
    connection: &mut PgConnection,
    options: &IntrospectOptions,
) -> Result<Schema, QueryError> {
    let mut transaction = begin_read_only(connection, options.statement_timeout).await?;
    let schemas = &options.schemas;
    let rows = group_tables(&mut transaction, schemas)
        .await?
        .merge(group_constraints(&mut transaction, schemas).await?)
        .merge(group_indexes(&mut transaction, schemas).await?)
        .merge(group_rest(&mut transaction, schemas).await?);
    // Nothing was written; rolling back rather than committing says so.
    transaction
        .rollback()
        .await
        .map_err(|e| ("end the read-only transaction", e))?;
    Ok(assemble(rows, options))
}

/// Builds the model from the rows.
pub(super) fn assemble(rows: Rows, options: &IntrospectOptions) -> Schema {
    let mut builder = Builder::new(options);
    for row in rows.tables {
        builder.table(row);
    }
    let names = add_columns(&mut builder, rows.columns);
    add_constraints(&mut builder, &names, rows.constraints);
    add_indexes(&mut builder, &names, rows.indexes);
    add_policies(&mut builder, rows.policies);
    add_triggers(&mut builder, rows.triggers);
    let functions: Vec<Function> = rows.functions.into_iter().map(function).collect();

    let mut schema = builder.finish();
    for function in functions {
        schema
            .functions
            .insert(function.signature.clone(), function);
    }
    for row in rows.extensions {
        schema.extensions.insert(
            row.extension_name.clone(),
            Extension {
                name: row.extension_name,
                schema: Some(row.schema_name),
                source: live_source(),
            },
        );
    }
    schema
}

/// Column names by table and number, for constraints and indexes, which
/// the catalog gives as numbers.
#[derive(Default)]
struct ColumnNames {
    by_table: HashMap<(String, String), HashMap<i16, String>>,
}

impl ColumnNames {
    /// The names of `numbers` in a table; `#n` for a number with no name.
    fn named(&self, schema: &str, table: &str, numbers: &[i16]) -> Vec<String> {
        let columns = self.by_table.get(&(schema.to_owned(), table.to_owned()));
        numbers
            .iter()
            .map(|n| {
                columns
                    .and_then(|c| c.get(n))
                    .cloned()
                    .unwrap_or_else(|| format!("#{n}"))
            })
            .collect()
    }
}

fn add_columns(builder: &mut Builder<'_>, rows: Vec<ColumnRow>) -> ColumnNames {
    let mut names = ColumnNames::default();
    for row in rows {
        names
            .by_table
            .entry((row.schema_name.clone(), row.table_name.clone()))
            .or_default()
            .insert(row.column_number, row.column_name.clone());
        if let Some(t) = builder.get(&row.schema_name, &row.table_name) {
            let mut column = Column::new(
                row.column_name,
                PgType::parse(&row.column_type),
                live_source(),
            );
            column.nullable = !row.not_null;
            column.default = row.default_expression;
            column.description = row.comment;
            t.columns.push(column);
        }
    }
    names
}

fn add_constraints(builder: &mut Builder<'_>, names: &ColumnNames, mut rows: Vec<ConstraintRow>) {
    // Name order, so that what the database has is listed the same way on
    // every run and every server.
    rows.sort_by(|a, b| {
        (&a.schema_name, &a.table_name, &a.constraint_name).cmp(&(
            &b.schema_name,
            &b.table_name,
            &b.constraint_name,
        ))
    });
    for row in rows {
        let columns = names.named(
            &row.schema_name,
            &row.table_name,
            &row.column_numbers.unwrap_or_default(),
        );
        let ref_columns = match (
            &row.referenced_schema,
            &row.referenced_table,
            row.referenced_column_names,
        ) {
            (_, _, Some(names)) => names,
            (Some(s), Some(t), None) => {
                names.named(s, t, &row.referenced_column_numbers.unwrap_or_default())
            }
            _ => Vec::new(),
        };
        let Some(t) = builder.get(&row.schema_name, &row.table_name) else {
            continue;
        };
        let name = Some(row.constraint_name);
        match row.constraint_type.as_str() {
            "p" => {
                t.primary_key = Some(PrimaryKey {
                    name,
                    columns,
                    source: live_source(),
                })
            }
            "u" => t.unique_constraints.push(UniqueConstraint {
                name,
                columns,
                source: live_source(),
            }),
            "c" => t.check_constraints.push(CheckConstraint {
                name,
                column: (columns.len() == 1).then(|| columns[0].clone()),
                expression: row.check_expression.unwrap_or_default(),
                allowed_values: Vec::new(),
                source: live_source(),
            }),
            _ => t.foreign_keys.push(ForeignKey {
                name,
                columns,
                references: TableRef {
                    schema: row.referenced_schema.filter(|s| s != "public"),
                    table: row.referenced_table.unwrap_or_default(),
                },
                referenced_columns: ref_columns,
                on_delete: referential_action(&row.on_delete),
                on_update: referential_action(&row.on_update),
                origin: FkOrigin::Sql,
                source: live_source(),
            }),
        }
    }
}

fn add_indexes(builder: &mut Builder<'_>, names: &ColumnNames, rows: Vec<IndexRow>) {
    for row in rows {
        let expression = row.expression.unwrap_or_else(|| {
            names
                .named(&row.schema_name, &row.table_name, &[row.column_number])
                .remove(0)
        });
        let Some(t) = builder.get(&row.schema_name, &row.table_name) else {
            continue;
        };
        let column = IndexColumn {
            expression,
            descending: row.is_descending,
            operator_class: (!row.operator_class.is_empty()).then_some(row.operator_class),
        };
        // Rows come ordered by index and key position: a row continues the
        // last index when it has the same name.
        match t.indexes.last_mut() {
            Some(index) if index.name == row.index_name => index.columns.push(column),
            _ => t.indexes.push(Index {
                name: row.index_name,
                columns: vec![column],
                // An access method we do not model (bloom, say) still shows
                // up as an index; btree is the closest thing to "some index".
                method: IndexMethod::parse(&row.access_method).unwrap_or(IndexMethod::Btree),
                unique: row.is_unique,
                concurrently: false,
                source: live_source(),
            }),
        }
    }
}

fn add_policies(builder: &mut Builder<'_>, rows: Vec<PolicyRow>) {
    for row in rows {
        let Some(t) = builder.get(&row.schema_name, &row.table_name) else {
            continue;
        };
        t.policies.push(Policy {
            name: row.policy_name,
            command: match row.command.as_str() {
                "SELECT" => PolicyCommand::Select,
                "INSERT" => PolicyCommand::Insert,
                "UPDATE" => PolicyCommand::Update,
                "DELETE" => PolicyCommand::Delete,
                _ => PolicyCommand::All,
            },
            // PostgreSQL lists PUBLIC as the role `public`; the model says
            // PUBLIC with no roles.
            roles: row.roles.into_iter().filter(|r| r != "public").collect(),
            permissive: row.permissive == "PERMISSIVE",
            using: row.using_expression,
            with_check: row.with_check,
            origin: PolicyOrigin::Sql,
            source: live_source(),
        });
    }
}

fn add_triggers(builder: &mut Builder<'_>, rows: Vec<TriggerRow>) {
    for row in rows {
        let Some(t) = builder.get(&row.schema_name, &row.table_name) else {
            continue;
        };
        t.triggers.push(Trigger {
            name: row.trigger_name,
            timing: trigger_timing(row.trigger_type),
            function: format!("{}.{}", row.function_schema, row.function_name),
        });
    }
}

fn function(row: FunctionRow) -> Function {
    let arguments: Vec<PgType> = row
        .argument_types
        .iter()
        .map(|a| PgType::parse(a))
        .collect();
    let signature = format!(
        "{}({})",
        row.function_name,
        arguments
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Function {
        name: row.function_name,
        signature,
        arguments,
        definition: String::new(),
        source: live_source(),
    }
}

fn referential_action(code: &str) -> Option<ReferentialAction> {
    match code {
        "c" => Some(ReferentialAction::Cascade),
        "n" => Some(ReferentialAction::SetNull),
        "d" => Some(ReferentialAction::SetDefault),
        "r" => Some(ReferentialAction::Restrict),
        "a" => Some(ReferentialAction::NoAction),
        _ => None,
    }
}

/// `BEFORE UPDATE`, `AFTER INSERT OR UPDATE`… from `pg_trigger.tgtype`'s bits
/// (see PostgreSQL's `pg_trigger.h`).
fn trigger_timing(kind: i32) -> String {
    let when = if kind & 2 != 0 {
        "BEFORE"
    } else if kind & 64 != 0 {
        "INSTEAD OF"
    } else {
        "AFTER"
    };
    let events: Vec<&str> = [
        (4, "INSERT"),
        (16, "UPDATE"),
        (8, "DELETE"),
        (32, "TRUNCATE"),
    ]
    .into_iter()
    .filter(|(bit, _)| kind & bit != 0)
    .map(|(_, name)| name)
    .collect();
    format!("{when} {}", events.join(" OR "))
}

/// Collects tables by name. Tables outside `public` are keyed
/// `schema.table`, as the documents would name them.
struct Builder<'a> {
    options: &'a IntrospectOptions,
    schema: Schema,
}

impl<'a> Builder<'a> {
    fn new(options: &'a IntrospectOptions) -> Self {
        Builder {
            options,
            schema: Schema::default(),
        }
    }

    fn key(schema: &str, table: &str) -> String {
        if schema == "public" {
            table.to_owned()
        } else {
            format!("{schema}.{table}")
        }
    }

    fn table(&mut self, row: TableRow) {
        let key = Self::key(&row.schema_name, &row.table_name);
        if self.options.ignored_tables.contains(&key) {
            return;
        }
        let mut table = Table::new(key.clone(), Documentation::Full, live_source());
        table.rls_enabled = row.rls_enabled;
        table.meta.purpose = row.comment;
        self.schema.tables.insert(key, table);
    }

    fn get(&mut self, schema: &str, table: &str) -> Option<&mut Table> {
        self.schema.tables.get_mut(&Self::key(schema, table))
    }

    fn finish(mut self) -> Schema {
        // Index rows arrive in catalog order; name order is the same on
        // every server.
        for table in self.schema.tables.values_mut() {
            table.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        }
        self.schema
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_trigger_types() {
        // ROW | BEFORE | UPDATE
        assert_eq!(trigger_timing(1 | 2 | 16), "BEFORE UPDATE");
        // ROW | INSERT | UPDATE, AFTER
        assert_eq!(trigger_timing(1 | 4 | 16), "AFTER INSERT OR UPDATE");
    }
}
