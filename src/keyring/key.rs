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

/// One key: an id, an algorithm, a master secret and an optional validity window.
///
/// Built with [`Key::new`] and the `with_*` methods; checked when put in a [`Keyring`](super::Keyring).
#[derive(Clone, Debug)]
pub struct Key {
    pub(super) id: Arc<str>,
    pub(super) algorithm: Algorithm,
    pub(super) secret: Secret,
    pub(super) activates_at: Option<SystemTime>,
    pub(super) expires_at: Option<SystemTime>,
    pub(super) disabled: bool,
}

impl Key {
    /// An active HS256 key with no expiry.
    pub fn new(id: impl Into<Arc<str>>, secret: Secret) -> Self {
        Self {
            id: id.into(),
            algorithm: Algorithm::default(),
            secret,
            activates_at: None,
            expires_at: None,
            disabled: false,
        }
    }

    /// Sets the MAC algorithm.
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

    /// The MAC algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The master secret. Verifiers derive per-salt keys from it.
    pub fn secret(&self) -> &Secret {
        &self.secret
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
