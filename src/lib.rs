//! Signed, expiring, purpose-bound tokens with zero-downtime key rotation.
//!
//! tokenring brings Rails' `MessageVerifier` and `KeyGenerator` to Rust and adds what a fleet
//! of long-running servers needs: a keyring of several keys, each with a lifecycle, so keys
//! rotate without a restart and without rejecting a single valid token.
//!
//! # Quick start
//!
//! ```
//! use std::time::Duration;
//! use tokenring::{Keyring, TokenOptions, Verifier, VerifyError};
//!
//! let keyring = Keyring::from_json(r#"{"keys": [
//!   {"id": "2026-11", "secret": "bm90IGEgcmVhbCBzZWNyZXQsIGp1c3QgdGhlIGRvY3MhIQ=="}
//! ]}"#)?;
//! let verifier = Verifier::builder(keyring).salt("password_reset").build();
//!
//! let options = TokenOptions::new().purpose("reset").expires_in(Duration::from_secs(15 * 60));
//! let token = verifier.generate(&serde_json::json!({"user": 42}), options)?;
//!
//! let verified = verifier.verify::<serde_json::Value>(&token, Some("reset"))?;
//! assert_eq!(verified.value["user"], 42);
//! assert!(matches!(
//!     verifier.verify::<serde_json::Value>(&token, Some("confirm")),
//!     Err(VerifyError::PurposeMismatch { .. })
//! ));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Concepts
//!
//! - [`Secret`]: key bytes that zeroize on drop and never print.
//! - [`KeyGenerator`]: HKDF-SHA256 derivation of per-purpose keys from a master key.
//! - [`Key`] and [`Keyring`]: keys with `activates_at` / `expires_at` / `disabled`, and the
//!   validated, immutable snapshot of them a process trusts. The newest active key signs;
//!   pending and active keys verify; expired and disabled keys are rejected.
//! - [`Verifier`]: signs with the current key and verifies with any key that still verifies,
//!   found by the id in the token. [`Verified`] says which key it was and whether it is
//!   still the current one.
//! - [`KeyringSource`]: where a keyring comes from — [`FileSource`], [`EnvSource`],
//!   [`KeysSource`], or your own.
//! - `HotKeyring` (feature `watch`): a keyring that follows its source, swapped whole through
//!   `arc-swap` so verifiers never lock; a broken new file never replaces a good keyring.
//! - [`Verifiers`]: one verifier per name (salt) with defaults and per-name overrides.
//! - [`Record`], signed ids ([`Verifiers::signed_id`], [`Verifiers::find_signed`]) and
//!   [`TokenFor`] (Rails' `generates_token_for`): tokens for records of any database layer.
//! - [`inspect`]: decode without verifying, for debugging.
//!
//! The token format is specified byte by byte in `docs/FORMAT.md`; the keyring file format in
//! `keyrings/README.md`; the threat model in `SECURITY.md`.
//!
//! # Features
//!
//! - `cli` (default): the `tokenring` command-line tool.
//! - `watch` (default): hot-reloaded keyring files.
//! - `rails`: Rails `MessageVerifier` wire compatibility.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod algorithm;
mod clock;
mod codec;
mod error;
pub mod inspect;
mod key_generator;
mod keyring;
#[cfg(feature = "rails")]
pub mod rails;
mod record;
mod secret;
mod verifier;

pub use algorithm::{Algorithm, UnknownAlgorithm};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{
    EntryError, EnvProblem, FileProblem, KeyRef, KeyringError, Malformed, SecretError, SharedError,
    SignError, ValueShape, VerifyError,
};
pub use key_generator::{KeyGenerator, MAX_KEY_LEN};
pub use keyring::{EnvSource, FileSource, KeyringRef, KeyringSource, KeysSource};
#[cfg(feature = "watch")]
pub use keyring::{
    HotKeyring, HotKeyringBuilder, KeyStatus, ReloadEvent, Snapshot, Status, WatchMode,
};
pub use keyring::{Key, KeyState, Keyring};
pub use record::{
    FindError, Found, Record, SIGNED_ID_VERIFIER, TOKEN_FOR_VERIFIER, TokenFor, TokenForBuilder,
};
pub use secret::Secret;
pub use verifier::{
    DEFAULT_MAX_TOKEN_LEN, DEFAULT_SALT, Expiry, Rotated, TokenOptions, Verified, Verifier,
    VerifierBuilder, VerifierConfig, Verifiers, VerifiersBuilder,
};
