//! Shapes inferred from the JSON examples the documents give for jsonb
//! columns: field names and JSON types, merged across examples. The shape is
//! JSON-Schema-like so that the OpenAPI and Rust emitters can use it directly.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum JsonShape {
    Null,
    Boolean,
    Integer,
    Number,
    String,
    Array {
        items: Box<JsonShape>,
    },
    Object {
        properties: BTreeMap<String, JsonShape>,
    },
    /// Examples disagree, or nothing is known.
    Any,
}

impl JsonShape {
    pub fn infer(value: &serde_json::Value) -> JsonShape {
        use serde_json::Value;
        match value {
            Value::Null => JsonShape::Null,
            Value::Bool(_) => JsonShape::Boolean,
            Value::Number(n) if n.is_i64() || n.is_u64() => JsonShape::Integer,
            Value::Number(_) => JsonShape::Number,
            Value::String(_) => JsonShape::String,
            Value::Array(items) => JsonShape::Array {
                items: Box::new(
                    items
                        .iter()
                        .map(JsonShape::infer)
                        .reduce(JsonShape::merge)
                        .unwrap_or(JsonShape::Any),
                ),
            },
            Value::Object(map) => JsonShape::Object {
                properties: map
                    .iter()
                    .map(|(k, v)| (k.clone(), JsonShape::infer(v)))
                    .collect(),
            },
        }
    }

    /// Combines two observations of the same value: objects take the union of
    /// their fields, integers widen to numbers, anything else disagreeing
    /// becomes `Any`.
    pub fn merge(self, other: JsonShape) -> JsonShape {
        use JsonShape::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Any, _) | (_, Any) => Any,
            (Null, x) | (x, Null) => x,
            (Integer, Number) | (Number, Integer) => Number,
            (Array { items: a }, Array { items: b }) => Array {
                items: Box::new(a.merge(*b)),
            },
            (Object { properties: mut a }, Object { properties: b }) => {
                for (key, shape) in b {
                    let merged = match a.remove(&key) {
                        Some(existing) => existing.merge(shape),
                        None => shape,
                    };
                    a.insert(key, merged);
                }
                Object { properties: a }
            }
            _ => Any,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_and_merges_objects() {
        let a = JsonShape::infer(&serde_json::json!({"cities": ["a"], "bedrooms": 3}));
        let b = JsonShape::infer(&serde_json::json!({"bedrooms": 2.5, "min_sqft": 1500}));
        let JsonShape::Object { properties } = a.merge(b) else {
            panic!("not an object")
        };
        assert_eq!(properties["bedrooms"], JsonShape::Number);
        assert_eq!(properties["min_sqft"], JsonShape::Integer);
        assert_eq!(
            properties["cities"],
            JsonShape::Array {
                items: Box::new(JsonShape::String)
            }
        );
    }
}
