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
//! documents define differently. The losing columns come from
//! [`Definitions`], which re-reads each document on its own; `emit` (the
//! registry's entry point, with the model alone) reports the double
//! definition without them, `emit_with` includes them.

mod detect;
mod mapping;
mod plan;
mod sql;

pub use detect::{DetectionStats, Evidence, Intent, Recommendation, SignalKind};
pub use mapping::{ColumnInfo, ColumnLink, ColumnMapping};
pub use plan::{Action, Cluster, DefinitionConflict, Member, OtherDefinition, Risks, Step};
pub use sql::{SqlColumn, SqlCopy, SqlForeignKey, SqlStep, SqlViewColumn};

use super::{EmitContext, EmitError, OutputFile};
use crate::model::physical::{RealizeOptions, realize};
use crate::model::{Column, DefinitionKind, Schema, Source};
use crate::source::SourceFile;
use crate::source::document::read_document;
use serde::Serialize;
use std::collections::BTreeMap;

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

/// One document's definition of a table, with its columns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Definition {
    pub source: Source,
    pub defined_by: Option<DefinitionKind>,
    pub columns: Vec<Column>,
}

impl Definition {
    fn describe(&self) -> String {
        let kind = match self.defined_by {
            Some(DefinitionKind::Sql) => "SQL",
            _ => "Markdown",
        };
        format!("{} ({kind}, {} columns)", self.source, self.columns.len())
    }
}

/// Every definition of each table that more than one document defines with
/// columns, in precedence order (the first is the one the model kept).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Definitions {
    tables: BTreeMap<String, Vec<Definition>>,
}

impl Definitions {
    /// Reads each document on its own, as the model's merge would before
    /// choosing a winner. Pure: the files are already in memory.
    pub fn read(files: &[SourceFile]) -> Definitions {
        let schemas: Vec<Schema> = files.iter().map(|f| read_document(f).schema).collect();
        Definitions::from_schemas(&schemas)
    }

    /// The same from per-document schemas, in precedence order.
    pub fn from_schemas(schemas: &[Schema]) -> Definitions {
        Definitions::from_documents(schemas)
    }

    /// The same from per-document schemas, in precedence order, by
    /// reference: `crate::load` passes the documents it read before merging
    /// them, so that they need not be read again. Only the tables that more
    /// than one document defines are copied.
    pub fn from_documents<'s>(
        schemas: impl IntoIterator<Item = &'s Schema> + Clone,
    ) -> Definitions {
        let defined =
            |schema: &'s Schema| schema.documented_tables().filter(|t| !t.columns.is_empty());
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        for schema in schemas.clone() {
            for table in defined(schema) {
                *count.entry(table.name.as_str()).or_default() += 1;
            }
        }
        let mut tables: BTreeMap<String, Vec<Definition>> = BTreeMap::new();
        for schema in schemas {
            for table in defined(schema).filter(|t| count[t.name.as_str()] > 1) {
                tables
                    .entry(table.name.clone())
                    .or_default()
                    .push(Definition {
                        source: table
                            .definitions
                            .first()
                            .cloned()
                            .unwrap_or_else(|| table.source.clone()),
                        defined_by: table.defined_by,
                        columns: table.columns.clone(),
                    });
            }
        }
        Definitions { tables }
    }

    pub fn of(&self, table: &str) -> Option<&[Definition]> {
        self.tables.get(table).map(Vec::as_slice)
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

/// Detects and plans. Pure: the schema is the documented model, the
/// realisation options say which physical schema the SQL runs against.
pub fn report(
    schema: &Schema,
    definitions: &Definitions,
    realize_options: &RealizeOptions,
    options: &ConsolidationOptions,
) -> Report {
    let (realized, _) = realize(schema, realize_options);
    report_realized(schema, &realized, definitions, options)
}

/// [`report`] with the schema already realised.
pub fn report_realized(
    schema: &Schema,
    realized: &Schema,
    definitions: &Definitions,
    options: &ConsolidationOptions,
) -> Report {
    let detection = detect::detect(schema, definitions, options);
    let clusters = plan::build(schema, realized, definitions, &detection, options);
    Report {
        options: options.clone(),
        conflict_rule: CONFLICT_RULE.to_owned(),
        stats: detection.stats,
        clusters,
    }
}

/// The registry's entry point: the model alone, default options. A table
/// documented twice is reported without the losing definition's columns.
pub fn emit(context: &EmitContext<'_>) -> Result<Vec<OutputFile>, EmitError> {
    emit_with(
        context,
        &Definitions::default(),
        &ConsolidationOptions::default(),
    )
}

/// The full report: `definitions` (from [`Definitions::read`] on the loaded
/// documents) supplies the columns of definitions the model did not keep.
pub fn emit_with(
    context: &EmitContext<'_>,
    definitions: &Definitions,
    options: &ConsolidationOptions,
) -> Result<Vec<OutputFile>, EmitError> {
    let report = report_realized(context.schema, context.realized(), definitions, options);
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
    Ok(vec![
        OutputFile::new(MARKDOWN, ends_with_newline(markdown)),
        OutputFile::new(JSON, json),
        OutputFile::new(SQL, ends_with_newline(sql)),
    ])
}

fn ends_with_newline(mut text: String) -> String {
    let trimmed = text.trim_end().len();
    text.truncate(trimmed);
    text.push('\n');
    text
}

#[cfg(test)]
mod tests;
