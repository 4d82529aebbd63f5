//! Code blocks: SQL (through `source::sql`), JSON structures of jsonb
//! columns, and enum lists.

use super::text::*;
use super::*;

impl Walker<'_> {
    pub(super) fn code(
        &mut self,
        language: &str,
        text: &str,
        first_line: u32,
        label: Option<&str>,
    ) {
        match language {
            "sql" => self.sql_block(text, first_line),
            "json" => self.json_block(text, first_line, label),
            "" if self.previous_was_heading => self.enum_block(text, first_line),
            _ => {}
        }
    }

    pub(super) fn sql_block(&mut self, text: &str, first_line: u32) {
        let facts = sql::read_block(text, first_line, self.file);
        self.fragment.diagnostics.extend(facts.diagnostics);
        let schema = &mut self.fragment.schema;
        let created = facts.tables.len() as u32;
        if let Some(total) = self.sql_total.as_mut() {
            total.found += created;
        }
        if let Some(group) = self.sql_groups.last_mut() {
            group.found += created;
        }
        for mut table in facts.tables {
            table.module = self.module.clone();
            match schema.tables.get_mut(&table.name) {
                Some(existing) => crate::model::lower::merge_table(
                    existing,
                    table,
                    &mut self.fragment.diagnostics,
                ),
                None => {
                    schema.tables.insert(table.name.clone(), table);
                }
            }
        }
        for (table_name, index) in facts.indexes {
            let source = index.source.clone();
            self.table_entry(&table_name, source).indexes.push(index);
        }
        for (table_name, policy) in facts.policies {
            let source = policy.source.clone();
            self.table_entry(&table_name, source).policies.push(policy);
        }
        let schema = &mut self.fragment.schema;
        for function in facts.functions {
            schema
                .functions
                .entry(function.signature.clone())
                .or_insert(function);
        }
        for extension in facts.extensions {
            schema
                .extensions
                .entry(extension.name.clone())
                .or_insert(extension);
        }
    }

    /// The named table, created as name-only when this file has not seen it.
    pub(super) fn table_entry(&mut self, name: &str, source: Source) -> &mut Table {
        self.fragment
            .schema
            .tables
            .entry(name.to_owned())
            .or_insert_with(|| Table::new(name, Documentation::NameOnly, source))
    }

    pub(super) fn json_block(&mut self, text: &str, first_line: u32, label: Option<&str>) {
        let (title, table) = match (&self.section, label) {
            (Some(section), Some(label)) => (label.to_owned(), Some(section.table.clone())),
            (Some(section), None) => (self.h2.clone(), Some(section.table.clone())),
            (None, _) => {
                let heading = if self.h3.is_empty() {
                    &self.h2
                } else {
                    &self.h3
                };
                match parenthesised_table(heading) {
                    Some(table) => (heading.clone(), Some(table)),
                    None => return,
                }
            }
        };
        let source = self.source(first_line);
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(value) => self.fragment.schema.json_examples.push(JsonExample {
                title,
                table,
                column: None,
                shape: JsonShape::infer(&value),
                source,
            }),
            Err(error) => self.diagnostic(
                Diagnostic::warning(
                    Code::InvalidJsonExample,
                    crate::diag::Span::new(
                        &self.file.display_path,
                        first_line + error.line().saturating_sub(1) as u32,
                        error.column() as u32,
                    ),
                    format!("JSON example `{title}` does not parse: {error}"),
                )
                .with_help("its shape is not inferred; make it valid JSON"),
            ),
        }
    }

    /// A bare code block right after a heading, holding only snake_case
    /// words, is an enum: `## Lead Status` then `new, contacted, ...`.
    pub(super) fn enum_block(&mut self, text: &str, first_line: u32) {
        let values: Vec<String> = text
            .split([',', '\n'])
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect();
        if values.len() < 2 || !values.iter().all(|v| is_enum_value(v)) {
            return;
        }
        let heading = if self.h3.is_empty() {
            &self.h2
        } else {
            &self.h3
        };
        let base = heading
            .trim_end_matches(" Values")
            .trim_end_matches(" values");
        let name = snake(base);
        if name.is_empty() {
            return;
        }
        let source = self.source(first_line.saturating_sub(1).max(1));
        self.fragment
            .schema
            .enums
            .entry(name.clone())
            .or_insert(EnumDef {
                name,
                values,
                source,
            });
    }
}
