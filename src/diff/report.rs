//! Drift as a report: the counts `gen check` summarises, and the items
//! grouped by the table they belong to, as the text format shows them.
//! Here rather than in the shell, so that every format counts the same way.

use super::drift::DriftItem;
use crate::diag::Diagnostic;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// How much drift there is, for the summary line and `--format json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriftSummary {
    pub items: usize,
    pub tables: usize,
    pub by_kind: BTreeMap<&'static str, usize>,
}

impl DriftSummary {
    pub fn of(items: &[DriftItem]) -> DriftSummary {
        let mut by_kind = BTreeMap::new();
        for item in items {
            *by_kind.entry(item.kind.code()).or_insert(0) += 1;
        }
        DriftSummary {
            items: items.len(),
            tables: items
                .iter()
                .map(|item| item.table().to_string())
                .collect::<BTreeSet<_>>()
                .len(),
            by_kind,
        }
    }

    /// The one-line summary; `database` names the database (its URL with
    /// the password masked).
    pub fn line(&self, database: &str) -> String {
        if self.items == 0 {
            format!("no drift: {database} matches the documents")
        } else {
            format!(
                "drift: {} item(s) in {} table(s) of {database}; `gen diff` prints the SQL that repairs it",
                self.items, self.tables
            )
        }
    }
}

/// The items as diagnostics, grouped by table in name order.
pub fn by_table(items: &[DriftItem]) -> BTreeMap<String, Vec<Diagnostic>> {
    let mut groups: BTreeMap<String, Vec<Diagnostic>> = BTreeMap::new();
    for item in items {
        groups
            .entry(item.table().to_string())
            .or_default()
            .push(item.to_diagnostic());
    }
    groups
}
