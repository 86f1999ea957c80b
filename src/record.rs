//! Tokens for records: signed ids, and Rails' `generates_token_for` — for any record type and
//! any database layer (the caller's finder does the lookup, sync or async).
//!
//! - [`Verifiers::signed_id`] / [`Verifiers::find_signed`]: a record's id, signed, bound to its
//!   model name and a purpose, optionally expiring.
//! - [`TokenFor`]: the id plus a *fingerprint* of record state (a slice of the password hash,
//!   the e-mail, a counter), so a password-reset token dies by itself when the password
//!   changes — with nothing stored.
//!
//! # Security
//!
//! Tokens are signed, not encrypted: the id and the fingerprint are readable by whoever holds
//! the token. Fingerprint with values that change when the token must die, never with
//! secrets — a few characters of a salted password hash (as Rails' guides do), an
//! `updated_at`, a counter; not the hash itself.

use crate::keyring::KeyId;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{SharedError, SignError, VerifyError};
use crate::verifier::{TokenOptions, Verified, Verifier, Verifiers};

/// A record type tokens can be made for. Implement it for your model:
///
/// ```
/// use tokenring::Record;
///
/// struct User { id: i64, email: String }
///
/// impl Record for User {
///     type Id = i64;
///     const MODEL_NAME: &'static str = "User";
///     fn record_id(&self) -> i64 { self.id }
/// }
/// ```
///
/// The defaulted items are the per-class configuration: which named verifier (and so which
/// keyring and defaults, see [`Verifiers`]) its tokens use, and a default expiry.
pub trait Record {
    /// The primary key: an integer, a UUID, a string — anything serde handles.
    type Id: Serialize + DeserializeOwned;

    /// The model name bound into every token (`User` tokens never verify as `Account` ones).
    const MODEL_NAME: &'static str;

    /// This record's id.
    fn record_id(&self) -> Self::Id;

    /// The named verifier signed ids of this type use.
    fn signed_id_verifier() -> &'static str {
        Verifiers::SIGNED_ID
    }

    /// Expiry for signed ids made without one (`None`: the verifier's default).
    fn signed_id_expires_in() -> Option<Duration> {
        None
    }

    /// The named verifier `TokenFor` definitions of this type use.
    fn token_for_verifier() -> &'static str {
        Verifiers::TOKEN_FOR
    }
}

/// A record found through a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Found<R> {
    /// The record the finder returned for the token's id.
    pub record: R,
    /// The key that verified the token.
    pub key_id: KeyId,
    /// Whether that key still signs; if not, re-issue the token.
    pub is_current_key: bool,
}

/// Why no record came back from a token. Each outcome is distinct, so an application can tell
/// a forged or expired link from a deleted account.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FindError<E = std::convert::Infallible> {
    /// The token did not verify (tampered, expired, wrong model or purpose, unknown key…).
    #[error("invalid token: {0}")]
    Invalid(#[from] VerifyError),
    /// The token is valid but no record has its id (deleted since).
    #[error("valid token, but no such record")]
    NotFound,
    /// The token is valid and the record exists, but its fingerprint changed (the password
    /// was reset, the e-mail confirmed): the token is used up.
    #[error("valid token, but the record changed since it was issued")]
    Stale,
    /// The finder failed (a database error).
    #[error("finder failed: {0}")]
    Finder(E),
}

/// The purpose a native signed id binds: the model name as written, then the purpose,
/// joined by `/` (`User/profile`). Rails underscores the name instead (`user/profile`,
/// `rails::signed_id_purpose`); the native rule is part of the v1 wire format and stays.
fn signed_id_purpose<R: Record>(purpose: Option<&str>) -> String {
    match purpose {
        Some(purpose) if !purpose.is_empty() => format!("{}/{purpose}", R::MODEL_NAME),
        _ => R::MODEL_NAME.to_owned(),
    }
}

/// The purpose `generates_token_for` binds, in Rails and in [`TokenFor`] alike: class name,
/// purpose and `expires_in` in seconds, joined by newlines (`"User\npassword_reset\n900"`;
/// no expiry leaves the last line empty). The expiry is signed too, so a definition whose
/// lifetime changes stops accepting the old tokens.
///
/// ```
/// use std::time::Duration;
/// use tokenring::record::token_for_purpose;
///
/// let purpose = token_for_purpose("User", "password_reset", Some(Duration::from_secs(900)));
/// assert_eq!(purpose, "User\npassword_reset\n900");
/// ```
pub fn token_for_purpose(class_name: &str, purpose: &str, expires_in: Option<Duration>) -> String {
    let expires = expires_in
        .map(|d| d.as_secs().to_string())
        .unwrap_or_default();
    format!("{class_name}\n{purpose}\n{expires}")
}

impl Verifiers {
    /// A signed id for `record`: its id, bound to its model name and `purpose`, expiring
    /// after `expires_in` (else the type's [`Record::signed_id_expires_in`], else the
    /// verifier's default).
    ///
    /// # Errors
    ///
    /// As [`Verifier::generate`].
    pub fn signed_id<R: Record>(
        &self,
        record: &R,
        purpose: Option<&str>,
        expires_in: Option<Duration>,
    ) -> Result<String, SignError> {
        let purpose = signed_id_purpose::<R>(purpose);
        let mut options = TokenOptions::new().purpose(&purpose);
        if let Some(after) = expires_in.or_else(R::signed_id_expires_in) {
            options = options.expires_in(after);
        }
        self.get(R::signed_id_verifier())
            .generate(&record.record_id(), options)
    }

    /// The id in a signed id made for type `R` and `purpose`, without a lookup.
    ///
    /// # Errors
    ///
    /// Any [`VerifyError`]; a signed id for another model or purpose is a
    /// [`VerifyError::PurposeMismatch`].
    pub fn verify_signed_id<R: Record>(
        &self,
        token: &str,
        purpose: Option<&str>,
    ) -> Result<Verified<R::Id>, VerifyError> {
        self.get(R::signed_id_verifier())
            .verify(token, Some(&signed_id_purpose::<R>(purpose)))
    }

    /// Verifies a signed id and loads its record through `finder` (`Ok(None)`: no such row).
    ///
    /// # Errors
    ///
    /// [`FindError::Invalid`], [`FindError::NotFound`] or the finder's own error.
    pub fn find_signed<R: Record, E>(
        &self,
        token: &str,
        purpose: Option<&str>,
        finder: impl FnOnce(R::Id) -> Result<Option<R>, E>,
    ) -> Result<Found<R>, FindError<E>> {
        let verified = self.verify_signed_id::<R>(token, purpose)?;
        let (key_id, is_current_key) = (verified.key_id, verified.is_current_key);
        found(finder(verified.value), key_id, is_current_key)
    }

    /// [`Verifiers::find_signed`] with an async finder (sqlx, SeaORM, diesel-async…).
    ///
    /// # Errors
    ///
    /// As [`Verifiers::find_signed`].
    pub async fn find_signed_async<R, E, F, Fut>(
        &self,
        token: &str,
        purpose: Option<&str>,
        finder: F,
    ) -> Result<Found<R>, FindError<E>>
    where
        R: Record,
        F: FnOnce(R::Id) -> Fut,
        Fut: Future<Output = Result<Option<R>, E>>,
    {
        let verified = self.verify_signed_id::<R>(token, purpose)?;
        let (key_id, is_current_key) = (verified.key_id, verified.is_current_key);
        found(finder(verified.value).await, key_id, is_current_key)
    }

    /// Starts a [`TokenFor`] definition for records of type `R` and `purpose`.
    pub fn token_for<R: Record>(&self, purpose: &str) -> TokenForBuilder<R> {
        TokenForBuilder {
            verifier: self.get(R::token_for_verifier()),
            purpose: purpose.to_owned(),
            expires_in: None,
            fingerprint: None,
            record: PhantomData,
        }
    }
}

/// A finder's answer as a find outcome.
fn found<R, E>(
    result: Result<Option<R>, E>,
    key_id: KeyId,
    is_current_key: bool,
) -> Result<Found<R>, FindError<E>> {
    match result {
        Ok(Some(record)) => Ok(Found {
            record,
            key_id,
            is_current_key,
        }),
        Ok(None) => Err(FindError::NotFound),
        Err(e) => Err(FindError::Finder(e)),
    }
}

type Fingerprint<R> = Arc<dyn Fn(&R) -> Result<Value, serde_json::Error> + Send + Sync>;

/// Configures a [`TokenFor`]; see [`Verifiers::token_for`].
#[must_use]
pub struct TokenForBuilder<R> {
    verifier: Verifier,
    purpose: String,
    expires_in: Option<Duration>,
    fingerprint: Option<Fingerprint<R>>,
    record: PhantomData<fn(&R)>,
}

impl<R: Record> TokenForBuilder<R> {
    /// Tokens expire this long after they are made. Part of what is signed: changing it
    /// invalidates outstanding tokens, as in Rails.
    pub fn expires_in(mut self, after: Duration) -> Self {
        self.expires_in = Some(after);
        self
    }

    /// The record state the token depends on; when it changes, the token stops resolving.
    /// Serialised into the token, readable by its holder: see the module's `# Security`.
    pub fn fingerprint<T: Serialize>(
        mut self,
        fingerprint: impl Fn(&R) -> T + Send + Sync + 'static,
    ) -> Self {
        self.fingerprint = Some(Arc::new(move |record| {
            serde_json::to_value(fingerprint(record))
        }));
        self
    }

    /// Builds the token definition; its verifier (and derived keys) come from the registry.
    pub fn build(self) -> TokenFor<R> {
        TokenFor {
            full_purpose: token_for_purpose(R::MODEL_NAME, &self.purpose, self.expires_in),
            verifier: self.verifier,
            expires_in: self.expires_in,
            fingerprint: self.fingerprint,
            record: PhantomData,
        }
    }
}

/// Rails' `generates_token_for`: tokens for one (record type, purpose), optionally expiring,
/// optionally tied to a fingerprint of record state.
///
/// ```
/// use std::convert::Infallible;
/// use std::time::Duration;
/// use tokenring::{Key, Keyring, Record, Secret, Verifiers};
/// use tokenring::record::FindError;
///
/// #[derive(Clone)]
/// struct User { id: i64, password_hash: String }
/// impl Record for User {
///     type Id = i64;
///     const MODEL_NAME: &'static str = "User";
///     fn record_id(&self) -> i64 { self.id }
/// }
///
/// let verifiers = Verifiers::builder(Keyring::new(vec![Key::new("k1", Secret::random(32)?)])?).build();
/// let resets = verifiers
///     .token_for::<User>("password_reset")
///     .expires_in(Duration::from_secs(15 * 60))
///     .fingerprint(|u: &User| u.password_hash[u.password_hash.len() - 10..].to_owned())
///     .build();
///
/// let mut user = User { id: 7, password_hash: "$argon2id$v=19$...$abcdefghijklmnop".into() };
/// let token = resets.generate(&user)?;
/// let found = resets.resolve(&token, |id| Ok::<_, Infallible>((id == 7).then(|| user.clone())))?;
/// assert_eq!(found.record.id, 7);
///
/// user.password_hash = "$argon2id$v=19$...$a-new-password-hash".into();
/// assert!(matches!(
///     resets.resolve(&token, |_| Ok::<_, Infallible>(Some(user.clone()))),
///     Err(FindError::Stale)
/// ));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TokenFor<R> {
    verifier: Verifier,
    full_purpose: String,
    expires_in: Option<Duration>,
    fingerprint: Option<Fingerprint<R>>,
    record: PhantomData<fn(&R)>,
}

// By hand: a derive would ask `R: Clone`, which a definition never needs.
impl<R> Clone for TokenFor<R> {
    fn clone(&self) -> Self {
        Self {
            verifier: self.verifier.clone(),
            full_purpose: self.full_purpose.clone(),
            expires_in: self.expires_in,
            fingerprint: self.fingerprint.clone(),
            record: PhantomData,
        }
    }
}

impl<R: Record> TokenFor<R> {
    /// The payload: `[id]` or `[id, fingerprint]`, as Rails builds it. An id or fingerprint
    /// that cannot be serialised is an error, never a `null` that would match forever.
    fn payload(&self, record: &R) -> Result<Value, serde_json::Error> {
        let id = serde_json::to_value(record.record_id())?;
        Ok(match &self.fingerprint {
            Some(fingerprint) => Value::Array(vec![id, fingerprint(record)?]),
            None => Value::Array(vec![id]),
        })
    }

    /// A token for `record`.
    ///
    /// # Errors
    ///
    /// As [`Verifier::generate`].
    pub fn generate(&self, record: &R) -> Result<String, SignError> {
        let mut options = TokenOptions::new().purpose(&self.full_purpose);
        options = match self.expires_in {
            Some(after) => options.expires_in(after),
            None => options.never_expires(),
        };
        let payload = self
            .payload(record)
            .map_err(|e| SignError::Serialize(SharedError::new(e)))?;
        self.verifier.generate(&payload, options)
    }

    /// Verifies the token and returns the id it names, for a finder to load.
    fn verify(&self, token: &str) -> Result<(Verified<Value>, R::Id), VerifyError> {
        let verified = self
            .verifier
            .verify::<Value>(token, Some(&self.full_purpose))?;
        let id = match &verified.value {
            Value::Array(items) if !items.is_empty() && items.len() <= 2 => {
                serde_json::from_value(items[0].clone())
                    .map_err(|e| VerifyError::InvalidValue(SharedError::new(e)))?
            }
            _ => {
                return Err(VerifyError::InvalidValue(SharedError::new(
                    serde::de::Error::custom("expected [id] or [id, fingerprint]"),
                )));
            }
        };
        Ok((verified, id))
    }

    fn check(
        &self,
        verified: Verified<Value>,
        record: Option<R>,
    ) -> Result<Found<R>, FindError<()>> {
        let record = record.ok_or(FindError::NotFound)?;
        // Fail closed: a fingerprint that no longer serialises does not match.
        if self.payload(&record).ok().as_ref() != Some(&verified.value) {
            return Err(FindError::Stale);
        }
        Ok(Found {
            record,
            key_id: verified.key_id,
            is_current_key: verified.is_current_key,
        })
    }

    /// Verifies `token`, loads the record through `finder`, and returns it only if its
    /// fingerprint still matches.
    ///
    /// # Errors
    ///
    /// [`FindError::Invalid`], [`FindError::NotFound`], [`FindError::Stale`], or the finder's
    /// own error.
    pub fn resolve<E>(
        &self,
        token: &str,
        finder: impl FnOnce(R::Id) -> Result<Option<R>, E>,
    ) -> Result<Found<R>, FindError<E>> {
        let (verified, id) = self.verify(token)?;
        let record = finder(id).map_err(FindError::Finder)?;
        self.check(verified, record).map_err(retype)
    }

    /// [`TokenFor::resolve`] with an async finder.
    ///
    /// # Errors
    ///
    /// As [`TokenFor::resolve`].
    pub async fn resolve_async<E, F, Fut>(
        &self,
        token: &str,
        finder: F,
    ) -> Result<Found<R>, FindError<E>>
    where
        F: FnOnce(R::Id) -> Fut,
        Fut: Future<Output = Result<Option<R>, E>>,
    {
        let (verified, id) = self.verify(token)?;
        let record = finder(id).await.map_err(FindError::Finder)?;
        self.check(verified, record).map_err(retype)
    }
}

/// `check` never produces `Finder`; give its error the caller's finder type.
fn retype<E>(error: FindError<()>) -> FindError<E> {
    match error {
        FindError::Invalid(e) => FindError::Invalid(e),
        FindError::NotFound => FindError::NotFound,
        FindError::Stale | FindError::Finder(()) => FindError::Stale,
    }
}

impl<R> fmt::Debug for TokenFor<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenFor")
            .field("purpose", &self.full_purpose)
            .field("expires_in", &self.expires_in)
            .field("fingerprint", &self.fingerprint.is_some())
            .finish_non_exhaustive()
    }
}
