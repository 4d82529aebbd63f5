//! `gen check` and `gen diff`, the CLI side. With a database URL, the live
//! catalog is introspected into a `Schema` and diffed against the realised
//! documents with the ordinary change engine (`diff_with`, live spelling);
//! `gen check` reports the changes as drift items at the documents' lines,
//! `gen diff` renders them as SQL through `diff.sql.tera`. Without a URL,
//! `gen check` re-renders every output in memory and compares it with what
//! is committed under the output directory.

use super::{Outcome, load_for_generation, read_existing, render};
use crate::Loaded;
use crate::cli::{CheckArgs, Config, DiffArgs, LiveArgs};
use crate::diag::{self, Code, Diagnostic, Format, RenderOptions, Span};
use crate::diff::drift::{DriftItem, drift_items};
use crate::diff::{Change, DiffOptions, diff_with};
use crate::emit::migrations::{self, MigrationError, MigrationRequest, Plan};
use crate::emit::sql::ChangeSummary;
use crate::emit::{Emitter, Templates};
use crate::introspect::{IntrospectOptions, introspect};
use crate::model::Schema;
use crate::model::physical::realize;
use serde::Serialize;
use std::collections::BTreeMap;
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
    loaded: Loaded,
    documented: Schema,
    live: Schema,
    options: DiffOptions,
}

fn read_both(
    config: &Config,
    url: &str,
    live_args: &LiveArgs,
) -> anyhow::Result<Result<Compared, Outcome>> {
    let mut introspect_options = IntrospectOptions {
        schemas: live_args.schemas.clone(),
        statement_timeout: Duration::from_secs(live_args.statement_timeout.max(1)),
        ..IntrospectOptions::default()
    };
    introspect_options
        .ignored_tables
        .extend(config.file.overrides.ignore_tables.iter().cloned());
    // The database answers while the documents are read: the two take
    // about as long, and neither needs the other until the diff.
    let url_owned = url.to_owned();
    let reading = std::thread::spawn(move || -> anyhow::Result<Schema> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(runtime.block_on(introspect(&url_owned, &introspect_options))?)
    });
    let loaded = match load_for_generation(config)? {
        Ok(loaded) => loaded,
        Err(outcome) => return Ok(Err(outcome)),
    };
    let (documented, _) = realize(&loaded.schema, &config.emit_options().realize);
    let mut live = reading
        .join()
        .map_err(|_| anyhow::anyhow!("reading the database panicked"))??;
    // Platforms install extensions of their own (Supabase has a dozen); one
    // the documents do not mention is neither drift nor something to drop.
    live.extensions
        .retain(|name, _| documented.extensions.contains_key(name));
    Ok(Ok(Compared {
        loaded,
        documented,
        live,
        options: DiffOptions::live(!live_args.ignore_comments),
    }))
}

impl Compared {
    /// The changes that bring the database to the documents.
    fn changes(&self) -> Vec<Change> {
        diff_with(&self.live, &self.documented, &self.options)
    }
}

#[derive(Serialize)]
struct DriftSummary {
    items: usize,
    tables: usize,
    by_kind: BTreeMap<&'static str, usize>,
}

fn check_live(config: &Config, args: &CheckArgs, url: &str) -> anyhow::Result<Outcome> {
    let compared = match read_both(config, url, &args.live)? {
        Ok(compared) => compared,
        Err(outcome) => return Ok(outcome),
    };
    let changes = compared.changes();
    let items = drift_items(&changes, &compared.live, &compared.documented);
    let mut by_kind = BTreeMap::new();
    for item in &items {
        *by_kind.entry(item.kind.code()).or_insert(0) += 1;
    }
    let summary = DriftSummary {
        items: items.len(),
        tables: items
            .iter()
            .map(DriftItem::table)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        by_kind,
    };
    let masked = crate::introspect::mask_url(url);
    let summary_line = if items.is_empty() {
        format!("no drift: {masked} matches the documents\n")
    } else {
        format!(
            "drift: {} item(s) in {} table(s) of {masked}; `gen diff` prints the SQL that repairs it\n",
            summary.items, summary.tables
        )
    };
    let render_options = RenderOptions {
        files: &compared.loaded.files,
        color: config.color,
        summary: None,
    };
    let out = match args.format {
        Format::Text => {
            let mut out = String::new();
            let mut groups: BTreeMap<String, Vec<Diagnostic>> = BTreeMap::new();
            for item in &items {
                groups
                    .entry(item.table())
                    .or_default()
                    .push(item.to_diagnostic());
            }
            for (table, diagnostics) in groups {
                out.push_str(&format!("── {table} ({})\n", diagnostics.len()));
                out.push_str(&diag::render(&diagnostics, Format::Text, &render_options));
            }
            out.push_str(&summary_line);
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
            let out = diag::render(&diagnostics, args.format, &render_options);
            eprint!("{summary_line}");
            out
        }
    };
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(if items.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

/// One step of `gen diff`'s script.
#[derive(Serialize)]
struct Step<'a> {
    change: &'a Change,
    /// Destructive and not allowed: printed commented out.
    left_out: bool,
    description: String,
}

pub(super) fn diff_command(config: &Config, args: &DiffArgs) -> anyhow::Result<Outcome> {
    let compared = match read_both(config, &args.database_url, &args.live)? {
        Ok(compared) => compared,
        Err(outcome) => return Ok(outcome),
    };
    let changes = compared.changes();
    let steps: Vec<Step> = changes
        .iter()
        .map(|change| Step {
            change,
            left_out: change.is_destructive() && !args.allow_destructive,
            description: change.describe(),
        })
        .collect();
    let left_out = steps.iter().filter(|s| s.left_out).count();
    let templates = Templates::load(config.templates.as_deref())?;
    let mut context = tera::Context::new();
    context.insert("steps", &steps);
    context.insert("destructive_left_out", &left_out);
    let mut sql = templates.render("diff.sql.tera", &context)?;
    if !sql.ends_with('\n') {
        sql.push('\n');
    }
    std::io::stdout().lock().write_all(sql.as_bytes())?;
    eprintln!(
        "gen diff: {} change(s) for {}{}",
        changes.len(),
        crate::introspect::mask_url(&args.database_url),
        if left_out > 0 {
            format!(", {left_out} destructive step(s) commented out (--allow-destructive)")
        } else {
            String::new()
        }
    );
    Ok(Outcome::Clean)
}

/// `gen check` without a URL: are the committed outputs what the documents
/// render to now, and do the migrations capture the documents?
fn check_outputs(config: &Config, args: &CheckArgs) -> anyhow::Result<Outcome> {
    let loaded = match load_for_generation(config)? {
        Ok(loaded) => loaded,
        Err(outcome) => return Ok(outcome),
    };
    let out_dir = config.output_dir_or(args.out.as_deref());
    let templates = Templates::load(config.templates.as_deref())?;
    let mut findings = Vec::new();
    let mut checked = 0usize;
    for &emitter in Emitter::ALL {
        for file in render(config, &loaded, &templates, emitter)? {
            checked += 1;
            let path = out_dir.join(&file.path);
            let span = Span::new(path.display().to_string(), 1, 1);
            match std::fs::read_to_string(&path) {
                // A checkout with CRLF line endings is not a change.
                Ok(on_disk) if on_disk.replace("\r\n", "\n") == file.contents => {}
                Ok(_) => findings.push(
                    Diagnostic::error(
                        Code::StaleOutput,
                        span,
                        format!(
                            "{} is stale: the documents render it differently",
                            path.display()
                        ),
                    )
                    .with_help(format!(
                        "run `gen all` (or `gen emit {}`) and commit the result",
                        emitter.name()
                    )),
                ),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => findings.push(
                    Diagnostic::error(
                        Code::StaleOutput,
                        span,
                        format!("{} is missing", path.display()),
                    )
                    .with_help("run `gen all` and commit the result"),
                ),
                Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
            }
        }
    }
    let existing = read_existing(&out_dir)?;
    let migrations_dir = out_dir.join(migrations::DIRECTORY);
    let request = MigrationRequest {
        name: "check",
        version: "0",
        allow_destructive: true,
    };
    let migrations_span = Span::new(
        out_dir.join(migrations::SNAPSHOT).display().to_string(),
        1,
        1,
    );
    let planned = migrations::plan(
        &loaded.schema,
        &existing,
        &request,
        &config.emit_options(),
        &templates,
    );
    // The changes no migration captures, if any.
    let behind = planned.map(|plan| match plan {
        Plan::UpToDate => None,
        Plan::Write { summary, .. } => Some(summary),
        Plan::Refused { destructive } => Some(ChangeSummary::of(destructive)),
    });
    match behind {
        Ok(None) => {}
        Ok(Some(summary)) => {
            let steps: Vec<String> = summary.first.iter().map(Change::describe).collect();
            findings.push(
                Diagnostic::error(
                    Code::MigrationsBehind,
                    migrations_span,
                    format!(
                        "the documents changed and no migration in {} captures it: {}{}",
                        migrations_dir.display(),
                        steps.join("; "),
                        if summary.count > summary.first.len() {
                            format!("; and {} more", summary.count - summary.first.len())
                        } else {
                            String::new()
                        }
                    ),
                )
                .with_help("run `gen migrations` (or `gen all`) and commit the new migration"),
            );
        }
        Err(MigrationError::Edited(names)) => {
            for name in names {
                let path = migrations_dir.join(name.split(' ').next().unwrap_or(&name));
                findings.push(
                    Diagnostic::error(
                        Code::MigrationEdited,
                        Span::new(path.display().to_string(), 1, 1),
                        format!(
                            "{} was changed after it was generated",
                            migrations_dir.join(&name).display()
                        ),
                    )
                    .with_help(
                        "restore it (git checkout) and put the change in the documents instead",
                    ),
                );
            }
        }
        Err(other) => return Err(other.into()),
    }
    diag::sort(&mut findings);
    let render_options = RenderOptions {
        files: &[],
        color: config.color,
        summary: Some(serde_json::json!({ "files_checked": checked, "stale": findings.len() })),
    };
    let mut out = diag::render(&findings, args.format, &render_options);
    let summary_line = if findings.is_empty() {
        format!(
            "up to date: {checked} file(s) in {} and the migrations match the documents\n",
            out_dir.display()
        )
    } else {
        format!(
            "stale: {} finding(s) in {} ({checked} file(s) checked)\n",
            findings.len(),
            out_dir.display()
        )
    };
    match args.format {
        Format::Text | Format::Github => out.push_str(&summary_line),
        Format::Json | Format::Sarif => eprint!("{summary_line}"),
    }
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(if findings.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}
