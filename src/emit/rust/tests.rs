//! Unit tests of the models' plan: names, types, enums, JSON structs and
//! the layout of long lines.

use super::*;
use crate::model::physical::RealizeOptions;
use crate::model::{CheckConstraint, Documentation, PgType, PrimaryKey, Source};

fn source() -> Source {
    Source::new("doc.md", 7)
}

/// A documented table with an `id` key and the given columns
/// (`name`, type, nullable, default).
fn table(name: &str, module: &str, columns: &[(&str, &str, bool, Option<&str>)]) -> Table {
    let mut table = Table::new(name, Documentation::Full, source());
    table.module = Some(module.to_owned());
    table.columns.push({
        let mut id = Column::new("id", PgType::Uuid, source());
        id.nullable = false;
        id.default = Some("gen_random_uuid()".to_owned());
        id
    });
    for (column, ty, nullable, default) in columns {
        let mut c = Column::new(*column, PgType::parse(ty), source());
        c.nullable = *nullable;
        c.default = default.map(str::to_owned);
        table.columns.push(c);
    }
    table.primary_key = Some(PrimaryKey {
        name: None,
        columns: vec!["id".to_owned()],
        source: source(),
    });
    table
}

fn check(table: &mut Table, column: &str, values: &[&str]) {
    table.check_constraints.push(CheckConstraint {
        name: None,
        column: Some(column.to_owned()),
        expression: String::new(),
        allowed_values: values.iter().map(|v| (*v).to_owned()).collect(),
        source: source(),
    });
}

fn schema(tables: Vec<Table>) -> Schema {
    Schema {
        tables: tables.into_iter().map(|t| (t.name.clone(), t)).collect(),
        ..Schema::default()
    }
}

fn rendered(schema: &Schema) -> BTreeMap<String, String> {
    let templates = Templates::load(None).unwrap();
    let documented = crate::model::stages::Documented::new(schema.clone());
    let (realized, _) = documented.realize(&RealizeOptions::default());
    render(&plan(&documented, &realized), &templates)
        .unwrap()
        .into_iter()
        .map(|f| (f.path.display().to_string(), f.contents))
        .collect()
}

#[test]
fn names_collide_across_modules_and_are_settled_the_same_way_every_time() {
    let docs = schema(vec![
        table("status", "realtor", &[]),
        table("statuses", "javari", &[]),
        table("properties", "realtor", &[]),
    ]);
    let files = rendered(&docs);
    assert!(files["rust/src/realtor.rs"].contains("pub struct RealtorStatus {"));
    assert!(files["rust/src/javari.rs"].contains("pub struct JavariStatus {"));
    assert!(files["rust/src/realtor.rs"].contains("pub struct Property {"));
    assert!(files["rust/src/realtor.rs"].contains("pub struct NewProperty {"));
    assert_eq!(rendered(&docs), files);
    assert!(files["rust/src/lib.rs"].contains("visitor.table::<javari::JavariStatus>();"));
}

#[test]
fn documents_without_a_documented_table_give_an_empty_crate() {
    let files = rendered(&Schema::default());
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["rust/Cargo.toml", "rust/src/lib.rs"]
    );
    assert!(
        files["rust/src/lib.rs"].contains("pub fn visit_tables<V: Visit>(_visitor: &mut V) {}")
    );
    assert!(!files["rust/src/lib.rs"].contains("pub mod"));
}

#[test]
fn fields_escape_keywords_and_keep_column_names() {
    let docs = schema(vec![table(
        "widgets",
        "shop",
        &[
            ("type", "text", false, None),
            ("self", "text", true, None),
            ("Size", "integer", true, None),
        ],
    )]);
    let module = &rendered(&docs)["rust/src/shop.rs"];
    // serde and sqlx read `r#type` as `type`: no rename needed.
    assert!(module.contains("    pub r#type: String,"), "{module}");
    assert!(module.contains(
        "    #[serde(rename = \"self\")]\n    #[sqlx(rename = \"self\")]\n    pub self_: Option<String>,"
    ));
    assert!(module.contains(
        "    #[serde(rename = \"Size\")]\n    #[sqlx(rename = \"Size\")]\n    pub size: Option<i32>,"
    ));
    assert!(
        module.contains(r#"INSERT INTO public.widgets (type, self, \"Size\") VALUES ($1, $2, $3)"#)
    );
}

#[test]
fn defaults_are_left_out_of_inserts_and_secrets_are_never_serialised() {
    let docs = schema(vec![table(
        "credentials",
        "vault",
        &[
            ("name", "text", false, None),
            ("status", "text", false, Some("'active'")),
            ("api_key", "text", false, None),
        ],
    )]);
    let module = &rendered(&docs)["rust/src/vault.rs"];
    let new = &module[module.find("pub struct NewCredential").unwrap()..];
    let new = &new[..new.find("\n}").unwrap()];
    assert!(!new.contains("pub status"), "{new}");
    assert!(!new.contains("pub id"), "{new}");
    assert!(
        new.contains("    #[serde(skip_serializing)]\n    pub api_key: String,"),
        "{new}"
    );
    assert!(module.contains(
        "INSERT INTO public.credentials (name, api_key) VALUES ($1, $2) RETURNING id, name, status, api_key"
    ), "{module}");
    assert!(rendered(&docs)["rust/src/lib.rs"].contains("//! - `credentials.api_key`"));
}

#[test]
fn check_lists_become_enums_of_the_column_s_type_and_other_types_are_left_out() {
    let mut widgets = table(
        "widgets",
        "shop",
        &[
            ("status", "varchar(20)", false, None),
            ("frequency", "text", true, None),
            ("lifetime", "interval", true, None),
        ],
    );
    check(&mut widgets, "status", &["active", "peer_review"]);
    check(&mut widgets, "frequency", &["5min", "daily"]);
    let module = &rendered(&schema(vec![widgets]))["rust/src/shop.rs"];
    assert!(module.contains("#[sqlx(type_name = \"varchar\", rename_all = \"snake_case\")]\npub enum WidgetStatus {\n    Active,\n    PeerReview,\n}"), "{module}");
    assert!(
        module.contains(
            "    #[serde(rename = \"5min\")]\n    #[sqlx(rename = \"5min\")]\n    V5min,"
        )
    );
    assert!(module.contains("pub frequency: Option<WidgetFrequency>,"));
    assert!(!module.contains("pub lifetime"));
    assert!(module.contains(
        "Left out, because no Rust type here reads their PostgreSQL type: `lifetime` (interval)."
    ));
}

#[test]
fn documented_json_becomes_structs_named_by_the_example_s_title() {
    let mut searches = table(
        "saved_searches",
        "realtor",
        &[("criteria", "jsonb", false, None)],
    );
    let shape = JsonShape::infer(&serde_json::json!({
        "cities": ["Fort Myers"], "min_price": 200000, "bathrooms": 2.5, "area": {"zip": "33901"}
    }));
    searches.columns[1].json_shape = Some(shape.clone());
    let mut docs = schema(vec![searches]);
    docs.json_examples.push(crate::model::JsonExample {
        title: "Property Criteria (saved_searches)".to_owned(),
        table: Some("saved_searches".to_owned()),
        column: Some("criteria".to_owned()),
        shape,
        source: source(),
    });
    let module = &rendered(&docs)["rust/src/realtor.rs"];
    assert!(
        module.contains("pub criteria: Json<PropertyCriteria>,"),
        "{module}"
    );
    for field in [
        "pub area: Option<PropertyCriteriaArea>,",
        "pub bathrooms: Option<f64>,",
        "pub cities: Option<Vec<String>>,",
        "pub min_price: Option<i64>,",
        "pub zip: Option<String>,",
        "pub other: serde_json::Map<String, serde_json::Value>,",
    ] {
        assert!(module.contains(field), "{field}");
    }
}
