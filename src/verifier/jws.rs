//! Public-key tokens through a verifier (feature `jose`): the claims tokenring puts in a JWS
//! and how it reads them back (docs/FORMAT.md, "JWS tokens").
//!
//! The verifier's salt is the `aud` claim. An HMAC key is derived per salt, so a v1 token of
//! one verifier fails in another; a key pair signs for every salt alike, so the salt is bound
//! as a signed claim instead, with the same effect: a `password_reset` verifier refuses a
//! `cookies` token ([`VerifyError::WrongAudience`]).

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};

use super::check_claims;
use crate::error::{Malformed, SharedError, SignError, VerifyError};
use crate::jose::JwsError;
use crate::keyring::Key;

/// The claims of a tokenring JWS: the value, purpose and expiry of a v1 envelope, when it was
/// minted, and the audience.
#[derive(Serialize)]
pub(super) struct ClaimsOut<'a, T: ?Sized> {
    pub(super) dat: &'a T,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) pur: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) exp: Option<u64>,
    pub(super) iat: u64,
    pub(super) aud: &'a str,
}

/// The claims read back. Claims tokenring does not write (`iss`, `jti`, …) are ignored, as
/// JWT readers do; `dat` is required, and duplicates are refused.
#[derive(Deserialize)]
struct ClaimsIn<'a, T> {
    dat: T,
    #[serde(borrow, default)]
    pur: Option<Cow<'a, str>>,
    #[serde(default)]
    exp: Option<u64>,
    #[serde(default)]
    nbf: Option<u64>,
    #[serde(borrow, default)]
    aud: Option<Audience<'a>>,
}

/// RFC 7519 §4.1.3: one audience, or several.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum Audience<'a> {
    One(#[serde(borrow)] Cow<'a, str>),
    Many(#[serde(borrow)] Vec<Cow<'a, str>>),
}

impl Audience<'_> {
    /// Whether one of its audiences is one `accepted` accepts.
    pub(super) fn any(&self, accepted: impl Fn(&str) -> bool) -> bool {
        match self {
            Self::One(aud) => accepted(aud),
            Self::Many(auds) => auds.iter().any(|aud| accepted(aud)),
        }
    }
}

/// Signs `claims` with `key`'s private key.
pub(super) fn mint<T: Serialize + ?Sized>(
    key: &Key,
    claims: &ClaimsOut<'_, T>,
    max_len: usize,
) -> Result<String, SignError> {
    let signing = key.signing_key().ok_or_else(|| SignError::NoPrivateKey {
        key_id: key.id().to_owned(),
    })?;
    let json = serde_json::to_vec(claims).map_err(|e| SignError::Serialize(SharedError::new(e)))?;
    let token = crate::jose::sign(key.id(), signing, &json);
    if token.len() > max_len {
        return Err(SignError::TooLarge {
            len: token.len(),
            max: max_len,
        });
    }
    Ok(token)
}

/// What the claims say, checked in the order v1 envelopes are: audience, not-before, purpose
/// and expiry — then the value. A value that does not decode is reported only if the claims
/// hold.
pub(super) fn decode_claims<T: DeserializeOwned>(
    json: &[u8],
    salt: &str,
    purpose: Option<&str>,
    now: SystemTime,
    leeway: Duration,
) -> Result<(T, Option<SystemTime>), VerifyError> {
    match serde_json::from_slice::<ClaimsIn<'_, T>>(json) {
        Ok(claims) => {
            let expires_at = check(&claims, salt, purpose, now, leeway)?;
            Ok((claims.dat, expires_at))
        }
        Err(value_error) => {
            let claims = serde_json::from_slice::<ClaimsIn<'_, IgnoredAny>>(json)
                .map_err(|_| VerifyError::Malformed(Malformed::Payload))?;
            check(&claims, salt, purpose, now, leeway)?;
            Err(VerifyError::InvalidValue(SharedError::new(value_error)))
        }
    }
}

fn check<T>(
    claims: &ClaimsIn<'_, T>,
    salt: &str,
    purpose: Option<&str>,
    now: SystemTime,
    leeway: Duration,
) -> Result<Option<SystemTime>, VerifyError> {
    if !claims
        .aud
        .as_ref()
        .is_some_and(|aud| aud.any(|a| a == salt))
    {
        return Err(VerifyError::WrongAudience {
            expected: salt.to_owned(),
        });
    }
    if let Some(nbf) = claims.nbf {
        let at = UNIX_EPOCH
            .checked_add(Duration::from_secs(nbf))
            .ok_or(VerifyError::Malformed(Malformed::Payload))?;
        if now.checked_add(leeway).unwrap_or(now) < at {
            return Err(VerifyError::NotYetValid { at });
        }
    }
    // Purpose and `exp` by the same rules as a v1 token's.
    check_claims(claims.pur.as_deref(), claims.exp, purpose, now, leeway)
}

/// A JWS failure as the verifier reports it. A missing `kid` is an unknown key: nothing
/// names a key the keyring has.
pub(super) fn verify_error(error: JwsError) -> VerifyError {
    match error {
        JwsError::TooLarge { len, max } => VerifyError::TooLarge { len, max },
        JwsError::Malformed(malformed) => VerifyError::Malformed(malformed),
        JwsError::CriticalHeader => VerifyError::Malformed(Malformed::CriticalHeader),
        JwsError::MissingKeyId | JwsError::UnknownKey => VerifyError::UnknownKey {
            key_id: String::new(),
        },
        JwsError::AlgorithmMismatch { key_id, .. } => VerifyError::AlgorithmMismatch { key_id },
        JwsError::BadSignature { key_id } => VerifyError::BadSignature { key_id },
    }
}
