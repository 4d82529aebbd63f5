//! `openapi/openapi.yaml` and `openapi/openapi.json`: an OpenAPI 3.1
//! description of the schema's REST surface. Supabase serves every table
//! through PostgREST, whose own description is Swagger 2.0, requires every
//! NOT NULL column on insert even when the database fills it, and leaves
//! jsonb untyped. This one is built from the realised schema instead, so
//! defaults, CHECK enums, documented JSON structures and RLS policies are
//! those of the database the migrations create. The application's own
//! routes (`/api/...`), which the model does not hold, come from the
//! project, which read them from the documents (`source::routes`).
//!
//! The document is assembled as `serde_json` values, whose maps are sorted,
//! under a top level that keeps OpenAPI's conventional key order, so the
//! same documents always give the same bytes. What there is one of per
//! table (path items, schemas, filter parameters) is built only when it is
//! written, once for the JSON file and once for the YAML file (written by
//! serde-saphyr, which streams), so that the description of ten thousand
//! tables (hundreds of megabytes) is never in memory whole.

mod paths;
mod schemas;

use super::{EmitContext, EmitError, OutputSink};
use crate::model::{Column, Schema, Table};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Value, json};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;

/// Where the YAML rendering is written, relative to the output directory.
pub const YAML_PATH: &str = "openapi/openapi.yaml";
/// Where the JSON rendering (the same document) is written.
pub const JSON_PATH: &str = "openapi/openapi.json";
/// The OpenAPI version the document declares.
pub const OPENAPI_VERSION: &str = "3.1.0";

/// The OpenAPI document, ready to be written. Serialising it (or
/// [`Document::write`]) builds the per-table parts as it goes.
pub struct Document<'a> {
    root: Node<'a>,
    /// The documented model, whose field glossary describes columns.
    documented: &'a Schema,
    /// A table's three schemas are built together; those not written yet
    /// wait here (component names of different tables can interleave).
    pending_schemas: RefCell<HashMap<&'a str, [Option<Value>; 3]>>,
}

impl std::fmt::Debug for Document<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document").finish_non_exhaustive()
    }
}

/// A part of the document: built, an object of parts in the given order,
/// or an object whose members are built when written.
enum Node<'a> {
    Value(Value),
    Object(Vec<(&'static str, Node<'a>)>),
    Lazy(BTreeMap<String, Member<'a>>),
}

/// A member of a lazily built object.
enum Member<'a> {
    Value(Value),
    /// `/rest/v1/<table>`, with its operation ids.
    TablePath(&'a Table, paths::RestIds),
    /// The row (0), insert (1) or update (2) schema of a table.
    TableSchema(&'a Table, usize),
    /// The filter parameter of a column.
    Filter(&'a Column),
}

impl<'a> Document<'a> {
    fn build(&self, member: &Member<'a>) -> Value {
        match member {
            Member::Value(value) => value.clone(),
            Member::TablePath(table, ids) => paths::rest_path_item(table, ids.clone()),
            Member::Filter(column) => paths::filter_parameter(column),
            Member::TableSchema(table, which) => {
                let mut pending = self.pending_schemas.borrow_mut();
                let built = pending.entry(table.name.as_str()).or_insert_with(|| {
                    let built = schemas::table_schemas(table, self.documented);
                    [Some(built.row), Some(built.insert), Some(built.update)]
                });
                let value = built[*which].take().unwrap_or(Value::Null);
                if built.iter().all(Option::is_none) {
                    pending.remove(table.name.as_str());
                }
                value
            }
        }
    }

    /// Writes the JSON and then the YAML rendering, building each
    /// per-table part once per rendering and dropping it once written, so
    /// that the whole document is never in memory.
    pub fn write(&self, json: &mut dyn Write, yaml: &mut dyn Write) -> Result<(), EmitError> {
        // The sink buffers its writers, so serde's small writes go to them
        // directly.
        serde_json::to_writer_pretty(&mut *json, self).map_err(json_error)?;
        json.write_all(b"\n").map_err(json_error)?;
        serde_saphyr::to_io_writer(&mut &mut *yaml, self).map_err(yaml_error)
    }
}

fn json_error(error: impl std::fmt::Display) -> EmitError {
    EmitError::Serialize {
        what: "the OpenAPI document as JSON".to_owned(),
        message: error.to_string(),
    }
}

fn yaml_error(error: impl std::fmt::Display) -> EmitError {
    EmitError::Serialize {
        what: "the OpenAPI document as YAML".to_owned(),
        message: error.to_string(),
    }
}

/// A part of the document as serde sees it, building lazy members.
struct NodeRef<'d, 'a> {
    document: &'d Document<'a>,
    node: &'d Node<'a>,
}

impl Serialize for NodeRef<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.node {
            Node::Value(value) => value.serialize(serializer),
            Node::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (key, member) in members {
                    map.serialize_entry(
                        key,
                        &NodeRef {
                            document: self.document,
                            node: member,
                        },
                    )?;
                }
                map.end()
            }
            Node::Lazy(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (key, member) in members {
                    map.serialize_entry(key, &self.document.build(member))?;
                }
                map.end()
            }
        }
    }
}

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        NodeRef {
            document: self,
            node: &self.root,
        }
        .serialize(serializer)
    }
}

/// The full description, streamed into the sink: `openapi.json` and
/// `openapi.yaml` are written together.
pub fn emit(context: &EmitContext<'_>, sink: &mut dyn OutputSink) -> Result<(), EmitError> {
    let document = document(context)?;
    sink.stream(&[JSON_PATH, YAML_PATH], &mut |writers| match writers {
        [json, yaml] => document.write(*json, *yaml),
        _ => unreachable!("the sink gives one writer per path"),
    })
}

/// Builds the document. Fails only when two things would share a component
/// name (a table called `api_success` against the documented envelope).
pub fn document<'a>(context: &EmitContext<'a>) -> Result<Document<'a>, EmitError> {
    let documented = context.documented();
    let realized = context.realized();
    // Stub tables exist in the database but their columns are placeholders
    // for undocumented tables; only documented tables are described.
    let tables: Vec<&Table> = realized
        .tables
        .values()
        .filter(|t| t.is_documented())
        .collect();

    let mut components = Components::default();
    let mut ids = paths::OperationIds::default();
    let mut all_paths: BTreeMap<String, Member<'a>> = BTreeMap::new();
    let mut tags: BTreeMap<String, Value> = BTreeMap::new();

    for table in &tables {
        let names = schemas::component_names(&table.name);
        for (which, name) in names.into_iter().enumerate() {
            components.add_schema(name, Member::TableSchema(table, which), &table.name)?;
        }
        for (name, column) in paths::filter_parameter_names(table) {
            components.parameters.insert(name, Member::Filter(column));
        }
        let (path, operation_ids) = paths::rest_path_ids(table, &mut ids);
        all_paths.insert(path, Member::TablePath(table, operation_ids));
        let tag = paths::module_tag(table);
        tags.entry(tag.clone()).or_insert_with(|| {
            json!({
                "name": tag,
                "description": format!("Tables of the `{tag}` module, served by PostgREST under `/rest/v1`."),
            })
        });
    }

    let envelope = context.project.envelope();
    let success = envelope.and_then(|e| e.success.as_ref());
    let error = envelope.and_then(|e| e.error.as_ref());
    if let Some(example) = success {
        let schema = schemas::example_schema(
            &example.example,
            error.map(|e| &e.example),
            "The documented envelope of a successful application API response.",
            &example.source,
        );
        components.add_schema(
            "ApiSuccess".to_owned(),
            Member::Value(schema),
            "the response envelope",
        )?;
    }
    if let Some(example) = error {
        let schema = schemas::example_schema(
            &example.example,
            success.map(|e| &e.example),
            "The documented envelope of a failed application API response.",
            &example.source,
        );
        components.add_schema(
            "ApiError".to_owned(),
            Member::Value(schema),
            "the response envelope",
        )?;
    }
    components.add_schema(
        "PostgrestError".to_owned(),
        Member::Value(paths::postgrest_error_schema()),
        "PostgREST's error",
    )?;

    let table_names: BTreeSet<String> = tables.iter().map(|t| t.name.clone()).collect();
    let app = paths::AppContext {
        routes: context.project.routes(),
        has_success: success.is_some(),
        has_error: error.is_some(),
        tables: &table_names,
    };
    let (app_paths, app_tags) = paths::app_paths(&app, &mut ids);
    for (path, item) in app_paths {
        if all_paths
            .insert(path.clone(), Member::Value(item))
            .is_some()
        {
            return Err(EmitError::Serialize {
                what: format!("OpenAPI path `{path}`"),
                message: "a documented route has the same path as a table's REST path".to_owned(),
            });
        }
    }
    for (name, tag) in app_tags {
        tags.entry(name).or_insert(tag);
    }

    let root = Node::Object(vec![
        ("openapi", Node::Value(json!(OPENAPI_VERSION))),
        ("info", Node::Value(info(&tables))),
        (
            "servers",
            Node::Value(json!([{
                "url": "https://{project_ref}.supabase.co",
                "description": "The Supabase project: PostgREST under /rest/v1.",
                "variables": {"project_ref": {
                    "default": "your-project-ref",
                    "description": "The project's reference, as in its dashboard URL.",
                }},
            }])),
        ),
        (
            "security",
            Node::Value(json!([{"apikey": [], "bearer": []}])),
        ),
        (
            "tags",
            Node::Value(Value::Array(tags.into_values().collect())),
        ),
        ("paths", Node::Lazy(all_paths)),
        ("components", components.into_node()),
    ]);
    Ok(Document {
        root,
        documented,
        pending_schemas: RefCell::new(HashMap::new()),
    })
}

/// Title, version and where the description came from.
fn info(tables: &[&Table]) -> Value {
    let files: BTreeSet<&str> = tables.iter().map(|t| &*t.source.file).collect();
    let files: Vec<String> = files.iter().map(|f| format!("`{f}`")).collect();
    json!({
        "title": "Database REST API",
        "version": env!("CARGO_PKG_VERSION"),
        "description": format!(
            "The REST surface of the documented schema: PostgREST's `/rest/v1/<table>` for each of the {} documented tables, and the application's documented `/api` routes. Generated by `gen openapi` from {}; change the documents, not this file.",
            tables.len(),
            files.join(", ")
        ),
    })
}

/// The `components` object under construction.
#[derive(Default)]
struct Components<'a> {
    schemas: BTreeMap<String, Member<'a>>,
    /// What each schema name was made for, to explain a clash.
    owners: BTreeMap<String, String>,
    /// Filter parameters; a later one of the same name replaces an earlier.
    parameters: BTreeMap<String, Member<'a>>,
}

impl<'a> Components<'a> {
    fn add_schema(
        &mut self,
        name: String,
        schema: Member<'a>,
        owner: &str,
    ) -> Result<(), EmitError> {
        if let Some(previous) = self.owners.get(&name) {
            return Err(EmitError::Serialize {
                what: format!("OpenAPI schema `{name}`"),
                message: format!("both {previous} and {owner} would use this name"),
            });
        }
        self.owners.insert(name.clone(), owner.to_owned());
        self.schemas.insert(name, schema);
        Ok(())
    }

    /// The members in sorted order, as a `serde_json` map would hold them.
    fn into_node(self) -> Node<'a> {
        let mut parameters: BTreeMap<String, Member<'a>> = paths::shared_parameters()
            .into_iter()
            .map(|(name, value)| (name, Member::Value(value)))
            .collect();
        parameters.extend(self.parameters);
        Node::Object(vec![
            ("headers", Node::Value(json!(paths::shared_headers()))),
            ("parameters", Node::Lazy(parameters)),
            ("responses", Node::Value(json!(paths::shared_responses()))),
            ("schemas", Node::Lazy(self.schemas)),
            (
                "securitySchemes",
                Node::Value(json!({
                    "apikey": {
                        "type": "apiKey", "in": "header", "name": "apikey",
                        "description": "The project's anon or service_role key.",
                    },
                    "bearer": {
                        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                        "description": "A Supabase Auth access token; PostgREST applies RLS as its role.",
                    },
                })),
            ),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::{Emitter, OutputFile, Templates};
    use crate::project::Project;

    const DOC: &str = "## Widgets\n\n```sql\nCREATE TABLE widgets (\n  id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),\n  name VARCHAR(80) NOT NULL,\n  price DECIMAL(10,2),\n  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()\n);\n```\n\n### API Response Format\n\n**Success:**\n```json\n{\"success\": true, \"data\": { ... }, \"meta\": {\"timestamp\": \"2025-11-08T12:00:00Z\", \"request_id\": \"uuid\"}}\n```\n\n**Error:**\n```json\n{\"success\": false, \"error\": {\"code\": \"INVALID_INPUT\", \"message\": \"Bad\", \"details\": { ... }}}\n```\n\n```\napp/api/shop/\n└── orders/\n    └── route.ts     # CRUD for orders\n```\n\n```\n│  ├── /api/auth/* (Authentication)   │\n```\n";

    fn generate(text: &str) -> (Value, Vec<OutputFile>) {
        let project = Project::from_text("doc.md", text, &Default::default());
        let templates = Templates::load(None).expect("embedded templates load");
        let context = EmitContext::new(&project, &templates);
        let document =
            serde_json::to_value(document(&context).expect("a document")).expect("serialisable");
        (document, Emitter::OpenApi.render(&context).expect("files"))
    }

    #[test]
    fn describes_tables_routes_and_the_envelope() {
        let (doc, _) = generate(DOC);
        assert_eq!(doc["openapi"], "3.1.0");
        let schemas = &doc["components"]["schemas"];
        for name in [
            "Widgets",
            "WidgetsInsert",
            "WidgetsUpdate",
            "ApiSuccess",
            "ApiError",
        ] {
            assert!(schemas.get(name).is_some(), "{name} missing");
        }
        assert_eq!(schemas["WidgetsInsert"]["required"], json!(["name"]));
        assert_eq!(schemas["Widgets"]["properties"]["price"]["x-precision"], 10);
        let rest = &doc["paths"]["/rest/v1/widgets"];
        assert_eq!(rest["get"]["operationId"], "get_rest_v1_widgets");
        assert_eq!(
            rest["post"]["responses"]["201"]["content"]["application/json"]["schema"]["items"]["$ref"],
            "#/components/schemas/Widgets"
        );
        let orders = &doc["paths"]["/api/shop/orders"];
        assert_eq!(orders["delete"]["operationId"], "delete_api_shop_orders");
        assert_eq!(
            orders["get"]["responses"]["default"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ApiError"
        );
        assert!(doc["paths"]["/api/auth/{path}"].get("get").is_none());
        let success = &schemas["ApiSuccess"];
        assert_eq!(success["properties"]["success"]["const"], true);
        assert_eq!(success["required"], json!(["meta", "success"]));
        assert_eq!(
            success["properties"]["meta"]["properties"]["timestamp"]["format"],
            "date-time"
        );
        assert_eq!(
            schemas["ApiError"]["properties"]["error"]["required"],
            json!(["code", "message"])
        );
    }

    #[test]
    fn json_and_yaml_hold_the_same_document_and_regenerate_identically() {
        let (_, first) = generate(DOC);
        let (_, second) = generate(DOC);
        assert_eq!(first, second);
        let json: Value = serde_json::from_str(&first[0].contents).expect("JSON parses");
        let yaml: Value = serde_saphyr::from_str(&first[1].contents).expect("YAML parses");
        assert_eq!(json, yaml);
        // The version is a string: quoted, so that no YAML reader takes it
        // for a number.
        assert!(first[1].contents.starts_with("openapi: \"3.1.0\"\n"));
    }

    #[test]
    fn a_table_named_like_the_envelope_is_refused() {
        let clash = DOC.replace("CREATE TABLE widgets", "CREATE TABLE api_success");
        let project = Project::from_text("doc.md", &clash, &Default::default());
        let templates = Templates::load(None).expect("embedded templates load");
        let context = EmitContext::new(&project, &templates);
        let error = document(&context).expect_err("a clash");
        assert!(error.to_string().contains("ApiSuccess"), "{error}");
    }
}
