//! Loading a keyring from where deployments keep it: a file or an environment variable.

use std::path::Path;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::Keyring;
use crate::clock::{Clock, SystemClock};
use crate::error::{EnvProblem, KeyringError};

impl Keyring {
    /// Reads and validates a keyring file against the system clock.
    ///
    /// # Errors
    ///
    /// [`KeyringError::Io`] if the file cannot be read; [`KeyringError::File`] if it is not a
    /// regular file, is over [`Keyring::MAX_FILE_LEN`], empty or not UTF-8; otherwise as
    /// [`Keyring::from_json`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, KeyringError> {
        FileSource::new(path.as_ref()).load(Arc::new(SystemClock))
    }

    /// Reads and validates a keyring from the JSON in environment variable `name`, against
    /// the system clock. Such a keyring changes only when the process restarts.
    ///
    /// # Errors
    ///
    /// [`KeyringError::Env`] if the variable is unset or not UTF-8, otherwise as
    /// [`Keyring::from_json`].
    pub fn from_env(name: &str) -> Result<Self, KeyringError> {
        EnvSource::new(name).load(Arc::new(SystemClock))
    }
}

/// Where a keyring comes from, so a [`crate::HotKeyring`] can load it again.
///
/// Built in: [`FileSource`], [`EnvSource`], [`KeysSource`] (in code) and, with the `etcd`
/// feature, `EtcdSource`. Anything else plugs in by implementing `load` (and, to report
/// revisions, `load_revision`; to push changes, `announce`; otherwise poll it with
/// `WatchMode::Poll`). A keyring served over HTTP, its `ETag` as the revision, polled:
///
/// ```
/// use std::io::{Read, Write};
/// use std::net::{TcpListener, TcpStream};
/// use std::sync::Arc;
/// use std::time::Duration;
/// use tokenring::clock::Clock;
/// use tokenring::hot::WatchMode;
/// use tokenring::keyring::Versioned;
/// use tokenring::{HotKeyring, Keyring, KeyringError, KeyringSource};
///
/// /// `GET http://ADDR/keyring`; the `ETag` is the revision.
/// struct HttpSource {
///     addr: String,
/// }
///
/// impl KeyringSource for HttpSource {
///     fn load(&self, clock: Arc<dyn Clock>) -> Result<Keyring, KeyringError> {
///         Ok(self.load_revision(clock)?.keyring)
///     }
///     fn load_revision(&self, clock: Arc<dyn Clock>) -> Result<Versioned, KeyringError> {
///         let unavailable = |reason: String| KeyringError::Unavailable {
///             store: format!("http://{}/keyring", self.addr),
///             reason,
///         };
///         let mut stream = TcpStream::connect(&self.addr).map_err(|e| unavailable(e.to_string()))?;
///         stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
///         write!(stream, "GET /keyring HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.addr)
///             .map_err(|e| unavailable(e.to_string()))?;
///         let mut response = String::new();
///         stream.take(1 << 20).read_to_string(&mut response).map_err(|e| unavailable(e.to_string()))?;
///         let (head, body) = response.split_once("\r\n\r\n").ok_or_else(|| unavailable("no body".into()))?;
///         if !head.starts_with("HTTP/1.1 200") {
///             return Err(unavailable(head.lines().next().unwrap_or_default().to_owned()));
///         }
///         let etag = head.lines().find_map(|l| l.strip_prefix("ETag: ")).map(str::to_owned);
///         Ok(Versioned::new(Keyring::from_json_with_clock(body, clock)?, etag))
///     }
///     fn describe(&self) -> String {
///         format!("http://{}/keyring", self.addr)
///     }
/// }
///
/// // A stand-in for the keyring service: one answer per connection, given once the whole
/// // request is read (closing with unread bytes would reset the connection).
/// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
/// let addr = listener.local_addr().unwrap().to_string();
/// std::thread::spawn(move || {
///     let body = r#"{"keys": [{"id": "k1", "secret": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}]}"#;
///     for stream in listener.incoming() {
///         let mut stream = stream.unwrap();
///         let (mut request, mut chunk) = (Vec::new(), [0u8; 1024]);
///         while !request.ends_with(b"\r\n\r\n") {
///             match stream.read(&mut chunk) {
///                 Ok(0) | Err(_) => break,
///                 Ok(n) => request.extend_from_slice(&chunk[..n]),
///             }
///         }
///         let _ = write!(stream, "HTTP/1.1 200 OK\r\nETag: \"v7\"\r\nContent-Length: {}\r\n\r\n{body}", body.len());
///     }
/// });
///
/// let keyring = HotKeyring::builder(HttpSource { addr })
///     .mode(WatchMode::Poll(Duration::from_secs(30)))
///     .build()?;
/// assert_eq!(keyring.status().revision.as_deref(), Some("\"v7\""));
/// assert_eq!(keyring.keyring().keys()[0].id(), "k1");
/// # Ok::<(), KeyringError>(())
/// ```
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

/// A keyring JSON file; watchable.
///
/// Only a regular file (or a symbolic link to one) is read, opened without blocking and up to
/// [`FileSource::max_bytes`], so a FIFO, a device or a runaway file at the path is refused
/// instead of wedging or flooding the reloader.
#[derive(Debug, Clone)]
pub struct FileSource {
    path: std::path::PathBuf,
    max_bytes: u64,
}

impl FileSource {
    /// The file at `path` (symbolic links are followed on every load).
    pub fn new(path: impl Into<std::path::PathBuf>) -> Self {
        Self {
            path: path.into(),
            max_bytes: Keyring::MAX_FILE_LEN,
        }
    }

    /// Refuses files longer than `max_bytes` ([`Keyring::MAX_FILE_LEN`], 1 MiB, unless set).
    #[must_use]
    pub fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }
}

impl KeyringSource for FileSource {
    fn load(&self, clock: Arc<dyn Clock>) -> Result<Keyring, KeyringError> {
        let text = super::read::read_keyring_file(&self.path, self.max_bytes)?;
        Keyring::from_json_with_clock(&text, clock)
    }

    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }

    fn watch_path(&self) -> Option<&Path> {
        Some(&self.path)
    }
}

/// A keyring JSON document in an environment variable. It changes only with the process, so
/// rotating means restarting (after the new value is deployed).
#[derive(Debug, Clone)]
pub struct EnvSource {
    name: String,
}

impl EnvSource {
    /// The variable `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into() }
    }
}

impl KeyringSource for EnvSource {
    fn load(&self, clock: Arc<dyn Clock>) -> Result<Keyring, KeyringError> {
        let text = match std::env::var(&self.name) {
            Ok(text) => Zeroizing::new(text),
            Err(std::env::VarError::NotPresent) => {
                return Err(KeyringError::Env {
                    name: self.name.clone(),
                    problem: EnvProblem::NotSet,
                });
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(KeyringError::Env {
                    name: self.name.clone(),
                    problem: EnvProblem::NotUnicode,
                });
            }
        };
        Keyring::from_json_with_clock(&text, clock)
    }

    fn describe(&self) -> String {
        format!("environment variable {}", self.name)
    }
}

/// Keys built in code.
#[derive(Debug, Clone)]
pub struct KeysSource {
    keys: Vec<super::Key>,
}

impl KeysSource {
    /// A source that loads exactly `keys` (validated on each load, like any source).
    pub fn new(keys: Vec<super::Key>) -> Self {
        Self { keys }
    }
}

impl KeyringSource for KeysSource {
    fn load(&self, clock: Arc<dyn Clock>) -> Result<Keyring, KeyringError> {
        Keyring::new_with_clock(self.keys.clone(), clock)
    }

    fn describe(&self) -> String {
        format!("{} keys in code", self.keys.len())
    }
}
