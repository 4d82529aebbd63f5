//! Corrections the documents cannot make themselves, from the
//! configuration's `overrides:` section: tables to leave out, and column
//! types, nullability, FK targets, defaults and backfills to correct. Applied while lowering, so
//! that every output sees the corrected model.
//! configuration's `overrides:` section: tables to leave out, column
//! types, nullability and FK targets to correct, and the old names of
//! renamed tables and columns. Applied while lowering, so that every output
//! sees the corrected model.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// Tables left out of the model entirely.
    #[serde(default)]
    pub ignore_tables: Vec<String>,
    /// Per-table corrections.
    #[serde(default)]
    pub tables: BTreeMap<String, TableOverride>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableOverride {
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnOverride>,
    /// The table's old name, as `**Renamed from:**` in its section.
    #[serde(default)]
    pub renamed_from: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnOverride {
    /// A PostgreSQL type, such as `numeric(12,2)`.
    #[serde(default, rename = "type")]
    pub ty: Option<String>,
    #[serde(default)]
    pub nullable: Option<bool>,
    /// FK target: `table`, `table(column)` or `auth.users(id)`.
    #[serde(default)]
    pub references: Option<String>,
    /// A default: one SQL expression, such as `0` or `'active'`.
    #[serde(default)]
    pub default: Option<String>,
    /// What existing rows get when the column is added: one SQL
    /// expression, as in a document's `**Backfill:**` note, which it
    /// replaces.
    #[serde(default)]
    pub backfill: Option<String>,
    /// The column's old name, as `(renamed from `old`)` in its description.
    #[serde(default)]
    pub renamed_from: Option<String>,
}
