//! Issue #5 in a real database: the generated crate (`generated/rust`, a
//! dev-dependency) against the migrated schema. For every fully documented
//! table a `New…` value is built from JSON whose values come from the
//! model's PostgreSQL types, not from the Rust types (so a wrong Rust type
//! fails to read them), inserted through sqlx, read back with
//! `query_as::<_, Struct>` and compared field by field, secrets included.

mod support;

use schemagen::emit::Target;
use schemagen::model::physical::{RealizeOptions, quote_identifier};
use schemagen::model::{JsonShape, PgType, Schema, Table};
use schemagen_models::{NewRecord, Record, Visit, visit_tables};
use serde_json::{Value, json};
use sqlx::AssertSqlSafe;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::str::FromStr;
use support::db::{TestDb, describe_error, fresh_db};
use support::rows::{Parents, SEED_SLOTS, seed_parents, uuid};

/// The user that `auth.users` foreign keys point at.
const AUTH_USER: u64 = 1;

struct World {
    db: TestDb,
    /// Connections with pgvector's schema on the search path, as on Supabase.
    pool: PgPool,
    realized: Schema,
    parents: Parents,
}

async fn world() -> World {
    let project = support::real_project(&support::settings(
        Target::Postgres,
        RealizeOptions::default(),
    ));
    let realized = project.realized().clone().into_inner();
    let db = fresh_db().await;
    db.run(&support::ddl(&project)).await;
    db.run(&format!(
        "INSERT INTO auth.users (id, email) VALUES ('{}', 'models@example.com')",
        uuid(AUTH_USER)
    ))
    .await;
    let parents = seed_parents(&db, &realized, 0x20_0000).await;
    let connect = PgConnectOptions::from_str(&db.url)
        .unwrap()
        .options([("search_path", "public,extensions")]);
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(connect)
        .await
        .unwrap();
    World {
        db,
        pool,
        realized,
        parents,
    }
}

/// What one table's round trip did.
#[derive(Debug)]
struct Report {
    /// Columns set through the `New…` struct.
    filled: usize,
    /// Columns set in the second row, defaults included.
    all_columns: usize,
    /// Nullable columns left NULL because a CHECK forbids setting them all.
    left_null: Vec<String>,
}

type RoundTrip =
    for<'a> fn(&'a World, &'a Table) -> Pin<Box<dyn Future<Output = Result<Report, String>> + 'a>>;

/// Every table the generated crate knows, with its round trip.
#[derive(Default)]
struct Tables(BTreeMap<&'static str, RoundTrip>);

impl Visit for Tables {
    fn table<R: Record>(&mut self) {
        self.0.insert(R::TABLE, boxed::<R>);
    }
}

fn boxed<'a, R: Record>(
    world: &'a World,
    table: &'a Table,
) -> Pin<Box<dyn Future<Output = Result<Report, String>> + 'a>> {
    Box::pin(round_trip::<R>(world, table))
}

/// A value of a column's PostgreSQL type, as JSON in the form serde gives the
/// issue's Rust type of it: numerics as strings with a fraction, timestamps
/// with microseconds, arrays of several elements, 1536-dimension vectors.
///
/// `variant` makes a second row's values differ where that matters (keys,
/// unique columns, foreign keys that are unique).
fn value_for(
    world: &World,
    table: &Table,
    column: &str,
    ty: &PgType,
    shape: Option<&JsonShape>,
    variant: u64,
) -> Value {
    if let Some(fk) = table.single_column_foreign_key(column) {
        let id = if fk.references.is_external() {
            uuid(AUTH_USER)
        } else {
            // Seeded rows use the first SEED_SLOTS parents; a free one keeps
            // UNIQUE foreign keys unique.
            world
                .parents
                .pick(&fk.references.table, SEED_SLOTS + variant)
                .unwrap_or_else(|| panic!("no seeded parent row in {}", fk.references.table))
        };
        return json!(id);
    }
    if let Some(values) = table.allowed_values(column) {
        return json!(values[values.len() - 1]);
    }
    // A CHECK on the column (`priority BETWEEN 1 AND 10`) asks for a small number.
    let checked = table
        .check_constraints
        .iter()
        .any(|c| c.column.as_deref() == Some(column));
    match ty {
        PgType::Uuid => json!(format!(
            "5f0c3a9e-7b1d-4c2e-9a8f-{:012x}",
            fnv(&format!("{}.{column}.{variant}", table.name)) & 0xffff_ffff_ffff
        )),
        PgType::Text => json!(format!(
            "{variant} Grüße, O'Brien \"{}.{column}\"\n— line two",
            table.name
        )),
        PgType::Varchar(limit) => {
            let text = format!("{variant} Grüße, O'Brien \"{}.{column}\"", table.name);
            json!(match limit {
                Some(n) => text.chars().take(*n as usize).collect::<String>(),
                None => text,
            })
        }
        PgType::Numeric(Some((precision, scale))) => {
            let integer_digits = (precision - scale).min(4) as usize;
            let integer = if integer_digits == 0 {
                "0"
            } else {
                &"1234"[..integer_digits]
            };
            let fraction = &"567890123"[..(*scale as usize).min(9)];
            json!(if fraction.is_empty() {
                integer.to_owned()
            } else {
                format!("{integer}.{fraction}")
            })
        }
        PgType::Numeric(None) => json!(if checked { "1.25" } else { "98765.4321" }),
        PgType::SmallInt => json!(if checked { 7 } else { 31_000 }),
        PgType::Integer => json!(if checked { 7 } else { 2_000_000_123 }),
        // Above 2^53: a Rust type that goes through f64 would lose it.
        PgType::BigInt => json!(if checked {
            7
        } else {
            9_007_199_254_740_993_i64
        }),
        PgType::Real => json!(1.5),
        PgType::DoublePrecision => json!(2.25),
        PgType::Boolean => json!(true),
        PgType::Timestamptz => json!("2024-02-29T13:45:56.123456Z"),
        PgType::Timestamp => json!("2024-02-29T13:45:56.654321"),
        PgType::Date => json!("2024-02-29"),
        PgType::Time => json!("13:45:56.123456"),
        PgType::Bytea => json!([0, 159, 255, 7]),
        PgType::Jsonb | PgType::Json => match shape {
            Some(shape) if matches!(shape, JsonShape::Object { .. } | JsonShape::Array { .. }) => {
                shaped(shape)
            }
            _ => {
                json!({"label": "free-form", "count": 3, "ratio": 0.25, "tags": ["a", "b", "c"], "nested": {"ok": true, "none": null}})
            }
        },
        PgType::Vector(dimensions) => {
            let n = dimensions.unwrap_or(1536);
            // Multiples of 1/32: exact in f32, with fractions.
            json!(
                (0..n)
                    .map(|i| f64::from(i) * 0.03125 - 7.5)
                    .collect::<Vec<f64>>()
            )
        }
        PgType::Array(element) => Value::Array(
            (0..3)
                .map(|i| {
                    match value_for(
                        world,
                        table,
                        &format!("{column}_{i}"),
                        element,
                        None,
                        variant,
                    ) {
                        Value::String(s) if **element == PgType::Uuid => {
                            json!(format!("{}{i}", &s[..s.len() - 1]))
                        }
                        Value::String(s) => json!(format!("{s} #{i}")),
                        other => other,
                    }
                })
                .collect(),
        ),
        PgType::Interval | PgType::Inet | PgType::Unknown(_) => {
            panic!("{}.{column}: no value for type {ty}", table.name)
        }
    }
}

/// A JSON value of a documented shape, every member filled, plus one the
/// documents do not show (kept by the struct's catch-all map).
fn shaped(shape: &JsonShape) -> Value {
    match shape {
        JsonShape::Null | JsonShape::Any => json!({"any": [1, "two"]}),
        JsonShape::Boolean => json!(true),
        JsonShape::Integer => json!(42),
        JsonShape::Number => json!(2.75),
        JsonShape::String => json!("documented text"),
        JsonShape::Array { items } => Value::Array((0..3).map(|_| shaped(items)).collect()),
        JsonShape::Object { properties } => {
            let mut object: serde_json::Map<String, Value> = properties
                .iter()
                .map(|(key, shape)| (key.clone(), shaped(shape)))
                .collect();
            object.insert("undocumented_member".into(), json!(["kept", 1]));
            Value::Object(object)
        }
    }
}

/// A stable 64-bit hash, for distinct UUIDs per column.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The columns of `table` in the database, in order.
async fn catalog_columns(world: &World, table: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT column_name::text FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(&world.pool)
    .await
    .unwrap()
}

/// Values for `columns`, as a JSON object.
fn row_values(
    world: &World,
    table: &Table,
    columns: &[&schemagen::model::Column],
    variant: u64,
) -> serde_json::Map<String, Value> {
    columns
        .iter()
        .map(|c| {
            let value = value_for(world, table, &c.name, &c.ty, c.json_shape.as_ref(), variant);
            (c.name.clone(), value)
        })
        .collect()
}

/// Reads the row whose key columns have the values in `row` (a serialised
/// struct), with `query_as::<_, R>` and SQL of the test's own.
async fn fetch_by_key<R: Record>(world: &World, table: &Table, row: &Value) -> Result<R, String> {
    let key = R::PRIMARY_KEY;
    let mut sql = format!(
        "SELECT * FROM public.{} AS t WHERE true",
        quote_identifier(&table.name)
    );
    for (i, column) in key.iter().enumerate() {
        sql.push_str(&format!(
            " AND to_jsonb(t) -> {} = ${}",
            schemagen::emit::templates::quote_literal(column),
            i + 1
        ));
    }
    let mut query = sqlx::query_as::<_, R>(AssertSqlSafe(sql));
    for column in key {
        query = query.bind(row[*column].clone());
    }
    query.fetch_one(&world.pool).await.map_err(|e| {
        format!(
            "{}: reading the row back failed: {}",
            table.name,
            describe_error(&e)
        )
    })
}

async fn round_trip<R: Record>(world: &World, table: &Table) -> Result<Report, String> {
    let name = &table.name;
    if R::COLUMNS != catalog_columns(world, name).await.as_slice() {
        return Err(format!(
            "{name}: COLUMNS {:?} are not the database's",
            R::COLUMNS
        ));
    }
    let key = table
        .primary_key
        .as_ref()
        .map(|pk| pk.columns.clone())
        .unwrap_or_default();
    if key.is_empty() {
        return Err(format!("{name}: no primary key to read the row back by"));
    }
    if R::PRIMARY_KEY != key.as_slice() {
        return Err(format!(
            "{name}: PRIMARY_KEY {:?} is not {key:?}",
            R::PRIMARY_KEY
        ));
    }
    // What an insert sets: every column without a default, nullable ones included.
    let settable: Vec<_> = table
        .columns
        .iter()
        .filter(|c| c.default.is_none())
        .collect();
    let full = row_values(world, table, &settable, 0);
    // The full row first; then, only if a CHECK refuses it, the row with one
    // nullable column left NULL.
    let mut candidates = vec![(full.clone(), None)];
    for column in settable.iter().filter(|c| c.nullable) {
        let mut row = full.clone();
        row.insert(column.name.clone(), Value::Null);
        candidates.push((row, Some(column.name.clone())));
    }
    for (row, left_null) in candidates {
        let written: R::New = serde_json::from_value(Value::Object(row.clone())).map_err(|e| {
            let shown: String = Value::Object(row.clone())
                .to_string()
                .chars()
                .take(400)
                .collect();
            format!("{name}: the New struct does not read {shown}…: {e}")
        })?;
        // It holds exactly the settable columns: serialising it gives them
        // back, less the secrets it never serialises.
        let serialised = serde_json::to_value(&written).unwrap();
        let keys: BTreeSet<&str> = serialised
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let expected: BTreeSet<&str> = settable
            .iter()
            .filter(|c| !table.is_sensitive(c))
            .map(|c| c.name.as_str())
            .collect();
        if keys != expected {
            return Err(format!(
                "{name}: the New struct has fields {keys:?}, not {expected:?}"
            ));
        }
        let inserted: R = match written.insert(&world.pool).await {
            Ok(row) => row,
            Err(e) if is_check_violation(&e) => continue,
            Err(e) => return Err(format!("{name}: insert failed: {}", describe_error(&e))),
        };
        let read: R = fetch_by_key(world, table, &serde_json::to_value(&inserted).unwrap()).await?;
        if read != inserted {
            return Err(format!(
                "{name}: the row read back differs from the one RETURNING gave\n{read:?}\n{inserted:?}"
            ));
        }
        let read_back = R::New::from(read);
        if read_back != written {
            return Err(format!(
                "{name}: read back\n{read_back:#?}\nwritten\n{written:#?}"
            ));
        }
        // Every column, those with defaults too, stored by PostgreSQL's own
        // JSON-to-row conversion: the struct reads back what was stored.
        let all: Vec<_> = table.columns.iter().collect();
        let mut every = row_values(world, table, &all, 1);
        if let Some(column) = &left_null {
            every.insert(column.clone(), Value::Null);
        }
        let expected: R = serde_json::from_value(Value::Object(every.clone()))
            .map_err(|e| format!("{name}: the struct does not read a full row: {e}"))?;
        let target = format!("public.{}", quote_identifier(name));
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {target} SELECT * FROM jsonb_populate_record(NULL::{target}, $1)"
        )))
        .bind(Value::Object(every))
        .execute(&world.pool)
        .await
        .map_err(|e| {
            format!(
                "{name}: inserting a full row failed: {}",
                describe_error(&e)
            )
        })?;
        let read: R = fetch_by_key(world, table, &serde_json::to_value(&expected).unwrap()).await?;
        if read != expected {
            return Err(format!(
                "{name}: a full row read back\n{read:#?}\nwritten\n{expected:#?}"
            ));
        }
        return Ok(Report {
            filled: settable.len() - usize::from(left_null.is_some()),
            all_columns: all.len() - usize::from(left_null.is_some()),
            left_null: left_null.into_iter().collect(),
        });
    }
    Err(format!("{name}: every candidate row broke a CHECK"))
}

fn is_check_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code == "23514")
}

#[tokio::test(flavor = "current_thread")]
async fn every_documented_table_round_trips_through_its_generated_types() {
    let world = world().await;
    let mut tables = Tables::default();
    visit_tables(&mut tables);
    let documented: BTreeSet<&str> = world
        .realized
        .documented_tables()
        .map(|t| t.name.as_str())
        .collect();
    let covered: BTreeSet<&str> = tables.0.keys().copied().collect();
    assert_eq!(
        covered, documented,
        "the generated crate must have a struct for every fully documented table: run `gen models`"
    );
    let mut failures = Vec::new();
    let mut reports = BTreeMap::new();
    for (name, round_trip) in &tables.0 {
        let table = &world.realized.tables[*name];
        match round_trip(&world, table).await {
            Ok(report) => {
                reports.insert(*name, report);
            }
            Err(e) => failures.push(e),
        }
    }
    assert!(
        failures.is_empty(),
        "{} table(s) failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    let filled: usize = reports.values().map(|r| r.filled).sum();
    let all_columns: usize = reports.values().map(|r| r.all_columns).sum();
    let left_null: Vec<String> = reports
        .iter()
        .flat_map(|(t, r)| r.left_null.iter().map(move |c| format!("{t}.{c}")))
        .collect();
    eprintln!(
        "{} tables round-tripped: {filled} columns through New… structs, {all_columns} in full rows; left NULL for a CHECK: {left_null:?}",
        reports.len()
    );
    assert_eq!(reports.len(), 40);
    // Only the XOR CHECK of javari_credentials (project or subproject) keeps
    // a column from being filled.
    assert_eq!(left_null, ["javari_credentials.project_id"]);
    world.pool.close().await;
    world.db.drop_database().await;
}

/// A row whose value the database cannot store as the Rust type says fails:
/// the round trip is not a test that always passes.
#[tokio::test(flavor = "current_thread")]
async fn a_value_the_database_changes_is_caught() {
    let world = world().await;
    let table = &world.realized.tables["javari_ab_tests"];
    // numeric(3,2) rounds 1.239 to 1.24; the comparison must notice.
    let mut row: serde_json::Map<String, Value> = table
        .columns
        .iter()
        .filter(|c| c.default.is_none())
        .map(|c| {
            (
                c.name.clone(),
                value_for(&world, table, &c.name, &c.ty, c.json_shape.as_ref(), 0),
            )
        })
        .collect();
    row.insert("confidence_level".into(), json!("1.239"));
    let written: schemagen_models::javari::NewJavariAbTest =
        serde_json::from_value(Value::Object(row)).unwrap();
    let inserted = written.insert(&world.pool).await.unwrap();
    assert_ne!(
        schemagen_models::javari::NewJavariAbTest::from(inserted),
        written
    );
    world.pool.close().await;
    world.db.drop_database().await;
}

/// Regenerating from unchanged documents gives the committed crate, byte for byte.
#[test]
fn the_committed_crate_is_what_gen_models_writes() {
    let root = support::root();
    for _ in 0..2 {
        let out = gen_models(&[]);
        let written = files_under(&out.path().join("rust"));
        let committed = files_under(&root.join("generated/rust"));
        assert_eq!(
            written.keys().collect::<Vec<_>>(),
            committed.keys().collect::<Vec<_>>()
        );
        for (path, contents) in &written {
            assert!(
                committed[path] == *contents,
                "generated/rust/{path} is not what `gen models` writes: run it and commit"
            );
        }
    }
}

/// Runs `gen models` from the repository root into a new directory.
fn gen_models(extra: &[&std::ffi::OsStr]) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gen"))
        .current_dir(support::root())
        .arg("models")
        .args(extra)
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

fn files_under(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

/// The generated code is laid out as rustfmt would, for documents other
/// than ours too: `cargo fmt --check` never fights `gen models`.
#[test]
fn the_crate_for_a_synthetic_corpus_is_rustfmt_clean() {
    let docs = tempfile::tempdir().unwrap();
    let corpus = schemagen::synth::generate(&schemagen::synth::SynthOptions {
        tables: 120,
        seed: 11,
    });
    for (name, text) in &corpus.files {
        std::fs::write(docs.path().join(name), text).unwrap();
    }
    let out = gen_models(&["--docs".as_ref(), docs.path().as_os_str()]);
    let check = std::process::Command::new("rustfmt")
        .args(["--edition", "2024", "--check"])
        .arg(out.path().join("rust/src/lib.rs"))
        .output()
        .expect("rustfmt runs (rustup component add rustfmt)");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}
