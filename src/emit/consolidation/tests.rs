//! Unit tests on synthetic schemas: each rule on names it was not written
//! for, the cost bound on thousands of tables, and escaping in the SQL.

use super::*;
use crate::emit::{Emitter, Templates};
use crate::model::physical::RealizeOptions;
use crate::model::stages::Documented;
use crate::model::{
    Column, DefinitionKind, Documentation, FkOrigin, ForeignKey, NamingConvention, PgType,
    PrimaryKey, Schema, Source, Table, TableRef,
};
use std::time::Instant;

fn source() -> Source {
    Source::new("synthetic.md", 1)
}

fn table(name: &str, columns: &[(&str, &str)]) -> Table {
    let documentation = if columns.is_empty() {
        Documentation::NameOnly
    } else {
        Documentation::Full
    };
    let mut t = Table::new(name, documentation, source());
    for (column, ty) in columns {
        t.columns
            .push(Column::new(*column, PgType::parse(ty), source()));
    }
    if !columns.is_empty() {
        t.defined_by = Some(DefinitionKind::Sql);
        t.definitions.push(source());
        t.primary_key = Some(PrimaryKey {
            name: None,
            columns: vec![columns[0].0.to_owned()],
            source: source(),
        });
    }
    t
}

fn schema_of(tables: Vec<Table>, prefixes: &str) -> Schema {
    let mut schema = Schema::default();
    for t in tables {
        schema.tables.insert(t.name.clone(), t);
    }
    if !prefixes.is_empty() {
        schema.naming_conventions.push(NamingConvention {
            category: "Tables".to_owned(),
            rule: format!("Prefix for modules: {prefixes}"),
            source: source(),
        });
    }
    schema
}

fn run(schema: &Schema) -> Report {
    let documented = Documented::new(schema.clone());
    let (realized, _) = documented.realize(&RealizeOptions::default());
    report(
        &documented,
        &realized,
        &Definitions::default(),
        &ConsolidationOptions::default(),
    )
}

/// The kind of the evidence that links exactly `a` and `b`, if any.
fn pair_kind(report: &Report, a: &str, b: &str) -> Option<SignalKind> {
    let cluster = report.cluster_of(a)?;
    cluster
        .tables
        .iter()
        .any(|m| m.name == b)
        .then(|| {
            cluster
                .evidence
                .iter()
                .find(|e| e.covers(a, b))
                .map(|e| e.kind)
        })
        .flatten()
}

#[test]
fn name_rules_work_on_names_they_were_not_written_for() {
    let schema = schema_of(
        [
            "invoice",
            "invoices",
            "shop_orders",
            "orders",
            "payment_events",
            "payment_history",
            "refund_logs",
            "auto_refunding_incidents",
            "recipes",
            "recipe_bank",
            "recipe_ratings",
            "users",
            "user_settings",
        ]
        .into_iter()
        .map(|n| table(n, &[]))
        .collect(),
        "`shop_`, `crm_`",
    );
    let report = run(&schema);
    for (a, b, kind) in [
        ("invoice", "invoices", SignalKind::SingularPlural),
        ("orders", "shop_orders", SignalKind::SharedStem),
        (
            "payment_events",
            "payment_history",
            SignalKind::SuffixFamily,
        ),
        (
            "auto_refunding_incidents",
            "refund_logs",
            SignalKind::NameContainment,
        ),
        ("recipe_bank", "recipes", SignalKind::NameContainment),
    ] {
        assert_eq!(pair_kind(&report, a, b), Some(kind), "{a} / {b}");
    }
    // A child table adds a real noun, not a qualifier: no cluster.
    assert!(report.cluster_of("recipe_ratings").is_none());
    assert!(report.cluster_of("user_settings").is_none());
    assert!(report.cluster_of("users").is_none());
}

#[test]
fn column_similarity_pairs_copies_and_not_parents_with_children() {
    let copy = [
        ("id", "uuid"),
        ("sku", "text"),
        ("title", "text"),
        ("price_cents", "integer"),
        ("created_at", "timestamptz"),
    ];
    let mut child = table(
        "variants",
        &[
            ("id", "uuid"),
            ("product_id", "uuid"),
            ("sku", "text"),
            ("title", "text"),
            ("price_cents", "integer"),
        ],
    );
    child.foreign_keys.push(ForeignKey {
        name: None,
        columns: vec!["product_id".to_owned()],
        references: TableRef::parse("products"),
        referenced_columns: vec!["id".to_owned()],
        on_delete: None,
        on_update: None,
        origin: FkOrigin::Sql,
        source: source(),
    });
    let copies = run(&schema_of(
        vec![table("products", &copy), table("catalogue", &copy)],
        "",
    ));
    assert_eq!(
        pair_kind(&copies, "catalogue", "products"),
        Some(SignalKind::ColumnSimilarity)
    );
    let family = run(&schema_of(vec![table("products", &copy), child], ""));
    assert!(
        family.clusters.is_empty(),
        "a child that references its parent is not its copy"
    );
}

#[test]
fn detection_stays_near_linear_on_thousands_of_tables() {
    const TABLES: usize = 4000;
    let mut tables = Vec::new();
    for i in 0..TABLES {
        // Every table shares the bookkeeping columns and a tenant column;
        // neither may pair tables, or the cost would be quadratic.
        let own: Vec<(String, &str)> = (0..4).map(|k| (format!("c{i}_{k}"), "text")).collect();
        let mut columns: Vec<(&str, &str)> = vec![
            ("id", "uuid"),
            ("tenant_id", "uuid"),
            ("created_at", "timestamptz"),
            ("updated_at", "timestamptz"),
        ];
        columns.extend(own.iter().map(|(n, t)| (n.as_str(), *t)));
        // Every 400th table is a near copy of the one before it.
        let planted: Vec<(String, &str)> = if i % 400 == 1 {
            (0..4)
                .map(|k| (format!("c{}_{k}", i - 1), "text"))
                .collect()
        } else {
            Vec::new()
        };
        columns.extend(planted.iter().map(|(n, t)| (n.as_str(), *t)));
        tables.push(table(&format!("t{i:05}_item_records"), &columns));
    }
    let schema = schema_of(tables, "");
    let started = Instant::now();
    let detection = detect::detect(
        &schema,
        &Definitions::default(),
        &ConsolidationOptions::default(),
    );
    let elapsed = started.elapsed();
    assert_eq!(detection.stats.tables_with_columns, TABLES);
    assert!(
        detection.stats.column_pairs_scored <= TABLES,
        "{} pairs scored for {TABLES} tables",
        detection.stats.column_pairs_scored
    );
    assert!(
        detection
            .stats
            .common_columns_skipped
            .contains(&"tenant_id".to_owned())
    );
    let similar: Vec<&Evidence> = detection
        .evidence
        .iter()
        .filter(|e| e.kind == SignalKind::ColumnSimilarity)
        .collect();
    assert_eq!(similar.len(), TABLES / 400);
    // Five shared of nine: the tenant column still counts for similarity.
    assert!(similar.iter().all(|e| e.score == 0.56));
    // Generous: a quadratic pass over 4000 tables takes far longer.
    assert!(elapsed.as_secs() < 10, "detection took {elapsed:?}");
}

#[test]
fn merge_sql_quotes_what_needs_quoting() {
    // `users` is kept (the plural convention); `user` is merged into it.
    let merged = table(
        "user",
        &[("id", "uuid"), ("order", "text"), ("Total", "numeric")],
    );
    let kept = table(
        "users",
        &[("id", "uuid"), ("order", "text"), ("Select", "integer")],
    );
    let schema = schema_of(vec![kept, merged], "");
    let templates = Templates::load(None).unwrap();
    let settings = crate::settings::Settings {
        target: crate::emit::Target::Postgres,
        ..Default::default()
    };
    let project = crate::project::Project::from_documented(Documented::new(schema), &settings);
    let context = EmitContext::new(&project, &templates);
    let files = Emitter::Consolidation.render(&context).unwrap();
    let sql = &files
        .iter()
        .find(|f| f.path.ends_with("consolidation.sql"))
        .unwrap()
        .contents;
    for expected in [
        "ALTER TABLE public.users ADD COLUMN \"Total\" numeric;",
        "INSERT INTO public.users (id, \"order\", \"Total\")",
        "SELECT id, \"order\", \"Total\"\n    FROM public.\"user\"",
        "CREATE VIEW public.\"user\" WITH (security_invoker = true)",
        "'consolidation_archive.\"user\"'::regclass",
    ] {
        assert!(sql.contains(expected), "missing {expected} in\n{sql}");
    }
}
