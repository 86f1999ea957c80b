//! Rails tokens that are signed correctly but carry bad payloads, and tokens that are not
//! tokens at all: each a clean, typed error, never a panic.
#![cfg(feature = "rails")]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use serde_json::Value;
use tokenring::Secret;
use tokenring::rails::{RailsConfig, RailsError, RailsOptions, RailsVerifier};

const SECRET: [u8; 64] = [7; 64];

fn verifier() -> RailsVerifier {
    RailsVerifier::new(RailsConfig::new(Secret::from_bytes(SECRET)))
}

/// `data` signed as Rails would (HMAC-SHA1 over the text).
fn signed(data: &str) -> String {
    crate::common::rails_signed(&SECRET, false, data)
}

fn payload(json: &str) -> String {
    signed(&STANDARD.encode(json))
}

#[test]
fn signed_but_malformed_payloads() {
    let v = verifier();
    let bad_payload = |token: &str| {
        matches!(
            v.verify::<Value>(token, None),
            Err(RailsError::BadPayload(_))
        )
    };
    assert!(bad_payload(&signed("not base64!")));
    assert!(bad_payload(&payload("{not json")));
    assert!(bad_payload(&payload(r#"{"_rails":{"message":42}}"#)));
    assert!(bad_payload(&payload(r#"{"_rails":{"message":"!!"}}"#)));
    assert!(bad_payload(&payload(
        r#"{"_rails":{"message":"e25vdA=="}}"#
    ))); // "{not"
    assert!(bad_payload(&payload(r#"{"_rails":{"data":1,"exp":12}}"#)));
    // Ruby compares an array's inspect form: no purpose matches it.
    assert!(matches!(
        v.verify::<Value>(&payload(r#"{"_rails":{"data":1,"pur":["x"]}}"#), None),
        Err(RailsError::PurposeMismatch { .. })
    ));
    // A `_rails` without `data` is no envelope (as Rails' cookie jars read it; its verifier
    // would answer nil): the whole object is the value, and it answers no purpose.
    assert_eq!(
        v.verify::<Value>(&payload(r#"{"_rails":{"exp":null}}"#), None)
            .unwrap()
            .value,
        serde_json::json!({"_rails": {"exp": null}})
    );
    assert!(matches!(
        v.verify::<Value>(&payload(r#"{"_rails":{"pur":"p"}}"#), Some("p")),
        Err(RailsError::PurposeMismatch { .. })
    ));
    assert!(bad_payload(&payload(r#"{"_rails":5}"#)));
    assert!(bad_payload(&payload(
        r#"{"n":123456789012345678901234567890}"#
    )));
    assert!(bad_payload(&payload(
        r#"{"_rails":{"data":1,"exp":"99999999999-01-01T00:00:00Z"}}"#
    )));
    assert!(bad_payload(&payload(
        r#"{"_rails":{"data":1,"exp":"tomorrow"}}"#
    )));
    // A huge number where a value goes is just a value.
    assert!(v.verify::<Value>(&payload("1e400"), None).is_err());
    assert!(matches!(
        v.verify::<u8>(&payload("300"), None),
        Err(RailsError::InvalidValue(_))
    ));
}

#[test]
fn shape_errors() {
    let v = verifier();
    for token in [
        "",
        "--",
        "abc",
        "NDI=--",
        "NDI=-0123456789012345678901234567890123456789",
    ] {
        assert!(
            matches!(
                v.verify::<Value>(token, None),
                Err(RailsError::Malformed(_))
            ),
            "{token:?}"
        );
    }
    let token = v.generate(&42, RailsOptions::new()).unwrap();
    let (data, hex) = token.split_once("--").unwrap();
    let upper = format!("{data}--{}", hex.to_uppercase());
    assert_eq!(
        v.verify::<Value>(&upper, None),
        Err(RailsError::BadSignature),
        "upper-case hex is refused"
    );
    let huge = "A".repeat(1 << 20);
    assert!(matches!(
        v.verify::<Value>(&huge, None),
        Err(RailsError::TooLarge { .. })
    ));
}

#[test]
fn purpose_as_rails_compares_it() {
    let v = verifier();
    let plain = v.generate(&1, RailsOptions::new()).unwrap();
    let empty = v.generate(&1, RailsOptions::new().purpose("")).unwrap();
    let login = v
        .generate(&1, RailsOptions::new().purpose("login"))
        .unwrap();
    assert!(v.verify::<u8>(&plain, None).is_ok());
    // Rails 7.1+: a plain token answers no purpose, not even "" ("missing metadata").
    assert!(matches!(
        v.verify::<u8>(&plain, Some("")),
        Err(RailsError::PurposeMismatch { found: None, .. })
    ));
    assert!(v.verify::<u8>(&plain, Some("login")).is_err());
    assert!(v.verify::<u8>(&empty, None).is_ok());
    assert!(v.verify::<u8>(&empty, Some("")).is_ok());
    assert!(v.verify::<u8>(&login, Some("login")).is_ok());
    assert!(v.verify::<u8>(&login, None).is_err());
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(token in ".{0,200}", purpose in proptest::option::of(".{0,10}")) {
        let _ = verifier().verify::<Value>(&token, purpose.as_deref());
    }

    #[test]
    fn arbitrary_signed_payloads_never_panic(json in ".{0,200}") {
        let _ = verifier().verify::<Value>(&payload(&json), None);
        let _ = verifier().verify::<Value>(&signed(&json), Some("x"));
    }
}

#[test]
fn rails_secrets_in_a_keyring_rotate_like_native_keys() {
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};
    use tokenring::clock::ManualClock;
    use tokenring::rails::RailsDigest;
    use tokenring::{Key, Keyring};

    let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let clock = Arc::new(ManualClock::new(t0));
    let keys = vec![
        Key::new("next", Secret::from_bytes([2; 64]))
            .with_activates_at(Some(t0 + Duration::from_secs(3600))),
        Key::new("now", Secret::from_bytes([1; 64])),
        Key::new("gone", Secret::from_bytes([3; 64])).with_disabled(true),
    ];
    let keyring = Keyring::new_with_clock(keys, clock.clone()).unwrap();
    let config = |secret| RailsConfig::new(secret).digest(RailsDigest::Sha256);
    let before = RailsVerifier::from_keyring(&keyring, config).unwrap();
    let by_now = before.generate(&1, RailsOptions::new()).unwrap();
    let by_next = RailsVerifier::new(config(Secret::from_bytes([2; 64])))
        .generate(&2, RailsOptions::new())
        .unwrap();
    let by_gone = RailsVerifier::new(config(Secret::from_bytes([3; 64])))
        .generate(&3, RailsOptions::new())
        .unwrap();
    assert_eq!(before.verify::<u8>(&by_now, None).unwrap().config, 0);
    assert_eq!(
        before.verify::<u8>(&by_next, None).unwrap().config,
        1,
        "pending keys verify"
    );
    assert_eq!(
        before.verify::<u8>(&by_gone, None),
        Err(RailsError::BadSignature),
        "revoked keys do not"
    );

    clock.advance(Duration::from_secs(3600));
    let after = RailsVerifier::from_keyring(&keyring, config).unwrap();
    assert_eq!(
        after.generate(&2, RailsOptions::new()).unwrap(),
        by_next,
        "the new key signs"
    );
    assert_eq!(
        after.verify::<u8>(&by_now, None).unwrap().config,
        1,
        "the old key still verifies"
    );
}

#[test]
fn expiry_boundary_as_rails_decides() {
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};
    use tokenring::clock::ManualClock;

    // Rails: expired when `Time.now.utc >= exp`, exp kept to the millisecond (truncated).
    let exp = UNIX_EPOCH + Duration::from_millis(4_102_444_800_123);
    let clock = Arc::new(ManualClock::new(exp - Duration::from_millis(1)));
    let v = verifier().clock(clock.clone());
    let token = v
        .generate(
            &1,
            RailsOptions::new().expires_at(exp + Duration::from_micros(999)),
        )
        .unwrap();
    assert_eq!(v.verify::<u8>(&token, None).unwrap().expires_at, Some(exp));
    clock.set(exp);
    assert_eq!(
        v.verify::<u8>(&token, None),
        Err(RailsError::Expired { at: exp })
    );
}

/// What a decrypted (or verified) message holds never reaches an error's words or its
/// `source()` chain: not the value, not its purpose, not its expiry. The fields keep them.
#[test]
fn errors_name_the_shape_never_the_content() {
    use tokenring::rails::{EncryptorConfig, RailsEncryptor};
    let card = "4111111111111111";
    let purpose = "statement-for-ada@example.com";
    let encryptor =
        RailsEncryptor::new(EncryptorConfig::new(Secret::from_bytes([3u8; 32])).unwrap());
    let at = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
    let message = encryptor
        .encrypt(&card, RailsOptions::new().purpose(purpose).expires_at(at))
        .unwrap();
    let chain = |error: &RailsError| {
        let mut words = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(inner) = source {
            words.push_str(&inner.to_string());
            source = inner.source();
        }
        words
    };
    let wrong_type = encryptor
        .decrypt::<u64>(&message, Some(purpose))
        .unwrap_err();
    assert!(
        matches!(wrong_type, RailsError::InvalidValue(_)),
        "{wrong_type:?}"
    );
    let wrong_purpose = encryptor
        .decrypt::<String>(&message, Some("other"))
        .unwrap_err();
    assert!(
        matches!(&wrong_purpose, RailsError::PurposeMismatch { found: Some(f), .. } if f == purpose),
        "{wrong_purpose:?}"
    );
    for error in [&wrong_type, &wrong_purpose] {
        let words = chain(error);
        assert!(!words.contains(card) && !words.contains("4111"), "{words}");
        assert!(!words.contains(purpose), "{words}");
    }
    // The detail stays reachable, explicitly.
    let RailsError::InvalidValue(inner) = &wrong_type else {
        unreachable!()
    };
    assert!(inner.to_string().contains(card));

    let past = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_123);
    let expired = encryptor
        .encrypt(&card, RailsOptions::new().expires_at(past))
        .unwrap();
    let error = encryptor.decrypt::<String>(&expired, None).unwrap_err();
    assert!(
        matches!(error, RailsError::Expired { at } if at == past),
        "{error:?}"
    );
    assert!(!chain(&error).contains("2020"), "{error}");
}
