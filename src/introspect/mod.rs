//! Introspection: a live database's catalog becomes the same `Schema` model
//! that the documents lower to, so that `gen check` and `gen diff` can run
//! the ordinary structural diff against it. Everything is read inside one
//! `READ ONLY` transaction with a `statement_timeout`, with one set-based
//! query per kind of object (never one per table), so a 1,000-table database
//! costs the same handful of round trips as a 10-table one.
//!
//! The model built here is spelled the way PostgreSQL deparses things
//! (`'a'::text`, `= ANY (ARRAY[...])`); `crate::diff::canonical` brings both
//! sides to one spelling before they are compared.
//!
//! Opening connections (`connect`: the scheme check and the connect
//! timeout) and hiding passwords in messages (`mask`) live here too, and
//! `gen apply` uses them, so that every command connects the same way.

mod catalog;
mod connect;
mod mask;

use crate::model::Schema;
use sqlx::Connection;
use std::time::Duration;

pub use catalog::{QueryError, begin_read_only, read_schema};
pub use connect::{
    ConnectOptions, ConnectTimeout, DEFAULT_CONNECT_TIMEOUT, connect_with, validate_url,
};
pub use mask::{mask_in, mask_url};

/// What to read and how long any one query may take.
#[derive(Debug, Clone)]
pub struct IntrospectOptions {
    /// Schemas whose tables are compared with the documents (`public`).
    pub schemas: Vec<String>,
    /// Tables never reported: our own bookkeeping (`_sqlx_migrations`) and
    /// the configuration's `ignore_tables`.
    pub ignored_tables: Vec<String>,
    /// Applied with `SET LOCAL statement_timeout`, so that a catalog query
    /// stuck behind a lock fails instead of hanging CI.
    pub statement_timeout: Duration,
    /// How each of the connections is opened.
    pub connect: ConnectOptions,
}

impl Default for IntrospectOptions {
    fn default() -> Self {
        IntrospectOptions {
            schemas: vec!["public".to_owned()],
            ignored_tables: vec!["_sqlx_migrations".to_owned()],
            statement_timeout: Duration::from_secs(30),
            connect: ConnectOptions::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IntrospectError {
    #[error("invalid database URL {url}: {message}")]
    Url { url: String, message: String },
    #[error(
        "refusing {url}: its scheme is `{scheme}`, and gen talks to PostgreSQL only \
         (postgres:// or postgresql:// URLs)"
    )]
    Scheme { url: String, scheme: String },
    #[error("cannot connect to {url}: {message}")]
    Connect { url: String, message: String },
    /// The endpoint, not the URL: the URL is in the command line already,
    /// and the host and port are what a reader checks first.
    #[error(
        "cannot connect to {endpoint} within {} s (connect timeout): no PostgreSQL server \
         answered in time (TCP, TLS and start-up must all finish); check the host and port, \
         or raise --connect-timeout",
        .timeout.as_secs_f64()
    )]
    ConnectTimeout { endpoint: String, timeout: Duration },
    #[error("reading the catalog of {url} failed ({what}): {message}")]
    Query {
        url: String,
        what: &'static str,
        message: String,
    },
}

/// Connects and reads the schema. The four groups of catalog queries run at
/// once on four connections; the first exports its snapshot and the others
/// adopt it (`SET TRANSACTION SNAPSHOT`, as parallel pg_dump does), so all of
/// them see the same instant, each in its own READ ONLY transaction.
pub async fn introspect(url: &str, options: &IntrospectOptions) -> Result<Schema, IntrospectError> {
    let query_error = |(what, e): QueryError| IntrospectError::Query {
        url: mask_url(url),
        what,
        message: mask_in(&e.to_string(), url),
    };
    // Refused once here rather than four times below.
    validate_url(url)?;
    let connect = || connect_with(url, &options.connect);
    let (mut a, mut b, mut c, mut d) =
        tokio::try_join!(connect(), connect(), connect(), connect())?;
    let timeout = options.statement_timeout;
    let mut first = begin_read_only(&mut a, timeout)
        .await
        .map_err(query_error)?;
    let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut *first)
        .await
        .map_err(|e| query_error(("export the snapshot", e)))?;
    let snapshot = snapshot.as_str();
    let adopt = |connection| async move {
        let mut transaction = begin_read_only(connection, timeout).await?;
        // The snapshot name comes from the server; bound as a literal it
        // cannot be anything but a quoted string.
        let set = format!(
            "SET TRANSACTION SNAPSHOT '{}'",
            snapshot_name(snapshot).ok_or((
                "adopt the snapshot",
                sqlx::Error::Protocol(format!("unexpected snapshot name {snapshot:?}")),
            ))?
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(set))
            .execute(&mut *transaction)
            .await
            .map_err(|e| ("adopt the snapshot", e))?;
        Ok::<_, QueryError>(transaction)
    };
    let (mut second, mut third, mut fourth) =
        tokio::try_join!(adopt(&mut b), adopt(&mut c), adopt(&mut d)).map_err(query_error)?;
    let schemas = &options.schemas;
    let (tables, constraints, indexes, rest) = tokio::try_join!(
        catalog::group_tables(&mut first, schemas),
        catalog::group_constraints(&mut second, schemas),
        catalog::group_indexes(&mut third, schemas),
        catalog::group_rest(&mut fourth, schemas),
    )
    .map_err(query_error)?;
    // Nothing was written; rolling back rather than committing says so.
    for transaction in [first, second, third, fourth] {
        transaction
            .rollback()
            .await
            .map_err(|e| query_error(("end the read-only transaction", e)))?;
    }
    for connection in [a, b, c, d] {
        let _ = connection.close().await;
    }
    let rows = tables.merge(constraints).merge(indexes).merge(rest);
    Ok(catalog::assemble(rows, options))
}

/// A snapshot name as `pg_export_snapshot()` makes them (`00000003-0000001B-1`).
fn snapshot_name(name: &str) -> Option<&str> {
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_hexdigit() || c == '-')).then_some(name)
}
