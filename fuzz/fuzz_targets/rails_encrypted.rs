//! Rails MessageEncryptor messages: arbitrary text as a message for each cipher and alphabet,
//! and arbitrary plaintext *validly encrypted* (AES-256-GCM, as Rails does it) to reach the
//! envelope and JSON decoding only a holder of the key can reach. Neither may panic; no
//! arbitrary text may decrypt.
#![no_main]

use std::sync::LazyLock;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use tokenring::Secret;
use tokenring::rails::{EncryptorConfig, RailsDigest, RailsEncryptor};

const KEY: [u8; 32] = [7; 32];

/// GCM in both alphabets and CBC (HMAC-SHA1, and SHA256 url-safe), tried in order.
static ENCRYPTOR: LazyLock<RailsEncryptor> = LazyLock::new(|| {
    let secret = || Secret::from_bytes(KEY);
    RailsEncryptor::new(EncryptorConfig::new(secret()).unwrap())
        .accept(EncryptorConfig::new(secret()).unwrap().url_safe(true))
        .accept(EncryptorConfig::cbc(secret(), None).unwrap())
        .accept(
            EncryptorConfig::cbc(secret(), Some(Secret::from_bytes([9u8; 64])))
                .unwrap()
                .digest(RailsDigest::Sha256)
                .url_safe(true),
        )
});

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for purpose in [None, Some("p")] {
            let decrypted = ENCRYPTOR.decrypt::<serde_json::Value>(text, purpose);
            assert!(decrypted.is_err(), "arbitrary text decrypted: {text:?}");
        }
    }
    // The data as a plaintext, encrypted as Rails encrypts it.
    let cipher = Aes256Gcm::new_from_slice(&KEY).unwrap();
    let nonce = Nonce::from([3u8; 12]);
    let mut buffer = data.to_vec();
    let tag = cipher
        .encrypt_inout_detached(&nonce, b"", buffer.as_mut_slice().into())
        .unwrap();
    let message = format!(
        "{}--{}--{}",
        STANDARD.encode(&buffer),
        STANDARD.encode(nonce),
        STANDARD.encode(tag)
    );
    for purpose in [None, Some("p")] {
        let _ = ENCRYPTOR.decrypt::<serde_json::Value>(&message, purpose);
        let _ = ENCRYPTOR.decrypt::<(u64, String)>(&message, purpose);
    }
});
