//! Markdown tables: column tables under a table section, and the
//! app-to-table mapping, duplicates and field glossary tables.

use super::text::*;
use super::*;

/// The headers a column table may have, lower-cased: any other is
/// reported (`unknown-table-column`), never silently dropped.
const COLUMN_TABLE_HEADERS: &[&str] = &[
    "column",
    "type",
    "nullable",
    "default",
    "description",
    "used by",
];

impl Walker<'_> {
    pub(super) fn table(&mut self, table: &MarkdownTable) {
        let first = table
            .header
            .first()
            .map(|h| h.trim().to_ascii_lowercase())
            .unwrap_or_default();
        match first.as_str() {
            "column" if self.section.is_some() => self.column_table(table),
            "table" => self.mapping_table(table),
            "tables" => self.duplicates_table(table),
            "field" => self.glossary_table(table),
            _ => {}
        }
    }

    pub(super) fn column_table(&mut self, table: &MarkdownTable) {
        let Some(type_index) = table.column("Type") else {
            return;
        };
        let nullable_index = table.column("Nullable");
        let description_index = table.column("Description");
        let used_by_index = table.column("Used By");
        let default_index = table.column("Default");
        self.unknown_headers(table);
        let header_width = table.header.len();
        let mut diagnostics = Vec::new();
        let mut columns: Vec<Column> = Vec::new();
        let mut mirrors = Vec::new();
        let mut foreign_keys = Vec::new();
        let mut primary_key: Option<PrimaryKey> = None;
        let table_name = self
            .section
            .as_ref()
            .map(|s| s.table.clone())
            .unwrap_or_default();
        for row in &table.rows {
            let source = self.source(row.line);
            let cell = |i: Option<usize>| -> Option<String> {
                i.and_then(|i| row.cells.get(i))
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty())
            };
            let name = strip_ticks(&row.cells[0]);
            if name.starts_with('[') {
                let mirrored = mirror_target(&name);
                diagnostics.push(
                    Diagnostic::warning(
                        Code::MirrorPlaceholder,
                        source.span(),
                        format!(
                            "placeholder row `{name}` stands for columns that are not listed{}",
                            mirrored
                                .as_ref()
                                .map(|t| format!(" (they mirror `{t}`)"))
                                .unwrap_or_default()
                        ),
                    )
                    .with_help("list the mirrored columns so they can be generated"),
                );
                mirrors.push(Mirror {
                    text: name,
                    table: mirrored,
                    source,
                });
                continue;
            }
            if row.raw_cell_count != header_width {
                diagnostics.push(
                    Diagnostic::warning(
                        Code::RowCellCountMismatch,
                        source.span(),
                        format!(
                            "row has {} cells but the header has {header_width}",
                            row.raw_cell_count
                        ),
                    )
                    .with_help("missing cells are read as empty, extra cells are ignored"),
                );
            }
            if let Err(reason) = validate_identifier(&name) {
                diagnostics.push(
                    Diagnostic::error(Code::InvalidIdentifier, source.span(), reason)
                        .with_help("the column is left out of the model"),
                );
                continue;
            }
            if columns.iter().any(|c| c.name == name) {
                diagnostics.push(Diagnostic::warning(
                    Code::DuplicateColumn,
                    source.span(),
                    format!("column `{name}` is listed twice; the first row wins"),
                ));
                continue;
            }
            let raw_type = cell(Some(type_index)).unwrap_or_default();
            let ty = PgType::parse(&raw_type);
            if ty.is_unknown() {
                diagnostics.push(
                    Diagnostic::warning(
                        Code::UnknownType,
                        source.span(),
                        format!("unknown type `{raw_type}` for column {table_name}.{name}"),
                    )
                    .with_help("use a PostgreSQL type name such as uuid, varchar, decimal, text[]"),
                );
            }
            let (description, renamed) =
                renamed_cell(cell(description_index), &name, &source, &mut diagnostics);
            let is_primary_key = description
                .as_deref()
                .is_some_and(|d| d.to_ascii_lowercase().starts_with("primary key"));
            let mut column = Column::new(&name, ty, source.clone());
            column.nullable = match cell(nullable_index).map(|n| n.to_ascii_uppercase()) {
                Some(n) if n == "NO" => false,
                Some(n) if n == "YES" => true,
                _ => !is_primary_key,
            };
            if is_primary_key {
                column.nullable = false;
                primary_key.get_or_insert(PrimaryKey {
                    name: None,
                    columns: vec![name.clone()],
                    source: source.clone(),
                });
            }
            if let Some(description) = &description {
                if let Some(target) = fk_target(description) {
                    foreign_keys.push(ForeignKey {
                        name: None,
                        columns: vec![name.clone()],
                        references: TableRef::parse(&target),
                        referenced_columns: vec!["id".to_owned()],
                        on_delete: None,
                        on_update: None,
                        origin: FkOrigin::Description,
                        source: source.clone(),
                    });
                }
                column.documented_values = inline_enum(description);
            }
            (column.description, column.renamed_from) = (description, renamed);
            column.used_by = cell(used_by_index);
            match default_expression(&cell(default_index).unwrap_or_default()) {
                Ok(default) => column.default = default,
                Err(why) => diagnostics.push(
                    Diagnostic::warning(
                        Code::InvalidDefault,
                        source.span(),
                        format!("the default of {table_name}.{name} is not one SQL expression: {why}"),
                    )
                    .with_help("write one expression, such as `0`, `'active'` or `now()`; the column gets no default"),
                ),
            }
            columns.push(column);
        }
        self.fragment.diagnostics.extend(diagnostics);
        if let Some(t) = self.section_table() {
            t.columns = columns;
            t.mirrors = mirrors;
            t.foreign_keys.extend(foreign_keys);
            if t.primary_key.is_none() {
                t.primary_key = primary_key;
            }
        }
    }

    /// Reports the headers of a column table that the reader does not know.
    fn unknown_headers(&mut self, table: &MarkdownTable) {
        for header in &table.header {
            let header = header.trim();
            if COLUMN_TABLE_HEADERS
                .iter()
                .any(|known| header.eq_ignore_ascii_case(known))
            {
                continue;
            }
            self.diagnostic(
                Diagnostic::warning(
                    Code::UnknownTableColumn,
                    self.file.span_line(table.line),
                    format!("the column table's header `{header}` is not one the reader knows: its cells are ignored"),
                )
                .with_help("the known headers are Column, Type, Nullable, Default, Description and Used By; rename it, or move its text into Description"),
            );
        }
    }

    pub(super) fn mapping_table(&mut self, table: &MarkdownTable) {
        let purpose = table.column("Purpose");
        let read = table.column("Read");
        let write = table.column("Write");
        for row in &table.rows {
            let name = strip_ticks(&row.cells[0]);
            if name.is_empty() {
                continue;
            }
            let flag =
                |i: Option<usize>| i.and_then(|i| row.cells.get(i)).and_then(|c| check_mark(c));
            let mention = Mention {
                kind: MentionKind::AppMapping,
                app: self.app.clone(),
                group: (!self.h3.is_empty()).then(|| self.h3.clone()),
                purpose: purpose
                    .and_then(|i| row.cells.get(i))
                    .cloned()
                    .filter(|p| !p.is_empty()),
                read: flag(read),
                write: flag(write),
                source: self.source(row.line),
            };
            self.add_mention(&name, mention);
        }
    }

    pub(super) fn duplicates_table(&mut self, table: &MarkdownTable) {
        for row in &table.rows {
            let tables = backticked(&row.cells[0]);
            if tables.len() < 2 {
                continue;
            }
            for name in &tables {
                self.mention(name, MentionKind::Duplicates, row.line, None);
            }
            let source = self.source(row.line);
            self.fragment.schema.duplicates.push(DeclaredDuplicate {
                tables,
                recommendation: row.cells.get(1).cloned().unwrap_or_default(),
                source,
            });
        }
    }

    pub(super) fn glossary_table(&mut self, table: &MarkdownTable) {
        let type_index = table.column("Type");
        let values_index = table.column("Values");
        let description_index = table.column("Description");
        let example_index = table.column("Example");
        let section = self.h2.clone();
        for row in &table.rows {
            let field = strip_ticks(&row.cells[0]);
            if validate_identifier(&field).is_err() {
                continue;
            }
            let cell = |i: Option<usize>| {
                i.and_then(|i| row.cells.get(i))
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty())
            };
            let values = cell(values_index)
                .map(|v| inline_enum(&v))
                .unwrap_or_default();
            let entry = GlossaryEntry {
                field: field.clone(),
                ty: cell(type_index).map(|t| PgType::parse(&t)),
                description: cell(description_index),
                values,
                example: cell(example_index).map(|e| e.trim_matches('"').to_owned()),
                section: section.clone(),
                source: self.source(row.line),
            };
            self.fragment.schema.glossary.entry(field).or_insert(entry);
        }
    }
}

/// A description cell without its `(renamed from `old`)` marker, and the
/// old name when it is an identifier (an error at the row when not) other
/// than the column's own.
fn renamed_cell(
    description: Option<String>,
    name: &str,
    source: &Source,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Option<String>, Option<String>) {
    let Some((old, rest)) = description.as_deref().and_then(renamed_from_marker) else {
        return (description, None);
    };
    let renamed_from = match validate_identifier(&old) {
        Ok(()) => (old != name).then_some(old),
        Err(reason) => {
            diagnostics.push(
                Diagnostic::error(Code::InvalidIdentifier, source.span(), reason).with_help(
                    "the rename is ignored: write `(renamed from `old_name`)` with the column's old name",
                ),
            );
            None
        }
    };
    ((!rest.is_empty()).then_some(rest), renamed_from)
}
