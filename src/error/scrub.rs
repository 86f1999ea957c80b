//! Saying what a refused value looked like without saying the value: in a keyring, a value
//! in the wrong place is often a secret pasted one line off.

use std::fmt;

/// What a refused value looked like, never the value itself: in a keyring, a value in the
/// wrong place is often a secret pasted one line off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueShape {
    /// Its length in characters.
    pub len: usize,
    /// Whether it looks like key material (long, and all base64 or hex characters).
    pub looks_like_secret: bool,
}

impl ValueShape {
    pub(crate) fn of(value: &str) -> Self {
        let len = value.chars().count();
        let alphabet = |c: char| c.is_ascii_alphanumeric() || "+/=_-".contains(c);
        let looks_like_secret = len >= 16
            && value.chars().all(alphabet)
            && value
                .chars()
                .any(|c| c.is_ascii_digit() || c.is_ascii_uppercase());
        Self {
            len,
            looks_like_secret,
        }
    }
}

impl fmt::Display for ValueShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noun = if self.len == 1 {
            "character"
        } else {
            "characters"
        };
        write!(f, "a value of {} {noun}", self.len)?;
        if self.looks_like_secret {
            f.write_str(" that looks like a secret (not shown)")?;
        }
        Ok(())
    }
}

/// A field name as written if it reads like one (`expire_at`: how a typo is found), otherwise
/// only its shape.
pub(crate) fn field_name(name: &str) -> String {
    let plain = (1..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
        && !ValueShape::of(name).looks_like_secret;
    if plain {
        format!("{name:?}")
    } else {
        format!("(a name that is {})", ValueShape::of(name))
    }
}

/// Caps echoed user input so a hostile file cannot flood a log line.
pub(super) fn shorten(s: &str) -> String {
    const MAX: usize = 64;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}

/// Serde quotes the offending value (`invalid type: string "…", expected …`); in a keyring
/// that value may be a secret pasted in the wrong place, so it is dropped. Field names, which
/// serde quotes with backticks, stay: they are how a typo is found.
pub(super) fn without_string_values(message: &str) -> String {
    const MARK: &str = "string \"";
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(MARK) {
        out.push_str(&rest[..start]);
        out.push_str("string");
        // Skip to the closing quote; serde escapes quotes inside the value as \".
        let value = &rest[start + MARK.len()..];
        let mut escaped = false;
        let end = value
            .char_indices()
            .find(|&(_, c)| {
                let closes = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                closes
            })
            .map_or(value.len(), |(i, _)| i + 1);
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

/// Serde quotes field names with backticks (`` unknown field `dmeo` ``); a name that does not
/// read like one may be a secret pasted as a key, so only its shape is kept.
pub(super) fn plain_field_names(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut parts = message.split('`');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    let mut inside = true;
    for part in parts {
        if inside && !field_name(part).starts_with('"') {
            out.push_str(&field_name(part));
        } else if inside {
            out.push('`');
            out.push_str(part);
            out.push('`');
        } else {
            out.push_str(part);
        }
        inside = !inside;
    }
    out
}
