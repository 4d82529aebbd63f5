//! Talking to a live database safely, through the real `gen` binary and
//! real sockets: `gen check`, `gen diff` and `gen apply` give up on a server
//! that accepts the connection and never answers, within the connect
//! timeout (the flag, or the URL's `connect_timeout`), naming the host and
//! port; a URL that is not PostgreSQL's is refused without connecting; and
//! no message shows the password, in whichever form the URL holds it.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A server that accepts every connection and never writes a byte: what a
/// wrong port, a stuck proxy or an overloaded server looks like. The
/// accepted sockets stay open (a closed one would fail fast, not hang).
fn silent_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

/// `gen` in the repository (its default documents), without the
/// environment's `DATABASE_URL`.
fn gen_command() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_gen"));
    command
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL");
    command
}

/// How one run of `gen` ended.
struct Run {
    code: Option<i32>,
    /// stdout and stderr together: a password must be in neither.
    all: String,
    elapsed: Duration,
}

fn run(command: &mut std::process::Command) -> Run {
    let started = Instant::now();
    let output = command.output().unwrap();
    Run {
        code: output.status.code(),
        all: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
        elapsed: started.elapsed(),
    }
}

const COMMANDS: [&str; 3] = ["check", "diff", "apply"];

/// Runs one of the three commands that connect against `url`. `apply` gets
/// an output directory with one migration, so that it gets as far as
/// connecting.
fn run_connecting(command: &str, url: &str, extra: &[&str]) -> Run {
    let out = tempfile::tempdir().unwrap();
    std::fs::create_dir(out.path().join("migrations")).unwrap();
    std::fs::write(
        out.path().join("migrations/20260101000000_one.up.sql"),
        "SELECT 1;\n",
    )
    .unwrap();
    let mut gen_run = gen_command();
    gen_run.args([command, "--database-url", url]);
    if command == "apply" {
        gen_run.arg("--out").arg(out.path());
    }
    run(gen_run.args(extra))
}

/// Runs every command against a silent server and checks that each failed
/// within the 2 s timeout plus a second, with exit 2, naming the endpoint
/// and the limit, and never showing `secret` or `hunter22`.
fn assert_every_command_times_out(
    commands: &[&str],
    url_of: impl Fn(u16) -> String,
    extra: &[&str],
) {
    for command in commands {
        let port = silent_server();
        let Run { code, all, elapsed } = run_connecting(command, &url_of(port), extra);
        let timeout = Duration::from_secs(2);
        assert_eq!(code, Some(2), "gen {command}: {all}");
        assert!(
            elapsed >= timeout - Duration::from_millis(100)
                && elapsed < timeout + Duration::from_secs(1),
            "gen {command} took {elapsed:?}: {all}"
        );
        assert!(
            all.contains(&format!("127.0.0.1:{port}")),
            "gen {command}: {all}"
        );
        assert!(
            all.contains("within 2 s (connect timeout)"),
            "gen {command}: {all}"
        );
        assert!(all.contains("--connect-timeout"), "gen {command}: {all}");
        for secret in ["secret", "hunter22"] {
            assert!(!all.contains(secret), "gen {command} shows {secret}: {all}");
        }
        eprintln!("gen {command} {extra:?}: failed after {elapsed:?}");
    }
}

#[test]
fn every_command_gives_up_on_a_silent_server_after_connect_timeout() {
    assert_every_command_times_out(
        &COMMANDS,
        |port| format!("postgres://u:secret@127.0.0.1:{port}/db"),
        &["--connect-timeout", "2"],
    );
}

#[test]
fn the_urls_connect_timeout_applies_without_the_flag() {
    assert_every_command_times_out(
        &COMMANDS,
        |port| format!("postgres://u:secret@127.0.0.1:{port}/db?connect_timeout=2"),
        &[],
    );
}

#[test]
fn the_flag_wins_over_the_urls_connect_timeout() {
    assert_every_command_times_out(
        &["check"],
        |port| format!("postgresql://u:secret@127.0.0.1:{port}/db?connect_timeout=60"),
        &["--connect-timeout", "2"],
    );
}

#[test]
fn a_password_in_the_query_is_masked() {
    assert_every_command_times_out(
        &COMMANDS,
        |port| format!("postgres://u@127.0.0.1:{port}/db?password=hunter22"),
        &["--connect-timeout", "2"],
    );
}

#[test]
fn messages_that_repeat_the_url_mask_every_form_of_the_password() {
    // A port nobody listens on: the error repeats the URL.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    for url in [
        format!("postgres://u@127.0.0.1:{port}/db?sslmode=disable&password=hunter22"),
        format!("postgres://u:hunter22@127.0.0.1:{port}/db?sslmode=disable"),
        format!("postgres://u:hunter%32%32@127.0.0.1:{port}/db?sslmode=disable"),
        format!("postgres://u@127.0.0.1:{port}/db?password=hunter22&connect_timeout=soon"),
        "mysql://u@localhost/db?password=hunter22".to_owned(),
    ] {
        for command in COMMANDS {
            let Run { code, all, .. } = run_connecting(command, &url, &[]);
            assert_eq!(code, Some(2), "gen {command} {url}: {all}");
            assert!(!all.contains("hunter"), "gen {command} {url}: {all}");
            assert!(all.contains("***"), "gen {command} {url}: {all}");
        }
    }
}

#[test]
fn the_database_url_variable_is_masked_too() {
    let port = silent_server();
    let url = format!("postgres://u:secret@127.0.0.1:{port}/db?connect_timeout=2");
    let Run { code, all, elapsed } = run(gen_command().env("DATABASE_URL", url).arg("check"));
    assert_eq!(code, Some(2), "{all}");
    assert!(elapsed < Duration::from_secs(3), "{all}");
    assert!(!all.contains("secret"), "{all}");
}

#[test]
fn a_url_that_is_not_postgresql_is_refused_without_connecting() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    for url in [
        "mysql://u:p@localhost/db".to_owned(),
        format!("mysql://u:p@127.0.0.1:{port}/db"),
        format!("http://127.0.0.1:{port}/db"),
    ] {
        let scheme = url.split_once(':').unwrap().0;
        for command in COMMANDS {
            let Run { code, all, .. } = run_connecting(command, &url, &[]);
            assert_eq!(code, Some(2), "gen {command} {url}: {all}");
            assert!(all.contains(&format!("`{scheme}`")), "gen {command}: {all}");
            assert!(
                all.contains("postgres://") && all.contains("postgresql://"),
                "gen {command}: {all}"
            );
            assert!(!all.contains("u:p@"), "gen {command}: {all}");
        }
    }
    // Had any command connected, the kernel would hold the connection for
    // `accept`.
    listener.set_nonblocking(true).unwrap();
    let pending = listener.accept();
    assert!(
        pending
            .as_ref()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
        "something connected: {pending:?}"
    );
}

#[test]
fn help_documents_the_connect_timeout() {
    for command in COMMANDS {
        let Run { code, all, .. } = run(gen_command().args([command, "--help"]));
        assert_eq!(code, Some(0), "{all}");
        assert!(
            all.contains("--connect-timeout <SECONDS>"),
            "gen {command}: {all}"
        );
        assert!(all.contains("connect_timeout"), "gen {command}: {all}");
    }
}
