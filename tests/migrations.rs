//! Issue #3 against a real PostgreSQL 15 with pgvector: the DDL and the
//! migrations apply, the catalog holds what the documents say, the Javari
//! tables match the document's own SQL object by object, down migrations
//! undo, and incremental migrations round-trip.

mod support;

use schemagen::Settings;
use schemagen::emit::Target;
use schemagen::emit::migrations::{self, Existing, MigrationRequest, Plan};
use schemagen::emit::{EmitContext, OutputFile, Templates};
use schemagen::model::physical::{RealizeOptions, realize};
use schemagen::model::{PgType, Schema};
use schemagen::source::SourceFile;
use std::collections::BTreeSet;
use support::db::{Catalog, TestDb, fresh_db, fresh_db_from};
use support::plans::{existing_after, file_ending as file, migration_files};

fn options(target: Target) -> Settings {
    support::settings(target, RealizeOptions::default())
}

fn schema_of(text: &str) -> Schema {
    let (file, _) = SourceFile::decode("doc.md", text.as_bytes());
    support::schema_of_files(vec![file])
}

fn real_schema() -> Schema {
    support::real_schema().0
}

fn prelude() -> String {
    let templates = Templates::load(None).unwrap();
    schemagen::emit::sql::prelude(
        Target::Postgres,
        &templates,
        schemagen::emit::sql::Direction::Up,
    )
    .unwrap()
    .unwrap()
}

/// Runs a script the way a migration tool would, but with an empty
/// search_path, so anything unqualified fails.
async fn run_without_search_path(db: &TestDb, sql: &str) {
    db.run(&format!("SET LOCAL search_path = '';\n{sql}")).await;
}

fn plan_files(
    schema: &Schema,
    existing: &Existing,
    version: &str,
    target: Target,
) -> Vec<OutputFile> {
    let templates = Templates::load(None).unwrap();
    let request = MigrationRequest {
        name: "test",
        version,
        allowed: migrations::AllowedHazards::of(schemagen::diff::hazard::HazardKind::ALL),
    };
    let project = support::project_of_schema(schema, &options(target));
    let context = EmitContext::new(&project, &templates);
    match migrations::plan(&context, existing, &request).unwrap() {
        Plan::Write { files, .. } => files,
        other => panic!("expected files, got {other:?}"),
    }
}

/// Every file of a plan's migration, for a failure message.
fn listing(files: &[(String, String)], suffix: &str) -> String {
    files
        .iter()
        .filter(|(name, _)| name.ends_with(suffix))
        .map(|(name, sql)| format!("--- {name} ---\n{sql}"))
        .collect()
}

/// A fresh database built by `schema`'s initial migration.
async fn fresh_build(schema: &Schema) -> TestDb {
    let db = fresh_db().await;
    let initial = plan_files(
        schema,
        &Existing::default(),
        "20260101000000",
        Target::Postgres,
    );
    db.run(file(&initial, ".up.sql")).await;
    db
}

#[tokio::test]
async fn full_ddl_and_initial_migration_apply_with_the_prelude() {
    let schema = real_schema();
    let ddl = support::ddl_of(&schema, &options(Target::Postgres));
    let db = fresh_db().await;
    run_without_search_path(&db, &ddl).await;
    assert_eq!(db.catalog().await.tables().len(), 44);

    let files = plan_files(
        &schema,
        &Existing::default(),
        "20260101000000",
        Target::Postgres,
    );
    let migrated = fresh_db().await;
    run_without_search_path(&migrated, file(&files, ".up.sql")).await;
    assert_eq!(
        db.catalog().await.diff(&migrated.catalog().await),
        "",
        "gen sql and the migration agree"
    );
}

#[tokio::test]
async fn initial_migration_applies_on_a_supabase_like_database_through_gen_apply() {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_db().await;
    // Supabase already has auth, the roles and `extensions`, and grants
    // every new table in `public` to the API's roles.
    db.run(&prelude()).await;
    db.run(
        "GRANT USAGE ON SCHEMA public TO anon, authenticated;
         ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated;",
    )
    .await;
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_gen"))
        .current_dir(support::root())
        .args([
            "migrations",
            "--target",
            "supabase",
            "--timestamp",
            "20260101000000",
            "--out",
        ])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    // sqlx creates its own bookkeeping table unqualified, so `public` must be
    // on the path; `extensions` is not, which proves our qualification.
    let url = format!("{}?options=-c%20search_path%3Dpublic", db.url);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gen"))
        .current_dir(support::root())
        .args(["apply", "--database-url", &url, "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let catalog = db.catalog().await;
    assert_eq!(catalog.tables().len(), 45, "44 tables and _sqlx_migrations");
    assert!(catalog.facts.contains("extension | vector"));
    the_history_is_private(&db).await;
}

/// As `anon` and `authenticated`, every kind of access to the migration
/// history is refused, though the database grants new tables in `public`
/// to them (a documented table proves the grant is there).
async fn the_history_is_private(db: &TestDb) {
    let granted: bool =
        sqlx::query_scalar("SELECT has_table_privilege('anon', 'public.customers', 'SELECT')")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert!(granted, "the Supabase-like default privileges are in place");
    for role in ["anon", "authenticated"] {
        for statement in [
            "SELECT * FROM public._sqlx_migrations",
            "INSERT INTO public._sqlx_migrations VALUES (1, 'x', now(), true, '\\x00', 0)",
            "UPDATE public._sqlx_migrations SET success = false",
            "DELETE FROM public._sqlx_migrations",
        ] {
            let mut transaction = db.pool().begin().await.unwrap();
            let set_role = format!("SET LOCAL ROLE {role}");
            sqlx::raw_sql(sqlx::AssertSqlSafe(set_role.as_str()))
                .execute(&mut *transaction)
                .await
                .unwrap();
            let result = sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                .execute(&mut *transaction)
                .await;
            let refused = result
                .as_ref()
                .err()
                .and_then(|e| e.as_database_error())
                .and_then(|e| e.code())
                .is_some_and(|code| code == "42501");
            assert!(refused, "{role}: `{statement}` was not refused: {result:?}");
            transaction.rollback().await.unwrap();
        }
    }
}

/// Every documented table, column, type, nullability, default, FK, index
/// and CHECK, read back from pg_catalog.
#[tokio::test]
async fn the_catalog_holds_everything_the_documents_say() {
    let schema = real_schema();
    let (realized, _) = realize(&schema, &RealizeOptions::default());
    let files = plan_files(
        &schema,
        &Existing::default(),
        "20260101000000",
        Target::Postgres,
    );
    let db = fresh_db().await;
    db.run(file(&files, ".up.sql")).await;
    let catalog = db.catalog().await;

    let columns: Vec<Vec<String>> = catalog
        .of_kind("column")
        .map(|f| f.split(" | ").map(str::to_owned).collect())
        .collect();
    let mut checked = 0;
    for table in schema.documented_tables() {
        let physical = &realized.tables[&table.name];
        for column in &physical.columns {
            let fact = columns
                .iter()
                .find(|f| f[1] == table.name && f[2] == column.name)
                .unwrap_or_else(|| {
                    panic!("{}.{} missing from the catalog", table.name, column.name)
                });
            assert_eq!(
                PgType::parse(&fact[3]),
                column.ty,
                "type of {}.{}",
                table.name,
                column.name
            );
            assert_eq!(
                fact[4],
                format!("notnull={}", !column.nullable),
                "{}.{}",
                table.name,
                column.name
            );
            assert_eq!(
                fact[5] != "default=",
                column.default.is_some(),
                "default of {}.{}: {}",
                table.name,
                column.name,
                fact[5]
            );
            checked += 1;
        }
        let constraints: Vec<&String> = catalog
            .of_kind("constraint")
            .filter(|f| f.split(" | ").nth(1) == Some(&table.name))
            .collect();
        for fk in &physical.foreign_keys {
            let name = fk.name.as_deref().unwrap();
            let fact = constraints
                .iter()
                .find(|f| f.contains(&format!(" | {name} | f | ")))
                .unwrap_or_else(|| panic!("FK {name} missing"));
            assert!(
                fact.contains(&format!("REFERENCES {}(", fk.references)),
                "{fact}"
            );
            if let Some(action) = fk.on_delete {
                assert!(
                    fact.contains(&format!("ON DELETE {}", action.as_sql())),
                    "{fact}"
                );
            }
        }
        for check in &physical.check_constraints {
            let name = check.name.as_deref().unwrap();
            assert!(
                constraints
                    .iter()
                    .any(|f| f.contains(&format!(" | {name} | c | CHECK"))),
                "CHECK {name} missing"
            );
        }
        for index in &physical.indexes {
            let fact = catalog
                .of_kind("index")
                .find(|f| f.contains(&format!(" | {} | ", index.name)))
                .unwrap_or_else(|| panic!("index {} missing", index.name));
            assert!(
                fact.contains(&format!("USING {}", index.method.as_sql())),
                "{fact}"
            );
        }
    }
    assert_eq!(checked, 538, "every documented column was checked");
    assert!(catalog.facts.iter().any(|f| f.starts_with("constraint | messages | messages_conversation_id_fkey | f | FOREIGN KEY (conversation_id) REFERENCES conversations(id) ON DELETE CASCADE")));
    assert!(catalog.facts.iter().any(|f| f.contains("users_plan_check | c | CHECK ((plan = ANY (ARRAY['free'::text, 'pro'::text, 'enterprise'::text])))")));
    assert!(
        catalog
            .facts
            .iter()
            .any(|f| f.starts_with("column | javari_knowledge_base | embedding | vector(1536)"))
    );
    assert!(
        catalog
            .facts
            .iter()
            .any(|f| f.starts_with("column | users | credits_balance | numeric(10,2)"))
    );
    assert!(
        catalog
            .facts
            .contains("comment | properties |  | Core property listings database")
    );
    assert!(
        catalog
            .facts
            .iter()
            .any(|f| f.starts_with("comment | profiles |  | Stub for `profiles`"))
    );
}

/// The SQL blocks of the Javari document, verbatim, in order.
fn javari_sql() -> String {
    let text = std::fs::read_to_string(support::root().join(support::JAVARI)).unwrap();
    let mut out = String::new();
    let mut inside = false;
    for line in text.lines() {
        match (inside, line.trim()) {
            (false, "```sql") => inside = true,
            (true, "```") => {
                inside = false;
                out.push('\n');
            }
            (true, _) => {
                out.push_str(line);
                out.push('\n');
            }
            _ => {}
        }
    }
    out
}

#[tokio::test]
async fn javari_tables_match_the_documents_own_sql_object_by_object() {
    let verbatim = fresh_db().await;
    verbatim.run(&prelude()).await;
    verbatim.run(&javari_sql()).await;

    let files = plan_files(
        &real_schema(),
        &Existing::default(),
        "20260101000000",
        Target::Postgres,
    );
    let ours = fresh_db().await;
    ours.run(file(&files, ".up.sql")).await;

    let javari =
        schema_of(&std::fs::read_to_string(support::root().join(support::JAVARI)).unwrap());
    let tables: BTreeSet<String> = javari.documented_tables().map(|t| t.name.clone()).collect();
    assert_eq!(tables.len(), 26);
    let structural = |catalog: Catalog| Catalog {
        facts: catalog
            .restricted_to(&tables)
            .facts
            .into_iter()
            .filter(|f| {
                f.starts_with("column |")
                    || f.starts_with("constraint |")
                    || f.starts_with("index |")
            })
            .collect(),
    };
    let (expected, actual) = (
        structural(verbatim.catalog().await),
        structural(ours.catalog().await),
    );
    assert!(
        expected.facts.len() > 300,
        "the comparison covers the tables: {}",
        expected.facts.len()
    );
    assert_eq!(
        expected.diff(&actual),
        "",
        "columns, types, nullability, defaults, constraints and indexes"
    );
}

/// The stub tables of the real documents: tables they only name.
fn stub_tables(schema: &Schema) -> BTreeSet<String> {
    let project = support::project_of_schema(schema, &options(Target::Postgres));
    project
        .realized()
        .tables
        .values()
        .filter(|t| t.stub)
        .map(|t| t.name.clone())
        .collect()
}

/// `catalog` without what the initial down keeps: the extensions, the
/// `extensions` schema they live in, and the stub tables with everything
/// on them.
fn without_what_the_down_keeps(catalog: &Catalog, stubs: &BTreeSet<String>) -> Catalog {
    let kept = catalog.restricted_to(stubs);
    Catalog {
        facts: catalog
            .facts
            .iter()
            .filter(|f| !kept.facts.contains(*f))
            .filter(|f| !f.starts_with("extension | ") && f.as_str() != "schema | extensions")
            .cloned()
            .collect(),
    }
}

#[tokio::test]
async fn the_down_migration_returns_the_database_to_empty_but_for_extensions_and_stubs() {
    let empty = fresh_db().await.catalog().await;
    let schema = real_schema();
    let files = plan_files(
        &schema,
        &Existing::default(),
        "20260101000000",
        Target::Postgres,
    );
    let db = fresh_db().await;
    db.run(file(&files, ".up.sql")).await;
    db.run(file(&files, ".down.sql")).await;
    let after = db.catalog().await;
    let stubs = stub_tables(&schema);
    assert!(stubs.contains("profiles"), "{stubs:?}");
    assert_eq!(after.tables(), stubs, "only the stub tables are left");
    assert_eq!(
        empty.diff(&without_what_the_down_keeps(&after, &stubs)),
        "",
        "everything else is gone"
    );
}

/// Issue 19, point 6: on a database that already has `vector` and a
/// `profiles` table with a row (as a Supabase project does), the initial
/// migration goes up and down again without taking either away.
#[tokio::test]
async fn the_initial_down_keeps_extensions_and_stub_tables_that_existed_before() {
    let schema = real_schema();
    let files = plan_files(
        &schema,
        &Existing::default(),
        "20260101000000",
        Target::Postgres,
    );
    let down = file(&files, ".down.sql");
    assert!(!down.contains("DROP EXTENSION"), "{down}");
    assert!(!down.contains("DROP TABLE public.profiles"), "{down}");
    assert!(!down.contains("DROP SCHEMA IF EXISTS extensions"), "{down}");
    assert!(down.contains("never dropped"), "the down says why: {down}");
    assert!(
        file(&files, ".up.sql").contains("CREATE TABLE IF NOT EXISTS public.profiles ("),
        "a stub may exist already"
    );

    let empty = fresh_db().await.catalog().await;
    let db = fresh_db().await;
    db.run(
        "CREATE SCHEMA extensions;
         CREATE EXTENSION vector WITH SCHEMA extensions;
         CREATE TABLE public.profiles (
             id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
             created_at timestamptz NOT NULL DEFAULT now(),
             updated_at timestamptz NOT NULL DEFAULT now(),
             username text
         );
         INSERT INTO public.profiles (id, username)
         VALUES ('00000000-0000-0000-0000-000000000001', 'ada');",
    )
    .await;
    let before = db.catalog().await;
    db.run(file(&files, ".up.sql")).await;
    db.run(file(&files, ".down.sql")).await;
    let after = db.catalog().await;

    assert!(after.facts.contains("extension | vector"), "{after}");
    let profiles: BTreeSet<String> = ["profiles".to_owned()].into();
    let before_profiles = before.restricted_to(&profiles);
    let missing: Vec<&String> = before_profiles
        .facts
        .iter()
        .filter(|f| !f.starts_with("table | "))
        .filter(|f| !after.facts.contains(*f))
        .collect();
    assert!(missing.is_empty(), "profiles lost {missing:?}");
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT id::text, username FROM public.profiles")
            .fetch_all(db.pool())
            .await
            .unwrap();
    assert_eq!(
        rows,
        [(
            "00000000-0000-0000-0000-000000000001".to_owned(),
            "ada".to_owned()
        )]
    );
    let stubs = stub_tables(&schema);
    assert_eq!(after.tables(), stubs, "only the stub tables are left");
    assert_eq!(
        empty.diff(&without_what_the_down_keeps(&after, &stubs)),
        "",
        "everything else is gone"
    );
}

/// Edits to the round-trip fixture: (what, text to replace, replacement).
const EDITS: &[(&str, &str, &str)] = &[
    (
        "add table",
        "```sql\n",
        "## 3. TAGS (2 columns)\n| Column | Type | Nullable | Description |\n|---|---|---|---|\n| id | uuid | NO | Primary key |\n| label | varchar | NO | Label |\n\n```sql\n",
    ),
    ("drop table", "## 2. PRODUCTS", "## PRODUCTS GONE"),
    (
        "add column",
        "| rating | decimal | YES | Average rating |",
        "| rating | decimal | YES | Average rating |\n| city | varchar | YES | City |",
    ),
    (
        "drop column",
        "| rating | decimal | YES | Average rating |\n",
        "",
    ),
    ("widen type", "note VARCHAR(200)", "note TEXT"),
    (
        "narrow type",
        "credits DECIMAL(10,2)",
        "credits DECIMAL(8,2)",
    ),
    (
        "change type family",
        "| rating | decimal | YES |",
        "| rating | integer | YES |",
    ),
    (
        "set not null",
        "| rating | decimal | YES |",
        "| rating | decimal | NO |",
    ),
    (
        "drop not null",
        "| title | varchar | NO |",
        "| title | varchar | YES |",
    ),
    (
        "change default",
        "quantity INTEGER DEFAULT 1",
        "quantity INTEGER DEFAULT 2",
    ),
    (
        "drop default",
        "credits DECIMAL(10,2) DEFAULT 10.00",
        "credits DECIMAL(10,2)",
    ),
    (
        "add default",
        "note VARCHAR(200)",
        "note VARCHAR(200) DEFAULT 'none'",
    ),
    (
        "add index",
        "- INDEX on name",
        "- INDEX on name\n- INDEX on rating",
    ),
    (
        "drop index",
        "CREATE INDEX idx_orders_created_at ON orders(created_at DESC);",
        "",
    ),
    (
        "change index",
        "CREATE INDEX idx_orders_owner_id ON orders(owner_id);",
        "CREATE INDEX idx_orders_owner_id ON orders(owner_id, created_at);",
    ),
    (
        "add FK",
        "| rating | decimal | YES | Average rating |",
        "| rating | decimal | YES | Average rating |\n| partner_id | uuid | YES | FK to stores |",
    ),
    (
        "drop FK",
        "| store_id | uuid | NO | FK to stores |",
        "| store_id | uuid | NO | Store |",
    ),
    (
        "change ON DELETE",
        "REFERENCES products(id) ON DELETE SET NULL",
        "REFERENCES products(id) ON DELETE CASCADE",
    ),
    (
        "add CHECK",
        "note VARCHAR(200)",
        "note VARCHAR(200) CHECK (length(note) > 2)",
    ),
    (
        "change CHECK",
        "CHECK (plan IN ('free', 'pro'))",
        "CHECK (plan IN ('free', 'pro', 'team'))",
    ),
    (
        "drop UNIQUE",
        "email TEXT UNIQUE NOT NULL",
        "email TEXT NOT NULL",
    ),
    (
        "add UNIQUE",
        "note VARCHAR(200)",
        "note VARCHAR(200) UNIQUE",
    ),
    (
        "column comment",
        "| Store name |",
        "| The store's public name |",
    ),
    (
        "table comment",
        "**Purpose:** Stores that sell things",
        "**Purpose:** Shops",
    ),
    (
        "change function",
        "SELECT count(*) FROM orders",
        "SELECT count(*)::integer FROM orders",
    ),
    (
        "add extension and vector column",
        "  note VARCHAR(200),",
        "  note VARCHAR(200),\n  embedding vector(3),",
    ),
    (
        "FK cycle",
        "  credits DECIMAL(10,2) DEFAULT 10.00,",
        "  credits DECIMAL(10,2) DEFAULT 10.00,\n  favourite_store_id UUID REFERENCES stores(id),",
    ),
];

#[tokio::test]
async fn incremental_migrations_round_trip_for_every_edit() {
    let base =
        std::fs::read_to_string(support::root().join("tests/fixtures/roundtrip/base.md")).unwrap();
    let a = schema_of(&base);
    let initial = plan_files(&a, &Existing::default(), "20260101000000", Target::Postgres);
    let after_a = fresh_db().await;
    after_a.run(file(&initial, ".up.sql")).await;
    let catalog_a = after_a.catalog().await;
    assert!(EDITS.len() >= 20);
    for (what, from, to) in EDITS {
        assert!(base.contains(from), "edit `{what}` does not apply");
        let edited = base.replacen(from, to, 1);
        let b = schema_of(&edited);
        let step = plan_files(
            &b,
            &existing_after(&initial),
            "20260102000000",
            Target::Postgres,
        );

        let step = migration_files(&step);
        let migrated = fresh_db().await;
        migrated.run(file(&initial, ".up.sql")).await;
        migrated.run_ups(&step).await;
        let fresh_b = fresh_build(&b).await;
        let (catalog_migrated, catalog_b) = (migrated.catalog().await, fresh_b.catalog().await);
        assert_ne!(
            catalog_a.diff(&catalog_b),
            "",
            "edit `{what}` changes nothing"
        );
        assert_eq!(
            catalog_b.diff(&catalog_migrated),
            "",
            "edit `{what}`: initial(A) + diff(A→B) differs from a fresh B\n{}",
            listing(&step, ".up.sql")
        );
        migrated.run_downs(&step).await;
        assert_eq!(
            catalog_a.diff(&migrated.catalog().await),
            "",
            "edit `{what}`: the down migration does not bring back A\n{}",
            listing(&step, ".down.sql")
        );
        migrated.drop_database().await;
        fresh_b.drop_database().await;
    }
}

/// The same edits on tables that hold rows (200 FK-consistent rows in
/// each, `support::populate`): every part of each migration applies, in
/// order, as a migration tool runs them (the concurrent part statement by
/// statement), and gives the catalog of a fresh build; no row of a table
/// that stays is lost; the down migration brings back A's catalog.
#[tokio::test]
async fn incremental_migrations_round_trip_on_populated_tables() {
    let base =
        std::fs::read_to_string(support::root().join("tests/fixtures/roundtrip/base.md")).unwrap();
    let a = schema_of(&base);
    let initial = plan_files(&a, &Existing::default(), "20260101000000", Target::Postgres);
    let project_a = support::project_of_schema(&a, &options(Target::Postgres));
    let template = support::populate::populated_template(&project_a, 200);
    let start = fresh_db_from(&template).await;
    let catalog_a = start.catalog().await;
    start.drop_database().await;
    let mut failures = Vec::new();
    let (mut downs, mut hazardous_downs) = (0, 0);
    for (what, from, to) in EDITS {
        let edited = base.replacen(from, to, 1);
        let b = schema_of(&edited);
        let step = migration_files(&plan_files(
            &b,
            &existing_after(&initial),
            "20260102000000",
            Target::Postgres,
        ));
        let migrated = fresh_db_from(&template).await;
        let rows_before = support::populate::data_state(&migrated).await.row_counts;
        let mut applied = true;
        for (name, sql) in step.iter().filter(|(n, _)| n.ends_with(".up.sql")) {
            if let Err(e) = migrated.try_run_migration(sql).await {
                failures.push(format!(
                    "edit `{what}`: {name} fails on the rows: {e}\n{sql}"
                ));
                applied = false;
                break;
            }
        }
        if applied {
            let fresh_b = fresh_build(&b).await;
            let differs = fresh_b.catalog().await.diff(&migrated.catalog().await);
            if !differs.is_empty() {
                failures.push(format!("edit `{what}`: differs from a fresh B:\n{differs}"));
            }
            let rows_after = support::populate::data_state(&migrated).await.row_counts;
            for (table, count) in &rows_before {
                if let Some(after) = rows_after.get(table).filter(|after| *after != count) {
                    failures.push(format!(
                        "edit `{what}`: {table} had {count} rows, now {after}"
                    ));
                }
            }
            // A down migration that says it can fail on rows, or lose
            // them (re-adding a NOT NULL column the up dropped, narrowing
            // back), is not run on them: its hazard is the answer.
            let down = listing(&step, ".down.sql");
            if down.contains("-- hazard fails-on-data") || down.contains("-- hazard data-loss") {
                hazardous_downs += 1;
            } else {
                for (name, sql) in step.iter().rev().filter(|(n, _)| n.ends_with(".down.sql")) {
                    if let Err(e) = migrated.try_run_migration(sql).await {
                        failures.push(format!(
                            "edit `{what}`: {name} fails on the rows: {e}\n{sql}"
                        ));
                    }
                }
                let back = catalog_a.diff(&migrated.catalog().await);
                if !back.is_empty() {
                    failures.push(format!(
                        "edit `{what}`: the down migration does not bring back A:\n{back}"
                    ));
                }
                downs += 1;
            }
            fresh_b.drop_database().await;
        }
        migrated.drop_database().await;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    eprintln!(
        "{} edits on populated tables; {downs} down migrations run on the rows, {hazardous_downs} declare a hazard and were not",
        EDITS.len()
    );
    assert!(downs >= EDITS.len() / 2, "{downs} downs run");
}

fn realize_options(configure: impl FnOnce(&mut RealizeOptions)) -> Settings {
    let mut options = options(Target::Postgres);
    configure(&mut options.realize);
    options
}

async fn migrated_with(schema: &Schema, settings: &Settings) -> TestDb {
    let ddl = support::ddl_of(schema, settings);
    let db = fresh_db().await;
    db.run(&ddl).await;
    db
}

#[tokio::test]
async fn documented_enums_become_checks_only_when_configured() {
    let schema = real_schema();
    let plain = migrated_with(&schema, &options(Target::Postgres)).await;
    assert!(
        !plain
            .catalog()
            .await
            .facts
            .iter()
            .any(|f| f.contains("properties_status_check"))
    );

    let enforced = migrated_with(
        &schema,
        &realize_options(|o| o.enforce_documented_enums = true),
    )
    .await;
    let insert = |status: &str| {
        format!(
            "INSERT INTO profiles (id) VALUES ('00000000-0000-0000-0000-000000000001') ON CONFLICT DO NOTHING;
             INSERT INTO properties (agent_id, address, city, state, zip_code, price, property_type, status, is_featured, is_active)
             VALUES ('00000000-0000-0000-0000-000000000001', 'a', 'b', 'FL', '1', 1, 'condo', '{status}', false, true);"
        )
    };
    enforced.run(&insert("coming_soon")).await;
    let error = enforced.execute(&insert("haunted")).await.unwrap_err();
    assert!(
        error.to_string().contains("properties_status_check"),
        "{error}"
    );
    // CHECKs written in SQL are there either way.
    assert!(
        plain
            .catalog()
            .await
            .facts
            .iter()
            .any(|f| f.contains("users_plan_check"))
    );
}

#[tokio::test]
async fn the_updated_at_trigger_keeps_it_current_when_configured() {
    let base =
        std::fs::read_to_string(support::root().join("tests/fixtures/roundtrip/base.md")).unwrap();
    let schema = schema_of(&base.replace("| created_at | timestamptz | NO | Created |\n\n**Indexes:**\n- PRIMARY KEY", "| created_at | timestamptz | NO | Created |\n| updated_at | timestamptz | NO | Modified |\n\n**Indexes:**\n- PRIMARY KEY"));
    let db = migrated_with(&schema, &realize_options(|o| o.updated_at_trigger = true)).await;
    db.run("INSERT INTO owners (id, email) VALUES ('00000000-0000-0000-0000-000000000001', 'a@b');
            INSERT INTO stores (id, owner_id, name, updated_at) VALUES ('00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-000000000001', 's', '2000-01-01');
            UPDATE stores SET name = 't';").await;
    let year: f64 = sqlx::query_scalar("SELECT extract(year FROM updated_at)::float8 FROM stores")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert!(year > 2000.0, "the trigger moved updated_at forward");
}

#[tokio::test]
async fn stub_modes_choose_which_name_only_tables_exist() {
    use schemagen::model::physical::Stubs;
    let schema = real_schema();
    let referenced = migrated_with(&schema, &options(Target::Postgres))
        .await
        .catalog()
        .await
        .tables();
    for stub in ["profiles", "brokerages", "teams", "credentials"] {
        assert!(referenced.contains(stub), "{stub}");
    }
    assert!(!referenced.contains("leads"));

    let (none, diagnostics) = realize(
        &schema,
        &RealizeOptions {
            stubs: Stubs::None,
            ..Default::default()
        },
    );
    assert_eq!(none.tables.len(), 40);
    assert!(
        none.tables["properties"].foreign_keys.is_empty(),
        "FKs to profiles are left out"
    );
    assert!(diagnostics.iter().any(|d| {
        d.message
            .contains("`properties.agent_id` → `profiles` is left out")
    }));
    let db = migrated_with(&schema, &realize_options(|o| o.stubs = Stubs::None)).await;
    assert_eq!(db.catalog().await.tables().len(), 40);

    let all = migrated_with(&schema, &realize_options(|o| o.stubs = Stubs::All))
        .await
        .catalog()
        .await
        .tables();
    assert_eq!(all.len(), schema.tables.len());
    assert!(all.contains("leads"));
}
