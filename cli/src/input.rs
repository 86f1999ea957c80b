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

/// A secret (a key, a password) from the file at `path` (`-`: standard input) as text, at
/// most 64 KiB, one trailing newline dropped; wiped when dropped, and never quoted in an error.
#[cfg(any(feature = "rails", feature = "etcd"))]
pub(crate) fn secret_text(
    path: &std::path::Path,
    what: &str,
) -> Result<zeroize::Zeroizing<String>, Failure> {
    use std::path::Path;
    use zeroize::Zeroizing;
    const MAX: u64 = 64 * 1024;
    let failed = |e: &dyn std::fmt::Display| {
        Failure::new(format!("cannot read {what} from {}: {e}", path.display()))
    };
    let mut bytes = Zeroizing::new(Vec::new());
    let read = if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(MAX + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|file| {
            if !file.metadata()?.is_file() {
                return Err(std::io::Error::other("not a regular file"));
            }
            file.take(MAX + 1).read_to_end(&mut bytes)
        })
    };
    read.map_err(|e| failed(&e))?;
    if bytes.len() as u64 > MAX {
        return Err(failed(&format_args!("over {MAX} bytes")));
    }
    let mut text = Zeroizing::new(
        String::from_utf8(std::mem::take(&mut *bytes)).map_err(|_| failed(&"not UTF-8 text"))?,
    );
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Ok(text)
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
