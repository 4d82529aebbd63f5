//! Renames, not drop + add (issue 19, point 5). A column or table the
//! documents mark as renamed (`(renamed from `notes`)` in the description,
//! `**Renamed from:** `owners`` in the section) becomes `RENAME` in the
//! migration; without a marker a drop beside an add like it is refused with
//! help that spells the marker, and warned about as `possible-rename`. On a
//! real PostgreSQL 15: a populated table renamed through `gen migrations`
//! and `gen apply` keeps every value (a checksum of its rows before and
//! after), and no step is `data-loss`.

mod support;

use sqlx::AssertSqlSafe;
use std::path::{Path, PathBuf};
use support::cli::{gen_in, text};
use support::db::{TestDb, fresh_db};

const OWNERS: &str = "## 1. OWNERS (2 columns)

| Column | Type | Nullable | Description |
|---|---|---|---|
| id | uuid | NO | Primary key |
| name | text | YES | Name |

";

const WIDGETS: &str = "## 2. WIDGETS (4 columns)

| Column | Type | Nullable | Description |
|---|---|---|---|
| id | integer | NO | Primary key |
| owner_id | uuid | YES | FK to owners |
| notes | text | YES | Free text |
| weight | integer | YES | Grams |

**Indexes:**
- INDEX on notes
- UNIQUE (notes)
";

const ROWS: i64 = 3_000;

/// A project of one document, `OWNERS` and `WIDGETS` as edited, for plain
/// PostgreSQL, with its initial migration written.
fn project(dir: &Path) -> PathBuf {
    let project = dir.join("project");
    std::fs::create_dir_all(project.join("schema/docs")).unwrap();
    std::fs::write(
        project.join("schema/gen.yaml"),
        "sources:\n  - docs/shop.md\ntarget: postgres\noutput: ../generated\n",
    )
    .unwrap();
    write_doc(&project, OWNERS, WIDGETS);
    let output = gen_in(&project, &["migrations", "--timestamp", "20260101000000"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    project
}

fn write_doc(project: &Path, owners: &str, widgets: &str) {
    std::fs::write(
        project.join("schema/docs/shop.md"),
        format!("# Shop\n\n{owners}{widgets}"),
    )
    .unwrap();
}

/// The documents with `notes` renamed to `remarks`, and the indexes on it,
/// marked or not.
fn widgets_renamed(marked: bool) -> String {
    let marker = if marked {
        " (renamed from `notes`)"
    } else {
        ""
    };
    WIDGETS
        .replace(
            "| notes | text | YES | Free text |",
            &format!("| remarks | text | YES | Free text{marker} |"),
        )
        .replace("INDEX on notes", "INDEX on remarks")
        .replace("UNIQUE (notes)", "UNIQUE (remarks)")
}

fn owners_renamed(marked: bool) -> String {
    let marker = if marked {
        "\n**Renamed from:** `owners`\n"
    } else {
        ""
    };
    OWNERS.replace(
        "## 1. OWNERS (2 columns)\n",
        &format!("## 1. PEOPLE (2 columns)\n{marker}"),
    )
}

fn migration_files(project: &Path) -> Vec<String> {
    let dir = project.join("generated/migrations");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn an_unmarked_column_rename_is_refused_with_the_marker_and_a_possible_rename() {
    let dir = tempfile::tempdir().unwrap();
    let project = project(dir.path());
    let before = migration_files(&project);
    write_doc(&project, OWNERS, &widgets_renamed(false));
    let output = gen_in(&project, &["migrations", "--timestamp", "20260102000000"]);
    let notes = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert_eq!(migration_files(&project), before, "nothing is written");
    assert!(
        notes.contains("error[destructive-change]: drop column widgets.notes"),
        "{notes}"
    );
    assert!(
        notes.contains(
            "if widgets.notes was renamed to remarks, the rename reads as a drop and an add, \
             which loses the values; to keep them, mark it in the documents: \
             `(renamed from `notes`)` in the description of `remarks`, or rerun with \
             --allow-hazard data-loss"
        ),
        "{notes}"
    );
    assert!(
        notes.contains(
            "warning[possible-rename]: the migration drops column widgets.notes and adds \
             `remarks` with the same type (text) and description: is it a rename?"
        ),
        "{notes}"
    );
    // At the added column's line, where the marker goes.
    let line = std::fs::read_to_string(project.join("schema/docs/shop.md"))
        .unwrap()
        .lines()
        .position(|l| l.starts_with("| remarks |"))
        .unwrap()
        + 1;
    assert!(notes.contains(&format!("docs/shop.md:{line}:1")), "{notes}");
}

#[test]
fn an_unmarked_table_rename_is_a_possible_rename_with_the_table_marker() {
    let dir = tempfile::tempdir().unwrap();
    let project = project(dir.path());
    write_doc(
        &project,
        &owners_renamed(false),
        &WIDGETS.replace("FK to owners", "FK to people"),
    );
    let output = gen_in(&project, &["migrations", "--timestamp", "20260102000000"]);
    let notes = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        notes.contains("warning[possible-rename]: the migration drops table owners"),
        "{notes}"
    );
    assert!(
        notes.contains(
            "mark it in the documents: `**Renamed from:** `owners`` in the section of `people`"
        ),
        "{notes}"
    );
}

#[test]
fn a_different_column_is_no_possible_rename() {
    let dir = tempfile::tempdir().unwrap();
    let project = project(dir.path());
    write_doc(
        &project,
        OWNERS,
        &widgets_renamed(false).replace(
            "| remarks | text | YES | Free text |",
            "| remarks | integer | YES | Free text |",
        ),
    );
    let output = gen_in(&project, &["migrations", "--timestamp", "20260102000000"]);
    let notes = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(notes.contains("destructive-change"), "{notes}");
    assert!(!notes.contains("possible-rename"), "{notes}");
}

async fn scalar(db: &TestDb, sql: &str) -> String {
    sqlx::query_scalar::<_, String>(AssertSqlSafe(sql))
        .fetch_one(db.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Every row of `table`, in key order, as one checksum: a row's text is
/// its values in column order, whatever the columns are called.
async fn checksum(db: &TestDb, table: &str) -> String {
    scalar(
        db,
        &format!("SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM {table} t"),
    )
    .await
}

#[tokio::test]
async fn a_marked_rename_keeps_every_value_of_a_populated_table() {
    let dir = tempfile::tempdir().unwrap();
    let project = project(dir.path());
    let db = fresh_db().await;
    let apply = ["apply", "--database-url", db.url.as_str()];
    let output = gen_in(&project, &apply);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    // Owners and widgets, with NULLs, quotes and non-ASCII text among the
    // notes (unique, as the index says).
    db.run(&format!(
        "INSERT INTO owners (id, name)
           SELECT md5('owner' || i)::uuid, CASE WHEN i % 7 = 0 THEN NULL ELSE 'owner ' || i END
           FROM generate_series(1, {ROWS}) AS i;
         INSERT INTO widgets (id, owner_id, notes, weight)
           SELECT i, md5('owner' || (i % {ROWS} + 1))::uuid,
                  CASE WHEN i % 11 = 0 THEN NULL ELSE 'note ''' || i || ''' é ✓' END,
                  i * 3
           FROM generate_series(1, {ROWS}) AS i;"
    ))
    .await;
    let widgets_before = checksum(&db, "widgets").await;
    let owners_before = checksum(&db, "owners").await;

    write_doc(
        &project,
        &owners_renamed(true),
        &widgets_renamed(true).replace("FK to owners", "FK to people"),
    );
    // The database still has the old names: drift says the new ones are
    // missing, and what the database has instead.
    let check = gen_in(&project, &["check", "--database-url", db.url.as_str()]);
    let found = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
    assert!(found.contains("missing-column"), "{found}");
    assert!(
        found.contains("widgets.remarks: column missing from the database: documented `text, renamed from notes`, live `notes text`"),
        "{found}"
    );
    assert!(
        found.contains("people: table missing from the database: documented `renamed from owners`, live `owners (2 columns)`"),
        "{found}"
    );

    let output = gen_in(&project, &["migrations", "--timestamp", "20260102000000"]);
    let notes = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(!notes.contains("data-loss"), "{notes}");
    let migrations = project.join("generated/migrations");
    let up = std::fs::read_to_string(migrations.join("20260102000000_schema.up.sql")).unwrap();
    assert!(
        up.contains("ALTER TABLE public.owners RENAME TO people;"),
        "{up}"
    );
    assert!(
        up.contains("ALTER TABLE public.widgets RENAME COLUMN notes TO remarks;"),
        "{up}"
    );
    assert!(!up.contains("DROP"), "{up}");
    assert!(!up.contains("data-loss"), "{up}");
    assert!(
        !migrations
            .join("20260102000000_schema.preflight.json")
            .exists(),
        "a rename has nothing for the preflight to count"
    );

    let output = gen_in(&project, &apply);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(checksum(&db, "widgets").await, widgets_before);
    assert_eq!(checksum(&db, "people").await, owners_before);
    assert_eq!(
        scalar(
            &db,
            "SELECT string_agg(remarks, '') FILTER (WHERE id = 3) FROM widgets"
        )
        .await,
        "note '3' é ✓"
    );
    // The database now matches the documents, renamed constraints and
    // indexes included.
    let check = gen_in(&project, &["check", "--database-url", db.url.as_str()]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));

    // The down migration renames back, and keeps the values too.
    let down = std::fs::read_to_string(migrations.join("20260102000000_schema.down.sql")).unwrap();
    db.run(&down).await;
    assert_eq!(checksum(&db, "widgets").await, widgets_before);
    assert_eq!(checksum(&db, "owners").await, owners_before);
    db.close().await;
}
