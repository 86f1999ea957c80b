//! A keyring JSON document in an environment variable.

use std::sync::Arc;

use zeroize::Zeroizing;

use super::KeyringSource;
use crate::clock::{Clock, SystemClock};
use crate::error::{EnvProblem, KeyringError};
use crate::keyring::Keyring;

impl Keyring {
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
