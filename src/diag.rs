//! Diagnostics: the one value every stage reports problems with, and the one
//! place they are rendered. Each diagnostic carries a stable kebab-case code,
//! a severity, a span into the original file and a help line, so that text,
//! JSON, GitHub annotations and SARIF all say the same thing.

use serde::Serialize;
use std::fmt;

/// How serious a diagnostic is. Ordered so that `>=` means "at least as bad".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// Where in an original document a diagnostic points. Lines and columns are
/// 1-based, as editors and GitHub count them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Span {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl Span {
    pub fn new(file: impl Into<String>, line: u32, column: u32) -> Self {
        Span {
            file: file.into(),
            line,
            column,
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// Where the problem is written; `None` for what no document has a
    /// line for (an object only the live database has). Serialised as
    /// `null`, so machines never see a made-up file and line 0.
    pub span: Option<Span>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(code: Code, severity: Severity, span: Span, message: impl Into<String>) -> Self {
        Self::maybe_located(code, severity, Some(span), message)
    }

    /// A diagnostic with no place in any file.
    pub fn unlocated(code: Code, severity: Severity, message: impl Into<String>) -> Self {
        Self::maybe_located(code, severity, None, message)
    }

    /// For producers whose location is itself optional (a drift item is
    /// at the documents' line when the documents have the object).
    pub fn maybe_located(
        code: Code,
        severity: Severity,
        span: Option<Span>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            severity,
            message: message.into(),
            span,
            help: None,
        }
    }

    pub fn error(code: Code, span: Span, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Error, span, message)
    }

    pub fn warning(code: Code, span: Span, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Warning, span, message)
    }

    pub fn info(code: Code, span: Span, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Info, span, message)
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Sorts diagnostics into the one stable order used by every renderer:
/// unlocated first, then by file, line, column, then code and message.
/// (`None` orders before every span, as the old empty-file sentinel did.)
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| (&a.span, a.code, &a.message).cmp(&(&b.span, b.code, &b.message)));
}

/// Counts per severity, used by summaries.
#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct SeverityCounts {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
}

impl SeverityCounts {
    pub fn of(diagnostics: &[Diagnostic]) -> Self {
        let mut counts = SeverityCounts::default();
        for d in diagnostics {
            match d.severity {
                Severity::Error => counts.error += 1,
                Severity::Warning => counts.warning += 1,
                Severity::Info => counts.info += 1,
            }
        }
        counts
    }
}

mod codes;
pub mod render;
pub use codes::{Code, DriftKind};
pub use render::{FileText, Format, RenderOptions, render};
