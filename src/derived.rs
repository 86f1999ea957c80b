//! The keys a verifier actually MACs with: one keyed HMAC state per keyring key, derived
//! for the verifier's salt, once per keyring snapshot.
//!
//! Over a fixed keyring they are derived when the verifier is built. Over a
//! [`HotKeyring`](crate::HotKeyring) the verifier caches the set for the snapshot it last saw;
//! the first call after a reload derives the new set (microseconds per key) and every call
//! after that reuses it. Reading is two `arc-swap` loads and no lock.

use std::sync::Arc;

#[cfg(feature = "watch")]
use arc_swap::ArcSwap;

use crate::algorithm::KeyedMac;
use crate::key_generator::KeyGenerator;
use crate::keyring::{Key, Keyring};

/// What a verifier reads its keys from: a fixed keyring snapshot, or (feature `watch`) a
/// [`HotKeyring`](crate::HotKeyring) whose snapshot in force it follows.
///
/// Made by `From`: pass a `Keyring`, an `Arc<Keyring>`, a `HotKeyring` or a `&HotKeyring` to
/// [`Verifier::builder`](crate::Verifier::builder).
#[derive(Clone, Debug)]
pub struct KeyringRef(Source);

#[derive(Clone, Debug)]
enum Source {
    Fixed(Arc<Keyring>),
    #[cfg(feature = "watch")]
    Hot(crate::HotKeyring),
}

impl From<Keyring> for KeyringRef {
    fn from(keyring: Keyring) -> Self {
        Self(Source::Fixed(Arc::new(keyring)))
    }
}

impl From<Arc<Keyring>> for KeyringRef {
    fn from(keyring: Arc<Keyring>) -> Self {
        Self(Source::Fixed(keyring))
    }
}

#[cfg(feature = "watch")]
impl From<crate::HotKeyring> for KeyringRef {
    fn from(keyring: crate::HotKeyring) -> Self {
        Self(Source::Hot(keyring))
    }
}

#[cfg(feature = "watch")]
impl From<&crate::HotKeyring> for KeyringRef {
    fn from(keyring: &crate::HotKeyring) -> Self {
        Self(Source::Hot(keyring.clone()))
    }
}

/// One snapshot's keys derived for one salt, index-aligned with `keyring.keys()`.
pub(crate) struct Derived {
    pub keyring: Arc<Keyring>,
    pub macs: Box<[KeyedMac]>,
}

impl Derived {
    fn new(keyring: Arc<Keyring>, salt: &str) -> Self {
        let macs = keyring
            .keys()
            .iter()
            .map(|key| derive_mac(key, salt))
            .collect();
        Self { keyring, macs }
    }
}

/// The derived key for (`key`, `salt`): HKDF-SHA256 with the key's secret as input keying
/// material, no extract salt, `salt` as info, as long as the algorithm's tag.
fn derive_mac(key: &Key, salt: &str) -> KeyedMac {
    // A Keyring only holds secrets of at least 32 bytes, and tags are at most 64 bytes:
    // neither call can fail.
    let derived = KeyGenerator::new(key.secret())
        .and_then(|g| g.generate_key(salt.as_bytes(), key.algorithm().tag_len()))
        .expect("keyring secrets are validated master keys");
    KeyedMac::new(key.algorithm(), derived.expose())
}

/// A verifier's derived keys, fixed or following a hot keyring.
pub(crate) enum DerivedKeys {
    Fixed(Derived),
    #[cfg(feature = "watch")]
    Hot {
        keyring: crate::HotKeyring,
        cache: ArcSwap<Derived>,
        salt: Box<str>,
    },
}

impl DerivedKeys {
    pub(crate) fn new(source: KeyringRef, salt: &str) -> Self {
        match source.0 {
            Source::Fixed(keyring) => Self::Fixed(Derived::new(keyring, salt)),
            #[cfg(feature = "watch")]
            Source::Hot(hot) => {
                let derived = Derived::new(hot.keyring(), salt);
                Self::Hot {
                    keyring: hot,
                    cache: ArcSwap::from_pointee(derived),
                    salt: salt.into(),
                }
            }
        }
    }

    /// Runs `f` with the keys of the snapshot in force, deriving them first if the snapshot
    /// is new to this verifier.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&Derived) -> R) -> R {
        match self {
            Self::Fixed(derived) => f(derived),
            #[cfg(feature = "watch")]
            Self::Hot {
                keyring,
                cache,
                salt,
            } => {
                let snapshot = keyring.load();
                let cached = cache.load();
                if Arc::ptr_eq(&cached.keyring, &snapshot.keyring) {
                    return f(&cached);
                }
                let fresh = Arc::new(Derived::new(Arc::clone(&snapshot.keyring), salt));
                // Replace only what we saw, so a thread holding an older snapshot cannot
                // undo a newer derivation for long.
                cache.compare_and_swap(&*cached, Arc::clone(&fresh));
                f(&fresh)
            }
        }
    }
}
