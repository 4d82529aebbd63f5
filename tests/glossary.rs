//! Issue #8 on the real documents: the glossary covers every documented
//! column once, flags every field whose base type differs across tables,
//! writes parseable and byte-stable JSONL, and its SQL is an idempotent
//! upsert into `javari_knowledge` on a real PostgreSQL database.

mod support;

use schemagen::Settings;
use schemagen::emit::Target;
use schemagen::emit::glossary::{self, EntryKind};
use schemagen::emit::{EmitContext, Emitter, OutputFile, Templates};
use schemagen::model::Schema;
use schemagen::model::physical::RealizeOptions;
use std::collections::{BTreeMap, BTreeSet};
use support::db::{TestDb, fresh_db};

fn settings() -> Settings {
    support::settings(Target::Postgres, RealizeOptions::default())
}

fn emit(schema: &Schema) -> Vec<OutputFile> {
    let templates = Templates::load(None).unwrap();
    let project = support::project_of_schema(schema, &settings());
    let context = EmitContext::new(&project, &templates);
    Emitter::Glossary.render(&context).unwrap()
}

fn file<'a>(files: &'a [OutputFile], path: &str) -> &'a str {
    &files
        .iter()
        .find(|f| f.path.to_string_lossy() == path)
        .unwrap_or_else(|| panic!("no {path}"))
        .contents
}

fn real_schema() -> Schema {
    support::real_schema().0
}

/// One document read alone, as `gen --docs FILE` would.
fn schema_of_document(path: &str) -> Schema {
    support::schema_of_files(support::source_files(&[path]))
}

/// Every JSONL line, parsed.
fn entries(schema: &Schema) -> Vec<serde_json::Value> {
    file(&emit(schema), "glossary/glossary.jsonl")
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("unparseable line {line}: {e}"))
        })
        .collect()
}

fn str_of<'a>(value: &'a serde_json::Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {value}"))
}

fn array_of<'a>(value: &'a serde_json::Value, key: &str) -> &'a Vec<serde_json::Value> {
    value[key]
        .as_array()
        .unwrap_or_else(|| panic!("`{key}` is not an array in {value}"))
}

/// Field names whose JSONL entry carries a note of `kind`.
fn flagged(entries: &[serde_json::Value], kind: &str) -> BTreeSet<String> {
    entries
        .iter()
        .filter(|e| str_of(e, "kind") == "field")
        .filter(|e| {
            array_of(e, "notes")
                .iter()
                .any(|n| str_of(n, "kind") == kind)
        })
        .map(|e| str_of(e, "name").to_owned())
        .collect()
}

/// Field names whose documented columns have more than one base type,
/// computed from the model alone.
fn base_type_mismatches(schema: &Schema) -> BTreeSet<String> {
    let mut bases: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for table in schema.documented_tables() {
        for column in table.all_documented_columns() {
            bases
                .entry(column.name.as_str())
                .or_default()
                .insert(column.ty.base());
        }
    }
    bases
        .into_iter()
        .filter(|(_, b)| b.len() > 1)
        .map(|(name, _)| name.to_owned())
        .collect()
}

#[test]
fn every_documented_column_is_in_exactly_one_field_entry() {
    let schema = real_schema();
    let entries = entries(&schema);
    let mut pairs = Vec::new();
    for entry in entries.iter().filter(|e| str_of(e, "kind") == "field") {
        for used in array_of(entry, "tables") {
            pairs.push((
                str_of(used, "table").to_owned(),
                str_of(entry, "name").to_owned(),
            ));
        }
    }
    let unique: BTreeSet<&(String, String)> = pairs.iter().collect();
    assert_eq!(
        unique.len(),
        pairs.len(),
        "a column is in two field entries"
    );
    let documented: usize = schema
        .documented_tables()
        .map(|t| t.all_documented_columns().count())
        .sum();
    assert_eq!(pairs.len(), documented);
    let expected: BTreeSet<(String, String)> = schema
        .documented_tables()
        .flat_map(|t| {
            t.all_documented_columns()
                .map(|c| (t.name.clone(), c.name.clone()))
        })
        .collect();
    assert_eq!(
        unique.into_iter().cloned().collect::<BTreeSet<_>>(),
        expected
    );

    // One entry per table, documented or name-only, and one per field name.
    let tables = entries
        .iter()
        .filter(|e| str_of(e, "kind") == "table")
        .count();
    assert_eq!(tables, schema.tables.len());
    let fields: BTreeSet<&str> = entries
        .iter()
        .filter(|e| str_of(e, "kind") == "field")
        .map(|e| str_of(e, "name"))
        .collect();
    let names: BTreeSet<&str> = schema
        .glossary
        .keys()
        .map(String::as_str)
        .chain(
            schema
                .documented_tables()
                .flat_map(|t| t.all_documented_columns().map(|c| c.name.as_str())),
        )
        .collect();
    assert_eq!(fields, names);
}

#[test]
fn every_base_type_mismatch_is_flagged() {
    // The merged model: each table's winning definition.
    let merged = real_schema();
    let expected = base_type_mismatches(&merged);
    assert_eq!(flagged(&entries(&merged), "type-mismatch"), expected);
    assert!(
        expected.len() >= 3,
        "the two documents hold at least three names whose base type differs: {expected:?}"
    );

    // Each document read alone also keeps the definitions that lose the
    // merge (`javari_cost_tracking` is documented in both, differently), so
    // between them the two documents hold at least three such names.
    let mut held = expected;
    for path in [support::MASTER, support::JAVARI] {
        let schema = schema_of_document(path);
        let expected = base_type_mismatches(&schema);
        assert_eq!(
            flagged(&entries(&schema), "type-mismatch"),
            expected,
            "{path}"
        );
        held.extend(expected);
    }
    assert!(
        held.len() >= 3,
        "the two documents hold at least three names whose base type differs: {held:?}"
    );
}

#[test]
fn the_issue_examples_of_inconsistencies_are_found_by_rule() {
    let entries = entries(&real_schema());
    let synonyms = flagged(&entries, "near-synonym");
    for name in ["model", "model_used", "timestamp", "created_at"] {
        assert!(
            synonyms.contains(name),
            "{name} not a near-synonym: {synonyms:?}"
        );
    }
    // Qualified names are not synonyms of the bare name.
    for name in ["first_name", "name", "id"] {
        assert!(!synonyms.contains(name), "{name} flagged: {synonyms:?}");
    }
    // user_id references auth.users, users and profiles.
    assert!(flagged(&entries, "foreign-key-mismatch").contains("user_id"));
}

#[test]
fn jsonl_parses_and_unchanged_documents_give_identical_output() {
    let schema = real_schema();
    let first = emit(&schema);
    let second = emit(&real_schema());
    assert_eq!(first, second);

    let built = glossary::build(&schema).unwrap();
    let jsonl = file(&first, "glossary/glossary.jsonl");
    assert_eq!(jsonl.lines().count(), built.entries.len());
    for (line, entry) in jsonl.lines().zip(&built.entries) {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(value.is_object());
        let hash = str_of(&value, "content_hash");
        assert_eq!(hash.len(), 64);
        assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(hash, glossary::content_hash(&entry.content).unwrap());
        assert_eq!(str_of(&value, "name"), entry.content.name);
        for source in array_of(&value, "sources") {
            let (path, line) = source.as_str().unwrap().rsplit_once(':').unwrap();
            assert!(path.ends_with(".md"), "{source}");
            assert!(line.parse::<u32>().is_ok(), "{source}");
        }
    }

    let markdown = file(&first, "glossary/glossary.md");
    for entry in &built.entries {
        let kind = match entry.content.kind {
            EntryKind::Field => "field",
            EntryKind::Table => "table",
        };
        let anchor = format!("<a id=\"{kind}-{}\"></a>", entry.content.name);
        assert!(markdown.contains(&anchor), "no {anchor}");
    }
}

// ---------------------------------------------------------------------------
// On PostgreSQL
// ---------------------------------------------------------------------------

/// A row written by the glossary: title, version, active, tags, content and
/// when it was last updated.
type Row = (String, i32, bool, String, String, String);

async fn rows(db: &TestDb) -> BTreeMap<String, Row> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT title::text, version, is_active, array_to_string(tags, ' '), content, \
         updated_at::text FROM public.javari_knowledge \
         WHERE category = 'schema_glossary' AND source = 'schema-docs' ORDER BY title",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    rows.into_iter().map(|r| (r.0.clone(), r)).collect()
}

/// Titles whose row differs between two snapshots.
fn changed(before: &BTreeMap<String, Row>, after: &BTreeMap<String, Row>) -> Vec<String> {
    let titles: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    titles
        .into_iter()
        .filter(|t| before.get(*t) != after.get(*t))
        .cloned()
        .collect()
}

#[tokio::test]
async fn glossary_sql_is_an_idempotent_upsert_into_javari_knowledge() {
    let mut schema = real_schema();
    let ddl = support::ddl_of(&schema, &settings());
    let db = fresh_db().await;
    db.run(&ddl).await;

    let files = emit(&schema);
    let sql = file(&files, "glossary/glossary.sql");
    let count = file(&files, "glossary/glossary.jsonl").lines().count();

    db.run(sql).await;
    let first = rows(&db).await;
    assert_eq!(first.len(), count);
    assert!(first.values().all(|r| r.1 == 1 && r.2));
    let embedded: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM public.javari_knowledge WHERE embedding IS NOT NULL",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(embedded, 0);

    // A second run changes nothing: no new row, no version, no timestamp.
    db.run(sql).await;
    let second = rows(&db).await;
    assert_eq!(second.len(), count);
    assert_eq!(changed(&first, &second), Vec::<String>::new());

    // Change one definition, with text that would break naive quoting.
    let name = schema
        .glossary
        .keys()
        .next()
        .cloned()
        .expect("the documents have a Field Glossary");
    let text = "It's been redefined'); DROP TABLE public.javari_knowledge; --";
    if let Some(entry) = schema.glossary.get_mut(&name) {
        entry.description = Some(text.to_owned());
    }
    db.run(file(&emit(&schema), "glossary/glossary.sql")).await;
    let third = rows(&db).await;
    let title = format!("field:{name}");
    assert_eq!(changed(&second, &third), [title.as_str()]);
    assert_eq!(third.len(), count);
    assert_eq!(third[&title].1, 2, "the version is bumped");
    assert!(third[&title].4.contains(text), "{}", third[&title].4);

    // An entry that disappears from the documents is deactivated, not
    // deleted; when it comes back it is active again.
    let gone = schema
        .glossary
        .keys()
        .find(|g| {
            schema
                .documented_tables()
                .all(|t| t.column(g.as_str()).is_none())
        })
        .cloned()
        .expect("a glossary field that no table uses");
    let mut without = schema.clone();
    without.glossary.remove(&gone);
    db.run(file(&emit(&without), "glossary/glossary.sql")).await;
    let fourth = rows(&db).await;
    let gone_title = format!("field:{gone}");
    assert_eq!(changed(&third, &fourth), [gone_title.as_str()]);
    assert!(!fourth[&gone_title].2);
    db.run(file(&emit(&schema), "glossary/glossary.sql")).await;
    let fifth = rows(&db).await;
    assert_eq!(changed(&fourth, &fifth), [gone_title.as_str()]);
    assert!(fifth[&gone_title].2);
    assert_eq!(fifth.len(), count);
}
