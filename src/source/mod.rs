//! Reading documents: bytes become clean text that keeps the original line
//! numbering. Decoding never fails; a problem becomes a diagnostic. Mojibake
//! (UTF-8 that was once read as Windows-1252) is repaired, CRLF becomes LF and
//! shell artefacts such as lone `-e` lines are blanked rather than removed, so
//! that every line number the parsers report is a line of the original file.

pub mod definitions;
pub mod document;
pub mod encoding;
pub mod markdown;
pub mod routes;
pub mod sql;

use crate::diag::{Code, Diagnostic, FileText, Span};
use crate::model::Source;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One document, cleaned, with a line index for turning byte offsets into
/// line and column.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as shown to people: relative to the working directory when
    /// possible, so that GitHub annotations point at the right file.
    pub display_path: String,
    pub text: String,
    line_starts: Vec<usize>,
    /// `display_path` once more, shared by every [`Source`] made from this
    /// file: a schema of ten thousand tables has hundreds of thousands.
    shared_path: Arc<str>,
}

impl SourceFile {
    /// Decodes bytes into a source file. Returns the file and the
    /// diagnostics found while cleaning it.
    pub fn decode(display_path: impl Into<String>, bytes: &[u8]) -> (SourceFile, Vec<Diagnostic>) {
        let display_path = display_path.into();
        let mut diagnostics = Vec::new();
        let decoded = match std::str::from_utf8(bytes) {
            Ok(text) => text.to_owned(),
            Err(error) => {
                let offset = error.valid_up_to();
                let line = 1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count() as u32;
                diagnostics.push(
                    Diagnostic::error(
                        Code::InvalidUtf8,
                        Span::new(&display_path, line, 1),
                        format!(
                            "file is not valid UTF-8: byte 0x{:02X} at byte offset {offset}",
                            bytes[offset]
                        ),
                    )
                    .with_help(
                        "save the document as UTF-8; invalid bytes were replaced with U+FFFD",
                    ),
                );
                String::from_utf8_lossy(bytes).into_owned()
            }
        };
        let without_cr = if decoded.contains('\r') {
            decoded.replace("\r\n", "\n").replace('\r', "\n")
        } else {
            decoded
        };
        let (repaired, repairs) = encoding::repair_mojibake(&without_cr);
        if repairs.count > 0 {
            let unrepairable = match repairs.unrepairable {
                0 => String::new(),
                n => format!("; {n} more lost a byte and were left as they are"),
            };
            diagnostics.push(
                Diagnostic::info(
                    Code::MojibakeRepaired,
                    Span::new(&display_path, repairs.first_line, 1),
                    format!(
                        "repaired {} mojibake sequence(s) (UTF-8 that had been decoded as Windows-1252){unrepairable}",
                        repairs.count
                    ),
                )
                .with_help("re-save the document as UTF-8 to make this go away"),
            );
        }
        let text = blank_shell_artefacts(&repaired);
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        (
            SourceFile {
                shared_path: Arc::from(display_path.as_str()),
                display_path,
                text,
                line_starts,
            },
            diagnostics,
        )
    }

    /// The file as the diagnostic renderer reads it: its display path and
    /// cleaned text.
    pub fn as_file_text(&self) -> FileText<'_> {
        FileText {
            name: &self.display_path,
            text: &self.text,
        }
    }

    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> u32 {
        self.line_starts.partition_point(|&start| start <= offset) as u32
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (u32, u32) {
        let line = self.line_of(offset);
        let start = self.line_starts[(line - 1) as usize];
        let end = offset.min(self.text.len());
        let column = self
            .text
            .get(start..end)
            .map_or(1, |s| s.chars().count() + 1);
        (line, column as u32)
    }

    pub fn span_at(&self, offset: usize) -> Span {
        let (line, column) = self.line_col(offset);
        Span::new(&self.display_path, line, column)
    }

    /// Where a fact on `line` of this file was written.
    pub fn source(&self, line: u32) -> Source {
        Source {
            file: self.shared_path.clone(),
            line,
        }
    }

    pub fn span_line(&self, line: u32) -> Span {
        Span::new(&self.display_path, line, 1)
    }

    /// Byte offset of a 1-based line and column (in characters), clamped to
    /// the end of the line.
    pub fn offset_of(&self, line: u32, column: u32) -> Option<usize> {
        let start = *self.line_starts.get((line.max(1) - 1) as usize)?;
        let text = self.line_text(line);
        let within = text
            .char_indices()
            .nth((column.max(1) - 1) as usize)
            .map_or(text.len(), |(i, _)| i);
        Some(start + within)
    }

    /// The text of one 1-based line, without its newline.
    pub fn line_text(&self, line: u32) -> &str {
        let index = (line.max(1) - 1) as usize;
        let Some(&start) = self.line_starts.get(index) else {
            return "";
        };
        let end = self
            .line_starts
            .get(index + 1)
            .map_or(self.text.len(), |&next| next - 1);
        &self.text[start..end]
    }
}

/// The files as the diagnostic renderer reads them (see
/// [`SourceFile::as_file_text`]).
pub fn file_texts(files: &[SourceFile]) -> Vec<FileText<'_>> {
    files.iter().map(SourceFile::as_file_text).collect()
}

/// Replaces lines that are shell artefacts (`echo -e` leaking its flag) with
/// empty lines. Blanking keeps the line numbering of the original.
fn blank_shell_artefacts(text: &str) -> String {
    if !text.lines().any(is_shell_artefact) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if !is_shell_artefact(line) {
            out.push_str(line);
        }
    }
    out
}

fn is_shell_artefact(line: &str) -> bool {
    matches!(line.trim(), "-e" | "-n" | "-en" | "-ne")
}

/// The largest document the tool reads. Real documentation is kilobytes;
/// a document this large is a mistake (a data dump, a binary), and refusing
/// it keeps every command within its time and memory budget.
pub const MAX_DOCUMENT_BYTES: u64 = 16 * 1024 * 1024;

/// Error reading a document from disk. Decoding problems are diagnostics, not
/// errors; only IO, and a document over the size limit, can fail here.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}: {source}")]
pub struct ReadError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Reads one document from disk, named relative to `root` (the
/// repository root; empty for the working directory).
pub fn read_file(path: &Path, root: &Path) -> Result<(SourceFile, Vec<Diagnostic>), ReadError> {
    let error = |source| ReadError {
        path: path.to_owned(),
        source,
    };
    let size = std::fs::metadata(path).map_err(error)?.len();
    if size > MAX_DOCUMENT_BYTES {
        return Err(error(std::io::Error::other(format!(
            "the document is {} MiB; the limit is {} MiB",
            size / (1024 * 1024),
            MAX_DOCUMENT_BYTES / (1024 * 1024)
        ))));
    }
    let bytes = std::fs::read(path).map_err(error)?;
    Ok(SourceFile::decode(display_path(path, root), &bytes))
}

/// How outputs and messages name a file: relative to `root` (the
/// repository root), with `/` separators, whatever the working directory,
/// so that a file generated in one directory names the same documents as
/// one checked from another. A path outside the root climbs out of it
/// with `..`; only a path on another drive stays absolute. An empty
/// `root` means the working directory.
pub fn display_path(path: &Path, root: &Path) -> String {
    let Ok(cwd) = std::env::current_dir() else {
        return slashes(path);
    };
    let absolute = |p: &Path| lexically_normal(&cwd.join(p));
    let relative = relative_to(&absolute(path), &absolute(root));
    slashes(&relative)
}

fn slashes(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// `path` relative to `base`, both absolute and normalised.
fn relative_to(path: &Path, base: &Path) -> PathBuf {
    use std::path::Component;
    let path_parts: Vec<Component> = path.components().collect();
    let base_parts: Vec<Component> = base.components().collect();
    let shared = path_parts
        .iter()
        .zip(&base_parts)
        .take_while(|(a, b)| a == b)
        .count();
    // Nothing shared, not even the root: another drive.
    if shared == 0 {
        return path.to_path_buf();
    }
    let mut relative = PathBuf::new();
    for _ in shared..base_parts.len() {
        relative.push("..");
    }
    for part in &path_parts[shared..] {
        relative.push(part);
    }
    if relative.as_os_str().is_empty() {
        relative.push(".");
    }
    relative
}

/// `schema/../generated` → `generated`, without touching the file system
/// (the directory may not exist yet).
pub fn lexically_normal(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

/// The repository root for a working directory: the nearest directory at
/// or above it that holds `.git` (a directory, or a file in a worktree),
/// as git finds it; otherwise `fallback` (the configuration file's
/// directory), otherwise the working directory itself.
pub fn find_root(cwd: &Path, fallback: Option<&Path>) -> PathBuf {
    let mut dir = Some(cwd);
    while let Some(candidate) = dir {
        if candidate.join(".git").exists() {
            return candidate.to_path_buf();
        }
        dir = candidate.parent();
    }
    fallback.map_or_else(|| cwd.to_path_buf(), |f| lexically_normal(&cwd.join(f)))
}

/// Expands `--docs` arguments: files are taken as they are, directories
/// contribute their `.md` files in sorted order.
pub fn expand_doc_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ReadError> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|source| ReadError {
                path: path.clone(),
                source,
            })?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "md"))
                .collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_paths_are_relative_to_the_root_from_any_directory() {
        let root = std::env::current_dir().unwrap();
        let doc = root.join("schema/docs/a.md");
        assert_eq!(display_path(&doc, &root), "schema/docs/a.md");
        assert_eq!(display_path(&doc, Path::new("")), "schema/docs/a.md");
        assert_eq!(
            relative_to(Path::new("/r/schema/a.md"), Path::new("/r/sub")),
            PathBuf::from("../schema/a.md")
        );
        assert_eq!(
            relative_to(Path::new("/r/schema/a.md"), Path::new("/r")),
            PathBuf::from("schema/a.md")
        );
        assert_eq!(
            lexically_normal(Path::new("a/sub/../b")),
            PathBuf::from("a/b")
        );
    }

    #[test]
    fn keeps_line_numbers_when_blanking_and_normalising() {
        let (file, _) = SourceFile::decode("a.md", b"one\r\n-e \r\nthree\n");
        assert_eq!(file.text, "one\n\nthree\n");
        assert_eq!(file.line_of(file.text.find("three").unwrap()), 3);
    }

    #[test]
    fn invalid_utf8_names_the_byte_offset() {
        let (file, diagnostics) = SourceFile::decode("bad.md", b"ok\nab\xffcd\n");
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].code, Code::InvalidUtf8);
        assert!(
            diagnostics[0].message.contains("byte offset 5"),
            "{}",
            diagnostics[0].message
        );
        assert_eq!(diagnostics[0].span.as_ref().map(|s| s.line), Some(2));
        assert!(file.text.contains('\u{FFFD}'));
    }
}
