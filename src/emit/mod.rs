//! Emitters: each output is one file here, registered in the closed
//! `Emitter` enum. An emitter returns the files it wants written
//! (`OutputFile`, paths relative to the output directory); only the CLI
//! touches disk. Migrations are not in the enum: they depend on what earlier
//! runs left on disk, so `migrations::plan` takes that as input.
//!
//! Emitters hand their files to an [`OutputSink`] as they render them, so
//! that `gen all` can put each one on disk (in its temporary place) before
//! the next is rendered, and the largest outputs can be streamed instead of
//! held in memory; [`emit`] collects them into a list instead. The realised
//! schema most emitters read is computed once per [`EmitContext`].

pub mod consolidation;
pub mod glossary;
pub mod migrations;
pub mod openapi;
pub mod rls;
pub mod rust;
pub mod sql;
pub mod templates;

use crate::config::Target;
use crate::diag::Diagnostic;
use crate::model::Schema;
use crate::model::physical::RealizeOptions;
use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

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
    /// `rust/`: a crate of Rust types for every fully documented table, for sqlx.
    Models,
}

impl Emitter {
    pub const ALL: &'static [Emitter] = &[
        Emitter::Sql,
        Emitter::Rls,
        Emitter::OpenApi,
        Emitter::Glossary,
        Emitter::Consolidation,
        Emitter::Models,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Emitter::Sql => "sql",
            Emitter::Rls => "rls",
            Emitter::OpenApi => "openapi",
            Emitter::Glossary => "glossary",
            Emitter::Consolidation => "consolidation",
            Emitter::Models => "models",
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
    /// The physical schema (`physical::realize`) and realisation's
    /// diagnostics, computed on first use and shared by every emitter.
    realized: OnceLock<(Schema, Vec<Diagnostic>)>,
    /// The script from an empty database to the realised schema, titled
    /// [`sql::SCHEMA_TITLE`], rendered on first use (or its error).
    initial_script: OnceLock<Result<(String, sql::ChangeSummary), String>>,
}

impl<'a> EmitContext<'a> {
    pub fn new(schema: &'a Schema, options: &'a EmitOptions, templates: &'a Templates) -> Self {
        EmitContext {
            schema,
            options,
            templates,
            realized: OnceLock::new(),
            initial_script: OnceLock::new(),
        }
    }

    fn realization(&self) -> &(Schema, Vec<Diagnostic>) {
        self.realized
            .get_or_init(|| crate::model::physical::realize(self.schema, &self.options.realize))
    }

    /// The realised schema: what the migrations create.
    pub fn realized(&self) -> &Schema {
        &self.realization().0
    }

    /// What realisation reported (for `gen lint` and the `gen all` summary).
    pub fn realize_diagnostics(&self) -> &[Diagnostic] {
        &self.realization().1
    }

    /// The body of `sql/schema.sql`: the script from an empty database,
    /// which a first migration repeats under its own title.
    pub fn initial_script(&self) -> Result<&str, TemplateError> {
        self.initial_script_and_summary()
            .map(|(text, _)| text.as_str())
    }

    /// [`EmitContext::initial_script`] and a summary of its changes, so
    /// that a first migration need not diff the schema again.
    pub fn initial_script_and_summary(
        &self,
    ) -> Result<&(String, sql::ChangeSummary), TemplateError> {
        self.initial_script
            .get_or_init(|| {
                sql::initial_script(
                    self.realized(),
                    sql::SCHEMA_TITLE,
                    self.options,
                    self.templates,
                )
                .map_err(|e| match e {
                    TemplateError::Tera(message) => message,
                    other => other.to_string(),
                })
            })
            .as_ref()
            .map_err(|message| TemplateError::Tera(message.clone()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("cannot serialise {what}: {message}")]
    Serialize { what: String, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Renders streamed files: one writer per path, in order.
pub type StreamWriter<'w> = dyn FnMut(&mut [&mut dyn Write]) -> Result<(), EmitError> + 'w;

/// Where an emitter's files go as it renders them.
pub trait OutputSink {
    /// A file rendered in memory.
    fn file(&mut self, file: OutputFile) -> Result<(), EmitError>;

    /// Files rendered together straight into their destination: `write`
    /// gets one writer per path, in order. For outputs too large to hold
    /// in memory beside the others (the OpenAPI description).
    fn stream(&mut self, paths: &[&str], write: &mut StreamWriter<'_>) -> Result<(), EmitError>;
}

/// How a rendered file ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// As the template wrote it.
    AsRendered,
    /// With a newline, added when the template did not write one.
    Newline,
}

/// Renders a template straight into the sink as the file `path`.
pub(crate) fn render_into(
    sink: &mut dyn OutputSink,
    path: &str,
    templates: &Templates,
    template: &str,
    context: &tera::Context,
    ending: Ending,
) -> Result<(), EmitError> {
    sink.stream(&[path], &mut |writers| {
        Ok(templates.render_to(template, context, ending, &mut *writers[0])?)
    })
}

/// Collects the files in memory: what [`emit`] returns.
impl OutputSink for Vec<OutputFile> {
    fn file(&mut self, file: OutputFile) -> Result<(), EmitError> {
        self.push(file);
        Ok(())
    }

    fn stream(&mut self, paths: &[&str], write: &mut StreamWriter<'_>) -> Result<(), EmitError> {
        let mut buffers: Vec<Vec<u8>> = vec![Vec::new(); paths.len()];
        let mut writers: Vec<&mut dyn Write> =
            buffers.iter_mut().map(|b| b as &mut dyn Write).collect();
        write(&mut writers)?;
        for (path, buffer) in paths.iter().zip(buffers) {
            let contents = String::from_utf8(buffer).map_err(|e| EmitError::Serialize {
                what: (*path).to_owned(),
                message: e.to_string(),
            })?;
            self.push(OutputFile::new(*path, contents));
        }
        Ok(())
    }
}

/// What some emitters read besides the model: the documents themselves
/// (the OpenAPI emitter reads the documented routes and response envelope)
/// and per-emitter settings from the configuration.
#[derive(Clone, Copy)]
pub struct EmitInputs<'a> {
    pub sources: &'a [crate::source::SourceFile],
    pub glossary: &'a glossary::GlossaryOptions,
    /// The tables several documents define, as `crate::load` found them;
    /// without them the consolidation emitter reads `sources` again.
    pub definitions: Option<&'a consolidation::Definitions>,
}

/// Runs one emitter and returns its files.
pub fn emit(
    emitter: Emitter,
    context: &EmitContext<'_>,
    inputs: EmitInputs<'_>,
) -> Result<Vec<OutputFile>, EmitError> {
    let mut files = Vec::new();
    emit_into(emitter, context, inputs, &mut files)?;
    Ok(files)
}

/// Runs one emitter, handing its files to `sink` as they are rendered.
pub fn emit_into(
    emitter: Emitter,
    context: &EmitContext<'_>,
    inputs: EmitInputs<'_>,
    sink: &mut dyn OutputSink,
) -> Result<(), EmitError> {
    let files = match emitter {
        Emitter::Sql => sql::emit_realized(context)?,
        Emitter::Rls => return rls::emit_into(context, sink),
        Emitter::Glossary => return glossary::emit_into(context, inputs.glossary, sink),
        Emitter::Consolidation => {
            let read;
            let definitions = match inputs.definitions {
                Some(definitions) => definitions,
                None => {
                    read = consolidation::Definitions::read(inputs.sources);
                    &read
                }
            };
            consolidation::emit_with(
                context,
                definitions,
                &consolidation::ConsolidationOptions::default(),
            )?
        }
        Emitter::Models => rust::emit(context)?,
        Emitter::OpenApi => {
            let (routes, envelope) = openapi::routes::routes_and_envelope(inputs.sources);
            return openapi::emit_into(
                &openapi::OpenApiInput {
                    context,
                    routes: &routes,
                    envelope: envelope.as_ref(),
                },
                sink,
            );
        }
    };
    files.into_iter().try_for_each(|file| sink.file(file))
}
