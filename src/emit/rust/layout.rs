//! Layout of the generated Rust, as rustfmt (style edition 2024, default
//! options) would write it. The generated crate is a workspace member, so
//! `cargo fmt --check` reads it: whatever rustfmt would change must already
//! be written its way, or regenerating and formatting would fight. Only the
//! constructs whose layout depends on width are here; the templates write
//! the rest in the one layout rustfmt keeps.

/// rustfmt's `max_width`.
const MAX_WIDTH: usize = 100;
/// `array_width`: an array fits on one line up to this width.
const ARRAY_WIDTH: usize = 60;
/// `chain_width`: a method chain fits on one line up to this width.
const CHAIN_WIDTH: usize = 60;
/// `struct_lit_width`: a struct literal's body fits on one line up to this.
const STRUCT_LITERAL_WIDTH: usize = 18;
/// `short_array_element_width_threshold`: arrays of elements this short are
/// packed several to a line.
const SHORT_ELEMENT: usize = 10;

fn pad(indent: usize) -> String {
    " ".repeat(indent)
}

/// `prefix[items]suffix` at `indent`: on one line when it fits, packed
/// several to a line when every element is short, else one per line.
pub fn array(indent: usize, prefix: &str, items: &[String], suffix: &str) -> String {
    let outer = pad(indent);
    let inner = pad(indent + 4);
    let joined = items.join(", ");
    let one_line = format!("{outer}{prefix}[{joined}]{suffix}");
    if joined.len() <= ARRAY_WIDTH && one_line.len() <= MAX_WIDTH {
        return one_line;
    }
    let mut lines = Vec::new();
    if items.iter().all(|i| i.len() <= SHORT_ELEMENT) {
        let mut line = String::new();
        let mut first_line = true;
        for (i, item) in items.iter().enumerate() {
            let extended = if line.is_empty() {
                format!("{inner}{item},")
            } else {
                format!("{line} {item},")
            };
            // rustfmt counts the space that would follow an item; only the
            // last item, when it joins the first line, may end at the
            // maximum width (measured against rustfmt on random arrays).
            let room = if i + 1 == items.len() && first_line {
                MAX_WIDTH
            } else {
                MAX_WIDTH - 1
            };
            if !line.is_empty() && extended.len() > room {
                lines.push(std::mem::take(&mut line));
                first_line = false;
                line = format!("{inner}{item},");
            } else {
                line = extended;
            }
        }
        lines.push(line);
    } else {
        lines.extend(items.iter().map(|i| format!("{inner}{i},")));
    }
    format!("{outer}{prefix}[\n{}\n{outer}]{suffix}", lines.join("\n"))
}

/// `receiver.call().call()` at `indent`: on one line when it fits, else one
/// call per line.
pub fn chain(indent: usize, receiver: &str, calls: &[String]) -> String {
    let outer = pad(indent);
    let joined: String = calls.concat();
    let one_line = format!("{outer}{receiver}{joined}");
    if calls.len() < 2
        || (receiver.len() + joined.len() <= CHAIN_WIDTH && one_line.len() <= MAX_WIDTH)
    {
        return one_line;
    }
    let inner = pad(indent + 4);
    let mut out = format!("{outer}{receiver}");
    for call in calls {
        out.push_str(&format!("\n{inner}{call}"));
    }
    out
}

/// `name { field: value, … }` at `indent`.
pub fn struct_literal(indent: usize, name: &str, fields: &[String]) -> String {
    let outer = pad(indent);
    if fields.is_empty() {
        return format!("{outer}{name} {{}}");
    }
    let body = fields.join(", ");
    let one_line = format!("{outer}{name} {{ {body} }}");
    if body.len() <= STRUCT_LITERAL_WIDTH && one_line.len() <= MAX_WIDTH {
        return one_line;
    }
    let inner = pad(indent + 4);
    let lines: Vec<String> = fields.iter().map(|f| format!("{inner}{f},")).collect();
    format!("{outer}{name} {{\n{}\n{outer}}}", lines.join("\n"))
}

/// `head value;` at `indent`, where `head` ends with `=` or `:`: the value
/// moves to the next line when that makes it fit.
pub fn assignment(indent: usize, head: &str, value: &str, end: &str) -> String {
    let outer = pad(indent);
    let one_line = format!("{outer}{head} {value}{end}");
    let next_line = format!("{}{value}{end}", pad(indent + 4));
    if one_line.len() <= MAX_WIDTH || next_line.len() > MAX_WIDTH {
        one_line
    } else {
        format!("{outer}{head}\n{next_line}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(items: &[&str]) -> Vec<String> {
        items.iter().map(|i| format!("{i:?}")).collect()
    }

    // The expected layouts are rustfmt 1.9's output for the same code.

    #[test]
    fn arrays() {
        let prefix = "pub const COLUMNS: &[&str] = &";
        assert_eq!(
            array(4, prefix, &quoted(&["id", "name", "created_at"]), ";"),
            r#"    pub const COLUMNS: &[&str] = &["id", "name", "created_at"];"#
        );
        assert_eq!(
            array(
                4,
                prefix,
                &quoted(&[
                    "id",
                    "email",
                    "name",
                    "role",
                    "plan",
                    "created_at",
                    "updated_at"
                ]),
                ";"
            ),
            "    pub const COLUMNS: &[&str] = &[\n        \"id\",\n        \"email\",\n        \"name\",\n        \"role\",\n        \"plan\",\n        \"created_at\",\n        \"updated_at\",\n    ];"
        );
        let short: Vec<&str> = vec![
            "id", "name", "rate", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m",
            "n", "o", "p", "q", "r", "s", "t",
        ];
        assert_eq!(
            array(0, prefix, &quoted(&short), ";"),
            "pub const COLUMNS: &[&str] = &[\n    \"id\", \"name\", \"rate\", \"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\", \"i\", \"j\", \"k\", \"l\", \"m\", \"n\",\n    \"o\", \"p\", \"q\", \"r\", \"s\", \"t\",\n];"
        );
    }

    #[test]
    fn chains_literals_and_assignments() {
        let calls = |names: &[&str]| -> Vec<String> {
            names.iter().map(|n| format!(".bind(&self.{n})")).collect()
        };
        assert_eq!(
            chain(4, "query", &calls(&["a", "bbbbbbb", "ccccccc"])),
            "    query.bind(&self.a).bind(&self.bbbbbbb).bind(&self.ccccccc)"
        );
        assert_eq!(
            chain(4, "query", &calls(&["a", "bbbbbbb", "ccccccc", "dddddddd"])),
            "    query\n        .bind(&self.a)\n        .bind(&self.bbbbbbb)\n        .bind(&self.ccccccc)\n        .bind(&self.dddddddd)"
        );
        assert_eq!(
            struct_literal(4, "Self", &["a: row.a".to_owned()]),
            "    Self { a: row.a }"
        );
        assert_eq!(
            struct_literal(4, "Self", &["a: row.a".to_owned(), "bb: row.bb".to_owned()]),
            "    Self {\n        a: row.a,\n        bb: row.bb,\n    }"
        );
        let short = "\"INSERT INTO public.properties (a, b, c, d, e, f, g, h) VALUES ($1)\"";
        assert_eq!(
            assignment(4, "const SHORT: &'static str =", short, ";"),
            format!("    const SHORT: &'static str =\n        {short};")
        );
        let long = format!("\"{}\"", "x".repeat(120));
        assert_eq!(
            assignment(4, "const LONG: &'static str =", &long, ";"),
            format!("    const LONG: &'static str = {long};")
        );
    }
}

/// The layouts above are rustfmt's: checked on random cases by rustfmt
/// itself, which CI has (it runs `cargo fmt --check`).
#[cfg(test)]
mod rustfmt_agreement {
    use super::*;

    #[test]
    fn random_cases_agree_with_rustfmt() {
        let mut seed: u64 = 12345;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let mut source = String::new();
        for k in 0..2000 {
            let count = next(30) as usize;
            let short = next(2) == 0;
            let items: Vec<String> = (0..count)
                .map(|_| {
                    format!(
                        "{:?}",
                        "y".repeat(1 + next(if short { 8 } else { 20 }) as usize)
                    )
                })
                .collect();
            let calls: Vec<String> = (0..next(6))
                .map(|_| format!(".bind(&self.{})", "z".repeat(1 + next(14) as usize)))
                .collect();
            let fields: Vec<String> = (0..next(4))
                .map(|_| {
                    let f = "f".repeat(1 + next(6) as usize);
                    format!("{f}: row.{f}")
                })
                .collect();
            let value = format!("{:?}", "s".repeat(next(110) as usize));
            source.push_str(&format!(
                "impl A{k} {{\n{}\n{}\n}}\n\nimpl B{k} {{\n    fn f(&self) -> Q {{\n{}\n    }}\n}}\n\nfn g{k}() -> Self {{\n{}\n}}\n\n",
                array(4, &format!("pub const C{k}: &[&str] = &"), &items, ";"),
                assignment(4, &format!("const S{k}: &'static str ="), &value, ";"),
                chain(8, "query", &calls),
                struct_literal(4, "Self", &fields),
            ));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("layout.rs");
        std::fs::write(&path, format!("{}\n", source.trim_end())).unwrap();
        let output = std::process::Command::new("rustfmt")
            .args(["--edition", "2024", "--check"])
            .arg(&path)
            .output()
            .expect("rustfmt runs (rustup component add rustfmt)");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
}
