//! Rails' `ActiveSupport::MessageVerifier` wire format, both ways: `data--digest` with
//! `data = base64(payload)` and `digest = lowercase_hex(HMAC-<digest>(secret, data))`, the
//! payload being the JSON value or a `_rails` metadata envelope. docs/RAILS.md cites the Rails
//! source for every rule here.

use base64::engine::general_purpose::STANDARD;
use sha1::Sha1;
use sha2::{Sha256, Sha384, Sha512};

use subtle::ConstantTimeEq as _;

use super::error::{PayloadProblem, RailsError, ShapeProblem};
use crate::algorithm::{Keyed, MAX_TAG_LEN, Tag};
use crate::codec::with_decoded;

/// The HMAC digest (`digest:` option). Rails' own default is SHA1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum RailsDigest {
    /// HMAC-SHA1, 40 hex characters.
    #[default]
    Sha1,
    /// HMAC-SHA256, 64 hex characters.
    Sha256,
    /// HMAC-SHA384, 96 hex characters.
    Sha384,
    /// HMAC-SHA512, 128 hex characters.
    Sha512,
}

impl RailsDigest {
    pub(super) fn hex_len(self) -> usize {
        match self {
            Self::Sha1 => 40,
            Self::Sha256 => 64,
            Self::Sha384 => 96,
            Self::Sha512 => 128,
        }
    }
}

/// A configuration's HMAC, keyed once (the same [`Keyed`] state the native format uses) with
/// the Rails digest.
#[derive(Clone)]
pub(super) enum RailsMac {
    Sha1(Keyed<Sha1>),
    Sha256(Keyed<Sha256>),
    Sha384(Keyed<Sha384>),
    Sha512(Keyed<Sha512>),
}

impl RailsMac {
    pub(super) fn new(digest: RailsDigest, secret: &[u8]) -> Self {
        match digest {
            RailsDigest::Sha1 => Self::Sha1(Keyed::new(secret)),
            RailsDigest::Sha256 => Self::Sha256(Keyed::new(secret)),
            RailsDigest::Sha384 => Self::Sha384(Keyed::new(secret)),
            RailsDigest::Sha512 => Self::Sha512(Keyed::new(secret)),
        }
    }

    fn tag(&self, data: &[u8]) -> Tag {
        match self {
            Self::Sha1(mac) => mac.tag(data),
            Self::Sha256(mac) => mac.tag(data),
            Self::Sha384(mac) => mac.tag(data),
            Self::Sha512(mac) => mac.tag(data),
        }
    }

    /// `data--digest`, the digest as Rails writes it (lowercase hex).
    pub(super) fn sign(&self, data: String) -> String {
        let mut hex = [0u8; 2 * MAX_TAG_LEN];
        let hex = to_hex(self.tag(data.as_bytes()).as_bytes(), &mut hex);
        let mut token = data;
        token.reserve(2 + hex.len());
        token.push_str("--");
        token.push_str(std::str::from_utf8(hex).expect("hex digits are ASCII"));
        token
    }

    /// Whether `hex` is the digest of `data`. Rails compares the hex strings exactly, so only
    /// lowercase hex can match: the expected digest is written as lowercase hex on the stack
    /// and the two texts compared in constant time (no branch on the token's digits).
    fn verify(&self, data: &[u8], hex: &[u8]) -> bool {
        let mut expected = [0u8; 2 * MAX_TAG_LEN];
        let expected = to_hex(self.tag(data).as_bytes(), &mut expected);
        if expected.len() != hex.len() {
            return false;
        }
        // Every byte compared whatever the differences (no early exit), the verdict taken
        // through `subtle` so the compiler cannot branch on it either.
        let diff = expected
            .iter()
            .zip(hex)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b));
        bool::from(diff.ct_eq(&0))
    }
}

/// `bytes` as lowercase hex in `out`; the written part. The bytes are the expected digest,
/// so each digit is computed, not looked up: no memory access depends on them.
fn to_hex<'a>(bytes: &[u8], out: &'a mut [u8; 2 * MAX_TAG_LEN]) -> &'a [u8] {
    for (pair, byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = hex_digit(byte >> 4);
        pair[1] = hex_digit(byte & 0xf);
    }
    &out[..2 * bytes.len()]
}

/// The lowercase hex digit of `n` (below 16), without a branch or a table.
fn hex_digit(n: u8) -> u8 {
    // 1 when n > 9: 9 - n wraps to 247 or more, whose top bit is set.
    let letter = 9u8.wrapping_sub(n) >> 7;
    b'0' + n + letter * (b'a' - b'0' - 10)
}

impl std::str::FromStr for RailsDigest {
    type Err = super::error::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "SHA1" => Ok(Self::Sha1),
            "SHA256" => Ok(Self::Sha256),
            "SHA384" => Ok(Self::Sha384),
            "SHA512" => Ok(Self::Sha512),
            _ => Err(super::error::UnknownName {
                what: "digest",
                expected: "SHA1, SHA256, SHA384 or SHA512",
            }),
        }
    }
}

/// Which `_rails` metadata envelope to write (both are read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Envelope {
    /// `{"_rails":{"message":<base64 of the value>,"exp":…,"pur":…}}`: Rails ≤ 7.0, and 7.1+
    /// without `use_message_serializer_for_metadata`. The only form 6.1 reads.
    #[default]
    Legacy,
    /// `{"_rails":{"data":<value>,"exp":…,"pur":…}}`: 7.1+ apps on 7.1 defaults.
    Current,
}

/// How the JSON is written. Readers need not care (the MAC covers the bytes); writers that
/// must produce Rails' exact bytes pick the encoder the Rails side uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum JsonStyle {
    /// Ruby's `::JSON.dump` (`serializer: JSON`, as `signed_id` uses).
    #[default]
    Ruby,
    /// `ActiveSupport::JSON.encode` (`:json`, `:json_allow_marshal`): `<`, `>`, `&`, U+2028
    /// and U+2029 escaped as `\u…`.
    ActiveSupport,
}

/// Splits at the separator the digest length puts it at (Rails 7.0+), checks the digest in
/// constant time, and decodes the data from either base64 alphabet.
pub(super) fn signed_payload(
    digest: RailsDigest,
    mac: &RailsMac,
    token: &str,
) -> Result<Vec<u8>, RailsError> {
    with_signed_payload(digest, mac, token, <[u8]>::to_vec)
}

/// [`signed_payload`], the payload handed to `f` (from the stack when small).
pub(super) fn with_signed_payload<R>(
    digest: RailsDigest,
    mac: &RailsMac,
    token: &str,
    f: impl FnOnce(&[u8]) -> R,
) -> Result<R, RailsError> {
    let hex_len = digest.hex_len();
    let bytes = token.as_bytes();
    if bytes.len() < hex_len + 3 {
        return Err(RailsError::Malformed(ShapeProblem::TooShort));
    }
    let split = bytes.len() - hex_len - 2;
    if &bytes[split..split + 2] != b"--" {
        return Err(RailsError::Malformed(ShapeProblem::NoSeparator));
    }
    let (data, hex) = (&bytes[..split], &bytes[split + 2..]);
    if !mac.verify(data, hex) {
        return Err(RailsError::BadSignature);
    }
    with_decoded(data, &[&STANDARD, &URL_SAFE_INDIFFERENT], f)
        .ok_or(RailsError::BadPayload(PayloadProblem::DataNotBase64))
}

const URL_SAFE_INDIFFERENT: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// JSON text as the chosen Ruby encoder would have written it. The escaped characters can
/// only occur inside JSON strings, so replacing them in the text is exact.
pub(super) fn style(json: String, style: JsonStyle) -> String {
    const ESCAPED: [char; 5] = ['<', '>', '&', '\u{2028}', '\u{2029}'];
    match style {
        JsonStyle::Ruby => json,
        // Most values hold none of them: no copy then.
        JsonStyle::ActiveSupport if !json.contains(ESCAPED) => json,
        JsonStyle::ActiveSupport => json
            .replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('&', "\\u0026")
            .replace('\u{2028}', "\\u2028")
            .replace('\u{2029}', "\\u2029"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_digits_are_lowercase() {
        let digits: Vec<u8> = (0..16).map(hex_digit).collect();
        assert_eq!(digits, b"0123456789abcdef");
    }

    /// Rails compares the hex digests as strings: only the lowercase spelling it writes
    /// matches, as here, where the expected digest is written in lowercase and compared.
    #[test]
    fn only_the_lowercase_digest_matches() {
        for digest in [
            RailsDigest::Sha1,
            RailsDigest::Sha256,
            RailsDigest::Sha384,
            RailsDigest::Sha512,
        ] {
            let mac = RailsMac::new(digest, b"secret");
            let token = mac.sign("ZGF0YQ==".to_owned());
            let (data, hex) = token.split_once("--").unwrap();
            assert_eq!(hex.len(), digest.hex_len());
            assert!(mac.verify(data.as_bytes(), hex.as_bytes()));
            assert!(
                !mac.verify(data.as_bytes(), hex.to_uppercase().as_bytes())
                    || !hex.chars().any(|c| c.is_ascii_alphabetic())
            );
            assert!(!mac.verify(data.as_bytes(), &hex.as_bytes()[1..]));
            assert!(!mac.verify(b"ZGF0YQ", hex.as_bytes()));
            assert_eq!(signed_payload(digest, &mac, &token).unwrap(), b"data");
        }
    }
}
