//! Where keyrings come from: the [`KeyringSource`] trait and the built-in sources, one file
//! each — a JSON file ([`FileSource`]), an environment variable ([`EnvSource`]), keys built in
//! code ([`KeysSource`]), with the `etcd` feature an etcd cluster (`EtcdSource`, its
//! acknowledgements and grants) and with the `jwks` feature an issuer's JWKS URL
//! (`JwksSource`).
//!
//! A source only loads and validates; following it (watching, debouncing, keeping the last
//! good keyring) is [`hot`](crate::hot)'s work.

mod env;
#[cfg(feature = "etcd")]
mod etcd;
mod file;
#[cfg(feature = "jwks")]
mod jwks;
mod keys;
pub(crate) mod read;

pub use env::EnvSource;
#[cfg(feature = "etcd")]
pub use etcd::{EtcdSource, EtcdSourceBuilder, Exposure, NodeReport, ReportProblem};
pub use file::FileSource;
#[cfg(feature = "jwks")]
pub use jwks::{JwkRefusal, JwksSource, JwksSourceBuilder, RefusedJwk};
pub use keys::KeysSource;

use std::path::Path;
use std::sync::Arc;

use crate::clock::Clock;
use crate::error::KeyringError;
use crate::keyring::Keyring;

/// Where a keyring comes from, so a [`crate::HotKeyring`] can load it again.
///
/// Built in: [`FileSource`], [`EnvSource`], [`KeysSource`] (in code) and, with the `etcd`
/// feature, `EtcdSource`. Anything else plugs in by implementing `load` (and, to report
/// revisions, `load_revision`; to push changes, `announce`; otherwise poll it with
/// `WatchMode::Poll`). A keyring kept by another part of the program, its version as the
/// revision:
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use tokenring::clock::Clock;
/// use tokenring::source::{KeyringSource, Versioned};
/// use tokenring::{Keyring, KeyringError};
///
/// /// The keyring JSON a configuration service last pushed, and its version.
/// struct Pushed(Mutex<(String, u64)>);
///
/// impl KeyringSource for Pushed {
///     fn load(&self, clock: Arc<dyn Clock>) -> Result<Keyring, KeyringError> {
///         Ok(self.load_revision(clock)?.keyring)
///     }
///     fn load_revision(&self, clock: Arc<dyn Clock>) -> Result<Versioned, KeyringError> {
///         let (json, version) = &*self.0.lock().unwrap_or_else(|p| p.into_inner());
///         let keyring = Keyring::from_json_with_clock(json, clock)?;
///         Ok(Versioned::new(keyring, Some(version.to_string())))
///     }
///     fn describe(&self) -> String {
///         "pushed configuration".to_owned()
///     }
/// }
///
/// let json = r#"{"keys": [{"id": "k1", "secret": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}]}"#;
/// let source = Pushed(Mutex::new((json.to_owned(), 7)));
/// let loaded = source.load_revision(Arc::new(tokenring::clock::SystemClock))?;
/// assert_eq!(loaded.revision.as_deref(), Some("7"));
/// assert_eq!(loaded.keyring.keys()[0].id(), "k1");
/// # Ok::<(), KeyringError>(())
/// ```
///
/// A source served over HTTP (its `ETag` as the revision, polled by a hot keyring) is in
/// `tests/integration/http_source.rs`.
pub trait KeyringSource: Send + Sync + 'static {
    /// Loads and validates the keyring, its key states to be read from `clock`.
    ///
    /// # Errors
    ///
    /// Any [`KeyringError`]; a hot keyring keeps its last good snapshot when this fails.
    fn load(&self, clock: Arc<dyn Clock>) -> Result<Keyring, KeyringError>;

    /// A name for logs and status, e.g. `file /etc/app/keyring.json`. Never a secret.
    fn describe(&self) -> String;

    /// The file whose changes should trigger a reload, if the source is a file.
    fn watch_path(&self) -> Option<&Path> {
        None
    }

    /// Loads the keyring and the revision of the source it came from, for sources that have
    /// one (an etcd key's modification revision, an HTTP `ETag`): [`Status`] shows it, and
    /// fleet acknowledgements report it. By default, [`KeyringSource::load`] and no revision.
    ///
    /// # Errors
    ///
    /// As [`KeyringSource::load`].
    ///
    /// [`Status`]: crate::hot::Status
    fn load_revision(&self, clock: Arc<dyn Clock>) -> Result<Versioned, KeyringError> {
        Ok(Versioned {
            keyring: self.load(clock)?,
            revision: None,
        })
    }

    /// Starts announcing changes, for sources that can (a store's watch, a pub/sub channel):
    /// call [`Changes::changed`] whenever the keyring may have changed, from any thread; the
    /// hot keyring then reloads (debounced, validated, published only if different). Whatever
    /// keeps the announcing alive goes in the returned [`Announcement`], dropped when the hot
    /// keyring stops. `Ok(None)` (the default): this source cannot announce, so in
    /// [`WatchMode::Events`] it is not watched; [`WatchMode::Poll`] polls any source.
    ///
    /// # Errors
    ///
    /// Why announcing could not start; the hot keyring then polls every second instead.
    ///
    /// [`WatchMode::Events`]: crate::hot::WatchMode::Events
    /// [`WatchMode::Poll`]: crate::hot::WatchMode::Poll
    fn announce(&self, changes: Changes) -> Result<Option<Announcement>, KeyringError> {
        let _ = changes;
        Ok(None)
    }

    /// A token named a key the keyring from this source does not hold — perhaps an issuer
    /// that rotated before the source's next load. A source that can fetch on demand answers
    /// [`KeyMiss::Fetch`] (the hot keyring then reloads at once, and the token is checked
    /// against what it loaded; tokens arriving while that load runs wait for it) at a rate it
    /// bounds itself, since anyone can send a token naming any key. By default, and whenever
    /// the rate is spent, [`KeyMiss::Ignore`].
    fn key_missing(&self) -> KeyMiss {
        KeyMiss::Ignore
    }
}

/// What a source says to a token naming a key its keyring lacks
/// ([`KeyringSource::key_missing`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyMiss {
    /// Nothing to do: the key is unknown.
    Ignore,
    /// Load now: the key may have been published since the last load.
    Fetch,
}

/// A keyring and the revision of the source it was loaded from.
#[derive(Debug)]
#[non_exhaustive]
pub struct Versioned {
    /// The keyring.
    pub keyring: Keyring,
    /// The source's revision of it, if the source has revisions.
    pub revision: Option<String>,
}

impl Versioned {
    /// `keyring` at `revision`.
    pub fn new(keyring: Keyring, revision: Option<String>) -> Self {
        Self { keyring, revision }
    }
}

/// How a source tells a hot keyring that its keyring may have changed; see
/// [`KeyringSource::announce`]. Cheap to clone and `Send + Sync`.
#[derive(Clone)]
pub struct Changes(Arc<dyn Fn() + Send + Sync>);

impl Changes {
    /// Changes reported to `on_change` (a hot keyring passes its own).
    pub fn new(on_change: impl Fn() + Send + Sync + 'static) -> Self {
        Self(Arc::new(on_change))
    }

    /// The keyring may have changed: the hot keyring will load it again.
    pub fn changed(&self) {
        (self.0)();
    }
}

impl std::fmt::Debug for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Changes")
    }
}

/// Keeps a source's announcing alive (a watch task, a subscription); dropped when the hot
/// keyring stops.
pub struct Announcement {
    // Held, not read: dropping it stops the announcing.
    _guard: Box<dyn Send>,
}

impl Announcement {
    /// Holds `guard` until the hot keyring stops.
    pub fn new(guard: impl Send + 'static) -> Self {
        Self {
            _guard: Box::new(guard),
        }
    }
}

impl std::fmt::Debug for Announcement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Announcement")
    }
}
