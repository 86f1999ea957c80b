//! One key and its lifecycle state.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use crate::algorithm::Algorithm;
use crate::clock::whole_seconds;
use crate::error::VerifyError;
use crate::secret::Secret;

/// The lifecycle state of a key at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyState {
    /// Before `activates_at`: verifies, never signs. How a new key reaches every node before
    /// any node signs with it.
    Pending,
    /// Verifies; the newest active key signs.
    Active,
    /// At or after `expires_at`: rejected.
    Expired,
    /// Revoked: rejected at once, whatever its times say.
    Disabled,
}

impl KeyState {
    /// Whether tokens signed with a key in this state are accepted.
    pub fn verifies(self) -> bool {
        matches!(self, Self::Pending | Self::Active)
    }

    /// Lower-case name: `pending`, `active`, `expired`, `disabled`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Disabled => "disabled",
        }
    }
}

impl fmt::Display for KeyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, not `write_str`: callers align tables with `{:<8}`.
        f.pad(self.name())
    }
}

/// One key: an id, an algorithm, its key material and an optional validity window.
///
/// The material is an HMAC master secret (`HS*`), or — `EdDSA`, `ES256`, feature `jose` — a
/// key pair: the private key's bytes and the public key, or the public key alone (a key that
/// verifies and never signs).
///
/// Built with [`Key::new`] (or, feature `jose`, `Key::from_signing_key` and
/// `Key::from_public_key`) and the `with_*` methods; checked when put in a
/// [`Keyring`](super::Keyring), which also parses a pair's keys.
#[derive(Clone, Debug)]
pub struct Key {
    pub(super) id: Arc<str>,
    pub(super) algorithm: Algorithm,
    // The HMAC master secret, or a private key's bytes; `None` for a public key alone.
    pub(super) secret: Option<Secret>,
    #[cfg(feature = "jose")]
    pub(super) pair: Option<super::pair::KeyPair>,
    pub(super) activates_at: Option<SystemTime>,
    pub(super) expires_at: Option<SystemTime>,
    pub(super) disabled: bool,
}

impl Key {
    /// An active HS256 key with no expiry, `secret` its master secret.
    ///
    /// With [`Key::with_algorithm`] `EdDSA` or `ES256`, `secret` is instead the private key's
    /// 32 bytes (an Ed25519 seed, a P-256 scalar), checked and paired with its public key by
    /// the keyring (feature `jose`).
    pub fn new(id: impl Into<Arc<str>>, secret: Secret) -> Self {
        Self::unchecked(id, Algorithm::default(), Some(secret))
    }

    /// An active key with no expiry, its material as given: the keyring checks it.
    pub(super) fn unchecked(
        id: impl Into<Arc<str>>,
        algorithm: Algorithm,
        secret: Option<Secret>,
    ) -> Self {
        Self {
            id: id.into(),
            algorithm,
            secret,
            #[cfg(feature = "jose")]
            pair: None,
            activates_at: None,
            expires_at: None,
            disabled: false,
        }
    }

    /// Sets the algorithm (see [`Key::new`] for what the secret then is).
    #[must_use]
    pub fn with_algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Sets when the key starts signing (it verifies from the moment it is loaded), rounded
    /// down to the second as keyring files hold it.
    #[must_use]
    pub fn with_activates_at(mut self, at: Option<SystemTime>) -> Self {
        self.activates_at = at.map(whole_seconds);
        self
    }

    /// Sets when the key stops verifying, rounded down to the second.
    #[must_use]
    pub fn with_expires_at(mut self, at: Option<SystemTime>) -> Self {
        self.expires_at = at.map(whole_seconds);
        self
    }

    /// Revokes (or restores) the key.
    #[must_use]
    pub fn with_disabled(mut self, disabled: bool) -> Self {
        self.disabled = disabled;
        self
    }

    /// The id tokens carry.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The secret: an HMAC key's master secret (verifiers derive per-salt keys from it), or a
    /// key pair's private bytes. `None` for a public key alone, which can only verify.
    pub fn secret(&self) -> Option<&Secret> {
        self.secret.as_ref()
    }

    /// The HMAC master secret, for formats that MAC (Rails); `None` for a public-key key.
    pub(crate) fn mac_secret(&self) -> Option<&Secret> {
        self.secret
            .as_ref()
            .filter(|_| !self.algorithm.is_public_key())
    }

    /// When the key starts signing, if set.
    pub fn activates_at(&self) -> Option<SystemTime> {
        self.activates_at
    }

    /// When the key stops verifying, if set.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }

    /// Whether the key is revoked.
    pub fn is_disabled(&self) -> bool {
        self.disabled
    }

    /// The key's state at `now`. Revocation wins over everything; expiry over activation.
    pub fn state_at(&self, now: SystemTime) -> KeyState {
        if self.disabled {
            KeyState::Disabled
        } else if self.expires_at.is_some_and(|at| now >= at) {
            KeyState::Expired
        } else if self.activates_at.is_some_and(|at| now < at) {
            KeyState::Pending
        } else {
            KeyState::Active
        }
    }
}

#[cfg(feature = "jose")]
impl Key {
    /// An active key that signs with `key` (`EdDSA` or `ES256`) and verifies with its public
    /// key.
    pub fn from_signing_key(id: impl Into<Arc<str>>, key: crate::jose::SigningKey) -> Self {
        let algorithm = key.algorithm().into();
        Self {
            pair: Some(super::pair::KeyPair::signing(key.clone())),
            ..Self::unchecked(id, algorithm, Some(key.to_bytes()))
        }
    }

    /// An active key that only verifies, with `key`: a public keyring's key. It holds no
    /// secret; a verifier whose signing key is one refuses to sign
    /// ([`SignError::NoPrivateKey`](crate::SignError::NoPrivateKey)).
    pub fn from_public_key(id: impl Into<Arc<str>>, key: crate::jose::PublicKey) -> Self {
        let algorithm = key.algorithm().into();
        Self {
            pair: Some(super::pair::KeyPair::public(key)),
            ..Self::unchecked(id, algorithm, None)
        }
    }

    /// The public key of an `EdDSA` or `ES256` key in a keyring (the keyring pairs it with
    /// the private key); `None` for HMAC keys.
    pub fn public_key(&self) -> Option<&crate::jose::PublicKey> {
        self.pair.as_ref().map(super::pair::KeyPair::public_key)
    }

    /// The private key that signs, when this key has one.
    pub(crate) fn signing_key(&self) -> Option<&crate::jose::SigningKey> {
        self.pair
            .as_ref()
            .and_then(super::pair::KeyPair::signing_key)
    }

    /// The same key without its private half: what a public keyring holds.
    pub(crate) fn to_public(&self) -> Option<Self> {
        let pair = self.pair.as_ref()?;
        Some(Self {
            secret: None,
            pair: Some(super::pair::KeyPair::public(pair.public_key().clone())),
            ..self.clone()
        })
    }
}

impl Key {
    /// `Ok` if the key's tokens are accepted at `now` (pending or active); the error a
    /// verifier reports otherwise.
    pub(crate) fn ensure_verifies_at(&self, now: SystemTime) -> Result<(), VerifyError> {
        match self.state_at(now) {
            KeyState::Pending | KeyState::Active => Ok(()),
            KeyState::Disabled => Err(VerifyError::KeyDisabled {
                key_id: self.id().to_owned(),
            }),
            KeyState::Expired => Err(VerifyError::KeyExpired {
                key_id: self.id().to_owned(),
                at: self.expires_at.unwrap_or(now),
            }),
        }
    }
}
