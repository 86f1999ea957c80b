//! Every single-character change to a valid token is rejected: substitution at each position
//! by every other character of the token alphabet (and a few outside it), deletion,
//! truncation, extension, and every bit flip that leaves valid UTF-8.

use std::time::Duration;

use crate::common::{key, keyring};
use serde_json::{Value, json};
use tokenring::{Algorithm, TokenOptions, Verifier};

const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ é";

fn tokens() -> Vec<(Verifier, String)> {
    let mut out = Vec::new();
    for algorithm in [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512] {
        let (ring, _) = keyring(vec![key("2026-11", 1).with_algorithm(algorithm)]);
        let verifier = Verifier::new(ring, "tamper");
        let token = verifier
            .generate(
                &json!({"user_id": 42, "role": "admin"}),
                TokenOptions::new()
                    .purpose("reset")
                    .expires_in(Duration::from_secs(3600)),
            )
            .unwrap();
        assert!(verifier.verify::<Value>(&token, Some("reset")).is_ok());
        out.push((verifier, token));
    }
    out
}

fn assert_rejected(verifier: &Verifier, candidate: &str, original: &str, what: &str) {
    if candidate == original {
        return;
    }
    let result = verifier.verify::<Value>(candidate, Some("reset"));
    assert!(result.is_err(), "{what} accepted: {candidate:?}");
}

#[test]
fn every_substitution_is_rejected() {
    let mut checked = 0;
    for (verifier, token) in tokens() {
        let chars: Vec<char> = token.chars().collect();
        for i in 0..chars.len() {
            for replacement in ALPHABET.chars() {
                if replacement == chars[i] {
                    continue;
                }
                let mut changed = chars.clone();
                changed[i] = replacement;
                let candidate: String = changed.into_iter().collect();
                assert_rejected(
                    &verifier,
                    &candidate,
                    &token,
                    &format!("substitution at {i}"),
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 10_000, "{checked}");
}

#[test]
fn every_deletion_truncation_and_extension_is_rejected() {
    for (verifier, token) in tokens() {
        for i in 0..token.len() {
            let mut deleted = token.clone();
            deleted.remove(i);
            assert_rejected(&verifier, &deleted, &token, &format!("deletion at {i}"));
            assert_rejected(
                &verifier,
                &token[..i],
                &token,
                &format!("truncation to {i}"),
            );
        }
        for extra in ALPHABET.chars() {
            assert_rejected(&verifier, &format!("{token}{extra}"), &token, "extension");
            assert_rejected(&verifier, &format!("{extra}{token}"), &token, "prefix");
        }
    }
}

#[test]
fn every_bit_flip_is_rejected() {
    for (verifier, token) in tokens() {
        for i in 0..token.len() {
            for bit in 0..8 {
                let mut bytes = token.clone().into_bytes();
                bytes[i] ^= 1 << bit;
                if let Ok(candidate) = String::from_utf8(bytes) {
                    assert_rejected(
                        &verifier,
                        &candidate,
                        &token,
                        &format!("bit {bit} of byte {i}"),
                    );
                }
            }
        }
    }
}
