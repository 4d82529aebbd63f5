//! `gen check` and `gen diff` against a real PostgreSQL 15: a migrated
//! database has no drift; each of 14 mutations is reported as exactly one
//! item at the right document line, and `gen diff` repairs it; a read-only
//! role is enough; TLS works; stale committed outputs are named.

mod support;

use schemagen::model::{Schema, Source};
use serde_json::Value;
use sqlx::Connection;
use std::path::{Path, PathBuf};
use std::process::Output;
use support::db::{TestDb, fresh_db, fresh_db_from};

fn gen_at(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_gen"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .args(args)
        .output()
        .unwrap()
}

fn run_gen(args: &[&str]) -> Output {
    gen_at(&support::root(), args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A database migrated the way users do it: the Supabase baseline, then
/// `gen migrations` and `gen apply`.
async fn migrated() -> TestDb {
    let db = fresh_db().await;
    let templates = schemagen::emit::Templates::load(None).unwrap();
    let prelude = schemagen::emit::sql::prelude(
        schemagen::emit::Target::Postgres,
        &templates,
        schemagen::emit::sql::Direction::Up,
    )
    .unwrap()
    .unwrap();
    db.run(&prelude).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let written = run_gen(&["migrations", "--timestamp", "20260101000000", "--out", out]);
    assert!(written.status.success(), "{}", text(&written.stderr));
    let url = format!("{}?options=-c%20search_path%3Dpublic", db.url);
    let applied = run_gen(&["apply", "--database-url", &url, "--out", out]);
    assert!(applied.status.success(), "{}", text(&applied.stderr));
    db
}

/// `gen check --format json`: exit code and the drift items.
fn check_json(url: &str) -> (i32, Vec<Value>) {
    let output = run_gen(&["check", "--database-url", url, "--format", "json"]);
    let code = output.status.code().unwrap();
    assert!(
        code == 0 || code == 1,
        "gen check failed ({code}): {}",
        text(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    (code, report["drift"].as_array().unwrap().clone())
}

/// The realised documented schema, where expected sources come from.
fn documented() -> Schema {
    let config = schemagen::config::ConfigFile::parse(
        &std::fs::read_to_string(support::root().join("schema/gen.yaml")).unwrap(),
        "schema/gen.yaml",
    )
    .unwrap();
    let settings = config.settings(Vec::new(), PathBuf::new(), None, None);
    support::real_project(&settings)
        .realized()
        .clone()
        .into_inner()
}

/// The text of a document line, to check independently of the model that an
/// item points at a line about its object.
fn doc_line(source: &Source) -> String {
    let bytes = std::fs::read(support::root().join(&*source.file)).unwrap();
    let (file, _) = schemagen::source::SourceFile::decode(&*source.file, &bytes);
    file.text
        .lines()
        .nth(source.line as usize - 1)
        .unwrap_or_default()
        .to_owned()
}

/// One mutation: SQL that breaks the database, and the one drift item
/// expected for it.
struct Mutation {
    name: &'static str,
    sql: &'static str,
    kind: &'static str,
    object: &'static str,
    /// Where the documents say it, from the model; None for objects only
    /// the database has.
    source: Option<fn(&Schema) -> Source>,
    /// Words the documented line must contain.
    line_mentions: &'static str,
}

fn column_source(table: &'static str, column: &'static str) -> impl Fn(&Schema) -> Source {
    move |s: &Schema| s.tables[table].column(column).unwrap().source.clone()
}

const MUTATIONS: &[Mutation] = &[
    Mutation {
        name: "drop column",
        sql: "ALTER TABLE public.properties DROP COLUMN bedrooms",
        kind: "missing-column",
        object: "properties.bedrooms",
        source: Some(|s| column_source("properties", "bedrooms")(s)),
        line_mentions: "bedrooms",
    },
    Mutation {
        name: "change type",
        sql: "ALTER TABLE public.properties ALTER COLUMN bedrooms TYPE bigint",
        kind: "type-mismatch",
        object: "properties.bedrooms",
        source: Some(|s| column_source("properties", "bedrooms")(s)),
        line_mentions: "integer",
    },
    Mutation {
        name: "drop NOT NULL",
        sql: "ALTER TABLE public.properties ALTER COLUMN price DROP NOT NULL",
        kind: "nullability-mismatch",
        object: "properties.price",
        source: Some(|s| column_source("properties", "price")(s)),
        line_mentions: "price",
    },
    Mutation {
        name: "change default",
        sql: "ALTER TABLE public.javari_web_crawls ALTER COLUMN status SET DEFAULT 'queued'",
        kind: "default-mismatch",
        object: "javari_web_crawls.status",
        source: Some(|s| column_source("javari_web_crawls", "status")(s)),
        line_mentions: "'pending'",
    },
    Mutation {
        name: "add an undocumented column",
        sql: "ALTER TABLE public.properties ADD COLUMN secret_notes text",
        kind: "undocumented-column",
        object: "properties.secret_notes",
        source: None,
        line_mentions: "",
    },
    Mutation {
        name: "add an undocumented table",
        sql: "CREATE TABLE public.shadow_ledger (id bigint PRIMARY KEY, amount numeric)",
        kind: "undocumented-table",
        object: "shadow_ledger",
        source: None,
        line_mentions: "",
    },
    Mutation {
        name: "drop table",
        sql: "DROP TABLE public.javari_ab_tests",
        kind: "missing-table",
        object: "javari_ab_tests",
        source: Some(|s| s.tables["javari_ab_tests"].source.clone()),
        line_mentions: "javari_ab_tests",
    },
    Mutation {
        name: "drop index",
        sql: "DROP INDEX public.idx_alerts_created_at",
        kind: "missing-index",
        object: "javari_alerts/idx_alerts_created_at",
        source: Some(|s| {
            let table = &s.tables["javari_alerts"];
            let index = table
                .indexes
                .iter()
                .find(|i| i.name == "idx_alerts_created_at");
            index.unwrap().source.clone()
        }),
        line_mentions: "idx_alerts_created_at",
    },
    Mutation {
        name: "drop FK",
        sql: "ALTER TABLE public.messages DROP CONSTRAINT messages_conversation_id_fkey",
        kind: "missing-foreign-key",
        object: "messages/messages_conversation_id_fkey",
        source: Some(|s| {
            let table = &s.tables["messages"];
            let fk = table
                .foreign_keys
                .iter()
                .find(|f| f.columns == ["conversation_id"]);
            fk.unwrap().source.clone()
        }),
        line_mentions: "REFERENCES conversations",
    },
    Mutation {
        name: "alter CHECK",
        sql: "ALTER TABLE public.javari_web_crawls DROP CONSTRAINT javari_web_crawls_crawl_frequency_check; \
              ALTER TABLE public.javari_web_crawls ADD CONSTRAINT javari_web_crawls_crawl_frequency_check \
              CHECK (crawl_frequency IN ('hourly', 'daily'))",
        kind: "constraint-differs",
        object: "javari_web_crawls/javari_web_crawls_crawl_frequency_check",
        source: Some(|s| {
            let table = &s.tables["javari_web_crawls"];
            let check = table
                .check_constraints
                .iter()
                .find(|c| c.column.as_deref() == Some("crawl_frequency"));
            check.unwrap().source.clone()
        }),
        line_mentions: "'weekly'",
    },
    Mutation {
        name: "disable RLS",
        sql: "ALTER TABLE public.conversations DISABLE ROW LEVEL SECURITY",
        kind: "rls-disabled",
        object: "conversations",
        source: Some(|s| {
            let table = &s.tables["conversations"];
            table
                .policies
                .iter()
                .map(|p| p.source.clone())
                .min()
                .unwrap()
        }),
        line_mentions: "CREATE POLICY",
    },
    Mutation {
        name: "drop policy",
        sql: "DROP POLICY \"Users can create conversations\" ON public.conversations",
        kind: "missing-policy",
        object: "conversations/Users can create conversations",
        source: Some(|s| {
            let table = &s.tables["conversations"];
            let policy = table
                .policies
                .iter()
                .find(|p| p.name == "Users can create conversations");
            policy.unwrap().source.clone()
        }),
        line_mentions: "Users can create conversations",
    },
    Mutation {
        name: "change a policy's USING under the same name",
        sql: "ALTER POLICY \"Users can view own conversations\" ON public.conversations USING (true)",
        kind: "policy-differs",
        object: "conversations/Users can view own conversations",
        source: Some(|s| {
            let table = &s.tables["conversations"];
            let policy = table
                .policies
                .iter()
                .find(|p| p.name == "Users can view own conversations");
            policy.unwrap().source.clone()
        }),
        line_mentions: "Users can view own conversations",
    },
    Mutation {
        name: "change a column comment",
        sql: "COMMENT ON COLUMN public.properties.price IS 'edited in the console'",
        kind: "comment-differs",
        object: "properties.price",
        source: Some(|s| column_source("properties", "price")(s)),
        line_mentions: "Listing price",
    },
];

/// Applies one mutation to a copy of `base` and checks the report, then
/// that `gen diff`'s SQL repairs the database.
async fn check_mutation(base: &str, mutation: &Mutation, schema: &Schema) {
    let db = fresh_db_from(base).await;
    db.run(mutation.sql).await;
    let (code, items) = check_json(&db.url);
    let context = format!("mutation `{}`: {items:#?}", mutation.name);
    assert_eq!(code, 1, "{context}");
    assert_eq!(items.len(), 1, "exactly one item for {context}");
    let item = &items[0];
    assert_eq!(item["kind"], mutation.kind, "{context}");
    assert_eq!(item["object"], mutation.object, "{context}");
    match mutation.source {
        Some(expected) => {
            let expected = expected(schema);
            assert_eq!(item["source"]["file"], &*expected.file, "{context}");
            assert_eq!(item["source"]["line"], expected.line, "{context}");
            let line = doc_line(&expected);
            assert!(
                line.contains(mutation.line_mentions),
                "{}:{} should mention `{}` but is `{line}`",
                expected.file,
                expected.line,
                mutation.line_mentions
            );
            assert!(!item["documented"].is_null(), "{context}");
        }
        None => {
            assert!(item["source"].is_null(), "{context}");
            assert!(item["documented"].is_null(), "{context}");
            assert!(!item["live"].is_null(), "{context}");
        }
    }

    let repair = run_gen(&["diff", "--database-url", &db.url, "--allow-destructive"]);
    assert!(repair.status.success(), "{}", text(&repair.stderr));
    let sql = text(&repair.stdout);
    db.run(&sql).await;
    let (code, items) = check_json(&db.url);
    assert_eq!(
        (code, items.len()),
        (0, 0),
        "after applying gen diff for `{}`:\n{sql}\n{items:#?}",
        mutation.name
    );
    db.close().await;
    db.drop_database().await;
}

#[tokio::test]
async fn a_migrated_database_has_no_drift_and_each_mutation_is_one_item() {
    let base = migrated().await;
    let output = run_gen(&["check", "--database-url", &base.url]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    assert!(text(&output.stderr).contains("no drift"));
    assert!(text(&output.stdout).is_empty(), "no drift is no data");
    let nothing = run_gen(&["diff", "--database-url", &base.url]);
    assert!(
        text(&nothing.stdout).contains("nothing to do"),
        "{}",
        text(&nothing.stdout)
    );

    let schema = documented();
    base.close().await;
    assert!(MUTATIONS.len() >= 12);
    for mutation in MUTATIONS {
        check_mutation(&base.name, mutation, &schema).await;
    }
}

#[tokio::test]
async fn destructive_repairs_are_commented_out_unless_allowed() {
    let db = migrated().await;
    db.run("CREATE TABLE public.shadow_ledger (id bigint); ALTER TABLE public.properties ADD COLUMN scratch text")
        .await;
    let output = run_gen(&["diff", "--database-url", &db.url]);
    let sql = text(&output.stdout);
    assert!(sql.contains("-- DROP TABLE public.shadow_ledger;"), "{sql}");
    assert!(
        sql.contains("-- ALTER TABLE public.properties DROP COLUMN scratch;"),
        "{sql}"
    );
    // Applying the safe script keeps the data: the drift stays.
    db.run(&sql).await;
    let (code, items) = check_json(&db.url);
    assert_eq!((code, items.len()), (1, 2), "{items:#?}");
}

#[tokio::test]
async fn github_annotations_point_at_the_doc_line() {
    let db = migrated().await;
    db.run("ALTER TABLE public.properties ALTER COLUMN price DROP NOT NULL")
        .await;
    let output = run_gen(&["check", "--database-url", &db.url, "--format", "github"]);
    assert_eq!(output.status.code(), Some(1));
    let line = column_source("properties", "price")(&documented());
    let annotations = text(&output.stdout);
    assert!(
        annotations.starts_with(&format!(
            "::error file={},line={},col=1,title=nullability-mismatch::properties.price",
            line.file, line.line
        )),
        "{annotations}"
    );
    let sarif = run_gen(&["check", "--database-url", &db.url, "--format", "sarif"]);
    let log: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    assert_eq!(
        log["runs"][0]["results"][0]["ruleId"],
        "nullability-mismatch"
    );
    let human = run_gen(&["check", "--database-url", &db.url]);
    let report = text(&human.stdout);
    assert!(report.contains("── properties (1)"), "{report}");
    assert!(
        !report.contains('\u{1b}'),
        "NO_COLOR is respected: {report}"
    );
}

#[tokio::test]
async fn a_role_with_only_usage_and_select_can_check() {
    let db = migrated().await;
    let role = format!("reader_{}", db.name);
    db.run(&format!(
        "CREATE ROLE {role} LOGIN PASSWORD 'reader-pw';
         GRANT USAGE ON SCHEMA public TO {role};
         GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role};"
    ))
    .await;
    let url = db.url.replacen(
        "postgres://postgres@",
        &format!("postgres://{role}:reader-pw@"),
        1,
    );
    let output = run_gen(&["check", "--database-url", &url]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    assert!(!text(&output.stdout).contains("reader-pw"));
    assert!(!text(&output.stderr).contains("reader-pw"));
    db.run(&format!("DROP OWNED BY {role}; DROP ROLE {role}"))
        .await;
}

/// The transaction introspection reads in rejects writes, whoever connects:
/// here a superuser, for whom only READ ONLY stands in the way.
#[tokio::test]
async fn introspection_runs_in_a_transaction_that_rejects_writes() {
    let db = fresh_db().await;
    let mut connection = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let mut transaction =
        schemagen::introspect::begin_read_only(&mut connection, std::time::Duration::from_secs(5))
            .await
            .unwrap();
    let error = sqlx::raw_sql("CREATE TABLE public.should_not_exist (id int)")
        .execute(&mut *transaction)
        .await
        .unwrap_err();
    let code = error
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.into_owned());
    assert_eq!(
        code.as_deref(),
        Some("25006"),
        "read_only_sql_transaction: {error}"
    );
    drop(transaction);
    // And the whole read goes through that transaction.
    let schema = schemagen::introspect::read_schema(&mut connection, &Default::default())
        .await
        .unwrap();
    assert!(schema.tables.is_empty());
}

#[tokio::test]
async fn tls_is_used_and_verified_when_the_url_asks() {
    let db = fresh_db().await;
    let root_cert = support::db::TLS_ROOT_CERT
        .get()
        .expect("the test cluster serves TLS (GEN_TEST_DATABASE_URL servers are not covered)");
    let verify_full = format!(
        "{}?sslmode=verify-full&sslrootcert={}",
        db.url,
        root_cert.display()
    );
    let mut connection = sqlx::PgConnection::connect(&verify_full).await.unwrap();
    let (ssl,): (bool,) =
        sqlx::query_as("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&mut connection)
            .await
            .unwrap();
    assert!(ssl, "the connection is encrypted");
    for url in [format!("{}?sslmode=require", db.url), verify_full] {
        let output = run_gen(&["check", "--database-url", &url, "--schema", "public"]);
        // An empty database: every documented table is missing, which is drift.
        assert_eq!(
            output.status.code(),
            Some(1),
            "{url}: {}",
            text(&output.stderr)
        );
    }
}

#[test]
fn connection_errors_are_clear_and_mask_the_password() {
    let output = run_gen(&[
        "check",
        "--database-url",
        "postgres://admin:hunter2secret@127.0.0.1:1/app?connect_timeout=2",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("cannot connect to postgres://admin:***@127.0.0.1:1/app"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2secret"), "{stderr}");
}

/// Copies the committed `generated/` into a temporary directory.
fn copy_of_generated() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            let target = to.join(path.file_name().unwrap());
            if path.is_dir() {
                copy(&path, &target);
            } else {
                std::fs::copy(&path, &target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&support::root().join("generated"), dir.path());
    dir
}

#[test]
fn without_a_url_the_committed_outputs_are_checked() {
    // The repository's own outputs are current.
    let committed = run_gen(&["check"]);
    assert_eq!(
        committed.status.code(),
        Some(0),
        "{}{}",
        text(&committed.stdout),
        text(&committed.stderr)
    );

    let dir = copy_of_generated();
    let out = dir.path().to_str().unwrap();
    let clean = run_gen(&["check", "--out", out]);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean.stdout));

    let edited: PathBuf = dir.path().join("sql/schema.sql");
    let original = std::fs::read_to_string(&edited).unwrap();
    std::fs::write(
        &edited,
        original.replace("bedrooms integer", "bedrooms bigint"),
    )
    .unwrap();
    let stale = run_gen(&["check", "--out", out, "--format", "github"]);
    assert_eq!(stale.status.code(), Some(1));
    let report = text(&stale.stdout);
    // Named relative to the repository root, never absolute: the
    // temporary directory lies outside it.
    let shown = schemagen::source::display_path(&edited, &support::root());
    assert!(shown.starts_with("../"), "{shown}");
    assert!(
        report.contains(&format!("::error file={shown},line=1,")),
        "{report}"
    );
    assert!(report.contains("title=stale-output"), "{report}");
    assert_eq!(report.matches("title=stale-output").count(), 1, "{report}");

    // A file that is missing, and an edited migration, are named too.
    std::fs::write(&edited, original).unwrap();
    std::fs::remove_file(dir.path().join("glossary/glossary.jsonl")).unwrap();
    let migration = std::fs::read_dir(dir.path().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".up.sql"))
        .unwrap();
    std::fs::write(&migration, "-- edited by hand\n").unwrap();
    let stale = run_gen(&["check", "--out", out]);
    assert_eq!(stale.status.code(), Some(1));
    let report = text(&stale.stdout);
    assert!(report.contains("glossary.jsonl is missing"), "{report}");
    assert!(report.contains("error[migration-edited]"), "{report}");
    assert!(
        report.contains(
            &migration
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        ),
        "{report}"
    );
}
