//! A signed cookie jar that rotates: the ergonomics of axum-extra's `SignedCookieJar`, but
//! each value is a tokenring token bound to the cookie's name (its purpose) and its expiry,
//! signed with the keyring's current key and accepted from older ones — and a cookie that
//! verified with an older key is re-signed in the same response, so old keys go idle.

use std::convert::Infallible;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use axum_core::extract::{FromRef, FromRequestParts};
use axum_core::response::{IntoResponseParts, ResponseParts};
use cookie::{Cookie, SameSite};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, header};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tokenring::{SignError, TokenOptions, Verifier};

use crate::rejection::TokenRejection;

/// The jar's verifier and cookie attributes, taken from the router's state
/// (`JarConfig: FromRef<S>`). Cookies default to `HttpOnly`, `Secure`, `SameSite=Lax`,
/// `Path=/`, with `Max-Age` from each token's expiry; re-issue on rotation is on; no cookie
/// lives longer than [`JarConfig::DEFAULT_MAX_LIFETIME`] from when it was (re-)signed.
///
/// # Security: re-issue and a leaked old key
///
/// Re-issue moves a session from an older key to the current one, so whoever holds an older
/// key could have a value of their making re-signed. The jar bounds what that buys: it never
/// re-signs a token without an expiry, never gives a re-signed one an expiry past
/// `max_lifetime` from now, and never mints beyond it either. A revoked or expired key's
/// cookies are refused before any re-issue. When an old key leaked: revoke it (its cookies are
/// refused at once), and if re-issue may already have laundered forged sessions, rotate the
/// current key too (add a new one and revoke the current): see SECURITY.md.
#[derive(Debug, Clone)]
pub struct JarConfig {
    verifier: Verifier,
    path: String,
    secure: bool,
    http_only: bool,
    same_site: SameSite,
    reissue: bool,
    max_lifetime: Duration,
}

/// The former name of [`JarConfig`] (it holds a verifier and cookie attributes, not keys).
#[deprecated(since = "0.2.0", note = "renamed JarConfig")]
pub type JarKeys = JarConfig;

impl JarConfig {
    /// How long a cookie lives at most unless [`JarConfig::max_lifetime`] says otherwise: 30
    /// days.
    pub const DEFAULT_MAX_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

    /// Signs and verifies cookies with `verifier` (give it a salt of its own, e.g.
    /// `"cookies"`, so no other token verifies as a cookie).
    pub fn new(verifier: Verifier) -> Self {
        Self {
            verifier,
            path: "/".to_owned(),
            secure: true,
            http_only: true,
            same_site: SameSite::Lax,
            reissue: true,
            max_lifetime: Self::DEFAULT_MAX_LIFETIME,
        }
    }

    /// The longest a cookie lives from when it is signed or re-signed: [`RotatingJar::add`]
    /// shortens a longer lifetime to it, and a re-signed cookie expires at its token's expiry
    /// or this long from now, whichever is sooner (30 days unless set).
    #[must_use]
    pub fn max_lifetime(mut self, max: Duration) -> Self {
        self.max_lifetime = max;
        self
    }

    /// `Path` (`/` unless set).
    #[must_use]
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// `Secure` (on unless set; browsers treat `localhost` as secure).
    #[must_use]
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// `HttpOnly` (on unless set).
    #[must_use]
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.http_only = http_only;
        self
    }

    /// `SameSite` (`Lax` unless set).
    #[must_use]
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// Whether a cookie that verified with a key other than the signing key is re-signed in
    /// the response (on unless set).
    #[must_use]
    pub fn reissue(mut self, reissue: bool) -> Self {
        self.reissue = reissue;
        self
    }

    fn cookie(&self, name: &str, value: String, max_age: Option<Duration>) -> Cookie<'static> {
        let mut cookie = Cookie::build((name.to_owned(), value))
            .path(self.path.clone())
            .secure(self.secure)
            .http_only(self.http_only)
            .same_site(self.same_site)
            .build();
        if let Some(max_age) = max_age {
            let seconds = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
            cookie.set_max_age(cookie::time::Duration::seconds(seconds));
        }
        cookie
    }
}

/// The request's cookies, signed with a keyring that rotates; the cookies to set go out when
/// the jar is returned in the response (`(jar, body)`), as with axum-extra's jars.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use axum::{Json, Router, http::StatusCode, routing::{get, post}};
/// use tokenring::{Key, Keyring, Secret, Verifier};
/// use tokenring_axum::{JarConfig, RotatingJar, TokenRejection};
///
/// async fn login(jar: RotatingJar) -> Result<RotatingJar, StatusCode> {
///     // Fails only when no key signs now.
///     jar.add("session", &"ann", Duration::from_secs(8 * 3600))
///         .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)
/// }
///
/// async fn me(jar: RotatingJar) -> Result<(RotatingJar, Json<String>), TokenRejection> {
///     let user: String = jar.try_get("session")?; // re-signed in the response after a rotation
///     Ok((jar, Json(user)))
/// }
///
/// let keyring = Keyring::new(vec![Key::new("k1", Secret::from_bytes([7u8; 32]))]).unwrap();
/// let keys = JarConfig::new(Verifier::new(keyring, "cookies"));
/// let app: Router = Router::new()
///     .route("/login", post(login))
///     .route("/me", get(me))
///     .with_state(keys);
/// ```
#[derive(Debug)]
pub struct RotatingJar {
    keys: JarConfig,
    incoming: Vec<(String, String)>,
    // Mutex, not RefCell: `get` takes `&self` and the jar stays `Sync` across awaits.
    outgoing: Mutex<Vec<Cookie<'static>>>,
}

impl<S> FromRequestParts<S> for RotatingJar
where
    S: Send + Sync,
    JarConfig: FromRef<S>,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_headers(
            &parts.headers,
            JarConfig::from_ref(state),
        ))
    }
}

impl RotatingJar {
    /// The jar of a request with these headers.
    pub fn from_headers(headers: &HeaderMap, keys: JarConfig) -> Self {
        Self {
            keys,
            incoming: cookies(headers).collect(),
            outgoing: Mutex::new(Vec::new()),
        }
    }

    /// The value of cookie `name`, if it is there and verifies; see [`RotatingJar::try_get`].
    pub fn get<T: DeserializeOwned>(&self, name: &str) -> Option<T> {
        self.try_get(name).ok()
    }

    /// The value of cookie `name`, or why there is none: missing, or refused (expired, signed
    /// by a pruned or revoked key, tampered, for another cookie's name). A cookie that
    /// verified with an older key is re-signed with the current one in the response.
    ///
    /// # Errors
    ///
    /// A [`TokenRejection`] (`missing_token`, or the verification's reason code).
    pub fn try_get<T: DeserializeOwned>(&self, name: &str) -> Result<T, TokenRejection> {
        // The first of a name, as the `Token` extractor and Rack read it (see `cookie`).
        let token = self
            .incoming
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value)
            .ok_or_else(|| TokenRejection::missing(false))?;
        // Verified once, the value kept as its JSON text: parsed into `T` here, and re-signed
        // as it is when the cookie needs re-issuing.
        let verified = self
            .keys
            .verifier
            .verify::<Box<RawValue>>(token, Some(name))
            .map_err(|error| TokenRejection::from_error(&error, false))?;
        let value = serde_json::from_str(verified.value.get()).map_err(|_| {
            // (Not serde's message: it may quote the value.)
            tracing::debug!(cookie = name, "cookie value is not the type asked for");
            TokenRejection::invalid_value()
        })?;
        if !verified.is_current_key && self.keys.reissue {
            self.reissue(name, &verified.value, verified.expires_at);
        }
        Ok(value)
    }

    /// Re-signs a cookie with the current key, keeping its value and its expiry but no later
    /// than `max_lifetime` from now. A token without an expiry is not re-signed: only a holder
    /// of a key made it (the jar always sets one), and re-signing it would carry it past that
    /// key's revocation. Failing to sign (no key signs now), the cookie is left as it is.
    fn reissue(&self, name: &str, value: &RawValue, expires_at: Option<SystemTime>) {
        let Some(expires_at) = expires_at else {
            tracing::warn!(
                cookie = name,
                "cookie without an expiry not re-signed (the jar never mints one)"
            );
            return;
        };
        let verifier = &self.keys.verifier;
        // The keyring's clock, which judged the token's expiry.
        let now = verifier.keyring().now();
        let latest = now
            .checked_add(self.keys.max_lifetime)
            .unwrap_or(expires_at);
        let expires_at = expires_at.min(latest);
        let options = TokenOptions::new().purpose(name).expires_at(expires_at);
        match verifier.generate(value, options) {
            Ok(token) => {
                let remaining = expires_at.duration_since(now).unwrap_or(Duration::ZERO);
                tracing::debug!(cookie = name, "cookie re-signed with the current key");
                self.push(self.keys.cookie(name, token, Some(remaining)));
            }
            Err(error) => tracing::debug!(cookie = name, %error, "cookie not re-signed"),
        }
    }

    /// Sets cookie `name` to `value`, signed with the current key for purpose `name`,
    /// expiring (token and cookie both) after `lifetime`, or after the jar's
    /// [`max_lifetime`](JarConfig::max_lifetime) if that is shorter.
    ///
    /// # Errors
    ///
    /// [`SignError`] if no key signs now, or the value cannot be JSON.
    pub fn add<T: Serialize + ?Sized>(
        self,
        name: &str,
        value: &T,
        lifetime: Duration,
    ) -> Result<Self, SignError> {
        let lifetime = lifetime.min(self.keys.max_lifetime);
        let options = TokenOptions::new().purpose(name).expires_in(lifetime);
        let token = self.keys.verifier.generate(value, options)?;
        self.push(self.keys.cookie(name, token, Some(lifetime)));
        Ok(self)
    }

    /// Removes cookie `name` (an expired, empty cookie with the jar's path).
    #[must_use]
    pub fn remove(self, name: &str) -> Self {
        self.push(self.keys.cookie(name, String::new(), Some(Duration::ZERO)));
        self
    }

    fn push(&self, cookie: Cookie<'static>) {
        let mut outgoing = self
            .outgoing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // The last word on a name wins: one Set-Cookie per cookie.
        outgoing.retain(|c| c.name() != cookie.name());
        outgoing.push(cookie);
    }
}

impl IntoResponseParts for RotatingJar {
    type Error = Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        let outgoing = self
            .outgoing
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for cookie in outgoing {
            // Token values are base64url and dots: nothing to escape.
            if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
                res.headers_mut().append(header::SET_COOKIE, value);
            }
        }
        Ok(res)
    }
}

impl axum_core::response::IntoResponse for RotatingJar {
    fn into_response(self) -> axum_core::response::Response {
        (self, ()).into_response()
    }
}

/// The value of cookie `name`: the first of that name when a request carries several, as
/// Rack (and so a Rails app beside this one) reads them. Browsers send the cookie with the
/// longest path first, then the oldest.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    cookies(headers)
        .find(|(n, _)| n == name)
        .map(|(_, value)| value)
}

/// The cookies of a request's `Cookie` headers, as (name, value).
pub(crate) fn cookies(headers: &HeaderMap) -> impl Iterator<Item = (String, String)> + '_ {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| Cookie::split_parse(value.to_owned()))
        .filter_map(Result::ok)
        .map(|cookie| (cookie.name().to_owned(), cookie.value().to_owned()))
}
