//! What a caller binds into a token and what it learns from one.

use crate::keyring::KeyId;
use std::time::{Duration, SystemTime};

/// When a token expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Expiry {
    /// The verifier's default expiry (none unless configured).
    #[default]
    Default,
    /// Never, whatever the verifier's default.
    Never,
    /// This long after signing.
    In(Duration),
    /// At this time (to the second, rounded down).
    At(SystemTime),
}

/// What to bind into one token besides its value.
///
/// ```
/// use std::time::Duration;
/// use tokenring::TokenOptions;
///
/// let options = TokenOptions::new().purpose("password_reset").expires_in(Duration::from_secs(900));
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenOptions<'a> {
    pub(super) purpose: Option<&'a str>,
    pub(super) expiry: Expiry,
}

impl<'a> TokenOptions<'a> {
    /// No purpose, the verifier's default expiry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Binds a purpose: the token verifies only when this exact purpose is asked for.
    #[must_use]
    pub fn purpose(mut self, purpose: &'a str) -> Self {
        self.purpose = Some(purpose);
        self
    }

    /// Expires `after` from now.
    #[must_use]
    pub fn expires_in(mut self, after: Duration) -> Self {
        self.expiry = Expiry::In(after);
        self
    }

    /// Expires at `at`.
    #[must_use]
    pub fn expires_at(mut self, at: SystemTime) -> Self {
        self.expiry = Expiry::At(at);
        self
    }

    /// Never expires, whatever the verifier's default.
    #[must_use]
    pub fn never_expires(mut self) -> Self {
        self.expiry = Expiry::Never;
        self
    }

    /// Sets the expiry.
    #[must_use]
    pub fn expiry(mut self, expiry: Expiry) -> Self {
        self.expiry = expiry;
        self
    }
}

/// A value whose token verified, and which key vouched for it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified<T> {
    /// The signed value.
    pub value: T,
    /// The id of the key that verified it.
    pub key_id: KeyId,
    /// Whether that key is the one signing now. When it is not, the token was minted before
    /// a rotation: re-issue it if it is long-lived (Rails' `on_rotation`).
    pub is_current_key: bool,
    /// When the token expires, if it does.
    pub expires_at: Option<SystemTime>,
}

impl<T> Verified<T> {
    /// The value, dropping the rest.
    pub fn into_value(self) -> T {
        self.value
    }
}

/// Passed to a [`VerifierBuilder::on_rotation`](super::VerifierBuilder::on_rotation) hook when a token verifies with a key that is
/// not the one signing now, so the application can re-issue it (Rails' `on_rotation`).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Rotated<'a> {
    /// The key that verified the token.
    pub key_id: &'a str,
    /// The key signing now, if any.
    pub signing_key_id: Option<&'a str>,
    /// The verifier's salt.
    pub salt: &'a str,
}
