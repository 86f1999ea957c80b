//! Reading a token (or a value) from standard input, by one rule for every command: a token
//! on the command line is taken exactly as given; one read from standard input loses exactly
//! one trailing newline (`\n` or `\r\n`, what `echo` and editors add) and nothing else. Any
//! other whitespace stays, and the library refuses it by name.

use std::io::Read as _;

use crate::Failure;

/// Standard input as UTF-8 text, at most `max` bytes (more: refused, naming the cap), one
/// trailing newline dropped.
pub(crate) fn stdin_text(max: u64, what: &str) -> Result<String, Failure> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::new(format!("cannot read {what} from standard input: {e}")))?;
    // Cut off at the cap, the true length is unknown: say so rather than report the cap's.
    if bytes.len() as u64 > max {
        let cap = if max >= 1 << 20 && max.is_multiple_of(1 << 20) {
            format!("{} MiB", max >> 20)
        } else {
            format!("{max} bytes")
        };
        return Err(Failure::new(format!(
            "{what} on standard input is over {cap}"
        )));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| Failure::new(format!("{what} on standard input is not UTF-8 text")))?;
    Ok(drop_one_newline(text))
}

/// `text` less one trailing `\n` or `\r\n`.
pub(crate) fn drop_one_newline(mut text: String) -> String {
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::drop_one_newline;

    #[test]
    fn exactly_one_newline_is_dropped() {
        for (input, kept) in [
            ("t", "t"),
            ("t\n", "t"),
            ("t\r\n", "t"),
            ("t\n\n", "t\n"),
            (" t\n", " t"),
            ("t \n", "t "),
            ("t\r", "t\r"),
        ] {
            assert_eq!(drop_one_newline(input.to_owned()), kept, "{input:?}");
        }
    }
}
