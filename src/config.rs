//! `schema/gen.yaml`: which documents to read and in what precedence, the
//! target, the output directory, and corrections the documents cannot make
//! themselves. Read with serde_yaml; unknown keys are rejected with the
//! file and line, so a typo never silently does nothing.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where migrations will run. Supabase provides `auth`, the roles and the
/// `extensions` schema; plain PostgreSQL gets a prelude that creates them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    #[default]
    Supabase,
    Postgres,
}

/// Which name-only tables referenced by FKs become stub tables.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stubs {
    /// Only those an FK points at.
    #[default]
    Referenced,
    /// Every name-only table.
    All,
    /// None; FKs to name-only tables are left out and reported.
    None,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Documents in precedence order: when two disagree, the earlier wins.
    #[serde(default)]
    pub sources: Vec<PathBuf>,
    #[serde(default)]
    pub target: Target,
    /// Output directory for generated files.
    #[serde(default)]
    pub output: Option<PathBuf>,
    #[serde(default)]
    pub stubs: Stubs,
    /// Turn documented enums from prose into CHECK constraints.
    #[serde(default)]
    pub enforce_documented_enums: bool,
    /// Add a trigger that keeps `updated_at` current.
    #[serde(default)]
    pub updated_at_trigger: bool,
    /// How prose RLS rules map to roles, owners and "active".
    #[serde(default)]
    pub rls: crate::model::rls::RlsOptions,
    /// The glossary's rows in javari_knowledge.
    #[serde(default)]
    pub glossary: crate::emit::glossary::GlossaryOptions,
    #[serde(default)]
    pub overrides: Overrides,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// Tables left out of the model entirely.
    #[serde(default)]
    pub ignore_tables: Vec<String>,
    /// Per-table corrections.
    #[serde(default)]
    pub tables: BTreeMap<String, TableOverride>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableOverride {
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnOverride>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnOverride {
    /// A PostgreSQL type, such as `numeric(12,2)`.
    #[serde(default, rename = "type")]
    pub ty: Option<String>,
    #[serde(default)]
    pub nullable: Option<bool>,
    /// FK target: `table`, `table(column)` or `auth.users(id)`.
    #[serde(default)]
    pub references: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
}

impl ConfigFile {
    /// Parses configuration text; `path` is used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<ConfigFile, ConfigError> {
        serde_yaml::from_str(text).map_err(|error| {
            let (line, column) = error.location().map_or((1, 1), |l| (l.line(), l.column()));
            ConfigError::Invalid {
                path: crate::source::display_path(path),
                line,
                column,
                message: error.to_string(),
            }
        })
    }

    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        ConfigFile::parse(&text, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_rejected_with_a_line() {
        let text =
            "sources: [a.md]\ntarget: postgres\noverrides:\n  tables:\n    t:\n      colums: {}\n";
        let error = ConfigFile::parse(text, Path::new("gen.yaml")).unwrap_err();
        let message = error.to_string();
        assert!(message.starts_with("gen.yaml:6:"), "{message}");
        assert!(message.contains("colums"), "{message}");
    }

    #[test]
    fn reads_overrides() {
        let text = "target: postgres\nstubs: none\noverrides:\n  ignore_tables: [x]\n  tables:\n    t:\n      columns:\n        c: { type: 'numeric(12,2)', nullable: false }\n";
        let config = ConfigFile::parse(text, Path::new("gen.yaml")).unwrap();
        assert_eq!(config.target, Target::Postgres);
        assert_eq!(config.stubs, Stubs::None);
        assert_eq!(
            config.overrides.tables["t"].columns["c"].nullable,
            Some(false)
        );
    }
}
