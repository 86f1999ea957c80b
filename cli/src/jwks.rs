//! An issuer's JWKS, as `verify --jwks` and `keyring jwks-fetch` read it: fetched once by a
//! `JwksSource`, each refused key said on stderr.

use std::sync::Arc;

use tokenring::source::JwksSource;
use tokenring::{Keyring, KeyringSource};

use crate::Failure;

/// The keyring of the JWKS at `url`; every refused key named on stderr.
pub(crate) fn fetch(url: &str) -> Result<Keyring, Failure> {
    let source = JwksSource::builder(url).build()?;
    let keyring = source.load(Arc::new(tokenring::clock::SystemClock))?;
    for refused in source.refused() {
        eprintln!("tokenring: refused {refused}");
    }
    Ok(keyring)
}

/// `keyring jwks-fetch URL`: the keyring the JWKS gives (a public keyring file a verifier can
/// load) on stdout; the keys taken and refused on stderr.
pub(crate) fn show(url: &str) -> Result<(), Failure> {
    let keyring = fetch(url)?;
    for key in keyring.keys() {
        let size = key
            .public_key()
            .and_then(tokenring::jose::PublicKey::rsa_bits)
            .map(|bits| format!(" ({bits} bits)"))
            .unwrap_or_default();
        eprintln!("tokenring: taken {:?}: {}{size}", key.id(), key.algorithm());
    }
    crate::out(&*keyring.to_json())
}
