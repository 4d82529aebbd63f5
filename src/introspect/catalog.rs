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

/// Where facts read from the database "come from" in the model: drift items
/// show the documents' line, and the live side has none.
fn live_source() -> Source {
    Source::new("database", 0)
}

/// What failed, and why.
pub type QueryError = (&'static str, sqlx::Error);

const TABLES: &str = "
SELECT n.nspname::text, c.relname::text, c.relrowsecurity, c.relforcerowsecurity,
       obj_description(c.oid, 'pg_class')
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2";

const COLUMNS: &str = "
SELECT n.nspname::text, c.relname::text, a.attname::text,
       format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), col_description(c.oid, a.attnum)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = ANY($1)
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY 1, 2, a.attnum";

const CONSTRAINTS: &str = "
SELECT n.nspname::text, c.relname::text, con.conname::text, con.contype::text,
       pg_get_expr(con.conbin, con.conrelid, true),
       ARRAY(SELECT a.attname::text
             FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord),
       fn.nspname::text, fc.relname::text,
       ARRAY(SELECT a.attname::text
             FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
             ORDER BY k.ord),
       con.confdeltype::text, con.confupdtype::text
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE con.contype IN ('p', 'u', 'f', 'c') AND n.nspname = ANY($1)
ORDER BY 1, 2, 3";

/// Indexes that do not back a PRIMARY KEY, UNIQUE or EXCLUDE constraint (those
/// are the constraints'). Columns come from `pg_get_indexdef(oid, k, true)`,
/// one per key column; a non-default operator class is schema-qualified.
const INDEXES: &str = "
SELECT n.nspname::text, t.relname::text, i.relname::text, am.amname::text, ix.indisunique,
       ARRAY(SELECT pg_get_indexdef(ix.indexrelid, k, true)
             FROM generate_series(1, ix.indnkeyatts) AS k ORDER BY k),
       ARRAY(SELECT (ix.indoption[k - 1] & 1) = 1
             FROM generate_series(1, ix.indnkeyatts) AS k ORDER BY k),
       ARRAY(SELECT CASE WHEN oc.opcdefault THEN '' ELSE ocn.nspname || '.' || oc.opcname END
             FROM generate_series(1, ix.indnkeyatts) AS k
             JOIN pg_opclass oc ON oc.oid = ix.indclass[k - 1]
             JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace
             ORDER BY k)
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_am am ON am.oid = i.relam
WHERE n.nspname = ANY($1) AND t.relkind IN ('r', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con
                  WHERE con.conindid = ix.indexrelid AND con.conrelid = ix.indrelid
                    AND con.contype IN ('p', 'u', 'x'))
ORDER BY 1, 2, 3";

const POLICIES: &str = "
SELECT schemaname::text, tablename::text, policyname::text, permissive, roles::text[], cmd,
       qual, with_check
FROM pg_policies
WHERE schemaname = ANY($1)
ORDER BY 1, 2, 3";

const TRIGGERS: &str = "
SELECT n.nspname::text, c.relname::text, t.tgname::text, t.tgtype::int4,
       pn.nspname::text, p.proname::text
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
SELECT n.nspname::text, p.proname::text,
       ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) WITH ORDINALITY AS a(t, ord)
             ORDER BY a.ord)
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY($1) AND p.prokind = 'f'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
ORDER BY 1, 2";

const EXTENSIONS: &str = "
SELECT e.extname::text, n.nspname::text
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

/// Reads everything inside one READ ONLY transaction, which is rolled back:
/// nothing here writes, and the transaction proves it.
pub async fn read_schema(
    connection: &mut PgConnection,
    options: &IntrospectOptions,
) -> Result<Schema, QueryError> {
    let mut transaction = begin_read_only(connection, options.statement_timeout).await?;
    let schemas = &options.schemas;
    let mut builder = Builder::new(options);

    let rows: Vec<(String, String, bool, bool, Option<String>)> = sqlx::query_as(TABLES)
        .bind(schemas)
        .fetch_all(&mut *transaction)
        .await
        .map_err(|e| ("tables", e))?;
    for (schema, name, rls, force, comment) in rows {
        builder.table(&schema, &name, rls, force, comment);
    }

    type ColumnRow = (
        String,
        String,
        String,
        String,
        bool,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<ColumnRow> = sqlx::query_as(COLUMNS)
        .bind(schemas)
        .fetch_all(&mut *transaction)
        .await
        .map_err(|e| ("columns", e))?;
    for (schema, table, name, ty, not_null, default, comment) in rows {
        if let Some(t) = builder.get(&schema, &table) {
            let mut column = Column::new(name, PgType::parse(&ty), live_source());
            column.nullable = !not_null;
            column.default = default;
            column.description = comment;
            t.columns.push(column);
        }
    }

    type ConstraintRow = (
        String,
        String,
        String,
        String,
        Option<String>,
        Vec<String>,
        Option<String>,
        Option<String>,
        Vec<String>,
        String,
        String,
    );
    let rows: Vec<ConstraintRow> = sqlx::query_as(CONSTRAINTS)
        .bind(schemas)
        .fetch_all(&mut *transaction)
        .await
        .map_err(|e| ("constraints", e))?;
    for row in rows {
        let (
            schema,
            table,
            name,
            kind,
            check,
            columns,
            ref_schema,
            ref_table,
            ref_columns,
            del,
            upd,
        ) = row;
        let Some(t) = builder.get(&schema, &table) else {
            continue;
        };
        let name = Some(name);
        match kind.as_str() {
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
                expression: check.unwrap_or_default(),
                allowed_values: Vec::new(),
                source: live_source(),
            }),
            _ => t.foreign_keys.push(ForeignKey {
                name,
                columns,
                references: TableRef {
                    schema: ref_schema.filter(|s| s != "public"),
                    table: ref_table.unwrap_or_default(),
                },
                referenced_columns: ref_columns,
                on_delete: referential_action(&del),
                on_update: referential_action(&upd),
                origin: FkOrigin::Sql,
                source: live_source(),
            }),
        }
    }

    type IndexRow = (
        String,
        String,
        String,
        String,
        bool,
        Vec<String>,
        Vec<bool>,
        Vec<String>,
    );
    let rows: Vec<IndexRow> = sqlx::query_as(INDEXES)
        .bind(schemas)
        .fetch_all(&mut *transaction)
        .await
        .map_err(|e| ("indexes", e))?;
    for (schema, table, name, method, unique, expressions, descending, classes) in rows {
        let Some(t) = builder.get(&schema, &table) else {
            continue;
        };
        let columns = expressions
            .into_iter()
            .zip(descending)
            .zip(classes)
            .map(|((expression, descending), class)| IndexColumn {
                expression,
                descending,
                operator_class: (!class.is_empty()).then_some(class),
            })
            .collect();
        t.indexes.push(Index {
            name,
            columns,
            // An access method we do not model (bloom, say) still shows up
            // as an index; btree is the closest thing to "some index".
            method: IndexMethod::parse(&method).unwrap_or(IndexMethod::Btree),
            unique,
            source: live_source(),
        });
    }

    type PolicyRow = (
        String,
        String,
        String,
        String,
        Vec<String>,
        String,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<PolicyRow> = sqlx::query_as(POLICIES)
        .bind(schemas)
        .fetch_all(&mut *transaction)
        .await
        .map_err(|e| ("policies", e))?;
    for (schema, table, name, permissive, roles, command, using, with_check) in rows {
        let Some(t) = builder.get(&schema, &table) else {
            continue;
        };
        t.policies.push(Policy {
            name,
            command: match command.as_str() {
                "SELECT" => PolicyCommand::Select,
                "INSERT" => PolicyCommand::Insert,
                "UPDATE" => PolicyCommand::Update,
                "DELETE" => PolicyCommand::Delete,
                _ => PolicyCommand::All,
            },
            // PostgreSQL lists PUBLIC as the role `public`; the model says
            // PUBLIC with no roles.
            roles: roles.into_iter().filter(|r| r != "public").collect(),
            permissive: permissive == "PERMISSIVE",
            using,
            with_check,
            origin: PolicyOrigin::Sql,
            source: live_source(),
        });
    }

    let rows: Vec<(String, String, String, i32, String, String)> = sqlx::query_as(TRIGGERS)
        .bind(schemas)
        .fetch_all(&mut *transaction)
        .await
        .map_err(|e| ("triggers", e))?;
    for (schema, table, name, kind, function_schema, function) in rows {
        let Some(t) = builder.get(&schema, &table) else {
            continue;
        };
        t.triggers.push(Trigger {
            name,
            timing: trigger_timing(kind),
            function: format!("{function_schema}.{function}"),
        });
    }

    let rows: Vec<(String, String, Vec<String>)> = sqlx::query_as(FUNCTIONS)
        .bind(schemas)
        .fetch_all(&mut *transaction)
        .await
        .map_err(|e| ("functions", e))?;
    let mut functions = Vec::new();
    for (_schema, name, arguments) in rows {
        let arguments: Vec<PgType> = arguments.iter().map(|a| PgType::parse(a)).collect();
        let signature = format!(
            "{name}({})",
            arguments
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        functions.push(Function {
            name,
            signature,
            arguments,
            definition: String::new(),
            source: live_source(),
        });
    }

    let rows: Vec<(String, String)> = sqlx::query_as(EXTENSIONS)
        .fetch_all(&mut *transaction)
        .await
        .map_err(|e| ("extensions", e))?;

    // Nothing was written; rolling back rather than committing says so.
    transaction
        .rollback()
        .await
        .map_err(|e| ("end the read-only transaction", e))?;

    let mut schema = builder.finish();
    for function in functions {
        schema
            .functions
            .insert(function.signature.clone(), function);
    }
    for (name, extension_schema) in rows {
        schema.extensions.insert(
            name.clone(),
            Extension {
                name,
                schema: Some(extension_schema),
                source: live_source(),
            },
        );
    }
    Ok(schema)
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

    fn table(
        &mut self,
        schema: &str,
        name: &str,
        rls: bool,
        _force: bool,
        comment: Option<String>,
    ) {
        let key = Self::key(schema, name);
        if self.options.ignored_tables.contains(&key) {
            return;
        }
        let mut table = Table::new(key.clone(), Documentation::Full, live_source());
        table.rls_enabled = rls;
        table.meta.purpose = comment;
        self.schema.tables.insert(key, table);
    }

    fn get(&mut self, schema: &str, table: &str) -> Option<&mut Table> {
        self.schema.tables.get_mut(&Self::key(schema, table))
    }

    fn finish(self) -> Schema {
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
