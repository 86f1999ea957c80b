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
//!   validated, immutable snapshot of them a process trusts. Among the keys active now, the
//!   one with the latest `activates_at` signs; pending and active keys verify; expired and
//!   disabled keys are rejected.
//! - [`Verifier`]: signs with the current key and verifies with any key that still verifies,
//!   found by the id in the token. [`Verified`] says which key it was and whether it is
//!   still the current one.
//! - [`KeyringSource`]: where a keyring comes from — [`FileSource`],
//!   [`source::EnvSource`], [`source::KeysSource`], etcd (`source::EtcdSource`, feature
//!   `etcd`), or your own.
//! - `HotKeyring` (feature `hot`): a keyring that follows its source, swapped whole through
//!   `arc-swap` so verifiers never lock; a broken new file never replaces a good keyring.
//!   Its configuration and reports are in `hot`.
//! - [`Verifiers`]: one verifier per name (salt) with defaults and per-name overrides.
//! - [`Record`], signed ids ([`Verifiers::signed_id`], [`Verifiers::find_signed`]) and
//!   [`TokenFor`] (Rails' `generates_token_for`): tokens for records of any database layer.
//! - [`inspect`]: decode without verifying, for debugging.
//!
//! # Where things are
//!
//! The crate root holds what most programs name. The rest is grouped by concern, each
//! module importing only from those below it:
//!
//! | module | what |
//! |---|---|
//! | [`clock`] | the clock key states are read against, and a manual one for tests |
//! | [`error`] | every error and what it nests |
//! | `jose` (feature `jose`) | Ed25519 and P-256 keys, JWS compact tokens, JWKS (what key pairs in a keyring use) |
//! | [`keyring`] | the keyring as data: keys, states, ids, the JSON form, the handle verifiers take |
//! | [`rotation`] | add, activate, retire, revoke and prune as operations on a keyring |
//! | [`source`] | where keyrings come from: files, environment, code, etcd, your own |
//! | `hot` (feature `hot`) | following a source: reloads, the last good keyring, status |
//! | [`telemetry`] | the metrics (feature `metrics`) |
//! | [`verifier`] | options, builders, the registry's configuration |
//! | [`record`] | signed ids and tokens for records; finder outcomes |
//! | [`inspect`] | decoding without verifying |
//! | `rails` (feature `rails`) | Rails wire compatibility |
//!
//! The guides are in [`docs`].
//!
//! # Configuration style
//!
//! One rule: what does work when it is made — derives keys, starts a thread or a runtime,
//! loads a source — is configured by a builder, `X::builder(…)…build()`, whose `build` is
//! where every check and error happens ([`Verifier`], [`Verifiers`], `HotKeyring`,
//! `source::EtcdSource`). Plain values are their own builders, with consuming setters:
//! [`Key`] (`with_…`, because `Key::id()` and friends are its getters), [`TokenOptions`],
//! the Rails configurations and the axum jar's `JarConfig`. Caps are `max_token_len`
//! everywhere; accepting older keys or configurations is `accept`.
//!
//! # Features
//!
//! - `hot` (default): hot-reloaded keyrings (`HotKeyring`: files watched with `notify`,
//!   snapshots published through `arc-swap`). `watch` is its former name, kept as an alias.
//! - `rails`: Rails wire compatibility: `MessageVerifier`, `MessageEncryptor`, cookies.
//! - `etcd`: keyrings on etcd (`source::EtcdSource`), watched and acknowledged; implies
//!   `hot`.
//! - `metrics`: counters and gauges through the `metrics` facade (`telemetry`).
//! - `jose`: public-key tokens (`jose`): Ed25519 and P-256 keys, JWS, JWKS.
//!
//! The `tokenring` command-line tool is the `tokenring-cli` package of this workspace.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

// Bottom to top: each module imports only from those above it in this list (checked in CI by
// tests/imports.py).
mod key_id_grammar;
pub mod clock;
mod algorithm;
pub mod error;
mod secret;
mod key_generator;
#[cfg(feature = "jose")]
pub mod jose;
pub mod keyring;
pub mod rotation;
pub mod source;
pub mod telemetry;
#[cfg(feature = "hot")]
pub mod hot;
mod codec;
pub mod verifier;
pub mod record;
pub mod inspect;
#[cfg(feature = "rails")]
pub mod rails;

/// The README's Rust examples, compiled and run as doctests so they cannot rot (with the
/// features they use, as in CI's `--all-features`).
#[cfg(all(doctest, feature = "hot", feature = "rails"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

#[cfg(test)]
mod testing {
    /// The bytes of hex `text`, white space ignored (RFC vectors are printed in groups).
    pub(crate) fn hex(text: &str) -> Vec<u8> {
        let text: String = text.split_whitespace().collect();
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }
}

/// The guides: the token format byte by byte, rotating keys across a fleet, Rails
/// compatibility, and the keyring file format.
pub mod docs {
    #[doc = include_str!("../docs/FORMAT.md")]
    pub mod format {}
    #[doc = include_str!("../docs/ROTATION.md")]
    pub mod rotation {}
    #[doc = include_str!("../docs/RAILS.md")]
    pub mod rails {}
    #[doc = include_str!("../keyrings/README.md")]
    pub mod keyring_files {}
}

pub use algorithm::Algorithm;
pub use error::{KeyringError, SignError, VerifyError};
#[cfg(feature = "hot")]
pub use hot::HotKeyring;
pub use key_generator::KeyGenerator;
pub use keyring::{Key, KeyState, Keyring};
pub use record::{Record, TokenFor};
pub use secret::Secret;
pub use source::{FileSource, KeyringSource};
pub use verifier::{TokenOptions, Verified, Verifier, Verifiers};
