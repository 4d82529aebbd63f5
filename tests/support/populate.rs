//! A populated database for migration tests: every table of a realised
//! schema filled with at least N rows (1,000 by default) that satisfy every
//! foreign key, UNIQUE and CHECK constraint, and a snapshot of the data
//! (row counts and checksums per table and per column) to compare a
//! database before and after a migration.
//!
//! Filling is set-based: one `INSERT … SELECT … FROM generate_series(1, N)`
//! per table, in foreign-key order, every value an SQL expression of the row
//! number `n`. Keys are the same function of `n` in every table, so row `n`
//! of a child points at row `n` of each parent and the foreign keys hold by
//! construction; a per-row loop (as in `rows.rs`) would take minutes for
//! 44 tables × 1,000 rows. Nullable columns are filled too, so that a test
//! can see a migration lose data in them; a column is left NULL only when a
//! CHECK constraint refuses the generated values (the INSERT, rolled back,
//! is tried again with one column it mentions NULL; see
//! [`Populated::left_null`]). A self-reference points at the row itself; an
//! FK closing a cycle points at the later parent's row n, inserted with
//! triggers off and verified once that parent is filled.
//!
//! Building the data takes a second or two; [`populated_template`] builds it
//! once per test process and returns a template database to copy per
//! scenario with `fresh_db_from`.
//!
//! ```ignore
//! let template = support::populate::populated_template(&project, DEFAULT_ROWS);
//! let db = support::db::fresh_db_from(&template).await;
//! let before = data_state(&db).await;
//! db.run(&migration).await;
//! assert_eq!(before.diff_except(&data_state(&db).await, &except), "");
//! ```

use super::db::{TestDb, describe_error, fresh_db};
use schemagen::Project;
use schemagen::model::physical::quote_identifier;
use schemagen::model::{PgType, Schema, Table};
use sqlx::{AssertSqlSafe, Row};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, OnceLock, PoisonError};

/// The row count the issue asks for: "every documented table holds at least
/// 1,000 FK-consistent rows".
pub const DEFAULT_ROWS: u64 = 1_000;

/// The row number in every generated expression.
const N: &str = "g.n";

/// What [`populate`] inserted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Populated {
    /// Rows inserted per table of the realised schema (every table has an
    /// entry: none is skipped).
    pub rows: BTreeMap<String, i64>,
    /// Nullable (table, column) pairs inserted as NULL because a CHECK
    /// constraint refused the generated value. A test that needs data in a
    /// column should make sure it is not listed here.
    pub left_null: BTreeSet<(String, String)>,
}

/// The UUID of row `n` as an SQL expression, the same in every table so
/// that a foreign key can point at its parent's row `n` (and equal to
/// `rows::uuid(n)`, so that failures read alike).
fn uuid_expr(n: &str) -> String {
    format!("('00000000-0000-4000-8000-' || lpad(to_hex({n}), 12, '0'))::uuid")
}

fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn table_name(table: &str) -> String {
    format!("public.{}", quote_identifier(table))
}

/// Fills every table of `realized` with `rows` rows, in FK creation order,
/// with one set-based INSERT per table (plus one for each external table
/// such as `auth.users` that foreign keys point at).
///
/// Panics, naming the table, the statement and the server's error, when a
/// table cannot be filled: there are no silent skips.
pub async fn populate(db: &TestDb, realized: &Schema, rows: u64) -> Populated {
    let tables: Vec<&Table> = realized.tables.values().collect();
    let (order, deferred) = schemagen::diff::order::creation_order(&tables);
    let vector_schema = vector_schema(db).await;
    fill_external_tables(db, &tables, rows).await;

    let mut done: BTreeMap<String, Vec<(String, Option<String>)>> = BTreeMap::new();
    let mut populated = Populated::default();
    for table in order {
        let mut values = plan_table(realized, table, &deferred, &done, vector_schema.as_deref());
        let has_deferred = table.foreign_keys.iter().any(|fk| {
            deferred.contains(&(table.name.clone(), fk.name.clone().unwrap_or_default()))
        });
        // Each failed attempt tells which CHECK refused the values; one of
        // the nullable columns it mentions is set NULL and the INSERT tried
        // again. Every attempt nulls one more column, so this ends.
        let inserted = loop {
            let statement = insert_statement(table, &values, rows, has_deferred);
            match sqlx::raw_sql(AssertSqlSafe(statement.as_str()))
                .execute(db.pool())
                .await
            {
                Ok(result) => break result.rows_affected(),
                Err(e) => {
                    let Some(column) = column_to_null(table, &values, &e) else {
                        panic!(
                            "populate: filling table {} failed: {}\n--- statement ---\n{}",
                            table.name,
                            describe_error(&e),
                            truncated(&statement)
                        );
                    };
                    for (name, value) in &mut values {
                        if *name == column {
                            *value = None;
                        }
                    }
                    populated.left_null.insert((table.name.clone(), column));
                }
            }
        };
        populated.rows.insert(
            table.name.clone(),
            i64::try_from(inserted).expect("row count fits"),
        );
        done.insert(table.name.clone(), values);
    }
    check_deferred_foreign_keys(db, realized, &deferred).await;
    populated
}

/// The schema pgvector is installed in, to spell `vector(d)` casts
/// (`extensions` under the Supabase prelude), or None without pgvector.
async fn vector_schema(db: &TestDb) -> Option<String> {
    sqlx::query_scalar(
        "SELECT n.nspname::text FROM pg_catalog.pg_extension e
         JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname = 'vector'",
    )
    .fetch_optional(db.pool())
    .await
    .unwrap_or_else(|e| panic!("populate: finding pgvector failed: {}", describe_error(&e)))
}

/// Rows 1..=rows of every table outside `public` that a foreign key points
/// at (on Supabase, `auth.users`), keyed like the public tables so that
/// `user_id` of row n is user n. ON CONFLICT: a template or an earlier call
/// may have created some of them.
async fn fill_external_tables(db: &TestDb, tables: &[&Table], rows: u64) {
    let mut external: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for fk in tables.iter().flat_map(|t| &t.foreign_keys) {
        if fk.references.is_external() {
            let name = format!(
                "{}.{}",
                quote_identifier(fk.references.schema.as_deref().unwrap_or_default()),
                quote_identifier(&fk.references.table)
            );
            let columns = if fk.referenced_columns.is_empty() {
                vec!["id".to_owned()]
            } else {
                fk.referenced_columns.clone()
            };
            external.entry(name).or_default().extend(columns);
        }
    }
    for (name, columns) in external {
        let mut names: Vec<String> = columns.iter().map(|c| quote_identifier(c)).collect();
        let mut values: Vec<String> = columns.iter().map(|_| uuid_expr(N)).collect();
        // The prelude's auth.users has an email; a readable one helps when a
        // failure prints rows.
        if name == "auth.users" && !columns.contains("email") {
            names.push("email".to_owned());
            values.push(format!("'user-' || {N} || '@example.com'"));
        }
        let statement = format!(
            "INSERT INTO {name} ({}) SELECT {} FROM generate_series(1::bigint, {rows}::bigint) AS g(n) ON CONFLICT DO NOTHING",
            names.join(", "),
            values.join(", ")
        );
        if let Err(e) = db.execute(&statement).await {
            panic!(
                "populate: filling external table {name} failed: {}\n--- statement ---\n{statement}",
                describe_error(&e)
            );
        }
    }
}

/// The value of every column of `table` for row n, as SQL expressions
/// (None: NULL), given the values already inserted into its parents.
fn plan_table(
    realized: &Schema,
    table: &Table,
    deferred: &BTreeSet<(String, String)>,
    done: &BTreeMap<String, Vec<(String, Option<String>)>>,
    vector_schema: Option<&str>,
) -> Vec<(String, Option<String>)> {
    let mut values: Vec<(String, Option<String>)> = Vec::new();
    let mut self_refs: Vec<(usize, String)> = Vec::new();
    for column in &table.columns {
        let fk = table.foreign_keys.iter().find_map(|fk| {
            let at = fk.columns.iter().position(|c| *c == column.name)?;
            Some((fk, at))
        });
        let value = match fk {
            Some((fk, _)) if fk.references.is_external() => Some(uuid_expr(N)),
            Some((fk, at)) => {
                let referenced = referenced_column(realized, fk, at);
                if fk.references.table == table.name {
                    // The row itself: it exists by the end of the statement,
                    // when PostgreSQL checks the key, and it is not NULL.
                    self_refs.push((values.len(), referenced));
                    None
                } else if deferred
                    .contains(&(table.name.clone(), fk.name.clone().unwrap_or_default()))
                {
                    // The parent comes later (a cycle): the value its row n
                    // will have; the key is checked once it exists.
                    let parent = &realized.tables[&fk.references.table];
                    plan_table(realized, parent, &BTreeSet::new(), done, vector_schema)
                        .into_iter()
                        .find(|(name, _)| *name == referenced)
                        .and_then(|(_, v)| v)
                } else {
                    // Parent row n's value, as inserted (NULL if a CHECK
                    // made the parent leave it NULL).
                    done.get(&fk.references.table)
                        .and_then(|parent| parent.iter().find(|(name, _)| *name == referenced))
                        .and_then(|(_, v)| v.clone())
                }
            }
            None => Some(value_for(
                realized,
                table,
                &column.name,
                &column.ty,
                vector_schema,
            )),
        };
        values.push((column.name.clone(), value));
    }
    for (at, referenced) in self_refs {
        let own = values
            .iter()
            .find(|(name, _)| *name == referenced)
            .and_then(|(_, v)| v.clone());
        values[at].1 = own;
    }
    values
}

/// The parent column that position `at` of `fk` references: the listed
/// column, or the parent's primary key when the FK names none.
fn referenced_column(realized: &Schema, fk: &schemagen::model::ForeignKey, at: usize) -> String {
    if let Some(c) = fk.referenced_columns.get(at) {
        return c.clone();
    }
    realized
        .tables
        .get(&fk.references.table)
        .and_then(|t| t.primary_key.as_ref())
        .and_then(|pk| pk.columns.get(at).cloned())
        .unwrap_or_else(|| "id".to_owned())
}

/// A value of the column's type for row n, as an SQL expression: distinct
/// per n where a type allows it (so UNIQUE constraints hold), one of the
/// allowed values for a `CHECK (col IN (…))`, inside the bounds of a range
/// CHECK, and short enough for a `varchar(n)`.
fn value_for(
    realized: &Schema,
    table: &Table,
    column: &str,
    ty: &PgType,
    vector_schema: Option<&str>,
) -> String {
    if let Some(allowed) = table.allowed_values(column) {
        let list: Vec<String> = allowed.iter().map(|v| literal(v)).collect();
        return format!(
            "(ARRAY[{}])[1 + ({N} - 1) % {}]",
            list.join(", "),
            allowed.len()
        );
    }
    if let Some(value) = bounded_value(table, column, ty) {
        return value;
    }
    let text = format!("{} || {N}", literal(&format!("{column}-")));
    match ty {
        PgType::Uuid => uuid_expr(N),
        PgType::Text => text,
        // The end keeps the row number, which makes the value unique.
        PgType::Varchar(Some(len)) => format!("right({text}, {len})"),
        PgType::Varchar(None) => text,
        PgType::Numeric(Some((_, 0))) => format!("({N} % 9 + 1)"),
        // Below 1, so it fits any precision, e.g. numeric(3,2) or (2,2).
        PgType::Numeric(_) | PgType::Real | PgType::DoublePrecision => {
            format!("(({N} % 10) / 10.0)")
        }
        PgType::SmallInt => format!("({N} % 32767)::smallint"),
        PgType::Integer => format!("{N}::integer"),
        PgType::BigInt => N.to_owned(),
        PgType::Boolean => format!("({N} % 2 = 0)"),
        PgType::Timestamptz => {
            format!("(timestamptz '2025-01-01 00:00:00+00' + {N} * interval '1 minute')")
        }
        PgType::Timestamp => {
            format!("(timestamp '2025-01-01 00:00:00' + {N} * interval '1 minute')")
        }
        PgType::Date => format!("(date '2025-01-01' + {N}::integer)"),
        PgType::Time => format!("(time '00:00:00' + ({N} % 86400) * interval '1 second')"),
        PgType::Interval => format!("({N} * interval '1 second')"),
        PgType::Bytea => format!("convert_to({text}, 'UTF8')"),
        PgType::Inet => format!(
            "('10.' || ({N} / 65536 % 256) || '.' || ({N} / 256 % 256) || '.' || ({N} % 256))::inet"
        ),
        PgType::Jsonb => format!("jsonb_build_object('n', {N})"),
        PgType::Json => format!("json_build_object('n', {N})"),
        PgType::Vector(dim) => {
            // First element n, so rows differ; the rest fill the dimension.
            let rest = dim.unwrap_or(3).saturating_sub(1);
            format!(
                "('[' || {N} || repeat(',0.5', {rest}) || ']')::{}",
                ty.to_sql(vector_schema)
            )
        }
        PgType::Array(inner) => format!(
            "ARRAY[{}]::{}",
            value_for(realized, table, column, inner, vector_schema),
            ty.to_sql(vector_schema)
        ),
        PgType::Unknown(raw) => match enum_values(realized, raw) {
            Some(labels) => {
                let list: Vec<String> = labels.iter().map(|v| literal(v)).collect();
                format!(
                    "(ARRAY[{}])[1 + ({N} - 1) % {}]::{raw}",
                    list.join(", "),
                    labels.len()
                )
            }
            // A type the model does not know: NULL, which the INSERT
            // refuses (and populate reports) when the column is NOT NULL.
            None => "NULL".to_owned(),
        },
    }
}

/// The labels of a documented enum type spelt `raw`.
fn enum_values<'a>(realized: &'a Schema, raw: &str) -> Option<&'a [String]> {
    let name = raw.trim().trim_start_matches("public.").trim_matches('"');
    realized
        .enums
        .iter()
        .find(|(key, e)| key.eq_ignore_ascii_case(name) || e.name.eq_ignore_ascii_case(name))
        .map(|(_, e)| e.values.as_slice())
        .filter(|v| !v.is_empty())
}

/// Words, numbers, operators and parentheses of a CHECK expression, string
/// literals dropped: enough to read `col BETWEEN 1 AND 10` and
/// `col >= 0 AND col <= 2`.
fn tokens(expression: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = expression.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            for d in chars.by_ref() {
                if d == '\'' {
                    break;
                }
            }
        } else if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            let mut word = c.to_string();
            while let Some(&d) = chars.peek() {
                if d.is_ascii_alphanumeric() || d == '_' || d == '.' {
                    word.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(word);
        } else if "<>=!".contains(c) {
            let mut op = c.to_string();
            while let Some(&d) = chars.peek() {
                if "<>=".contains(d) {
                    op.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(op);
        } else if !c.is_whitespace() {
            out.push(c.to_string());
        }
    }
    out
}

/// A number token, with a preceding unary minus.
fn number_at(tokens: &[String], at: usize) -> Option<f64> {
    match tokens.get(at).map(String::as_str) {
        Some("-") => tokens.get(at + 1)?.parse::<f64>().ok().map(|v| -v),
        Some(t) => t.parse().ok(),
        None => None,
    }
}

/// A value inside the bounds that the table's CHECKs put on a numeric
/// column (`priority BETWEEN 1 AND 10`, `temperature >= 0 AND
/// temperature <= 2`), or None when there are none.
fn bounded_value(table: &Table, column: &str, ty: &PgType) -> Option<String> {
    let integral = matches!(ty, PgType::SmallInt | PgType::Integer | PgType::BigInt);
    let numeric = matches!(
        ty,
        PgType::Numeric(_) | PgType::Real | PgType::DoublePrecision
    );
    if !integral && !numeric {
        return None;
    }
    // (value, strict)
    let mut low: Option<(f64, bool)> = None;
    let mut high: Option<(f64, bool)> = None;
    for check in &table.check_constraints {
        let t = tokens(&check.expression);
        for i in 0..t.len() {
            if !t[i].eq_ignore_ascii_case(column) {
                continue;
            }
            match t.get(i + 1).map(|s| s.to_ascii_lowercase()).as_deref() {
                Some("between") => {
                    let lo = number_at(&t, i + 2);
                    let skip = usize::from(t.get(i + 2).is_some_and(|s| s == "-"));
                    let hi = number_at(&t, i + 4 + skip);
                    if let (Some(lo), Some(hi)) = (lo, hi) {
                        low = Some((lo, false));
                        high = Some((hi, false));
                    }
                }
                Some(op @ (">=" | ">" | "<=" | "<")) => {
                    if let Some(v) = number_at(&t, i + 2) {
                        if op.starts_with('>') {
                            low = Some((v, op == ">"));
                        } else {
                            high = Some((v, op == "<"));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    if low.is_none() && high.is_none() {
        return None;
    }
    let cast = ty.to_sql(None);
    if integral {
        let lo = low.map(|(v, strict)| {
            let c = v.ceil() as i64;
            if strict && c as f64 == v { c + 1 } else { c }
        });
        let hi = high.map(|(v, strict)| {
            let f = v.floor() as i64;
            if strict && f as f64 == v { f - 1 } else { f }
        });
        return Some(match (lo, hi) {
            (Some(lo), Some(hi)) if hi >= lo => {
                format!("({lo} + {N} % {})::{cast}", hi - lo + 1)
            }
            (Some(lo), None) => format!("({lo} + {N})::{cast}"),
            (None, Some(hi)) => format!("({hi} - {N})::{cast}"),
            _ => return None,
        });
    }
    // Strictly inside the range (1/11 … 10/11 of it), so strict bounds and
    // rounding to the column's scale both hold.
    Some(match (low, high) {
        (Some((lo, _)), Some((hi, _))) if hi > lo => {
            format!("({lo} + ({}) * (({N} % 10) + 1) / 11.0)::{cast}", hi - lo)
        }
        (Some((lo, _)), None) => format!("({lo} + 1 + ({N} % 10) / 10.0)::{cast}"),
        (None, Some((hi, _))) => format!("({hi} - 1 - ({N} % 10) / 10.0)::{cast}"),
        _ => return None,
    })
}

fn insert_statement(
    table: &Table,
    values: &[(String, Option<String>)],
    rows: u64,
    has_deferred: bool,
) -> String {
    let names: Vec<String> = values.iter().map(|(c, _)| quote_identifier(c)).collect();
    let exprs: Vec<&str> = values
        .iter()
        .map(|(_, v)| v.as_deref().unwrap_or("NULL"))
        .collect();
    let insert = format!(
        "INSERT INTO {} ({})\nSELECT {}\nFROM generate_series(1::bigint, {rows}::bigint) AS g(n)",
        table_name(&table.name),
        names.join(", "),
        exprs.join(",\n       ")
    );
    if has_deferred {
        // An FK closing a cycle points at rows that do not exist yet: its
        // trigger is off for this statement, and
        // check_deferred_foreign_keys verifies the key once they do.
        format!("BEGIN;\nSET LOCAL session_replication_role = replica;\n{insert};\nCOMMIT;")
    } else {
        insert
    }
}

/// For an INSERT refused by a CHECK constraint: a nullable, still filled
/// column that the CHECK mentions, to set NULL for the next attempt (the
/// last in column order, so keys and FKs, which come first, stay).
fn column_to_null(
    table: &Table,
    values: &[(String, Option<String>)],
    error: &sqlx::Error,
) -> Option<String> {
    let db = error.as_database_error()?;
    if db.code().as_deref() != Some("23514") {
        return None;
    }
    let constraint = db.constraint()?;
    let check = table
        .check_constraints
        .iter()
        .find(|c| c.name.as_deref() == Some(constraint))?;
    let mentioned: BTreeSet<String> = tokens(&check.expression)
        .into_iter()
        .map(|t| t.to_ascii_lowercase())
        .collect();
    let key: BTreeSet<&str> = table
        .primary_key
        .iter()
        .flat_map(|pk| pk.columns.iter().map(String::as_str))
        .collect();
    values
        .iter()
        .filter(|(name, value)| {
            value.is_some()
                && mentioned.contains(&name.to_ascii_lowercase())
                && !key.contains(name.as_str())
                && table.column(name).is_some_and(|c| c.nullable)
        })
        .map(|(name, _)| name.clone())
        .next_back()
}

/// The foreign keys whose trigger was off (cycles) must hold now that every
/// table is filled.
async fn check_deferred_foreign_keys(
    db: &TestDb,
    realized: &Schema,
    deferred: &BTreeSet<(String, String)>,
) {
    for (table, constraint) in deferred {
        let Some(fk) = realized.tables[table]
            .foreign_keys
            .iter()
            .find(|fk| fk.name.as_deref().unwrap_or_default() == constraint)
        else {
            continue;
        };
        let dangling = dangling_rows(db, realized, table, fk).await;
        assert_eq!(
            dangling, 0,
            "populate: {dangling} rows of {table} break the cyclic foreign key {constraint}"
        );
    }
}

/// Rows of `table` whose foreign key `fk` points at no row.
async fn dangling_rows(
    db: &TestDb,
    realized: &Schema,
    table: &str,
    fk: &schemagen::model::ForeignKey,
) -> i64 {
    let parent = match &fk.references.schema {
        Some(schema) => format!(
            "{}.{}",
            quote_identifier(schema),
            quote_identifier(&fk.references.table)
        ),
        None => table_name(&fk.references.table),
    };
    let not_null: Vec<String> = fk
        .columns
        .iter()
        .map(|c| format!("c.{} IS NOT NULL", quote_identifier(c)))
        .collect();
    let matches: Vec<String> = fk
        .columns
        .iter()
        .enumerate()
        .map(|(at, c)| {
            let referenced = if fk.references.is_external() {
                fk.referenced_columns
                    .get(at)
                    .cloned()
                    .unwrap_or_else(|| "id".to_owned())
            } else {
                referenced_column(realized, fk, at)
            };
            format!(
                "p.{} = c.{}",
                quote_identifier(&referenced),
                quote_identifier(c)
            )
        })
        .collect();
    let sql = format!(
        "SELECT count(*) FROM {} AS c WHERE {} AND NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE {})",
        table_name(table),
        not_null.join(" AND "),
        matches.join(" AND ")
    );
    sqlx::query_scalar(AssertSqlSafe(sql.as_str()))
        .fetch_one(db.pool())
        .await
        .unwrap_or_else(|e| panic!("`{sql}` failed: {}", describe_error(&e)))
}

/// Every foreign key of `realized` that some row breaks, as
/// `table.constraint: N rows`; empty when all hold. Independent of the
/// triggers, for tests that want to see it rather than trust them.
pub async fn dangling_foreign_keys(db: &TestDb, realized: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    for table in realized.tables.values() {
        for fk in &table.foreign_keys {
            let n = dangling_rows(db, realized, &table.name, fk).await;
            if n > 0 {
                out.push(format!(
                    "{}.{}: {n} rows",
                    table.name,
                    fk.name.as_deref().unwrap_or("?")
                ));
            }
        }
    }
    out
}

fn truncated(statement: &str) -> String {
    let head: String = statement.chars().take(4000).collect();
    if head.len() < statement.len() {
        format!("{head}\n[... truncated ...]")
    } else {
        head
    }
}

// ---------------------------------------------------------------------------
// The populated template
// ---------------------------------------------------------------------------

/// The name of a template database holding the project's DDL (`ddl`) and
/// `rows` rows per table, built on first use and shared by the whole test
/// process; copy it per scenario with `fresh_db_from`. Nobody may connect
/// to it (CREATE DATABASE … TEMPLATE refuses a template in use).
///
/// Each `#[tokio::test]` has a runtime of its own, and the pool of the
/// database built in one would die with it, so the build runs on a thread
/// of its own with its own runtime, under a lock: callers from several
/// tests wait for the one build. Safe to call from async code (it blocks
/// the calling thread while building).
pub fn populated_template(project: &Project, rows: u64) -> String {
    static TEMPLATES: OnceLock<Mutex<BTreeMap<(String, u64), String>>> = OnceLock::new();
    let ddl = super::ddl(project);
    let realized = project.realized().clone().into_inner();
    // A panicking build poisons the lock but inserts nothing: the next
    // caller builds again and reports the same failure.
    let mut templates = TEMPLATES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let key = (ddl, rows);
    if let Some(name) = templates.get(&key) {
        return name.clone();
    }
    let name = std::thread::scope(|scope| {
        let built = scope.spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime for the template");
            runtime.block_on(async {
                let db = fresh_db().await;
                db.run(&key.0).await;
                populate(&db, &realized, rows).await;
                db.close().await;
                db.name.clone()
            })
        });
        built
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    templates.insert(key, name.clone());
    name
}

// ---------------------------------------------------------------------------
// Data state
// ---------------------------------------------------------------------------

/// A snapshot of the data in schema public: row counts and md5 checksums
/// per table and per column, read from the catalog (so it sees tables and
/// columns a migration added, not only the documented ones).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataState {
    pub row_counts: BTreeMap<String, i64>,
    /// md5 of the table's rows as text, sorted.
    pub table_checksums: BTreeMap<String, String>,
    /// md5 of the column's values as text, sorted, NULL as `<null>`.
    pub column_checksums: BTreeMap<(String, String), String>,
}

/// What [`DataState::diff_except`] ignores: whole tables, and single
/// columns (a column dropped or rewritten on purpose).
#[derive(Debug, Clone, Default)]
pub struct Except {
    pub tables: BTreeSet<String>,
    pub columns: BTreeSet<(String, String)>,
}

/// Quotes any name, as the catalog gives it.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Reads the [`DataState`] of every user table of schema public: one
/// catalog query, then one query per table.
pub async fn data_state(db: &TestDb) -> DataState {
    let columns: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT c.relname::text, a.attname::text
         FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_catalog.pg_attribute a
           ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                           WHERE d.classid = 'pg_catalog.pg_class'::regclass
                             AND d.objid = c.oid AND d.deptype = 'e')
         ORDER BY c.relname, a.attnum",
    )
    .fetch_all(db.pool())
    .await
    .unwrap_or_else(|e| {
        panic!(
            "data_state: reading the catalog failed: {}",
            describe_error(&e)
        )
    });
    let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (table, column) in columns {
        let entry = tables.entry(table).or_default();
        entry.extend(column);
    }

    let mut state = DataState::default();
    for (table, columns) in &tables {
        // No documented column contains `$`, so the alias cannot be taken
        // for a column.
        let row = "\"row$\"";
        let mut select = vec![
            "count(*)".to_owned(),
            format!("md5(coalesce(string_agg({row}::text, ',' ORDER BY {row}::text), ''))"),
        ];
        for column in columns {
            let value = format!("coalesce({row}.{}::text, '<null>')", quoted(column));
            select.push(format!(
                "md5(coalesce(string_agg({value}, ',' ORDER BY {value}), ''))"
            ));
        }
        let sql = format!(
            "SELECT {} FROM public.{} AS {row}",
            select.join(", "),
            quoted(table)
        );
        let result = sqlx::query(AssertSqlSafe(sql.as_str()))
            .fetch_one(db.pool())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "data_state of {table} failed: {}\n{sql}",
                    describe_error(&e)
                )
            });
        state
            .row_counts
            .insert(table.clone(), result.get::<i64, _>(0));
        state
            .table_checksums
            .insert(table.clone(), result.get::<String, _>(1));
        for (i, column) in columns.iter().enumerate() {
            state.column_checksums.insert(
                (table.clone(), column.clone()),
                result.get::<String, _>(i + 2),
            );
        }
    }
    state
}

impl DataState {
    /// The differences from `self` (before) to `other` (after), one per
    /// line; empty when equal.
    pub fn diff(&self, other: &DataState) -> String {
        let mut lines = Vec::new();
        diff_maps(
            &self.row_counts,
            &other.row_counts,
            |t| format!("table {t}"),
            |t, a, b| format!("rows of {t}: {a} -> {b}"),
            &mut lines,
        );
        // A table only on one side is reported once, above.
        let both = |t: &String| self.row_counts.contains_key(t) && other.row_counts.contains_key(t);
        let mut changed = Vec::new();
        for (t, a) in &self.table_checksums {
            if let Some(b) = other.table_checksums.get(t)
                && a != b
                && both(t)
            {
                changed.push(format!("data of {t} changed"));
            }
        }
        lines.extend(changed);
        let self_columns: BTreeMap<_, _> = self
            .column_checksums
            .iter()
            .filter(|((t, _), _)| both(t))
            .collect();
        let other_columns: BTreeMap<_, _> = other
            .column_checksums
            .iter()
            .filter(|((t, _), _)| both(t))
            .collect();
        diff_maps(
            &self_columns,
            &other_columns,
            |(t, c)| format!("column {t}.{c}"),
            |(t, c), _, _| format!("values of {t}.{c} changed"),
            &mut lines,
        );
        lines.join("\n")
    }

    /// [`diff`](Self::diff) with the excepted tables and columns left out
    /// of both sides. A table with an excepted column is compared by row
    /// count and by its other columns, not by whole rows.
    pub fn diff_except(&self, other: &DataState, except: &Except) -> String {
        self.without(except).diff(&other.without(except))
    }

    /// This state without the excepted tables and columns.
    pub fn without(&self, except: &Except) -> DataState {
        let partial: BTreeSet<&String> = except.columns.iter().map(|(t, _)| t).collect();
        DataState {
            row_counts: self
                .row_counts
                .iter()
                .filter(|(t, _)| !except.tables.contains(*t))
                .map(|(t, n)| (t.clone(), *n))
                .collect(),
            table_checksums: self
                .table_checksums
                .iter()
                .filter(|(t, _)| !except.tables.contains(*t) && !partial.contains(t))
                .map(|(t, s)| (t.clone(), s.clone()))
                .collect(),
            column_checksums: self
                .column_checksums
                .iter()
                .filter(|(k, _)| !except.tables.contains(&k.0) && !except.columns.contains(*k))
                .map(|(k, s)| (k.clone(), s.clone()))
                .collect(),
        }
    }
}

/// Keys only on one side (`- ` before only, `+ ` after only) and keys whose
/// values differ, in key order.
fn diff_maps<K: Ord, V: PartialEq + std::fmt::Display>(
    before: &BTreeMap<K, V>,
    after: &BTreeMap<K, V>,
    name: impl Fn(&K) -> String,
    changed: impl Fn(&K, &V, &V) -> String,
    lines: &mut Vec<String>,
) {
    for (k, a) in before {
        match after.get(k) {
            None => lines.push(format!("- {}", name(k))),
            Some(b) if a != b => lines.push(changed(k, a, b)),
            Some(_) => {}
        }
    }
    for k in after.keys().filter(|k| !before.contains_key(*k)) {
        lines.push(format!("+ {}", name(k)));
    }
}
