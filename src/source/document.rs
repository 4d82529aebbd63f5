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
    Mirror, NamingConvention, PgType, PrimaryKey, RlsRule, Source, Table, TableRef,
    UniqueConstraint, validate_identifier,
};
use crate::source::SourceFile;
use crate::source::markdown::{Block, MarkdownTable, blocks};
use crate::source::sql;

mod code;
mod notes;
mod tables;
#[cfg(test)]
mod tests;
mod text;

use text::*;

pub use crate::model::lower::Fragment;

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
    /// `**Backfill:**` notes, kept until the section closes: a note may
    /// come before the column table that names its column.
    backfills: Vec<Backfill>,
}

/// A `**Backfill:**` note read in a section: column, expression, line.
struct Backfill {
    column: String,
    expression: String,
    line: u32,
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
            backfills: Vec::new(),
        });
    }

    fn close_section(&mut self) {
        let Some(mut section) = self.section.take() else {
            return;
        };
        self.attach_backfills(&section.table, std::mem::take(&mut section.backfills));
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
            if label.eq_ignore_ascii_case("backfill") {
                self.backfill_note(value, *line);
                continue;
            }
            if label.eq_ignore_ascii_case("Renamed from") {
                self.table_renamed_from(value, *line);
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

    /// One `**Backfill:**` note (a paragraph line or a list item): read
    /// now, attached to its column when the section closes.
    fn backfill_note(&mut self, text: &str, line: u32) {
        let read = backfill_note(text);
        let problem = match (read, self.section.as_mut()) {
            (Ok((column, expression)), Some(section)) => {
                section.backfills.push(Backfill {
                    column,
                    expression,
                    line,
                });
                return;
            }
            (Err(why), _) => why,
            (Ok(_), None) => "a backfill belongs in a table section".to_owned(),
        };
        self.diagnostic(
            Diagnostic::warning(
                Code::InvalidBackfill,
                self.file.span_line(line),
                format!("this backfill cannot be used: {problem}"),
            )
            .with_help("the column gets no backfill; see the README's `**Backfill:**` notes"),
        );
    }

    /// Gives each column its backfill; a note naming a column the section
    /// does not document, or a second note for one column, is reported.
    fn attach_backfills(&mut self, table_name: &str, backfills: Vec<Backfill>) {
        for backfill in backfills {
            let Some(table) = self.fragment.schema.tables.get_mut(table_name) else {
                return;
            };
            let problem = match table.column_mut(&backfill.column) {
                Some(column) if column.backfill.is_none() => {
                    column.backfill = Some(backfill.expression);
                    continue;
                }
                Some(_) => format!(
                    "`{table_name}.{}` already has a backfill; the first one wins",
                    backfill.column
                ),
                None => format!("`{table_name}` documents no column `{}`", backfill.column),
            };
            self.diagnostic(
                Diagnostic::warning(
                    Code::InvalidBackfill,
                    self.file.span_line(backfill.line),
                    format!("this backfill cannot be used: {problem}"),
                )
                .with_help("name a column of the section's column table"),
            );
        }
    }

    /// `**Renamed from:** `old_name`` in a table section: the table's old
    /// name, which the diff renames instead of dropping it.
    fn table_renamed_from(&mut self, value: &str, line: u32) {
        let old = strip_ticks(value).to_ascii_lowercase();
        if let Err(reason) = validate_identifier(&old) {
            self.diagnostic(
                Diagnostic::error(Code::InvalidIdentifier, self.file.span_line(line), reason)
                    .with_help("the rename is ignored: write `**Renamed from:** `old_name`` with the table's old name"),
            );
            return;
        }
        if let Some(table) = self.section_table()
            && table.name != old
        {
            table.renamed_from = Some(old);
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
                "backfill" | "backfills" => {
                    items.iter().for_each(|(t, l)| self.backfill_note(t, *l))
                }
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
