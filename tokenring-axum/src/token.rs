//! The `Token<T, P>` extractor: a token verified for purpose `P`, taken from where `P` says.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::time::SystemTime;

use axum_core::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use http::header;
use http::request::Parts;
use serde::de::DeserializeOwned;
use tokenring::Verifier;
use tokenring::keyring::KeyId;

use crate::rejection::TokenRejection;

/// Where a route takes its token from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// `Authorization: Bearer TOKEN`.
    Bearer,
    /// The cookie of this name.
    Cookie(&'static str),
    /// The query parameter of this name.
    Query(&'static str),
}

/// What a route's tokens are for, and where they come from: a type, so the route's signature
/// says what it takes.
///
/// ```
/// use tokenring_axum::{Purpose, TokenSource};
///
/// struct Api;
/// impl Purpose for Api {
///     const PURPOSE: &'static str = "api";
/// }
///
/// struct ResetLink;
/// impl Purpose for ResetLink {
///     const PURPOSE: &'static str = "password_reset";
///     const SOURCE: TokenSource = TokenSource::Query("token");
/// }
/// ```
pub trait Purpose: Send + Sync + 'static {
    /// The purpose tokens must have been minted for.
    const PURPOSE: &'static str;
    /// Where the token is (a bearer token unless said otherwise).
    const SOURCE: TokenSource = TokenSource::Bearer;
}

/// A token verified for purpose `P` with the [`Verifier`] in the router's state
/// (`Verifier: FromRef<S>`), and its value `T`. A request without a valid token is answered
/// with a [`TokenRejection`]; the verifier logs the reason at `debug` (never the token).
/// As `Option<Token<T, P>>` a request without a token gets `None` (an optional login), and
/// one with a bad token is still refused.
///
/// ```
/// use axum::{Json, Router, routing::get};
/// use tokenring::{Key, Keyring, Secret, Verifier};
/// use tokenring_axum::{Purpose, Token};
///
/// struct Api;
/// impl Purpose for Api {
///     const PURPOSE: &'static str = "api";
/// }
///
/// async fn protected(token: Token<serde_json::Value, Api>) -> Json<serde_json::Value> {
///     Json(serde_json::json!({"data": token.value}))
/// }
///
/// let keyring = Keyring::new(vec![Key::new("k1", Secret::from_bytes([7u8; 32]))]).unwrap();
/// let verifier = Verifier::new(keyring, "api");
/// let app: Router = Router::new().route("/protected", get(protected)).with_state(verifier);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Token<T, P> {
    /// The token's value.
    pub value: T,
    /// The key that verified it (inline: no allocation per request).
    pub key_id: KeyId,
    /// Whether that key signs now; when not, re-issue long-lived tokens.
    pub is_current_key: bool,
    /// When the token expires, if it does.
    pub expires_at: Option<SystemTime>,
    purpose: PhantomData<fn() -> P>,
}

impl<S, T, P> FromRequestParts<S> for Token<T, P>
where
    S: Send + Sync,
    Verifier: FromRef<S>,
    T: DeserializeOwned,
    P: Purpose,
{
    type Rejection = TokenRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Some(token) = find(parts, P::SOURCE) else {
            return Err(TokenRejection::missing(P::SOURCE == TokenSource::Bearer));
        };
        Self::verified(&token, state)
    }
}

/// `Option<Token<T, P>>`: `None` when the request carries no token (an optional login); a
/// token that is there but refused is still refused.
impl<S, T, P> OptionalFromRequestParts<S> for Token<T, P>
where
    S: Send + Sync,
    Verifier: FromRef<S>,
    T: DeserializeOwned,
    P: Purpose,
{
    type Rejection = TokenRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        match find(parts, P::SOURCE) {
            None => Ok(None),
            Some(token) => Self::verified(&token, state).map(Some),
        }
    }
}

impl<T: DeserializeOwned, P: Purpose> Token<T, P> {
    fn verified<S>(token: &str, state: &S) -> Result<Self, TokenRejection>
    where
        Verifier: FromRef<S>,
    {
        let bearer = P::SOURCE == TokenSource::Bearer;
        let verifier = Verifier::from_ref(state);
        match verifier.verify::<T>(token, Some(P::PURPOSE)) {
            Ok(verified) => Ok(Token {
                value: verified.value,
                key_id: verified.key_id,
                is_current_key: verified.is_current_key,
                expires_at: verified.expires_at,
                purpose: PhantomData,
            }),
            // (The verifier logs the reason at debug.)
            Err(error) => Err(TokenRejection::from_error(&error, bearer)),
        }
    }
}

/// The token where `source` says, if there is one; borrowed from the request where it can be.
pub(crate) fn find(parts: &Parts, source: TokenSource) -> Option<Cow<'_, str>> {
    match source {
        TokenSource::Bearer => {
            let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
            let (scheme, token) = value.split_once(' ')?;
            let token = token.trim();
            (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty())
                .then_some(Cow::Borrowed(token))
        }
        TokenSource::Cookie(name) => crate::jar::cookie(&parts.headers, name).map(Cow::Owned),
        TokenSource::Query(name) => {
            let query = parts.uri.query()?;
            form_urlencoded::parse(query.as_bytes())
                .find(|(n, _)| n == name)
                .map(|(_, value)| value)
        }
    }
}
