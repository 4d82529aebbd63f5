//! Column mapping between two definitions of one thing: columns with the
//! same name and type family, renamed columns (similar name, same type
//! family, each the other's unique best match), type conflicts (same name,
//! different family) and columns only one side has. The merge SQL, the
//! compatibility view and the double-definition report all read it.

use super::detect::stem;
use crate::model::Column;
use serde::Serialize;
use std::collections::BTreeSet;

/// How much two column names' word stems must overlap (Jaccard) to be
/// offered as a rename: `last_used_at` and `last_accessed_at` share half.
const RENAME_SIMILARITY: f64 = 0.5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnLink {
    pub from: String,
    pub from_type: String,
    pub to: String,
    pub to_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnInfo {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub nullable: bool,
}

/// `from` is the table (or definition) being merged, `to` the one kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ColumnMapping {
    pub same: Vec<ColumnLink>,
    pub renamed: Vec<ColumnLink>,
    pub type_conflicts: Vec<ColumnLink>,
    /// Columns only the merged side has: created on the kept side.
    pub only_in_from: Vec<ColumnInfo>,
    /// Columns only the kept side has: copied rows leave them to their
    /// default (or NULL).
    pub only_in_to: Vec<ColumnInfo>,
}

impl ColumnMapping {
    /// The kept side's column that receives a merged column, and the type
    /// to cast to when the families differ.
    pub fn target_of(&self, from: &str) -> Option<(&str, Option<&str>)> {
        self.same
            .iter()
            .chain(&self.renamed)
            .find(|l| l.from == from)
            .map(|l| (l.to.as_str(), None))
            .or_else(|| {
                self.type_conflicts
                    .iter()
                    .find(|l| l.from == from)
                    .map(|l| (l.to.as_str(), Some(l.to_type.as_str())))
            })
            .or_else(|| {
                self.only_in_from
                    .iter()
                    .find(|c| c.name == from)
                    .map(|c| (c.name.as_str(), None))
            })
    }

    /// Whether the two sides share anything at all besides `ignored`
    /// columns (the bookkeeping ones every table has).
    pub fn shares_content(&self, ignored: &[String]) -> bool {
        self.same
            .iter()
            .chain(&self.type_conflicts)
            .chain(&self.renamed)
            .any(|l| !ignored.contains(&l.from))
    }
}

fn info(column: &Column) -> ColumnInfo {
    ColumnInfo {
        name: column.name.clone(),
        ty: column.ty.to_string(),
        nullable: column.nullable,
    }
}

fn link(from: &Column, to: &Column) -> ColumnLink {
    ColumnLink {
        from: from.name.clone(),
        from_type: from.ty.to_string(),
        to: to.name.clone(),
        to_type: to.ty.to_string(),
    }
}

fn word_stems(name: &str) -> BTreeSet<String> {
    name.split('_')
        .filter(|w| !w.is_empty())
        .map(stem)
        .collect()
}

fn name_similarity(a: &str, b: &str) -> f64 {
    let (sa, sb) = (word_stems(a), word_stems(b));
    // A one-word name is contained in too many others (`source` in
    // `source_type` and `source_url`) to say which one it became.
    if sa.len() < 2 || sb.len() < 2 {
        return 0.0;
    }
    super::detect::jaccard(&sa, &sb)
}

pub fn map_columns(from: &[Column], to: &[Column]) -> ColumnMapping {
    let mut mapping = ColumnMapping::default();
    let to_names: BTreeSet<&str> = to.iter().map(|c| c.name.as_str()).collect();
    let from_names: BTreeSet<&str> = from.iter().map(|c| c.name.as_str()).collect();
    for column in from {
        if let Some(other) = to.iter().find(|c| c.name == column.name) {
            if column.ty.base() == other.ty.base() {
                mapping.same.push(link(column, other));
            } else {
                mapping.type_conflicts.push(link(column, other));
            }
        }
    }
    let lonely_from: Vec<&Column> = from
        .iter()
        .filter(|c| !to_names.contains(c.name.as_str()))
        .collect();
    let lonely_to: Vec<&Column> = to
        .iter()
        .filter(|c| !from_names.contains(c.name.as_str()))
        .collect();
    let score = |a: &Column, b: &Column| {
        if a.ty.base() == b.ty.base() {
            name_similarity(&a.name, &b.name)
        } else {
            0.0
        }
    };
    // The unique best partner of a column among `others`, if any clears
    // the threshold; ties mean the name does not say which one.
    let best = |column: &Column, others: &[&Column]| -> Option<usize> {
        let scores: Vec<f64> = others.iter().map(|o| score(column, o)).collect();
        let top = scores.iter().copied().fold(0.0_f64, f64::max);
        let at_top: Vec<usize> = (0..scores.len()).filter(|&i| scores[i] == top).collect();
        (top >= RENAME_SIMILARITY && at_top.len() == 1).then(|| at_top[0])
    };
    let mut renamed_from = BTreeSet::new();
    let mut renamed_to = BTreeSet::new();
    for (i, column) in lonely_from.iter().enumerate() {
        if let Some(j) = best(column, &lonely_to)
            && best(lonely_to[j], &lonely_from) == Some(i)
        {
            mapping.renamed.push(link(column, lonely_to[j]));
            renamed_from.insert(column.name.as_str());
            renamed_to.insert(lonely_to[j].name.as_str());
        }
    }
    mapping.only_in_from = lonely_from
        .iter()
        .filter(|c| !renamed_from.contains(c.name.as_str()))
        .map(|c| info(c))
        .collect();
    mapping.only_in_to = lonely_to
        .iter()
        .filter(|c| !renamed_to.contains(c.name.as_str()))
        .map(|c| info(c))
        .collect();
    mapping
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PgType, Source};

    fn columns(spec: &[(&str, &str)]) -> Vec<Column> {
        spec.iter()
            .map(|(n, t)| Column::new(*n, PgType::parse(t), Source::new("t.md", 1)))
            .collect()
    }

    #[test]
    fn same_renamed_conflicting_and_lonely_columns() {
        let from = columns(&[
            ("id", "uuid"),
            ("name", "varchar"),
            ("last_accessed_at", "timestamptz"),
            ("source_type", "text"),
            ("source_url", "text"),
            ("owner", "uuid"),
        ]);
        let to = columns(&[
            ("id", "uuid"),
            ("name", "text"),
            ("last_used_at", "timestamptz"),
            ("source", "text"),
            ("owner", "text"),
        ]);
        let m = map_columns(&from, &to);
        let names = |links: &[ColumnLink]| -> Vec<(String, String)> {
            links
                .iter()
                .map(|l| (l.from.clone(), l.to.clone()))
                .collect()
        };
        assert_eq!(
            names(&m.same),
            [("id".into(), "id".into()), ("name".into(), "name".into())]
        );
        assert_eq!(
            names(&m.renamed),
            [("last_accessed_at".into(), "last_used_at".into())]
        );
        assert_eq!(names(&m.type_conflicts), [("owner".into(), "owner".into())]);
        let lonely: Vec<&str> = m.only_in_from.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(lonely, ["source_type", "source_url"]);
        assert_eq!(m.only_in_to[0].name, "source");
        assert_eq!(m.target_of("owner"), Some(("owner", Some("text"))));
        assert_eq!(m.target_of("source_url"), Some(("source_url", None)));
    }
}
