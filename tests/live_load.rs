//! The "Must hold" checks of issue 19 that need load, on a real PostgreSQL
//! 15 with pgvector, driven only through the `gen` binary and the catalogs
//! (never through migration file names: one documentation edit may give
//! several migration files, and `gen apply` applies all that are pending).
//! A small project of its own documents `accounts` and `events`; `events`
//! holds two million rows. One edit at a time (`EDITS`, cumulative on one
//! database) is generated and applied while a second connection inserts
//! and updates `events` in a loop: every apply succeeds, no statement of
//! the writer waits a second, and the catalog shows the edit's result.
//! Two more tests: a held lock makes `gen apply` give up after the
//! configured lock timeout, naming the blocking session, with the database
//! unchanged; and a failed concurrent unique index build leaves nothing
//! behind once the data is fixed and `gen apply` is run again.

mod support;

use sqlx::Connection;
use sqlx::postgres::PgConnection;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::cli::{gen_in, stderr, text};
use support::db::{TestDb, fresh_db};

const DOC: &str = "load.md";
const INITIAL: &str = "20260101000000";
/// The rows `events` holds before the first edit: enough that building an
/// index on the random `token` under a SHARE lock makes the writer wait
/// well over [`LONGEST_WAIT`] (about 2 s on two cores; at one million rows
/// it took 0.98 s, too close to tell a blocking build from an online one).
const EVENT_ROWS: i64 = 2_000_000;
const ACCOUNT_ROWS: i64 = 5_000;
/// The longest the writer may wait for one statement while a migration
/// runs: "online" means writes keep flowing.
const LONGEST_WAIT: Duration = Duration::from_secs(1);
/// Fewer statements than this during an apply would mean the writer was
/// not really running alongside it, and its longest wait says nothing.
const MIN_STATEMENTS_DURING_APPLY: usize = 10;
/// A figure, not a bound: how many writer statements took this long.
const SLOW: Duration = Duration::from_millis(50);

/// The project's one document, in the house format: numbered sections
/// with a column table (with a Default column, so that edit (e) can add a
/// column with a default), and an index note under `events`.
const DOCUMENT: &str = "# LOAD - Schema Documentation
## Module: Load

## 1. ACCOUNTS (3 columns)
**Purpose:** Who writes events

| Column | Type | Nullable | Default | Description |
|--------|------|----------|---------|-------------|
| id | bigint | NO | | Primary key |
| email | varchar | NO | | Email address |
| created_at | timestamptz | NO | now() | Created |

## 2. EVENTS (8 columns)
**Purpose:** What accounts did, written all the time

| Column | Type | Nullable | Default | Description |
|--------|------|----------|---------|-------------|
| id | bigint | NO | | Primary key |
| account_id | bigint | YES | | Account that did it |
| kind | varchar | NO | | Event kind |
| amount | integer | YES | | Amount |
| source | varchar | YES | | Where it came from |
| payload | text | YES | | Payload |
| token | text | YES | | Session token, random |
| created_at | timestamptz | NO | now() | Created |

**Indexes:**
- PRIMARY KEY (id)
";

/// One documentation edit: text replacements in the document (each `from`
/// occurs exactly once), and what the catalog must show once it is
/// applied: a query returning one text, and the text it must return.
struct Edit {
    name: &'static str,
    replace: &'static [(&'static str, &'static str)],
    result: &'static str,
    expected: &'static str,
}

/// Cumulative, in this order, on one database; after each edit the
/// results of every earlier edit must still hold (a helper constraint
/// left behind, for example, changes the CHECK edit's result).
const EDITS: &[Edit] = &[
    Edit {
        name: "(a) an index on an existing column",
        replace: &[("- PRIMARY KEY (id)\n", "- PRIMARY KEY (id)\n- INDEX on token\n")],
        result: "SELECT coalesce(string_agg(format('unique=%s valid=%s ready=%s',
                        i.indisunique::text, i.indisvalid::text, i.indisready::text), '; '), 'none')
                 FROM pg_index i
                 WHERE i.indrelid = 'events'::regclass
                   AND i.indkey::text = (SELECT attnum::text FROM pg_attribute
                                         WHERE attrelid = 'events'::regclass
                                           AND attname = 'token')",
        expected: "unique=false valid=true ready=true",
    },
    Edit {
        name: "(b) a CHECK the data satisfies",
        replace: &[("| Event kind |", "| Event kind (click/view/buy) |")],
        result: "SELECT coalesce(string_agg(format('%s validated=%s',
                        pg_get_constraintdef(oid), convalidated::text), '; ' ORDER BY conname), 'none')
                 FROM pg_constraint
                 WHERE conrelid = 'events'::regclass AND contype = 'c'",
        expected: "CHECK (((kind)::text = ANY ((ARRAY['click'::character varying, \
                   'view'::character varying, 'buy'::character varying])::text[]))) validated=true",
    },
    Edit {
        name: "(c) an FK to accounts the data satisfies",
        replace: &[("| Account that did it |", "| FK to accounts |")],
        result: "SELECT coalesce(string_agg(format('%s validated=%s',
                        pg_get_constraintdef(oid), convalidated::text), '; ' ORDER BY conname), 'none')
                 FROM pg_constraint
                 WHERE conrelid = 'events'::regclass AND contype = 'f'",
        expected: "FOREIGN KEY (account_id) REFERENCES accounts(id) validated=true",
    },
    Edit {
        name: "(d) SET NOT NULL on a column without NULLs",
        replace: &[("| source | varchar | YES |", "| source | varchar | NO |")],
        result: "SELECT format('notnull=%s nulls=%s', attnotnull::text,
                        (SELECT count(*) FROM events WHERE source IS NULL))
                 FROM pg_attribute
                 WHERE attrelid = 'events'::regclass AND attname = 'source'",
        expected: "notnull=true nulls=0",
    },
    Edit {
        name: "(e) a NOT NULL column with a constant default",
        replace: &[
            ("## 2. EVENTS (8 columns)", "## 2. EVENTS (9 columns)"),
            (
                "| payload | text | YES | | Payload |\n",
                "| payload | text | YES | | Payload |\n| region | varchar | NO | 'eu' | Region |\n",
            ),
        ],
        result: "SELECT coalesce((
                   SELECT format('notnull=%s default=%s nulls=%s', a.attnotnull::text,
                                 pg_get_expr(d.adbin, d.adrelid),
                                 (SELECT count(*) FROM events WHERE region IS NULL))
                   FROM pg_attribute a
                   LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                   WHERE a.attrelid = 'events'::regclass AND a.attname = 'region'
                     AND NOT a.attisdropped), 'absent')",
        expected: "notnull=true default='eu'::character varying nulls=0",
    },
];

fn edit_named(name: &str) -> &'static Edit {
    EDITS
        .iter()
        .find(|e| e.name.contains(name))
        .unwrap_or_else(|| panic!("no edit {name:?}"))
}

// ---------------------------------------------------------------------------
// The project and the `gen` binary
// ---------------------------------------------------------------------------

/// [`gen_in`] on a blocking thread, so that the writer task keeps running
/// on this test's runtime meanwhile; with how long it took.
async fn gen_in_background(project: &Path, args: &[&str]) -> (Output, Duration) {
    let project = project.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = gen_in(&project, &args);
        (output, started.elapsed())
    })
    .await
    .expect("the gen thread")
}

/// A project of its own and the database its migrations are applied to.
struct Loaded {
    _dir: tempfile::TempDir,
    project: PathBuf,
    db: TestDb,
}

/// A temporary project holding [`DOCUMENT`] and a configuration for plain
/// PostgreSQL (with `extra_config` appended), with its initial migration
/// applied to a fresh database, and the tables filled: `event_rows` events.
async fn loaded_project(extra_config: &str, event_rows: i64) -> Loaded {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    std::fs::create_dir_all(project.join("schema/docs")).unwrap();
    std::fs::write(project.join("schema/docs").join(DOC), DOCUMENT).unwrap();
    // Documented values become a CHECK: that is how edit (b) documents one.
    std::fs::write(
        project.join("schema/gen.yaml"),
        format!(
            "sources:\n  - docs/{DOC}\ntarget: postgres\noutput: ../generated\n\
             enforce_documented_enums: true\n{extra_config}"
        ),
    )
    .unwrap();
    let generated = gen_in(&project, &["migrations", "--timestamp", INITIAL]);
    assert_eq!(generated.status.code(), Some(0), "{}", text(&generated));
    let db = fresh_db().await;
    let applied = gen_in(&project, &["apply", "--database-url", &db.url]);
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied));
    db.run(&format!(
        "INSERT INTO accounts (id, email)
           SELECT g, 'account' || g || '@example.com' FROM generate_series(1, {ACCOUNT_ROWS}) g;
         INSERT INTO events (id, account_id, kind, amount, source, payload, token, created_at)
           SELECT g, g % {ACCOUNT_ROWS} + 1, (ARRAY['click', 'view', 'buy'])[g % 3 + 1],
                  g % 1000, CASE WHEN g % 2 = 0 THEN 'web' ELSE 'app' END,
                  'event ' || g, md5(g::text), timestamptz '2026-01-01' + g * interval '1 second'
           FROM generate_series(1, {event_rows}) g;"
    ))
    .await;
    // As a table that has lived a while: hint bits set and statistics
    // known, so the first scan of an edit does not also write every page.
    db.run("VACUUM (ANALYZE) events").await;
    Loaded {
        _dir: dir,
        project,
        db,
    }
}

/// Makes the replacements of the edit `name` in the project's document.
fn edit_document(project: &Path, name: &str, replace: &[(&str, &str)]) {
    let path = project.join("schema/docs").join(DOC);
    let mut document = std::fs::read_to_string(&path).unwrap();
    for (from, to) in replace {
        assert_eq!(
            document.matches(from).count(),
            1,
            "{name}: {from:?} must occur once in\n{document}"
        );
        document = document.replacen(from, to, 1);
    }
    std::fs::write(&path, document).unwrap();
}

/// Runs the edit's result query.
async fn result_of(db: &TestDb, edit: &Edit) -> String {
    sqlx::query_scalar::<_, String>(edit.result)
        .fetch_one(db.pool())
        .await
        .unwrap_or_else(|e| panic!("{}: {}", edit.name, support::db::describe_error(&e)))
}

async fn count(db: &TestDb, sql: &'static str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(db.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {}", support::db::describe_error(&e)))
}

// ---------------------------------------------------------------------------
// The writer
// ---------------------------------------------------------------------------

/// One statement of the writer: when it started and how long it took.
struct Sample {
    started: Instant,
    took: Duration,
}

/// Inserts and updates rows of `events`, one statement at a time on a
/// connection of its own, until `stop`; every statement timed. The rows it
/// writes satisfy every constraint the edits add, so that a failure is
/// the migration's doing, not the writer's.
async fn write_until(url: String, stop: Arc<AtomicBool>) -> Result<Vec<Sample>, String> {
    let mut connection = PgConnection::connect(&url)
        .await
        .map_err(|e| format!("the writer cannot connect: {e}"))?;
    let mut next_id: i64 = sqlx::query_scalar("SELECT max(id) + 1 FROM events")
        .fetch_one(&mut connection)
        .await
        .map_err(|e| format!("the writer cannot read max(id): {e}"))?;
    let mut samples = Vec::new();
    let mut n: i64 = 0;
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let done = if n % 2 == 0 {
            next_id += 1;
            sqlx::query(
                "INSERT INTO events (id, account_id, kind, amount, source, payload, token)
                 VALUES ($1, $2, 'click', $3, 'web', 'written under load', md5($1::text))",
            )
            .bind(next_id)
            .bind(next_id % ACCOUNT_ROWS + 1)
            .bind((next_id % 1000) as i32)
            .execute(&mut connection)
            .await
        } else {
            // Spread over the table, so updates touch many pages.
            sqlx::query("UPDATE events SET amount = amount + 1 WHERE id = $1")
                .bind((n * 7919) % EVENT_ROWS + 1)
                .execute(&mut connection)
                .await
        };
        done.map_err(|e| {
            format!(
                "writer statement {n} failed: {}",
                support::db::describe_error(&e)
            )
        })?;
        samples.push(Sample {
            started,
            took: started.elapsed(),
        });
        n += 1;
        // Traffic, not a benchmark: leave the cores to the migration.
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let _ = connection.close().await;
    Ok(samples)
}

/// What the writer saw during one apply.
struct Figures {
    edit: &'static str,
    apply: Duration,
    statements: usize,
    during_apply: usize,
    /// Statements that took [`SLOW`] or more: a lock held briefly shows
    /// here long before it shows in the longest wait.
    slow: usize,
    longest_wait: Duration,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: apply {:.2} s; writer {} statements ({} during the apply, {} of {} ms or more), longest wait {:.3} s",
            self.edit,
            self.apply.as_secs_f64(),
            self.statements,
            self.during_apply,
            self.slow,
            SLOW.as_millis(),
            self.longest_wait.as_secs_f64()
        )
    }
}

/// Generates the edit's migrations, then applies them while the writer
/// runs: the figures, or why the apply or the writer failed.
async fn apply_under_load(
    loaded: &Loaded,
    edit: &'static Edit,
    timestamp: &str,
) -> Result<Figures, String> {
    edit_document(&loaded.project, edit.name, edit.replace);
    let generated = gen_in(&loaded.project, &["migrations", "--timestamp", timestamp]);
    if generated.status.code() != Some(0) {
        return Err(format!(
            "{}: gen migrations failed\n{}",
            edit.name,
            text(&generated)
        ));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(write_until(loaded.db.url.clone(), stop.clone()));
    // The writer is writing before the apply begins.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let apply_started = Instant::now();
    let (applied, apply) = gen_in_background(
        &loaded.project,
        &["apply", "--database-url", &loaded.db.url],
    )
    .await;
    let apply_ended = Instant::now();
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, Ordering::Relaxed);
    let samples = writer
        .await
        .map_err(|e| format!("{}: the writer panicked: {e}", edit.name))?
        .map_err(|e| format!("{}: {e}\napply: {}", edit.name, text(&applied)))?;
    let during_apply = samples
        .iter()
        .filter(|s| s.started >= apply_started && s.started <= apply_ended)
        .count();
    let figures = Figures {
        edit: edit.name,
        apply,
        statements: samples.len(),
        during_apply,
        slow: samples.iter().filter(|s| s.took >= SLOW).count(),
        longest_wait: samples.iter().map(|s| s.took).max().unwrap_or_default(),
    };
    eprintln!("live_load: {figures}");
    if applied.status.code() != Some(0) {
        return Err(format!("{figures}\ngen apply failed:\n{}", text(&applied)));
    }
    Ok(figures)
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

/// Every edit of `EDITS`, one after the other on a million rows, applied
/// while a second connection writes: apply exits 0, the writer makes
/// progress during the apply and never waits a second for one statement,
/// the catalog shows each edit's result (and every earlier one's), and the
/// documents and the database agree (`gen check`).
#[tokio::test]
async fn online_edits_under_load_keep_writes_flowing() {
    let fill_started = Instant::now();
    let loaded = loaded_project("", EVENT_ROWS).await;
    let rows = count(&loaded.db, "SELECT count(*) FROM events").await;
    eprintln!(
        "live_load: events holds {rows} rows, accounts {ACCOUNT_ROWS} (set up in {:.1} s)",
        fill_started.elapsed().as_secs_f64()
    );
    assert_eq!(rows, EVENT_ROWS);
    let mut all_figures = Vec::new();
    let mut failures = Vec::new();
    for (number, edit) in EDITS.iter().enumerate() {
        let timestamp = format!("2026010{}000000", number + 2);
        // An apply that fails leaves the later edits nothing to stand on.
        let figures = match apply_under_load(&loaded, edit, &timestamp).await {
            Ok(figures) => figures,
            Err(failure) => {
                failures.push(failure);
                break;
            }
        };
        if figures.longest_wait >= LONGEST_WAIT {
            failures.push(format!(
                "{figures}\nthe writer waited {:.3} s for one statement (limit {} s)",
                figures.longest_wait.as_secs_f64(),
                LONGEST_WAIT.as_secs()
            ));
        }
        if figures.during_apply < MIN_STATEMENTS_DURING_APPLY {
            failures.push(format!(
                "{figures}\nthe writer ran only {} statements during the apply (at least {MIN_STATEMENTS_DURING_APPLY})",
                figures.during_apply
            ));
        }
        for earlier in &EDITS[..=number] {
            let result = result_of(&loaded.db, earlier).await;
            if result != earlier.expected {
                failures.push(format!(
                    "{figures}\nafter it, {}: the catalog shows\n  {result}\nnot\n  {}",
                    earlier.name, earlier.expected
                ));
            }
        }
        let invalid = count(
            &loaded.db,
            "SELECT count(*) FROM pg_index WHERE NOT indisvalid",
        )
        .await;
        if invalid != 0 {
            failures.push(format!("{figures}\n{invalid} INVALID index(es) left"));
        }
        let drift = gen_in(
            &loaded.project,
            &["check", "--database-url", &loaded.db.url],
        );
        if drift.status.code() != Some(0) {
            failures.push(format!("{figures}\ndrift afterwards:\n{}", text(&drift)));
        }
        all_figures.push(figures);
    }
    let table: Vec<String> = all_figures.iter().map(ToString::to_string).collect();
    eprintln!(
        "live_load: {rows} rows in events\n{}",
        table
            .iter()
            .map(|line| format!("live_load:   {line}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        failures.is_empty(),
        "{} problem(s) on {rows} rows:\n\n{}\n\nall figures:\n{}",
        failures.len(),
        failures.join("\n\n"),
        table.join("\n")
    );
    loaded.db.drop_database().await;
}

/// What a failed apply must leave as it was: the table's columns,
/// constraints and indexes, its rows, and the migration history.
async fn events_summary(db: &TestDb) -> String {
    let tables = ["events".to_owned()].into();
    let catalog = db.catalog().await.restricted_to(&tables);
    format!(
        "{catalog}rows={}\nhistory={}",
        count(db, "SELECT count(*) FROM events").await,
        count(db, "SELECT count(*) FROM _sqlx_migrations").await
    )
}

/// With `migrations: { lock_timeout: 1s }`, a transaction that holds ACCESS
/// SHARE on `events` (which blocks the ACCESS EXCLUSIVE that adding a
/// column needs) makes `gen apply` exit 1 within the lock timeout and a
/// second, naming the blocking session's pid; nothing has changed. Once
/// the blocker commits, the same `gen apply` succeeds.
#[tokio::test]
async fn a_held_lock_times_out_names_the_blocker_and_changes_nothing() {
    let loaded = loaded_project("migrations:\n  lock_timeout: 1s\n", 10_000).await;
    let edit = edit_named("(e)");
    edit_document(&loaded.project, edit.name, edit.replace);
    let generated = gen_in(
        &loaded.project,
        &["migrations", "--timestamp", "20260102000000"],
    );
    assert_eq!(generated.status.code(), Some(0), "{}", text(&generated));
    let before = events_summary(&loaded.db).await;

    let mut blocker = PgConnection::connect(&loaded.db.url).await.unwrap();
    let blocker_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut blocker)
        .await
        .unwrap();
    sqlx::raw_sql("BEGIN; LOCK TABLE events IN ACCESS SHARE MODE;")
        .execute(&mut blocker)
        .await
        .unwrap();
    let (failed, took) = gen_in_background(
        &loaded.project,
        &["apply", "--database-url", &loaded.db.url],
    )
    .await;
    eprintln!(
        "live_load: gen apply gave up after {:.2} s (lock_timeout 1s)",
        took.as_secs_f64()
    );
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed));
    assert!(
        took < Duration::from_secs(2),
        "gen apply took {took:?}, more than lock_timeout + 1 s\n{}",
        text(&failed)
    );
    let notes = stderr(&failed);
    assert!(
        notes.contains(&format!("blocked by pid {blocker_pid} ")),
        "names the blocking session (pid {blocker_pid}):\n{notes}"
    );
    // Read while the blocker still holds its lock: ACCESS SHARE lets the
    // catalog and the count through.
    let after = events_summary(&loaded.db).await;
    assert_eq!(before, after, "the failed apply changed the database");

    sqlx::raw_sql("COMMIT").execute(&mut blocker).await.unwrap();
    blocker.close().await.unwrap();
    let applied = gen_in(
        &loaded.project,
        &["apply", "--database-url", &loaded.db.url],
    );
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied));
    assert_eq!(result_of(&loaded.db, edit).await, edit.expected);
    loaded.db.drop_database().await;
}

/// The statement of the pending migrations that builds the unique index
/// concurrently, as the planner wrote it.
fn concurrent_unique_build(project: &Path) -> Option<String> {
    let directory = project.join("generated/migrations");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&directory)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".up.sql"))
        .collect();
    files.sort();
    files.iter().find_map(|path| {
        let sql = std::fs::read_to_string(path).unwrap();
        let start = sql.find("CREATE UNIQUE INDEX CONCURRENTLY")?;
        let end = start + sql[start..].find(';')?;
        Some(sql[start..=end].to_owned())
    })
}

fn pending_migrations(project: &Path) -> String {
    let directory = project.join("generated/migrations");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&directory)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".up.sql"))
        .filter(|path| !path.to_string_lossy().contains(INITIAL))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| std::fs::read_to_string(path).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A UNIQUE index documented on `accounts.email`, which holds duplicates:
/// the preflight refuses it with the count, running nothing. The planner's
/// own concurrent build, run by hand on the same data, fails and leaves an
/// INVALID index (what an interrupted `gen apply` would leave). After the
/// data is fixed, `gen apply` succeeds and no INVALID index remains: the
/// unique index is there and valid.
#[tokio::test]
async fn a_failed_concurrent_unique_build_is_rerun_cleanly() {
    let loaded = loaded_project("", 10_000).await;
    loaded
        .db
        .run(
            "UPDATE accounts SET email = 'shared@example.com' WHERE id IN (1, 2, 3);
             UPDATE accounts SET email = 'twice@example.com' WHERE id IN (4, 5);",
        )
        .await;
    edit_document(
        &loaded.project,
        "a UNIQUE index over duplicates",
        &[(
            "| created_at | timestamptz | NO | now() | Created |\n\n## 2. EVENTS",
            "| created_at | timestamptz | NO | now() | Created |\n\n**Indexes:**\n- UNIQUE INDEX on email\n\n## 2. EVENTS",
        )],
    );
    let generated = gen_in(
        &loaded.project,
        &["migrations", "--timestamp", "20260102000000"],
    );
    assert_eq!(generated.status.code(), Some(0), "{}", text(&generated));

    let refused = gen_in(
        &loaded.project,
        &["apply", "--database-url", &loaded.db.url],
    );
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    let notes = stderr(&refused);
    assert!(
        notes.contains(": 2 group(s) of rows of accounts share a value of (email)")
            && notes.contains("nothing was executed"),
        "the preflight refuses with the count:\n{notes}"
    );

    let statement = concurrent_unique_build(&loaded.project).unwrap_or_else(|| {
        panic!(
            "no CREATE UNIQUE INDEX CONCURRENTLY in the pending migrations:\n{}",
            pending_migrations(&loaded.project)
        )
    });
    let failed = loaded.db.execute(&statement).await.unwrap_err();
    assert!(
        support::db::describe_error(&failed).contains("could not create unique index"),
        "{statement}: {failed}"
    );
    let invalid_sql = "SELECT count(*) FROM pg_index WHERE NOT indisvalid";
    assert_eq!(
        count(&loaded.db, invalid_sql).await,
        1,
        "the failed build left an INVALID index: {statement}"
    );

    loaded
        .db
        .run("UPDATE accounts SET email = 'account' || id || '@example.com' WHERE id <= 5")
        .await;
    let applied = gen_in(
        &loaded.project,
        &["apply", "--database-url", &loaded.db.url],
    );
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied));
    assert_eq!(
        count(&loaded.db, invalid_sql).await,
        0,
        "{}",
        text(&applied)
    );
    let unique: String = sqlx::query_scalar(
        "SELECT coalesce(string_agg(format('unique=%s valid=%s', i.indisunique::text, i.indisvalid::text), '; '), 'none')
         FROM pg_index i
         WHERE i.indrelid = 'accounts'::regclass
           AND i.indkey::text = (SELECT attnum::text FROM pg_attribute
                                 WHERE attrelid = 'accounts'::regclass AND attname = 'email')",
    )
    .fetch_one(loaded.db.pool())
    .await
    .unwrap();
    assert_eq!(unique, "unique=true valid=true");
    loaded.db.drop_database().await;
}
