//! Backfills (issue 19, point 4) against a real PostgreSQL 15: a NOT NULL
//! column without a default, added to a table that holds rows and given a
//! `**Backfill:**` note, is planned as a `fails-on-data` step whose probe
//! is the backfill itself, and `gen apply`'s preflight counts exactly the
//! rows the expression leaves NULL, named by their keys. The migration that
//! runs the backfill is planned elsewhere; only the reading, the hazard
//! and the count are tested here.

mod support;

use schemagen::apply::preflight::{self, Finding};
use schemagen::diff::hazard::{HazardKind, Probe};
use schemagen::emit::migrations::{self, Existing, MigrationRequest, Plan, PreflightFile};
use schemagen::emit::{EmitContext, OutputFile, Target, Templates};
use schemagen::model::physical::RealizeOptions;
use schemagen::source::SourceFile;
use sqlx::Connection;
use std::time::Duration;
use support::db::fresh_db;
use support::plans::{existing_after, file_ending as contents, migration_files};

const BEFORE: &str = "# Shop

## 1. CUSTOMERS (3 columns)
| Column | Type | Nullable | Description |
|--------|------|----------|-------------|
| id | integer | NO | Primary key |
| nickname | varchar | YES | What they like to be called |
| email | varchar | YES | Email |
";

/// The documents after the edit: a NOT NULL column with a backfill that
/// names a column of the table through the table's own name, as the
/// migration's `UPDATE customers SET … = (…)` would read it.
fn after() -> String {
    BEFORE.replace("(3 columns)", "(4 columns)")
        + "| display_name | varchar | NO | Shown in lists |\n\n\
           **Backfill:** `display_name` = coalesce(customers.nickname, email)\n"
}

fn plan(text: &str, existing: &Existing, version: &str) -> Vec<OutputFile> {
    let (file, _) = SourceFile::decode("shop.md", text.as_bytes());
    let settings = support::settings(Target::Postgres, RealizeOptions::default());
    let project = support::project_of_files(vec![file], &settings);
    let templates = Templates::load(None).unwrap();
    let context = EmitContext::new(&project, &templates);
    let request = MigrationRequest {
        name: "shop",
        version,
        allowed: migrations::AllowedHazards::of(HazardKind::ALL),
    };
    match migrations::plan(&context, existing, &request).unwrap() {
        Plan::Write { files, .. } => files,
        other => panic!("expected files, got {other:?}"),
    }
}

#[tokio::test]
async fn the_preflight_counts_exactly_the_rows_a_backfill_leaves_null() {
    let initial = plan(BEFORE, &Existing::default(), "20260101000000");
    let db = fresh_db().await;
    db.run(contents(&initial, ".up.sql")).await;
    // Ten customers: nickname is NULL for the even ids, email for 4, 8
    // and 9, so the backfill leaves ids 4 and 8 NULL. An empty nickname is
    // a value, not a NULL.
    db.run(
        "INSERT INTO public.customers (id, nickname, email)
         SELECT i,
                CASE WHEN i % 2 = 0 THEN NULL WHEN i = 1 THEN '' ELSE 'nick' || i END,
                CASE WHEN i IN (4, 8, 9) THEN NULL ELSE 'c' || i || '@example.com' END
         FROM generate_series(1, 10) AS i",
    )
    .await;

    let edit = plan(&after(), &existing_after(&initial), "20260102000000");
    let preflight = PreflightFile::parse(contents(&edit, migrations::PREFLIGHT_SUFFIX)).unwrap();
    let step = preflight
        .steps
        .iter()
        .find(|s| s.description == "add column customers.display_name")
        .expect("the added column is a preflight step");
    assert_eq!(
        step.probes,
        [Probe::BackfillNulls {
            table: "customers".into(),
            column: "display_name".into(),
            expression: "coalesce(customers.nickname, email)".into(),
        }],
        "the backfill is probed, not every row"
    );
    assert!(
        step.hazards
            .iter()
            .any(|h| h.kind == HazardKind::FailsOnData && h.reason.contains("backfill")),
        "{:?}",
        step.hazards
    );

    let mut connection = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let measured = preflight::measure(&mut connection, &[preflight], Duration::from_secs(30))
        .await
        .unwrap();
    let findings: Vec<&Finding> = measured
        .iter()
        .filter(|m| m.step.description == "add column customers.display_name")
        .flat_map(|m| &m.findings)
        .collect();
    assert_eq!(findings.len(), 1, "{measured:#?}");
    assert_eq!(findings[0].hazard, HazardKind::FailsOnData);
    assert_eq!(findings[0].count, 2);
    assert_eq!(findings[0].examples, ["id=4", "id=8"]);
    assert!(
        findings[0].message.contains("left NULL by the backfill"),
        "{}",
        findings[0].message
    );
    assert!(preflight::blocks(findings[0], true));

    // With every row given a nickname, nothing is left NULL and nothing
    // blocks; the preflight changed nothing on the way.
    db.run("UPDATE public.customers SET nickname = 'n' WHERE nickname IS NULL")
        .await;
    let preflight = PreflightFile::parse(contents(&edit, migrations::PREFLIGHT_SUFFIX)).unwrap();
    let measured = preflight::measure(&mut connection, &[preflight], Duration::from_secs(30))
        .await
        .unwrap();
    let counts: Vec<i64> = measured
        .iter()
        .filter(|m| m.step.description == "add column customers.display_name")
        .flat_map(|m| m.findings.iter().map(|f| f.count))
        .collect();
    assert_eq!(counts, [0]);
}

/// An expression PostgreSQL refuses (a column that does not exist) ends
/// neither the preflight nor its other probes: it is reported as not
/// measured.
#[tokio::test]
async fn a_backfill_postgresql_refuses_is_not_measured() {
    let initial = plan(BEFORE, &Existing::default(), "20260101000000");
    let db = fresh_db().await;
    db.run(contents(&initial, ".up.sql")).await;
    db.run("INSERT INTO public.customers (id) VALUES (1)").await;
    let edit = plan(
        &after().replace("coalesce(customers.nickname, email)", "no_such_column"),
        &existing_after(&initial),
        "20260102000000",
    );
    let preflight = PreflightFile::parse(contents(&edit, migrations::PREFLIGHT_SUFFIX)).unwrap();
    let mut connection = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let measured = preflight::measure(&mut connection, &[preflight], Duration::from_secs(30))
        .await
        .unwrap();
    let step = measured
        .iter()
        .find(|m| m.step.description == "add column customers.display_name")
        .unwrap();
    assert!(step.findings.is_empty(), "{step:#?}");
    assert_eq!(step.not_measured.len(), 1, "{step:#?}");
    assert!(
        step.not_measured[0].why.contains("no_such_column"),
        "{:?}",
        step.not_measured[0]
    );
}

/// The migration of a backfilled NOT NULL column, applied to rows as a
/// migration tool runs it, part by part: the column is added nullable, the
/// backfill fills it in a part of its own, and it ends NOT NULL with every
/// row holding exactly the expression's value, and no helper CHECK left.
#[tokio::test]
async fn a_backfilled_not_null_column_holds_the_expected_values() {
    let initial = plan(BEFORE, &Existing::default(), "20260101000000");
    let db = fresh_db().await;
    db.run(contents(&initial, ".up.sql")).await;
    db.run(
        "INSERT INTO public.customers (id, nickname, email)
         SELECT i, CASE WHEN i % 2 = 0 THEN NULL ELSE 'nick' || i END, 'c' || i || '@example.com'
         FROM generate_series(1, 1000) AS i",
    )
    .await;
    let edit = plan(&after(), &existing_after(&initial), "20260102000000");
    let parts = migration_files(&edit);
    let ups: Vec<&str> = parts
        .iter()
        .filter(|(n, _)| n.ends_with(".up.sql"))
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(
        ups,
        [
            "migrations/20260102000000_shop.up.sql",
            "migrations/20260102000001_shop_backfill.up.sql",
            "migrations/20260102000002_shop_validate.up.sql",
        ]
    );
    let backfill = &parts
        .iter()
        .find(|(n, _)| n.ends_with("_backfill.up.sql"))
        .unwrap()
        .1;
    assert!(
        backfill
            .contains("UPDATE public.customers SET display_name = (coalesce(customers.nickname, email)) WHERE display_name IS NULL;"),
        "{backfill}"
    );
    db.run_ups(&parts).await;
    let (wrong, nulls): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE display_name IS DISTINCT FROM coalesce(nickname, email)),
                count(*) FILTER (WHERE display_name IS NULL)
         FROM public.customers",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!((wrong, nulls), (0, 0));
    let (not_null, helpers): (bool, i64) = sqlx::query_as(
        "SELECT a.attnotnull,
                (SELECT count(*) FROM pg_constraint WHERE conrelid = a.attrelid AND contype = 'c')
         FROM pg_attribute a
         WHERE a.attrelid = 'public.customers'::regclass AND a.attname = 'display_name'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert!(not_null, "display_name is NOT NULL");
    assert_eq!(helpers, 0, "the helper CHECK is dropped");
}
