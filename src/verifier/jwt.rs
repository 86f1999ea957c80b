//! Tokens other issuers mint (feature `jose`): standard JWTs — an OIDC provider's ID and
//! access tokens — checked against the issuer and audiences this service trusts, with the
//! same key handling, rules and reason codes as tokenring's own JWS.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::jws::Audience;
use super::{Verified, Verifier};
use crate::error::{Malformed, SharedError, VerifyError};
use crate::keyring::KeyringRef;

/// Verifies JWTs an issuer mints, with keys from a keyring — typically a
/// [`HotKeyring`](crate::HotKeyring) over a [`JwksSource`](crate::source::JwksSource), so the
/// issuer's rotations are followed.
///
/// After the signature (the key named by `kid`, its algorithm — never the header's — and its
/// state, as for every JWS here), the claims, in this order:
///
/// 1. `iss` must equal the issuer trusted ([`VerifyError::WrongIssuer`]);
/// 2. `aud` (one string, or an array) must include one of the audiences trusted
///    ([`VerifyError::WrongAudience`]);
/// 3. `exp` is required, and must be ahead (with the leeway: [`VerifyError::Expired`]);
/// 4. `nbf` and `iat`, when present, must not be ahead beyond the leeway
///    ([`VerifyError::NotYetValid`]);
/// 5. the whole claims object is deserialised into the caller's type
///    ([`VerifyError::InvalidValue`]).
///
/// A missing `iss`, `aud` or `exp`, or registered claims of the wrong JSON types, are
/// [`Malformed`]. Errors never carry the token or a value from it.
///
/// ```
/// use serde::Deserialize;
/// use tokenring::jose::{self, JoseAlgorithm, SigningKey};
/// use tokenring::verifier::JwtVerifier;
/// use tokenring::{Key, Keyring};
///
/// // The issuer's key, as its JWKS would give it.
/// let issuer_key = SigningKey::generate(JoseAlgorithm::EdDsa)?;
/// let keys = Keyring::new(vec![Key::from_public_key("k1", issuer_key.public_key())])?;
/// let verifier = JwtVerifier::builder(keys, "https://issuer.example", "my-api").build();
///
/// let claims = r#"{"iss":"https://issuer.example","aud":"my-api","sub":"ann","exp":4102444800}"#;
/// let token = jose::sign("k1", &issuer_key, claims.as_bytes());
///
/// #[derive(Deserialize)]
/// struct Claims { sub: String }
/// let verified = verifier.verify::<Claims>(&token)?;
/// assert_eq!(verified.value.sub, "ann");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct JwtVerifier {
    verifier: Verifier,
    trust: Arc<Trust>,
}

struct Trust {
    issuer: String,
    audiences: Vec<String>,
}

/// Configures a [`JwtVerifier`]; see [`JwtVerifier::builder`].
#[must_use]
pub struct JwtVerifierBuilder {
    keyring: KeyringRef,
    issuer: String,
    audiences: Vec<String>,
    leeway: Duration,
    max_token_len: usize,
}

impl JwtVerifier {
    /// The longest token accepted unless set: issuers' tokens carry more claims than
    /// tokenring's, and RS256 signatures of 4096-bit keys take 683 characters.
    pub const DEFAULT_MAX_TOKEN_LEN: usize = 16 * 1024;

    /// A verifier of `issuer`'s tokens for `audience`, with keys from `keyring`.
    pub fn builder(
        keyring: impl Into<KeyringRef>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> JwtVerifierBuilder {
        JwtVerifierBuilder {
            keyring: keyring.into(),
            issuer: issuer.into(),
            audiences: vec![audience.into()],
            leeway: Duration::from_secs(60),
            max_token_len: Self::DEFAULT_MAX_TOKEN_LEN,
        }
    }

    /// The issuer trusted.
    pub fn issuer(&self) -> &str {
        &self.trust.issuer
    }

    /// The audiences accepted.
    pub fn audiences(&self) -> &[String] {
        &self.trust.audiences
    }

    /// Checks `token` and returns its claims as `C` (the whole claims object: registered
    /// claims and the issuer's own), the key that verified it, and its expiry.
    ///
    /// # Errors
    ///
    /// Every way a token fails has its own [`VerifyError`]; see the type's docs for the
    /// order of the checks.
    pub fn verify<C: DeserializeOwned>(&self, token: &str) -> Result<Verified<C>, VerifyError> {
        let (trust, leeway) = (&*self.trust, self.verifier.inner.leeway);
        let result = self.verifier.verify_jws_with(token, |json, now| {
            let expires_at = check(json, trust, now, leeway)?;
            let claims = serde_json::from_slice::<C>(json)
                .map_err(|e| VerifyError::InvalidValue(SharedError::new(e)))?;
            Ok((claims, Some(expires_at)))
        });
        if let Err(error) = &result {
            self.verifier.refused(None, error);
        }
        result
    }

    /// The verifier underneath (its keyring, its counters).
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }
}

impl JwtVerifierBuilder {
    /// Accepts `audience` too (an `aud` including any one of them passes).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// How far `exp`, `nbf` and `iat` may be off, for clocks that disagree (60 s unless set).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The longest token accepted ([`JwtVerifier::DEFAULT_MAX_TOKEN_LEN`] unless set).
    pub fn max_token_len(mut self, max: usize) -> Self {
        self.max_token_len = max;
        self
    }

    /// The verifier.
    pub fn build(self) -> JwtVerifier {
        let verifier = Verifier::builder(self.keyring)
            .salt(format!("jwt {}", self.issuer))
            .max_token_len(self.max_token_len)
            .leeway(self.leeway)
            .build();
        JwtVerifier {
            verifier,
            trust: Arc::new(Trust {
                issuer: self.issuer,
                audiences: self.audiences,
            }),
        }
    }
}

/// The registered claims (RFC 7519 §4.1) read to check them; the rest is the caller's.
#[derive(Deserialize)]
struct Registered<'a> {
    #[serde(borrow, default)]
    iss: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    aud: Option<Audience<'a>>,
    #[serde(default)]
    exp: Option<NumericDate>,
    #[serde(default)]
    nbf: Option<NumericDate>,
    #[serde(default)]
    iat: Option<NumericDate>,
}

/// Seconds since the epoch, possibly fractional (RFC 7519 §2).
#[derive(Deserialize, Clone, Copy)]
struct NumericDate(f64);

impl NumericDate {
    fn at(self) -> Result<SystemTime, VerifyError> {
        // Up to 9999-12-31T23:59:59Z, as keyring times; NaN is outside every range.
        if !(0.0..=253_402_300_799.0).contains(&self.0) {
            return Err(VerifyError::Malformed(Malformed::Claims));
        }
        Ok(UNIX_EPOCH + Duration::from_secs_f64(self.0))
    }
}

/// The registered claims checked in order; the expiry.
fn check(
    json: &[u8],
    trust: &Trust,
    now: SystemTime,
    leeway: Duration,
) -> Result<SystemTime, VerifyError> {
    let claims: Registered<'_> =
        serde_json::from_slice(json).map_err(|_| VerifyError::Malformed(Malformed::Claims))?;
    let iss = claims
        .iss
        .ok_or(VerifyError::Malformed(Malformed::MissingClaim("iss")))?;
    if iss != trust.issuer {
        return Err(VerifyError::WrongIssuer {
            expected: trust.issuer.clone(),
        });
    }
    let aud = claims
        .aud
        .ok_or(VerifyError::Malformed(Malformed::MissingClaim("aud")))?;
    if !aud.any(|aud| trust.audiences.iter().any(|a| a == aud)) {
        return Err(VerifyError::WrongAudience {
            expected: trust.audiences.join(" or "),
        });
    }
    let expires_at = claims
        .exp
        .ok_or(VerifyError::Malformed(Malformed::MissingClaim("exp")))?
        .at()?;
    let late = now.checked_sub(leeway).unwrap_or(UNIX_EPOCH);
    if expires_at <= late {
        return Err(VerifyError::Expired { at: expires_at });
    }
    let early = now.checked_add(leeway).unwrap_or(now);
    for claim in [claims.nbf, claims.iat].into_iter().flatten() {
        let at = claim.at()?;
        if at > early {
            return Err(VerifyError::NotYetValid { at });
        }
    }
    Ok(expires_at)
}
