//! Command-line interface: clap derive definitions, validated once into a
//! `Config` (the library's `Settings` plus what only the shell needs) that
//! the commands use. The library never sees clap: the value enums here map
//! onto library types. Nothing here reads documents; `run` does.

use crate::config::ConfigFile;
use crate::diff::hazard::HazardKind;
use crate::emit::migrations::AllowedHazards;
use crate::emit::{Emitter, Target};
use crate::introspect::{ConnectOptions, ConnectTimeout};
use crate::settings::{ConfigSource, Settings};
use crate::source::{find_root, lexically_normal};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_CONFIG: &str = "schema/gen.yaml";

#[derive(Debug, Parser)]
#[command(
    name = "gen",
    version,
    about = "Database documentation as the source of truth for a PostgreSQL/Supabase schema",
    long_about = "Reads Markdown documentation (column tables, notes, SQL blocks) into one typed \
schema model, checks it, and generates SQL migrations and other outputs from it.\n\n\
Exit codes: 0 ok, 1 findings or drift, 2 usage or input error.",
    after_help = "Examples:\n  gen all                        generate everything under generated/\n  gen lint                       check the default documents\n  gen check                      are the committed outputs current?\n  gen check --database-url URL --format github   drift of a live database, for CI\n  gen lint --format github       annotations for a GitHub Actions job\n  gen schema --format json       the model, for machines\n  gen lint --docs notes/ --deny warnings"
)]
pub struct Cli {
    /// Configuration file. Relative paths inside it are relative to its directory.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// When to colour output. `auto` colours terminals unless NO_COLOR is set.
    #[arg(long, global = true, value_enum, default_value_t = ColorMode::Auto)]
    pub color: ColorMode,

    /// The document options may also go before the command.
    #[command(flatten)]
    pub inputs: InputArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// What documents to read and how: every command but `apply` takes these,
/// before or after its name. They are not global, so that `apply --help`
/// lists only what `apply` uses.
#[derive(Debug, Clone, Default, Args)]
pub struct InputArgs {
    /// Document to read (a file, or a directory of .md files); repeat for
    /// more, in precedence order. Overrides the configuration's `sources`.
    // One path per flag, so that the flag can go before the command too:
    // with several values per flag, `gen --docs a.md lint` read `lint` as
    // a document.
    #[arg(long, value_name = "PATH", action = clap::ArgAction::Append)]
    pub docs: Vec<PathBuf>,

    /// Directory of `*.tera` templates that replace the embedded ones by name.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,

    /// Where migrations run; overrides the configuration's `target`.
    #[arg(long, value_enum)]
    pub target: Option<TargetArg>,
}

impl InputArgs {
    /// These, with `later`'s (given after the command) added or winning.
    fn merged(&self, later: &InputArgs) -> InputArgs {
        let mut docs = self.docs.clone();
        docs.extend(later.docs.iter().cloned());
        InputArgs {
            docs,
            templates: later.templates.clone().or_else(|| self.templates.clone()),
            target: later.target.or(self.target),
        }
    }
}

/// `--target`, mapped onto [`Target`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TargetArg {
    /// Supabase provides `auth`, the roles and the `extensions` schema.
    Supabase,
    /// Plain PostgreSQL: the initial migration creates what Supabase provides.
    Postgres,
}

impl From<TargetArg> for Target {
    fn from(arg: TargetArg) -> Target {
        match arg {
            TargetArg::Supabase => Target::Supabase,
            TargetArg::Postgres => Target::Postgres,
        }
    }
}

/// `--format` of the reporting commands, mapped onto [`crate::diag::Format`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Human-readable, with the source line underlined.
    Text,
    /// A JSON document on stdout.
    Json,
    /// GitHub workflow commands (`::warning file=…,line=…::…`).
    Github,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
}

impl From<FormatArg> for crate::diag::Format {
    fn from(arg: FormatArg) -> crate::diag::Format {
        match arg {
            FormatArg::Text => crate::diag::Format::Text,
            FormatArg::Json => crate::diag::Format::Json,
            FormatArg::Github => crate::diag::Format::Github,
            FormatArg::Sarif => crate::diag::Format::Sarif,
        }
    }
}

/// `gen emit NAME`, mapped onto [`Emitter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmitterArg {
    /// `sql/schema.sql`: the complete DDL for a fresh database.
    Sql,
    /// `rls/policies.sql` and the access matrix in `reports/`.
    Rls,
    /// `openapi/openapi.yaml` and `.json`: the REST surface, OpenAPI 3.1.
    Openapi,
    /// `glossary/glossary.md`, `.jsonl` and `.sql`: every field and table, for Javari.
    Glossary,
    /// `reports/consolidation.md`, `.json` and `.sql`: duplicate tables and how to merge them.
    Consolidation,
    /// `rust/`: a crate of Rust types for every fully documented table, for sqlx.
    Models,
}

impl From<EmitterArg> for Emitter {
    fn from(arg: EmitterArg) -> Emitter {
        match arg {
            EmitterArg::Sql => Emitter::Sql,
            EmitterArg::Rls => Emitter::Rls,
            EmitterArg::Openapi => Emitter::OpenApi,
            EmitterArg::Glossary => Emitter::Glossary,
            EmitterArg::Consolidation => Emitter::Consolidation,
            EmitterArg::Models => Emitter::Models,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorMode {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the schema model read from the documents.
    Schema(SchemaArgs),
    /// Check the documents and report diagnostics with file:line and a stable code.
    Lint(LintArgs),
    /// Print the complete DDL for a fresh database.
    Sql(SqlArgs),
    /// Write sqlx reversible migrations for what changed in the documents.
    Migrations(MigrationsArgs),
    /// Apply pending migrations to a database, after a read-only preflight.
    ///
    /// First counts, in a READ ONLY transaction, what each pending step with a
    /// `fails-on-data` or `data-loss` hazard would fail on or lose (NULLs,
    /// duplicates, orphans, failing CHECKs, casts, dropped values), and runs
    /// nothing when anything blocks (exit 1). Then runs each migration in its
    /// own transaction, statement by statement, and records it in
    /// `_sqlx_migrations`, as `sqlx migrate run` does.
    Apply(ApplyArgs),
    /// Write Row Level Security policies (and, with --matrix, the access matrix).
    Rls(RlsArgs),
    /// Run every emitter and the migrations, writing everything under the output directory.
    All(AllArgs),
    /// Write one output by name (see `gen all` for everything).
    Emit(EmitArgs),
    /// Write the OpenAPI 3.1 spec: openapi/openapi.yaml and .json.
    Openapi(OutArgs),
    /// Write the glossary for Javari: glossary/glossary.md, .jsonl and .sql.
    Glossary(OutArgs),
    /// Write the duplicate-table consolidation report: reports/consolidation.md, .json and .sql.
    Consolidation(OutArgs),
    /// Write the Rust model crate for sqlx: rust/Cargo.toml and rust/src/*.rs.
    Models(OutArgs),
    /// Check that a live database, or the committed outputs, still match the documents.
    ///
    /// With --database-url (or DATABASE_URL): reads the database's catalog in a
    /// read-only transaction and reports drift, each item at its documents' line.
    /// Without: re-renders every output in memory and reports stale files under the
    /// output directory, and migrations that do not capture the documents.
    /// Exit 0 when everything matches, 1 on drift or stale outputs, 2 on errors.
    Check(CheckArgs),
    /// Print the SQL that brings a live database to the documented schema.
    ///
    /// Uses the same change engine as migrations. Steps that lose data are
    /// printed commented out unless --allow-destructive.
    Diff(DiffArgs),
}

/// Which live database objects are compared and how.
#[derive(Debug, Args)]
pub struct LiveArgs {
    /// Schemas compared with the documents.
    #[arg(long = "schema", value_name = "NAME", default_value = "public")]
    pub schemas: Vec<String>,
    /// Leave table and column comments out of the comparison.
    #[arg(long)]
    pub ignore_comments: bool,
    /// Longest any one catalog query may run, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub statement_timeout: u64,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// How a command that talks to a live database connects: `check`, `diff`
/// and `apply` take these.
#[derive(Debug, Clone, Default, Args)]
pub struct ConnectArgs {
    /// Longest connecting may take, in seconds (default: the URL's `connect_timeout`, else 10).
    ///
    /// Covers TCP, TLS, start-up and authentication together. The URL's
    /// `connect_timeout` is read as libpq reads it, in seconds; this flag
    /// wins over it. 0 waits indefinitely.
    #[arg(long, value_name = "SECONDS")]
    pub connect_timeout: Option<u64>,
}

impl ConnectArgs {
    /// The library's options: an explicit flag wins over the URL.
    pub fn options(&self) -> ConnectOptions {
        let timeout = match self.connect_timeout {
            None => ConnectTimeout::FromUrl,
            // 0 as libpq's `connect_timeout=0` means it.
            Some(0) => ConnectTimeout::Unlimited,
            Some(seconds) => ConnectTimeout::Within(Duration::from_secs(seconds)),
        };
        ConnectOptions { timeout }
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    /// PostgreSQL connection URL; `sslmode` and `sslrootcert` are honoured.
    /// Without one, the committed outputs are checked instead.
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Output directory to check when there is no URL; overrides the configuration's `output`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    /// PostgreSQL connection URL; `sslmode` and `sslrootcert` are honoured.
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: String,
    /// Print steps that lose data (drop table, drop column, narrowing type
    /// changes) as SQL rather than commented out.
    #[arg(long)]
    pub allow_destructive: bool,
    #[command(flatten)]
    pub live: LiveArgs,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
}

#[derive(Debug, Args)]
pub struct OutArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Output directory; overrides the configuration's `output`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EmitArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Which output.
    #[arg(value_enum)]
    pub emitter: EmitterArg,
    /// Output directory; overrides the configuration's `output`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RlsArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Also write reports/rls-matrix.md and .json.
    #[arg(long)]
    pub matrix: bool,
    /// Output directory; overrides the configuration's `output`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AllArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Output directory; overrides the configuration's `output`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Migration name for a migration this run writes.
    #[arg(long, default_value = "schema")]
    pub name: String,
    #[command(flatten)]
    pub hazards: HazardArgs,
    /// Print how long each phase and job took, and on which thread, to stderr.
    #[arg(long)]
    pub timings: bool,
}

#[derive(Debug, Args)]
pub struct MigrationsArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Migration name, the part after the version.
    #[arg(long, default_value = "schema")]
    pub name: String,
    #[command(flatten)]
    pub hazards: HazardArgs,
    /// Write nothing; exit 1 when the documents changed and no migration captures it.
    #[arg(long)]
    pub check: bool,
    /// Remove the newest migration, which must not be applied, and restore
    /// the snapshot before it, so the documents can be fixed and the
    /// migration written again. Needs --database-url (its history is
    /// checked) or --force.
    #[arg(long, conflicts_with = "check")]
    pub withdraw: bool,
    /// With --withdraw: the database whose history must not hold the migration.
    #[arg(
        long,
        env = "DATABASE_URL",
        value_name = "URL",
        hide_env_values = true,
        requires = "withdraw"
    )]
    pub database_url: Option<String>,
    /// With --withdraw and no --database-url: withdraw without checking a database.
    #[arg(long, requires = "withdraw")]
    pub force: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Migration version (YYYYMMDDHHMMSS); default: now, in UTC.
    #[arg(long, value_name = "VERSION")]
    pub timestamp: Option<String>,
    /// Output directory; overrides the configuration's `output`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Which hazards a migration this run writes may contain.
#[derive(Debug, Clone, Default, Args)]
pub struct HazardArgs {
    /// Write steps with this hazard (repeatable). Only `data-loss` steps
    /// are refused without it; `fails-on-data` is checked against the rows
    /// by `gen apply`'s preflight.
    #[arg(long = "allow-hazard", value_enum, value_name = "KIND")]
    pub allow_hazard: Vec<HazardArg>,
    /// The same as --allow-hazard data-loss.
    #[arg(long)]
    pub allow_destructive: bool,
}

impl HazardArgs {
    pub fn allowed(&self) -> AllowedHazards {
        let mut kinds: Vec<HazardKind> = self.allow_hazard.iter().map(|&a| a.into()).collect();
        if self.allow_destructive {
            kinds.push(HazardKind::DataLoss);
        }
        AllowedHazards::of(kinds)
    }
}

/// `--allow-hazard`, mapped onto [`HazardKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HazardArg {
    /// Rows or values are dropped or changed.
    DataLoss,
    /// The statement fails if some row violates it.
    FailsOnData,
    /// The whole table is rewritten.
    TableRewrite,
    /// Writes to the table wait while it runs.
    BlocksWrites,
}

impl From<HazardArg> for HazardKind {
    fn from(arg: HazardArg) -> HazardKind {
        match arg {
            HazardArg::DataLoss => HazardKind::DataLoss,
            HazardArg::FailsOnData => HazardKind::FailsOnData,
            HazardArg::TableRewrite => HazardKind::TableRewrite,
            HazardArg::BlocksWrites => HazardKind::BlocksWrites,
        }
    }
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// PostgreSQL connection URL.
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: String,
    /// Output directory holding `migrations/`; overrides the configuration's `output`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print the preflight report and the SQL that would run, and run nothing.
    /// Needs only SELECT on the tables.
    #[arg(long, conflicts_with = "adopt")]
    pub dry_run: bool,
    /// Apply even though the preflight counted rows or values a `data-loss`
    /// step drops or changes (the steps were allowed with --allow-hazard
    /// data-loss when the migration was written).
    #[arg(long)]
    pub accept_data_loss: bool,
    /// Record every migration as applied without running it, for a
    /// database that already has the schema; refused, with the drift, when
    /// it does not match the newest migration's schema.
    #[arg(long)]
    pub adopt: bool,
    /// Longest wait for a table lock, in seconds; a migration that cannot
    /// get its lock fails instead of queueing the table's traffic behind it.
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    pub lock_timeout: u64,
    /// Longest any one statement may run, in seconds (0: no limit).
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    pub statement_timeout: u64,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelFormat {
    Yaml,
    Json,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Output format of the model.
    #[arg(long, value_enum, default_value_t = ModelFormat::Yaml)]
    pub format: ModelFormat,
}

/// The lowest severity that makes `gen lint` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DenyLevel {
    Errors,
    Warnings,
    Info,
}

impl DenyLevel {
    pub fn severity(self) -> crate::diag::Severity {
        match self {
            DenyLevel::Errors => crate::diag::Severity::Error,
            DenyLevel::Warnings => crate::diag::Severity::Warning,
            DenyLevel::Info => crate::diag::Severity::Info,
        }
    }
}

#[derive(Debug, Args)]
pub struct LintArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// Exit 1 when there is a diagnostic at this severity or worse.
    #[arg(long, value_enum, default_value_t = DenyLevel::Errors)]
    pub deny: DenyLevel,
}

impl Command {
    /// The document options given after the command, for the commands that
    /// read documents (all but `apply`).
    fn inputs(&self) -> Option<&InputArgs> {
        Some(match self {
            Command::Schema(a) => &a.inputs,
            Command::Lint(a) => &a.inputs,
            Command::Sql(a) => &a.inputs,
            Command::Migrations(a) => &a.inputs,
            Command::Apply(_) => return None,
            Command::Rls(a) => &a.inputs,
            Command::All(a) => &a.inputs,
            Command::Emit(a) => &a.inputs,
            Command::Openapi(a)
            | Command::Glossary(a)
            | Command::Consolidation(a)
            | Command::Models(a) => &a.inputs,
            Command::Check(a) => &a.inputs,
            Command::Diff(a) => &a.inputs,
        })
    }
}

/// Everything the commands need, validated once: the library's
/// [`Settings`] and what only the shell uses.
#[derive(Debug, Clone)]
pub struct Config {
    pub settings: Settings,
    pub output_dir: PathBuf,
    pub templates: Option<PathBuf>,
    pub color: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("no documents to read: pass --docs PATH, or create {0} with a `sources:` list")]
    NoDocuments(String),
    #[error("cannot read the working directory: {0}")]
    WorkingDirectory(std::io::Error),
}

impl Config {
    /// Where a command writes: its own `--out` when given, otherwise the
    /// configuration's output directory.
    pub fn output_dir_or(&self, out: Option<&Path>) -> PathBuf {
        out.map_or_else(|| self.output_dir.clone(), Path::to_path_buf)
    }

    /// How messages, annotations and outputs name `path`: relative to the
    /// repository root (with `..` when it lies outside), never absolute, so
    /// that a GitHub annotation always points into the repository and a
    /// message reads the same from any directory.
    pub fn display(&self, path: &Path) -> String {
        crate::source::display_path(path, &self.settings.root)
    }

    /// Resolves the configuration file and command-line overrides, once.
    pub fn from_cli(cli: &Cli) -> Result<Config, UsageError> {
        let inputs = match cli.command.inputs() {
            Some(later) => cli.inputs.merged(later),
            None => cli.inputs.clone(),
        };
        let explicit = cli.config.clone();
        let config_path = explicit.clone().or_else(|| {
            Path::new(DEFAULT_CONFIG)
                .exists()
                .then(|| PathBuf::from(DEFAULT_CONFIG))
        });
        let cwd = std::env::current_dir().map_err(UsageError::WorkingDirectory)?;
        let base = config_path
            .as_ref()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or_default();
        let root = find_root(&cwd, config_path.as_ref().map(|_| base.as_path()));
        let (file, config_source) = match &config_path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| {
                    crate::config::ConfigError::Read {
                        path: path.clone(),
                        source,
                    }
                })?;
                let display_path = crate::source::display_path(path, &root);
                let file = ConfigFile::parse(&text, &display_path)?;
                (file, Some(ConfigSource { display_path, text }))
            }
            None => (ConfigFile::default(), None),
        };
        let documents = if !inputs.docs.is_empty() {
            inputs.docs.clone()
        } else if !file.sources.is_empty() {
            file.sources
                .iter()
                .map(|p| lexically_normal(&base.join(p)))
                .collect()
        } else if Path::new("schema/docs").is_dir() {
            vec![PathBuf::from("schema/docs")]
        } else {
            return Err(UsageError::NoDocuments(
                config_path.map_or(DEFAULT_CONFIG.to_owned(), |p| p.display().to_string()),
            ));
        };
        let output_dir = file
            .output
            .as_ref()
            .map(|o| lexically_normal(&base.join(o)))
            .unwrap_or_else(|| PathBuf::from("generated"));
        let color = match cli.color {
            ColorMode::Always => true,
            ColorMode::Never => false,
            ColorMode::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        };
        let settings = file.settings(
            documents,
            root,
            config_source,
            inputs.target.map(Target::from),
        );
        Ok(Config {
            settings,
            templates: inputs.templates.clone(),
            output_dir,
            color,
        })
    }
}
