//! Lowering: the fragments read from each document become one schema. Sources
//! are merged in precedence order; a table documented twice is merged when
//! the two agree and reported as `conflicting-definition` when they do not,
//! with the earlier source winning. Then references are resolved: FK targets
//! that are only named become name-only tables, JSON examples attach to their
//! jsonb columns, named enums attach to the columns they describe, and the
//! configuration's overrides are applied. Lowering never fails.

use crate::diag::{Code, Diagnostic, Span};
use crate::model::inflect::singular;
use crate::model::overrides::Overrides;
use crate::model::{
    Documentation, FkOrigin, ForeignKey, JsonShape, Mention, MentionKind, PgType, Schema, Table,
    TableRef, validate_identifier,
};
use std::collections::BTreeSet;

/// What one document says, before it is merged with the others: what a
/// reader (`source::document`) hands to lowering.
#[derive(Debug, Default)]
pub struct Fragment {
    pub schema: Schema,
    pub diagnostics: Vec<Diagnostic>,
}

pub struct LowerOptions<'a> {
    pub overrides: &'a Overrides,
    /// The configuration file's path and text, to point override problems
    /// at a line.
    pub config_source: Option<(&'a str, &'a str)>,
}

pub fn lower(fragments: Vec<Fragment>, options: &LowerOptions<'_>) -> (Schema, Vec<Diagnostic>) {
    let mut schema = Schema::default();
    let mut diagnostics = Vec::new();
    for fragment in fragments {
        diagnostics.extend(fragment.diagnostics);
        merge_schema(&mut schema, fragment.schema, &mut diagnostics);
    }
    apply_overrides(&mut schema, options, &mut diagnostics);
    add_fk_targets(&mut schema);
    attach_json_examples(&mut schema, &mut diagnostics);
    attach_enums(&mut schema);
    fill_modules(&mut schema);
    (schema, diagnostics)
}

fn merge_schema(into: &mut Schema, from: Schema, diagnostics: &mut Vec<Diagnostic>) {
    for (name, table) in from.tables {
        match into.tables.get_mut(&name) {
            Some(existing) => merge_table(existing, table, diagnostics),
            None => {
                into.tables.insert(name, table);
            }
        }
    }
    for (key, value) in from.extensions {
        into.extensions.entry(key).or_insert(value);
    }
    for (key, value) in from.functions {
        into.functions.entry(key).or_insert(value);
    }
    for (key, value) in from.enums {
        into.enums.entry(key).or_insert(value);
    }
    for (key, value) in from.glossary {
        into.glossary.entry(key).or_insert(value);
    }
    for (key, app) in from.apps {
        match into.apps.get_mut(&key) {
            Some(existing) => existing.tables.extend(app.tables),
            None => {
                into.apps.insert(key, app);
            }
        }
    }
    into.json_examples.extend(from.json_examples);
    into.naming_conventions.extend(from.naming_conventions);
    into.duplicates.extend(from.duplicates);
    into.claims.extend(from.claims);
}

/// The (name, type family) pairs of a table's columns.
fn shape_of(table: &Table) -> BTreeSet<(String, &'static str)> {
    table
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.ty.base()))
        .collect()
}

/// Merges a second definition of a table into the first. Agreeing
/// definitions combine; disagreeing ones keep the first and report it.
pub fn merge_table(existing: &mut Table, incoming: Table, diagnostics: &mut Vec<Diagnostic>) {
    match (existing.is_documented(), incoming.is_documented()) {
        (true, true) => {
            let ours = shape_of(existing);
            let theirs = shape_of(&incoming);
            if ours != theirs {
                diagnostics.push(conflict(existing, &incoming, &ours, &theirs));
                existing
                    .definitions
                    .extend(incoming.definitions.iter().cloned());
                existing
                    .conflicting_definitions
                    .push(crate::model::ConflictingDefinition {
                        source: incoming.source.clone(),
                        columns: incoming.columns.clone(),
                    });
                // The losing definition's structure is dropped, but what it
                // says about the table (purpose, apps, rules) still holds.
                absorb_notes(existing, incoming);
                return;
            }
            existing
                .definitions
                .extend(incoming.definitions.iter().cloned());
            absorb(existing, incoming);
        }
        (true, false) => absorb(existing, incoming),
        (false, true) => {
            let named = std::mem::replace(existing, incoming);
            absorb(existing, named);
        }
        (false, false) => absorb(existing, incoming),
    }
}

fn conflict(
    winner: &Table,
    loser: &Table,
    ours: &BTreeSet<(String, &'static str)>,
    theirs: &BTreeSet<(String, &'static str)>,
) -> Diagnostic {
    let names = |set: &BTreeSet<(String, &'static str)>| -> BTreeSet<String> {
        set.iter().map(|(n, _)| n.clone()).collect()
    };
    let (our_names, their_names) = (names(ours), names(theirs));
    let only_ours: Vec<_> = our_names.difference(&their_names).cloned().collect();
    let only_theirs: Vec<_> = their_names.difference(&our_names).cloned().collect();
    let retyped: Vec<_> = ours
        .iter()
        .filter(|(n, t)| theirs.iter().any(|(m, u)| m == n && u != t))
        .map(|(n, _)| n.clone())
        .collect();
    let mut parts = Vec::new();
    if !only_ours.is_empty() {
        parts.push(format!(
            "only in {}: {}",
            winner.source,
            only_ours.join(", ")
        ));
    }
    if !only_theirs.is_empty() {
        parts.push(format!("only here: {}", only_theirs.join(", ")));
    }
    if !retyped.is_empty() {
        parts.push(format!("types differ: {}", retyped.join(", ")));
    }
    Diagnostic::warning(
        Code::ConflictingDefinition,
        loser.source.span(),
        format!(
            "table `{}` is documented differently here and at {} ({}); the definition at {} wins",
            winner.name,
            winner.source,
            parts.join("; "),
            winner.source
        ),
    )
    .with_help(
        "reconcile the two definitions, or reorder `sources` in schema/gen.yaml to pick the other",
    )
}

/// Takes what `from` adds to `into` without changing `into`'s columns.
fn absorb(into: &mut Table, from: Table) {
    let Table {
        indexes,
        policies,
        foreign_keys,
        ..
    } = from.clone();
    absorb_notes(into, from);
    for index in indexes {
        if !into.indexes.iter().any(|i| i.name == index.name) {
            into.indexes.push(index);
        }
    }
    for policy in policies {
        if !into.policies.iter().any(|p| p.name == policy.name) {
            into.policies.push(policy);
        }
    }
    for fk in foreign_keys {
        if !into.foreign_keys.iter().any(|f| f.columns == fk.columns) {
            into.foreign_keys.push(fk);
        }
    }
}

/// Takes what `from` says about the table: mentions, prose rules, metadata.
fn absorb_notes(into: &mut Table, from: Table) {
    into.mentions.extend(from.mentions);
    into.rls_rules.extend(from.rls_rules);
    if into.module.is_none() {
        into.module = from.module;
    }
    if into.renamed_from.is_none() {
        into.renamed_from = from.renamed_from;
    }
    let meta = &mut into.meta;
    let other = from.meta;
    for (slot, value) in [
        (&mut meta.purpose, other.purpose),
        (&mut meta.used_by, other.used_by),
        (&mut meta.data_source, other.data_source),
        (&mut meta.privacy, other.privacy),
        (&mut meta.note, other.note),
        (&mut meta.critical, other.critical),
        (&mut meta.links, other.links),
        (&mut meta.status, other.status),
    ] {
        if slot.is_none() {
            *slot = value;
        }
    }
}

/// FK targets that no document names become name-only tables, so that every
/// reference points at something in the model.
fn add_fk_targets(schema: &mut Schema) {
    let mut missing: Vec<(String, Mention)> = Vec::new();
    for table in schema.tables.values() {
        for fk in &table.foreign_keys {
            if fk.references.is_external() || schema.tables.contains_key(&fk.references.table) {
                continue;
            }
            missing.push((
                fk.references.table.clone(),
                Mention {
                    kind: MentionKind::FkTarget,
                    app: None,
                    group: None,
                    purpose: Some(format!(
                        "referenced by {}.{}",
                        table.name,
                        fk.columns.join(", ")
                    )),
                    read: None,
                    write: None,
                    source: fk.source.clone(),
                },
            ));
        }
    }
    for (name, mention) in missing {
        let source = mention.source.clone();
        schema
            .tables
            .entry(name.clone())
            .or_insert_with(|| Table::new(&name, Documentation::NameOnly, source))
            .mentions
            .push(mention);
    }
}

fn is_json(ty: &PgType) -> bool {
    matches!(ty, PgType::Jsonb | PgType::Json)
}

/// Attaches each JSON example to the jsonb column it describes: the column
/// named by the example's single top-level key (`{"messages": [...]}`), or a
/// column named by a word of its title (`Criteria JSON Structure`).
fn attach_json_examples(schema: &mut Schema, diagnostics: &mut Vec<Diagnostic>) {
    let mut examples = std::mem::take(&mut schema.json_examples);
    for example in &mut examples {
        let Some(table) = example
            .table
            .as_ref()
            .and_then(|t| schema.tables.get_mut(t))
        else {
            continue;
        };
        let single_key = match &example.shape {
            JsonShape::Object { properties } if properties.len() == 1 => properties
                .iter()
                .next()
                .map(|(k, v)| (k.clone(), v.clone())),
            _ => None,
        };
        let target = match single_key {
            Some((key, inner)) if table.column(&key).is_some_and(|c| is_json(&c.ty)) => {
                Some((key, inner))
            }
            _ => {
                use heck::ToSnakeCase;
                let title = example.title.to_snake_case();
                title
                    .split('_')
                    .flat_map(|w| [w.to_owned(), crate::model::inflect::plural(w)])
                    .find(|w| table.column(w).is_some_and(|c| is_json(&c.ty)))
                    .map(|w| (w, example.shape.clone()))
            }
        };
        match target {
            Some((column_name, shape)) => {
                let column = table.column_mut(&column_name).expect("checked above");
                column.json_shape = Some(match column.json_shape.take() {
                    Some(existing) => existing.merge(shape),
                    None => shape,
                });
                example.column = Some(column_name);
            }
            None if table.is_documented() => diagnostics.push(
                Diagnostic::info(
                    Code::UnattachedJsonExample,
                    example.source.span(),
                    format!(
                        "JSON example `{}` names table `{}` but no jsonb column it could describe",
                        example.title, table.name
                    ),
                )
                .with_help(
                    "name the column in the heading, or wrap the example in {\"column\": ...}",
                ),
            ),
            None => {}
        }
    }
    schema.json_examples = examples;
}

/// Attaches named enums (`## Property Status Values`) to the columns they
/// describe: a column of the same name (`property_type`), or the column
/// after a table's singular prefix (`property_status` → `properties.status`).
fn attach_enums(schema: &mut Schema) {
    // Index text columns by name, so each enum looks only at the columns it
    // could describe instead of at every table.
    let mut by_column: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut by_prefix: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for table in schema.tables.values().filter(|t| t.is_documented()) {
        by_prefix
            .entry(format!("{}_", singular(&table.name)))
            .or_default()
            .push(table.name.clone());
        for column in &table.columns {
            if matches!(column.ty, PgType::Text | PgType::Varchar(_)) {
                by_column
                    .entry(column.name.clone())
                    .or_default()
                    .push(table.name.clone());
            }
        }
    }
    let enums: Vec<_> = schema.enums.values().cloned().collect();
    for def in enums {
        let mut targets: BTreeSet<(String, String)> = BTreeSet::new();
        for name in [def.name.clone(), singular(&def.name)] {
            for table in by_column.get(&name).into_iter().flatten() {
                targets.insert((table.clone(), name.clone()));
            }
            // `property_status` → tables whose singular prefix is `property_`.
            for (split, _) in name.match_indices('_') {
                let (prefix, column) = (&name[..=split], &name[split + 1..]);
                for table in by_prefix.get(prefix).into_iter().flatten() {
                    if by_column
                        .get(column)
                        .is_some_and(|tables| tables.contains(table))
                    {
                        targets.insert((table.clone(), column.to_owned()));
                    }
                }
            }
        }
        for (table, column) in targets {
            if let Some(column) = schema
                .tables
                .get_mut(&table)
                .and_then(|t| t.column_mut(&column))
            {
                column.documented_values = def.values.clone();
                column.enum_name = Some(def.name.clone());
            }
        }
    }
}

fn fill_modules(schema: &mut Schema) {
    for table in schema.tables.values_mut() {
        if table.module.is_some() {
            continue;
        }
        table.module = table
            .mentions
            .iter()
            .filter_map(|m| m.app.as_ref())
            .find_map(|app| schema.apps.get(app).and_then(|a| a.module.clone()));
    }
}

fn config_span(options: &LowerOptions<'_>, needle: &str) -> Span {
    match options.config_source {
        Some((path, text)) => {
            let line = text
                .lines()
                .position(|l| l.contains(needle))
                .map_or(1, |i| i + 1);
            Span::new(path, line as u32, 1)
        }
        None => Span::new("schema/gen.yaml", 1, 1),
    }
}

fn apply_overrides(
    schema: &mut Schema,
    options: &LowerOptions<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let overrides = options.overrides;
    for name in &overrides.ignore_tables {
        if schema.tables.remove(name).is_none() {
            diagnostics.push(Diagnostic::warning(
                Code::UnknownTable,
                config_span(options, name),
                format!("`ignore_tables` names `{name}`, which no document mentions"),
            ));
        }
    }
    for (table_name, table_override) in &overrides.tables {
        let Some(table) = schema.tables.get_mut(table_name) else {
            diagnostics.push(Diagnostic::warning(
                Code::UnknownTable,
                config_span(options, table_name),
                format!("override for `{table_name}`, which no document mentions"),
            ));
            continue;
        };
        if let Some(old) = &table_override.renamed_from {
            match validate_identifier(old) {
                Ok(()) => table.renamed_from = Some(old.clone()),
                Err(reason) => diagnostics.push(Diagnostic::error(
                    Code::InvalidIdentifier,
                    config_span(options, table_name),
                    format!("`renamed_from` of `{table_name}`: {reason}"),
                )),
            }
        }
        for (column_name, column_override) in &table_override.columns {
            let span = config_span(options, column_name);
            let Some(column) = table.column_mut(column_name) else {
                diagnostics.push(Diagnostic::warning(
                    Code::UnknownColumn,
                    span,
                    format!("override for `{table_name}.{column_name}`, which is not documented"),
                ));
                continue;
            };
            if let Some(ty) = &column_override.ty {
                column.ty = PgType::parse(ty);
            }
            if let Some(nullable) = column_override.nullable {
                column.nullable = nullable;
            }
            if let Some(default) = &column_override.default {
                match crate::model::single_expression(default) {
                    Ok(()) => column.default = Some(default.trim().to_owned()),
                    Err(why) => diagnostics.push(
                        Diagnostic::warning(
                            Code::InvalidDefault,
                            span.clone(),
                            format!("the default of `{table_name}.{column_name}` is not one SQL expression: {why}"),
                        )
                        .with_help("write one expression, such as `0`, `'active'` or `now()`"),
                    ),
                }
            }
            if let Some(backfill) = &column_override.backfill {
                match crate::model::single_expression(backfill) {
                    Ok(()) => column.backfill = Some(backfill.trim().to_owned()),
                    Err(why) => diagnostics.push(
                        Diagnostic::warning(
                            Code::InvalidBackfill,
                            span.clone(),
                            format!("the backfill of `{table_name}.{column_name}` is not one SQL expression: {why}"),
                        )
                        .with_help("write one expression over the table's columns, such as `'active'` or `coalesce(name, '')`; the column keeps the documents' backfill"),
                    ),
                }
            }
            if let Some(old) = &column_override.renamed_from {
                match validate_identifier(old) {
                    Ok(()) => column.renamed_from = Some(old.clone()),
                    Err(reason) => diagnostics.push(Diagnostic::error(
                        Code::InvalidIdentifier,
                        span.clone(),
                        format!("`renamed_from` of `{table_name}.{column_name}`: {reason}"),
                    )),
                }
            }
            if let Some(target) = &column_override.references {
                let (table_part, column_part) = match target.split_once('(') {
                    Some((t, rest)) => (t.trim(), rest.trim_end_matches(')').trim()),
                    None => (target.trim(), "id"),
                };
                table
                    .foreign_keys
                    .retain(|fk| fk.columns != [column_name.clone()]);
                table.foreign_keys.push(ForeignKey {
                    name: None,
                    columns: vec![column_name.clone()],
                    references: TableRef::parse(table_part),
                    referenced_columns: vec![column_part.to_owned()],
                    on_delete: None,
                    on_update: None,
                    origin: FkOrigin::Description,
                    source: crate::model::Source::new(&span.file, span.line),
                });
            }
            diagnostics.push(Diagnostic::info(
                Code::ConfigOverride,
                span,
                format!("`{table_name}.{column_name}` is corrected by the configuration"),
            ));
        }
    }
}
