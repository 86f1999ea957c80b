//! A keyring JSON file on disk.

use std::path::Path;
use std::sync::Arc;

use super::KeyringSource;
use crate::clock::{Clock, SystemClock};
use crate::error::KeyringError;
use crate::keyring::Keyring;

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
