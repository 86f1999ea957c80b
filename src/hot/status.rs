//! What a hot keyring tells: the snapshot in force, reload events, and its status.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::Guard;

use crate::error::{KeyringError, SharedError};
use crate::keyring::{KeyState, Keyring};

/// The snapshot in force, as [`HotKeyring::load`](super::HotKeyring::load) returns it: a cheap guard (an `arc-swap`
/// load) that dereferences to the [`Snapshot`].
pub struct Loaded(pub(super) Guard<Arc<Snapshot>>);

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

/// What a reload did; passed to [`HotKeyringBuilder::on_reload`](super::HotKeyringBuilder::on_reload) callbacks.
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
