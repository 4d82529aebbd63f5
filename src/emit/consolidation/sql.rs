//! The SQL side of a merge step: what `consolidation.sql.tera` renders,
//! computed from the realised schema so that constraint names, defaults
//! and nullability are the ones the database built from the documents has.
//! It also states, as preconditions, what the data must satisfy for the
//! transaction to commit; when the schema itself makes the merge impossible
//! the step is refused instead.

use super::plan::{SqlInput, Step};
use crate::model::physical::{pg_object_name, quote_identifier};
use crate::model::{Column, ForeignKey, PgType, Table};
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

pub(super) fn build_sql(input: &SqlInput<'_>, step: &mut Step) -> Result<SqlStep, Vec<String>> {
    let name = step.table.as_str();
    let canonical = step.into.as_str();
    let (Some(old), Some(target), Some(mapping)) = (
        input.realized.tables.get(name),
        input.realized.tables.get(canonical),
        step.mapping.as_ref(),
    ) else {
        return Err(vec![format!(
            "`{name}` or `{canonical}` is not a table the documents create"
        )]);
    };
    let mut blockers = Vec::new();
    let mut notes = Vec::new();
    let mut changes = Vec::new();
    let column = |table: &Table, n: &str| table.columns.iter().find(|c| c.name == n).cloned();
    // Canonical columns created by earlier steps are not in the realised
    // table; the evolving list has them.
    let canonical_column = |n: &str| -> Option<Column> {
        column(target, n).or_else(|| {
            input
                .canonical_columns
                .iter()
                .find(|c| c.name == n)
                .cloned()
        })
    };

    let mut copy = Vec::new();
    let mut view = Vec::new();
    for from in &old.columns {
        let Some((to, cast)) = mapping.target_of(&from.name) else {
            blockers.push(format!(
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
        let Some(into) = canonical_column(to) else {
            continue;
        };
        if let Some(ty) = cast {
            notes.push(format!(
                "`{name}.{}` ({}) is cast to {ty} for `{canonical}.{to}`: a value that does not convert aborts the merge",
                from.name, from.ty
            ));
        } else if may_not_fit(&from.ty, &into.ty) {
            notes.push(format!(
                "`{name}.{}` ({}) goes into `{canonical}.{to}` ({}): a value that does not fit aborts the merge",
                from.name, from.ty, into.ty
            ));
        }
        if !into.nullable && from.nullable && into.default.is_none() {
            notes.push(format!(
                "`{canonical}.{to}` is NOT NULL: rows of `{name}` with no `{}` abort the merge",
                from.name
            ));
        }
        for fk in target
            .foreign_keys
            .iter()
            .filter(|fk| fk.columns == [to.to_owned()])
        {
            notes.push(format!(
                "`{name}.{}` must hold values of `{}.{}`, which `{canonical}.{to}` references",
                from.name,
                fk.references,
                fk.referenced_columns.join(", ")
            ));
        }
    }
    for lonely in &mapping.only_in_to {
        if let Some(c) = column(target, &lonely.name)
            && !c.nullable
            && c.default.is_none()
        {
            notes.push(format!(
                "`{canonical}.{}` is NOT NULL with no default and `{name}` has nothing for it: copying any row fails until it gets a default or a source",
                c.name
            ));
        }
    }
    for unique in &target.unique_constraints {
        changes.push(format!(
            "`{name}` rows whose ({}) already exists in `{canonical}` are not copied; they stay in the archive",
            unique.columns.join(", ")
        ));
    }
    for unique in &old.unique_constraints {
        changes.push(format!(
            "`{name}`'s UNIQUE ({}) is not re-created on `{canonical}`",
            unique.columns.join(", ")
        ));
    }

    let created: BTreeSet<&str> = mapping
        .only_in_from
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    for fk in old.foreign_keys.iter().filter(|fk| {
        !fk.columns.iter().all(|c| created.contains(c.as_str()))
            && !target
                .foreign_keys
                .iter()
                .any(|t| t.references == fk.references)
    }) {
        // The canonical table's own rows were never checked against this
        // FK, so adding it could fail on rows that are not ours to fix.
        changes.push(format!(
            "`{name}.{}` references `{}`; the matching column of `{canonical}` does not, and the merge does not add that FK",
            fk.columns.join(", "),
            fk.references
        ));
    }
    let add_columns: Vec<SqlColumn> = old
        .columns
        .iter()
        .filter(|c| created.contains(c.name.as_str()))
        .map(|c| SqlColumn {
            name: c.name.clone(),
            ty: c.ty.to_string(),
            default: c.default.clone(),
        })
        .collect();

    let mut used_names: BTreeSet<String> = target
        .foreign_keys
        .iter()
        .filter_map(|fk| fk.name.clone())
        .collect();
    let mut carried_foreign_keys = Vec::new();
    for fk in &old.foreign_keys {
        if !fk.columns.iter().all(|c| created.contains(c.as_str())) {
            continue;
        }
        let target_table = fk.references.table.as_str();
        let (references, referenced) = if target_table == name && !fk.references.is_external() {
            let mapped: Option<Vec<String>> = fk
                .referenced_columns
                .iter()
                .map(|c| mapping.target_of(c).map(|(to, _)| to.to_owned()))
                .collect();
            (canonical, mapped.unwrap_or_default())
        } else if target_table != canonical
            && input.members.iter().any(|m| m == target_table)
            && !fk.references.is_external()
        {
            changes.push(format!(
                "the FK `{name}.{}` → `{target_table}` is not carried: `{target_table}` is consolidated too; add it by hand once it is",
                fk.columns.join(", ")
            ));
            continue;
        } else {
            (target_table, fk.referenced_columns.clone())
        };
        let joined = fk.columns.join("_");
        let mut fk_name = pg_object_name(canonical, Some(&joined), "fkey");
        let mut n = 0;
        while used_names.contains(&fk_name) {
            n += 1;
            fk_name = pg_object_name(canonical, Some(&joined), &format!("fkey{n}"));
        }
        used_names.insert(fk_name.clone());
        let mut carried = sql_fk(canonical, fk_name, fk, references, referenced);
        if fk.references.is_external() {
            carried.references_schema = fk.references.schema.clone();
        }
        changes.push(format!(
            "`{canonical}.{}` keeps `{name}`'s FK to `{}`",
            carried.columns.join(", "),
            fk.references
        ));
        carried_foreign_keys.push(carried);
    }

    let mut repoint = Vec::new();
    for referencing in input.realized.tables.values() {
        if referencing.name == name || input.merged.contains(&referencing.name) {
            continue;
        }
        for fk in referencing
            .foreign_keys
            .iter()
            .filter(|fk| !fk.references.is_external() && fk.references.table == name)
        {
            let mapped: Option<Vec<String>> = fk
                .referenced_columns
                .iter()
                .map(|c| mapping.target_of(c).map(|(to, _)| to.to_owned()))
                .collect();
            let Some(mapped) = mapped.filter(|m| is_key(target, m)) else {
                blockers.push(format!(
                    "`{}.{}` references `{name}.{}`, which is not a key of `{canonical}`",
                    referencing.name,
                    fk.columns.join(", "),
                    fk.referenced_columns.join(", ")
                ));
                continue;
            };
            let Some(fk_name) = fk.name.clone() else {
                blockers.push(format!(
                    "the FK `{}.{}` has no name to repoint it by",
                    referencing.name,
                    fk.columns.join(", ")
                ));
                continue;
            };
            repoint.push(sql_fk(&referencing.name, fk_name, fk, canonical, mapped));
        }
    }
    step.risks.preconditions.extend(notes);
    step.risks.changes.extend(changes);
    if !blockers.is_empty() {
        return Err(blockers);
    }
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
