//! JWS compact serialization (RFC 7515 §7.1): `BASE64URL(header) . BASE64URL(claims) .
//! BASE64URL(signature)`, each part unpadded.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::keys::{JoseAlgorithm, MAX_SIGNATURE_LEN, PublicKey, SigningKey};
use crate::error::Malformed;

/// The longest header part read (base64url characters): a header names an algorithm, a key
/// id and a type, well under this.
const MAX_HEADER_LEN: usize = 1024;
/// A curve signature part's length: 64 bytes, unpadded base64url.
const SIGNATURE_PART_LEN: usize = 86;
/// The longest signature part read: an 8192-bit RSA signature, unpadded base64url.
const MAX_SIGNATURE_PART_LEN: usize = MAX_SIGNATURE_LEN.div_ceil(3) * 4;

/// Why a JWS was refused. Messages name what was wrong, never a value taken from the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwsError {
    /// Over the size cap.
    #[error("the token is {len} bytes, over the limit of {max}")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// Not three base64url parts, a part empty or too long, a header that is not a JSON
    /// object, claims that are not base64url.
    #[error("malformed token: {0}")]
    Malformed(Malformed),
    /// The header names no key (`kid`).
    #[error("the header names no key (kid)")]
    MissingKeyId,
    /// The header has `crit`: an extension that must be understood, and none is.
    #[error("the header has crit: no extension is understood")]
    CriticalHeader,
    /// The header names a key that is not there (or is not a public key).
    #[error("unknown key")]
    UnknownKey,
    /// The header's `alg` is not the key's: the algorithm comes from the key, never from the
    /// token (`none`, `HS256` with a public key as the secret, another curve).
    #[error("the header's alg is not the algorithm of key {key_id:?} ({expected})")]
    AlgorithmMismatch {
        /// The key the header named.
        key_id: String,
        /// The key's algorithm.
        expected: JoseAlgorithm,
    },
    /// The signature is not the key's over the header and claims.
    #[error("bad signature for key {key_id:?}")]
    BadSignature {
        /// The key the header named.
        key_id: String,
    },
}

/// What a JWS header says that tokenring reads: the algorithm and the key id.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Header {
    /// `alg`, as the token claims it (checked against the key's, never used to choose).
    pub alg: String,
    /// `kid`: the key id.
    pub kid: String,
    /// `typ`, if present.
    pub typ: Option<String>,
}

#[derive(Deserialize)]
struct RawHeader<'a> {
    #[serde(borrow)]
    alg: Option<Cow<'a, str>>,
    #[serde(borrow)]
    kid: Option<Cow<'a, str>>,
    #[serde(borrow)]
    typ: Option<Cow<'a, str>>,
    crit: Option<IgnoredAny>,
}

/// A compact JWS split into its parts, the header read.
#[derive(Debug)]
pub(crate) struct Parts<'t> {
    pub(crate) header: Header,
    /// `header . claims`, what the signature covers.
    pub(crate) signing_input: &'t str,
    pub(crate) claims: &'t str,
    pub(crate) signature: &'t str,
}

impl Parts<'_> {
    /// Checks the signature with `key` (named by the header's `kid` as `key_id`): the
    /// header's `alg` must be the key's algorithm.
    pub(crate) fn verify(&self, key_id: &str, key: &PublicKey) -> Result<(), JwsError> {
        if self.header.alg != key.algorithm().name() {
            return Err(JwsError::AlgorithmMismatch {
                key_id: key_id.to_owned(),
                expected: key.algorithm(),
            });
        }
        // The key fixes the signature's length: 64 bytes for the curves, the modulus' for RSA.
        let expected = key.signature_len();
        if Some(self.signature.len()) != base64::encoded_len(expected, false) {
            return Err(JwsError::Malformed(Malformed::Tag));
        }
        let mut signature = [0u8; MAX_SIGNATURE_LEN];
        let valid = URL_SAFE_NO_PAD
            .decode_slice(self.signature, &mut signature)
            .is_ok_and(|len| len == expected)
            && key.verify(self.signing_input.as_bytes(), &signature[..expected]);
        if valid {
            Ok(())
        } else {
            Err(JwsError::BadSignature {
                key_id: key_id.to_owned(),
            })
        }
    }

    /// The claims' JSON bytes. Call only after [`Parts::verify`]: they are an attacker's
    /// until the signature holds.
    pub(crate) fn claims_json(&self) -> Result<Vec<u8>, JwsError> {
        URL_SAFE_NO_PAD
            .decode(self.claims)
            .map_err(|_| JwsError::Malformed(Malformed::Payload))
    }
}

/// Splits `token` and reads its header; nothing is verified yet.
pub(crate) fn split(token: &str, max_len: usize) -> Result<Parts<'_>, JwsError> {
    if token.len() > max_len {
        return Err(JwsError::TooLarge {
            len: token.len(),
            max: max_len,
        });
    }
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwsError::Malformed(Malformed::JwsStructure));
    };
    let base64url = |part: &str| {
        part.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    // An empty payload is a valid JWS (RFC 7515 §7.1); an empty header or signature is not.
    if header.is_empty() || !base64url(header) || !base64url(claims) || !base64url(signature) {
        return Err(JwsError::Malformed(Malformed::JwsStructure));
    }
    if header.len() > MAX_HEADER_LEN {
        return Err(JwsError::Malformed(Malformed::JwsHeader));
    }
    // Its exact length is the key's; no key's is longer than this.
    if signature.len() > MAX_SIGNATURE_PART_LEN {
        return Err(JwsError::Malformed(Malformed::Tag));
    }
    let header_json = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| JwsError::Malformed(Malformed::JwsHeader))?;
    let raw: RawHeader<'_> = serde_json::from_slice(&header_json)
        .map_err(|_| JwsError::Malformed(Malformed::JwsHeader))?;
    if raw.crit.is_some() {
        return Err(JwsError::CriticalHeader);
    }
    let kid = raw.kid.ok_or(JwsError::MissingKeyId)?.into_owned();
    let alg = raw
        .alg
        .ok_or(JwsError::Malformed(Malformed::JwsHeader))?
        .into_owned();
    Ok(Parts {
        header: Header {
            alg,
            kid,
            typ: raw.typ.map(Cow::into_owned),
        },
        signing_input: &token[..header.len() + 1 + claims.len()],
        claims,
        signature,
    })
}

/// The compact JWS of `claims` (JSON bytes) signed by `key` under `key_id`, with header
/// `{"alg", "kid", "typ": "JWT"}`.
///
/// ```
/// use tokenring::jose::{self, JoseAlgorithm, SigningKey};
///
/// let key = SigningKey::generate(JoseAlgorithm::EdDsa)?;
/// let token = jose::sign("2026-12", &key, br#"{"dat":42,"pur":"login"}"#);
/// let public = key.public_key();
/// let (header, claims) = jose::verify(&token, 4096, |kid| (kid == "2026-12").then_some(&public))?;
/// assert_eq!(header.alg, "EdDSA");
/// assert_eq!(claims, br#"{"dat":42,"pur":"login"}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sign(key_id: &str, key: &SigningKey, claims: &[u8]) -> String {
    #[derive(serde::Serialize)]
    struct HeaderOut<'a> {
        alg: &'a str,
        kid: &'a str,
        typ: &'a str,
    }
    let header = HeaderOut {
        alg: key.algorithm().name(),
        kid: key_id,
        typ: "JWT",
    };
    // Serialising three strings into a Vec cannot fail.
    let header = serde_json::to_vec(&header).unwrap_or_default();
    let encoded = |len| base64::encoded_len(len, false).unwrap_or(0);
    let mut token = String::with_capacity(
        encoded(header.len()) + encoded(claims.len()) + SIGNATURE_PART_LEN + 2,
    );
    URL_SAFE_NO_PAD.encode_string(&header, &mut token);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(claims, &mut token);
    let signature = key.sign(token.as_bytes());
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    token
}

/// Checks `token` (at most `max_len` bytes) with the public key `find` gives for its header's
/// `kid`: shape, header, key, algorithm, signature — and only then decodes the claims. The
/// header and the claims' JSON bytes.
///
/// # Errors
///
/// A [`JwsError`] for each way a token fails.
pub fn verify<'k>(
    token: &str,
    max_len: usize,
    find: impl FnOnce(&str) -> Option<&'k PublicKey>,
) -> Result<(Header, Vec<u8>), JwsError> {
    let parts = split(token, max_len)?;
    let key = find(&parts.header.kid).ok_or(JwsError::UnknownKey)?;
    parts.verify(&parts.header.kid, key)?;
    let claims = parts.claims_json()?;
    Ok((parts.header, claims))
}
