//! Issue #7: the duplicate-table consolidation report. Detection
//! (`detect`) records every reason to think tables hold the same thing,
//! union-find turns the reasons into clusters, and planning (`plan`,
//! `mapping`, `sql`) picks a canonical table per cluster and a step for
//! each other table. Three files come out: `reports/consolidation.md` for
//! people, `reports/consolidation.json` for tools and
//! `reports/consolidation.sql`, one transaction per cluster that can be
//! merged by SQL. The SQL never loses a row: rows are copied with
//! `ON CONFLICT DO NOTHING`, so a row whose key the canonical table already
//! has keeps the canonical version, and the merged table itself is moved,
//! whole, into an archive schema rather than dropped.
//!
//! The merged model keeps only the winning definition of a table that two
//! documents define differently. The losing columns come from the
//! project's [`Definitions`], taken from each document as it was read.

mod detect;
mod mapping;
mod plan;
mod sql;

pub use detect::{DetectionStats, Evidence, Intent, Recommendation, SignalKind};
pub use mapping::{ColumnInfo, ColumnLink, ColumnMapping};
pub use plan::{Action, Cluster, DefinitionConflict, Member, OtherDefinition, Risks, Step};
pub use sql::{SqlColumn, SqlCopy, SqlForeignKey, SqlStep, SqlViewColumn};

use super::{EmitContext, EmitError, OutputFile, OutputSink};
use crate::model::stages::{Documented, Realized};
pub use crate::source::definitions::{Definition, Definitions};
use serde::Serialize;

pub const MARKDOWN: &str = "reports/consolidation.md";
pub const JSON: &str = "reports/consolidation.json";
pub const SQL: &str = "reports/consolidation.sql";

/// What happens to a row whose key the canonical table already holds.
pub const CONFLICT_RULE: &str = "Rows are copied with INSERT … SELECT … ON CONFLICT DO NOTHING. A copied row whose primary key (or another unique key) already exists in the canonical table is not copied: the canonical row wins, on the rule that the same key is the same entity. No row is deleted: the merged table is moved whole into the archive schema, so a skipped row stays there, and the script reports how many rows each copy skipped.";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsolidationOptions {
    /// Jaccard index of (name, type family) column sets from which two
    /// tables count as similar.
    pub column_similarity_threshold: f64,
    /// Fewest shared (name, type family) columns for column similarity to
    /// count: one shared column, typically an FK to the same parent, makes
    /// siblings look identical when they have little else.
    pub min_shared_columns: usize,
    /// Columns nearly every table has; they neither pair tables nor count
    /// towards similarity.
    pub bookkeeping_columns: Vec<String>,
    /// A column name (or name stem) shared by more tables than this is too
    /// common to pair tables on. It bounds the work per table, keeping
    /// detection near-linear in the number of tables.
    pub max_block_size: usize,
    /// Where merged tables are moved, whole, instead of being dropped.
    pub archive_schema: String,
}

impl Default for ConsolidationOptions {
    fn default() -> Self {
        ConsolidationOptions {
            column_similarity_threshold: 0.5,
            min_shared_columns: 2,
            bookkeeping_columns: ["id", "created_at", "updated_at"]
                .map(str::to_owned)
                .to_vec(),
            max_block_size: 50,
            archive_schema: "consolidation_archive".to_owned(),
        }
    }
}

/// Everything the three files say.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub options: ConsolidationOptions,
    pub conflict_rule: String,
    pub stats: DetectionStats,
    /// By score, highest first, then by canonical table name.
    pub clusters: Vec<Cluster>,
}

impl Report {
    pub fn cluster_of(&self, table: &str) -> Option<&Cluster> {
        self.clusters
            .iter()
            .find(|c| c.tables.iter().any(|m| m.name == table))
    }
}

/// Detects and plans. Pure: the documented model says what the tables
/// are, the realised one which physical schema the SQL runs against, and
/// `definitions` supplies the columns of definitions the model did not keep.
pub fn report(
    documented: &Documented,
    realized: &Realized,
    definitions: &Definitions,
    options: &ConsolidationOptions,
) -> Report {
    let detection = detect::detect(documented, definitions, options);
    let clusters = plan::build(documented, realized, definitions, &detection, options);
    Report {
        options: options.clone(),
        conflict_rule: CONFLICT_RULE.to_owned(),
        stats: detection.stats,
        clusters,
    }
}

/// The three files, with the project's per-document definitions and the
/// default options.
pub fn emit(context: &EmitContext<'_>, sink: &mut dyn OutputSink) -> Result<(), EmitError> {
    let report = report(
        context.documented(),
        context.realized(),
        context.project.definitions(),
        &ConsolidationOptions::default(),
    );
    let mut tera_context = tera::Context::new();
    tera_context.insert("report", &report);
    let markdown = context
        .templates
        .render("consolidation.md.tera", &tera_context)?;
    let sql = context
        .templates
        .render("consolidation.sql.tera", &tera_context)?;
    let mut json = serde_json::to_string_pretty(&report).map_err(|e| EmitError::Serialize {
        what: JSON.to_owned(),
        message: e.to_string(),
    })?;
    json.push('\n');
    sink.file(OutputFile::new(MARKDOWN, ends_with_newline(markdown)))?;
    sink.file(OutputFile::new(JSON, json))?;
    sink.file(OutputFile::new(SQL, ends_with_newline(sql)))
}

fn ends_with_newline(mut text: String) -> String {
    let trimmed = text.trim_end().len();
    text.truncate(trimmed);
    text.push('\n');
    text
}

#[cfg(test)]
mod tests;
