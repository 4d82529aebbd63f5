//! One `gen apply` against one database, as a typed outcome: connect, take
//! the migration lock, read the history, and then either adopt (a drift
//! check, then the history is recorded), or run the preflight and, when
//! nothing blocks, the pending migrations (or only print them, for a dry
//! run). The shell renders the [`Report`]; nothing here prints.

use super::preflight::{self, Measured};
use super::{HistoryProblem, Limits, Migration, RunOutcome, StatementFailure};
use crate::diag::Diagnostic;
use crate::diff::drift::{DriftItem, drift_items};
use crate::diff::live::comparable_live;
use crate::diff::{DiffOptions, diff_with};
use crate::emit::migrations::PreflightFile;
use crate::introspect::{ConnectOptions, IntrospectError, IntrospectOptions, introspect};
use crate::model::stages::Realized;
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use std::time::Duration;

/// What to do once the history says what is pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Preflight, then run.
    Apply,
    /// Preflight, then report the SQL that would run; write nothing.
    DryRun,
    /// Compare the database with the newest migration's schema and record
    /// the pending migrations as applied when they match.
    Adopt,
}

/// What one `gen apply` is asked.
pub struct Request<'a> {
    pub url: &'a str,
    pub connect: ConnectOptions,
    pub migrations: &'a [Migration],
    /// The preflight files of the migrations that have one.
    pub preflight: &'a [PreflightFile],
    pub mode: Mode,
    /// Data-loss findings do not block.
    pub accept_data_loss: bool,
    pub limits: Limits,
    /// For adopt: the schema of the newest migration, and tables the drift
    /// check leaves out.
    pub expected: Option<&'a Realized>,
    pub ignored_tables: &'a [String],
}

/// How it went.
#[derive(Debug)]
pub enum Report {
    /// Another apply holds the lock.
    Locked,
    /// The history and the files disagree.
    History(Vec<HistoryProblem>),
    NothingPending {
        applied: usize,
    },
    /// Adopt: the database does not match, as drift diagnostics.
    AdoptRefused(Vec<Diagnostic>),
    /// Adopt: recorded without running.
    Adopted(Vec<Migration>),
    /// The preflight ran; then what followed.
    Preflight {
        measured: Vec<Measured>,
        blocked: bool,
        then: Box<AfterPreflight>,
    },
}

#[derive(Debug)]
pub enum AfterPreflight {
    /// Blocked, or a dry run: these would have run.
    NotRun(Vec<Migration>),
    /// Every pending migration ran, with its statement count and time.
    Applied(Vec<(Migration, usize, Duration)>),
    /// The ones before ran; this one failed and was rolled back.
    Failed {
        applied: Vec<(Migration, usize, Duration)>,
        migration: Box<Migration>,
        failure: StatementFailure,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Connect(#[from] IntrospectError),
    #[error("talking to {url} failed: {message}")]
    Database { url: String, message: String },
}

/// What can go wrong once connected, before the URL is masked into it.
#[derive(Debug)]
enum Failure {
    Database(sqlx::Error),
    /// Adopt's drift check reads the catalog on connections of its own.
    Introspect(IntrospectError),
}

impl From<sqlx::Error> for Failure {
    fn from(error: sqlx::Error) -> Failure {
        Failure::Database(error)
    }
}

impl From<IntrospectError> for Failure {
    fn from(error: IntrospectError) -> Failure {
        Failure::Introspect(error)
    }
}

impl Failure {
    /// The error as messages show it, with the password of `url` masked.
    fn masked(self, url: &str) -> ApplyError {
        match self {
            Failure::Introspect(error) => ApplyError::Connect(error),
            Failure::Database(error) => ApplyError::Database {
                url: crate::introspect::mask_url(url),
                message: crate::introspect::mask_in(&error.to_string(), url),
            },
        }
    }
}

/// Runs one `gen apply` on a connection of its own.
pub async fn run(request: &Request<'_>) -> Result<Report, ApplyError> {
    let mut connection = crate::introspect::connect_with(request.url, &request.connect).await?;
    let report = run_connected(&mut connection, request).await;
    let _ = connection.close().await;
    report.map_err(|failure| failure.masked(request.url))
}

async fn run_connected(
    connection: &mut PgConnection,
    request: &Request<'_>,
) -> Result<Report, Failure> {
    // A dry run writes nothing and takes no lock: a role with only SELECT
    // can run it.
    if request.mode != Mode::DryRun && !super::lock(connection).await? {
        return Ok(Report::Locked);
    }
    let history = super::read_history(connection).await?;
    let pending: Vec<Migration> = match super::pending(request.migrations, &history) {
        Ok(pending) => pending.into_iter().cloned().collect(),
        Err(problems) => return Ok(Report::History(problems)),
    };
    if pending.is_empty() {
        return Ok(Report::NothingPending {
            applied: history.len(),
        });
    }
    if request.mode == Mode::Adopt {
        return adopt(connection, request, pending).await;
    }
    let files: Vec<PreflightFile> = request
        .preflight
        .iter()
        .filter(|f| pending.iter().any(|m| m.file_name == f.migration))
        .cloned()
        .collect();
    let measured = preflight::measure(connection, &files, request.limits.statement_timeout).await?;
    let blocked = measured.iter().any(|m| {
        m.not_measured.iter().any(|u| u.blocks)
            || m.findings
                .iter()
                .any(|f| preflight::blocks(f, request.accept_data_loss))
    });
    let then = if blocked || request.mode == Mode::DryRun {
        AfterPreflight::NotRun(pending)
    } else {
        apply_pending(connection, request.limits, pending).await?
    };
    Ok(Report::Preflight {
        measured,
        blocked,
        then: Box::new(then),
    })
}

async fn apply_pending(
    connection: &mut PgConnection,
    limits: Limits,
    pending: Vec<Migration>,
) -> Result<AfterPreflight, Failure> {
    super::set_limits(connection, limits).await?;
    super::ensure_history(connection).await?;
    let mut applied = Vec::new();
    for migration in pending {
        match super::run_migration(connection, &migration).await? {
            RunOutcome::Applied {
                statements,
                elapsed,
            } => applied.push((migration, statements, elapsed)),
            RunOutcome::Failed(failure) => {
                return Ok(AfterPreflight::Failed {
                    applied,
                    migration: Box::new(migration),
                    failure,
                });
            }
        }
    }
    Ok(AfterPreflight::Applied(applied))
}

async fn adopt(
    connection: &mut PgConnection,
    request: &Request<'_>,
    pending: Vec<Migration>,
) -> Result<Report, Failure> {
    let Some(expected) = request.expected else {
        return Ok(Report::AdoptRefused(Vec::new()));
    };
    let mut options = IntrospectOptions {
        connect: request.connect,
        ..IntrospectOptions::default()
    };
    options
        .ignored_tables
        .extend(request.ignored_tables.iter().cloned());
    let live = introspect(request.url, &options).await?;
    let live = comparable_live(live, expected);
    let changes = diff_with(&live, expected, &DiffOptions::live(true));
    if !changes.is_empty() {
        let items = drift_items(&changes, &live, expected);
        return Ok(Report::AdoptRefused(
            items.iter().map(DriftItem::to_diagnostic).collect(),
        ));
    }
    let refs: Vec<&Migration> = pending.iter().collect();
    super::record_adopted(connection, &refs).await?;
    Ok(Report::Adopted(pending))
}

/// Whether the history of the database at `url` has `version`: `None`
/// when it does not, `Some(true)` applied, `Some(false)` recorded as failed.
pub async fn recorded(
    url: &str,
    version: i64,
    connect: &ConnectOptions,
) -> Result<Option<bool>, ApplyError> {
    let mut connection = crate::introspect::connect_with(url, connect).await?;
    let history = super::read_history(&mut connection).await;
    let _ = connection.close().await;
    let history = history.map_err(|e| Failure::from(e).masked(url))?;
    Ok(history.get(&version).map(|applied| applied.success))
}
