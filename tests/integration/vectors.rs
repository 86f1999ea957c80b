//! tests/vectors/native-v1.json, written by an independent Python implementation of
//! docs/FORMAT.md: tokenring must derive the same keys, mint the same bytes and accept them.

use crate::common::hex_encode;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use serde_json::Value;
use tokenring::clock::ManualClock;
use tokenring::{Algorithm, Key, KeyGenerator, Keyring, Secret, TokenOptions, Verifier};

fn vectors() -> Vec<Value> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/native-v1.json"
    ))
    .unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["vectors"].as_array().unwrap().clone()
}

#[test]
fn native_v1_vectors() {
    let vectors = vectors();
    assert!(vectors.len() >= 6);
    for v in vectors {
        let name = v["name"].as_str().unwrap();
        let secret = Secret::from_base64(v["key"]["secret"].as_str().unwrap()).unwrap();
        let algorithm: Algorithm = v["key"]["algorithm"].as_str().unwrap().parse().unwrap();
        let salt = v["salt"].as_str().unwrap();
        let purpose = v["purpose"].as_str();
        let exp = v["exp"].as_u64();
        let expected = v["token"].as_str().unwrap();

        let derived = KeyGenerator::new(&secret)
            .unwrap()
            .generate_key(salt.as_bytes(), algorithm.tag_len())
            .unwrap();
        assert_eq!(
            hex_encode(derived.expose()),
            v["derived_key_hex"],
            "{name}: derived key"
        );

        // Sign one second before the expiry so the token is still valid when verified.
        let now = UNIX_EPOCH + Duration::from_secs(exp.unwrap_or(1_700_000_000).saturating_sub(1));
        let clock = Arc::new(ManualClock::new(now));
        let key = Key::new(v["key"]["id"].as_str().unwrap(), secret).with_algorithm(algorithm);
        let keyring = Keyring::new_with_clock(vec![key], clock).unwrap();
        let verifier = Verifier::new(keyring, salt);

        let mut options = TokenOptions::new();
        if let Some(p) = purpose {
            options = options.purpose(p);
        }
        if let Some(exp) = exp {
            options = options.expires_at(UNIX_EPOCH + Duration::from_secs(exp));
        }
        let token = verifier.generate(&v["value"], options).unwrap();
        assert_eq!(token, expected, "{name}: token bytes");

        let claims = tokenring::inspect::decode_unverified(expected).unwrap();
        let payload: Value = serde_json::from_str(v["payload_json"].as_str().unwrap()).unwrap();
        assert_eq!(claims.value, payload["dat"], "{name}: payload");

        let verified = verifier.verify::<Value>(expected, purpose).unwrap();
        assert_eq!(verified.value, v["value"], "{name}: value");
        assert_eq!(
            verified.expires_at,
            exp.map(|s| UNIX_EPOCH + Duration::from_secs(s))
        );
    }
}
