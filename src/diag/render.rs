//! The one place diagnostics become text. Every format (human text with
//! source snippets, JSON, GitHub workflow annotations, SARIF) renders the
//! same sorted list, so what a developer, CI and Javari see always agrees.

use super::{Code, Diagnostic, Severity, Span};
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::{Files, SimpleFiles};
use codespan_reporting::term::{self, termcolor::Buffer};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable, with the source line underlined.
    Text,
    /// A JSON document: `{"diagnostics": [...], "summary": {...}}`.
    Json,
    /// GitHub workflow commands (`::warning file=…,line=…::…`).
    Github,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
}

/// A document as the text renderer sees it: the name spans use, and the
/// text to quote. A view rather than `source::SourceFile`, so that `diag`
/// depends on nothing else in the crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileText<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

/// What a renderer needs besides the diagnostics.
pub struct RenderOptions<'a> {
    pub files: &'a [FileText<'a>],
    pub color: bool,
    /// A machine-readable summary merged into JSON output.
    pub summary: Option<serde_json::Value>,
}

pub fn render(diagnostics: &[Diagnostic], format: Format, options: &RenderOptions<'_>) -> String {
    match format {
        Format::Text => text(diagnostics, options),
        Format::Json => {
            let mut value = json!({ "diagnostics": diagnostics });
            if let Some(summary) = &options.summary {
                value["summary"] = summary.clone();
            }
            let mut out = serde_json::to_string_pretty(&value).expect("diagnostics serialise");
            out.push('\n');
            out
        }
        Format::Github => diagnostics.iter().map(github).collect(),
        Format::Sarif => sarif(diagnostics),
    }
}

fn text(diagnostics: &[Diagnostic], options: &RenderOptions<'_>) -> String {
    let mut files = SimpleFiles::new();
    let ids: Vec<(usize, &FileText<'_>)> = options
        .files
        .iter()
        .map(|f| (files.add(f.name.to_owned(), f.text.to_owned()), f))
        .collect();
    let mut buffer = if options.color {
        Buffer::ansi()
    } else {
        Buffer::no_color()
    };
    let config = term::Config::default();
    for d in diagnostics {
        let severity = match d.severity {
            Severity::Error => codespan_reporting::diagnostic::Severity::Error,
            Severity::Warning => codespan_reporting::diagnostic::Severity::Warning,
            Severity::Info => codespan_reporting::diagnostic::Severity::Note,
        };
        let mut rendered = CsDiagnostic::new(severity)
            .with_code(d.code.as_str())
            .with_message(&d.message);
        if let Some(help) = &d.help {
            rendered = rendered.with_notes(vec![format!("help: {help}")]);
        }
        let located = d.span.as_ref().and_then(|span| {
            let (id, _) = ids.iter().find(|(_, f)| f.name == span.file)?;
            byte_range(&files, *id, span).map(|range| (*id, range))
        });
        match located {
            Some((id, range)) => {
                rendered = rendered.with_labels(vec![Label::primary(id, range)]);
                if term::emit_to_write_style(&mut buffer, &config, &files, &rendered).is_err() {
                    plain(&mut buffer, d);
                }
            }
            None => plain(&mut buffer, d),
        }
    }
    String::from_utf8_lossy(buffer.as_slice()).into_owned()
}

/// For spans outside the documents (the configuration file), and for
/// diagnostics with no span at all.
fn plain(buffer: &mut Buffer, d: &Diagnostic) {
    use std::io::Write;
    let _ = writeln!(buffer, "{}[{}]: {}", d.severity, d.code, d.message);
    if let Some(span) = &d.span {
        let _ = writeln!(buffer, "  --> {span}");
    }
    if let Some(help) = &d.help {
        let _ = writeln!(buffer, "  = help: {help}");
    }
    let _ = writeln!(buffer);
}

/// The byte range of the rest of the line from the span's (line, column),
/// columns counted in characters and clamped to the end of the line. Line
/// and column 0 are read as 1, as `SourceFile::offset_of` reads them; a
/// line past the end of the file has no range.
fn byte_range(
    files: &SimpleFiles<String, String>,
    id: usize,
    span: &Span,
) -> Option<std::ops::Range<usize>> {
    let line_index = (span.line.max(1) - 1) as usize;
    let line = files.line_range(id, line_index).ok()?;
    let source = files.source(id).ok()?;
    let text = source[line.clone()]
        .strip_suffix('\n')
        .unwrap_or(&source[line.clone()]);
    let within = text
        .char_indices()
        .nth((span.column.max(1) - 1) as usize)
        .map_or(text.len(), |(i, _)| i);
    Some(line.start + within..line.start + text.len())
}

/// GitHub workflow command escaping.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn github(d: &Diagnostic) -> String {
    let command = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    };
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    // Without a span (an object only the database has) the annotation
    // goes on the run rather than on a line.
    let location = match &d.span {
        None => String::new(),
        Some(span) => format!(
            "file={},line={},col={},",
            escape_property(&span.file),
            span.line,
            span.column
        ),
    };
    format!(
        "::{command} {location}title={}::{}\n",
        escape_property(d.code.as_str()),
        escape_data(&message)
    )
}

fn sarif(diagnostics: &[Diagnostic]) -> String {
    // `Code::ALL` lists the own codes, then the drift kinds.
    let rules: Vec<_> = Code::ALL
        .iter()
        .map(|c| json!({ "id": c.as_str() }))
        .collect();
    let results: Vec<_> = diagnostics
        .iter()
        .map(|d| {
            json!({
                "ruleId": d.code.as_str(),
                "level": match d.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                    Severity::Info => "note",
                },
                "message": { "text": match &d.help {
                    Some(help) => format!("{}\nhelp: {help}", d.message),
                    None => d.message.clone(),
                }},
                "locations": match &d.span {
                    None => json!([]),
                    Some(span) => json!([{
                        "physicalLocation": {
                            "artifactLocation": { "uri": span.file },
                            "region": { "startLine": span.line, "startColumn": span.column }
                        }
                    }]),
                }
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "schemagen",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules
            }},
            "results": results
        }]
    });
    let mut out = serde_json::to_string_pretty(&log).expect("sarif serialises");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Diagnostic> {
        vec![
            Diagnostic::warning(
                Code::ColumnCountMismatch,
                Span::new("a.md", 2, 1),
                "claims 3, has 2",
            )
            .with_help("fix it"),
        ]
    }

    #[test]
    fn github_annotations_point_at_the_line() {
        let out = render(
            &sample(),
            Format::Github,
            &RenderOptions {
                files: &[],
                color: false,
                summary: None,
            },
        );
        assert_eq!(
            out,
            "::warning file=a.md,line=2,col=1,title=column-count-mismatch::claims 3%2C has 2%0Ahelp: fix it\n"
                .replace("3%2C", "3,")
        );
    }

    #[test]
    fn text_shows_the_source_line() {
        let file = FileText {
            name: "a.md",
            text: "# t\n## 1. T (3 columns)\n",
        };
        let out = render(
            &sample(),
            Format::Text,
            &RenderOptions {
                files: &[file],
                color: false,
                summary: None,
            },
        );
        assert!(
            out.contains("warning[column-count-mismatch]: claims 3, has 2"),
            "{out}"
        );
        assert!(out.contains("a.md:2:1"), "{out}");
        assert!(out.contains("## 1. T (3 columns)"), "{out}");
    }

    fn unlocated() -> Vec<Diagnostic> {
        vec![
            Diagnostic::unlocated(
                Code::Drift(crate::diag::DriftKind::UndocumentedTable),
                Severity::Error,
                "`extra`: table not in the documents",
            )
            .with_help("document it"),
        ]
    }

    fn no_files() -> RenderOptions<'static> {
        RenderOptions {
            files: &[],
            color: false,
            summary: None,
        }
    }

    #[test]
    fn an_unlocated_diagnostic_annotates_the_run_not_a_file() {
        let out = render(&unlocated(), Format::Github, &no_files());
        assert_eq!(
            out,
            "::error title=undocumented-table::`extra`: table not in the documents%0Ahelp: document it\n"
        );
    }

    #[test]
    fn an_unlocated_diagnostic_has_a_null_span_in_json_and_no_sarif_location() {
        let json: serde_json::Value =
            serde_json::from_str(&render(&unlocated(), Format::Json, &no_files())).unwrap();
        assert_eq!(json["diagnostics"][0]["span"], serde_json::Value::Null);
        let sarif: serde_json::Value =
            serde_json::from_str(&render(&unlocated(), Format::Sarif, &no_files())).unwrap();
        assert_eq!(sarif["runs"][0]["results"][0]["locations"], json!([]));
    }

    #[test]
    fn an_unlocated_diagnostic_in_text_has_no_location_line() {
        let out = render(&unlocated(), Format::Text, &no_files());
        assert_eq!(
            out,
            "error[undocumented-table]: `extra`: table not in the documents\n  = help: document it\n\n"
        );
    }

    #[test]
    fn unlocated_diagnostics_sort_first() {
        let mut all = sample();
        all.extend(unlocated());
        crate::diag::sort(&mut all);
        assert_eq!(all[0].span, None);
        assert!(all[1].span.is_some());
    }
}
