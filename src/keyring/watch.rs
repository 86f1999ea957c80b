//! A keyring that reloads itself: the current snapshot in an `ArcSwap`, replaced whole.
//!
//! Readers (every verify) do one `arc-swap` load: no lock, and never half a keyring. A
//! background thread watches the source's file — its directory, so that renames over it,
//! delete-and-recreate and the Kubernetes `..data` symlink swap are all seen — and on any
//! change re-reads the source after a short debounce. A new keyring is published only if it
//! is valid and different; otherwise the last good one stays in force and the error is
//! reported (a `tracing` warning, [`Status::last_error`], and [`ReloadEvent::Refused`]).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::thread::{self, JoinHandle, ThreadId};
use std::time::{Duration, SystemTime};

use arc_swap::{ArcSwap, Guard};
use sha2::{Digest as _, Sha256};

use super::source::KeyringSource;
use super::{KeyState, Keyring};
use crate::clock::{Clock, SystemClock};
use crate::error::KeyringError;

/// One published keyring and when it was published.
#[derive(Debug)]
#[non_exhaustive]
pub struct Snapshot {
    /// The keyring.
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
    /// The source was refused; the previous keyring stays in force.
    Refused {
        /// The generation still in force.
        generation: u64,
        /// Why.
        error: String,
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
    pub last_error: Option<String>,
    /// The keys in force.
    pub keys: Vec<KeyStatus>,
}

type Listener = Box<dyn Fn(&ReloadEvent) + Send + Sync>;

/// Configures a [`HotKeyring`]; see [`HotKeyring::builder`].
#[must_use]
pub struct HotKeyringBuilder {
    source: Box<dyn KeyringSource>,
    clock: Arc<dyn Clock>,
    mode: WatchMode,
    debounce: Duration,
    listeners: Vec<Listener>,
}

impl HotKeyringBuilder {
    /// The clock key states are read against (the system clock unless set).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How changes are noticed ([`WatchMode::Events`] unless set).
    pub fn mode(mut self, mode: WatchMode) -> Self {
        self.mode = mode;
        self
    }

    /// How long to wait after a change event for the writer to finish (50 ms unless set).
    pub fn debounce(mut self, debounce: Duration) -> Self {
        self.debounce = debounce;
        self
    }

    /// Calls `listener` after every reload attempt that published or refused a keyring
    /// (not for unchanged content). Runs on the reloading thread, outside any lock: keep it
    /// short. Events from a `reload()` racing the watcher may arrive in either order; the
    /// generation in each says which is newer.
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
        let keyring = self.source.load(self.clock.clone())?;
        let digest = digest(&keyring);
        let key_ids = key_ids(&keyring);
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
            reload: Mutex::new(ReloadState { digest }),
            last_error: Mutex::new(None),
            watcher: Mutex::new(None),
        });
        tracing::info!(
            source = %shared.source_name,
            generation = 1,
            keys = ?key_ids,
            "tokenring: keyring loaded"
        );
        let watch_path = shared.source.watch_path().map(Path::to_owned);
        if let Some(path) = watch_path {
            let watcher = match self.mode {
                WatchMode::Manual => None,
                WatchMode::Poll(every) => Some(Watcher::start(&shared, &path, None, every)),
                WatchMode::Events => Some(Watcher::start(
                    &shared,
                    &path,
                    Some(self.debounce),
                    Duration::from_secs(1),
                )),
            };
            *lock(&shared.watcher) = watcher.transpose().map_err(|source| KeyringError::Io {
                path: path.clone(),
                source,
            })?;
        }
        Ok(HotKeyring { shared })
    }
}

/// A keyring that follows its source: `Clone + Send + Sync`, read without locks.
///
/// Verifiers built from a `HotKeyring` always use the snapshot in force, deriving their keys
/// once per new snapshot.
///
/// ```no_run
/// use tokenring::{HotKeyring, FileSource, Verifier};
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
    // Serialises reloads (watcher, `reload`, `replace`), held across the source's I/O;
    // readers and `status()` never touch it.
    reload: Mutex<ReloadState>,
    last_error: Mutex<Option<String>>,
    watcher: Mutex<Option<Watcher>>,
}

struct ReloadState {
    // SHA-256 of the published keyring's canonical JSON: tells "changed" without keeping a
    // second copy of the secrets.
    digest: [u8; 32],
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking listener must not disable reloading for good.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn digest(keyring: &Keyring) -> [u8; 32] {
    Sha256::digest(keyring.to_json().as_bytes()).into()
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
            listeners: Vec::new(),
        }
    }

    /// The snapshot in force: one lock-free load. Hold the guard briefly (per request), not
    /// across reloads.
    pub fn load(&self) -> Guard<Arc<Snapshot>> {
        self.shared.current.load()
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
    /// # Errors
    ///
    /// The source's error; the keyring in force stays, and the error is also reported in
    /// [`Status::last_error`].
    pub fn reload(&self) -> Result<bool, KeyringError> {
        self.shared.reload()
    }

    /// Publishes `keyring` (for in-code sources updated by the application). Its clock is
    /// used for its key states.
    pub fn replace(&self, keyring: Keyring) {
        let event = self.shared.publish(&mut lock(&self.shared.reload), keyring);
        self.shared.notify(&event);
    }

    /// Generation, load time, source, last error and the keys with their states and
    /// verification counts.
    pub fn status(&self) -> Status {
        let snapshot = self.shared.current.load_full();
        let last_error = lock(&self.shared.last_error).clone();
        let keyring = &snapshot.keyring;
        let now = keyring.now();
        let signing = keyring.signing_key().map(super::Key::id);
        Status {
            generation: snapshot.generation,
            loaded_at: snapshot.loaded_at,
            source: self.shared.source_name.clone(),
            last_error,
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
    fn reload(&self) -> Result<bool, KeyringError> {
        let (result, event) = {
            let mut state = lock(&self.reload);
            match self.source.load(self.clock.clone()) {
                Ok(keyring) if digest(&keyring) == state.digest => {
                    *lock(&self.last_error) = None;
                    (Ok(false), None)
                }
                Ok(keyring) => (Ok(true), Some(self.publish(&mut state, keyring))),
                Err(error) => {
                    let generation = self.current.load().generation;
                    tracing::warn!(
                        source = %self.source_name,
                        generation,
                        %error,
                        "tokenring: keyring refused; the previous one stays in force"
                    );
                    *lock(&self.last_error) = Some(error.to_string());
                    let event = ReloadEvent::Refused {
                        generation,
                        error: error.to_string(),
                    };
                    (Err(error), Some(event))
                }
            }
        };
        // Listeners run outside the lock, so they may call `status()` or `reload()`.
        if let Some(event) = event {
            self.notify(&event);
        }
        result
    }

    /// Publishes `keyring` as the next generation; the caller holds the reload lock and
    /// notifies listeners with the returned event after releasing it.
    fn publish(&self, state: &mut ReloadState, keyring: Keyring) -> ReloadEvent {
        state.digest = digest(&keyring);
        *lock(&self.last_error) = None;
        let generation = self.current.load().generation + 1;
        let key_ids = key_ids(&keyring);
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

/// The background thread and what feeds it.
struct Watcher {
    // Dropping these disconnects the thread's channel, which ends it.
    _events: Option<notify::RecommendedWatcher>,
    _stop: mpsc::Sender<()>,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// `debounce: Some(_)` watches events (and polls every `poll` as a safety net when events
    /// are unavailable); `None` polls every `poll`.
    fn start(
        shared: &Arc<Shared>,
        path: &Path,
        debounce: Option<Duration>,
        poll: Duration,
    ) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<()>();
        let events = match debounce {
            Some(_) => match watch_directories(path, tx.clone()) {
                Ok(watcher) => Some(watcher),
                Err(error) => {
                    tracing::warn!(
                        path = %path.display(),
                        %error,
                        "tokenring: file events unavailable; polling every second instead"
                    );
                    None
                }
            },
            None => None,
        };
        // Without events, poll; with them, a slow poll still catches anything missed.
        let every = if events.is_some() {
            Duration::from_secs(30)
        } else {
            poll
        };
        let weak = Arc::downgrade(shared);
        let thread = thread::Builder::new()
            .name("tokenring-watch".to_owned())
            .spawn(move || run(&weak, &rx, debounce.unwrap_or_default(), every))?;
        Ok(Self {
            _events: events,
            _stop: tx,
            thread: Some(thread),
        })
    }

    fn stop(mut self) {
        let thread = self.thread.take();
        drop(self);
        if let Some(thread) = thread {
            // The last handle may be dropped by the watcher thread itself, mid-reload.
            if thread.thread().id() != current_thread() {
                let _ = thread.join();
            }
        }
    }
}

fn current_thread() -> ThreadId {
    thread::current().id()
}

/// Watches the directory holding `path` (and, if `path` is a symbolic link, the directory
/// holding its target): renames over the file, a deleted-and-recreated file and a swapped
/// `..data` link all show up as events there, where a watch on the file itself would be
/// lost with the old inode.
fn watch_directories(
    path: &Path,
    tx: mpsc::Sender<()>,
) -> notify::Result<notify::RecommendedWatcher> {
    use notify::Watcher as _;
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok() {
            let _ = tx.send(());
        }
    })?;
    let mut dirs: Vec<PathBuf> = vec![parent(path)];
    if let Ok(target) = std::fs::canonicalize(path) {
        let target_dir = parent(&target);
        if !dirs.contains(&target_dir) {
            dirs.push(target_dir);
        }
    }
    for dir in dirs {
        watcher.watch(&dir, notify::RecursiveMode::NonRecursive)?;
    }
    Ok(watcher)
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn run(shared: &Weak<Shared>, rx: &mpsc::Receiver<()>, debounce: Duration, every: Duration) {
    loop {
        match rx.recv_timeout(every) {
            Ok(()) => {
                // Let the writer finish, and fold a burst of events into one reload.
                thread::sleep(debounce);
                while rx.try_recv().is_ok() {}
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        let Some(shared) = shared.upgrade() else {
            return;
        };
        // Errors are reported inside; the loop keeps the last good keyring and waits.
        let _ = shared.reload();
    }
}
