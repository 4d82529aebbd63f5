//! Applying migrations to a live database, safely: the migrations on disk
//! as sqlx-cli reads them, the `_sqlx_migrations` history (the same table
//! and checksums as `sqlx migrate run`, so either tool can take over), the
//! read-only preflight that counts what pending steps would fail on or
//! lose (`preflight`), and a runner that executes each migration statement
//! by statement in its own transaction, so that a failure names the
//! statement's line in the migration file with PostgreSQL's DETAIL and
//! HINT. Nothing here prints or decides exit codes; `run::apply` does.

pub mod preflight;
pub mod session;

use crate::source::sql::split_statements;
use sha2::{Digest, Sha384};
use sqlx::postgres::{PgConnection, PgDatabaseError, PgErrorPosition};
use sqlx::{AssertSqlSafe, Connection};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// The history table, as sqlx creates it.
pub const HISTORY_TABLE: &str = "_sqlx_migrations";

/// One up migration on disk.
#[derive(Debug, Clone)]
pub struct Migration {
    pub version: i64,
    /// The name after the version, underscores as spaces (sqlx's way).
    pub description: String,
    /// The file name, `<version>_<name>.up.sql` (or `.sql`).
    pub file_name: String,
    pub sql: String,
    /// SHA-384 of the file, as sqlx records it.
    pub checksum: Vec<u8>,
    /// The file starts with `-- no-transaction`.
    pub no_transaction: bool,
}

/// The up migrations in `dir`, by version. Down migrations and files
/// that are not migrations (the checksums, preflight files) are skipped,
/// as sqlx skips them.
pub fn read_migrations(dir: &Path) -> Result<Vec<Migration>, std::io::Error> {
    let mut migrations = Vec::new();
    if !dir.is_dir() {
        return Ok(migrations);
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some((version, rest)) = file_name.split_once('_') else {
            continue;
        };
        let Ok(version) = version.parse::<i64>() else {
            continue;
        };
        if rest.ends_with(".down.sql") || !rest.ends_with(".sql") {
            continue;
        }
        let name = rest
            .strip_suffix(".up.sql")
            .or_else(|| rest.strip_suffix(".sql"))
            .unwrap_or(rest);
        let sql = std::fs::read_to_string(&path)?;
        migrations.push(Migration {
            version,
            description: name.replace('_', " "),
            file_name: file_name.to_owned(),
            checksum: Sha384::digest(sql.as_bytes()).to_vec(),
            no_transaction: sql.trim_start().starts_with("-- no-transaction"),
            sql,
        });
    }
    migrations.sort_by_key(|m| m.version);
    Ok(migrations)
}

/// A row of the history.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Applied {
    pub version: i64,
    pub checksum: Vec<u8>,
    pub success: bool,
}

/// What the history says, read without writing anything: empty when the
/// table does not exist yet.
pub async fn read_history(
    connection: &mut PgConnection,
) -> Result<BTreeMap<i64, Applied>, sqlx::Error> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(HISTORY_TABLE)
        .fetch_one(&mut *connection)
        .await?;
    if !exists {
        return Ok(BTreeMap::new());
    }
    let rows: Vec<Applied> =
        sqlx::query_as("SELECT version, checksum, success FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut *connection)
            .await?;
    Ok(rows.into_iter().map(|r| (r.version, r)).collect())
}

/// Why the history and the files disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryProblem {
    /// Applied with other contents than the file has now.
    Changed { file_name: String },
    /// Recorded as failed: a migration without a transaction stopped
    /// half-way, and only a person can say what is left.
    Failed { version: i64 },
    /// Applied, and its file is gone.
    Missing { version: i64 },
}

impl HistoryProblem {
    /// One line for people; `directory` and `database` as messages show them.
    pub fn message(&self, directory: &str, database: &str) -> String {
        match self {
            HistoryProblem::Changed { file_name } => format!(
                "{directory}/{file_name} was applied to {database} with other contents; restore it (git checkout)"
            ),
            HistoryProblem::Failed { version } => format!(
                "migration {version} is recorded as failed in {database}'s _sqlx_migrations: it ran without a transaction and stopped half-way; repair the database by hand, then delete that row"
            ),
            HistoryProblem::Missing { version } => format!(
                "migration {version} is applied to {database} but its file is not in {directory}"
            ),
        }
    }
}

/// The migrations not yet applied, or what makes the history unusable.
pub fn pending<'a>(
    migrations: &'a [Migration],
    history: &BTreeMap<i64, Applied>,
) -> Result<Vec<&'a Migration>, Vec<HistoryProblem>> {
    let mut problems = Vec::new();
    for applied in history.values() {
        match migrations.iter().find(|m| m.version == applied.version) {
            None => problems.push(HistoryProblem::Missing {
                version: applied.version,
            }),
            Some(_) if !applied.success => problems.push(HistoryProblem::Failed {
                version: applied.version,
            }),
            Some(m) if m.checksum != applied.checksum => problems.push(HistoryProblem::Changed {
                file_name: m.file_name.clone(),
            }),
            Some(_) => {}
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(migrations
        .iter()
        .filter(|m| !history.contains_key(&m.version))
        .collect())
}

/// Session limits for `gen apply`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long a statement waits for a lock before it fails.
    pub lock_timeout: Duration,
    /// How long a statement may run; zero is no limit.
    pub statement_timeout: Duration,
}

/// Sets the session's lock and statement timeouts.
pub async fn set_limits(connection: &mut PgConnection, limits: Limits) -> Result<(), sqlx::Error> {
    let sql = format!(
        "SET lock_timeout = {}; SET statement_timeout = {}",
        limits.lock_timeout.as_millis(),
        limits.statement_timeout.as_millis()
    );
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(&mut *connection)
        .await
        .map(drop)
}

/// Takes the migration lock, so two applies never run at once. The lock
/// is per database and is released when the connection closes.
pub async fn lock(connection: &mut PgConnection) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext('schemagen: gen apply'))")
        .fetch_one(&mut *connection)
        .await
}

/// Creates the history table when it does not exist, as sqlx does.
pub async fn ensure_history(connection: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(HISTORY)
        .execute(&mut *connection)
        .await
        .map(drop)
}

/// sqlx's history table, where sqlx-cli looks for it, made private on
/// every run (also when sqlx-cli created it): Supabase grants every new
/// table in `public` to `anon` and `authenticated`, and PostgREST serves
/// it, so without this anyone with the project's public key could read the
/// history, or rewrite it. The grants go, and row level security without a
/// policy refuses whatever a later grant allows; the owner, which runs the
/// migrations, is not subject to it.
const HISTORY: &str = "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
    success BOOLEAN NOT NULL,
    checksum BYTEA NOT NULL,
    execution_time BIGINT NOT NULL
);
ALTER TABLE _sqlx_migrations ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE _sqlx_migrations FROM PUBLIC;
DO $private$
DECLARE
    role_name text;
BEGIN
    FOR role_name IN
        SELECT rolname FROM pg_roles WHERE rolname IN ('anon', 'authenticated')
    LOOP
        EXECUTE format('REVOKE ALL ON TABLE _sqlx_migrations FROM %I', role_name);
    END LOOP;
END
$private$;";

async fn record(
    connection: &mut PgConnection,
    migration: &Migration,
    elapsed: Duration,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES ($1, $2, TRUE, $3, $4)",
    )
    .bind(migration.version)
    .bind(&migration.description)
    .bind(&migration.checksum)
    .bind(i64::try_from(elapsed.as_nanos()).unwrap_or(i64::MAX))
    .execute(&mut *connection)
    .await
    .map(drop)
}

/// Records migrations as applied without running them (`--adopt`).
pub async fn record_adopted(
    connection: &mut PgConnection,
    migrations: &[&Migration],
) -> Result<(), sqlx::Error> {
    ensure_history(connection).await?;
    let mut transaction = connection.begin().await?;
    for migration in migrations {
        record(&mut transaction, migration, Duration::ZERO).await?;
    }
    transaction.commit().await
}

/// A statement PostgreSQL refused, where it is and what the server said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementFailure {
    /// The line in the migration file where the failure is (the
    /// statement's first line, or the error's position within it).
    pub line: u32,
    /// The statement's first line, for the message.
    pub statement: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// The SQLSTATE code.
    pub code: Option<String>,
    /// When the statement gave up waiting for a lock: the other sessions
    /// that hold locks on the tables it names, as people read them.
    pub blockers: Vec<String>,
}

impl StatementFailure {
    /// The message's lines after the first: PostgreSQL's words, then the
    /// statement.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!("ERROR: {}", self.message)];
        lines.extend(self.detail.iter().map(|d| format!("DETAIL: {d}")));
        lines.extend(self.hint.iter().map(|h| format!("HINT: {h}")));
        lines.push(format!("statement: {}", self.statement));
        lines.extend(self.blockers.iter().map(|b| format!("blocked by {b}")));
        lines
    }
}

/// The preflight files beside the migrations that have one, in `dir`.
pub fn read_preflight_files(
    dir: &Path,
    migrations: &[Migration],
) -> Result<Vec<crate::emit::migrations::PreflightFile>, String> {
    use crate::emit::migrations::PreflightFile;
    let mut files = Vec::new();
    for migration in migrations {
        let name = PreflightFile::name_for(&migration.file_name);
        let text = match std::fs::read_to_string(dir.join(&name)) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("cannot read {name}: {e}")),
        };
        files.push(
            PreflightFile::parse(&text)
                .map_err(|e| format!("{name} cannot be read: {e}; restore it (git checkout)"))?,
        );
    }
    Ok(files)
}

/// How running one migration ended.
#[derive(Debug)]
pub enum RunOutcome {
    Applied {
        statements: usize,
        elapsed: Duration,
    },
    /// A statement failed; in a transaction everything was rolled back.
    Failed(StatementFailure),
}

/// Runs one migration, statement by statement, in a transaction (unless
/// it says `-- no-transaction`), and records it in the history in the same
/// transaction. The connection's own errors (not the statements') are
/// returned as `Err`.
pub async fn run_migration(
    connection: &mut PgConnection,
    migration: &Migration,
) -> Result<RunOutcome, sqlx::Error> {
    let statements = statements_of(&migration.sql);
    let started = Instant::now();
    if !migration.no_transaction {
        sqlx::raw_sql("BEGIN").execute(&mut *connection).await?;
    }
    for (line, text) in &statements {
        if let Err(error) = sqlx::raw_sql(AssertSqlSafe(text.as_str()))
            .execute(&mut *connection)
            .await
        {
            let mut failure = match error.as_database_error() {
                Some(_) => failure_of(&error, *line, text),
                None => return Err(error),
            };
            if !migration.no_transaction {
                sqlx::raw_sql("ROLLBACK").execute(&mut *connection).await?;
            }
            if failure.code.as_deref() == Some(LOCK_NOT_AVAILABLE) {
                failure.blockers = blockers(connection, text).await?;
            }
            return Ok(RunOutcome::Failed(failure));
        }
    }
    record(connection, migration, started.elapsed()).await?;
    if !migration.no_transaction {
        sqlx::raw_sql("COMMIT").execute(&mut *connection).await?;
    }
    Ok(RunOutcome::Applied {
        statements: statements.len(),
        elapsed: started.elapsed(),
    })
}

/// The statements of a migration with their first lines. A file the
/// tokenizer cannot split runs as one statement from line 1.
fn statements_of(sql: &str) -> Vec<(u32, String)> {
    match split_statements(sql) {
        Ok(statements) => statements
            .into_iter()
            .map(|s| (s.line, s.text.to_owned()))
            .collect(),
        Err(_) => vec![(1, sql.to_owned())],
    }
}

/// SQLSTATE of a lock wait that ran out (`lock_timeout`).
const LOCK_NOT_AVAILABLE: &str = "55P03";

/// The sessions that hold locks on a table the statement names: who made
/// the statement wait. Read after the failed transaction is rolled back;
/// the other session still holds its lock.
async fn blockers(
    connection: &mut PgConnection,
    statement: &str,
) -> Result<Vec<String>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Holder {
        pid: i32,
        relname: String,
        mode: String,
        usename: Option<String>,
        application_name: Option<String>,
        state: Option<String>,
        seconds: Option<i64>,
        query: Option<String>,
    }
    let holders: Vec<Holder> = sqlx::query_as(
        "SELECT DISTINCT a.pid, c.relname::text AS relname, l.mode, a.usename::text AS usename,
                a.application_name, a.state,
                extract(epoch FROM now() - a.xact_start)::bigint AS seconds,
                left(a.query, 120) AS query
         FROM pg_locks l
         JOIN pg_class c ON c.oid = l.relation
         JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.granted AND l.pid <> pg_backend_pid() AND c.relkind IN ('r', 'p')
         ORDER BY a.pid, relname",
    )
    .fetch_all(&mut *connection)
    .await?;
    let words: Vec<String> = statement
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map(str::to_owned)
        .collect();
    Ok(holders
        .into_iter()
        .filter(|h| words.contains(&h.relname))
        .map(|h| {
            format!(
                "pid {} (user {}, application {:?}, {}, transaction open {} s), holding {} on {}: {}",
                h.pid,
                h.usename.as_deref().unwrap_or("?"),
                h.application_name.as_deref().unwrap_or(""),
                h.state.as_deref().unwrap_or("state unknown"),
                h.seconds.unwrap_or(0),
                h.mode,
                h.relname,
                h.query.as_deref().unwrap_or("").trim()
            )
        })
        .collect())
}

fn failure_of(error: &sqlx::Error, line: u32, text: &str) -> StatementFailure {
    let first_line = text.lines().next().unwrap_or_default().to_owned();
    let Some(database) = error.as_database_error() else {
        return StatementFailure {
            line,
            statement: first_line,
            message: error.to_string(),
            detail: None,
            hint: None,
            code: None,
            blockers: Vec::new(),
        };
    };
    let pg = database.try_downcast_ref::<PgDatabaseError>();
    // A position counts characters from the statement's start.
    let line = match pg.and_then(|pg| pg.position()) {
        Some(PgErrorPosition::Original(position)) => {
            let before: String = text.chars().take(position.saturating_sub(1)).collect();
            line + before.matches('\n').count() as u32
        }
        _ => line,
    };
    StatementFailure {
        line,
        statement: first_line,
        message: database.message().to_owned(),
        detail: pg.and_then(|pg| pg.detail()).map(str::to_owned),
        hint: pg.and_then(|pg| pg.hint()).map(str::to_owned),
        code: database.code().map(|c| c.into_owned()),
        blockers: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_keep_their_lines_and_skip_comments() {
        let sql = "-- title\n\n-- hazard fails-on-data: x\nALTER TABLE a ADD b int;\n\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n";
        let statements = statements_of(sql);
        assert_eq!(statements.len(), 2);
        assert_eq!(statements[0].0, 4);
        assert_eq!(statements[1].0, 6);
        assert!(statements[1].1.contains("SELECT 1; $$"));
    }

    #[test]
    fn migrations_are_read_as_sqlx_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [
            ("20260101000000_init.up.sql", "-- a\n"),
            ("20260101000000_init.down.sql", "-- b\n"),
            ("20260102000000_add_city.up.sql", "-- no-transaction\n"),
            ("20260102000000_add_city.preflight.json", "{}"),
            ("checksums.sha256", ""),
        ] {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let migrations = read_migrations(dir.path()).unwrap();
        let names: Vec<(i64, &str, bool)> = migrations
            .iter()
            .map(|m| (m.version, m.description.as_str(), m.no_transaction))
            .collect();
        assert_eq!(
            names,
            [
                (20260101000000, "init", false),
                (20260102000000, "add city", true)
            ]
        );
        assert_eq!(migrations[0].checksum, Sha384::digest(b"-- a\n").to_vec());
    }
}
