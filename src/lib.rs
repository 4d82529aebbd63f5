//! schemagen: database documentation as the source of truth for a
//! PostgreSQL/Supabase schema. The pipeline is visible in the modules:
//! `source` reads documents, `model` lowers them into one typed schema and
//! realises it, `project` holds both (computed once), `lint` checks them,
//! `diff` compares two schemas, `emit` renders outputs and `introspect`
//! reads a live database. `run` is the command-line shell: it parses
//! arguments (`cli`, `config`), calls the library, and is the only code that
//! writes to disk. `ARCHITECTURE.md` has the code map and the invariants.

pub mod apply;
pub mod cli;
pub mod config;
pub mod diag;
pub mod diff;
pub mod emit;
pub mod introspect;
pub mod lint;
pub mod model;
pub mod project;
pub mod run;
pub mod settings;
pub mod source;
#[cfg(feature = "synth")]
pub mod synth;

pub use project::Project;
pub use settings::Settings;
