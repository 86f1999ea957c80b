//! Rotation as operations on a keyring: each takes the keyring as it is and returns the
//! keyring as it should be, validated as a whole — or a typed error, and nothing changed. The
//! CLI, fleet promotion on etcd and any operator tool of yours call the same functions, so a
//! rule (a key added newest first, a keyring where nothing verifies refused) holds everywhere.
//!
//! They are pure: reading the keyring from its store and writing the result back (atomically,
//! under a lock, as a compare-and-swap) is the caller's part.
//!
//! ```
//! use std::time::Duration;
//! use tokenring::{Key, Keyring, KeyState, Secret, rotation};
//!
//! let keyring = Keyring::new(vec![Key::new("2026-11", Secret::random(32)?)])?;
//! // Stage a key: it verifies at once and signs in an hour, on every node at the same instant.
//! let soon = keyring.now() + Duration::from_secs(3600);
//! let staged = rotation::add(&keyring, Key::new("2026-12", Secret::random(32)?).with_activates_at(Some(soon)))?;
//! assert_eq!(staged.state("2026-12"), Some(KeyState::Pending));
//! // Once it signs everywhere, the old key verifies for a last week, then goes.
//! let week = staged.now() + Duration::from_secs(7 * 24 * 3600);
//! let retired = rotation::retire(&staged, "2026-11", week)?;
//! // A key that leaked is refused at once.
//! let revoked = rotation::revoke(&retired, "2026-11")?;
//! assert_eq!(revoked.state("2026-11"), Some(KeyState::Disabled));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::time::SystemTime;

use crate::error::KeyringError;
use crate::keyring::{Key, KeyState, Keyring};

/// Why a rotation was refused; the keyring is unchanged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RotationError {
    /// No key has this id.
    #[error("no key {id:?} in the keyring (its keys: {})", known.join(", "))]
    UnknownKey {
        /// The id asked for.
        id: String,
        /// The ids the keyring holds, in its order.
        known: Vec<String>,
    },
    /// The keyring that would result is not valid (a duplicate id, an expiry before an
    /// activation, nothing left that verifies — [`KeyringError::NoUsableKey`] — …).
    #[error(transparent)]
    Invalid(KeyringError),
}

/// `keyring` with `key` added, newest first (as operators read the file). A key without an
/// activation time counts as the earliest and would never sign: give it one (now, to sign at
/// once; later, to stage it).
///
/// # Errors
///
/// [`RotationError::Invalid`] if the result is not a valid keyring (its id is taken, say).
pub fn add(keyring: &Keyring, key: Key) -> Result<Keyring, RotationError> {
    let mut keys = Vec::with_capacity(keyring.keys().len() + 1);
    keys.push(key);
    keys.extend(keyring.keys().iter().cloned());
    rebuilt(keyring, keys)
}

/// `keyring` with key `id` activating at `at` (it signs from then, if it is the newest
/// active key).
///
/// # Errors
///
/// [`RotationError::UnknownKey`], or [`RotationError::Invalid`].
pub fn activate_at(keyring: &Keyring, id: &str, at: SystemTime) -> Result<Keyring, RotationError> {
    changed(keyring, id, |key| key.with_activates_at(Some(at)))
}

/// `keyring` with key `id` verifying until `at` only (retired): at least the longest token
/// lifetime from when the next key signs everywhere.
///
/// # Errors
///
/// [`RotationError::UnknownKey`], or [`RotationError::Invalid`] (an expiry before its
/// activation, say).
pub fn retire(keyring: &Keyring, id: &str, at: SystemTime) -> Result<Keyring, RotationError> {
    changed(keyring, id, |key| key.with_expires_at(Some(at)))
}

/// `keyring` with key `id` revoked: its tokens are refused from the moment a node loads it.
///
/// # Errors
///
/// [`RotationError::UnknownKey`], or [`RotationError::Invalid`] with
/// [`KeyringError::NoUsableKey`] when nothing would verify any more (add a new key first).
pub fn revoke(keyring: &Keyring, id: &str) -> Result<Keyring, RotationError> {
    changed(keyring, id, |key| key.with_disabled(true))
}

/// What [`prune`] removed, and the keyring without them (`None`: nothing to remove).
#[derive(Debug)]
#[non_exhaustive]
pub struct Pruned {
    /// The keyring without the removed keys; `None` when none was removed.
    pub keyring: Option<Keyring>,
    /// The ids removed, in the keyring's order.
    pub removed: Vec<String>,
}

/// `keyring` without its expired keys (and, with `revoked`, its revoked ones), judged at the
/// keyring's clock. Removing a revoked key turns its tokens' "revoked" into "unknown key":
/// both are refusals.
///
/// # Errors
///
/// [`RotationError::Invalid`] if what remains is not a valid keyring.
pub fn prune(keyring: &Keyring, revoked: bool) -> Result<Pruned, RotationError> {
    let now = keyring.now();
    let (removed, kept): (Vec<&Key>, Vec<&Key>) = keyring.keys().iter().partition(|k| {
        let state = k.state_at(now);
        state == KeyState::Expired || (revoked && state == KeyState::Disabled)
    });
    let removed: Vec<String> = removed.iter().map(|k| k.id().to_owned()).collect();
    if removed.is_empty() {
        return Ok(Pruned {
            keyring: None,
            removed,
        });
    }
    let keyring = rebuilt(keyring, kept.into_iter().cloned().collect())?;
    Ok(Pruned {
        keyring: Some(keyring),
        removed,
    })
}

/// The keyring's keys with `id` changed by `change`, validated.
fn changed(
    keyring: &Keyring,
    id: &str,
    change: impl FnOnce(Key) -> Key,
) -> Result<Keyring, RotationError> {
    let Some(index) = keyring.keys().iter().position(|k| k.id() == id) else {
        return Err(RotationError::UnknownKey {
            id: id.to_owned(),
            known: keyring.keys().iter().map(|k| k.id().to_owned()).collect(),
        });
    };
    let mut keys = keyring.keys().to_vec();
    keys[index] = change(keys[index].clone());
    rebuilt(keyring, keys)
}

/// `keys` validated as a whole keyring on `old`'s clock, keeping its description and demo
/// mark. Beside the keyring's own rules, one for its public keyring: a change never takes
/// the last verifying key pair away from it (verify-only services would then verify nothing,
/// or keep the copy they hold) — the rule that keeps a whole keyring from verifying nothing.
fn rebuilt(old: &Keyring, keys: Vec<Key>) -> Result<Keyring, RotationError> {
    let keyring = Keyring::new_with_clock(keys, old.clock().clone())
        .map_err(RotationError::Invalid)?
        .with_description(old.description().map(str::to_owned))
        .with_demo(old.is_demo());
    if pair_verifies(old) && !pair_verifies(&keyring) {
        return Err(RotationError::Invalid(KeyringError::NoUsableKeyPair));
    }
    Ok(keyring)
}

/// Whether a key pair of `keyring` verifies now: its public keyring verifies something.
fn pair_verifies(keyring: &Keyring) -> bool {
    let now = keyring.now();
    keyring
        .keys()
        .iter()
        .any(|key| key.algorithm().is_public_key() && key.state_at(now).verifies())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::Secret;
    use crate::clock::ManualClock;

    fn ring(ids: &[&str]) -> (Keyring, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(
            UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        ));
        let keys = ids
            .iter()
            .enumerate()
            .map(|(i, id)| Key::new(*id, Secret::from_bytes([i as u8 + 1; 32])))
            .collect();
        (Keyring::new_with_clock(keys, clock.clone()).unwrap(), clock)
    }

    #[test]
    fn each_operation_returns_a_valid_keyring_or_a_typed_refusal() {
        let (keyring, clock) = ring(&["a", "b"]);
        let keyring = keyring.with_description(Some("kept".into()));
        let now = keyring.now();
        let added = add(
            &keyring,
            Key::new("c", Secret::from_bytes([9; 32])).with_activates_at(Some(now)),
        )
        .unwrap();
        assert_eq!(added.keys()[0].id(), "c", "newest first");
        assert_eq!(added.signing_key().map(Key::id), Some("c"));
        assert_eq!(added.description(), Some("kept"));
        assert!(matches!(
            add(&added, Key::new("a", Secret::from_bytes([7; 32]))),
            Err(RotationError::Invalid(KeyringError::Entry { .. }))
        ));
        assert!(matches!(
            revoke(&added, "zz"),
            Err(RotationError::UnknownKey { id, known }) if id == "zz" && known == ["c", "a", "b"]
        ));
        let later = now + Duration::from_secs(60);
        let retired = retire(&added, "a", later).unwrap();
        assert_eq!(retired.get("a").and_then(Key::expires_at), Some(later));
        let staged = activate_at(&retired, "c", later).unwrap();
        assert_eq!(staged.state("c"), Some(KeyState::Pending));
        clock.advance(Duration::from_secs(120));
        let pruned = prune(&staged, false).unwrap();
        assert_eq!(pruned.removed, ["a"]);
        let pruned = pruned.keyring.unwrap();
        assert!(prune(&pruned, false).unwrap().keyring.is_none());
        let one = revoke(&pruned, "b").unwrap();
        assert!(matches!(
            revoke(&one, "c"),
            Err(RotationError::Invalid(KeyringError::NoUsableKey))
        ));
        let gone = prune(&one, true).unwrap();
        assert_eq!(gone.removed, ["b"]);
    }

    /// The public keyring keeps a verifying key pair: revoking the last one is refused, as
    /// revoking a keyring's last key is, and allowed once another pair verifies.
    #[cfg(feature = "jose")]
    #[test]
    fn a_rotation_never_leaves_the_public_keyring_verifying_nothing() {
        use crate::jose::{JoseAlgorithm, SigningKey};
        let pair = |id: &str| {
            Key::from_signing_key(id, SigningKey::generate(JoseAlgorithm::EdDsa).unwrap())
        };
        let (hmac, _) = ring(&["h"]);
        let mixed = add(&hmac, pair("p").with_activates_at(Some(hmac.now()))).unwrap();
        assert!(matches!(
            revoke(&mixed, "p"),
            Err(RotationError::Invalid(KeyringError::NoUsableKeyPair))
        ));
        // HMAC keys go as before, and the pair's own rotation works.
        assert!(revoke(&mixed, "h").is_ok());
        let two = add(&mixed, pair("q").with_activates_at(Some(mixed.now()))).unwrap();
        let revoked = revoke(&two, "p").unwrap();
        assert!(revoked.public().is_ok());
    }
}
