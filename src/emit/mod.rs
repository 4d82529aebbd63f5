//! Emitters: each output is one file here, registered in the closed
//! `Emitter` enum. An emitter returns the files it wants written
//! (`OutputFile`, paths relative to the output directory); only the CLI
//! touches disk. Migrations are not in the enum: they depend on what earlier
//! runs left on disk, so `migrations::plan` takes that as input.

pub mod consolidation;
pub mod glossary;
pub mod migrations;
pub mod openapi;
pub mod rls;
pub mod sql;
pub mod templates;
pub mod yaml;

use crate::config::Target;
use crate::model::Schema;
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

/// Every output rendered from the model alone. Closed, so `gen all` and the
/// stale check in `gen check` cannot forget one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum Emitter {
    /// `sql/schema.sql`: the complete DDL for a fresh database.
    Sql,
    /// `rls/policies.sql` and the access matrix in `reports/`.
    Rls,
    /// `openapi/openapi.yaml` and `.json`: the REST surface, OpenAPI 3.1.
    #[value(name = "openapi")]
    OpenApi,
    /// `glossary/glossary.md`, `.jsonl` and `.sql`: every field and table, for Javari.
    Glossary,
    /// `reports/consolidation.md`, `.json` and `.sql`: duplicate tables and how to merge them.
    Consolidation,
}

impl Emitter {
    pub const ALL: &'static [Emitter] = &[
        Emitter::Sql,
        Emitter::Rls,
        Emitter::OpenApi,
        Emitter::Glossary,
        Emitter::Consolidation,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Emitter::Sql => "sql",
            Emitter::Rls => "rls",
            Emitter::OpenApi => "openapi",
            Emitter::Glossary => "glossary",
            Emitter::Consolidation => "consolidation",
        }
    }
}

/// What every emitter may need besides the schema.
#[derive(Debug, Clone)]
pub struct EmitOptions {
    pub target: Target,
    pub realize: RealizeOptions,
}

/// Everything an emitter reads.
pub struct EmitContext<'a> {
    /// The documented model, as read from the documents.
    pub schema: &'a Schema,
    pub options: &'a EmitOptions,
    pub templates: &'a Templates,
}

#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("cannot serialise {what}: {message}")]
    Serialize { what: String, message: String },
}

/// What some emitters read besides the model: the documents themselves
/// (the OpenAPI emitter reads the documented routes and response envelope)
/// and per-emitter settings from the configuration.
#[derive(Clone, Copy)]
pub struct EmitInputs<'a> {
    pub sources: &'a [crate::source::SourceFile],
    pub glossary: &'a glossary::GlossaryOptions,
}

/// Runs one emitter.
pub fn emit(
    emitter: Emitter,
    context: &EmitContext<'_>,
    inputs: EmitInputs<'_>,
) -> Result<Vec<OutputFile>, EmitError> {
    match emitter {
        Emitter::Sql => Ok(sql::emit(
            context.schema,
            context.options,
            context.templates,
        )?),
        Emitter::Rls => rls::emit(context),
        Emitter::Glossary => glossary::emit_with(context, inputs.glossary),
        Emitter::Consolidation => consolidation::emit_with(
            context,
            &consolidation::Definitions::read(inputs.sources),
            &consolidation::ConsolidationOptions::default(),
        ),
        Emitter::OpenApi => {
            let routes = openapi::routes::api_routes(inputs.sources);
            let envelope = openapi::routes::response_envelope(inputs.sources);
            openapi::emit_with_routes(&openapi::OpenApiInput {
                context,
                routes: &routes,
                envelope: envelope.as_ref(),
            })
        }
    }
}
