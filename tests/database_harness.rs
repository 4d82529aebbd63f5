mod support;

use std::collections::BTreeSet;
use support::db::{Catalog, admin_url, fresh_db};

fn has(catalog: &Catalog, fact: &str) -> bool {
    catalog.facts.contains(fact)
}

#[track_caller]
fn assert_fact(catalog: &Catalog, fact: &str) {
    assert!(
        has(catalog, fact),
        "missing fact:\n  {fact}\ncatalog:\n{catalog}"
    );
}

#[tokio::test]
async fn fresh_db_supports_pgvector() {
    let db = fresh_db().await;
    db.run(
        "CREATE EXTENSION vector;
         CREATE TABLE items (id bigint PRIMARY KEY, embedding vector(3) NOT NULL);
         INSERT INTO items VALUES (1, '[1,2,3]'), (2, '[3,2,1]');",
    )
    .await;
    let nearest: i64 =
        sqlx::query_scalar("SELECT id FROM items ORDER BY embedding <-> '[3,2,1.5]' LIMIT 1")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(nearest, 2);

    let catalog = db.catalog().await;
    assert_fact(&catalog, "extension | vector");
    assert_fact(
        &catalog,
        "column | items | embedding | vector(3) | notnull=true | default=",
    );
    // The extension's own functions are not user objects.
    assert_eq!(
        catalog.of_kind("function").count(),
        0,
        "extension functions leaked into the catalog:\n{catalog}"
    );
}

#[tokio::test]
async fn fresh_dbs_are_separate() {
    let a = fresh_db().await;
    let b = fresh_db().await;
    assert_ne!(a.name, b.name);
    assert_ne!(a.url, b.url);
    let pid = std::process::id().to_string();
    assert!(
        a.name.starts_with(&format!("gen_test_{pid}_")),
        "{}",
        a.name
    );

    for db in [&a, &b] {
        let current: String = sqlx::query_scalar("SELECT current_database()::text")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(current, db.name);
    }

    a.run("CREATE TABLE only_in_a (id int)").await;
    let in_a = a.catalog().await;
    let in_b = b.catalog().await;
    assert_fact(&in_a, "table | only_in_a | rls=false | force=false");
    assert!(
        !in_b.facts.iter().any(|f| f.contains("only_in_a")),
        "{in_b}"
    );
    assert!(in_b.tables().is_empty());
    assert_eq!(admin_url(), admin_url());
}

const WIDGETS: &str = r#"
CREATE TYPE widget_kind AS ENUM ('small', 'large');
CREATE TABLE widgets (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    kind widget_kind NOT NULL DEFAULT 'small',
    price numeric(10,2) NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    note varchar(40),
    CONSTRAINT widgets_name_key UNIQUE (name),
    CONSTRAINT widgets_price_check CHECK (price >= 0)
);
CREATE INDEX widgets_created_at_idx ON widgets (created_at DESC);
COMMENT ON TABLE widgets IS 'Things we sell';
COMMENT ON COLUMN widgets.price IS 'In euros';
ALTER TABLE widgets ENABLE ROW LEVEL SECURITY;
CREATE POLICY widgets_read ON widgets FOR SELECT TO public USING (price >= 0);
CREATE FUNCTION widget_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM widgets';
"#;

#[tokio::test]
async fn catalog_describes_tables() {
    let db = fresh_db().await;
    db.run(WIDGETS).await;
    let catalog = db.catalog().await;

    for fact in [
        "schema | public",
        "table | widgets | rls=true | force=false",
        "column | widgets | id | bigint | notnull=true | default=generated always as identity",
        "column | widgets | name | text | notnull=true | default=",
        "column | widgets | kind | widget_kind | notnull=true | default='small'::widget_kind",
        "column | widgets | price | numeric(10,2) | notnull=true | default=0",
        "column | widgets | created_at | timestamp with time zone | notnull=true | default=now()",
        "column | widgets | note | character varying(40) | notnull=false | default=",
        "constraint | widgets | widgets_pkey | p | PRIMARY KEY (id)",
        "constraint | widgets | widgets_name_key | u | UNIQUE (name)",
        "constraint | widgets | widgets_price_check | c | CHECK ((price >= (0)::numeric))",
        "index | widgets | widgets_created_at_idx | CREATE INDEX widgets_created_at_idx ON public.widgets USING btree (created_at DESC)",
        "index | widgets | widgets_name_key | CREATE UNIQUE INDEX widgets_name_key ON public.widgets USING btree (name)",
        "comment | widgets |  | Things we sell",
        "comment | widgets | price | In euros",
        "policy | widgets | widgets_read | SELECT | permissive=true | roles=public | using=(price >= (0)::numeric) | check=",
        "enum | widget_kind | small,large",
    ] {
        assert_fact(&catalog, fact);
    }
    assert!(
        catalog
            .facts
            .iter()
            .any(|f| f.starts_with("function | widget_count() | ")),
        "{catalog}"
    );
    assert_eq!(catalog.tables(), BTreeSet::from(["widgets".to_owned()]));

    // Same script, same catalog; a different database, a non-empty diff.
    assert_eq!(catalog.diff(&catalog), "");
    let twin = fresh_db().await;
    twin.run(WIDGETS).await;
    assert_eq!(catalog.diff(&twin.catalog().await), "");

    let empty = fresh_db().await.catalog().await;
    let diff = catalog.diff(&empty);
    assert!(!diff.is_empty());
    assert!(diff.lines().all(|l| l.starts_with("- ")), "{diff}");
    assert!(
        diff.contains("- table | widgets | rls=true | force=false"),
        "{diff}"
    );
    let reverse = empty.diff(&catalog);
    assert!(reverse.lines().all(|l| l.starts_with("+ ")), "{reverse}");
    assert_eq!(diff.lines().count(), reverse.lines().count());
}

#[tokio::test]
async fn diff_pinpoints_a_change() {
    let a = fresh_db().await;
    let b = fresh_db().await;
    a.run("CREATE TABLE t (id int PRIMARY KEY, v int); CREATE TABLE other (x int)")
        .await;
    b.run("CREATE TABLE t (id int PRIMARY KEY, v bigint)").await;
    let (ca, cb) = (a.catalog().await, b.catalog().await);

    let only_t = BTreeSet::from(["t".to_owned()]);
    assert_eq!(
        ca.restricted_to(&only_t).diff(&cb.restricted_to(&only_t)),
        // Sorted by fact, so a changed fact's two versions are adjacent.
        "+ column | t | v | bigint | notnull=false | default=\n\
         - column | t | v | integer | notnull=false | default="
    );
    let restricted = ca.restricted_to(&only_t);
    assert!(restricted.facts.iter().all(|f| !f.contains("other")));
    assert!(restricted.facts.iter().all(|f| !f.starts_with("schema |")));
    assert!(
        ca.diff(&cb)
            .contains("- table | other | rls=false | force=false")
    );
}

#[tokio::test]
async fn execute_reports_errors() {
    let db = fresh_db().await;
    let err = db.execute("CREATE TABLE broken (").await.unwrap_err();
    assert!(err.as_database_error().is_some(), "{err}");

    // A script is one implicit transaction: a later failure undoes it all.
    assert!(
        db.execute("CREATE TABLE kept (id int); SELECT no_such_column FROM kept;")
            .await
            .is_err()
    );
    assert!(db.catalog().await.tables().is_empty());

    db.execute("CREATE TABLE fine (id int); CREATE TABLE fine2 (id int);")
        .await
        .unwrap();
    assert_eq!(db.catalog().await.tables().len(), 2);
}

#[tokio::test]
#[should_panic(expected = "SELECT * FROM missing_table")]
async fn run_panics_with_the_script() {
    let db = fresh_db().await;
    db.run("SELECT * FROM missing_table").await;
}

#[tokio::test]
async fn dropped_database_is_gone() {
    let db = fresh_db().await;
    let name = db.name.clone();
    db.drop_database().await;
    let other = fresh_db().await;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(other.pool())
            .await
            .unwrap();
    assert!(!exists);
}
