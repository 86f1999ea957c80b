//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokenring::clock::ManualClock;
use tokenring::{Key, Keyring, Secret};

/// 2027-01-15T08:00:00Z: a fixed "now" for tests.
pub const T0_SECS: u64 = 1_800_000_000;

pub fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(T0_SECS)
}

pub fn hours(n: u64) -> Duration {
    Duration::from_secs(n * 3600)
}

/// A distinct 32-byte secret per `n`.
pub fn secret(n: u8) -> Secret {
    Secret::from_bytes([n; 32])
}

pub fn key(id: &str, n: u8) -> Key {
    Key::new(id, secret(n))
}

/// A keyring of `keys` on a manual clock at `t0()`.
pub fn keyring(keys: Vec<Key>) -> (Keyring, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(t0()));
    (Keyring::new_with_clock(keys, clock.clone()).unwrap(), clock)
}
