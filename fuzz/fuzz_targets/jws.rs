//! The JWS reader on any input: never a panic, never a token accepted that the fixed keys
//! did not sign; and whatever bytes are signed as claims come back unchanged.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tokenring::Secret;
use tokenring::jose::{self, JoseAlgorithm, SigningKey};

static KEYS: LazyLock<[(&str, SigningKey); 2]> = LazyLock::new(|| {
    let key = |algorithm, byte| SigningKey::from_bytes(algorithm, &Secret::from_bytes([byte; 32])).unwrap();
    [("ed", key(JoseAlgorithm::EdDsa, 7)), ("es", key(JoseAlgorithm::Es256, 9))]
});

fuzz_target!(|data: &[u8]| {
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
