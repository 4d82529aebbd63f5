//! Stale outputs: whether a committed file is what the documents render
//! to now. `gen check` without a URL re-renders every emitter in memory and
//! asks this, file by file, with what the shell read from disk; the wording
//! of the finding lives here so that every caller says the same thing.

use super::{Emitter, OutputFile};
use crate::diag::{Code, Diagnostic, Span};

/// The finding for one rendered file, given what is on disk at its path
/// (`None`: no file there). `shown_as` is its path as messages show it.
pub fn stale_output(
    emitter: Emitter,
    rendered: &OutputFile,
    on_disk: Option<&str>,
    shown_as: &str,
) -> Option<Diagnostic> {
    let span = Span::new(shown_as, 1, 1);
    match on_disk {
        // A checkout with CRLF line endings is not a change.
        Some(on_disk) if on_disk.replace("\r\n", "\n") == rendered.contents => None,
        Some(_) => Some(
            Diagnostic::error(
                Code::StaleOutput,
                span,
                format!("{shown_as} is stale: the documents render it differently"),
            )
            .with_help(format!(
                "run `gen all` (or `gen emit {}`) and commit the result",
                emitter.name()
            )),
        ),
        None => Some(
            Diagnostic::error(Code::StaleOutput, span, format!("{shown_as} is missing"))
                .with_help("run `gen all` and commit the result"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_do_not_make_a_file_stale_and_other_changes_do() {
        let file = OutputFile::new("sql/schema.sql", "a\nb\n");
        let stale =
            |on_disk| stale_output(Emitter::Sql, &file, on_disk, "generated/sql/schema.sql");
        assert_eq!(stale(Some("a\r\nb\r\n")), None);
        let changed = stale(Some("a\n")).expect("stale");
        assert!(changed.message.contains("is stale"), "{}", changed.message);
        assert!(
            stale(None)
                .expect("missing")
                .message
                .ends_with("is missing")
        );
    }
}
