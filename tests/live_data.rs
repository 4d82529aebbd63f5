//! Migrations against a database that holds data (issue "Migrations against
//! a database that holds data"), on a real PostgreSQL 15 with pgvector: the
//! initial migration is applied with `gen apply`, every table is filled with
//! at least 1,000 FK-consistent rows, and then one documentation edit at a
//! time is made in a copy of the project and a copy of the database. Each
//! edit has one exact outcome: refused at generation, naming the hazard and
//! the object; refused by the preflight with the exact count, the database
//! unchanged (catalog, row counts, a checksum of every table); or applied
//! with no row and no value lost. The edits, their data and their outcomes
//! are the table `EDITS`.

mod support;

use schemagen::emit::Target;
use schemagen::model::physical::RealizeOptions;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;
use support::cli::{gen_in, stderr, text};
use support::db::{TestDb, fresh_db, fresh_db_from};
use support::populate::{DataState, Except, data_state, populate};

const MASTER: &str = "platform-master-schema.md";
const JAVARI: &str = "javari-architecture.md";
/// The edit's migration: the initial one is 20260101000000.
const NEXT: &str = "20260102000000";
const ROWS: u64 = 1_000;

/// A copy of the repository's documents with a configuration for plain
/// PostgreSQL, and the initial migration generated in it.
struct Fixture {
    _dir: tempfile::TempDir,
    project: PathBuf,
    /// The populated database every edit starts from (a template).
    template: String,
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn new_project(dir: &Path) -> PathBuf {
    let project = dir.join("project");
    copy_dir(
        &support::root().join("schema/docs"),
        &project.join("schema/docs"),
    );
    std::fs::write(
        project.join("schema/gen.yaml"),
        format!(
            "sources:\n  - docs/{JAVARI}\n  - docs/{MASTER}\ntarget: postgres\noutput: ../generated\n"
        ),
    )
    .unwrap();
    project
}

/// Built once per test process, on a runtime of its own: each test has
/// its own runtime, and the template outlives them all.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        std::thread::spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(build_fixture())
        })
        .join()
        .expect("building the populated fixture")
    })
}

async fn build_fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let project = new_project(dir.path());
    let output = gen_in(&project, &["migrations", "--timestamp", "20260101000000"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let db = fresh_db().await;
    let output = gen_in(&project, &["apply", "--database-url", &db.url]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let realized = realized();
    let populated = populate(&db, &realized, ROWS).await;
    for table in realized.tables.keys() {
        let rows = populated.rows.get(table).copied().unwrap_or(0);
        assert!(
            rows >= ROWS as i64,
            "{table} holds {rows} rows, fewer than {ROWS}"
        );
    }
    db.close().await;
    Fixture {
        _dir: dir,
        project,
        template: db.name.clone(),
    }
}

fn realized() -> schemagen::model::Schema {
    let settings = support::settings(Target::Postgres, RealizeOptions::default());
    let project = support::real_project(&settings);
    (**project.realized()).clone()
}

/// What one edit must lead to.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    /// `gen migrations` exits 2, writes nothing, and names the hazard and
    /// the object.
    RefusedAtGeneration { object: &'static str },
    /// The migration is written (with the hazard in it); `gen apply`
    /// exits 1 with this exact count in this message, and the database
    /// is unchanged.
    RefusedByPreflight {
        hazard: &'static str,
        count: i64,
        counted: &'static str,
    },
    /// Applied; every row stays, and every column's checksum but these
    /// (table.column, or a table) is unchanged.
    Applied { changed: &'static [&'static str] },
}

/// One documentation edit: text replacements in the documents, the rows
/// that make it interesting, and what must come of it.
struct Edit {
    name: &'static str,
    replace: &'static [(&'static str, &'static str, &'static str)],
    /// Run on the populated copy before anything is generated.
    data: &'static str,
    /// Extra `gen migrations` flags.
    allow: &'static [&'static str],
    outcome: Outcome,
}

/// The customers whose number (by key order) is in `1..=n`.
macro_rules! first_customers {
    ($n:literal) => {
        concat!(
            "(SELECT id FROM customers ORDER BY id LIMIT ",
            stringify!($n),
            ")"
        )
    };
}

const EDITS: &[Edit] = &[
    Edit {
        name: "add a NOT NULL column without a default",
        replace: &[(
            MASTER,
            "| zip_code | varchar | YES | ZIP | Display |\n",
            "| zip_code | varchar | YES | ZIP | Display |\n| region | varchar | NO | Sales region | Display |\n",
        )],
        data: "",
        allow: &[],
        outcome: Outcome::RefusedByPreflight {
            hazard: "fails-on-data",
            count: 1000,
            counted: "row(s) of customers would get no value for the new NOT NULL column region",
        },
    },
    Edit {
        name: "make a nullable column NOT NULL where NULLs exist",
        replace: &[(
            MASTER,
            "| phone | varchar | YES | Phone number | Communication |",
            "| phone | varchar | NO | Phone number | Communication |",
        )],
        data: concat!(
            "UPDATE customers SET phone = '555-0100';",
            "UPDATE customers SET phone = NULL WHERE id IN ",
            first_customers!(17),
            ";"
        ),
        allow: &[],
        outcome: Outcome::RefusedByPreflight {
            hazard: "fails-on-data",
            count: 17,
            counted: "row(s) of customers have NULL in phone",
        },
    },
    Edit {
        name: "add a UNIQUE over duplicates",
        replace: &[(
            MASTER,
            "**Key Relationships:**\n- customers.assigned_agent_id",
            "**Indexes:**\n- UNIQUE (full_name)\n\n**Key Relationships:**\n- customers.assigned_agent_id",
        )],
        data: concat!(
            "UPDATE customers SET full_name = 'Customer ' || id;",
            "UPDATE customers SET full_name = 'Noah Johnson' WHERE id IN ",
            first_customers!(3),
            ";",
            "UPDATE customers SET full_name = 'Ava Smith' WHERE id IN (SELECT id FROM customers ORDER BY id OFFSET 3 LIMIT 2);",
            "UPDATE customers SET full_name = 'Liam Brown' WHERE id IN (SELECT id FROM customers ORDER BY id OFFSET 5 LIMIT 2);"
        ),
        allow: &[],
        outcome: Outcome::RefusedByPreflight {
            hazard: "fails-on-data",
            count: 3,
            counted: "group(s) of rows of customers share a value of (full_name)",
        },
    },
    Edit {
        name: "add a CHECK that rows violate",
        replace: &[(
            JAVARI,
            "CHECK (temperature >= 0 AND temperature <= 2)",
            "CHECK (temperature >= 0 AND temperature <= 1)",
        )],
        data: concat!(
            "UPDATE user_preferences SET temperature = 0.7;",
            "UPDATE user_preferences SET temperature = 1.5 WHERE user_id IN (SELECT user_id FROM user_preferences ORDER BY user_id LIMIT 23);"
        ),
        allow: &[],
        outcome: Outcome::RefusedByPreflight {
            hazard: "fails-on-data",
            count: 23,
            counted: "row(s) of user_preferences violate the new CHECK",
        },
    },
    Edit {
        name: "add an FK over values that match nothing",
        replace: &[(
            MASTER,
            "| tenant_id | uuid | YES | Multi-tenant | All |",
            "| tenant_id | uuid | YES | FK to agents | All |",
        )],
        data: concat!(
            "UPDATE customers SET tenant_id = NULL;",
            "UPDATE customers SET tenant_id = gen_random_uuid() WHERE id IN ",
            first_customers!(11),
            ";"
        ),
        allow: &[],
        outcome: Outcome::RefusedByPreflight {
            hazard: "fails-on-data",
            count: 11,
            counted: "row(s) of customers have (tenant_id) matching no row of agents",
        },
    },
    Edit {
        name: "narrow a varchar below the longest values",
        replace: &[(
            MASTER,
            "| city | varchar | YES | City | Display |",
            "| city | varchar(5) | YES | City | Display |",
        )],
        data: concat!(
            "UPDATE customers SET city = 'Tampa';",
            "UPDATE customers SET city = 'Fort Myers' WHERE id IN ",
            first_customers!(156),
            ";"
        ),
        allow: &[],
        outcome: Outcome::RefusedByPreflight {
            hazard: "fails-on-data",
            count: 156,
            counted: "value(s) of customers.city are longer than 5 characters",
        },
    },
    Edit {
        name: "cast varchar to integer, which drops leading zeros",
        replace: &[(
            MASTER,
            "| zip_code | varchar | YES | ZIP | Display |",
            "| zip_code | integer | YES | ZIP | Display |",
        )],
        data: "",
        allow: &[],
        outcome: Outcome::RefusedAtGeneration {
            object: "customers.zip_code",
        },
    },
    Edit {
        name: "cast varchar to integer, allowed at generation",
        replace: &[(
            MASTER,
            "| zip_code | varchar | YES | ZIP | Display |",
            "| zip_code | integer | YES | ZIP | Display |",
        )],
        data: concat!(
            "UPDATE customers SET zip_code = '33901';",
            "UPDATE customers SET zip_code = '02134' WHERE id IN ",
            first_customers!(40),
            ";"
        ),
        allow: &["--allow-hazard", "data-loss"],
        outcome: Outcome::RefusedByPreflight {
            hazard: "data-loss",
            count: 40,
            counted: "value(s) of customers.zip_code would change when cast to integer",
        },
    },
    Edit {
        name: "drop a column",
        replace: &[(MASTER, "| notes | text | YES | Agent notes | CRM |\n", "")],
        data: "",
        allow: &[],
        outcome: Outcome::RefusedAtGeneration {
            object: "customers.notes",
        },
    },
    Edit {
        name: "drop a column, allowed at generation",
        replace: &[(MASTER, "| notes | text | YES | Agent notes | CRM |\n", "")],
        data: concat!(
            "UPDATE customers SET notes = NULL;",
            "UPDATE customers SET notes = 'call back' WHERE id IN ",
            first_customers!(146),
            ";"
        ),
        allow: &["--allow-destructive"],
        outcome: Outcome::RefusedByPreflight {
            hazard: "data-loss",
            count: 146,
            counted: "non-NULL value(s) of customers.notes would be lost",
        },
    },
    Edit {
        name: "drop a table",
        replace: &[(MASTER, SAVED_SEARCHES_HEADING, "## 6. (removed)\n")],
        data: "",
        allow: &[],
        outcome: Outcome::RefusedAtGeneration {
            object: "drop table saved_searches",
        },
    },
    Edit {
        name: "rename a column",
        replace: &[(
            MASTER,
            "| address | varchar | YES | Home address | Display |",
            "| street_address | varchar | YES | Home address | Display |",
        )],
        data: "",
        allow: &[],
        outcome: Outcome::RefusedAtGeneration {
            object: "customers.address was renamed to street_address",
        },
    },
    Edit {
        name: "rename a table",
        replace: &[(
            MASTER,
            "## 6. SAVED_SEARCHES (14 columns)",
            "## 6. PROPERTY_SEARCHES (14 columns)",
        )],
        data: "",
        allow: &[],
        outcome: Outcome::RefusedAtGeneration {
            object: "saved_searches was renamed to property_searches",
        },
    },
    Edit {
        name: "change a default",
        replace: &[(
            JAVARI,
            "max_tokens INTEGER DEFAULT 2000,",
            "max_tokens INTEGER DEFAULT 4000,",
        )],
        data: "",
        allow: &[],
        outcome: Outcome::Applied { changed: &[] },
    },
    Edit {
        name: "extend a CHECK's list",
        replace: &[(
            JAVARI,
            "CHECK (theme IN ('light', 'dark', 'system'))",
            "CHECK (theme IN ('light', 'dark', 'system', 'sepia'))",
        )],
        data: "",
        allow: &[],
        outcome: Outcome::Applied { changed: &[] },
    },
    Edit {
        name: "add a NOT NULL column with a default",
        replace: &[(
            MASTER,
            "| Column | Type | Nullable | Description | Used By |\n|--------|------|----------|-------------|---------|\n| id | uuid | NO | Primary key | All |\n| assigned_agent_id",
            "| Column | Type | Nullable | Description | Used By | Default |\n|--------|------|----------|-------------|---------|---------|\n| id | uuid | NO | Primary key | All | |\n| region | varchar | NO | Sales region | Display | 'south' |\n| assigned_agent_id",
        )],
        data: "",
        allow: &[],
        outcome: Outcome::Applied {
            changed: &["customers.region"],
        },
    },
    Edit {
        name: "add a nullable column",
        replace: &[(
            MASTER,
            "| zip_code | varchar | YES | ZIP | Display |\n",
            "| zip_code | varchar | YES | ZIP | Display |\n| region | varchar | YES | Sales region | Display |\n",
        )],
        data: "",
        allow: &[],
        outcome: Outcome::Applied {
            changed: &["customers.region"],
        },
    },
    Edit {
        name: "widen a varchar to text",
        replace: &[(
            MASTER,
            "| city | varchar | YES | City | Display |",
            "| city | text | YES | City | Display |",
        )],
        data: "",
        allow: &[],
        outcome: Outcome::Applied { changed: &[] },
    },
    Edit {
        name: "add an index",
        replace: &[(
            MASTER,
            "**Key Relationships:**\n- customers.assigned_agent_id",
            "**Indexes:**\n- INDEX on email\n\n**Key Relationships:**\n- customers.assigned_agent_id",
        )],
        data: "",
        allow: &[],
        outcome: Outcome::Applied { changed: &[] },
    },
    Edit {
        name: "make a column NOT NULL that has no NULLs",
        replace: &[(
            MASTER,
            "| source | varchar | YES | Lead source | Analytics |",
            "| source | varchar | NO | Lead source | Analytics |",
        )],
        data: "UPDATE customers SET source = 'web' WHERE source IS NULL;",
        allow: &[],
        outcome: Outcome::Applied { changed: &[] },
    },
    Edit {
        name: "drop a column, allowed and accepted",
        replace: &[(MASTER, "| notes | text | YES | Agent notes | CRM |\n", "")],
        data: "UPDATE customers SET notes = 'call back';",
        allow: &["--allow-hazard", "data-loss"],
        outcome: Outcome::Applied {
            changed: &["customers.notes"],
        },
    },
];

/// The heading and first lines of the saved_searches section, which the
/// drop-table edit removes up to the next section.
const SAVED_SEARCHES_HEADING: &str = "## 6. SAVED_SEARCHES (14 columns)\n";

/// A copy of the fixture's project and database, with the edit's data.
struct Copy {
    _dir: tempfile::TempDir,
    project: PathBuf,
    db: TestDb,
}

async fn copy_of_fixture(edit: &Edit) -> Copy {
    let fixture = fixture();
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    copy_dir(&fixture.project, &project);
    let db = fresh_db_from(&fixture.template).await;
    if !edit.data.is_empty() {
        db.run(edit.data).await;
    }
    Copy {
        _dir: dir,
        project,
        db,
    }
}

/// The edit named `name`, made in a copy of the fixture, with its
/// migration generated (with the edit's flags): the copy, and the text of
/// the up migration.
async fn generated_copy(name: &str) -> (Copy, String) {
    let edit = EDITS
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no edit {name:?}"));
    let copy = copy_of_fixture(edit).await;
    edit_documents(&copy.project, edit);
    let mut args = vec!["migrations", "--timestamp", NEXT];
    args.extend_from_slice(edit.allow);
    let generated = gen_in(&copy.project, &args);
    assert_eq!(
        generated.status.code(),
        Some(0),
        "{name}: {}",
        text(&generated)
    );
    let up = up_migration(&copy.project);
    (copy, up)
}

/// The text of the edit's up migration in `project`: every part of it,
/// in the order they run (one documentation change may become several
/// migration files, in consecutive versions from `NEXT`).
fn up_migration(project: &Path) -> String {
    let parts = up_parts(&project.join("generated/migrations"));
    assert!(!parts.is_empty(), "no up migration from {NEXT}");
    parts
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// The up files of the migrations from `NEXT` on, in the order they run.
fn up_parts(dir: &Path) -> Vec<PathBuf> {
    let mut parts: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| {
                    let name = p.file_name().unwrap().to_string_lossy().into_owned();
                    name.ends_with(".up.sql") && name.as_str() >= NEXT
                })
                .collect()
        })
        .unwrap_or_default();
    parts.sort();
    parts
}

fn edit_documents(project: &Path, edit: &Edit) {
    for (file, from, to) in edit.replace {
        let path = project.join("schema/docs").join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains(from),
            "{}: {file} does not contain {from:?}",
            edit.name
        );
        let edited = if *to == "## 6. (removed)\n" {
            remove_section(&text, from)
        } else {
            text.replacen(from, to, 1)
        };
        std::fs::write(&path, edited).unwrap();
    }
}

/// The text without the section that starts with `heading`, up to the
/// next `## ` heading.
fn remove_section(text: &str, heading: &str) -> String {
    let start = text.find(heading).unwrap();
    let rest = &text[start + heading.len()..];
    let end = rest
        .find("\n## ")
        .map_or(text.len(), |i| start + heading.len() + i + 1);
    format!("{}{}", &text[..start], &text[end..])
}

/// Everything the database holds that an edit must not touch unasked.
struct State {
    catalog: support::db::Catalog,
    data: DataState,
}

async fn state(db: &TestDb) -> State {
    State {
        catalog: db.catalog().await,
        data: data_state(db).await,
    }
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            out.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    out.sort();
    out
}

async fn run_edit(edit: &Edit) -> Result<(), String> {
    let copy = copy_of_fixture(edit).await;
    edit_documents(&copy.project, edit);
    let migrations_dir = copy.project.join("generated/migrations");
    let before_files = files_under(&migrations_dir);
    let mut args = vec!["migrations", "--timestamp", NEXT];
    args.extend_from_slice(edit.allow);
    let generated = gen_in(&copy.project, &args);
    let before = state(&copy.db).await;
    let check = |ok: bool, what: &str, output: &Output| -> Result<(), String> {
        if ok {
            Ok(())
        } else {
            Err(format!("{}: {what}\n{}", edit.name, text(output)))
        }
    };
    if let Outcome::RefusedAtGeneration { object } = edit.outcome {
        let notes = stderr(&generated);
        check(generated.status.code() == Some(2), "exit 2", &generated)?;
        check(notes.contains("data-loss"), "names the hazard", &generated)?;
        check(notes.contains(object), "names the object", &generated)?;
        check(
            files_under(&migrations_dir) == before_files,
            "writes nothing",
            &generated,
        )?;
        return Ok(());
    }
    check(
        generated.status.code() == Some(0),
        "migration written",
        &generated,
    )?;
    let parts = up_parts(&migrations_dir);
    if parts.is_empty() {
        return Err(format!("{}: no up migration", edit.name));
    }
    let up: String = parts
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let apply_args = ["apply", "--database-url", copy.db.url.as_str()];
    match edit.outcome {
        Outcome::RefusedByPreflight {
            hazard,
            count,
            counted,
        } => {
            check(
                up.contains(&format!("-- hazard {hazard}:")),
                "the migration names the hazard",
                &generated,
            )?;
            let applied = gen_in(&copy.project, &apply_args);
            let notes = stderr(&applied);
            check(applied.status.code() == Some(1), "apply exits 1", &applied)?;
            check(
                notes.contains(&format!(": {count} {counted}")),
                "the exact count",
                &applied,
            )?;
            check(notes.contains("nothing was executed"), "says so", &applied)?;
            let after = state(&copy.db).await;
            let catalog = before.catalog.diff(&after.catalog);
            let data = before.data.diff(&after.data);
            if !catalog.is_empty() || !data.is_empty() {
                return Err(format!(
                    "{}: the preflight changed the database:\n{catalog}\n{data}",
                    edit.name
                ));
            }
        }
        Outcome::Applied { changed } => {
            let mut args = apply_args.to_vec();
            if edit.allow.contains(&"data-loss") {
                args.push("--accept-data-loss");
            }
            let applied = gen_in(&copy.project, &args);
            check(applied.status.code() == Some(0), "applied", &applied)?;
            check(
                stderr(&applied).contains(&format!("applied {NEXT} schema")),
                "names the migration it applied",
                &applied,
            )?;
            let after = state(&copy.db).await;
            // The history gains a row; nothing else may change.
            let except = Except {
                tables: ["_sqlx_migrations".to_owned()].into(),
                columns: changed
                    .iter()
                    .filter_map(|c| c.split_once('.'))
                    .map(|(t, c)| (t.to_owned(), c.to_owned()))
                    .collect(),
            };
            let lost = before.data.diff_except(&after.data, &except);
            if !lost.is_empty() {
                return Err(format!("{}: data changed:\n{lost}", edit.name));
            }
            let drift = gen_in(
                &copy.project,
                &["check", "--database-url", copy.db.url.as_str()],
            );
            check(
                drift.status.code() == Some(0),
                "no drift afterwards",
                &drift,
            )?;
        }
        Outcome::RefusedAtGeneration { .. } => unreachable!(),
    }
    copy.db.drop_database().await;
    Ok(())
}

#[tokio::test]
async fn every_edit_on_a_populated_database_has_its_exact_outcome() {
    assert!(EDITS.len() >= 15, "at least 15 edit kinds");
    let mut failures = Vec::new();
    for edit in EDITS {
        if let Err(failure) = run_edit(edit).await {
            failures.push(failure);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} edits went wrong:\n\n{}",
        failures.len(),
        EDITS.len(),
        failures.join("\n\n")
    );
}

/// The narrowing migration has no `USING col::varchar(5)`: PostgreSQL's
/// assignment cast raises on a value that is too long, where an explicit
/// cast would have cut "Fort Myers" to "Fort ". Proven by running the
/// statement behind the preflight's back.
#[tokio::test]
async fn narrowing_never_truncates() {
    let (copy, up) = generated_copy("narrow a varchar below the longest values").await;
    let statement = up
        .lines()
        .find(|l| l.contains("ALTER COLUMN city TYPE"))
        .unwrap_or_else(|| panic!("no type change in\n{up}"));
    assert!(!statement.contains("USING"), "{statement}");
    let error = copy.db.execute(statement).await.unwrap_err();
    assert!(
        support::db::describe_error(&error)
            .contains("value too long for type character varying(5)"),
        "{error}"
    );
    let long: i64 = sqlx::query_scalar("SELECT count(*) FROM customers WHERE city = 'Fort Myers'")
        .fetch_one(copy.db.pool())
        .await
        .unwrap();
    assert_eq!(long, 156);
}

/// A role that can only SELECT runs the preflight (`--dry-run`): it
/// reports the exact count, prints the SQL, and changes nothing.
#[tokio::test]
async fn the_preflight_is_read_only() {
    let (copy, _) = generated_copy("add a UNIQUE over duplicates").await;
    // Row level security would hide the rows from a plain reader: that
    // reader is told so, and blocked, rather than shown a count of 0.
    let hidden = format!("hidden_{}", copy.db.name);
    let role = format!("reader_{}", copy.db.name);
    for (name, bypass) in [(&hidden, ""), (&role, " BYPASSRLS")] {
        copy.db
            .run(&format!(
                "CREATE ROLE {name} LOGIN PASSWORD 'reader'{bypass};
                 GRANT USAGE ON SCHEMA public TO {name};
                 GRANT SELECT ON ALL TABLES IN SCHEMA public TO {name};"
            ))
            .await;
    }
    let before = state(&copy.db).await;
    let blind = gen_in(
        &copy.project,
        &[
            "apply",
            "--dry-run",
            "--database-url",
            &reader_url(&copy.db.url, &hidden),
        ],
    );
    assert_eq!(blind.status.code(), Some(1), "{}", text(&blind));
    assert!(
        stderr(&blind).contains("row level security hides rows of customers"),
        "{}",
        text(&blind)
    );
    let url = reader_url(&copy.db.url, &role);
    let output = gen_in(
        &copy.project,
        &["apply", "--dry-run", "--database-url", &url],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let notes = stderr(&output);
    assert!(
        notes.contains(": 3 group(s) of rows of customers share a value of (full_name)"),
        "{}",
        text(&output)
    );
    assert!(notes.contains("(full_name)=(Noah Johnson) x3"), "{notes}");
    let sql = String::from_utf8_lossy(&output.stdout);
    assert!(
        sql.contains("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS customers_full_name_key")
            && sql.contains("UNIQUE USING INDEX customers_full_name_key"),
        "{sql}"
    );
    assert!(
        !notes.contains("reader@"),
        "the password is masked: {notes}"
    );
    let after = state(&copy.db).await;
    assert_eq!(before.catalog.diff(&after.catalog), "");
    assert_eq!(before.data.diff(&after.data), "");
}

/// The URL of `url`'s database for another role.
fn reader_url(url: &str, role: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{role}:reader@{host}")
}

/// A migration that fails in PostgreSQL (here: its table is locked by a
/// reader, and the lock timeout is short) is rolled back, reported at its
/// line, withdrawn, regenerated from fixed documents and applied; then the
/// database has no drift.
#[tokio::test]
async fn a_failed_migration_is_withdrawn_fixed_and_applied() {
    let edit = EDITS
        .iter()
        .find(|e| e.name == "make a column NOT NULL that has no NULLs")
        .unwrap();
    let copy = copy_of_fixture(edit).await;
    edit_documents(&copy.project, edit);
    // The migration sets the configured lock timeout itself.
    let config = copy.project.join("schema/gen.yaml");
    let mut yaml = std::fs::read_to_string(&config).unwrap();
    yaml.push_str("migrations:\n  lock_timeout: 1s\n");
    std::fs::write(&config, yaml).unwrap();
    let generated = gen_in(&copy.project, &["migrations", "--timestamp", NEXT]);
    assert_eq!(generated.status.code(), Some(0), "{}", text(&generated));
    let up = up_migration(&copy.project);
    assert!(up.contains("SET LOCAL lock_timeout = '1s';"), "{up}");
    assert_eq!(
        up_parts(&copy.project.join("generated/migrations")).len(),
        2,
        "SET NOT NULL through a validated CHECK: {up}"
    );
    assert!(
        up.contains("SET LOCAL statement_timeout = '15min';"),
        "{up}"
    );
    let before = state(&copy.db).await;

    // A long read holds ACCESS SHARE on customers; SET NOT NULL needs
    // ACCESS EXCLUSIVE and gives up after the lock timeout.
    use sqlx::Connection;
    let mut reader = sqlx::PgConnection::connect(&copy.db.url).await.unwrap();
    sqlx::raw_sql("BEGIN; LOCK TABLE customers IN ACCESS SHARE MODE;")
        .execute(&mut reader)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let failed = gen_in(&copy.project, &["apply", "--database-url", &copy.db.url]);
    let elapsed = started.elapsed();
    assert!(
        elapsed < std::time::Duration::from_secs(3),
        "the migration's 1 s lock timeout holds: {elapsed:?}"
    );
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed));
    let notes = stderr(&failed);
    let up_name = format!("{NEXT}_schema.up.sql");
    assert!(
        notes.contains(&format!("{up_name}:")) && notes.contains("lock timeout"),
        "{notes}"
    );
    assert!(notes.contains("rolled back"), "{notes}");
    assert!(
        notes.contains("blocked by pid")
            && notes.contains("AccessShareLock on customers")
            && notes.contains("LOCK TABLE customers IN ACCESS SHARE MODE"),
        "names the blocking session: {notes}"
    );
    assert!(
        notes.contains("--withdraw"),
        "points to the recovery: {notes}"
    );
    assert!(
        !notes.contains("at line"),
        "no line of PostgreSQL's C source: {notes}"
    );
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut reader)
        .await
        .unwrap();
    reader.close().await.unwrap();
    let after = state(&copy.db).await;
    assert_eq!(before.catalog.diff(&after.catalog), "", "rolled back");
    assert_eq!(before.data.diff(&after.data), "");

    // Without a database or --force, withdraw refuses.
    let refused = gen_in(&copy.project, &["migrations", "--withdraw"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    let withdrawn = gen_in(
        &copy.project,
        &["migrations", "--withdraw", "--database-url", &copy.db.url],
    );
    assert_eq!(withdrawn.status.code(), Some(0), "{}", text(&withdrawn));
    let migrations = copy.project.join("generated/migrations");
    assert!(!migrations.join(&up_name).exists());
    // SET NOT NULL became a group (the NOT VALID check, then its
    // validation in a part of its own): the whole group is withdrawn.
    assert!(
        notes.contains("lock timeout"),
        "the first part failed: {notes}"
    );
    assert!(
        up_parts(&migrations).is_empty(),
        "every part is withdrawn: {:?}",
        up_parts(&migrations)
    );
    assert!(
        stderr(&withdrawn).contains("20260102000001_schema_validate.up.sql"),
        "{}",
        text(&withdrawn)
    );
    let snapshot =
        std::fs::read_to_string(copy.project.join("generated/schema.snapshot.yaml")).unwrap();
    let initial =
        std::fs::read_to_string(fixture().project.join("generated/schema.snapshot.yaml")).unwrap();
    assert_eq!(
        snapshot, initial,
        "the snapshot is back to before the migration"
    );

    // Fixed documents (a second edit too), regenerated, applied.
    let text_path = copy.project.join("schema/docs").join(MASTER);
    let docs = std::fs::read_to_string(&text_path).unwrap().replacen(
        "| zip_code | varchar | YES | ZIP | Display |\n",
        "| zip_code | varchar | YES | ZIP | Display |\n| region | varchar | YES | Sales region | Display |\n",
        1,
    );
    std::fs::write(&text_path, docs).unwrap();
    let again = gen_in(
        &copy.project,
        &["migrations", "--timestamp", "20260103000000"],
    );
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    let applied = gen_in(&copy.project, &["apply", "--database-url", &copy.db.url]);
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied));
    assert!(
        stderr(&applied).contains("applied 20260103000000 schema"),
        "{}",
        text(&applied)
    );
    let drift = gen_in(&copy.project, &["check", "--database-url", &copy.db.url]);
    assert_eq!(drift.status.code(), Some(0), "{}", text(&drift));
    let nothing = gen_in(&copy.project, &["apply", "--database-url", &copy.db.url]);
    assert_eq!(nothing.status.code(), Some(0), "{}", text(&nothing));
    assert!(
        stderr(&nothing).contains("nothing pending"),
        "{}",
        text(&nothing)
    );
    // An applied migration cannot be withdrawn.
    let applied_refused = gen_in(
        &copy.project,
        &["migrations", "--withdraw", "--database-url", &copy.db.url],
    );
    assert_eq!(
        applied_refused.status.code(),
        Some(2),
        "{}",
        text(&applied_refused)
    );
    assert!(
        stderr(&applied_refused).contains("is applied"),
        "{}",
        text(&applied_refused)
    );
}

/// A hand-written migration that PostgreSQL refuses: the message carries
/// the server's DETAIL and the failing statement's line in the file.
#[tokio::test]
async fn a_failure_carries_detail_and_the_line_in_the_migration() {
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    std::fs::write(
        migrations.join("20260101000000_people.up.sql"),
        "-- people\nCREATE TABLE people (name text);\n\nINSERT INTO people VALUES ('Noah Johnson'), ('Noah Johnson');\n\n-- the next statement fails\nALTER TABLE people\n  ADD CONSTRAINT people_name_key UNIQUE (name);\n",
    )
    .unwrap();
    let db = fresh_db().await;
    let output = gen_in(
        &support::root(),
        &[
            "apply",
            "--out",
            dir.path().to_str().unwrap(),
            "--database-url",
            &db.url,
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let notes = stderr(&output);
    assert!(notes.contains("20260101000000_people.up.sql:7:"), "{notes}");
    assert!(
        notes.contains("DETAIL: Key (name)=(Noah Johnson) is duplicated."),
        "{notes}"
    );
    assert!(!notes.contains("at line"), "{notes}");
    let tables = db.catalog().await.tables();
    assert!(!tables.contains("people"), "rolled back: {tables:?}");
}

/// `--adopt` on a database built from the documents' SQL records the
/// history and runs nothing; on a drifted database it refuses.
#[tokio::test]
async fn adopt_records_a_matching_database_and_refuses_a_drifted_one() {
    let dir = tempfile::tempdir().unwrap();
    let project = new_project(dir.path());
    let output = gen_in(&project, &["migrations", "--timestamp", "20260101000000"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let sql = gen_in(&project, &["sql"]);
    assert_eq!(sql.status.code(), Some(0), "{}", text(&sql));
    let sql = String::from_utf8(sql.stdout).unwrap();

    let matching = fresh_db().await;
    matching.run(&sql).await;
    let before = matching.catalog().await;
    let adopted = gen_in(
        &project,
        &["apply", "--adopt", "--database-url", &matching.url],
    );
    assert_eq!(adopted.status.code(), Some(0), "{}", text(&adopted));
    assert!(
        stderr(&adopted).contains("adopted 20260101000000 schema"),
        "{}",
        text(&adopted)
    );
    let after = matching.catalog().await;
    let history: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations")
        .fetch_all(matching.pool())
        .await
        .unwrap();
    assert_eq!(history, [20260101000000]);
    let mut tables = after.tables();
    assert!(tables.remove("_sqlx_migrations"));
    assert_eq!(
        tables,
        before.tables(),
        "nothing but the history was created"
    );
    let nothing = gen_in(&project, &["apply", "--database-url", &matching.url]);
    assert!(
        stderr(&nothing).contains("nothing pending"),
        "{}",
        text(&nothing)
    );

    let drifted = fresh_db().await;
    drifted.run(&sql).await;
    drifted.run("ALTER TABLE customers DROP COLUMN notes").await;
    let refused = gen_in(
        &project,
        &["apply", "--adopt", "--database-url", &drifted.url],
    );
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    let notes = stderr(&refused);
    assert!(
        notes.contains("customers.notes") || notes.contains("notes"),
        "{notes}"
    );
    assert!(notes.contains("nothing was recorded"), "{notes}");
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(drifted.pool())
        .await
        .unwrap();
    assert!(!exists, "no history was written");
}

/// Only a real rewrite carries `table-rewrite`: varchar → text keeps the
/// table's file (catalog only), varchar → integer gets a new one.
#[tokio::test]
async fn only_real_rewrites_are_called_table_rewrite() {
    for (name, rewrites, apply) in [
        ("widen a varchar to text", false, &["apply"][..]),
        (
            "cast varchar to integer, allowed at generation",
            true,
            &["apply", "--accept-data-loss"][..],
        ),
    ] {
        let (copy, up) = generated_copy(name).await;
        assert_eq!(
            up.contains("-- hazard table-rewrite:"),
            rewrites,
            "{name}:\n{up}"
        );
        let filenode = || async {
            sqlx::query_scalar::<_, i64>("SELECT pg_relation_filenode('customers')::bigint")
                .fetch_one(copy.db.pool())
                .await
                .unwrap()
        };
        let before = filenode().await;
        let mut args = apply.to_vec();
        args.extend(["--database-url", copy.db.url.as_str()]);
        let applied = gen_in(&copy.project, &args);
        assert_eq!(applied.status.code(), Some(0), "{name}: {}", text(&applied));
        assert_eq!(filenode().await != before, rewrites, "{name}");
        copy.db.drop_database().await;
    }
}

/// squawk, the PostgreSQL migration linter (pinned in `.ci/run`), with
/// the committed `.squawk.toml`, on the initial migration and on every
/// part of every migration the edits of `EDITS` write: none of the rules
/// about locks and long scans fires on a later migration, and no rule at
/// all on the initial one. The rules that do fire are printed.
#[test]
fn squawk_finds_no_lock_hazard_in_any_migration() {
    let squawk = std::process::Command::new("squawk")
        .arg("--version")
        .output();
    let Ok(version) = squawk else {
        panic!("squawk is not installed; run `bash .ci/run` (it installs squawk-cli from PyPI)");
    };
    assert!(version.status.success(), "{}", text(&version));
    let fixture = fixture();
    let initial: Vec<PathBuf> = std::fs::read_dir(fixture.project.join("generated/migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".up.sql"))
        .collect();
    assert_eq!(initial.len(), 1, "{initial:?}");
    let rules = squawk_rules(&initial[0]);
    assert!(rules.is_empty(), "the initial migration: {rules:?}");
    let mut linted = 0;
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for edit in EDITS
        .iter()
        .filter(|e| !matches!(e.outcome, Outcome::RefusedAtGeneration { .. }))
    {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("project");
        copy_dir(&fixture.project, &project);
        edit_documents(&project, edit);
        let mut args = vec!["migrations", "--timestamp", NEXT];
        args.extend_from_slice(edit.allow);
        let generated = gen_in(&project, &args);
        assert_eq!(generated.status.code(), Some(0), "{}", text(&generated));
        for part in up_parts(&project.join("generated/migrations")) {
            let rules = squawk_rules(&part);
            for rule in SQUAWK_FORBIDDEN {
                assert!(
                    !rules.contains(*rule),
                    "{}: {rule} fires on {}:\n{}",
                    edit.name,
                    part.display(),
                    std::fs::read_to_string(&part).unwrap()
                );
            }
            for rule in rules {
                *seen.entry(rule).or_default() += 1;
            }
            linted += 1;
        }
    }
    eprintln!("squawk: {linted} later migration files linted; rules that fired: {seen:?}");
    assert!(linted >= 15, "{linted} files");
}

/// The rules that must never fire on a later migration (issue 19).
const SQUAWK_FORBIDDEN: &[&str] = &[
    "require-lock-timeout",
    "require-statement-timeout",
    "require-concurrent-index-creation",
    "require-concurrent-index-deletion",
    "constraint-missing-not-valid",
    "adding-foreign-key-constraint",
    "adding-not-nullable-field",
    "adding-required-field",
    "disallowed-unique-constraint",
];

/// The names of the rules squawk reports on one migration file, with the
/// repository's `.squawk.toml`. A file that runs in a transaction is
/// linted as one (`--assume-in-transaction`); a `-- no-transaction` file
/// as what it is.
fn squawk_rules(file: &Path) -> std::collections::BTreeSet<String> {
    let sql = std::fs::read_to_string(file).unwrap();
    let mut command = std::process::Command::new("squawk");
    command
        .arg("--config")
        .arg(support::root().join(".squawk.toml"))
        .args(["--reporter", "json"]);
    if !sql.starts_with("-- no-transaction") {
        command.arg("--assume-in-transaction");
    }
    let linted = command.arg(file).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&linted.stdout)
        .unwrap_or_else(|e| panic!("squawk's report is not JSON ({e}): {}", text(&linted)));
    report
        .as_array()
        .expect("a list of violations")
        .iter()
        .filter_map(|v| v["rule_name"].as_str().map(str::to_owned))
        .collect()
}
