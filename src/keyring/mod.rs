//! The keyring as data: keys, their lifecycle, their ids, the validated and immutable set of
//! them a process trusts, and its JSON form.
//!
//! A [`Keyring`] is a snapshot: once built it never changes, so it can be shared as an
//! `Arc<Keyring>` by every thread and replaced whole when a new file arrives. Validation
//! happens in the constructors; an invalid keyring never exists. Where keyrings come from is
//! [`source`](crate::source); following a source is [`hot`](crate::hot).
//!
//! Key states are evaluated against the keyring's [`Clock`] each time they are asked for, not
//! frozen at load: a key with `activates_at` in the future verifies at once and starts
//! signing at that instant, on every node, with no reload.

mod counter;
pub(crate) mod handle;
mod json;
mod key;
mod key_id;
#[cfg(feature = "jose")]
mod pair;
#[cfg(feature = "jose")]
mod public;

pub use handle::KeyringRef;
pub(crate) use handle::{Computed, PerSnapshot};
pub use key::{Key, KeyState};
pub use key_id::KeyId;

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use crate::clock::{Clock, SystemClock, in_rfc3339_range};
use crate::error::{EntryError, KeyRef, KeyringError, SecretError, ValueShape};
use crate::key_id_grammar::{is_valid_key_id, is_valid_public_key_id};
use crate::secret::Secret;
use counter::StripedCounter;
use key_id::IdIndex;

/// A validated, immutable set of keys and the clock their states are read against.
///
/// A clone is the same snapshot: the same keys (their secrets copied, each copy zeroized on
/// drop), clock and description, and the same per-key verification counts
/// ([`Keyring::verified_count`]), which a verifier built on either adds to.
///
/// ```
/// use tokenring::{Key, Keyring, KeyState, Secret};
///
/// let keyring = Keyring::new(vec![Key::new("2026-11", Secret::from_bytes([1u8; 32]))])?;
/// assert_eq!(keyring.signing_key().map(|k| k.id()), Some("2026-11"));
/// assert_eq!(keyring.state("2026-11"), Some(KeyState::Active));
/// # Ok::<(), tokenring::KeyringError>(())
/// ```
pub struct Keyring {
    keys: Vec<Key>,
    by_id: IdIndex,
    // Indices of keys in signing preference: latest `activates_at` first (absent = earliest),
    // file order breaking ties. The signer is the first one active now.
    signing_order: Vec<usize>,
    clock: Arc<dyn Clock>,
    description: Option<String>,
    demo: bool,
    // How many tokens each key verified since this snapshot was built, index-aligned with
    // `keys`: how operators see an old key go idle before retiring it.
    // Shared by clones: a clone is the same snapshot.
    verified: Arc<[StripedCounter]>,
}

impl Clone for Keyring {
    fn clone(&self) -> Self {
        Self {
            keys: self.keys.clone(),
            by_id: self.by_id.clone(),
            signing_order: self.signing_order.clone(),
            clock: Arc::clone(&self.clock),
            description: self.description.clone(),
            demo: self.demo,
            verified: Arc::clone(&self.verified),
        }
    }
}

impl Keyring {
    /// The most keys a keyring may hold. A rotation keeps a handful; thousands mean a
    /// runaway script, and every key costs a derivation per verifier.
    pub const MAX_KEYS: usize = 1024;

    /// The longest keyring file read by default (1 MiB); see [`FileSource::max_bytes`](crate::FileSource::max_bytes).
    pub const MAX_FILE_LEN: u64 = 1 << 20;

    /// Validates `keys` against the system clock.
    ///
    /// # Errors
    ///
    /// See [`Keyring::new_with_clock`].
    pub fn new(keys: Vec<Key>) -> Result<Self, KeyringError> {
        Self::new_with_clock(keys, Arc::new(SystemClock))
    }

    /// Validates `keys`; their states will be read from `clock`.
    ///
    /// # Errors
    ///
    /// [`KeyringError::NoKeys`], [`KeyringError::TooManyKeys`], [`KeyringError::Entry`] for
    /// an invalid or duplicate id, a short secret, a time out of range or an `expires_at`
    /// not after `activates_at`, or [`KeyringError::NoUsableKey`] if no key
    /// verifies now. A keyring whose keys are all pending is valid: it verifies and cannot
    /// sign.
    pub fn new_with_clock(mut keys: Vec<Key>, clock: Arc<dyn Clock>) -> Result<Self, KeyringError> {
        if keys.is_empty() {
            return Err(KeyringError::NoKeys);
        }
        if keys.len() > Self::MAX_KEYS {
            return Err(KeyringError::TooManyKeys {
                count: keys.len(),
                max: Self::MAX_KEYS,
            });
        }
        let mut by_id = IdIndex::with_capacity_and_hasher(keys.len(), Default::default());
        for (index, key) in keys.iter_mut().enumerate() {
            let refuse = |key: &Key, error| {
                Err(KeyringError::entry(
                    KeyRef::new(index, Some(key.id())),
                    error,
                ))
            };
            let shape = || ValueShape::of(key.id());
            if key.algorithm().is_public_key() {
                if !is_valid_public_key_id(key.id().as_bytes()) {
                    return refuse(key, EntryError::InvalidPublicKeyId(shape()));
                }
            } else if !is_valid_key_id(key.id().as_bytes()) {
                return refuse(key, EntryError::InvalidId(shape()));
            }
            if let Err(error) = check_material(key) {
                return refuse(key, error);
            }
            for (field, at) in [
                ("activates_at", key.activates_at),
                ("expires_at", key.expires_at),
            ] {
                if at.is_some_and(|at| !in_rfc3339_range(at)) {
                    return refuse(key, EntryError::TimeOutOfRange(field));
                }
            }
            if let (Some(from), Some(to)) = (key.activates_at, key.expires_at)
                && to <= from
            {
                return refuse(key, EntryError::ExpiresBeforeActivation);
            }
            if let Some(&first) = by_id.get(key.id()) {
                return refuse(key, EntryError::DuplicateId { first });
            }
            by_id.insert(Arc::clone(&key.id), index);
        }
        let now = clock.now();
        if !keys.iter().any(|k| k.state_at(now).verifies()) {
            return Err(KeyringError::NoUsableKey);
        }
        let mut signing_order: Vec<usize> = (0..keys.len()).collect();
        // Stable sort: equal activation times keep file order.
        signing_order.sort_by(|&a, &b| keys[b].activates_at.cmp(&keys[a].activates_at));
        let verified = keys.iter().map(|_| StripedCounter::default()).collect();
        Ok(Self {
            keys,
            by_id,
            signing_order,
            clock,
            description: None,
            demo: false,
            verified,
        })
    }

    /// Sets the free-text description kept in the file.
    #[must_use]
    pub fn with_description(mut self, description: Option<String>) -> Self {
        self.description = description;
        self
    }

    /// Marks the keyring as a demo keyring: its secrets are public, never use it for real.
    #[must_use]
    pub fn with_demo(mut self, demo: bool) -> Self {
        self.demo = demo;
        self
    }

    /// The keys, in file order.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// The key with this id, in O(1).
    pub fn get(&self, id: &str) -> Option<&Key> {
        self.index_of(id).map(|i| &self.keys[i])
    }

    pub(crate) fn index_of(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// The clock key states are read against.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The current time by the keyring's clock.
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// The state of key `id` now, or `None` if there is no such key.
    pub fn state(&self, id: &str) -> Option<KeyState> {
        self.get(id).map(|k| k.state_at(self.now()))
    }

    /// The key that signs now: the active key with the latest `activates_at` (a key without
    /// one counts as the earliest), the first in the file among equals. `None` when no key
    /// is active.
    pub fn signing_key(&self) -> Option<&Key> {
        self.signing_index_at(self.now()).map(|i| &self.keys[i])
    }

    /// Keys that verify now (pending or active), in signing preference: the signer first when
    /// there is one. What a verifier of another format that tries keys in turn (Rails tokens
    /// carry no key id) should try, in that order.
    pub fn verifying_keys(&self) -> impl Iterator<Item = &Key> {
        let now = self.now();
        self.signing_order
            .iter()
            .map(|&i| &self.keys[i])
            .filter(move |k| k.state_at(now).verifies())
    }

    pub(crate) fn signing_index_at(&self, now: SystemTime) -> Option<usize> {
        self.signing_order
            .iter()
            .copied()
            .find(|&i| self.keys[i].state_at(now) == KeyState::Active)
    }

    /// How many tokens key `id` has verified since this keyring was loaded (through any
    /// verifier), or `None` if there is no such key.
    pub fn verified_count(&self, id: &str) -> Option<u64> {
        self.index_of(id).map(|i| self.verified[i].get())
    }

    pub(crate) fn record_verified(&self, index: usize) {
        self.verified[index].add_one();
    }

    /// The free-text description, if the file had one.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// Whether a key is a public key's (`EdDSA`, `ES256`, `RS256`, `PS256`): the keyring has
    /// a public keyring ([`Keyring::public`], feature `jose`).
    pub fn has_public_keys(&self) -> bool {
        self.keys.iter().any(|key| key.algorithm().is_public_key())
    }

    /// Whether this is a demo keyring (public secrets).
    pub fn is_demo(&self) -> bool {
        self.demo
    }
}

/// Checks a key's material for its algorithm: an HMAC master secret long enough, or a key
/// pair whose halves parse and agree (then kept parsed in the key).
fn check_material(key: &mut Key) -> Result<(), EntryError> {
    if !key.algorithm.is_public_key() {
        let secret = key
            .secret
            .as_ref()
            .ok_or(EntryError::MissingField("secret"))?;
        if secret.len() < Secret::MIN_MASTER_LEN {
            return Err(EntryError::Secret(SecretError::TooShort {
                len: secret.len(),
                min: Secret::MIN_MASTER_LEN,
            }));
        }
        #[cfg(feature = "jose")]
        {
            key.pair = None;
        }
        return Ok(());
    }
    #[cfg(feature = "jose")]
    {
        key.pair = Some(pair::KeyPair::check(
            key.algorithm,
            key.secret.as_ref(),
            key.pair.as_ref(),
        )?);
        Ok(())
    }
    #[cfg(not(feature = "jose"))]
    Err(EntryError::AlgorithmNotBuilt(key.algorithm))
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("keys", &self.keys)
            .field("clock", &self.clock)
            .field("demo", &self.demo)
            .finish_non_exhaustive()
    }
}
