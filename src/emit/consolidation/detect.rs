//! Detection: every reason to think two tables hold the same thing becomes
//! an `Evidence` with a kind and a score, and union-find turns the evidence
//! into clusters. The signals are the documents' own duplicates table, a
//! table documented twice with different columns, four name rules derived
//! from the documents' naming conventions (singular/plural, a shared stem
//! across module prefixes, record suffix families, containment of one name
//! in another), and column similarity. Every rule works on all table names
//! at once through keyed groups or inverted indexes, so no rule compares all
//! pairs of tables.

use super::{ConsolidationOptions, Definitions};
use crate::model::{PgType, Schema, Source, inflect};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// What made two tables look like duplicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignalKind {
    /// Listed in the documents' duplicates table.
    Declared,
    /// One table documented twice, with different columns.
    DoubleDefinition,
    /// `activity_log` and `activity_logs`.
    SingularPlural,
    /// The same stem under different module prefixes (`javari_projects`,
    /// `projects`), or the same words split differently.
    SharedStem,
    /// The same subject with a record suffix (`api_usage`, `api_usage_logs`;
    /// `javari_healing_events`, `javari_healing_history`).
    SuffixFamily,
    /// One name is another plus only qualifier words (`javari_knowledge`,
    /// `javari_knowledge_base`).
    NameContainment,
    /// Similar (name, type) column sets.
    ColumnSimilarity,
}

impl SignalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::Declared => "declared",
            SignalKind::DoubleDefinition => "double-definition",
            SignalKind::SingularPlural => "singular-plural",
            SignalKind::SharedStem => "shared-stem",
            SignalKind::SuffixFamily => "suffix-family",
            SignalKind::NameContainment => "name-containment",
            SignalKind::ColumnSimilarity => "column-similarity",
        }
    }

    /// How strongly one signal of this kind says "same table". Declarations
    /// and double definitions come from people who know the data; name
    /// rules are heuristics, containment the weakest of them. Column
    /// similarity scores itself (its Jaccard index).
    fn weight(self) -> f64 {
        match self {
            SignalKind::DoubleDefinition => 1.0,
            SignalKind::Declared => 0.9,
            SignalKind::SingularPlural => 0.8,
            SignalKind::SharedStem | SignalKind::SuffixFamily => 0.6,
            SignalKind::NameContainment => 0.4,
            SignalKind::ColumnSimilarity => 0.0,
        }
    }
}

/// What a declared duplicate's recommendation asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "intent", rename_all = "kebab-case")]
pub enum Intent {
    /// "Consolidate to one": merge.
    Consolidate,
    /// "Agents should extend profiles": the bases stay, the others keep
    /// their own table and reference a base.
    Extend { bases: Vec<String> },
    /// "Define clear purpose", "Clarify separation": people decide first.
    Clarify,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recommendation {
    pub text: String,
    #[serde(flatten)]
    pub intent: Intent,
}

/// One reason to consolidate some tables.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub kind: SignalKind,
    /// Sorted; two for pair signals, a whole group for a declaration, one
    /// for a double definition.
    pub tables: Vec<String>,
    pub score: f64,
    pub detail: String,
    pub recommendation: Option<Recommendation>,
    pub source: Option<Source>,
}

impl Evidence {
    /// Whether this evidence speaks about both tables.
    pub fn covers(&self, a: &str, b: &str) -> bool {
        self.tables.iter().any(|t| t == a) && self.tables.iter().any(|t| t == b)
    }
}

/// What detection looked at, so the report can show its cost stays linear.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DetectionStats {
    pub tables: usize,
    pub tables_with_columns: usize,
    /// Pairs whose column sets were compared.
    pub column_pairs_scored: usize,
    /// Columns too common to pair tables on (besides the bookkeeping ones).
    pub common_columns_skipped: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Detection {
    pub evidence: Vec<Evidence>,
    pub stats: DetectionStats,
}

/// Words that name a record of happenings: `X_events`, `X_history` and
/// `X_logs` all record X. Compared as stems.
const RECORD_SUFFIXES: &[&str] = &[
    "log",
    "logs",
    "history",
    "events",
    "tracking",
    "metrics",
    "incidents",
];

/// Words that name a container or a mode rather than a different thing:
/// `knowledge_base` holds knowledge, `credential_vault` holds credentials,
/// `auto_healing` is healing. Compared as stems.
const QUALIFIERS: &[&str] = &[
    "base",
    "vault",
    "store",
    "storage",
    "registry",
    "repository",
    "bank",
    "catalog",
    "master",
    "main",
    "auto",
    "automatic",
    "automated",
];

pub fn detect(
    schema: &Schema,
    definitions: &Definitions,
    options: &ConsolidationOptions,
) -> Detection {
    let mut detection = Detection::default();
    detection.stats.tables = schema.tables.len();
    declared(schema, &mut detection.evidence);
    double_definitions(schema, definitions, &mut detection.evidence);
    names(schema, options, &mut detection.evidence);
    columns(schema, options, &mut detection);
    detection
}

fn declared(schema: &Schema, out: &mut Vec<Evidence>) {
    for duplicate in &schema.duplicates {
        let tables: BTreeSet<String> = duplicate.tables.iter().cloned().collect();
        if tables.len() < 2 {
            continue;
        }
        let tables: Vec<String> = tables.into_iter().collect();
        let intent = intent_of(&duplicate.recommendation, &tables);
        out.push(Evidence {
            kind: SignalKind::Declared,
            detail: format!(
                "listed in the documents' duplicates table: \"{}\"",
                duplicate.recommendation
            ),
            score: SignalKind::Declared.weight(),
            recommendation: Some(Recommendation {
                text: duplicate.recommendation.clone(),
                intent,
            }),
            source: Some(duplicate.source.clone()),
            tables,
        });
    }
}

/// Reads a recommendation: consolidation words mean merge; "extend" names
/// the tables after it as bases; anything else asks people to decide.
pub fn intent_of(text: &str, tables: &[String]) -> Intent {
    let lower = text.to_lowercase();
    if ["consolidat", "merge", "combine", "dedup"]
        .iter()
        .any(|w| lower.contains(w))
    {
        return Intent::Consolidate;
    }
    if let Some(at) = lower.find("extend") {
        let words: BTreeSet<&str> = lower[at..]
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .collect();
        let bases: Vec<String> = tables
            .iter()
            .filter(|t| words.contains(t.as_str()))
            .cloned()
            .collect();
        if !bases.is_empty() && bases.len() < tables.len() {
            return Intent::Extend { bases };
        }
    }
    Intent::Clarify
}

fn double_definitions(schema: &Schema, definitions: &Definitions, out: &mut Vec<Evidence>) {
    for table in schema.tables.values() {
        let files: BTreeSet<&str> = table.definitions.iter().map(|s| &*s.file).collect();
        if files.len() < 2 {
            continue;
        }
        let detail = match definitions.of(&table.name) {
            Some(found) => {
                let shapes: BTreeSet<BTreeSet<(&str, &str)>> = found
                    .iter()
                    .map(|d| {
                        d.columns
                            .iter()
                            .map(|c| (c.name.as_str(), c.ty.base()))
                            .collect()
                    })
                    .collect();
                if shapes.len() < 2 {
                    // The sources agree; the merged model already holds the table once.
                    continue;
                }
                let places: Vec<String> = found.iter().map(|d| d.describe()).collect();
                format!(
                    "documented with different columns at {}; the first wins",
                    places.join(" and ")
                )
            }
            None => {
                let places: Vec<String> = table.definitions.iter().map(|s| s.to_string()).collect();
                format!(
                    "documented at {}; the other definitions' columns were not given to this run, so whether they differ is unknown",
                    places.join(" and ")
                )
            }
        };
        out.push(Evidence {
            kind: SignalKind::DoubleDefinition,
            tables: vec![table.name.clone()],
            score: SignalKind::DoubleDefinition.weight(),
            detail,
            recommendation: None,
            // The detail names every place; no single line speaks for it.
            source: None,
        });
    }
}

/// A table name taken apart by the documents' conventions.
struct NameParts<'a> {
    name: &'a str,
    prefix: Option<&'a str>,
    /// Raw words of the name without its module prefix.
    words: Vec<&'a str>,
    /// Stems of `words`.
    stems: Vec<String>,
    /// `stems` without a trailing record suffix.
    subject: Vec<String>,
}

impl NameParts<'_> {
    fn stem_key(&self) -> String {
        self.stems.concat()
    }

    fn subject_key(&self) -> String {
        self.subject.concat()
    }

    fn core(&self) -> String {
        self.words.join("_")
    }
}

fn parts<'a>(name: &'a str, prefixes: &'a [String]) -> NameParts<'a> {
    let prefix = prefixes
        .iter()
        .find(|p| name.len() > p.len() && name.starts_with(p.as_str()))
        .map(String::as_str);
    let core = prefix.map_or(name, |p| &name[p.len()..]);
    let words: Vec<&str> = core.split('_').filter(|w| !w.is_empty()).collect();
    let stems: Vec<String> = words.iter().map(|w| stem(w)).collect();
    let mut subject = stems.clone();
    if subject.len() > 1 && subject.last().is_some_and(|s| is_record_suffix(s)) {
        subject.pop();
    }
    NameParts {
        name,
        prefix,
        words,
        stems,
        subject,
    }
}

/// A light stem: the singular, without `-ing`/`-ed`, so that `healing`,
/// `heal` and `auto_healing` meet. It only has to be consistent, not
/// linguistically right.
pub fn stem(word: &str) -> String {
    let singular = inflect::singular(word);
    for suffix in ["ing", "ed"] {
        if let Some(base) = singular.strip_suffix(suffix)
            && base.len() >= 3
        {
            return base.to_owned();
        }
    }
    singular
}

fn is_record_suffix(stemmed: &str) -> bool {
    RECORD_SUFFIXES.iter().any(|s| stem(s) == stemmed)
}

fn is_qualifier(stemmed: &str) -> bool {
    QUALIFIERS.iter().any(|q| stem(q) == stemmed)
}

/// The module prefixes the documents' table naming convention lists
/// (`javari_`, `bv_`, `bot_`), longest first so the most specific wins.
pub fn module_prefixes(schema: &Schema) -> Vec<String> {
    let mut prefixes: Vec<String> = schema
        .naming_conventions
        .iter()
        .filter(|c| c.category.to_lowercase().contains("table"))
        .filter(|c| c.rule.to_lowercase().contains("prefix"))
        .flat_map(|c| c.rule.split('`').skip(1).step_by(2))
        .filter(|p| p.len() > 1 && p.ends_with('_'))
        .filter(|p| {
            p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
        .map(str::to_owned)
        .collect();
    prefixes.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    prefixes.dedup();
    prefixes
}

fn names(schema: &Schema, options: &ConsolidationOptions, out: &mut Vec<Evidence>) {
    let prefixes = module_prefixes(schema);
    let all: Vec<NameParts<'_>> = schema.tables.keys().map(|n| parts(n, &prefixes)).collect();
    // The first rule to match a pair names it: the rules go from the most
    // to the least specific.
    let mut found: BTreeMap<(usize, usize), (SignalKind, String)> = BTreeMap::new();
    let mut record = |i: usize, j: usize, kind: SignalKind, detail: String| {
        let key = (i.min(j), i.max(j));
        found.entry(key).or_insert((kind, detail));
    };

    let singular = group_by(&all, |p| inflect::singular(p.name));
    for (i, j) in pairs_in(&singular, options.max_block_size) {
        let (a, b) = (all[i].name, all[j].name);
        record(
            i,
            j,
            SignalKind::SingularPlural,
            format!("`{a}` and `{b}` are the singular and plural of one name"),
        );
    }
    let stems = group_by(&all, NameParts::stem_key);
    for (i, j) in pairs_in(&stems, options.max_block_size) {
        let (a, b) = (&all[i], &all[j]);
        let detail = if a.prefix != b.prefix {
            format!(
                "`{}` and `{}` share the stem `{}` across module prefixes ({} and {})",
                a.name,
                b.name,
                a.core(),
                prefix_label(a.prefix),
                prefix_label(b.prefix)
            )
        } else {
            format!(
                "`{}` and `{}` are the same words, split differently",
                a.name, b.name
            )
        };
        record(i, j, SignalKind::SharedStem, detail);
    }
    let subjects = group_by(&all, NameParts::subject_key);
    for (i, j) in pairs_in(&subjects, options.max_block_size) {
        let (a, b) = (&all[i], &all[j]);
        let suffixes: Vec<String> = [a, b]
            .iter()
            .filter(|p| p.subject.len() < p.stems.len())
            .filter_map(|p| p.words.last().map(|w| format!("`_{w}`")))
            .collect();
        record(
            i,
            j,
            SignalKind::SuffixFamily,
            format!(
                "`{}` and `{}` record the same subject `{}` (record suffix {})",
                a.name,
                b.name,
                a.subject.join("_"),
                suffixes.join(" and ")
            ),
        );
    }
    containment(&all, options, &mut record);

    for ((i, j), (kind, detail)) in found {
        out.push(Evidence {
            kind,
            tables: vec![all[i].name.to_owned(), all[j].name.to_owned()],
            score: kind.weight(),
            detail,
            recommendation: None,
            source: None,
        });
    }
}

fn prefix_label(prefix: Option<&str>) -> String {
    prefix.map_or_else(|| "no prefix".to_owned(), |p| format!("`{p}`"))
}

fn group_by<'a, F: Fn(&NameParts<'a>) -> String>(
    all: &[NameParts<'a>],
    key: F,
) -> BTreeMap<String, Vec<usize>> {
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, p) in all.iter().enumerate() {
        groups.entry(key(p)).or_default().push(i);
    }
    groups
}

/// Pairs within each group. A group larger than the block size is a key
/// too common to mean anything, and would make the cost quadratic.
fn pairs_in(groups: &BTreeMap<String, Vec<usize>>, max: usize) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    for members in groups.values().filter(|m| m.len() > 1 && m.len() <= max) {
        for (n, &i) in members.iter().enumerate() {
            for &j in &members[n + 1..] {
                pairs.push((i, j));
            }
        }
    }
    pairs
}

/// One name's subject stems all appear in another's, and the other adds
/// only qualifier words. Candidates come from the posting list of the
/// shorter name's rarest stem.
fn containment(
    all: &[NameParts<'_>],
    options: &ConsolidationOptions,
    record: &mut impl FnMut(usize, usize, SignalKind, String),
) {
    let mut postings: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, p) in all.iter().enumerate() {
        let unique: BTreeSet<&str> = p.subject.iter().map(String::as_str).collect();
        for s in unique {
            postings.entry(s).or_default().push(i);
        }
    }
    for (i, short) in all.iter().enumerate() {
        let shorter: BTreeSet<&str> = short.subject.iter().map(String::as_str).collect();
        let Some(rarest) = shorter
            .iter()
            .filter_map(|s| postings.get(s))
            .min_by_key(|list| list.len())
        else {
            continue;
        };
        if rarest.len() > options.max_block_size {
            continue;
        }
        for &j in rarest.iter().filter(|&&j| j != i) {
            let long = &all[j];
            let longer: BTreeSet<&str> = long.subject.iter().map(String::as_str).collect();
            if !(shorter.is_subset(&longer) && longer.len() > shorter.len()) {
                continue;
            }
            let extra: Vec<&str> = longer.difference(&shorter).copied().collect();
            if extra.iter().all(|e| is_qualifier(e)) {
                let stem: Vec<&str> = short.subject.iter().map(String::as_str).collect();
                record(
                    i,
                    j,
                    SignalKind::NameContainment,
                    format!(
                        "`{}` adds only the qualifier {} to the stem `{}` of `{}`",
                        long.name,
                        extra
                            .iter()
                            .map(|e| format!("`{e}`"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        stem.join("_"),
                        short.name
                    ),
                );
            }
        }
    }
}

/// A table's columns as (name, type family), bookkeeping columns left out:
/// every table has `id` and timestamps, so they say nothing about sameness.
pub fn column_shape<'a>(
    columns: impl IntoIterator<Item = (&'a str, &'a PgType)>,
    options: &ConsolidationOptions,
) -> BTreeSet<(&'a str, &'static str)> {
    columns
        .into_iter()
        .filter(|(name, _)| !options.bookkeeping_columns.iter().any(|b| b == name))
        .map(|(name, ty)| (name, ty.base()))
        .collect()
}

/// Jaccard index of two sets; 0 when both are empty.
pub fn jaccard<T: Ord>(a: &BTreeSet<T>, b: &BTreeSet<T>) -> f64 {
    let union = a.union(b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(b).count() as f64 / union as f64
}

/// Column similarity, blocked on an inverted index of column names: only
/// tables that share a column rare enough to mean something are compared.
fn columns(schema: &Schema, options: &ConsolidationOptions, detection: &mut Detection) {
    let tables: Vec<(&str, BTreeSet<(&str, &'static str)>)> = schema
        .tables
        .values()
        .filter(|t| !t.columns.is_empty())
        .map(|t| {
            let shape = column_shape(t.columns.iter().map(|c| (c.name.as_str(), &c.ty)), options);
            (t.name.as_str(), shape)
        })
        .collect();
    detection.stats.tables_with_columns = tables.len();
    let mut index: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, (_, shape)) in tables.iter().enumerate() {
        for (column, _) in shape {
            index.entry(column).or_default().push(i);
        }
    }
    let mut candidates: BTreeSet<(usize, usize)> = BTreeSet::new();
    for (column, members) in &index {
        if members.len() > options.max_block_size {
            detection
                .stats
                .common_columns_skipped
                .push((*column).to_owned());
            continue;
        }
        for (n, &i) in members.iter().enumerate() {
            for &j in &members[n + 1..] {
                candidates.insert((i, j));
            }
        }
    }
    detection.stats.column_pairs_scored = candidates.len();
    for (i, j) in candidates {
        let ((a, sa), (b, sb)) = (&tables[i], &tables[j]);
        // A table that references the other is its child (or extension),
        // so shared columns are expected and say nothing about copies.
        if references(schema, a, b) || references(schema, b, a) {
            continue;
        }
        let score = jaccard(sa, sb);
        let shared = sa.intersection(sb).count();
        if score < options.column_similarity_threshold || shared < options.min_shared_columns {
            continue;
        }
        detection.evidence.push(Evidence {
            kind: SignalKind::ColumnSimilarity,
            tables: vec![(*a).to_owned(), (*b).to_owned()],
            score: round2(score),
            detail: format!(
                "Jaccard {:.2} over (name, type) columns: {shared} shared of {} (bookkeeping columns {} left out)",
                score,
                sa.union(sb).count(),
                options.bookkeeping_columns.join("/")
            ),
            recommendation: None,
            source: None,
        });
    }
}

fn references(schema: &Schema, from: &str, to: &str) -> bool {
    schema.tables.get(from).is_some_and(|t| {
        t.foreign_keys
            .iter()
            .any(|fk| !fk.references.is_external() && fk.references.table == to)
    })
}

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Union-find over evidence: the connected components, each sorted, in
/// name order. A table alone in its component is a cluster only when it
/// was documented twice.
pub fn clusters(evidence: &[Evidence]) -> Vec<Vec<String>> {
    let mut parent: BTreeMap<String, String> = BTreeMap::new();
    fn find(parent: &mut BTreeMap<String, String>, x: &str) -> String {
        let mut root = x.to_owned();
        while let Some(p) = parent.get(&root).filter(|p| **p != root) {
            root = p.clone();
        }
        // Path compression keeps later finds short.
        let mut node = x.to_owned();
        while node != root {
            let next = parent
                .insert(node.clone(), root.clone())
                .unwrap_or_else(|| root.clone());
            node = next;
        }
        root
    }
    for e in evidence {
        for t in &e.tables {
            parent.entry(t.clone()).or_insert_with(|| t.clone());
        }
        for pair in e.tables.windows(2) {
            let (a, b) = (find(&mut parent, &pair[0]), find(&mut parent, &pair[1]));
            if a != b {
                // The smaller name becomes the root, so the result does not
                // depend on the order evidence arrives in.
                let (root, child) = if a < b { (a, b) } else { (b, a) };
                parent.insert(child, root);
            }
        }
    }
    let names: Vec<String> = parent.keys().cloned().collect();
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in names {
        let root = find(&mut parent, &name);
        groups.entry(root).or_default().push(name);
    }
    let mut out: Vec<Vec<String>> = groups.into_values().collect();
    for group in &mut out {
        group.sort();
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_meet_across_forms() {
        assert_eq!(stem("healing"), "heal");
        assert_eq!(stem("credentials"), "credential");
        assert_eq!(stem("history"), "history");
        assert!(is_record_suffix(&stem("incidents")));
        assert!(is_qualifier(&stem("automated")));
    }

    #[test]
    fn recommendations_are_read() {
        let group = |names: &[&str]| names.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            intent_of("Consolidate to one", &group(&["a", "b"])),
            Intent::Consolidate
        );
        assert_eq!(
            intent_of(
                "Agents should extend profiles",
                &group(&["agents", "profiles"])
            ),
            Intent::Extend {
                bases: vec!["profiles".to_owned()]
            }
        );
        assert_eq!(
            intent_of("Define clear purpose", &group(&["users", "profiles"])),
            Intent::Clarify
        );
    }

    #[test]
    fn union_find_joins_chains_and_keeps_singletons_of_double_definitions() {
        let evidence = |kind, tables: &[&str]| Evidence {
            kind,
            tables: tables.iter().map(|s| (*s).to_owned()).collect(),
            score: 1.0,
            detail: String::new(),
            recommendation: None,
            source: None,
        };
        let found = clusters(&[
            evidence(SignalKind::SharedStem, &["c", "d"]),
            evidence(SignalKind::Declared, &["a", "b", "c"]),
            evidence(SignalKind::DoubleDefinition, &["z"]),
        ]);
        assert_eq!(found, vec![vec!["a", "b", "c", "d"], vec!["z"]]);
    }
}
