//! Command-line interface: clap derive definitions, validated once into a
//! `Config` that the commands use. Nothing here reads documents; `run` does.

use crate::config::{ConfigFile, Target};
use crate::diag::Format;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

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

    /// Document to read (a file, or a directory of .md files); repeat for
    /// more, in precedence order. Overrides the configuration's `sources`.
    // One path per flag, so that the flag can go before the command too:
    // with several values per flag, `gen --docs a.md lint` read `lint` as
    // a document.
    #[arg(long, global = true, value_name = "PATH", action = clap::ArgAction::Append)]
    pub docs: Vec<PathBuf>,

    /// Directory of `*.tera` templates that replace the embedded ones by name.
    #[arg(long, global = true, value_name = "DIR")]
    pub templates: Option<PathBuf>,

    /// Where migrations run; overrides the configuration's `target`.
    #[arg(long, global = true, value_enum)]
    pub target: Option<Target>,

    /// When to colour output. `auto` colours terminals unless NO_COLOR is set.
    #[arg(long, global = true, value_enum, default_value_t = ColorMode::Auto)]
    pub color: ColorMode,

    #[command(subcommand)]
    pub command: Command,
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
    Sql,
    /// Write sqlx reversible migrations for what changed in the documents.
    Migrations(MigrationsArgs),
    /// Apply pending migrations to a database (as `sqlx migrate run` would).
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
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// PostgreSQL connection URL; `sslmode` and `sslrootcert` are honoured.
    /// Without one, the committed outputs are checked instead.
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Output directory to check when there is no URL; overrides the configuration's `output`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
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
pub struct OutArgs {
    /// Output directory; overrides the configuration's `output`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EmitArgs {
    /// Which output.
    #[arg(value_enum)]
    pub emitter: crate::emit::Emitter,
    /// Output directory; overrides the configuration's `output`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RlsArgs {
    /// Also write reports/rls-matrix.md and .json.
    #[arg(long)]
    pub matrix: bool,
    /// Output directory; overrides the configuration's `output`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AllArgs {
    /// Output directory; overrides the configuration's `output`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Migration name for a migration this run writes.
    #[arg(long, default_value = "schema")]
    pub name: String,
    /// Allow destructive steps in a migration this run writes.
    #[arg(long)]
    pub allow_destructive: bool,
    /// Print how long each phase and job took, and on which thread, to stderr.
    #[arg(long)]
    pub timings: bool,
}

#[derive(Debug, Args)]
pub struct MigrationsArgs {
    /// Migration name, the part after the version.
    #[arg(long, default_value = "schema")]
    pub name: String,
    /// Allow steps that lose data: drop table, drop column, narrowing type changes.
    #[arg(long)]
    pub allow_destructive: bool,
    /// Write nothing; exit 1 when the documents changed and no migration captures it.
    #[arg(long)]
    pub check: bool,
    /// Migration version (YYYYMMDDHHMMSS); default: now, in UTC.
    #[arg(long, value_name = "VERSION")]
    pub timestamp: Option<String>,
    /// Output directory; overrides the configuration's `output`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// PostgreSQL connection URL.
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: String,
    /// Output directory holding `migrations/`; overrides the configuration's `output`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelFormat {
    Yaml,
    Json,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
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
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 1 when there is a diagnostic at this severity or worse.
    #[arg(long, value_enum, default_value_t = DenyLevel::Errors)]
    pub deny: DenyLevel,
}

/// Everything the commands need, validated once.
#[derive(Debug, Clone)]
pub struct Config {
    pub docs: Vec<PathBuf>,
    pub file: ConfigFile,
    /// Display path and text of the configuration file, when there is one.
    pub config_source: Option<(String, String)>,
    pub output_dir: PathBuf,
    pub target: Target,
    pub templates: Option<PathBuf>,
    pub color: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("no documents to read: pass --docs PATH or list `sources` in {0}")]
    NoDocuments(String),
}

impl Config {
    /// Where a command writes: its own `--out` when given, otherwise the
    /// configuration's output directory.
    pub fn output_dir_or(&self, out: Option<&Path>) -> PathBuf {
        out.map_or_else(|| self.output_dir.clone(), Path::to_path_buf)
    }

    /// Resolves the configuration file and command-line overrides.
    pub fn from_cli(cli: &Cli) -> Result<Config, UsageError> {
        let explicit = cli.config.clone();
        let config_path = explicit.clone().or_else(|| {
            Path::new(DEFAULT_CONFIG)
                .exists()
                .then(|| PathBuf::from(DEFAULT_CONFIG))
        });
        let (file, config_source, base) = match &config_path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| {
                    crate::config::ConfigError::Read {
                        path: path.clone(),
                        source,
                    }
                })?;
                let file = ConfigFile::parse(&text, path)?;
                let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
                (file, Some((crate::source::display_path(path), text)), base)
            }
            None => (ConfigFile::default(), None, PathBuf::new()),
        };
        let docs = if !cli.docs.is_empty() {
            cli.docs.clone()
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
        Ok(Config {
            docs,
            target: cli.target.unwrap_or(file.target),
            templates: cli.templates.clone(),
            file,
            config_source,
            output_dir,
            color,
        })
    }
}

/// `schema/../generated` → `generated`, without touching the file system
/// (the directory may not exist yet).
fn lexically_normal(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}
