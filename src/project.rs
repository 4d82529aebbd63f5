//! The project: the documents read once, and everything the rest of the
//! pipeline takes from them, each computed once. `Project::load` reads the
//! configured documents; `Project::from_files` does the same from files
//! already in memory and touches no disk. Either way the documented schema,
//! the realised schema, the application routes, the per-document table
//! definitions and every diagnostic (reading, lowering, realising and the
//! lint checks, sorted in the one stable order) are there when it returns,
//! so that `gen lint`, migrations, every emitter and `gen check` see the
//! same values, and none of them computes its own.

use crate::diag::{self, Diagnostic, Severity};
use crate::lint;
use crate::model::lower::{LowerOptions, lower};
use crate::model::stages::{Documented, Realized};
use crate::settings::Settings;
use crate::source::definitions::Definitions;
use crate::source::routes::{ApiRoute, ResponseEnvelope, read_routes};
use crate::source::{self, ReadError, SourceFile};

/// The documents and what they describe.
#[derive(Debug)]
pub struct Project {
    settings: Settings,
    files: Vec<SourceFile>,
    documented: Documented,
    realized: Realized,
    diagnostics: Vec<Diagnostic>,
    routes: Vec<ApiRoute>,
    envelope: Option<ResponseEnvelope>,
    definitions: Definitions,
}

impl Project {
    /// Reads the configured documents and builds the project. Only IO can
    /// fail; everything the documents get wrong is a diagnostic.
    pub fn load(settings: &Settings) -> Result<Project, ReadError> {
        let mut files = Vec::new();
        let mut diagnostics = Vec::new();
        for path in source::expand_doc_paths(&settings.documents)? {
            let (file, found) = source::read_file(&path, &settings.root)?;
            files.push(file);
            diagnostics.extend(found);
        }
        Ok(Project::from_files(files, diagnostics, settings))
    }

    /// The project of documents already in memory, with what decoding
    /// them reported. Pure.
    pub fn from_files(
        files: Vec<SourceFile>,
        mut diagnostics: Vec<Diagnostic>,
        settings: &Settings,
    ) -> Project {
        let fragments: Vec<source::document::Fragment> = std::thread::scope(|scope| {
            // Each document is read on a thread of its own: they are
            // independent, and the two real ones take about as long.
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
        let definitions = Definitions::from_documents(fragments.iter().map(|f| &f.schema));
        let lower_options = LowerOptions {
            overrides: &settings.overrides,
            config_source: settings
                .config_source
                .as_ref()
                .map(|c| (c.display_path.as_str(), c.text.as_str())),
        };
        let (schema, found) = lower(fragments, &lower_options);
        diagnostics.extend(found);
        let (routes, envelope, found) = read_routes(&files);
        diagnostics.extend(found);
        let mut project = Project::assemble(Documented::new(schema), diagnostics, settings);
        project.files = files;
        project.routes = routes;
        project.envelope = envelope;
        project.definitions = definitions;
        project
    }

    /// The project of one document given as text, named `display_path`.
    pub fn from_text(display_path: &str, text: &str, settings: &Settings) -> Project {
        let (file, diagnostics) = SourceFile::decode(display_path, text.as_bytes());
        Project::from_files(vec![file], diagnostics, settings)
    }

    /// A project whose documented model is given rather than read: for
    /// synthetic schemas in tests and benches. It has no files, routes or
    /// per-document definitions.
    pub fn from_documented(documented: Documented, settings: &Settings) -> Project {
        Project::assemble(documented, Vec::new(), settings)
    }

    /// Realises the documented schema and runs the lint checks, in the one
    /// order `gen lint` reports: reading and lowering, the checks on the
    /// documented model, realisation, the checks on the realised model.
    fn assemble(
        documented: Documented,
        mut diagnostics: Vec<Diagnostic>,
        settings: &Settings,
    ) -> Project {
        diagnostics.extend(lint::lint(&documented));
        let (realized, found) = documented.realize(&settings.realize);
        diagnostics.extend(found);
        diagnostics.extend(lint::lint_realized(&realized));
        diag::sort(&mut diagnostics);
        Project {
            settings: settings.clone(),
            files: Vec::new(),
            documented,
            realized,
            diagnostics,
            routes: Vec::new(),
            envelope: None,
            definitions: Definitions::default(),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The documents, cleaned, as diagnostics and outputs name them.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// The schema as the documents describe it.
    pub fn documented(&self) -> &Documented {
        &self.documented
    }

    /// The schema the migrations create.
    pub fn realized(&self) -> &Realized {
        &self.realized
    }

    /// Every diagnostic, sorted.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// Whether a diagnostic is an error: output generated from a document
    /// that could not be read would be wrong, so generating commands stop.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    /// Whether the input itself could not be read as intended (exit 2
    /// even for `gen lint`).
    pub fn has_input_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.code.is_input_error())
    }

    /// The application's documented HTTP routes.
    pub fn routes(&self) -> &[ApiRoute] {
        &self.routes
    }

    /// The documented API response envelope, if there is one.
    pub fn envelope(&self) -> Option<&ResponseEnvelope> {
        self.envelope.as_ref()
    }

    /// Every definition of each table more than one document defines.
    pub fn definitions(&self) -> &Definitions {
        &self.definitions
    }

    /// The counts of `gen lint`'s and `gen all`'s summary line.
    pub fn summary(&self) -> lint::Summary {
        lint::Summary::of(&self.documented)
    }
}
