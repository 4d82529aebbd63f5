//! The commands, on the CLI side of the line: they read files, call the
//! library and write to stdout or disk. Each returns an `Outcome` that main
//! maps to an exit code, or an error (exit 2).

use crate::cli::{Cli, Command, Config, LintArgs, ModelFormat, SchemaArgs};
use crate::diag::{self, Diagnostic, RenderOptions, Severity};
use crate::{LoadOptions, Loaded, lint};
use std::io::Write;

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
        files: &loaded.files,
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

fn lint_command(config: &Config, args: &LintArgs) -> anyhow::Result<Outcome> {
    let loaded = load(config)?;
    let mut diagnostics = loaded.diagnostics.clone();
    diagnostics.extend(lint::lint(&loaded.schema));
    diag::sort(&mut diagnostics);
    let summary = lint::Summary::of(&loaded.schema);
    let counts = diag::SeverityCounts::of(&diagnostics);
    let options = RenderOptions {
        files: &loaded.files,
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
