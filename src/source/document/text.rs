//! Small readers of document text: headings, counts, backticked names,
//! FK targets in descriptions, check marks, slugs, and the `Default` cells
//! and `**Backfill:**` notes that carry SQL expressions.

use super::*;

/// `1. PROPERTIES (47 columns)` → (`PROPERTIES`, 47).
pub(super) fn table_section_heading(text: &str) -> Option<(&str, u32)> {
    let rest = numbered(text)?;
    let open = rest.find('(')?;
    let close = open + rest[open..].find(')')?;
    let inside = rest[open + 1..close].trim();
    let count = inside
        .strip_suffix("columns")
        .or_else(|| inside.strip_suffix("column"))?
        .trim()
        .parse()
        .ok()?;
    Some((rest[..open].trim(), count))
}

/// `3. Something` → `Something`.
pub(super) fn numbered(text: &str) -> Option<&str> {
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    text[digits..].strip_prefix('.').map(str::trim)
}

/// `Tables Used (37)` → 37 when the text starts with `prefix`.
pub(super) fn counted(text: &str, prefix: &str) -> Option<u32> {
    let rest = text.strip_prefix(prefix)?.trim();
    rest.strip_prefix('(')?
        .strip_suffix(')')?
        .trim()
        .parse()
        .ok()
}

/// `Complete Schema (33 Tables)` (a total: true) or `Core System Tables (5)`
/// (a group: false).
pub(super) fn group_count(text: &str) -> Option<(String, u32, bool)> {
    let open = text.rfind('(')?;
    let inside = text[open + 1..].strip_suffix(')')?.trim();
    let (number, is_total) = match inside
        .strip_suffix("Tables")
        .or_else(|| inside.strip_suffix("tables"))
    {
        Some(number) => (number.trim(), true),
        None => (inside, false),
    };
    let claimed = number.parse().ok()?;
    Some((text[..open].trim().to_owned(), claimed, is_total))
}

/// `**Purpose:** text` → (`Purpose`, `text`).
pub(super) fn bold_label(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("**")?;
    let end = rest.find("**")?;
    let label = rest[..end].trim();
    let label = label.strip_suffix(':')?;
    let value = rest[end + 2..].trim();
    Some((label.trim(), value))
}

pub(super) fn leading_number(text: &str) -> Option<u32> {
    let digits: String = text
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

pub(super) fn strip_ticks(cell: &str) -> String {
    cell.trim().trim_matches('`').trim().to_owned()
}

/// Identifiers written as inline code: `` `activity_log` vs `activity_logs` ``.
pub(super) fn backticked(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::trim)
        .filter(|t| validate_identifier(t).is_ok() && !t.ends_with('_'))
        .map(str::to_owned)
        .collect()
}

/// `[... property fields mirror properties table ...]` → `properties`.
pub(super) fn mirror_target(text: &str) -> Option<String> {
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let at = words
        .iter()
        .position(|w| w.eq_ignore_ascii_case("mirror") || w.eq_ignore_ascii_case("mirrors"))?;
    words.get(at + 1).map(|w| w.to_ascii_lowercase())
}

/// "FK to profiles (owner)" → `profiles`; "FK to auth.users" → `auth.users`.
pub(super) fn fk_target(description: &str) -> Option<String> {
    let lower = description.to_ascii_lowercase();
    let at = lower.find("fk to ")?;
    let target: String = description[at + 6..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .collect();
    let target = target.trim_end_matches('.').to_ascii_lowercase();
    let valid = target
        .split('.')
        .all(|part| validate_identifier(part).is_ok());
    (valid && !target.is_empty()).then_some(target)
}

/// "Free text (renamed from `notes`)" → (`notes`, "Free text"): the
/// marker names the column's old name, and is an instruction to the diff
/// rather than documentation, so it is cut out of the description (which
/// becomes the column's comment). The name is returned as written, for the
/// caller to validate.
pub(super) fn renamed_from_marker(description: &str) -> Option<(String, String)> {
    const MARKER: &str = "(renamed from";
    let lower = description.to_ascii_lowercase();
    let start = lower.find(MARKER)?;
    let close = start + lower[start..].find(')')?;
    let name = description[start + MARKER.len()..close]
        .trim()
        .trim_matches('`')
        .trim()
        .to_owned();
    let rest = format!(
        "{} {}",
        description[..start].trim_end(),
        description[close + 1..].trim_start()
    );
    Some((name, rest.trim().to_owned()))
}

/// `active/pending/sold` or `Source (chat/doc/web)` → the values.
pub(super) fn inline_enum(description: &str) -> Vec<String> {
    let candidate = match (description.find('('), description.rfind(')')) {
        (Some(open), Some(close)) if close > open => &description[open + 1..close],
        _ => description,
    };
    let values: Vec<&str> = candidate.trim().split('/').map(str::trim).collect();
    if values.len() >= 2 && values.iter().all(|v| is_enum_value(v)) {
        values.into_iter().map(str::to_owned).collect()
    } else {
        Vec::new()
    }
}

pub(super) fn is_enum_value(value: &str) -> bool {
    let mut chars = value.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A Read/Write cell: a tick is yes; anything else written there (a cross,
/// even one whose bytes were mangled) is no; an empty cell says nothing.
pub(super) fn check_mark(cell: &str) -> Option<bool> {
    let cell = cell.trim();
    if cell.is_empty() {
        None
    } else {
        Some(cell.contains('✅') || cell.eq_ignore_ascii_case("yes"))
    }
}

/// `Property Criteria (saved_searches)` → `saved_searches`.
pub(super) fn parenthesised_table(heading: &str) -> Option<String> {
    let open = heading.rfind('(')?;
    let inside = heading[open + 1..].strip_suffix(')')?.trim();
    validate_identifier(inside)
        .is_ok()
        .then(|| inside.to_owned())
}

pub(super) fn snake(text: &str) -> String {
    use heck::ToSnakeCase;
    text.to_snake_case()
}

/// `cr-realtor-platform`, from `CR-REALTOR-PLATFORM` or `STOCK/CRYPTO PLATFORM`.
pub(super) fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// The module a title names: `CR REALTOR PLATFORM - Complete Schema
/// Documentation` → `realtor`, `Javari AI - Technical Architecture` → `javari`.
pub(super) fn module_of(title: &str) -> Option<String> {
    const NOISE: &[&str] = &[
        "cr",
        "ai",
        "platform",
        "tables",
        "complete",
        "schema",
        "documentation",
        "the",
    ];
    let head = title.split(" - ").next().unwrap_or(title);
    let head = numbered(head).unwrap_or(head);
    let words: Vec<String> = head
        .split(|c: char| !c.is_ascii_alphanumeric())
        .map(str::to_ascii_lowercase)
        .filter(|w| !w.is_empty() && !NOISE.contains(&w.as_str()))
        .collect();
    (!words.is_empty()).then(|| words.join("_"))
}

/// A `Default` cell: `None` when it is empty or says there is none, the
/// expression as written when it is exactly one SQL expression, and why
/// not otherwise ([`crate::model::single_expression`]).
pub(super) fn default_expression(cell: &str) -> Result<Option<String>, String> {
    let text = cell.trim().trim_matches('`').trim();
    if text.is_empty() || ["-", "—", "none", "n/a"].contains(&text.to_ascii_lowercase().as_str())
    {
        return Ok(None);
    }
    crate::model::single_expression(text).map(|()| Some(text.to_owned()))
}

/// A `**Backfill:**` note, `` `column` = expression ``: the column and the
/// expression as written (backticks around it are dropped, as in a
/// `Default` cell), or why not. The expression goes into the migration's
/// UPDATE verbatim, so it must be exactly one SQL expression
/// ([`crate::model::single_expression`]), like a default.
pub(super) fn backfill_note(text: &str) -> Result<(String, String), String> {
    const SHAPE: &str = "write `` `column` = expression ``, such as `` `status` = 'active' ``";
    let text = text.trim();
    let (column, rest) = match text.strip_prefix('`') {
        Some(ticked) => ticked.split_once('`').ok_or(SHAPE)?,
        None => text
            .split_once('=')
            .map(|(c, _)| (c, &text[c.len()..]))
            .ok_or(SHAPE)?,
    };
    let column = column.trim();
    validate_identifier(column)?;
    let expression = rest
        .trim()
        .strip_prefix('=')
        .ok_or(SHAPE)?
        .trim()
        .trim_matches('`')
        .trim();
    if expression.is_empty() {
        return Err(format!("no expression after `{column} =`"));
    }
    crate::model::single_expression(expression)
        .map_err(|why| format!("`{expression}` is not one SQL expression: {why}"))?;
    Ok((column.to_owned(), expression.to_owned()))
}
