//! Notes under a table section: index notes (`**Indexes:**`) and
//! relationship lines, which become indexes and foreign keys.

use super::*;

impl Walker<'_> {
    pub(super) fn index_note(&mut self, text: &str, line: u32) {
        let source = self.source(line);
        let Some(table) = self.section_table() else {
            return;
        };
        let table_name = table.name.clone();
        let upper = text.to_ascii_uppercase();
        let columns_of = |list: &str| -> Vec<String> {
            list.split(',')
                .map(|c| {
                    c.trim()
                        .trim_matches(|ch| ch == '(' || ch == ')' || ch == '`')
                        .trim()
                        .to_owned()
                })
                .filter(|c| !c.is_empty())
                .collect()
        };
        if let Some(rest) = upper.strip_prefix("PRIMARY KEY") {
            let columns = columns_of(&text[text.len() - rest.len()..]);
            if table.primary_key.is_none() && !columns.is_empty() {
                table.primary_key = Some(PrimaryKey {
                    name: None,
                    columns,
                    source,
                });
            }
            return;
        }
        if let Some(position) = upper.find("INDEX ON ") {
            let prefix: Vec<&str> = upper[..position].split_whitespace().collect();
            let unique = prefix.contains(&"UNIQUE");
            let method = prefix
                .iter()
                .find_map(|word| IndexMethod::parse(word))
                .unwrap_or(IndexMethod::Btree);
            let columns: Vec<IndexColumn> = columns_of(&text[position + "INDEX ON ".len()..])
                .into_iter()
                .map(IndexColumn::column)
                .collect();
            if !columns.is_empty()
                && columns
                    .iter()
                    .all(|c| validate_identifier(&c.expression).is_ok())
            {
                let name = sql::conventional_index_name(&table_name, &columns);
                table.indexes.push(Index {
                    name,
                    columns,
                    method,
                    unique,
                    concurrently: false,
                    source,
                });
                return;
            }
        }
        if let Some(rest) = upper.strip_prefix("UNIQUE") {
            let list = &text[text.len() - rest.len()..];
            let list = list
                .trim()
                .trim_start_matches("on ")
                .trim_start_matches("ON ");
            let columns = columns_of(list);
            if !columns.is_empty() && columns.iter().all(|c| validate_identifier(c).is_ok()) {
                table.unique_constraints.push(UniqueConstraint {
                    name: None,
                    columns,
                    source,
                });
                return;
            }
        }
        self.diagnostic(
            Diagnostic::warning(
                Code::UnreadableNote,
                self.file.span_line(line),
                format!("cannot read index note `{text}`"),
            )
            .with_help(
                "write `INDEX on a, b`, `GIN INDEX on col`, `UNIQUE (a)` or `PRIMARY KEY (id)`",
            ),
        );
    }

    /// `customers.assigned_agent_id → profiles.id`
    pub(super) fn relationship(&mut self, text: &str, line: u32) {
        let arrow = text
            .find('→')
            .map(|i| (i, '→'.len_utf8()))
            .or_else(|| text.find("->").map(|i| (i, 2)));
        let parsed = arrow.and_then(|(at, width)| {
            let left = text[..at].trim().trim_matches('`');
            let right = text[at + width..]
                .split_whitespace()
                .next()?
                .trim_matches('`');
            let (table, column) = left.rsplit_once('.')?;
            let (target, target_column) = right.rsplit_once('.')?;
            Some((
                table.to_owned(),
                column.to_owned(),
                target.to_owned(),
                target_column.to_owned(),
            ))
        });
        let Some((table_name, column, target, target_column)) = parsed else {
            self.diagnostic(
                Diagnostic::warning(
                    Code::UnreadableNote,
                    self.file.span_line(line),
                    format!("cannot read relationship `{text}`"),
                )
                .with_help("write `table.column → other_table.column`"),
            );
            return;
        };
        let source = self.source(line);
        let Some(table) = self.section_table() else {
            return;
        };
        if table.name != table_name || table.column(&column).is_none() {
            let message = format!(
                "relationship names `{table_name}.{column}`, which this section does not document"
            );
            self.diagnostic(Diagnostic::warning(
                Code::UnknownColumn,
                source.span(),
                message,
            ));
            return;
        }
        let references = TableRef::parse(&target);
        let already = table
            .foreign_keys
            .iter()
            .any(|fk| fk.columns == [column.clone()] && fk.references == references);
        if !already {
            table.foreign_keys.push(ForeignKey {
                name: None,
                columns: vec![column],
                references,
                referenced_columns: vec![target_column],
                on_delete: None,
                on_update: None,
                origin: FkOrigin::Relationship,
                source,
            });
        }
    }
}
