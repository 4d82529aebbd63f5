//! The SQL side of a merge step: what `consolidation.sql.tera` renders,
//! computed from the realised schema so that constraint names, defaults
//! and nullability are the ones the database built from the documents has.
//! It also states, as preconditions, what the data must satisfy for the
//! transaction to commit; when the schema itself makes the merge impossible
//! the step is refused instead.

use super::ConsolidationOptions;
use super::mapping::ColumnMapping;
use crate::model::physical::{pg_object_name, quote_identifier};
use crate::model::{Column, ForeignKey, PgType, Schema, Table};
use serde::Serialize;
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SqlColumn {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SqlForeignKey {
    pub table: String,
    pub name: String,
    pub columns: Vec<String>,
    pub references_schema: Option<String>,
    pub references: String,
    pub referenced_columns: Vec<String>,
    pub on_delete: Option<String>,
    pub on_update: Option<String>,
}

/// One column of the INSERT … SELECT: `from` of the merged table goes into
/// `to` of the canonical one, cast when the type families differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SqlCopy {
    pub to: String,
    pub from: String,
    pub cast: Option<String>,
}

/// One column of the compatibility view: the canonical `column` shown
/// under the merged table's name for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SqlViewColumn {
    pub column: String,
    pub alias: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SqlStep {
    pub table: String,
    pub canonical: String,
    pub archive_schema: String,
    /// `schema.table` of the archived table, quoted, for regclass literals.
    pub archived: String,
    pub add_columns: Vec<SqlColumn>,
    /// FKs of created columns, added once every table of the cluster is
    /// merged so the rows they point at are in place.
    pub carried_foreign_keys: Vec<SqlForeignKey>,
    pub copy: Vec<SqlCopy>,
    pub repoint: Vec<SqlForeignKey>,
    pub view: Vec<SqlViewColumn>,
    pub comment: String,
}

fn qualified(schema: &str, table: &str) -> String {
    format!("{}.{}", quote_identifier(schema), quote_identifier(table))
}

fn sql_fk(
    table: &str,
    name: String,
    fk: &ForeignKey,
    target: &str,
    referenced: Vec<String>,
) -> SqlForeignKey {
    SqlForeignKey {
        table: table.to_owned(),
        name,
        columns: fk.columns.clone(),
        references_schema: None,
        references: target.to_owned(),
        referenced_columns: referenced,
        on_delete: fk.on_delete.map(|a| a.as_sql().to_owned()),
        on_update: fk.on_update.map(|a| a.as_sql().to_owned()),
    }
}

/// Whether `columns` are the primary key or a UNIQUE constraint of `table`,
/// which an FK needs to reference them.
fn is_key(table: &Table, columns: &[String]) -> bool {
    let wanted: BTreeSet<&String> = columns.iter().collect();
    table
        .primary_key
        .iter()
        .map(|pk| &pk.columns)
        .chain(table.unique_constraints.iter().map(|u| &u.columns))
        .any(|key| key.iter().collect::<BTreeSet<_>>() == wanted)
}

/// Conversions PostgreSQL may refuse for some values even within one type
/// family: a shorter varchar, a smaller numeric or integer, another vector
/// size, or a change of time zone meaning.
fn may_not_fit(from: &PgType, to: &PgType) -> bool {
    use PgType::*;
    match (from, to) {
        (Text | Varchar(_), Varchar(Some(n))) => !matches!(from, Varchar(Some(m)) if m <= n),
        (Numeric(f), Numeric(Some((p, s)))) => {
            // Fits when neither the integer digits nor the scale shrink.
            let integer_digits = |p: u32, s: u32| i64::from(p) - i64::from(s);
            !matches!(f, Some((fp, fs)) if integer_digits(*fp, *fs) <= integer_digits(*p, *s) && fs <= s)
        }
        (BigInt, Integer | SmallInt) | (Integer, SmallInt) => true,
        (Numeric(_) | Real | DoublePrecision, SmallInt | Integer | BigInt) => true,
        (DoublePrecision, Real) => true,
        (Timestamptz, Timestamp) | (Timestamp, Timestamptz) => true,
        (Vector(Some(a)), Vector(Some(b))) => a != b,
        _ => false,
    }
}

/// What the SQL side reads besides the two tables: the realised schema,
/// the canonical table's columns as earlier steps leave them, and the
/// cluster.
pub(super) struct SqlInput<'a> {
    pub realized: &'a Schema,
    pub canonical_columns: &'a [Column],
    pub merged: &'a BTreeSet<String>,
    pub members: &'a [String],
    pub options: &'a ConsolidationOptions,
}

/// The merge a step plans: `table` into `canonical`, columns mapped as
/// `mapping` says.
pub(super) struct MergeTables<'a> {
    pub table: &'a str,
    pub canonical: &'a str,
    pub mapping: Option<&'a ColumnMapping>,
}

/// What building a step's SQL found. The preconditions and changes belong
/// in the step's risks whether or not the SQL can be written; `sql` is
/// the SQL, or the reasons the merge cannot run.
#[derive(Debug)]
pub(super) struct SqlOutcome {
    pub preconditions: Vec<String>,
    pub changes: Vec<String>,
    pub sql: Result<SqlStep, Vec<String>>,
}

pub(super) fn build_sql(input: &SqlInput<'_>, merge: &MergeTables<'_>) -> SqlOutcome {
    let (name, canonical) = (merge.table, merge.canonical);
    let (Some(old), Some(target), Some(mapping)) = (
        input.realized.tables.get(name),
        input.realized.tables.get(canonical),
        merge.mapping,
    ) else {
        return SqlOutcome {
            preconditions: Vec::new(),
            changes: Vec::new(),
            sql: Err(vec![format!(
                "`{name}` or `{canonical}` is not a table the documents create"
            )]),
        };
    };
    let merge = Merge {
        input,
        name,
        canonical,
        old,
        target,
        mapping,
        created: mapping
            .only_in_from
            .iter()
            .map(|c| c.name.as_str())
            .collect(),
    };
    let mut findings = Findings::default();
    let (copy, view) = merge.copy_and_view(&mut findings);
    merge.note_lonely_columns(&mut findings);
    merge.note_unique_constraints(&mut findings);
    merge.note_foreign_keys_left_behind(&mut findings);
    let add_columns = merge.add_columns();
    let carried_foreign_keys = merge.carried_foreign_keys(&mut findings);
    let repoint = merge.repointed_foreign_keys(&mut findings);
    let Findings {
        blockers,
        preconditions,
        changes,
    } = findings;
    let sql = if blockers.is_empty() {
        let archive = input.options.archive_schema.as_str();
        Ok(SqlStep {
            table: name.to_owned(),
            canonical: canonical.to_owned(),
            archive_schema: archive.to_owned(),
            archived: qualified(archive, name),
            add_columns,
            carried_foreign_keys,
            copy,
            repoint,
            view,
            comment: format!(
                "Compatibility view: {name} was merged into {canonical}; its rows as they were before the merge are in {archive}.{name}."
            ),
        })
    } else {
        Err(blockers)
    };
    SqlOutcome {
        preconditions,
        changes,
        sql,
    }
}

/// What the parts of `build_sql` find, in the order they find it.
#[derive(Default)]
struct Findings {
    /// Why the merge cannot run.
    blockers: Vec<String>,
    /// What the data must satisfy for the merge to commit.
    preconditions: Vec<String>,
    /// What the merge changes or leaves undone.
    changes: Vec<String>,
}

/// One merge with both tables found: `old` (the realised `name`) into
/// `target` (the realised `canonical`).
struct Merge<'a> {
    input: &'a SqlInput<'a>,
    name: &'a str,
    canonical: &'a str,
    old: &'a Table,
    target: &'a Table,
    mapping: &'a ColumnMapping,
    /// Columns of `old` the canonical table lacks, which the merge creates.
    created: BTreeSet<&'a str>,
}

impl Merge<'_> {
    /// Canonical columns created by earlier steps are not in the realised
    /// table; the evolving list has them.
    fn canonical_column(&self, name: &str) -> Option<Column> {
        column_of(self.target, name).or_else(|| {
            self.input
                .canonical_columns
                .iter()
                .find(|c| c.name == name)
                .cloned()
        })
    }

    /// The INSERT … SELECT columns and the view's, with what the copy of
    /// each column asks of the data.
    fn copy_and_view(&self, findings: &mut Findings) -> (Vec<SqlCopy>, Vec<SqlViewColumn>) {
        let (name, canonical) = (self.name, self.canonical);
        let mut copy = Vec::new();
        let mut view = Vec::new();
        for from in &self.old.columns {
            let Some((to, cast)) = self.mapping.target_of(&from.name) else {
                findings.blockers.push(format!(
                    "column `{}` has no place in `{canonical}`",
                    from.name
                ));
                continue;
            };
            copy.push(SqlCopy {
                to: to.to_owned(),
                from: from.name.clone(),
                cast: cast.map(str::to_owned),
            });
            view.push(SqlViewColumn {
                column: to.to_owned(),
                alias: from.name.clone(),
            });
            let Some(into) = self.canonical_column(to) else {
                continue;
            };
            if let Some(ty) = cast {
                findings.preconditions.push(format!(
                    "`{name}.{}` ({}) is cast to {ty} for `{canonical}.{to}`: a value that does not convert aborts the merge",
                    from.name, from.ty
                ));
            } else if may_not_fit(&from.ty, &into.ty) {
                findings.preconditions.push(format!(
                    "`{name}.{}` ({}) goes into `{canonical}.{to}` ({}): a value that does not fit aborts the merge",
                    from.name, from.ty, into.ty
                ));
            }
            if !into.nullable && from.nullable && into.default.is_none() {
                findings.preconditions.push(format!(
                    "`{canonical}.{to}` is NOT NULL: rows of `{name}` with no `{}` abort the merge",
                    from.name
                ));
            }
            for fk in self
                .target
                .foreign_keys
                .iter()
                .filter(|fk| fk.columns == [to.to_owned()])
            {
                findings.preconditions.push(format!(
                    "`{name}.{}` must hold values of `{}.{}`, which `{canonical}.{to}` references",
                    from.name,
                    fk.references,
                    fk.referenced_columns.join(", ")
                ));
            }
        }
        (copy, view)
    }

    /// Canonical columns the merged table has nothing for.
    fn note_lonely_columns(&self, findings: &mut Findings) {
        for lonely in &self.mapping.only_in_to {
            if let Some(c) = column_of(self.target, &lonely.name)
                && !c.nullable
                && c.default.is_none()
            {
                findings.preconditions.push(format!(
                    "`{}.{}` is NOT NULL with no default and `{}` has nothing for it: copying any row fails until it gets a default or a source",
                    self.canonical, c.name, self.name
                ));
            }
        }
    }

    fn note_unique_constraints(&self, findings: &mut Findings) {
        let (name, canonical) = (self.name, self.canonical);
        for unique in &self.target.unique_constraints {
            findings.changes.push(format!(
                "`{name}` rows whose ({}) already exists in `{canonical}` are not copied; they stay in the archive",
                unique.columns.join(", ")
            ));
        }
        for unique in &self.old.unique_constraints {
            findings.changes.push(format!(
                "`{name}`'s UNIQUE ({}) is not re-created on `{canonical}`",
                unique.columns.join(", ")
            ));
        }
    }

    /// FKs of mapped columns that the canonical table does not have.
    fn note_foreign_keys_left_behind(&self, findings: &mut Findings) {
        for fk in self.old.foreign_keys.iter().filter(|fk| {
            !self.creates_all(&fk.columns)
                && !self
                    .target
                    .foreign_keys
                    .iter()
                    .any(|t| t.references == fk.references)
        }) {
            // The canonical table's own rows were never checked against this
            // FK, so adding it could fail on rows that are not ours to fix.
            findings.changes.push(format!(
                "`{}.{}` references `{}`; the matching column of `{}` does not, and the merge does not add that FK",
                self.name,
                fk.columns.join(", "),
                fk.references,
                self.canonical
            ));
        }
    }

    /// Whether every one of `columns` is created by the merge.
    fn creates_all(&self, columns: &[String]) -> bool {
        columns.iter().all(|c| self.created.contains(c.as_str()))
    }

    fn add_columns(&self) -> Vec<SqlColumn> {
        self.old
            .columns
            .iter()
            .filter(|c| self.created.contains(c.name.as_str()))
            .map(|c| SqlColumn {
                name: c.name.clone(),
                ty: c.ty.to_string(),
                default: c.default.clone(),
            })
            .collect()
    }

    /// FKs of created columns, renamed so as not to collide with the
    /// canonical table's own; an FK to the merged table itself points at
    /// the canonical one.
    fn carried_foreign_keys(&self, findings: &mut Findings) -> Vec<SqlForeignKey> {
        let (name, canonical) = (self.name, self.canonical);
        let mut used_names: BTreeSet<String> = self
            .target
            .foreign_keys
            .iter()
            .filter_map(|fk| fk.name.clone())
            .collect();
        let mut carried_foreign_keys = Vec::new();
        for fk in &self.old.foreign_keys {
            if !self.creates_all(&fk.columns) {
                continue;
            }
            let target_table = fk.references.table.as_str();
            let (references, referenced) = if target_table == name && !fk.references.is_external() {
                (
                    canonical,
                    self.mapped(&fk.referenced_columns).unwrap_or_default(),
                )
            } else if target_table != canonical
                && self.input.members.iter().any(|m| m == target_table)
                && !fk.references.is_external()
            {
                findings.changes.push(format!(
                    "the FK `{name}.{}` → `{target_table}` is not carried: `{target_table}` is consolidated too; add it by hand once it is",
                    fk.columns.join(", ")
                ));
                continue;
            } else {
                (target_table, fk.referenced_columns.clone())
            };
            let fk_name = unused_fk_name(canonical, &fk.columns, &mut used_names);
            let mut carried = sql_fk(canonical, fk_name, fk, references, referenced);
            if fk.references.is_external() {
                carried.references_schema = fk.references.schema.clone();
            }
            findings.changes.push(format!(
                "`{canonical}.{}` keeps `{name}`'s FK to `{}`",
                carried.columns.join(", "),
                fk.references
            ));
            carried_foreign_keys.push(carried);
        }
        carried_foreign_keys
    }

    /// `columns` of the merged table as the canonical table names them;
    /// none when one has no place there.
    fn mapped(&self, columns: &[String]) -> Option<Vec<String>> {
        columns
            .iter()
            .map(|c| self.mapping.target_of(c).map(|(to, _)| to.to_owned()))
            .collect()
    }

    /// FKs of other tables that reference the merged table, pointed at the
    /// canonical one; those that cannot be are blockers.
    fn repointed_foreign_keys(&self, findings: &mut Findings) -> Vec<SqlForeignKey> {
        let (name, canonical) = (self.name, self.canonical);
        let mut repoint = Vec::new();
        for referencing in self.input.realized.tables.values() {
            if referencing.name == name || self.input.merged.contains(&referencing.name) {
                continue;
            }
            for fk in referencing
                .foreign_keys
                .iter()
                .filter(|fk| !fk.references.is_external() && fk.references.table == name)
            {
                let Some(mapped) = self
                    .mapped(&fk.referenced_columns)
                    .filter(|m| is_key(self.target, m))
                else {
                    findings.blockers.push(format!(
                        "`{}.{}` references `{name}.{}`, which is not a key of `{canonical}`",
                        referencing.name,
                        fk.columns.join(", "),
                        fk.referenced_columns.join(", ")
                    ));
                    continue;
                };
                let Some(fk_name) = fk.name.clone() else {
                    findings.blockers.push(format!(
                        "the FK `{}.{}` has no name to repoint it by",
                        referencing.name,
                        fk.columns.join(", ")
                    ));
                    continue;
                };
                repoint.push(sql_fk(&referencing.name, fk_name, fk, canonical, mapped));
            }
        }
        repoint
    }
}

fn column_of(table: &Table, name: &str) -> Option<Column> {
    table.columns.iter().find(|c| c.name == name).cloned()
}

/// `canonical_columns_fkey`, or with a number when that name is taken.
fn unused_fk_name(
    canonical: &str,
    columns: &[String],
    used_names: &mut BTreeSet<String>,
) -> String {
    let joined = columns.join("_");
    let mut fk_name = pg_object_name(canonical, Some(&joined), "fkey");
    let mut n = 0;
    while used_names.contains(&fk_name) {
        n += 1;
        fk_name = pg_object_name(canonical, Some(&joined), &format!("fkey{n}"));
    }
    used_names.insert(fk_name.clone());
    fk_name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrowing_is_flagged_and_widening_is_not() {
        let t = PgType::parse;
        assert!(may_not_fit(&t("text"), &t("varchar(10)")));
        assert!(!may_not_fit(&t("varchar(10)"), &t("varchar(20)")));
        assert!(!may_not_fit(&t("varchar(10)"), &t("text")));
        assert!(may_not_fit(&t("numeric(10,4)"), &t("numeric(3,2)")));
        assert!(!may_not_fit(&t("numeric(3,2)"), &t("numeric(10,2)")));
        assert!(may_not_fit(&t("bigint"), &t("integer")));
        assert!(!may_not_fit(&t("integer"), &t("bigint")));
        assert!(may_not_fit(&t("vector(3)"), &t("vector(1536)")));
    }
}
