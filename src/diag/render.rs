//! The one place diagnostics become text. Every format (human text with
//! source snippets, JSON, GitHub workflow annotations, SARIF) renders the
//! same sorted list, so what a developer, CI and Javari see always agrees.

use super::{Diagnostic, Severity};
use crate::source::SourceFile;
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor::Buffer};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
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

/// What a renderer needs besides the diagnostics.
pub struct RenderOptions<'a> {
    pub files: &'a [SourceFile],
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
    let ids: Vec<(usize, &SourceFile)> = options
        .files
        .iter()
        .map(|f| (files.add(f.display_path.clone(), f.text.clone()), f))
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
        let located = ids
            .iter()
            .find(|(_, f)| f.display_path == d.span.file)
            .and_then(|(id, f)| byte_range(f, d.span.line, d.span.column).map(|r| (*id, r)));
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

/// For spans outside the documents (the configuration file).
fn plain(buffer: &mut Buffer, d: &Diagnostic) {
    use std::io::Write;
    let _ = writeln!(buffer, "{}[{}]: {}", d.severity, d.code, d.message);
    if !d.span.file.is_empty() {
        let _ = writeln!(buffer, "  --> {}", d.span);
    }
    if let Some(help) = &d.help {
        let _ = writeln!(buffer, "  = help: {help}");
    }
    let _ = writeln!(buffer);
}

/// The byte range of the rest of the line from (line, column).
fn byte_range(file: &SourceFile, line: u32, column: u32) -> Option<std::ops::Range<usize>> {
    let start = file.offset_of(line, column)?;
    let end = file.offset_of(line, u32::MAX)?.max(start);
    Some(start..end)
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
    // Without a file (an object only the database has) the annotation
    // goes on the run rather than on a line.
    let location = if d.span.file.is_empty() {
        String::new()
    } else {
        format!(
            "file={},line={},col={},",
            escape_property(&d.span.file),
            d.span.line,
            d.span.column
        )
    };
    format!(
        "::{command} {location}title={}::{}\n",
        escape_property(d.code.as_str()),
        escape_data(&message)
    )
}

fn sarif(diagnostics: &[Diagnostic]) -> String {
    let drift = crate::diff::drift::DriftKind::ALL
        .iter()
        .map(|&kind| super::Code::Drift(kind));
    let rules: Vec<_> = super::Code::ALL
        .iter()
        .copied()
        .chain(drift)
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
                "locations": if d.span.file.is_empty() { json!([]) } else { json!([{
                    "physicalLocation": {
                        "artifactLocation": { "uri": d.span.file },
                        "region": { "startLine": d.span.line, "startColumn": d.span.column }
                    }
                }]) }
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
    use crate::diag::{Code, Span};

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
        let (file, _) = SourceFile::decode("a.md", b"# t\n## 1. T (3 columns)\n");
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
}
