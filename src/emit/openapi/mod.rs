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
//! under a top level that keeps OpenAPI's conventional key order, so the
//! same documents always give the same bytes. What there is one of per
//! table (path items, schemas, filter parameters) is built only when it is
//! written, and written to the JSON and the YAML file at once, so that the
//! description of ten thousand tables (hundreds of megabytes) is never in
//! memory whole.

mod paths;
pub mod routes;
mod schemas;

use super::yaml::YamlWriter;
use super::{EmitContext, EmitError, OutputFile, OutputSink};
use crate::model::{Column, Schema, Table};
use routes::{ApiRoute, ResponseEnvelope};
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

    /// Writes the JSON and the YAML rendering at once, building each
    /// per-table part once.
    pub fn write(&self, json: &mut dyn Write, yaml: &mut dyn Write) -> Result<(), EmitError> {
        let mut json = JsonWriter::new(json);
        let mut yaml = YamlWriter::new(yaml);
        self.write_node(&self.root, &mut json, &mut yaml)?;
        json.buffer.push(b'\n');
        json.flush()?;
        yaml.finish().map_err(yaml_error)
    }

    fn write_node(
        &self,
        node: &Node<'a>,
        json: &mut JsonWriter<'_>,
        yaml: &mut YamlWriter<&mut dyn Write>,
    ) -> Result<(), EmitError> {
        match node {
            Node::Value(value) => {
                json.value(value)?;
                yaml.value(value).map_err(yaml_error)
            }
            Node::Object(members) => {
                json.begin_object();
                yaml.begin_map().map_err(yaml_error)?;
                for (key, member) in members {
                    json.key(key)?;
                    yaml.key(key).map_err(yaml_error)?;
                    self.write_node(member, json, yaml)?;
                }
                json.end_object();
                yaml.end_map().map_err(yaml_error)
            }
            Node::Lazy(members) => {
                json.begin_object();
                yaml.begin_map().map_err(yaml_error)?;
                for (key, member) in members {
                    let value = self.build(member);
                    json.key(key)?;
                    json.value(&value)?;
                    yaml.key(key).map_err(yaml_error)?;
                    yaml.value(&value).map_err(yaml_error)?;
                }
                json.end_object();
                yaml.end_map().map_err(yaml_error)
            }
        }
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

/// `serde_json::to_writer_pretty`, one member at a time: objects are opened
/// and closed here, and values are written by serde_json with the
/// indentation of their depth. serde_json writes in many small pieces, so
/// they are gathered here and handed to the writer in large ones.
struct JsonWriter<'w> {
    out: &'w mut dyn Write,
    buffer: Vec<u8>,
    depth: usize,
    /// For each open object, whether a member was written.
    has_value: Vec<bool>,
}

impl<'w> JsonWriter<'w> {
    fn new(out: &'w mut dyn Write) -> Self {
        JsonWriter {
            out,
            buffer: Vec::with_capacity(1 << 17),
            depth: 0,
            has_value: Vec::new(),
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.buffer.extend_from_slice(b"  ");
        }
    }

    fn begin_object(&mut self) {
        self.buffer.push(b'{');
        self.depth += 1;
        self.has_value.push(false);
    }

    fn key(&mut self, key: &str) -> Result<(), EmitError> {
        let separator: &[u8] = match self.has_value.last_mut() {
            Some(has_value) if *has_value => b",\n",
            Some(has_value) => {
                *has_value = true;
                b"\n"
            }
            None => b"",
        };
        self.buffer.extend_from_slice(separator);
        self.indent();
        serde_json::to_writer(&mut self.buffer, key).map_err(json_error)?;
        self.buffer.extend_from_slice(b": ");
        Ok(())
    }

    fn value(&mut self, value: &Value) -> Result<(), EmitError> {
        let mut serializer = serde_json::Serializer::with_formatter(
            &mut self.buffer,
            IndentedPretty::at(self.depth),
        );
        value.serialize(&mut serializer).map_err(json_error)?;
        if self.buffer.len() >= 1 << 16 {
            self.flush()?;
        }
        Ok(())
    }

    fn end_object(&mut self) {
        self.depth -= 1;
        if self.has_value.pop() == Some(true) {
            self.buffer.push(b'\n');
            self.indent();
        }
        self.buffer.push(b'}');
    }

    fn flush(&mut self) -> Result<(), EmitError> {
        self.out.write_all(&self.buffer).map_err(json_error)?;
        self.buffer.clear();
        Ok(())
    }
}

/// serde_json's `PrettyFormatter` (two spaces), starting `depth` levels in.
struct IndentedPretty {
    current_indent: usize,
    has_value: bool,
}

impl IndentedPretty {
    fn at(depth: usize) -> Self {
        IndentedPretty {
            current_indent: depth,
            has_value: false,
        }
    }

    fn indent<W: ?Sized + Write>(&self, writer: &mut W) -> std::io::Result<()> {
        for _ in 0..self.current_indent {
            writer.write_all(b"  ")?;
        }
        Ok(())
    }

    fn open<W: ?Sized + Write>(&mut self, writer: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.current_indent += 1;
        self.has_value = false;
        writer.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, writer: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.current_indent -= 1;
        if self.has_value {
            writer.write_all(b"\n")?;
            self.indent(writer)?;
        }
        writer.write_all(bracket)
    }

    fn item<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> std::io::Result<()> {
        writer.write_all(if first { b"\n" } else { b",\n" })?;
        self.indent(writer)
    }
}

impl serde_json::ser::Formatter for IndentedPretty {
    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.open(writer, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.close(writer, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.open(writer, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.close(writer, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(writer, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
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
    let mut files = Vec::new();
    emit_into(input, &mut files)?;
    Ok(files)
}

/// The full description, streamed into the sink: `openapi.json` and
/// `openapi.yaml` are written together.
pub fn emit_into(input: &OpenApiInput<'_>, sink: &mut dyn OutputSink) -> Result<(), EmitError> {
    let document = document(input)?;
    sink.stream(&[JSON_PATH, YAML_PATH], &mut |writers| match writers {
        [json, yaml] => document.write(*json, *yaml),
        _ => unreachable!("the sink gives one writer per path"),
    })
}

/// Builds the document. Fails only when two things would share a component
/// name (a table called `api_success` against the documented envelope).
pub fn document<'a>(input: &OpenApiInput<'a>) -> Result<Document<'a>, EmitError> {
    let documented = input.context.schema;
    let realized = input.context.realized();
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
        routes: input.routes,
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
        let context = EmitContext::new(&schema, &options, &templates);
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
        let context = EmitContext::new(&schema, &options, &templates);
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
