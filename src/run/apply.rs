//! `gen apply`, the CLI side: reads the migrations and their preflight
//! files, connects, reads the history, runs the preflight, and then applies
//! the pending migrations (or, with `--dry-run`, prints what would run; with
//! `--adopt`, records them after a drift check). Findings go to stderr at
//! the documentation line behind each step; `--dry-run`'s SQL goes to
//! stdout. Exit 1 when the preflight blocks, a migration fails or adopt
//! finds drift; 2 when the input or the connection is wrong.

use super::Outcome;
use crate::apply::preflight::{self, Measured};
use crate::apply::{self, HistoryProblem, Limits, Migration, RunOutcome, StatementFailure};
use crate::cli::{ApplyArgs, Config};
use crate::diag::{self, Code, Diagnostic, RenderOptions, Span};
use crate::emit::migrations::{self, PreflightFile};
use crate::introspect::mask_url;
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// Where the README explains what to do after a failed migration.
const RECOVERY: &str = "README.md, \"Recovering from a failed migration\"";

pub(super) fn apply(config: &Config, args: &ApplyArgs) -> anyhow::Result<Outcome> {
    let out_dir = config.output_dir_or(args.out.as_deref());
    let directory = out_dir.join(migrations::DIRECTORY);
    let shown = config.display(&directory);
    let migrations = apply::read_migrations(&directory)
        .map_err(|e| anyhow::anyhow!("cannot read migrations in {shown}: {e}"))?;
    if migrations.is_empty() {
        eprintln!("error: no migrations in {shown}; run `gen migrations` first");
        return Ok(Outcome::InputError);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let session = Session {
        config,
        args,
        out_dir: &out_dir,
        shown: &shown,
        masked: mask_url(&args.database_url),
    };
    runtime.block_on(session.run(&migrations))
}

/// One `gen apply`: what it was asked and where things are shown.
struct Session<'a> {
    config: &'a Config,
    args: &'a ApplyArgs,
    out_dir: &'a Path,
    /// The migrations directory as messages show it.
    shown: &'a str,
    masked: String,
}

impl Session<'_> {
    async fn run(&self, migrations: &[Migration]) -> anyhow::Result<Outcome> {
        let mut connection = crate::introspect::connect(&self.args.database_url).await?;
        let outcome = self.run_connected(&mut connection, migrations).await;
        let _ = connection.close().await;
        outcome
    }

    async fn run_connected(
        &self,
        connection: &mut PgConnection,
        migrations: &[Migration],
    ) -> anyhow::Result<Outcome> {
        let masked = &self.masked;
        // A dry run writes nothing and takes no lock: a role with only
        // SELECT can run it.
        if !self.args.dry_run && !apply::lock(connection).await? {
            eprintln!(
                "error: another `gen apply` is running against {masked}; wait for it and rerun"
            );
            return Ok(Outcome::Findings);
        }
        let history = apply::read_history(connection).await?;
        let pending = match apply::pending(migrations, &history) {
            Ok(pending) => pending,
            Err(problems) => {
                self.report_history(&problems);
                return Ok(Outcome::InputError);
            }
        };
        if pending.is_empty() {
            eprintln!(
                "nothing pending: all {} migration(s) in {} are applied to {masked}",
                migrations.len(),
                self.shown
            );
            return Ok(Outcome::Clean);
        }
        if self.args.adopt {
            return self.adopt(connection, &pending).await;
        }
        let files = self.preflight_files(&pending)?;
        let statement_timeout = Duration::from_secs(self.args.statement_timeout);
        let measured = preflight::measure(connection, &files, statement_timeout).await?;
        let blocked = self.report_preflight(&measured);
        if self.args.dry_run {
            let mut out = std::io::stdout().lock();
            for migration in &pending {
                writeln!(out, "-- {}/{}", self.shown, migration.file_name)?;
                out.write_all(migration.sql.as_bytes())?;
            }
            eprintln!(
                "dry run: {} pending migration(s) printed; nothing was executed",
                pending.len()
            );
            return Ok(if blocked {
                Outcome::Findings
            } else {
                Outcome::Clean
            });
        }
        if blocked {
            eprintln!(
                "error: the preflight found rows the pending migrations would fail on or lose (above); nothing was executed"
            );
            return Ok(Outcome::Findings);
        }
        self.apply_pending(connection, &pending).await
    }

    async fn apply_pending(
        &self,
        connection: &mut PgConnection,
        pending: &[&Migration],
    ) -> anyhow::Result<Outcome> {
        apply::set_limits(
            connection,
            Limits {
                lock_timeout: Duration::from_secs(self.args.lock_timeout),
                statement_timeout: Duration::from_secs(self.args.statement_timeout),
            },
        )
        .await?;
        apply::ensure_history(connection).await?;
        for migration in pending {
            match apply::run_migration(connection, migration).await? {
                RunOutcome::Applied {
                    statements,
                    elapsed,
                } => eprintln!(
                    "applied {} {} ({statements} statement(s), {} ms)",
                    migration.version,
                    migration.description,
                    elapsed.as_millis()
                ),
                RunOutcome::Failed(failure) => {
                    self.report_failure(migration, &failure);
                    return Ok(Outcome::Findings);
                }
            }
        }
        eprintln!("applied {} migration(s) to {}", pending.len(), self.masked);
        Ok(Outcome::Clean)
    }

    /// The preflight files of the pending migrations that have one.
    fn preflight_files(&self, pending: &[&Migration]) -> anyhow::Result<Vec<PreflightFile>> {
        let mut files = Vec::new();
        for migration in pending {
            let name = PreflightFile::name_for(&migration.file_name);
            let path = self.out_dir.join(migrations::DIRECTORY).join(&name);
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => anyhow::bail!("cannot read {}/{name}: {e}", self.shown),
            };
            let file = PreflightFile::parse(&text).map_err(|e| {
                anyhow::anyhow!(
                    "{}/{name} cannot be read: {e}; regenerate it with `gen migrations --withdraw` and `gen migrations`",
                    self.shown
                )
            })?;
            files.push(file);
        }
        Ok(files)
    }

    /// Prints the preflight's findings; true when one of them blocks.
    fn report_preflight(&self, measured: &[Measured]) -> bool {
        let accept = self.args.accept_data_loss;
        let mut diagnostics = Vec::new();
        let mut blocked = false;
        let mut counted = 0;
        for m in measured {
            let span = match &m.step.source {
                Some(source) => Span::new(&*source.file, source.line, 1),
                None => Span::new(&format!("{}/{}", self.shown, m.migration), 1, 1),
            };
            for finding in m.findings.iter().filter(|f| f.count > 0) {
                counted += 1;
                let blocks = preflight::blocks(finding, accept);
                blocked |= blocks;
                let code = match finding.hazard {
                    crate::diff::hazard::HazardKind::DataLoss => Code::PreflightDataLoss,
                    _ => Code::PreflightFailsOnData,
                };
                let examples = if finding.examples.is_empty() {
                    String::new()
                } else {
                    format!(" (for example {})", finding.examples.join("; "))
                };
                let message = format!(
                    "{}: {} {}{examples}",
                    m.step.description, finding.count, finding.message
                );
                let help = match (finding.hazard, blocks) {
                    (crate::diff::hazard::HazardKind::DataLoss, true) => {
                        "rerun with --accept-data-loss to lose them, or change the documents and withdraw the migration"
                    }
                    (crate::diff::hazard::HazardKind::DataLoss, false) => {
                        "accepted with --accept-data-loss: they will be lost"
                    }
                    _ => {
                        "fix these rows first, or change the documents (`gen migrations --withdraw`, edit, `gen migrations`)"
                    }
                };
                let diagnostic = if blocks {
                    Diagnostic::error(code, span.clone(), message)
                } else {
                    Diagnostic::warning(code, span.clone(), message)
                };
                diagnostics.push(diagnostic.with_help(help));
            }
            for why in &m.not_measured {
                diagnostics.push(Diagnostic::info(
                    Code::PreflightNotMeasured,
                    span.clone(),
                    format!("{}: not measured: {why}", m.step.description),
                ));
            }
        }
        let options = RenderOptions {
            files: &[],
            color: self.config.color,
            summary: None,
        };
        eprint!(
            "{}",
            diag::render(&diagnostics, diag::Format::Text, &options)
        );
        eprintln!(
            "preflight: {} step(s) measured, {counted} finding(s){}",
            measured.len(),
            if blocked { ", blocking" } else { "" }
        );
        blocked
    }

    fn report_history(&self, problems: &[HistoryProblem]) {
        for problem in problems {
            match problem {
                HistoryProblem::Changed { file_name } => eprintln!(
                    "error: {}/{file_name} was applied to {} with other contents; restore it (git checkout)",
                    self.shown, self.masked
                ),
                HistoryProblem::Failed { version } => eprintln!(
                    "error: migration {version} is recorded as failed in {}'s _sqlx_migrations; it ran without a transaction and stopped half-way: repair the database by hand, then delete that row",
                    self.masked
                ),
                HistoryProblem::Missing { version } => eprintln!(
                    "error: migration {version} is applied to {} but its file is not in {}",
                    self.masked, self.shown
                ),
            }
        }
    }

    fn report_failure(&self, migration: &Migration, failure: &StatementFailure) {
        let rolled_back = if migration.no_transaction {
            "it ran without a transaction: the statements before this one stay applied"
        } else {
            "it was rolled back: nothing of it was applied"
        };
        eprintln!(
            "error: {}/{}:{}: migration {} failed; {rolled_back}",
            self.shown, migration.file_name, failure.line, migration.version
        );
        eprintln!("  ERROR: {}", failure.message);
        if let Some(detail) = &failure.detail {
            eprintln!("  DETAIL: {detail}");
        }
        if let Some(hint) = &failure.hint {
            eprintln!("  HINT: {hint}");
        }
        eprintln!("  statement: {}", failure.statement);
        eprintln!(
            "help: fix the rows, or withdraw the migration (`gen migrations --withdraw --database-url URL`), fix the documents, and run `gen migrations` and `gen apply` again; see {RECOVERY}"
        );
    }

    /// Records the pending migrations as applied when the database already
    /// has the newest migration's schema.
    async fn adopt(
        &self,
        connection: &mut PgConnection,
        pending: &[&Migration],
    ) -> anyhow::Result<Outcome> {
        let snapshot_path = self.out_dir.join(migrations::SNAPSHOT);
        let text = std::fs::read_to_string(&snapshot_path).map_err(|e| {
            anyhow::anyhow!("cannot read {}: {e}", self.config.display(&snapshot_path))
        })?;
        let snapshot = migrations::read_snapshot(&text)?;
        let drift =
            super::check::live_drift(self.config, &self.args.database_url, &snapshot).await?;
        if !drift.is_empty() {
            let options = RenderOptions {
                files: &[],
                color: self.config.color,
                summary: None,
            };
            eprint!("{}", diag::render(&drift, diag::Format::Text, &options));
            eprintln!(
                "error: {} does not match the schema of the migrations in {} ({} difference(s) above); nothing was recorded",
                self.masked,
                self.shown,
                drift.len()
            );
            return Ok(Outcome::Findings);
        }
        apply::record_adopted(connection, pending).await?;
        for migration in pending {
            eprintln!(
                "adopted {} {} (recorded as applied, not run)",
                migration.version, migration.description
            );
        }
        eprintln!(
            "adopted {} migration(s): {} matches their schema",
            pending.len(),
            self.masked
        );
        Ok(Outcome::Clean)
    }
}
