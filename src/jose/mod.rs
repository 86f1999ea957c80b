//! Public-key tokens (feature `jose`): Ed25519 (`EdDSA`) and ECDSA P-256 (`ES256`) keys,
//! standard JWS compact serialization (RFC 7515) and the JWKS that publishes the public keys
//! (RFC 7517), so that a service holding only public keys verifies — and cannot mint — and
//! any JOSE library (PyJWT, Node's `jose`) reads what tokenring mints.
//!
//! This module is the codec: keys, the JWS format and its security rules. The rules, each
//! tested:
//!
//! - the algorithm comes from the key, never from the token: a header `alg` other than the
//!   key's is refused ([`JwsError::AlgorithmMismatch`]) — `none`, `HS256` (a public key used as
//!   an HMAC secret), `ES256` for an Ed25519 key;
//! - a header without `kid` is refused ([`JwsError::MissingKeyId`]); `crit` is refused, as no
//!   extension is understood ([`JwsError::CriticalHeader`]);
//! - the signature is checked before any claim is read; the header is read first, bounded,
//!   because it names the key;
//! - Ed25519 verification is strict (`verify_strict`: non-canonical `S` and small-order keys
//!   refused); ECDSA signatures with a high `S` are accepted, as RFC 7518 and the JOSE
//!   libraries accept them (a token is never identified by its signature, so malleability
//!   buys nothing), and tokenring signs with a low `S`;
//! - sizes are capped: header and signature parts have fixed ceilings.

mod jwks;
mod jws;
mod keys;
mod rsa;

/// The RSA modulus sizes taken, in bits.
#[cfg_attr(not(feature = "jwks"), allow(dead_code))]
pub(crate) const RSA_BITS: std::ops::RangeInclusive<usize> = rsa::MIN_BITS..=rsa::MAX_BITS;

pub use jwks::{Jwk, document as jwks};
pub(crate) use jws::split;
pub use jws::{Header, JwsError, sign, verify};
pub use keys::{JoseAlgorithm, PublicKey, SigningKey};
