//! The application's HTTP surface as the documents describe it, read from the
//! cleaned source files because the schema model holds tables, not routes.
//! Four kinds of text are understood: a Next.js route tree in a code block
//! (`app/api/javari/` with `route.ts` leaves and `# POST: …` comments), the
//! API areas of an architecture box (`/api/auth/* (Authentication)`), data
//! flows (`Agent Dashboard → API: POST /api/properties` followed by
//! `→ Insert into properties table`), and cron configurations (`{"path": …,
//! "schedule": …}`). The response envelope of an "API Response Format"
//! section is read here too, as its documented examples.
//!
//! Like every reader, this one never fails: a route it finds but cannot
//! fully read (a handler whose methods the documents do not give) is kept
//! and reported, so the OpenAPI description and `gen lint` agree.

use crate::diag::{Code, Diagnostic};
use crate::model::Source;
use crate::source::SourceFile;
use crate::source::markdown::{Block, blocks};
use std::collections::BTreeMap;

/// An HTTP method a route handler answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl HttpMethod {
    /// Reads `GET`, `post`…; anything else is not a method.
    pub fn parse(raw: &str) -> Option<HttpMethod> {
        Some(match raw.trim().to_ascii_uppercase().as_str() {
            "GET" => HttpMethod::Get,
            "POST" => HttpMethod::Post,
            "PUT" => HttpMethod::Put,
            "PATCH" => HttpMethod::Patch,
            "DELETE" => HttpMethod::Delete,
            _ => return None,
        })
    }

    /// The key of the operation in an OpenAPI path item.
    pub fn as_openapi(self) -> &'static str {
        match self {
            HttpMethod::Get => "get",
            HttpMethod::Post => "post",
            HttpMethod::Put => "put",
            HttpMethod::Patch => "patch",
            HttpMethod::Delete => "delete",
        }
    }
}

/// Whether a route is one handler or a whole documented area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RouteKind {
    /// One route handler, such as `app/api/javari/chat/route.ts`.
    Endpoint,
    /// An area such as `/api/auth/*`: the documents name it and say what it
    /// is for, but list none of its routes.
    Area,
}

/// One thing a route does for one method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteOperation {
    pub method: HttpMethod,
    pub summary: String,
}

/// A route of the application's API as documented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRoute {
    /// The URL path: `/api/javari/chat/continue`, with Next.js dynamic
    /// segments as `{name}`. An area keeps its documented `/api/auth/*`.
    pub path: String,
    pub kind: RouteKind,
    /// Sorted by method; empty when the documents name no method.
    pub operations: Vec<RouteOperation>,
    /// What the documents say about the route as a whole (the tree comment,
    /// the area's name or the data flow's heading).
    pub summary: Option<String>,
    /// Longer text, such as the steps of a data flow.
    pub description: Option<String>,
    /// The cron schedule that calls the route, from a cron configuration.
    pub schedule: Option<String>,
    /// The table a data flow says the route inserts into.
    pub inserts_into: Option<String>,
    pub source: Source,
}

/// The documented response envelope: one example per outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseEnvelope {
    pub success: Option<EnvelopeExample>,
    pub error: Option<EnvelopeExample>,
}

/// A documented JSON example. Elided parts (`{ ... }`) are read as `null`,
/// meaning "present in the documents, shape not given".
#[derive(Debug, Clone, PartialEq)]
pub struct EnvelopeExample {
    pub example: serde_json::Value,
    pub source: Source,
}

/// Each document with its Markdown blocks, split once for both readers.
type Blocks<'f> = [(&'f SourceFile, Vec<Block>)];

fn split(files: &[SourceFile]) -> Vec<(&SourceFile, Vec<Block>)> {
    files.iter().map(|file| (file, blocks(file))).collect()
}

/// [`api_routes`] and [`response_envelope`], splitting each document into
/// blocks once, with what the reader found it could not read.
pub fn read_routes(
    files: &[SourceFile],
) -> (Vec<ApiRoute>, Option<ResponseEnvelope>, Vec<Diagnostic>) {
    let documents = split(files);
    let routes = routes_in(&documents);
    let diagnostics = routes.iter().filter_map(unread_methods).collect();
    (routes, envelope_in(&documents), diagnostics)
}

/// A route handler whose methods the documents do not give: it is
/// described with no operations, which a reader of the API would miss.
fn unread_methods(route: &ApiRoute) -> Option<Diagnostic> {
    (route.kind == RouteKind::Endpoint && route.operations.is_empty()).then(|| {
        Diagnostic::info(
            Code::RouteWithoutMethod,
            route.source.span(),
            format!(
                "route `{}` names no HTTP method; it is described without operations",
                route.path
            ),
        )
        .with_help(
            "start its comment with the methods, as in `# GET/POST: what it does`, or say CRUD",
        )
    })
}

/// Every route the documents describe, merged by path and sorted, so the
/// result does not depend on where in the documents a route was found.
pub fn api_routes(files: &[SourceFile]) -> Vec<ApiRoute> {
    routes_in(&split(files))
}

fn routes_in(documents: &Blocks<'_>) -> Vec<ApiRoute> {
    let mut routes: BTreeMap<String, ApiRoute> = BTreeMap::new();
    let mut schedules = Vec::new();
    for (file, blocks) in documents {
        let mut heading: Option<&str> = None;
        for block in blocks {
            match block {
                Block::Heading { text, .. } => heading = Some(text),
                Block::Code {
                    language,
                    text,
                    first_line,
                } => {
                    let source = |offset: usize| file.source(first_line + offset as u32);
                    for route in route_tree(text, &source) {
                        merge(&mut routes, route);
                    }
                    for route in areas(text, &source) {
                        merge(&mut routes, route);
                    }
                    for route in data_flows(text, heading, &source) {
                        merge(&mut routes, route);
                    }
                    if language == "json" {
                        schedules.extend(cron_schedules(text, &source));
                    }
                }
                _ => {}
            }
        }
    }
    // A cron job is a documented caller of its route: Vercel Cron requests
    // the path with GET, so a scheduled route without a documented method is
    // a GET route, and a scheduled path missing from the tree still exists.
    for (path, schedule, source) in schedules {
        let route = routes.entry(path.clone()).or_insert_with(|| ApiRoute {
            path,
            kind: RouteKind::Endpoint,
            operations: Vec::new(),
            summary: None,
            description: None,
            schedule: None,
            inserts_into: None,
            source,
        });
        if route.operations.is_empty() {
            route.operations.push(RouteOperation {
                method: HttpMethod::Get,
                summary: route
                    .summary
                    .clone()
                    .unwrap_or_else(|| "Scheduled job".to_owned()),
            });
        }
        route.schedule.get_or_insert(schedule);
    }
    routes.into_values().collect()
}

/// The success and error examples of an "API Response Format" section.
pub fn response_envelope(files: &[SourceFile]) -> Option<ResponseEnvelope> {
    envelope_in(&split(files))
}

fn envelope_in(documents: &Blocks<'_>) -> Option<ResponseEnvelope> {
    let mut envelope = ResponseEnvelope {
        success: None,
        error: None,
    };
    for (file, blocks) in documents {
        let mut section_level: Option<u8> = None;
        let mut label: Option<Outcome> = None;
        for block in blocks {
            match block {
                Block::Heading { level, text, .. } => {
                    if section_level.is_some_and(|l| *level <= l) {
                        section_level = None;
                    }
                    if text.to_ascii_lowercase().contains("response format") {
                        section_level = Some(*level);
                    }
                    label = None;
                }
                Block::Paragraph { lines } if section_level.is_some() => {
                    let text: String = lines.iter().map(|(l, _)| l.as_str()).collect();
                    let lower = text.to_ascii_lowercase();
                    label = if lower.contains("success") {
                        Some(Outcome::Success)
                    } else if lower.contains("error") {
                        Some(Outcome::Error)
                    } else {
                        None
                    };
                }
                Block::Code {
                    text, first_line, ..
                } if section_level.is_some() => {
                    let Some(outcome) = label.take() else {
                        continue;
                    };
                    let Ok(example) = serde_json::from_str(&without_elisions(text)) else {
                        continue;
                    };
                    let example = EnvelopeExample {
                        example,
                        source: file.source(*first_line),
                    };
                    let slot = match outcome {
                        Outcome::Success => &mut envelope.success,
                        Outcome::Error => &mut envelope.error,
                    };
                    slot.get_or_insert(example);
                }
                _ => {}
            }
        }
    }
    (envelope.success.is_some() || envelope.error.is_some()).then_some(envelope)
}

#[derive(Debug, Clone, Copy)]
enum Outcome {
    Success,
    Error,
}

/// `{ ... }` in a documented example elides a value; it becomes `null` so
/// the rest of the example still parses.
fn without_elisions(text: &str) -> String {
    ["{ ... }", "{...}", "[ ... ]", "[...]"]
        .iter()
        .fold(text.to_owned(), |t, elision| t.replace(elision, "null"))
}

/// Adds a route, or folds it into the route already known at its path: the
/// first source to say something about a route wins, later ones only fill in.
fn merge(routes: &mut BTreeMap<String, ApiRoute>, route: ApiRoute) {
    let Some(existing) = routes.get_mut(&route.path) else {
        routes.insert(route.path.clone(), route);
        return;
    };
    for operation in route.operations {
        if !existing
            .operations
            .iter()
            .any(|o| o.method == operation.method)
        {
            existing.operations.push(operation);
        }
    }
    existing.operations.sort_by_key(|o| o.method);
    if existing.summary.is_none() {
        existing.summary = route.summary;
    }
    if existing.description.is_none() {
        existing.description = route.description;
    }
    if existing.inserts_into.is_none() {
        existing.inserts_into = route.inserts_into;
    }
}

/// Characters that draw a directory tree, in Unicode and in ASCII.
fn is_tree_glyph(c: char) -> bool {
    matches!(c, '│' | '├' | '└' | '─' | '|' | '+' | '`' | '-' | ' ')
}

/// Routes of a Next.js App Router tree: a code block whose first line is a
/// directory under `app/` (such as `app/api/javari/`), where every
/// `route.ts` is a handler and its `#` comment says what it does.
fn route_tree(text: &str, source: &dyn Fn(usize) -> Source) -> Vec<ApiRoute> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, root)) = lines.next() else {
        return Vec::new();
    };
    let root = root.trim();
    let Some(url_root) = app_router_root(root) else {
        return Vec::new();
    };
    let mut routes = Vec::new();
    // Directory names by depth below the root.
    let mut stack: Vec<String> = Vec::new();
    for (offset, line) in lines {
        let indent = line.chars().take_while(|&c| is_tree_glyph(c)).count();
        let rest: String = line.chars().skip(indent).collect();
        let (entry, comment) = match rest.split_once('#') {
            Some((entry, comment)) => (entry.trim(), Some(comment.trim())),
            None => (rest.trim(), None),
        };
        if entry.is_empty() {
            continue;
        }
        // Trees indent by four characters per level (`│   ├── `).
        let depth = (indent / 4).max(1);
        stack.truncate(depth - 1);
        let mut parts: Vec<&str> = entry.split('/').collect();
        let is_directory = entry.ends_with('/');
        if is_directory {
            parts.pop();
            stack.extend(parts.iter().map(|p| (*p).to_owned()));
            continue;
        }
        let file_name = parts.pop().unwrap_or_default();
        if file_name.split('.').next() != Some("route") {
            continue;
        }
        let segments: Vec<String> = stack
            .iter()
            .map(String::as_str)
            .chain(parts.iter().copied())
            .filter_map(url_segment)
            .collect();
        let mut path = url_root.clone();
        for segment in &segments {
            path.push('/');
            path.push_str(segment);
        }
        let comment = comment.filter(|c| !c.is_empty());
        routes.push(ApiRoute {
            path,
            kind: RouteKind::Endpoint,
            operations: comment.map(operations_of_comment).unwrap_or_default(),
            summary: comment.map(|c| summary_of_comment(c).to_owned()),
            description: None,
            schedule: None,
            inserts_into: None,
            source: source(offset),
        });
    }
    routes
}

/// `app/api/javari/` → `/api/javari`; `src/app/api/` → `/api`. Only
/// directories under an App Router `app/` directory are route trees.
fn app_router_root(line: &str) -> Option<String> {
    let directory = line.strip_suffix('/')?;
    let below_app = if let Some(rest) = directory.strip_prefix("app/") {
        rest
    } else {
        directory.split_once("/app/")?.1
    };
    let segments: Vec<String> = below_app.split('/').filter_map(url_segment).collect();
    (!segments.is_empty()).then(|| format!("/{}", segments.join("/")))
}

/// A directory name as a URL segment: `[id]` and `[...slug]` are
/// parameters, `(group)` route groups and `_private` folders add nothing.
fn url_segment(name: &str) -> Option<String> {
    let name = name.trim();
    if name.is_empty() || name.starts_with('(') || name.starts_with('_') || name.starts_with('@') {
        return None;
    }
    if let Some(inner) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        let inner = inner.trim_start_matches('[').trim_end_matches(']');
        return Some(format!("{{{}}}", inner.trim_start_matches("...")));
    }
    Some(name.to_owned())
}

/// `POST: Send message` → POST; `GET/POST: …` → both; `CRUD for monitors`
/// → the four operations a CRUD handler answers.
fn operations_of_comment(comment: &str) -> Vec<RouteOperation> {
    if let Some((head, rest)) = comment.split_once(':') {
        let methods: Option<Vec<HttpMethod>> = head
            .split(|c: char| c == '/' || c == ',' || c.is_whitespace())
            .filter(|m| !m.is_empty())
            .map(HttpMethod::parse)
            .collect();
        if let Some(methods) = methods.filter(|m| !m.is_empty()) {
            let mut operations: Vec<RouteOperation> = methods
                .into_iter()
                .map(|method| RouteOperation {
                    method,
                    summary: rest.trim().to_owned(),
                })
                .collect();
            operations.sort_by_key(|o| o.method);
            operations.dedup_by_key(|o| o.method);
            return operations;
        }
    }
    let is_crud = comment
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| word == "CRUD");
    if !is_crud {
        return Vec::new();
    }
    [
        (HttpMethod::Get, "read"),
        (HttpMethod::Post, "create"),
        (HttpMethod::Patch, "update"),
        (HttpMethod::Delete, "delete"),
    ]
    .into_iter()
    .map(|(method, verb)| RouteOperation {
        method,
        summary: format!("{comment} ({verb})"),
    })
    .collect()
}

/// The comment without a leading method list.
fn summary_of_comment(comment: &str) -> &str {
    match comment.split_once(':') {
        Some((head, rest))
            if head
                .split(|c: char| c == '/' || c == ',' || c.is_whitespace())
                .filter(|m| !m.is_empty())
                .all(|m| HttpMethod::parse(m).is_some()) =>
        {
            rest.trim()
        }
        _ => comment,
    }
}

/// Areas of an architecture box: `├── /api/auth/* (Authentication)`.
fn areas(text: &str, source: &dyn Fn(usize) -> Source) -> Vec<ApiRoute> {
    let mut found = Vec::new();
    for (offset, line) in text.lines().enumerate() {
        let Some(start) = line.find("/api/") else {
            continue;
        };
        let rest = &line[start..];
        let token_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let token = &rest[..token_end];
        if !token.ends_with("/*") {
            continue;
        }
        let after = rest[token_end..].trim_start();
        let summary = after
            .strip_prefix('(')
            .and_then(|a| a.split_once(')'))
            .map(|(inside, _)| inside.trim().to_owned())
            .filter(|s| !s.is_empty());
        found.push(ApiRoute {
            path: token.to_owned(),
            kind: RouteKind::Area,
            operations: Vec::new(),
            summary,
            description: None,
            schedule: None,
            inserts_into: None,
            source: source(offset),
        });
    }
    found
}

/// Data flows: `Agent Dashboard → API: POST /api/properties`, with the steps
/// that follow in the same block and the heading above as the summary.
fn data_flows(
    text: &str,
    heading: Option<&str>,
    source: &dyn Fn(usize) -> Source,
) -> Vec<ApiRoute> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (offset, line) in lines.iter().enumerate() {
        let Some((_, call)) = line.split_once("API:") else {
            continue;
        };
        let mut words = call.split_whitespace();
        let (Some(method), Some(path)) = (words.next().and_then(HttpMethod::parse), words.next())
        else {
            continue;
        };
        if !path.starts_with('/') {
            continue;
        }
        // The flow's steps are the lines up to the next API call.
        let steps: Vec<&str> = lines[offset..]
            .iter()
            .enumerate()
            .take_while(|(i, l)| *i == 0 || !l.contains("API:"))
            .map(|(_, l)| l.trim())
            .filter(|l| !l.is_empty())
            .collect();
        let inserts_into = steps.iter().find_map(|step| {
            let (_, rest) = step.split_once("Insert into ")?;
            let table = rest.split_whitespace().next()?;
            crate::model::validate_identifier(table)
                .is_ok()
                .then(|| table.to_owned())
        });
        let summary = heading.map(str::to_owned);
        found.push(ApiRoute {
            path: path.trim_end_matches('/').to_owned(),
            kind: RouteKind::Endpoint,
            operations: vec![RouteOperation {
                method,
                summary: summary.clone().unwrap_or_else(|| steps.join(" ")),
            }],
            summary,
            description: Some(steps.join("\n")),
            schedule: None,
            inserts_into,
            source: source(offset),
        });
    }
    found
}

/// `{"path": "/api/…", "schedule": "*/30 * * * *"}` objects anywhere in a
/// JSON block, as in a `vercel.json` `crons` list.
fn cron_schedules(text: &str, source: &dyn Fn(usize) -> Source) -> Vec<(String, String, Source)> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut pending = vec![&value];
    while let Some(value) = pending.pop() {
        match value {
            serde_json::Value::Object(map) => {
                let path = map.get("path").and_then(|p| p.as_str());
                let schedule = map.get("schedule").and_then(|s| s.as_str());
                if let (Some(path), Some(schedule)) = (path, schedule)
                    && path.starts_with('/')
                {
                    let offset = text.lines().position(|l| l.contains(path)).unwrap_or(0);
                    found.push((path.to_owned(), schedule.to_owned(), source(offset)));
                }
                pending.extend(map.values());
            }
            serde_json::Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile::decode("doc.md", text.as_bytes()).0
    }

    const TREE: &str = "# API\n\n```\napp/api/javari/\n├── chat/\n│   ├── route.ts                    # POST: Send message, stream response\n│   └── continue/route.ts           # POST: Create child chat\n├── items/\n│   ├── [id]/route.ts               # GET/PATCH: One item\n│   └── route.ts                    # CRUD for items\n├── cron/\n│   └── nightly/route.ts            # Nightly job\n└── build/\n    └── route.ts                    # POST: Build application request\n```\n\n```json\n{\"crons\": [{\"path\": \"/api/javari/cron/nightly\", \"schedule\": \"0 2 * * *\"}]}\n```\n";

    #[test]
    fn reads_a_next_js_route_tree_with_its_comments_and_cron_schedules() {
        let routes = api_routes(&[file(TREE)]);
        let described: Vec<(String, Vec<&str>)> = routes
            .iter()
            .map(|r| {
                (
                    r.path.clone(),
                    r.operations.iter().map(|o| o.method.as_openapi()).collect(),
                )
            })
            .collect();
        assert_eq!(
            described,
            [
                ("/api/javari/build".to_owned(), vec!["post"]),
                ("/api/javari/chat".to_owned(), vec!["post"]),
                ("/api/javari/chat/continue".to_owned(), vec!["post"]),
                ("/api/javari/cron/nightly".to_owned(), vec!["get"]),
                (
                    "/api/javari/items".to_owned(),
                    vec!["get", "post", "patch", "delete"]
                ),
                ("/api/javari/items/{id}".to_owned(), vec!["get", "patch"]),
            ]
        );
        let chat = &routes[1];
        assert_eq!(
            chat.summary.as_deref(),
            Some("Send message, stream response")
        );
        assert_eq!(chat.source, Source::new("doc.md", 6));
        let nightly = &routes[3];
        assert_eq!(nightly.schedule.as_deref(), Some("0 2 * * *"));
        assert_eq!(nightly.operations[0].summary, "Nightly job");
    }

    #[test]
    fn reads_areas_and_data_flows() {
        let text = "```\n│  ├── /api/auth/* (Authentication)   │\n│  └── /api/cron/* (Scheduled Jobs)   │\n```\n\n### Agent Creates Property\n```\nAgent Dashboard → API: POST /api/properties\n  → Insert into properties table\n  → Notify: matching searches\n```\n";
        let routes = api_routes(&[file(text)]);
        assert_eq!(routes.len(), 3);
        let auth = &routes[0];
        assert_eq!(
            (auth.path.as_str(), auth.kind, auth.summary.as_deref()),
            ("/api/auth/*", RouteKind::Area, Some("Authentication"))
        );
        let flow = &routes[2];
        assert_eq!(flow.path, "/api/properties");
        assert_eq!(flow.summary.as_deref(), Some("Agent Creates Property"));
        assert_eq!(flow.inserts_into.as_deref(), Some("properties"));
        assert_eq!(flow.operations[0].method, HttpMethod::Post);
        assert_eq!(
            flow.description.as_deref(),
            Some(
                "Agent Dashboard → API: POST /api/properties\n→ Insert into properties table\n→ Notify: matching searches"
            )
        );
    }

    #[test]
    fn reads_the_response_envelope_with_elided_values() {
        let text = "### API Response Format\n\n**Success:**\n```json\n{\"success\": true, \"data\": { ... }, \"meta\": {\"request_id\": \"uuid\"}}\n```\n\n**Error:**\n```json\n{\"success\": false, \"error\": {\"code\": \"X\", \"details\": { ... }}}\n```\n\n## Other\n\n**Success:**\n```json\n{\"ignored\": true}\n```\n";
        let envelope = response_envelope(&[file(text)]).expect("an envelope");
        let success = envelope.success.expect("a success example");
        assert_eq!(success.example["data"], serde_json::Value::Null);
        assert_eq!(success.example["meta"]["request_id"], "uuid");
        assert_eq!(success.source, Source::new("doc.md", 5));
        assert_eq!(
            envelope.error.expect("an error example").example["error"]["code"],
            "X"
        );
        assert!(response_envelope(&[file("# Nothing here\n")]).is_none());
    }
}
