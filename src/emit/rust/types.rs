//! PostgreSQL types as Rust types, with the imports they need. The
//! README's "Rust models" table documents the same mapping. Closed value
//! sets become enums and documented JSON structures become structs; both are
//! planned here and named by `names::Namer`.

use super::names::{pascal_identifier, serde_snake_case, snake_identifier, unique_in};
use crate::model::{JsonShape, PgType};
use heck::ToSnakeCase;
use std::collections::BTreeSet;

/// A name a generated module imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Import {
    DateTime,
    NaiveDate,
    NaiveDateTime,
    NaiveTime,
    Utc,
    Vector,
    Decimal,
    Json,
    Uuid,
}

impl Import {
    /// The path it is imported from, and its name.
    fn path(self) -> (&'static str, &'static str) {
        match self {
            Import::DateTime => ("chrono", "DateTime"),
            Import::NaiveDate => ("chrono", "NaiveDate"),
            Import::NaiveDateTime => ("chrono", "NaiveDateTime"),
            Import::NaiveTime => ("chrono", "NaiveTime"),
            Import::Utc => ("chrono", "Utc"),
            Import::Vector => ("pgvector", "Vector"),
            Import::Decimal => ("rust_decimal", "Decimal"),
            Import::Json => ("sqlx::types", "Json"),
            Import::Uuid => ("uuid", "Uuid"),
        }
    }
}

/// `use` lines for a set of imports, one per path, sorted as rustfmt sorts them.
pub fn use_lines(imports: &BTreeSet<Import>) -> Vec<String> {
    let mut by_path: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for import in imports {
        let (path, name) = import.path();
        by_path.entry(path).or_default().push(name);
    }
    by_path
        .into_iter()
        .map(|(path, names)| match names.as_slice() {
            [one] => format!("use {path}::{one};"),
            many => format!("use {path}::{{{}}};", many.join(", ")),
        })
        .collect()
}

/// The Rust type of a column's value, not counting nullability; `None` for
/// types the generated crate cannot read (interval, inet, unknown types).
pub fn scalar(ty: &PgType, imports: &mut BTreeSet<Import>) -> Option<String> {
    let mut use_ = |i: Import| {
        imports.insert(i);
    };
    Some(match ty {
        PgType::Uuid => {
            use_(Import::Uuid);
            "Uuid".to_owned()
        }
        PgType::Text | PgType::Varchar(_) => "String".to_owned(),
        PgType::Numeric(_) => {
            use_(Import::Decimal);
            "Decimal".to_owned()
        }
        PgType::SmallInt => "i16".to_owned(),
        PgType::Integer => "i32".to_owned(),
        PgType::BigInt => "i64".to_owned(),
        PgType::Real => "f32".to_owned(),
        PgType::DoublePrecision => "f64".to_owned(),
        PgType::Boolean => "bool".to_owned(),
        PgType::Timestamptz => {
            use_(Import::DateTime);
            use_(Import::Utc);
            "DateTime<Utc>".to_owned()
        }
        PgType::Timestamp => {
            use_(Import::NaiveDateTime);
            "NaiveDateTime".to_owned()
        }
        PgType::Date => {
            use_(Import::NaiveDate);
            "NaiveDate".to_owned()
        }
        PgType::Time => {
            use_(Import::NaiveTime);
            "NaiveTime".to_owned()
        }
        PgType::Bytea => "Vec<u8>".to_owned(),
        PgType::Jsonb | PgType::Json => "serde_json::Value".to_owned(),
        PgType::Vector(_) => {
            use_(Import::Vector);
            "Vector".to_owned()
        }
        // sqlx decodes one-dimensional arrays of scalars; a bytea array would
        // be a Vec of Vecs, which it does not.
        PgType::Array(element) if !matches!(**element, PgType::Array(_) | PgType::Bytea) => {
            format!("Vec<{}>", scalar(element, imports)?)
        }
        PgType::Array(_) | PgType::Interval | PgType::Inet | PgType::Unknown(_) => return None,
    })
}

/// Whether `scalar`'s type for `ty` is `Copy`: such fields are bound by
/// value, the others by reference.
pub fn is_copy(ty: &PgType) -> bool {
    matches!(
        ty,
        PgType::Uuid
            | PgType::Numeric(_)
            | PgType::SmallInt
            | PgType::Integer
            | PgType::BigInt
            | PgType::Real
            | PgType::DoublePrecision
            | PgType::Boolean
            | PgType::Timestamptz
            | PgType::Timestamp
            | PgType::Date
            | PgType::Time
    )
}

/// A Rust enum for a closed value set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumPlan {
    /// The PostgreSQL type the values are stored as (`text`, `varchar`).
    pub type_name: &'static str,
    pub variants: Vec<Variant>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub name: String,
    /// The stored value, when `rename_all = "snake_case"` does not give it.
    pub rename: Option<String>,
}

/// An enum for a text column with a CHECK `IN` list; `None` for other types.
pub fn enum_plan(ty: &PgType, values: &[String]) -> Option<EnumPlan> {
    let type_name = match ty {
        PgType::Text => "text",
        // sqlx compares a declared type's name with the column's, so a
        // varchar column needs an enum declared as varchar.
        PgType::Varchar(_) => "varchar",
        _ => return None,
    };
    let mut used = BTreeSet::new();
    let variants = values
        .iter()
        .map(|value| {
            let name = unique_in(&mut used, pascal_identifier(value));
            let round_trips = serde_snake_case(&name) == *value && name.to_snake_case() == *value;
            Variant {
                rename: (!round_trips).then(|| value.clone()),
                name,
            }
        })
        .collect();
    Some(EnumPlan {
        type_name,
        variants,
    })
}

/// A struct for a documented JSON object: its fields, and the nested
/// objects that need structs of their own.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonStructPlan {
    pub fields: Vec<JsonField>,
    /// The field that keeps members the examples do not show.
    pub other_field: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JsonField {
    pub identifier: String,
    /// The JSON member name.
    pub key: String,
    pub shape: JsonShape,
}

/// Fields of a documented object, in key order, names made unique.
pub fn json_struct_plan(
    properties: &std::collections::BTreeMap<String, JsonShape>,
) -> JsonStructPlan {
    let mut used = BTreeSet::new();
    let fields: Vec<JsonField> = properties
        .iter()
        .map(|(key, shape)| JsonField {
            identifier: unique_in(&mut used, snake_identifier(key)),
            key: key.clone(),
            shape: shape.clone(),
        })
        .collect();
    let other_field = unique_in(&mut used, "other".to_owned());
    JsonStructPlan {
        fields,
        other_field,
    }
}

/// Whether a shape gets a typed Rust value: an object, or an array whose
/// items are typed.
pub fn is_typed(shape: &JsonShape) -> bool {
    match shape {
        JsonShape::Object { .. } => true,
        JsonShape::Array { items } => !matches!(**items, JsonShape::Null | JsonShape::Any),
        _ => false,
    }
}

/// The object a shape holds a struct for: itself, or an array's items
/// (`true` when it is an array's).
pub fn object_of(
    shape: &JsonShape,
) -> Option<(&std::collections::BTreeMap<String, JsonShape>, bool)> {
    match shape {
        JsonShape::Object { properties } => Some((properties, false)),
        JsonShape::Array { items } => object_of(items).map(|(p, _)| (p, true)),
        _ => None,
    }
}

/// The Rust type of a JSON value of this shape; `object` names the struct
/// an object (or an array's object items) becomes.
pub fn json_type(shape: &JsonShape, object: Option<&str>) -> String {
    match shape {
        JsonShape::Null | JsonShape::Any => "serde_json::Value".to_owned(),
        JsonShape::Boolean => "bool".to_owned(),
        JsonShape::Integer => "i64".to_owned(),
        JsonShape::Number => "f64".to_owned(),
        JsonShape::String => "String".to_owned(),
        JsonShape::Array { items } => format!("Vec<{}>", json_type(items, object)),
        JsonShape::Object { .. } => object.unwrap_or("serde_json::Value").to_owned(),
    }
}

/// A struct name from an example's title: `Property Criteria (saved_searches)`
/// → `PropertyCriteria`; `Criteria JSON Structure` → `Criteria`. Items of an
/// array take the singular (`Chat Messages` → `ChatMessage`).
pub fn title_name(title: &str, singular: bool) -> Option<String> {
    let mut without_parentheses = String::new();
    let mut depth = 0usize;
    for c in title.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            c if depth == 0 => without_parentheses.push(c),
            _ => {}
        }
    }
    const FILLER: &[&str] = &["json", "jsonb", "structure", "example", "format", "schema"];
    let words: Vec<String> = without_parentheses
        .to_snake_case()
        .split('_')
        .filter(|w| !w.is_empty() && !FILLER.contains(w))
        .map(str::to_owned)
        .collect();
    if words.is_empty() {
        return None;
    }
    let snake = words.join("_");
    let snake = if singular {
        crate::model::inflect::singular(&snake)
    } else {
        snake
    };
    Some(pascal_identifier(&snake))
}

/// The best of several titles: the most words, then the first in order.
pub fn best_title_name(titles: &[&str], singular: bool) -> Option<String> {
    let mut names: Vec<String> = titles
        .iter()
        .filter_map(|t| title_name(t, singular))
        .collect();
    names.sort_by(|a, b| {
        let words = |s: &str| s.chars().filter(|c| c.is_ascii_uppercase()).count();
        words(b).cmp(&words(a)).then_with(|| a.cmp(b))
    });
    names.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_s_type_table() {
        let mut imports = BTreeSet::new();
        for (pg, rust) in [
            ("uuid", "Uuid"),
            ("text", "String"),
            ("varchar(20)", "String"),
            ("smallint", "i16"),
            ("integer", "i32"),
            ("bigint", "i64"),
            ("numeric(10,2)", "Decimal"),
            ("decimal", "Decimal"),
            ("boolean", "bool"),
            ("timestamptz", "DateTime<Utc>"),
            ("timestamp", "NaiveDateTime"),
            ("date", "NaiveDate"),
            ("jsonb", "serde_json::Value"),
            ("text[]", "Vec<String>"),
            ("uuid[]", "Vec<Uuid>"),
            ("vector(1536)", "Vector"),
        ] {
            assert_eq!(
                scalar(&PgType::parse(pg), &mut imports).as_deref(),
                Some(rust),
                "{pg}"
            );
        }
        assert_eq!(scalar(&PgType::Interval, &mut imports), None);
        assert_eq!(
            use_lines(&imports),
            [
                "use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};",
                "use pgvector::Vector;",
                "use rust_decimal::Decimal;",
                "use uuid::Uuid;"
            ]
        );
    }

    #[test]
    fn enums_rename_what_snake_case_cannot_spell() {
        let values: Vec<String> = ["5min", "peer_review", "a", "a b"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let plan = enum_plan(&PgType::Varchar(None), &values).unwrap();
        assert_eq!(plan.type_name, "varchar");
        let shown: Vec<(String, Option<String>)> = plan
            .variants
            .into_iter()
            .map(|v| (v.name, v.rename))
            .collect();
        assert_eq!(
            shown,
            [
                ("V5min".to_owned(), Some("5min".to_owned())),
                ("PeerReview".to_owned(), None),
                ("A".to_owned(), None),
                ("Ab".to_owned(), Some("a b".to_owned())),
            ]
        );
        assert_eq!(enum_plan(&PgType::Integer, &values), None);
    }

    #[test]
    fn titles_name_structs() {
        assert_eq!(
            best_title_name(
                &[
                    "Criteria JSON Structure",
                    "Property Criteria (saved_searches)"
                ],
                false
            )
            .as_deref(),
            Some("PropertyCriteria")
        );
        assert_eq!(
            best_title_name(
                &["Message Structure", "Chat Messages (javari_chat_sessions)"],
                true
            )
            .as_deref(),
            Some("ChatMessage")
        );
        assert_eq!(title_name("JSON Structure", false), None);
    }
}
