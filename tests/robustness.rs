//! Hostile and damaged input: reading never panics, identifiers that are not
//! identifiers never reach the model.

mod support;

use schemagen::diag::Code;

/// A small deterministic generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn documents() -> Vec<Vec<u8>> {
    [support::JAVARI, support::MASTER]
        .iter()
        .map(|p| std::fs::read(support::root().join(p)).unwrap())
        .collect()
}

#[test]
fn truncated_documents_never_panic() {
    for doc in documents() {
        let step = doc.len() / 97;
        for cut in (0..doc.len()).step_by(step.max(1)) {
            let _ = support::lint_bytes("cut.md", &doc[..cut]);
        }
    }
}

/// Bytes that matter to the readers, plus invalid UTF-8.
const PALETTE: &[u8] = b"|`*#-(),;'\"\n\xff\xc3 xX0";

#[test]
fn garbled_documents_never_panic() {
    let mut rng = Rng(0x5eed);
    for doc in documents() {
        for _ in 0..40 {
            let mut bytes = doc.clone();
            for _ in 0..200 {
                let at = rng.below(bytes.len());
                bytes[at] = PALETTE[rng.below(PALETTE.len())];
            }
            let _ = support::lint_bytes("garbled.md", &bytes);
        }
    }
}

#[test]
fn duplicated_and_shuffled_documents_never_panic() {
    let mut rng = Rng(42);
    for doc in documents() {
        let twice = [doc.clone(), doc.clone()].concat();
        let (schema, diagnostics) = support::lint_bytes("twice.md", &twice);
        assert!(schema.documented_tables().count() > 0);
        assert!(!diagnostics.is_empty());
        let text = String::from_utf8_lossy(&doc).into_owned();
        for _ in 0..20 {
            let mut lines: Vec<&str> = text.lines().collect();
            for _ in 0..lines.len() / 4 {
                let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
                lines.swap(a, b);
            }
            let _ = support::lint_bytes("shuffled.md", lines.join("\n").as_bytes());
        }
        let sections: Vec<&str> = text.split("\n## ").collect();
        let mut reordered = sections.clone();
        reordered.reverse();
        let _ = support::lint_bytes("sections.md", reordered.join("\n## ").as_bytes());
    }
}

#[test]
fn an_injected_table_name_is_rejected_with_a_clear_error() {
    let hostile = "x\"; DROP TABLE users; --";
    let doc = format!(
        "## 1. {hostile} (1 columns)\n| Column | Type | Nullable | Description |\n|---|---|---|---|\n| id | uuid | NO | Primary key |\n\n## Tables Used (1)\n| Table | Purpose |\n|---|---|\n| {hostile} | x |\n\n```sql\nCREATE TABLE \"{}\" (id int);\n```\n",
        hostile.replace('"', "\"\"")
    );
    let (schema, diagnostics) = support::lint_bytes("hostile.md", doc.as_bytes());
    assert!(
        schema
            .tables
            .keys()
            .all(|k| !k.contains('"') && !k.contains(';')),
        "{:?}",
        schema.tables.keys()
    );
    let errors: Vec<_> = diagnostics
        .iter()
        .filter(|d| d.code == Code::InvalidIdentifier)
        .collect();
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert_eq!(
        errors
            .iter()
            .map(|d| d.span.as_ref().map(|s| s.line))
            .collect::<Vec<_>>(),
        [Some(1), Some(9), Some(12)]
    );
    assert!(errors[0].message.contains("is not a valid identifier"));
}

#[test]
fn non_utf8_input_names_the_byte_offset() {
    let mut doc = documents().remove(1);
    doc.insert(1000, 0xff);
    let (schema, diagnostics) = support::lint_bytes("bad.md", &doc);
    let error = diagnostics
        .iter()
        .find(|d| d.code == Code::InvalidUtf8)
        .unwrap();
    assert!(
        error.message.contains("byte offset 1000"),
        "{}",
        error.message
    );
    assert!(
        schema.documented_tables().count() > 0,
        "the rest of the file is still read"
    );
}
