//! Building the glossary's entries from the model: one per field name
//! (every documented column of that name, with the Field Glossary's
//! definition) and one per table, each with the notes the rules find.

use super::*;

/// Builds every entry from the model.
pub fn build(schema: &Schema) -> Result<Glossary, EmitError> {
    let mut entries = Vec::new();
    let uses = field_uses(schema);
    let synonyms = near_synonyms(schema, &uses);
    for (name, columns) in &uses {
        let content = field_entry(schema, name, columns, synonyms.get(name.as_str()));
        entries.push(Entry::new(content)?);
    }
    let clusters = duplicate_clusters(schema);
    for table in schema.tables.values() {
        entries.push(Entry::new(table_entry(schema, table, &clusters))?);
    }
    entries
        .sort_by(|a, b| (a.content.kind, &a.content.name).cmp(&(b.content.kind, &b.content.name)));
    Ok(Glossary { entries })
}

/// Every field name (glossary and documented columns) with the documented
/// columns that carry it, in table order.
fn field_uses(schema: &Schema) -> BTreeMap<String, Vec<(&Table, &Column)>> {
    let mut uses: BTreeMap<String, Vec<(&Table, &Column)>> = schema
        .glossary
        .keys()
        .map(|name| (name.clone(), Vec::new()))
        .collect();
    for table in schema.documented_tables() {
        // A table documented twice, differently, keeps the other document's
        // extra columns: they are documented fields too.
        for column in table.all_documented_columns() {
            uses.entry(column.name.clone())
                .or_default()
                .push((table, column));
        }
    }
    uses
}

fn field_entry(
    schema: &Schema,
    name: &str,
    uses: &[(&Table, &Column)],
    synonyms: Option<&BTreeMap<String, String>>,
) -> EntryContent {
    let glossary = schema.glossary.get(name);
    let mut sources: BTreeSet<Source> = BTreeSet::new();
    if let Some(g) = glossary {
        sources.insert(g.source.clone());
    }
    for (_, column) in uses {
        sources.insert(column.source.clone());
    }

    let definition = glossary
        .and_then(|g| g.description.clone())
        .filter(|d| !d.trim().is_empty())
        .or_else(|| most_common(uses.iter().filter_map(|(_, c)| c.description.as_deref())));

    let tables = uses
        .iter()
        .map(|(table, column)| {
            TableRef::Column(ColumnUse {
                table: table.name.clone(),
                module: table.module.clone(),
                ty: column.ty.to_string(),
                nullable: column.nullable,
                description: column.description.clone(),
                source: column.source.to_string(),
            })
        })
        .collect();

    let enum_values = value_sets(schema, name, glossary, uses, &mut sources);

    let mut notes = Vec::new();
    convention_notes(name, glossary.and_then(|g| g.ty.as_ref()), uses, &mut notes);
    type_notes(name, glossary.and_then(|g| g.ty.as_ref()), uses, &mut notes);
    description_notes(name, uses, &mut notes);
    value_notes(&enum_values, &mut notes);
    if let Some(synonyms) = synonyms {
        for (other, why) in synonyms {
            notes.push(
                Note::new(
                    NoteKind::NearSynonym,
                    format!("near-synonym of `{other}` ({why})"),
                )
                .related([other.clone()]),
            );
        }
    }
    if uses.is_empty() {
        notes.push(Note::new(
            NoteKind::GlossaryOnly,
            "defined in the Field Glossary; no documented table has this column",
        ));
    }

    EntryContent {
        kind: EntryKind::Field,
        name: name.to_owned(),
        definition,
        types: type_uses(glossary.and_then(|g| g.ty.as_ref()), uses),
        tables,
        enum_values,
        notes,
        sources: sources.iter().map(Source::to_string).collect(),
    }
}

/// The most frequent non-empty text; ties go to the alphabetically first, so
/// the choice does not depend on table order.
pub(super) fn most_common<'a>(texts: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for text in texts.map(str::trim).filter(|t| !t.is_empty()) {
        *counts.entry(text).or_default() += 1;
    }
    // `max_by_key` keeps the last maximum, so iterate in reverse to keep the
    // alphabetically first of the tied texts.
    counts
        .into_iter()
        .rev()
        .max_by_key(|(_, count)| *count)
        .map(|(text, _)| text.to_owned())
}

fn type_uses<'t>(glossary_type: Option<&PgType>, uses: &[(&'t Table, &Column)]) -> Vec<TypeUse> {
    // Each type's tables in the order met, without repeats; the set beside
    // the list keeps that check cheap for a field used in thousands of tables.
    let mut by_type: BTreeMap<String, (TypeUse, BTreeSet<&'t str>)> = BTreeMap::new();
    let mut record = |ty: &PgType, table: Option<&'t str>| {
        let text = ty.to_string();
        let (use_, seen) = by_type.entry(text).or_insert_with_key(|text| {
            (
                TypeUse {
                    ty: text.clone(),
                    base: ty.base().to_owned(),
                    tables: Vec::new(),
                    glossary: false,
                },
                BTreeSet::new(),
            )
        });
        match table {
            None => use_.glossary = true,
            Some(name) if seen.insert(name) => use_.tables.push(name.to_owned()),
            Some(_) => {}
        }
    };
    if let Some(ty) = glossary_type {
        record(ty, None);
    }
    for (table, column) in uses {
        record(&column.ty, Some(&table.name));
    }
    by_type.into_values().map(|(use_, _)| use_).collect()
}

/// Value sets from column descriptions, named enums, CHECK constraints and
/// the glossary, grouped so each distinct set is listed once.
fn value_sets(
    schema: &Schema,
    name: &str,
    glossary: Option<&crate::model::GlossaryEntry>,
    uses: &[(&Table, &Column)],
    sources: &mut BTreeSet<Source>,
) -> Vec<ValueSet> {
    let mut sets: BTreeMap<(ValueOrigin, Option<String>, Vec<String>), BTreeSet<String>> =
        BTreeMap::new();
    let mut enums_seen: BTreeSet<&str> = BTreeSet::new();
    for (table, column) in uses {
        if !column.documented_values.is_empty() {
            // A column whose values came from a named enum lists that enum.
            let (origin, enum_name, values) = match column
                .enum_name
                .as_deref()
                .and_then(|e| schema.enums.get(e))
            {
                Some(def) => {
                    enums_seen.insert(def.name.as_str());
                    sources.insert(def.source.clone());
                    (
                        ValueOrigin::Enum,
                        Some(def.name.clone()),
                        def.values.clone(),
                    )
                }
                None => (
                    ValueOrigin::Documented,
                    None,
                    column.documented_values.clone(),
                ),
            };
            sets.entry((origin, enum_name, values))
                .or_default()
                .insert(table.name.clone());
        }
        for check in &table.check_constraints {
            if check.allowed_values.is_empty() || !check_is_on(check, &column.name) {
                continue;
            }
            sources.insert(check.source.clone());
            sets.entry((ValueOrigin::Check, None, check.allowed_values.clone()))
                .or_default()
                .insert(table.name.clone());
        }
    }
    // A named enum whose name is the field's (`property_type`) or its plural
    // (`commission_types`) documents the field's values even where no column
    // links to it, as in the glossary.
    for def in schema.enums.values() {
        let matches = def.name == name || singular(&def.name) == name;
        if matches && !enums_seen.contains(def.name.as_str()) {
            sources.insert(def.source.clone());
            sets.entry((
                ValueOrigin::Enum,
                Some(def.name.clone()),
                def.values.clone(),
            ))
            .or_default();
        }
    }
    if let Some(g) = glossary
        && !g.values.is_empty()
    {
        sets.entry((ValueOrigin::Glossary, None, g.values.clone()))
            .or_default();
    }
    sets.into_iter()
        .map(|((origin, enum_name, values), tables)| ValueSet {
            origin,
            enum_name,
            values,
            tables: tables.into_iter().collect(),
        })
        .collect()
}

/// Whether a CHECK constrains `column`: written on it, or a table CHECK
/// whose expression names only that column.
fn check_is_on(check: &crate::model::CheckConstraint, column: &str) -> bool {
    match &check.column {
        Some(c) => c == column,
        None => {
            let columns = crate::lint::expression_columns(&check.expression);
            columns.len() == 1 && columns.contains(column)
        }
    }
}

fn join_tables<'a>(tables: impl IntoIterator<Item = &'a String>) -> String {
    let set: BTreeSet<&String> = tables.into_iter().collect();
    set.into_iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

fn convention_notes(
    name: &str,
    glossary_type: Option<&PgType>,
    uses: &[(&Table, &Column)],
    notes: &mut Vec<Note>,
) {
    let prefix = BOOLEAN_PREFIXES.iter().find(|p| name.starts_with(**p));
    if let Some(prefix) = prefix {
        notes.push(Note::new(
            NoteKind::BooleanPrefix,
            format!("`{prefix}` prefix: a boolean flag by the naming conventions"),
        ));
        let mut breaks: Vec<String> = uses
            .iter()
            .filter(|(_, c)| c.ty != PgType::Boolean)
            .map(|(t, c)| format!("{} ({})", t.name, c.ty))
            .collect();
        if glossary_type.is_some_and(|t| *t != PgType::Boolean) {
            breaks.push("the Field Glossary".to_owned());
        }
        if !breaks.is_empty() {
            notes.push(Note::new(
                NoteKind::ConventionBreak,
                format!(
                    "has the `{prefix}` prefix but is not boolean in: {}",
                    breaks.join(", ")
                ),
            ));
        }
    } else {
        let booleans: Vec<&String> = uses
            .iter()
            .filter(|(_, c)| c.ty == PgType::Boolean)
            .map(|(t, _)| &t.name)
            .collect();
        if !booleans.is_empty() {
            notes.push(Note::new(
                NoteKind::ConventionBreak,
                format!(
                    "boolean without an is_/has_/can_ prefix in: {}",
                    join_tables(booleans)
                ),
            ));
        }
    }

    // FK targets, by position in each FK (a composite FK maps column i to
    // referenced column i).
    let mut targets: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut without_fk: BTreeSet<String> = BTreeSet::new();
    for (table, column) in uses {
        let mut found = false;
        for fk in &table.foreign_keys {
            let Some(i) = fk.columns.iter().position(|c| *c == column.name) else {
                continue;
            };
            found = true;
            let target = match fk.referenced_columns.get(i) {
                Some(referenced) => format!("{}.{referenced}", fk.references),
                None => fk.references.to_string(),
            };
            targets
                .entry(target)
                .or_default()
                .insert(table.name.clone());
        }
        if !found {
            without_fk.insert(table.name.clone());
        }
    }
    let has_suffix = name.len() > FK_SUFFIX.len() && name.ends_with(FK_SUFFIX);
    if has_suffix {
        notes.push(Note::new(
            NoteKind::IdSuffix,
            format!("`{FK_SUFFIX}` suffix: a reference to another row by the naming conventions"),
        ));
    }
    for (target, tables) in &targets {
        notes.push(
            Note::new(
                NoteKind::ForeignKey,
                format!("FK to `{target}` in: {}", join_tables(tables)),
            )
            .related([target.clone()]),
        );
    }
    if targets.len() > 1 {
        let listed: Vec<String> = targets
            .iter()
            .map(|(target, tables)| format!("`{target}` ({})", join_tables(tables)))
            .collect();
        notes.push(
            Note::new(
                NoteKind::ForeignKeyMismatch,
                format!(
                    "the same name references different tables: {}",
                    listed.join("; ")
                ),
            )
            .related(targets.keys().cloned()),
        );
    }
    if has_suffix && !without_fk.is_empty() {
        notes.push(Note::new(
            NoteKind::NoForeignKey,
            format!("no FK documented in: {}", join_tables(&without_fk)),
        ));
    }
    if !has_suffix && !targets.is_empty() {
        notes.push(Note::new(
            NoteKind::ConventionBreak,
            format!("an FK column without the `{FK_SUFFIX}` suffix"),
        ));
    }
}

fn type_notes(
    name: &str,
    glossary_type: Option<&PgType>,
    uses: &[(&Table, &Column)],
    notes: &mut Vec<Note>,
) {
    let mut by_base: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    for (table, column) in uses {
        by_base
            .entry(column.ty.base())
            .or_default()
            .insert(table.name.clone());
    }
    if by_base.len() > 1 {
        let listed: Vec<String> = by_base
            .iter()
            .map(|(base, tables)| format!("{base} ({})", join_tables(tables)))
            .collect();
        notes.push(Note::new(
            NoteKind::TypeMismatch,
            format!(
                "`{name}` has different base types across tables: {}",
                listed.join("; ")
            ),
        ));
    }
    if let Some(ty) = glossary_type
        && !by_base.is_empty()
        && !by_base.contains_key(ty.base())
    {
        notes.push(Note::new(
            NoteKind::GlossaryTypeMismatch,
            format!(
                "the Field Glossary says {ty}, but no documented table uses a {} type",
                ty.base()
            ),
        ));
    }
}

/// The words of a text that carry meaning: lowercase, crudely singular,
/// without stopwords and without the words in `ignore` (the field's and the
/// table's own names, which every description may repeat).
pub(super) fn meaning_words(text: &str, ignore: &BTreeSet<String>) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| stem(&w.to_lowercase()))
        .filter(|w| !STOPWORDS.contains(&w.as_str()) && !ignore.contains(w))
        .collect()
}

/// Drops a plural `s` so that `users` and `user` compare equal.
fn stem(word: &str) -> String {
    match word.strip_suffix('s') {
        Some(stem) if stem.len() >= 3 && !stem.ends_with('s') => stem.to_owned(),
        _ => word.to_owned(),
    }
}

fn name_words(name: &str) -> impl Iterator<Item = String> + '_ {
    name.split('_').filter(|w| !w.is_empty()).map(stem)
}

/// Flags a field when two tables describe it with texts that share no
/// meaning word, such as "Lead source" and "Source (chat/doc/web)". A text
/// that only repeats the field's or the table's name says nothing and never
/// disagrees. The Field Glossary's text is the definition, not one more
/// description: it is usually the longer wording of a terse column
/// description ("Record creation time (UTC)" for "Created"), so comparing it
/// would flag wording, not meaning.
fn description_notes(name: &str, uses: &[(&Table, &Column)], notes: &mut Vec<Note>) {
    let field_words: BTreeSet<String> = name_words(name).collect();
    // Each distinct text, with the tables that use it and its meaning words.
    let mut described: BTreeMap<&str, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for (table, column) in uses {
        let Some(text) = column
            .description
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            continue;
        };
        let mut ignore = field_words.clone();
        ignore.extend(name_words(&table.name));
        ignore.extend(name_words(&singular(&table.name)));
        let entry = described.entry(text).or_default();
        entry.0.insert(table.name.clone());
        // The same text may lose different words in different tables; keep
        // the union so that a text never disagrees with itself.
        entry.1.extend(meaning_words(text, &ignore));
    }
    let meaningful: Vec<&BTreeSet<String>> = described
        .values()
        .map(|(_, words)| words)
        .filter(|w| !w.is_empty())
        .collect();
    let disagree = some_pair_disjoint(&meaningful);
    if disagree {
        let listed: Vec<String> = described
            .iter()
            .map(|(text, (tables, _))| format!("\"{text}\" ({})", join_tables(tables)))
            .collect();
        notes.push(Note::new(
            NoteKind::DescriptionMismatch,
            format!("descriptions disagree: {}", listed.join("; ")),
        ));
    }
}

/// Whether two of the sets share no word. A field used by thousands of
/// tables can have thousands of distinct descriptions, so rather than
/// comparing every pair, each set marks (in a bit per set) the sets that
/// share one of its words: some pair is disjoint exactly when some set
/// does not reach every other.
pub(super) fn some_pair_disjoint(sets: &[&BTreeSet<String>]) -> bool {
    if sets.len() < 2 {
        return false;
    }
    // Sets that all share a word have no disjoint pair.
    let shared_by_all = sets[0]
        .iter()
        .any(|word| sets[1..].iter().all(|set| set.contains(word)));
    if shared_by_all {
        return false;
    }
    let blocks = sets.len().div_ceil(64);
    let mut containing: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for (i, set) in sets.iter().enumerate() {
        for word in set.iter() {
            containing
                .entry(word.as_str())
                .or_insert_with(|| vec![0; blocks])[i / 64] |= 1 << (i % 64);
        }
    }
    let mut reached = vec![0u64; blocks];
    sets.iter().any(|set| {
        reached.iter_mut().for_each(|b| *b = 0);
        for word in set.iter() {
            for (r, c) in reached.iter_mut().zip(&containing[word.as_str()]) {
                *r |= c;
            }
        }
        let count: usize = reached.iter().map(|b| b.count_ones() as usize).sum();
        count < sets.len()
    })
}

fn value_notes(sets: &[ValueSet], notes: &mut Vec<Note>) {
    // Only sets that tables state are compared; the glossary's and unlinked
    // enums describe the field in general.
    let distinct: BTreeSet<BTreeSet<&String>> = sets
        .iter()
        .filter(|s| !s.tables.is_empty())
        .map(|s| s.values.iter().collect())
        .collect();
    if distinct.len() > 1 {
        let listed: Vec<String> = sets
            .iter()
            .filter(|s| !s.tables.is_empty())
            .map(|s| format!("{} ({})", s.values.join("/"), join_tables(&s.tables)))
            .collect();
        notes.push(Note::new(
            NoteKind::ValueMismatch,
            format!("tables list different values: {}", listed.join("; ")),
        ));
    }
}

/// Near-synonyms of every field name: name → (other name → why).
fn near_synonyms<'a>(
    schema: &Schema,
    uses: &'a BTreeMap<String, Vec<(&Table, &Column)>>,
) -> BTreeMap<&'a str, BTreeMap<String, String>> {
    // The base types each name is declared with, in tables or the glossary.
    let bases: BTreeMap<&str, BTreeSet<&'static str>> = uses
        .iter()
        .map(|(name, columns)| {
            let mut set: BTreeSet<&'static str> =
                columns.iter().map(|(_, c)| c.ty.base()).collect();
            if let Some(ty) = schema.glossary.get(name).and_then(|g| g.ty.as_ref()) {
                set.insert(ty.base());
            }
            set.remove("unknown");
            (name.as_str(), set)
        })
        .collect();
    // Only two kinds of pair can be near-synonyms: a name and the same name
    // with one more `_word` (a participle extension), and two names of one
    // time-synonym group. Listing those pairs, instead of trying every pair
    // of names, keeps this linear in the number of names.
    let mut candidates: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut pair = |x: &'a str, y: &'a str| {
        if x != y {
            candidates.insert(if x < y { (x, y) } else { (y, x) });
        }
    };
    for &long in bases.keys() {
        if let Some((short, _)) = long.rsplit_once('_')
            && let Some((&short, _)) = bases.get_key_value(short)
        {
            pair(short, long);
        }
    }
    for group in TIME_SYNONYM_GROUPS {
        let present: Vec<&'a str> = group
            .iter()
            .filter_map(|name| bases.get_key_value(name).map(|(n, _)| *n))
            .collect();
        for (i, &x) in present.iter().enumerate() {
            for &y in &present[i + 1..] {
                pair(x, y);
            }
        }
    }
    let mut found: BTreeMap<&str, BTreeMap<String, String>> = BTreeMap::new();
    for (a, b) in candidates {
        let (a_bases, b_bases) = (&bases[a], &bases[b]);
        if a_bases.is_disjoint(b_bases) {
            continue;
        }
        let why = participle_extension(a, b)
            .or_else(|| participle_extension(b, a))
            .or_else(|| time_synonyms(a, b, a_bases, b_bases));
        if let Some(why) = why {
            found
                .entry(a)
                .or_default()
                .insert(b.to_owned(), why.clone());
            found.entry(b).or_default().insert(a.to_owned(), why);
        }
    }
    found
}

/// `model_used` is `model` extended by the trailing participle `used`. A
/// trailing participle says what role the thing played (`provider_used`)
/// without naming a different thing, unlike a trailing noun (`source_url`)
/// or convention marker (`viewed_at`). A leading word, participle or not,
/// usually names a different value (`predicted_cost_usd`, `first_name`),
/// so prefix extensions are not near-synonyms.
pub(super) fn participle_extension(short: &str, long: &str) -> Option<String> {
    let extra = long.strip_prefix(short)?.strip_prefix('_')?;
    let one_word = !extra.is_empty() && !extra.contains('_');
    let participle = extra.len() >= 4 && extra.ends_with("ed");
    if !one_word || !participle || CONVENTION_TOKENS.contains(&extra) {
        return None;
    }
    Some(format!(
        "`{long}` is `{short}` with the participle `_{extra}`"
    ))
}

fn time_synonyms(
    a: &str,
    b: &str,
    a_bases: &BTreeSet<&str>,
    b_bases: &BTreeSet<&str>,
) -> Option<String> {
    let timestamps = a_bases.contains("timestamp") && b_bases.contains("timestamp");
    let grouped = TIME_SYNONYM_GROUPS
        .iter()
        .any(|group| group.contains(&a) && group.contains(&b));
    (timestamps && grouped).then(|| "both name the same moment in time".to_owned())
}

/// Declared duplicates grouped transitively (`users`/`profiles` and
/// `agents`/`profiles` make one cluster): table → its cluster, sorted.
fn duplicate_clusters(schema: &Schema) -> BTreeMap<String, BTreeSet<String>> {
    let mut clusters: Vec<BTreeSet<String>> = Vec::new();
    for declared in &schema.duplicates {
        let mut merged: BTreeSet<String> = declared.tables.iter().cloned().collect();
        // Absorb every existing cluster that shares a table with this one.
        clusters.retain(|cluster| {
            if cluster.is_disjoint(&merged) {
                true
            } else {
                merged.extend(cluster.iter().cloned());
                false
            }
        });
        clusters.push(merged);
    }
    clusters
        .into_iter()
        .flat_map(|cluster| {
            cluster
                .iter()
                .map(|t| (t.clone(), cluster.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn table_facts(schema: &Schema, name: &str) -> TableFacts {
    match schema.tables.get(name) {
        Some(table) => TableFacts {
            table: table.name.clone(),
            module: table.module.clone(),
            documentation: table.documentation,
            columns: table.columns.len(),
            apps: table.apps().into_iter().map(str::to_owned).collect(),
            purpose: table_purpose(table),
        },
        // A duplicates declaration can name a table the model does not hold
        // (an ignored table); it is still a member of the cluster.
        None => TableFacts {
            table: name.to_owned(),
            module: None,
            documentation: Documentation::NameOnly,
            columns: 0,
            apps: Vec::new(),
            purpose: None,
        },
    }
}

/// The `**Purpose:**` line, else what app mappings say the table is for.
fn table_purpose(table: &Table) -> Option<String> {
    table
        .meta
        .purpose
        .clone()
        .filter(|p| !p.trim().is_empty())
        .or_else(|| most_common(table.mentions.iter().filter_map(|m| m.purpose.as_deref())))
}

/// How a mention is described in a note.
fn mention_kind(kind: MentionKind) -> &'static str {
    match kind {
        MentionKind::AppMapping => "app mappings",
        MentionKind::Duplicates => "the duplicates table",
        MentionKind::Prose => "prose",
        MentionKind::FkTarget => "foreign keys",
        MentionKind::SqlReference => "SQL",
    }
}

fn table_entry(
    schema: &Schema,
    table: &Table,
    clusters: &BTreeMap<String, BTreeSet<String>>,
) -> EntryContent {
    let mut sources: BTreeSet<Source> = BTreeSet::new();
    sources.insert(table.source.clone());
    sources.extend(table.definitions.iter().cloned());
    sources.extend(table.mentions.iter().map(|m| m.source.clone()));

    let mut tables = vec![TableRef::Table(table_facts(schema, &table.name))];
    let mut notes = Vec::new();
    match table.documentation {
        Documentation::Full => notes.push(Note::new(
            NoteKind::Documentation,
            format!(
                "documented with {} columns at {}",
                table.columns.len(),
                table.source
            ),
        )),
        Documentation::NameOnly => {
            let kinds: BTreeSet<&str> = table
                .mentions
                .iter()
                .map(|m| mention_kind(m.kind))
                .collect();
            let named_in = if kinds.is_empty() {
                String::new()
            } else {
                format!(
                    " (named in: {})",
                    kinds.into_iter().collect::<Vec<_>>().join(", ")
                )
            };
            notes.push(Note::new(
                NoteKind::Documentation,
                format!("name-only: its columns are not documented{named_in}"),
            ));
        }
    }
    if let Some(claimed) = table.claimed_columns
        && claimed as usize != table.columns.len()
    {
        notes.push(Note::new(
            NoteKind::ColumnCount,
            format!(
                "the heading claims {claimed} columns; {} are documented",
                table.columns.len()
            ),
        ));
    }
    if table.definitions.len() > 1 {
        let places: Vec<String> = table.definitions.iter().map(Source::to_string).collect();
        notes.push(Note::new(
            NoteKind::MultipleDefinitions,
            format!(
                "documented in {} places ({}); the definition at {} wins",
                places.len(),
                places.join(", "),
                table.source
            ),
        ));
    }
    for mirror in &table.mirrors {
        let text = match &mirror.table {
            Some(other) => format!("some columns mirror `{other}` and are not listed"),
            None => format!(
                "a placeholder row stands for unlisted columns: {}",
                mirror.text
            ),
        };
        notes.push(Note::new(NoteKind::Mirror, text).related(mirror.table.clone()));
        sources.insert(mirror.source.clone());
    }
    if let Some(cluster) = clusters.get(&table.name) {
        let others: Vec<String> = cluster
            .iter()
            .filter(|t| **t != table.name)
            .cloned()
            .collect();
        tables.extend(
            others
                .iter()
                .map(|t| TableRef::Table(table_facts(schema, t))),
        );
        let recommendations: BTreeSet<String> = schema
            .duplicates
            .iter()
            .filter(|d| d.tables.iter().any(|t| cluster.contains(t)))
            .map(|d| {
                sources.insert(d.source.clone());
                format!("{}: {}", d.tables.join(" vs "), d.recommendation.trim())
            })
            .collect();
        notes.push(
            Note::new(
                NoteKind::DuplicateCluster,
                format!(
                    "declared duplicates cluster: {} (recommendations: {})",
                    join_tables(cluster),
                    recommendations.into_iter().collect::<Vec<_>>().join("; ")
                ),
            )
            .related(others),
        );
    }

    EntryContent {
        kind: EntryKind::Table,
        name: table.name.clone(),
        definition: table_purpose(table),
        types: Vec::new(),
        tables,
        enum_values: Vec::new(),
        notes,
        sources: sources.iter().map(Source::to_string).collect(),
    }
}
