//! The facts issue #2 pins down, asserted on the two real documents.

mod support;

use schemagen::diag::Code;
use schemagen::model::{Documentation, FkOrigin, JsonShape, PgType, ReferentialAction};

#[test]
fn forty_tables_are_documented_fifteen_markdown_twenty_six_sql_one_in_both() {
    let (schema, _) = support::real_schema();
    let documented: Vec<_> = schema.documented_tables().collect();
    assert_eq!(documented.len(), 40);
    let defined_in = |file: &str| {
        documented
            .iter()
            .filter(|t| t.definitions.iter().any(|d| &*d.file == file))
            .count()
    };
    assert_eq!(defined_in(support::MASTER), 15);
    assert_eq!(defined_in(support::JAVARI), 26);
    let both: Vec<_> = documented
        .iter()
        .filter(|t| t.definitions.len() == 2)
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(both, ["javari_cost_tracking"]);
}

#[test]
fn column_counts_against_claims() {
    let (schema, diagnostics) = support::real_schema();
    let table = |name: &str| &schema.tables[name];
    assert_eq!(table("properties").columns.len(), 48);
    assert_eq!(table("properties").claimed_columns, Some(47));
    assert_eq!(table("saved_searches").columns.len(), 12);
    assert_eq!(table("saved_searches").claimed_columns, Some(14));
    assert_eq!(table("mls_listings").columns.len(), 9);
    assert_eq!(table("mls_listings").claimed_columns, Some(30));
    assert_eq!(table("mls_listings").mirrors.len(), 1);
    assert_eq!(
        table("mls_listings").mirrors[0].table.as_deref(),
        Some("properties")
    );
    let mismatched: Vec<_> = diagnostics
        .iter()
        .filter(|d| d.code == Code::ColumnCountMismatch)
        .map(|d| d.message.split('`').nth(1).unwrap().to_owned())
        .collect();
    assert_eq!(mismatched, ["properties", "saved_searches", "mls_listings"]);
    assert!(diagnostics.iter().any(
        |d| d.code == Code::MirrorPlaceholder && d.span.as_ref().is_some_and(|s| s.line == 432)
    ));
}

#[test]
fn sql_tables_have_exactly_their_create_table_columns() {
    let (schema, _) = support::real_schema();
    let text = std::fs::read_to_string(support::root().join(support::JAVARI)).unwrap();
    // Count column lines in each CREATE TABLE by hand, independently of the parser.
    let mut checked = 0;
    for block in text.split("CREATE TABLE ").skip(1) {
        let name = block.split_whitespace().next().unwrap();
        let body = &block[..block.find("\n);").unwrap()];
        let columns = body
            .lines()
            .skip(1)
            .filter(|l| {
                let first = l.split_whitespace().next().unwrap_or("");
                !first.is_empty()
                    && first.chars().next().unwrap().is_ascii_lowercase()
                    && !l.trim().starts_with('(')
                    && !l.trim().starts_with('\'')
            })
            .count();
        assert_eq!(schema.tables[name].columns.len(), columns, "{name}");
        checked += 1;
    }
    assert_eq!(checked, 26);
}

#[test]
fn types_fks_and_checks_map_correctly() {
    let (schema, _) = support::real_schema();
    let column = |t: &str, c: &str| schema.tables[t].column(c).unwrap().clone();
    assert_eq!(
        column("javari_knowledge_base", "embedding").ty,
        PgType::Vector(Some(1536))
    );
    assert_eq!(
        column("users", "credits_balance").ty,
        PgType::Numeric(Some((10, 2)))
    );
    assert_eq!(
        column("properties", "features").ty,
        PgType::Array(Box::new(PgType::Text))
    );
    assert_eq!(
        column("javari_chat_sessions", "related_sessions").ty,
        PgType::Array(Box::new(PgType::Uuid))
    );

    let fk = |t: &str, c: &str| {
        schema.tables[t]
            .foreign_keys
            .iter()
            .find(|fk| fk.columns == [c])
            .unwrap()
            .clone()
    };
    let agent = fk("properties", "agent_id");
    assert_eq!(agent.references.to_string(), "profiles");
    assert_eq!(agent.referenced_columns, ["id"]);
    assert_eq!(agent.origin, FkOrigin::Description);
    let message = fk("messages", "conversation_id");
    assert_eq!(message.references.to_string(), "conversations");
    assert_eq!(message.on_delete, Some(ReferentialAction::Cascade));
    assert_eq!(
        fk("customers", "user_id").references.to_string(),
        "auth.users"
    );
    assert_eq!(
        fk("javari_projects", "github_token_id")
            .references
            .to_string(),
        "credentials"
    );

    let plan = schema.tables["users"]
        .check_constraints
        .iter()
        .find(|c| c.column.as_deref() == Some("plan"))
        .unwrap();
    assert_eq!(plan.allowed_values, ["free", "pro", "enterprise"]);
    assert_eq!(plan.expression, "plan IN ('free', 'pro', 'enterprise')");
}

#[test]
fn name_only_tables_come_from_mappings_and_prose_but_not_vercel_projects() {
    let (schema, _) = support::real_schema();
    for name in [
        "leads",
        "transactions",
        "bv_spirits",
        "stock_quotes",
        "bot_runs",
        "activity_log",
        "activity_logs",
        "documentation",
        "documents",
        "games",
        "resorts",
        "profiles",
    ] {
        let table = schema
            .tables
            .get(name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(table.documentation, Documentation::NameOnly, "{name}");
    }
    for not_a_table in [
        "cr-realtor-platform",
        "barvault",
        "javari-ai",
        "admin-dashboard",
        "stock-picker",
    ] {
        assert!(!schema.tables.contains_key(not_a_table), "{not_a_table}");
    }
    let leads = &schema.tables["leads"];
    assert_eq!(
        leads.mentions[0].app.as_deref(),
        Some("cr-realtor-platform")
    );
    assert_eq!(leads.mentions[0].read, Some(true));
    assert_eq!(schema.tables["lenders"].mentions[0].write, Some(false));
    assert_eq!(leads.module.as_deref(), Some("realtor"));
}

#[test]
fn notes_enums_json_glossary_and_claims_are_kept() {
    let (schema, diagnostics) = support::real_schema();
    let properties = &schema.tables["properties"];
    assert_eq!(properties.indexes.len(), 7);
    let gin = properties
        .indexes
        .iter()
        .find(|i| i.name == "idx_properties_features")
        .unwrap();
    assert_eq!(gin.method, schemagen::model::IndexMethod::Gin);
    assert!(
        properties
            .indexes
            .iter()
            .any(|i| i.name == "idx_properties_city_state")
    );
    assert_eq!(properties.rls_rules[0].text, "Agents: CRUD own properties");
    assert_eq!(
        properties.meta.purpose.as_deref(),
        Some("Core property listings database")
    );
    assert_eq!(
        schema.tables["vendor_commissions"].meta.privacy.as_deref(),
        Some("100% AGENT-ONLY - Never visible to customers")
    );
    assert_eq!(
        schema.tables["customers"]
            .column("customer_type")
            .unwrap()
            .documented_values,
        ["buyer", "seller", "both"]
    );
    assert_eq!(
        properties.column("status").unwrap().enum_name.as_deref(),
        Some("property_status")
    );
    assert_eq!(schema.enums["lead_status"].values.len(), 10);
    assert_eq!(
        schema.tables["vendors"]
            .column("category")
            .unwrap()
            .documented_values
            .len(),
        20
    );

    let criteria = schema.tables["saved_searches"].column("criteria").unwrap();
    let Some(JsonShape::Object { properties: fields }) = &criteria.json_shape else {
        panic!("criteria has no object shape")
    };
    assert_eq!(
        fields["cities"],
        JsonShape::Array {
            items: Box::new(JsonShape::String)
        }
    );
    assert_eq!(fields["min_price"], JsonShape::Integer);
    assert!(fields.contains_key("year_built_min"), "examples are merged");

    assert_eq!(
        schema.glossary["id"].description.as_deref(),
        Some("Primary key, auto-generated")
    );
    assert!(
        schema
            .naming_conventions
            .iter()
            .any(|c| c.rule.contains("idx_{table}_{column(s)}"))
    );
    let declared: Vec<Vec<String>> = schema.duplicates.iter().map(|d| d.tables.clone()).collect();
    assert_eq!(declared.len(), 4);
    assert!(declared.contains(&vec![
        "users".into(),
        "profiles".into(),
        "user_profiles".into()
    ]));
    assert!(schema.extensions.contains_key("vector"));
    assert!(
        schema
            .functions
            .contains_key("match_knowledge(vector(1536), double precision, integer, uuid)")
    );
    assert_eq!(schema.tables["conversations"].policies.len(), 2);
    assert!(
        diagnostics
            .iter()
            .any(|d| d.code == Code::ClaimedTotalMismatch && d.message.contains("claim 289 tables"))
    );
    assert!(diagnostics.iter().any(|d| d.code == Code::MojibakeRepaired));
    assert!(
        diagnostics
            .iter()
            .any(|d| d.code == Code::ConflictingDefinition
                && d.message.contains("javari_cost_tracking")
                && d.span.as_ref().is_some_and(|s| s.file == support::MASTER))
    );
}

#[test]
fn every_fact_has_a_line_in_its_file() {
    let (schema, _) = support::real_schema();
    let lines = |file: &str| {
        std::fs::read_to_string(support::root().join(file))
            .unwrap()
            .lines()
            .count() as u32
    };
    let (javari, master) = (lines(support::JAVARI), lines(support::MASTER));
    let within = |s: &schemagen::model::Source| {
        let max = if &*s.file == support::JAVARI {
            javari
        } else {
            master
        };
        s.line >= 1 && s.line <= max
    };
    for table in schema.tables.values() {
        assert!(within(&table.source), "{}", table.name);
        for c in &table.columns {
            assert!(within(&c.source), "{}.{}", table.name, c.name);
        }
        for i in &table.indexes {
            assert!(within(&i.source), "{}", i.name);
        }
        for p in &table.policies {
            assert!(within(&p.source), "{}", p.name);
        }
    }
    // Spot-check exact lines against the text itself.
    let master_text = std::fs::read_to_string(support::root().join(support::MASTER)).unwrap();
    let line_of = |needle: &str| {
        master_text
            .lines()
            .position(|l| l.contains(needle))
            .unwrap() as u32
            + 1
    };
    let properties = &schema.tables["properties"];
    assert_eq!(
        properties.source.line,
        line_of("## 1. PROPERTIES (47 columns)")
    );
    assert_eq!(
        properties.column("agent_id").unwrap().source.line,
        line_of("| agent_id | uuid | NO | FK to profiles | Agent dashboard |")
    );
    let javari_text = std::fs::read_to_string(support::root().join(support::JAVARI)).unwrap();
    let javari_line = |needle: &str| {
        javari_text
            .lines()
            .position(|l| l.contains(needle))
            .unwrap() as u32
            + 1
    };
    let users = &schema.tables["users"];
    assert_eq!(users.source.line, javari_line("CREATE TABLE users ("));
    assert_eq!(
        users.column("plan").unwrap().source.line,
        javari_line("plan TEXT DEFAULT 'free'")
    );
}

fn gen_schema(format: &str) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gen"))
        .current_dir(support::root())
        .args(["schema", "--format", format])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The YAML and JSON renderings hold the same model, and one table of it,
/// small enough to review, is pinned as a snapshot. (The whole model's YAML
/// was a 9,444-line snapshot nobody could review; what it pinned is
/// asserted field by field by the tests above.)
#[test]
fn schema_yaml_is_the_json_model_and_one_table_is_pinned() {
    let text = gen_schema("yaml");
    let yaml: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    let json: serde_json::Value = serde_json::from_str(&gen_schema("json")).unwrap();
    assert_eq!(yaml, json);
    // The `users` table as `gen schema` prints it, in the model's field order.
    let users: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "  users:")
        .enumerate()
        .take_while(|(i, l)| *i == 0 || l.starts_with("    "))
        .map(|(_, l)| l)
        .collect();
    assert!(users.len() > 20, "{users:?}");
    insta::assert_snapshot!("schema_yaml_users", users.join("\n"));
}

/// A `Default` column in a Markdown column table sets the column's
/// default, as written; an empty cell or a dash is no default.
#[test]
fn markdown_tables_carry_defaults() {
    let schema = support::check(&support::root().join("tests/fixtures/ok/defaults.md"));
    let widgets = &schema.tables["widgets"];
    let default = |name: &str| widgets.column(name).unwrap().default.clone();
    assert_eq!(default("status").as_deref(), Some("'active'"));
    assert_eq!(default("stock").as_deref(), Some("0"));
    assert_eq!(default("created_at"), None);
    let schema =
        support::check(&support::root().join("tests/fixtures/err/table_headers_and_defaults.md"));
    let widgets = &schema.tables["widgets"];
    assert_eq!(
        widgets.column("name").unwrap().default,
        None,
        "an injected statement never becomes a default"
    );
    assert_eq!(
        widgets.column("status").unwrap().default.as_deref(),
        Some("'active'")
    );
}

/// The repository's documents under the configuration `text` (as
/// `gen.yaml`).
fn project_with_config(text: &str) -> schemagen::project::Project {
    let config = schemagen::config::ConfigFile::parse(text, "gen.yaml").unwrap();
    let settings = config.settings(
        vec![support::root().join("schema/docs")],
        support::root(),
        Some(schemagen::settings::ConfigSource {
            display_path: "gen.yaml".to_owned(),
            text: text.to_owned(),
        }),
        None,
    );
    schemagen::project::Project::load(&settings).unwrap()
}

/// A column override in gen.yaml may set a default; one that is not a
/// single SQL expression is reported and never reaches the model.
#[test]
fn config_overrides_set_defaults_checked_as_sql() {
    let text = "overrides:\n  tables:\n    customers:\n      columns:\n        status: { default: \"'active'\" }\n        city: { default: \"'x'; DROP TABLE customers\" }\n";
    let project = project_with_config(text);
    let customers = &project.documented().tables["customers"];
    assert_eq!(
        customers.column("status").unwrap().default.as_deref(),
        Some("'active'")
    );
    assert_eq!(customers.column("city").unwrap().default, None);
    assert!(
        project
            .diagnostics()
            .iter()
            .any(|d| d.code.as_str() == "invalid-default" && d.message.contains("customers.city")),
        "the bad default is reported"
    );
}

/// `**Backfill:**` notes (a line, or a list under the label) give a column
/// what existing rows get when it is added; the expression is kept as
/// written, without the backticks around it.
#[test]
fn backfill_notes_attach_to_their_columns() {
    let schema = support::check(&support::root().join("tests/fixtures/ok/backfills.md"));
    let widgets = &schema.tables["widgets"];
    let backfill = |name: &str| widgets.column(name).unwrap().backfill.clone();
    assert_eq!(
        backfill("label").as_deref(),
        Some("coalesce(name, 'unnamed')")
    );
    assert_eq!(backfill("stock").as_deref(), Some("0"));
    assert_eq!(backfill("name"), None);
    assert_eq!(
        widgets.column("label").unwrap().default,
        None,
        "a backfill is not a default"
    );
}

/// A backfill that is not one SQL expression never reaches the model, and
/// the diagnostic names the file and the line of the note; so does a note
/// naming a column the section does not document.
#[test]
fn injected_or_unknown_backfills_are_reported_at_their_line() {
    let path = support::root().join("tests/fixtures/err/backfills.md");
    let (schema, diagnostics) = support::lint_bytes("backfills.md", &std::fs::read(path).unwrap());
    let widgets = &schema.tables["widgets"];
    assert_eq!(
        widgets.column("label").unwrap().backfill,
        None,
        "an injected statement never becomes a backfill"
    );
    let at = |line: u32| {
        diagnostics
            .iter()
            .find(|d| {
                d.code == Code::InvalidBackfill
                    && d.span
                        .as_ref()
                        .is_some_and(|s| &*s.file == "backfills.md" && s.line == line)
            })
            .unwrap_or_else(|| {
                panic!("no invalid-backfill at backfills.md:{line}: {diagnostics:?}")
            })
            .message
            .clone()
    };
    assert!(at(16).contains("DROP TABLE widgets"), "{}", at(16));
    assert!(at(16).contains("not one SQL expression"), "{}", at(16));
    assert!(at(17).contains("no column `colour`"), "{}", at(17));
}

/// A column override may set a backfill, checked like a default: one that
/// is not a single SQL expression is reported and never reaches the model.
#[test]
fn config_overrides_set_backfills_checked_as_sql() {
    let text = "overrides:\n  tables:\n    customers:\n      columns:\n        status: { backfill: \"coalesce(full_name, 'active')\" }\n        city: { backfill: \"'x'); DROP TABLE customers; --\" }\n";
    let project = project_with_config(text);
    let customers = &project.documented().tables["customers"];
    assert_eq!(
        customers.column("status").unwrap().backfill.as_deref(),
        Some("coalesce(full_name, 'active')")
    );
    assert_eq!(customers.column("city").unwrap().backfill, None);
    let bad = project
        .diagnostics()
        .iter()
        .find(|d| d.code == Code::InvalidBackfill)
        .expect("the bad backfill is reported");
    assert!(bad.message.contains("customers.city"), "{}", bad.message);
    let span = bad.span.as_ref().expect("a span");
    assert_eq!((&*span.file, span.line), ("gen.yaml", 6));
    assert_eq!(
        project.realized().tables["customers"]
            .column("status")
            .unwrap()
            .backfill
            .as_deref(),
        Some("coalesce(full_name, 'active')"),
        "the realised schema, which migrations are planned from, keeps it"
    );
}

/// A backfill is migration-time information: on its own it is no change,
/// so adding one to a column that exists makes no migration.
#[test]
fn a_backfill_alone_is_no_change() {
    let schema = support::check(&support::root().join("tests/fixtures/ok/backfills.md"));
    let mut without = schema.clone();
    for column in &mut without.tables.get_mut("widgets").unwrap().columns {
        column.backfill = None;
    }
    assert_eq!(schemagen::diff::diff(&without, &schema), Vec::new());
    assert_eq!(schemagen::diff::diff(&schema, &without), Vec::new());
}

/// A NOT NULL column without a default but with a backfill, added to an
/// existing table, fails only on the rows its backfill leaves NULL: the
/// preflight counts those, not every row.
#[test]
fn a_backfilled_not_null_column_is_probed_for_the_nulls_it_leaves() {
    use schemagen::diff::hazard::{HazardKind, Probe, classify};
    let after = support::check(&support::root().join("tests/fixtures/ok/backfills.md"));
    let mut before = after.clone();
    let widgets = before.tables.get_mut("widgets").unwrap();
    widgets
        .columns
        .retain(|c| c.name != "label" && c.name != "stock");
    let mut unbackfilled = after.clone();
    unbackfilled
        .tables
        .get_mut("widgets")
        .unwrap()
        .column_mut("stock")
        .unwrap()
        .backfill = None;
    let steps = classify(
        schemagen::diff::diff(&before, &unbackfilled),
        &before,
        &unbackfilled,
    );
    let step = |name: &str| {
        steps
            .iter()
            .find(|s| s.change.describe() == format!("add column widgets.{name}"))
            .unwrap_or_else(|| panic!("no step adds {name}"))
    };
    let label = step("label");
    assert_eq!(
        label.probes,
        [Probe::BackfillNulls {
            table: "widgets".into(),
            column: "label".into(),
            expression: "coalesce(name, 'unnamed')".into(),
        }]
    );
    assert_eq!(label.hazards.len(), 1);
    assert_eq!(label.hazards[0].kind, HazardKind::FailsOnData);
    assert!(
        label.hazards[0].reason.contains("backfill leaves a row"),
        "{}",
        label.hazards[0].reason
    );
    assert!(
        !label.hazards[0].reason.contains("without a default"),
        "{}",
        label.hazards[0].reason
    );
    // Without a backfill, every row fails, as before.
    assert!(matches!(
        step("stock").probes.as_slice(),
        [Probe::RowsWithoutValue { .. }]
    ));
}
