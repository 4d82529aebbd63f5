//! `gen check` against `pg_dump --schema-only` on the same database: a
//! synthetic corpus of 1,000 documented tables (`GEN_BENCH_CHECK_TABLES`),
//! migrated into a throwaway PostgreSQL 15 cluster (or the server named by
//! GEN_TEST_DATABASE_URL). Both commands run as whole processes, after one
//! warm-up, `GEN_BENCH_RUNS` times (default 7); the medians are printed with
//! their ratio. The target is a ratio of at most 0.5.
//!
//! Run with `cargo bench --bench check_vs_pg_dump`.

#[path = "../tests/support/db.rs"]
#[allow(dead_code)]
mod db;

use schemagen::synth::{SynthOptions, generate};
use std::process::Command;
use std::time::{Duration, Instant};

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn time(runs: usize, mut command: impl FnMut() -> Command) -> Duration {
    let mut warm_up = command();
    let status = warm_up.status().expect("the command starts");
    assert!(status.success() || status.code() == Some(1), "{status}");
    let times = (0..runs)
        .map(|_| {
            let mut c = command();
            let start = Instant::now();
            let output = c.output().expect("the command starts");
            let elapsed = start.elapsed();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            elapsed
        })
        .collect();
    median(times)
}

fn pg_dump() -> String {
    let versioned = "/usr/lib/postgresql/15/bin/pg_dump";
    if std::path::Path::new(versioned).exists() {
        versioned.to_owned()
    } else {
        "pg_dump".to_owned()
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let tables: usize = std::env::var("GEN_BENCH_CHECK_TABLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let runs: usize = std::env::var("GEN_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    let docs = tempfile::tempdir().unwrap();
    for (name, text) in generate(&SynthOptions { tables, seed: 1 }).files {
        std::fs::write(docs.path().join(name), text).unwrap();
    }
    let docs_path = docs.path().to_str().unwrap().to_owned();
    let gen_binary = env!("CARGO_BIN_EXE_gen");
    let sql = Command::new(gen_binary)
        .args(["sql", "--target", "postgres", "--docs", &docs_path])
        .output()
        .unwrap();
    assert!(
        sql.status.success(),
        "{}",
        String::from_utf8_lossy(&sql.stderr)
    );
    let database = db::fresh_db().await;
    database.run(&String::from_utf8(sql.stdout).unwrap()).await;
    let url = database.url.clone();

    let check = time(runs, || {
        let mut c = Command::new(gen_binary);
        c.args(["check", "--database-url", &url, "--docs", &docs_path]);
        c
    });
    let dump = time(runs, || {
        let mut c = Command::new(pg_dump());
        c.args(["--schema-only", "--file", "/dev/null", &url]);
        c
    });
    let ratio = check.as_secs_f64() / dump.as_secs_f64();
    println!(
        "{tables} documented tables, median of {runs}: gen check {:.0} ms, pg_dump --schema-only {:.0} ms, ratio {ratio:.2} (target <= 0.50: {})",
        check.as_secs_f64() * 1000.0,
        dump.as_secs_f64() * 1000.0,
        if ratio <= 0.5 { "met" } else { "missed" }
    );
}
