//! A keyring that reloads itself: the current snapshot in an `ArcSwap`, replaced whole.
//!
//! Readers (every verify) do one `arc-swap` load: no lock, and never half a keyring. A
//! background thread watches the source's file — its directory, so that renames over it,
//! delete-and-recreate and the Kubernetes `..data` symlink swap are all seen — and on any
//! change re-reads the source after a short debounce. A new keyring is published only if it
//! is valid and different; otherwise the last good one stays in force and the error is
//! reported (a `tracing` warning, [`Status::last_error`], and [`ReloadEvent::Refused`]).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::{ArcSwap, Guard};
use sha2::{Digest as _, Sha256};

use super::source::{KeyringSource, Versioned};
use super::{KeyState, Keyring};
use crate::clock::{Clock, SystemClock};
use crate::error::{KeyringError, SharedError};

mod watcher;

use watcher::{Trigger, Watcher};

/// The snapshot in force, as [`HotKeyring::load`] returns it: a cheap guard (an `arc-swap`
/// load) that dereferences to the [`Snapshot`].
pub struct Loaded(Guard<Arc<Snapshot>>);

impl std::ops::Deref for Loaded {
    type Target = Snapshot;
    fn deref(&self) -> &Snapshot {
        &self.0
    }
}

impl fmt::Debug for Loaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Snapshot::fmt(self, f)
    }
}

/// One published keyring and when it was published.
#[derive(Debug)]
#[non_exhaustive]
pub struct Snapshot {
    /// The keyring in force.
    pub keyring: Arc<Keyring>,
    /// 1 for the first load, +1 for each keyring published since. Never goes back.
    pub generation: u64,
    /// When it was published (by the keyring's clock).
    pub loaded_at: SystemTime,
}

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

/// What a reload did; passed to [`HotKeyringBuilder::on_reload`] callbacks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReloadEvent {
    /// A new keyring is in force.
    Reloaded {
        /// Its generation.
        generation: u64,
        /// Its key ids, in file order.
        key_ids: Vec<String>,
    },
    /// The source was refused; the previous keyring stays in force. Sent once per distinct
    /// error: the same error again (every poll of a file that stays broken) is not repeated.
    Refused {
        /// The generation still in force.
        generation: u64,
        /// Why.
        error: SharedError<KeyringError>,
    },
    /// The source loads again after a refusal, with the keyring already in force (the file
    /// was fixed back to the same content). A fix with new content is a `Reloaded`.
    Recovered {
        /// The generation in force.
        generation: u64,
    },
}

/// One key's state in a [`Status`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyStatus {
    /// The key id.
    pub id: String,
    /// Its state now.
    pub state: KeyState,
    /// Whether it signs now.
    pub signing: bool,
    /// Tokens it verified since this keyring was loaded.
    pub verified_count: u64,
}

/// What an application or operator may want to know about a hot keyring. No secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// The generation in force.
    pub generation: u64,
    /// When it was loaded.
    pub loaded_at: SystemTime,
    /// The source, described.
    pub source: String,
    /// Why the last reload attempt was refused, if it was; cleared by the next good load.
    pub last_error: Option<SharedError<KeyringError>>,
    /// Since when a reload has been running, if one is (a source that hangs shows here).
    pub reloading_since: Option<SystemTime>,
    /// How many times the source has been read (loads, successful or not), the first
    /// included: an idle source is not re-read except by the safety poll.
    pub loads: u64,
    /// Whether the keyring in force is a demo keyring, whose secrets are public.
    pub demo: bool,
    /// The source's revision of the keyring in force, if the source has revisions
    /// ([`KeyringSource::load_revision`](crate::KeyringSource::load_revision)).
    pub revision: Option<String>,
    /// The keys in force.
    pub keys: Vec<KeyStatus>,
}

type Listener = Box<dyn Fn(&ReloadEvent) + Send + Sync>;

/// While a source stays refused with the same error, the warning is repeated this often.
const REPEAT_REFUSAL_EVERY: Duration = Duration::from_secs(300);

/// Configures a [`HotKeyring`]; see [`HotKeyring::builder`].
#[must_use]
pub struct HotKeyringBuilder {
    source: Box<dyn KeyringSource>,
    clock: Arc<dyn Clock>,
    mode: WatchMode,
    debounce: Duration,
    reload_wait: Duration,
    listeners: Vec<Listener>,
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
        });
        tracing::info!(
            source = %shared.source_name,
            generation = 1,
            keys = ?key_ids,
            "tokenring: keyring loaded"
        );
        #[cfg(feature = "metrics")]
        crate::telemetry::reload("loaded", 1, &shared.current.load().keyring);
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
                        reason: format!("cannot start watching: {error}"),
                    },
                }
            })?;
        }
        Ok(HotKeyring { shared })
    }
}

fn warn_demo(source: &str) {
    tracing::warn!(
        source,
        "tokenring: this is a DEMO keyring with public secrets; never use it for real tokens"
    );
}

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

struct Shared {
    current: ArcSwap<Snapshot>,
    source: Box<dyn KeyringSource>,
    source_name: String,
    clock: Arc<dyn Clock>,
    listeners: Vec<Listener>,
    // One reload at a time (watcher, `reload`, `replace`), held across the source's I/O;
    // readers and `status()` never wait for it.
    gate: Gate,
    reload_wait: Duration,
    // SHA-256 of the published keyring's canonical JSON: tells "changed" without keeping a
    // second copy of the secrets. Only the gate's holder touches it.
    digest: Mutex<[u8; 32]>,
    // The source's revision of the keyring in force (or of the same content, loaded again).
    revision: Mutex<Option<String>>,
    health: Mutex<Health>,
    loads: AtomicU64,
    watcher: Mutex<Option<Watcher>>,
}

/// What the last reload attempts said, for `status()` and for not repeating a warning.
#[derive(Default)]
struct Health {
    /// The refusal in force and when it was last logged.
    refused: Option<(SharedError<KeyringError>, Instant)>,
}

/// Lets one reload run at a time and tells since when it has been running. Unlike a mutex
/// held across the source's I/O, a caller can give up waiting, and `status()` can see it.
#[derive(Default)]
struct Gate {
    running_since: Mutex<Option<SystemTime>>,
    idle: Condvar,
}

/// The right to reload; opens the gate when dropped.
struct Pass<'a>(&'a Gate);

impl Gate {
    /// Waits for the running reload to finish, however long it takes.
    fn enter(&self, now: SystemTime) -> Pass<'_> {
        let mut running = self
            .idle
            .wait_while(lock(&self.running_since), |running| running.is_some())
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *running = Some(now);
        Pass(self)
    }

    /// Waits at most `wait`; `Err(since)` if a reload running since then is still running.
    fn enter_within(&self, now: SystemTime, wait: Duration) -> Result<Pass<'_>, SystemTime> {
        let (mut running, _) = self
            .idle
            .wait_timeout_while(lock(&self.running_since), wait, |running| running.is_some())
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(since) = *running {
            return Err(since);
        }
        *running = Some(now);
        Ok(Pass(self))
    }

    fn running_since(&self) -> Option<SystemTime> {
        *lock(&self.running_since)
    }
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        *lock(&self.0.running_since) = None;
        self.0.idle.notify_all();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking listener must not disable reloading for good.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// SHA-256 of the keyring's canonical JSON, streamed into the hasher: tells a changed keyring
/// from the same one without writing its secrets out again.
fn digest(keyring: &Keyring) -> [u8; 32] {
    struct Hashing(Sha256);
    impl std::io::Write for Hashing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.update(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut hasher = Hashing(Sha256::new());
    keyring.write_json(&mut hasher);
    hasher.0.finalize().into()
}

fn key_ids(keyring: &Keyring) -> Vec<String> {
    keyring.keys().iter().map(|k| k.id().to_owned()).collect()
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
        let signing = keyring.signing_key().map(super::Key::id);
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
        let snapshot = self.shared.current.load();
        f.debug_struct("HotKeyring")
            .field("source", &self.shared.source_name)
            .field("generation", &snapshot.generation)
            .field("keyring", &snapshot.keyring)
            .finish()
    }
}

impl Shared {
    /// Loads the source and publishes what changed. `wait`: how long to wait for a reload
    /// already running (`None`: as long as it takes, for the watcher itself).
    fn reload(&self, wait: Option<Duration>) -> Result<bool, KeyringError> {
        let now = self.clock.now();
        let pass = match wait {
            None => self.gate.enter(now),
            Some(wait) => self
                .gate
                .enter_within(now, wait)
                .map_err(|since| KeyringError::ReloadInProgress { since })?,
        };
        self.loads.fetch_add(1, Ordering::Relaxed);
        let (result, event) = match self.source.load_revision(self.clock.clone()) {
            Ok(Versioned { keyring, revision }) if digest(&keyring) == *lock(&self.digest) => {
                *lock(&self.revision) = revision;
                let event = self.recovered().then(|| ReloadEvent::Recovered {
                    generation: self.current.load().generation,
                });
                (Ok(false), event)
            }
            Ok(Versioned { keyring, revision }) => {
                self.recovered();
                *lock(&self.revision) = revision;
                (Ok(true), Some(self.publish(keyring)))
            }
            Err(error) => {
                let event = self.refused(SharedError::new(error.clone()));
                (Err(error), event)
            }
        };
        #[cfg(feature = "metrics")]
        {
            let snapshot = self.current.load();
            let outcome = match &result {
                Ok(true) => "loaded",
                Ok(false) => "unchanged",
                Err(_) => "refused",
            };
            crate::telemetry::reload(outcome, snapshot.generation, &snapshot.keyring);
        }
        drop(pass);
        // Listeners run outside the gate, so they may call `status()` or `reload()`.
        if let Some(event) = event {
            self.notify(&event);
        }
        result
    }

    /// Records a refusal; logs it and returns the event if the error is new, and logs it
    /// again only every few minutes while it persists.
    fn refused(&self, error: SharedError<KeyringError>) -> Option<ReloadEvent> {
        let generation = self.current.load().generation;
        let mut health = lock(&self.health);
        // The same message is the same refusal (a file that stays broken, polled again).
        let (is_new, due) = match &health.refused {
            Some((same, logged)) if *same == error => {
                (false, logged.elapsed() >= REPEAT_REFUSAL_EVERY)
            }
            _ => (true, true),
        };
        if due {
            tracing::warn!(
                source = %self.source_name,
                generation,
                %error,
                "tokenring: keyring refused; the previous one stays in force"
            );
            health.refused = Some((error.clone(), Instant::now()));
        }
        is_new.then_some(ReloadEvent::Refused { generation, error })
    }

    /// Clears a refusal; whether there was one (the source recovered).
    fn recovered(&self) -> bool {
        let Some((error, _)) = lock(&self.health).refused.take() else {
            return false;
        };
        tracing::info!(
            source = %self.source_name,
            was = %error,
            "tokenring: keyring source recovered"
        );
        true
    }

    /// Publishes `keyring` as the next generation; the caller holds the gate and notifies
    /// listeners with the returned event after leaving it.
    fn publish(&self, keyring: Keyring) -> ReloadEvent {
        *lock(&self.digest) = digest(&keyring);
        lock(&self.health).refused = None;
        let generation = self.current.load().generation + 1;
        let key_ids = key_ids(&keyring);
        let demo = keyring.is_demo();
        self.current.store(Arc::new(Snapshot {
            loaded_at: keyring.now(),
            keyring: Arc::new(keyring),
            generation,
        }));
        tracing::info!(
            source = %self.source_name,
            generation,
            keys = ?key_ids,
            "tokenring: keyring reloaded"
        );
        if demo {
            warn_demo(&self.source_name);
        }
        ReloadEvent::Reloaded {
            generation,
            key_ids,
        }
    }

    fn notify(&self, event: &ReloadEvent) {
        for listener in &self.listeners {
            listener(event);
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some(watcher) = lock(&self.watcher).take() {
            watcher.stop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Key, Secret};

    #[test]
    fn the_digest_streams_the_canonical_json() {
        let keys = (0..64)
            .map(|i| Key::new(format!("k{i}"), Secret::from_bytes([i; 32])))
            .collect();
        let keyring = Keyring::new(keys).unwrap();
        let json = keyring.to_json();
        assert_eq!(
            digest(&keyring),
            <[u8; 32]>::from(Sha256::digest(json.as_bytes()))
        );
        // Written once into a buffer of the final size: no grown-and-freed copies behind.
        assert_eq!(json.capacity(), json.len());
    }
}
