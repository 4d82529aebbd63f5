//! JSON Schemas (OpenAPI 3.1 dialect) for tables: a row schema for what the
//! API returns, an Insert schema for POST bodies and an Update schema for
//! PATCH bodies. Everything is read from the realised table, so that the
//! schemas describe the database the migrations create: its defaults decide
//! what an insert must carry, its CHECKs give enums, its policies are listed.
//! Nullability uses JSON Schema type arrays (`["string", "null"]`), which is
//! what OpenAPI 3.1 has instead of 3.0's `nullable`.

use crate::model::{Column, JsonShape, PgType, Schema, Table};
use heck::ToUpperCamelCase;
use serde_json::{Map, Value, json};

/// Whether a schema describes data the API returns or data a client sends.
/// They differ only for pgvector, which PostgREST accepts as a JSON array but
/// returns in pgvector's text form, as a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    Read,
    Write,
}

/// The three component schemas of one table.
pub(super) struct TableSchemas {
    pub row: Value,
    pub insert: Value,
    pub update: Value,
}

/// Component names: `javari_ab_tests` → `JavariAbTests`, `…Insert`, `…Update`.
pub(super) fn component_names(table: &str) -> [String; 3] {
    let base = table.to_upper_camel_case();
    [
        base.clone(),
        format!("{base}Insert"),
        format!("{base}Update"),
    ]
}

/// Builds the three schemas of a realised table. `documented` supplies the
/// field glossary, which describes common columns (`id`, `created_at`) that
/// the column tables leave blank.
pub(super) fn table_schemas(table: &Table, documented: &Schema) -> TableSchemas {
    let common = common_annotations(table);
    let read_properties: Map<String, Value> = table
        .columns
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                column_schema(table, c, documented, Direction::Read),
            )
        })
        .collect();
    let write_properties: Map<String, Value> = table
        .columns
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                column_schema(table, c, documented, Direction::Write),
            )
        })
        .collect();
    let not_null = |c: &&Column| !c.nullable;
    let row_required: Vec<&str> = table
        .columns
        .iter()
        .filter(not_null)
        .map(|c| c.name.as_str())
        .collect();
    // PostgREST's own spec requires every NOT NULL column on insert; a column
    // with a default is filled by the database and is optional.
    let insert_required: Vec<&str> = table
        .columns
        .iter()
        .filter(not_null)
        .filter(|c| c.default.is_none())
        .map(|c| c.name.as_str())
        .collect();
    let purpose = table_description(table);

    let mut row = Map::new();
    row.insert("type".into(), json!("object"));
    row.insert("description".into(), json!(purpose));
    row.insert("required".into(), json!(row_required));
    row.insert("properties".into(), Value::Object(read_properties));
    row.extend(common.clone());

    // PostgREST rejects a body naming a column the table does not have, so
    // request bodies are closed; rows stay open for `select` with embeddings.
    let mut insert = Map::new();
    insert.insert("type".into(), json!("object"));
    insert.insert(
        "description".into(),
        json!(format!(
            "Body of an insert into `{}`: columns with a default may be left out. {purpose}",
            table.name
        )),
    );
    insert.insert("required".into(), json!(insert_required));
    insert.insert("properties".into(), Value::Object(write_properties.clone()));
    insert.insert("additionalProperties".into(), json!(false));
    insert.extend(common.clone());

    let mut update = Map::new();
    update.insert("type".into(), json!("object"));
    update.insert(
        "description".into(),
        json!(format!(
            "Body of an update of `{}`: every column is optional. {purpose}",
            table.name
        )),
    );
    update.insert("properties".into(), Value::Object(write_properties));
    update.insert("additionalProperties".into(), json!(false));
    update.extend(common);

    TableSchemas {
        row: Value::Object(row),
        insert: Value::Object(insert),
        update: Value::Object(update),
    }
}

/// What the documents say the table is for.
fn table_description(table: &Table) -> String {
    let parts: Vec<&str> = [table.meta.purpose.as_deref(), table.meta.note.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        format!("A row of `{}`.", table.name)
    } else {
        parts.join("\n\n")
    }
}

/// `x-table`, `x-source`, `x-module`, the primary key and the RLS policies,
/// the same on all three schemas of a table.
fn common_annotations(table: &Table) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("x-table".into(), json!(table.name));
    out.insert("x-source".into(), json!(table.source.to_string()));
    if let Some(module) = &table.module {
        out.insert("x-module".into(), json!(module));
    }
    if let Some(pk) = &table.primary_key {
        out.insert("x-primary-key".into(), json!(pk.columns));
    }
    out.insert("x-rls-enabled".into(), json!(table.rls_enabled));
    let policies: Vec<Value> = table
        .policies
        .iter()
        .map(|p| {
            let mut policy = Map::new();
            policy.insert("name".into(), json!(p.name));
            policy.insert("command".into(), json!(p.command.as_sql()));
            // PostgreSQL reads an empty role list as PUBLIC.
            let roles: Vec<&str> = if p.roles.is_empty() {
                vec!["public"]
            } else {
                p.roles.iter().map(String::as_str).collect()
            };
            policy.insert("roles".into(), json!(roles));
            policy.insert("permissive".into(), json!(p.permissive));
            if let Some(using) = &p.using {
                policy.insert("using".into(), json!(using));
            }
            if let Some(check) = &p.with_check {
                policy.insert("with_check".into(), json!(check));
            }
            policy.insert("x-source".into(), json!(p.source.to_string()));
            Value::Object(policy)
        })
        .collect();
    out.insert("x-rls".into(), Value::Array(policies));
    out
}

/// The schema of one column: its type, nullability, enum, description,
/// default and the read/write annotations.
pub(super) fn column_schema(
    table: &Table,
    column: &Column,
    documented: &Schema,
    direction: Direction,
) -> Value {
    let mut schema = type_schema(&column.ty, column.json_shape.as_ref(), direction);
    let (values, enforced) = enum_values(table, column);
    if let Some(values) = values {
        schema.insert("enum".into(), Value::Array(values));
        schema.insert("x-enum-enforced".into(), json!(enforced));
    }
    if column.nullable {
        make_nullable(&mut schema);
    }
    let description = column.description.clone().or_else(|| {
        documented
            .glossary
            .get(&column.name)
            .and_then(|g| g.description.clone())
    });
    if let Some(description) = description.filter(|d| !d.trim().is_empty()) {
        schema.insert("description".into(), json!(description.trim()));
    }
    if let Some(default) = &column.default {
        if let Some(value) = literal_default(default, &column.ty) {
            schema.insert("default".into(), value);
        }
        schema.insert("x-pg-default".into(), json!(default));
    }
    if is_generated(table, column) {
        schema.insert("readOnly".into(), json!(true));
    }
    if table.is_sensitive(column) {
        schema.insert("writeOnly".into(), json!(true));
    }
    if let Some(reference) = foreign_key(table, column) {
        schema.insert("x-references".into(), json!(reference));
    }
    schema.insert("x-pg-type".into(), json!(column.ty.to_string()));
    schema.insert("x-source".into(), json!(column.source.to_string()));
    Value::Object(schema)
}

/// The JSON Schema of a PostgreSQL type, as PostgREST serialises it. The
/// README's type-mapping table documents the same rules.
pub(super) fn type_schema(
    ty: &PgType,
    shape: Option<&JsonShape>,
    direction: Direction,
) -> Map<String, Value> {
    let value = match ty {
        PgType::Uuid => json!({"type": "string", "format": "uuid"}),
        PgType::Text => json!({"type": "string"}),
        PgType::Varchar(None) => json!({"type": "string"}),
        PgType::Varchar(Some(n)) => json!({"type": "string", "maxLength": n}),
        PgType::Numeric(precision) => numeric_schema(*precision),
        PgType::SmallInt => {
            json!({"type": "integer", "format": "int16", "minimum": i16::MIN, "maximum": i16::MAX})
        }
        PgType::Integer => json!({"type": "integer", "format": "int32"}),
        PgType::BigInt => json!({"type": "integer", "format": "int64"}),
        PgType::Real => json!({"type": "number", "format": "float"}),
        PgType::DoublePrecision => json!({"type": "number", "format": "double"}),
        PgType::Boolean => json!({"type": "boolean"}),
        PgType::Timestamptz => json!({"type": "string", "format": "date-time"}),
        // Without a time zone the value is not an RFC 3339 date-time.
        PgType::Timestamp => json!({
            "type": "string",
            "pattern": r"^\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$"
        }),
        PgType::Date => json!({"type": "string", "format": "date"}),
        PgType::Time => json!({"type": "string", "pattern": r"^\d{2}:\d{2}:\d{2}(\.\d+)?$"}),
        PgType::Interval | PgType::Inet => json!({"type": "string"}),
        PgType::Bytea => json!({"type": "string", "pattern": r"^\\x([0-9a-fA-F]{2})*$"}),
        PgType::Jsonb | PgType::Json => match shape {
            Some(shape) => Value::Object(shape_schema(shape)),
            // A jsonb column may hold any JSON value, null included.
            None => json!({}),
        },
        PgType::Vector(dimensions) => vector_schema(*dimensions, direction),
        PgType::Array(element) => json!({
            "type": "array",
            "items": Value::Object(type_schema(element, None, direction)),
        }),
        PgType::Unknown(_) => json!({}),
    };
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `numeric(p,s)` keeps its precision as `x-precision`/`x-scale` and bounds
/// the value: fewer than `p - s` integer digits. `multipleOf` would state the
/// scale but fails on binary floating point (0.07 is not a multiple of 0.01
/// in a double), so it is left out.
fn numeric_schema(precision: Option<(u32, u32)>) -> Value {
    let mut schema = json!({"type": "number", "format": "decimal"});
    if let Some((p, s)) = precision {
        schema["x-precision"] = json!(p);
        schema["x-scale"] = json!(s);
        if let Some(bound) = 10i64.checked_pow(p.saturating_sub(s)) {
            schema["exclusiveMaximum"] = json!(bound);
            schema["exclusiveMinimum"] = json!(-bound);
        }
    }
    schema
}

/// pgvector has no JSON cast, so PostgREST (and `row_to_json`) return a
/// vector as text, `"[1,2,3]"`: a string whose content is the array. Input
/// goes through pgvector's parser, which reads the JSON array form.
fn vector_schema(dimensions: Option<u32>, direction: Direction) -> Value {
    let mut array = json!({"type": "array", "items": {"type": "number"}});
    if let Some(n) = dimensions {
        array["minItems"] = json!(n);
        array["maxItems"] = json!(n);
    }
    match direction {
        Direction::Write => array,
        Direction::Read => json!({
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": array,
        }),
    }
}

/// A documented JSON structure as a schema. Fields are not required: the
/// examples show what may be there, not what must be.
pub(super) fn shape_schema(shape: &JsonShape) -> Map<String, Value> {
    let value = match shape {
        // A field only ever shown as null says nothing about its type.
        JsonShape::Null | JsonShape::Any => json!({}),
        JsonShape::Boolean => json!({"type": "boolean"}),
        JsonShape::Integer => json!({"type": "integer"}),
        JsonShape::Number => json!({"type": "number"}),
        JsonShape::String => json!({"type": "string"}),
        JsonShape::Array { items } => json!({
            "type": "array",
            "items": Value::Object(shape_schema(items)),
        }),
        JsonShape::Object { properties } => {
            let properties: Map<String, Value> = properties
                .iter()
                .map(|(name, shape)| (name.clone(), Value::Object(shape_schema(shape))))
                .collect();
            json!({"type": "object", "properties": properties})
        }
    };
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A schema from a documented example such as the API response envelope.
/// Members the example shows are required, except elided ones (`{ ... }`,
/// read as null), whose shape the documents do not give. A top-level boolean
/// that differs from the counterpart example (`success: true` against
/// `false`) tells the two apart, so it becomes a `const`.
pub(super) fn example_schema(
    example: &Value,
    counterpart: Option<&Value>,
    description: &str,
    source: &crate::model::Source,
) -> Value {
    let mut schema = value_schema(example);
    if let (Some(Value::Object(properties)), Value::Object(members)) =
        (schema.get_mut("properties"), example)
    {
        for (name, value) in members {
            let differs = counterpart
                .and_then(|c| c.get(name))
                .is_some_and(|other| other != value);
            if let (Value::Bool(flag), true) = (value, differs)
                && let Some(Value::Object(property)) = properties.get_mut(name)
            {
                property.insert("const".into(), json!(flag));
            }
        }
    }
    schema.insert("description".into(), json!(description));
    schema.insert("x-source".into(), json!(source.to_string()));
    Value::Object(schema)
}

/// Formats whose name the documents write in place of a value (`"uuid"`).
const FORMAT_PLACEHOLDERS: &[&str] = &["uuid", "date", "date-time", "email", "uri"];

fn value_schema(value: &Value) -> Map<String, Value> {
    let schema = match value {
        Value::Null => json!({"description": "Not shown in the documented example."}),
        Value::Bool(_) => json!({"type": "boolean"}),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!({"type": "integer", "examples": [n]}),
        Value::Number(n) => json!({"type": "number", "examples": [n]}),
        Value::String(s) if FORMAT_PLACEHOLDERS.contains(&s.as_str()) => {
            json!({"type": "string", "format": s})
        }
        // No example here: YAML 1.1 readers (PyYAML) would load an unquoted
        // timestamp as a date, not a string, and the format already says it.
        Value::String(s) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => {
            json!({"type": "string", "format": "date-time"})
        }
        Value::String(s) => json!({"type": "string", "examples": [s]}),
        Value::Array(items) => json!({
            "type": "array",
            "items": items.first().map_or_else(|| json!({}), |i| Value::Object(value_schema(i))),
        }),
        Value::Object(members) => {
            let properties: Map<String, Value> = members
                .iter()
                .map(|(name, v)| (name.clone(), Value::Object(value_schema(v))))
                .collect();
            let required: Vec<&String> = members
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(name, _)| name)
                .collect();
            json!({"type": "object", "required": required, "properties": properties})
        }
    };
    match schema {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Adds `null` to a schema's type (and to its enum, which JSON Schema checks
/// separately). A schema without a type already accepts null.
fn make_nullable(schema: &mut Map<String, Value>) {
    match schema.get_mut("type") {
        Some(Value::String(ty)) => {
            let ty = std::mem::take(ty);
            schema.insert("type".into(), json!([ty, "null"]));
        }
        Some(Value::Array(types)) if !types.contains(&json!("null")) => types.push(json!("null")),
        _ => {}
    }
    if let Some(Value::Array(values)) = schema.get_mut("enum")
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
}

/// The closed set of values for a column: from a CHECK `IN` list when the
/// database enforces one, otherwise from the documented values. Values that
/// do not fit the column's type are not an enum of it.
fn enum_values(table: &Table, column: &Column) -> (Option<Vec<Value>>, bool) {
    let (raw, enforced) = match table.allowed_values(&column.name) {
        Some(values) => (values, true),
        None if !column.documented_values.is_empty() => {
            (column.documented_values.as_slice(), false)
        }
        None => return (None, false),
    };
    let values: Option<Vec<Value>> = raw.iter().map(|v| typed_value(v, &column.ty)).collect();
    (values, enforced)
}

/// A value written as text, as the JSON value of a column of type `ty`.
fn typed_value(raw: &str, ty: &PgType) -> Option<Value> {
    match ty {
        PgType::Text | PgType::Varchar(_) => Some(json!(raw)),
        PgType::SmallInt | PgType::Integer | PgType::BigInt => {
            raw.trim().parse::<i64>().ok().map(Value::from)
        }
        PgType::Numeric(_) | PgType::Real | PgType::DoublePrecision => {
            let number: serde_json::Number = raw.trim().parse().ok()?;
            Some(Value::Number(number))
        }
        PgType::Boolean => match raw.trim().to_ascii_lowercase().as_str() {
            "true" => Some(json!(true)),
            "false" => Some(json!(false)),
            _ => None,
        },
        _ => None,
    }
}

/// A SQL default that is a plain literal (`'active'`, `0`, `true`) as JSON;
/// expressions such as `now()` have no JSON value and stay in `x-pg-default`.
fn literal_default(sql: &str, ty: &PgType) -> Option<Value> {
    let trimmed = sql.trim();
    // `'active'::character varying` carries a cast that changes nothing.
    let literal = match trimmed.split_once("::") {
        Some((literal, _)) => literal.trim(),
        None => trimmed,
    };
    let text = match literal
        .strip_prefix('\'')
        .and_then(|l| l.strip_suffix('\''))
    {
        Some(quoted) => quoted.replace("''", "'"),
        None if literal.contains('(') || literal.contains('\'') => return None,
        None => literal.to_owned(),
    };
    typed_value(&text, ty)
}

/// Columns the database fills and a client never sets: a primary key `id`
/// generated by its default, and `created_at`.
fn is_generated(table: &Table, column: &Column) -> bool {
    if column.default.is_none() {
        return false;
    }
    let single_key = table
        .primary_key
        .as_ref()
        .is_some_and(|pk| pk.columns == [column.name.clone()]);
    (single_key && column.name == "id") || column.name == "created_at"
}

/// `users.id` for a column that is a single-column foreign key.
fn foreign_key(table: &Table, column: &Column) -> Option<String> {
    table.single_column_foreign_key(&column.name).map(|fk| {
        format!(
            "{}.{}",
            fk.references,
            fk.referenced_columns.first().map_or("id", String::as_str)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CheckConstraint, FkOrigin, ForeignKey, PrimaryKey, Source, TableRef};

    fn source() -> Source {
        Source::new("doc.md", 1)
    }

    fn column(name: &str, ty: &str, nullable: bool, default: Option<&str>) -> Column {
        let mut c = Column::new(name, PgType::parse(ty), source());
        c.nullable = nullable;
        c.default = default.map(str::to_owned);
        c
    }

    fn table() -> Table {
        let mut t = Table::new("javari_items", crate::model::Documentation::Full, source());
        t.columns = vec![
            column("id", "uuid", false, Some("gen_random_uuid()")),
            column("status", "text", false, Some("'active'")),
            column("title", "varchar(80)", false, None),
            column("price", "numeric(10,2)", true, None),
            column("api_key_id", "uuid", true, None),
            column("encrypted_value", "text", false, None),
            column("created_at", "timestamptz", false, Some("now()")),
        ];
        t.primary_key = Some(PrimaryKey {
            name: None,
            columns: vec!["id".into()],
            source: source(),
        });
        t.check_constraints.push(CheckConstraint {
            name: None,
            column: Some("status".into()),
            expression: "status IN ('active', 'archived')".into(),
            allowed_values: vec!["active".into(), "archived".into()],
            source: source(),
        });
        t.foreign_keys.push(ForeignKey {
            name: None,
            columns: vec!["api_key_id".into()],
            references: TableRef::parse("credentials"),
            referenced_columns: vec!["id".into()],
            on_delete: None,
            on_update: None,
            origin: FkOrigin::Description,
            source: source(),
        });
        t
    }

    #[test]
    fn maps_every_type_as_the_readme_says() {
        let cases = [
            ("uuid", json!({"type": "string", "format": "uuid"})),
            (
                "timestamptz",
                json!({"type": "string", "format": "date-time"}),
            ),
            ("date", json!({"type": "string", "format": "date"})),
            ("integer", json!({"type": "integer", "format": "int32"})),
            ("bigint", json!({"type": "integer", "format": "int64"})),
            ("boolean", json!({"type": "boolean"})),
            ("text", json!({"type": "string"})),
            ("varchar(255)", json!({"type": "string", "maxLength": 255})),
            ("numeric", json!({"type": "number", "format": "decimal"})),
            (
                "numeric(3,2)",
                json!({"type": "number", "format": "decimal", "x-precision": 3, "x-scale": 2,
                       "exclusiveMaximum": 10, "exclusiveMinimum": -10}),
            ),
            (
                "text[]",
                json!({"type": "array", "items": {"type": "string"}}),
            ),
            (
                "vector(3)",
                json!({"type": "array", "items": {"type": "number"}, "minItems": 3, "maxItems": 3}),
            ),
            ("jsonb", json!({})),
        ];
        for (ty, expected) in cases {
            let actual = Value::Object(type_schema(&PgType::parse(ty), None, Direction::Write));
            assert_eq!(actual, expected, "{ty}");
        }
        let read = Value::Object(type_schema(
            &PgType::parse("vector(3)"),
            None,
            Direction::Read,
        ));
        assert_eq!(read["type"], "string");
        assert_eq!(read["contentSchema"]["maxItems"], 3);
    }

    #[test]
    fn jsonb_with_a_documented_structure_is_typed() {
        let shape = JsonShape::infer(&json!({"cities": ["a"], "max_price": 3}));
        let schema = Value::Object(type_schema(&PgType::Jsonb, Some(&shape), Direction::Read));
        assert_eq!(
            schema,
            json!({"type": "object", "properties": {
                "cities": {"type": "array", "items": {"type": "string"}},
                "max_price": {"type": "integer"}}})
        );
    }

    #[test]
    fn required_nullability_enums_and_access() {
        let schemas = table_schemas(&table(), &Schema::default());
        assert_eq!(
            schemas.row["required"],
            json!(["id", "status", "title", "encrypted_value", "created_at"])
        );
        assert_eq!(
            schemas.insert["required"],
            json!(["title", "encrypted_value"])
        );
        assert!(schemas.update.get("required").is_none());
        let props = &schemas.row["properties"];
        assert_eq!(props["price"]["type"], json!(["number", "null"]));
        assert_eq!(props["status"]["enum"], json!(["active", "archived"]));
        assert_eq!(props["status"]["default"], "active");
        assert_eq!(props["status"]["x-enum-enforced"], true);
        assert_eq!(props["id"]["readOnly"], true);
        assert_eq!(props["created_at"]["readOnly"], true);
        assert_eq!(props["encrypted_value"]["writeOnly"], true);
        assert!(props["api_key_id"].get("writeOnly").is_none());
        assert_eq!(props["api_key_id"]["x-references"], "credentials.id");
        assert_eq!(schemas.row["x-table"], "javari_items");
        assert_eq!(schemas.insert["x-source"], "doc.md:1");
        assert_eq!(schemas.insert["additionalProperties"], false);
    }

    #[test]
    fn nullable_enums_accept_null_and_mismatched_values_are_no_enum() {
        let mut t = table();
        let mut level = column("level", "integer", true, None);
        level.documented_values = vec!["1".into(), "2".into()];
        let mut mood = column("mood", "integer", false, None);
        mood.documented_values = vec!["happy".into()];
        t.columns.extend([level.clone(), mood.clone()]);
        let level = column_schema(&t, &level, &Schema::default(), Direction::Read);
        assert_eq!(level["enum"], json!([1, 2, null]));
        assert_eq!(level["x-enum-enforced"], false);
        let mood = column_schema(&t, &mood, &Schema::default(), Direction::Read);
        assert!(mood.get("enum").is_none());
    }

    #[test]
    fn only_literal_defaults_become_json_defaults() {
        assert_eq!(
            literal_default("'active'", &PgType::Text),
            Some(json!("active"))
        );
        assert_eq!(literal_default("0", &PgType::Integer), Some(json!(0)));
        assert_eq!(literal_default("true", &PgType::Boolean), Some(json!(true)));
        assert_eq!(literal_default("now()", &PgType::Timestamptz), None);
        assert_eq!(
            literal_default("'it''s'::text", &PgType::Text),
            Some(json!("it's"))
        );
    }
}
