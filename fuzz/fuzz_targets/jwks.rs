//! An issuer's JWKS document as `JwksSource` reads it, on any input: never a panic; every key
//! taken is a public key (nothing of it signs), each refused key is named by a position in the
//! document, and no key is both taken and refused.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use tokenring::clock::SystemClock;
use tokenring::source::JwksSource;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok((keyring, refused)) = JwksSource::keyring_of(text, Arc::new(SystemClock)) {
        assert!(keyring.is_public());
        assert!(keyring.keys().iter().all(|key| key.public_key().is_some()));
        let document: serde_json::Value = serde_json::from_str(text).unwrap();
        let entries = document["keys"].as_array().unwrap().len();
        assert_eq!(keyring.keys().len() + refused.len(), entries);
        assert!(refused.iter().all(|refusal| refusal.index < entries));
        for refusal in &refused {
            let _ = refusal.to_string();
        }
    }
});
