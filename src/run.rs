//! The command-line shell: arguments in, exit code out. Each command reads
//! what it needs (the project, templates, files under the output
//! directory), calls the library, writes data to stdout and notes to
//! stderr, writes files through the atomic writer (`staging`), and returns
//! an `Outcome` that main maps to an exit code. The same conventions hold
//! for every command and format: the report goes to stdout, the one-line
//! summary and human notes to stderr.

use crate::cli::{
    Cli, Command, Config, LintArgs, MigrationsArgs, ModelFormat, RlsArgs, SchemaArgs,
};
use crate::diag::{self, Diagnostic, RenderOptions, Severity};
use crate::emit::migrations::{self, Existing, MigrationRequest, Plan, PlanPaths, PlanStatus};
use crate::emit::{EmitContext, Emitter, OutputFile, Templates};
use crate::project::Project;
use std::io::Write;
use std::path::Path;

mod all;
mod apply;
mod check;
mod staging;

pub use crate::introspect::mask_url;
pub use staging::{Staging, WriteSummary, write_outputs};

/// How a command ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Clean,
    /// Exit 1: findings at the deny level, drift, or stale outputs.
    Findings,
    /// Exit 2: the input could not be read as intended.
    InputError,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Findings => 1,
            Outcome::InputError => 2,
        }
    }

    /// What a migration plan's status means for the exit code, the same for
    /// `gen migrations`, `gen all` and `gen check`.
    fn of_plan(status: PlanStatus) -> Outcome {
        match status {
            PlanStatus::UpToDate | PlanStatus::Ready => Outcome::Clean,
            PlanStatus::Edited => Outcome::Findings,
            PlanStatus::Refused => Outcome::InputError,
        }
    }
}

pub fn run(cli: &Cli) -> anyhow::Result<Outcome> {
    let config = Config::from_cli(cli)?;
    match &cli.command {
        Command::Schema(args) => schema(&config, args),
        Command::Lint(args) => lint_command(&config, args),
        Command::Sql(_) => sql(&config),
        Command::Migrations(args) => migrations_command(&config, args),
        Command::Apply(args) => apply::apply(&config, args),
        Command::Rls(args) => rls(&config, args),
        Command::All(args) => all::all(&config, args),
        Command::Emit(args) => emit_one(&config, args.emitter.into(), args.out.as_deref()),
        Command::Openapi(args) => emit_one(&config, Emitter::OpenApi, args.out.as_deref()),
        Command::Glossary(args) => emit_one(&config, Emitter::Glossary, args.out.as_deref()),
        Command::Consolidation(args) => {
            emit_one(&config, Emitter::Consolidation, args.out.as_deref())
        }
        Command::Check(args) => check::check(&config, args),
        Command::Diff(args) => check::diff_command(&config, args),
        Command::Models(args) => emit_one(&config, Emitter::Models, args.out.as_deref()),
    }
}

fn load(config: &Config) -> anyhow::Result<Project> {
    Ok(Project::load(&config.settings)?)
}

fn templates(config: &Config) -> anyhow::Result<Templates> {
    Ok(Templates::load(config.templates.as_deref())?)
}

/// Renders diagnostics as text for stderr.
fn render_text(diagnostics: &[Diagnostic], project: &Project, config: &Config) -> String {
    let options = RenderOptions {
        files: &crate::source::file_texts(project.files()),
        color: config.color,
        summary: None,
    };
    diag::render(diagnostics, diag::Format::Text, &options)
}

/// Loads the project and refuses to go on when the documents hold errors:
/// output generated from a document we could not read would be wrong. The
/// errors go to stderr; commands other than `lint` show only what stops
/// them.
fn load_for_generation(config: &Config) -> anyhow::Result<Result<Project, Outcome>> {
    let project = load(config)?;
    if project.has_errors() {
        let errors: Vec<Diagnostic> = project
            .diagnostics()
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .cloned()
            .collect();
        eprint!("{}", render_text(&errors, &project, config));
        eprintln!("error: the documents have errors (above); nothing was generated");
        return Ok(Err(Outcome::InputError));
    }
    Ok(Ok(project))
}

fn schema(config: &Config, args: &SchemaArgs) -> anyhow::Result<Outcome> {
    let project = match load_for_generation(config)? {
        Ok(project) => project,
        Err(outcome) => return Ok(outcome),
    };
    let documented = project.documented();
    let text = match args.format {
        ModelFormat::Yaml => serde_saphyr::to_string(&**documented)?,
        ModelFormat::Json => {
            let mut s = serde_json::to_string_pretty(&**documented)?;
            s.push('\n');
            s
        }
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(Outcome::Clean)
}

fn lint_command(config: &Config, args: &LintArgs) -> anyhow::Result<Outcome> {
    let project = load(config)?;
    let diagnostics = project.diagnostics();
    let summary = project.summary();
    let counts = diag::SeverityCounts::of(diagnostics);
    let options = RenderOptions {
        files: &crate::source::file_texts(project.files()),
        color: config.color,
        summary: Some(serde_json::json!({ "schema": summary, "diagnostics": counts })),
    };
    let out = diag::render(diagnostics, args.format.into(), &options);
    std::io::stdout().lock().write_all(out.as_bytes())?;
    eprintln!(
        "summary: {summary}; {} error(s), {} warning(s), {} info",
        counts.error, counts.warning, counts.info
    );
    if project.has_input_errors() {
        return Ok(Outcome::InputError);
    }
    let deny = args.deny.severity();
    if diagnostics.iter().any(|d| d.severity >= deny) {
        Ok(Outcome::Findings)
    } else {
        Ok(Outcome::Clean)
    }
}

/// Renders one emitter's files in memory.
fn render(context: &EmitContext<'_>, emitter: Emitter) -> anyhow::Result<Vec<OutputFile>> {
    Ok(emitter.render(context)?)
}

fn sql(config: &Config) -> anyhow::Result<Outcome> {
    let project = match load_for_generation(config)? {
        Ok(project) => project,
        Err(outcome) => return Ok(outcome),
    };
    let templates = templates(config)?;
    let context = EmitContext::new(&project, &templates);
    let mut out = std::io::stdout().lock();
    for file in render(&context, Emitter::Sql)? {
        out.write_all(file.contents.as_bytes())?;
    }
    Ok(Outcome::Clean)
}

/// Migration files, the snapshot and the checksums under `dir`.
fn read_existing(dir: &Path) -> anyhow::Result<Existing> {
    let mut existing = Existing::default();
    let migrations = dir.join(migrations::DIRECTORY);
    if migrations.is_dir() {
        for entry in std::fs::read_dir(&migrations)? {
            let path = entry?.path();
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            if name.ends_with(".sql") || name.ends_with(migrations::PREFLIGHT_SUFFIX) {
                existing
                    .migrations
                    .insert(name, std::fs::read_to_string(&path)?);
            }
        }
    }
    existing.snapshot = read_optional(&dir.join(migrations::SNAPSHOT))?;
    existing.previous_snapshot = read_optional(&dir.join(migrations::PREVIOUS_SNAPSHOT))?;
    existing.checksums = read_optional(&dir.join(migrations::CHECKSUMS))?;
    Ok(existing)
}

/// A file's text, or `None` when there is no file at `path`.
fn read_optional(path: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    }
}

/// How the files under an output directory are named in messages.
fn plan_paths(config: &Config, out_dir: &Path) -> PlanPaths {
    PlanPaths::under(&config.display(out_dir))
}

/// Prints what keeps a plan from being written, in the one wording.
fn report_blockers(plan: &Plan, paths: &PlanPaths, config: &Config) {
    report_findings(&plan.blockers(paths), config);
}

/// Prints findings about files under the output directory to stderr.
fn report_findings(findings: &[Diagnostic], config: &Config) {
    let options = RenderOptions {
        files: &[],
        color: config.color,
        summary: None,
    };
    eprint!("{}", diag::render(findings, diag::Format::Text, &options));
}

fn migrations_command(config: &Config, args: &MigrationsArgs) -> anyhow::Result<Outcome> {
    let project = match load_for_generation(config)? {
        Ok(project) => project,
        Err(outcome) => return Ok(outcome),
    };
    let out_dir = config.output_dir_or(args.out.as_deref());
    let existing = read_existing(&out_dir)?;
    if args.withdraw {
        return withdraw(config, args, &out_dir, &existing);
    }
    let templates = templates(config)?;
    let context = EmitContext::new(&project, &templates);
    let version = args
        .timestamp
        .clone()
        .unwrap_or_else(|| chrono::Utc::now().format("%Y%m%d%H%M%S").to_string());
    let request = MigrationRequest {
        name: &args.name,
        version: &version,
        allowed: args.hazards.allowed(),
    };
    let plan = migrations::plan(&context, &existing, &request)?;
    let paths = plan_paths(config, &out_dir);
    report_blockers(&plan, &paths, config);
    match &plan {
        Plan::UpToDate => {
            eprintln!("no changes: the migrations already capture the documents; nothing written");
        }
        Plan::Write { .. } if args.check => {
            report_findings(&Vec::from_iter(plan.behind(&paths)), config);
            return Ok(Outcome::Findings);
        }
        Plan::Write {
            files,
            summary,
            up_name,
            later_parts,
            hazardous,
        } => {
            let written = write_outputs(&out_dir, files)?;
            eprintln!(
                "wrote {up_name} with {} change(s) into {} ({} file(s) written, {} unchanged){}",
                summary.count,
                paths.directory,
                written.written,
                written.unchanged,
                migrations::later_parts_note(later_parts),
            );
            report_hazards(hazardous);
        }
        Plan::Refused { .. } | Plan::Edited(_) => {
            eprintln!("error: nothing was written");
        }
    }
    Ok(Outcome::of_plan(plan.status()))
}

/// The hazards of the steps of a migration just written, to stderr.
fn report_hazards(hazardous: &[crate::diff::hazard::Step]) {
    use crate::diff::hazard::HazardKind;
    for step in hazardous {
        eprintln!("  {}", step.change.describe());
        for hazard in &step.hazards {
            eprintln!("    hazard {}: {}", hazard.kind, hazard.reason);
        }
    }
    let counted = |kind| hazardous.iter().any(|s| s.has(kind));
    if counted(HazardKind::FailsOnData) || counted(HazardKind::DataLoss) {
        eprintln!(
            "note: `gen apply` counts the rows these steps would fail on or lose before it runs anything (`gen apply --dry-run` to see)"
        );
    }
}

/// `gen migrations --withdraw`: removes the newest migration, which must
/// not be applied, and restores the snapshot before it.
fn withdraw(
    config: &Config,
    args: &MigrationsArgs,
    out_dir: &Path,
    existing: &Existing,
) -> anyhow::Result<Outcome> {
    let withdrawal = match migrations::withdraw(existing) {
        Ok(withdrawal) => withdrawal,
        Err(e) => {
            eprintln!("error: cannot withdraw: {e}");
            return Ok(Outcome::InputError);
        }
    };
    match (&args.database_url, args.force) {
        (Some(url), _) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let mut recorded = None;
            for version in &withdrawal.versions {
                let found = runtime.block_on(crate::apply::session::recorded(
                    url,
                    *version,
                    &args.connect.options(),
                ))?;
                recorded = recorded.or(found);
            }
            let why = match recorded {
                None => None,
                Some(true) => Some("it is applied to"),
                Some(false) => Some("it is recorded as failed half-way in"),
            };
            if let Some(why) = why {
                eprintln!(
                    "error: cannot withdraw {}: {why} {}; write a new migration instead (edit the documents, `gen migrations`)",
                    withdrawal.stem,
                    mask_url(url)
                );
                return Ok(Outcome::InputError);
            }
        }
        (None, true) => {}
        (None, false) => {
            eprintln!(
                "error: --withdraw needs --database-url URL, to check that {} is not applied there, or --force",
                withdrawal.stem
            );
            return Ok(Outcome::InputError);
        }
    }
    let mut staging = Staging::new(out_dir);
    for file in &withdrawal.write {
        staging.stage(file)?;
    }
    for relative in &withdrawal.remove {
        staging.remove(relative);
    }
    staging.commit()?;
    let paths = plan_paths(config, out_dir);
    for relative in &withdrawal.remove {
        eprintln!("  removed {}", paths.file(relative));
    }
    let restored = if withdrawal.was_first {
        "it was the first migration, so no snapshot is left".to_owned()
    } else {
        format!("{} is back to the schema before it", paths.snapshot)
    };
    eprintln!(
        "withdrew {}: {restored}; fix the documents and run `gen migrations` again",
        withdrawal.stem
    );
    Ok(Outcome::Clean)
}

fn rls(config: &Config, args: &RlsArgs) -> anyhow::Result<Outcome> {
    let project = match load_for_generation(config)? {
        Ok(project) => project,
        Err(outcome) => return Ok(outcome),
    };
    let templates = templates(config)?;
    let context = EmitContext::new(&project, &templates);
    let files: Vec<OutputFile> = render(&context, Emitter::Rls)?
        .into_iter()
        .filter(|f| args.matrix || f.path.starts_with("rls"))
        .collect();
    let out_dir = config.output_dir_or(args.out.as_deref());
    let summary = write_outputs(&out_dir, &files)?;
    report_written(config, &out_dir, &files, summary);
    Ok(Outcome::Clean)
}

/// `gen emit <name>`: one emitter's files.
fn emit_one(config: &Config, emitter: Emitter, out: Option<&Path>) -> anyhow::Result<Outcome> {
    let project = match load_for_generation(config)? {
        Ok(project) => project,
        Err(outcome) => return Ok(outcome),
    };
    let templates = templates(config)?;
    let context = EmitContext::new(&project, &templates);
    let files = render(&context, emitter)?;
    let out_dir = config.output_dir_or(out);
    let summary = write_outputs(&out_dir, &files)?;
    report_written(config, &out_dir, &files, summary);
    Ok(Outcome::Clean)
}

fn report_written(config: &Config, out_dir: &Path, files: &[OutputFile], summary: WriteSummary) {
    for file in files {
        eprintln!("  {}", config.display(&out_dir.join(&file.path)));
    }
    eprintln!(
        "{} file(s) written, {} unchanged",
        summary.written, summary.unchanged
    );
}
