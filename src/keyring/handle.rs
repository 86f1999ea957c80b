//! A handle on "the keyring in force" — a fixed snapshot, or (feature `watch`) a hot keyring
//! whose snapshot changes — and a cache of what a user of the keyring computes per snapshot.
//!
//! Layers above (verifiers) derive their keys per snapshot. They hand that derivation to a
//! [`PerSnapshot`] and read through it; whether the keyring is fixed or hot, and how a new
//! snapshot is noticed, stays in this layer.

use std::sync::Arc;

use super::Keyring;
#[cfg(feature = "watch")]
use super::watch::HotKeyring;

/// What a verifier reads its keys from: a fixed keyring snapshot, or (feature `watch`) a
/// [`HotKeyring`](crate::HotKeyring) whose snapshot in force it follows.
///
/// Made by `From`: pass a `Keyring`, a `&Keyring`, an `Arc<Keyring>`, a `HotKeyring` or a
/// `&HotKeyring` to
/// [`Verifier::builder`](crate::Verifier::builder).
#[derive(Clone, Debug)]
pub struct KeyringRef(Source);

#[derive(Clone, Debug)]
enum Source {
    Fixed(Arc<Keyring>),
    #[cfg(feature = "watch")]
    Hot(HotKeyring),
}

impl From<Keyring> for KeyringRef {
    fn from(keyring: Keyring) -> Self {
        Self(Source::Fixed(Arc::new(keyring)))
    }
}

/// The same snapshot (a clone, counts shared; see [`Keyring`]), as `&HotKeyring` gives, for a
/// fixed keyring its owner keeps using.
impl From<&Keyring> for KeyringRef {
    fn from(keyring: &Keyring) -> Self {
        Self(Source::Fixed(Arc::new(keyring.clone())))
    }
}

impl From<Arc<Keyring>> for KeyringRef {
    fn from(keyring: Arc<Keyring>) -> Self {
        Self(Source::Fixed(keyring))
    }
}

#[cfg(feature = "watch")]
impl From<HotKeyring> for KeyringRef {
    fn from(keyring: HotKeyring) -> Self {
        Self(Source::Hot(keyring))
    }
}

#[cfg(feature = "watch")]
impl From<&HotKeyring> for KeyringRef {
    fn from(keyring: &HotKeyring) -> Self {
        Self(Source::Hot(keyring.clone()))
    }
}

/// A value computed from each keyring snapshot (a verifier's derived keys), recomputed only
/// when the snapshot in force changes. Reading takes no lock: over a fixed keyring it is a
/// field, over a hot keyring two `arc-swap` loads.
pub(crate) struct PerSnapshot<T> {
    state: State<T>,
}

/// One snapshot and what was computed from it.
pub(crate) struct Computed<T> {
    pub(crate) keyring: Arc<Keyring>,
    pub(crate) value: T,
}

type Compute<T> = Box<dyn Fn(&Keyring) -> T + Send + Sync>;

enum State<T> {
    Fixed(Computed<T>),
    #[cfg(feature = "watch")]
    Hot {
        keyring: HotKeyring,
        cache: arc_swap::ArcSwap<Computed<T>>,
        compute: Compute<T>,
    },
}

impl<T> PerSnapshot<T> {
    /// Computes `compute(snapshot)` now, and again for each new snapshot of a hot keyring.
    pub(crate) fn new(source: KeyringRef, compute: Compute<T>) -> Self {
        let state = match source.0 {
            Source::Fixed(keyring) => State::Fixed(Computed {
                value: compute(&keyring),
                keyring,
            }),
            #[cfg(feature = "watch")]
            Source::Hot(hot) => {
                let keyring = hot.keyring();
                let first = Computed {
                    value: compute(&keyring),
                    keyring,
                };
                State::Hot {
                    keyring: hot,
                    cache: arc_swap::ArcSwap::from_pointee(first),
                    compute,
                }
            }
        };
        Self { state }
    }

    /// Runs `f` with the snapshot in force and its value, computing the value first if the
    /// snapshot is new here.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&Computed<T>) -> R) -> R {
        match &self.state {
            State::Fixed(computed) => f(computed),
            #[cfg(feature = "watch")]
            State::Hot {
                keyring,
                cache,
                compute,
            } => {
                let guard = keyring.load();
                let snapshot = &guard.keyring;
                let cached = cache.load();
                if Arc::ptr_eq(&cached.keyring, snapshot) {
                    return f(&cached);
                }
                let fresh = Arc::new(Computed {
                    value: compute(snapshot),
                    keyring: Arc::clone(snapshot),
                });
                // Replace only what we saw, so a thread holding an older snapshot cannot
                // undo a newer computation for long.
                cache.compare_and_swap(&*cached, Arc::clone(&fresh));
                f(&fresh)
            }
        }
    }
}
