//! Keys built in code.

use std::sync::Arc;

use super::KeyringSource;
use crate::clock::Clock;
use crate::error::KeyringError;
use crate::keyring::{Key, Keyring};

/// Keys built in code.
#[derive(Debug, Clone)]
pub struct KeysSource {
    keys: Vec<Key>,
}

impl KeysSource {
    /// A source that loads exactly `keys` (validated on each load, like any source).
    pub fn new(keys: Vec<Key>) -> Self {
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
