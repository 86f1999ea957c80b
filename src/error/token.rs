//! Errors about tokens: minting them and checking them.

use std::fmt;
use std::time::SystemTime;

use super::SharedError;
use super::scrub::shorten;

/// What is wrong with a token's shape. Reported before any key is used, or — for the
/// payload — after the MAC held (which only a holder of the key can cause).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Malformed {
    /// It starts or ends with whitespace (a space, a tab, a newline): a token never does, so
    /// it was copied or read with something around it.
    Whitespace,
    /// It does not start with `v1.`.
    Version,
    /// It is not `v1.KID.PAYLOAD.TAG`: a dot is missing.
    Structure,
    /// The payload, between the key id and the last dot, is empty.
    EmptyPayload,
    /// The tag, after the last dot, is empty.
    EmptyTag,
    /// The key id is not 1 to 32 of `[A-Za-z0-9_-]`.
    KeyId,
    /// The tag is not base64url of the key's tag length.
    Tag,
    /// The payload is not base64url of a JSON envelope (for a JWS: the claims are not
    /// base64url of a JSON object with `dat`).
    Payload,
    /// Neither a v1 token nor a JWS of three base64url parts (feature `jose`).
    JwsStructure,
    /// The JWS header is not base64url of a JSON object with string `alg` and `kid`, or is
    /// over 1024 characters.
    JwsHeader,
    /// The JWS header has `crit`: an extension that must be understood, and none is.
    CriticalHeader,
    /// A JWT without a claim a [`JwtVerifier`](crate::verifier::JwtVerifier) requires (`exp`,
    /// `iss`, `aud`).
    MissingClaim(&'static str),
    /// A JWT whose registered claims have the wrong types (`exp` not a number, `iss` not a
    /// string, a duplicated claim).
    Claims,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Whitespace => {
                "whitespace before or after the token (a space, tab or newline copied with it)"
            }
            Self::Version => "not a tokenring v1 token (expected it to start with \"v1.\")",
            Self::Structure => "expected four dot-separated parts: v1.KEY_ID.PAYLOAD.TAG",
            Self::EmptyPayload => "the payload (between the key id and the last dot) is empty",
            Self::EmptyTag => "the signature (after the last dot) is empty",
            Self::KeyId => "key id must be 1 to 32 of A-Z a-z 0-9 _ -",
            Self::Tag => "signature is not base64url of the right length",
            Self::Payload => "payload is not a base64url JSON envelope",
            Self::JwsStructure => {
                "neither a tokenring v1 token nor a JWS (three base64url parts: HEADER.CLAIMS.SIGNATURE)"
            }
            Self::JwsHeader => {
                "the JWS header is not base64url of a JSON object with alg and kid (at most 1024 characters)"
            }
            Self::CriticalHeader => "the JWS header has crit: no extension is understood",
            Self::MissingClaim("exp") => "the claims have no exp: a token must expire",
            Self::MissingClaim("iss") => "the claims have no iss (issuer)",
            Self::MissingClaim("aud") => "the claims have no aud (audience)",
            Self::MissingClaim(_) => "the claims lack a required claim",
            Self::Claims => {
                "the registered claims (iss, aud, exp, nbf, iat) are not of their JSON types"
            }
        })
    }
}

/// Why a token was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Longer than the verifier's cap; refused before any other work.
    #[error("token is {len} bytes, over the limit of {max}")]
    TooLarge {
        /// Token length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not a well-formed token.
    #[error("malformed token: {0}")]
    Malformed(Malformed),
    /// No key in the keyring has this id (never existed, or pruned).
    #[error("unknown key {key_id:?}")]
    UnknownKey {
        /// The id the token named.
        key_id: String,
    },
    /// The MAC does not match: tampered, or signed for another salt or keyring.
    #[error("bad signature (key {key_id:?})")]
    BadSignature {
        /// The key the token named.
        key_id: String,
    },
    /// A JWS whose header `alg` is not its key's algorithm (`none`, `HS256` with a public
    /// key as the secret, another curve): the algorithm comes from the key, never the token.
    #[error("the token's alg is not the algorithm of key {key_id:?}")]
    AlgorithmMismatch {
        /// The key the token named.
        key_id: String,
    },
    /// The key was revoked (`disabled`).
    #[error("key {key_id:?} is revoked")]
    KeyDisabled {
        /// The revoked key's id.
        key_id: String,
    },
    /// The key is past its `expires_at`.
    #[error("key {key_id:?} expired at {}", crate::clock::format_rfc3339(*at))]
    KeyExpired {
        /// The expired key's id.
        key_id: String,
        /// When it expired.
        at: SystemTime,
    },
    /// The token is past its expiry (plus the verifier's leeway).
    #[error("token expired at {}", crate::clock::format_rfc3339(*at))]
    Expired {
        /// When it expired.
        at: SystemTime,
    },
    /// A JWS minted for another verifier: its `aud` claim is not this verifier's salt (a v1
    /// token for another salt fails as [`VerifyError::BadSignature`], its keys being
    /// derived for the salt).
    #[error("the token is for another audience (expected {expected:?})")]
    WrongAudience {
        /// This verifier's salt.
        expected: String,
    },
    /// A JWS whose `nbf` (not before) is still ahead, beyond the verifier's leeway (or, for
    /// a [`JwtVerifier`](crate::verifier::JwtVerifier), whose `iat` is).
    #[error("token not valid before {}", crate::clock::format_rfc3339(*at))]
    NotYetValid {
        /// Its `nbf` (or `iat`).
        at: SystemTime,
    },
    /// A JWT from another issuer: its `iss` is not the one a
    /// [`JwtVerifier`](crate::verifier::JwtVerifier) trusts.
    #[error("the token is from another issuer (expected {expected:?})")]
    WrongIssuer {
        /// The issuer trusted.
        expected: String,
    },
    /// The token was minted for another purpose (or for none, or only for one).
    #[error("purpose mismatch: token is for {}, expected {}", describe_purpose(found.as_deref()), describe_purpose(expected.as_deref()))]
    PurposeMismatch {
        /// The purpose the caller asked for.
        expected: Option<String>,
        /// The purpose in the token.
        found: Option<String>,
    },
    /// The signature holds but the value does not decode as the requested type. The message
    /// names where, never what: serde's own message quotes the value, so it is not this
    /// error's `source()`; the field holds it for an explicit look while debugging.
    #[error(
        "signature valid, but the value does not decode as the requested type (line {}, column {})",
        .0.line(),
        .0.column()
    )]
    InvalidValue(SharedError<serde_json::Error>),
}

impl VerifyError {
    /// Every [`VerifyError::reason`] code, in a stable order.
    pub const REASONS: [&'static str; 13] = [
        "too_large",
        "malformed",
        "unknown_key",
        "bad_signature",
        "key_revoked",
        "key_expired",
        "expired",
        "purpose_mismatch",
        "invalid_value",
        "alg_mismatch",
        "wrong_audience",
        "not_yet_valid",
        "wrong_issuer",
    ];

    /// A stable, machine-readable code for why the token was rejected — for API error
    /// bodies, metric labels and logs. It never carries the token or a key's internals.
    pub fn reason(&self) -> &'static str {
        Self::REASONS[self.reason_index()]
    }

    /// The position of [`VerifyError::reason`] in [`VerifyError::REASONS`].
    pub(crate) fn reason_index(&self) -> usize {
        match self {
            Self::TooLarge { .. } => 0,
            Self::Malformed(_) => 1,
            Self::UnknownKey { .. } => 2,
            Self::BadSignature { .. } => 3,
            Self::KeyDisabled { .. } => 4,
            Self::KeyExpired { .. } => 5,
            Self::Expired { .. } => 6,
            Self::PurposeMismatch { .. } => 7,
            Self::InvalidValue(_) => 8,
            Self::AlgorithmMismatch { .. } => 9,
            Self::WrongAudience { .. } => 10,
            Self::NotYetValid { .. } => 11,
            Self::WrongIssuer { .. } => 12,
        }
    }
}

/// A purpose in a message: quoted and capped, or "no purpose". Shared by both formats.
pub(crate) fn describe_purpose(purpose: Option<&str>) -> String {
    match purpose {
        Some(p) => format!("{:?}", shorten(p)),
        None => "no purpose".to_owned(),
    }
}

/// Why a token could not be minted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// No key is active now: every key is pending, expired or disabled.
    #[error("no key is active now, so none can sign (keys that are pending still verify)")]
    NoSigningKey,
    /// The key that signs now is a public key alone (a public keyring): this process can
    /// verify and never mint.
    #[error(
        "key {key_id:?} is a public key without its private key: this keyring verifies and cannot sign"
    )]
    NoPrivateKey {
        /// The key that would sign.
        key_id: String,
    },
    /// The value could not be serialised as JSON.
    #[error("value cannot be serialised as JSON: {0}")]
    Serialize(#[source] SharedError<serde_json::Error>),
    /// The expiry is before 1970 or too far in the future to represent.
    #[error("expiry is out of range")]
    InvalidExpiry,
    /// The token would exceed the verifier's size cap, so it could never verify.
    #[error("token would be {len} bytes, over the limit of {max}")]
    TooLarge {
        /// The token's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The operating system's random number generator failed (an encryption's IV).
    #[error("the system random number generator failed: {0}")]
    Random(#[source] SharedError<std::io::Error>),
}
