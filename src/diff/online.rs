//! Online plans: how the steps of a later migration are split so that a
//! table that holds rows keeps taking reads and writes while they run. A
//! plain `diff` says what must change; applied as written, some of it scans
//! or indexes a whole table under a lock that stops its traffic. This module
//! rewrites those steps, on tables that exist before the migration, the way
//! PostgreSQL allows them to run beside traffic:
//!
//! - an index is built `CONCURRENTLY`, outside a transaction, after dropping
//!   what a failed build left behind (an INVALID index of the same name);
//! - a CHECK or FK is added `NOT VALID` (new rows are checked at once) and
//!   validated later, in a transaction of its own, under a lock that lets
//!   reads and writes go on;
//! - `SET NOT NULL` follows a validated `CHECK (col IS NOT NULL)`, so that
//!   PostgreSQL (12 and later) skips its scan; the helper CHECK is dropped;
//! - a CHECK that changes under its own name is added under a new name,
//!   validated, and takes the old one's name once the old one is dropped;
//! - a UNIQUE constraint is attached to a unique index built concurrently;
//! - a NOT NULL column without a default is added nullable, filled by its
//!   documented backfill (if any) in a transaction of its own, and then made
//!   NOT NULL as above.
//!
//! Validating in the transaction that adds the NOT VALID constraint would
//! hold the add's ACCESS EXCLUSIVE lock through the scan, so the steps fall
//! into phases, each a migration file of its own, run in this order: the
//! main transaction, the backfills, the concurrent index work (no
//! transaction) and the finishing transaction. The hazards that the rewrite
//! removes (`blocks-writes`) go; a step's `fails-on-data` hazards and
//! preflight probes move to the statement that can fail.

use super::hazard::{HazardKind, Step};
use super::{Change, Constraint};
use crate::model::physical::pg_object_name;
use crate::model::{CheckConstraint, Index, IndexColumn, IndexMethod, Schema};
use std::collections::BTreeSet;

/// Where a step runs. The order of the variants is the order of the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PhaseKind {
    /// Everything that is not rewritten, in the diff's order, in one
    /// transaction.
    Main,
    /// `UPDATE`s that fill new columns, in a transaction of their own, so
    /// that their row locks are not held through the validation scans.
    Backfill,
    /// Index builds and drops, `CONCURRENTLY`, outside a transaction.
    Concurrent,
    /// Validations, then what needs them: UNIQUE over the new indexes, SET
    /// NOT NULL, and the drops and renames of replaced CHECKs.
    Finish,
}

impl PhaseKind {
    /// The suffix of the phase's migration name (`<name>_<suffix>`).
    pub fn suffix(self) -> Option<&'static str> {
        match self {
            PhaseKind::Main => None,
            PhaseKind::Backfill => Some("backfill"),
            PhaseKind::Concurrent => Some("concurrently"),
            PhaseKind::Finish => Some("validate"),
        }
    }

    /// Whether the phase's file runs in a transaction; the concurrent one
    /// says `-- no-transaction`, since PostgreSQL refuses to build an
    /// index concurrently inside one.
    pub fn in_transaction(self) -> bool {
        self != PhaseKind::Concurrent
    }
}

/// The steps of one migration file.
#[derive(Debug, Clone)]
pub struct Phase {
    pub kind: PhaseKind,
    pub steps: Vec<Step>,
}

/// The steps of a later migration from `old` (the schema the database
/// has; which tables exist, and what their columns are), split into phases; phases without steps are left out,
/// so a migration that touches no existing table's data stays one file.
pub fn phases(steps: Vec<Step>, old: &Schema) -> Vec<Phase> {
    let plan = Planner::new(&steps, old);
    let mut out = Split::default();
    for step in steps {
        plan.place(step, &mut out);
    }
    let Split {
        main,
        backfill,
        concurrent,
        validate,
        attach,
        not_null,
        replace,
    } = out;
    let finish: Vec<Step> = validate
        .into_iter()
        .chain(attach)
        .chain(not_null)
        .chain(replace)
        .collect();
    [
        (PhaseKind::Main, main),
        (PhaseKind::Backfill, backfill),
        (PhaseKind::Concurrent, concurrent),
        (PhaseKind::Finish, finish),
    ]
    .into_iter()
    .filter(|(_, steps)| !steps.is_empty())
    .map(|(kind, steps)| Phase { kind, steps })
    .collect()
}

/// The steps of each phase as they are placed; the finishing phase is
/// kept in four parts, so that every validation runs before anything that
/// takes an ACCESS EXCLUSIVE lock in the same transaction (a lock that is
/// held to the end of it).
#[derive(Default)]
struct Split {
    main: Vec<Step>,
    backfill: Vec<Step>,
    concurrent: Vec<Step>,
    validate: Vec<Step>,
    attach: Vec<Step>,
    not_null: Vec<Step>,
    replace: Vec<Step>,
}

/// What deciding a step's phase needs to know about the whole plan.
struct Planner<'a> {
    old: &'a Schema,
    /// CHECKs dropped and added again under the same name (their meaning
    /// changed), as (table, name).
    replaced_checks: BTreeSet<(String, String)>,
    /// Indexes dropped whose name a constraint added in the main phase
    /// takes: those drops stay in the main phase, before the add.
    names_taken: BTreeSet<String>,
    /// (table, columns) that a foreign key added by this plan references:
    /// a UNIQUE on them must exist when the FK is added, so it is not
    /// deferred.
    referenced: BTreeSet<(String, Vec<String>)>,
}

impl<'a> Planner<'a> {
    fn new(steps: &[Step], old: &'a Schema) -> Self {
        let existing = |table: &str| old.tables.contains_key(table);
        let dropped: BTreeSet<(String, String)> = steps
            .iter()
            .filter_map(|s| match &s.change {
                Change::DropConstraint { table, name } => Some((table.clone(), name.clone())),
                _ => None,
            })
            .collect();
        let mut replaced_checks = BTreeSet::new();
        let mut names_taken = BTreeSet::new();
        let mut referenced = BTreeSet::new();
        for step in steps {
            match &step.change {
                Change::AddConstraint { table, constraint } => {
                    let key = (table.clone(), constraint.name().to_owned());
                    match constraint {
                        Constraint::Check(_) if existing(table) && dropped.contains(&key) => {
                            replaced_checks.insert(key);
                        }
                        Constraint::PrimaryKey(_) | Constraint::Unique(_) => {
                            names_taken.insert(constraint.name().to_owned());
                        }
                        Constraint::ForeignKey(fk) => {
                            referenced
                                .insert((fk.references.to_string(), fk.referenced_columns.clone()));
                        }
                        Constraint::Check(_) => {}
                    }
                }
                Change::CreateTable { table } => {
                    for fk in &table.foreign_keys {
                        referenced
                            .insert((fk.references.to_string(), fk.referenced_columns.clone()));
                    }
                }
                _ => {}
            }
        }
        Planner {
            old,
            replaced_checks,
            names_taken,
            referenced,
        }
    }

    fn existing(&self, table: &str) -> bool {
        self.old.tables.contains_key(table)
    }

    fn place(&self, step: Step, out: &mut Split) {
        match &step.change {
            Change::CreateIndex { table, index } if self.existing(table) || index.concurrently => {
                let change = Change::CreateIndexConcurrently {
                    table: table.clone(),
                    index: index.clone(),
                };
                out.concurrent.push(online(step, change));
            }
            Change::DropIndex { table, name }
                if self.existing(table) && !self.names_taken.contains(name) =>
            {
                let change = Change::DropIndexConcurrently {
                    table: table.clone(),
                    name: name.clone(),
                };
                out.concurrent.push(online(step, change));
            }
            Change::DropConstraint { table, name }
                if self
                    .replaced_checks
                    .contains(&(table.clone(), name.clone())) =>
            {
                // Dropped only once its replacement is validated.
                out.replace.push(step);
            }
            Change::AddConstraint { table, constraint }
                if self.existing(table)
                    && matches!(constraint, Constraint::Check(_) | Constraint::ForeignKey(_)) =>
            {
                let (table, constraint) = (table.clone(), constraint.clone());
                self.add_not_valid(step, table, constraint, out);
            }
            Change::AddConstraint {
                table,
                constraint: Constraint::Unique(unique),
            } if self.existing(table)
                && !self
                    .referenced
                    .contains(&(table.clone(), unique.columns.clone())) =>
            {
                let name = unique.name.clone().unwrap_or_default();
                let index = Index {
                    name: name.clone(),
                    columns: unique
                        .columns
                        .iter()
                        .map(|c| IndexColumn::column(c.clone()))
                        .collect(),
                    method: IndexMethod::Btree,
                    unique: true,
                    concurrently: true,
                    source: unique.source.clone(),
                };
                let attach = Step {
                    change: Change::AddUniqueUsingIndex {
                        table: table.clone(),
                        name,
                    },
                    hazards: Vec::new(),
                    probes: Vec::new(),
                    source: step.source.clone(),
                };
                let build = Change::CreateIndexConcurrently {
                    table: table.clone(),
                    index,
                };
                out.concurrent.push(online(step, build));
                out.attach.push(attach);
            }
            Change::SetNotNull { table, column }
                if self
                    .old
                    .tables
                    .get(table)
                    .is_some_and(|t| t.column(column).is_some()) =>
            {
                let (table, column) = (table.clone(), column.clone());
                self.not_null_through_check(step, &table, &column, out);
            }
            Change::AddColumn { table, column }
                if self.existing(table) && !column.nullable && column.default.is_none() =>
            {
                // Without a backfill the validation fails on any row (the
                // preflight counts them); on an empty table it goes
                // through, and either way no scan holds a write lock.
                let (table, column) = (table.clone(), column.clone());
                let mut nullable = column.clone();
                nullable.nullable = true;
                out.main.push(quiet(
                    &step,
                    Change::AddColumn {
                        table: table.clone(),
                        column: nullable,
                    },
                ));
                if let Some(expression) = column.backfill.clone() {
                    out.backfill.push(quiet(
                        &step,
                        Change::Backfill {
                            table: table.clone(),
                            column: column.name.clone(),
                            expression,
                        },
                    ));
                }
                self.not_null_through_check(step, &table, &column.name, out);
            }
            _ => out.main.push(step),
        }
    }

    /// `ADD … NOT VALID` in the main phase, `VALIDATE` in the finishing
    /// one; a CHECK replacing one of its name is added under a new name
    /// and renamed once the old one is dropped.
    fn add_not_valid(&self, step: Step, table: String, constraint: Constraint, out: &mut Split) {
        let name = constraint.name().to_owned();
        let replaces = self
            .replaced_checks
            .contains(&(table.clone(), name.clone()));
        let added_as = if replaces {
            pg_object_name(&name, None, "new")
        } else {
            name.clone()
        };
        let constraint = renamed(constraint, &added_as);
        out.main.push(quiet(
            &step,
            Change::AddConstraintNotValid {
                table: table.clone(),
                constraint,
            },
        ));
        if replaces {
            out.replace.push(quiet(
                &step,
                Change::RenameConstraint {
                    table: table.clone(),
                    from: added_as.clone(),
                    to: name,
                },
            ));
        }
        out.validate.push(online(
            step,
            Change::ValidateConstraint {
                table,
                name: added_as,
            },
        ));
    }

    /// A NOT VALID `CHECK (col IS NOT NULL)`, validated, then `SET NOT
    /// NULL` (which finds the validated CHECK and skips its scan) and the
    /// helper's drop. The step's probes (the NULLs it counts) go with the
    /// validation, which is what fails on them.
    fn not_null_through_check(&self, step: Step, table: &str, column: &str, out: &mut Split) {
        let helper = pg_object_name(table, Some(column), "not_null");
        let check = Constraint::Check(CheckConstraint {
            name: Some(helper.clone()),
            column: None,
            expression: format!(
                "{} IS NOT NULL",
                crate::model::physical::quote_identifier(column)
            ),
            allowed_values: Vec::new(),
            source: step
                .source
                .clone()
                .unwrap_or_else(|| crate::model::Source::new("", 0)),
        });
        out.main.push(quiet(
            &step,
            Change::AddConstraintNotValid {
                table: table.to_owned(),
                constraint: check,
            },
        ));
        out.not_null.push(quiet(
            &step,
            Change::SetNotNull {
                table: table.to_owned(),
                column: column.to_owned(),
            },
        ));
        out.not_null.push(quiet(
            &step,
            Change::DropConstraint {
                table: table.to_owned(),
                name: helper.clone(),
            },
        ));
        out.validate.push(online(
            step,
            Change::ValidateConstraint {
                table: table.to_owned(),
                name: helper,
            },
        ));
    }
}

/// The step as `change`, without the hazards the online form removes
/// (`blocks-writes`, and `table-rewrite` does not arise here); its
/// `fails-on-data` hazards and probes stay with it.
fn online(step: Step, change: Change) -> Step {
    Step {
        change,
        hazards: step
            .hazards
            .into_iter()
            .filter(|h| h.kind != HazardKind::BlocksWrites)
            .collect(),
        probes: step.probes,
        source: step.source,
    }
}

/// A part of a rewritten step that cannot fail on the rows: no hazard and
/// nothing for the preflight to count.
fn quiet(step: &Step, change: Change) -> Step {
    Step {
        change,
        hazards: Vec::new(),
        probes: Vec::new(),
        source: step.source.clone(),
    }
}

fn renamed(constraint: Constraint, name: &str) -> Constraint {
    let name = Some(name.to_owned());
    match constraint {
        Constraint::Check(mut c) => {
            c.name = name;
            Constraint::Check(c)
        }
        Constraint::ForeignKey(mut c) => {
            c.name = name;
            Constraint::ForeignKey(c)
        }
        Constraint::Unique(mut c) => {
            c.name = name;
            Constraint::Unique(c)
        }
        Constraint::PrimaryKey(mut c) => {
            c.name = name;
            Constraint::PrimaryKey(c)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{diff, hazard::classify};
    use crate::project::Project;
    use crate::settings::{Settings, Target};

    const BASE: &str =
        "CREATE TABLE owners (id UUID PRIMARY KEY, plan TEXT CHECK (plan IN ('a', 'b')));
CREATE TABLE stores (id UUID PRIMARY KEY, owner_id UUID, name TEXT, rating INTEGER);
CREATE INDEX stores_rating_idx ON stores(rating);";

    fn schema(sql: &str) -> Schema {
        let settings = Settings {
            target: Target::Postgres,
            ..Settings::default()
        };
        let doc = format!("## Shop\n\n```sql\n{sql}\n```\n");
        let project = Project::from_text("doc.md", &doc, &settings);
        (**project.realized()).clone()
    }

    /// Each phase as its kind and the kinds of its changes.
    fn shape(old: &Schema, new: &Schema) -> Vec<(PhaseKind, Vec<String>)> {
        let steps = classify(diff(old, new), old, new);
        phases(steps, old)
            .into_iter()
            .map(|p| {
                let kinds = p
                    .steps
                    .iter()
                    .map(|s| {
                        serde_json::to_value(&s.change).unwrap()["kind"]
                            .as_str()
                            .unwrap()
                            .to_owned()
                    })
                    .collect();
                (p.kind, kinds)
            })
            .collect()
    }

    use PhaseKind::{Concurrent, Finish, Main};

    /// A phase as its kind and the kinds of its changes.
    type Shape = &'static [(PhaseKind, &'static [&'static str])];

    /// (what, replaced in BASE, by, the phases it becomes).
    const EDITS: &[(&str, &str, &str, Shape)] = &[
        (
            "an index on an existing table is built concurrently",
            "CREATE INDEX stores_rating_idx ON stores(rating);",
            "CREATE INDEX stores_rating_idx ON stores(rating);\nCREATE INDEX stores_name_idx ON stores(name);",
            &[(Concurrent, &["create_index_concurrently"])],
        ),
        (
            "an index on a new table stays in its transaction",
            "CREATE INDEX stores_rating_idx ON stores(rating);",
            "CREATE INDEX stores_rating_idx ON stores(rating);\nCREATE TABLE tags (id UUID PRIMARY KEY, label TEXT);\nCREATE INDEX tags_label_idx ON tags(label);",
            &[(Main, &["create_table", "create_index", "enable_rls"])],
        ),
        (
            "CONCURRENTLY in the documents is honoured on a new table",
            "CREATE INDEX stores_rating_idx ON stores(rating);",
            "CREATE INDEX stores_rating_idx ON stores(rating);\nCREATE TABLE tags (id UUID PRIMARY KEY, label TEXT);\nCREATE INDEX CONCURRENTLY tags_label_idx ON tags(label);",
            &[
                (Main, &["create_table", "enable_rls"]),
                (Concurrent, &["create_index_concurrently"]),
            ],
        ),
        (
            "an index is dropped concurrently",
            "CREATE INDEX stores_rating_idx ON stores(rating);",
            "",
            &[(Concurrent, &["drop_index_concurrently"])],
        ),
        (
            "a CHECK is added NOT VALID and validated later",
            "rating INTEGER",
            "rating INTEGER CHECK (rating >= 0)",
            &[
                (Main, &["add_constraint_not_valid"]),
                (Finish, &["validate_constraint"]),
            ],
        ),
        (
            "an FK is added NOT VALID and validated later",
            "owner_id UUID,",
            "owner_id UUID REFERENCES owners(id),",
            &[
                (Main, &["add_constraint_not_valid"]),
                (Finish, &["validate_constraint"]),
            ],
        ),
        (
            "SET NOT NULL follows a validated CHECK",
            "name TEXT,",
            "name TEXT NOT NULL,",
            &[
                (Main, &["add_constraint_not_valid"]),
                (
                    Finish,
                    &["validate_constraint", "set_not_null", "drop_constraint"],
                ),
            ],
        ),
        (
            "a changed CHECK is replaced under a new name",
            "('a', 'b')",
            "('a', 'b', 'c')",
            &[
                (Main, &["add_constraint_not_valid"]),
                (
                    Finish,
                    &[
                        "validate_constraint",
                        "drop_constraint",
                        "rename_constraint",
                    ],
                ),
            ],
        ),
        (
            "a UNIQUE attaches an index built concurrently",
            "name TEXT,",
            "name TEXT UNIQUE,",
            &[
                (Concurrent, &["create_index_concurrently"]),
                (Finish, &["add_unique_using_index"]),
            ],
        ),
    ];

    #[test]
    fn each_edit_becomes_its_phases() {
        let base = schema(BASE);
        for (what, from, to, expected) in EDITS {
            assert!(BASE.contains(from), "{what}: the edit does not apply");
            let edited = schema(&BASE.replacen(from, to, 1));
            let expected: Vec<(PhaseKind, Vec<String>)> = expected
                .iter()
                .map(|(k, kinds)| (*k, kinds.iter().map(|s| s.to_string()).collect()))
                .collect();
            assert_eq!(shape(&base, &edited), expected, "{what}");
        }
    }

    #[test]
    fn a_unique_that_a_new_foreign_key_needs_is_not_deferred() {
        let base = schema(BASE);
        let edited = schema(
            &BASE
                .replacen("name TEXT,", "name TEXT UNIQUE,", 1)
                .replacen(
                    "plan TEXT",
                    "plan TEXT, store_name TEXT REFERENCES stores(name)",
                    1,
                ),
        );
        let shape = shape(&base, &edited);
        let main = &shape[0];
        assert_eq!(main.0, Main);
        assert!(main.1.contains(&"add_constraint".to_owned()), "{shape:?}");
        assert!(
            !shape
                .iter()
                .any(|(_, kinds)| kinds.contains(&"add_unique_using_index".to_owned())),
            "{shape:?}"
        );
    }

    #[test]
    fn the_hazards_move_to_the_statement_that_can_fail() {
        let base = schema(BASE);
        let edited = schema(&BASE.replacen("name TEXT,", "name TEXT NOT NULL,", 1));
        let steps = classify(diff(&base, &edited), &base, &edited);
        assert!(
            steps[0]
                .hazards
                .iter()
                .any(|h| h.kind == HazardKind::BlocksWrites),
            "the plain SET NOT NULL blocks writes"
        );
        let phases = phases(steps, &base);
        let all: Vec<&Step> = phases.iter().flat_map(|p| &p.steps).collect();
        assert!(
            all.iter()
                .all(|s| s.hazards.iter().all(|h| h.kind != HazardKind::BlocksWrites))
        );
        let failing: Vec<&&Step> = all.iter().filter(|s| !s.probes.is_empty()).collect();
        assert_eq!(failing.len(), 1);
        assert!(matches!(
            failing[0].change,
            Change::ValidateConstraint { .. }
        ));
        assert!(
            failing[0]
                .hazards
                .iter()
                .any(|h| h.kind == HazardKind::FailsOnData)
        );
    }

    #[test]
    fn a_backfilled_column_is_added_nullable_filled_and_made_not_null() {
        let base = schema(BASE);
        let mut edited = base.clone();
        let stores = edited.tables.get_mut("stores").unwrap();
        let mut column = crate::model::Column::new(
            "city",
            crate::model::PgType::Text,
            crate::model::Source::new("doc.md", 9),
        );
        column.nullable = false;
        column.backfill = Some("'unknown'".to_owned());
        stores.columns.push(column);
        let kinds: Vec<(PhaseKind, Vec<String>)> = shape(&base, &edited);
        assert_eq!(
            kinds,
            vec![
                (
                    Main,
                    vec![
                        "add_column".to_owned(),
                        "add_constraint_not_valid".to_owned()
                    ]
                ),
                (PhaseKind::Backfill, vec!["backfill".to_owned()]),
                (
                    Finish,
                    vec![
                        "validate_constraint".to_owned(),
                        "set_not_null".to_owned(),
                        "drop_constraint".to_owned()
                    ]
                ),
            ]
        );
        let steps = classify(diff(&base, &edited), &base, &edited);
        let phases = phases(steps, &base);
        match &phases[0].steps[0].change {
            Change::AddColumn { column, .. } => assert!(column.nullable, "added nullable"),
            other => panic!("{other:?}"),
        }
        // Without a backfill: the same, with nothing to fill; the
        // validation is what fails on rows, and carries the probe.
        edited
            .tables
            .get_mut("stores")
            .unwrap()
            .columns
            .last_mut()
            .unwrap()
            .backfill = None;
        let kinds: Vec<PhaseKind> = shape(&base, &edited).into_iter().map(|p| p.0).collect();
        assert_eq!(kinds, vec![Main, Finish]);
        let steps = classify(diff(&base, &edited), &base, &edited);
        let split = super::phases(steps, &base);
        let validate = &split[1].steps[0];
        assert!(matches!(validate.change, Change::ValidateConstraint { .. }));
        assert!(!validate.probes.is_empty(), "{validate:?}");
    }
}
