//! A keyring that reloads itself: the current snapshot in an `ArcSwap`, replaced whole.
//!
//! Readers (every verify) do one `arc-swap` load: no lock, and never half a keyring. A
//! background thread watches the source's file — its directory, so that renames over it,
//! delete-and-recreate and the Kubernetes `..data` symlink swap are all seen — and on any
//! change re-reads the source after a short debounce. A new keyring is published only if it
//! is valid and different; otherwise the last good one stays in force and the error is
//! reported (a `tracing` warning, [`Status::last_error`], and [`ReloadEvent::Refused`]).

mod builder;
mod gate;
mod publish;
mod status;
mod watcher;

pub use builder::{HotKeyringBuilder, WatchMode};
pub use status::{KeyStatus, Loaded, ReloadEvent, Snapshot, Status};

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::clock::SystemClock;
use crate::error::KeyringError;
use crate::keyring::handle::Follow;
use crate::keyring::{Key, Keyring, KeyringRef};
use crate::source::KeyringSource;
use gate::lock;
use publish::Shared;

/// A keyring that follows its source: `Clone + Send + Sync`, read without locks.
///
/// Verifiers built from a `HotKeyring` always use the snapshot in force, deriving their keys
/// once per new snapshot.
///
/// ```no_run
/// use tokenring::{FileSource, HotKeyring, Verifier};
///
/// let keyring = HotKeyring::builder(FileSource::new("/etc/app/keyring.json")).build()?;
/// let resets = Verifier::builder(&keyring).salt("password_reset").build();
/// // ... the file is rotated on disk; `resets` picks the new keys up within a second.
/// println!("generation {}", keyring.status().generation);
/// # Ok::<(), tokenring::KeyringError>(())
/// ```
#[derive(Clone)]
pub struct HotKeyring {
    shared: Arc<Shared>,
}

impl HotKeyring {
    /// Starts configuring a hot keyring over `source`.
    pub fn builder(source: impl KeyringSource) -> HotKeyringBuilder {
        HotKeyringBuilder {
            source: Box::new(source),
            clock: Arc::new(SystemClock),
            mode: WatchMode::Events,
            debounce: Duration::from_millis(50),
            reload_wait: Duration::from_secs(5),
            listeners: Vec::new(),
        }
    }

    /// The snapshot in force: one lock-free load. Hold it briefly (per request), not across
    /// reloads; [`HotKeyring::keyring`] gives an `Arc` to keep.
    pub fn load(&self) -> Loaded {
        Loaded(self.shared.current.load())
    }

    /// The keyring in force, as an `Arc` to keep.
    pub fn keyring(&self) -> Arc<Keyring> {
        Arc::clone(&self.shared.current.load().keyring)
    }

    /// The generation in force.
    pub fn generation(&self) -> u64 {
        self.shared.current.load().generation
    }

    /// Re-reads the source now (for SIGHUP). `Ok(true)` if a new keyring was published,
    /// `Ok(false)` if the source is unchanged.
    ///
    /// If another reload is running it waits for it, but never longer than
    /// [`HotKeyringBuilder::reload_wait`].
    ///
    /// # Errors
    ///
    /// The source's error; the keyring in force stays, and the error is also reported in
    /// [`Status::last_error`]. [`KeyringError::ReloadInProgress`] if another reload is still
    /// running after the wait.
    pub fn reload(&self) -> Result<bool, KeyringError> {
        self.shared.reload(Some(self.shared.reload_wait))
    }

    /// Publishes `keyring` (for in-code sources updated by the application). Its clock is
    /// used for its key states. Waits for a reload in progress.
    pub fn replace(&self, keyring: Keyring) {
        let pass = self.shared.gate.enter(self.shared.clock.now());
        *lock(&self.shared.revision) = None;
        let event = self.shared.publish(keyring);
        drop(pass);
        self.shared.notify(&event);
    }

    /// Generation, load time, source, last error, a reload in progress, and the keys with
    /// their states and verification counts.
    pub fn status(&self) -> Status {
        let snapshot = self.shared.current.load_full();
        let last_error = lock(&self.shared.health)
            .refused
            .as_ref()
            .map(|(error, _)| error.clone());
        let keyring = &snapshot.keyring;
        let now = keyring.now();
        let signing = keyring.signing_key().map(Key::id);
        Status {
            generation: snapshot.generation,
            loaded_at: snapshot.loaded_at,
            source: self.shared.source_name.clone(),
            last_error,
            reloading_since: self.shared.gate.running_since(),
            loads: self.shared.loads.load(Ordering::Relaxed),
            demo: keyring.is_demo(),
            revision: lock(&self.shared.revision).clone(),
            keys: keyring
                .keys()
                .iter()
                .map(|key| KeyStatus {
                    id: key.id().to_owned(),
                    state: key.state_at(now),
                    signing: signing == Some(key.id()),
                    verified_count: keyring.verified_count(key.id()).unwrap_or(0),
                })
                .collect(),
        }
    }
}

impl fmt::Debug for HotKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.shared.fmt(f)
    }
}

impl From<HotKeyring> for KeyringRef {
    fn from(keyring: HotKeyring) -> Self {
        KeyringRef::following(keyring.shared)
    }
}

impl From<&HotKeyring> for KeyringRef {
    fn from(keyring: &HotKeyring) -> Self {
        KeyringRef::following(Arc::clone(&keyring.shared) as Arc<dyn Follow>)
    }
}
