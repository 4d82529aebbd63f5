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

/// Every diagnostic code the tool can emit. A closed enum so that codes are
/// stable, documented in one place and impossible to misspell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// A difference between the documents and a live database (`gen check`).
    Drift(crate::diff::drift::DriftKind),
    InvalidUtf8,
    MojibakeRepaired,
    ColumnCountMismatch,
    RowCellCountMismatch,
    ConflictingDefinition,
    UndocumentedFkTarget,
    NameOnlyTable,
    MirrorPlaceholder,
    NamingConvention,
    ClaimedTotalMismatch,
    UnparsedSql,
    UnknownType,
    InvalidIdentifier,
    MissingFk,
    InvalidJsonExample,
    UnattachedJsonExample,
    UnknownTable,
    UnknownColumn,
    DuplicateColumn,
    UnreadableNote,
    ConfigOverride,
    RlsNoPolicy,
    PolicyUnknownColumn,
    RlsRuleUnreadable,
    PolicyWithoutRls,
    RouteWithoutMethod,
    /// A committed output differs from what the documents render to.
    StaleOutput,
    /// The documents changed and no migration captures it.
    MigrationsBehind,
    /// A migration file was changed after it was generated.
    MigrationEdited,
    /// A migration would lose data and was not allowed to.
    DestructiveChange,
}

impl Code {
    pub const ALL: &'static [Code] = &[
        Code::InvalidUtf8,
        Code::MojibakeRepaired,
        Code::ColumnCountMismatch,
        Code::RowCellCountMismatch,
        Code::ConflictingDefinition,
        Code::UndocumentedFkTarget,
        Code::NameOnlyTable,
        Code::MirrorPlaceholder,
        Code::NamingConvention,
        Code::ClaimedTotalMismatch,
        Code::UnparsedSql,
        Code::UnknownType,
        Code::InvalidIdentifier,
        Code::MissingFk,
        Code::InvalidJsonExample,
        Code::UnattachedJsonExample,
        Code::UnknownTable,
        Code::UnknownColumn,
        Code::DuplicateColumn,
        Code::UnreadableNote,
        Code::ConfigOverride,
        Code::RlsNoPolicy,
        Code::PolicyUnknownColumn,
        Code::RlsRuleUnreadable,
        Code::PolicyWithoutRls,
        Code::RouteWithoutMethod,
        Code::StaleOutput,
        Code::MigrationsBehind,
        Code::MigrationEdited,
        Code::DestructiveChange,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::Drift(kind) => kind.code(),
            Code::InvalidUtf8 => "invalid-utf8",
            Code::MojibakeRepaired => "mojibake-repaired",
            Code::ColumnCountMismatch => "column-count-mismatch",
            Code::RowCellCountMismatch => "row-cell-count-mismatch",
            Code::ConflictingDefinition => "conflicting-definition",
            Code::UndocumentedFkTarget => "undocumented-fk-target",
            Code::NameOnlyTable => "name-only-table",
            Code::MirrorPlaceholder => "mirror-placeholder",
            Code::NamingConvention => "naming-convention",
            Code::ClaimedTotalMismatch => "claimed-total-mismatch",
            Code::UnparsedSql => "unparsed-sql",
            Code::UnknownType => "unknown-type",
            Code::InvalidIdentifier => "invalid-identifier",
            Code::MissingFk => "missing-fk",
            Code::InvalidJsonExample => "invalid-json-example",
            Code::UnattachedJsonExample => "unattached-json-example",
            Code::UnknownTable => "unknown-table",
            Code::UnknownColumn => "unknown-column",
            Code::DuplicateColumn => "duplicate-column",
            Code::UnreadableNote => "unreadable-note",
            Code::ConfigOverride => "config-override",
            Code::RlsNoPolicy => "rls-no-policy",
            Code::PolicyUnknownColumn => "policy-unknown-column",
            Code::RlsRuleUnreadable => "rls-rule-unreadable",
            Code::PolicyWithoutRls => "policy-without-rls",
            Code::RouteWithoutMethod => "route-without-method",
            Code::StaleOutput => "stale-output",
            Code::MigrationsBehind => "migrations-behind",
            Code::MigrationEdited => "migration-edited",
            Code::DestructiveChange => "destructive-change",
        }
    }

    /// Codes that mean the input itself could not be read as intended. The
    /// CLI maps them to exit code 2 rather than to a finding.
    pub fn is_input_error(self) -> bool {
        matches!(self, Code::InvalidUtf8)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub span: Span,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(code: Code, severity: Severity, span: Span, message: impl Into<String>) -> Self {
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
/// by file, line, column, then code and message.
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

pub mod render;
pub use render::{Format, RenderOptions, render};
