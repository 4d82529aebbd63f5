//! The structural diff: `diff(old, new)` lists the changes that turn one
//! realised schema into the other, in an order PostgreSQL can apply. The same
//! list drives migrations (old = last snapshot), `gen sql` (old = empty), the
//! down migrations (the diff reversed) and the drift check (old = the live
//! database). It compares structure, never rendered text.

pub mod canonical;
pub mod drift;
pub mod hazard;
pub mod live;
pub mod online;
pub mod order;
pub mod rename;
pub mod report;

use crate::model::{
    CheckConstraint, Column, ForeignKey, Function, Index, PgType, Policy, PrimaryKey,
    ReferentialAction, Schema, Table, TableRef, Trigger, UniqueConstraint,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// How two spellings of the same thing are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spelling {
    /// Both schemas come from our own realisation (migrations): the same
    /// emitter spelled both, so text is compared as written.
    Exact,
    /// One schema was read from a live database, which spells expressions,
    /// casts and qualified names its own way: they are compared in
    /// `canonical` form, function bodies are not compared, and an FK without
    /// an action equals NO ACTION.
    Canonical,
}

/// What `diff_with` compares and how.
#[derive(Debug, Clone, Copy)]
pub struct DiffOptions {
    pub spelling: Spelling,
    /// Table and column comments are part of the comparison.
    pub compare_comments: bool,
}

impl DiffOptions {
    /// For migrations: both sides realised by us.
    pub const EXACT: DiffOptions = DiffOptions {
        spelling: Spelling::Exact,
        compare_comments: true,
    };

    /// For the drift check against a live database.
    pub fn live(compare_comments: bool) -> DiffOptions {
        DiffOptions {
            spelling: Spelling::Canonical,
            compare_comments,
        }
    }

    fn expression(&self, sql: &str) -> String {
        match self.spelling {
            Spelling::Exact => sql.to_owned(),
            Spelling::Canonical => canonical::canonical_expression_cached(sql),
        }
    }

    fn same_expression(&self, a: Option<&str>, b: Option<&str>) -> bool {
        match (a, b) {
            (Some(a), Some(b)) => a == b || self.expression(a) == self.expression(b),
            (None, None) => true,
            _ => false,
        }
    }

    fn same_type(&self, a: &PgType, b: &PgType) -> bool {
        a == b
            || (self.spelling == Spelling::Canonical
                && canonical::canonical_type(a) == canonical::canonical_type(b))
    }

    /// Functions keyed by what identifies them under this spelling.
    fn functions<'a>(&self, schema: &'a Schema) -> BTreeMap<String, &'a Function> {
        schema
            .functions
            .iter()
            .map(|(signature, f)| match self.spelling {
                Spelling::Exact => (signature.clone(), f),
                Spelling::Canonical => (canonical::function_identity(f), f),
            })
            .collect()
    }

    fn same_function_body(&self, a: &Function, b: &Function) -> bool {
        self.spelling == Spelling::Canonical || a.definition == b.definition
    }
}

/// A table constraint, whatever its kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Constraint {
    PrimaryKey(PrimaryKey),
    Unique(UniqueConstraint),
    Check(CheckConstraint),
    ForeignKey(ForeignKey),
}

impl Constraint {
    pub fn name(&self) -> &str {
        let name = match self {
            Constraint::PrimaryKey(c) => &c.name,
            Constraint::Unique(c) => &c.name,
            Constraint::Check(c) => &c.name,
            Constraint::ForeignKey(c) => &c.name,
        };
        name.as_deref().unwrap_or("")
    }

    /// What the constraint means, without where it was written: two
    /// constraints of one name with equal meanings are the same constraint.
    fn meaning<'a>(&'a self, options: &DiffOptions) -> ConstraintMeaning<'a> {
        match self {
            Constraint::PrimaryKey(c) => ConstraintMeaning::PrimaryKey {
                columns: &c.columns,
            },
            Constraint::Unique(c) => ConstraintMeaning::Unique {
                columns: &c.columns,
            },
            Constraint::Check(c) => ConstraintMeaning::Check {
                expression: options.expression(&c.expression),
            },
            Constraint::ForeignKey(c) => {
                let action = |a: Option<ReferentialAction>| match (options.spelling, a) {
                    // An FK without ON DELETE does NO ACTION.
                    (Spelling::Canonical, Some(ReferentialAction::NoAction)) => None,
                    (_, a) => a,
                };
                ConstraintMeaning::ForeignKey {
                    columns: &c.columns,
                    references: &c.references,
                    referenced_columns: &c.referenced_columns,
                    on_delete: action(c.on_delete),
                    on_update: action(c.on_update),
                }
            }
        }
    }

    /// Whether `other` has this constraint's name and meaning, so that
    /// neither needs to be dropped or added.
    fn same_as(&self, other: &Constraint, options: &DiffOptions) -> bool {
        self.name() == other.name() && self.meaning(options) == other.meaning(options)
    }

    pub fn is_foreign_key(&self) -> bool {
        matches!(self, Constraint::ForeignKey(_))
    }
}

/// What a constraint means, compared as a whole: the columns, the check
/// expression in the spelling the options ask for, or where an FK points
/// and what it does.
#[derive(Debug, PartialEq, Eq)]
enum ConstraintMeaning<'a> {
    PrimaryKey {
        columns: &'a [String],
    },
    Unique {
        columns: &'a [String],
    },
    Check {
        expression: String,
    },
    ForeignKey {
        columns: &'a [String],
        references: &'a TableRef,
        referenced_columns: &'a [String],
        on_delete: Option<ReferentialAction>,
        on_update: Option<ReferentialAction>,
    },
}

/// All constraints of a table, primary key first.
pub fn constraints(table: &Table) -> Vec<Constraint> {
    let mut out = Vec::new();
    if let Some(pk) = &table.primary_key {
        out.push(Constraint::PrimaryKey(pk.clone()));
    }
    out.extend(
        table
            .unique_constraints
            .iter()
            .cloned()
            .map(Constraint::Unique),
    );
    out.extend(
        table
            .check_constraints
            .iter()
            .cloned()
            .map(Constraint::Check),
    );
    out.extend(
        table
            .foreign_keys
            .iter()
            .cloned()
            .map(Constraint::ForeignKey),
    );
    out
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    CreateExtension {
        name: String,
        schema: Option<String>,
    },
    DropExtension {
        name: String,
    },
    /// The table with only the constraints that can be written inline.
    CreateTable {
        table: Box<Table>,
    },
    DropTable {
        table: String,
    },
    AddColumn {
        table: String,
        column: Column,
    },
    DropColumn {
        table: String,
        column: String,
    },
    AlterColumnType {
        table: String,
        column: String,
        from: PgType,
        to: PgType,
        /// Whether the statement needs `USING column::type`: only where
        /// PostgreSQL has no assignment cast. An explicit cast to
        /// `varchar(n)` truncates where the assignment cast raises.
        using: bool,
    },
    SetNotNull {
        table: String,
        column: String,
    },
    DropNotNull {
        table: String,
        column: String,
    },
    SetDefault {
        table: String,
        column: String,
        default: String,
    },
    DropDefault {
        table: String,
        column: String,
    },
    AddConstraint {
        table: String,
        constraint: Constraint,
    },
    DropConstraint {
        table: String,
        name: String,
    },
    CreateIndex {
        table: String,
        index: Index,
    },
    DropIndex {
        table: String,
        name: String,
    },
    // The variants below are never found by `diff`: `online::phases`
    // writes them, so that a migration on a table that holds rows keeps
    // taking writes (see `online.rs`).
    /// `ADD CONSTRAINT … NOT VALID`: enforced on new rows at once, checked
    /// on the existing ones by a later `ValidateConstraint`.
    AddConstraintNotValid {
        table: String,
        constraint: Constraint,
    },
    /// Scans the rows under a lock that lets reads and writes go on.
    ValidateConstraint {
        table: String,
        name: String,
    },
    /// A UNIQUE constraint over the unique index of the same name, built
    /// beforehand without blocking writes.
    AddUniqueUsingIndex {
        table: String,
        name: String,
    },
    /// `CREATE INDEX CONCURRENTLY`, outside a transaction, after dropping
    /// what a failed build of the same index left behind (an INVALID
    /// index), so that the step can be run again.
    CreateIndexConcurrently {
        table: String,
        index: Index,
    },
    DropIndexConcurrently {
        table: String,
        name: String,
    },
    /// Fills a column in the rows that lack a value.
    Backfill {
        table: String,
        column: String,
        expression: String,
    },
    CreateFunction {
        function: Function,
    },
    DropFunction {
        function: Function,
    },
    CreateTrigger {
        table: String,
        trigger: Trigger,
    },
    DropTrigger {
        table: String,
        name: String,
    },
    CommentOnTable {
        table: String,
        comment: Option<String>,
    },
    CommentOnColumn {
        table: String,
        column: String,
        comment: Option<String>,
    },
    EnableRls {
        table: String,
    },
    DisableRls {
        table: String,
    },
    CreatePolicy {
        table: String,
        policy: Policy,
    },
    DropPolicy {
        table: String,
        name: String,
    },
    /// A column the documents mark `(renamed from `from`)`: its values stay.
    RenameColumn {
        table: String,
        from: String,
        to: String,
    },
    /// A table the documents mark `**Renamed from:** `from``: its rows stay,
    /// and foreign keys that point at it follow.
    RenameTable {
        from: String,
        to: String,
    },
    /// A constraint whose name the documents derive from a renamed table or
    /// column (`widgets_notes_key`): PostgreSQL keeps the old name.
    RenameConstraint {
        table: String,
        from: String,
        to: String,
    },
    /// The same, for an index.
    RenameIndex {
        table: String,
        from: String,
        to: String,
    },
}

impl Change {
    /// Steps that can lose data (the `data-loss` hazard): drops, and type
    /// changes that can change values. `gen migrations` refuses them
    /// unless allowed; `gen diff` comments them out.
    pub fn is_destructive(&self) -> bool {
        match self {
            Change::DropTable { .. } | Change::DropColumn { .. } => true,
            Change::AlterColumnType { from, to, .. } => {
                let effect = hazard::cast_effect(from, to);
                effect.can_change.is_some() || effect.reinterprets
            }
            _ => false,
        }
    }

    /// One line for people: what the change does.
    pub fn describe(&self) -> String {
        match self {
            Change::CreateExtension { name, .. } => format!("create extension {name}"),
            Change::DropExtension { name } => format!("drop extension {name}"),
            Change::CreateTable { table } => format!("create table {}", table.name),
            Change::DropTable { table } => format!("drop table {table}"),
            Change::AddColumn { table, column } => format!("add column {table}.{}", column.name),
            Change::DropColumn { table, column } => format!("drop column {table}.{column}"),
            Change::AlterColumnType {
                table,
                column,
                from,
                to,
                ..
            } => {
                format!("change type of {table}.{column} from {from} to {to}")
            }
            Change::SetNotNull { table, column } => format!("set {table}.{column} NOT NULL"),
            Change::DropNotNull { table, column } => format!("drop NOT NULL on {table}.{column}"),
            Change::SetDefault {
                table,
                column,
                default,
            } => {
                format!("set default of {table}.{column} to {default}")
            }
            Change::DropDefault { table, column } => format!("drop default of {table}.{column}"),
            Change::AddConstraint { table, constraint } => {
                format!("add constraint {} on {table}", constraint.name())
            }
            Change::DropConstraint { table, name } => format!("drop constraint {name} on {table}"),
            Change::CreateIndex { index, .. } => format!("create index {}", index.name),
            Change::DropIndex { name, .. } => format!("drop index {name}"),
            Change::AddConstraintNotValid { table, constraint } => {
                format!("add constraint {} on {table} NOT VALID", constraint.name())
            }
            Change::ValidateConstraint { table, name } => {
                format!("validate constraint {name} on {table}")
            }
            Change::AddUniqueUsingIndex { table, name } => {
                format!("add constraint {name} on {table} using its index")
            }
            Change::CreateIndexConcurrently { index, .. } => {
                format!("create index {} concurrently", index.name)
            }
            Change::DropIndexConcurrently { name, .. } => {
                format!("drop index {name} concurrently")
            }
            Change::Backfill { table, column, .. } => format!("backfill {table}.{column}"),
            Change::CreateFunction { function } => {
                format!("create function {}", function.signature)
            }
            Change::DropFunction { function } => format!("drop function {}", function.signature),
            Change::CreateTrigger { table, trigger } => {
                format!("create trigger {} on {table}", trigger.name)
            }
            Change::DropTrigger { table, name } => format!("drop trigger {name} on {table}"),
            Change::CommentOnTable { table, .. } => format!("comment on table {table}"),
            Change::CommentOnColumn { table, column, .. } => {
                format!("comment on column {table}.{column}")
            }
            Change::EnableRls { table } => format!("enable row level security on {table}"),
            Change::DisableRls { table } => format!("disable row level security on {table}"),
            Change::CreatePolicy { table, policy } => {
                format!("create policy {} on {table}", policy.name)
            }
            Change::DropPolicy { table, name } => format!("drop policy {name} on {table}"),
            Change::RenameColumn { table, from, to } => {
                format!("rename column {table}.{from} to {to}")
            }
            Change::RenameTable { from, to } => format!("rename table {from} to {to}"),
            Change::RenameConstraint { table, from, to } => {
                format!("rename constraint {from} on {table} to {to}")
            }
            Change::RenameIndex { from, to, .. } => format!("rename index {from} to {to}"),
        }
    }

    /// A rename of a table, column, constraint or index: a catalog update
    /// that keeps every row and value.
    pub fn is_rename(&self) -> bool {
        matches!(
            self,
            Change::RenameColumn { .. }
                | Change::RenameTable { .. }
                | Change::RenameConstraint { .. }
                | Change::RenameIndex { .. }
        )
    }
}

/// Whether every value of `from` fits `to` unchanged.
pub fn is_widening(from: &PgType, to: &PgType) -> bool {
    use PgType::*;
    match (from, to) {
        (a, b) if a == b => true,
        (Varchar(_), Text) | (Varchar(_), Varchar(None)) => true,
        (Varchar(Some(a)), Varchar(Some(b))) => b >= a,
        (SmallInt, Integer | BigInt | Numeric(None)) | (Integer, BigInt | Numeric(None)) => true,
        (BigInt, Numeric(None)) => true,
        (Numeric(Some(_)), Numeric(None)) => true,
        (Numeric(Some((p1, s1))), Numeric(Some((p2, s2)))) => s2 >= s1 && p2 - s2 >= p1 - s1,
        (Real, DoublePrecision) => true,
        (Timestamp, Timestamptz) => false,
        (Json, Jsonb) => true,
        _ => false,
    }
}

/// The changes that turn `old` into `new`, both realised by us.
pub fn diff(old: &Schema, new: &Schema) -> Vec<Change> {
    diff_with(old, new, &DiffOptions::EXACT)
}

/// The changes that turn `old` into `new`, compared as `options` say.
pub fn diff_with(old: &Schema, new: &Schema, options: &DiffOptions) -> Vec<Change> {
    // Renames the documents mark go first, and the rest is compared with
    // them done: what follows the renamed name finds nothing to change.
    let (renames, renamed_old) = match rename::renamed(old, new, options) {
        Some((changes, schema)) => (changes, Some(schema)),
        None => (Vec::new(), None),
    };
    let old = renamed_old.as_ref().unwrap_or(old);
    let tables = TablePairs::new(old, new);
    let (old_functions, new_functions) = (options.functions(old), options.functions(new));
    let mut out = Vec::new();

    // Extensions first: types and functions in what follows may need them.
    for (name, extension) in &new.extensions {
        if !old.extensions.contains_key(name) {
            out.push(Change::CreateExtension {
                name: name.clone(),
                schema: extension.schema.clone(),
            });
        }
    }
    out.extend(renames);

    // Remove what goes away or changes on tables that stay, foreign keys
    // first so that nothing still depends on what follows.
    drop_triggers_and_policies(&tables.kept, options, &mut out);
    let dropped_constraints =
        missing_constraints(tables.kept.iter().map(|(o, n)| (*o, *n)), options);
    for (table, constraint) in dropped_constraints.in_drop_order() {
        out.push(Change::DropConstraint {
            table,
            name: constraint.name().to_owned(),
        });
    }
    drop_indexes(&tables.kept, options, &mut out);
    for function in functions_missing_from(&old_functions, &new_functions, options) {
        out.push(Change::DropFunction { function });
    }
    drop_tables(&tables.dropped, &mut out);
    change_columns(&tables.kept, options, &mut out);
    let late_foreign_keys = create_tables(&tables, &mut out);

    // New columns and constraints on tables that stay.
    add_columns(&tables.kept, &mut out);
    let added_constraints = missing_constraints(tables.kept.iter().map(|(o, n)| (*n, *o)), options);
    for (table, constraint) in added_constraints.in_add_order() {
        out.push(Change::AddConstraint { table, constraint });
    }
    out.extend(late_foreign_keys);

    // Indexes, functions, triggers.
    create_indexes(old, new, options, &mut out);
    for function in functions_missing_from(&new_functions, &old_functions, options) {
        out.push(Change::CreateFunction { function });
    }
    create_triggers(old, new, &mut out);

    // Comments: the database carries the documentation.
    if options.compare_comments {
        comment_changes(old, new, &mut out);
    }
    rls_and_policy_changes(old, new, options, &mut out);

    for name in old.extensions.keys() {
        if !new.extensions.contains_key(name) {
            out.push(Change::DropExtension { name: name.clone() });
        }
    }
    out
}

/// The tables of two schemas, matched by name.
struct TablePairs<'a> {
    /// In both, as (old, new).
    kept: Vec<(&'a Table, &'a Table)>,
    /// Only in the new schema.
    created: Vec<&'a Table>,
    /// Only in the old schema.
    dropped: Vec<&'a Table>,
}

impl<'a> TablePairs<'a> {
    fn new(old: &'a Schema, new: &'a Schema) -> Self {
        TablePairs {
            kept: old
                .tables
                .values()
                .filter_map(|o| new.tables.get(&o.name).map(|n| (o, n)))
                .collect(),
            created: new
                .tables
                .values()
                .filter(|t| !old.tables.contains_key(&t.name))
                .collect(),
            dropped: old
                .tables
                .values()
                .filter(|t| !new.tables.contains_key(&t.name))
                .collect(),
        }
    }
}

/// Triggers and policies of tables that stay which the new schema lacks,
/// table by table.
fn drop_triggers_and_policies(
    kept: &[(&Table, &Table)],
    options: &DiffOptions,
    out: &mut Vec<Change>,
) {
    for (o, n) in kept {
        for trigger in &o.triggers {
            if !n.triggers.contains(trigger) {
                out.push(Change::DropTrigger {
                    table: o.name.clone(),
                    name: trigger.name.clone(),
                });
            }
        }
        for policy in &o.policies {
            if !n.policies.iter().any(|p| options.same_policy(p, policy)) {
                out.push(Change::DropPolicy {
                    table: o.name.clone(),
                    name: policy.name.clone(),
                });
            }
        }
    }
}

/// Constraints that one side of a table pair has and the other lacks, as
/// (table, constraint), foreign keys kept apart from the rest because they
/// go first when dropped and last when added.
struct MissingConstraints {
    foreign_keys: Vec<(String, Constraint)>,
    others: Vec<(String, Constraint)>,
}

impl MissingConstraints {
    fn in_drop_order(self) -> impl Iterator<Item = (String, Constraint)> {
        self.foreign_keys.into_iter().chain(self.others)
    }

    fn in_add_order(self) -> impl Iterator<Item = (String, Constraint)> {
        self.others.into_iter().chain(self.foreign_keys)
    }
}

/// For each (from, to) pair, the constraints of `from` that `to` does not
/// have under the same name and meaning.
fn missing_constraints<'a>(
    pairs: impl Iterator<Item = (&'a Table, &'a Table)>,
    options: &DiffOptions,
) -> MissingConstraints {
    let mut missing = MissingConstraints {
        foreign_keys: Vec::new(),
        others: Vec::new(),
    };
    for (from, to) in pairs {
        let theirs = constraints(to);
        for constraint in constraints(from) {
            if theirs.iter().any(|c| c.same_as(&constraint, options)) {
                continue;
            }
            let list = if constraint.is_foreign_key() {
                &mut missing.foreign_keys
            } else {
                &mut missing.others
            };
            list.push((from.name.clone(), constraint));
        }
    }
    missing
}

fn drop_indexes(kept: &[(&Table, &Table)], options: &DiffOptions, out: &mut Vec<Change>) {
    for (o, n) in kept {
        for index in &o.indexes {
            if !n.indexes.iter().any(|i| options.same_index(i, index)) {
                out.push(Change::DropIndex {
                    table: o.name.clone(),
                    name: index.name.clone(),
                });
            }
        }
    }
}

/// Functions of `from` that `to` lacks or has with another body: dropped
/// when `from` is the old schema, created when it is the new one.
fn functions_missing_from(
    from: &BTreeMap<String, &Function>,
    to: &BTreeMap<String, &Function>,
    options: &DiffOptions,
) -> Vec<Function> {
    from.iter()
        .filter(|(signature, function)| {
            to.get(*signature)
                .is_none_or(|f| !options.same_function_body(f, function))
        })
        .map(|(_, function)| (*function).clone())
        .collect()
}

/// Drops tables in reverse creation order; FKs that close a cycle among
/// them are dropped first.
fn drop_tables(dropped: &[&Table], out: &mut Vec<Change>) {
    let (drop_order, cyclic) = order::creation_order(dropped);
    for (table, name) in &cyclic {
        out.push(Change::DropConstraint {
            table: table.clone(),
            name: name.clone(),
        });
    }
    for table in drop_order.iter().rev() {
        out.push(Change::DropTable {
            table: table.name.clone(),
        });
    }
}

/// Column drops and alterations on tables that stay.
fn change_columns(kept: &[(&Table, &Table)], options: &DiffOptions, out: &mut Vec<Change>) {
    for (o, n) in kept {
        for column in &o.columns {
            if n.column(&column.name).is_none() {
                out.push(Change::DropColumn {
                    table: o.name.clone(),
                    column: column.name.clone(),
                });
            }
        }
        for new_column in &n.columns {
            let Some(old_column) = o.column(&new_column.name) else {
                continue;
            };
            alter_column(&n.name, old_column, new_column, options, out);
        }
    }
}

/// Creates tables in dependency order. FKs to tables that exist by then
/// are written inline; the rest are returned, to be added once every table
/// exists.
fn create_tables(tables: &TablePairs<'_>, out: &mut Vec<Change>) -> Vec<Change> {
    let existing: BTreeSet<&str> = tables.kept.iter().map(|(o, _)| o.name.as_str()).collect();
    let (create_order, cyclic) = order::creation_order(&tables.created);
    let mut late_foreign_keys = Vec::new();
    let mut available: BTreeSet<&str> = existing;
    for table in create_order {
        let mut inline = table.clone();
        inline.indexes.clear();
        inline.policies.clear();
        inline.triggers.clear();
        inline.foreign_keys.retain(|fk| {
            let target = fk.references.table.as_str();
            let ready = fk.references.is_external()
                || target == table.name
                || (available.contains(target)
                    && !cyclic
                        .contains(&(table.name.clone(), fk.name.clone().unwrap_or_default())));
            if !ready {
                late_foreign_keys.push(Change::AddConstraint {
                    table: table.name.clone(),
                    constraint: Constraint::ForeignKey(fk.clone()),
                });
            }
            ready
        });
        available.insert(table.name.as_str());
        out.push(Change::CreateTable {
            table: Box::new(inline),
        });
    }
    late_foreign_keys
}

fn add_columns(kept: &[(&Table, &Table)], out: &mut Vec<Change>) {
    for (o, n) in kept {
        for column in &n.columns {
            if o.column(&column.name).is_none() {
                out.push(Change::AddColumn {
                    table: n.name.clone(),
                    column: column.clone(),
                });
            }
        }
    }
}

/// Indexes of the new schema's tables, created or kept, that the old
/// table lacks.
fn create_indexes(old: &Schema, new: &Schema, options: &DiffOptions, out: &mut Vec<Change>) {
    for table in new.tables.values() {
        let old_table = old.tables.get(&table.name);
        for index in &table.indexes {
            if !old_table.is_some_and(|o| o.indexes.iter().any(|i| options.same_index(i, index))) {
                out.push(Change::CreateIndex {
                    table: table.name.clone(),
                    index: index.clone(),
                });
            }
        }
    }
}

fn create_triggers(old: &Schema, new: &Schema, out: &mut Vec<Change>) {
    for table in new.tables.values() {
        let old_table = old.tables.get(&table.name);
        for trigger in &table.triggers {
            if !old_table.is_some_and(|o| o.triggers.contains(trigger)) {
                out.push(Change::CreateTrigger {
                    table: table.name.clone(),
                    trigger: trigger.clone(),
                });
            }
        }
    }
}

/// Table and column comments of the new schema that differ from the old.
fn comment_changes(old: &Schema, new: &Schema, out: &mut Vec<Change>) {
    for table in new.tables.values() {
        let old_table = old.tables.get(&table.name);
        let comment = table.meta.purpose.clone();
        let old_comment = old_table.and_then(|o| o.meta.purpose.clone());
        if comment != old_comment && (old_table.is_some() || comment.is_some()) {
            out.push(Change::CommentOnTable {
                table: table.name.clone(),
                comment,
            });
        }
        for column in &table.columns {
            let old_comment = old_table
                .and_then(|o| o.column(&column.name))
                .and_then(|c| c.description.clone());
            let existed = old_table.is_some_and(|o| o.column(&column.name).is_some());
            if column.description != old_comment && (existed || column.description.is_some()) {
                out.push(Change::CommentOnColumn {
                    table: table.name.clone(),
                    column: column.name.clone(),
                    comment: column.description.clone(),
                });
            }
        }
    }
}

/// Row Level Security switched on or off, and new policies.
fn rls_and_policy_changes(
    old: &Schema,
    new: &Schema,
    options: &DiffOptions,
    out: &mut Vec<Change>,
) {
    for table in new.tables.values() {
        let old_table = old.tables.get(&table.name);
        let was_enabled = old_table.is_some_and(|o| o.rls_enabled);
        if table.rls_enabled && !was_enabled {
            out.push(Change::EnableRls {
                table: table.name.clone(),
            });
        }
        if !table.rls_enabled && was_enabled {
            out.push(Change::DisableRls {
                table: table.name.clone(),
            });
        }
        for policy in &table.policies {
            if !old_table.is_some_and(|o| o.policies.iter().any(|p| options.same_policy(p, policy)))
            {
                out.push(Change::CreatePolicy {
                    table: table.name.clone(),
                    policy: policy.clone(),
                });
            }
        }
    }
}

/// Type, nullability and default of one column. A default is dropped before
/// a type change and set after it, so the default never blocks the cast.
fn alter_column(
    table: &str,
    old: &Column,
    new: &Column,
    options: &DiffOptions,
    out: &mut Vec<Change>,
) {
    let t = || table.to_owned();
    let c = || new.name.clone();
    let type_changes = !options.same_type(&old.ty, &new.ty);
    let default_changes = !options.same_expression(old.default.as_deref(), new.default.as_deref())
        || (type_changes && new.default.is_some());
    // A default is dropped before a type change, so that it never blocks
    // the cast, or when the documents drop it; a new default replaces the
    // old one by itself.
    let drop_default = type_changes || (default_changes && new.default.is_none());
    if drop_default && old.default.is_some() {
        out.push(Change::DropDefault {
            table: t(),
            column: c(),
        });
    }
    if type_changes {
        out.push(Change::AlterColumnType {
            table: t(),
            column: c(),
            from: old.ty.clone(),
            to: new.ty.clone(),
            using: hazard::needs_explicit_cast(&old.ty, &new.ty),
        });
    }
    if old.nullable && !new.nullable {
        out.push(Change::SetNotNull {
            table: t(),
            column: c(),
        });
    }
    if !old.nullable && new.nullable {
        out.push(Change::DropNotNull {
            table: t(),
            column: c(),
        });
    }
    if default_changes && let Some(default) = &new.default {
        out.push(Change::SetDefault {
            table: t(),
            column: c(),
            default: default.clone(),
        });
    }
}

impl DiffOptions {
    fn same_index(&self, a: &Index, b: &Index) -> bool {
        let same_columns = match self.spelling {
            Spelling::Exact => a.columns == b.columns,
            Spelling::Canonical => {
                a.columns.len() == b.columns.len()
                    && a.columns.iter().zip(&b.columns).all(|(x, y)| {
                        x.descending == y.descending
                            && canonical::operator_class(x.operator_class.as_deref())
                                == canonical::operator_class(y.operator_class.as_deref())
                            && self.same_expression(Some(&x.expression), Some(&y.expression))
                    })
            }
        };
        a.name == b.name && same_columns && a.method == b.method && a.unique == b.unique
    }

    fn same_policy(&self, a: &Policy, b: &Policy) -> bool {
        match self.spelling {
            Spelling::Exact => same_policy(a, b),
            Spelling::Canonical => {
                let roles = |p: &Policy| p.roles.iter().cloned().collect::<BTreeSet<_>>();
                a.command == b.command
                    && roles(a) == roles(b)
                    && a.permissive == b.permissive
                    && self.same_expression(a.using.as_deref(), b.using.as_deref())
                    && self.same_expression(a.with_check.as_deref(), b.with_check.as_deref())
            }
        }
    }
}

/// Policies are compared by meaning, not by name: command, roles,
/// permissiveness and both expressions, normalised. A policy whose body
/// changes under the same name is a change; a rename alone is not.
pub fn same_policy(a: &Policy, b: &Policy) -> bool {
    let roles = |p: &Policy| p.roles.iter().cloned().collect::<BTreeSet<_>>();
    let expression = |e: &Option<String>| e.as_deref().map(normalize_expression);
    a.command == b.command
        && roles(a) == roles(b)
        && a.permissive == b.permissive
        && expression(&a.using) == expression(&b.using)
        && expression(&a.with_check) == expression(&b.with_check)
}

/// One spelling for an SQL expression: parsed and printed by sqlparser,
/// without redundant outer parentheses, so that `(auth.uid() = user_id)`
/// and `auth.uid()  =  user_id` compare equal.
pub fn normalize_expression(expression: &str) -> String {
    use sqlparser::ast::Expr;
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;
    let parsed = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(expression)
        .and_then(|mut p| p.parse_expr());
    match parsed {
        Ok(mut expr) => {
            while let Expr::Nested(inner) = expr {
                expr = *inner;
            }
            expr.to_string()
        }
        Err(_) => expression.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widening_and_narrowing() {
        assert!(is_widening(&PgType::Varchar(Some(10)), &PgType::Text));
        assert!(is_widening(&PgType::Integer, &PgType::BigInt));
        assert!(is_widening(
            &PgType::Numeric(Some((10, 2))),
            &PgType::Numeric(Some((12, 2)))
        ));
        assert!(!is_widening(
            &PgType::Numeric(Some((10, 4))),
            &PgType::Numeric(Some((10, 2)))
        ));
        assert!(!is_widening(&PgType::Text, &PgType::Integer));
        assert!(!is_widening(&PgType::BigInt, &PgType::Integer));
    }

    #[test]
    fn policies_compare_by_meaning() {
        use crate::model::{PolicyCommand, PolicyOrigin, Source};
        let policy = |name: &str, using: &str| Policy {
            name: name.into(),
            command: PolicyCommand::Select,
            roles: vec!["authenticated".into()],
            permissive: true,
            using: Some(using.into()),
            with_check: None,
            origin: PolicyOrigin::Sql,
            source: Source::new("t", 1),
        };
        assert!(same_policy(
            &policy("a", "auth.uid() = user_id"),
            &policy("b", "(auth.uid()  =  user_id)")
        ));
        assert!(!same_policy(
            &policy("a", "auth.uid() = user_id"),
            &policy("a", "auth.uid() = owner_id")
        ));
    }

    #[test]
    fn identical_schemas_have_no_changes() {
        let schema = Schema::default();
        assert!(diff(&schema, &schema).is_empty());
    }
}
