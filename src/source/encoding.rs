//! Mojibake repair. The master document was, at some point, UTF-8 that a tool
//! decoded as Windows-1252 and wrote back as UTF-8, so `✅` reads `âœ…`. Each
//! such run is re-encoded to Windows-1252 bytes and decoded again as UTF-8.
//! Only complete, valid UTF-8 sequences are replaced, so ordinary accented
//! text is left alone.

use std::sync::OnceLock;

/// How many sequences were repaired, and the first line that had one.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Repairs {
    pub count: usize,
    pub first_line: u32,
    /// Sequences that look like mojibake but lost a byte on the way (the
    /// five bytes Windows-1252 leaves undefined are often dropped). They are
    /// left as they are: guessing the byte would invent text.
    pub unrepairable: usize,
}

/// The Windows-1252 byte for each character of the upper half, as
/// encoding_rs decodes it (WHATWG maps the five undefined bytes to the C1
/// controls, which is what such broken round trips leave behind).
fn upper_half() -> &'static [(char, u8)] {
    static TABLE: OnceLock<Vec<(char, u8)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let bytes: Vec<u8> = (0x80..=0xFF).collect();
        let (decoded, _, _) = encoding_rs::WINDOWS_1252.decode(&bytes);
        let mut table: Vec<(char, u8)> = decoded.chars().zip(bytes.iter().copied()).collect();
        table.sort();
        table
    })
}

fn cp1252_byte(c: char) -> Option<u8> {
    if c.is_ascii() {
        return Some(c as u8);
    }
    let table = upper_half();
    table
        .binary_search_by_key(&c, |&(ch, _)| ch)
        .ok()
        .map(|i| table[i].1)
}

fn sequence_length(lead: u8) -> Option<usize> {
    match lead {
        0xC2..=0xDF => Some(2),
        0xE0..=0xEF => Some(3),
        0xF0..=0xF4 => Some(4),
        _ => None,
    }
}

/// Repairs mojibake in `text`. Returns the repaired text and what was done.
pub fn repair_mojibake(text: &str) -> (String, Repairs) {
    let mut repairs = Repairs::default();
    if text.is_ascii() {
        return (text.to_owned(), repairs);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut line = 1u32;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
        }
        if is_broken_sequence(&chars[i..]) {
            repairs.unrepairable += 1;
        }
        if let Some(decoded) = try_repair_at(&chars[i..]) {
            out.push(decoded.0);
            i += decoded.1;
            if repairs.count == 0 {
                repairs.first_line = line;
            }
            repairs.count += 1;
            continue;
        }
        out.push(c);
        i += 1;
    }
    (out, repairs)
}

/// A lead byte followed by some, but too few, continuation bytes.
fn is_broken_sequence(chars: &[char]) -> bool {
    let Some(length) = cp1252_byte(chars[0])
        .filter(|_| !chars[0].is_ascii())
        .and_then(sequence_length)
    else {
        return false;
    };
    let continuation = chars[1..]
        .iter()
        .take(length - 1)
        .take_while(|&&c| {
            !c.is_ascii() && cp1252_byte(c).is_some_and(|b| (0x80..=0xBF).contains(&b))
        })
        .count();
    continuation >= 1 && continuation < length - 1 && length > 2
}

/// If the characters at the start of `chars` are one UTF-8 sequence seen
/// through Windows-1252, returns the real character and how many characters
/// it took.
fn try_repair_at(chars: &[char]) -> Option<(char, usize)> {
    let first = chars[0];
    if first.is_ascii() {
        return None;
    }
    let lead = cp1252_byte(first)?;
    let length = sequence_length(lead)?;
    if chars.len() < length {
        return None;
    }
    let mut bytes = [0u8; 4];
    bytes[0] = lead;
    for k in 1..length {
        let b = cp1252_byte(chars[k])?;
        if !(0x80..=0xBF).contains(&b) {
            return None;
        }
        bytes[k] = b;
    }
    let decoded = std::str::from_utf8(&bytes[..length]).ok()?;
    decoded.chars().next().map(|c| (c, length))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repairs_the_documents_sequences() {
        for (broken, fixed) in [
            ("âœ…", "✅"),
            ("â”Œ", "┌"),
            ("ðŸ“‹", "📋"),
            ("â†’", "→"),
            ("â\u{9d}Œ", "❌"),
        ] {
            let (out, repairs) = repair_mojibake(broken);
            assert_eq!(out, fixed);
            assert_eq!(repairs.count, 1);
        }
    }

    #[test]
    fn a_sequence_that_lost_a_byte_is_counted_not_guessed() {
        // ❌ is E2 9D 8C; 0x9D has no Windows-1252 character and was dropped.
        let (out, repairs) = repair_mojibake("| âŒ |");
        assert_eq!(out, "| âŒ |");
        assert_eq!(repairs.unrepairable, 1);
    }

    #[test]
    fn leaves_real_text_alone() {
        let text = "café, naïve, Ωmega → ✅ ├──";
        assert_eq!(repair_mojibake(text), (text.to_owned(), Repairs::default()));
    }

    #[test]
    fn counts_lines() {
        let (_, repairs) = repair_mojibake("a\nb\nâœ… x âœ…");
        assert_eq!(
            repairs,
            Repairs {
                count: 2,
                first_line: 3,
                unrepairable: 0
            }
        );
    }
}
