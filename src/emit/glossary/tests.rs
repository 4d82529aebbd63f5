//! Unit tests of the glossary on a small document shaped like the real
//! ones: entries, inconsistencies by rule, the three renderings and
//! replacement templates.

use super::build::{meaning_words, most_common, participle_extension, some_pair_disjoint};
use super::render::anchor;
use super::*;
use crate::emit::OutputFile;
use crate::source::SourceFile;

/// Two stores tables that disagree the way the real documents do, a
/// glossary and a duplicates declaration.
const DOC: &str = r#"# SHOP
## Module: Shop

## 1. OWNERS (6 columns)
**Purpose:** People who own stores

| Column | Type | Nullable | Description |
|--------|------|----------|-------------|
| id | uuid | NO | Primary key |
| name | varchar | NO | Owner name |
| model | varchar | YES | Car model |
| timestamp | timestamptz | YES | When |
| priority | integer | YES | Routing priority |
| is_open | varchar | YES | Open flag |

## 2. STORES (8 columns)
**Purpose:** Stores

| Column | Type | Nullable | Description |
|--------|------|----------|-------------|
| id | uuid | NO | Primary key |
| owner_id | uuid | NO | FK to owners |
| name | text | NO | Store name |
| first_name | varchar | YES | Manager first name |
| model_used | varchar | YES | Model |
| created_at | timestamptz | NO | Created |
| priority | varchar | YES | high/medium/low |
| price | decimal | YES | Price |

## 3. SHELVES (3 columns)
**Purpose:** Shelves

| Column | Type | Nullable | Description |
|--------|------|----------|-------------|
| id | uuid | NO | Primary key |
| price | numeric(10,2) | YES | Shelf price |
| store_id | uuid | NO | FK to stores |

## Identity Fields
| Field | Type | Description |
|-------|------|-------------|
| `id` | uuid | Primary key, auto-generated |
| `uuid` | uuid | Alternative key |

**Identified Duplicates:**
| Tables | Recommendation |
|--------|----------------|
| `owners` vs `profiles` | Merge |
| `people` vs `profiles` | Merge too |
"#;

fn schema_of(text: &str) -> Schema {
    let (file, _) = SourceFile::decode("doc.md", text.as_bytes());
    crate::project::Project::from_files(vec![file], Vec::new(), &Default::default())
        .documented()
        .clone()
        .into_inner()
}

fn field<'a>(glossary: &'a Glossary, name: &str) -> &'a Entry {
    glossary
        .get(EntryKind::Field, name)
        .unwrap_or_else(|| panic!("no field entry `{name}`"))
}

fn kinds(entry: &Entry) -> BTreeSet<NoteKind> {
    entry.content.notes.iter().map(|n| n.kind).collect()
}

fn flagged(glossary: &Glossary, kind: NoteKind) -> BTreeSet<&str> {
    glossary
        .fields()
        .filter(|e| kinds(e).contains(&kind))
        .map(|e| e.content.name.as_str())
        .collect()
}

fn render_all(schema: &Schema) -> Vec<OutputFile> {
    let templates = Templates::load(None).unwrap();
    let settings = crate::settings::Settings {
        target: crate::emit::Target::Postgres,
        ..Default::default()
    };
    let project = crate::project::Project::from_documented(
        crate::model::stages::Documented::new(schema.clone()),
        &settings,
    );
    let context = EmitContext::new(&project, &templates);
    crate::emit::Emitter::Glossary.render(&context).unwrap()
}

#[test]
fn every_documented_column_is_in_exactly_one_field_entry() {
    let schema = schema_of(DOC);
    let glossary = build(&schema).unwrap();
    let mut pairs = Vec::new();
    for entry in glossary.fields() {
        for item in &entry.content.tables {
            match item {
                TableRef::Column(c) => pairs.push((c.table.clone(), entry.content.name.clone())),
                TableRef::Table(t) => panic!("field entry lists a table: {t:?}"),
            }
        }
    }
    let unique: BTreeSet<_> = pairs.iter().cloned().collect();
    assert_eq!(unique.len(), pairs.len(), "a column is listed twice");
    let documented: BTreeSet<(String, String)> = schema
        .documented_tables()
        .flat_map(|t| t.columns.iter().map(|c| (t.name.clone(), c.name.clone())))
        .collect();
    assert_eq!(unique, documented);
    // The glossary-only field has an entry with no tables.
    assert!(field(&glossary, "uuid").content.tables.is_empty());
    assert!(kinds(field(&glossary, "uuid")).contains(&NoteKind::GlossaryOnly));
}

#[test]
fn flags_base_types_that_differ_and_nothing_else() {
    let glossary = build(&schema_of(DOC)).unwrap();
    // varchar and text are one base type, so are decimal and numeric.
    assert_eq!(
        flagged(&glossary, NoteKind::TypeMismatch),
        BTreeSet::from(["priority"])
    );
    let name = field(&glossary, "name");
    let types: Vec<(&str, &str)> = name
        .content
        .types
        .iter()
        .map(|t| (t.ty.as_str(), t.base.as_str()))
        .collect();
    assert_eq!(types, [("character varying", "text"), ("text", "text")]);
}

proptest::proptest! {
    #[test]
    fn disjoint_pairs_are_found_as_by_comparing_every_pair(
        sets in proptest::collection::vec(
            proptest::collection::btree_set("[a-e]", 1..4),
            0..80,
        )
    ) {
        let sets: Vec<&BTreeSet<String>> = sets.iter().collect();
        let every_pair = sets
            .iter()
            .enumerate()
            .any(|(i, a)| sets.iter().skip(i + 1).any(|b| a.is_disjoint(b)));
        proptest::prop_assert_eq!(some_pair_disjoint(&sets), every_pair);
    }
}

#[test]
fn near_synonyms_follow_the_rules() {
    let glossary = build(&schema_of(DOC)).unwrap();
    assert_eq!(
        flagged(&glossary, NoteKind::NearSynonym),
        BTreeSet::from(["created_at", "model", "model_used", "timestamp"])
    );
    let model = field(&glossary, "model");
    let note = model
        .content
        .notes
        .iter()
        .find(|n| n.kind == NoteKind::NearSynonym)
        .unwrap();
    assert_eq!(note.related, ["model_used"]);

    assert!(participle_extension("model", "model_used").is_some());
    assert!(participle_extension("provider", "provider_used").is_some());
    // Nouns, convention markers and leading words name something else.
    assert!(participle_extension("source", "source_url").is_none());
    assert!(participle_extension("customer_viewed", "customer_viewed_at").is_none());
    assert!(participle_extension("cost_usd", "predicted_cost_usd").is_none());
    assert!(participle_extension("name", "first_name").is_none());
    assert!(participle_extension("id", "owner_id").is_none());
    assert!(participle_extension("model", "model").is_none());
}

#[test]
fn descriptions_disagree_when_they_share_no_meaning_word() {
    let glossary = build(&schema_of(DOC)).unwrap();
    // "Routing priority" and "high/medium/low"; "Owner name" and "Store
    // name" lose their table's word and agree.
    assert_eq!(
        flagged(&glossary, NoteKind::DescriptionMismatch),
        BTreeSet::from(["priority"])
    );
    let ignore: BTreeSet<String> = ["source".to_owned()].into();
    assert_eq!(
        meaning_words("Source (chat/doc/web)", &ignore),
        ["chat", "doc", "web"].map(String::from).into()
    );
    assert!(meaning_words("Active flag", &["active".to_owned()].into()).is_empty());
    assert_eq!(
        meaning_words("FK to users", &BTreeSet::new()),
        ["user"].map(String::from).into()
    );
}

#[test]
fn conventions_and_foreign_keys_are_noted() {
    let glossary = build(&schema_of(DOC)).unwrap();
    let owner_id = field(&glossary, "owner_id");
    assert!(kinds(owner_id).contains(&NoteKind::IdSuffix));
    let fk = owner_id
        .content
        .notes
        .iter()
        .find(|n| n.kind == NoteKind::ForeignKey)
        .unwrap();
    assert_eq!(fk.text, "FK to `owners.id` in: stores");
    let is_open = field(&glossary, "is_open");
    assert!(kinds(is_open).contains(&NoteKind::BooleanPrefix));
    assert!(kinds(is_open).contains(&NoteKind::ConventionBreak));
    assert!(!kinds(field(&glossary, "name")).contains(&NoteKind::IdSuffix));
}

#[test]
fn definitions_prefer_the_glossary_then_the_most_common_text() {
    let glossary = build(&schema_of(DOC)).unwrap();
    assert_eq!(
        field(&glossary, "id").content.definition.as_deref(),
        Some("Primary key, auto-generated")
    );
    // Each price text is used once: the alphabetically first wins.
    assert_eq!(
        field(&glossary, "price").content.definition.as_deref(),
        Some("Price")
    );
    assert_eq!(
        most_common(["b", "a", "b", "a", " "].into_iter()).as_deref(),
        Some("a")
    );
    assert_eq!(
        most_common(["b", "a", "b"].into_iter()).as_deref(),
        Some("b")
    );
    assert_eq!(most_common(std::iter::empty()), None);
}

#[test]
fn duplicates_are_clustered_transitively() {
    let schema = schema_of(DOC);
    let glossary = build(&schema).unwrap();
    let owners = glossary.get(EntryKind::Table, "owners").unwrap();
    let members: Vec<&str> = owners
        .content
        .tables
        .iter()
        .map(|t| match t {
            TableRef::Table(f) => f.table.as_str(),
            TableRef::Column(c) => panic!("table entry lists a column: {c:?}"),
        })
        .collect();
    // The table itself first, then the rest of its cluster.
    assert_eq!(members, ["owners", "people", "profiles"]);
    let note = owners
        .content
        .notes
        .iter()
        .find(|n| n.kind == NoteKind::DuplicateCluster)
        .unwrap();
    assert_eq!(note.related, ["people", "profiles"]);
    assert_eq!(
        owners.content.definition.as_deref(),
        Some("People who own stores")
    );
    let stores = glossary.get(EntryKind::Table, "stores").unwrap();
    assert_eq!(stores.content.tables.len(), 1);
    // Every table has an entry, documented or name-only.
    assert_eq!(glossary.tables().count(), schema.tables.len());
}

#[test]
fn the_content_hash_covers_the_content_and_nothing_else() {
    let mut schema = schema_of(DOC);
    let before = build(&schema).unwrap();
    for entry in &before.entries {
        assert_eq!(entry.content_hash, content_hash(&entry.content).unwrap());
        assert_eq!(entry.content_hash.len(), 64);
    }
    if let Some(g) = schema.glossary.get_mut("uuid") {
        g.description = Some("Another key".to_owned());
    }
    let after = build(&schema).unwrap();
    let changed: Vec<String> = before
        .entries
        .iter()
        .zip(&after.entries)
        .filter(|(a, b)| a.content_hash != b.content_hash)
        .map(|(a, _)| a.title())
        .collect();
    assert_eq!(changed, ["field:uuid"]);
}

/// The keys of a JSON object in the order they are written.
struct KeyOrder(Vec<String>);

impl<'de> serde::Deserialize<'de> for KeyOrder {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = KeyOrder;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<KeyOrder, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    keys.push(key);
                }
                Ok(KeyOrder(keys))
            }
        }
        d.deserialize_map(Visitor)
    }
}

#[test]
fn jsonl_has_the_contract_keys_in_order() {
    let glossary = build(&schema_of(DOC)).unwrap();
    let jsonl = render_jsonl(&glossary).unwrap();
    assert_eq!(jsonl.lines().count(), glossary.entries.len());
    for line in jsonl.lines() {
        let KeyOrder(keys) = serde_json::from_str(line).unwrap();
        assert_eq!(
            keys,
            [
                "kind",
                "name",
                "definition",
                "types",
                "tables",
                "enum_values",
                "notes",
                "sources",
                "content_hash"
            ]
        );
    }
}

#[test]
fn output_is_deterministic() {
    let schema = schema_of(DOC);
    assert_eq!(render_all(&schema), render_all(&schema));
    let paths: Vec<String> = render_all(&schema)
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    assert_eq!(
        paths,
        [
            "glossary/glossary.md",
            "glossary/glossary.jsonl",
            "glossary/glossary.sql"
        ]
    );
}

#[test]
fn document_text_reaches_sql_only_as_quoted_literals() {
    let hostile = "it's'); DROP TABLE owners; --";
    let doc = DOC.replace("| Alternative key |", &format!("| {hostile} |"));
    let schema = schema_of(&doc);
    let files = render_all(&schema);
    let sql = &files[2].contents;
    assert!(!sql.contains(hostile), "raw document text in SQL");
    assert!(sql.contains("it''s''); DROP TABLE owners; --"));
    assert!(sql.contains("'schema_glossary'"));
    assert!(sql.contains("'field:uuid'"));
}

#[test]
fn markdown_is_alphabetical_with_anchors() {
    let schema = schema_of(DOC);
    let glossary = build(&schema).unwrap();
    let md = render_markdown(&glossary, &Templates::load(None).unwrap()).unwrap();
    let mut last = 0;
    for entry in &glossary.entries {
        let anchor = format!(
            "<a id=\"{}\"></a>",
            anchor(entry.content.kind, &entry.content.name)
        );
        let at = md.find(&anchor).unwrap_or_else(|| panic!("no {anchor}"));
        assert!(at > last, "{anchor} out of order");
        last = at;
    }
    assert!(md.contains("[`priority`](#field-priority)"));
}

#[test]
fn refuses_a_knowledge_table_without_the_columns_it_writes() {
    let doc = format!(
        "{DOC}\n## 4. JAVARI_KNOWLEDGE (2 columns)\n\n| Column | Type | Description |\n|---|---|---|\n| id | uuid | Primary key |\n| title | varchar | Title |\n"
    );
    let schema = schema_of(&doc);
    let glossary = build(&schema).unwrap();
    let error = render_sql(
        &glossary,
        &schema,
        &GlossaryOptions::default(),
        &Templates::load(None).unwrap(),
    )
    .unwrap_err();
    assert!(error.to_string().contains("no column category"), "{error}");
}

#[test]
fn the_category_is_configurable() {
    let schema = schema_of(DOC);
    let glossary = build(&schema).unwrap();
    let options = GlossaryOptions {
        category: "docs".to_owned(),
    };
    let sql = render_sql(
        &glossary,
        &schema,
        &options,
        &Templates::load(None).unwrap(),
    )
    .unwrap();
    assert!(sql.contains("k.category = 'docs'"));
    assert!(!sql.contains(DEFAULT_CATEGORY));
}

/// Entries are rendered one by one through the entry templates; a
/// replacement of either whole-file template still gets every entry
/// as values, and a replacement entry template changes every section.
#[test]
fn replacement_templates_get_the_entries_or_replace_each_section() {
    let schema = schema_of(DOC);
    let glossary = build(&schema).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("glossary.md.tera"),
        "{% for e in fields %}{{ e.name }}:{{ e.anchor }} {% endfor %}|{{ tables | length }}",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("glossary.sql.tera"),
        "{% for e in entries %}{{ e.title | sql_literal }};{% endfor %}",
    )
    .unwrap();
    let templates = Templates::load(Some(dir.path())).unwrap();
    let md = render_markdown(&glossary, &templates).unwrap();
    assert!(md.contains("priority:field-priority "), "{md}");
    assert!(
        md.ends_with(&format!("|{}\n", glossary.tables().count())),
        "{md}"
    );
    let sql = render_sql(&glossary, &schema, &GlossaryOptions::default(), &templates).unwrap();
    assert!(sql.contains("'field:priority';"), "{sql}");
    assert!(sql.contains("'table:stores';"), "{sql}");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("glossary-entry.md.tera"),
        "* {{ kind }} {{ name }}\n",
    )
    .unwrap();
    let templates = Templates::load(Some(dir.path())).unwrap();
    let md = render_markdown(&glossary, &templates).unwrap();
    assert!(md.contains("\n* field priority\n"), "{md}");
    assert!(md.contains("\n* table stores\n"), "{md}");
    assert!(!md.contains("### `priority`"), "{md}");
}
