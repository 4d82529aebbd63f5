//! What the library needs to know besides the documents, built once from
//! the configuration file and the command line (by the CLI, in
//! `cli::Config::from_cli`) and then only read. The library never sees
//! clap or the configuration file's layout: `config` and `cli` map onto
//! these types, so nothing here imports them.

use crate::model::overrides::Overrides;
use crate::model::physical::RealizeOptions;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Everything `Project::load` and the emitters read.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Documents (files, or directories of `.md`), in precedence order:
    /// when two disagree, the earlier wins.
    pub documents: Vec<PathBuf>,
    /// The repository root. Documents are named relative to it in every
    /// output and message, so that what is generated in one directory
    /// checks clean from another. Empty: the working directory.
    pub root: PathBuf,
    pub overrides: Overrides,
    /// The configuration file's display path and text, to point override
    /// problems at a line.
    pub config_source: Option<ConfigSource>,
    pub target: Target,
    pub realize: RealizeOptions,
    pub glossary: GlossaryOptions,
    pub migrations: MigrationOptions,
}

/// The configuration file as diagnostics show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSource {
    pub display_path: String,
    pub text: String,
}

/// Where migrations will run. Supabase provides `auth`, the roles and the
/// `extensions` schema; plain PostgreSQL gets a prelude that creates them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    #[default]
    Supabase,
    Postgres,
}

/// The glossary rows' `javari_knowledge.category` unless configured.
pub const DEFAULT_GLOSSARY_CATEGORY: &str = "schema_glossary";

/// What the glossary emitter can be configured with (the `glossary:`
/// section of schema/gen.yaml).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GlossaryOptions {
    /// The `javari_knowledge.category` of every row the SQL writes.
    pub category: String,
}

impl Default for GlossaryOptions {
    fn default() -> Self {
        GlossaryOptions {
            category: DEFAULT_GLOSSARY_CATEGORY.to_owned(),
        }
    }
}

/// How later migrations protect a database in use (the `migrations:`
/// section of schema/gen.yaml): each starts with `SET LOCAL lock_timeout`
/// and `SET LOCAL statement_timeout`, so that a statement that cannot get
/// its lock fails fast instead of queueing the table's traffic behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MigrationOptions {
    pub lock_timeout: PgDuration,
    pub statement_timeout: PgDuration,
}

impl Default for MigrationOptions {
    fn default() -> Self {
        MigrationOptions {
            lock_timeout: PgDuration("5s".to_owned()),
            statement_timeout: PgDuration("15min".to_owned()),
        }
    }
}

/// A duration as PostgreSQL's settings spell it: a whole number and a unit
/// (`ms`, `s`, `min`, `h`), such as `5s`. Checked when read, since it goes
/// into the migration as SQL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PgDuration(String);

impl PgDuration {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PgDuration {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let digits = text.chars().take_while(char::is_ascii_digit).count();
        let unit = &text[digits..];
        if digits > 0 && ["ms", "s", "min", "h"].contains(&unit) {
            Ok(PgDuration(text))
        } else {
            Err(format!(
                "`{text}` is not a duration: write a whole number and ms, s, min or h (such as 5s)"
            ))
        }
    }
}

impl From<PgDuration> for String {
    fn from(duration: PgDuration) -> String {
        duration.0
    }
}
