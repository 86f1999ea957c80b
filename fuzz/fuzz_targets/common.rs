// A fixed keyring and clock shared by the targets.
use std::sync::{Arc, LazyLock};
use std::time::{Duration, UNIX_EPOCH};

use tokenring::{Algorithm, Key, Keyring, Secret, Verifier};
use tokenring::clock::ManualClock;

pub static VERIFIER: LazyLock<Verifier> = LazyLock::new(|| {
    let clock = Arc::new(ManualClock::new(
        UNIX_EPOCH + Duration::from_secs(1_800_000_000),
    ));
    let keys = vec![
        Key::new("k1", Secret::from_bytes([1; 32])),
        Key::new("k384", Secret::from_bytes([2; 32])).with_algorithm(Algorithm::Hs384),
        Key::new("k512", Secret::from_bytes([3; 32])).with_algorithm(Algorithm::Hs512),
        Key::new("gone", Secret::from_bytes([4; 32])).with_disabled(true),
    ];
    Verifier::new(Keyring::new_with_clock(keys, clock).unwrap(), "fuzz")
});
