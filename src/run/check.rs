//! `gen check` and `gen diff`, the CLI side. With a database URL, the live
//! catalog is introspected into a `Schema` and diffed against the realised
//! documents with the ordinary change engine (`diff_with`, live spelling);
//! `gen check` reports the changes as drift items at the documents' lines,
//! `gen diff` renders them as SQL through `diff.sql.tera`. Without a URL,
//! `gen check` re-renders every output in memory and compares it with what
//! is committed under the output directory.

use super::{
    Outcome, load_for_generation, plan_paths, read_existing, read_optional, render, templates,
};
use crate::cli::{CheckArgs, Config, DiffArgs, LiveArgs};
use crate::diag::{self, Diagnostic, Format, RenderOptions};
use crate::diff::drift::{DriftItem, drift_items};
use crate::diff::hazard::HazardKind;
use crate::diff::live::comparable_live;
use crate::diff::report::{DriftSummary, by_table};
use crate::diff::{Change, DiffOptions, diff_with};
use crate::emit::migrations::{self, AllowedHazards, MigrationRequest};
use crate::emit::sql::{DestructiveSteps, diff_script};
use crate::emit::stale::stale_output;
use crate::emit::{EmitContext, Emitter};
use crate::introspect::{IntrospectOptions, introspect, validate_url};
use crate::model::Schema;
use crate::model::stages::Realized;
use crate::project::Project;
use std::io::Write;
use std::time::Duration;

pub(super) fn check(config: &Config, args: &CheckArgs) -> anyhow::Result<Outcome> {
    match &args.database_url {
        Some(url) if !url.trim().is_empty() => check_live(config, args, url),
        _ => check_outputs(config, args),
    }
}

/// The documented schema as migrations would create it, and the live one
/// read from the database, ready to diff.
struct Compared {
    project: Project,
    live: Realized,
    options: DiffOptions,
}

fn read_both(
    config: &Config,
    url: &str,
    live_args: &LiveArgs,
) -> anyhow::Result<Result<Compared, Outcome>> {
    // A URL that is not PostgreSQL's is refused before the documents are read.
    validate_url(url)?;
    let mut introspect_options = IntrospectOptions {
        schemas: live_args.schemas.clone(),
        statement_timeout: Duration::from_secs(live_args.statement_timeout.max(1)),
        connect: live_args.connect.options(),
        ..IntrospectOptions::default()
    };
    introspect_options
        .ignored_tables
        .extend(config.settings.overrides.ignore_tables.iter().cloned());
    // The database answers while the documents are read: the two take
    // about as long, and neither needs the other until the diff.
    let url_owned = url.to_owned();
    let reading = std::thread::spawn(move || -> anyhow::Result<Schema> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(runtime.block_on(introspect(&url_owned, &introspect_options))?)
    });
    let project = match load_for_generation(config)? {
        Ok(project) => project,
        Err(outcome) => return Ok(Err(outcome)),
    };
    let live = reading
        .join()
        .map_err(|_| anyhow::anyhow!("reading the database panicked"))??;
    let live = comparable_live(live, project.realized());
    Ok(Ok(Compared {
        project,
        live,
        options: DiffOptions::live(!live_args.ignore_comments),
    }))
}

impl Compared {
    /// The changes that bring the database to the documents.
    fn changes(&self) -> Vec<Change> {
        diff_with(&self.live, self.project.realized(), &self.options)
    }
}

fn check_live(config: &Config, args: &CheckArgs, url: &str) -> anyhow::Result<Outcome> {
    let compared = match read_both(config, url, &args.live)? {
        Ok(compared) => compared,
        Err(outcome) => return Ok(outcome),
    };
    let changes = compared.changes();
    let items = drift_items(&changes, &compared.live, compared.project.realized());
    let summary = DriftSummary::of(&items);
    let render_options = RenderOptions {
        files: &crate::source::file_texts(compared.project.files()),
        color: config.color,
        summary: None,
    };
    let format: Format = args.format.into();
    let out = match format {
        Format::Text => {
            let mut out = String::new();
            for (table, diagnostics) in by_table(&items) {
                out.push_str(&format!("── {table} ({})\n", diagnostics.len()));
                out.push_str(&diag::render(&diagnostics, Format::Text, &render_options));
            }
            out
        }
        Format::Json => {
            let value = serde_json::json!({ "drift": items, "summary": summary });
            let mut out = serde_json::to_string_pretty(&value)?;
            out.push('\n');
            out
        }
        Format::Github | Format::Sarif => {
            let diagnostics: Vec<Diagnostic> = items.iter().map(DriftItem::to_diagnostic).collect();
            diag::render(&diagnostics, format, &render_options)
        }
    };
    std::io::stdout().lock().write_all(out.as_bytes())?;
    eprintln!("{}", summary.line(&crate::introspect::mask_url(url)));
    Ok(if items.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

pub(super) fn diff_command(config: &Config, args: &DiffArgs) -> anyhow::Result<Outcome> {
    let compared = match read_both(config, &args.database_url, &args.live)? {
        Ok(compared) => compared,
        Err(outcome) => return Ok(outcome),
    };
    let changes = compared.changes();
    let destructive = if args.allow_destructive {
        DestructiveSteps::Included
    } else {
        DestructiveSteps::CommentedOut
    };
    let script = diff_script(&changes, destructive, &templates(config)?)?;
    std::io::stdout().lock().write_all(script.text.as_bytes())?;
    eprintln!(
        "gen diff: {} change(s) for {}{}",
        changes.len(),
        crate::introspect::mask_url(&args.database_url),
        if script.left_out > 0 {
            format!(
                ", {} destructive step(s) commented out (--allow-destructive)",
                script.left_out
            )
        } else {
            String::new()
        }
    );
    Ok(Outcome::Clean)
}

/// `gen check` without a URL: are the committed outputs what the documents
/// render to now, and do the migrations capture the documents?
fn check_outputs(config: &Config, args: &CheckArgs) -> anyhow::Result<Outcome> {
    let project = match load_for_generation(config)? {
        Ok(project) => project,
        Err(outcome) => return Ok(outcome),
    };
    let out_dir = config.output_dir_or(args.out.as_deref());
    let templates = templates(config)?;
    let context = EmitContext::new(&project, &templates);
    let mut findings = Vec::new();
    let mut checked = 0usize;
    for &emitter in Emitter::ALL {
        for file in render(&context, emitter)? {
            checked += 1;
            let path = out_dir.join(&file.path);
            let on_disk = read_optional(&path)?;
            findings.extend(stale_output(
                emitter,
                &file,
                on_disk.as_deref(),
                &config.display(&path),
            ));
        }
    }
    let existing = read_existing(&out_dir)?;
    let request = MigrationRequest {
        name: "check",
        version: "0",
        allowed: AllowedHazards::of(HazardKind::ALL),
    };
    let paths = plan_paths(config, &out_dir);
    let plan = migrations::plan(&context, &existing, &request)?;
    findings.extend(plan.blockers(&paths));
    findings.extend(plan.behind(&paths));
    diag::sort(&mut findings);
    let render_options = RenderOptions {
        files: &[],
        color: config.color,
        summary: Some(serde_json::json!({ "files_checked": checked, "stale": findings.len() })),
    };
    let out = diag::render(&findings, args.format.into(), &render_options);
    std::io::stdout().lock().write_all(out.as_bytes())?;
    if findings.is_empty() {
        eprintln!(
            "up to date: {checked} file(s) in {} and the migrations match the documents",
            paths.output
        );
        Ok(Outcome::Clean)
    } else {
        eprintln!(
            "stale: {} finding(s) in {} ({checked} file(s) checked)",
            findings.len(),
            paths.output
        );
        Ok(Outcome::Findings)
    }
}
