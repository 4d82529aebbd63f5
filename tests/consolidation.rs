//! Issue #7 end to end: the duplicate-table consolidation report on the real
//! documents (declared groups, the double definition, every name family),
//! a reviewed snapshot of the Markdown, byte-identical output, and every
//! SQL merge run against PostgreSQL with rows on both sides, conflicting
//! keys included.
//!
//! The no-row-lost rule the database tests check, per merge step of table
//! M into canonical table C, over the copied ("mapped") columns: the rows
//! of C after the merge are exactly the rows of C before it plus the rows
//! of M whose key C did not have (a row whose key both had keeps C's
//! version: ON CONFLICT DO NOTHING), compared by count and by a SHA-256
//! over the sorted row texts; and every row of M, conflicting ones
//! included, is still in the archive schema, unchanged.

mod support;

use schemagen::emit::Target;
use schemagen::emit::consolidation::{
    self, Action, Cluster, ConsolidationOptions, Definitions, Intent, Report, SignalKind, SqlStep,
};
use schemagen::emit::{EmitContext, Emitter, OutputFile, Templates};
use schemagen::model::physical::{RealizeOptions, quote_identifier};
use schemagen::model::stages::Documented;
use schemagen::model::{PgType, Schema, Table};
use schemagen::source::SourceFile;
use schemagen::{Project, Settings};
use sha2::{Digest, Sha256};
use sqlx::AssertSqlSafe;
use std::collections::{BTreeMap, BTreeSet};
use support::db::{TestDb, fresh_db};
use support::{JAVARI, MASTER};

fn settings() -> Settings {
    support::settings(Target::Postgres, RealizeOptions::default())
}

/// The real documents, read from disk, and their per-document definitions.
fn real() -> (Schema, Definitions) {
    let project = support::real_project(&settings());
    (
        project.documented().clone().into_inner(),
        project.definitions().clone(),
    )
}

fn report_of(schema: &Schema, definitions: &Definitions) -> Report {
    let documented = Documented::new(schema.clone());
    let (realized, _) = documented.realize(&RealizeOptions::default());
    consolidation::report(
        &documented,
        &realized,
        definitions,
        &ConsolidationOptions::default(),
    )
}

/// The three files of a project.
fn emit(project: &Project) -> Vec<OutputFile> {
    let templates = Templates::load(None).unwrap();
    let context = EmitContext::new(project, &templates);
    Emitter::Consolidation.render(&context).unwrap()
}

/// The three files of the real documents, with their definitions.
fn emit_real() -> Vec<OutputFile> {
    emit(&support::real_project(&settings()))
}

fn file<'a>(files: &'a [OutputFile], path: &str) -> &'a str {
    &files
        .iter()
        .find(|f| f.path.to_string_lossy() == path)
        .unwrap_or_else(|| panic!("no {path}"))
        .contents
}

fn cluster<'a>(report: &'a Report, table: &str) -> &'a Cluster {
    report
        .cluster_of(table)
        .unwrap_or_else(|| panic!("`{table}` is in no cluster"))
}

fn member_names(cluster: &Cluster) -> BTreeSet<&str> {
    cluster.tables.iter().map(|m| m.name.as_str()).collect()
}

#[test]
fn declared_groups_and_the_double_definition_are_found() {
    let (schema, definitions) = real();
    let report = report_of(&schema, &definitions);
    let declared: [(&[&str], &str); 4] = [
        (&["activity_log", "activity_logs"], "Consolidate to one"),
        (
            &["profiles", "user_profiles", "users"],
            "Define clear purpose",
        ),
        (&["documentation", "documents"], "Clarify separation"),
        (&["agents", "profiles"], "Agents should extend profiles"),
    ];
    for (tables, recommendation) in declared {
        let c = cluster(&report, tables[0]);
        for t in tables {
            assert!(member_names(c).contains(t), "{t} in {:?}", member_names(c));
        }
        let evidence = c
            .evidence
            .iter()
            .find(|e| e.kind == SignalKind::Declared && e.tables == tables)
            .unwrap_or_else(|| panic!("no declared evidence on {tables:?}"));
        assert_eq!(
            evidence.recommendation.as_ref().unwrap().text,
            recommendation
        );
        assert_eq!(evidence.source.as_ref().unwrap().file.as_ref(), MASTER);
    }
    // What the recommendations say decides the plan.
    let step = |table: &str| {
        let c = cluster(&report, table);
        c.steps.iter().find(|s| s.table == table).unwrap().clone()
    };
    assert_eq!(step("activity_log").action, Action::MergeWritten);
    assert_eq!(step("agents").action, Action::Extend);
    assert_eq!(step("profiles").action, Action::Clarify);
    let agents = cluster(&report, "agents");
    assert!(agents.evidence.iter().any(|e| {
        e.recommendation.as_ref().map(|r| &r.intent)
            == Some(&Intent::Extend {
                bases: vec!["profiles".to_owned()],
            })
    }));

    let cost = cluster(&report, "javari_cost_tracking");
    assert_eq!(cost.signals, [SignalKind::DoubleDefinition]);
    assert_eq!(cost.score, 1.0);
    let conflict = &cost.definition_conflicts[0];
    assert_eq!(conflict.winner.file.as_ref(), JAVARI);
    assert_eq!(conflict.others.len(), 1);
    let other = &conflict.others[0];
    assert_eq!(other.source.file.as_ref(), MASTER);
    let only_markdown: Vec<&str> = other
        .mapping
        .only_in_from
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        only_markdown,
        [
            "provider",
            "model",
            "total_cost",
            "session_id",
            "task_type",
            "billing_period",
            "metadata"
        ]
    );
    let only_sql: Vec<&str> = other
        .mapping
        .only_in_to
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        only_sql,
        ["project_id", "service", "feature_used", "cost_usd"]
    );
    assert!(!cost.has_sql, "one physical table: nothing to merge by SQL");
}

#[test]
fn every_name_family_lands_in_one_cluster_with_its_signal() {
    let (schema, definitions) = real();
    let report = report_of(&schema, &definitions);
    let families = [
        (
            "javari_knowledge",
            "javari_knowledge_base",
            SignalKind::NameContainment,
        ),
        (
            "javari_healing_events",
            "javari_healing_history",
            SignalKind::SuffixFamily,
        ),
        (
            "javari_healing_events",
            "javari_auto_healing_incidents",
            SignalKind::NameContainment,
        ),
        (
            "javari_healing_history",
            "javari_auto_healing_incidents",
            SignalKind::NameContainment,
        ),
        (
            "credentials",
            "credential_vault",
            SignalKind::NameContainment,
        ),
        ("credentials", "javari_credentials", SignalKind::SharedStem),
        (
            "credential_vault",
            "javari_credentials",
            SignalKind::NameContainment,
        ),
        ("javari_projects", "projects", SignalKind::SharedStem),
        ("javari_agents", "agents", SignalKind::SharedStem),
        ("bot_health_checks", "health_checks", SignalKind::SharedStem),
        ("api_usage", "api_usage_logs", SignalKind::SuffixFamily),
        ("activity_log", "activity_logs", SignalKind::SingularPlural),
    ];
    for (a, b, kind) in families {
        let c = cluster(&report, a);
        assert!(
            member_names(c).contains(b),
            "{a} and {b} should share a cluster; {a}'s is {:?}",
            member_names(c)
        );
        let evidence = c
            .evidence
            .iter()
            .find(|e| e.kind == kind && e.covers(a, b))
            .unwrap_or_else(|| panic!("no {kind:?} evidence on {a} / {b}"));
        assert!(evidence.detail.contains(a) && evidence.detail.contains(b));
        assert!(c.signals.contains(&kind));
    }
    // A stem shared with a child table is not a duplicate.
    for separate in ["javari_credential_snapshots", "user_preferences"] {
        assert!(
            report.cluster_of(separate).is_none(),
            "{separate} is not a duplicate"
        );
    }
    // Scores sort the report, ties by canonical name.
    let order: Vec<(f64, &str)> = report
        .clusters
        .iter()
        .map(|c| (-c.score, c.canonical.as_str()))
        .collect();
    let mut sorted = order.clone();
    sorted.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(y.1)));
    assert_eq!(order, sorted);
}

#[test]
fn the_model_alone_still_reports_the_double_definition() {
    let (schema, _) = real();
    let files = emit(&support::project_of_schema(&schema, &settings()));
    let report: serde_json::Value =
        serde_json::from_str(file(&files, consolidation::JSON)).unwrap();
    let cost = report["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["canonical"] == "javari_cost_tracking")
        .expect("the double definition is a cluster");
    let conflict = &cost["definition_conflicts"][0];
    assert_eq!(conflict["others"].as_array().unwrap().len(), 0);
    assert!(
        conflict["plan"]
            .as_str()
            .unwrap()
            .contains("were not given to this run")
    );
}

#[test]
fn unchanged_documents_give_byte_identical_output() {
    let (first_schema, first_definitions) = real();
    let first = emit_real();
    let second = emit_real();
    assert_eq!(first, second);
    let paths: Vec<String> = first
        .iter()
        .map(|f| f.path.to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        paths,
        [
            consolidation::MARKDOWN,
            consolidation::JSON,
            consolidation::SQL
        ]
    );
    let json: serde_json::Value = serde_json::from_str(file(&first, consolidation::JSON)).unwrap();
    assert_eq!(
        json["clusters"].as_array().unwrap().len(),
        report_of(&first_schema, &first_definitions).clusters.len()
    );
}

#[test]
fn consolidation_markdown() {
    let files = emit_real();
    insta::assert_snapshot!("consolidation_md", file(&files, consolidation::MARKDOWN));
}

// ---------------------------------------------------------------------------
// The database
// ---------------------------------------------------------------------------

/// A deterministic UUID, readable in failures.
fn uuid(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn type_sql(ty: &PgType) -> String {
    ty.to_sql(Some("extensions"))
}

/// A value of `ty`, different for each `n`.
fn literal(ty: &PgType, n: u64) -> String {
    let day = 1 + n % 28;
    match ty {
        PgType::Uuid => quote(&uuid(n)),
        PgType::Text | PgType::Varchar(_) => quote(&format!("v{n}")),
        PgType::Numeric(_) => format!("{}.25", n % 9),
        PgType::SmallInt | PgType::Integer | PgType::BigInt => format!("{}", 1 + n % 9),
        PgType::Real | PgType::DoublePrecision => format!("{n}.5"),
        PgType::Boolean => n.is_multiple_of(2).to_string(),
        PgType::Timestamptz => quote(&format!("2025-01-{day:02} 03:04:05+00")),
        PgType::Timestamp => quote(&format!("2025-01-{day:02} 03:04:05")),
        PgType::Date => quote(&format!("2025-01-{day:02}")),
        PgType::Time => quote("03:04:05"),
        PgType::Interval => quote(&format!("{n} days")),
        PgType::Inet => quote(&format!("10.0.0.{}", n % 250)),
        PgType::Bytea => quote(&format!("\\x{:02x}", n % 256)),
        PgType::Jsonb | PgType::Json => quote(&format!("{{\"n\": {n}}}")),
        PgType::Vector(dimensions) => {
            let size = dimensions.unwrap_or(3) as usize;
            let mut values = vec!["0".to_owned(); size];
            values[0] = n.to_string();
            format!(
                "{}::{}",
                quote(&format!("[{}]", values.join(","))),
                type_sql(ty)
            )
        }
        PgType::Array(inner) => format!("ARRAY[{}]::{}", literal(inner, n), type_sql(ty)),
        PgType::Unknown(_) => "NULL".to_owned(),
    }
}

/// Inserts rows whose foreign keys hold: one parent row per referenced
/// table, with only what its NOT NULL columns need.
struct Seeder<'a> {
    db: &'a TestDb,
    realized: &'a Schema,
    parents: BTreeMap<String, String>,
    next: u64,
}

impl<'a> Seeder<'a> {
    fn new(db: &'a TestDb, realized: &'a Schema) -> Self {
        Seeder {
            db,
            realized,
            parents: BTreeMap::new(),
            next: 50_000,
        }
    }

    fn table(&self, name: &str) -> &'a Table {
        &self.realized.tables[name]
    }

    /// `name` and the tables its NOT NULL foreign keys need, needed first.
    fn chain(&self, name: &str, seen: &mut BTreeSet<String>, out: &mut Vec<String>) {
        if !seen.insert(name.to_owned()) {
            return;
        }
        let table = self.table(name);
        for fk in &table.foreign_keys {
            let required = fk
                .columns
                .iter()
                .all(|c| table.column(c).is_some_and(|c| !c.nullable));
            if required && !fk.references.is_external() && fk.references.table != name {
                self.chain(&fk.references.table, seen, out);
            }
        }
        out.push(name.to_owned());
    }

    /// The id of a row of `name` that foreign keys can point at.
    async fn parent(&mut self, name: &str) -> String {
        let mut order = Vec::new();
        self.chain(name, &mut BTreeSet::new(), &mut order);
        for table_name in order {
            if self.parents.contains_key(&table_name) {
                continue;
            }
            self.next += 1;
            let n = self.next;
            let table = self.table(&table_name);
            let mut values = Vec::new();
            for column in &table.columns {
                let is_key = table
                    .primary_key
                    .as_ref()
                    .is_some_and(|pk| pk.columns == [column.name.clone()]);
                if is_key {
                    values.push((column.name.clone(), quote(&uuid(n))));
                } else if !column.nullable && column.default.is_none() {
                    let value = self.value(table, &column.name, &column.ty, n);
                    values.push((column.name.clone(), value));
                }
            }
            self.insert(&table_name, &values).await;
            self.parents.insert(table_name, uuid(n));
        }
        self.parents[name].clone()
    }

    /// A value that the column's CHECK and FK accept. An FK to a table
    /// with no row yet (a table's first row referencing itself) is NULL.
    fn value(&self, table: &Table, column: &str, ty: &PgType, n: u64) -> String {
        if let Some(fk) = table
            .foreign_keys
            .iter()
            .find(|fk| fk.columns == [column.to_owned()] && !fk.references.is_external())
        {
            return self
                .parents
                .get(&fk.references.table)
                .map_or_else(|| "NULL".to_owned(), |id| quote(id));
        }
        if let Some(check) = table
            .check_constraints
            .iter()
            .find(|c| c.column.as_deref() == Some(column) && !c.allowed_values.is_empty())
        {
            return quote(&check.allowed_values[0]);
        }
        literal(ty, n)
    }

    async fn insert(&self, table: &str, values: &[(String, String)]) {
        let columns: Vec<String> = values.iter().map(|(c, _)| quote_identifier(c)).collect();
        let literals: Vec<&str> = values.iter().map(|(_, v)| v.as_str()).collect();
        self.db
            .run(&format!(
                "INSERT INTO public.{} ({}) VALUES ({})",
                quote_identifier(table),
                columns.join(", "),
                literals.join(", ")
            ))
            .await;
    }

    /// A row with every column filled. `fill` may supply a column's value.
    async fn full_row(
        &mut self,
        table: &str,
        id: &str,
        n: u64,
        fill: &dyn Fn(&str) -> Option<String>,
    ) {
        let table = self.table(table);
        // A reference to the table itself points at its first row instead.
        let targets: Vec<String> = table
            .foreign_keys
            .iter()
            .filter(|fk| !fk.references.is_external() && fk.references.table != table.name)
            .map(|fk| fk.references.table.clone())
            .collect();
        for target in targets {
            self.parent(&target).await;
        }
        let key = table.primary_key.as_ref().map(|pk| pk.columns.clone());
        let mut values = Vec::new();
        for column in &table.columns {
            let value = if key.as_deref() == Some(std::slice::from_ref(&column.name)) {
                quote(id)
            } else if let Some(v) = fill(&column.name) {
                v
            } else {
                self.value(table, &column.name, &column.ty, n)
            };
            values.push((column.name.clone(), value));
        }
        self.insert(&table.name, &values).await;
        self.parents
            .entry(table.name.clone())
            .or_insert_with(|| id.to_owned());
    }
}

async fn rows(db: &TestDb, sql: &str) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = sqlx::query_as(AssertSqlSafe(sql))
        .fetch_all(db.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.sort();
    rows
}

async fn scalar(db: &TestDb, sql: &str) -> i64 {
    sqlx::query_scalar(AssertSqlSafe(sql))
        .fetch_one(db.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn checksum(rows: &[String]) -> String {
    let mut sorted = rows.to_vec();
    sorted.sort();
    let digest = Sha256::digest(sorted.join("\n").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// What one merge step's check needs, read before the SQL runs.
struct Before {
    mapped: Vec<String>,
    /// The canonical row of the key both tables had, as it was.
    conflict: String,
    archive: Vec<String>,
    referencing: Vec<(String, String, String, i64)>,
}

const CONFLICT: u64 = 9_999;

/// Puts rows in both tables of a step (one key in both), rows in every
/// table whose FK the step repoints, and returns what the check compares.
async fn seed_step(seeder: &mut Seeder<'_>, sql: &SqlStep) -> Before {
    let (old, canonical) = (seeder.table(&sql.table), seeder.table(&sql.canonical));
    let db = seeder.db;
    // Values of merged columns must satisfy the canonical column's FK and
    // type, since they end up there.
    let canonical_fk_targets: BTreeMap<String, String> = sql
        .copy
        .iter()
        .filter_map(|c| {
            canonical
                .foreign_keys
                .iter()
                .find(|fk| fk.columns == [c.to.clone()] && !fk.references.is_external())
                .map(|fk| (c.from.clone(), fk.references.table.clone()))
        })
        .collect();
    for target in canonical_fk_targets.values() {
        seeder.parent(target).await;
    }
    let parents = seeder.parents.clone();
    let casts: BTreeMap<String, (PgType, PgType)> = sql
        .copy
        .iter()
        .filter_map(|c| {
            let to = PgType::parse(c.cast.as_deref()?);
            Some((c.from.clone(), (to, old.column(&c.from)?.ty.clone())))
        })
        .collect();
    for (k, n) in [(1_001, 11), (1_002, 12), (CONFLICT, 13)] {
        let fill = |column: &str| -> Option<String> {
            if let Some(target) = canonical_fk_targets.get(column) {
                return Some(quote(&parents[target]));
            }
            casts
                .get(column)
                .map(|(to, from)| format!("CAST({} AS {})", literal(to, n), type_sql(from)))
        };
        seeder.full_row(&sql.table, &uuid(k), n, &fill).await;
    }
    for (k, n) in [(CONFLICT, 21), (2_001, 22)] {
        seeder
            .full_row(&sql.canonical, &uuid(k), n, &|_| None)
            .await;
    }
    // Rows that reference the merged table, one of them the conflicting key.
    for (i, fk) in sql.repoint.iter().enumerate() {
        for (j, key) in [1_001, CONFLICT].into_iter().enumerate() {
            let n = 3_000 + 10 * i as u64 + j as u64;
            let fk_column = fk.columns[0].clone();
            let value = quote(&uuid(key));
            seeder
                .full_row(&fk.table, &uuid(n), n, &|c| {
                    (c == fk_column).then(|| value.clone())
                })
                .await;
        }
    }

    let key = canonical.primary_key.as_ref().unwrap().columns[0].clone();
    let old_key = &sql.copy.iter().find(|c| c.to == key).unwrap().from;
    let created: BTreeSet<&str> = sql.add_columns.iter().map(|c| c.name.as_str()).collect();
    let canonical_type = |to: &str, from: &str| -> String {
        canonical
            .column(to)
            .map(|c| type_sql(&c.ty))
            .unwrap_or_else(|| type_sql(&old.column(from).unwrap().ty))
    };
    let old_rows = rows(
        db,
        &format!(
            "SELECT {}::text, ROW({})::text FROM public.{}",
            quote_identifier(old_key),
            sql.copy
                .iter()
                .map(|c| format!(
                    "CAST({} AS {})",
                    quote_identifier(&c.from),
                    canonical_type(&c.to, &c.from)
                ))
                .collect::<Vec<_>>()
                .join(", "),
            quote_identifier(&sql.table)
        ),
    )
    .await;
    let canonical_rows = rows(
        db,
        &format!(
            "SELECT {}::text, ROW({})::text FROM public.{}",
            quote_identifier(&key),
            sql.copy
                .iter()
                .map(|c| if created.contains(c.to.as_str()) {
                    format!("NULL::{}", canonical_type(&c.to, &c.from))
                } else {
                    quote_identifier(&c.to)
                })
                .collect::<Vec<_>>()
                .join(", "),
            quote_identifier(&sql.canonical)
        ),
    )
    .await;
    let conflict = canonical_rows
        .iter()
        .find(|(k, _)| *k == uuid(CONFLICT))
        .map(|(_, r)| r.clone())
        .unwrap();
    assert!(
        old_rows
            .iter()
            .any(|(k, r)| *k == uuid(CONFLICT) && *r != conflict),
        "the conflicting rows differ, so the winner is visible"
    );
    let present: BTreeSet<&String> = canonical_rows.iter().map(|(k, _)| k).collect();
    let mut mapped: Vec<String> = canonical_rows.iter().map(|(_, r)| r.clone()).collect();
    mapped.extend(
        old_rows
            .iter()
            .filter(|(k, _)| !present.contains(k))
            .map(|(_, r)| r.clone()),
    );
    let archive = whole_rows(db, "public", &sql.table).await;
    let mut referencing = Vec::new();
    for fk in &sql.repoint {
        let count = scalar(
            db,
            &format!(
                "SELECT count(*) FROM public.{}",
                quote_identifier(&fk.table)
            ),
        )
        .await;
        referencing.push((
            fk.table.clone(),
            fk.name.clone(),
            fk.columns[0].clone(),
            count,
        ));
    }
    Before {
        mapped,
        conflict,
        archive,
        referencing,
    }
}

async fn whole_rows(db: &TestDb, schema: &str, table: &str) -> Vec<String> {
    let sql = format!(
        "SELECT t::text, '' FROM {}.{} AS t",
        quote_identifier(schema),
        quote_identifier(table)
    );
    rows(db, &sql).await.into_iter().map(|(r, _)| r).collect()
}

/// The checks of the no-row-lost rule (see the module comment), the view
/// and the foreign keys, after the step's SQL ran.
async fn check_step(db: &TestDb, realized: &Schema, sql: &SqlStep, before: &Before) {
    let canonical = &realized.tables[&sql.canonical];
    let key = &canonical.primary_key.as_ref().unwrap().columns[0];
    let label = format!("{} into {}", sql.table, sql.canonical);
    let after: Vec<String> = rows(
        db,
        &format!(
            "SELECT ROW({})::text, '' FROM public.{}",
            sql.copy
                .iter()
                .map(|c| quote_identifier(&c.to))
                .collect::<Vec<_>>()
                .join(", "),
            quote_identifier(&sql.canonical)
        ),
    )
    .await
    .into_iter()
    .map(|(r, _)| r)
    .collect();
    assert_eq!(after.len(), before.mapped.len(), "{label}: row count");
    assert_eq!(
        checksum(&after),
        checksum(&before.mapped),
        "{label}: rows differ\nexpected {:#?}\nfound {:#?}",
        before.mapped,
        after
    );
    let conflict = rows(
        db,
        &format!(
            "SELECT ROW({})::text, '' FROM public.{} WHERE {}::text = {}",
            sql.copy
                .iter()
                .map(|c| quote_identifier(&c.to))
                .collect::<Vec<_>>()
                .join(", "),
            quote_identifier(&sql.canonical),
            quote_identifier(key),
            quote(&uuid(CONFLICT))
        ),
    )
    .await;
    assert_eq!(
        conflict,
        [(before.conflict.clone(), String::new())],
        "{label}: the key both had keeps the canonical row"
    );
    assert_eq!(
        whole_rows(db, &sql.archive_schema, &sql.table).await,
        before.archive,
        "{label}: every original row is in the archive"
    );
    let columns: Vec<String> = sql
        .view
        .iter()
        .map(|v| quote_identifier(&v.alias))
        .collect();
    assert_eq!(
        scalar(
            db,
            &format!(
                "SELECT count(*) FROM (SELECT {} FROM public.{}) AS v",
                columns.join(", "),
                quote_identifier(&sql.table)
            )
        )
        .await,
        after.len() as i64,
        "{label}: the old name answers through the view"
    );
    assert_eq!(
        scalar(
            db,
            &format!(
                "SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = 'public' AND c.relname = {} AND c.relkind = 'v'",
                quote(&sql.table)
            )
        )
        .await,
        1
    );
    assert_eq!(
        scalar(
            db,
            &format!(
                "SELECT count(*) FROM pg_catalog.pg_constraint WHERE contype = 'f' \
                 AND confrelid = {}::regclass AND connamespace <> {}::regnamespace",
                quote(&sql.archived),
                quote(&quote_identifier(&sql.archive_schema))
            )
        )
        .await,
        0,
        "{label}: nothing outside the archive references the archived table"
    );
    for (table, name, column, count) in &before.referencing {
        let repointed = format!(
            "SELECT count(*) FROM pg_catalog.pg_constraint WHERE contype = 'f' AND conname = {} \
             AND conrelid = {}::regclass AND confrelid = {}::regclass",
            quote(name),
            quote(&format!("public.{}", quote_identifier(table))),
            quote(&format!("public.{}", quote_identifier(&sql.canonical)))
        );
        assert_eq!(scalar(db, &repointed).await, 1, "{label}: {table}.{name}");
        let resolved = format!(
            "SELECT count(*) FROM public.{t} r JOIN public.{c} k ON r.{col} = k.{key}",
            t = quote_identifier(table),
            c = quote_identifier(&sql.canonical),
            col = quote_identifier(column),
            key = quote_identifier(key)
        );
        assert_eq!(scalar(db, &resolved).await, *count, "{label}: {table} rows");
    }
    for fk in &sql.carried_foreign_keys {
        let carried = format!(
            "SELECT count(*) FROM pg_catalog.pg_constraint WHERE contype = 'f' AND conname = {} \
             AND conrelid = {}::regclass AND confrelid = {}::regclass",
            quote(&fk.name),
            quote(&format!("public.{}", quote_identifier(&fk.table))),
            quote(&format!("public.{}", quote_identifier(&fk.references)))
        );
        assert_eq!(scalar(db, &carried).await, 1, "{label}: {}", fk.name);
    }
}

/// One cluster's transaction, rendered alone from the same template.
fn cluster_sql(report: &Report, cluster: &Cluster) -> String {
    let templates = Templates::load(None).unwrap();
    let alone = Report {
        clusters: vec![cluster.clone()],
        ..report.clone()
    };
    let mut context = tera::Context::new();
    context.insert("report", &alone);
    templates
        .render("consolidation.sql.tera", &context)
        .unwrap()
}

/// Builds the database from the documents, seeds every merge step of the
/// cluster, runs the cluster's SQL and checks each step.
async fn merge_cluster(schema: &Schema, report: &Report, cluster: &Cluster) {
    let project = support::project_of_schema(schema, &settings());
    let realized = project.realized();
    let ddl = support::ddl(&project);
    let db = fresh_db().await;
    db.run(&ddl).await;
    let mut seeder = Seeder::new(&db, realized);
    let mut checks = Vec::new();
    for step in &cluster.steps {
        if let Some(sql) = &step.sql {
            checks.push((sql, seed_step(&mut seeder, sql).await));
        }
    }
    assert!(!checks.is_empty(), "cluster {} has no SQL", cluster.number);
    db.run(&cluster_sql(report, cluster)).await;
    for (sql, before) in &checks {
        check_step(&db, realized, sql, before).await;
    }
}

#[tokio::test]
async fn every_sql_cluster_of_the_real_documents_merges_without_losing_a_row() {
    let (schema, definitions) = real();
    let report = report_of(&schema, &definitions);
    let merged: BTreeSet<(&str, &str)> = report
        .clusters
        .iter()
        .flat_map(|c| &c.steps)
        .filter(|s| s.sql.is_some())
        .map(|s| (s.table.as_str(), s.into.as_str()))
        .collect();
    assert_eq!(
        merged,
        BTreeSet::from([
            ("javari_healing_events", "javari_auto_healing_incidents"),
            ("javari_knowledge_base", "javari_knowledge"),
            ("javari_projects", "projects"),
        ])
    );
    for cluster in report.clusters.iter().filter(|c| c.has_sql) {
        merge_cluster(&schema, &report, cluster).await;
    }
}

#[tokio::test]
async fn the_whole_script_applies_to_a_database_built_from_the_documents() {
    let files = emit_real();
    let db = fresh_db().await;
    db.run(&support::ddl(&support::real_project(&settings())))
        .await;
    db.run(file(&files, consolidation::SQL)).await;
    let catalog = db.catalog().await;
    for view in [
        "javari_healing_events",
        "javari_knowledge_base",
        "javari_projects",
    ] {
        assert!(
            catalog
                .facts
                .iter()
                .any(|f| f.starts_with(&format!("view | {view} | view"))),
            "{view} is a view"
        );
    }
}

/// A document written for this test: `customers` merges into
/// `shop_customers` (more inbound FKs); `invoices` references `customers`
/// and must follow; `points` changes type; `last_seen_at` is renamed; the
/// self-reference `referred_by` is carried over.
const SHOP: &str = r#"# Shop platform

```sql
CREATE TABLE shop_customers (
  id UUID PRIMARY KEY,
  email TEXT NOT NULL,
  full_name TEXT,
  points INTEGER,
  last_visit_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ DEFAULT NOW()
);

CREATE TABLE customers (
  id UUID PRIMARY KEY,
  email TEXT,
  full_name TEXT,
  points TEXT,
  last_seen_at TIMESTAMPTZ,
  referred_by UUID REFERENCES customers(id),
  created_at TIMESTAMPTZ DEFAULT NOW()
);

CREATE TABLE orders (
  id UUID PRIMARY KEY,
  customer_id UUID NOT NULL REFERENCES shop_customers(id) ON DELETE CASCADE
);

CREATE TABLE carts (
  id UUID PRIMARY KEY,
  customer_id UUID REFERENCES shop_customers(id)
);

CREATE TABLE wishlists (
  id UUID PRIMARY KEY,
  customer_id UUID REFERENCES shop_customers(id)
);

CREATE TABLE invoices (
  id UUID PRIMARY KEY,
  customer_id UUID NOT NULL REFERENCES customers(id) ON DELETE RESTRICT,
  amount DECIMAL(10,2)
);
```

# NAMING CONVENTIONS

## Tables
- Prefix for modules: `shop_`
"#;

#[tokio::test]
async fn foreign_keys_follow_the_merged_table_and_types_and_names_are_mapped() {
    let (file, _) = SourceFile::decode("shop.md", SHOP.as_bytes());
    let schema = support::schema_of_files(vec![file]);
    let report = report_of(&schema, &Definitions::default());
    assert_eq!(report.clusters.len(), 1, "{:#?}", report.clusters);
    let cluster = &report.clusters[0];
    assert_eq!(cluster.canonical, "shop_customers");
    assert_eq!(cluster.signals, [SignalKind::SharedStem]);
    let step = &cluster.steps[0];
    assert_eq!(step.action, Action::Merge);
    let mapping = step.mapping.as_ref().unwrap();
    assert_eq!(mapping.renamed[0].from, "last_seen_at");
    assert_eq!(mapping.renamed[0].to, "last_visit_at");
    assert_eq!(mapping.type_conflicts[0].from, "points");
    let sql = step.sql.as_ref().unwrap();
    assert_eq!(sql.repoint.len(), 1);
    assert_eq!(sql.repoint[0].table, "invoices");
    assert_eq!(sql.repoint[0].on_delete.as_deref(), Some("RESTRICT"));
    assert_eq!(sql.carried_foreign_keys.len(), 1);
    assert_eq!(sql.carried_foreign_keys[0].references, "shop_customers");
    assert!(
        step.risks
            .preconditions
            .iter()
            .any(|p| p.contains("cast to integer"))
    );
    merge_cluster(&schema, &report, cluster).await;
}
