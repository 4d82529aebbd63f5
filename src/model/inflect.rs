//! English singular and plural forms for snake_case table names. The
//! documents' convention is plural table names; struct names and enum
//! lookups need the singular. Only the rules these names need are here.

/// Singular of the last word of a snake_case name (`vendor_categories` →
/// `vendor_category`).
pub fn singular(name: &str) -> String {
    let (head, last) = split_last(name);
    format!("{head}{}", singular_word(last))
}

/// Plural of the last word of a snake_case name.
pub fn plural(name: &str) -> String {
    let (head, last) = split_last(name);
    format!("{head}{}", plural_word(last))
}

/// Whether the last word reads as plural (or is uncountable, which the
/// convention accepts).
pub fn is_plural(name: &str) -> bool {
    let (_, last) = split_last(name);
    UNCOUNTABLE.contains(&last) || (singular_word(last) != last && !last.ends_with("ss"))
}

const UNCOUNTABLE: &[&str] = &[
    "data",
    "metadata",
    "analytics",
    "settings",
    "news",
    "series",
    "feedback",
    "media",
    "info",
];

fn split_last(name: &str) -> (&str, &str) {
    match name.rfind('_') {
        Some(i) => (&name[..=i], &name[i + 1..]),
        None => ("", name),
    }
}

fn singular_word(word: &str) -> String {
    if UNCOUNTABLE.contains(&word)
        || word.ends_with("ss")
        || word.ends_with("us")
        || word.ends_with("is")
    {
        return word.to_owned();
    }
    if let Some(stem) = word.strip_suffix("ies") {
        return format!("{stem}y");
    }
    for suffix in ["sses", "shes", "ches", "xes", "zes", "uses"] {
        if let Some(stem) = word.strip_suffix(suffix) {
            return format!("{stem}{}", &suffix[..suffix.len() - 2]);
        }
    }
    word.strip_suffix('s').unwrap_or(word).to_owned()
}

fn plural_word(word: &str) -> String {
    if UNCOUNTABLE.contains(&word) {
        return word.to_owned();
    }
    if let Some(stem) = word.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    if ["s", "sh", "ch", "x", "z"]
        .iter()
        .any(|s| word.ends_with(s))
    {
        return format!("{word}es");
    }
    format!("{word}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        for (plural_form, singular_form) in [
            ("properties", "property"),
            ("javari_chat_sessions", "javari_chat_session"),
            ("vendor_categories", "vendor_category"),
            ("addresses", "address"),
            ("customers", "customer"),
            ("status", "status"),
            ("analytics", "analytics"),
        ] {
            assert_eq!(singular(plural_form), singular_form);
        }
        assert_eq!(plural("activity_log"), "activity_logs");
        assert_eq!(plural("property"), "properties");
        assert!(is_plural("customers"));
        assert!(!is_plural("javari_work_log"));
        assert!(!is_plural("status"));
    }
}
