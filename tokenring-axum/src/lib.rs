//! tokenring in axum.
//!
//! - [`Token<T, P>`]: an extractor that verifies a token for purpose `P` — from a bearer
//!   `Authorization` header, a cookie or a query parameter — and yields its typed value;
//!   a bad token is answered by [`TokenRejection`] (400/401/403/410 and a JSON body with a
//!   stable reason code).
//! - `Jwt<C>` (feature `jose`): an extractor for bearer JWTs another issuer mints (an OIDC
//!   provider), verified by a `JwtVerifier` — over a `JwksSource`, following its rotations.
//! - [`RotatingJar`]: a signed cookie jar whose values are tokenring tokens bound to the
//!   cookie's name and expiry, signed with the keyring's current key, accepted from older
//!   ones, and re-signed in the response after a rotation — so old keys go idle on their own.
//!
//! Both take their [`tokenring::Verifier`] (a hot keyring's, to rotate without restarts)
//! from the router's state through `FromRef`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod jar;
#[cfg(feature = "jose")]
mod jwks;
#[cfg(feature = "jose")]
mod jwt;
mod rejection;
mod token;

#[allow(deprecated)]
pub use jar::JarKeys;
pub use jar::{JarConfig, RotatingJar};
#[cfg(feature = "jose")]
pub use jwks::JwksDocument;
#[cfg(feature = "jose")]
pub use jwt::Jwt;
pub use rejection::TokenRejection;
pub use token::{Purpose, Token, TokenSource};

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
