//! PostgreSQL column types as a closed enum. One parser reads every spelling
//! the tool meets: Markdown type cells (`decimal`, `text[]`), SQL (`DECIMAL(10,2)`,
//! `vector(1536)`) and the catalog's `format_type` output
//! (`character varying(255)`, `timestamp with time zone`, `extensions.vector(1536)`),
//! so documents and live databases compare in one vocabulary.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PgType {
    Uuid,
    Text,
    Varchar(Option<u32>),
    Numeric(Option<(u32, u32)>),
    SmallInt,
    Integer,
    BigInt,
    Real,
    DoublePrecision,
    Boolean,
    Timestamptz,
    Timestamp,
    Date,
    Time,
    Interval,
    Bytea,
    Inet,
    Jsonb,
    Json,
    Vector(Option<u32>),
    Array(Box<PgType>),
    Unknown(String),
}

impl PgType {
    /// Parses a type as written in a document, in SQL or by `format_type`.
    /// Anything unrecognised becomes `Unknown` with the original spelling.
    pub fn parse(raw: &str) -> PgType {
        let trimmed = raw.trim().trim_matches('`').trim();
        let lower = trimmed.to_ascii_lowercase();
        let lower = lower.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some(inner) = lower.strip_suffix("[]") {
            return match PgType::parse(inner) {
                PgType::Unknown(_) => PgType::Unknown(trimmed.to_owned()),
                element => PgType::Array(Box::new(element)),
            };
        }
        // Extension types may be schema-qualified (`extensions.vector`).
        let unqualified = lower
            .strip_prefix("extensions.")
            .or_else(|| lower.strip_prefix("public."))
            .unwrap_or(&lower);
        let (base, args) = split_arguments(unqualified);
        let arg = |i: usize| args.get(i).and_then(|a| a.trim().parse::<u32>().ok());
        match base.trim() {
            "uuid" => PgType::Uuid,
            "text" => PgType::Text,
            "varchar" | "character varying" => PgType::Varchar(arg(0)),
            "decimal" | "numeric" => match (arg(0), arg(1)) {
                (Some(p), Some(s)) => PgType::Numeric(Some((p, s))),
                (Some(p), None) => PgType::Numeric(Some((p, 0))),
                _ => PgType::Numeric(None),
            },
            "smallint" | "int2" => PgType::SmallInt,
            "integer" | "int" | "int4" => PgType::Integer,
            "bigint" | "int8" => PgType::BigInt,
            "real" | "float4" => PgType::Real,
            "double precision" | "float8" | "float" => PgType::DoublePrecision,
            "boolean" | "bool" => PgType::Boolean,
            "timestamptz" | "timestamp with time zone" => PgType::Timestamptz,
            "timestamp" | "timestamp without time zone" => PgType::Timestamp,
            "date" => PgType::Date,
            "time" | "time without time zone" => PgType::Time,
            "interval" => PgType::Interval,
            "bytea" => PgType::Bytea,
            "inet" => PgType::Inet,
            "jsonb" => PgType::Jsonb,
            "json" => PgType::Json,
            "vector" => PgType::Vector(arg(0)),
            _ => PgType::Unknown(trimmed.to_owned()),
        }
    }

    pub fn is_unknown(&self) -> bool {
        match self {
            PgType::Unknown(_) => true,
            PgType::Array(inner) => inner.is_unknown(),
            _ => false,
        }
    }

    /// The type family used to decide whether two spellings "agree": varchar
    /// and text are both text, decimal precision does not matter.
    pub fn base(&self) -> &'static str {
        match self {
            PgType::Uuid => "uuid",
            PgType::Text | PgType::Varchar(_) => "text",
            PgType::Numeric(_) => "numeric",
            PgType::SmallInt | PgType::Integer | PgType::BigInt => "integer",
            PgType::Real | PgType::DoublePrecision => "float",
            PgType::Boolean => "boolean",
            PgType::Timestamptz | PgType::Timestamp => "timestamp",
            PgType::Date => "date",
            PgType::Time => "time",
            PgType::Interval => "interval",
            PgType::Bytea => "bytea",
            PgType::Inet => "inet",
            PgType::Jsonb | PgType::Json => "json",
            PgType::Vector(_) => "vector",
            PgType::Array(_) => "array",
            PgType::Unknown(_) => "unknown",
        }
    }

    /// Whether the type comes from the pgvector extension.
    pub fn needs_vector_extension(&self) -> bool {
        match self {
            PgType::Vector(_) => true,
            PgType::Array(inner) => inner.needs_vector_extension(),
            _ => false,
        }
    }

    /// SQL spelling. `extension_schema` qualifies extension types, so that
    /// migrations run under an empty search_path on Supabase.
    pub fn to_sql(&self, extension_schema: Option<&str>) -> String {
        match self {
            PgType::Vector(dim) => {
                let prefix = extension_schema
                    .map(|s| format!("{s}."))
                    .unwrap_or_default();
                match dim {
                    Some(d) => format!("{prefix}vector({d})"),
                    None => format!("{prefix}vector"),
                }
            }
            PgType::Array(inner) => format!("{}[]", inner.to_sql(extension_schema)),
            other => other.to_string(),
        }
    }
}

/// Canonical spelling, as PostgreSQL's `format_type` would print it.
impl fmt::Display for PgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PgType::Uuid => f.write_str("uuid"),
            PgType::Text => f.write_str("text"),
            PgType::Varchar(None) => f.write_str("character varying"),
            PgType::Varchar(Some(n)) => write!(f, "character varying({n})"),
            PgType::Numeric(None) => f.write_str("numeric"),
            PgType::Numeric(Some((p, s))) => write!(f, "numeric({p},{s})"),
            PgType::SmallInt => f.write_str("smallint"),
            PgType::Integer => f.write_str("integer"),
            PgType::BigInt => f.write_str("bigint"),
            PgType::Real => f.write_str("real"),
            PgType::DoublePrecision => f.write_str("double precision"),
            PgType::Boolean => f.write_str("boolean"),
            PgType::Timestamptz => f.write_str("timestamp with time zone"),
            PgType::Timestamp => f.write_str("timestamp without time zone"),
            PgType::Date => f.write_str("date"),
            PgType::Time => f.write_str("time without time zone"),
            PgType::Interval => f.write_str("interval"),
            PgType::Bytea => f.write_str("bytea"),
            PgType::Inet => f.write_str("inet"),
            PgType::Jsonb => f.write_str("jsonb"),
            PgType::Json => f.write_str("json"),
            PgType::Vector(None) => f.write_str("vector"),
            PgType::Vector(Some(d)) => write!(f, "vector({d})"),
            PgType::Array(inner) => write!(f, "{inner}[]"),
            PgType::Unknown(raw) => f.write_str(raw),
        }
    }
}

/// Serialised as its canonical SQL spelling, which is what CI and Javari read.
impl Serialize for PgType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for PgType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Ok(PgType::parse(&raw))
    }
}

/// Splits `numeric(10, 2)` into `numeric` and `["10", " 2"]`.
fn split_arguments(s: &str) -> (&str, Vec<&str>) {
    match (s.find('('), s.rfind(')')) {
        (Some(open), Some(close)) if close > open => {
            let rest = s[close + 1..].trim();
            let base = if rest.is_empty() {
                s[..open].trim_end()
            } else {
                // `timestamp(3) with time zone`: keep the words, drop the precision.
                return (s, vec![]);
            };
            (base, s[open + 1..close].split(',').collect())
        }
        _ => (s, vec![]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling_in_the_documents_and_the_catalog() {
        let cases = [
            ("uuid", PgType::Uuid),
            ("UUID", PgType::Uuid),
            ("varchar", PgType::Varchar(None)),
            ("character varying(255)", PgType::Varchar(Some(255))),
            ("decimal", PgType::Numeric(None)),
            ("DECIMAL(10,2)", PgType::Numeric(Some((10, 2)))),
            ("numeric(3,2)", PgType::Numeric(Some((3, 2)))),
            ("text[]", PgType::Array(Box::new(PgType::Text))),
            ("UUID[]", PgType::Array(Box::new(PgType::Uuid))),
            ("vector(1536)", PgType::Vector(Some(1536))),
            ("extensions.vector(1536)", PgType::Vector(Some(1536))),
            ("vector", PgType::Vector(None)),
            ("TIMESTAMPTZ", PgType::Timestamptz),
            ("timestamp with time zone", PgType::Timestamptz),
            ("INTEGER", PgType::Integer),
            ("int4", PgType::Integer),
            ("BIGINT", PgType::BigInt),
            ("BOOLEAN", PgType::Boolean),
            ("JSONB", PgType::Jsonb),
            ("date", PgType::Date),
        ];
        for (raw, expected) in cases {
            assert_eq!(PgType::parse(raw), expected, "{raw}");
        }
        assert!(PgType::parse("geography(point)").is_unknown());
    }

    #[test]
    fn display_round_trips() {
        for raw in [
            "numeric(10,2)",
            "text[]",
            "vector(1536)",
            "character varying",
            "uuid[]",
        ] {
            let ty = PgType::parse(raw);
            assert_eq!(PgType::parse(&ty.to_string()), ty);
        }
        assert_eq!(
            PgType::Vector(Some(3)).to_sql(Some("extensions")),
            "extensions.vector(3)"
        );
    }
}
