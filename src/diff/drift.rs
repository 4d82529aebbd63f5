//! Drift: the change list between a live database and the documents, told
//! as findings. `gen check` runs the ordinary structural diff (live → docs,
//! the changes that would repair the database) and this module groups those
//! changes into one item per object that differs, with the documented value
//! and the documents' file and line, and the live value. Nothing here
//! compares text of its own: every item comes from a `Change`.

use super::{Change, Constraint, constraints};
use crate::model::{Column, Index, Policy, Schema, Source, Table};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Kinds of drift, with stable kebab-case codes for machines. Declared in
/// `diag`'s code table, so that `diag` need not import `diff`.
pub use crate::diag::DriftKind;

impl DriftItem {
    /// The table the item belongs to, for grouping.
    pub fn table(&self) -> &str {
        self.object
            .split(['.', '/', '('])
            .next()
            .unwrap_or(&self.object)
    }

    /// The item as a diagnostic: at the documents' line when there is one.
    pub fn to_diagnostic(&self) -> crate::diag::Diagnostic {
        // An object only the database has has no line in the documents.
        let span = self.source.as_ref().map(Source::span);
        let show = |value: &Option<String>| match value {
            Some(v) => format!("`{v}`"),
            None => "nothing".to_owned(),
        };
        let message = format!(
            "{}: {}: documented {}, live {}",
            self.object,
            self.kind.title(),
            show(&self.documented),
            show(&self.live)
        );
        let code = crate::diag::Code::Drift(self.kind);
        crate::diag::Diagnostic::maybe_located(code, code.default_severity(), span, message)
            .with_help("`gen diff --database-url URL` prints the SQL that brings the database to the documents")
    }
}

/// One object that differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftItem {
    pub kind: DriftKind,
    /// `table`, `table.column`, `table/index_name`, `function(args)`.
    pub object: String,
    /// What the documents say, if they say anything.
    pub documented: Option<String>,
    /// What the database has, if it has anything.
    pub live: Option<String>,
    /// Where the documents say it.
    pub source: Option<Source>,
}

/// Groups `changes` (from `diff_with(live, documented, …)`) into items.
pub fn drift_items(changes: &[Change], live: &Schema, documented: &Schema) -> Vec<DriftItem> {
    let mut grouping = Grouping::new(changes, live, documented);
    for change in changes {
        grouping.add(change);
    }
    grouping.finish()
}

struct Grouping<'a> {
    live: &'a Schema,
    documented: &'a Schema,
    missing_tables: BTreeSet<&'a str>,
    undocumented_tables: BTreeSet<&'a str>,
    missing_columns: BTreeSet<(&'a str, &'a str)>,
    /// (table, name) of constraints, indexes and policies both dropped and
    /// created: one "differs" item each.
    replaced: BTreeSet<(String, String)>,
    /// Items keyed by object and kind, so a default that is dropped and set
    /// again (around a type change) is one item.
    items: BTreeMap<(String, DriftKind), DriftItem>,
}

impl<'a> Grouping<'a> {
    fn new(changes: &'a [Change], live: &'a Schema, documented: &'a Schema) -> Self {
        let mut missing_tables = BTreeSet::new();
        let mut undocumented_tables = BTreeSet::new();
        let mut missing_columns = BTreeSet::new();
        let mut dropped = BTreeSet::new();
        let mut created = BTreeSet::new();
        for change in changes {
            match change {
                Change::CreateTable { table } => {
                    missing_tables.insert(table.name.as_str());
                }
                Change::DropTable { table } => {
                    undocumented_tables.insert(table.as_str());
                }
                Change::AddColumn { table, column } => {
                    missing_columns.insert((table.as_str(), column.name.as_str()));
                }
                Change::DropConstraint { table, name }
                | Change::DropIndex { table, name }
                | Change::DropPolicy { table, name } => {
                    dropped.insert((table.clone(), name.clone()));
                }
                Change::AddConstraint { table, constraint } => {
                    created.insert((table.clone(), constraint.name().to_owned()));
                }
                Change::CreateIndex { table, index } => {
                    created.insert((table.clone(), index.name.clone()));
                }
                Change::CreatePolicy { table, policy } => {
                    created.insert((table.clone(), policy.name.clone()));
                }
                _ => {}
            }
        }
        Grouping {
            live,
            documented,
            missing_tables,
            undocumented_tables,
            missing_columns,
            replaced: dropped.intersection(&created).cloned().collect(),
            items: BTreeMap::new(),
        }
    }

    fn documented_table(&self, name: &str) -> Option<&'a Table> {
        self.documented.tables.get(name)
    }

    fn live_table(&self, name: &str) -> Option<&'a Table> {
        self.live.tables.get(name)
    }

    fn documented_column(&self, table: &str, column: &str) -> Option<&'a Column> {
        self.documented_table(table)?.column(column)
    }

    fn live_column(&self, table: &str, column: &str) -> Option<&'a Column> {
        self.live_table(table)?.column(column)
    }

    fn push(&mut self, item: DriftItem) {
        self.items
            .entry((item.object.clone(), item.kind))
            .or_insert(item);
    }

    /// Whether the change only repeats what a missing table or column
    /// already says: its indexes, policies, comments and constraints.
    fn folded(&self, change: &Change) -> bool {
        let table = match change {
            Change::CreateIndex { table, .. }
            | Change::CreatePolicy { table, .. }
            | Change::EnableRls { table }
            | Change::CommentOnTable { table, .. }
            | Change::CommentOnColumn { table, .. }
            | Change::CreateTrigger { table, .. }
            | Change::AddConstraint { table, .. } => table.as_str(),
            Change::DropConstraint { table, .. } => {
                return self.undocumented_tables.contains(table.as_str());
            }
            _ => return false,
        };
        if self.missing_tables.contains(table) {
            return true;
        }
        let only_missing_columns = |columns: &mut dyn Iterator<Item = &str>| {
            let mut any = false;
            for column in columns {
                if !self.missing_columns.contains(&(table, column)) {
                    return false;
                }
                any = true;
            }
            any
        };
        match change {
            Change::CommentOnColumn { column, .. } => {
                self.missing_columns.contains(&(table, column.as_str()))
            }
            Change::AddConstraint { constraint, .. } => {
                only_missing_columns(&mut constraint_columns(constraint).into_iter())
            }
            Change::CreateIndex { index, .. } => {
                only_missing_columns(&mut index.columns.iter().map(|c| c.expression.as_str()))
            }
            _ => false,
        }
    }

    fn add(&mut self, change: &Change) {
        if self.folded(change) {
            return;
        }
        match change {
            Change::CreateTable { table } => {
                let documented = self.documented_table(&table.name);
                self.push(DriftItem {
                    kind: DriftKind::MissingTable,
                    object: table.name.clone(),
                    documented: Some(format!("{} columns", table.columns.len())),
                    live: None,
                    source: documented.map(|t| t.source.clone()),
                });
            }
            Change::DropTable { table } => self.push(DriftItem {
                kind: DriftKind::UndocumentedTable,
                object: table.clone(),
                documented: None,
                live: self
                    .live_table(table)
                    .map(|t| format!("{} columns", t.columns.len())),
                source: None,
            }),
            Change::AddColumn { table, column } => self.push(DriftItem {
                kind: DriftKind::MissingColumn,
                object: format!("{table}.{}", column.name),
                documented: Some(column_summary(column)),
                live: None,
                source: Some(column.source.clone()),
            }),
            Change::DropColumn { table, column } => self.push(DriftItem {
                kind: DriftKind::UndocumentedColumn,
                object: format!("{table}.{column}"),
                documented: None,
                live: self.live_column(table, column).map(column_summary),
                source: None,
            }),
            Change::AlterColumnType {
                table,
                column,
                from,
                to,
            } => self.push(DriftItem {
                kind: DriftKind::TypeMismatch,
                object: format!("{table}.{column}"),
                documented: Some(to.to_string()),
                live: Some(from.to_string()),
                source: self
                    .documented_column(table, column)
                    .map(|c| c.source.clone()),
            }),
            Change::SetNotNull { table, column } | Change::DropNotNull { table, column } => {
                let not_null = matches!(change, Change::SetNotNull { .. });
                let spell = |not_null: bool| if not_null { "NOT NULL" } else { "NULL" };
                self.push(DriftItem {
                    kind: DriftKind::NullabilityMismatch,
                    object: format!("{table}.{column}"),
                    documented: Some(spell(not_null).to_owned()),
                    live: Some(spell(!not_null).to_owned()),
                    source: self
                        .documented_column(table, column)
                        .map(|c| c.source.clone()),
                });
            }
            Change::SetDefault { table, column, .. } | Change::DropDefault { table, column } => {
                let documented = self.documented_column(table, column);
                let live = self.live_column(table, column);
                let documented_default = documented.and_then(|c| c.default.clone());
                let live_default = live.and_then(|c| c.default.clone());
                // A default is dropped and set again around a type change
                // even when it is the same; that is the type's item.
                let same = match (&documented_default, &live_default) {
                    (Some(a), Some(b)) => {
                        super::canonical::canonical_expression_cached(a)
                            == super::canonical::canonical_expression_cached(b)
                    }
                    (None, None) => true,
                    _ => false,
                };
                if !same {
                    self.push(DriftItem {
                        kind: DriftKind::DefaultMismatch,
                        object: format!("{table}.{column}"),
                        documented: documented_default,
                        live: live_default,
                        source: documented.map(|c| c.source.clone()),
                    });
                }
            }
            Change::AddConstraint { table, constraint } => {
                let name = constraint.name().to_owned();
                let replaced = self.replaced.contains(&(table.clone(), name.clone()));
                let live = replaced
                    .then(|| self.live_table(table))
                    .flatten()
                    .and_then(|t| constraints(t).into_iter().find(|c| c.name() == name))
                    .map(|c| constraint_summary(&c));
                let kind = match (constraint.is_foreign_key(), replaced) {
                    (true, true) => DriftKind::ForeignKeyDiffers,
                    (true, false) => DriftKind::MissingForeignKey,
                    (false, true) => DriftKind::ConstraintDiffers,
                    (false, false) => DriftKind::MissingConstraint,
                };
                self.push(DriftItem {
                    kind,
                    object: format!("{table}/{name}"),
                    documented: Some(constraint_summary(constraint)),
                    live,
                    source: Some(constraint_source(constraint).clone()),
                });
            }
            Change::DropConstraint { table, name } => {
                if self.replaced.contains(&(table.clone(), name.clone())) {
                    return;
                }
                let live = self
                    .live_table(table)
                    .and_then(|t| constraints(t).into_iter().find(|c| c.name() == name));
                let kind = if live.as_ref().is_some_and(|c| c.is_foreign_key()) {
                    DriftKind::UndocumentedForeignKey
                } else {
                    DriftKind::UndocumentedConstraint
                };
                self.push(DriftItem {
                    kind,
                    object: format!("{table}/{name}"),
                    documented: None,
                    live: live.map(|c| constraint_summary(&c)),
                    source: None,
                });
            }
            Change::CreateIndex { table, index } => {
                let replaced = self.replaced.contains(&(table.clone(), index.name.clone()));
                let live = replaced
                    .then(|| self.live_table(table))
                    .flatten()
                    .and_then(|t| t.indexes.iter().find(|i| i.name == index.name))
                    .map(index_summary);
                self.push(DriftItem {
                    kind: if replaced {
                        DriftKind::IndexDiffers
                    } else {
                        DriftKind::MissingIndex
                    },
                    object: format!("{table}/{}", index.name),
                    documented: Some(index_summary(index)),
                    live,
                    source: Some(index.source.clone()),
                });
            }
            Change::DropIndex { table, name } => {
                if self.replaced.contains(&(table.clone(), name.clone())) {
                    return;
                }
                self.push(DriftItem {
                    kind: DriftKind::UndocumentedIndex,
                    object: format!("{table}/{name}"),
                    documented: None,
                    live: self
                        .live_table(table)
                        .and_then(|t| t.indexes.iter().find(|i| &i.name == name))
                        .map(index_summary),
                    source: None,
                });
            }
            Change::CreatePolicy { table, policy } => {
                let replaced = self
                    .replaced
                    .contains(&(table.clone(), policy.name.clone()));
                let live = replaced
                    .then(|| self.live_table(table))
                    .flatten()
                    .and_then(|t| t.policies.iter().find(|p| p.name == policy.name))
                    .map(policy_summary);
                self.push(DriftItem {
                    kind: if replaced {
                        DriftKind::PolicyDiffers
                    } else {
                        DriftKind::MissingPolicy
                    },
                    object: format!("{table}/{}", policy.name),
                    documented: Some(policy_summary(policy)),
                    live,
                    source: Some(policy.source.clone()),
                });
            }
            Change::DropPolicy { table, name } => {
                if self.replaced.contains(&(table.clone(), name.clone())) {
                    return;
                }
                self.push(DriftItem {
                    kind: DriftKind::UndocumentedPolicy,
                    object: format!("{table}/{name}"),
                    documented: None,
                    live: self
                        .live_table(table)
                        .and_then(|t| t.policies.iter().find(|p| &p.name == name))
                        .map(policy_summary),
                    source: None,
                });
            }
            Change::EnableRls { table } => {
                let documented = self.documented_table(table);
                // The line that asks for RLS: a policy or a prose rule,
                // else the table itself.
                let source = documented.map(|t| {
                    t.policies
                        .iter()
                        .map(|p| &p.source)
                        .chain(t.rls_rules.iter().map(|r| &r.source))
                        .min()
                        .unwrap_or(&t.source)
                        .clone()
                });
                self.push(DriftItem {
                    kind: DriftKind::RlsDisabled,
                    object: table.clone(),
                    documented: Some("enabled".to_owned()),
                    live: Some("disabled".to_owned()),
                    source,
                });
            }
            Change::DisableRls { table } => self.push(DriftItem {
                kind: DriftKind::RlsNotDocumented,
                object: table.clone(),
                documented: Some("disabled".to_owned()),
                live: Some("enabled".to_owned()),
                source: self.documented_table(table).map(|t| t.source.clone()),
            }),
            Change::CommentOnTable { table, comment } => self.push(DriftItem {
                kind: DriftKind::CommentDiffers,
                object: table.clone(),
                documented: comment.clone(),
                live: self.live_table(table).and_then(|t| t.meta.purpose.clone()),
                source: self.documented_table(table).map(|t| t.source.clone()),
            }),
            Change::CommentOnColumn {
                table,
                column,
                comment,
            } => self.push(DriftItem {
                kind: DriftKind::CommentDiffers,
                object: format!("{table}.{column}"),
                documented: comment.clone(),
                live: self
                    .live_column(table, column)
                    .and_then(|c| c.description.clone()),
                source: self
                    .documented_column(table, column)
                    .map(|c| c.source.clone()),
            }),
            Change::CreateFunction { function } => self.push(DriftItem {
                kind: DriftKind::MissingFunction,
                object: function.signature.clone(),
                documented: Some(function.signature.clone()),
                live: None,
                source: Some(function.source.clone()),
            }),
            Change::DropFunction { function } => self.push(DriftItem {
                kind: DriftKind::UndocumentedFunction,
                object: function.signature.clone(),
                documented: None,
                live: Some(function.signature.clone()),
                source: None,
            }),
            Change::CreateTrigger { table, trigger } => self.push(DriftItem {
                kind: DriftKind::MissingTrigger,
                object: format!("{table}/{}", trigger.name),
                documented: Some(format!("{} EXECUTE {}()", trigger.timing, trigger.function)),
                live: None,
                source: self.documented_table(table).map(|t| t.source.clone()),
            }),
            Change::DropTrigger { table, name } => self.push(DriftItem {
                kind: DriftKind::UndocumentedTrigger,
                object: format!("{table}/{name}"),
                documented: None,
                live: self
                    .live_table(table)
                    .and_then(|t| t.triggers.iter().find(|x| &x.name == name))
                    .map(|t| format!("{} EXECUTE {}()", t.timing, t.function)),
                source: None,
            }),
            Change::CreateExtension { name, .. } => self.push(DriftItem {
                kind: DriftKind::MissingExtension,
                object: name.clone(),
                documented: Some(name.clone()),
                live: None,
                source: self
                    .documented
                    .extensions
                    .get(name)
                    .map(|e| e.source.clone()),
            }),
            // Platforms install extensions of their own; an extension the
            // documents do not mention is not drift.
            Change::DropExtension { .. } => {}
        }
    }

    fn finish(self) -> Vec<DriftItem> {
        self.items.into_values().collect()
    }
}

fn column_summary(column: &Column) -> String {
    let mut out = column.ty.to_string();
    if !column.nullable {
        out.push_str(" NOT NULL");
    }
    if let Some(default) = &column.default {
        out.push_str(" DEFAULT ");
        out.push_str(default);
    }
    out
}

fn constraint_columns(constraint: &Constraint) -> Vec<&str> {
    let columns = match constraint {
        Constraint::PrimaryKey(c) => &c.columns,
        Constraint::Unique(c) => &c.columns,
        Constraint::ForeignKey(c) => &c.columns,
        Constraint::Check(c) => return c.column.iter().map(String::as_str).collect(),
    };
    columns.iter().map(String::as_str).collect()
}

fn constraint_source(constraint: &Constraint) -> &Source {
    match constraint {
        Constraint::PrimaryKey(c) => &c.source,
        Constraint::Unique(c) => &c.source,
        Constraint::Check(c) => &c.source,
        Constraint::ForeignKey(c) => &c.source,
    }
}

fn constraint_summary(constraint: &Constraint) -> String {
    match constraint {
        Constraint::PrimaryKey(c) => format!("PRIMARY KEY ({})", c.columns.join(", ")),
        Constraint::Unique(c) => format!("UNIQUE ({})", c.columns.join(", ")),
        Constraint::Check(c) => format!("CHECK ({})", c.expression),
        Constraint::ForeignKey(c) => {
            let mut out = format!(
                "FOREIGN KEY ({}) REFERENCES {}({})",
                c.columns.join(", "),
                c.references,
                c.referenced_columns.join(", ")
            );
            if let Some(action) = c.on_delete {
                out.push_str(" ON DELETE ");
                out.push_str(action.as_sql());
            }
            out
        }
    }
}

fn index_summary(index: &Index) -> String {
    let columns: Vec<String> = index
        .columns
        .iter()
        .map(|c| {
            let mut out = c.expression.clone();
            if let Some(class) = &c.operator_class {
                out.push(' ');
                out.push_str(class);
            }
            if c.descending {
                out.push_str(" DESC");
            }
            out
        })
        .collect();
    format!(
        "{}USING {} ({})",
        if index.unique { "UNIQUE " } else { "" },
        index.method.as_sql(),
        columns.join(", ")
    )
}

fn policy_summary(policy: &Policy) -> String {
    let mut out = format!("FOR {}", policy.command.as_sql());
    if !policy.roles.is_empty() {
        out.push_str(" TO ");
        out.push_str(&policy.roles.join(", "));
    }
    if let Some(using) = &policy.using {
        out.push_str(&format!(" USING ({using})"));
    }
    if let Some(check) = &policy.with_check {
        out.push_str(&format!(" WITH CHECK ({check})"));
    }
    out
}
