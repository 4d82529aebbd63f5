//! Emitters: each output is one module here, registered in the closed
//! `Emitter` enum, with one entry point of one signature
//! (`fn emit(&EmitContext, &mut dyn OutputSink)`). An emitter hands the
//! files it wants written (`OutputFile`, paths relative to the output
//! directory) to the sink; only the CLI touches disk. Migrations are not in
//! the enum: they depend on what earlier runs left on disk, so
//! `migrations::plan` takes that as input.
//!
//! Files go to the sink as they are rendered, so that `gen all` can put
//! each one on disk (in its temporary place) before the next is rendered,
//! and the largest outputs can be streamed instead of held in memory;
//! [`Emitter::render`] collects them into a list instead. Everything an
//! emitter reads comes from the [`Project`], computed once.

pub mod all;
pub mod consolidation;
pub mod glossary;
pub mod migrations;
pub mod openapi;
pub mod rls;
pub mod rust;
pub mod sql;
pub mod stale;
pub mod templates;

use crate::model::stages::{Documented, Realized};
use crate::project::Project;
use crate::settings::Settings;
pub use crate::settings::Target;
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

/// Every output rendered from the project alone. Closed, so `gen all` and
/// the stale check in `gen check` cannot forget one. Each variant's module
/// has one entry point of one signature, [`EmitFn`]; [`Emitter::writes`]
/// declares the paths it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Emitter {
    /// `sql/schema.sql`: the complete DDL for a fresh database.
    Sql,
    /// `rls/policies.sql` and the access matrix in `reports/`.
    Rls,
    /// `openapi/openapi.yaml` and `.json`: the REST surface, OpenAPI 3.1.
    OpenApi,
    /// `glossary/glossary.md`, `.jsonl` and `.sql`: every field and table, for Javari.
    Glossary,
    /// `reports/consolidation.md`, `.json` and `.sql`: duplicate tables and how to merge them.
    Consolidation,
    /// `rust/`: a crate of Rust types for every fully documented table, for sqlx.
    Models,
}

/// The one signature every emitter has: the project and templates in,
/// files out through the sink, as they are rendered.
pub type EmitFn = fn(&EmitContext<'_>, &mut dyn OutputSink) -> Result<(), EmitError>;

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

    /// The emitter called `name`, as `gen emit NAME` spells it.
    pub fn from_name(name: &str) -> Option<Emitter> {
        Emitter::ALL.iter().copied().find(|e| e.name() == name)
    }

    /// The entry point.
    fn entry(self) -> EmitFn {
        match self {
            Emitter::Sql => sql::emit,
            Emitter::Rls => rls::emit,
            Emitter::OpenApi => openapi::emit,
            Emitter::Glossary => glossary::emit,
            Emitter::Consolidation => consolidation::emit,
            Emitter::Models => rust::emit,
        }
    }

    /// The paths the emitter writes, relative to the output directory; a
    /// `*` stands for one path segment (the model crate has a module per
    /// documentation module). Every file it writes matches one of them.
    pub fn writes(self) -> &'static [&'static str] {
        match self {
            Emitter::Sql => &[sql::SCHEMA_PATH],
            Emitter::Rls => &[rls::POLICIES_PATH, rls::MATRIX_MARKDOWN, rls::MATRIX_JSON],
            Emitter::OpenApi => &[openapi::JSON_PATH, openapi::YAML_PATH],
            Emitter::Glossary => &[glossary::MARKDOWN, glossary::JSONL, glossary::SQL],
            Emitter::Consolidation => &[
                consolidation::MARKDOWN,
                consolidation::JSON,
                consolidation::SQL,
            ],
            Emitter::Models => &["rust/Cargo.toml", "rust/src/lib.rs", "rust/src/*.rs"],
        }
    }

    /// Whether `path` is one the emitter declares.
    pub fn declares(self, path: &std::path::Path) -> bool {
        let path = path.to_string_lossy().replace('\\', "/");
        self.writes()
            .iter()
            .any(|pattern| matches_pattern(pattern, &path))
    }

    /// Runs the emitter, handing its files to `sink` as they are rendered.
    pub fn emit(
        self,
        context: &EmitContext<'_>,
        sink: &mut dyn OutputSink,
    ) -> Result<(), EmitError> {
        (self.entry())(context, sink)
    }

    /// Runs the emitter and returns its files.
    pub fn render(self, context: &EmitContext<'_>) -> Result<Vec<OutputFile>, EmitError> {
        let mut files = Vec::new();
        self.emit(context, &mut files)?;
        Ok(files)
    }
}

/// `rust/src/*.rs` against `rust/src/crm.rs`: `*` is one segment's worth.
fn matches_pattern(pattern: &str, path: &str) -> bool {
    let pattern_parts: Vec<&str> = pattern.split('/').collect();
    let path_parts: Vec<&str> = path.split('/').collect();
    pattern_parts.len() == path_parts.len()
        && pattern_parts
            .iter()
            .zip(&path_parts)
            .all(|(p, s)| match p.split_once('*') {
                Some((prefix, suffix)) => {
                    s.len() >= prefix.len() + suffix.len()
                        && s.starts_with(prefix)
                        && s.ends_with(suffix)
                }
                None => p == s,
            })
}

/// Everything an emitter reads: the project, the templates, and the script
/// from an empty database, which `sql/schema.sql` and a first migration
/// share and which is rendered once, on first use.
pub struct EmitContext<'a> {
    pub project: &'a Project,
    pub templates: &'a Templates,
    /// The script from an empty database to the realised schema, titled
    /// [`sql::SCHEMA_TITLE`], rendered on first use (or its error).
    initial_script: OnceLock<Result<(String, sql::ChangeSummary), String>>,
}

impl<'a> EmitContext<'a> {
    pub fn new(project: &'a Project, templates: &'a Templates) -> Self {
        EmitContext {
            project,
            templates,
            initial_script: OnceLock::new(),
        }
    }

    /// The documented model.
    pub fn documented(&self) -> &'a Documented {
        self.project.documented()
    }

    /// The realised schema: what the migrations create.
    pub fn realized(&self) -> &'a Realized {
        self.project.realized()
    }

    pub fn settings(&self) -> &'a Settings {
        self.project.settings()
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
                    self.settings().target,
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

/// A file rendered from one template: where it goes, which template
/// renders it and how it ends.
pub(crate) struct TemplateOutput<'a> {
    pub path: &'a str,
    pub template: &'a str,
    pub ending: Ending,
}

/// Renders a template straight into the sink as the file `output.path`.
pub(crate) fn render_into(
    sink: &mut dyn OutputSink,
    templates: &Templates,
    output: TemplateOutput<'_>,
    context: &tera::Context,
) -> Result<(), EmitError> {
    sink.stream(&[output.path], &mut |writers| {
        Ok(templates.render_to(output.template, context, output.ending, &mut *writers[0])?)
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
