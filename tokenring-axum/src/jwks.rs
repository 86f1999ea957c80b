//! A keyring's JWKS as an HTTP answer (feature `jose`), for `/.well-known/jwks.json`.

use std::time::Duration;

use axum_core::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use tokenring::Keyring;

/// The JWKS (RFC 7517) of a keyring snapshot: the public keys of every key pair that verifies
/// now and of every pending one, never a private key or an HMAC secret
/// ([`Keyring::jwks`]). Answers `200` with `Content-Type: application/json` and
/// `Cache-Control: public, max-age=N`, N no longer than the time until the next key activates
/// or expires ([`Keyring::jwks_max_age`]) and at most [`JwksDocument::DEFAULT_MAX_AGE`] unless
/// set: a cache never holds a key set past a scheduled change. (A key added pending for
/// longer than the cap reaches every cache before it signs; `keyring add --activates-in`
/// longer than the cap is the rule for public keys.)
///
/// ```
/// # fn route(hot: tokenring::HotKeyring) -> axum::Router {
/// use axum::routing::get;
/// use tokenring_axum::JwksDocument;
///
/// axum::Router::new().route(
///     "/.well-known/jwks.json",
///     get(move || {
///         let hot = hot.clone();
///         async move { JwksDocument::new(&hot.keyring()) }
///     }),
/// )
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct JwksDocument {
    body: String,
    max_age: Duration,
}

impl JwksDocument {
    /// The longest `max-age` unless set: five minutes.
    pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);

    /// The JWKS of `keyring` as it is now.
    pub fn new(keyring: &Keyring) -> Self {
        Self::with_max_age(keyring, Self::DEFAULT_MAX_AGE)
    }

    /// As [`JwksDocument::new`], `max-age` capped at `cap`.
    pub fn with_max_age(keyring: &Keyring, cap: Duration) -> Self {
        Self {
            body: keyring.jwks(),
            max_age: keyring.jwks_max_age(cap),
        }
    }

    /// The `max-age` it answers with.
    pub fn max_age(&self) -> Duration {
        self.max_age
    }
}

impl IntoResponse for JwksDocument {
    fn into_response(self) -> Response {
        let cache = format!("public, max-age={}", self.max_age.as_secs());
        let mut response = (StatusCode::OK, self.body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Ok(cache) = HeaderValue::from_str(&cache) {
            headers.insert(header::CACHE_CONTROL, cache);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    use tokenring::clock::ManualClock;
    use tokenring::jose::{JoseAlgorithm, SigningKey};
    use tokenring::{Key, Keyring};

    use super::*;

    #[test]
    fn max_age_ends_before_the_next_activation() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let clock = Arc::new(ManualClock::new(now));
        let key = |id: &str| {
            Key::from_signing_key(id, SigningKey::generate(JoseAlgorithm::EdDsa).unwrap())
        };
        let keyring = Keyring::new_with_clock(
            vec![
                key("next").with_activates_at(Some(now + Duration::from_secs(90))),
                key("now"),
            ],
            clock.clone(),
        )
        .unwrap();
        let response = JwksDocument::new(&keyring).into_response();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CACHE_CONTROL],
            "public, max-age=90"
        );
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        clock.advance(Duration::from_secs(90));
        assert_eq!(
            JwksDocument::new(&keyring).max_age(),
            JwksDocument::DEFAULT_MAX_AGE
        );
    }
}
