//! `gen models`: a Rust crate (`rust/` under the output directory) with a
//! struct per fully documented table for sqlx, a `New…` struct per table
//! for inserts, enums for closed value sets and structs for documented JSON.
//! Everything is read from the realised table, the one the migrations
//! create: its defaults decide what an insert leaves out, its CHECK lists
//! give enums, its NOT NULLs decide `Option`. The plan (names, types,
//! documentation) is made here; `templates/rust/*.tera` lay it out, with the
//! width-dependent parts laid out by `layout` as rustfmt would.

pub mod layout;
pub mod names;
mod table;
pub mod types;

use super::{EmitContext, EmitError, OutputFile, OutputSink, Templates};
use crate::model::physical::quote_identifier;
use crate::model::stages::{Documented, Realized};
use crate::model::{Column, JsonShape, Schema, Table};
use names::{NameRequest, Namer, pascal_identifier, snake_identifier, unique_in, unraw};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use table::{TableInput, field_line, table_plan};
use types::{EnumPlan, Import};

/// Where the crate goes under the output directory.
pub const CRATE_DIRECTORY: &str = "rust";

/// The generated crate's package name.
pub const CRATE_NAME: &str = "schemagen-models";

/// The module of tables the documents assign to none.
const UNASSIGNED_MODULE: &str = "other";

/// Crates the generated code names by path: no module may shadow them.
const DEPENDENCY_NAMES: &[&str] = &[
    "alloc",
    "chrono",
    "core",
    "pgvector",
    "rust_decimal",
    "serde",
    "serde_json",
    "sqlx",
    "std",
    "uuid",
];

/// Renders the crate from the realised schema's documented tables.
pub fn emit(context: &EmitContext<'_>, sink: &mut dyn OutputSink) -> Result<(), EmitError> {
    let plan = plan(context.documented(), context.realized());
    render(&plan, context.templates)?
        .into_iter()
        .try_for_each(|file| sink.file(file))
}

/// The whole crate, ready for the templates.
#[derive(Debug, Clone, Serialize)]
pub struct CratePlan {
    pub package: &'static str,
    pub modules: Vec<ModulePlan>,
    /// `module::Struct` of every table, in table order, for `visit_tables`.
    pub tables: Vec<String>,
    /// `table.column` of every column that is never serialised.
    pub sensitive: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModulePlan {
    /// The module's Rust name (`realtor`).
    pub identifier: String,
    /// Its file name without `r#`.
    pub file: String,
    /// The documents' name for it.
    pub title: String,
    pub uses: Vec<String>,
    pub tables: Vec<TablePlan>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TablePlan {
    pub table: String,
    pub name: String,
    pub new_name: String,
    /// `///` lines, at column 0.
    pub doc: String,
    pub new_doc: String,
    /// Field lines with their docs and attributes, indented.
    pub fields: String,
    pub new_fields: String,
    /// The inherent `impl` body: TABLE, COLUMNS, PRIMARY_KEY.
    pub constants: String,
    /// The `impl Record` body.
    pub record_body: String,
    pub insert_sql: String,
    pub bind_body: String,
    pub from_body: String,
    /// `row`, or `_row` when no field is copied from it.
    pub from_parameter: &'static str,
    pub enums: Vec<EnumView>,
    pub json_structs: Vec<JsonStructView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnumView {
    pub name: String,
    pub doc: String,
    pub type_name: &'static str,
    pub variants: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct JsonStructView {
    pub name: String,
    pub doc: String,
    pub fields: String,
}

/// Text from the documents as one line of a doc comment: whitespace and
/// control characters collapse to single spaces (a bare carriage return is
/// an error in a doc comment), and code fences are broken so that nothing
/// becomes a doctest.
fn doc_text(text: &str) -> String {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect();
    words.join(" ").replace("```", "'''").replace("~~~", "'''")
}

/// Paragraphs as `///` lines at `indent`, separated by blank `///` lines, so
/// that no paragraph can continue another's list.
fn doc_block(indent: usize, paragraphs: &[String]) -> String {
    let pad = " ".repeat(indent);
    let lines: Vec<String> = paragraphs
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| format!("{pad}/// {p}"))
        .collect();
    lines.join(&format!("\n{pad}///\n"))
}

/// Text that ends as a sentence does.
fn sentence(text: &str) -> String {
    if text.is_empty() || text.ends_with(['.', '!', '?', ':']) {
        text.to_owned()
    } else {
        format!("{text}.")
    }
}

/// A Rust string literal.
fn literal(s: &str) -> String {
    format!("{s:?}")
}

fn code_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What one column becomes.
#[derive(Debug, Clone)]
enum ColumnKind {
    Scalar(String),
    Enum(usize),
    Json(usize),
    Unmapped,
}

#[derive(Debug, Clone)]
struct ColumnPlan<'a> {
    column: &'a Column,
    field: String,
    kind: ColumnKind,
}

/// A documented JSON structure a column holds.
#[derive(Debug, Clone)]
struct JsonRoot {
    table: usize,
    column: String,
    shape: JsonShape,
    titles: Vec<(String, String)>,
}

/// A closed value set a column holds.
#[derive(Debug, Clone)]
struct EnumRoot {
    table: usize,
    column: String,
    plan: EnumPlan,
    source: String,
}

/// The crate for the realised schema's documented tables; the documented
/// model supplies what realisation does not keep (JSON example titles, the
/// field glossary).
///
/// The phases share one `Namer`, and the order they allocate in (tables,
/// then enums, then JSON roots, then nested JSON structs) decides who gets
/// a contested name: keep it.
pub fn plan(documented: &Documented, realized: &Realized) -> CratePlan {
    let schema: &Schema = documented;
    let tables: Vec<&Table> = realized.documented_tables().collect();
    let module_identifiers = module_identifiers(&tables);
    let mut namer = Namer::default();
    let struct_names = struct_names(&mut namer, &tables);
    let ColumnPlansWithRoots {
        columns,
        enum_roots,
        json_roots,
        imports_by_table,
    } = column_plans(schema, &tables);
    let enum_names = enum_names(&mut namer, &tables, &struct_names, &enum_roots);
    let json_root_names = json_root_names(&mut namer, &tables, &struct_names, &json_roots);
    let JsonStructsByTable {
        views_by_table: json_views,
        types_by_root: json_types,
    } = json_structs(&mut namer, &tables, &json_roots, &json_root_names);
    assemble_crate(CrateParts {
        schema,
        tables: &tables,
        module_identifiers: &module_identifiers,
        struct_names: &struct_names,
        columns: &columns,
        imports_by_table: &imports_by_table,
        enum_roots: &enum_roots,
        enum_names: &enum_names,
        json_types: &json_types,
        json_views,
    })
}

/// Module identifiers by module title: one module per documentation
/// module, with Rust names that shadow no dependency (the generated code
/// names those crates by path).
fn module_identifiers(tables: &[&Table]) -> BTreeMap<String, String> {
    let module_titles: BTreeSet<String> = tables.iter().map(|t| module_title(t)).collect();
    let mut used_modules: BTreeSet<String> =
        DEPENDENCY_NAMES.iter().map(|s| (*s).to_owned()).collect();
    module_titles
        .iter()
        .map(|title| {
            (
                title.clone(),
                unique_in(&mut used_modules, snake_identifier(title)),
            )
        })
        .collect()
}

/// Each table's struct name, in table order. Allocated first, so that a
/// table wins a name over an enum or a JSON struct; `New…` is reserved
/// alongside for the insert struct.
fn struct_names(namer: &mut Namer, tables: &[&Table]) -> Vec<String> {
    namer.allocate(
        &tables
            .iter()
            .map(|t| NameRequest {
                candidates: table_candidates(t),
                companions: &["New"],
            })
            .collect::<Vec<_>>(),
    )
}

/// Every table's column plans, with the enums and JSON structures the
/// columns need (numbered in the order they are found, which `ColumnKind`
/// refers to) and the imports their scalar types need.
struct ColumnPlansWithRoots<'a> {
    columns: Vec<Vec<ColumnPlan<'a>>>,
    enum_roots: Vec<EnumRoot>,
    json_roots: Vec<JsonRoot>,
    imports_by_table: Vec<BTreeSet<Import>>,
}

/// Decides what each column becomes: an enum when a CHECK lists its
/// values, a JSON struct when its documented shape is typed, otherwise a
/// scalar (or nothing, when no Rust type reads it). The roots are collected
/// here, before naming, because their names depend on every table's.
fn column_plans<'a>(schema: &Schema, tables: &[&'a Table]) -> ColumnPlansWithRoots<'a> {
    let mut enum_roots: Vec<EnumRoot> = Vec::new();
    let mut json_roots: Vec<JsonRoot> = Vec::new();
    let mut imports_by_table: Vec<BTreeSet<Import>> = vec![BTreeSet::new(); tables.len()];
    let columns: Vec<Vec<ColumnPlan>> = tables
        .iter()
        .enumerate()
        .map(|(i, table)| {
            let mut used = BTreeSet::new();
            table
                .columns
                .iter()
                .map(|column| {
                    let field = unique_in(&mut used, snake_identifier(&column.name));
                    let enum_plan = table
                        .allowed_values(&column.name)
                        .and_then(|values| types::enum_plan(&column.ty, values));
                    let kind = if let Some(plan) = enum_plan {
                        enum_roots.push(EnumRoot {
                            table: i,
                            column: column.name.clone(),
                            plan,
                            source: check_source(table, &column.name),
                        });
                        ColumnKind::Enum(enum_roots.len() - 1)
                    } else if let Some(shape) = column
                        .json_shape
                        .as_ref()
                        .filter(|s| types::is_typed(s) && is_json(column))
                    {
                        imports_by_table[i].insert(Import::Json);
                        json_roots.push(JsonRoot {
                            table: i,
                            column: column.name.clone(),
                            shape: shape.clone(),
                            titles: json_titles(schema, &table.name, &column.name),
                        });
                        ColumnKind::Json(json_roots.len() - 1)
                    } else {
                        match types::scalar(&column.ty, &mut imports_by_table[i]) {
                            Some(ty) => ColumnKind::Scalar(ty),
                            None => ColumnKind::Unmapped,
                        }
                    };
                    ColumnPlan {
                        column,
                        field,
                        kind,
                    }
                })
                .collect()
        })
        .collect();
    ColumnPlansWithRoots {
        columns,
        enum_roots,
        json_roots,
        imports_by_table,
    }
}

/// Each enum's type name, in root order: the documents' enum name when
/// there is one, else the table's struct name and the column's, then the
/// same under the module's name when that is taken.
fn enum_names(
    namer: &mut Namer,
    tables: &[&Table],
    struct_names: &[String],
    enum_roots: &[EnumRoot],
) -> Vec<String> {
    namer.allocate(
        &enum_roots
            .iter()
            .map(|e| {
                let table = tables[e.table];
                let column = table.column(&e.column);
                let mut candidates = Vec::new();
                if let Some(name) = column.and_then(|c| c.enum_name.as_deref()) {
                    candidates.push(pascal_identifier(&crate::model::inflect::singular(name)));
                }
                let base = format!("{}{}", struct_names[e.table], pascal_identifier(&e.column));
                candidates.push(base.clone());
                candidates.push(format!("{}{base}", pascal_identifier(&module_title(table))));
                NameRequest::new(candidates)
            })
            .collect::<Vec<_>>(),
    )
}

/// Each JSON root's struct name, in root order: the best of the examples'
/// titles, else the table's struct name and the column's (singular for an
/// array, since the struct is one element), then the same under the
/// module's name.
fn json_root_names(
    namer: &mut Namer,
    tables: &[&Table],
    struct_names: &[String],
    json_roots: &[JsonRoot],
) -> Vec<String> {
    namer.allocate(
        &json_roots
            .iter()
            .map(|j| {
                let table = tables[j.table];
                let is_array = matches!(j.shape, JsonShape::Array { .. });
                let titles: Vec<&str> = j.titles.iter().map(|(t, _)| t.as_str()).collect();
                let column_word = if is_array {
                    crate::model::inflect::singular(&j.column)
                } else {
                    j.column.clone()
                };
                let base = format!(
                    "{}{}",
                    struct_names[j.table],
                    pascal_identifier(&column_word)
                );
                let mut candidates: Vec<String> = types::best_title_name(&titles, is_array)
                    .into_iter()
                    .collect();
                candidates.push(base.clone());
                candidates.push(format!("{}{base}", pascal_identifier(&module_title(table))));
                NameRequest::new(candidates)
            })
            .collect::<Vec<_>>(),
    )
}

/// The JSON structs each table's module declares, and the Rust type of
/// each JSON root (what its column's field holds inside `Json<…>`).
struct JsonStructsByTable {
    views_by_table: Vec<Vec<JsonStructView>>,
    types_by_root: Vec<String>,
}

/// Plans the JSON structs, nested ones named after their parent. Runs after
/// every root is named, so that a nested struct never takes a root's name.
fn json_structs(
    namer: &mut Namer,
    tables: &[&Table],
    json_roots: &[JsonRoot],
    json_root_names: &[String],
) -> JsonStructsByTable {
    let mut json_views: Vec<Vec<JsonStructView>> = vec![Vec::new(); tables.len()];
    let mut json_types: Vec<String> = Vec::new();
    for (root, name) in json_roots.iter().zip(json_root_names) {
        let description = format!(
            "The documented structure of `{}.{}`",
            tables[root.table].name, root.column
        );
        let examples: Vec<String> = root
            .titles
            .iter()
            .map(|(title, source)| format!("\"{}\" (`{source}`)", doc_text(title)))
            .collect();
        let doc_intro = if examples.is_empty() {
            format!("{description}.")
        } else {
            format!(
                "{description}, from the examples {}.",
                examples.join(" and ")
            )
        };
        if let Some((properties, _)) = types::object_of(&root.shape) {
            plan_json_struct(
                namer,
                name,
                properties,
                &doc_intro,
                &mut json_views[root.table],
            );
        }
        json_types.push(types::json_type(&root.shape, Some(name)));
    }
    JsonStructsByTable {
        views_by_table: json_views,
        types_by_root: json_types,
    }
}

/// Everything the earlier phases decided, for `assemble_crate`.
struct CrateParts<'a> {
    schema: &'a Schema,
    tables: &'a [&'a Table],
    module_identifiers: &'a BTreeMap<String, String>,
    struct_names: &'a [String],
    columns: &'a [Vec<ColumnPlan<'a>>],
    imports_by_table: &'a [BTreeSet<Import>],
    enum_roots: &'a [EnumRoot],
    enum_names: &'a [String],
    json_types: &'a [String],
    /// Taken table by table: each table's structs move into its plan.
    json_views: Vec<Vec<JsonStructView>>,
}

/// Groups the tables' plans into their modules, with each module's `use`
/// lines from the imports of its tables, and lists every table (for
/// `visit_tables`) and every sensitive column. Last, because a field's
/// Rust type needs the enum and JSON names.
fn assemble_crate(parts: CrateParts<'_>) -> CratePlan {
    let CrateParts {
        schema,
        tables,
        module_identifiers,
        struct_names,
        columns,
        imports_by_table,
        enum_roots,
        enum_names,
        json_types,
        mut json_views,
    } = parts;
    let mut sensitive = Vec::new();
    let mut module_tables: BTreeMap<String, Vec<TablePlan>> = BTreeMap::new();
    let mut module_imports: BTreeMap<String, BTreeSet<Import>> = BTreeMap::new();
    let mut visit = Vec::new();
    for (i, table) in tables.iter().enumerate() {
        let title = module_title(table);
        let module = module_identifiers[&title].clone();
        module_imports
            .entry(module.clone())
            .or_default()
            .extend(imports_by_table[i].iter().copied());
        let rust_type = |plan: &ColumnPlan| -> Option<String> {
            let base = match &plan.kind {
                ColumnKind::Scalar(ty) => ty.clone(),
                ColumnKind::Enum(e) => enum_names[*e].clone(),
                ColumnKind::Json(j) => format!("Json<{}>", json_types[*j]),
                ColumnKind::Unmapped => return None,
            };
            Some(if plan.column.nullable {
                format!("Option<{base}>")
            } else {
                base
            })
        };
        let enums: Vec<EnumView> = enum_roots
            .iter()
            .enumerate()
            .filter(|(_, e)| e.table == i)
            .map(|(e, root)| enum_view(&enum_names[e], root, &table.name))
            .collect();
        for plan in &columns[i] {
            if table.is_sensitive(plan.column) {
                sensitive.push(format!("{}.{}", table.name, plan.column.name));
            }
        }
        visit.push(format!("{module}::{}", struct_names[i]));
        module_tables.entry(module).or_default().push(table_plan(
            TableInput {
                table,
                name: &struct_names[i],
                columns: &columns[i],
                documented: schema,
                enums,
                json_structs: std::mem::take(&mut json_views[i]),
            },
            &rust_type,
        ));
    }

    let modules = module_identifiers
        .iter()
        .map(|(title, identifier)| {
            let uses = types::use_lines(&module_imports.remove(identifier).unwrap_or_default());
            ModulePlan {
                identifier: identifier.clone(),
                file: unraw(identifier).to_owned(),
                title: title.clone(),
                uses,
                tables: module_tables.remove(identifier).unwrap_or_default(),
            }
        })
        .collect();
    CratePlan {
        package: CRATE_NAME,
        modules,
        tables: visit,
        sensitive,
    }
}

fn module_title(table: &Table) -> String {
    table
        .module
        .clone()
        .unwrap_or_else(|| UNASSIGNED_MODULE.to_owned())
}

fn is_json(column: &Column) -> bool {
    matches!(
        column.ty,
        crate::model::PgType::Jsonb | crate::model::PgType::Json
    )
}

/// `properties` → `Property`, then ever more specific names.
fn table_candidates(table: &Table) -> Vec<String> {
    let singular = pascal_identifier(&crate::model::inflect::singular(&table.name));
    let plural = pascal_identifier(&table.name);
    let module = pascal_identifier(&module_title(table));
    vec![
        singular.clone(),
        format!("{module}{singular}"),
        plural.clone(),
        format!("{module}{plural}"),
    ]
}

/// Titles and places of the JSON examples attached to a column.
fn json_titles(schema: &Schema, table: &str, column: &str) -> Vec<(String, String)> {
    schema
        .json_examples
        .iter()
        .filter(|e| e.table.as_deref() == Some(table) && e.column.as_deref() == Some(column))
        .map(|e| (e.title.clone(), e.source.to_string()))
        .collect()
}

fn check_source(table: &Table, column: &str) -> String {
    table
        .check_constraints
        .iter()
        .find(|c| c.column.as_deref() == Some(column) && !c.allowed_values.is_empty())
        .map(|c| c.source.to_string())
        .unwrap_or_default()
}

fn enum_view(name: &str, root: &EnumRoot, table: &str) -> EnumView {
    let variants: Vec<String> = root
        .plan
        .variants
        .iter()
        .map(|v| match &v.rename {
            Some(value) => format!(
                "    #[serde(rename = {0})]\n    #[sqlx(rename = {0})]\n    {1},",
                literal(value),
                v.name
            ),
            None => format!("    {},", v.name),
        })
        .collect();
    let values: Vec<String> = root
        .plan
        .variants
        .iter()
        .map(|v| {
            v.rename
                .clone()
                .unwrap_or_else(|| names::serde_snake_case(&v.name))
        })
        .collect();
    EnumView {
        name: name.to_owned(),
        doc: doc_block(
            0,
            &[format!(
                "The values of `{table}.{}`: the CHECK constraint's list, {} (`{}`).",
                root.column,
                code_list(&values),
                root.source
            )],
        ),
        type_name: root.plan.type_name,
        variants: variants.join("\n"),
    }
}

/// Plans the struct of a documented JSON object, and those of the objects
/// nested in it, in the order they are used.
fn plan_json_struct(
    namer: &mut Namer,
    name: &str,
    properties: &BTreeMap<String, JsonShape>,
    doc_intro: &str,
    out: &mut Vec<JsonStructView>,
) {
    let plan = types::json_struct_plan(properties);
    let mut nested = Vec::new();
    let mut lines = Vec::new();
    for field in &plan.fields {
        let object_name = match types::object_of(&field.shape) {
            Some((inner, is_array)) => {
                let word = if is_array {
                    crate::model::inflect::singular(&field.key.to_lowercase())
                } else {
                    field.key.clone()
                };
                let candidate = format!("{name}{}", pascal_identifier(&word));
                let nested_name = namer
                    .allocate(&[NameRequest::new(vec![candidate])])
                    .remove(0);
                nested.push((nested_name.clone(), inner.clone(), field.key.clone()));
                Some(nested_name)
            }
            None => None,
        };
        let ty = types::json_type(&field.shape, object_name.as_deref());
        let mut attrs = Vec::new();
        if unraw(&field.identifier) != field.key {
            attrs.push(format!("rename = {}", literal(&field.key)));
        }
        attrs.push("skip_serializing_if = \"Option::is_none\"".to_owned());
        lines.push(format!("    #[serde({})]", attrs.join(", ")));
        lines.push(field_line(&field.identifier, &format!("Option<{ty}>")));
    }
    lines.push("    /// Members the documented examples do not show, kept as they are.".to_owned());
    lines.push("    #[serde(flatten)]".to_owned());
    lines.push(field_line(
        &plan.other_field,
        "serde_json::Map<String, serde_json::Value>",
    ));
    out.push(JsonStructView {
        name: name.to_owned(),
        doc: doc_block(
            0,
            &[
                doc_intro.to_owned(),
                "Every member is optional: the examples show what may be there, not what must be."
                    .to_owned(),
            ],
        ),
        fields: lines.join("\n"),
    });
    for (nested_name, inner, key) in nested {
        plan_json_struct(
            namer,
            &nested_name,
            &inner,
            &format!("The `{key}` member of [`{name}`]."),
            out,
        );
    }
}

/// Renders the crate's files through the `rust/*.tera` templates.
pub fn render(plan: &CratePlan, templates: &Templates) -> Result<Vec<OutputFile>, EmitError> {
    let context = tera::Context::from_serialize(plan).map_err(|e| EmitError::Serialize {
        what: "the Rust models".to_owned(),
        message: e.to_string(),
    })?;
    let mut files = vec![
        OutputFile::new(
            format!("{CRATE_DIRECTORY}/Cargo.toml"),
            templates.render("rust/Cargo.toml.tera", &context)?,
        ),
        OutputFile::new(
            format!("{CRATE_DIRECTORY}/src/lib.rs"),
            templates.render("rust/lib.rs.tera", &context)?,
        ),
    ];
    for module in &plan.modules {
        let mut context = tera::Context::new();
        context.insert("module", module);
        files.push(OutputFile::new(
            format!("{CRATE_DIRECTORY}/src/{}.rs", module.file),
            templates.render("rust/module.rs.tera", &context)?,
        ));
    }
    Ok(files)
}

#[cfg(test)]
mod tests;
