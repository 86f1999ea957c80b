//! Keyring loading: every way a keyring file is refused, each error naming key and field;
//! and what loads.

use std::sync::Arc;

use crate::common::{hours, t0};
use tokenring::clock::ManualClock;
use tokenring::error::{EntryError, EnvProblem, SecretError};
use tokenring::{Algorithm, KeyState, Keyring, KeyringError, Secret, TokenOptions, Verifier};

const S32: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn load(json: &str) -> Result<Keyring, KeyringError> {
    Keyring::from_json_with_clock(json, Arc::new(ManualClock::new(t0())))
}

fn err(json: &str) -> KeyringError {
    match load(json) {
        Ok(_) => panic!("accepted: {json}"),
        Err(e) => e,
    }
}

fn one(entry: &str) -> String {
    format!(r#"{{"keys": [{entry}]}}"#)
}

#[test]
fn a_full_keyring_loads() {
    let json = format!(
        r#"{{
        "description": "production, rotated monthly",
        "keys": [
          {{"id": "2027-02", "secret": "{S32}", "activates_at": "2027-02-01T00:00:00Z"}},
          {{"id": "2027-01", "algorithm": "HS512", "secret": "{S32}"}},
          {{"id": "2026-12", "secret": "{S32}", "expires_at": "2027-01-08T00:00:00Z"}},
          {{"id": "leaked", "secret": "{S32}", "disabled": true}},
          {{"id": "null-times", "secret": "{S32}", "activates_at": null, "expires_at": null, "disabled": false}}
        ]}}"#
    );
    let ring = load(&json).unwrap();
    let states: Vec<_> = ring.keys().iter().map(|k| k.state_at(t0())).collect();
    assert_eq!(
        states,
        [
            KeyState::Pending,
            KeyState::Active,
            KeyState::Expired,
            KeyState::Disabled,
            KeyState::Active
        ]
    );
    assert_eq!(ring.signing_key().unwrap().id(), "2027-01");
    assert_eq!(ring.get("2027-01").unwrap().algorithm(), Algorithm::Hs512);
    assert_eq!(ring.description(), Some("production, rotated monthly"));
    assert!(!ring.is_demo());
}

#[test]
fn to_json_round_trips() {
    let json = format!(
        r#"{{"demo": true, "keys": [
          {{"id": "b", "secret": "{S32}", "activates_at": "2027-02-01T00:00:00Z", "algorithm": "HS384"}},
          {{"id": "a", "secret": "{S32}", "expires_at": "2027-01-16T00:00:00Z"}},
          {{"id": "c", "secret": "{S32}", "disabled": true}}
        ]}}"#
    );
    let ring = load(&json).unwrap();
    let written = ring.to_json();
    let again = load(&written).unwrap();
    assert_eq!(again.to_json(), written);
    assert!(again.is_demo());
    for (a, b) in ring.keys().iter().zip(again.keys()) {
        assert_eq!(a.id(), b.id());
        assert_eq!(a.secret(), b.secret());
        assert_eq!(a.algorithm(), b.algorithm());
        assert_eq!(a.activates_at(), b.activates_at());
        assert_eq!(a.expires_at(), b.expires_at());
        assert_eq!(a.is_disabled(), b.is_disabled());
    }
}

#[test]
fn a_keyring_of_only_pending_keys_loads_and_cannot_sign() {
    let ring = load(&one(&format!(
        r#"{{"id": "next", "secret": "{S32}", "activates_at": "2027-02-01T00:00:00Z"}}"#
    )))
    .unwrap();
    assert!(ring.signing_key().is_none());
    let verifier = Verifier::new(ring, "s");
    assert_eq!(
        verifier.generate(&1, TokenOptions::new()),
        Err(tokenring::SignError::NoSigningKey)
    );
}

#[test]
fn malformed_json_gives_line_and_column() {
    match err("{\"keys\": [\n  {\"id\": \"a\",, }\n]}") {
        KeyringError::Json { line, column, .. } => assert_eq!((line, column), (2, 14)),
        other => panic!("{other:?}"),
    }
    assert!(matches!(err(""), KeyringError::Json { .. }));
    assert!(matches!(err("[]"), KeyringError::Json { .. }));
    assert!(matches!(err("{}"), KeyringError::Json { .. })); // missing "keys"
    assert!(matches!(err(r#"{"keys": {}}"#), KeyringError::Json { .. }));
    assert!(matches!(
        err(r#"{"keys": ["k"]}"#),
        KeyringError::Json { .. }
    ));
    assert!(matches!(
        err(r#"{"keys": [], "kyes": []}"#),
        KeyringError::Json { .. }
    ));
}

#[test]
fn top_level_typos_are_refused() {
    let e = err(&format!(
        r#"{{"keys": [{{"id": "a", "secret": "{S32}"}}], "dmeo": true}}"#
    ));
    assert!(e.to_string().contains("dmeo"), "{e}");
}

#[test]
fn duplicate_fields_are_refused_not_collapsed() {
    let e = err(&one(&format!(
        r#"{{"id": "a", "secret": "{S32}", "disabled": true, "disabled": false}}"#
    )));
    assert!(e.to_string().contains("duplicate field `disabled`"), "{e}");
}

#[test]
fn no_keys() {
    assert!(matches!(err(r#"{"keys": []}"#), KeyringError::NoKeys));
}

#[test]
fn no_key_that_verifies_now() {
    let e = err(&format!(
        r#"{{"keys": [
          {{"id": "a", "secret": "{S32}", "expires_at": "2020-01-01T00:00:00Z"}},
          {{"id": "b", "secret": "{S32}", "disabled": true}}
        ]}}"#
    ));
    assert!(matches!(e, KeyringError::NoUsableKey), "{e:?}");
}

#[test]
fn every_entry_error_names_key_and_field() {
    let long_id = "a".repeat(33);
    let cases: Vec<(String, &str, &str)> = vec![
        (one(r#"{"secret": "x"}"#), "keys[0]", "missing field \"id\""),
        (
            one(r#"{"id": "a"}"#),
            "key \"a\" (keys[0])",
            "missing field \"secret\"",
        ),
        (
            one(&format!(
                r#"{{"id": "a", "secret": "{S32}", "expire_at": "2030-01-01T00:00:00Z"}}"#
            )),
            "key \"a\"",
            "unknown field \"expire_at\"",
        ),
        (
            one(&format!(r#"{{"id": 7, "secret": "{S32}"}}"#)),
            "keys[0]",
            "\"id\" must be a string",
        ),
        (
            one(&format!(r#"{{"id": "a b", "secret": "{S32}"}}"#)),
            "keys[0]",
            "\"id\" must be 1 to 32 of A-Z a-z 0-9 _ - (it is a value of 3 characters)",
        ),
        (
            one(&format!(r#"{{"id": "", "secret": "{S32}"}}"#)),
            "keys[0]",
            "\"id\"",
        ),
        (
            one(&format!(r#"{{"id": "{long_id}", "secret": "{S32}"}}"#)),
            "keys[0]",
            "\"id\"",
        ),
        (
            one(r#"{"id": "a", "secret": "not base64!"}"#),
            "key \"a\"",
            "\"secret\" is not valid base64",
        ),
        (
            one(r#"{"id": "a", "secret": 42}"#),
            "key \"a\"",
            "\"secret\" must be",
        ),
        (
            one(r#"{"id": "a", "secret": "AAAA"}"#),
            "key \"a\"",
            "\"secret\" is 3 bytes; at least 32",
        ),
        (
            one(&format!(
                r#"{{"id": "a", "secret": "{S32}", "algorithm": "none"}}"#
            )),
            "key \"a\"",
            "\"algorithm\" must be HS256, HS384, HS512, EdDSA or ES256 (it is a value of 4 characters)",
        ),
        (
            one(&format!(
                r#"{{"id": "a", "secret": "{S32}", "algorithm": "hs256"}}"#
            )),
            "key \"a\"",
            "\"algorithm\"",
        ),
        (
            one(&format!(
                r#"{{"id": "a", "secret": "{S32}", "activates_at": "tomorrow"}}"#
            )),
            "key \"a\"",
            "\"activates_at\" must be an RFC 3339 UTC time like 2026-12-01T00:00:00Z (it is a value of 8 characters)",
        ),
        (
            one(&format!(
                r#"{{"id": "a", "secret": "{S32}", "expires_at": 1700000000}}"#
            )),
            "key \"a\"",
            "\"expires_at\" must be",
        ),
        (
            one(&format!(
                r#"{{"id": "a", "secret": "{S32}", "disabled": "yes"}}"#
            )),
            "key \"a\"",
            "\"disabled\" must be true or false",
        ),
        (
            one(&format!(
                r#"{{"id": "a", "secret": "{S32}", "activates_at": "2027-02-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z"}}"#
            )),
            "key \"a\"",
            "\"expires_at\" must be later",
        ),
    ];
    for (json, key, field) in cases {
        let e = err(&json);
        let message = e.to_string();
        assert!(e.key().is_some(), "{message}");
        assert!(message.contains(key), "{message:?} should name {key}");
        assert!(message.contains(field), "{message:?} should say {field}");
    }
}

#[test]
fn duplicate_ids_name_both_entries() {
    let e = err(&format!(
        r#"{{"keys": [
          {{"id": "a", "secret": "{S32}"}},
          {{"id": "b", "secret": "{S32}"}},
          {{"id": "a", "secret": "{S32}"}}
        ]}}"#
    ));
    match &e {
        KeyringError::Entry {
            key,
            error: EntryError::DuplicateId { first },
        } => {
            assert_eq!((key.index, *first), (2, 0));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        e.to_string(),
        "key \"a\" (keys[2]): duplicate id (first used by keys[0])"
    );
}

#[test]
fn errors_never_contain_the_secret() {
    let secret = "c2VjcmV0c2VjcmV0c2VjcmV0"; // 18 bytes: too short
    for json in [
        one(&format!(r#"{{"id": "a", "secret": "{secret}"}}"#)),
        one(&format!(r#"{{"id": "a", "secret": "{secret}!"}}"#)),
        one(&format!(r#"{{"id": "a b", "secret": "{secret}"}}"#)),
        format!(r#"{{"keys": [{{"id": "a", "secret": "{secret}"}}"#), // truncated JSON
        format!(r#"{{"keys": ["{secret}"]}}"#), // a secret where an entry goes
        format!(r#"{{"keys": "{secret}"}}"#),
        format!(
            r#"{{"keys": [{{"id": "a", "secret": "{S32}"}}], "description": ["{secret}\" x"]}}"#
        ),
        // A secret pasted one line off: into every field that is not the secret, and as a
        // field name, in an entry and at the top.
        one(&format!(
            r#"{{"id": "{secret}xxxxxxxxxxxxxxxxxxxxxxx", "secret": "{S32}"}}"#
        )),
        one(&format!(
            r#"{{"id": "a", "secret": "{S32}", "algorithm": "{secret}"}}"#
        )),
        one(&format!(
            r#"{{"id": "a", "secret": "{S32}", "activates_at": "{secret}"}}"#
        )),
        one(&format!(
            r#"{{"id": "a", "secret": "{S32}", "expires_at": "{secret}"}}"#
        )),
        one(&format!(
            r#"{{"id": "a", "secret": "{S32}", "{secret}": 1}}"#
        )),
        one(&format!(
            r#"{{"id": "a", "secret": "{S32}", "{secret}": 1, "{secret}": 2}}"#
        )),
        format!(r#"{{"keys": [{{"id": "a", "secret": "{S32}"}}], "{secret}": 1}}"#),
    ] {
        let e = err(&json);
        assert!(!e.to_string().contains(secret), "{e}");
        assert!(!format!("{e:?}").contains(secret), "{e:?}");
        assert!(!e.to_string().contains("c2VjcmV0"), "{e}");
    }
    // Where it says so, it says what it saw instead: the length, and that it looks secret.
    let e = err(&one(&format!(
        r#"{{"id": "a", "secret": "{S32}", "activates_at": "{secret}"}}"#
    )));
    assert!(
        e.to_string()
            .ends_with("(it is a value of 24 characters that looks like a secret (not shown))"),
        "{e}"
    );
}

#[test]
fn from_file_and_from_env() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyring.json");
    let json = one(&format!(r#"{{"id": "f", "secret": "{S32}"}}"#));
    std::fs::write(&path, &json).unwrap();
    assert_eq!(Keyring::from_file(&path).unwrap().keys()[0].id(), "f");
    match Keyring::from_file(dir.path().join("missing.json")) {
        Err(KeyringError::Io { path, .. }) => assert!(path.ends_with("missing.json")),
        other => panic!("{other:?}"),
    }

    let name = "TOKENRING_TEST_KEYRING_FROM_ENV";
    // SAFETY: no other test in this binary reads or writes the environment.
    unsafe { std::env::set_var(name, &json) };
    assert_eq!(Keyring::from_env(name).unwrap().keys()[0].id(), "f");
    match Keyring::from_env("TOKENRING_TEST_NOT_SET") {
        Err(KeyringError::Env { problem, .. }) => assert_eq!(problem, EnvProblem::NotSet),
        other => panic!("{other:?}"),
    }
}

#[test]
fn keyrings_from_code_are_validated_the_same_way() {
    use tokenring::Key;
    let clock = Arc::new(ManualClock::new(t0()));
    let short = Keyring::new_with_clock(
        vec![Key::new("a", Secret::from_bytes([1; 31]))],
        clock.clone(),
    );
    assert!(matches!(
        short,
        Err(KeyringError::Entry {
            error: EntryError::Secret(SecretError::TooShort { len: 31, .. }),
            ..
        })
    ));
    let dup = Keyring::new_with_clock(
        vec![
            Key::new("a", Secret::from_bytes([1; 32])),
            Key::new("a", Secret::from_bytes([2; 32])),
        ],
        clock.clone(),
    );
    assert!(matches!(
        dup,
        Err(KeyringError::Entry {
            error: EntryError::DuplicateId { .. },
            ..
        })
    ));
    let bad_id = Keyring::new_with_clock(
        vec![Key::new("a.b", Secret::from_bytes([1; 32]))],
        clock.clone(),
    );
    assert!(matches!(
        bad_id,
        Err(KeyringError::Entry {
            error: EntryError::InvalidId(_),
            ..
        })
    ));
    let expired = Keyring::new_with_clock(
        vec![Key::new("a", Secret::from_bytes([1; 32])).with_expires_at(Some(t0() - hours(1)))],
        clock,
    );
    assert!(matches!(expired, Err(KeyringError::NoUsableKey)));
}

#[test]
fn key_times_are_whole_seconds_so_files_round_trip() {
    use tokenring::Key;
    let activates = t0() + std::time::Duration::from_millis(100);
    let expires = t0() + std::time::Duration::from_millis(900);
    let key = Key::new("a", Secret::from_bytes([1; 32])).with_activates_at(Some(activates));
    assert_eq!(key.activates_at(), Some(t0()));
    // Within one second: after rounding, expiry is not after activation.
    let key = key.with_expires_at(Some(expires));
    let clock = Arc::new(ManualClock::new(t0() - hours(1)));
    assert!(matches!(
        Keyring::new_with_clock(vec![key], clock.clone()),
        Err(KeyringError::Entry {
            error: EntryError::ExpiresBeforeActivation,
            ..
        })
    ));
    let far = std::time::UNIX_EPOCH + std::time::Duration::from_secs(253_402_300_800);
    let key = Key::new("a", Secret::from_bytes([1; 32])).with_expires_at(Some(far));
    assert!(matches!(
        Keyring::new_with_clock(vec![key], clock),
        Err(KeyringError::Entry {
            error: EntryError::TimeOutOfRange("expires_at"),
            ..
        })
    ));
}

/// A user's first try compiles: `&Keyring` builds a verifier as `&HotKeyring` does, and a
/// keyring clones; a clone is the same snapshot, counts included.
#[test]
fn a_keyring_by_reference_and_its_clones_are_the_same_snapshot() {
    let keyring = Keyring::new(vec![crate::common::key("k1", 1)]).unwrap();
    let verifier = Verifier::new(&keyring, "s");
    let token = verifier.generate(&7, TokenOptions::new()).unwrap();
    let copy = keyring.clone();
    assert_eq!(
        Verifier::new(copy.clone(), "s")
            .verify::<u8>(&token, None)
            .unwrap()
            .value,
        7
    );
    assert_eq!(verifier.verify::<u8>(&token, None).unwrap().value, 7);
    assert_eq!(keyring.verified_count("k1"), Some(2));
    assert_eq!(copy.verified_count("k1"), Some(2));
    assert_eq!(copy.signing_key().map(|k| k.id()), Some("k1"));
}

/// Without the `jose` feature a key pair entry is refused by its algorithm's name, not
/// mistaken for an HMAC key.
#[cfg(not(feature = "jose"))]
#[test]
fn key_pairs_need_the_jose_feature() {
    for algorithm in ["EdDSA", "ES256"] {
        let json = format!(
            r#"{{"keys": [{{"id": "a", "algorithm": "{algorithm}", "public_key": "AAAA"}}]}}"#
        );
        let message = Keyring::from_json(&json).unwrap_err().to_string();
        assert!(
            message.contains(algorithm) && message.contains("`jose` feature"),
            "{message}"
        );
    }
}
