//! Hazards: what a change can do to a database whose tables hold rows. An
//! empty database takes any migration; a populated one can refuse it
//! (`fails-on-data`), lose values to it (`data-loss`), be rewritten by it
//! (`table-rewrite`) or stop taking writes while it runs (`blocks-writes`).
//! Each change of a diff is classified here, from the schema before and
//! after it, with a one-line reason for people and, where rows decide the
//! outcome, the probes `gen apply`'s preflight counts before anything runs.
//! Only the data can say whether a `fails-on-data` step fails, so the
//! generator never refuses one; it refuses `data-loss` unless allowed.

use super::{Change, Constraint};
use crate::model::{Column, Index, PgType, Schema, Source, Table, TableRef, validate_identifier};
use serde::{Deserialize, Serialize};

/// The kinds of hazard, with their stable names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HazardKind {
    /// Values or rows go away or change: drops, narrowing and value-changing casts.
    DataLoss,
    /// The statement fails when some row violates what it adds.
    FailsOnData,
    /// PostgreSQL rewrites the whole table.
    TableRewrite,
    /// A lock that blocks writes for longer than a catalog update.
    BlocksWrites,
}

impl HazardKind {
    pub const ALL: [HazardKind; 4] = [
        HazardKind::DataLoss,
        HazardKind::FailsOnData,
        HazardKind::TableRewrite,
        HazardKind::BlocksWrites,
    ];

    pub fn name(self) -> &'static str {
        match self {
            HazardKind::DataLoss => "data-loss",
            HazardKind::FailsOnData => "fails-on-data",
            HazardKind::TableRewrite => "table-rewrite",
            HazardKind::BlocksWrites => "blocks-writes",
        }
    }

    pub fn from_name(name: &str) -> Option<HazardKind> {
        HazardKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl std::fmt::Display for HazardKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One hazard of one change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hazard {
    pub kind: HazardKind,
    /// One line: what can happen, and to what.
    pub reason: String,
}

impl Hazard {
    /// The reason goes into SQL comments, one line each: expressions
    /// from the documents may span lines, so whitespace is collapsed.
    fn new(kind: HazardKind, reason: impl Into<String>) -> Hazard {
        let reason: String = reason.into();
        Hazard {
            kind,
            reason: reason.split_whitespace().collect::<Vec<_>>().join(" "),
        }
    }
}

/// What the preflight counts in the live data for one step. Each probe
/// measures one hazard (a cast measures two: the values it fails on and
/// the values it changes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "count", rename_all = "kebab-case")]
pub enum Probe {
    /// The rows of a table that is dropped.
    RowsLost { table: String },
    /// The non-NULL values of a column that is dropped.
    ValuesLost { table: String, column: String },
    /// The rows of a table that gets a NOT NULL column without a default:
    /// each one fails it.
    RowsWithoutValue { table: String, column: String },
    /// NULLs in a column that becomes NOT NULL or part of a primary key.
    Nulls { table: String, column: String },
    /// The rows of a table that gets a NOT NULL column without a default
    /// but with a backfill, for which the backfill expression is NULL: the
    /// migration fills the column with it, and each such row fails the NOT
    /// NULL that follows.
    BackfillNulls {
        table: String,
        column: String,
        expression: String,
    },
    /// Groups of rows that share a value of columns becoming unique.
    Duplicates { table: String, columns: Vec<String> },
    /// Rows for which a new CHECK is false.
    CheckFails {
        table: String,
        name: String,
        expression: String,
    },
    /// Rows whose new foreign key matches no row of the referenced table.
    Orphans {
        table: String,
        columns: Vec<String>,
        references: TableRef,
        referenced_columns: Vec<String>,
    },
    /// Values longer than a new `varchar(n)`, which PostgreSQL refuses.
    TooLong {
        table: String,
        column: String,
        length: u32,
    },
    /// Values a cast fails on, and values it changes (`x::to::from <> x`).
    Cast {
        table: String,
        column: String,
        from: PgType,
        to: PgType,
    },
    /// Non-NULL values whose meaning changes with the cast (a time zone
    /// is assumed or dropped): every one is reported.
    Reinterpreted {
        table: String,
        column: String,
        from: PgType,
        to: PgType,
    },
}

impl Probe {
    /// The table whose rows are counted.
    pub fn table(&self) -> &str {
        match self {
            Probe::RowsLost { table }
            | Probe::ValuesLost { table, .. }
            | Probe::RowsWithoutValue { table, .. }
            | Probe::Nulls { table, .. }
            | Probe::BackfillNulls { table, .. }
            | Probe::Duplicates { table, .. }
            | Probe::CheckFails { table, .. }
            | Probe::Orphans { table, .. }
            | Probe::TooLong { table, .. }
            | Probe::Cast { table, .. }
            | Probe::Reinterpreted { table, .. } => table,
        }
    }

    /// The columns the probe reads, which must exist for it to run.
    pub fn columns(&self) -> Vec<&str> {
        match self {
            Probe::RowsLost { .. } | Probe::RowsWithoutValue { .. } => Vec::new(),
            Probe::ValuesLost { column, .. }
            | Probe::Nulls { column, .. }
            | Probe::TooLong { column, .. }
            | Probe::Cast { column, .. }
            | Probe::Reinterpreted { column, .. } => vec![column],
            Probe::Duplicates { columns, .. } | Probe::Orphans { columns, .. } => {
                columns.iter().map(String::as_str).collect()
            }
            // Expressions name their columns in SQL we do not read here; a
            // missing one makes PostgreSQL refuse the probe, which is then
            // reported as not measured. The new column itself does not
            // exist yet, so it is not listed.
            Probe::CheckFails { .. } | Probe::BackfillNulls { .. } => Vec::new(),
        }
    }
}

/// A change with its hazards, its probes and the documentation line that
/// asked for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub change: Change,
    pub hazards: Vec<Hazard>,
    pub probes: Vec<Probe>,
    /// Where the documents state what the change brings (for a drop: where
    /// the table was, or still is, documented).
    pub source: Option<Source>,
}

impl Step {
    pub fn has(&self, kind: HazardKind) -> bool {
        self.hazards.iter().any(|h| h.kind == kind)
    }
}

/// Every change of `old → new` with its hazards, in order.
pub fn classify(changes: Vec<Change>, old: &Schema, new: &Schema) -> Vec<Step> {
    // After a rename, later steps name the table and its columns by their
    // new names: they are classified against the old schema so renamed.
    let renamed = super::rename::renamed_by(old, &changes);
    let old = renamed.as_ref().unwrap_or(old);
    changes
        .into_iter()
        .map(|change| classify_one(change, old, new))
        .collect()
}

fn classify_one(change: Change, old: &Schema, new: &Schema) -> Step {
    let mut step = Step {
        hazards: Vec::new(),
        probes: Vec::new(),
        source: None,
        change,
    };
    let existing = |table: &str| old.tables.get(table);
    let column_source = |table: &str, column: &str| {
        new.tables
            .get(table)
            .and_then(|t| t.column(column))
            .map(|c| c.source.clone())
            .or_else(|| new.tables.get(table).map(|t| t.source.clone()))
    };
    match &step.change {
        Change::DropTable { table } => {
            step.source = existing(table).map(|t| t.source.clone());
            step.hazards.push(Hazard::new(
                HazardKind::DataLoss,
                format!("drops table {table} and every row in it"),
            ));
            step.probes.push(Probe::RowsLost {
                table: table.clone(),
            });
        }
        Change::DropColumn { table, column } => {
            step.source = new.tables.get(table).map(|t| t.source.clone());
            step.hazards.push(Hazard::new(
                HazardKind::DataLoss,
                format!("drops column {table}.{column} and its values"),
            ));
            step.probes.push(Probe::ValuesLost {
                table: table.clone(),
                column: column.clone(),
            });
        }
        Change::AddColumn { table, column } => {
            step.source = Some(column.source.clone());
            add_column_hazards(&mut step.hazards, &mut step.probes, table, column);
        }
        Change::AlterColumnType {
            table,
            column,
            from,
            to,
            ..
        } => {
            step.source = column_source(table, column);
            let (hazards, probe) = cast_hazards(table, column, from, to);
            step.hazards = hazards;
            step.probes.extend(probe);
        }
        Change::SetNotNull { table, column } => {
            step.source = column_source(table, column);
            step.hazards.push(Hazard::new(
                HazardKind::FailsOnData,
                format!("fails if {table}.{column} holds a NULL"),
            ));
            step.hazards.push(Hazard::new(
                HazardKind::BlocksWrites,
                format!("scans {table} under an ACCESS EXCLUSIVE lock"),
            ));
            step.probes.push(Probe::Nulls {
                table: table.clone(),
                column: column.clone(),
            });
        }
        Change::AddConstraint { table, constraint } => {
            step.source = Some(constraint_source(constraint));
            if let Some(before) = existing(table) {
                constraint_hazards(&mut step.hazards, &mut step.probes, before, constraint);
            }
        }
        Change::CreateIndex { table, index } => {
            step.source = Some(index.source.clone());
            if existing(table).is_some() {
                index_hazards(&mut step.hazards, &mut step.probes, table, index);
            }
        }
        Change::SetDefault { table, column, .. }
        | Change::DropDefault { table, column }
        | Change::DropNotNull { table, column }
        | Change::CommentOnColumn { table, column, .. } => {
            step.source = column_source(table, column);
        }
        Change::CreateTable { table } => step.source = Some(table.source.clone()),
        // A rename is a catalog update under a brief ACCESS EXCLUSIVE
        // lock, like a dropped default: it loses nothing and rewrites
        // nothing, so it has no hazard.
        Change::RenameColumn { table, to, .. } => step.source = column_source(table, to),
        Change::RenameTable { to: table, .. }
        | Change::RenameConstraint { table, .. }
        | Change::RenameIndex { table, .. } => {
            step.source = new.tables.get(table).map(|t| t.source.clone());
        }
        _ => {}
    }
    step
}

fn constraint_source(constraint: &Constraint) -> Source {
    match constraint {
        Constraint::PrimaryKey(c) => c.source.clone(),
        Constraint::Unique(c) => c.source.clone(),
        Constraint::Check(c) => c.source.clone(),
        Constraint::ForeignKey(c) => c.source.clone(),
    }
}

/// Functions whose value differs per row: a default calling one makes
/// `ADD COLUMN` rewrite the table (a stable default is stored once).
const VOLATILE_FUNCTIONS: &[&str] = &[
    "gen_random_uuid(",
    "uuid_generate_v4(",
    "uuid_generate_v1(",
    "random(",
    "clock_timestamp(",
    "timeofday(",
    "nextval(",
];

fn add_column_hazards(
    hazards: &mut Vec<Hazard>,
    probes: &mut Vec<Probe>,
    table: &str,
    column: &Column,
) {
    let name = &column.name;
    match (&column.default, &column.backfill) {
        // The migration adds the column nullable, fills it and only then
        // makes it NOT NULL: what can fail is a row the expression leaves
        // NULL, and the preflight counts exactly those.
        (None, Some(expression)) if !column.nullable => {
            hazards.push(Hazard::new(
                HazardKind::FailsOnData,
                format!(
                    "adds NOT NULL column {table}.{name} backfilled with `{expression}`: fails if the backfill leaves a row of {table} NULL"
                ),
            ));
            probes.push(Probe::BackfillNulls {
                table: table.to_owned(),
                column: name.clone(),
                expression: expression.clone(),
            });
        }
        (None, None) if !column.nullable => {
            hazards.push(Hazard::new(
                HazardKind::FailsOnData,
                format!(
                    "adds NOT NULL column {table}.{name} without a default: fails if {table} has rows"
                ),
            ));
            probes.push(Probe::RowsWithoutValue {
                table: table.to_owned(),
                column: name.clone(),
            });
        }
        (Some(default), _) => {
            let lower = default.to_ascii_lowercase();
            if VOLATILE_FUNCTIONS.iter().any(|f| lower.contains(f)) {
                hazards.push(Hazard::new(
                    HazardKind::TableRewrite,
                    format!("the volatile default `{default}` rewrites {table}, row by row"),
                ));
                hazards.push(Hazard::new(
                    HazardKind::BlocksWrites,
                    format!("{table} is locked ACCESS EXCLUSIVE while it is rewritten"),
                ));
            }
        }
        (None, _) => {}
    }
}

fn constraint_hazards(
    hazards: &mut Vec<Hazard>,
    probes: &mut Vec<Probe>,
    before: &Table,
    constraint: &Constraint,
) {
    let table = before.name.clone();
    let (fails, blocks) = match constraint {
        Constraint::PrimaryKey(pk) => {
            for column in &pk.columns {
                probes.push(Probe::Nulls {
                    table: table.clone(),
                    column: column.clone(),
                });
            }
            probes.push(Probe::Duplicates {
                table: table.clone(),
                columns: pk.columns.clone(),
            });
            (
                format!(
                    "fails if ({}) holds NULLs or duplicates in {table}",
                    pk.columns.join(", ")
                ),
                format!("builds the primary key's index on {table} while writes wait"),
            )
        }
        Constraint::Unique(unique) => {
            probes.push(Probe::Duplicates {
                table: table.clone(),
                columns: unique.columns.clone(),
            });
            (
                format!(
                    "fails if ({}) holds duplicates in {table}",
                    unique.columns.join(", ")
                ),
                format!("builds a unique index on {table} while writes wait"),
            )
        }
        Constraint::Check(check) => {
            probes.push(Probe::CheckFails {
                table: table.clone(),
                name: constraint.name().to_owned(),
                expression: check.expression.clone(),
            });
            (
                format!(
                    "fails if a row of {table} violates CHECK ({})",
                    check.expression
                ),
                format!("validates every row of {table} under an ACCESS EXCLUSIVE lock"),
            )
        }
        Constraint::ForeignKey(fk) => {
            probes.push(Probe::Orphans {
                table: table.clone(),
                columns: fk.columns.clone(),
                references: fk.references.clone(),
                referenced_columns: fk.referenced_columns.clone(),
            });
            (
                format!(
                    "fails if ({}) of {table} holds values missing from {}",
                    fk.columns.join(", "),
                    fk.references
                ),
                format!(
                    "validates {table} under a SHARE ROW EXCLUSIVE lock on it and on {}",
                    fk.references
                ),
            )
        }
    };
    hazards.push(Hazard::new(HazardKind::FailsOnData, fails));
    hazards.push(Hazard::new(HazardKind::BlocksWrites, blocks));
}

fn index_hazards(hazards: &mut Vec<Hazard>, probes: &mut Vec<Probe>, table: &str, index: &Index) {
    hazards.push(Hazard::new(
        HazardKind::BlocksWrites,
        format!(
            "builds index {} under a SHARE lock: writes to {table} wait",
            index.name
        ),
    ));
    if !index.unique {
        return;
    }
    hazards.push(Hazard::new(
        HazardKind::FailsOnData,
        format!("fails if the indexed values of {table} hold duplicates"),
    ));
    // Only plain columns can be counted; an expression index is built by
    // PostgreSQL from text we do not evaluate here.
    let columns: Option<Vec<String>> = index
        .columns
        .iter()
        .map(|c| {
            validate_identifier(&c.expression)
                .is_ok()
                .then(|| c.expression.clone())
        })
        .collect();
    if let Some(columns) = columns {
        probes.push(Probe::Duplicates {
            table: table.to_owned(),
            columns,
        });
    }
}

/// What a cast from one type to another can do to values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CastEffect {
    /// Only the catalog changes (e.g. `varchar(20)` to `text`).
    pub metadata_only: bool,
    /// Why some values can make the cast fail.
    pub can_fail: Option<&'static str>,
    /// Why some values can come out different.
    pub can_change: Option<&'static str>,
    /// The values keep their text but change meaning (time zones).
    pub reinterprets: bool,
}

fn is_string(ty: &PgType) -> bool {
    matches!(ty, PgType::Text | PgType::Varchar(_))
}

fn is_integer(ty: &PgType) -> bool {
    matches!(ty, PgType::SmallInt | PgType::Integer | PgType::BigInt)
}

fn integer_rank(ty: &PgType) -> u8 {
    match ty {
        PgType::SmallInt => 1,
        PgType::Integer => 2,
        _ => 3,
    }
}

fn is_number(ty: &PgType) -> bool {
    is_integer(ty)
        || matches!(
            ty,
            PgType::Numeric(_) | PgType::Real | PgType::DoublePrecision
        )
}

/// What a change of column type from `from` to `to` does to values.
pub fn cast_effect(from: &PgType, to: &PgType) -> CastEffect {
    use PgType::*;
    let mut effect = CastEffect::default();
    let change = |reason| CastEffect {
        can_change: Some(reason),
        ..CastEffect::default()
    };
    match (from, to) {
        (a, b) if a == b => effect.metadata_only = true,
        // Any value has a text form, and a string keeps its characters.
        (_, Text | Varchar(None)) => effect.metadata_only = is_string(from),
        (Varchar(Some(a)), Varchar(Some(b))) if b >= a => effect.metadata_only = true,
        (_, Varchar(Some(_))) => {
            effect.can_fail = Some("a value is longer than the new length");
        }
        (Numeric(Some(_)), Numeric(None)) => effect.metadata_only = true,
        (Numeric(Some((p1, s1))), Numeric(Some((p2, s2)))) => {
            effect.metadata_only = s1 == s2 && p2 >= p1;
            if s2 < s1 {
                effect.can_change = Some("values are rounded to fewer decimal places");
            }
            if p2.saturating_sub(*s2) < p1.saturating_sub(*s1) {
                effect.can_fail = Some("a value has more integer digits than the new precision");
            }
        }
        (Numeric(None), Numeric(Some(_))) => {
            effect.can_change = Some("values are rounded to the new scale");
            effect.can_fail = Some("a value has more digits than the new precision");
        }
        (a, b) if is_integer(a) && is_integer(b) => {
            if integer_rank(b) < integer_rank(a) {
                effect.can_fail = Some("a value is out of the new type's range");
            }
        }
        (a, Numeric(None)) if is_integer(a) => {}
        (a, Numeric(Some(_))) if is_integer(a) => {
            effect.can_fail = Some("a value has more digits than the new precision");
        }
        (Numeric(_) | Real | DoublePrecision, b) if is_integer(b) => {
            effect.can_change = Some("fractions are rounded to whole numbers");
            effect.can_fail = Some("a value is out of the new type's range");
        }
        (Real, DoublePrecision) | (SmallInt, Real | DoublePrecision) => {}
        (Integer, DoublePrecision) => {}
        (a, Real | DoublePrecision) if is_number(a) => {
            effect = change("values lose precision as floating point");
            if matches!((a, to), (DoublePrecision, Real)) {
                effect.can_fail = Some("a value is out of real's range");
            }
        }
        (Real | DoublePrecision, Numeric(_)) => {
            effect = change("floating-point values are rounded to decimals");
            effect.can_fail = Some("a value is NaN, infinite or too large");
        }
        (Timestamp, Timestamptz) | (Timestamptz, Timestamp) => effect.reinterprets = true,
        (Date, Timestamp | Timestamptz) => {}
        (Timestamp | Timestamptz, Date) => effect = change("the time of day is dropped"),
        (Json, Jsonb) | (Jsonb, Json) => {}
        (a, _) if is_string(a) => {
            effect.can_fail = Some("a value is not valid input for the new type");
            effect.can_change = Some(
                "values are read as the new type and can come out different (leading zeros, case, spacing)",
            );
        }
        _ => {
            effect.can_fail = Some("a value cannot be converted to the new type");
            effect.can_change = Some("values can come out different in the new type");
        }
    }
    effect
}

/// Whether `ALTER COLUMN … TYPE` needs an explicit `USING col::type`:
/// only when PostgreSQL has no assignment cast. Every type has one to the
/// string types, and an explicit cast to `varchar(n)` would truncate where
/// the assignment cast raises, so strings never get one.
pub fn needs_explicit_cast(from: &PgType, to: &PgType) -> bool {
    if is_string(to) {
        return false;
    }
    let assignable = (is_number(from) && is_number(to))
        || matches!(
            (from, to),
            (PgType::Json, PgType::Jsonb)
                | (PgType::Jsonb, PgType::Json)
                | (PgType::Timestamp, PgType::Timestamptz)
                | (PgType::Timestamptz, PgType::Timestamp)
                | (PgType::Date, PgType::Timestamp | PgType::Timestamptz)
                | (PgType::Timestamp | PgType::Timestamptz, PgType::Date)
        );
    !assignable
}

fn cast_hazards(
    table: &str,
    column: &str,
    from: &PgType,
    to: &PgType,
) -> (Vec<Hazard>, Option<Probe>) {
    let effect = cast_effect(from, to);
    let mut hazards = Vec::new();
    let mut probe = None;
    let owned = || (table.to_owned(), column.to_owned());
    if let Some(reason) = effect.can_change {
        hazards.push(Hazard::new(
            HazardKind::DataLoss,
            format!("{table}.{column} from {from} to {to}: {reason}"),
        ));
    }
    if effect.reinterprets {
        hazards.push(Hazard::new(
            HazardKind::DataLoss,
            format!(
                "{table}.{column} from {from} to {to}: values are read in the session's time zone and change meaning"
            ),
        ));
        let (table, column) = owned();
        probe = Some(Probe::Reinterpreted {
            table,
            column,
            from: from.clone(),
            to: to.clone(),
        });
    }
    if let Some(reason) = effect.can_fail {
        hazards.push(Hazard::new(
            HazardKind::FailsOnData,
            format!("{table}.{column} from {from} to {to}: fails if {reason}"),
        ));
    }
    if effect.can_change.is_some() || effect.can_fail.is_some() {
        let (table, column) = owned();
        probe = Some(match to {
            PgType::Varchar(Some(length)) if effect.can_change.is_none() => Probe::TooLong {
                table,
                column,
                length: *length,
            },
            _ => Probe::Cast {
                table,
                column,
                from: from.clone(),
                to: to.clone(),
            },
        });
    }
    if !effect.metadata_only {
        hazards.push(Hazard::new(
            HazardKind::TableRewrite,
            format!("changing {table}.{column} to {to} rewrites {table}"),
        ));
        hazards.push(Hazard::new(
            HazardKind::BlocksWrites,
            format!("{table} is locked ACCESS EXCLUSIVE while it is rewritten"),
        ));
    }
    (hazards, probe)
}

#[cfg(test)]
mod tests {
    use super::*;
    use PgType::*;

    fn kinds(from: &PgType, to: &PgType) -> Vec<HazardKind> {
        cast_hazards("t", "c", from, to)
            .0
            .into_iter()
            .map(|h| h.kind)
            .collect()
    }

    #[test]
    fn casts_are_classified_by_what_they_do_to_values() {
        use HazardKind::*;
        // (from, to, hazards): the table of the README's hazards section.
        let cases: &[(PgType, PgType, &[HazardKind])] = &[
            (Varchar(Some(10)), Text, &[]),
            (Varchar(Some(10)), Varchar(Some(20)), &[]),
            (
                Varchar(None),
                Varchar(Some(5)),
                &[FailsOnData, TableRewrite, BlocksWrites],
            ),
            (Integer, BigInt, &[TableRewrite, BlocksWrites]),
            (BigInt, Integer, &[FailsOnData, TableRewrite, BlocksWrites]),
            (
                Varchar(None),
                Integer,
                &[DataLoss, FailsOnData, TableRewrite, BlocksWrites],
            ),
            (
                Numeric(Some((10, 4))),
                Numeric(Some((10, 2))),
                &[DataLoss, TableRewrite, BlocksWrites],
            ),
            (
                Timestamp,
                Timestamptz,
                &[DataLoss, TableRewrite, BlocksWrites],
            ),
            (Integer, Text, &[TableRewrite, BlocksWrites]),
        ];
        for (from, to, expected) in cases {
            assert_eq!(kinds(from, to), *expected, "{from} -> {to}");
        }
    }

    #[test]
    fn narrowing_a_string_is_counted_not_cast() {
        let (_, probe) = cast_hazards("t", "c", &Text, &Varchar(Some(5)));
        assert!(matches!(probe, Some(Probe::TooLong { length: 5, .. })));
        assert!(!needs_explicit_cast(&Text, &Varchar(Some(5))));
        assert!(needs_explicit_cast(&Varchar(None), &Integer));
        assert!(!needs_explicit_cast(&Integer, &BigInt));
    }

    #[test]
    fn kinds_have_stable_names() {
        for kind in HazardKind::ALL {
            assert_eq!(HazardKind::from_name(kind.name()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.name()));
        }
    }
}
