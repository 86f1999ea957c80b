//! Reading a token without verifying it, for debugging and operators.
//!
//! # Security
//!
//! Nothing here checks a signature. A decoded token proves nothing: anyone can write one.
//! Never act on what [`decode_unverified`] returns; use [`crate::Verifier::verify`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize as _;
use serde_json::Value;

use crate::codec::native::{self, EnvelopeIn};
use crate::error::Malformed;

/// What a token claims, unverified.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Unverified {
    /// The key id the token names.
    pub key_id: String,
    /// The value it carries.
    pub value: Value,
    /// The purpose it claims.
    pub purpose: Option<String>,
    /// The expiry it claims.
    pub expires_at: Option<SystemTime>,
    /// The tag's length in bytes, which tells the algorithm of the key that made it
    /// (32, 48 or 64).
    pub tag_len: usize,
}

/// Splits and decodes a native v1 token **without checking its signature**.
///
/// ```
/// let token = "v1.k1.eyJkYXQiOjQyLCJwdXIiOiJsb2dpbiJ9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
/// let claims = tokenring::inspect::decode_unverified(token)?;
/// assert_eq!(claims.value, 42);
/// assert_eq!(claims.purpose.as_deref(), Some("login"));
/// # Ok::<(), tokenring::error::Malformed>(())
/// ```
///
/// # Errors
///
/// [`Malformed`] if the token is not shaped like a v1 token or its payload is not a JSON
/// envelope.
pub fn decode_unverified(token: &str) -> Result<Unverified, Malformed> {
    let parts = native::split(token)?;
    let tag_len = base64_decoded_len(parts.tag.len()).ok_or(Malformed::Tag)?;
    let envelope = native::with_payload(parts.payload, |json| {
        let mut de = serde_json::Deserializer::from_slice(json);
        EnvelopeIn::<Value>::deserialize(&mut de)
            .and_then(|e| de.end().map(|()| e))
            .map(|e| (e.dat, e.pur.map(|p| p.into_owned()), e.exp))
    })?
    .map_err(|_| Malformed::Payload)?;
    let (value, purpose, exp) = envelope;
    Ok(Unverified {
        key_id: parts.key_id.to_owned(),
        value,
        purpose,
        expires_at: exp.and_then(|s| UNIX_EPOCH.checked_add(Duration::from_secs(s))),
        tag_len,
    })
}

/// A JWS's header and claims, unverified (feature `jose`).
#[cfg(feature = "jose")]
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UnverifiedJws {
    /// The protected header as written (`alg`, `kid`, `typ`, …).
    pub header: Value,
    /// The claims as written (`dat`, `pur`, `exp`, `iat`, `aud`, … for tokenring's).
    pub claims: Value,
}

/// Splits and decodes a JWS compact token **without checking its signature**.
///
/// # Errors
///
/// [`Malformed::JwsStructure`] unless three base64url parts; [`Malformed::JwsHeader`] or
/// [`Malformed::Payload`] when the header or the claims are not base64url JSON objects.
#[cfg(feature = "jose")]
pub fn decode_jws_unverified(token: &str) -> Result<UnverifiedJws, Malformed> {
    use base64::Engine as _;
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Malformed::JwsStructure);
    };
    let object = |part: &str, error| {
        native::B64
            .decode(part)
            .ok()
            .and_then(|json| serde_json::from_slice::<Value>(&json).ok())
            .filter(Value::is_object)
            .ok_or(error)
    };
    Ok(UnverifiedJws {
        header: object(header, Malformed::JwsHeader)?,
        claims: object(claims, Malformed::Payload)?,
    })
}

fn base64_decoded_len(encoded: usize) -> Option<usize> {
    match encoded % 4 {
        1 => None,
        rem => Some(encoded / 4 * 3 + rem.saturating_sub(1)),
    }
}
