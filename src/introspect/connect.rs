//! Opening a connection to a live database, the one way every command that
//! connects does it (`gen check`, `gen diff`, `gen apply`). A URL whose
//! scheme is not PostgreSQL's is refused before any network traffic (sqlx
//! reads any URL as a PostgreSQL one, so `mysql://…` used to "connect").
//! The whole set-up, TCP, TLS, start-up and authentication, must finish
//! within a connect timeout: sqlx has none of its own, and a server that
//! accepts the connection and never answers would otherwise hang CI.

use super::IntrospectError;
use super::mask::{mask_in, mask_url, percent_decoded};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use std::str::FromStr;
use std::time::Duration;

/// Used when neither the command line nor the URL says: long enough for a
/// TLS handshake across continents, short enough for a CI job to fail fast.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The URL schemes accepted, as libpq accepts them.
const SCHEMES: [&str; 2] = ["postgres", "postgresql"];

/// How long opening a connection may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConnectTimeout {
    /// Nothing said on the command line: the URL's `connect_timeout` (in
    /// seconds, as libpq reads it), or [`DEFAULT_CONNECT_TIMEOUT`].
    #[default]
    FromUrl,
    /// This long, whatever the URL says.
    Within(Duration),
    /// Wait indefinitely, as libpq does for `connect_timeout=0`.
    Unlimited,
}

/// How to open a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConnectOptions {
    pub timeout: ConnectTimeout,
}

impl ConnectOptions {
    /// The timeout that applies to `url`: never [`ConnectTimeout::FromUrl`].
    fn timeout_for(&self, url: &str) -> Result<ConnectTimeout, IntrospectError> {
        Ok(match self.timeout {
            ConnectTimeout::FromUrl => {
                url_connect_timeout(url)?.unwrap_or(ConnectTimeout::Within(DEFAULT_CONNECT_TIMEOUT))
            }
            given => given,
        })
    }
}

/// Checks a connection URL without connecting or reading any file: its
/// scheme is `postgres` or `postgresql`, and its `connect_timeout`, if any,
/// is an integer. Commands call it first, so that a wrong URL is refused
/// before anything else happens.
pub fn validate_url(url: &str) -> Result<(), IntrospectError> {
    let scheme = url
        .split_once(':')
        .map(|(scheme, _)| scheme)
        .filter(|scheme| is_scheme(scheme));
    match scheme {
        Some(scheme) if SCHEMES.iter().any(|s| scheme.eq_ignore_ascii_case(s)) => {}
        Some(scheme) => {
            return Err(IntrospectError::Scheme {
                url: mask_url(url),
                scheme: scheme.to_owned(),
            });
        }
        None => {
            return Err(IntrospectError::Url {
                url: mask_url(url),
                message: "not a URL; expected postgres://user[:password]@host[:port]/database"
                    .to_owned(),
            });
        }
    }
    url_connect_timeout(url)?;
    Ok(())
}

/// RFC 3986: a letter, then letters, digits, `+`, `-` and `.`.
fn is_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The URL's `connect_timeout` query parameter, read as libpq reads it: an
/// integer number of seconds, zero or less meaning no limit; the last one
/// wins when it is repeated. sqlx ignores the parameter, so we read it.
fn url_connect_timeout(url: &str) -> Result<Option<ConnectTimeout>, IntrospectError> {
    let Some((_, query)) = url.split_once('?') else {
        return Ok(None);
    };
    let query = query.split_once('#').map_or(query, |(query, _)| query);
    let mut found = None;
    for pair in query.split('&') {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        if percent_decoded(key) != "connect_timeout" {
            continue;
        }
        let value = percent_decoded(&value.replace('+', " "));
        let seconds: i64 = value.trim().parse().map_err(|_| IntrospectError::Url {
            url: mask_url(url),
            // libpq's wording for the same mistake.
            message: format!(
                "invalid integer value {:?} for connection option \"connect_timeout\"",
                value
            ),
        })?;
        found = Some(match u64::try_from(seconds) {
            Ok(seconds) if seconds > 0 => ConnectTimeout::Within(Duration::from_secs(seconds)),
            _ => ConnectTimeout::Unlimited,
        });
    }
    Ok(found)
}

/// Where a connection goes, for messages: `host:port`, `[::1]:port`, or a
/// Unix socket directory with its port.
fn endpoint(options: &PgConnectOptions) -> String {
    let port = options.get_port();
    match options.get_socket() {
        Some(socket) => format!("{} (Unix socket, port {port})", socket.display()),
        None => {
            let host = options.get_host();
            if host.contains(':') && !host.starts_with('[') {
                format!("[{host}]:{port}")
            } else {
                format!("{host}:{port}")
            }
        }
    }
}

/// Opens one connection: the URL is validated ([`validate_url`]), then
/// connected to within the timeout. The URL's `sslmode` (and `sslrootcert`)
/// are honoured as libpq does; TLS is provided by rustls. Every message
/// masks the password.
pub async fn connect_with(
    url: &str,
    options: &ConnectOptions,
) -> Result<PgConnection, IntrospectError> {
    validate_url(url)?;
    let timeout = options.timeout_for(url)?;
    let connect_options = PgConnectOptions::from_str(url).map_err(|e| IntrospectError::Url {
        url: mask_url(url),
        message: mask_in(&e.to_string(), url),
    })?;
    let connecting = PgConnection::connect_with(&connect_options);
    let connected =
        match timeout {
            ConnectTimeout::Within(limit) => tokio::time::timeout(limit, connecting)
                .await
                .map_err(|_| IntrospectError::ConnectTimeout {
                    endpoint: endpoint(&connect_options),
                    timeout: limit,
                })?,
            // `timeout_for` never gives `FromUrl`; waiting is what both mean
            // once the URL has been read.
            ConnectTimeout::Unlimited | ConnectTimeout::FromUrl => connecting.await,
        };
    connected.map_err(|e| IntrospectError::Connect {
        url: mask_url(url),
        message: mask_in(&e.to_string(), url),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_postgresql_schemes() {
        for url in [
            "postgres://u:p@localhost/db",
            "postgresql://localhost/db",
            "POSTGRES://localhost/db",
            "postgresql:///db?host=/var/run/postgresql",
        ] {
            assert!(validate_url(url).is_ok(), "{url}");
        }
        let error = validate_url("mysql://u:p4ss@localhost/db").unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, IntrospectError::Scheme { .. }), "{message}");
        assert!(message.contains("`mysql`"), "{message}");
        assert!(message.contains("postgres://"), "{message}");
        assert!(message.contains("postgresql://"), "{message}");
        assert!(!message.contains("p4ss"), "{message}");
        for url in [
            "",
            "localhost",
            "/var/run/postgresql",
            "host=db password=p4ss",
        ] {
            let message = validate_url(url).unwrap_err().to_string();
            assert!(message.contains("not a URL"), "{url}: {message}");
            assert!(!message.contains("p4ss"), "{message}");
        }
    }

    #[test]
    fn reads_connect_timeout_as_libpq_does() {
        let read = |url: &str| url_connect_timeout(url).unwrap();
        assert_eq!(read("postgres://h/db"), None);
        assert_eq!(read("postgres://h/db?sslmode=require"), None);
        assert_eq!(
            read("postgres://h/db?connect_timeout=2"),
            Some(ConnectTimeout::Within(Duration::from_secs(2)))
        );
        assert_eq!(
            read("postgres://h/db?sslmode=disable&connect_timeout=%2030&x=1#f"),
            Some(ConnectTimeout::Within(Duration::from_secs(30)))
        );
        assert_eq!(
            read("postgres://h/db?connect_timeout=5&connect_timeout=7"),
            Some(ConnectTimeout::Within(Duration::from_secs(7)))
        );
        assert_eq!(
            read("postgres://h/db?connect_timeout=0"),
            Some(ConnectTimeout::Unlimited)
        );
        assert_eq!(
            read("postgres://h/db?connect_timeout=-1"),
            Some(ConnectTimeout::Unlimited)
        );
        let message = validate_url("postgres://u:p4ss@h/db?connect_timeout=soon")
            .unwrap_err()
            .to_string();
        assert!(message.contains("\"soon\""), "{message}");
        assert!(message.contains("connect_timeout"), "{message}");
        assert!(!message.contains("p4ss"), "{message}");
    }

    #[test]
    fn the_command_line_wins_over_the_url() {
        let url = "postgres://h/db?connect_timeout=3";
        let from_url = ConnectOptions::default();
        assert_eq!(
            from_url.timeout_for(url).unwrap(),
            ConnectTimeout::Within(Duration::from_secs(3))
        );
        assert_eq!(
            from_url.timeout_for("postgres://h/db").unwrap(),
            ConnectTimeout::Within(DEFAULT_CONNECT_TIMEOUT)
        );
        let given = ConnectOptions {
            timeout: ConnectTimeout::Within(Duration::from_secs(20)),
        };
        assert_eq!(given.timeout_for(url).unwrap(), given.timeout);
        let unlimited = ConnectOptions {
            timeout: ConnectTimeout::Unlimited,
        };
        assert_eq!(
            unlimited.timeout_for(url).unwrap(),
            ConnectTimeout::Unlimited
        );
    }

    #[test]
    fn names_the_endpoint() {
        let of = |url: &str| endpoint(&PgConnectOptions::from_str(url).unwrap());
        assert_eq!(
            of("postgres://u:p@db.example.com:5432/app"),
            "db.example.com:5432"
        );
        assert_eq!(of("postgres://u:p@127.0.0.1:6543/app"), "127.0.0.1:6543");
        assert_eq!(of("postgres://[::1]:6543/app"), "[::1]:6543");
        assert_eq!(
            of("postgres:///app?host=/var/run/postgresql&port=5433"),
            "/var/run/postgresql (Unix socket, port 5433)"
        );
    }

    #[test]
    fn the_timeout_message_names_the_endpoint_and_the_limit() {
        let error = IntrospectError::ConnectTimeout {
            endpoint: "db.example.com:5432".to_owned(),
            timeout: Duration::from_secs(10),
        };
        let message = error.to_string();
        assert!(
            message
                .starts_with("cannot connect to db.example.com:5432 within 10 s (connect timeout)"),
            "{message}"
        );
        assert!(message.contains("--connect-timeout"), "{message}");
    }
}
