//! YAML output that is byte for byte what `serde_yaml` 0.9 writes, several
//! times faster, and able to stream into a writer. `serde_yaml` drives
//! libyaml's emitter through a chain of events with a scalar-style guess
//! for every string; for the large documents we write (the OpenAPI
//! description, the migration snapshot) that costs more than building them.
//! This module is a port of the part of libyaml's emitter `serde_yaml`
//! uses (block collections, empty `[]`/`{}`, plain, quoted and literal
//! scalars, unlimited width, two-space indent, unicode) together with
//! `serde_yaml`'s rule for when a string must be quoted so that it does not
//! read back as a number, boolean or null. Anything `serde_yaml` would write
//! with a YAML tag (enum variants that carry data) is outside that part:
//! [`to_string`] then hands the whole value to `serde_yaml`, and
//! [`to_writer`] reports it. Tests compare the two writers on random values.

use serde::ser::{self, Serialize};
use std::fmt::Display;
use std::io::Write;

/// The value as `serde_yaml::to_string` writes it.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_yaml::Error> {
    let mut out = Vec::new();
    match to_writer(&mut out, value) {
        Ok(()) => Ok(String::from_utf8(out).expect("the emitter writes UTF-8")),
        Err(_) => serde_yaml::to_string(value),
    }
}

/// Writes the value as `serde_yaml::to_writer` would. Fails on IO errors,
/// on the value's own serialisation errors, and with
/// [`YamlError::Unsupported`] for tagged values, possibly after writing part
/// of the document.
pub fn to_writer<W: Write, T: Serialize + ?Sized>(writer: W, value: &T) -> Result<(), YamlError> {
    let mut serializer = Serializer {
        emitter: Emitter::new(writer),
        key_state: KeyState::None,
    };
    value.serialize(&mut serializer)?;
    serializer.emitter.finish()
}

/// A YAML document written member by member, for documents built while
/// they are written: the same bytes as serialising the whole at once.
pub struct YamlWriter<W: Write> {
    serializer: Serializer<W>,
}

impl<W: Write> YamlWriter<W> {
    pub fn new(writer: W) -> Self {
        YamlWriter {
            serializer: Serializer {
                emitter: Emitter::new(writer),
                key_state: KeyState::None,
            },
        }
    }

    /// Opens a mapping (as the document, or as the value of the last key).
    pub fn begin_map(&mut self) -> Result<(), YamlError> {
        self.serializer.start(false)
    }

    /// A key of the open mapping.
    pub fn key(&mut self, key: &str) -> Result<(), YamlError> {
        ser::Serializer::serialize_str(&mut self.serializer, key)
    }

    /// The value of the last key.
    pub fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), YamlError> {
        value.serialize(&mut self.serializer)
    }

    pub fn end_map(&mut self) -> Result<(), YamlError> {
        self.serializer.emitter.end_collection()
    }

    /// Ends the document and flushes it into the writer.
    pub fn finish(self) -> Result<(), YamlError> {
        self.serializer.emitter.finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum YamlError {
    #[error("serde_yaml would write this value with a YAML tag ({0})")]
    Unsupported(&'static str),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Custom(String),
}

impl ser::Error for YamlError {
    fn custom<T: Display>(message: T) -> Self {
        YamlError::Custom(message.to_string())
    }
}

/// The style `serde_yaml` asks libyaml for; libyaml may still pick a
/// quoted style when the text does not allow the requested one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Requested {
    Any,
    Plain,
    SingleQuoted,
    Literal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

/// What libyaml's `yaml_emitter_analyze_scalar` finds out about a text.
#[derive(Debug, Clone, Copy)]
struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// Space, tab, a line break, or the end of the text (libyaml's `IS_BLANKZ`,
/// which also counts a NUL byte as the end).
fn is_blankz(c: Option<char>) -> bool {
    match c {
        None | Some('\0' | ' ' | '\t') => true,
        Some(c) => is_break(c),
    }
}

/// libyaml's `IS_PRINTABLE`, as unsafe-libyaml writes it.
fn is_printable(c: char) -> bool {
    matches!(c as u32,
        0x0A | 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFEFE | 0xFF00..=0xFFFD | 0x10000..=0x10FFFF)
}

/// Bytes that never make a text need quotes, wherever they are: letters,
/// digits and `_ / ( ) $`. `.` and `-` are safe after the first byte.
const fn plain_safe_bytes() -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'_' | b'/' | b'(' | b')' | b'$');
        b += 1;
    }
    table
}
const PLAIN_SAFE: [bool; 256] = plain_safe_bytes();

/// The character at byte `at` of `text`, and its width in bytes.
fn char_at(text: &str, at: usize) -> Option<(char, usize)> {
    let byte = *text.as_bytes().get(at)?;
    if byte < 0x80 {
        Some((byte as char, 1))
    } else {
        text[at..].chars().next().map(|c| (c, c.len_utf8()))
    }
}

fn analyze(text: &str) -> Analysis {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    // Most texts are names and references: nothing in them matters.
    if PLAIN_SAFE[bytes[0] as usize]
        && bytes[1..]
            .iter()
            .all(|&b| PLAIN_SAFE[b as usize] || b == b'.' || b == b'-')
    {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: true,
        };
    }
    if text.is_ascii() {
        return analyze_ascii(bytes);
    }
    let mut block_indicators = bytes.starts_with(b"---") || bytes.starts_with(b"...");
    let mut line_breaks = false;
    let mut special_characters = false;
    let mut leading_space = false;
    let mut leading_break = false;
    let mut trailing_space = false;
    let mut trailing_break = false;
    let mut break_space = false;
    let mut space_break = false;
    let mut previous_space = false;
    let mut previous_break = false;
    let mut preceded_by_whitespace = true;
    let mut at = 0;
    let mut current = char_at(text, 0);
    while let Some((c, width)) = current {
        let next = char_at(text, at + width);
        let followed_by_whitespace = is_blankz(next.map(|(c, _)| c));
        let first = at == 0;
        let last = next.is_none();
        if first {
            if matches!(
                c,
                '#' | ','
                    | '['
                    | ']'
                    | '{'
                    | '}'
                    | '&'
                    | '*'
                    | '!'
                    | '|'
                    | '>'
                    | '\''
                    | '"'
                    | '%'
                    | '@'
                    | '`'
            ) {
                block_indicators = true;
            }
            if matches!(c, '?' | ':' | '-') && followed_by_whitespace {
                block_indicators = true;
            }
        } else {
            if c == ':' && followed_by_whitespace {
                block_indicators = true;
            }
            if c == '#' && preceded_by_whitespace {
                block_indicators = true;
            }
        }
        if !is_printable(c) {
            special_characters = true;
        }
        if c == ' ' {
            leading_space |= first;
            trailing_space |= last;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= first;
            trailing_break |= last;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blankz(Some(c));
        at += width;
        current = next;
    }
    let plain_forbidden = leading_space
        || leading_break
        || trailing_space
        || trailing_break
        || break_space
        || space_break
        || special_characters
        || line_breaks
        || block_indicators;
    Analysis {
        multiline: line_breaks,
        block_plain_allowed: !plain_forbidden,
        single_quoted_allowed: !(break_space || space_break || special_characters),
        block_allowed: !(trailing_space || space_break || special_characters),
    }
}

/// [`analyze`] for ASCII text, byte by byte: the same flags, found by
/// looking at each byte's neighbours instead of carrying state.
fn analyze_ascii(bytes: &[u8]) -> Analysis {
    let blankz = |b: Option<&u8>| matches!(b, None | Some(b'\0' | b' ' | b'\t' | b'\n' | b'\r'));
    let is_break = |b: u8| b == b'\n' || b == b'\r';
    let n = bytes.len();
    let first = bytes[0];
    let last = bytes[n - 1];
    let mut block_indicators = bytes.starts_with(b"---")
        || bytes.starts_with(b"...")
        || matches!(
            first,
            b'#' | b','
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'&'
                | b'*'
                | b'!'
                | b'|'
                | b'>'
                | b'\''
                | b'"'
                | b'%'
                | b'@'
                | b'`'
        )
        || (matches!(first, b'?' | b':' | b'-') && blankz(bytes.get(1)));
    let mut special_characters = false;
    let mut line_breaks = false;
    let mut break_space = false;
    let mut space_break = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b' ' => break_space |= i > 0 && is_break(bytes[i - 1]),
            b'\n' | b'\r' => {
                line_breaks = true;
                special_characters |= b == b'\r';
                space_break |= i > 0 && bytes[i - 1] == b' ';
            }
            b':' => block_indicators |= i > 0 && blankz(bytes.get(i + 1)),
            b'#' => block_indicators |= i > 0 && blankz(bytes.get(i - 1)),
            0x00..=0x1F | 0x7F => special_characters = true,
            _ => {}
        }
    }
    let leading_space = first == b' ';
    let leading_break = is_break(first);
    let trailing_space = last == b' ';
    let trailing_break = is_break(last);
    let plain_forbidden = leading_space
        || leading_break
        || trailing_space
        || trailing_break
        || break_space
        || space_break
        || special_characters
        || line_breaks
        || block_indicators;
    Analysis {
        multiline: line_breaks,
        block_plain_allowed: !plain_forbidden,
        single_quoted_allowed: !(break_space || space_break || special_characters),
        block_allowed: !(trailing_space || space_break || special_characters),
    }
}

/// `serde_yaml`'s choice for a string: literal when it has a newline,
/// quoted when plain would read back as something other than a string.
fn requested_for_str(value: &str) -> Requested {
    if value.contains('\n') {
        return Requested::Literal;
    }
    // Numbers start with a digit, a sign or a dot; the words below with
    // one of these letters.
    let Some(&first) = value.as_bytes().first() else {
        return Requested::SingleQuoted;
    };
    if !first.is_ascii_digit()
        && !matches!(
            first,
            b'+' | b'-' | b'.' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'~'
        )
    {
        return Requested::Any;
    }
    if value.is_empty()
        || matches!(value, "null" | "Null" | "NULL" | "~")
        || matches!(
            value,
            "true" | "True" | "TRUE" | "false" | "False" | "FALSE"
        )
        || parses_as_integer(value)
        || digits_but_not_number(value)
        || parses_as_float(value)
    {
        Requested::SingleQuoted
    } else {
        Requested::Any
    }
}

/// serde_yaml's `digits_but_not_number`: leading zeros then digits.
fn digits_but_not_number(scalar: &str) -> bool {
    let scalar = scalar.strip_prefix(['-', '+']).unwrap_or(scalar);
    scalar.len() > 1 && scalar.starts_with('0') && scalar[1..].bytes().all(|b| b.is_ascii_digit())
}

/// Whether serde_yaml's `visit_int` reads the text as an integer of any
/// width (u64, i64, u128 or i128, in decimal, hex, octal or binary).
fn parses_as_integer(scalar: &str) -> bool {
    fn radix_prefixed(rest: &str, negative: bool) -> bool {
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
            if let Some(digits) = rest.strip_prefix(prefix) {
                if digits.starts_with(['+', '-']) {
                    return false;
                }
                let text = if negative {
                    format!("-{digits}")
                } else {
                    digits.to_owned()
                };
                if i128::from_str_radix(&text, radix).is_ok()
                    || u128::from_str_radix(&text, radix).is_ok()
                {
                    return true;
                }
            }
        }
        false
    }
    // parse_unsigned_int (u64, then u128).
    let unpositive = scalar.strip_prefix('+').unwrap_or(scalar);
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = unpositive.strip_prefix(prefix)
            && !rest.starts_with(['+', '-'])
            && u128::from_str_radix(rest, radix).is_ok()
        {
            return true;
        }
    }
    if !unpositive.starts_with(['+', '-'])
        && !digits_but_not_number(scalar)
        && unpositive.parse::<u128>().is_ok()
    {
        return true;
    }
    // parse_negative_int (i64, then i128).
    if let Some(rest) = scalar.strip_prefix('-')
        && radix_prefixed(rest, true)
    {
        return true;
    }
    !digits_but_not_number(scalar) && scalar.parse::<i128>().is_ok()
}

/// serde_yaml's `parse_f64`, as far as whether it succeeds.
fn parses_as_float(scalar: &str) -> bool {
    if digits_but_not_number(scalar) {
        return false;
    }
    let unpositive = match scalar.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return false,
        Some(rest) => rest,
        None => scalar,
    };
    matches!(unpositive, ".inf" | ".Inf" | ".INF")
        || matches!(
            scalar,
            "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN" | ".NAN"
        )
        || unpositive.parse::<f64>().is_ok_and(f64::is_finite)
}

/// Where a node is written, as libyaml's `emit_node` flags say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NodeContext {
    /// A mapping's key or value (libyaml's `mapping_context`).
    mapping: bool,
    /// A key written without `? ` (libyaml's `simple_key_context`).
    simple_key: bool,
}

#[derive(Debug)]
enum Frame {
    Sequence {
        /// No item yet: empty collections are written in flow style.
        first: bool,
        mapping_context: bool,
    },
    Mapping {
        first: bool,
        expecting_key: bool,
        /// Whether the current key was written without `? `.
        simple_key: bool,
    },
}

/// The block emitter: libyaml's state in the fields it uses.
struct Emitter<W: Write> {
    writer: W,
    buffer: Vec<u8>,
    column: usize,
    whitespace: bool,
    indention: bool,
    indent: i32,
    indents: Vec<i32>,
    frames: Vec<Frame>,
    /// A collection whose first event has not come yet, and where it was
    /// opened: the next event says whether it is empty.
    pending: Option<(bool, NodeContext)>,
}

const BEST_INDENT: i32 = 2;

impl<W: Write> Emitter<W> {
    fn new(writer: W) -> Self {
        Emitter {
            writer,
            buffer: Vec::with_capacity(1 << 16),
            column: 0,
            whitespace: true,
            indention: true,
            indent: -1,
            indents: Vec::new(),
            frames: Vec::new(),
            pending: None,
        }
    }

    fn flush_if_full(&mut self) -> std::io::Result<()> {
        if self.buffer.len() >= 1 << 16 {
            self.writer.write_all(&self.buffer)?;
            self.buffer.clear();
        }
        Ok(())
    }

    fn put(&mut self, byte: u8) {
        self.buffer.push(byte);
        self.column += 1;
    }

    fn write_char(&mut self, c: char) {
        let mut bytes = [0; 4];
        self.buffer
            .extend_from_slice(c.encode_utf8(&mut bytes).as_bytes());
        self.column += 1;
    }

    /// Text without line breaks, as is.
    fn write_str(&mut self, text: &str) {
        self.buffer.extend_from_slice(text.as_bytes());
        self.column += if text.is_ascii() {
            text.len()
        } else {
            text.chars().count()
        };
    }

    fn put_break(&mut self) {
        self.buffer.push(b'\n');
        self.column = 0;
    }

    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            let mut bytes = [0; 4];
            self.buffer
                .extend_from_slice(c.encode_utf8(&mut bytes).as_bytes());
            self.column = 0;
        }
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(b' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(b' ');
        }
        self.write_str(indicator);
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    /// Writes whatever the parent collection writes before a child node
    /// (`- `, or a key's `? ` or a value's `:`) and returns the child's
    /// context. `scalar` is the text and its analysis when the child is a
    /// scalar; a key must be one.
    fn before_node(&mut self, scalar: Option<(&str, &Analysis)>) -> Result<NodeContext, YamlError> {
        if let Some((sequence, context)) = self.pending.take() {
            self.open_block(sequence, context);
        }
        enum Parent {
            Root,
            Item { open: bool, indentless: bool },
            Key { open: bool, simple: bool },
            Value { simple: bool },
        }
        let indention = self.indention;
        let parent = match self.frames.last_mut() {
            None => Parent::Root,
            Some(Frame::Sequence {
                first,
                mapping_context,
            }) => Parent::Item {
                open: std::mem::replace(first, false),
                indentless: *mapping_context && !indention,
            },
            Some(Frame::Mapping {
                first,
                expecting_key,
                simple_key,
            }) => {
                if *expecting_key {
                    let Some((text, analysis)) = scalar else {
                        // serde_yaml writes one only for maps keyed by
                        // sequences or maps.
                        return Err(YamlError::Unsupported("a collection as a map key"));
                    };
                    *expecting_key = false;
                    *simple_key = !analysis.multiline && text.len() <= 128;
                    Parent::Key {
                        open: std::mem::replace(first, false),
                        simple: *simple_key,
                    }
                } else {
                    *expecting_key = true;
                    Parent::Value {
                        simple: *simple_key,
                    }
                }
            }
        };
        let in_value = NodeContext {
            mapping: true,
            simple_key: false,
        };
        Ok(match parent {
            Parent::Root => NodeContext {
                mapping: false,
                simple_key: false,
            },
            Parent::Item { open, indentless } => {
                if open {
                    self.increase_indent(false, indentless);
                }
                self.write_indent();
                self.write_indicator("-", true, false, true);
                NodeContext {
                    mapping: false,
                    simple_key: false,
                }
            }
            Parent::Key { open, simple } => {
                if open {
                    self.increase_indent(false, false);
                }
                self.write_indent();
                if simple {
                    NodeContext {
                        mapping: true,
                        simple_key: true,
                    }
                } else {
                    self.write_indicator("?", true, false, true);
                    in_value
                }
            }
            Parent::Value { simple } => {
                if simple {
                    self.write_indicator(":", false, false, false);
                } else {
                    self.write_indent();
                    self.write_indicator(":", true, false, true);
                }
                in_value
            }
        })
    }

    /// A collection that turned out not to be empty.
    fn open_block(&mut self, sequence: bool, context: NodeContext) {
        self.frames.push(if sequence {
            Frame::Sequence {
                first: true,
                mapping_context: context.mapping,
            }
        } else {
            Frame::Mapping {
                first: true,
                expecting_key: true,
                simple_key: false,
            }
        });
    }

    fn start_collection(&mut self, sequence: bool) -> Result<(), YamlError> {
        let context = self.before_node(None)?;
        self.pending = Some((sequence, context));
        Ok(())
    }

    fn end_collection(&mut self) -> Result<(), YamlError> {
        if let Some((sequence, _)) = self.pending.take() {
            // Empty: flow style, `[]` or `{}`.
            let (open, close) = if sequence { ("[", "]") } else { ("{", "}") };
            self.write_indicator(open, true, true, false);
            self.increase_indent(true, false);
            self.pop_indent();
            self.write_indicator(close, false, false, false);
        } else {
            // A block collection that had items: its indent goes.
            if let Some(frame) = self.frames.pop() {
                let opened = match frame {
                    Frame::Sequence { first, .. } | Frame::Mapping { first, .. } => !first,
                };
                if opened {
                    self.pop_indent();
                }
            }
        }
        self.flush_if_full()?;
        Ok(())
    }

    fn scalar(&mut self, value: &str, requested: Requested) -> Result<(), YamlError> {
        let analysis = analyze(value);
        let context = self.before_node(Some((value, &analysis)))?;
        let style = select_style(requested, &analysis, value.is_empty(), context.simple_key);
        self.increase_indent(true, false);
        let allow_breaks = !context.simple_key;
        match style {
            Style::Plain => self.write_plain(value, analysis.multiline, allow_breaks),
            Style::SingleQuoted => self.write_single_quoted(value, analysis.multiline),
            Style::DoubleQuoted => self.write_double_quoted(value),
            Style::Literal => self.write_literal(value),
        }
        self.pop_indent();
        self.flush_if_full()?;
        Ok(())
    }

    fn write_plain(&mut self, value: &str, multiline: bool, _allow_breaks: bool) {
        // Width is unlimited, so spaces never fold.
        if !self.whitespace && !value.is_empty() {
            self.put(b' ');
        }
        if !multiline {
            self.write_str(value);
            self.whitespace = false;
            self.indention = false;
            return;
        }
        let mut breaks = false;
        for c in value.chars() {
            if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write_char(c);
                self.indention = false;
                breaks = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single_quoted(&mut self, value: &str, multiline: bool) {
        self.write_indicator("'", true, false, false);
        let mut breaks = false;
        let simple = !multiline && !value.as_bytes().contains(&b'\'');
        if simple {
            self.write_str(value);
        } else {
            for c in value.chars() {
                if is_break(c) {
                    if !breaks && c == '\n' {
                        self.put_break();
                    }
                    self.write_break(c);
                    self.indention = true;
                    breaks = true;
                } else {
                    if breaks {
                        self.write_indent();
                    }
                    if c == '\'' {
                        self.put(b'\'');
                    }
                    self.write_char(c);
                    self.indention = false;
                    breaks = false;
                }
            }
        }
        if breaks {
            self.write_indent();
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double_quoted(&mut self, value: &str) {
        self.write_indicator("\"", true, false, false);
        for c in value.chars() {
            if !is_printable(c) || c == '\u{FEFF}' || is_break(c) || c == '"' || c == '\\' {
                self.put(b'\\');
                let code = c as u32;
                let short = match code {
                    0x00 => Some(b'0'),
                    0x07 => Some(b'a'),
                    0x08 => Some(b'b'),
                    0x09 => Some(b't'),
                    0x0A => Some(b'n'),
                    0x0B => Some(b'v'),
                    0x0C => Some(b'f'),
                    0x0D => Some(b'r'),
                    0x1B => Some(b'e'),
                    0x22 => Some(b'"'),
                    0x5C => Some(b'\\'),
                    0x85 => Some(b'N'),
                    0xA0 => Some(b'_'),
                    0x2028 => Some(b'L'),
                    0x2029 => Some(b'P'),
                    _ => None,
                };
                match short {
                    Some(letter) => self.put(letter),
                    None => {
                        let (letter, width) = if code <= 0xFF {
                            (b'x', 2)
                        } else if code <= 0xFFFF {
                            (b'u', 4)
                        } else {
                            (b'U', 8)
                        };
                        self.put(letter);
                        for shift in (0..width).rev() {
                            let digit = (code >> (shift * 4)) & 0xF;
                            self.put(if digit < 10 {
                                b'0' + digit as u8
                            } else {
                                b'A' + (digit - 10) as u8
                            });
                        }
                    }
                }
            } else {
                self.write_char(c);
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, value: &str) {
        self.write_indicator("|", true, false, false);
        // Block scalar hints: an indentation indicator when the text starts
        // with a space or a break, and the chomping indicator.
        let first = value.chars().next();
        if first.is_some_and(|c| c == ' ' || is_break(c)) {
            self.write_indicator("2", false, false, false);
        }
        let mut from_end = value.chars().rev();
        let chomp = match from_end.next() {
            None => Some("-"),
            Some(last) if !is_break(last) => Some("-"),
            Some(_) => match from_end.next() {
                None => Some("+"),
                Some(before) if is_break(before) => Some("+"),
                Some(_) => None,
            },
        };
        if let Some(chomp) = chomp {
            self.write_indicator(chomp, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for c in value.chars() {
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write_char(c);
                self.indention = false;
                breaks = false;
            }
        }
    }

    /// The document's end. serde_yaml's `to_writer` never ends the stream,
    /// so the `...` libyaml would write there after a `|+` block is not
    /// written either.
    fn finish(mut self) -> Result<(), YamlError> {
        self.write_indent();
        self.writer.write_all(&self.buffer)?;
        self.writer.flush()?;
        Ok(())
    }
}

/// libyaml's `yaml_emitter_select_scalar_style`, outside flow collections.
fn select_style(requested: Requested, analysis: &Analysis, empty: bool, simple_key: bool) -> Style {
    let mut style = match requested {
        Requested::Any | Requested::Plain => Style::Plain,
        Requested::SingleQuoted => Style::SingleQuoted,
        Requested::Literal => Style::Literal,
    };
    if simple_key && analysis.multiline {
        style = Style::DoubleQuoted;
    }
    if style == Style::Plain && !analysis.block_plain_allowed {
        style = Style::SingleQuoted;
    }
    if style == Style::Plain && empty && simple_key {
        style = Style::SingleQuoted;
    }
    if style == Style::SingleQuoted && !analysis.single_quoted_allowed {
        style = Style::DoubleQuoted;
    }
    if style == Style::Literal && (!analysis.block_allowed || simple_key) {
        style = Style::DoubleQuoted;
    }
    style
}

/// What the serializer knows about the map being written: serde_yaml reads
/// a one-entry map whose key is written with `collect_str` and starts with
/// `!` as a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyState {
    None,
    FirstKeyOfSingleEntryMap,
}

struct Serializer<W: Write> {
    emitter: Emitter<W>,
    key_state: KeyState,
}

impl<W: Write> Serializer<W> {
    fn scalar(&mut self, value: &str, requested: Requested) -> Result<(), YamlError> {
        self.key_state = KeyState::None;
        self.emitter.scalar(value, requested)
    }

    fn start(&mut self, sequence: bool) -> Result<(), YamlError> {
        self.key_state = KeyState::None;
        self.emitter.start_collection(sequence)
    }
}

impl<W: Write> ser::Serializer for &mut Serializer<W> {
    type Ok = ();
    type Error = YamlError;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = ser::Impossible<(), YamlError>;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = ser::Impossible<(), YamlError>;

    fn serialize_bool(self, v: bool) -> Result<(), YamlError> {
        self.scalar(if v { "true" } else { "false" }, Requested::Plain)
    }
    fn serialize_i8(self, v: i8) -> Result<(), YamlError> {
        self.serialize_i128(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<(), YamlError> {
        self.serialize_i128(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<(), YamlError> {
        self.serialize_i128(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<(), YamlError> {
        self.serialize_i128(v.into())
    }
    fn serialize_i128(self, v: i128) -> Result<(), YamlError> {
        self.scalar(&v.to_string(), Requested::Plain)
    }
    fn serialize_u8(self, v: u8) -> Result<(), YamlError> {
        self.serialize_u128(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<(), YamlError> {
        self.serialize_u128(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<(), YamlError> {
        self.serialize_u128(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<(), YamlError> {
        self.serialize_u128(v.into())
    }
    fn serialize_u128(self, v: u128) -> Result<(), YamlError> {
        self.scalar(&v.to_string(), Requested::Plain)
    }
    fn serialize_f32(self, v: f32) -> Result<(), YamlError> {
        let text = if v.is_nan() {
            ".nan".to_owned()
        } else if v.is_infinite() {
            if v > 0.0 { ".inf" } else { "-.inf" }.to_owned()
        } else {
            ryu::Buffer::new().format_finite(v).to_owned()
        };
        self.scalar(&text, Requested::Plain)
    }
    fn serialize_f64(self, v: f64) -> Result<(), YamlError> {
        let text = if v.is_nan() {
            ".nan".to_owned()
        } else if v.is_infinite() {
            if v > 0.0 { ".inf" } else { "-.inf" }.to_owned()
        } else {
            ryu::Buffer::new().format_finite(v).to_owned()
        };
        self.scalar(&text, Requested::Plain)
    }
    fn serialize_char(self, v: char) -> Result<(), YamlError> {
        self.scalar(v.encode_utf8(&mut [0; 4]), Requested::SingleQuoted)
    }
    fn serialize_str(self, v: &str) -> Result<(), YamlError> {
        self.scalar(v, requested_for_str(v))
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<(), YamlError> {
        Err(YamlError::Unsupported("bytes"))
    }
    fn serialize_none(self) -> Result<(), YamlError> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), YamlError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), YamlError> {
        self.scalar("null", Requested::Plain)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), YamlError> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), YamlError> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), YamlError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), YamlError> {
        Err(YamlError::Unsupported("a newtype enum variant"))
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self, YamlError> {
        self.start(true)?;
        Ok(self)
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self, YamlError> {
        self.start(true)?;
        Ok(self)
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self, YamlError> {
        self.start(true)?;
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, YamlError> {
        Err(YamlError::Unsupported("a tuple enum variant"))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self, YamlError> {
        self.start(false)?;
        if len == Some(1) {
            self.key_state = KeyState::FirstKeyOfSingleEntryMap;
        }
        Ok(self)
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self, YamlError> {
        self.start(false)?;
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, YamlError> {
        Err(YamlError::Unsupported("a struct enum variant"))
    }
    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<(), YamlError> {
        let text = value.to_string();
        if self.key_state == KeyState::FirstKeyOfSingleEntryMap && text.starts_with('!') {
            return Err(YamlError::Unsupported("a tag written as a map key"));
        }
        self.serialize_str(&text)
    }
}

impl<W: Write> ser::SerializeSeq for &mut Serializer<W> {
    type Ok = ();
    type Error = YamlError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), YamlError> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), YamlError> {
        self.emitter.end_collection()
    }
}

impl<W: Write> ser::SerializeTuple for &mut Serializer<W> {
    type Ok = ();
    type Error = YamlError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), YamlError> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), YamlError> {
        self.emitter.end_collection()
    }
}

impl<W: Write> ser::SerializeTupleStruct for &mut Serializer<W> {
    type Ok = ();
    type Error = YamlError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), YamlError> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), YamlError> {
        self.emitter.end_collection()
    }
}

impl<W: Write> ser::SerializeMap for &mut Serializer<W> {
    type Ok = ();
    type Error = YamlError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), YamlError> {
        key.serialize(&mut **self)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), YamlError> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), YamlError> {
        self.key_state = KeyState::None;
        self.emitter.end_collection()
    }
}

impl<W: Write> ser::SerializeStruct for &mut Serializer<W> {
    type Ok = ();
    type Error = YamlError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), YamlError> {
        ser::Serializer::serialize_str(&mut **self, key)?;
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), YamlError> {
        self.emitter.end_collection()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};
    use std::collections::BTreeMap;

    fn same(value: &impl Serialize) {
        let expected = serde_yaml::to_string(value).expect("serde_yaml writes it");
        let mut ours = Vec::new();
        to_writer(&mut ours, value).expect("the fast path writes it");
        assert_eq!(String::from_utf8(ours).unwrap(), expected);
    }

    #[test]
    fn scalars_are_quoted_as_serde_yaml_quotes_them() {
        for text in [
            "",
            "a",
            "null",
            "Null",
            "~",
            "true",
            "FALSE",
            "1",
            "-1",
            "+1",
            "0x1F",
            "-0x1F",
            "0o17",
            "0b101",
            "007",
            "-007",
            "1.5",
            "1e10",
            ".inf",
            "-.INF",
            ".nan",
            "inf",
            "nan",
            "NaN",
            "- a",
            "-a",
            "-",
            "? x",
            "?x",
            ": x",
            "a: b",
            "a:b",
            "a:",
            "a #b",
            "a#b",
            "#a",
            "'a'",
            "\"a\"",
            "`a`",
            "@a",
            "%a",
            "&a",
            "*a",
            "!a",
            "|a",
            ">a",
            "[a]",
            "{a}",
            "a,b",
            ",a",
            " a",
            "a ",
            "a  b",
            "\ta",
            "a\tb",
            "a\nb",
            "a\n",
            "a\n\n",
            "\n",
            "\na",
            " a\nb",
            "a \nb",
            "a\n b",
            "a\r\nb",
            "a\rb",
            "a\u{85}b",
            "a\u{2028}b",
            "é",
            "日本",
            "😀",
            "a\u{7f}",
            "a\u{feff}",
            "\u{a0}",
            "a\u{0}b",
            "---",
            "--- a",
            "...",
            "... a",
            "--",
            "a'b",
            "'",
            "''",
            "\\",
            "a\\b",
            "\"",
            "0",
            "00",
            "-0",
            "+0",
            "1_000",
            "0x",
            "0xg",
            "12:30",
            "2025-01-01",
            "yes",
            "no",
            "on",
            "off",
            "y",
            "n",
            "=",
            "<<",
            "x\n  y\n",
            "  ",
            "a\n\nb",
            "a\n \nb",
            "\n\n",
        ] {
            same(&text);
            same(&json!({ "k": text, text: "v" }));
            same(&json!([text, [text], {"a": [text]}]));
        }
    }

    #[test]
    fn collections_nest_as_serde_yaml_nests_them() {
        same(&json!({}));
        same(&json!([]));
        same(&json!({"a": {}, "b": [], "c": [[], {}], "d": [{"x": [1, 2]}, [[3]]]}));
        same(&json!([[{"a": 1, "b": [{"c": "d\ne"}]}]]));
        same(&json!({"a": null, "b": true, "c": 1.5, "d": -2, "e": 18446744073709551615u64}));
        let long_key = "k".repeat(129);
        same(&json!({ long_key.clone(): {"a": [1]}, "b": long_key }));
        same(&json!({"multi\nline": 1, "x": {"y\nz": [1]}}));
        same(&json!({"a": "trailing\n\n", "b": 1}));
        same(&json!(["keep\n\n"]));
        same(&"keep\n\n");
        let mut single: BTreeMap<String, u8> = BTreeMap::new();
        single.insert("!tag".into(), 1);
        same(&single);
        same(&1.0f32);
        same(&0.1f32);
        same(&f64::NAN);
        same(&'x');
        same(&(1, "a", [2]));
    }

    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just('a'),
                Just('Z'),
                Just('0'),
                Just('1'),
                Just(' '),
                Just('\n'),
                Just('\t'),
                Just(':'),
                Just('#'),
                Just('-'),
                Just('.'),
                Just('\''),
                Just('"'),
                Just('\\'),
                Just('!'),
                Just('?'),
                Just('['),
                Just('{'),
                Just(','),
                Just('é'),
                Just('\u{85}'),
                Just('\u{2028}'),
                Just('\r'),
                Just('\u{1F600}'),
                Just('\u{7}'),
                Just('e'),
                Just('x'),
                Just('+'),
                Just('_'),
                Just('/'),
                Just('('),
                Just('$'),
                Just('n'),
                Just('t'),
            ],
            0..12,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            text().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::btree_map(text(), inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn random_values_are_written_as_serde_yaml_writes_them(value in value()) {
            let expected = serde_yaml::to_string(&value).expect("serde_yaml writes it");
            let mut ours = Vec::new();
            to_writer(&mut ours, &value).expect("the fast path writes it");
            prop_assert_eq!(String::from_utf8(ours).unwrap(), expected);
        }
    }

    #[test]
    fn tagged_values_fall_back_to_serde_yaml() {
        #[derive(serde::Serialize)]
        enum Tagged {
            Number(u8),
        }
        let mut out = Vec::new();
        assert!(matches!(
            to_writer(&mut out, &vec![Tagged::Number(1)]),
            Err(YamlError::Unsupported(_))
        ));
        assert_eq!(
            to_string(&vec![Tagged::Number(1)]).unwrap(),
            serde_yaml::to_string(&vec![Tagged::Number(1)]).unwrap()
        );
    }
}
