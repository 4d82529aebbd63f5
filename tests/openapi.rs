//! Issue #6: the OpenAPI 3.1 description of the REST surface. The spec is
//! validated by a real OpenAPI 3.1 validator (`.ci/validate-openapi.sh`,
//! openapi-spec-validator from PyPI), and its table schemas are checked
//! against a real PostgreSQL 15: every documented table gets rows inserted
//! the way PostgREST inserts a JSON body, the rows are read back with
//! `row_to_json`, and each body and row must validate against its schema.

mod support;

use schemagen::emit::Target;
use schemagen::emit::openapi;
use schemagen::emit::{EmitContext, Emitter, OutputFile, Templates};
use schemagen::model::physical::{RealizeOptions, quote_identifier};
use schemagen::model::{Column, JsonShape, PgType, Table, TableRef};
use schemagen::{Project, Settings};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use support::db::{TestDb, describe_error, fresh_db};

fn settings() -> Settings {
    support::settings(Target::Postgres, RealizeOptions::default())
}

/// The real documents, read as the CLI reads them.
fn docs() -> Project {
    support::real_project(&settings())
}

/// The files `gen openapi` writes, and the document they hold.
fn generate(docs: &Project) -> (Vec<OutputFile>, Value) {
    let templates = Templates::load(None).expect("embedded templates load");
    let context = EmitContext::new(docs, &templates);
    let files = Emitter::OpenApi
        .render(&context)
        .expect("the spec is generated");
    let document = serde_json::to_value(openapi::document(&context).expect("a document"))
        .expect("the document serialises");
    (files, document)
}

fn file<'a>(files: &'a [OutputFile], path: &str) -> &'a str {
    &files
        .iter()
        .find(|f| f.path == Path::new(path))
        .unwrap_or_else(|| panic!("{path} is not generated"))
        .contents
}

/// What the validator script said: whether everything was valid, and its
/// report (one line per row).
struct Verdict {
    valid: bool,
    report: String,
}

/// Runs `.ci/validate-openapi.sh`. It installs its PyPI packages when they
/// are missing; when it cannot run at all the test fails, never skips.
fn validate(spec: &Path, rows: Option<&Path>) -> Verdict {
    let mut command = Command::new("bash");
    command
        .current_dir(support::root())
        .arg(".ci/validate-openapi.sh")
        .arg(spec);
    if let Some(rows) = rows {
        command.arg(rows);
    }
    let output = command.output().unwrap_or_else(|e| {
        panic!("cannot run `bash .ci/validate-openapi.sh`: {e}\nRun `bash .ci/run` on a machine with bash and python3.")
    });
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    match output.status.code() {
        Some(0) => Verdict {
            valid: true,
            report,
        },
        Some(1) => Verdict {
            valid: false,
            report,
        },
        _ => panic!(
            "the OpenAPI validator could not run; it needs python3 with pip to install openapi-spec-validator from PyPI. Run `bash .ci/run`.\n{stderr}\n{report}"
        ),
    }
}

/// Writes the generated files into a temporary directory.
fn write_spec(files: &[OutputFile]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for f in files {
        let path = dir.path().join(&f.path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("a directory");
        std::fs::write(&path, &f.contents).expect("the spec is written");
    }
    dir
}

fn documented_tables(project: &Project) -> Vec<Table> {
    project
        .realized()
        .tables
        .values()
        .filter(|t| t.is_documented())
        .cloned()
        .collect()
}

fn component(document: &Value, name: &str) -> Value {
    document["components"]["schemas"]
        .get(name)
        .unwrap_or_else(|| panic!("no component schema {name}"))
        .clone()
}

fn names(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn pascal(table: &str) -> String {
    table
        .split('_')
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

#[test]
fn the_spec_validates_as_openapi_3_1_and_json_and_yaml_agree() {
    let (files, _) = generate(&docs());
    let json: Value = serde_json::from_str(file(&files, openapi::JSON_PATH)).expect("JSON parses");
    let yaml: Value =
        serde_saphyr::from_str(file(&files, openapi::YAML_PATH)).expect("YAML parses");
    assert_eq!(
        json, yaml,
        "openapi.json and openapi.yaml hold the same document"
    );
    let dir = write_spec(&files);
    let verdict = validate(&dir.path().join(openapi::YAML_PATH), None);
    assert!(
        verdict.valid,
        "openapi.yaml is not valid OpenAPI 3.1:\n{}",
        verdict.report
    );
    assert!(
        verdict.report.contains("OpenAPI 3.1.0"),
        "{}",
        verdict.report
    );
}

#[test]
fn regenerating_with_unchanged_documents_is_byte_identical() {
    let (first, _) = generate(&docs());
    let (second, _) = generate(&docs());
    assert_eq!(first.len(), 2);
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a.path, b.path);
        assert!(
            a.contents == b.contents,
            "{} differs between two runs",
            a.path.display()
        );
    }
}

#[test]
fn insert_schemas_never_require_a_column_with_a_default() {
    let docs = docs();
    let (_, document) = generate(&docs);
    let tables = documented_tables(&docs);
    assert_eq!(tables.len(), 40);
    for table in &tables {
        let name = pascal(&table.name);
        let defaulted: BTreeSet<String> = table
            .columns
            .iter()
            .filter(|c| c.default.is_some())
            .map(|c| c.name.clone())
            .collect();
        let not_null = |c: &&Column| !c.nullable;
        let insert = component(&document, &format!("{name}Insert"));
        let required = names(&insert["required"]);
        assert!(
            required.is_disjoint(&defaulted),
            "{name}Insert requires defaulted columns {:?}",
            required.intersection(&defaulted).collect::<Vec<_>>()
        );
        let expected: BTreeSet<String> = table
            .columns
            .iter()
            .filter(not_null)
            .filter(|c| c.default.is_none())
            .map(|c| c.name.clone())
            .collect();
        assert_eq!(required, expected, "{name}Insert.required");
        let row = component(&document, &name);
        let row_required: BTreeSet<String> = table
            .columns
            .iter()
            .filter(not_null)
            .map(|c| c.name.clone())
            .collect();
        assert_eq!(names(&row["required"]), row_required, "{name}.required");
        assert!(
            component(&document, &format!("{name}Update"))
                .get("required")
                .is_none()
        );
        for schema in [&name, &format!("{name}Insert"), &format!("{name}Update")] {
            let schema = component(&document, schema);
            assert_eq!(schema["x-table"], table.name.as_str());
            assert_eq!(schema["x-source"], table.source.to_string());
            assert!(schema["x-rls"].is_array());
        }
    }
}

#[test]
fn the_properties_row_schema_has_its_48_columns() {
    let (_, document) = generate(&docs());
    let properties = component(&document, "Properties");
    assert_eq!(properties["properties"].as_object().map(Map::len), Some(48));
    assert_eq!(properties["x-module"], "realtor");
    let status = &properties["properties"]["status"];
    assert_eq!(status["enum"][0], "active");
    assert_eq!(status["x-enum-enforced"], false);
}

#[test]
fn columns_are_typed_from_the_documents() {
    let (_, document) = generate(&docs());
    let property =
        |table: &str, column: &str| component(&document, table)["properties"][column].clone();
    let criteria = property("SavedSearches", "criteria");
    assert_eq!(criteria["type"], "object");
    assert_eq!(
        criteria["properties"]["cities"],
        json!({"type": "array", "items": {"type": "string"}})
    );
    let metadata = property("JavariProviders", "metadata");
    assert_eq!(metadata["type"], json!(["object", "null"]));
    assert_eq!(metadata["properties"]["temperature"]["type"], "number");
    let messages = property("JavariChatSessions", "messages");
    assert_eq!(messages["type"], json!(["array", "null"]));
    assert_eq!(
        messages["items"]["properties"]["tokens_used"]["type"],
        "integer"
    );
    let embedding =
        component(&document, "JavariKnowledgeBaseInsert")["properties"]["embedding"].clone();
    assert_eq!(embedding["minItems"], 1536);
    assert_eq!(embedding["maxItems"], 1536);
    let secret = property("JavariCredentials", "encrypted_value");
    assert_eq!(secret["writeOnly"], true);
    assert_eq!(
        property("JavariHealthMonitors", "slack_webhook")["writeOnly"],
        true
    );
    assert_eq!(property("JavariCredentials", "id")["readOnly"], true);
    assert_eq!(
        property("JavariCredentials", "created_at")["readOnly"],
        true
    );
    assert_eq!(
        property("JavariCredentials", "credential_type")["x-enum-enforced"],
        true
    );
    let rls = component(&document, "Conversations")["x-rls"].clone();
    let commands: BTreeSet<String> = rls
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["command"].as_str().map(str::to_owned))
        .collect();
    assert!(
        commands.contains("SELECT") && commands.contains("INSERT"),
        "{rls}"
    );
}

#[test]
fn paths_cover_every_table_and_the_documented_routes() {
    let docs = docs();
    let (_, document) = generate(&docs);
    let paths = document["paths"].as_object().expect("paths");
    for table in documented_tables(&docs) {
        let item = &paths[&format!("/rest/v1/{}", table.name)];
        for method in ["get", "post", "patch", "delete"] {
            assert!(
                item.get(method).is_some(),
                "{method} /rest/v1/{}",
                table.name
            );
        }
        assert_eq!(
            item["get"]["tags"][0],
            table.module.as_deref().unwrap_or("tables")
        );
    }
    let expected = [
        ("/api/javari/chat", "post"),
        ("/api/javari/chat/continue", "post"),
        ("/api/javari/credentials", "get"),
        ("/api/javari/credentials", "delete"),
        ("/api/javari/credentials/test", "post"),
        ("/api/javari/credentials/rotate", "post"),
        ("/api/javari/knowledge/upload", "post"),
        ("/api/javari/knowledge/search", "post"),
        ("/api/javari/projects", "patch"),
        ("/api/javari/health", "get"),
        ("/api/javari/health/monitors", "post"),
        ("/api/javari/work/log", "get"),
        ("/api/javari/cron/health-check", "get"),
        ("/api/javari/cron/web-crawl", "get"),
        ("/api/javari/build", "post"),
        ("/api/properties", "post"),
    ];
    for (path, method) in expected {
        let operation = paths
            .get(path)
            .and_then(|p| p.get(method))
            .unwrap_or_else(|| panic!("{method} {path} is missing"));
        assert_eq!(
            operation["responses"]["default"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ApiError",
            "{method} {path}"
        );
    }
    assert_eq!(
        paths["/api/javari/cron/health-check"]["get"]["x-schedule"],
        "*/30 * * * *"
    );
    assert_eq!(
        paths["/api/properties"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/PropertiesInsert"
    );
    for area in [
        "/api/auth/{path}",
        "/api/payments/{path}",
        "/api/cron/{path}",
    ] {
        assert!(paths.contains_key(area), "{area} is missing");
    }
    let tags: BTreeSet<String> = document["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect();
    for tag in [
        "javari",
        "realtor",
        "api/javari",
        "api/auth",
        "api/payments",
    ] {
        assert!(tags.contains(tag), "tag {tag} is missing: {tags:?}");
    }

    let success = component(&document, "ApiSuccess");
    assert_eq!(success["properties"]["success"]["const"], true);
    let meta = &success["properties"]["meta"]["properties"];
    assert_eq!(meta["timestamp"]["format"], "date-time");
    assert_eq!(meta["request_id"]["format"], "uuid");
    assert_eq!(meta["credits_used"]["type"], "number");
    let error = component(&document, "ApiError");
    let fields: BTreeSet<String> = error["properties"]["error"]["properties"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    assert_eq!(
        fields,
        ["code", "details", "message"].map(String::from).into()
    );

    let mut ids = BTreeSet::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().into_iter().flatten() {
            if let Some(id) = operation.get("operationId").and_then(Value::as_str) {
                assert!(
                    ids.insert(id.to_owned()),
                    "operationId {id} ({method} {path}) is repeated"
                );
            }
        }
    }
    assert!(ids.contains("get_rest_v1_properties"));
    assert!(ids.contains("post_api_javari_chat_continue"));
}

// ---------------------------------------------------------------------------
// Rows from a real database
// ---------------------------------------------------------------------------

/// Sample values for columns, made from the realised model: values of the
/// column's type, the first allowed value of an enum, and distinct text and
/// uuids per row so unique constraints hold.
struct Samples {
    counter: u64,
}

impl Samples {
    fn uuid(&mut self) -> String {
        self.counter += 1;
        format!("00000000-0000-4000-8000-{:012x}", self.counter)
    }

    fn value(&mut self, table: &Table, column: &Column, row: usize) -> Value {
        let allowed = table
            .check_constraints
            .iter()
            .find(|c| {
                c.column.as_deref() == Some(column.name.as_str()) && !c.allowed_values.is_empty()
            })
            .map(|c| &c.allowed_values)
            .or((!column.documented_values.is_empty()).then_some(&column.documented_values));
        if let Some(values) = allowed
            && matches!(column.ty, PgType::Text | PgType::Varchar(_))
        {
            return json!(values[row % values.len()]);
        }
        let text = format!("r{row} {}.{}", table.name, column.name);
        self.of_type(&column.ty, column.json_shape.as_ref(), &text, row)
    }

    fn of_type(&mut self, ty: &PgType, shape: Option<&JsonShape>, text: &str, row: usize) -> Value {
        match ty {
            PgType::Uuid => json!(self.uuid()),
            PgType::Text => json!(text),
            PgType::Varchar(limit) => {
                let limit = limit.map_or(usize::MAX, |n| n as usize);
                json!(text.chars().take(limit).collect::<String>())
            }
            PgType::Numeric(Some((p, s))) if p > s && *s > 0 => json!(1.5),
            PgType::Numeric(_) => json!(1),
            PgType::SmallInt | PgType::Integer | PgType::BigInt => json!(1 + row as i64),
            PgType::Real | PgType::DoublePrecision => json!(0.5),
            PgType::Boolean => json!(row.is_multiple_of(2)),
            PgType::Timestamptz => json!("2025-11-08T12:00:00+00:00"),
            PgType::Timestamp => json!("2025-11-08T12:00:00"),
            PgType::Date => json!("2025-11-08"),
            PgType::Time => json!("12:00:00"),
            PgType::Interval => json!("1 day"),
            PgType::Bytea => json!("\\x00ff"),
            PgType::Inet => json!("127.0.0.1"),
            PgType::Jsonb | PgType::Json => match shape {
                Some(shape) => shape_sample(shape),
                None => json!({"note": text}),
            },
            PgType::Vector(dimensions) => {
                let n = dimensions.unwrap_or(3);
                json!((0..n).map(|i| f64::from(i % 7) / 8.0).collect::<Vec<_>>())
            }
            PgType::Array(element) => json!([self.of_type(element, None, text, row)]),
            PgType::Unknown(raw) => panic!("no sample value for the unknown type `{raw}`"),
        }
    }
}

/// A value of a documented JSON structure, every field filled.
fn shape_sample(shape: &JsonShape) -> Value {
    match shape {
        JsonShape::Null | JsonShape::Any => Value::Null,
        JsonShape::Boolean => json!(true),
        JsonShape::Integer => json!(2),
        JsonShape::Number => json!(2.5),
        JsonShape::String => json!("sample"),
        JsonShape::Array { items } => json!([shape_sample(items)]),
        JsonShape::Object { properties } => Value::Object(
            properties
                .iter()
                .map(|(k, v)| (k.clone(), shape_sample(v)))
                .collect(),
        ),
    }
}

/// Tables in an order that puts every FK target before the tables that
/// point at it.
fn insertion_order(tables: &BTreeMap<String, Table>) -> Vec<&Table> {
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    let mut order = Vec::new();
    while order.len() < tables.len() {
        let ready: Vec<&Table> = tables
            .values()
            .filter(|t| !placed.contains(t.name.as_str()))
            .filter(|t| {
                t.foreign_keys.iter().all(|fk| {
                    fk.references.is_external()
                        || fk.references.table == t.name
                        || placed.contains(fk.references.table.as_str())
                })
            })
            .collect();
        assert!(
            !ready.is_empty(),
            "the FKs of {:?} form a cycle",
            tables
                .keys()
                .filter(|n| !placed.contains(n.as_str()))
                .collect::<Vec<_>>()
        );
        for table in ready {
            placed.insert(&table.name);
            order.push(table);
        }
    }
    order
}

/// Words of a SQL expression that name columns of the table.
fn mentioned_columns<'a>(expression: &str, table: &'a Table) -> Vec<&'a Column> {
    let words: BTreeSet<&str> = expression
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    table
        .columns
        .iter()
        .filter(|c| words.contains(c.name.as_str()))
        .collect()
}

/// Inserts a JSON body the way PostgREST does (`json_populate_record` over
/// the body's keys, so left-out columns take their defaults) and returns
/// the row as `row_to_json` renders it. A CHECK that spans columns (one of
/// two FKs must be set) is met by trying which of its nullable columns to
/// set; the body that went in is returned beside the row.
async fn insert_like_postgrest(
    db: &TestDb,
    table: &Table,
    body: &Map<String, Value>,
    fill: &dyn Fn(&Column) -> Value,
) -> (Map<String, Value>, Value) {
    let error = match try_insert(db, table, body).await {
        Ok(row) => return (body.clone(), row),
        Err(error) => error,
    };
    let check = error
        .as_database_error()
        .filter(|e| e.code().as_deref() == Some("23514"))
        .and_then(|e| e.constraint())
        .and_then(|name| {
            table
                .check_constraints
                .iter()
                .find(|c| c.name.as_deref() == Some(name))
        });
    let Some(check) = check else {
        panic!(
            "inserting {} into {} failed: {}",
            Value::Object(body.clone()),
            table.name,
            describe_error(&error)
        );
    };
    let columns: Vec<&Column> = mentioned_columns(&check.expression, table)
        .into_iter()
        .filter(|c| c.nullable)
        .collect();
    for mask in 0u32..(1 << columns.len()) {
        let mut candidate = body.clone();
        for (bit, column) in columns.iter().enumerate() {
            if mask & (1 << bit) == 0 {
                candidate.remove(&column.name);
            } else {
                candidate.insert(column.name.clone(), fill(column));
            }
        }
        if let Ok(row) = try_insert(db, table, &candidate).await {
            return (candidate, row);
        }
    }
    panic!(
        "no choice of {:?} meets CHECK {} of {}",
        columns.iter().map(|c| &c.name).collect::<Vec<_>>(),
        check.expression,
        table.name
    )
}

async fn try_insert(
    db: &TestDb,
    table: &Table,
    body: &Map<String, Value>,
) -> Result<Value, sqlx::Error> {
    let qualified = format!("public.{}", quote_identifier(&table.name));
    let sql = if body.is_empty() {
        format!("INSERT INTO {qualified} AS t DEFAULT VALUES RETURNING row_to_json(t)::text")
    } else {
        let columns: Vec<String> = body.keys().map(|c| quote_identifier(c)).collect();
        let columns = columns.join(", ");
        format!(
            "INSERT INTO {qualified} AS t ({columns}) SELECT {columns} FROM jsonb_populate_record(NULL::{qualified}, $1::jsonb) RETURNING row_to_json(t)::text"
        )
    };
    let text: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(Value::Object(body.clone()).to_string())
        .fetch_one(db.pool())
        .await?;
    Ok(serde_json::from_str(&text).expect("row_to_json returns JSON"))
}

/// Two rows per table: one body with only what `<Table>Insert` requires,
/// one with every column that is not read-only.
const ROWS_PER_TABLE: usize = 2;

#[tokio::test]
async fn rows_of_every_documented_table_validate_against_their_schemas() {
    let docs = docs();
    let (files, document) = generate(&docs);
    let dir = write_spec(&files);
    let spec = dir.path().join(openapi::JSON_PATH);

    let ddl = support::ddl(&docs);
    let db = fresh_db().await;
    db.run(&ddl).await;

    let realized = docs.realized();
    let mut samples = Samples { counter: 0 };
    // Rows already inserted, by table, as row_to_json gave them back.
    let mut inserted: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    // Rows of tables outside `public` (Supabase's auth.users) that FKs need.
    for fk in realized.tables.values().flat_map(|t| &t.foreign_keys) {
        let key = target_key(&fk.references);
        if !fk.references.is_external() || inserted.contains_key(&key) {
            continue;
        }
        let mut rows = Vec::new();
        for _ in 0..ROWS_PER_TABLE {
            let id = samples.uuid();
            let sql = format!(
                "INSERT INTO {}.{} ({}) VALUES ('{id}')",
                quote_identifier(fk.references.schema.as_deref().unwrap_or("public")),
                quote_identifier(&fk.references.table),
                quote_identifier(&fk.referenced_columns[0])
            );
            db.run(&sql).await;
            rows.push(json!({ fk.referenced_columns[0].clone(): id }));
        }
        inserted.insert(key, rows);
    }

    let mut to_validate: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for table in insertion_order(&realized.tables) {
        let name = pascal(&table.name);
        let insert_schema = document["components"]["schemas"].get(format!("{name}Insert"));
        let required = insert_schema
            .map(|s| names(&s["required"]))
            .unwrap_or_default();
        let read_only: BTreeSet<String> = insert_schema
            .and_then(|s| s["properties"].as_object())
            .map(|p| {
                p.iter()
                    .filter(|(_, v)| v["readOnly"] == true)
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default();
        for row in 0..ROWS_PER_TABLE {
            // An FK column takes the referenced column of the parent's row
            // of the same index, so each row has parents of its own.
            let mut fk_values: BTreeMap<String, Value> = BTreeMap::new();
            for fk in &table.foreign_keys {
                // A table that points at itself has no parent row before
                // its first one; that row's reference stays NULL.
                let parent = inserted
                    .get(&target_key(&fk.references))
                    .map(|parents| &parents[row % parents.len()]);
                for (column, referenced) in fk.columns.iter().zip(&fk.referenced_columns) {
                    let value = parent.map_or(Value::Null, |p| p[referenced].clone());
                    fk_values.insert(column.clone(), value);
                }
            }
            let mut generated: BTreeMap<String, Value> = BTreeMap::new();
            for column in &table.columns {
                let value = match fk_values.get(&column.name) {
                    Some(value) => value.clone(),
                    None => samples.value(table, column, row),
                };
                generated.insert(column.name.clone(), value);
            }
            let body: Map<String, Value> = table
                .columns
                .iter()
                .filter(|c| {
                    let minimal = row == 0;
                    if minimal {
                        required.contains(&c.name)
                    } else {
                        table.is_documented() && !read_only.contains(&c.name)
                    }
                })
                .map(|c| (c.name.clone(), generated[&c.name].clone()))
                .collect();
            let fill = |c: &Column| generated[&c.name].clone();
            let (body, stored) = insert_like_postgrest(&db, table, &body, &fill).await;
            inserted.entry(table.name.clone()).or_default().push(stored);
            if table.is_documented() {
                to_validate
                    .entry(format!("{name}Insert"))
                    .or_default()
                    .push(Value::Object(body));
            }
        }
    }

    // Read every row back as PostgREST would serialise it.
    let mut vectors_seen = 0;
    for table in realized.tables.values().filter(|t| t.is_documented()) {
        let sql = format!(
            "SELECT row_to_json(t)::text FROM public.{} AS t",
            quote_identifier(&table.name)
        );
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_all(db.pool())
            .await
            .unwrap_or_else(|e| panic!("reading {} failed: {}", table.name, describe_error(&e)));
        assert_eq!(rows.len(), ROWS_PER_TABLE, "rows of {}", table.name);
        let rows: Vec<Value> = rows
            .iter()
            .map(|r| serde_json::from_str(r).expect("row_to_json returns JSON"))
            .collect();
        // pgvector has no JSON cast, so a vector comes back as its text: the
        // row schema says so with contentSchema, which validators treat as
        // an annotation; its content is checked here.
        for column in &table.columns {
            let PgType::Vector(dimensions) = column.ty else {
                continue;
            };
            for row in &rows {
                let Some(text) = row[&column.name].as_str() else {
                    continue;
                };
                let numbers: Vec<f64> = serde_json::from_str(text).unwrap_or_else(|e| {
                    panic!(
                        "{}.{} is not a JSON array of numbers: {e}",
                        table.name, column.name
                    )
                });
                assert_eq!(numbers.len(), dimensions.unwrap_or(3) as usize);
                vectors_seen += 1;
            }
        }
        to_validate.insert(pascal(&table.name), rows);
    }
    assert!(vectors_seen > 0, "no vector was read back");
    assert_eq!(
        to_validate.len(),
        80,
        "a row and an insert schema for each of 40 tables"
    );

    let rows_path = dir.path().join("rows.json");
    std::fs::write(
        &rows_path,
        Value::Object(
            to_validate
                .clone()
                .into_iter()
                .map(|(k, v)| (k, Value::Array(v)))
                .collect(),
        )
        .to_string(),
    )
    .expect("rows are written");
    let verdict = validate(&spec, Some(&rows_path));
    assert!(
        verdict.valid,
        "rows do not match their schemas:\n{}",
        verdict.report
    );
    let ok_lines = verdict
        .report
        .lines()
        .filter(|l| l.starts_with("ok "))
        .count();
    assert_eq!(ok_lines, 80 * ROWS_PER_TABLE, "{}", verdict.report);

    // The check can fail: a number where the row has a uuid, a string where
    // it has a decimal, and an insert body missing a required column.
    let mut wrong_row = to_validate["Properties"][1].clone();
    wrong_row["id"] = json!(42);
    wrong_row["price"] = json!("cheap");
    let mut incomplete = to_validate["PropertiesInsert"][0]
        .as_object()
        .expect("a body")
        .clone();
    let dropped = component(&document, "PropertiesInsert")["required"][0]
        .as_str()
        .expect("properties has a required column")
        .to_owned();
    incomplete.remove(&dropped);
    let wrong = json!({"Properties": [wrong_row], "PropertiesInsert": [incomplete]});
    std::fs::write(&rows_path, wrong.to_string()).expect("rows are written");
    let verdict = validate(&spec, Some(&rows_path));
    assert!(
        !verdict.valid,
        "wrong rows were accepted:\n{}",
        verdict.report
    );
    let report = &verdict.report;
    assert!(
        report.contains("invalid Properties 0: id: 42 is not of type 'string'"),
        "{report}"
    );
    assert!(
        report.contains("price: 'cheap' is not of type 'number'"),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "invalid PropertiesInsert 0: <row>: '{dropped}' is a required property"
        )),
        "{report}"
    );
}

/// The key a table's rows are kept under: its name, or `schema.table` for
/// a table outside `public`.
fn target_key(reference: &TableRef) -> String {
    if reference.is_external() {
        reference.to_string()
    } else {
        reference.table.clone()
    }
}
