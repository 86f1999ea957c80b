//! Why a Rails token was rejected, with typed reasons.

use std::fmt;
use std::time::SystemTime;

use crate::error::SharedError;
use crate::error::token::describe_purpose;

/// Why a Rails token was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RailsError {
    /// Longer than the cap; refused before any other work.
    #[error("token is {len} bytes, over the limit of {max}")]
    TooLarge {
        /// Token length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not `data--hexdigest` for any configured digest.
    #[error("malformed token: {0}")]
    Malformed(ShapeProblem),
    /// No configured secret and digest produce this digest.
    #[error("bad signature")]
    BadSignature,
    /// An encrypted message no configured key decrypts: another key made it, or it was
    /// tampered with (the GCM tag does not match, or the CBC padding is wrong).
    #[error("cannot decrypt: another key encrypted it, or it was tampered with")]
    Undecryptable,
    /// Signed, but the payload is not base64 of JSON or the envelope is not Rails' shape.
    #[error("signature valid, but the payload is malformed: {0}")]
    BadPayload(PayloadProblem),
    /// Past `exp`. The message does not say when: inside an encrypted message the expiry is
    /// secret; the field has it.
    #[error("token expired")]
    Expired {
        /// When it expired.
        at: SystemTime,
    },
    /// The purpose differs (Rails compares `pur.to_s == purpose.to_s`: none equals `""`). The
    /// message names only the purpose asked for: inside an encrypted message the token's own is
    /// secret; the field has it.
    #[error("purpose mismatch: expected {}", describe_purpose(expected.as_deref()))]
    PurposeMismatch {
        /// Asked for.
        expected: Option<String>,
        /// In the token.
        found: Option<String>,
    },
    /// The value does not decode as the requested type. The message names where, never what:
    /// serde's own message quotes the value (a card number, say), so it is not this error's
    /// `source()`; the field holds it for an explicit look while debugging.
    #[error(
        "signature valid, but the value does not decode as the requested type (line {}, column {})",
        .0.line(),
        .0.column()
    )]
    InvalidValue(SharedError<serde_json::Error>),
}

/// What is wrong with a token's `data--digest` shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShapeProblem {
    /// It starts or ends with whitespace (a space, a tab, a newline), which no Rails token
    /// or message holds: it was copied or read with something around it.
    Whitespace,
    /// Shorter than any `data--digest` of the digest.
    TooShort,
    /// No `--` where the digest's length puts it.
    NoSeparator,
    /// An encrypted message's parts (`data--iv[--tag]`) are not where their lengths put
    /// them, or are not base64.
    NotEncrypted,
}

impl fmt::Display for ShapeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Whitespace => {
                "whitespace before or after it (a space, tab or newline copied with it)"
            }
            Self::TooShort => "too short for data--digest",
            Self::NoSeparator => "no -- before the digest",
            Self::NotEncrypted => "not base64(data)--base64(iv)[--base64(tag)]",
        })
    }
}

/// What is wrong with a correctly signed payload (only a holder of the secret can cause it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadProblem {
    /// The data is not base64 (either alphabet).
    DataNotBase64,
    /// The payload is not JSON.
    NotJson,
    /// `_rails` is there but not an object.
    RailsNotObject,
    /// `exp` is not a string.
    ExpNotString,
    /// `exp` is not a time Ruby's `Time.iso8601` reads.
    ExpNotTime,
    /// The legacy envelope's `message` is not a string.
    MessageNotString,
    /// The legacy envelope's `message` is not base64.
    MessageNotBase64,
    /// The legacy envelope's `message` is not JSON.
    MessageNotJson,
    /// The value is Ruby Marshal data (a `:marshal` or `:hybrid` serializer): only JSON is
    /// read.
    Marshal,
    /// The JSON holds an integer beyond 64 bits: Ruby's Integer holds it exactly, serde_json
    /// would not, so it is refused rather than changed.
    WideInteger,
}

impl fmt::Display for PayloadProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::DataNotBase64 => "data is not base64",
            Self::NotJson => "not JSON",
            Self::RailsNotObject => "_rails is not an object",
            Self::ExpNotString => "exp is not a string",
            Self::ExpNotTime => "exp is not an ISO 8601 time",
            Self::MessageNotString => "message is not a string",
            Self::MessageNotBase64 => "message is not base64",
            Self::MessageNotJson => "message is not JSON",
            Self::Marshal => {
                "Ruby Marshal data (a :marshal or :hybrid serializer); only JSON is read"
            }
            Self::WideInteger => "an integer beyond 64 bits would lose digits",
        })
    }
}

/// A name a Rails option does not know (a digest, a cipher): what was being named and the
/// names it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} (expected {expected})")]
pub struct UnknownName {
    /// What was being named: `digest`, `cipher`, `key generator digest`.
    pub what: &'static str,
    /// The names it takes.
    pub expected: &'static str,
}
