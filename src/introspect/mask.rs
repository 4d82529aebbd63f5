//! Hiding passwords in connection URLs and in the messages that repeat them.
//! A password can sit in the userinfo (`postgres://user:pass@host`), in a
//! query parameter (`?password=…`, `&sslpassword=…`), percent-encoded or
//! not, and an error from sqlx or the `url` crate may repeat the URL as
//! given, re-serialised, or the bare password, encoded or decoded. Every
//! form is masked as `***`. When the text is ambiguous (a malformed URL),
//! we hide too much rather than too little: a message that hides the host
//! is worse than one that names it, but far better than one that leaks.

/// What a password becomes in messages.
const MASK: &str = "***";

/// Shorter passwords are not replaced wherever their text occurs in a
/// message: `ab` would replace letters of ordinary words. They are still
/// masked wherever they appear as a URL's password or a `password=` value.
const SHORTEST_REPLACED_ANYWHERE: usize = 3;

/// Hides every password of a connection URL: the userinfo's and any
/// `password` (or `…password`, such as libpq's `sslpassword`) query value.
pub fn mask_url(url: &str) -> String {
    if url.contains("://") {
        // A URL's query value runs to the next parameter, spaces and all:
        // the URL parser percent-encodes a raw space rather than ending there.
        mask_password_values(&mask_userinfo(url), URL_VALUE_ENDS)
    } else {
        // Not a URL: perhaps libpq's `host=… password=…` form.
        mask_password_values(url, TEXT_VALUE_ENDS)
    }
}

/// Where a `password=` value ends inside a URL.
const URL_VALUE_ENDS: &[char] = &['&', '#'];

/// Where a `password=` value ends in running text.
const TEXT_VALUE_ENDS: &[char] = &['&', '#', '"', '\'', ',', ' ', '\t', '\n', '\r'];

/// Replaces the URL, and each of its passwords on its own (as written and
/// percent-decoded), wherever `message` repeats them; then masks anything
/// else in `message` that looks like a URL with a password, or a
/// `password=` value, which catches the URL re-serialised by a library.
pub fn mask_in(message: &str, url: &str) -> String {
    // An empty pattern would match between every two characters.
    let mut out = if url.is_empty() {
        message.to_owned()
    } else {
        message.replace(url, &mask_url(url))
    };
    for password in passwords_of(url) {
        if password.chars().count() >= SHORTEST_REPLACED_ANYWHERE {
            out = out.replace(&password, MASK);
        }
    }
    let words: Vec<String> = out
        .split_inclusive(char::is_whitespace)
        .map(|word| {
            if word.contains("://") {
                mask_userinfo(word)
            } else {
                word.to_owned()
            }
        })
        .collect();
    mask_password_values(&words.concat(), TEXT_VALUE_ENDS)
}

/// Where the userinfo of the URL starting at `rest` (after `://`) ends: the
/// index of its `@`, or `None` when it has no password to hide.
fn userinfo_end(rest: &str) -> Option<usize> {
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    if let Some(at) = authority.rfind('@') {
        return authority[..at].contains(':').then_some(at);
    }
    // No `@` before the path: by the URL rules there is no userinfo, but a
    // password holding a raw `/`, `?` or `#` ends the authority early and is
    // still there for a reader to see. A `:` that starts neither a port nor
    // an IPv6 literal, with an `@` further on, is taken for one.
    let (_, after_colon) = authority.split_once(':')?;
    let is_port = !after_colon.is_empty() && after_colon.bytes().all(|b| b.is_ascii_digit());
    if is_port || authority.starts_with('[') {
        return None;
    }
    rest.rfind('@')
}

/// `scheme://user:***@host…` for the first URL in `text`, when it has a
/// password; everything else as it was.
fn mask_userinfo(text: &str) -> String {
    let Some(scheme_end) = text.find("://") else {
        return text.to_owned();
    };
    let (head, rest) = text.split_at(scheme_end + 3);
    let Some(at) = userinfo_end(rest) else {
        return text.to_owned();
    };
    let Some((user, _)) = rest[..at].split_once(':') else {
        return text.to_owned();
    };
    format!("{head}{user}:{MASK}{}", &rest[at..])
}

/// Whether a query key names a password (`password`, `sslpassword`, any
/// case, percent-encoded or not).
fn is_password_key(key: &str) -> bool {
    percent_decoded(key)
        .to_ascii_lowercase()
        .ends_with("password")
}

/// Masks the value of every `…password=value` in `text`, up to the first of
/// `ends` (or the end of the text).
fn mask_password_values(text: &str, ends: &[char]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(equals) = rest.find('=') {
        let (before, after) = rest.split_at(equals);
        let key_start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '%' || c == '-'))
            .map_or(0, |i| {
                i + before[i..].chars().next().map_or(1, char::len_utf8)
            });
        let value = &after[1..];
        let value_end = value.find(ends).unwrap_or(value.len());
        if is_password_key(&before[key_start..]) && value_end > 0 {
            out.push_str(before);
            out.push('=');
            out.push_str(MASK);
            rest = &value[value_end..];
        } else {
            out.push_str(before);
            out.push('=');
            rest = value;
        }
    }
    out.push_str(rest);
    out
}

/// Every password a URL holds, as written and as decoded (percent-decoding,
/// and `+` as a space in the query, as the query parser reads it).
fn passwords_of(url: &str) -> Vec<String> {
    let mut written = Vec::new();
    if let Some(scheme_end) = url.find("://") {
        let rest = &url[scheme_end + 3..];
        if let Some(at) = userinfo_end(rest)
            && let Some((_, password)) = rest[..at].split_once(':')
        {
            written.push((password.to_owned(), percent_decoded(password)));
        }
    }
    if let Some((_, query)) = url.split_once('?') {
        for pair in query.split(['&', '#']) {
            if let Some((key, value)) = pair.split_once('=')
                && is_password_key(key)
            {
                let decoded = percent_decoded(&value.replace('+', " "));
                written.push((value.to_owned(), decoded));
            }
        }
    }
    let mut out: Vec<String> = written
        .into_iter()
        .flat_map(|(raw, decoded)| [raw, decoded])
        .filter(|p| !p.is_empty())
        .collect();
    // Longest first, so that a password containing another is replaced whole.
    out.sort_by_key(|p| std::cmp::Reverse(p.len()));
    out.dedup();
    out
}

/// `%XX` sequences decoded; invalid sequences and invalid UTF-8 kept as
/// they are (lossily), since this only decides what to hide.
pub(super) fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(high), Some(low)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((high * 16 + low) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_the_userinfo_password() {
        let url = "postgres://me:s3cret@db.example.com:5432/app?sslmode=require";
        assert_eq!(
            mask_url(url),
            "postgres://me:***@db.example.com:5432/app?sslmode=require"
        );
        let message = format!("error with {url} and s3cret again");
        let masked = mask_in(&message, url);
        assert!(!masked.contains("s3cret"), "{masked}");
        assert!(masked.contains("db.example.com:5432"), "{masked}");
    }

    #[test]
    fn leaves_urls_without_a_password_alone() {
        for url in [
            "postgres://me@db.example.com:5432/app",
            "postgres://db.example.com:5432/app?sslmode=require",
            "postgres://[::1]:5432/app",
            "postgres://localhost/app?application_name=a@b",
            "postgresql:///app?host=/var/run/postgresql",
        ] {
            assert_eq!(mask_url(url), url);
            assert_eq!(
                mask_in(&format!("cannot reach {url}"), url),
                format!("cannot reach {url}")
            );
        }
    }

    #[test]
    fn masks_password_query_parameters() {
        let url = "postgres://u@127.0.0.1:5432/db?password=hunter22&sslmode=disable";
        assert_eq!(
            mask_url(url),
            "postgres://u@127.0.0.1:5432/db?password=***&sslmode=disable"
        );
        let url = "postgres://u@h/db?sslmode=disable&password=hunter22";
        assert_eq!(
            mask_url(url),
            "postgres://u@h/db?sslmode=disable&password=***"
        );
        let url = "postgres://u@h/db?PassWord=hunter22&sslpassword=keypass1#frag";
        assert_eq!(
            mask_url(url),
            "postgres://u@h/db?PassWord=***&sslpassword=***#frag"
        );
        let url = "postgres://u@h/db?pass%77ord=hunter22";
        assert_eq!(mask_url(url), "postgres://u@h/db?pass%77ord=***");
        let masked = mask_in("the server said: password hunter22 is wrong", url);
        assert!(!masked.contains("hunter22"), "{masked}");
    }

    #[test]
    fn masks_percent_encoded_passwords_in_both_spellings() {
        let url = "postgres://me:p%40ss%2Fw%3Ard@db:5432/app";
        assert_eq!(mask_url(url), "postgres://me:***@db:5432/app");
        assert_eq!(percent_decoded("p%40ss%2Fw%3Ard"), "p@ss/w:rd");
        let message = "bad password p@ss/w:rd, or p%40ss%2Fw%3Ard";
        let masked = mask_in(message, url);
        assert!(!masked.contains("ss/w"), "{masked}");
        assert!(!masked.contains("ss%2F"), "{masked}");
        let url = "postgres://u@h/db?password=a%20b+c%26d";
        let masked = mask_in("rejected a b c&d and a%20b+c%26d", url);
        assert!(
            !masked.contains("c&d") && !masked.contains("%26d"),
            "{masked}"
        );
    }

    #[test]
    fn masks_raw_special_characters_in_the_password() {
        // Invalid URLs, but what users type: the password must not show.
        for url in [
            "postgres://me:pa/ss@db:5432/app",
            "postgres://me:pa?ss@db:5432/app",
            "postgres://me:pa#ss@db:5432/app",
            "postgres://me:p@ss@db:5432/app",
            "postgres://me:pa ss@db:5432/app",
        ] {
            let masked = mask_url(url);
            assert_eq!(masked, "postgres://me:***@db:5432/app", "{url}");
            let message = mask_in(&format!("invalid URL {url}: bad"), url);
            assert!(!message.contains("ss"), "{message}");
        }
    }

    #[test]
    fn masks_the_url_as_a_library_re_serialises_it() {
        let url = "postgres://me:ab@DB.example.com/app?password=xy";
        // Short passwords are not replaced as bare text, but in a URL or as
        // a `password=` value they are, even spelled differently.
        let message =
            "cannot connect to \"postgres://me:ab@db.example.com/app?password=xy\", password=xy";
        let masked = mask_in(message, url);
        assert_eq!(
            masked,
            "cannot connect to \"postgres://me:***@db.example.com/app?password=***\", password=***"
        );
    }

    #[test]
    fn masks_key_value_connection_strings() {
        let masked = mask_url("host=db user=me password=s3cret dbname=app");
        assert!(!masked.contains("s3cret"), "{masked}");
        let masked = mask_in(
            "bad: host=db password=s3cret dbname=app",
            "host=db password=s3cret dbname=app",
        );
        assert_eq!(masked, "bad: host=db password=*** dbname=app");
    }
}
