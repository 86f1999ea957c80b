//! The JWS reader on any input: never a panic, never a token accepted that the fixed keys
//! did not sign; and whatever bytes are signed as claims come back unchanged. The same input
//! through a `Verifier` over a public keyring: never a panic, and what the signing keyring
//! mints from it verifies there.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tokenring::jose::{self, JoseAlgorithm, SigningKey};
use tokenring::{Key, Keyring, Secret, TokenOptions, Verifier};

static KEYS: LazyLock<[(&str, SigningKey); 2]> = LazyLock::new(|| {
    let key = |algorithm, byte| SigningKey::from_bytes(algorithm, &Secret::from_bytes([byte; 32])).unwrap();
    [("ed", key(JoseAlgorithm::EdDsa, 7)), ("es", key(JoseAlgorithm::Es256, 9))]
});

/// A verifier over the signing keyring of both keys, and one over its public keyring.
static VERIFIERS: LazyLock<(Verifier, Verifier)> = LazyLock::new(|| {
    let key = |id, algorithm, byte| {
        Key::from_signing_key(id, SigningKey::from_bytes(algorithm, &Secret::from_bytes([byte; 32])).unwrap())
    };
    let signing =
        Keyring::new(vec![key("ed", JoseAlgorithm::EdDsa, 7), key("es", JoseAlgorithm::Es256, 9)]).unwrap();
    let public = signing.public().unwrap();
    (Verifier::new(signing, "fuzz"), Verifier::new(public, "fuzz"))
});

fuzz_target!(|data: &[u8]| {
    let (signing, public) = &*VERIFIERS;
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = public.verify::<serde_json::Value>(text, None);
    }
    let value = String::from_utf8_lossy(data);
    let token = signing.generate(&value, TokenOptions::new()).unwrap();
    assert_eq!(public.verify::<String>(&token, None).unwrap().value, value);

    let publics: Vec<_> = KEYS.iter().map(|(kid, key)| (*kid, key.public_key())).collect();
    let find = |kid: &str| publics.iter().find(|(k, _)| *k == kid).map(|(_, key)| key);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok((header, _)) = jose::verify(text, 8192, find) {
            // Only a token one of the keys signed verifies: the fuzzer cannot sign, so it
            // must have found one of the round trips below in its corpus.
            assert!(header.kid == "ed" || header.kid == "es");
        }
    }
    for (kid, key) in KEYS.iter() {
        let token = jose::sign(kid, key, data);
        let (_, claims) = jose::verify(&token, usize::MAX, find).unwrap();
        assert_eq!(claims, data);
    }
});
