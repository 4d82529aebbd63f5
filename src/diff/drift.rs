//! Drift: the change list between a live database and the documents, told
//! as findings. `gen check` runs the ordinary structural diff (live → docs,
//! the changes that would repair the database) and this module groups those
//! changes into one item per object that differs, with the documented value
//! and the documents' file and line, and the live value. Nothing here
//! compares text of its own: every item comes from a `Change`.

use super::{Change, Constraint, constraints};
use crate::model::{Column, Index, Policy, Schema, Source, Table, TableRef, Trigger};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Kinds of drift, with stable kebab-case codes for machines. Declared in
/// `diag`'s code table, so that `diag` need not import `diff`.
pub use crate::diag::DriftKind;

impl DriftItem {
    /// The name the item is grouped and counted under: its table, as
    /// `schema.table` outside `public`; a function or extension has no
    /// table and is its own group.
    pub fn table(&self) -> String {
        self.object.group()
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
    /// What differs; written `table`, `table.column`, `table/index_name`,
    /// `function(args)` (see `ObjectRef`'s `Display`).
    pub object: ObjectRef,
    /// What the documents say, if they say anything.
    pub documented: Option<String>,
    /// What the database has, if it has anything.
    pub live: Option<String>,
    /// Where the documents say it.
    pub source: Option<Source>,
}

/// What a drift item is about. The model keys a table outside `public` as
/// `schema.table`; here the schema is kept apart from the table's name, so
/// that such a table's items are grouped under the table and not under its
/// schema, and so that no caller splits the text again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectRef {
    Table(TableRef),
    Column {
        table: TableRef,
        column: String,
    },
    Constraint {
        table: TableRef,
        name: String,
    },
    Index {
        table: TableRef,
        name: String,
    },
    Policy {
        table: TableRef,
        name: String,
    },
    Trigger {
        table: TableRef,
        name: String,
    },
    /// `arguments` are the argument types as the signature writes them,
    /// `uuid, text`.
    Function {
        name: String,
        arguments: String,
    },
    Extension {
        name: String,
    },
}

impl ObjectRef {
    /// A table by the model's key: `widgets`, or `other.widgets` outside
    /// `public`.
    pub fn table(key: &str) -> ObjectRef {
        ObjectRef::Table(TableRef::parse(key))
    }

    pub fn column(table: &str, column: &str) -> ObjectRef {
        ObjectRef::Column {
            table: TableRef::parse(table),
            column: column.to_owned(),
        }
    }

    /// A function by its signature, `name(argument types)`.
    pub fn function(signature: &str) -> ObjectRef {
        let (name, arguments) = signature.split_once('(').unwrap_or((signature, ")"));
        ObjectRef::Function {
            name: name.to_owned(),
            arguments: arguments.strip_suffix(')').unwrap_or(arguments).to_owned(),
        }
    }

    /// The table the object belongs to, if it belongs to one.
    pub fn table_ref(&self) -> Option<&TableRef> {
        match self {
            ObjectRef::Table(table)
            | ObjectRef::Column { table, .. }
            | ObjectRef::Constraint { table, .. }
            | ObjectRef::Index { table, .. }
            | ObjectRef::Policy { table, .. }
            | ObjectRef::Trigger { table, .. } => Some(table),
            ObjectRef::Function { .. } | ObjectRef::Extension { .. } => None,
        }
    }

    /// The group the object is reported under: its table, else itself by
    /// name.
    fn group(&self) -> String {
        match self {
            ObjectRef::Function { name, .. } | ObjectRef::Extension { name } => name.clone(),
            _ => self
                .table_ref()
                .map(TableRef::to_string)
                .unwrap_or_default(),
        }
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ObjectRef::Table(table) => write!(f, "{table}"),
            ObjectRef::Column { table, column } => write!(f, "{table}.{column}"),
            ObjectRef::Constraint { table, name }
            | ObjectRef::Index { table, name }
            | ObjectRef::Policy { table, name }
            | ObjectRef::Trigger { table, name } => write!(f, "{table}/{name}"),
            ObjectRef::Function { name, arguments } => write!(f, "{name}({arguments})"),
            ObjectRef::Extension { name } => f.write_str(name),
        }
    }
}

/// Written as its text, as `object` always was in the JSON output.
impl Serialize for ObjectRef {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
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
            .entry((item.object.to_string(), item.kind))
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
        let item = match change {
            Change::AddConstraint { table, constraint } => {
                Some(self.created_item(table, constraint))
            }
            Change::DropConstraint { table, name } => self.dropped_item::<Constraint>(table, name),
            Change::CreateIndex { table, index } => Some(self.created_item(table, index)),
            Change::DropIndex { table, name } => self.dropped_item::<Index>(table, name),
            Change::CreatePolicy { table, policy } => Some(self.created_item(table, policy)),
            Change::DropPolicy { table, name } => self.dropped_item::<Policy>(table, name),
            Change::CreateTable { .. }
            | Change::DropTable { .. }
            | Change::EnableRls { .. }
            | Change::DisableRls { .. }
            | Change::CommentOnTable { .. } => self.table_item(change),
            Change::AddColumn { .. }
            | Change::DropColumn { .. }
            | Change::AlterColumnType { .. }
            | Change::SetNotNull { .. }
            | Change::DropNotNull { .. }
            | Change::SetDefault { .. }
            | Change::DropDefault { .. }
            | Change::CommentOnColumn { .. } => self.column_item(change),
            Change::CreateFunction { .. }
            | Change::DropFunction { .. }
            | Change::CreateTrigger { .. }
            | Change::DropTrigger { .. }
            | Change::CreateExtension { .. }
            | Change::DropExtension { .. } => self.routine_item(change),
            // Written only by the online plan of a migration, never found
            // between a live database and the documents.
            Change::AddConstraintNotValid { .. }
            | Change::ValidateConstraint { .. }
            | Change::AddUniqueUsingIndex { .. }
            | Change::CreateIndexConcurrently { .. }
            | Change::DropIndexConcurrently { .. }
            | Change::Backfill { .. } => None,
            Change::RenameTable { .. } | Change::RenameColumn { .. } => self.rename_item(change),
            // They only follow a table or column rename, whose item says it.
            Change::RenameConstraint { .. } | Change::RenameIndex { .. } => None,
        };
        if let Some(item) = item {
            self.push(item);
        }
    }

    fn is_replaced(&self, table: &str, name: &str) -> bool {
        self.replaced.contains(&(table.to_owned(), name.to_owned()))
    }

    /// A documented constraint, index or policy the database lacks, or has
    /// in another form (it is then both dropped and created: one item).
    fn created_item<T: ReplaceableObject>(&self, table: &str, documented: &T) -> DriftItem {
        let name = documented.object_name();
        let replaced = self.is_replaced(table, name);
        let live = replaced
            .then(|| self.live_table(table))
            .flatten()
            .and_then(|t| T::find_live(t, name))
            .map(|live| live.summary());
        let kinds = documented.drift_kinds();
        DriftItem {
            kind: if replaced {
                kinds.differs
            } else {
                kinds.missing
            },
            object: T::object(table, name),
            documented: Some(documented.summary()),
            live,
            source: Some(documented.source().clone()),
        }
    }

    /// A constraint, index or policy the documents do not have; none when
    /// it is only the first half of a replacement, which `created_item`
    /// tells.
    fn dropped_item<T: ReplaceableObject>(&self, table: &str, name: &str) -> Option<DriftItem> {
        if self.is_replaced(table, name) {
            return None;
        }
        let live = self.live_table(table).and_then(|t| T::find_live(t, name));
        let kinds = live.as_ref().map_or(T::KINDS, T::drift_kinds);
        Some(DriftItem {
            kind: kinds.undocumented,
            object: T::object(table, name),
            documented: None,
            live: live.map(|live| live.summary()),
            source: None,
        })
    }

    /// Changes to a table as a whole: its existence, RLS and comment.
    fn table_item(&self, change: &Change) -> Option<DriftItem> {
        let item = match change {
            Change::CreateTable { table } => DriftItem {
                kind: DriftKind::MissingTable,
                object: ObjectRef::table(&table.name),
                documented: Some(format!("{} columns", table.columns.len())),
                live: None,
                source: self.documented_table(&table.name).map(|t| t.source.clone()),
            },
            Change::DropTable { table } => DriftItem {
                kind: DriftKind::UndocumentedTable,
                object: ObjectRef::table(table),
                documented: None,
                live: self
                    .live_table(table)
                    .map(|t| format!("{} columns", t.columns.len())),
                source: None,
            },
            Change::EnableRls { table } => DriftItem {
                kind: DriftKind::RlsDisabled,
                object: ObjectRef::table(table),
                documented: Some("enabled".to_owned()),
                live: Some("disabled".to_owned()),
                source: self.rls_source(table),
            },
            Change::DisableRls { table } => DriftItem {
                kind: DriftKind::RlsNotDocumented,
                object: ObjectRef::table(table),
                documented: Some("disabled".to_owned()),
                live: Some("enabled".to_owned()),
                source: self.documented_table(table).map(|t| t.source.clone()),
            },
            Change::CommentOnTable { table, comment } => DriftItem {
                kind: DriftKind::CommentDiffers,
                object: ObjectRef::table(table),
                documented: comment.clone(),
                live: self.live_table(table).and_then(|t| t.meta.purpose.clone()),
                source: self.documented_table(table).map(|t| t.source.clone()),
            },
            _ => return None,
        };
        Some(item)
    }

    /// The line that asks for RLS: a policy or a prose rule, else the
    /// table itself.
    fn rls_source(&self, table: &str) -> Option<Source> {
        self.documented_table(table).map(|t| {
            t.policies
                .iter()
                .map(|p| &p.source)
                .chain(t.rls_rules.iter().map(|r| &r.source))
                .min()
                .unwrap_or(&t.source)
                .clone()
        })
    }

    /// Changes to one column: its existence, type, nullability, default
    /// and comment.
    fn column_item(&self, change: &Change) -> Option<DriftItem> {
        let item = match change {
            Change::AddColumn { table, column } => DriftItem {
                kind: DriftKind::MissingColumn,
                object: ObjectRef::column(table, &column.name),
                documented: Some(column_summary(column)),
                live: None,
                source: Some(column.source.clone()),
            },
            Change::DropColumn { table, column } => DriftItem {
                kind: DriftKind::UndocumentedColumn,
                object: ObjectRef::column(table, column),
                documented: None,
                live: self.live_column(table, column).map(column_summary),
                source: None,
            },
            Change::AlterColumnType {
                table,
                column,
                from,
                to,
                ..
            } => DriftItem {
                kind: DriftKind::TypeMismatch,
                object: ObjectRef::column(table, column),
                documented: Some(to.to_string()),
                live: Some(from.to_string()),
                source: self.documented_column_source(table, column),
            },
            Change::SetNotNull { table, column } | Change::DropNotNull { table, column } => {
                let not_null = matches!(change, Change::SetNotNull { .. });
                let spell = |not_null: bool| if not_null { "NOT NULL" } else { "NULL" };
                DriftItem {
                    kind: DriftKind::NullabilityMismatch,
                    object: ObjectRef::column(table, column),
                    documented: Some(spell(not_null).to_owned()),
                    live: Some(spell(!not_null).to_owned()),
                    source: self.documented_column_source(table, column),
                }
            }
            Change::SetDefault { table, column, .. } | Change::DropDefault { table, column } => {
                return self.default_item(table, column);
            }
            Change::CommentOnColumn {
                table,
                column,
                comment,
            } => DriftItem {
                kind: DriftKind::CommentDiffers,
                object: ObjectRef::column(table, column),
                documented: comment.clone(),
                live: self
                    .live_column(table, column)
                    .and_then(|c| c.description.clone()),
                source: self.documented_column_source(table, column),
            },
            _ => return None,
        };
        Some(item)
    }

    fn documented_column_source(&self, table: &str, column: &str) -> Option<Source> {
        self.documented_column(table, column)
            .map(|c| c.source.clone())
    }

    /// A default that differs; none when the two are the same, since a
    /// default is dropped and set again around a type change even then,
    /// and that is the type's item.
    fn default_item(&self, table: &str, column: &str) -> Option<DriftItem> {
        let documented = self.documented_column(table, column);
        let live = self.live_column(table, column);
        let documented_default = documented.and_then(|c| c.default.clone());
        let live_default = live.and_then(|c| c.default.clone());
        let same = match (&documented_default, &live_default) {
            (Some(a), Some(b)) => {
                super::canonical::canonical_expression_cached(a)
                    == super::canonical::canonical_expression_cached(b)
            }
            (None, None) => true,
            _ => false,
        };
        (!same).then(|| DriftItem {
            kind: DriftKind::DefaultMismatch,
            object: ObjectRef::column(table, column),
            documented: documented_default,
            live: live_default,
            source: documented.map(|c| c.source.clone()),
        })
    }

    /// A table or column the database still has under the name the
    /// documents say it was renamed from: missing under its new name, and
    /// the live value is the old one.
    fn rename_item(&self, change: &Change) -> Option<DriftItem> {
        let item = match change {
            Change::RenameTable { from, to } => DriftItem {
                kind: DriftKind::MissingTable,
                object: ObjectRef::table(to),
                documented: Some(format!("renamed from {from}")),
                live: self
                    .live_table(from)
                    .map(|t| format!("{from} ({} columns)", t.columns.len())),
                source: self.documented_table(to).map(|t| t.source.clone()),
            },
            Change::RenameColumn { table, from, to } => {
                // Later renames of the same change list see the table under
                // its new name; the live table may still have the old one.
                let live_table = self.live_table(table).or_else(|| {
                    self.documented_table(table)
                        .and_then(|t| t.renamed_from.as_deref())
                        .and_then(|old| self.live_table(old))
                });
                let documented = self.documented_column(table, to);
                DriftItem {
                    kind: DriftKind::MissingColumn,
                    object: ObjectRef::column(table, to),
                    documented: Some(match documented {
                        Some(c) => format!("{}, renamed from {from}", column_summary(c)),
                        None => format!("renamed from {from}"),
                    }),
                    live: live_table
                        .and_then(|t| t.column(from))
                        .map(|c| format!("{from} {}", column_summary(c))),
                    source: documented.map(|c| c.source.clone()),
                }
            }
            _ => return None,
        };
        Some(item)
    }

    /// Functions, triggers and extensions.
    fn routine_item(&self, change: &Change) -> Option<DriftItem> {
        let item = match change {
            Change::CreateFunction { function } => DriftItem {
                kind: DriftKind::MissingFunction,
                object: ObjectRef::function(&function.signature),
                documented: Some(function.signature.clone()),
                live: None,
                source: Some(function.source.clone()),
            },
            Change::DropFunction { function } => DriftItem {
                kind: DriftKind::UndocumentedFunction,
                object: ObjectRef::function(&function.signature),
                documented: None,
                live: Some(function.signature.clone()),
                source: None,
            },
            Change::CreateTrigger { table, trigger } => DriftItem {
                kind: DriftKind::MissingTrigger,
                object: ObjectRef::Trigger {
                    table: TableRef::parse(table),
                    name: trigger.name.clone(),
                },
                documented: Some(trigger_summary(trigger)),
                live: None,
                source: self.documented_table(table).map(|t| t.source.clone()),
            },
            Change::DropTrigger { table, name } => DriftItem {
                kind: DriftKind::UndocumentedTrigger,
                object: ObjectRef::Trigger {
                    table: TableRef::parse(table),
                    name: name.clone(),
                },
                documented: None,
                live: self
                    .live_table(table)
                    .and_then(|t| t.triggers.iter().find(|x| &x.name == name))
                    .map(trigger_summary),
                source: None,
            },
            Change::CreateExtension { name, .. } => DriftItem {
                kind: DriftKind::MissingExtension,
                object: ObjectRef::Extension { name: name.clone() },
                documented: Some(name.clone()),
                live: None,
                source: self
                    .documented
                    .extensions
                    .get(name)
                    .map(|e| e.source.clone()),
            },
            // Platforms install extensions of their own; an extension the
            // documents do not mention is not drift. Other changes are not
            // about routines.
            _ => return None,
        };
        Some(item)
    }

    fn finish(self) -> Vec<DriftItem> {
        self.items.into_values().collect()
    }
}

/// The three kinds of drift an object that is replaced rather than
/// altered can show.
#[derive(Debug, Clone, Copy)]
struct ReplaceableKinds {
    missing: DriftKind,
    undocumented: DriftKind,
    differs: DriftKind,
}

/// Constraints, indexes and policies: named objects of a table that the
/// diff drops and creates again rather than alters, so a change to one is
/// a drop and a create under the same name. One trait, so that the drift
/// of all three is told by the same code.
trait ReplaceableObject: Sized {
    /// The kinds when nothing more is known (the live object is gone).
    const KINDS: ReplaceableKinds;

    /// The kinds for this object; foreign keys have their own.
    fn drift_kinds(&self) -> ReplaceableKinds {
        Self::KINDS
    }

    fn object_name(&self) -> &str;

    /// One line for people: what the object says.
    fn summary(&self) -> String;

    /// Where the documents say it.
    fn source(&self) -> &Source;

    /// The object of that name in a live table.
    fn find_live(table: &Table, name: &str) -> Option<Self>;

    /// How a drift item names the object `name` of `table`.
    fn object(table: &str, name: &str) -> ObjectRef;
}

impl ReplaceableObject for Constraint {
    const KINDS: ReplaceableKinds = ReplaceableKinds {
        missing: DriftKind::MissingConstraint,
        undocumented: DriftKind::UndocumentedConstraint,
        differs: DriftKind::ConstraintDiffers,
    };

    fn drift_kinds(&self) -> ReplaceableKinds {
        if self.is_foreign_key() {
            ReplaceableKinds {
                missing: DriftKind::MissingForeignKey,
                undocumented: DriftKind::UndocumentedForeignKey,
                differs: DriftKind::ForeignKeyDiffers,
            }
        } else {
            Self::KINDS
        }
    }

    fn object_name(&self) -> &str {
        self.name()
    }

    fn summary(&self) -> String {
        constraint_summary(self)
    }

    fn source(&self) -> &Source {
        constraint_source(self)
    }

    fn find_live(table: &Table, name: &str) -> Option<Self> {
        constraints(table).into_iter().find(|c| c.name() == name)
    }

    fn object(table: &str, name: &str) -> ObjectRef {
        ObjectRef::Constraint {
            table: TableRef::parse(table),
            name: name.to_owned(),
        }
    }
}

impl ReplaceableObject for Index {
    const KINDS: ReplaceableKinds = ReplaceableKinds {
        missing: DriftKind::MissingIndex,
        undocumented: DriftKind::UndocumentedIndex,
        differs: DriftKind::IndexDiffers,
    };

    fn object_name(&self) -> &str {
        &self.name
    }

    fn summary(&self) -> String {
        index_summary(self)
    }

    fn source(&self) -> &Source {
        &self.source
    }

    fn find_live(table: &Table, name: &str) -> Option<Self> {
        table.indexes.iter().find(|i| i.name == name).cloned()
    }

    fn object(table: &str, name: &str) -> ObjectRef {
        ObjectRef::Index {
            table: TableRef::parse(table),
            name: name.to_owned(),
        }
    }
}

impl ReplaceableObject for Policy {
    const KINDS: ReplaceableKinds = ReplaceableKinds {
        missing: DriftKind::MissingPolicy,
        undocumented: DriftKind::UndocumentedPolicy,
        differs: DriftKind::PolicyDiffers,
    };

    fn object_name(&self) -> &str {
        &self.name
    }

    fn summary(&self) -> String {
        policy_summary(self)
    }

    fn source(&self) -> &Source {
        &self.source
    }

    fn find_live(table: &Table, name: &str) -> Option<Self> {
        table.policies.iter().find(|p| p.name == name).cloned()
    }

    fn object(table: &str, name: &str) -> ObjectRef {
        ObjectRef::Policy {
            table: TableRef::parse(table),
            name: name.to_owned(),
        }
    }
}

fn trigger_summary(trigger: &Trigger) -> String {
    format!("{} EXECUTE {}()", trigger.timing, trigger.function)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{DiffOptions, diff_with};
    use crate::model::{Documentation, PgType};

    /// A table outside `public`, keyed `other.widgets` as introspection
    /// keys it.
    fn other_widgets(columns: &[&str]) -> Table {
        let mut table = Table::new(
            "other.widgets",
            Documentation::Full,
            Source::new("database", 0),
        );
        for column in columns {
            table.columns.push(Column::new(
                *column,
                PgType::Text,
                Source::new("database", 0),
            ));
        }
        table
    }

    fn schema_of(tables: Vec<Table>) -> Schema {
        let mut schema = Schema::default();
        for table in tables {
            schema.tables.insert(table.name.clone(), table);
        }
        schema
    }

    fn items(live: &Schema, documented: &Schema) -> Vec<DriftItem> {
        let changes = diff_with(live, documented, &DiffOptions::live(false));
        drift_items(&changes, live, documented)
    }

    #[test]
    fn an_undocumented_table_outside_public_groups_under_its_own_name() {
        let live = schema_of(vec![other_widgets(&["id"])]);
        let items = items(&live, &Schema::default());
        assert_eq!(items.len(), 1, "{items:?}");
        let item = &items[0];
        assert_eq!(item.kind, DriftKind::UndocumentedTable);
        assert_eq!(
            item.object,
            ObjectRef::Table(TableRef {
                schema: Some("other".to_owned()),
                table: "widgets".to_owned(),
            })
        );
        assert_eq!(item.table(), "other.widgets");
        assert_eq!(item.object.to_string(), "other.widgets");
        let json = serde_json::to_value(item).unwrap();
        assert_eq!(json["object"], "other.widgets");
    }

    #[test]
    fn a_column_of_a_table_outside_public_groups_under_its_table() {
        let live = schema_of(vec![other_widgets(&["id", "extra"])]);
        let documented = schema_of(vec![other_widgets(&["id"])]);
        let items = items(&live, &documented);
        assert_eq!(items.len(), 1, "{items:?}");
        assert_eq!(items[0].kind, DriftKind::UndocumentedColumn);
        assert_eq!(items[0].object.to_string(), "other.widgets.extra");
        assert_eq!(items[0].table(), "other.widgets");
    }

    #[test]
    fn objects_are_written_as_before() {
        assert_eq!(ObjectRef::table("users").to_string(), "users");
        assert_eq!(
            ObjectRef::column("users", "email").to_string(),
            "users.email"
        );
        assert_eq!(
            Index::object("users", "idx_users_email").to_string(),
            "users/idx_users_email"
        );
        let function = ObjectRef::function("set_updated_at(uuid, text)");
        assert_eq!(function.to_string(), "set_updated_at(uuid, text)");
        assert_eq!(ObjectRef::function("now()").to_string(), "now()");
        assert_eq!(function.table_ref(), None);
    }
}
