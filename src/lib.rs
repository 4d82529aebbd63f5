//! schemagen: database documentation as the source of truth for a
//! PostgreSQL/Supabase schema. The pipeline is visible in the modules:
//! `source` reads documents, `model` lowers them into one typed schema,
//! `lint` checks it, `diff` compares two schemas, `emit` renders outputs and
//! `introspect` reads a live database. Only `run` (the CLI side) touches disk.

pub mod cli;
pub mod config;
pub mod diag;
pub mod diff;
pub mod emit;
pub mod introspect;
pub mod lint;
pub mod model;
pub mod run;
pub mod source;
pub mod synth;

use crate::config::Overrides;
use crate::diag::Diagnostic;
use crate::model::Schema;
use crate::model::lower::{LowerOptions, lower};
use crate::source::SourceFile;
use std::path::PathBuf;

/// Documents read from disk, and the schema they describe.
#[derive(Debug)]
pub struct Loaded {
    pub files: Vec<SourceFile>,
    pub schema: Schema,
    pub diagnostics: Vec<Diagnostic>,
    /// Every definition of each table that more than one document defines,
    /// taken from the documents as read, for the consolidation report.
    pub definitions: emit::consolidation::Definitions,
}

/// What `load` needs besides the document paths.
#[derive(Debug, Default, Clone)]
pub struct LoadOptions {
    pub overrides: Overrides,
    /// Display path and text of the configuration, for override diagnostics.
    pub config_source: Option<(String, String)>,
}

/// Builds the schema from documents already in memory. Pure: no IO.
pub fn build_schema(files: &[SourceFile], options: &LoadOptions) -> (Schema, Vec<Diagnostic>) {
    let (schema, diagnostics, _) = build(files, options);
    (schema, diagnostics)
}

/// Reads each document (on a thread of its own: they are independent),
/// notes the tables several of them define, and merges them.
fn build(
    files: &[SourceFile],
    options: &LoadOptions,
) -> (Schema, Vec<Diagnostic>, emit::consolidation::Definitions) {
    let fragments: Vec<source::document::Fragment> = std::thread::scope(|scope| {
        let readers: Vec<_> = files
            .iter()
            .map(|file| scope.spawn(|| source::document::read_document(file)))
            .collect();
        readers
            .into_iter()
            .map(|reader| match reader.join() {
                Ok(fragment) => fragment,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    let definitions =
        emit::consolidation::Definitions::from_documents(fragments.iter().map(|f| &f.schema));
    let lower_options = LowerOptions {
        overrides: &options.overrides,
        config_source: options
            .config_source
            .as_ref()
            .map(|(p, t)| (p.as_str(), t.as_str())),
    };
    let (schema, diagnostics) = lower(fragments, &lower_options);
    (schema, diagnostics, definitions)
}

/// Reads the documents and builds the schema. Only IO can fail.
pub fn load(doc_paths: &[PathBuf], options: &LoadOptions) -> Result<Loaded, source::ReadError> {
    let mut files = Vec::new();
    let mut diagnostics = Vec::new();
    for path in source::expand_doc_paths(doc_paths)? {
        let (file, found) = source::read_file(&path)?;
        files.push(file);
        diagnostics.extend(found);
    }
    let (schema, found, definitions) = build(&files, options);
    diagnostics.extend(found);
    Ok(Loaded {
        files,
        schema,
        diagnostics,
        definitions,
    })
}
