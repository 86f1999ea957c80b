//! The `Jwt<C>` extractor (feature `jose`): a bearer JWT an issuer minted — an OIDC
//! provider's access or ID token — verified with the [`JwtVerifier`] in the router's state.

use std::time::SystemTime;

use axum_core::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;
use serde::de::DeserializeOwned;
use tokenring::keyring::KeyId;
use tokenring::verifier::JwtVerifier;

use crate::rejection::TokenRejection;
use crate::token::{TokenSource, find};

/// A bearer JWT verified by the [`JwtVerifier`] in the router's state
/// (`JwtVerifier: FromRef<S>`): its issuer, audience, expiry and signature checked, its
/// claims as `C`. A request without a valid one is answered with a [`TokenRejection`] —
/// the same codes as [`Token`](crate::Token)'s, `wrong_issuer` among them — and, as
/// `Option<Jwt<C>>`, a request without a token gets `None`.
///
/// Over a [`JwksSource`](tokenring::source::JwksSource), the first token of a key the issuer
/// has just published makes the source fetch its JWKS inside the request (at most once per
/// refetch interval, bounded by its timeout).
///
/// ```
/// use axum::{Router, routing::get};
/// use tokenring::verifier::JwtVerifier;
/// use tokenring_axum::Jwt;
///
/// #[derive(serde::Deserialize)]
/// struct Claims { sub: String }
///
/// async fn me(jwt: Jwt<Claims>) -> String {
///     jwt.claims.sub
/// }
///
/// fn app(verifier: JwtVerifier) -> Router {
///     Router::new().route("/me", get(me)).with_state(verifier)
/// }
/// ```
#[cfg_attr(feature = "jwks", doc = "")]
#[cfg_attr(feature = "jwks", doc = include_str!("jwt_example.md"))]
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Jwt<C> {
    /// The claims (the whole object: registered claims and the issuer's own).
    pub claims: C,
    /// The id of the key that verified it.
    pub key_id: KeyId,
    /// Its `exp`.
    pub expires_at: SystemTime,
}

impl<S, C> FromRequestParts<S> for Jwt<C>
where
    S: Send + Sync,
    JwtVerifier: FromRef<S>,
    C: DeserializeOwned,
{
    type Rejection = TokenRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Some(token) = find(parts, TokenSource::Bearer) else {
            return Err(TokenRejection::missing(true));
        };
        Self::verified(&token, state)
    }
}

impl<S, C> OptionalFromRequestParts<S> for Jwt<C>
where
    S: Send + Sync,
    JwtVerifier: FromRef<S>,
    C: DeserializeOwned,
{
    type Rejection = TokenRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        match find(parts, TokenSource::Bearer) {
            None => Ok(None),
            Some(token) => Self::verified(&token, state).map(Some),
        }
    }
}

impl<C: DeserializeOwned> Jwt<C> {
    fn verified<S>(token: &str, state: &S) -> Result<Self, TokenRejection>
    where
        JwtVerifier: FromRef<S>,
    {
        let verifier = JwtVerifier::from_ref(state);
        match verifier.verify::<C>(token) {
            Ok(verified) => Ok(Jwt {
                claims: verified.value,
                key_id: verified.key_id,
                // A JwtVerifier requires `exp`: every verified token has one.
                expires_at: verified.expires_at.unwrap_or(SystemTime::UNIX_EPOCH),
            }),
            Err(error) => Err(TokenRejection::from_error(&error, true)),
        }
    }
}
