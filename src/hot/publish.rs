//! Loading the source, telling new from unchanged, publishing, and reporting refusals.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use sha2::{Digest as _, Sha256};

use super::builder::{Listener, REPEAT_REFUSAL_EVERY, warn_demo};
use super::gate::{Gate, lock};
use super::status::{ReloadEvent, Snapshot};
use super::watcher::Watcher;
use crate::clock::Clock;
use crate::error::{KeyringError, SharedError};
use crate::keyring::Keyring;
use crate::keyring::handle::Follow;
use crate::source::{KeyMiss, KeyringSource, Versioned};

pub(super) struct Shared {
    pub(super) current: ArcSwap<Snapshot>,
    pub(super) source: Box<dyn KeyringSource>,
    pub(super) source_name: String,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) listeners: Vec<Listener>,
    // One reload at a time (watcher, `reload`, `replace`), held across the source's I/O;
    // readers and `status()` never wait for it.
    pub(super) gate: Gate,
    pub(super) reload_wait: Duration,
    // SHA-256 of the published keyring's canonical JSON: tells "changed" without keeping a
    // second copy of the secrets. Only the gate's holder touches it.
    pub(super) digest: Mutex<[u8; 32]>,
    // The source's revision of the keyring in force (or of the same content, loaded again).
    pub(super) revision: Mutex<Option<String>>,
    pub(super) health: Mutex<Health>,
    pub(super) loads: AtomicU64,
    pub(super) watcher: Mutex<Option<Watcher>>,
    // Whether a load for a missing key runs: every request for one is decided under this
    // lock, so a token arriving meanwhile waits for it instead of racing it.
    pub(super) fetching: Mutex<bool>,
    pub(super) fetched: std::sync::Condvar,
}

/// What the last reload attempts said, for `status()` and for not repeating a warning.
#[derive(Default)]
pub(super) struct Health {
    /// The refusal in force and when it was last logged.
    pub(super) refused: Option<(SharedError<KeyringError>, Instant)>,
}

/// SHA-256 of the keyring's canonical JSON, streamed into the hasher: tells a changed keyring
/// from the same one without writing its secrets out again.
pub(super) fn digest(keyring: &Keyring) -> [u8; 32] {
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

pub(super) fn key_ids(keyring: &Keyring) -> Vec<String> {
    keyring.keys().iter().map(|k| k.id().to_owned()).collect()
}

impl Shared {
    /// Loads the source and publishes what changed. `wait`: how long to wait for a reload
    /// already running (`None`: as long as it takes, for the watcher itself).
    pub(super) fn reload(&self, wait: Option<Duration>) -> Result<bool, KeyringError> {
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
        self.count_reload(match &result {
            Ok(true) => "loaded",
            Ok(false) => "unchanged",
            Err(_) => "refused",
        });
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
    pub(super) fn publish(&self, keyring: Keyring) -> ReloadEvent {
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

    pub(super) fn notify(&self, event: &ReloadEvent) {
        for listener in &self.listeners {
            listener(event);
        }
    }

    /// Counts a load attempt (`loaded`, `unchanged` or `refused`) with the keyring then in
    /// force (no-ops without the `metrics` feature).
    pub(super) fn count_reload(&self, result: &'static str) {
        let snapshot = self.current.load();
        let keyring = &snapshot.keyring;
        let now = keyring.now();
        let mut by_state = crate::telemetry::KeysByState::default();
        for key in keyring.keys() {
            by_state.count(key.state_at(now));
        }
        crate::telemetry::counters::reload(result, snapshot.generation, by_state);
    }
}

impl Follow for Shared {
    fn is_current(&self, keyring: &Arc<Keyring>) -> bool {
        Arc::ptr_eq(&self.current.load().keyring, keyring)
    }

    fn current(&self) -> Arc<Keyring> {
        Arc::clone(&self.current.load().keyring)
    }

    /// Reloads when the source says so; waits (at most the reload wait) for a load for a
    /// missing key that another thread runs, so a token arriving meanwhile is checked against
    /// what it brings rather than refused.
    fn key_missing(&self) -> bool {
        let before = self.current.load().generation;
        let mut fetching = lock(&self.fetching);
        if *fetching {
            let waited = self
                .fetched
                .wait_timeout_while(fetching, self.reload_wait, |running| *running)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            drop(waited);
            return self.current.load().generation != before;
        }
        match self.source.key_missing() {
            KeyMiss::Ignore => return false,
            KeyMiss::Fetch => {
                /// Ends the fetch for the waiters however the reload ends.
                struct Done<'a>(&'a Shared);
                impl Drop for Done<'_> {
                    fn drop(&mut self) {
                        *lock(&self.0.fetching) = false;
                        self.0.fetched.notify_all();
                    }
                }
                *fetching = true;
                drop(fetching);
                let _done = Done(self);
                let _ = self.reload(Some(self.reload_wait));
            }
        }
        self.current.load().generation != before
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let snapshot = self.current.load();
        f.debug_struct("HotKeyring")
            .field("source", &self.source_name)
            .field("generation", &snapshot.generation)
            .field("keyring", &snapshot.keyring)
            .finish()
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
