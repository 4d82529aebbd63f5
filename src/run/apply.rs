//! `gen apply`, the CLI side: reads the migrations, their preflight files
//! and (for `--adopt`) the snapshot, runs `apply::session`, and renders its
//! report: findings at the documentation line behind each step on stderr,
//! `--dry-run`'s SQL on stdout. Exit 1 when the preflight blocks, a
//! migration fails or adopt finds drift; 2 when the input is wrong.

use super::Outcome;
use crate::apply::session::{self, AfterPreflight, Mode, Report, Request};
use crate::apply::{self, Limits, Migration};
use crate::cli::{ApplyArgs, Config};
use crate::diag::{self, Diagnostic, RenderOptions};
use crate::emit::migrations;
use crate::introspect::mask_url;
use std::io::Write;
use std::time::Duration;

pub(super) fn apply(config: &Config, args: &ApplyArgs) -> anyhow::Result<Outcome> {
    // A URL that is not PostgreSQL's is refused before anything is read.
    crate::introspect::validate_url(&args.database_url)?;
    let out_dir = config.output_dir_or(args.out.as_deref());
    let directory = out_dir.join(migrations::DIRECTORY);
    let shown = config.display(&directory);
    let migrations = apply::read_migrations(&directory)
        .map_err(|e| anyhow::anyhow!("cannot read migrations in {shown}: {e}"))?;
    if migrations.is_empty() {
        eprintln!("error: no migrations in {shown}; run `gen migrations` first");
        return Ok(Outcome::InputError);
    }
    let preflight = apply::read_preflight_files(&directory, &migrations)
        .map_err(|e| anyhow::anyhow!("{shown}/{e}"))?;
    // Adopt compares the database with the newest migration's schema.
    let expected = if args.adopt {
        let path = out_dir.join(migrations::SNAPSHOT);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", config.display(&path)))?;
        Some(migrations::read_snapshot(&text)?)
    } else {
        None
    };
    let mode = match (args.dry_run, args.adopt) {
        (true, _) => Mode::DryRun,
        (_, true) => Mode::Adopt,
        _ => Mode::Apply,
    };
    let request = Request {
        url: &args.database_url,
        connect: args.connect.options(),
        migrations: &migrations,
        preflight: &preflight,
        mode,
        accept_data_loss: args.accept_data_loss,
        limits: Limits {
            lock_timeout: Duration::from_secs(args.lock_timeout),
            statement_timeout: Duration::from_secs(args.statement_timeout),
        },
        expected: expected.as_ref(),
        ignored_tables: &config.settings.overrides.ignore_tables,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(session::run(&request))?;
    let masked = mask_url(&args.database_url);
    let print = |diagnostics: &[Diagnostic]| {
        let options = RenderOptions {
            files: &[],
            color: config.color,
            summary: None,
        };
        eprint!(
            "{}",
            diag::render(diagnostics, diag::Format::Text, &options)
        );
    };
    Ok(match report {
        Report::Locked => {
            eprintln!("error: another `gen apply` is running against {masked}; rerun when it ends");
            Outcome::Findings
        }
        Report::History(problems) => {
            for problem in &problems {
                eprintln!("error: {}", problem.message(&shown, &masked));
            }
            Outcome::InputError
        }
        Report::NothingPending { applied } => {
            eprintln!(
                "nothing pending: the {applied} migration(s) in {shown} are applied to {masked}"
            );
            Outcome::Clean
        }
        Report::AdoptRefused(drift) => {
            print(&drift);
            eprintln!(
                "error: {masked} does not match the schema of the migrations in {shown} ({} difference(s) above); nothing was recorded",
                drift.len()
            );
            Outcome::Findings
        }
        Report::Adopted(adopted) => {
            for m in &adopted {
                eprintln!(
                    "adopted {} {} (recorded as applied, not run)",
                    m.version, m.description
                );
            }
            eprintln!(
                "adopted {} migration(s): {masked} matches their schema",
                adopted.len()
            );
            Outcome::Clean
        }
        Report::Preflight {
            measured,
            blocked,
            then,
        } => {
            print(&apply::preflight::diagnostics(
                &measured,
                args.accept_data_loss,
                &shown,
            ));
            eprintln!(
                "preflight: {} step(s) measured{}",
                measured.len(),
                if blocked {
                    "; blocking findings above"
                } else {
                    ""
                }
            );
            after_preflight(*then, blocked, args.dry_run, &shown, &masked)?
        }
    })
}

fn after_preflight(
    then: AfterPreflight,
    blocked: bool,
    dry_run: bool,
    shown: &str,
    masked: &str,
) -> anyhow::Result<Outcome> {
    let report_applied = |applied: &[(Migration, usize, Duration)]| {
        for (m, statements, elapsed) in applied {
            eprintln!(
                "applied {} {} ({statements} statement(s), {} ms)",
                m.version,
                m.description,
                elapsed.as_millis()
            );
        }
    };
    Ok(match then {
        AfterPreflight::NotRun(pending) if dry_run => {
            let mut out = std::io::stdout().lock();
            for m in &pending {
                writeln!(out, "-- {shown}/{}", m.file_name)?;
                out.write_all(m.sql.as_bytes())?;
            }
            eprintln!(
                "dry run: {} pending migration(s) printed; nothing was executed",
                pending.len()
            );
            if blocked {
                Outcome::Findings
            } else {
                Outcome::Clean
            }
        }
        AfterPreflight::NotRun(_) => {
            eprintln!(
                "error: the preflight found rows the pending migrations would fail on or lose; nothing was executed"
            );
            Outcome::Findings
        }
        AfterPreflight::Applied(applied) => {
            report_applied(&applied);
            eprintln!("applied {} migration(s) to {masked}", applied.len());
            Outcome::Clean
        }
        AfterPreflight::Failed {
            applied,
            migration,
            failure,
        } => {
            report_applied(&applied);
            let rolled_back = if migration.no_transaction {
                "it ran without a transaction: the statements before this one stay applied"
            } else {
                "it was rolled back: nothing of it was applied"
            };
            eprintln!(
                "error: {shown}/{}:{}: migration {} failed; {rolled_back}",
                migration.file_name, failure.line, migration.version
            );
            for line in failure.lines() {
                eprintln!("  {line}");
            }
            eprintln!("help: {}", migrations::recovery_help(&migration.sql));
            Outcome::Findings
        }
    })
}
