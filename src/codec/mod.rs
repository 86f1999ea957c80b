//! Token wire formats. `native` is tokenring's own v1 format (docs/FORMAT.md), both ways:
//! splitting and checking a token, and assembling one. (The Rails formats live in
//! `crate::rails`, behind the `rails` feature.) Both share what is here: base64 decoded onto
//! the stack, and an envelope cut from its ends when it is spelled as its writer spells it.

pub(crate) mod native;

use base64::Engine as _;
use base64::engine::GeneralPurpose;

/// Decodes base64 `input` with the first of `engines` that accepts it and hands the bytes to
/// `f`: onto the stack when small (most tokens carry an id and a few claims), onto the heap
/// otherwise. `None` if no engine accepts it.
pub(crate) fn with_decoded<R>(
    input: &[u8],
    engines: &[&GeneralPurpose],
    f: impl FnOnce(&[u8]) -> R,
) -> Option<R> {
    // decode_slice wants room for its conservative estimate, not just the exact length.
    let estimate = input.len().div_ceil(4) * 3;
    if estimate <= 192 {
        on_stack::<192, R>(input, engines, f)
    } else if estimate <= 768 {
        on_stack::<768, R>(input, engines, f)
    } else {
        let bytes = engines
            .iter()
            .find_map(|engine| engine.decode(input).ok())?;
        Some(f(&bytes))
    }
}

fn on_stack<const N: usize, R>(
    input: &[u8],
    engines: &[&GeneralPurpose],
    f: impl FnOnce(&[u8]) -> R,
) -> Option<R> {
    let mut buf = [0u8; N];
    let n = engines
        .iter()
        .find_map(|engine| engine.decode_slice(input, &mut buf).ok())?;
    Some(f(&buf[..n]))
}

/// Strips a trailing string field spelled `KEY"TEXT"` (`key` = `,"pur":"`, its opening quote
/// included) from an envelope read from its end. `Some((rest, None))`: the field is not
/// there; `None`: it is, but holds an escape or a control character, which only a JSON
/// parser may interpret. The text is not yet known to be UTF-8.
pub(crate) fn strip_string_field<'a>(
    rest: &'a [u8],
    key: &[u8],
) -> Option<(&'a [u8], Option<&'a [u8]>)> {
    if let Some(head) = rest.strip_suffix(b"\"")
        && let Some(open) = head.iter().rposition(|&b| b == b'"')
        && let Some(before) = head[..=open].strip_suffix(key)
    {
        let text = &head[open + 1..];
        if text.iter().any(|&b| b == b'\\' || b < 0x20) {
            return None;
        }
        return Some((before, Some(text)));
    }
    Some((rest, None))
}

/// Strips a trailing unsigned integer field spelled `KEY DIGITS` (`key` = `,"exp":`), as
/// [`strip_string_field`] does; `None` for a leading zero (not JSON) or a number past `u64`.
pub(crate) fn strip_u64_field<'a>(rest: &'a [u8], key: &[u8]) -> Option<(&'a [u8], Option<u64>)> {
    let digits = rest.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    let (head, number) = rest.split_at(rest.len() - digits);
    let Some(before) = head.strip_suffix(key).filter(|_| digits > 0) else {
        return Some((rest, None));
    };
    if digits > 1 && number[0] == b'0' {
        return None;
    }
    let digit = |d: &u8| u64::from(d - b'0');
    let n = if digits <= 19 {
        // Fits: no overflow check in the loop.
        number.iter().fold(0, |n, d| n * 10 + digit(d))
    } else {
        number
            .iter()
            .try_fold(0u64, |n, d| n.checked_mul(10)?.checked_add(digit(d)))?
    };
    Some((before, Some(n)))
}

/// Whether `token` starts or ends with ASCII whitespace, which no token of any format
/// holds: both readers name it rather than the part it breaks.
pub(crate) fn has_surrounding_whitespace(token: &[u8]) -> bool {
    matches!(token.first(), Some(b) if b.is_ascii_whitespace())
        || matches!(token.last(), Some(b) if b.is_ascii_whitespace())
}
