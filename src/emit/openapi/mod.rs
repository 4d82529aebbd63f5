//! `openapi/openapi.yaml` and `openapi/openapi.json`: an OpenAPI 3.1
//! description of the schema's REST surface. Supabase serves every table
//! through PostgREST, whose own description is Swagger 2.0, requires every
//! NOT NULL column on insert even when the database fills it, and leaves
//! jsonb untyped. This one is built from the realised schema instead, so
//! defaults, CHECK enums, documented JSON structures and RLS policies are
//! those of the database the migrations create. The application's own
//! routes (`/api/...`), which the model does not hold, come from
//! [`routes::api_routes`] and are passed in beside the emit context.
//!
//! The document is assembled as `serde_json` values, whose maps are sorted,
//! under a top-level struct that keeps OpenAPI's conventional key order, so
//! the same documents always give the same bytes.

mod paths;
pub mod routes;
mod schemas;

use super::{EmitContext, EmitError, OutputFile};
use crate::model::physical::realize;
use routes::{ApiRoute, ResponseEnvelope};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Where the YAML rendering is written, relative to the output directory.
pub const YAML_PATH: &str = "openapi/openapi.yaml";
/// Where the JSON rendering (the same document) is written.
pub const JSON_PATH: &str = "openapi/openapi.json";
/// The OpenAPI version the document declares.
pub const OPENAPI_VERSION: &str = "3.1.0";

/// Everything the OpenAPI emitter reads: the emit context (schema and
/// options) and what the documents say about the application's routes.
pub struct OpenApiInput<'a> {
    pub context: &'a EmitContext<'a>,
    /// From [`routes::api_routes`]; empty for a tables-only description.
    pub routes: &'a [ApiRoute],
    /// From [`routes::response_envelope`]; without it application routes
    /// are described without response bodies.
    pub envelope: Option<&'a ResponseEnvelope>,
}

/// The OpenAPI document. Fields are in the order readers expect; everything
/// below them is a sorted `serde_json` map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Document {
    pub openapi: &'static str,
    pub info: Value,
    pub servers: Value,
    pub security: Value,
    pub tags: Value,
    pub paths: Value,
    pub components: Value,
}

/// The tables' REST surface alone, for callers that have no source files.
pub fn emit(context: &EmitContext<'_>) -> Result<Vec<OutputFile>, EmitError> {
    emit_with_routes(&OpenApiInput {
        context,
        routes: &[],
        envelope: None,
    })
}

/// The full description: tables and the documented application routes.
pub fn emit_with_routes(input: &OpenApiInput<'_>) -> Result<Vec<OutputFile>, EmitError> {
    let document = document(input)?;
    let serialize_error = |what: &str, message: String| EmitError::Serialize {
        what: what.to_owned(),
        message,
    };
    let mut json_text = serde_json::to_string_pretty(&document)
        .map_err(|e| serialize_error("the OpenAPI document as JSON", e.to_string()))?;
    json_text.push('\n');
    let yaml_text = super::yaml::to_string(&document)
        .map_err(|e| serialize_error("the OpenAPI document as YAML", e.to_string()))?;
    Ok(vec![
        OutputFile::new(JSON_PATH, json_text),
        OutputFile::new(YAML_PATH, yaml_text),
    ])
}

/// Builds the document. Fails only when two things would share a component
/// name (a table called `api_success` against the documented envelope).
pub fn document(input: &OpenApiInput<'_>) -> Result<Document, EmitError> {
    let documented = input.context.schema;
    let (realized, _) = realize(documented, &input.context.options.realize);
    // Stub tables exist in the database but their columns are placeholders
    // for undocumented tables; only documented tables are described.
    let tables: Vec<&crate::model::Table> = realized
        .tables
        .values()
        .filter(|t| t.is_documented())
        .collect();

    let mut components = Components::default();
    let mut ids = paths::OperationIds::default();
    let mut all_paths: BTreeMap<String, Value> = BTreeMap::new();
    let mut tags: BTreeMap<String, Value> = BTreeMap::new();

    for table in &tables {
        let names = schemas::component_names(&table.name);
        let built = schemas::table_schemas(table, documented);
        for (name, schema) in names
            .into_iter()
            .zip([built.row, built.insert, built.update])
        {
            components.add_schema(name, schema, &table.name)?;
        }
        components
            .parameters
            .extend(paths::filter_parameters(table));
        let (path, item) = paths::rest_path(table, &mut ids);
        all_paths.insert(path, item);
        let tag = paths::module_tag(table);
        tags.entry(tag.clone()).or_insert_with(|| {
            json!({
                "name": tag,
                "description": format!("Tables of the `{tag}` module, served by PostgREST under `/rest/v1`."),
            })
        });
    }

    let envelope = input.envelope;
    let success = envelope.and_then(|e| e.success.as_ref());
    let error = envelope.and_then(|e| e.error.as_ref());
    if let Some(example) = success {
        let schema = schemas::example_schema(
            &example.example,
            error.map(|e| &e.example),
            "The documented envelope of a successful application API response.",
            &example.source,
        );
        components.add_schema("ApiSuccess".to_owned(), schema, "the response envelope")?;
    }
    if let Some(example) = error {
        let schema = schemas::example_schema(
            &example.example,
            success.map(|e| &e.example),
            "The documented envelope of a failed application API response.",
            &example.source,
        );
        components.add_schema("ApiError".to_owned(), schema, "the response envelope")?;
    }
    components.add_schema(
        "PostgrestError".to_owned(),
        paths::postgrest_error_schema(),
        "PostgREST's error",
    )?;

    let table_names: BTreeSet<String> = tables.iter().map(|t| t.name.clone()).collect();
    let app = paths::AppContext {
        routes: input.routes,
        has_success: success.is_some(),
        has_error: error.is_some(),
        tables: &table_names,
    };
    let (app_paths, app_tags) = paths::app_paths(&app, &mut ids);
    for (path, item) in app_paths {
        if all_paths.insert(path.clone(), item).is_some() {
            return Err(EmitError::Serialize {
                what: format!("OpenAPI path `{path}`"),
                message: "a documented route has the same path as a table's REST path".to_owned(),
            });
        }
    }
    for (name, tag) in app_tags {
        tags.entry(name).or_insert(tag);
    }

    Ok(Document {
        openapi: OPENAPI_VERSION,
        info: info(&tables),
        servers: json!([{
            "url": "https://{project_ref}.supabase.co",
            "description": "The Supabase project: PostgREST under /rest/v1.",
            "variables": {"project_ref": {
                "default": "your-project-ref",
                "description": "The project's reference, as in its dashboard URL.",
            }},
        }]),
        security: json!([{"apikey": [], "bearer": []}]),
        tags: Value::Array(tags.into_values().collect()),
        paths: Value::Object(all_paths.into_iter().collect()),
        components: components.into_value(),
    })
}

/// Title, version and where the description came from.
fn info(tables: &[&crate::model::Table]) -> Value {
    let files: BTreeSet<&str> = tables.iter().map(|t| t.source.file.as_str()).collect();
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
struct Components {
    schemas: BTreeMap<String, Value>,
    /// What each schema name was made for, to explain a clash.
    owners: BTreeMap<String, String>,
    parameters: BTreeMap<String, Value>,
}

impl Components {
    fn add_schema(&mut self, name: String, schema: Value, owner: &str) -> Result<(), EmitError> {
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

    fn into_value(self) -> Value {
        let mut parameters = paths::shared_parameters();
        parameters.extend(self.parameters);
        let mut out = Map::new();
        out.insert("schemas".into(), json!(self.schemas));
        out.insert("parameters".into(), json!(parameters));
        out.insert("headers".into(), json!(paths::shared_headers()));
        out.insert("responses".into(), json!(paths::shared_responses()));
        out.insert(
            "securitySchemes".into(),
            json!({
                "apikey": {
                    "type": "apiKey", "in": "header", "name": "apikey",
                    "description": "The project's anon or service_role key.",
                },
                "bearer": {
                    "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                    "description": "A Supabase Auth access token; PostgREST applies RLS as its role.",
                },
            }),
        );
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Target;
    use crate::emit::{EmitOptions, Templates};
    use crate::model::physical::RealizeOptions;
    use crate::source::SourceFile;
    use crate::{LoadOptions, build_schema};

    const DOC: &str = "## Widgets\n\n```sql\nCREATE TABLE widgets (\n  id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),\n  name VARCHAR(80) NOT NULL,\n  price DECIMAL(10,2),\n  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()\n);\n```\n\n### API Response Format\n\n**Success:**\n```json\n{\"success\": true, \"data\": { ... }, \"meta\": {\"timestamp\": \"2025-11-08T12:00:00Z\", \"request_id\": \"uuid\"}}\n```\n\n**Error:**\n```json\n{\"success\": false, \"error\": {\"code\": \"INVALID_INPUT\", \"message\": \"Bad\", \"details\": { ... }}}\n```\n\n```\napp/api/shop/\n└── orders/\n    └── route.ts     # CRUD for orders\n```\n\n```\n│  ├── /api/auth/* (Authentication)   │\n```\n";

    fn generate(text: &str) -> (Value, Vec<OutputFile>) {
        let (file, _) = SourceFile::decode("doc.md", text.as_bytes());
        let files = [file];
        let (schema, _) = build_schema(&files, &LoadOptions::default());
        let options = EmitOptions {
            target: Target::Supabase,
            realize: RealizeOptions::default(),
        };
        let templates = Templates::load(None).expect("embedded templates load");
        let context = EmitContext {
            schema: &schema,
            options: &options,
            templates: &templates,
        };
        let routes = routes::api_routes(&files);
        let envelope = routes::response_envelope(&files);
        let input = OpenApiInput {
            context: &context,
            routes: &routes,
            envelope: envelope.as_ref(),
        };
        let document =
            serde_json::to_value(document(&input).expect("a document")).expect("serialisable");
        (document, emit_with_routes(&input).expect("files"))
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
        let yaml: Value = serde_yaml::from_str(&first[1].contents).expect("YAML parses");
        assert_eq!(json, yaml);
        assert!(first[1].contents.starts_with("openapi: 3.1.0\n"));
    }

    #[test]
    fn a_table_named_like_the_envelope_is_refused() {
        let clash = DOC.replace("CREATE TABLE widgets", "CREATE TABLE api_success");
        let (file, _) = SourceFile::decode("doc.md", clash.as_bytes());
        let files = [file];
        let (schema, _) = build_schema(&files, &LoadOptions::default());
        let options = EmitOptions {
            target: Target::Supabase,
            realize: RealizeOptions::default(),
        };
        let templates = Templates::load(None).expect("embedded templates load");
        let context = EmitContext {
            schema: &schema,
            options: &options,
            templates: &templates,
        };
        let envelope = routes::response_envelope(&files);
        let input = OpenApiInput {
            context: &context,
            routes: &[],
            envelope: envelope.as_ref(),
        };
        let error = document(&input).expect_err("a clash");
        assert!(error.to_string().contains("ApiSuccess"), "{error}");
    }
}
