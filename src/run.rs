//! The commands, on the CLI side of the line: they read files, call the
//! library and write to stdout or disk. Each returns an `Outcome` that main
//! maps to an exit code, or an error (exit 2).

use crate::cli::{
    ApplyArgs, Cli, Command, Config, LintArgs, MigrationsArgs, ModelFormat, RlsArgs, SchemaArgs,
};
use crate::diag::{self, Diagnostic, RenderOptions, Severity};
use crate::emit::migrations::{self, Existing, MigrationError, MigrationRequest, Plan};
use crate::emit::{
    self, EmitContext, EmitError, EmitOptions, Emitter, OutputFile, OutputSink, Templates,
};
use crate::model::Schema;
use crate::model::physical::RealizeOptions;
use crate::{LoadOptions, Loaded, lint};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

mod all;
mod check;

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
}

pub fn run(cli: &Cli) -> anyhow::Result<Outcome> {
    let config = Config::from_cli(cli)?;
    match &cli.command {
        Command::Schema(args) => schema(&config, args),
        Command::Lint(args) => lint_command(&config, args),
        Command::Sql => sql(&config),
        Command::Migrations(args) => migrations_command(&config, args),
        Command::Apply(args) => apply(&config, args),
        Command::Rls(args) => rls(&config, args),
        Command::All(args) => all::all(&config, args),
        Command::Emit(args) => emit_one(&config, args.emitter, args.out.as_deref()),
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

fn load(config: &Config) -> anyhow::Result<Loaded> {
    let options = LoadOptions {
        overrides: config.file.overrides.clone(),
        config_source: config.config_source.clone(),
    };
    Ok(crate::load(&config.docs, &options)?)
}

fn has_input_error(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|d| d.code.is_input_error())
}

/// Prints error-level diagnostics to stderr; commands other than `lint`
/// show only what stops them.
fn report_errors(loaded: &Loaded, config: &Config) {
    let errors: Vec<Diagnostic> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .cloned()
        .collect();
    if errors.is_empty() {
        return;
    }
    let options = RenderOptions {
        files: &crate::source::file_texts(&loaded.files),
        color: config.color,
        summary: None,
    };
    eprint!("{}", diag::render(&errors, diag::Format::Text, &options));
}

fn schema(config: &Config, args: &SchemaArgs) -> anyhow::Result<Outcome> {
    let loaded = load(config)?;
    report_errors(&loaded, config);
    if has_input_error(&loaded.diagnostics) {
        return Ok(Outcome::InputError);
    }
    let text = match args.format {
        ModelFormat::Yaml => serde_yaml::to_string(&loaded.schema)?,
        ModelFormat::Json => {
            let mut s = serde_json::to_string_pretty(&loaded.schema)?;
            s.push('\n');
            s
        }
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(Outcome::Clean)
}

/// Everything `gen lint` reports: reading, lowering, the lint checks, and
/// the checks on the realised schema, in the one stable order.
fn all_diagnostics(config: &Config, loaded: &Loaded) -> Vec<Diagnostic> {
    let (realized, realize_diagnostics) =
        crate::model::physical::realize(&loaded.schema, &config.emit_options().realize);
    diagnostics_of(loaded, &realized, &realize_diagnostics)
}

/// [`all_diagnostics`] with the schema already realised.
fn diagnostics_of(
    loaded: &Loaded,
    realized: &Schema,
    realize_diagnostics: &[Diagnostic],
) -> Vec<Diagnostic> {
    let mut diagnostics = loaded.diagnostics.clone();
    diagnostics.extend(lint::lint(&loaded.schema));
    diagnostics.extend(realize_diagnostics.iter().cloned());
    diagnostics.extend(lint::lint_realized(realized));
    diag::sort(&mut diagnostics);
    diagnostics
}

fn lint_command(config: &Config, args: &LintArgs) -> anyhow::Result<Outcome> {
    let loaded = load(config)?;
    let diagnostics = all_diagnostics(config, &loaded);
    let summary = lint::Summary::of(&loaded.schema);
    let counts = diag::SeverityCounts::of(&diagnostics);
    let options = RenderOptions {
        files: &crate::source::file_texts(&loaded.files),
        color: config.color,
        summary: Some(serde_json::json!({ "schema": summary, "diagnostics": counts })),
    };
    let mut out = diag::render(&diagnostics, args.format, &options);
    let summary_line = format!(
        "summary: {summary}; {} error(s), {} warning(s), {} info\n",
        counts.error, counts.warning, counts.info
    );
    match args.format {
        diag::Format::Text | diag::Format::Github => out.push_str(&summary_line),
        diag::Format::Json | diag::Format::Sarif => eprint!("{summary_line}"),
    }
    std::io::stdout().lock().write_all(out.as_bytes())?;
    if has_input_error(&diagnostics) {
        return Ok(Outcome::InputError);
    }
    let deny = args.deny.severity();
    if diagnostics.iter().any(|d| d.severity >= deny) {
        Ok(Outcome::Findings)
    } else {
        Ok(Outcome::Clean)
    }
}

impl Config {
    fn emit_options(&self) -> EmitOptions {
        EmitOptions {
            target: self.target,
            realize: RealizeOptions {
                stubs: self.file.stubs,
                enforce_documented_enums: self.file.enforce_documented_enums,
                updated_at_trigger: self.file.updated_at_trigger,
                rls: self.file.rls.clone(),
            },
        }
    }
}

/// Loads the documents and refuses to go on when they hold errors: output
/// generated from a document we could not read would be wrong.
fn load_for_generation(config: &Config) -> anyhow::Result<Result<Loaded, Outcome>> {
    let loaded = load(config)?;
    report_errors(&loaded, config);
    if loaded
        .diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error)
    {
        eprintln!("error: the documents have errors (above); nothing was generated");
        return Ok(Err(Outcome::InputError));
    }
    Ok(Ok(loaded))
}

fn sql(config: &Config) -> anyhow::Result<Outcome> {
    let loaded = match load_for_generation(config)? {
        Ok(loaded) => loaded,
        Err(outcome) => return Ok(outcome),
    };
    let templates = Templates::load(config.templates.as_deref())?;
    let text = emit::sql::full_ddl(&loaded.schema, &config.emit_options(), &templates)?;
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(Outcome::Clean)
}

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
            if name.ends_with(".sql") {
                existing
                    .migrations
                    .insert(name, std::fs::read_to_string(&path)?);
            }
        }
    }
    let read_optional = |path: PathBuf| -> anyhow::Result<Option<String>> {
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
        }
    };
    existing.snapshot = read_optional(dir.join(migrations::SNAPSHOT))?;
    existing.checksums = read_optional(dir.join(migrations::CHECKSUMS))?;
    Ok(existing)
}

fn migrations_command(config: &Config, args: &MigrationsArgs) -> anyhow::Result<Outcome> {
    let loaded = match load_for_generation(config)? {
        Ok(loaded) => loaded,
        Err(outcome) => return Ok(outcome),
    };
    let out_dir = config.output_dir_or(args.out.as_deref());
    let existing = read_existing(&out_dir)?;
    let templates = Templates::load(config.templates.as_deref())?;
    let version = args
        .timestamp
        .clone()
        .unwrap_or_else(|| chrono::Utc::now().format("%Y%m%d%H%M%S").to_string());
    let request = MigrationRequest {
        name: &args.name,
        version: &version,
        allow_destructive: args.allow_destructive,
    };
    let plan = match migrations::plan(
        &loaded.schema,
        &existing,
        &request,
        &config.emit_options(),
        &templates,
    ) {
        Ok(plan) => plan,
        Err(MigrationError::Edited(files)) => {
            eprintln!("error: migration files were changed after they were generated:");
            for file in files {
                eprintln!(
                    "  {}",
                    out_dir.join(migrations::DIRECTORY).join(file).display()
                );
            }
            eprintln!(
                "help: restore them (git checkout) and put the change in the documents instead"
            );
            return Ok(Outcome::Findings);
        }
        Err(other) => return Err(other.into()),
    };
    match plan {
        Plan::UpToDate => {
            eprintln!("no changes: the migrations already capture the documents; nothing written");
            Ok(Outcome::Clean)
        }
        Plan::Refused { destructive } => {
            eprintln!("error: the documents' changes include destructive steps:");
            for change in &destructive {
                eprintln!("  - {}", change.describe());
            }
            eprintln!("help: rerun with --allow-destructive to write them");
            Ok(Outcome::InputError)
        }
        Plan::Write {
            files,
            summary: changes,
            up_name,
        } => {
            if args.check {
                eprintln!(
                    "the documents changed and no migration captures it ({} change(s)); run `gen migrations`",
                    changes.count
                );
                return Ok(Outcome::Findings);
            }
            let summary = write_outputs(&out_dir, &files)?;
            eprintln!(
                "wrote {} with {} change(s) into {} ({} file(s) written, {} unchanged)",
                up_name,
                changes.count,
                out_dir.join(migrations::DIRECTORY).display(),
                summary.written,
                summary.unchanged
            );
            Ok(Outcome::Clean)
        }
    }
}

pub use crate::introspect::mask_url;

fn apply(config: &Config, args: &ApplyArgs) -> anyhow::Result<Outcome> {
    let out_dir = config.output_dir_or(args.out.as_deref());
    let directory = out_dir.join(migrations::DIRECTORY);
    let masked = mask_url(&args.database_url);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let migrator = sqlx::migrate::Migrator::new(directory.as_path())
            .await
            .map_err(|e| {
                anyhow::anyhow!("cannot read migrations in {}: {e}", directory.display())
            })?;
        use sqlx::Connection;
        // One plain connection: a pool would hide the cause of a failure
        // behind "pool timed out".
        let mut connection = sqlx::PgConnection::connect(&args.database_url)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot connect to {masked}: {}",
                    mask_in(&e.to_string(), &args.database_url)
                )
            })?;
        migrator
            .run(&mut connection)
            .await
            .map_err(|e| anyhow::anyhow!("applying migrations to {masked} failed: {e}"))?;
        connection.close().await?;
        eprintln!(
            "applied migrations from {} to {masked}",
            directory.display()
        );
        Ok(Outcome::Clean)
    })
}

use crate::introspect::mask_in;

/// What `write_outputs` did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteSummary {
    pub written: usize,
    pub unchanged: usize,
}

/// Writes files under `dir` in two phases: every changed file is first
/// written to a temporary file in its own directory (`.gen-*.tmp`), and only
/// when all of them are written are they renamed into place. A run that
/// fails before the renames leaves every previous file as it was and removes
/// its temporary files; one that is killed leaves them behind, and the next
/// run removes them. Files whose contents are unchanged are not touched, so
/// their modification times stay and build tools stay quiet.
///
/// Two environment variables exist for tests only: `GEN_TEST_FAIL_AFTER_TEMP_FILES=N`
/// fails after N temporary files, and `GEN_TEST_SLOW_WRITE_MS=N` pauses after each.
pub fn write_outputs(dir: &Path, files: &[OutputFile]) -> anyhow::Result<WriteSummary> {
    let mut staging = Staging::new(dir);
    for file in files {
        staging.stage(file)?;
    }
    staging.commit()
}

/// The first phase of [`write_outputs`], one file at a time, so that a
/// command can stage each output as soon as it is rendered and drop it:
/// `gen all` on a large schema renders more than it could hold at once.
/// Dropping a `Staging` without committing removes its temporary files.
pub struct Staging {
    dir: PathBuf,
    staged: Vec<(tempfile::NamedTempFile, PathBuf)>,
    summary: WriteSummary,
    /// Temporary files kept by this staging and the workers split from it,
    /// so that the test failpoint counts them all.
    kept_everywhere: Arc<AtomicUsize>,
    fail_after: Option<usize>,
    pause: Option<u64>,
}

impl Staging {
    pub fn new(dir: &Path) -> Staging {
        remove_stale_temporaries(dir);
        Staging {
            dir: dir.to_path_buf(),
            staged: Vec::new(),
            summary: WriteSummary::default(),
            kept_everywhere: Arc::default(),
            fail_after: std::env::var("GEN_TEST_FAIL_AFTER_TEMP_FILES")
                .ok()
                .and_then(|v| v.parse().ok()),
            pause: std::env::var("GEN_TEST_SLOW_WRITE_MS")
                .ok()
                .and_then(|v| v.parse().ok()),
        }
    }

    /// An empty staging for another thread, in the same directory, whose
    /// files join this one's through [`Staging::absorb`]. Dropped without
    /// being absorbed, it removes its temporary files like any staging.
    pub fn worker(&self) -> Staging {
        Staging {
            dir: self.dir.clone(),
            staged: Vec::new(),
            summary: WriteSummary::default(),
            kept_everywhere: self.kept_everywhere.clone(),
            fail_after: self.fail_after,
            pause: self.pause,
        }
    }

    /// Takes over a worker's staged files and counts.
    pub fn absorb(&mut self, worker: Staging) {
        self.staged.extend(worker.staged);
        self.summary.written += worker.summary.written;
        self.summary.unchanged += worker.summary.unchanged;
    }

    /// Writes the file to a temporary file beside its destination, unless
    /// the destination already holds exactly these contents.
    pub fn stage(&mut self, file: &OutputFile) -> anyhow::Result<()> {
        let path = self.dir.join(&file.path);
        if same_contents(&path, file.contents.as_bytes()) {
            self.summary.unchanged += 1;
            return Ok(());
        }
        let mut temporary = self.temporary(&path)?;
        temporary.write_all(file.contents.as_bytes())?;
        self.keep(temporary, path)
    }

    /// A new temporary file in the destination's directory.
    fn temporary(&mut self, path: &Path) -> anyhow::Result<tempfile::NamedTempFile> {
        let kept = self.kept_everywhere.load(Ordering::SeqCst);
        if self.fail_after.is_some_and(|n| kept >= n) {
            anyhow::bail!("test failpoint: failing after {kept} temporary files");
        }
        let parent = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(parent)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", parent.display()))?;
        let mut builder = tempfile::Builder::new();
        builder.prefix(".gen-").suffix(".tmp");
        // tempfile creates files readable by their owner alone, which the
        // rename would carry over to the outputs; they get the mode any new
        // file gets instead (0666 less the umask), as a web server or a
        // container build that serves or copies them expects.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        builder.tempfile_in(parent).map_err(|e| {
            anyhow::anyhow!(
                "cannot create a temporary file in {}: {e}",
                parent.display()
            )
        })
    }

    /// A written temporary file, to be renamed to `path` on commit.
    fn keep(&mut self, temporary: tempfile::NamedTempFile, path: PathBuf) -> anyhow::Result<()> {
        temporary.as_file().sync_all()?;
        self.staged.push((temporary, path));
        self.kept_everywhere.fetch_add(1, Ordering::SeqCst);
        if let Some(ms) = self.pause {
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
        Ok(())
    }

    /// The second phase: every staged file is renamed into place.
    pub fn commit(self) -> anyhow::Result<WriteSummary> {
        let mut summary = self.summary;
        for (temporary, path) in self.staged {
            temporary
                .persist(&path)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            summary.written += 1;
        }
        Ok(summary)
    }
}

fn staging_error(path: &str, error: impl std::fmt::Display) -> EmitError {
    EmitError::Write {
        path: path.to_owned(),
        source: std::io::Error::other(error.to_string()),
    }
}

impl OutputSink for Staging {
    fn file(&mut self, file: OutputFile) -> Result<(), EmitError> {
        self.stage(&file)
            .map_err(|e| staging_error(&file.path.display().to_string(), e))
    }

    /// Streams each file into a temporary file while comparing it with
    /// the destination, which is left alone when they turn out equal.
    fn stream(
        &mut self,
        paths: &[&str],
        write: &mut emit::StreamWriter<'_>,
    ) -> Result<(), EmitError> {
        let mut writers = Vec::new();
        for relative in paths {
            let path = self.dir.join(relative);
            let temporary = self
                .temporary(&path)
                .map_err(|e| staging_error(relative, e))?;
            let file = temporary
                .as_file()
                .try_clone()
                .map_err(|e| staging_error(relative, e))?;
            // Renderers write in small pieces: they are gathered before
            // being compared and written.
            writers.push((
                BufWriter::with_capacity(1 << 17, ComparingWriter::new(file, &path)),
                temporary,
                path,
            ));
        }
        {
            let mut dyn_writers: Vec<&mut dyn Write> = writers
                .iter_mut()
                .map(|(writer, _, _)| writer as &mut dyn Write)
                .collect();
            write(&mut dyn_writers)?;
        }
        for ((writer, temporary, path), relative) in writers.into_iter().zip(paths) {
            let same = writer
                .into_inner()
                .map_err(|e| e.into_error())
                .and_then(ComparingWriter::finish)
                .map_err(|e| staging_error(relative, e))?;
            if same {
                self.summary.unchanged += 1;
            } else {
                self.keep(temporary, path)
                    .map_err(|e| staging_error(relative, e))?;
            }
        }
        Ok(())
    }
}

/// Whether the file at `path` holds exactly `contents`, read in pieces.
fn same_contents(path: &Path, contents: &[u8]) -> bool {
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    if file.metadata().map(|m| m.len()).ok() != Some(contents.len() as u64) {
        return false;
    }
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let mut buffer = vec![0; 1 << 16];
    let mut offset = 0;
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => return offset == contents.len(),
            Ok(n) => {
                if contents.get(offset..offset + n) != Some(&buffer[..n]) {
                    return false;
                }
                offset += n;
            }
            Err(_) => return false,
        }
    }
}

/// Writes into a temporary file and compares what it writes with the
/// destination's present contents as it goes.
struct ComparingWriter {
    out: std::fs::File,
    /// The destination, while everything written so far matches it.
    existing: Option<std::io::BufReader<std::fs::File>>,
    scratch: Vec<u8>,
}

impl ComparingWriter {
    fn new(out: std::fs::File, destination: &Path) -> Self {
        ComparingWriter {
            out,
            existing: std::fs::File::open(destination)
                .ok()
                .map(|f| std::io::BufReader::with_capacity(1 << 16, f)),
            scratch: Vec::new(),
        }
    }

    /// Flushes, and says whether the destination holds exactly what was
    /// written.
    fn finish(mut self) -> std::io::Result<bool> {
        self.out.flush()?;
        Ok(match &mut self.existing {
            Some(existing) => {
                let mut rest = [0u8; 1];
                matches!(existing.read(&mut rest), Ok(0))
            }
            None => false,
        })
    }
}

impl Write for ComparingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        if let Some(existing) = &mut self.existing {
            self.scratch.resize(n, 0);
            let same = existing.read_exact(&mut self.scratch).is_ok() && self.scratch == buf[..n];
            if !same {
                self.existing = None;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Temporary files a killed run left behind.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            remove_stale_temporaries(&path);
        } else if name.starts_with(".gen-") && name.ends_with(".tmp") {
            let _ = std::fs::remove_file(&path);
        }
    }
}

fn inputs<'a>(config: &'a Config, loaded: &'a Loaded) -> emit::EmitInputs<'a> {
    emit::EmitInputs {
        sources: &loaded.files,
        glossary: &config.file.glossary,
        definitions: Some(&loaded.definitions),
    }
}

/// Renders one emitter's files.
fn render(
    config: &Config,
    loaded: &Loaded,
    templates: &Templates,
    emitter: Emitter,
) -> anyhow::Result<Vec<OutputFile>> {
    let options = config.emit_options();
    let context = EmitContext::new(&loaded.schema, &options, templates);
    Ok(emit::emit(emitter, &context, inputs(config, loaded))?)
}

fn rls(config: &Config, args: &RlsArgs) -> anyhow::Result<Outcome> {
    let loaded = match load_for_generation(config)? {
        Ok(loaded) => loaded,
        Err(outcome) => return Ok(outcome),
    };
    let templates = Templates::load(config.templates.as_deref())?;
    let files: Vec<OutputFile> = render(config, &loaded, &templates, Emitter::Rls)?
        .into_iter()
        .filter(|f| args.matrix || f.path.starts_with("rls"))
        .collect();
    let out_dir = config.output_dir_or(args.out.as_deref());
    let summary = write_outputs(&out_dir, &files)?;
    report_written(&out_dir, &files, summary);
    Ok(Outcome::Clean)
}

/// `gen emit <name>`: one emitter's files.
fn emit_one(config: &Config, emitter: Emitter, out: Option<&Path>) -> anyhow::Result<Outcome> {
    let loaded = match load_for_generation(config)? {
        Ok(loaded) => loaded,
        Err(outcome) => return Ok(outcome),
    };
    let templates = Templates::load(config.templates.as_deref())?;
    let files = render(config, &loaded, &templates, emitter)?;
    let out_dir = config.output_dir_or(out);
    let summary = write_outputs(&out_dir, &files)?;
    report_written(&out_dir, &files, summary);
    Ok(Outcome::Clean)
}

fn report_written(out_dir: &Path, files: &[OutputFile], summary: WriteSummary) {
    for file in files {
        eprintln!("  {}", out_dir.join(&file.path).display());
    }
    eprintln!(
        "{} file(s) written, {} unchanged",
        summary.written, summary.unchanged
    );
}
