//! Errors about key material.

use super::SharedError;

/// Problems with key material itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The text is not standard base64.
    #[error("not valid base64 (standard alphabet, padding optional)")]
    InvalidBase64,
    /// An empty secret, with which anyone can mint tokens (e.g. an unset `SECRET_KEY_BASE`).
    #[error("the secret is empty: anyone could forge tokens with it")]
    Empty,
    /// A master key below the minimum length.
    #[error("secret is {len} bytes; at least {min} are required")]
    TooShort {
        /// Bytes given.
        len: usize,
        /// Bytes required.
        min: usize,
    },
    /// A derived key length HKDF cannot produce.
    #[error("derived key length {len} is outside 1..={max}")]
    InvalidLength {
        /// Length asked for.
        len: usize,
        /// Longest possible.
        max: usize,
    },
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed: {0}")]
    Random(#[source] SharedError<std::io::Error>),
    /// A key of the wrong size (AES-256 takes exactly 32 bytes, an Ed25519 seed or a P-256
    /// scalar too).
    #[error("secret is {len} bytes; the algorithm takes exactly {expected}")]
    WrongLength {
        /// Bytes given.
        len: usize,
        /// Bytes the algorithm takes.
        expected: usize,
    },
    /// Bytes that are no key of the curve (a P-256 scalar out of range, a point off the
    /// curve, an Ed25519 key of small order).
    #[error("not a valid key for the algorithm")]
    InvalidKey,
    /// A private key for an algorithm tokenring only verifies with (`RS256`: it holds RSA
    /// public keys, from an issuer's JWKS, and never mints with RSA).
    #[error("{0} keys verify only: tokenring holds their public key, never a private one")]
    VerifyOnly(&'static str),
}
