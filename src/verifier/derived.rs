//! The keys a verifier actually MACs with: one keyed HMAC state per keyring HMAC key, derived
//! for the verifier's salt, once per keyring snapshot. (`EdDSA` and `ES256` keys need nothing
//! per salt: the keyring holds them parsed.)
//!
//! Over a fixed keyring they are derived when the verifier is built. Over a hot keyring the
//! verifier caches the set for the snapshot it last saw (`keyring::PerSnapshot`); the first
//! call after a reload derives the new set (microseconds per key) and every call after that
//! reuses it.

use crate::algorithm::KeyedMac;
use crate::key_generator::KeyGenerator;
use crate::keyring::{Computed, Key, KeyringRef, PerSnapshot};

/// One snapshot's keys derived for one salt, index-aligned with `keyring.keys()` (and
/// each key's counters for this verifier; no-ops without the `metrics` feature).
pub(crate) struct DerivedMacs {
    macs: Box<[Option<KeyedMac>]>,
    pub(crate) counters: Box<[crate::telemetry::KeyCounters]>,
}

/// A verifier's derived keys, following its keyring.
pub(crate) type DerivedKeys = PerSnapshot<DerivedMacs>;

/// Derives every key of each snapshot of `source` for `salt`.
pub(crate) fn derived_keys(source: KeyringRef, salt: &str) -> DerivedKeys {
    let salt = salt.to_owned();
    PerSnapshot::new(
        source,
        Box::new(move |keyring| DerivedMacs {
            macs: keyring
                .keys()
                .iter()
                .map(|k| derive_mac(k, &salt))
                .collect(),
            counters: keyring
                .keys()
                .iter()
                .map(|k| crate::telemetry::KeyCounters::new(&salt, k.id()))
                .collect(),
        }),
    )
}

/// The key at `index` of a snapshot and its derived MAC (`None` for a public-key key),
/// together.
pub(crate) fn key_and_mac(keys: &Computed<DerivedMacs>, index: usize) -> (&Key, Option<&KeyedMac>) {
    (&keys.keyring.keys()[index], keys.value.macs[index].as_ref())
}

/// The derived key for (`key`, `salt`): HKDF-SHA256 with the key's secret as input keying
/// material, no extract salt, `salt` as info, as long as the algorithm's tag. `None` for a
/// public-key key.
fn derive_mac(key: &Key, salt: &str) -> Option<KeyedMac> {
    let secret = key.mac_secret()?;
    // A Keyring only holds HMAC secrets of at least 32 bytes, and tags are at most 64 bytes:
    // neither call can fail.
    let derived = KeyGenerator::new(secret)
        .and_then(|g| g.generate_key(salt.as_bytes(), key.algorithm().tag_len()))
        .expect("keyring secrets are validated master keys");
    KeyedMac::new(key.algorithm(), derived.expose())
}
