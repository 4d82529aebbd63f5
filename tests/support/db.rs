//! PostgreSQL test harness: one throwaway cluster per test process (or the
//! server named by `GEN_TEST_DATABASE_URL`), a fresh database per test, and a
//! normalised description of a database's schema read from `pg_catalog`.
//!
//! ```ignore
//! let db = support::db::fresh_db().await;
//! db.run("CREATE TABLE t (id bigint PRIMARY KEY)").await;
//! assert!(db.catalog().await.facts.contains("table | t | rls=false | force=false"));
//! ```
//!
//! There are no silent skips: when PostgreSQL cannot be found or started the
//! test panics and says how to install it.

use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection};
use std::collections::BTreeSet;
use std::fmt;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Environment variable naming an existing server to use instead of a
/// throwaway cluster: a superuser URL to an existing database.
pub const URL_VAR: &str = "GEN_TEST_DATABASE_URL";

/// Appended to every set-up failure.
pub const HINT: &str =
    "Run `bash .ci/run` to install PostgreSQL 15 and pgvector, or set GEN_TEST_DATABASE_URL.";

const FALLBACK_BINDIR: &str = "/usr/lib/postgresql/15/bin";
const PG_USER: &str = "postgres";

/// Panics with `msg` and [`HINT`].
fn setup_failure(msg: impl fmt::Display) -> ! {
    panic!("PostgreSQL for tests is unavailable: {msg}\n{HINT}")
}

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

/// The admin (superuser) URL: `GEN_TEST_DATABASE_URL` if set, otherwise the
/// throwaway cluster of this test process, started on first use.
///
/// Panics (with [`HINT`]) if the cluster cannot be started.
pub fn admin_url() -> String {
    static ADMIN: OnceLock<Result<String, String>> = OnceLock::new();
    match ADMIN.get_or_init(|| match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Ok(url.trim().to_owned()),
        _ => start_cluster(),
    }) {
        Ok(url) => url.clone(),
        Err(e) => setup_failure(e),
    }
}

/// Whether this process runs as root (initdb and pg_ctl refuse to).
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata("/proc/self") {
        Ok(m) => m.uid() == 0,
        Err(_) => Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false),
    }
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// The directory holding initdb and pg_ctl: `pg_config --bindir` if
/// pg_config is on PATH and that directory has initdb, else the Debian
/// location of PostgreSQL 15.
fn bindir() -> Result<PathBuf, String> {
    let mut tried = Vec::new();
    if let Some(pg_config) = find_in_path("pg_config") {
        match Command::new(&pg_config).arg("--bindir").output() {
            Ok(o) if o.status.success() => {
                let dir = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
                if dir.join("initdb").is_file() {
                    return Ok(dir);
                }
                tried.push(format!("{} (from {})", dir.display(), pg_config.display()));
            }
            Ok(o) => tried.push(format!(
                "{} --bindir failed: {}",
                pg_config.display(),
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => tried.push(format!("{} --bindir failed: {e}", pg_config.display())),
        }
    }
    let fallback = PathBuf::from(FALLBACK_BINDIR);
    if fallback.join("initdb").is_file() {
        return Ok(fallback);
    }
    tried.push(FALLBACK_BINDIR.to_owned());
    Err(format!(
        "no initdb binary found; looked in {}",
        tried.join(", ")
    ))
}

/// Quotes `s` for a POSIX shell.
fn sh_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-=,:+@".contains(&b))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// A shell command line running `program args` as the postgres user when
/// this process is root, and directly otherwise.
fn pg_shell_line(program: &Path, args: &[String]) -> String {
    let mut words = vec![sh_quote(&program.to_string_lossy())];
    words.extend(args.iter().map(|a| sh_quote(a)));
    let line = words.join(" ");
    if !is_root() {
        line
    } else if let Some(runuser) = find_in_path("runuser") {
        format!(
            "{} -u {PG_USER} -- {line}",
            sh_quote(&runuser.to_string_lossy())
        )
    } else {
        format!("su {PG_USER} -s /bin/sh -c {}", sh_quote(&line))
    }
}

/// A [`Command`] running `program args` as the postgres user when this
/// process is root, and directly otherwise, in directory `cwd` (the postgres
/// user may not be able to enter this process's working directory).
fn pg_command(program: &Path, args: &[String], cwd: &Path) -> Command {
    let mut cmd = if !is_root() {
        let mut c = Command::new(program);
        c.args(args);
        c
    } else if let Some(runuser) = find_in_path("runuser") {
        let mut c = Command::new(runuser);
        c.args(["-u", PG_USER, "--"]).arg(program).args(args);
        c
    } else {
        let mut words = vec![sh_quote(&program.to_string_lossy())];
        words.extend(args.iter().map(|a| sh_quote(a)));
        let mut c = Command::new("su");
        c.args([PG_USER, "-s", "/bin/sh", "-c", &words.join(" ")]);
        c
    };
    cmd.current_dir(cwd).stdin(Stdio::null());
    cmd
}

fn describe_output(what: &str, result: std::io::Result<Output>) -> Result<(), String> {
    match result {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!(
            "{what} failed ({}):\n{}{}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )),
        Err(e) => Err(format!("{what} could not be run: {e}")),
    }
}

fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot bind 127.0.0.1:0: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("cannot read local address: {e}"))
}

/// initdb + pg_ctl start in a fresh temporary directory, plus a watchdog
/// that stops the server and removes the directory when this process ends.
fn start_cluster() -> Result<String, String> {
    let bin = bindir()?;
    let root = is_root();
    let mut builder = tempfile::Builder::new();
    builder.prefix("gen-test-pg-");
    // Root's TMPDIR may be private; /tmp is always reachable by postgres.
    let made = if root {
        builder.tempdir_in("/tmp")
    } else {
        builder.tempdir()
    };
    let base = made
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?
        .keep();
    let result = init_and_start(&bin, &base, root);
    if result.is_err() {
        // Best effort: a half-started server would keep files open.
        let _ = pg_command(
            &bin.join("pg_ctl"),
            &args([
                "-D",
                &base.join("data").to_string_lossy(),
                "stop",
                "-m",
                "immediate",
            ]),
            &base,
        )
        .output();
        let _ = std::fs::remove_dir_all(&base);
    }
    result
}

fn args<const N: usize>(a: [&str; N]) -> Vec<String> {
    a.iter().map(|s| (*s).to_owned()).collect()
}

fn init_and_start(bin: &Path, base: &Path, root: bool) -> Result<String, String> {
    let data = base.join("data");
    let log = base.join("server.log");
    let base_s = base.to_string_lossy().into_owned();
    let data_s = data.to_string_lossy().into_owned();
    let log_s = log.to_string_lossy().into_owned();

    if root {
        describe_output(
            &format!("chown {PG_USER} {base_s}"),
            Command::new("chown")
                .arg(format!("{PG_USER}:"))
                .arg(base)
                .output(),
        )?;
    }

    describe_output(
        "initdb",
        pg_command(
            &bin.join("initdb"),
            &args([
                "-D",
                &data_s,
                "--auth=trust",
                "-U",
                PG_USER,
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ]),
            base,
        )
        .output(),
    )?;

    // TLS, as Supabase requires: a self-signed certificate for 127.0.0.1,
    // which is also the root a client verifies it with (`TLS_ROOT_CERT`).
    let ssl = make_certificate(base)?;

    // The port is free when chosen but could be taken before the server
    // binds it, so try a few.
    let mut last_error = String::new();
    for _ in 0..3 {
        let port = free_port()?;
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={base_s} \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off {ssl}"
        );
        let started = describe_output(
            "pg_ctl start",
            pg_command(
                &bin.join("pg_ctl"),
                &args([
                    "-D", &data_s, "-l", &log_s, "-w", "-t", "60", "-o", &options, "start",
                ]),
                base,
            )
            .output(),
        );
        match started {
            Ok(()) => {
                spawn_watchdog(bin, base)?;
                return Ok(format!("postgres://{PG_USER}@127.0.0.1:{port}/postgres"));
            }
            Err(e) => {
                let server_log = std::fs::read_to_string(&log).unwrap_or_default();
                last_error = format!("{e}\nserver log ({log_s}):\n{server_log}");
            }
        }
    }
    Err(last_error)
}

/// Where the test cluster's certificate is, once it has started: clients
/// verify the server with it (`sslrootcert`).
pub static TLS_ROOT_CERT: OnceLock<PathBuf> = OnceLock::new();

/// Writes a certificate authority (`ca.crt`) and a server certificate for
/// 127.0.0.1 signed by it (`server.crt`, `server.key`, owned by the server's
/// user), and returns the server options that turn TLS on. A separate CA,
/// because rustls refuses a self-signed CA certificate as a server's.
fn make_certificate(base: &Path) -> Result<String, String> {
    let openssl = find_in_path("openssl")
        .ok_or_else(|| "openssl is not installed (needed for the TLS test cluster)".to_owned())?;
    let path = |name: &str| base.join(name).to_string_lossy().into_owned();
    std::fs::write(
        base.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .map_err(|e| format!("cannot write server.ext: {e}"))?;
    let steps: [(&str, Vec<String>); 3] = [
        (
            "openssl req (CA)",
            args([
                "req",
                "-x509",
                "-new",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=gen-test-ca",
            ])
            .into_iter()
            .chain(args(["-keyout", &path("ca.key"), "-out", &path("ca.crt")]))
            .collect(),
        ),
        (
            "openssl req (server)",
            args(["req", "-new", "-nodes", "-subj", "/CN=127.0.0.1"])
                .into_iter()
                .chain(args([
                    "-keyout",
                    &path("server.key"),
                    "-out",
                    &path("server.csr"),
                ]))
                .collect(),
        ),
        (
            "openssl x509 (sign)",
            args(["x509", "-req", "-days", "2", "-in", &path("server.csr")])
                .into_iter()
                .chain(args(["-CA", &path("ca.crt"), "-CAkey", &path("ca.key")]))
                .chain(args(["-CAcreateserial", "-extfile", &path("server.ext")]))
                .chain(args(["-out", &path("server.crt")]))
                .collect(),
        ),
    ];
    for (what, arguments) in steps {
        describe_output(what, pg_command(&openssl, &arguments, base).output())?;
    }
    let _ = TLS_ROOT_CERT.set(base.join("ca.crt"));
    Ok(format!(
        "-c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
        path("server.crt"),
        path("server.key")
    ))
}

/// Statics are never dropped, so a detached shell waits for this process to
/// exit, then stops the server and removes its directory.
///
/// The shell itself runs as the current user: as postgres, `kill -0` on a
/// root process would fail with EPERM and end the wait at once. Only pg_ctl
/// runs as postgres.
fn spawn_watchdog(bin: &Path, base: &Path) -> Result<(), String> {
    use std::os::unix::process::CommandExt;
    let stop = pg_shell_line(
        &bin.join("pg_ctl"),
        &args([
            "-D",
            &base.join("data").to_string_lossy(),
            "stop",
            "-m",
            "immediate",
        ]),
    );
    let script = format!(
        "cd / ; while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop}; rm -rf {base}",
        pid = std::process::id(),
        base = sh_quote(&base.to_string_lossy()),
    );
    Command::new("sh")
        .args(["-c", &script])
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Own process group, so Ctrl-C on `cargo test` does not kill it.
        .process_group(0)
        .spawn()
        .map(drop)
        .map_err(|e| format!("cannot spawn the cleanup watchdog: {e}"))
}

// ---------------------------------------------------------------------------
// Databases
// ---------------------------------------------------------------------------

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (main, query) = match rest.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (rest, None),
    };
    let authority = main.split_once('/').map_or(main, |(a, _)| a);
    let mut out = format!("{scheme}://{authority}/{name}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// `url` with any password hidden, for messages.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

async fn admin_connection(admin: &str) -> PgConnection {
    PgConnection::connect(admin).await.unwrap_or_else(|e| {
        setup_failure(format!(
            "cannot connect to the admin database {}: {e}",
            redacted(admin)
        ))
    })
}

/// A database of its own for one test.
pub struct TestDb {
    /// Connection URL of this database.
    pub url: String,
    /// Database name, `gen_test_<pid>_<counter>`.
    pub name: String,
    pool: PgPool,
}

/// Creates a new, empty database (from `template0`, UTF8, C collation) and
/// connects a pool of at most 4 connections to it.
///
/// Panics (with [`HINT`]) if the server is unreachable.
pub async fn fresh_db() -> TestDb {
    fresh_db_from("template0").await
}

/// Like [`fresh_db`], but a copy of the database `template` (which must have
/// no open connections: close its pool first).
pub async fn fresh_db_from(template: &str) -> TestDb {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let admin = admin_url();
    let name = format!(
        "gen_test_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let mut conn = admin_connection(&admin).await;
    // A database of this name can only be left over from an earlier process
    // with the same pid (possible with GEN_TEST_DATABASE_URL). DROP and
    // CREATE DATABASE cannot share a (simple-protocol) transaction, hence two
    // calls.
    for sql in [
        format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#),
        format!(
            r#"CREATE DATABASE "{name}" TEMPLATE "{template}" ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"#
        ),
    ] {
        if let Err(e) = sqlx::raw_sql(AssertSqlSafe(sql.as_str()))
            .execute(&mut conn)
            .await
        {
            setup_failure(format!("`{sql}` failed on {}: {e}", redacted(&admin)));
        }
    }
    let _ = conn.close().await;
    let url = with_database(&admin, &name);
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await
        .unwrap_or_else(|e| setup_failure(format!("cannot connect to {}: {e}", redacted(&url))));
    TestDb { url, name, pool }
}

impl TestDb {
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes this handle's connections, so the database can be a template.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Runs a multi-statement SQL script with the simple query protocol
    /// (`sqlx::raw_sql`).
    ///
    /// Without explicit BEGIN/COMMIT the script runs as one implicit
    /// transaction: if a statement fails, the earlier ones are rolled back,
    /// and statements that refuse transaction blocks (CREATE DATABASE,
    /// CREATE INDEX CONCURRENTLY, VACUUM) fail unless they are alone.
    pub async fn execute(&self, sql: &str) -> Result<(), sqlx::Error> {
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&self.pool)
            .await
            .map(drop)
    }

    /// Like [`execute`](Self::execute) but panics with the error and the
    /// first 2000 characters of the script on failure.
    pub async fn run(&self, sql: &str) {
        if let Err(e) = self.execute(sql).await {
            let head: String = sql.chars().take(2000).collect();
            let more = if head.len() < sql.len() {
                "\n[... script truncated ...]"
            } else {
                ""
            };
            panic!(
                "SQL script failed in database {}: {}\n--- script ---\n{head}{more}",
                self.name,
                describe_error(&e)
            );
        }
    }

    /// Runs a migration file as a migration tool does: in one transaction,
    /// or, when its first line is `-- no-transaction`, one statement at a
    /// time (PostgreSQL refuses a concurrent index build in a script of
    /// several statements). Panics like [`run`](Self::run).
    pub async fn run_migration(&self, sql: &str) {
        if let Err(e) = self.try_run_migration(sql).await {
            panic!(
                "migration failed in database {}: {e}\n--- migration ---\n{sql}",
                self.name
            );
        }
    }

    /// [`run_migration`](Self::run_migration), returning the error (with
    /// the failing statement) instead of panicking.
    pub async fn try_run_migration(&self, sql: &str) -> Result<(), String> {
        if !sql.starts_with("-- no-transaction") {
            return self.execute(sql).await.map_err(|e| describe_error(&e));
        }
        let statements = schemagen::source::sql::split_statements(sql)
            .map_err(|e| format!("cannot split the migration: {e:?}"))?;
        for statement in statements {
            self.execute(statement.text)
                .await
                .map_err(|e| format!("{}\n  in: {}", describe_error(&e), statement.text))?;
        }
        Ok(())
    }

    /// Runs the up files of a migration in order: one file, or every part
    /// of a migration that became several.
    pub async fn run_ups(&self, files: &[(String, String)]) {
        for (_, sql) in files.iter().filter(|(name, _)| name.ends_with(".up.sql")) {
            self.run_migration(sql).await;
        }
    }

    /// Runs the down files of a migration in the order a migration tool
    /// reverts them: the newest first.
    pub async fn run_downs(&self, files: &[(String, String)]) {
        for (_, sql) in files
            .iter()
            .rev()
            .filter(|(name, _)| name.ends_with(".down.sql"))
        {
            self.run_migration(sql).await;
        }
    }

    /// A normalised, sorted description of the database's user objects,
    /// from pg_catalog. Panics on a query error.
    pub async fn catalog(&self) -> Catalog {
        match self.try_catalog().await {
            Ok(c) => c,
            Err(e) => panic!(
                "reading the catalog of {} failed: {}",
                self.name,
                describe_error(&e)
            ),
        }
    }

    /// [`catalog`](Self::catalog), returning query errors.
    pub async fn try_catalog(&self) -> Result<Catalog, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        // Extension types print unqualified whether they live in public or
        // in an `extensions` schema.
        sqlx::query("SET LOCAL search_path TO public, extensions")
            .execute(&mut *tx)
            .await?;
        let mut facts = BTreeSet::new();
        for sql in CATALOG_QUERIES {
            let rows: Vec<String> = sqlx::query_scalar(*sql).fetch_all(&mut *tx).await?;
            facts.extend(rows);
        }
        tx.rollback().await?;
        Ok(Catalog { facts })
    }

    /// Closes the pool and drops the database (the throwaway cluster is
    /// removed anyway; useful with `GEN_TEST_DATABASE_URL`).
    pub async fn drop_database(self) {
        self.pool.close().await;
        let admin = admin_url();
        let mut conn = admin_connection(&admin).await;
        let sql = format!(r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#, self.name);
        if let Err(e) = sqlx::raw_sql(AssertSqlSafe(sql.as_str()))
            .execute(&mut conn)
            .await
        {
            panic!("`{sql}` failed: {}", describe_error(&e));
        }
        let _ = conn.close().await;
    }
}

impl fmt::Debug for TestDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestDb")
            .field("url", &redacted(&self.url))
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// An error with the server's detail, hint and position when it has them.
pub fn describe_error(e: &sqlx::Error) -> String {
    let Some(db) = e.as_database_error() else {
        return e.to_string();
    };
    let mut out = e.to_string();
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        if let Some(detail) = pg.detail() {
            out.push_str(&format!("\nDETAIL: {detail}"));
        }
        if let Some(hint) = pg.hint() {
            out.push_str(&format!("\nHINT: {hint}"));
        }
        if let Some(sqlx::postgres::PgErrorPosition::Original(pos)) = pg.position() {
            out.push_str(&format!("\nat character {pos}"));
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Catalog
// ---------------------------------------------------------------------------

/// Public tables, excluding those created by extensions.
macro_rules! user_tables {
    () => {
        "WITH t AS (
           SELECT c.oid, c.relname::text AS tbl, c.relrowsecurity, c.relforcerowsecurity
           FROM pg_catalog.pg_class c
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
             AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                             WHERE d.classid = 'pg_catalog.pg_class'::regclass
                               AND d.objid = c.oid AND d.deptype = 'e')
         ) "
    };
}

/// One query per kind of fact, each returning one text column.
const CATALOG_QUERIES: &[&str] = &[
    r"SELECT format('schema | %s', nspname)
      FROM pg_catalog.pg_namespace
      WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema'",
    "SELECT format('extension | %s', extname)
     FROM pg_catalog.pg_extension WHERE extname <> 'plpgsql'",
    concat!(
        user_tables!(),
        "SELECT format('table | %s | rls=%s | force=%s',
                       tbl, relrowsecurity::text, relforcerowsecurity::text)
         FROM t"
    ),
    concat!(
        user_tables!(),
        "SELECT format('column | %s | %s | %s | notnull=%s | default=%s',
           t.tbl, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
           a.attnotnull::text,
           CASE WHEN a.attidentity = 'a' THEN 'generated always as identity'
                WHEN a.attidentity = 'd' THEN 'generated by default as identity'
                WHEN a.attgenerated = 's' THEN
                  'generated always as (' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) || ') stored'
                ELSE coalesce(pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), '') END)
         FROM t
         JOIN pg_catalog.pg_attribute a
           ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
         LEFT JOIN pg_catalog.pg_attrdef ad
           ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum"
    ),
    concat!(
        user_tables!(),
        "SELECT format('constraint | %s | %s | %s | %s',
           t.tbl, c.conname, c.contype, pg_catalog.pg_get_constraintdef(c.oid))
         FROM t JOIN pg_catalog.pg_constraint c ON c.conrelid = t.oid"
    ),
    concat!(
        user_tables!(),
        "SELECT format('index | %s | %s | %s',
           t.tbl, ic.relname, pg_catalog.pg_get_indexdef(i.indexrelid))
         FROM t
         JOIN pg_catalog.pg_index i ON i.indrelid = t.oid
         JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid"
    ),
    "SELECT format('function | %s(%s) | %s',
       p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid),
       pg_catalog.md5(pg_catalog.pg_get_functiondef(p.oid)))
     FROM pg_catalog.pg_proc p
     JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'public' AND p.prokind <> 'a'
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                       WHERE d.classid = 'pg_catalog.pg_proc'::regclass
                         AND d.objid = p.oid AND d.deptype = 'e')",
    concat!(
        user_tables!(),
        "SELECT format('policy | %s | %s | %s | permissive=%s | roles=%s | using=%s | check=%s',
           t.tbl, p.polname,
           CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT'
                         WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
           p.polpermissive::text,
           (SELECT string_agg(x, ',' ORDER BY x)
              FROM (SELECT CASE WHEN r = 0 THEN 'public'
                                ELSE pg_catalog.pg_get_userbyid(r)::text END AS x
                    FROM unnest(p.polroles) AS r) AS roles),
           pg_catalog.pg_get_expr(p.polqual, p.polrelid),
           pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid))
         FROM t JOIN pg_catalog.pg_policy p ON p.polrelid = t.oid"
    ),
    concat!(
        user_tables!(),
        "SELECT format('comment | %s | %s | %s',
           t.tbl, coalesce(a.attname::text, ''), d.description)
         FROM t
         JOIN pg_catalog.pg_description d
           ON d.objoid = t.oid AND d.classoid = 'pg_catalog.pg_class'::regclass
         LEFT JOIN pg_catalog.pg_attribute a
           ON d.objsubid > 0 AND a.attrelid = d.objoid AND a.attnum = d.objsubid"
    ),
    // Beyond the brief's list: triggers, views and enum types, which a
    // generated schema may also contain.
    concat!(
        user_tables!(),
        "SELECT format('trigger | %s | %s | %s',
           t.tbl, tg.tgname, pg_catalog.pg_get_triggerdef(tg.oid))
         FROM t JOIN pg_catalog.pg_trigger tg ON tg.tgrelid = t.oid
         WHERE NOT tg.tgisinternal"
    ),
    "SELECT format('view | %s | %s | %s',
       c.relname, CASE c.relkind WHEN 'v' THEN 'view' ELSE 'materialized' END,
       pg_catalog.md5(pg_catalog.pg_get_viewdef(c.oid)))
     FROM pg_catalog.pg_class c
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('v', 'm')
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                       WHERE d.classid = 'pg_catalog.pg_class'::regclass
                         AND d.objid = c.oid AND d.deptype = 'e')",
    "SELECT format('enum | %s | %s', ty.typname,
       (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
        FROM pg_catalog.pg_enum e WHERE e.enumtypid = ty.oid))
     FROM pg_catalog.pg_type ty
     JOIN pg_catalog.pg_namespace n ON n.oid = ty.typnamespace
     WHERE n.nspname = 'public' AND ty.typtype = 'e'
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                       WHERE d.classid = 'pg_catalog.pg_type'::regclass
                         AND d.objid = ty.oid AND d.deptype = 'e')",
];

/// Kinds of fact whose second field is a table name.
const TABLE_SCOPED: &[&str] = &[
    "table",
    "column",
    "constraint",
    "index",
    "policy",
    "comment",
    "trigger",
];

/// A normalised description of a database's user objects: one string per
/// fact, fields separated by `" | "`, kind first, table (if any) second.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Catalog {
    pub facts: BTreeSet<String>,
}

impl Catalog {
    /// Lines present in one and not the other, prefixed `"- "` (only in
    /// self) and `"+ "` (only in other), in fact order, one per line; empty
    /// when equal.
    pub fn diff(&self, other: &Catalog) -> String {
        let mut lines: Vec<(&str, char)> = self
            .facts
            .difference(&other.facts)
            .map(|f| (f.as_str(), '-'))
            .chain(
                other
                    .facts
                    .difference(&self.facts)
                    .map(|f| (f.as_str(), '+')),
            )
            .collect();
        lines.sort();
        lines
            .iter()
            .map(|(fact, sign)| format!("{sign} {fact}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Only table-scoped facts (table, column, constraint, index, policy,
    /// comment, trigger) whose table (second field) is in `tables`.
    pub fn restricted_to(&self, tables: &BTreeSet<String>) -> Catalog {
        let facts = self
            .facts
            .iter()
            .filter(|f| {
                let mut fields = f.split(" | ");
                let kind = fields.next().unwrap_or_default();
                TABLE_SCOPED.contains(&kind) && fields.next().is_some_and(|t| tables.contains(t))
            })
            .cloned()
            .collect();
        Catalog { facts }
    }

    /// Names of the public tables.
    pub fn tables(&self) -> BTreeSet<String> {
        self.facts
            .iter()
            .filter_map(|f| f.strip_prefix("table | "))
            .filter_map(|rest| rest.split(" | ").next())
            .map(str::to_owned)
            .collect()
    }

    /// Facts of one kind (`"column"`, `"index"`, ...).
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a String> + 'a {
        self.facts
            .iter()
            .filter(move |f| f.split(" | ").next() == Some(kind))
    }
}

impl fmt::Display for Catalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for fact in &self.facts {
            writeln!(f, "{fact}")?;
        }
        Ok(())
    }
}
