//! `ActiveSupport::MessageVerifier`: its configurations, `rotate`, and which configuration
//! answers; the wire format is in `format`, the purpose and expiry envelope in `metadata`.

use std::fmt;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::RailsError;
use super::format::{Envelope, JsonStyle, RailsDigest, RailsMac, with_signed_payload};
use super::metadata::{self, RailsOptions};
use super::rotation::open_with_each;
use crate::clock::{Clock, SystemClock};
use crate::error::SignError;
use crate::keyring::Keyring;
use crate::secret::Secret;
use crate::verifier::Verifier;

/// One Rails verifier configuration: the secret and the options Rails would be given.
#[derive(Clone)]
pub struct RailsConfig {
    secret: Secret,
    digest: RailsDigest,
    mac: RailsMac,
    url_safe: bool,
    envelope: Envelope,
    json: JsonStyle,
}

impl RailsConfig {
    /// `MessageVerifier.new(secret)`: SHA1, strict base64, legacy envelope, Ruby JSON.
    pub fn new(secret: Secret) -> Self {
        let digest = RailsDigest::default();
        Self {
            mac: RailsMac::new(digest, secret.expose()),
            secret,
            digest,
            url_safe: false,
            envelope: Envelope::default(),
            json: JsonStyle::default(),
        }
    }

    /// `digest:`.
    #[must_use]
    pub fn digest(mut self, digest: RailsDigest) -> Self {
        self.digest = digest;
        self.mac = RailsMac::new(digest, self.secret.expose());
        self
    }

    /// `url_safe:` — what this configuration writes. Reading accepts both alphabets, as Rails
    /// 8.0.2+ does; but Rails 7.1–8.0.1 read only the form they are configured with, so match
    /// the app you mint for.
    #[must_use]
    pub fn url_safe(mut self, url_safe: bool) -> Self {
        self.url_safe = url_safe;
        self
    }

    /// The envelope written when there is a purpose or an expiry.
    #[must_use]
    pub fn envelope(mut self, envelope: Envelope) -> Self {
        self.envelope = envelope;
        self
    }

    /// The JSON encoder to imitate.
    #[must_use]
    pub fn json(mut self, json: JsonStyle) -> Self {
        self.json = json;
        self
    }
}

impl fmt::Debug for RailsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RailsConfig")
            .field("secret", &self.secret)
            .field("digest", &self.digest)
            .field("url_safe", &self.url_safe)
            .field("envelope", &self.envelope)
            .field("json", &self.json)
            .finish()
    }
}

/// A verified Rails token.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RailsVerified<T> {
    /// The value.
    pub value: T,
    /// Which configuration verified it: 0 is the primary, 1.. the accepted older ones in
    /// order. Anything but 0 means re-issue (Rails' `on_rotation`).
    pub config: usize,
    /// The expiry, if the token had one.
    pub expires_at: Option<SystemTime>,
}

/// Signs with one configuration and accepts it and older ones, tried in order, like a Rails
/// `MessageVerifier` with `rotate`.
///
/// ```
/// use tokenring::Secret;
/// use tokenring::rails::{RailsConfig, RailsDigest, RailsOptions, RailsVerifier};
///
/// let old = RailsConfig::new(Secret::from_bytes([1u8; 64]));
/// let new = RailsConfig::new(Secret::from_bytes([2u8; 64])).digest(RailsDigest::Sha256).url_safe(true);
/// let verifier = RailsVerifier::new(new).accept(old.clone());
/// let old_token = RailsVerifier::new(old).generate(&42, RailsOptions::new().purpose("login"))?;
/// let verified = verifier.verify::<u64>(&old_token, Some("login"))?;
/// assert_eq!((verified.value, verified.config), (42, 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct RailsVerifier {
    configs: Vec<RailsConfig>,
    max_token_len: usize,
    clock: std::sync::Arc<dyn Clock>,
}

impl RailsVerifier {
    /// Signs and verifies with `primary`.
    pub fn new(primary: RailsConfig) -> Self {
        Self {
            configs: vec![primary],
            max_token_len: Verifier::DEFAULT_MAX_TOKEN_LEN,
            clock: std::sync::Arc::new(SystemClock),
        }
    }

    /// A verifier over the Rails secrets held in a tokenring keyring, so Rails tokens follow
    /// the same staged rotation as native ones: the keyring's signing key signs, and every key
    /// that verifies now (pending or active) is accepted, in the keyring's signing preference. Each key's secret is
    /// used as the Rails verifier secret exactly (put the derived 64-byte secret, e.g. from
    /// `RailsKeyGenerator`, in the keyring); `config` adds the Rails options. The keyring's
    /// clock judges expiry. States are read now: rebuild it per use from a hot keyring (it
    /// only clones secrets).
    ///
    /// Returns `None` when no key is active, or the active one is not an HMAC key (Rails
    /// MACs; `EdDSA`/`ES256` keys are left out of the accepted ones too), as nothing could
    /// sign.
    pub fn from_keyring(keyring: &Keyring, config: impl Fn(Secret) -> RailsConfig) -> Option<Self> {
        let signing = keyring.signing_key()?;
        let mut verifier =
            Self::new(config(signing.mac_secret()?.clone())).clock(keyring.clock().clone());
        for key in keyring.verifying_keys() {
            if let (true, Some(secret)) = (key.id() != signing.id(), key.mac_secret()) {
                verifier = verifier.accept(config(secret.clone()));
            }
        }
        Some(verifier)
    }

    /// Also accepts tokens of `older` (Rails' `rotate`), tried after those before it.
    #[must_use]
    pub fn accept(mut self, older: RailsConfig) -> Self {
        self.configs.push(older);
        self
    }

    /// Longest token accepted or minted (4096 unless set).
    #[must_use]
    pub fn max_token_len(mut self, max: usize) -> Self {
        self.max_token_len = max;
        self
    }

    /// The clock expiry is judged by (the system clock unless set).
    #[must_use]
    pub fn clock(mut self, clock: std::sync::Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Mints a token with the primary configuration.
    ///
    /// # Errors
    ///
    /// [`SignError`] if the value is not JSON, the expiry is out of range, or the token
    /// would exceed the size cap.
    pub fn generate<T: Serialize + ?Sized>(
        &self,
        value: &T,
        options: RailsOptions<'_>,
    ) -> Result<String, SignError> {
        let config = &self.configs[0];
        let payload = metadata::wrap(value, &options, config.envelope, config.json, &*self.clock)?;
        // Sized once for the data, `--` and the digest the MAC appends.
        let encoded = base64::encoded_len(payload.len(), !config.url_safe).unwrap_or(0);
        let mut data = String::with_capacity(encoded + 2 + config.digest.hex_len());
        if config.url_safe {
            URL_SAFE_NO_PAD.encode_string(&payload, &mut data);
        } else {
            STANDARD.encode_string(&payload, &mut data);
        }
        let len = data.len() + 2 + config.digest.hex_len();
        if len > self.max_token_len {
            return Err(SignError::TooLarge {
                len,
                max: self.max_token_len,
            });
        }
        Ok(config.mac.sign(data))
    }

    /// Verifies `token` for `purpose` with each configuration in turn.
    ///
    /// As Rails 7.1+ does, a later configuration is tried only when the earlier ones do not
    /// recognise the signature: a correctly signed token that is expired or for another
    /// purpose is final.
    ///
    /// # Errors
    ///
    /// A [`RailsError`] saying why; the primary's when no configuration recognised it.
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        purpose: Option<&str>,
    ) -> Result<RailsVerified<T>, RailsError> {
        let now = self.clock.now();
        open_with_each(
            &self.configs,
            token,
            self.max_token_len,
            RailsError::BadSignature,
            |config| {
                with_signed_payload(config.digest, &config.mac, token, |payload| {
                    metadata::unwrap(payload, purpose, now)
                })
            },
        )
    }
}
