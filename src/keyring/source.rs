//! Loading a keyring from where deployments keep it: a file or an environment variable.

use std::path::Path;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::Keyring;
use crate::clock::{Clock, SystemClock};
use crate::error::KeyringError;

impl Keyring {
    /// Reads and validates a keyring file against the system clock.
    ///
    /// # Errors
    ///
    /// [`KeyringError::Io`] if the file cannot be read, otherwise as
    /// [`Keyring::from_json`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, KeyringError> {
        Self::from_file_with_clock(path, Arc::new(SystemClock))
    }

    /// Reads and validates a keyring file; key states will be read from `clock`.
    ///
    /// # Errors
    ///
    /// As [`Keyring::from_file`].
    pub fn from_file_with_clock(
        path: impl AsRef<Path>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, KeyringError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map(Zeroizing::new)
            .map_err(|source| KeyringError::Io {
                path: path.to_owned(),
                source,
            })?;
        Self::from_json_with_clock(&text, clock)
    }

    /// Reads and validates a keyring from the JSON in environment variable `name`, against
    /// the system clock. Such a keyring changes only when the process restarts.
    ///
    /// # Errors
    ///
    /// [`KeyringError::Env`] if the variable is unset or not UTF-8, otherwise as
    /// [`Keyring::from_json`].
    pub fn from_env(name: &str) -> Result<Self, KeyringError> {
        Self::from_env_with_clock(name, Arc::new(SystemClock))
    }

    /// As [`Keyring::from_env`], with key states read from `clock`.
    ///
    /// # Errors
    ///
    /// As [`Keyring::from_env`].
    pub fn from_env_with_clock(name: &str, clock: Arc<dyn Clock>) -> Result<Self, KeyringError> {
        let text = match std::env::var(name) {
            Ok(text) => Zeroizing::new(text),
            Err(std::env::VarError::NotPresent) => {
                return Err(KeyringError::Env {
                    name: name.to_owned(),
                    problem: "is not set",
                });
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(KeyringError::Env {
                    name: name.to_owned(),
                    problem: "is not valid UTF-8",
                });
            }
        };
        Self::from_json_with_clock(&text, clock)
    }
}
