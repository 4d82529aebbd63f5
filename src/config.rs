//! `schema/gen.yaml`: which documents to read and in what precedence, the
//! target, the output directory, and corrections the documents cannot make
//! themselves. This is the CLI side: the file's layout maps onto the
//! library's `Settings`, and nothing in the library imports it. Read with serde-saphyr; unknown keys are rejected with the
//! file and line, so a typo never silently does nothing.

use crate::model::overrides::Overrides;
use crate::model::physical::{RealizeOptions, Stubs};
use crate::settings::{ConfigSource, GlossaryOptions, MigrationOptions, Settings, Target};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

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
    pub glossary: GlossaryOptions,
    /// The timeouts every later migration sets.
    #[serde(default)]
    pub migrations: MigrationOptions,
    #[serde(default)]
    pub overrides: Overrides,
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
    /// Parses configuration text; `display_path` names it in error messages.
    pub fn parse(text: &str, display_path: &str) -> Result<ConfigFile, ConfigError> {
        serde_saphyr::from_str(text).map_err(|error| {
            let (line, column) = error
                .location()
                .map_or((1, 1), |l| (l.line() as usize, l.column() as usize));
            ConfigError::Invalid {
                path: display_path.to_owned(),
                line,
                column,
                message: error.to_string(),
            }
        })
    }

    /// The library's settings: this file's, with the documents, root and
    /// target the command line resolved.
    pub fn settings(
        &self,
        documents: Vec<PathBuf>,
        root: PathBuf,
        config_source: Option<ConfigSource>,
        target: Option<Target>,
    ) -> Settings {
        Settings {
            documents,
            root,
            overrides: self.overrides.clone(),
            config_source,
            target: target.unwrap_or(self.target),
            realize: RealizeOptions {
                stubs: self.stubs,
                enforce_documented_enums: self.enforce_documented_enums,
                updated_at_trigger: self.updated_at_trigger,
                rls: self.rls.clone(),
            },
            glossary: self.glossary.clone(),
            migrations: self.migrations.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_rejected_with_a_line() {
        let text =
            "sources: [a.md]\ntarget: postgres\noverrides:\n  tables:\n    t:\n      colums: {}\n";
        let error = ConfigFile::parse(text, "gen.yaml").unwrap_err();
        let message = error.to_string();
        assert!(message.starts_with("gen.yaml:6:"), "{message}");
        assert!(message.contains("colums"), "{message}");
    }

    #[test]
    fn migration_timeouts_are_durations() {
        let config = ConfigFile::parse("migrations:\n  lock_timeout: 2s\n", "gen.yaml").unwrap();
        assert_eq!(config.migrations.lock_timeout.as_str(), "2s");
        assert_eq!(config.migrations.statement_timeout.as_str(), "15min");
        let error = ConfigFile::parse("migrations:\n  lock_timeout: \"5s'; DROP\"\n", "gen.yaml")
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("gen.yaml:2:"), "{error}");
        assert!(error.contains("is not a duration"), "{error}");
    }

    #[test]
    fn reads_overrides() {
        let text = "target: postgres\nstubs: none\noverrides:\n  ignore_tables: [x]\n  tables:\n    t:\n      columns:\n        c: { type: 'numeric(12,2)', nullable: false }\n";
        let config = ConfigFile::parse(text, "gen.yaml").unwrap();
        assert_eq!(config.target, Target::Postgres);
        assert_eq!(config.stubs, Stubs::None);
        assert_eq!(
            config.overrides.tables["t"].columns["c"].nullable,
            Some(false)
        );
    }
}
