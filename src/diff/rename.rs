//! Renames: a table or column the documents mark as renamed
//! (`**Renamed from:** `old``, `(renamed from `old`)`) becomes one
//! `RENAME`, not a drop and an add, so its rows and values stay. The diff
//! finds the renames first, applies them to a copy of the old schema (the
//! column's indexes, keys, constraints and the foreign keys that point at
//! it follow, as they do in PostgreSQL), and compares the rest against that
//! copy: a rename alone then leaves nothing else to do. Names PostgreSQL
//! derived from the old name (`widgets_pkey`, `idx_widgets_notes`) are not
//! renamed by PostgreSQL; where the new documents derive another name for
//! the same constraint or index, it is renamed too rather than rebuilt.
//!
//! A marker says nothing once the old name is gone (the snapshot after the
//! rename still carries it), and it is read in both directions, so that
//! the down migration renames back.

use super::{Change, DiffOptions, constraints};
use crate::model::{Schema, Table};
use std::collections::BTreeSet;

/// The renames from `old` to `new`, in the order they apply (tables, then
/// their columns, then the names that follow), and `old` with them
/// applied. `None` when nothing is renamed, so that the common case copies
/// nothing.
pub(super) fn renamed(
    old: &Schema,
    new: &Schema,
    options: &DiffOptions,
) -> Option<(Vec<Change>, Schema)> {
    let tables = table_renames(old, new);
    let mut schema = None::<Schema>;
    for change in &tables {
        apply(schema.get_or_insert_with(|| old.clone()), change);
    }
    let columns = column_renames(schema.as_ref().unwrap_or(old), new);
    for change in &columns {
        apply(schema.get_or_insert_with(|| old.clone()), change);
    }
    let mut schema = schema?;
    let touched: BTreeSet<String> = tables
        .iter()
        .chain(&columns)
        .filter_map(|change| match change {
            Change::RenameTable { to, .. } => Some(to.clone()),
            Change::RenameColumn { table, .. } => Some(table.clone()),
            _ => None,
        })
        .collect();
    let derived = derived_renames(&schema, new, &touched, options);
    for change in &derived {
        apply(&mut schema, change);
    }
    let changes = tables.into_iter().chain(columns).chain(derived).collect();
    Some((changes, schema))
}

/// Applies the renames among `changes` to a copy of `old`: what `classify`
/// needs to see the old tables under the names later steps use. `None`
/// when there are none.
pub fn renamed_by(old: &Schema, changes: &[Change]) -> Option<Schema> {
    let mut schema = None::<Schema>;
    for change in changes.iter().filter(|c| c.is_rename()) {
        apply(schema.get_or_insert_with(|| old.clone()), change);
    }
    schema
}

/// Only public tables (keys without a schema) are renamed: `RENAME TO`
/// cannot move a table to another schema.
fn is_plain(name: &str) -> bool {
    !name.contains('.')
}

/// A table of `new` marked as renamed from a table `old` has and `new`
/// lacks, where `old` lacks the new name: renamed forward. A table of
/// `old` so marked, whose old name is back in `new`: renamed back (a down
/// migration).
fn table_renames(old: &Schema, new: &Schema) -> Vec<Change> {
    let mut out = Vec::new();
    let mut claimed = BTreeSet::new();
    let forward = new.tables.values().filter_map(|t| {
        let from = t.renamed_from.as_deref()?;
        Some((from.to_owned(), t.name.clone()))
    });
    let back = old.tables.values().filter_map(|t| {
        let to = t.renamed_from.as_deref()?;
        Some((t.name.clone(), to.to_owned()))
    });
    for (from, to) in forward.chain(back) {
        let applies = is_plain(&from)
            && is_plain(&to)
            && old.tables.contains_key(&from)
            && !old.tables.contains_key(&to)
            && new.tables.contains_key(&to)
            && !new.tables.contains_key(&from);
        if applies && claimed.insert(from.clone()) {
            out.push(Change::RenameTable { from, to });
        }
    }
    out
}

/// The same, column by column, on the tables both schemas have.
fn column_renames(old: &Schema, new: &Schema) -> Vec<Change> {
    let mut out = Vec::new();
    for (name, o) in &old.tables {
        let Some(n) = new.tables.get(name) else {
            continue;
        };
        let mut claimed = BTreeSet::new();
        let forward = n.columns.iter().filter_map(|c| {
            let from = c.renamed_from.as_deref()?;
            Some((from.to_owned(), c.name.clone()))
        });
        let back = o.columns.iter().filter_map(|c| {
            let to = c.renamed_from.as_deref()?;
            Some((c.name.clone(), to.to_owned()))
        });
        let pairs: Vec<(String, String)> = forward.chain(back).collect();
        for (from, to) in pairs {
            let applies = o.column(&from).is_some()
                && o.column(&to).is_none()
                && n.column(&to).is_some()
                && n.column(&from).is_none();
            if applies && claimed.insert(from.clone()) {
                out.push(Change::RenameColumn {
                    table: name.clone(),
                    from,
                    to,
                });
            }
        }
    }
    out
}

/// On the tables a rename touched: a constraint or index the renamed old
/// table has under one name and the new table has, meaning the same, under
/// another (one derived from the new name).
fn derived_renames(
    old: &Schema,
    new: &Schema,
    touched: &BTreeSet<String>,
    options: &DiffOptions,
) -> Vec<Change> {
    let mut out = Vec::new();
    for name in touched {
        let (Some(o), Some(n)) = (old.tables.get(name), new.tables.get(name)) else {
            continue;
        };
        let theirs = constraints(n);
        let ours = constraints(o);
        for constraint in &ours {
            if theirs.iter().any(|c| c.same_as(constraint, options)) {
                continue;
            }
            let renamed = theirs.iter().find(|c| {
                c.name() != constraint.name()
                    && c.meaning(options) == constraint.meaning(options)
                    && !ours.iter().any(|x| x.name() == c.name())
            });
            if let Some(target) = renamed {
                out.push(Change::RenameConstraint {
                    table: name.clone(),
                    from: constraint.name().to_owned(),
                    to: target.name().to_owned(),
                });
            }
        }
        for index in &o.indexes {
            if n.indexes.iter().any(|i| options.same_index(i, index)) {
                continue;
            }
            let renamed = n.indexes.iter().find(|i| {
                i.name != index.name
                    && options.same_index(
                        i,
                        &crate::model::Index {
                            name: i.name.clone(),
                            ..index.clone()
                        },
                    )
                    && !o.indexes.iter().any(|x| x.name == i.name)
            });
            if let Some(target) = renamed {
                out.push(Change::RenameIndex {
                    table: name.clone(),
                    from: index.name.clone(),
                    to: target.name.clone(),
                });
            }
        }
    }
    out
}

/// What one rename does to the catalog, done to `schema`.
fn apply(schema: &mut Schema, change: &Change) {
    match change {
        Change::RenameTable { from, to } => {
            if let Some(mut table) = schema.tables.remove(from) {
                table.name = to.clone();
                schema.tables.insert(to.clone(), table);
            }
            for table in schema.tables.values_mut() {
                for fk in &mut table.foreign_keys {
                    if !fk.references.is_external()
                        && fk.references.schema.is_none()
                        && fk.references.table == *from
                    {
                        fk.references.table = to.clone();
                    }
                }
            }
        }
        Change::RenameColumn { table, from, to } => rename_column(schema, table, from, to),
        Change::RenameConstraint { table, from, to } => {
            if let Some(t) = schema.tables.get_mut(table) {
                rename_constraint(t, from, to);
            }
        }
        Change::RenameIndex { table, from, to } => {
            if let Some(t) = schema.tables.get_mut(table) {
                for index in &mut t.indexes {
                    if index.name == *from {
                        index.name = to.clone();
                    }
                }
            }
        }
        _ => {}
    }
}

fn rename_constraint(table: &mut Table, from: &str, to: &str) {
    let rename = |name: &mut Option<String>| {
        if name.as_deref() == Some(from) {
            *name = Some(to.to_owned());
        }
    };
    if let Some(pk) = &mut table.primary_key {
        rename(&mut pk.name);
    }
    table
        .unique_constraints
        .iter_mut()
        .for_each(|c| rename(&mut c.name));
    table
        .check_constraints
        .iter_mut()
        .for_each(|c| rename(&mut c.name));
    table
        .foreign_keys
        .iter_mut()
        .for_each(|c| rename(&mut c.name));
}

/// A column renamed in its table, in every list of columns that names it,
/// in the table's own expressions (read as tokens, see `rename_in`), and in
/// the foreign keys of every table that point at it.
fn rename_column(schema: &mut Schema, table_name: &str, from: &str, to: &str) {
    let swap = |columns: &mut Vec<String>| {
        for column in columns.iter_mut() {
            if column == from {
                *column = to.to_owned();
            }
        }
    };
    if let Some(table) = schema.tables.get_mut(table_name) {
        if let Some(column) = table.column_mut(from) {
            column.name = to.to_owned();
        }
        if let Some(pk) = &mut table.primary_key {
            swap(&mut pk.columns);
        }
        table
            .unique_constraints
            .iter_mut()
            .for_each(|c| swap(&mut c.columns));
        table
            .foreign_keys
            .iter_mut()
            .for_each(|c| swap(&mut c.columns));
        for check in &mut table.check_constraints {
            if check.column.as_deref() == Some(from) {
                check.column = Some(to.to_owned());
            }
            check.expression = rename_in(&check.expression, table_name, from, to);
        }
        for index in &mut table.indexes {
            for column in &mut index.columns {
                column.expression = rename_in(&column.expression, table_name, from, to);
            }
        }
        for policy in &mut table.policies {
            for expression in [&mut policy.using, &mut policy.with_check]
                .into_iter()
                .flatten()
            {
                *expression = rename_in(expression, table_name, from, to);
            }
        }
    }
    for table in schema.tables.values_mut() {
        for fk in &mut table.foreign_keys {
            if !fk.references.is_external() && fk.references.table == table_name {
                swap(&mut fk.referenced_columns);
            }
        }
    }
}

/// `expression` with the column `from` of `table` called `to`, as
/// PostgreSQL's stored expression would now print it. Read as SQL tokens:
/// a word `from`, unquoted or double-quoted, that is not a function call
/// and is qualified by nothing or by the table's own name. The expression
/// is left as written when the tokens do not print back to exactly the
/// text (then the diff replaces what uses it, which costs a rebuild and
/// loses nothing).
fn rename_in(expression: &str, table: &str, from: &str, to: &str) -> String {
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::tokenizer::{Token, Tokenizer};
    if !expression.contains(from) {
        return expression.to_owned();
    }
    let Ok(mut tokens) = Tokenizer::new(&PostgreSqlDialect {}, expression).tokenize() else {
        return expression.to_owned();
    };
    let printed: String = tokens.iter().map(Token::to_string).collect();
    if printed != expression {
        return expression.to_owned();
    }
    let significant: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i], Token::Whitespace(_)))
        .collect();
    let word = |i: usize| match &tokens[i] {
        Token::Word(w) => Some(w.value.clone()),
        _ => None,
    };
    let mut targets = Vec::new();
    for (position, &i) in significant.iter().enumerate() {
        let Token::Word(w) = &tokens[i] else { continue };
        if w.value != from || !matches!(w.quote_style, None | Some('"')) {
            continue;
        }
        let next = significant.get(position + 1).map(|&j| &tokens[j]);
        if matches!(next, Some(Token::LParen)) {
            continue;
        }
        let qualified_by_other = position >= 1
            && matches!(tokens[significant[position - 1]], Token::Period)
            && (position < 2 || word(significant[position - 2]).as_deref() != Some(table));
        if !qualified_by_other {
            targets.push(i);
        }
    }
    for i in targets {
        if let Token::Word(w) = &mut tokens[i] {
            w.value = to.to_owned();
            if to.chars().any(|c| c.is_ascii_uppercase()) {
                w.quote_style = Some('"');
            }
        }
    }
    tokens.iter().map(Token::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::diff;

    const OWNERS: &str = "## 1. OWNERS (2 columns)\n\n| Column | Type | Nullable | Description |\n|---|---|---|---|\n| id | uuid | NO | Primary key |\n| name | text | YES | Name |\n\n";
    const WIDGETS: &str = "## 2. WIDGETS (3 columns)\n\n| Column | Type | Nullable | Description |\n|---|---|---|---|\n| id | uuid | NO | Primary key |\n| owner_id | uuid | YES | FK to owners |\n| notes | text | YES | Free text |\n\n**Indexes:**\n- INDEX on notes\n- UNIQUE (notes)\n";

    fn realized(doc: &str) -> Schema {
        let settings = crate::settings::Settings::default();
        let project = crate::project::Project::from_text("doc.md", doc, &settings);
        (**project.realized()).clone()
    }

    fn described(changes: &[Change]) -> Vec<String> {
        changes.iter().map(Change::describe).collect()
    }

    fn column_renamed() -> (Schema, Schema) {
        let before = realized(&format!("{OWNERS}{WIDGETS}"));
        let widgets = WIDGETS
            .replace(
                "| notes | text | YES | Free text |",
                "| remarks | text | YES | Free text (renamed from `notes`) |",
            )
            .replace("INDEX on notes", "INDEX on remarks")
            .replace("UNIQUE (notes)", "UNIQUE (remarks)");
        (before, realized(&format!("{OWNERS}{widgets}")))
    }

    #[test]
    fn a_marked_column_is_renamed_and_what_names_it_follows() {
        let (before, after) = column_renamed();
        let remarks = after.tables["widgets"].column("remarks").unwrap();
        assert_eq!(remarks.renamed_from.as_deref(), Some("notes"));
        assert_eq!(remarks.description.as_deref(), Some("Free text"));
        assert_eq!(
            described(&diff(&before, &after)),
            [
                "rename column widgets.notes to remarks",
                "rename constraint widgets_notes_key on widgets to widgets_remarks_key",
                "rename index idx_widgets_notes to idx_widgets_remarks",
            ]
        );
        // A rename loses nothing and rewrites nothing.
        let steps = crate::diff::hazard::classify(diff(&before, &after), &before, &after);
        assert!(steps.iter().all(|s| s.hazards.is_empty()), "{steps:?}");
        // The down migration renames back.
        assert_eq!(
            described(&diff(&after, &before)),
            [
                "rename column widgets.remarks to notes",
                "rename constraint widgets_remarks_key on widgets to widgets_notes_key",
                "rename index idx_widgets_remarks to idx_widgets_notes",
            ]
        );
    }

    #[test]
    fn a_marker_already_applied_changes_nothing() {
        let (_, after) = column_renamed();
        assert!(diff(&after, &after).is_empty());
        // The snapshot after the rename, read back, has the marker too.
        let snapshot: Schema =
            serde_saphyr::from_str(&serde_saphyr::to_string(&after).unwrap()).unwrap();
        assert!(diff(&snapshot, &after).is_empty());
    }

    #[test]
    fn a_marked_table_is_renamed_and_foreign_keys_to_it_follow() {
        let before = realized(&format!("{OWNERS}{WIDGETS}"));
        let owners = OWNERS.replace(
            "## 1. OWNERS (2 columns)\n",
            "## 1. PEOPLE (2 columns)\n\n**Renamed from:** `owners`\n",
        );
        let widgets = WIDGETS.replace("FK to owners", "FK to people");
        let after = realized(&format!("{owners}{widgets}"));
        assert_eq!(
            after.tables["people"].renamed_from.as_deref(),
            Some("owners")
        );
        assert_eq!(
            described(&diff(&before, &after)),
            [
                "rename table owners to people",
                "rename constraint owners_pkey on people to people_pkey",
                // The description changed with it; the foreign key did not.
                "comment on column widgets.owner_id",
            ]
        );
    }

    #[test]
    fn a_renamed_column_that_a_foreign_key_references_is_followed() {
        let doc = |key: &str, marker: &str| {
            format!(
                "## 1. OWNERS (2 columns)\n\n| Column | Type | Nullable | Description |\n|---|---|---|---|\n| {key} | text | NO | Primary key{marker} |\n| name | text | YES | Name |\n\n\
                 ## 2. WIDGETS (2 columns)\n\n| Column | Type | Nullable | Description |\n|---|---|---|---|\n| id | uuid | NO | Primary key |\n| owner_code | text | YES | Owner |\n\n\
                 **Key Relationships:**\n- widgets.owner_code → owners.{key}\n"
            )
        };
        let before = realized(&doc("code", ""));
        let after = realized(&doc("key", " (renamed from `code`)"));
        let fk = &after.tables["widgets"].foreign_keys[0];
        assert_eq!(fk.referenced_columns, ["key"]);
        assert_eq!(
            described(&diff(&before, &after)),
            ["rename column owners.code to key"]
        );
    }

    #[test]
    fn the_configuration_can_mark_a_rename() {
        let before = realized(&format!("{OWNERS}{WIDGETS}"));
        let mut settings = crate::settings::Settings::default();
        let yaml = "tables:\n  widgets:\n    columns:\n      remarks: { renamed_from: notes }\n";
        settings.overrides = serde_saphyr::from_str(yaml).unwrap();
        let doc = format!("{OWNERS}{}", WIDGETS.replace("| notes |", "| remarks |"));
        let project = crate::project::Project::from_text("doc.md", &doc, &settings);
        let changes = described(&diff(&before, project.realized()));
        assert_eq!(
            changes[0], "rename column widgets.notes to remarks",
            "{changes:?}"
        );
        assert!(
            !changes.iter().any(|c| c.starts_with("drop column")),
            "{changes:?}"
        );
    }

    #[test]
    fn without_a_marker_a_rename_is_a_drop_and_an_add() {
        let before = realized(&format!("{OWNERS}{WIDGETS}"));
        let after = realized(&format!(
            "{OWNERS}{}",
            WIDGETS.replace("| notes |", "| remarks |")
        ));
        let changes = described(&diff(&before, &after));
        assert!(
            changes.contains(&"drop column widgets.notes".to_owned()),
            "{changes:?}"
        );
        assert!(
            changes.contains(&"add column widgets.remarks".to_owned()),
            "{changes:?}"
        );
    }

    #[test]
    fn expressions_follow_a_column_rename_token_by_token() {
        assert_eq!(
            rename_in("notes <> ''", "t", "notes", "remarks"),
            "remarks <> ''"
        );
        assert_eq!(
            rename_in(
                "(t.notes IS NULL) AND notes(x) AND o.notes = \"notes\"",
                "t",
                "notes",
                "remarks"
            ),
            "(t.remarks IS NULL) AND notes(x) AND o.notes = \"remarks\""
        );
        assert_eq!(
            rename_in("'notes' = notes_old", "t", "notes", "remarks"),
            "'notes' = notes_old"
        );
    }
}
