//! Markdown structure: pulldown-cmark with offsets turns a document into a
//! flat list of top-level blocks (headings, paragraphs, lists, tables, code),
//! each with the line it starts on. Recognising what the blocks *mean* is the
//! job of `document.rs`; this file only knows Markdown.

use crate::source::SourceFile;
use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use std::ops::Range;

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Heading {
        level: u8,
        text: String,
        line: u32,
    },
    /// A paragraph's raw source, one entry per line, with line numbers.
    Paragraph {
        lines: Vec<(String, u32)>,
    },
    List {
        items: Vec<(String, u32)>,
    },
    Table(MarkdownTable),
    Code {
        language: String,
        text: String,
        /// Line of the first line inside the fence.
        first_line: u32,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct MarkdownTable {
    pub header: Vec<String>,
    pub rows: Vec<TableRow>,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    /// Cell text; inline code keeps its backticks so that readers can tell a
    /// `table_name` from prose.
    pub cells: Vec<String>,
    /// How many cells the source line really has. pulldown-cmark pads or
    /// cuts rows to the header's width, so the raw count is kept here.
    pub raw_cell_count: usize,
    pub line: u32,
}

impl MarkdownTable {
    /// Index of the header cell with this name (case-insensitive).
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    }
}

/// Splits a document into its top-level blocks.
pub fn blocks(file: &SourceFile) -> Vec<Block> {
    let text = &file.text;
    let events: Vec<(Event<'_>, Range<usize>)> = Parser::new_ext(text, Options::ENABLE_TABLES)
        .into_offset_iter()
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < events.len() {
        let (event, range) = &events[i];
        let Event::Start(tag) = event else {
            i += 1;
            continue;
        };
        let end = matching_end(&events, i);
        let inner = &events[i + 1..end];
        let line = file.line_of(range.start);
        match tag {
            Tag::Heading { level, .. } => out.push(Block::Heading {
                level: *level as u8,
                text: inline_text(inner).trim().to_owned(),
                line,
            }),
            Tag::Paragraph => out.push(Block::Paragraph {
                lines: raw_lines(file, range.clone()),
            }),
            Tag::List(_) => out.push(Block::List {
                items: list_items(file, inner),
            }),
            Tag::Table(_) => out.push(Block::Table(table(file, inner, line))),
            Tag::CodeBlock(kind) => {
                let (language, first_line) = match kind {
                    CodeBlockKind::Fenced(info) => (
                        info.split_whitespace()
                            .next()
                            .unwrap_or("")
                            .to_ascii_lowercase(),
                        line + 1,
                    ),
                    CodeBlockKind::Indented => (String::new(), line),
                };
                let text = inner
                    .iter()
                    .filter_map(|(e, _)| match e {
                        Event::Text(t) => Some(t.as_ref()),
                        _ => None,
                    })
                    .collect();
                out.push(Block::Code {
                    language,
                    text,
                    first_line,
                });
            }
            _ => {}
        }
        i = end + 1;
    }
    out
}

/// Index of the End event that closes the Start at `start`.
fn matching_end(events: &[(Event<'_>, Range<usize>)], start: usize) -> usize {
    let mut depth = 0usize;
    for (offset, (event, _)) in events[start..].iter().enumerate() {
        match event {
            Event::Start(_) => depth += 1,
            Event::End(_) => {
                depth -= 1;
                if depth == 0 {
                    return start + offset;
                }
            }
            _ => {}
        }
    }
    events.len() - 1
}

/// Text of inline events, with inline code wrapped in backticks again.
fn inline_text(events: &[(Event<'_>, Range<usize>)]) -> String {
    let mut out = String::new();
    for (event, _) in events {
        match event {
            Event::Text(t) => out.push_str(t),
            Event::Code(c) => {
                out.push('`');
                out.push_str(c);
                out.push('`');
            }
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            _ => {}
        }
    }
    out
}

fn raw_lines(file: &SourceFile, range: Range<usize>) -> Vec<(String, u32)> {
    let first = file.line_of(range.start);
    let end = range.end.min(file.text.len());
    file.text[range.start..end]
        .lines()
        .enumerate()
        .map(|(k, l)| (l.trim().to_owned(), first + k as u32))
        .filter(|(l, _)| !l.is_empty())
        .collect()
}

/// The direct items of a list, as raw source without the bullet marker.
fn list_items(file: &SourceFile, inner: &[(Event<'_>, Range<usize>)]) -> Vec<(String, u32)> {
    let mut items = Vec::new();
    let mut depth = 0usize;
    for (event, range) in inner {
        match event {
            Event::Start(Tag::Item) if depth == 0 => {
                let raw = &file.text[range.start..range.end.min(file.text.len())];
                let first_line = raw.lines().next().unwrap_or("").trim();
                let stripped = strip_bullet(first_line);
                items.push((stripped.to_owned(), file.line_of(range.start)));
                depth += 1;
            }
            Event::Start(_) => depth += 1,
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    items
}

fn strip_bullet(line: &str) -> &str {
    let line = line.trim_start();
    for marker in ["- [ ] ", "- [x] ", "- ", "* ", "+ "] {
        if let Some(rest) = line.strip_prefix(marker) {
            return rest.trim();
        }
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 {
        let rest = &line[digits..];
        if let Some(rest) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            return rest.trim();
        }
    }
    line.trim()
}

fn table(file: &SourceFile, inner: &[(Event<'_>, Range<usize>)], line: u32) -> MarkdownTable {
    let mut header = Vec::new();
    let mut rows = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut current_line = line;
    let mut in_head = false;
    let mut cell_start: Option<usize> = None;
    for (index, (event, range)) in inner.iter().enumerate() {
        match event {
            Event::Start(Tag::TableHead) => in_head = true,
            Event::End(TagEnd::TableHead) => {
                in_head = false;
                header = std::mem::take(&mut current);
            }
            Event::Start(Tag::TableRow) => {
                current_line = file.line_of(range.start);
            }
            Event::End(TagEnd::TableRow) => rows.push(TableRow {
                raw_cell_count: raw_cell_count(file.line_text(current_line)),
                cells: std::mem::take(&mut current),
                line: current_line,
            }),
            Event::Start(Tag::TableCell) => cell_start = Some(index + 1),
            Event::End(TagEnd::TableCell) => {
                let start = cell_start.take().unwrap_or(index);
                current.push(inline_text(&inner[start..index]).trim().to_owned());
            }
            _ => {}
        }
    }
    let _ = in_head;
    MarkdownTable { header, rows, line }
}

/// Cells on a raw table line: pipes that are not escaped, less the outer ones.
fn raw_cell_count(line: &str) -> usize {
    let trimmed = line.trim();
    let inner = trimmed.strip_prefix('|').unwrap_or(trimmed);
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut count = 1;
    let mut previous = ' ';
    for c in inner.chars() {
        if c == '|' && previous != '\\' {
            count += 1;
        }
        previous = c;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_keep_lines_and_backticks() {
        let text = "# Title\n\n**Purpose:** x\n**Used By:** y\n\n| Column | Type |\n|---|---|\n| `id` | uuid |\n| [... mirror ...] |\n\n- a\n- b\n\n```sql\nSELECT 1;\n```\n";
        let (file, _) = SourceFile::decode("t.md", text.as_bytes());
        let blocks = blocks(&file);
        assert_eq!(blocks.len(), 5);
        let Block::Paragraph { lines } = &blocks[1] else {
            panic!()
        };
        assert_eq!(lines[1], ("**Used By:** y".to_owned(), 4));
        let Block::Table(table) = &blocks[2] else {
            panic!()
        };
        assert_eq!(table.rows[0].cells[0], "`id`");
        assert_eq!(table.rows[0].line, 8);
        assert_eq!(table.rows[1].raw_cell_count, 1);
        let Block::List { items } = &blocks[3] else {
            panic!()
        };
        assert_eq!(items[1], ("b".to_owned(), 12));
        let Block::Code {
            language,
            first_line,
            ..
        } = &blocks[4]
        else {
            panic!()
        };
        assert_eq!((language.as_str(), *first_line), ("sql", 15));
    }
}
