//! Reading one document into a fragment of the model. The walker goes through
//! the Markdown blocks once, keeping the heading context, and recognises what
//! the documents contain: table sections with column tables and notes, app
//! mappings, duplicates, glossary tables, enum blocks, JSON examples, naming
//! conventions, claimed totals and SQL blocks. Unreadable parts become
//! diagnostics; reading never fails.

use crate::diag::{Code, Diagnostic};
use crate::model::{
    App, Claim, Column, DeclaredDuplicate, Documentation, EnumDef, FkOrigin, ForeignKey,
    GlossaryEntry, Index, IndexColumn, IndexMethod, JsonExample, JsonShape, Mention, MentionKind,
    Mirror, NamingConvention, PgType, PrimaryKey, RlsRule, Schema, Source, Table, TableRef,
    UniqueConstraint, validate_identifier,
};
use crate::source::SourceFile;
use crate::source::markdown::{Block, MarkdownTable, blocks};
use crate::source::sql;

/// What one document says, before it is merged with the others.
#[derive(Debug, Default)]
pub struct Fragment {
    pub schema: Schema,
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads one document.
pub fn read_document(file: &SourceFile) -> Fragment {
    let mut walker = Walker::new(file);
    for block in blocks(file) {
        walker.block(block);
    }
    walker.finish()
}

/// A `## N. NAME (K columns)` section being read.
struct Section {
    table: String,
    heading_line: u32,
}

/// A `#### **Group (N)**` heading over SQL blocks, counting CREATE TABLEs.
struct SqlGroup {
    name: String,
    claimed: u32,
    found: u32,
    line: u32,
}

struct Walker<'a> {
    file: &'a SourceFile,
    fragment: Fragment,
    module: Option<String>,
    h1: String,
    h2: String,
    h3: String,
    app: Option<String>,
    section: Option<Section>,
    /// The label of a paragraph that was only `**Label:**`; it names the list
    /// or code block that follows.
    pending_label: Option<String>,
    previous_was_heading: bool,
    in_naming_conventions: bool,
    /// `(33 Tables)`: counts every CREATE TABLE after it in the file.
    sql_total: Option<SqlGroup>,
    /// `(5)`: counts the CREATE TABLEs up to the next such heading.
    sql_groups: Vec<SqlGroup>,
}

impl<'a> Walker<'a> {
    fn new(file: &'a SourceFile) -> Self {
        Walker {
            file,
            fragment: Fragment::default(),
            module: None,
            h1: String::new(),
            h2: String::new(),
            h3: String::new(),
            app: None,
            section: None,
            pending_label: None,
            previous_was_heading: false,
            in_naming_conventions: false,
            sql_total: None,
            sql_groups: Vec::new(),
        }
    }

    fn source(&self, line: u32) -> Source {
        self.file.source(line)
    }

    fn diagnostic(&mut self, diagnostic: Diagnostic) {
        self.fragment.diagnostics.push(diagnostic);
    }

    fn block(&mut self, block: Block) {
        let is_heading = matches!(block, Block::Heading { .. });
        let label = self.pending_label.take();
        match block {
            Block::Heading { level, text, line } => self.heading(level, &text, line),
            Block::Paragraph { lines } => self.paragraph(&lines),
            Block::List { items } => self.list(label.as_deref(), &items),
            Block::Table(table) => self.table(&table),
            Block::Code {
                language,
                text,
                first_line,
            } => self.code(&language, &text, first_line, label.as_deref()),
        }
        self.previous_was_heading = is_heading;
    }

    fn heading(&mut self, level: u8, text: &str, line: u32) {
        let text = text.trim().trim_matches('*').trim();
        if level <= 2 {
            self.close_section();
        }
        match level {
            1 => {
                if self.module.is_none() {
                    self.module = module_of(text);
                }
                self.h1 = text.to_owned();
                self.h2.clear();
                self.h3.clear();
                self.in_naming_conventions =
                    text.to_ascii_uppercase().contains("NAMING CONVENTIONS");
                self.app = numbered(text).map(|name| {
                    let app = slug(name);
                    let source = self.source(line);
                    let module = module_of(name);
                    self.fragment
                        .schema
                        .apps
                        .entry(app.clone())
                        .or_insert_with(|| App {
                            name: app.clone(),
                            module,
                            tables: Default::default(),
                            source,
                        });
                    app
                });
            }
            2 => {
                self.h2 = text.to_owned();
                self.h3.clear();
                if let Some(rest) = text.strip_prefix("Module:") {
                    let _ = rest;
                    self.module = module_of(&self.h1);
                } else if let Some((name, claimed)) = table_section_heading(text) {
                    self.open_section(name, claimed, line);
                } else if let Some(claimed) = counted(text, "Tables Used")
                    && let Some(app) = self.app.clone()
                {
                    let source = self.source(line);
                    self.fragment.schema.claims.push(Claim::AppTables {
                        app,
                        claimed,
                        source,
                    });
                }
            }
            _ => {
                self.h3 = text.to_owned();
                if let Some((name, claimed, is_total)) = group_count(text) {
                    let group = SqlGroup {
                        name,
                        claimed,
                        found: 0,
                        line,
                    };
                    if is_total {
                        self.sql_total = Some(group);
                    } else {
                        self.sql_groups.push(group);
                    }
                }
            }
        }
    }

    fn open_section(&mut self, raw_name: &str, claimed: u32, line: u32) {
        let name = raw_name.to_ascii_lowercase();
        if let Err(reason) = validate_identifier(&name) {
            self.diagnostic(
                Diagnostic::error(Code::InvalidIdentifier, self.file.span_line(line), reason)
                    .with_help("the section is left out of the model"),
            );
            return;
        }
        let source = self.source(line);
        let schema = &mut self.fragment.schema;
        let table = schema
            .tables
            .entry(name.clone())
            .or_insert_with(|| Table::new(&name, Documentation::Full, source.clone()));
        if table.is_documented() && !table.definitions.is_empty() {
            self.fragment.diagnostics.push(
                Diagnostic::warning(
                    Code::ConflictingDefinition,
                    self.file.span_line(line),
                    format!(
                        "table `{name}` is documented twice in this file; the first section wins"
                    ),
                )
                .with_help(format!("first defined at {}", table.definitions[0])),
            );
            return;
        }
        table.documentation = Documentation::Full;
        table.defined_by = Some(crate::model::DefinitionKind::Markdown);
        table.source = source.clone();
        table.definitions.push(source);
        table.claimed_columns = Some(claimed);
        table.module = self.module.clone();
        self.section = Some(Section {
            table: name,
            heading_line: line,
        });
    }

    fn close_section(&mut self) {
        let Some(section) = self.section.take() else {
            return;
        };
        let Some(table) = self.fragment.schema.tables.get(&section.table) else {
            return;
        };
        let documented = table.columns.len() as u32;
        if let Some(claimed) = table.claimed_columns
            && claimed != documented
        {
            let mirror = table
                .mirrors
                .first()
                .map(|m| match &m.table {
                    Some(t) => format!(" plus a placeholder that mirrors `{t}`"),
                    None => " plus a placeholder row".to_owned(),
                })
                .unwrap_or_default();
            let message = format!(
                "`{}` claims {claimed} columns but {documented} are documented{mirror}",
                section.table
            );
            self.diagnostic(
                Diagnostic::warning(
                    Code::ColumnCountMismatch,
                    self.file.span_line(section.heading_line),
                    message,
                )
                .with_help("list every column, or correct the count in the heading"),
            );
        }
    }

    fn section_table(&mut self) -> Option<&mut Table> {
        let name = self.section.as_ref()?.table.clone();
        self.fragment.schema.tables.get_mut(&name)
    }

    fn paragraph(&mut self, lines: &[(String, u32)]) {
        for (line_text, line) in lines {
            let Some((label, value)) = bold_label(line_text) else {
                continue;
            };
            if value.is_empty() {
                if lines.len() == 1 {
                    self.pending_label = Some(label.to_owned());
                }
                continue;
            }
            if label.eq_ignore_ascii_case("Total Tables") {
                if let Some(claimed) = leading_number(value) {
                    let source = self.source(*line);
                    self.fragment
                        .schema
                        .claims
                        .push(Claim::TotalTables { claimed, source });
                }
                continue;
            }
            let value = value.to_owned();
            if let Some(table) = self.section_table() {
                let meta = &mut table.meta;
                let slot = match label.to_ascii_lowercase().as_str() {
                    "purpose" => &mut meta.purpose,
                    "used by" => &mut meta.used_by,
                    "data source" => &mut meta.data_source,
                    "privacy" => &mut meta.privacy,
                    "note" => &mut meta.note,
                    "critical" => &mut meta.critical,
                    "links" => &mut meta.links,
                    "status" => &mut meta.status,
                    _ => continue,
                };
                *slot = Some(value);
            }
        }
    }

    fn list(&mut self, label: Option<&str>, items: &[(String, u32)]) {
        if self.in_naming_conventions {
            let category = self.h2.clone();
            for (text, line) in items {
                let source = self.source(*line);
                self.fragment
                    .schema
                    .naming_conventions
                    .push(NamingConvention {
                        category: category.clone(),
                        rule: text.clone(),
                        source,
                    });
            }
            return;
        }
        let Some(label) = label else { return };
        let lower = label.to_ascii_lowercase();
        if self.section.is_some() {
            match lower.as_str() {
                "indexes" => items.iter().for_each(|(t, l)| self.index_note(t, *l)),
                "rls policies" => {
                    let rules: Vec<RlsRule> = items
                        .iter()
                        .map(|(text, line)| RlsRule {
                            text: text.clone(),
                            source: self.source(*line),
                        })
                        .collect();
                    if let Some(table) = self.section_table() {
                        table.rls_rules.extend(rules);
                    }
                }
                "key relationships" => items.iter().for_each(|(t, l)| self.relationship(t, *l)),
                _ if lower.ends_with(" values") || lower == "categories" => {
                    let column =
                        crate::model::inflect::singular(&snake(lower.trim_end_matches(" values")));
                    self.values_list(&column, items);
                }
                _ => {}
            }
        } else if lower.contains("tables") {
            for (text, line) in items {
                for name in backticked(text) {
                    self.mention(&name, MentionKind::Prose, *line, None);
                }
            }
        }
    }

    /// `**Category Values:**` and `**Categories:**` lists: the documented
    /// values of one column.
    fn values_list(&mut self, column: &str, items: &[(String, u32)]) {
        let mut values = Vec::new();
        for (text, _) in items {
            let ticked = backticked(text);
            if !ticked.is_empty() {
                values.extend(ticked);
                continue;
            }
            values.extend(
                text.split(',')
                    .map(|v| v.trim().to_owned())
                    .filter(|v| is_enum_value(v)),
            );
        }
        if let Some(table) = self.section_table()
            && let Some(col) = table.column_mut(column)
        {
            col.documented_values = values;
        }
    }

    fn index_note(&mut self, text: &str, line: u32) {
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
    fn relationship(&mut self, text: &str, line: u32) {
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

    fn table(&mut self, table: &MarkdownTable) {
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

    fn column_table(&mut self, table: &MarkdownTable) {
        let Some(type_index) = table.column("Type") else {
            return;
        };
        let nullable_index = table.column("Nullable");
        let description_index = table.column("Description");
        let used_by_index = table.column("Used By");
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
            let description = cell(description_index);
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
            column.description = description;
            column.used_by = cell(used_by_index);
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

    fn mapping_table(&mut self, table: &MarkdownTable) {
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

    fn duplicates_table(&mut self, table: &MarkdownTable) {
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

    fn glossary_table(&mut self, table: &MarkdownTable) {
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

    fn code(&mut self, language: &str, text: &str, first_line: u32, label: Option<&str>) {
        match language {
            "sql" => self.sql_block(text, first_line),
            "json" => self.json_block(text, first_line, label),
            "" if self.previous_was_heading => self.enum_block(text, first_line),
            _ => {}
        }
    }

    fn sql_block(&mut self, text: &str, first_line: u32) {
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
    fn table_entry(&mut self, name: &str, source: Source) -> &mut Table {
        self.fragment
            .schema
            .tables
            .entry(name.to_owned())
            .or_insert_with(|| Table::new(name, Documentation::NameOnly, source))
    }

    fn json_block(&mut self, text: &str, first_line: u32, label: Option<&str>) {
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
    fn enum_block(&mut self, text: &str, first_line: u32) {
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

    fn mention(&mut self, name: &str, kind: MentionKind, line: u32, purpose: Option<String>) {
        let mention = Mention {
            kind,
            app: None,
            group: None,
            purpose,
            read: None,
            write: None,
            source: self.source(line),
        };
        self.add_mention(name, mention);
    }

    fn add_mention(&mut self, name: &str, mention: Mention) {
        if let Err(reason) = validate_identifier(name) {
            self.diagnostic(
                Diagnostic::error(Code::InvalidIdentifier, mention.source.span(), reason)
                    .with_help("the table is left out of the model"),
            );
            return;
        }
        if let Some(app) = &mention.app
            && let Some(entry) = self.fragment.schema.apps.get_mut(app)
        {
            entry.tables.insert(name.to_owned());
        }
        let source = mention.source.clone();
        self.table_entry(name, source).mentions.push(mention);
    }

    fn finish(mut self) -> Fragment {
        self.close_section();
        let total = self.sql_total.take();
        for group in total
            .into_iter()
            .chain(std::mem::take(&mut self.sql_groups))
        {
            let source = self.source(group.line);
            self.fragment.schema.claims.push(Claim::SectionTables {
                section: group.name,
                claimed: group.claimed,
                found: group.found,
                source,
            });
        }
        self.fragment
    }
}

/// `1. PROPERTIES (47 columns)` → (`PROPERTIES`, 47).
fn table_section_heading(text: &str) -> Option<(&str, u32)> {
    let rest = numbered(text)?;
    let open = rest.find('(')?;
    let close = open + rest[open..].find(')')?;
    let inside = rest[open + 1..close].trim();
    let count = inside
        .strip_suffix("columns")
        .or_else(|| inside.strip_suffix("column"))?
        .trim()
        .parse()
        .ok()?;
    Some((rest[..open].trim(), count))
}

/// `3. Something` → `Something`.
fn numbered(text: &str) -> Option<&str> {
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    text[digits..].strip_prefix('.').map(str::trim)
}

/// `Tables Used (37)` → 37 when the text starts with `prefix`.
fn counted(text: &str, prefix: &str) -> Option<u32> {
    let rest = text.strip_prefix(prefix)?.trim();
    rest.strip_prefix('(')?
        .strip_suffix(')')?
        .trim()
        .parse()
        .ok()
}

/// `Complete Schema (33 Tables)` (a total: true) or `Core System Tables (5)`
/// (a group: false).
fn group_count(text: &str) -> Option<(String, u32, bool)> {
    let open = text.rfind('(')?;
    let inside = text[open + 1..].strip_suffix(')')?.trim();
    let (number, is_total) = match inside
        .strip_suffix("Tables")
        .or_else(|| inside.strip_suffix("tables"))
    {
        Some(number) => (number.trim(), true),
        None => (inside, false),
    };
    let claimed = number.parse().ok()?;
    Some((text[..open].trim().to_owned(), claimed, is_total))
}

/// `**Purpose:** text` → (`Purpose`, `text`).
fn bold_label(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("**")?;
    let end = rest.find("**")?;
    let label = rest[..end].trim();
    let label = label.strip_suffix(':')?;
    let value = rest[end + 2..].trim();
    Some((label.trim(), value))
}

fn leading_number(text: &str) -> Option<u32> {
    let digits: String = text
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn strip_ticks(cell: &str) -> String {
    cell.trim().trim_matches('`').trim().to_owned()
}

/// Identifiers written as inline code: `` `activity_log` vs `activity_logs` ``.
fn backticked(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::trim)
        .filter(|t| validate_identifier(t).is_ok() && !t.ends_with('_'))
        .map(str::to_owned)
        .collect()
}

/// `[... property fields mirror properties table ...]` → `properties`.
fn mirror_target(text: &str) -> Option<String> {
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let at = words
        .iter()
        .position(|w| w.eq_ignore_ascii_case("mirror") || w.eq_ignore_ascii_case("mirrors"))?;
    words.get(at + 1).map(|w| w.to_ascii_lowercase())
}

/// "FK to profiles (owner)" → `profiles`; "FK to auth.users" → `auth.users`.
fn fk_target(description: &str) -> Option<String> {
    let lower = description.to_ascii_lowercase();
    let at = lower.find("fk to ")?;
    let target: String = description[at + 6..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .collect();
    let target = target.trim_end_matches('.').to_ascii_lowercase();
    let valid = target
        .split('.')
        .all(|part| validate_identifier(part).is_ok());
    (valid && !target.is_empty()).then_some(target)
}

/// `active/pending/sold` or `Source (chat/doc/web)` → the values.
fn inline_enum(description: &str) -> Vec<String> {
    let candidate = match (description.find('('), description.rfind(')')) {
        (Some(open), Some(close)) if close > open => &description[open + 1..close],
        _ => description,
    };
    let values: Vec<&str> = candidate.trim().split('/').map(str::trim).collect();
    if values.len() >= 2 && values.iter().all(|v| is_enum_value(v)) {
        values.into_iter().map(str::to_owned).collect()
    } else {
        Vec::new()
    }
}

fn is_enum_value(value: &str) -> bool {
    let mut chars = value.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A Read/Write cell: a tick is yes; anything else written there (a cross,
/// even one whose bytes were mangled) is no; an empty cell says nothing.
fn check_mark(cell: &str) -> Option<bool> {
    let cell = cell.trim();
    if cell.is_empty() {
        None
    } else {
        Some(cell.contains('✅') || cell.eq_ignore_ascii_case("yes"))
    }
}

/// `Property Criteria (saved_searches)` → `saved_searches`.
fn parenthesised_table(heading: &str) -> Option<String> {
    let open = heading.rfind('(')?;
    let inside = heading[open + 1..].strip_suffix(')')?.trim();
    validate_identifier(inside)
        .is_ok()
        .then(|| inside.to_owned())
}

fn snake(text: &str) -> String {
    use heck::ToSnakeCase;
    text.to_snake_case()
}

/// `cr-realtor-platform`, from `CR-REALTOR-PLATFORM` or `STOCK/CRYPTO PLATFORM`.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// The module a title names: `CR REALTOR PLATFORM - Complete Schema
/// Documentation` → `realtor`, `Javari AI - Technical Architecture` → `javari`.
fn module_of(title: &str) -> Option<String> {
    const NOISE: &[&str] = &[
        "cr",
        "ai",
        "platform",
        "tables",
        "complete",
        "schema",
        "documentation",
        "the",
    ];
    let head = title.split(" - ").next().unwrap_or(title);
    let head = numbered(head).unwrap_or(head);
    let words: Vec<String> = head
        .split(|c: char| !c.is_ascii_alphanumeric())
        .map(str::to_ascii_lowercase)
        .filter(|w| !w.is_empty() && !NOISE.contains(&w.as_str()))
        .collect();
    (!words.is_empty()).then(|| words.join("_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_and_notes() {
        assert_eq!(
            table_section_heading("1. PROPERTIES (47 columns)"),
            Some(("PROPERTIES", 47))
        );
        assert_eq!(
            table_section_heading("4. VENDORS (24 columns) ✅ NEW"),
            Some(("VENDORS", 24))
        );
        assert_eq!(
            table_section_heading("1. NO AUTOMATED EXTERNAL BACKUP"),
            None
        );
        assert_eq!(
            fk_target("FK to profiles (owner)").as_deref(),
            Some("profiles")
        );
        assert_eq!(
            fk_target("FK to auth.users (Supabase auth)").as_deref(),
            Some("auth.users")
        );
        assert_eq!(fk_target("Foreign reference"), None);
        assert_eq!(
            inline_enum("active/pending/sold"),
            ["active", "pending", "sold"]
        );
        assert_eq!(inline_enum("Source (chat/doc/web)"), ["chat", "doc", "web"]);
        assert!(inline_enum("Unit/Apt").is_empty());
        assert_eq!(
            module_of("CR REALTOR PLATFORM - Complete Schema Documentation").as_deref(),
            Some("realtor")
        );
        assert_eq!(
            module_of("Javari AI - Technical Architecture").as_deref(),
            Some("javari")
        );
        assert_eq!(slug("STOCK/CRYPTO PLATFORM"), "stock-crypto-platform");
        assert_eq!(
            mirror_target("[... property fields mirror properties table ...]").as_deref(),
            Some("properties")
        );
        assert_eq!(
            backticked("`activity_log` vs `activity_logs`"),
            ["activity_log", "activity_logs"]
        );
        assert_eq!(
            group_count("Complete Schema (33 Tables)"),
            Some(("Complete Schema".to_owned(), 33, true))
        );
        assert_eq!(
            group_count("Core System Tables (5)"),
            Some(("Core System Tables".to_owned(), 5, false))
        );
    }
}
