//! Rust names for database names. Fields and modules are snake_case with
//! keywords escaped (`r#type`); types are PascalCase from heck. Every type
//! name in the generated crate is unique across modules, so that any two
//! modules can be glob-imported together: `Namer` hands out names from a list
//! of ever more specific candidates, and a name wanted by two items goes to
//! neither, so which item gets which name does not depend on the order in
//! which they are named.

use heck::{ToSnakeCase, ToUpperCamelCase};
use std::collections::{BTreeMap, BTreeSet};

/// Rust's strict and reserved keywords (edition 2024).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers either.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super"];

/// Type names the generated code imports or relies on, which no generated
/// type may take.
pub const RESERVED_TYPE_NAMES: &[&str] = &[
    "Box",
    "DateTime",
    "Decimal",
    "Json",
    "NaiveDate",
    "NaiveDateTime",
    "NaiveTime",
    "NewRecord",
    "Option",
    "Query",
    "Record",
    "Result",
    "String",
    "Utc",
    "Uuid",
    "Vec",
    "Vector",
    "Visit",
];

/// Keeps ASCII letters, digits and underscores: the generated crate uses no
/// non-ASCII identifiers.
fn ascii_word(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// A field, variable or module name: snake_case, ASCII, keywords escaped.
pub fn snake_identifier(raw: &str) -> String {
    let snake = ascii_word(&raw.to_snake_case()).to_snake_case();
    let name = match snake.chars().next() {
        None => "field".to_owned(),
        Some(c) if c.is_ascii_digit() => format!("field_{snake}"),
        Some(_) => snake,
    };
    escape_keyword(name)
}

/// `type` → `r#type`; `self` → `self_`, which cannot be raw.
pub fn escape_keyword(name: String) -> String {
    if NOT_RAW.contains(&name.as_str()) {
        format!("{name}_")
    } else if KEYWORDS.contains(&name.as_str()) {
        format!("r#{name}")
    } else {
        name
    }
}

/// The name an identifier stands for in serde and sqlx, which drop `r#`.
pub fn unraw(identifier: &str) -> &str {
    identifier.strip_prefix("r#").unwrap_or(identifier)
}

/// A type or variant name: PascalCase, ASCII, never a keyword, starting with
/// a letter (`5min` → `V5min`).
pub fn pascal_identifier(raw: &str) -> String {
    let pascal = ascii_word(&raw.to_upper_camel_case()).to_upper_camel_case();
    match pascal.chars().next() {
        None => "Empty".to_owned(),
        Some(c) if c.is_ascii_digit() => format!("V{pascal}"),
        Some(_) if pascal == "Self" => "SelfValue".to_owned(),
        // `AB` from `a b` would read as an acronym, which clippy flags.
        Some(_) if pascal.len() > 1 && !pascal.chars().any(|c| c.is_ascii_lowercase()) => {
            let mut chars = pascal.chars();
            chars
                .next()
                .into_iter()
                .chain(chars.flat_map(|c| c.to_lowercase()))
                .collect()
        }
        Some(_) => pascal,
    }
}

/// How serde's `rename_all = "snake_case"` spells a variant: an underscore
/// before every upper-case letter but the first, then lower case.
pub fn serde_snake_case(variant: &str) -> String {
    let mut out = String::new();
    for (i, c) in variant.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// Makes `name` unique among `used` by appending 2, 3, …
pub fn unique_in(used: &mut BTreeSet<String>, name: String) -> String {
    let mut candidate = name.clone();
    let mut n = 2;
    while used.contains(&candidate) || used.contains(unraw(&candidate)) {
        candidate = format!("{}_{n}", unraw(&name));
        n += 1;
    }
    used.insert(unraw(&candidate).to_owned());
    candidate
}

/// One item that needs a type name: the names it would like, most wanted
/// first, and the prefixes of the companion names it also takes (a table's
/// struct `Property` takes `NewProperty` too).
#[derive(Debug, Clone)]
pub struct NameRequest {
    pub candidates: Vec<String>,
    pub companions: &'static [&'static str],
}

impl NameRequest {
    pub fn new(candidates: Vec<String>) -> Self {
        NameRequest {
            candidates,
            companions: &[],
        }
    }

    fn footprint(&self, name: &str) -> Vec<String> {
        std::iter::once(name.to_owned())
            .chain(self.companions.iter().map(|p| format!("{p}{name}")))
            .collect()
    }
}

/// Hands out unique type names for the whole crate.
#[derive(Debug, Clone)]
pub struct Namer {
    taken: BTreeSet<String>,
}

impl Default for Namer {
    fn default() -> Self {
        Namer {
            taken: RESERVED_TYPE_NAMES
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        }
    }
}

impl Namer {
    /// Names every request. In each round, every unnamed request proposes its
    /// next candidate; a name proposed by exactly one request and free is
    /// given, the others move on to their next candidate. A request out of
    /// candidates gets its last one with a number, in request order.
    pub fn allocate(&mut self, requests: &[NameRequest]) -> Vec<String> {
        let mut names: Vec<Option<String>> = vec![None; requests.len()];
        let mut level = vec![0usize; requests.len()];
        loop {
            let pending: Vec<usize> = (0..requests.len())
                .filter(|&i| names[i].is_none())
                .collect();
            if pending.is_empty() {
                break;
            }
            let (exhausted, proposing): (Vec<usize>, Vec<usize>) = pending
                .into_iter()
                .partition(|&i| level[i] >= requests[i].candidates.len());
            let mut wanted: BTreeMap<String, Vec<usize>> = BTreeMap::new();
            for &i in &proposing {
                for name in requests[i].footprint(&requests[i].candidates[level[i]]) {
                    wanted.entry(name).or_default().push(i);
                }
            }
            for &i in &proposing {
                let footprint = requests[i].footprint(&requests[i].candidates[level[i]]);
                let free = footprint
                    .iter()
                    .all(|n| wanted[n].len() == 1 && !self.taken.contains(n));
                if free {
                    self.taken.extend(footprint);
                    names[i] = Some(requests[i].candidates[level[i]].clone());
                } else {
                    level[i] += 1;
                }
            }
            for i in exhausted {
                let base = requests[i]
                    .candidates
                    .last()
                    .cloned()
                    .unwrap_or_else(|| "Type".to_owned());
                let mut n = 2;
                let name = loop {
                    let candidate = format!("{base}{n}");
                    let footprint = requests[i].footprint(&candidate);
                    if footprint.iter().all(|f| !self.taken.contains(f)) {
                        self.taken.extend(footprint);
                        break candidate;
                    }
                    n += 1;
                };
                names[i] = Some(name);
            }
        }
        names.into_iter().flatten().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        for (raw, expected) in [
            ("type", "r#type"),
            ("self", "self_"),
            ("createdAt", "created_at"),
            ("_internal", "internal"),
            ("2fa", "field_2fa"),
            ("", "field"),
            ("naïve", "na_ve"),
            ("gen", "r#gen"),
        ] {
            assert_eq!(snake_identifier(raw), expected, "{raw}");
        }
        for (raw, expected) in [
            ("javari_chat_session", "JavariChatSession"),
            ("5min", "V5min"),
            ("peer_review", "PeerReview"),
            ("self", "SelfValue"),
            ("", "Empty"),
            ("AI Provider Config", "AiProviderConfig"),
        ] {
            assert_eq!(pascal_identifier(raw), expected, "{raw}");
        }
        assert_eq!(serde_snake_case("PeerReview"), "peer_review");
        assert_eq!(serde_snake_case("V5min"), "v5min");
    }

    #[test]
    fn contested_names_go_to_neither_and_reserved_names_are_skipped() {
        let mut namer = Namer::default();
        let table = |c: &[&str]| NameRequest {
            candidates: c.iter().map(|s| (*s).to_owned()).collect(),
            companions: &["New"],
        };
        let names = namer.allocate(&[
            table(&["Status", "RealtorStatus"]),
            table(&["Status", "JavariStatus"]),
            table(&["Property"]),
            table(&["Uuid", "CoreUuid"]),
        ]);
        assert_eq!(
            names,
            ["RealtorStatus", "JavariStatus", "Property", "CoreUuid"]
        );
        // `NewProperty` is taken with `Property`; an enum wanting it moves on.
        let names = namer.allocate(&[
            NameRequest::new(vec!["NewProperty".into(), "PropertyNew".into()]),
            NameRequest::new(vec!["Property".into()]),
        ]);
        assert_eq!(names, ["PropertyNew", "Property2"]);
    }

    #[test]
    fn field_names_are_made_unique() {
        let mut used = BTreeSet::new();
        assert_eq!(unique_in(&mut used, "name".into()), "name");
        assert_eq!(unique_in(&mut used, "name".into()), "name_2");
        assert_eq!(unique_in(&mut used, "r#type".into()), "r#type");
        assert_eq!(unique_in(&mut used, "r#type".into()), "type_2");
    }
}
