//! The populated-database fixture (`support::populate`) on the real
//! schema: every table of the realised schema gets at least 1,000
//! FK-consistent rows from one set-based INSERT each, and `data_state`
//! notices a change to a single value. Later tests of migrations on
//! populated databases build on both.

mod support;

use schemagen::emit::Target;
use schemagen::model::physical::RealizeOptions;
use std::collections::BTreeSet;
use std::time::Instant;
use support::db::{fresh_db, fresh_db_from};
use support::populate::{
    DEFAULT_ROWS, Except, dangling_foreign_keys, data_state, populate, populated_template,
};

fn project() -> schemagen::Project {
    support::real_project(&support::settings(
        Target::Postgres,
        RealizeOptions::default(),
    ))
}

#[tokio::test]
async fn every_table_of_the_real_schema_holds_1000_fk_consistent_rows() {
    let project = project();
    let realized = project.realized().clone().into_inner();
    let db = fresh_db().await;
    db.run(&support::ddl(&project)).await;

    let started = Instant::now();
    let populated = populate(&db, &realized, DEFAULT_ROWS).await;
    let took = started.elapsed();
    println!(
        "populate: {} tables x {DEFAULT_ROWS} rows in {took:.2?}",
        populated.rows.len()
    );
    if !populated.left_null.is_empty() {
        println!("left NULL by a CHECK: {:?}", populated.left_null);
    }

    // No table skipped, each filled by its one INSERT.
    let tables: BTreeSet<&String> = realized.tables.keys().collect();
    let filled: BTreeSet<&String> = populated.rows.keys().collect();
    assert_eq!(filled, tables, "tables populate did not fill");
    let short: Vec<_> = populated
        .rows
        .iter()
        .filter(|(_, n)| **n < DEFAULT_ROWS as i64)
        .collect();
    assert!(
        short.is_empty(),
        "tables with fewer rows reported: {short:?}"
    );

    // Counted in the database, not taken from populate's word.
    for table in realized.tables.keys() {
        let sql = format!("SELECT count(*) FROM public.\"{table}\"");
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert!(
            count >= DEFAULT_ROWS as i64,
            "{table} holds {count} rows, fewer than {DEFAULT_ROWS}"
        );
    }

    // Every FK holds (the triggers said so; this looks for itself).
    let dangling = dangling_foreign_keys(&db, &realized).await;
    assert!(dangling.is_empty(), "broken foreign keys: {dangling:?}");
    let fks: usize = realized.tables.values().map(|t| t.foreign_keys.len()).sum();
    assert!(fks > 0, "the real schema has foreign keys to check");

    // Nullable columns hold data too, except where a CHECK forbids it.
    let state = data_state(&db).await;
    let null_checksum: String =
        sqlx::query_scalar("SELECT md5(string_agg('<null>', ',')) FROM generate_series(1, $1)")
            .bind(DEFAULT_ROWS as i64)
            .fetch_one(db.pool())
            .await
            .unwrap();
    let empty: Vec<_> = state
        .column_checksums
        .iter()
        .filter(|(key, sum)| **sum == null_checksum && !populated.left_null.contains(*key))
        .map(|(key, _)| key)
        .collect();
    assert!(empty.is_empty(), "columns left all NULL: {empty:?}");
}

#[tokio::test]
async fn data_state_is_stable_and_sees_one_changed_value() {
    let template = populated_template(&project(), DEFAULT_ROWS);
    let db = fresh_db_from(&template).await;

    let started = Instant::now();
    let before = data_state(&db).await;
    println!(
        "data_state: {} tables, {} columns in {:.2?}",
        before.row_counts.len(),
        before.column_checksums.len(),
        started.elapsed()
    );
    assert_eq!(before.diff(&data_state(&db).await), "", "two reads differ");
    assert!(
        before
            .row_counts
            .values()
            .all(|n| *n >= DEFAULT_ROWS as i64)
    );

    db.run("UPDATE public.users SET name = 'changed' WHERE email = 'email-7'")
        .await;
    let after = data_state(&db).await;
    let diff = before.diff(&after);
    assert!(diff.contains("data of users changed"), "{diff}");
    assert!(diff.contains("values of users.name changed"), "{diff}");
    assert_eq!(diff.lines().count(), 2, "only users and users.name: {diff}");

    // Excepting the column leaves nothing; excepting the table too.
    let column = Except {
        columns: [("users".to_owned(), "name".to_owned())].into(),
        ..Except::default()
    };
    assert_eq!(before.diff_except(&after, &column), "");
    let table = Except {
        tables: ["users".to_owned()].into(),
        ..Except::default()
    };
    assert_eq!(before.diff_except(&after, &table), "");

    // A dropped column and a deleted row (of a table nothing references)
    // show, unless excepted.
    db.run(
        "ALTER TABLE public.javari_ab_tests DROP COLUMN winner;
         DELETE FROM public.javari_work_log WHERE action_type = 'action_type-3'",
    )
    .await;
    let later = data_state(&db).await;
    let diff = after.diff(&later);
    assert!(diff.contains("- column javari_ab_tests.winner"), "{diff}");
    assert!(
        diff.contains("rows of javari_work_log: 1000 -> 999"),
        "{diff}"
    );
    let dropped = Except {
        columns: [("javari_ab_tests".to_owned(), "winner".to_owned())].into(),
        tables: ["javari_work_log".to_owned()].into(),
    };
    assert_eq!(after.diff_except(&later, &dropped), "");

    // A deleted row that others reference: the diff shows what the
    // cascade (ON DELETE CASCADE, SET NULL) did to them as well.
    db.run("DELETE FROM public.messages WHERE content = 'content-3'")
        .await;
    let cascaded = later.diff(&data_state(&db).await);
    assert!(
        cascaded.contains("rows of messages: 1000 -> 999"),
        "{cascaded}"
    );
    assert!(
        cascaded.contains("rows of javari_pii_detections: 1000 -> 999"),
        "{cascaded}"
    );
    assert!(
        cascaded.contains("values of artifacts.message_id changed"),
        "{cascaded}"
    );
}

#[tokio::test]
async fn copies_of_the_template_start_equal() {
    let project = project();
    let template = populated_template(&project, DEFAULT_ROWS);
    assert_eq!(
        populated_template(&project, DEFAULT_ROWS),
        template,
        "built once"
    );
    let (a, b) = (
        fresh_db_from(&template).await,
        fresh_db_from(&template).await,
    );
    let (a, b) = (data_state(&a).await, data_state(&b).await);
    assert_eq!(a.diff(&b), "");
    assert_eq!(a.row_counts.len(), project.realized().tables.len());
}

/// What the real schema lacks: self-references (nullable and NOT NULL), a
/// cycle closed by a NOT NULL FK, a composite FK to a composite key,
/// integer keys, a short UNIQUE varchar, range CHECKs and a CHECK across
/// columns that the generated values break.
const ODD_SCHEMA: &str = r#"# Odd tables

```sql
CREATE TABLE nodes (
  id UUID PRIMARY KEY,
  parent_id UUID REFERENCES nodes(id),
  root_id UUID NOT NULL REFERENCES nodes(id),
  code VARCHAR(3) NOT NULL UNIQUE,
  level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
  score DECIMAL(4,2) CHECK (score > 0 AND score < 1),
  starts_at TIMESTAMPTZ,
  ends_at TIMESTAMPTZ,
  tags TEXT[],
  CHECK (ends_at > starts_at)
);

CREATE TABLE eggs (
  id UUID PRIMARY KEY,
  hen_id UUID NOT NULL REFERENCES hens(id)
);

CREATE TABLE hens (
  id UUID PRIMARY KEY,
  egg_id UUID NOT NULL REFERENCES eggs(id)
);

CREATE TABLE pairs (
  x INTEGER NOT NULL,
  y INTEGER NOT NULL,
  label TEXT,
  PRIMARY KEY (x, y)
);

CREATE TABLE pair_notes (
  id BIGINT PRIMARY KEY,
  x INTEGER NOT NULL,
  y INTEGER NOT NULL,
  owner_id UUID REFERENCES auth.users(id),
  FOREIGN KEY (x, y) REFERENCES pairs(x, y)
);
```
"#;

#[tokio::test]
async fn fills_self_references_cycles_and_composite_keys() {
    let settings = support::settings(Target::Postgres, RealizeOptions::default());
    let project = schemagen::Project::from_text("odd.md", ODD_SCHEMA, &settings);
    let realized = project.realized().clone().into_inner();
    let tables: BTreeSet<&str> = realized.tables.keys().map(String::as_str).collect();
    assert_eq!(
        tables,
        BTreeSet::from(["eggs", "hens", "nodes", "pair_notes", "pairs"]),
        "{:?}",
        project.diagnostics()
    );
    let db = fresh_db().await;
    db.run(&support::ddl(&project)).await;
    // The cycle is real: both keys exist (one added by ALTER TABLE).
    let catalog = db.catalog().await;
    let fks: Vec<&String> = catalog
        .of_kind("constraint")
        .filter(|f| f.contains(" | f | "))
        .collect();
    assert_eq!(fks.len(), 6, "{fks:#?}");

    let populated = populate(&db, &realized, DEFAULT_ROWS).await;
    assert!(
        populated.rows.values().all(|n| *n == DEFAULT_ROWS as i64),
        "{populated:?}"
    );
    assert_eq!(
        dangling_foreign_keys(&db, &realized).await,
        Vec::<String>::new()
    );
    // The CHECK across columns cost one column; the range CHECKs none.
    assert_eq!(
        populated.left_null,
        BTreeSet::from([("nodes".to_owned(), "ends_at".to_owned())])
    );
    let (levels, parents): (i64, i64) =
        sqlx::query_as("SELECT count(DISTINCT level), count(parent_id) FROM public.nodes")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!((levels, parents), (5, DEFAULT_ROWS as i64));
}

/// A table the generated values cannot satisfy is reported, not skipped.
#[tokio::test]
#[should_panic(expected = "populate: filling table strict failed")]
async fn a_table_it_cannot_fill_fails_loudly() {
    let doc = "# Strict\n\n```sql\nCREATE TABLE strict (\n  id UUID PRIMARY KEY,\n  name TEXT NOT NULL CHECK (name LIKE 'x%')\n);\n```\n";
    let settings = support::settings(Target::Postgres, RealizeOptions::default());
    let project = schemagen::Project::from_text("strict.md", doc, &settings);
    let db = fresh_db().await;
    db.run(&support::ddl(&project)).await;
    populate(&db, project.realized(), 10).await;
}
