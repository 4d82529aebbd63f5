//! Emitters: each output is one file here, registered in the closed
//! `Emitter` enum. An emitter returns the files it wants written
//! (`OutputFile`, paths relative to the output directory); only the CLI
//! touches disk.

pub mod migrations;
pub mod sql;
pub mod templates;

use crate::config::Target;
use crate::model::physical::RealizeOptions;
use std::path::PathBuf;

pub use templates::{TemplateError, Templates};

/// A file an emitter wants written, relative to the output directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    pub path: PathBuf,
    pub contents: String,
}

impl OutputFile {
    pub fn new(path: impl Into<PathBuf>, contents: impl Into<String>) -> Self {
        OutputFile {
            path: path.into(),
            contents: contents.into(),
        }
    }
}

/// Every output the tool can produce. Closed, so `gen all` and the stale
/// check in `gen check` cannot forget one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum Emitter {
    /// `schema.sql`: the complete DDL for a fresh database.
    Sql,
}

impl Emitter {
    pub const ALL: &'static [Emitter] = &[Emitter::Sql];
}

/// What every emitter may need besides the schema.
#[derive(Debug, Clone, Copy)]
pub struct EmitOptions {
    pub target: Target,
    pub realize: RealizeOptions,
}
