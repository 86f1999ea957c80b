//! Configuring a hot keyring: its source, clock, watch mode and listeners.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;

use super::HotKeyring;
use super::gate::{Gate, lock};
use super::publish::{Health, Shared, digest, key_ids};
use super::status::{ReloadEvent, Snapshot};
use super::watcher::{Trigger, Watcher};
use crate::clock::Clock;
use crate::error::{KeyringError, StoreProblem};
use crate::source::{KeyringSource, Versioned};

/// How a hot keyring notices changes to its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WatchMode {
    /// File-system events (inotify, FSEvents, …), debounced; falls back to polling every
    /// second if events are unavailable. The default.
    Events,
    /// Re-read the file at this interval and publish it if it changed. For file systems
    /// without change events (some network and FUSE mounts).
    Poll(Duration),
    /// Never on its own; only [`HotKeyring::reload`] and [`HotKeyring::replace`].
    Manual,
}

impl WatchMode {
    /// The shortest poll interval; anything shorter would keep a core busy re-reading the
    /// source. [`HotKeyringBuilder::mode`] raises shorter ones to it.
    pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(100);
}

pub(super) type Listener = Box<dyn Fn(&ReloadEvent) + Send + Sync>;

/// While a source stays refused with the same error, the warning is repeated this often.
pub(super) const REPEAT_REFUSAL_EVERY: Duration = Duration::from_secs(300);

/// Configures a [`HotKeyring`]; see [`HotKeyring::builder`].
#[must_use]
pub struct HotKeyringBuilder {
    pub(super) source: Box<dyn KeyringSource>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) mode: WatchMode,
    pub(super) debounce: Duration,
    pub(super) reload_wait: Duration,
    pub(super) listeners: Vec<Listener>,
}

impl HotKeyringBuilder {
    /// The clock key states are read against (the system clock unless set).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How changes are noticed ([`WatchMode::Events`] unless set). A poll interval below
    /// [`WatchMode::MIN_POLL_INTERVAL`] is raised to it.
    pub fn mode(mut self, mode: WatchMode) -> Self {
        self.mode = mode;
        self
    }

    /// How long to wait after a change event for the writer to finish (50 ms unless set).
    pub fn debounce(mut self, debounce: Duration) -> Self {
        self.debounce = debounce;
        self
    }

    /// How long [`HotKeyring::reload`] waits for a reload already running (the watcher's)
    /// before it gives up with [`KeyringError::ReloadInProgress`] (5 s unless set).
    pub fn reload_wait(mut self, wait: Duration) -> Self {
        self.reload_wait = wait;
        self
    }

    /// Calls `listener` after every reload attempt that published a keyring, was refused with
    /// a new error, or recovered from a refusal (not for unchanged content, nor for the same
    /// error again). Runs on the reloading thread, outside any lock: keep it short. Events
    /// from a `reload()` racing the watcher may arrive in either order; the generation in
    /// each says which is newer.
    pub fn on_reload(mut self, listener: impl Fn(&ReloadEvent) + Send + Sync + 'static) -> Self {
        self.listeners.push(Box::new(listener));
        self
    }

    /// Loads the source and, if it has a file and the mode asks, starts watching it.
    ///
    /// # Errors
    ///
    /// The source's error if the first load fails: there is no last good keyring yet.
    pub fn build(self) -> Result<HotKeyring, KeyringError> {
        let Versioned { keyring, revision } = self.source.load_revision(self.clock.clone())?;
        let digest = digest(&keyring);
        let key_ids = key_ids(&keyring);
        let demo = keyring.is_demo();
        let shared = Arc::new(Shared {
            current: ArcSwap::from_pointee(Snapshot {
                keyring: Arc::new(keyring),
                generation: 1,
                loaded_at: self.clock.now(),
            }),
            source_name: self.source.describe(),
            source: self.source,
            clock: self.clock,
            listeners: self.listeners,
            gate: Gate::default(),
            reload_wait: self.reload_wait,
            digest: Mutex::new(digest),
            revision: Mutex::new(revision),
            health: Mutex::new(Health::default()),
            loads: AtomicU64::new(1),
            watcher: Mutex::new(None),
            fetching: Mutex::new(false),
            fetched: std::sync::Condvar::new(),
        });
        tracing::info!(
            source = %shared.source_name,
            generation = 1,
            keys = ?key_ids,
            "tokenring: keyring loaded"
        );
        shared.count_reload("loaded");
        if demo {
            warn_demo(&shared.source_name);
        }
        let trigger = match self.mode {
            WatchMode::Manual => None,
            WatchMode::Poll(every) => {
                if every < WatchMode::MIN_POLL_INTERVAL {
                    tracing::warn!(
                        requested = ?every,
                        using = ?WatchMode::MIN_POLL_INTERVAL,
                        "tokenring: poll interval too short; raised to the minimum"
                    );
                }
                Some(Trigger::Poll(every.max(WatchMode::MIN_POLL_INTERVAL)))
            }
            WatchMode::Events => Some(match shared.source.watch_path() {
                Some(path) => Trigger::Files {
                    path: path.to_owned(),
                    debounce: self.debounce,
                },
                None => Trigger::Announced {
                    debounce: self.debounce,
                },
            }),
        };
        if let Some(trigger) = trigger {
            *lock(&shared.watcher) = Watcher::start(&shared, trigger).map_err(|error| {
                match shared.source.watch_path() {
                    Some(path) => KeyringError::Io {
                        path: path.to_owned(),
                        source: Arc::new(error),
                    },
                    // Not a file: the watcher's thread could not start.
                    None => KeyringError::Unavailable {
                        store: shared.source_name.clone(),
                        reason: StoreProblem::CannotStart {
                            what: "watching",
                            error: error.to_string(),
                        },
                    },
                }
            })?;
        }
        Ok(HotKeyring { shared })
    }
}

pub(super) fn warn_demo(source: &str) {
    tracing::warn!(
        source,
        "tokenring: this is a DEMO keyring with public secrets; never use it for real tokens"
    );
}
