//! Arbitrary bytes as a payload *with a valid MAC*, to reach the base64 and JSON envelope
//! decoding that only a key holder can reach: it must never panic, whatever the bytes.
#![no_main]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit as _, Mac as _};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;
use tokenring::{KeyGenerator, Secret};

fuzz_target!(|data: &[u8]| {
    let derived = KeyGenerator::new(&Secret::from_bytes([1; 32]))
        .unwrap()
        .generate_key(b"fuzz", 32)
        .unwrap();
    // Half the runs sign the raw bytes as the payload text, half as base64 of them.
    let payload = if data.first().is_some_and(|b| b & 1 == 1) {
        match std::str::from_utf8(&data[1..]) {
            Ok(text) => text.to_owned(),
            Err(_) => return,
        }
    } else {
        URL_SAFE_NO_PAD.encode(data)
    };
    let signed = format!("v1.k1.{payload}");
    let mut mac = Hmac::<Sha256>::new_from_slice(derived.expose()).unwrap();
    mac.update(signed.as_bytes());
    let token = format!(
        "{signed}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    );
    for purpose in [None, Some("p")] {
        let _ = common::VERIFIER.verify::<serde_json::Value>(&token, purpose);
        let _ = common::VERIFIER.verify::<(u64, String)>(&token, purpose);
    }
});
