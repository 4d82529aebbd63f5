//! Path items: one PostgREST path per table (`/rest/v1/<table>` with GET,
//! POST, PATCH and DELETE as Supabase serves them) and one path per
//! documented application route (`/api/...`, answered with the documented
//! `ApiSuccess`/`ApiError` envelopes). Shared parameters, headers and
//! responses live under `components` and are referenced, so a column filter
//! is written once and used by GET, PATCH and DELETE.

use super::schemas::component_names;
use crate::model::Table;
use crate::source::routes::{ApiRoute, HttpMethod, RouteKind};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// PostgREST's horizontal filter syntax: an operator (optionally negated,
/// optionally with a modifier such as `(any)` or `(english)`), a dot, then
/// the operand: `eq.5`, `not.is.null`, `in.(a,b)`, `fts(english).cat`.
pub(super) const FILTER_PATTERN: &str = r"^(not\.)?(eq|neq|gt|gte|lt|lte|like|ilike|match|imatch|in|is|isdistinct|fts|plfts|phfts|wfts|cs|cd|ov|sl|sr|nxr|nxl|adj)(\([a-z_]+\))?\..*$";

/// Query parameters PostgREST reserves; a column with one of these names
/// cannot be filtered by name, and a second parameter of the same name
/// would make the operation invalid.
const RESERVED_QUERY: &[&str] = &[
    "select",
    "order",
    "limit",
    "offset",
    "columns",
    "on_conflict",
    "and",
    "or",
    "not",
];

/// Preferences PostgREST honours, by kind of request.
const PREFER_READ: &[&str] = &["count=exact", "count=planned", "count=estimated"];
const PREFER_INSERT: &[&str] = &[
    "return=representation",
    "return=minimal",
    "return=headers-only",
    "resolution=merge-duplicates",
    "resolution=ignore-duplicates",
    "missing=default",
    "count=exact",
];
const PREFER_MODIFY: &[&str] = &[
    "return=representation",
    "return=minimal",
    "return=headers-only",
    "count=exact",
];

fn reference(kind: &str, name: &str) -> Value {
    json!({ "$ref": format!("#/components/{kind}/{name}") })
}

/// A `Prefer` header accepting the given preferences, comma-separated.
fn prefer_parameter(preferences: &[&str], description: &str) -> Value {
    let one = preferences
        .iter()
        .map(|p| p.replace('.', r"\."))
        .collect::<Vec<_>>()
        .join("|");
    json!({
        "name": "Prefer",
        "in": "header",
        "required": false,
        "description": description,
        "schema": {"type": "string", "pattern": format!(r"^({one})(\s*,\s*({one}))*$")},
        "example": preferences.first().copied().unwrap_or_default(),
    })
}

/// Parameters every table's operations share, by component name.
pub(super) fn shared_parameters() -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    out.insert(
        "select".to_owned(),
        json!({
            "name": "select", "in": "query", "required": false,
            "description": "Columns to return, comma-separated, with PostgREST's renaming, casting and embedding syntax; `*` for all.",
            "schema": {"type": "string"},
        }),
    );
    out.insert(
        "order".to_owned(),
        json!({
            "name": "order", "in": "query", "required": false,
            "description": "Ordering: `column.asc`, `column.desc.nullslast`, comma-separated.",
            "schema": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*(\.(asc|desc))?(\.(nullsfirst|nullslast))?(,[A-Za-z_][A-Za-z0-9_]*(\.(asc|desc))?(\.(nullsfirst|nullslast))?)*$"},
        }),
    );
    out.insert(
        "limit".to_owned(),
        json!({
            "name": "limit", "in": "query", "required": false,
            "description": "At most this many rows.",
            "schema": {"type": "integer", "minimum": 0},
        }),
    );
    out.insert(
        "offset".to_owned(),
        json!({
            "name": "offset", "in": "query", "required": false,
            "description": "Skip this many rows.",
            "schema": {"type": "integer", "minimum": 0},
        }),
    );
    out.insert(
        "columns".to_owned(),
        json!({
            "name": "columns", "in": "query", "required": false,
            "description": "The columns of the body to insert, comma-separated; others take their defaults.",
            "schema": {"type": "string"},
        }),
    );
    out.insert(
        "on_conflict".to_owned(),
        json!({
            "name": "on_conflict", "in": "query", "required": false,
            "description": "The unique columns an upsert (`Prefer: resolution=…`) resolves on.",
            "schema": {"type": "string"},
        }),
    );
    out.insert(
        "range".to_owned(),
        json!({
            "name": "Range", "in": "header", "required": false,
            "description": "Rows to return, zero-based and inclusive: `0-24`; open-ended `25-`.",
            "schema": {"type": "string", "pattern": r"^\d+-\d*$"},
        }),
    );
    out.insert(
        "rangeUnit".to_owned(),
        json!({
            "name": "Range-Unit", "in": "header", "required": false,
            "description": "The unit of `Range`; PostgREST counts items.",
            "schema": {"type": "string", "enum": ["items"]},
        }),
    );
    out.insert(
        "preferRead".to_owned(),
        prefer_parameter(
            PREFER_READ,
            "`count=exact|planned|estimated` adds the total to `Content-Range`.",
        ),
    );
    out.insert(
        "preferInsert".to_owned(),
        prefer_parameter(
            PREFER_INSERT,
            "`return=representation` answers 201 with the inserted rows; `resolution=merge-duplicates` upserts.",
        ),
    );
    out.insert(
        "preferModify".to_owned(),
        prefer_parameter(
            PREFER_MODIFY,
            "`return=representation` answers 200 with the affected rows; otherwise 204.",
        ),
    );
    out
}

/// Response headers, by component name.
pub(super) fn shared_headers() -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    out.insert(
        "ContentRange".to_owned(),
        json!({
            "description": "The rows returned and, when counted, the total: `0-24/3573`, `*/0`.",
            "schema": {"type": "string", "pattern": r"^(\d+-\d+|\*)/(\d+|\*)$"},
        }),
    );
    out
}

/// Responses shared by every table operation, by component name.
pub(super) fn shared_responses() -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    out.insert(
        "PostgrestError".to_owned(),
        json!({
            "description": "PostgREST's error: a PostgreSQL SQLSTATE or a PGRST code.",
            "content": {"application/json": {"schema": reference("schemas", "PostgrestError")}},
        }),
    );
    out
}

/// The error object PostgREST returns for a failed request.
pub(super) fn postgrest_error_schema() -> Value {
    json!({
        "type": "object",
        "description": "An error as PostgREST reports it.",
        "required": ["message"],
        "properties": {
            "code": {"type": "string", "description": "SQLSTATE (`23505`) or PostgREST code (`PGRST116`)."},
            "message": {"type": "string"},
            "details": {"type": ["string", "null"]},
            "hint": {"type": ["string", "null"]},
        },
    })
}

/// The component name of a column filter parameter.
fn filter_name(table: &str, column: &str) -> String {
    format!("rowFilter.{table}.{column}")
}

/// The filter parameter of one column.
pub(super) fn filter_parameter(column: &crate::model::Column) -> Value {
    json!({
        "name": column.name,
        "in": "query",
        "required": false,
        "description": format!(
            "Filter on `{}` ({}): an operator and a value, such as `eq.…`, `in.(…)`, `is.null`.",
            column.name, column.ty
        ),
        "schema": {"type": "string", "pattern": FILTER_PATTERN},
    })
}

/// The component names of a table's filter parameters, with their columns.
pub(super) fn filter_parameter_names(
    table: &Table,
) -> impl Iterator<Item = (String, &crate::model::Column)> {
    filterable_columns(table).map(|column| (filter_name(&table.name, &column.name), column))
}

fn filterable_columns(table: &Table) -> impl Iterator<Item = &crate::model::Column> {
    table
        .columns
        .iter()
        .filter(|c| !RESERVED_QUERY.contains(&c.name.as_str()))
}

/// Hands out operation ids, `{method}_{path}` in snake case; a clash (two
/// paths that differ only in punctuation) gets a numbered suffix, in the
/// sorted order the paths are built in, so ids stay stable.
#[derive(Default)]
pub(super) struct OperationIds {
    used: BTreeSet<String>,
}

impl OperationIds {
    pub(super) fn next(&mut self, method: HttpMethod, path: &str) -> String {
        let words: Vec<String> = path
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        let base = format!("{}_{}", method.as_openapi(), words.join("_"));
        let mut candidate = base.clone();
        let mut n = 1;
        while !self.used.insert(candidate.clone()) {
            n += 1;
            candidate = format!("{base}_{n}");
        }
        candidate
    }
}

/// The tag a table's operations carry: its module.
pub(super) fn module_tag(table: &Table) -> String {
    table.module.clone().unwrap_or_else(|| "tables".to_owned())
}

/// The operation ids of a table's REST path: GET, POST, PATCH, DELETE.
pub(super) type RestIds = [String; 4];

/// `/rest/v1/<table>` and its operation ids, handed out in the order the
/// operations are listed, so that a clash is numbered the same way
/// whenever the item itself is built.
pub(super) fn rest_path_ids(table: &Table, ids: &mut OperationIds) -> (String, RestIds) {
    let path = format!("/rest/v1/{}", table.name);
    let methods = [
        HttpMethod::Get,
        HttpMethod::Post,
        HttpMethod::Patch,
        HttpMethod::Delete,
    ];
    let operation_ids = methods.map(|method| ids.next(method, &path));
    (path, operation_ids)
}

/// The path item of `/rest/v1/<table>`, with ids from [`rest_path_ids`].
pub(super) fn rest_path_item(table: &Table, operation_ids: RestIds) -> Value {
    let [get_id, post_id, patch_id, delete_id] = operation_ids;
    let [row, insert, update] = component_names(&table.name);
    let tag = module_tag(table);
    let filters: Vec<Value> = filterable_columns(table)
        .map(|c| reference("parameters", &filter_name(&table.name, &c.name)))
        .collect();
    let rows = json!({"type": "array", "items": reference("schemas", &row)});
    let rows_content = json!({"application/json": {"schema": rows}});
    let error = reference("responses", "PostgrestError");
    let name = &table.name;

    let mut get_parameters: Vec<Value> = [
        "select",
        "order",
        "limit",
        "offset",
        "range",
        "rangeUnit",
        "preferRead",
    ]
    .iter()
    .map(|p| reference("parameters", p))
    .collect();
    get_parameters.extend(filters.iter().cloned());
    let content_range = json!({"Content-Range": reference("headers", "ContentRange")});
    let get = json!({
        "operationId": get_id,
        "tags": [tag],
        "summary": format!("Read rows of `{name}`"),
        "parameters": get_parameters,
        "responses": {
            "200": {"description": format!("Rows of `{name}`."), "headers": content_range, "content": rows_content},
            "206": {"description": format!("Partial content: the requested range of `{name}`."), "headers": content_range, "content": rows_content},
            "default": error,
        },
    });

    let post_parameters: Vec<Value> = ["select", "columns", "on_conflict", "preferInsert"]
        .iter()
        .map(|p| reference("parameters", p))
        .collect();
    let post = json!({
        "operationId": post_id,
        "tags": [tag],
        "summary": format!("Insert rows into `{name}`"),
        "parameters": post_parameters,
        "requestBody": {
            "required": true,
            "content": {"application/json": {"schema": {"oneOf": [
                reference("schemas", &insert),
                {"type": "array", "items": reference("schemas", &insert)},
            ]}}},
        },
        "responses": {
            "201": {"description": "Created; with `Prefer: return=representation` the body holds the inserted rows.", "content": rows_content},
            "default": error,
        },
    });

    let mut modify_parameters: Vec<Value> = ["select", "preferModify"]
        .iter()
        .map(|p| reference("parameters", p))
        .collect();
    modify_parameters.extend(filters);
    let modified = |verb: &str| {
        json!({
            "200": {"description": format!("{verb}; with `Prefer: return=representation` the body holds the rows."), "content": rows_content},
            "204": {"description": format!("{verb}; no body.")},
            "default": error,
        })
    };
    let patch = json!({
        "operationId": patch_id,
        "tags": [tag],
        "summary": format!("Update the rows of `{name}` that match the filters"),
        "parameters": modify_parameters,
        "requestBody": {
            "required": true,
            "content": {"application/json": {"schema": reference("schemas", &update)}},
        },
        "responses": modified("Updated"),
    });
    let delete = json!({
        "operationId": delete_id,
        "tags": [tag],
        "summary": format!("Delete the rows of `{name}` that match the filters"),
        "parameters": modify_parameters,
        "responses": modified("Deleted"),
    });

    let mut item = Map::new();
    if let Some(purpose) = &table.meta.purpose {
        item.insert("description".into(), json!(purpose));
    }
    item.insert("x-table".into(), json!(table.name));
    item.insert("x-source".into(), json!(table.source.to_string()));
    item.insert("get".into(), get);
    item.insert("post".into(), post);
    item.insert("patch".into(), patch);
    item.insert("delete".into(), delete);
    Value::Object(item)
}

/// The server application routes live on: the Next.js app, not Supabase.
pub(super) fn app_server() -> Value {
    json!({
        "url": "{scheme}://{host}",
        "description": "The Next.js application that serves the API routes.",
        "variables": {
            "scheme": {"enum": ["https", "http"], "default": "https"},
            "host": {"default": "localhost:3000", "description": "The application's host and port."},
        },
    })
}

/// `/api/javari/*` → `api/javari`: the tag of an area and of its routes.
fn area_tag(area_path: &str) -> String {
    area_path.trim_end_matches('*').trim_matches('/').to_owned()
}

/// The tag of an application route: its documented area when one covers
/// it, otherwise `api/<first segment>`.
pub(super) fn route_tag(route: &ApiRoute, areas: &[&ApiRoute]) -> String {
    let covering = areas
        .iter()
        .filter(|area| covers(&area.path, &route.path))
        .max_by_key(|area| area.path.len());
    match covering {
        Some(area) => area_tag(&area.path),
        None => {
            let segments: Vec<&str> = route
                .path
                .split('/')
                .filter(|s| !s.is_empty())
                .take(2)
                .collect();
            segments.join("/")
        }
    }
}

/// Whether an area such as `/api/properties/*` covers a path: the prefix
/// itself or anything below it.
fn covers(area: &str, path: &str) -> bool {
    let prefix = area.trim_end_matches('*').trim_end_matches('/');
    path == prefix || path.starts_with(&format!("{prefix}/"))
}

/// What the application route emitter knows besides the routes.
pub(super) struct AppContext<'a> {
    /// Every documented route and area, sorted by path.
    pub routes: &'a [ApiRoute],
    /// Whether `ApiSuccess` and `ApiError` exist as components.
    pub has_success: bool,
    pub has_error: bool,
    /// Tables with component schemas, for routes that insert into one.
    pub tables: &'a BTreeSet<String>,
}

/// The path items of the documented application routes, and the tags they
/// use. An area whose routes are undocumented becomes a path item with a
/// `{path}` parameter and no operations: visible, but not invented.
pub(super) fn app_paths(
    context: &AppContext<'_>,
    ids: &mut OperationIds,
) -> (BTreeMap<String, Value>, BTreeMap<String, Value>) {
    let areas: Vec<&ApiRoute> = context
        .routes
        .iter()
        .filter(|r| r.kind == RouteKind::Area)
        .collect();
    let endpoints: Vec<&ApiRoute> = context
        .routes
        .iter()
        .filter(|r| r.kind == RouteKind::Endpoint)
        .collect();
    let mut paths = BTreeMap::new();
    let mut tags = BTreeMap::new();
    for area in &areas {
        let name = area_tag(&area.path);
        let mut tag = Map::new();
        tag.insert("name".into(), json!(name));
        if let Some(summary) = &area.summary {
            tag.insert("description".into(), json!(summary));
        }
        tag.insert("x-path-prefix".into(), json!(area.path));
        tag.insert("x-source".into(), json!(area.source.to_string()));
        tags.insert(name, Value::Object(tag));
        if endpoints.iter().any(|e| covers(&area.path, &e.path)) {
            continue;
        }
        let prefix = area.path.trim_end_matches('*').trim_end_matches('/');
        let mut item = Map::new();
        if let Some(summary) = &area.summary {
            item.insert("summary".into(), json!(summary));
        }
        item.insert(
            "description".into(),
            json!(format!(
                "The documents name the area `{}` but not its routes, so no operation is described.",
                area.path
            )),
        );
        item.insert("servers".into(), json!([app_server()]));
        item.insert(
            "parameters".into(),
            json!([{
                "name": "path", "in": "path", "required": true,
                "description": format!("The route below `{prefix}/`."),
                "schema": {"type": "string"},
            }]),
        );
        item.insert("x-area".into(), json!(area.path));
        item.insert("x-source".into(), json!(area.source.to_string()));
        paths.insert(format!("{prefix}/{{path}}"), Value::Object(item));
    }
    for route in endpoints {
        let tag = route_tag(route, &areas);
        tags.entry(tag.clone())
            .or_insert_with(|| json!({ "name": tag }));
        paths.insert(route.path.clone(), route_item(route, &tag, context, ids));
    }
    (paths, tags)
}

/// `{id}` segments of a path, as required path parameters.
fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
        })
        .collect()
}

fn route_item(
    route: &ApiRoute,
    tag: &str,
    context: &AppContext<'_>,
    ids: &mut OperationIds,
) -> Value {
    // A route that inserts into a documented table takes that table's insert
    // body and answers with its row in `data`.
    let table = route
        .inserts_into
        .as_ref()
        .filter(|t| context.tables.contains(*t));
    let mut item = Map::new();
    if let Some(summary) = &route.summary {
        item.insert("summary".into(), json!(summary));
    }
    if let Some(description) = &route.description {
        item.insert("description".into(), json!(description));
    }
    item.insert("servers".into(), json!([app_server()]));
    let parameters = path_parameters(&route.path);
    if !parameters.is_empty() {
        item.insert("parameters".into(), Value::Array(parameters));
    }
    item.insert("x-source".into(), json!(route.source.to_string()));
    for operation in &route.operations {
        let mut op = Map::new();
        op.insert(
            "operationId".into(),
            json!(ids.next(operation.method, &route.path)),
        );
        op.insert("tags".into(), json!([tag]));
        op.insert("summary".into(), json!(operation.summary));
        op.insert("security".into(), json!([{"bearer": []}]));
        let takes_body = matches!(
            operation.method,
            HttpMethod::Post | HttpMethod::Put | HttpMethod::Patch
        );
        if let (true, Some(table)) = (takes_body, table) {
            let [_, insert, _] = component_names(table);
            op.insert(
                "requestBody".into(),
                json!({"required": true, "content": {"application/json": {"schema": reference("schemas", &insert)}}}),
            );
        }
        if let Some(schedule) = &route.schedule {
            op.insert("x-schedule".into(), json!(schedule));
        }
        op.insert(
            "responses".into(),
            responses(&operation.summary, table, context),
        );
        item.insert(operation.method.as_openapi().into(), Value::Object(op));
    }
    Value::Object(item)
}

/// The documented envelope: `ApiSuccess` for 200 (with the table's row as
/// `data` when the route inserts one) and `ApiError` for anything else.
fn responses(summary: &str, table: Option<&String>, context: &AppContext<'_>) -> Value {
    let mut success = Map::new();
    success.insert("description".into(), json!("Success."));
    let mut content = Map::new();
    if context.has_success {
        let schema = match table {
            Some(table) => {
                let [row, _, _] = component_names(table);
                json!({"allOf": [
                    reference("schemas", "ApiSuccess"),
                    {"type": "object", "properties": {"data": reference("schemas", &row)}},
                ]})
            }
            None => reference("schemas", "ApiSuccess"),
        };
        content.insert("application/json".into(), json!({"schema": schema}));
    }
    // "stream response" in the documents: the answer arrives as server-sent
    // events rather than one JSON body.
    if summary.to_ascii_lowercase().contains("stream") {
        content.insert(
            "text/event-stream".into(),
            json!({"schema": {"type": "string"}}),
        );
    }
    if !content.is_empty() {
        success.insert("content".into(), Value::Object(content));
    }
    let mut error = Map::new();
    error.insert("description".into(), json!("Error."));
    if context.has_error {
        error.insert(
            "content".into(),
            json!({"application/json": {"schema": reference("schemas", "ApiError")}}),
        );
    }
    json!({"200": success, "default": error})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_are_snake_case_and_unique() {
        let mut ids = OperationIds::default();
        assert_eq!(
            ids.next(HttpMethod::Get, "/rest/v1/properties"),
            "get_rest_v1_properties"
        );
        assert_eq!(
            ids.next(HttpMethod::Get, "/api/javari/cron/health-check"),
            "get_api_javari_cron_health_check"
        );
        assert_eq!(
            ids.next(HttpMethod::Get, "/api/javari/cron/health_check"),
            "get_api_javari_cron_health_check_2"
        );
    }

    #[test]
    fn areas_cover_their_prefix_and_below() {
        assert!(covers("/api/properties/*", "/api/properties"));
        assert!(covers("/api/properties/*", "/api/properties/1"));
        assert!(!covers("/api/properties/*", "/api/properties-x"));
        assert_eq!(area_tag("/api/javari/*"), "api/javari");
    }

    #[test]
    fn prefer_patterns_accept_combinations() {
        let parameter = prefer_parameter(PREFER_INSERT, "");
        let pattern = parameter["schema"]["pattern"].as_str().unwrap_or_default();
        assert!(pattern.starts_with("^(return=representation|"));
        assert!(pattern.contains(r"(\s*,\s*("));
    }
}
