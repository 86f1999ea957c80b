//! The native v1 format: `v1.KID.PAYLOAD.TAG` (docs/FORMAT.md has the exact bytes).
//!
//! Splitting touches no key and decodes nothing: the key is looked up by id and the MAC
//! checked over the raw bytes before the payload's base64 or JSON is read.

use std::borrow::Cow;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::algorithm::{KeyedMac, MAX_TAG_LEN};
use crate::error::{Malformed, SignError};
use crate::key_id_grammar::is_valid_key_id;

/// base64url without padding; decoding refuses non-canonical trailing bits, so each tag and
/// payload has exactly one spelling.
pub(crate) const B64: base64::engine::GeneralPurpose =
    base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub(crate) const PREFIX: &str = "v1.";

/// A token cut at its dots, nothing decoded.
pub(crate) struct Parts<'a> {
    pub key_id: &'a str,
    /// Every byte before the last dot: what the MAC covers.
    pub signed: &'a [u8],
    pub payload: &'a [u8],
    pub tag: &'a [u8],
}

pub(crate) fn split(token: &str) -> Result<Parts<'_>, Malformed> {
    let bytes = token.as_bytes();
    // Checked first so the error names the cause: a pasted token with a newline would
    // otherwise be refused for its tag's length, one with a leading space for its version.
    if super::has_surrounding_whitespace(bytes) {
        return Err(Malformed::Whitespace);
    }
    let rest = bytes
        .strip_prefix(PREFIX.as_bytes())
        .ok_or(Malformed::Version)?;
    let kid_len = rest
        .iter()
        .position(|&b| b == b'.')
        .ok_or(Malformed::Structure)?;
    let key_id = &rest[..kid_len];
    if !is_valid_key_id(key_id) {
        return Err(Malformed::KeyId);
    }
    let body = &rest[kid_len + 1..];
    let payload_len = memchr::memrchr(b'.', body).ok_or(Malformed::Structure)?;
    let (payload, tag) = (&body[..payload_len], &body[payload_len + 1..]);
    if payload.is_empty() {
        return Err(Malformed::EmptyPayload);
    }
    if tag.is_empty() {
        return Err(Malformed::EmptyTag);
    }
    Ok(Parts {
        // The id grammar is ASCII, so this slice is on char boundaries.
        key_id: &token[PREFIX.len()..PREFIX.len() + kid_len],
        signed: &bytes[..PREFIX.len() + kid_len + 1 + payload_len],
        payload,
        tag,
    })
}

/// Assembles `v1.KID.PAYLOAD.TAG` for an envelope's JSON in one buffer of the exact length,
/// refusing a token longer than `max_len` before building it.
pub(crate) fn encode(
    key_id: &str,
    json: &[u8],
    mac: &KeyedMac,
    max_len: usize,
) -> Result<String, SignError> {
    let tag_len = mac.algorithm().tag_len();
    let len = PREFIX.len() + key_id.len() + 1 + encoded_len(json.len()) + 1 + encoded_len(tag_len);
    if len > max_len {
        return Err(SignError::TooLarge { len, max: max_len });
    }
    let mut token = String::with_capacity(len);
    token.push_str(PREFIX);
    token.push_str(key_id);
    token.push('.');
    B64.encode_string(json, &mut token);
    let tag = mac.tag(token.as_bytes());
    token.push('.');
    B64.encode_string(tag.as_bytes(), &mut token);
    Ok(token)
}

/// Decodes a tag of exactly `mac`'s length onto the stack and checks it in constant time.
/// `Err` means the tag is not even well-formed; `Ok(false)` that it does not match.
pub(crate) fn check_tag(mac: &KeyedMac, parts: &Parts<'_>) -> Result<bool, Malformed> {
    let tag_len = mac.algorithm().tag_len();
    if parts.tag.len() != encoded_len(tag_len) {
        return Err(Malformed::Tag);
    }
    // decode_slice sizes its check by a conservative estimate, up to 2 bytes over.
    let mut tag = [0u8; MAX_TAG_LEN + 3];
    match B64.decode_slice(parts.tag, &mut tag) {
        Ok(n) if n == tag_len => Ok(mac.verify(parts.signed, &tag[..tag_len])),
        _ => Err(Malformed::Tag),
    }
}

/// Unpadded base64 length of `n` bytes.
pub(crate) const fn encoded_len(n: usize) -> usize {
    (n * 4).div_ceil(3)
}

/// The signed JSON object. Field order on output is fixed (`dat`, `pur`, `exp`) so that
/// tokens are reproducible; input accepts any order but no unknown or duplicate fields.
#[derive(Serialize)]
pub(crate) struct EnvelopeOut<'a, T: ?Sized> {
    pub dat: &'a T,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pur: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EnvelopeIn<'a, T> {
    pub dat: T,
    #[serde(borrow, default)]
    pub pur: Option<Cow<'a, str>>,
    #[serde(default)]
    pub exp: Option<u64>,
}

/// The envelope as tokenring writes it, cut without a JSON parser: `{"dat":VALUE` then
/// `,"pur":"PURPOSE"` and `,"exp":SECONDS` (each optional, in that order) then `}`, no
/// whitespace, no escape in the purpose. The tail is read from the end, so `dat` is every
/// byte between the prefix and it.
///
/// If `dat` then parses as one JSON value, these bytes *are* the object
/// `{dat, pur, exp}`: the general reading ([`EnvelopeIn`]) would answer the same. Any other
/// spelling gives `None` and is left to it.
pub(crate) struct Cut<'a> {
    pub dat: &'a [u8],
    /// The purpose's bytes between its quotes: no escape, no control character, but not yet
    /// known to be UTF-8 (compared with a `&str`, equal bytes are).
    pub pur: Option<&'a [u8]>,
    pub exp: Option<u64>,
}

const DAT: &[u8] = br#"{"dat":"#;
const PUR: &[u8] = br#","pur":""#;
const EXP: &[u8] = br#","exp":"#;

pub(crate) fn cut(json: &[u8]) -> Option<Cut<'_>> {
    let rest = json.strip_prefix(DAT)?.strip_suffix(b"}")?;
    let (rest, exp) = super::strip_u64_field(rest, EXP)?;
    let (dat, pur) = super::strip_string_field(rest, PUR)?;
    Some(Cut { dat, pur, exp })
}

/// Decodes the payload's base64 (onto the stack when small) and hands the bytes to `f`.
pub(crate) fn with_payload<R>(payload: &[u8], f: impl FnOnce(&[u8]) -> R) -> Result<R, Malformed> {
    super::with_decoded(payload, &[&B64], f).ok_or(Malformed::Payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_what_tokenring_writes() {
        let envelope = EnvelopeOut {
            dat: &serde_json::json!({"sub": 42, "tags": ["a,\"pur\":\"b"]}),
            pur: Some("login"),
            exp: Some(1_800_000_900),
        };
        let json = serde_json::to_vec(&envelope).unwrap();
        let cut = cut(&json).expect("tokenring's own spelling is cut");
        assert_eq!(cut.dat, br#"{"sub":42,"tags":["a,\"pur\":\"b"]}"#);
        assert_eq!(
            (cut.pur, cut.exp),
            (Some(&b"login"[..]), Some(1_800_000_900))
        );

        let cut = super::cut(br#"{"dat":"x"}"#).unwrap();
        assert_eq!((cut.dat, cut.pur, cut.exp), (&br#""x""#[..], None, None));
        let cut = super::cut(br#"{"dat":12,"exp":3}"#).unwrap();
        assert_eq!((cut.dat, cut.pur, cut.exp), (&b"12"[..], None, Some(3)));
        assert!(super::cut(br#"{"dat":1,"exp":03}"#).is_none());
        assert!(super::cut(br#"{"dat":1,"pur":"\u0041"}"#).is_none());
        assert!(super::cut(br#"{"pur":"a","dat":1}"#).is_none());
    }
}
