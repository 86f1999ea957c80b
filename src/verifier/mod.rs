//! Minting and checking native v1 tokens with a keyring.
//!
//! A [`Verifier`] binds a keyring snapshot to a *salt* — the purpose label its keys are
//! derived for — and to defaults (size cap, clock leeway, expiry). Building one derives a
//! keyed HMAC state per key; after that, signing and verifying do no derivation and take no
//! lock. Signing allocates the envelope's JSON and the exactly-sized token; verifying
//! allocates only what the decoded value needs (payloads up to 768 bytes are decoded on the
//! stack).

mod derived;
#[cfg(feature = "jose")]
mod jws;
#[cfg(feature = "jose")]
mod jwt;
mod options;
mod registry;

#[cfg(feature = "jose")]
pub use jwt::{JwtVerifier, JwtVerifierBuilder};
pub use options::{Expiry, Rotated, TokenOptions, Verified};
pub use registry::{VerifierConfig, Verifiers, VerifiersBuilder};

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde::de::{DeserializeOwned, IgnoredAny};

use crate::clock::unix_seconds;
use crate::codec::native::{self, EnvelopeIn, EnvelopeOut};
use crate::error::{Malformed, SharedError, SignError, VerifyError};
use crate::keyring::{Computed, KeyId, Keyring, KeyringRef};
use derived::{DerivedKeys, DerivedMacs, derived_keys, key_and_mac};

type RotationHook = Arc<dyn Fn(&Rotated<'_>) + Send + Sync>;

/// Configures a [`Verifier`]; see [`Verifier::builder`].
#[must_use]
pub struct VerifierBuilder {
    keys: KeyringRef,
    salt: String,
    max_token_len: usize,
    leeway: Duration,
    default_expires_in: Option<Duration>,
    on_rotation: Option<RotationHook>,
}

impl VerifierBuilder {
    /// The purpose label keys are derived for ([`Verifier::DEFAULT_SALT`] unless set). Verifiers with
    /// different salts never accept each other's tokens.
    pub fn salt(mut self, salt: impl Into<String>) -> Self {
        self.salt = salt.into();
        self
    }

    /// Longest token accepted, in bytes ([`Verifier::DEFAULT_MAX_TOKEN_LEN`] unless set); also the
    /// longest one [`Verifier::generate`] will mint.
    pub fn max_token_len(mut self, max: usize) -> Self {
        self.max_token_len = max;
        self
    }

    /// How long after its expiry a token is still accepted, for clock skew between nodes
    /// (zero unless set).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Expiry for tokens minted with [`Expiry::Default`] (none unless set).
    pub fn default_expires_in(mut self, expires_in: Option<Duration>) -> Self {
        self.default_expires_in = expires_in;
        self
    }

    /// Calls `hook` each time a token verifies with a key that no longer signs (it runs on
    /// the verifying thread: keep it short, e.g. set a flag to re-issue the token).
    pub fn on_rotation(mut self, hook: impl Fn(&Rotated<'_>) + Send + Sync + 'static) -> Self {
        self.on_rotation = Some(Arc::new(hook));
        self
    }

    /// Derives every key for the salt and builds the verifier.
    pub fn build(self) -> Verifier {
        Verifier {
            inner: Arc::new(Inner {
                keys: derived_keys(self.keys, &self.salt),
                unknown: crate::telemetry::KeyCounters::new(
                    &self.salt,
                    crate::telemetry::UNKNOWN_KEY,
                ),
                salt: self.salt.into_boxed_str(),
                max_token_len: self.max_token_len,
                leeway: self.leeway,
                default_expires_in: self.default_expires_in,
                on_rotation: self.on_rotation,
            }),
        }
    }
}

/// Signs and verifies native v1 tokens for one salt with one keyring snapshot.
///
/// Cheap to clone (one `Arc`), `Send + Sync`.
///
/// ```
/// use std::time::Duration;
/// use tokenring::{Key, Keyring, Secret, TokenOptions, Verifier};
///
/// let keyring = Keyring::new(vec![Key::new("2026-11", Secret::random(32)?)])?;
/// let verifier = Verifier::builder(keyring).salt("password_reset").build();
///
/// let options = TokenOptions::new().purpose("login").expires_in(Duration::from_secs(900));
/// let token = verifier.generate(&42u64, options)?;
/// let verified = verifier.verify::<u64>(&token, Some("login"))?;
/// assert_eq!(verified.value, 42);
/// assert_eq!(&*verified.key_id, "2026-11");
/// assert!(verifier.verify::<u64>(&token, Some("email")).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    keys: DerivedKeys,
    // Failures that name no key of the keyring: too large, malformed, unknown key.
    unknown: crate::telemetry::KeyCounters,
    salt: Box<str>,
    max_token_len: usize,
    leeway: Duration,
    default_expires_in: Option<Duration>,
    on_rotation: Option<RotationHook>,
}

impl Verifier {
    /// The salt a verifier uses unless given one.
    pub const DEFAULT_SALT: &str = "tokenring";

    /// The default cap on token length, checked before anything else.
    pub const DEFAULT_MAX_TOKEN_LEN: usize = 4096;

    /// A verifier with default settings for `salt`.
    pub fn new(keyring: impl Into<KeyringRef>, salt: impl Into<String>) -> Self {
        Self::builder(keyring).salt(salt).build()
    }

    /// Starts configuring a verifier over `keyring`: a [`Keyring`], an `Arc<Keyring>`, or a
    /// hot keyring (feature `hot`) whose snapshot in force it will follow.
    pub fn builder(keyring: impl Into<KeyringRef>) -> VerifierBuilder {
        VerifierBuilder {
            keys: keyring.into(),
            salt: Self::DEFAULT_SALT.to_owned(),
            max_token_len: Self::DEFAULT_MAX_TOKEN_LEN,
            leeway: Duration::ZERO,
            default_expires_in: None,
            on_rotation: None,
        }
    }

    /// The keyring snapshot this verifier uses now.
    pub fn keyring(&self) -> Arc<Keyring> {
        self.inner.keys.with(|keys| Arc::clone(&keys.keyring))
    }

    /// The salt keys are derived for.
    pub fn salt(&self) -> &str {
        &self.inner.salt
    }

    /// Mints a token for `value` with the key that signs now.
    ///
    /// # Errors
    ///
    /// [`SignError::NoSigningKey`] if no key is active (all pending, expired or disabled);
    /// [`SignError::Serialize`] if `value` cannot be JSON; [`SignError::InvalidExpiry`] for
    /// an expiry before 1970 or beyond `u64` seconds; [`SignError::TooLarge`] if the token
    /// would exceed the verifier's size cap.
    pub fn generate<T: Serialize + ?Sized>(
        &self,
        value: &T,
        options: TokenOptions<'_>,
    ) -> Result<String, SignError> {
        self.inner
            .keys
            .with(|keys| self.generate_with(keys, value, options))
    }

    fn generate_with<T: Serialize + ?Sized>(
        &self,
        keys: &Computed<DerivedMacs>,
        value: &T,
        options: TokenOptions<'_>,
    ) -> Result<String, SignError> {
        let inner = &*self.inner;
        let now = keys.keyring.now();
        let index = keys
            .keyring
            .signing_index_at(now)
            .ok_or(SignError::NoSigningKey)?;
        let (key, mac) = key_and_mac(keys, index);

        let expires_at = match options.expiry {
            Expiry::Never => None,
            Expiry::Default => inner.default_expires_in.map(|after| now.checked_add(after)),
            Expiry::In(after) => Some(now.checked_add(after)),
            Expiry::At(at) => Some(Some(at)),
        };
        // Out of range: past SystemTime's end, or before 1970.
        let exp = match expires_at {
            None => None,
            Some(at) => Some(at.and_then(unix_seconds).ok_or(SignError::InvalidExpiry)?),
        };
        // The signing key's algorithm picks the format: HMAC keys mint v1, key pairs a JWS.
        let token = match mac {
            Some(mac) => {
                let envelope = EnvelopeOut {
                    dat: value,
                    pur: options.purpose,
                    exp,
                };
                let json = serde_json::to_vec(&envelope)
                    .map_err(|e| SignError::Serialize(SharedError::new(e)))?;
                native::encode(key.id(), &json, mac, inner.max_token_len)?
            }
            #[cfg(feature = "jose")]
            None => {
                let claims = jws::ClaimsOut {
                    dat: value,
                    pur: options.purpose,
                    exp,
                    iat: unix_seconds(now).ok_or(SignError::InvalidExpiry)?,
                    aud: &inner.salt,
                };
                jws::mint(key, &claims, inner.max_token_len)?
            }
            // Without `jose` a keyring holds only HMAC keys.
            #[cfg(not(feature = "jose"))]
            None => return Err(SignError::NoSigningKey),
        };
        keys.value.counters[index].signed();
        Ok(token)
    }

    /// Checks `token` and decodes its value.
    ///
    /// `purpose` must equal the token's purpose exactly: a token minted with a purpose fails
    /// without one, and one minted without fails with one. Order of checks: size cap, shape,
    /// key id, MAC (constant time, whatever the key's state), key state, and only then the payload's base64 and JSON,
    /// purpose and expiry.
    ///
    /// # Errors
    ///
    /// Every way a token can fail has its own [`VerifyError`] variant.
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        purpose: Option<&str>,
    ) -> Result<Verified<T>, VerifyError> {
        let result = self.verify_token(token, purpose);
        if let Err(error) = &result {
            self.refused(purpose, error);
        }
        result
    }

    fn verify_token<T: DeserializeOwned>(
        &self,
        token: &str,
        purpose: Option<&str>,
    ) -> Result<Verified<T>, VerifyError> {
        let inner = &*self.inner;
        if token.len() > inner.max_token_len {
            return self.unknown_key(Err(VerifyError::TooLarge {
                len: token.len(),
                max: inner.max_token_len,
            }));
        }
        // Two dots make a JWS (a v1 token has three, and its prefix is no JSON header).
        #[cfg(feature = "jose")]
        if !token.starts_with(native::PREFIX)
            && token.bytes().filter(|&b| b == b'.').count() == 2
            && !crate::codec::has_surrounding_whitespace(token.as_bytes())
        {
            return self.verify_jws(token, purpose);
        }
        let parts = match native::split(token) {
            Ok(parts) => parts,
            Err(malformed) => return self.unknown_key(Err(VerifyError::Malformed(malformed))),
        };
        self.with_key(parts.key_id, false, |keys, index| {
            self.verify_with(keys, index, &parts, purpose)
        })
    }

    /// Runs `verify` with the key named `key_id` in the snapshot in force, counting the
    /// outcome against that key (or against `unknown` when there is no such key). With
    /// `fetch_missing`, a key the snapshot lacks is first asked of a followed keyring's
    /// source — an issuer may have rotated since the last load; it bounds the rate — and
    /// looked up once more in what that brings.
    fn with_key<T>(
        &self,
        key_id: &str,
        fetch_missing: bool,
        verify: impl FnOnce(&Computed<DerivedMacs>, usize) -> Result<T, VerifyError>,
    ) -> Result<T, VerifyError> {
        let mut verify = Some(verify);
        let mut attempt = |keys: &Computed<DerivedMacs>| {
            let index = keys.keyring.index_of(key_id)?;
            let result = verify.take()?(keys, index);
            keys.value.counters[index].verified(&result);
            Some(result)
        };
        if let Some(result) = self.inner.keys.with(&mut attempt) {
            return result;
        }
        if fetch_missing
            && self.inner.keys.key_missing()
            && let Some(result) = self.inner.keys.with(&mut attempt)
        {
            return result;
        }
        self.unknown_key(Err(VerifyError::UnknownKey {
            key_id: key_id.to_owned(),
        }))
    }

    /// A JWS: the key its header names checks the signature (its algorithm, never the
    /// header's), then the key's state, then tokenring's claims.
    #[cfg(feature = "jose")]
    fn verify_jws<T: DeserializeOwned>(
        &self,
        token: &str,
        purpose: Option<&str>,
    ) -> Result<Verified<T>, VerifyError> {
        let inner = &*self.inner;
        self.verify_jws_with(token, |json, now| {
            jws::decode_claims::<T>(json, &inner.salt, purpose, now, inner.leeway)
        })
    }

    /// A JWS checked as [`Verifier::verify_jws`] does up to the claims, which `decode` reads
    /// (their JSON, and the keyring's now): the value and the expiry.
    #[cfg(feature = "jose")]
    pub(crate) fn verify_jws_with<T>(
        &self,
        token: &str,
        decode: impl FnOnce(&[u8], SystemTime) -> Result<(T, Option<SystemTime>), VerifyError>,
    ) -> Result<Verified<T>, VerifyError> {
        let inner = &*self.inner;
        let parts = match crate::jose::split(token, inner.max_token_len) {
            Ok(parts) => parts,
            Err(error) => return self.unknown_key(Err(jws::verify_error(error))),
        };
        // A `kid` no keyring could hold is nobody's: refused without repeating it (it is the
        // token's text, and errors never carry the token).
        if !crate::key_id_grammar::is_valid_public_key_id(parts.header.kid.as_bytes()) {
            return self.unknown_key(Err(VerifyError::UnknownKey {
                key_id: String::new(),
            }));
        }
        self.with_key(&parts.header.kid, true, |keys, index| {
            let key = &keys.keyring.keys()[index];
            // An HMAC key's id in a JWS header: its algorithm is not the token's to pick.
            let public = key
                .public_key()
                .ok_or_else(|| VerifyError::AlgorithmMismatch {
                    key_id: key.id().to_owned(),
                })?;
            parts.verify(key.id(), public).map_err(jws::verify_error)?;
            let now = keys.keyring.now();
            key.ensure_verifies_at(now)?;
            // The signature held: from here on the bytes are the key holder's.
            let json = parts.claims_json().map_err(jws::verify_error)?;
            let (value, expires_at) = decode(&json, now)?;
            Ok(self.accepted(keys, index, now, value, expires_at))
        })
    }

    /// A failure that names no key of the keyring (counted as key `unknown`).
    fn unknown_key<T>(&self, result: Result<T, VerifyError>) -> Result<T, VerifyError> {
        self.inner.unknown.verified(&result);
        result
    }

    /// Logs why a token was refused at `debug`, in a span of its own, so "why was I logged
    /// out" can be answered by turning it on: the verifier, the purpose asked for and the
    /// reason code — never the token or anything taken from it.
    fn refused(&self, purpose: Option<&str>, error: &VerifyError) {
        let span = tracing::debug_span!(
            "tokenring_verification_failed",
            verifier = &*self.inner.salt,
            purpose,
            reason = error.reason(),
        );
        let _entered = span.enter();
        tracing::debug!("token refused");
    }

    fn verify_with<T: DeserializeOwned>(
        &self,
        keys: &Computed<DerivedMacs>,
        index: usize,
        parts: &native::Parts<'_>,
        purpose: Option<&str>,
    ) -> Result<Verified<T>, VerifyError> {
        let inner = &*self.inner;
        let keyring = &keys.keyring;
        let (key, mac) = key_and_mac(keys, index);
        // A v1 token naming a key pair: only a JWS is that key's.
        let mac = mac.ok_or_else(|| VerifyError::AlgorithmMismatch {
            key_id: key.id().to_owned(),
        })?;
        // The MAC before the key's state, whatever the state: a forged token naming a revoked
        // key is a bad signature, so it learns nothing about which keys were revoked, and
        // "key revoked" means a real token of that key was presented (a leak in use).
        if !native::check_tag(mac, parts).map_err(VerifyError::Malformed)? {
            return Err(VerifyError::BadSignature {
                key_id: key.id().to_owned(),
            });
        }
        let now = keyring.now();
        key.ensure_verifies_at(now)?;

        // The MAC held: from here on the bytes are our own.
        let (value, expires_at) = native::with_payload(parts.payload, |json| {
            decode_envelope::<T>(json, purpose, now, inner.leeway)
        })
        .map_err(VerifyError::Malformed)??;
        Ok(self.accepted(keys, index, now, value, expires_at))
    }

    /// A token of key `index` that passed every check: counted, and the rotation hook told
    /// when its key no longer signs.
    fn accepted<T>(
        &self,
        keys: &Computed<DerivedMacs>,
        index: usize,
        now: SystemTime,
        value: T,
        expires_at: Option<SystemTime>,
    ) -> Verified<T> {
        let inner = &*self.inner;
        let keyring = &keys.keyring;
        let key = &keyring.keys()[index];
        keyring.record_verified(index);
        let signing = keyring.signing_index_at(now);
        let is_current_key = signing == Some(index);
        if let (false, Some(hook)) = (is_current_key, &inner.on_rotation) {
            hook(&Rotated {
                key_id: key.id(),
                signing_key_id: signing.map(|i| keyring.keys()[i].id()),
                salt: &inner.salt,
            });
        }
        Verified {
            value,
            key_id: KeyId::new(key.id()),
            is_current_key,
            expires_at,
        }
    }
}

/// Reads the envelope as tokenring writes it without a JSON parser for the envelope itself
/// ([`native::cut`]): claims checked on borrowed bytes, then only the value parsed. Anything
/// else — another spelling, a refusal, a value that does not decode — goes the general way,
/// which has the last word on every error.
fn decode_envelope<T: DeserializeOwned>(
    json: &[u8],
    purpose: Option<&str>,
    now: SystemTime,
    leeway: Duration,
) -> Result<(T, Option<SystemTime>), VerifyError> {
    if let Some(cut) = native::cut(json)
        && cut.pur == purpose.map(str::as_bytes)
        && let Ok(expires_at) = check_expiry(cut.exp, now, leeway)
        && let Ok(value) = serde_json::from_slice::<T>(cut.dat)
    {
        return Ok((value, expires_at));
    }
    decode_envelope_general(json, purpose, now, leeway)
}

/// Parses the envelope in one pass. Only if that fails is it parsed again without the value,
/// so a wrong purpose or an expiry is reported as such even when the value would not have
/// decoded either.
fn decode_envelope_general<T: DeserializeOwned>(
    json: &[u8],
    purpose: Option<&str>,
    now: SystemTime,
    leeway: Duration,
) -> Result<(T, Option<SystemTime>), VerifyError> {
    match serde_json::from_slice::<EnvelopeIn<'_, T>>(json) {
        Ok(envelope) => {
            let expires_at =
                check_claims(envelope.pur.as_deref(), envelope.exp, purpose, now, leeway)?;
            Ok((envelope.dat, expires_at))
        }
        Err(value_error) => {
            let envelope = serde_json::from_slice::<EnvelopeIn<'_, IgnoredAny>>(json)
                .map_err(|_| VerifyError::Malformed(Malformed::Payload))?;
            check_claims(envelope.pur.as_deref(), envelope.exp, purpose, now, leeway)?;
            Err(VerifyError::InvalidValue(SharedError::new(value_error)))
        }
    }
}

/// Checks purpose and expiry; returns the expiry as a time.
fn check_claims(
    found: Option<&str>,
    exp: Option<u64>,
    expected: Option<&str>,
    now: SystemTime,
    leeway: Duration,
) -> Result<Option<SystemTime>, VerifyError> {
    if found != expected {
        return Err(VerifyError::PurposeMismatch {
            expected: expected.map(str::to_owned),
            found: found.map(str::to_owned),
        });
    }
    check_expiry(exp, now, leeway)
}

/// Checks the expiry; returns it as a time.
fn check_expiry(
    exp: Option<u64>,
    now: SystemTime,
    leeway: Duration,
) -> Result<Option<SystemTime>, VerifyError> {
    let Some(exp) = exp else {
        return Ok(None);
    };
    // Another implementation holding the key could sign an `exp` no SystemTime can hold.
    let at = UNIX_EPOCH
        .checked_add(Duration::from_secs(exp))
        .ok_or(VerifyError::Malformed(Malformed::Payload))?;
    if now >= at.checked_add(leeway).unwrap_or(at) {
        return Err(VerifyError::Expired { at });
    }
    Ok(Some(at))
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("salt", &self.inner.salt)
            .field(
                "keys",
                &self
                    .keyring()
                    .keys()
                    .iter()
                    .map(|k| k.id().to_owned())
                    .collect::<Vec<_>>(),
            )
            .field("max_token_len", &self.inner.max_token_len)
            .field("leeway", &self.inner.leeway)
            .field("default_expires_in", &self.inner.default_expires_in)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    const NOW: u64 = 1_800_000_000;

    /// `decode_envelope` (the cut, then the general reading when it declines) and the general
    /// reading alone give the same answer for `json`, for each purpose asked, as a value and
    /// typed (errors compared by kind: serde's messages differ in where they point).
    fn agree(json: &[u8]) {
        let now = UNIX_EPOCH + Duration::from_secs(NOW);
        for purpose in [
            None,
            Some(""),
            Some("login"),
            Some("a\"b"),
            Some("é"),
            Some(r"lo\u0067in"),
            Some("a\u{1}"),
        ] {
            let fast = decode_envelope::<Value>(json, purpose, now, Duration::ZERO);
            let general = decode_envelope_general::<Value>(json, purpose, now, Duration::ZERO);
            assert_eq!(
                fast,
                general,
                "{:?} for {purpose:?}",
                String::from_utf8_lossy(json)
            );
            let fast = decode_envelope::<u8>(json, purpose, now, Duration::from_secs(5));
            let general = decode_envelope_general::<u8>(json, purpose, now, Duration::from_secs(5));
            match (&fast, &general) {
                (Ok(a), Ok(b)) => assert_eq!(a, b),
                (Err(a), Err(b)) => assert_eq!(a.reason(), b.reason()),
                _ => panic!("{json:?} for {purpose:?}: {fast:?} / {general:?}"),
            }
        }
    }

    #[test]
    fn the_cut_agrees_with_the_general_reading() {
        let cases = [
            r#"{"dat":{"sub":42},"pur":"login","exp":1800000900}"#,
            r#"{"dat":7,"pur":"login","exp":1800000003}"#,
            r#"{"dat":7,"pur":"login","exp":1799999999}"#,
            r#"{"dat":7,"exp":1800000900}"#,
            r#"{"dat":7,"pur":"login"}"#,
            r#"{"dat":7}"#,
            r#"{"dat":"x","exp":1800000900}"#,
            r#"{"dat":"x","pur":"é"}"#,
            r#"{"dat":"a\",\"pur\":\"login","pur":""}"#,
            r#"{"dat":{"pur":"login","exp":1},"pur":"login"}"#,
            r#"{"dat":[1,"pur"],"pur":"login","exp":0}"#,
            r#"{"dat":7,"pur":"lo\u0067in"}"#,
            r#"{"dat":7,"pur":"a\"b"}"#,
            r#"{"dat":7,"pur":null,"exp":null}"#,
            r#"{"dat":7,"exp":01}"#,
            r#"{"dat":7,"exp":01800000900}"#,
            r#"{"dat":7,"exp":18446744073709551616}"#,
            r#"{"dat":7,"exp":-1}"#,
            r#"{"dat":7,"exp":1.5}"#,
            r#"{"dat":7,"dat":8}"#,
            r#"{"dat":7,"pur":"a","pur":"login"}"#,
            r#"{"dat":7,"extra":1}"#,
            r#"{"exp":1800000900,"pur":"login","dat":7}"#,
            r#"{"dat": 7 ,"pur":"login"}"#,
            r#"{"dat":,"pur":"login"}"#,
            r#"{"dat":7 8,"pur":"login"}"#,
            r#"{"dat":7}}"#,
            r#"{"dat":{"a":1},"exp":1800000900}"#,
            r#"{"dat":300,"pur":"login"}"#,
            r#"{"dat":"x","pur":"login","exp":1800000900}"#,
            r#"{"pur":"login"}"#,
            r#"{"dat":7,"pur":"login","exp":1800000900} "#,
        ];
        for case in cases {
            agree(case.as_bytes());
        }
        // A purpose that is not UTF-8 and one with a control character.
        agree(b"{\"dat\":7,\"pur\":\"\xff\"}");
        agree(b"{\"dat\":7,\"pur\":\"a\x01\"}");
    }

    /// JSON values whose text holds what the cut looks for: quotes, commas, colons, digits.
    fn json_text() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[\",:a-z0-9]{0,8}".prop_map(Value::from),
        ];
        let value = leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map("(pur|exp|dat|[a-z\",]{0,4})", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        });
        value.prop_map(|v| v.to_string())
    }

    proptest! {
        /// Any bytes in the cut's frame, and any JSON value in it: the same answer either way.
        #[test]
        fn the_cut_agrees_on_any_bytes(
            dat in prop_oneof!["[\\[\\]{}\",:\\\\ 0-9a-z]{0,16}", json_text()],
            pur in prop::option::of("[\",:\\\\a-z\u{e9}]{0,6}"),
            exp in prop::option::of("-?[0-9]{1,21}"),
        ) {
            let mut json = format!("{{\"dat\":{dat}");
            if let Some(pur) = pur {
                json.push_str(&format!(",\"pur\":\"{pur}\""));
            }
            if let Some(exp) = exp {
                json.push_str(&format!(",\"exp\":{exp}"));
            }
            json.push('}');
            agree(json.as_bytes());
        }
    }
}
