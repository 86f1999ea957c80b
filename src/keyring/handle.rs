//! A handle on "the keyring in force" — a fixed snapshot, or one that another layer keeps
//! current (a [`HotKeyring`](crate::HotKeyring), feature `hot`) — and a cache of what a user
//! of the keyring computes per snapshot.
//!
//! Layers above (verifiers) derive their keys per snapshot. They hand that derivation to a
//! [`PerSnapshot`] and read through it; whether the keyring is fixed or followed, and how a
//! new snapshot is noticed, stays in this layer. The hot layer plugs in through [`Follow`],
//! so nothing here names it.

use std::fmt;
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::Keyring;

/// What a verifier reads its keys from: a fixed keyring snapshot, or (feature `hot`) a
/// [`HotKeyring`](crate::HotKeyring) whose snapshot in force it follows.
///
/// Made by `From`: pass a `Keyring`, a `&Keyring`, an `Arc<Keyring>`, a `HotKeyring` or a
/// `&HotKeyring` to [`Verifier::builder`](crate::Verifier::builder).
#[derive(Clone, Debug)]
pub struct KeyringRef(Source);

#[derive(Clone, Debug)]
enum Source {
    Fixed(Arc<Keyring>),
    // Made only by the hot layer.
    #[cfg_attr(not(feature = "hot"), allow(dead_code))]
    Followed(Arc<dyn Follow>),
}

/// Something that keeps a keyring snapshot current (the hot keyring).
pub(crate) trait Follow: Send + Sync + fmt::Debug {
    /// Whether `keyring` is the snapshot in force: one lock-free load, on every read.
    fn is_current(&self, keyring: &Arc<Keyring>) -> bool;

    /// The snapshot in force, to keep (only when it changed).
    fn current(&self) -> Arc<Keyring>;

    /// A token named a key the snapshot in force lacks: load again now if the source says
    /// so (it bounds the rate). Whether another snapshot is in force afterwards.
    fn key_missing(&self) -> bool;
}

impl KeyringRef {
    /// The snapshot `follow` keeps current.
    #[cfg_attr(not(feature = "hot"), allow(dead_code))]
    pub(crate) fn following(follow: Arc<dyn Follow>) -> Self {
        Self(Source::Followed(follow))
    }
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

/// A value computed from each keyring snapshot (a verifier's derived keys), recomputed only
/// when the snapshot in force changes. Reading takes no lock: over a fixed keyring it is a
/// field, over a followed keyring two `arc-swap` loads.
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
    Followed {
        keyring: Arc<dyn Follow>,
        cache: ArcSwap<Computed<T>>,
        compute: Compute<T>,
    },
}

impl<T> PerSnapshot<T> {
    /// Computes `compute(snapshot)` now, and again for each new snapshot of a followed keyring.
    pub(crate) fn new(source: KeyringRef, compute: Compute<T>) -> Self {
        let state = match source.0 {
            Source::Fixed(keyring) => State::Fixed(Computed {
                value: compute(&keyring),
                keyring,
            }),
            Source::Followed(follow) => {
                let keyring = follow.current();
                let first = Computed {
                    value: compute(&keyring),
                    keyring,
                };
                State::Followed {
                    keyring: follow,
                    cache: ArcSwap::from_pointee(first),
                    compute,
                }
            }
        };
        Self { state }
    }

    /// A token named a key the snapshot in force lacks: over a followed keyring, its source
    /// may load at once ([`Follow::key_missing`]). Whether another snapshot is in force.
    pub(crate) fn key_missing(&self) -> bool {
        match &self.state {
            State::Fixed(_) => false,
            State::Followed { keyring, .. } => keyring.key_missing(),
        }
    }

    /// Runs `f` with the snapshot in force and its value, computing the value first if the
    /// snapshot is new here.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&Computed<T>) -> R) -> R {
        match &self.state {
            State::Fixed(computed) => f(computed),
            State::Followed {
                keyring,
                cache,
                compute,
            } => {
                let cached = cache.load();
                if keyring.is_current(&cached.keyring) {
                    return f(&cached);
                }
                let snapshot = keyring.current();
                let fresh = Arc::new(Computed {
                    value: compute(&snapshot),
                    keyring: snapshot,
                });
                // Replace only what we saw, so a thread holding an older snapshot cannot
                // undo a newer computation for long.
                cache.compare_and_swap(&*cached, Arc::clone(&fresh));
                f(&fresh)
            }
        }
    }
}
