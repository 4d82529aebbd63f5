//! Planning: each cluster gets a canonical table (chosen by documented
//! columns, the documents' recommendation, being named in the documents'
//! duplicates table, inbound foreign keys, apps, size, a name without a
//! module prefix and the plural naming convention, in that order) and one step per
//! other table. A step merges with SQL only when both tables have columns
//! that overlap and the documents do not say otherwise; everything else is
//! a written plan that says why. Mappings are computed against the
//! canonical table as earlier steps leave it, so the report and the SQL
//! describe the same end state.

use super::ConsolidationOptions;
use super::detect::{
    Detection, Evidence, Intent, SignalKind, column_shape, jaccard, module_prefixes, round2,
};
use super::mapping::{ColumnMapping, map_columns};
use super::sql::{MergeTables, SqlInput, SqlStep, build_sql};
use super::{Definition, Definitions};
use crate::model::{Column, DefinitionKind, Documentation, Schema, Source, Table, inflect};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A table in a cluster, with what the canonical choice looks at.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Member {
    pub name: String,
    pub documentation: Documentation,
    pub module: Option<String>,
    pub columns: usize,
    pub defined_by: Option<DefinitionKind>,
    pub apps: Vec<String>,
    /// Every documented FK that references this table, as `from.column → to.column`.
    pub inbound_foreign_keys: Vec<String>,
}

/// What to do with one non-canonical table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Both tables have overlapping columns: `consolidation.sql` merges it.
    Merge,
    /// One side has no documented columns: merge by hand once they are.
    MergeWritten,
    /// The documents say this table extends another: keep it.
    Extend,
    /// The documents ask people to define the tables' purpose first.
    Clarify,
    /// Names agree, columns do not: probably different things.
    DisjointColumns,
    /// No evidence links it to the canonical table directly.
    Indirect,
    /// A merge that cannot run as documented (see the preconditions).
    Blocked,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Risks {
    /// Documented FKs that reference the merged table: `from → to`.
    pub foreign_keys_to_repoint: Vec<String>,
    pub rls: Vec<String>,
    /// Apps that name the merged table.
    pub apps_to_update: Vec<String>,
    /// What the data must satisfy for the SQL to commit.
    pub preconditions: Vec<String>,
    /// What the merge changes, or leaves undone, besides moving rows.
    pub changes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub table: String,
    pub into: String,
    pub action: Action,
    pub explanation: String,
    /// Signals that link the two tables directly.
    pub signals: Vec<SignalKind>,
    pub column_similarity: Option<f64>,
    pub mapping: Option<ColumnMapping>,
    pub risks: Risks,
    pub sql: Option<SqlStep>,
}

/// A definition that lost to an earlier source, mapped onto the winner.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OtherDefinition {
    pub source: Source,
    pub defined_by: Option<DefinitionKind>,
    pub columns: usize,
    /// `from` is this definition, `to` the winning one.
    pub mapping: ColumnMapping,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DefinitionConflict {
    pub table: String,
    pub winner: Source,
    pub winner_defined_by: Option<DefinitionKind>,
    pub others: Vec<OtherDefinition>,
    pub plan: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cluster {
    /// Position in the report, by score then canonical name.
    pub number: usize,
    pub score: f64,
    pub canonical: String,
    pub canonical_reasons: Vec<String>,
    pub tables: Vec<Member>,
    pub signals: Vec<SignalKind>,
    pub evidence: Vec<Evidence>,
    pub steps: Vec<Step>,
    pub definition_conflicts: Vec<DefinitionConflict>,
    pub has_sql: bool,
}

/// What the canonical choice compares, best first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Standing {
    has_columns: bool,
    recommended: bool,
    declared: bool,
    inbound: usize,
    apps: usize,
    columns: usize,
    general: bool,
    plural: bool,
}

pub(super) fn build(
    schema: &Schema,
    realized: &Schema,
    definitions: &Definitions,
    detection: &Detection,
    options: &ConsolidationOptions,
) -> Vec<Cluster> {
    let inbound = inbound_foreign_keys(schema);
    let context = ClusterContext {
        schema,
        realized,
        definitions,
        inbound: &inbound,
        options,
    };
    let mut clusters: Vec<Cluster> = super::detect::clusters(&detection.evidence)
        .into_iter()
        .filter_map(|mut names| {
            // A declared name the reader rejected is not a table to plan for.
            names.retain(|n| schema.tables.contains_key(n));
            let evidence: Vec<Evidence> = detection
                .evidence
                .iter()
                .filter(|e| e.tables.iter().any(|t| names.contains(t)))
                .cloned()
                .collect();
            let singular_ok = names.len() > 1
                || evidence
                    .iter()
                    .any(|e| e.kind == SignalKind::DoubleDefinition);
            singular_ok.then(|| cluster(&context, names, evidence))
        })
        .collect();
    clusters.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.canonical.cmp(&b.canonical))
    });
    for (n, c) in clusters.iter_mut().enumerate() {
        c.number = n + 1;
    }
    clusters
}

/// Documented FKs by the table they reference.
fn inbound_foreign_keys(schema: &Schema) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for table in schema.tables.values() {
        for fk in &table.foreign_keys {
            if !fk.references.is_external() {
                map.entry(fk.references.table.clone())
                    .or_default()
                    .push(format!(
                        "{}.{} → {}.{}",
                        table.name,
                        fk.columns.join(", "),
                        fk.references.table,
                        fk.referenced_columns.join(", ")
                    ));
            }
        }
    }
    for list in map.values_mut() {
        list.sort();
    }
    map
}

fn member(table: &Table, inbound: &BTreeMap<String, Vec<String>>) -> Member {
    Member {
        name: table.name.clone(),
        documentation: table.documentation,
        module: table.module.clone(),
        columns: table.columns.len(),
        defined_by: table.defined_by,
        apps: table.apps().into_iter().map(str::to_owned).collect(),
        inbound_foreign_keys: inbound.get(&table.name).cloned().unwrap_or_default(),
    }
}

/// Bases named by a declared "extend" recommendation, and the tables that
/// extend them.
fn extensions(evidence: &[Evidence]) -> BTreeMap<String, (Vec<String>, String)> {
    let mut out = BTreeMap::new();
    for e in evidence {
        if let Some(r) = &e.recommendation
            && let Intent::Extend { bases } = &r.intent
        {
            for t in e.tables.iter().filter(|t| !bases.contains(t)) {
                out.insert(t.clone(), (bases.clone(), r.text.clone()));
            }
        }
    }
    out
}

/// What every cluster of one report is planned against.
#[derive(Clone, Copy)]
struct ClusterContext<'a> {
    schema: &'a Schema,
    realized: &'a Schema,
    definitions: &'a Definitions,
    /// Documented FKs into each table (see `inbound_foreign_keys`).
    inbound: &'a BTreeMap<String, Vec<String>>,
    options: &'a ConsolidationOptions,
}

fn cluster(context: &ClusterContext<'_>, names: Vec<String>, evidence: Vec<Evidence>) -> Cluster {
    let ClusterContext {
        schema,
        realized,
        definitions,
        inbound,
        options,
    } = *context;
    let members: Vec<Member> = names
        .iter()
        .filter_map(|n| schema.tables.get(n))
        .map(|t| member(t, inbound))
        .collect();
    let extended = extensions(&evidence);
    let recommended: BTreeSet<&str> = extended
        .values()
        .flat_map(|(bases, _)| bases.iter().map(String::as_str))
        .collect();
    let declared: BTreeSet<&str> = evidence
        .iter()
        .filter(|e| e.kind == SignalKind::Declared)
        .flat_map(|e| e.tables.iter().map(String::as_str))
        .collect();
    let prefixes = module_prefixes(schema);
    let standing = |m: &Member| Standing {
        has_columns: m.columns > 0,
        recommended: recommended.contains(m.name.as_str()),
        declared: declared.contains(m.name.as_str()),
        inbound: m.inbound_foreign_keys.len(),
        apps: m.apps.len(),
        columns: m.columns,
        general: !prefixes
            .iter()
            .any(|p| m.name.len() > p.len() && m.name.starts_with(p.as_str())),
        plural: inflect::is_plural(&m.name),
    };
    // Highest standing wins; among equals, the first name.
    let canonical = members
        .iter()
        .min_by(|a, b| {
            standing(b)
                .cmp(&standing(a))
                .then_with(|| a.name.cmp(&b.name))
        })
        .map(|m| m.name.clone())
        .unwrap_or_default();
    let canonical_reasons = reasons(&members, &canonical, &standing, &extended);

    let mut signals: Vec<SignalKind> = evidence.iter().map(|e| e.kind).collect();
    signals.sort();
    signals.dedup();

    let mut steps = Vec::new();
    // The canonical table's columns as the merges so far leave them.
    let mut canonical_columns: Vec<Column> = schema
        .tables
        .get(&canonical)
        .map(|t| t.columns.clone())
        .unwrap_or_default();
    let mut merged: BTreeSet<String> = BTreeSet::new();
    for name in names.iter().filter(|n| **n != canonical) {
        let Some(step) = plan_step(
            &StepInput {
                schema,
                realized,
                evidence: &evidence,
                extended: &extended,
                canonical: &canonical,
                canonical_columns: &canonical_columns,
                merged: &merged,
                members: &names,
                options,
            },
            name,
        ) else {
            continue;
        };
        if step.sql.is_some() {
            // Later steps map onto the columns this merge created.
            if let (Some(mapping), Some(table)) = (&step.mapping, schema.tables.get(name)) {
                let created: BTreeSet<&str> = mapping
                    .only_in_from
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect();
                canonical_columns.extend(
                    table
                        .columns
                        .iter()
                        .filter(|c| created.contains(c.name.as_str()))
                        .cloned(),
                );
            }
            merged.insert(name.clone());
        }
        steps.push(step);
    }
    let definition_conflicts = names
        .iter()
        .filter(|n| {
            evidence
                .iter()
                .any(|e| e.kind == SignalKind::DoubleDefinition && e.tables == [(*n).clone()])
        })
        .filter_map(|n| schema.tables.get(n))
        .map(|t| definition_conflict(t, definitions.of(&t.name)))
        .collect();
    let has_sql = steps.iter().any(|s| s.sql.is_some());
    Cluster {
        number: 0,
        score: cluster_score(&names, &evidence),
        canonical,
        canonical_reasons,
        tables: members,
        signals,
        evidence,
        steps,
        definition_conflicts,
        has_sql,
    }
}

/// Noisy-or of the evidence on each pair (independent reasons add up but
/// never pass 1), and the best pair speaks for the cluster.
fn cluster_score(names: &[String], evidence: &[Evidence]) -> f64 {
    let mut best: f64 = evidence
        .iter()
        .filter(|e| e.kind == SignalKind::DoubleDefinition)
        .map(|e| e.score)
        .fold(0.0, f64::max);
    for (i, a) in names.iter().enumerate() {
        for b in &names[i + 1..] {
            let miss: f64 = evidence
                .iter()
                .filter(|e| e.covers(a, b))
                .map(|e| 1.0 - e.score)
                .product();
            best = best.max(1.0 - miss);
        }
    }
    round2(best)
}

fn reasons(
    members: &[Member],
    canonical: &str,
    standing: &dyn Fn(&Member) -> Standing,
    extended: &BTreeMap<String, (Vec<String>, String)>,
) -> Vec<String> {
    let Some(chosen) = members.iter().find(|m| m.name == canonical) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    out.push(if chosen.columns > 0 {
        format!(
            "{} documented columns ({})",
            chosen.columns,
            match chosen.defined_by {
                Some(DefinitionKind::Sql) => "a CREATE TABLE",
                _ => "a Markdown column table",
            }
        )
    } else {
        "no table in this cluster has documented columns".to_owned()
    });
    if let Some((_, text)) = extended
        .values()
        .find(|(bases, _)| bases.iter().any(|b| b == canonical))
    {
        out.push(format!(
            "the documents recommend it as the base: \"{text}\""
        ));
    }
    match chosen.inbound_foreign_keys.len() {
        0 => {}
        1 => out.push("referenced by 1 documented foreign key".to_owned()),
        n => out.push(format!("referenced by {n} documented foreign keys")),
    }
    if !chosen.apps.is_empty() {
        out.push(format!("used by {}", chosen.apps.join(", ")));
    }
    let ours = standing(chosen);
    for other in members.iter().filter(|m| m.name != canonical) {
        let theirs = standing(other);
        let why = if ours.has_columns != theirs.has_columns {
            "has no documented columns".to_owned()
        } else if ours.recommended != theirs.recommended {
            "is not the base the documents recommend".to_owned()
        } else if ours.declared != theirs.declared {
            "is not named in the documents' duplicates table".to_owned()
        } else if ours.inbound != theirs.inbound {
            format!("has fewer inbound foreign keys ({})", theirs.inbound)
        } else if ours.apps != theirs.apps {
            format!("is used by fewer apps ({})", theirs.apps)
        } else if ours.columns != theirs.columns {
            format!("documents fewer columns ({})", theirs.columns)
        } else if ours.general != theirs.general {
            "carries a module prefix, so it reads as one module's table".to_owned()
        } else if ours.plural != theirs.plural {
            "breaks the plural naming convention".to_owned()
        } else {
            "ties on every criterion and comes later by name".to_owned()
        };
        let recommended = extended
            .values()
            .find(|(bases, _)| bases.contains(&other.name))
            .map(|(_, text)| format!(", though the documents name it as a base (\"{text}\")"))
            .unwrap_or_default();
        out.push(format!(
            "preferred over `{}`, which {why}{recommended}",
            other.name
        ));
    }
    out
}

struct StepInput<'a> {
    schema: &'a Schema,
    realized: &'a Schema,
    evidence: &'a [Evidence],
    extended: &'a BTreeMap<String, (Vec<String>, String)>,
    canonical: &'a str,
    canonical_columns: &'a [Column],
    merged: &'a BTreeSet<String>,
    members: &'a [String],
    options: &'a ConsolidationOptions,
}

fn plan_step(input: &StepInput<'_>, name: &str) -> Option<Step> {
    let canonical = input.canonical;
    let table = input.schema.tables.get(name)?;
    let target = input.schema.tables.get(canonical)?;
    let direct: Vec<&Evidence> = input
        .evidence
        .iter()
        .filter(|e| e.covers(name, canonical))
        .collect();
    let mut signals: Vec<SignalKind> = direct.iter().map(|e| e.kind).collect();
    signals.sort();
    signals.dedup();
    let both_documented = !table.columns.is_empty() && !input.canonical_columns.is_empty();
    let mapping = both_documented.then(|| map_columns(&table.columns, input.canonical_columns));
    let column_similarity = both_documented.then(|| {
        let a = column_shape(
            table.columns.iter().map(|c| (c.name.as_str(), &c.ty)),
            input.options,
        );
        let b = column_shape(
            input
                .canonical_columns
                .iter()
                .map(|c| (c.name.as_str(), &c.ty)),
            input.options,
        );
        round2(jaccard(&a, &b))
    });
    let risks = risks(input.schema, table, target);
    let clarify = direct.iter().find_map(|e| {
        e.recommendation
            .as_ref()
            .filter(|r| r.intent == Intent::Clarify)
    });
    let (action, explanation) = if let Some((bases, text)) = input.extended.get(name) {
        (
            Action::Extend,
            format!(
                "The documents' duplicates table says \"{text}\": keep `{name}` as its own table that references {}, rather than merging its rows.",
                bases
                    .iter()
                    .map(|b| format!("`{b}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    } else if let Some(r) = clarify {
        (
            Action::Clarify,
            format!(
                "The documents' duplicates table says \"{}\" for these tables: decide what `{name}` holds that `{canonical}` does not before merging anything.",
                r.text
            ),
        )
    } else if direct.is_empty() {
        (Action::Indirect, indirect(name, input.evidence))
    } else if let Some(mapping) = mapping.as_ref() {
        if !mapping.shares_content(&input.options.bookkeeping_columns) {
            (
                Action::DisjointColumns,
                format!(
                    "The names agree but the columns do not: besides {} the tables share no column, so they probably hold different things. Merge by hand only if they do not.",
                    input.options.bookkeeping_columns.join("/")
                ),
            )
        } else {
            (
                Action::Merge,
                format!(
                    "Merge `{name}` into `{canonical}`: create the columns `{canonical}` lacks, copy every row, repoint foreign keys, archive `{name}` and leave a view under its name."
                ),
            )
        }
    } else {
        let missing = match (table.columns.is_empty(), input.canonical_columns.is_empty()) {
            (true, true) => format!("Neither `{name}` nor `{canonical}` has documented columns"),
            (true, false) => format!("`{name}` has no documented columns"),
            _ => format!("`{canonical}` has no documented columns"),
        };
        // Only the documents can say two tables are the same; a name rule
        // alone makes it a question.
        let declared = direct.iter().any(|e| {
            e.recommendation
                .as_ref()
                .is_some_and(|r| r.intent == Intent::Consolidate)
        });
        let condition = if declared {
            "The documents ask to consolidate them: document"
        } else {
            "If they hold the same records, document"
        };
        (
            Action::MergeWritten,
            format!(
                "{missing}, so no SQL can map the rows. {condition} the columns, then merge `{name}` into `{canonical}`: repoint its foreign keys, copy its rows and leave a view named `{name}`."
            ),
        )
    };
    // A mapping is shown only where it decides something: for a merge, or
    // to show why the columns disagree.
    let (mapping, column_similarity) = match action {
        Action::Merge | Action::DisjointColumns => (mapping, column_similarity),
        _ => (None, None),
    };
    let mut step = Step {
        table: name.to_owned(),
        into: canonical.to_owned(),
        action,
        explanation,
        signals,
        column_similarity,
        mapping,
        risks,
        sql: None,
    };
    if step.action == Action::Merge {
        let outcome = build_sql(
            &input.sql_input(),
            &MergeTables {
                table: &step.table,
                canonical: &step.into,
                mapping: step.mapping.as_ref(),
            },
        );
        step.risks.preconditions.extend(outcome.preconditions);
        step.risks.changes.extend(outcome.changes);
        match outcome.sql {
            Ok(sql) => step.sql = Some(sql),
            Err(blockers) => {
                step.action = Action::Blocked;
                step.explanation = format!(
                    "A merge of `{name}` into `{canonical}` cannot run as documented: {}.",
                    blockers.join("; ")
                );
            }
        }
    }
    Some(step)
}

impl<'a> StepInput<'a> {
    /// The part of the step input the SQL side reads.
    fn sql_input(&self) -> SqlInput<'a> {
        SqlInput {
            realized: self.realized,
            canonical_columns: self.canonical_columns,
            merged: self.merged,
            members: self.members,
            options: self.options,
        }
    }
}

fn indirect(name: &str, evidence: &[Evidence]) -> String {
    let links: BTreeSet<String> = evidence
        .iter()
        .filter(|e| e.tables.len() > 1 && e.tables.iter().any(|t| t == name))
        .flat_map(|e| {
            e.tables
                .iter()
                .filter(|t| *t != name)
                .map(move |t| format!("`{t}` ({})", e.kind.as_str()))
        })
        .collect();
    format!(
        "No evidence links `{name}` to the canonical table directly; it joins this cluster through {}. Decide whether it belongs before merging.",
        links.into_iter().collect::<Vec<_>>().join(", ")
    )
}

fn risks(schema: &Schema, table: &Table, target: &Table) -> Risks {
    let mut risks = Risks::default();
    for other in schema.tables.values() {
        for fk in other
            .foreign_keys
            .iter()
            .filter(|fk| !fk.references.is_external() && fk.references.table == table.name)
        {
            risks.foreign_keys_to_repoint.push(format!(
                "{}.{} → {}.{}",
                other.name,
                fk.columns.join(", "),
                table.name,
                fk.referenced_columns.join(", ")
            ));
        }
    }
    risks.foreign_keys_to_repoint.sort();
    risks.rls = rls_differences(table, target);
    risks.apps_to_update = table.apps().into_iter().map(str::to_owned).collect();
    risks
}

fn rls_summary(table: &Table) -> Vec<String> {
    let mut out: Vec<String> = table
        .policies
        .iter()
        .map(|p| format!("policy \"{}\" for {}", p.name, p.command.as_sql()))
        .chain(
            table
                .rls_rules
                .iter()
                .map(|r| format!("rule \"{}\"", r.text)),
        )
        .collect();
    out.sort();
    out
}

fn rls_differences(table: &Table, target: &Table) -> Vec<String> {
    let (ours, theirs) = (rls_summary(table), rls_summary(target));
    if ours == theirs {
        return Vec::new();
    }
    let mut out = Vec::new();
    if !ours.is_empty() {
        out.push(format!(
            "`{}`'s {} stay on the archived table; re-create what still applies on `{}`",
            table.name,
            ours.join(", "),
            target.name
        ));
    }
    if theirs.is_empty() {
        out.push(format!(
            "`{}` documents no RLS: once merged, `{}`'s rows are exactly as open as `{}` is",
            target.name, table.name, target.name
        ));
    } else {
        out.push(format!(
            "once merged, `{}`'s rows fall under `{}`'s {}; the view runs with the caller's rights",
            table.name,
            target.name,
            theirs.join(", ")
        ));
    }
    out
}

fn definition_conflict(table: &Table, found: Option<&[Definition]>) -> DefinitionConflict {
    let winner = table
        .definitions
        .first()
        .cloned()
        .unwrap_or_else(|| table.source.clone());
    let others: Vec<OtherDefinition> = found
        .unwrap_or_default()
        .iter()
        .filter(|d| d.source.file != winner.file)
        .map(|d| OtherDefinition {
            source: d.source.clone(),
            defined_by: d.defined_by,
            columns: d.columns.len(),
            mapping: map_columns(&d.columns, &table.columns),
        })
        .collect();
    let plan = if others.is_empty() {
        format!(
            "The other definitions' columns were not given to this run (pass the documents to `emit_with`), so only their places are known. The database has one `{}`; reconcile the documents.",
            table.name
        )
    } else {
        let quoted = |names: Vec<&str>| {
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let losing: Vec<&str> = others
            .iter()
            .flat_map(|o| o.mapping.only_in_from.iter().map(|c| c.name.as_str()))
            .collect();
        let renamed: Vec<String> = others
            .iter()
            .flat_map(|o| o.mapping.renamed.iter())
            .map(|l| format!("`{}` as `{}`", l.from, l.to))
            .collect();
        let mut plan = format!(
            "The database has one `{}`, shaped by the kept definition, so there are no rows to move and no SQL. Reconcile the documents instead.",
            table.name
        );
        if !losing.is_empty() {
            plan.push_str(&format!(
                " If apps write {}, add them to the kept definition (then `gen migrations` adds them to the table); otherwise remove them from the other section.",
                quoted(losing)
            ));
        }
        if !renamed.is_empty() {
            plan.push_str(&format!(
                " The other section names {}: align the names.",
                renamed.join(", ")
            ));
        }
        plan
    };
    DefinitionConflict {
        table: table.name.clone(),
        winner,
        winner_defined_by: table.defined_by,
        others,
        plan,
    }
}
