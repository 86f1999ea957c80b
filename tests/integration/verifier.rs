//! The native verifier through the public API: round trips, every rejection, rotation.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use crate::common::{hours, key, keyring, t0};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokenring::clock::ManualClock;
use tokenring::error::Malformed;
use tokenring::{Algorithm, KeyState, Keyring, SignError, TokenOptions, Verifier, VerifyError};

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Claims {
    user_id: u64,
    email: String,
}

#[test]
fn round_trips_a_struct_with_purpose_and_expiry() {
    let (ring, _) = keyring(vec![key("k1", 1)]);
    let verifier = Verifier::new(ring, "password_reset");
    let claims = Claims {
        user_id: 7,
        email: "a@example.com".into(),
    };
    let token = verifier
        .generate(
            &claims,
            TokenOptions::new().purpose("reset").expires_in(hours(1)),
        )
        .unwrap();
    let verified = verifier.verify::<Claims>(&token, Some("reset")).unwrap();
    assert_eq!(verified.value, claims);
    assert_eq!(&*verified.key_id, "k1");
    assert!(verified.is_current_key);
    assert_eq!(verified.expires_at, Some(t0() + hours(1)));
}

#[test]
fn purpose_must_match_exactly_both_ways() {
    let (ring, _) = keyring(vec![key("k1", 1)]);
    let verifier = Verifier::new(ring, "s");
    let with = verifier
        .generate(&1, TokenOptions::new().purpose("login"))
        .unwrap();
    let without = verifier.generate(&1, TokenOptions::new()).unwrap();

    assert!(verifier.verify::<u8>(&with, Some("login")).is_ok());
    assert!(verifier.verify::<u8>(&without, None).is_ok());
    assert_eq!(
        verifier.verify::<u8>(&with, None),
        Err(VerifyError::PurposeMismatch {
            expected: None,
            found: Some("login".into())
        })
    );
    assert_eq!(
        verifier.verify::<u8>(&without, Some("login")),
        Err(VerifyError::PurposeMismatch {
            expected: Some("login".into()),
            found: None
        })
    );
    assert!(matches!(
        verifier.verify::<u8>(&with, Some("Login")),
        Err(VerifyError::PurposeMismatch { .. })
    ));
    // The empty purpose is a purpose, not its absence.
    assert!(matches!(
        verifier.verify::<u8>(&with, Some("")),
        Err(VerifyError::PurposeMismatch { .. })
    ));
}

#[test]
fn expiry_is_exclusive_and_leeway_extends_it() {
    let (ring, clock) = keyring(vec![key("k1", 1)]);
    let ring = Arc::new(ring);
    let strict = Verifier::new(ring.clone(), "s");
    let lenient = Verifier::builder(ring)
        .salt("s")
        .leeway(Duration::from_secs(30))
        .build();
    let token = strict
        .generate(
            &"v",
            TokenOptions::new().expires_in(Duration::from_secs(60)),
        )
        .unwrap();

    clock.set(t0() + Duration::from_millis(59_999));
    assert!(strict.verify::<String>(&token, None).is_ok());
    clock.set(t0() + Duration::from_secs(60));
    let at = t0() + Duration::from_secs(60);
    assert_eq!(
        strict.verify::<String>(&token, None),
        Err(VerifyError::Expired { at })
    );
    assert!(lenient.verify::<String>(&token, None).is_ok());
    clock.set(t0() + Duration::from_secs(90));
    assert_eq!(
        lenient.verify::<String>(&token, None),
        Err(VerifyError::Expired { at })
    );
}

#[test]
fn expires_at_and_default_expiry() {
    let (ring, clock) = keyring(vec![key("k1", 1)]);
    let verifier = Verifier::builder(ring)
        .default_expires_in(Some(hours(2)))
        .build();
    let defaulted = verifier.generate(&1, TokenOptions::new()).unwrap();
    let forever = verifier
        .generate(&1, TokenOptions::new().never_expires())
        .unwrap();
    let at = verifier
        .generate(&1, TokenOptions::new().expires_at(t0() + hours(1)))
        .unwrap();
    assert_eq!(
        verifier.verify::<u8>(&defaulted, None).unwrap().expires_at,
        Some(t0() + hours(2))
    );
    clock.advance(hours(1));
    assert!(matches!(
        verifier.verify::<u8>(&at, None),
        Err(VerifyError::Expired { .. })
    ));
    clock.advance(hours(10_000));
    assert!(verifier.verify::<u8>(&forever, None).is_ok());
    assert!(matches!(
        verifier.verify::<u8>(&defaulted, None),
        Err(VerifyError::Expired { .. })
    ));
    assert_eq!(
        verifier.generate(&1, TokenOptions::new().expires_at(UNIX_EPOCH - hours(1))),
        Err(SignError::InvalidExpiry)
    );
}

#[test]
fn salts_separate_verifiers_over_one_keyring() {
    let (ring, _) = keyring(vec![key("k1", 1)]);
    let ring = Arc::new(ring);
    let reset = Verifier::new(ring.clone(), "password_reset");
    let confirm = Verifier::new(ring, "email_confirm");
    let token = reset.generate(&1, TokenOptions::new()).unwrap();
    assert_eq!(
        confirm.verify::<u8>(&token, None),
        Err(VerifyError::BadSignature {
            key_id: "k1".into()
        })
    );
}

#[test]
fn same_id_other_secret_is_a_bad_signature() {
    let (a, _) = keyring(vec![key("k1", 1)]);
    let (b, _) = keyring(vec![key("k1", 2)]);
    let token = Verifier::new(a, "s")
        .generate(&1, TokenOptions::new())
        .unwrap();
    assert!(matches!(
        Verifier::new(b, "s").verify::<u8>(&token, None),
        Err(VerifyError::BadSignature { .. })
    ));
}

#[test]
fn every_algorithm_signs_and_the_key_not_the_token_decides() {
    for (algorithm, tag_chars) in [
        (Algorithm::Hs256, 43),
        (Algorithm::Hs384, 64),
        (Algorithm::Hs512, 86),
    ] {
        let (ring, _) = keyring(vec![key("k1", 1).with_algorithm(algorithm)]);
        let verifier = Verifier::new(ring, "s");
        let token = verifier
            .generate(&json!({"a": 1}), TokenOptions::new())
            .unwrap();
        assert_eq!(token.rsplit('.').next().unwrap().len(), tag_chars);
        assert!(verifier.verify::<Value>(&token, None).is_ok());

        // The same key id configured with another algorithm refuses the token's tag length.
        let other = match algorithm {
            Algorithm::Hs256 => Algorithm::Hs512,
            _ => Algorithm::Hs256,
        };
        let (ring, _) = keyring(vec![key("k1", 1).with_algorithm(other)]);
        assert_eq!(
            Verifier::new(ring, "s").verify::<Value>(&token, None),
            Err(VerifyError::Malformed(Malformed::Tag))
        );
    }
}

#[test]
fn size_cap_is_checked_first_and_applies_to_signing() {
    let (ring, _) = keyring(vec![key("k1", 1)]);
    let verifier = Verifier::builder(ring).max_token_len(100).build();
    let huge = "x".repeat(1 << 20);
    assert_eq!(
        verifier.verify::<Value>(&huge, None),
        Err(VerifyError::TooLarge {
            len: 1 << 20,
            max: 100
        })
    );
    assert!(matches!(
        verifier.generate(&"y".repeat(100), TokenOptions::new()),
        Err(SignError::TooLarge { max: 100, .. })
    ));
    let token = verifier.generate(&"short", TokenOptions::new()).unwrap();
    assert!(token.len() <= 100);
}

#[test]
fn malformed_tokens_are_typed() {
    let (ring, _) = keyring(vec![key("k1", 1)]);
    let verifier = Verifier::new(ring, "s");
    let cases = [
        ("", Malformed::Version),
        ("v2.k1.e30.AAAA", Malformed::Version),
        ("V1.k1.e30.AAAA", Malformed::Version),
        ("v1.", Malformed::Structure),
        ("v1.k1", Malformed::Structure),
        ("v1.k1.e30", Malformed::Structure),
        ("v1.k1..AAAA", Malformed::EmptyPayload),
        ("v1.k1.e30.", Malformed::EmptyTag),
        ("v1..e30.AAAA", Malformed::KeyId),
        ("v1.k!.e30.AAAA", Malformed::KeyId),
        ("v1.ünï.e30.AAAA", Malformed::KeyId),
        (
            "v1.abcdefghijklmnopqrstuvwxyz0123456.e30.AAAA",
            Malformed::KeyId,
        ),
        ("v1.k1.e30.AAAA", Malformed::Tag),
        (
            "v1.k1.e30.!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
            Malformed::Tag,
        ),
    ];
    for (token, kind) in cases {
        assert_eq!(
            verifier.verify::<Value>(token, None),
            Err(VerifyError::Malformed(kind)),
            "{token:?}"
        );
    }
    assert_eq!(
        verifier.verify::<Value>("v1.nope.e30.AAAA", None),
        Err(VerifyError::UnknownKey {
            key_id: "nope".into()
        })
    );
}

#[test]
fn whitespace_around_a_token_is_refused_by_name() {
    let (ring, _) = keyring(vec![key("k1", 1)]);
    let verifier = Verifier::new(ring, "s");
    let token = verifier.generate(&42, TokenOptions::new()).unwrap();
    assert_eq!(verifier.verify::<u32>(&token, None).unwrap().value, 42);
    for wrapped in [
        format!("{token}\n"),
        format!("{token}\r\n"),
        format!(" {token}"),
        format!("\t{token} "),
    ] {
        assert_eq!(
            verifier.verify::<u32>(&wrapped, None),
            Err(VerifyError::Malformed(Malformed::Whitespace)),
            "{wrapped:?}"
        );
    }
    let message = VerifyError::Malformed(Malformed::Whitespace).to_string();
    assert!(message.contains("whitespace"), "{message}");
}

#[test]
fn value_of_the_wrong_type_is_reported_after_purpose_and_expiry() {
    let (ring, clock) = keyring(vec![key("k1", 1)]);
    let verifier = Verifier::new(ring, "s");
    let token = verifier
        .generate(
            &"text",
            TokenOptions::new().purpose("p").expires_in(hours(1)),
        )
        .unwrap();
    assert!(matches!(
        verifier.verify::<u64>(&token, Some("p")),
        Err(VerifyError::InvalidValue(_))
    ));
    assert!(matches!(
        verifier.verify::<u64>(&token, Some("q")),
        Err(VerifyError::PurposeMismatch { .. })
    ));
    clock.advance(hours(2));
    assert!(matches!(
        verifier.verify::<u64>(&token, Some("p")),
        Err(VerifyError::Expired { .. })
    ));
}

#[test]
fn rotation_through_every_state_on_a_fixed_clock() {
    // old: active now, retired at +3h. new: pending until +1h.
    let old = key("old", 1).with_expires_at(Some(t0() + hours(3)));
    let new = key("new", 2).with_activates_at(Some(t0() + hours(1)));
    let (ring, clock) = keyring(vec![new, old]);
    let ring = Arc::new(ring);
    let verifier = Verifier::new(ring.clone(), "s");

    // t0: old signs, new is pending but already verifies.
    assert_eq!(ring.state("new"), Some(KeyState::Pending));
    assert_eq!(ring.signing_key().unwrap().id(), "old");
    let by_old = verifier.generate(&"a", TokenOptions::new()).unwrap();
    assert!(by_old.starts_with("v1.old."));
    let (new_only, _) = keyring(vec![key("new", 2).with_activates_at(Some(t0() + hours(1)))]);
    let pending_verifier = Verifier::new(new_only, "s");
    assert_eq!(
        pending_verifier.generate(&"x", TokenOptions::new()),
        Err(SignError::NoSigningKey)
    );

    // +1h: new activates by the clock alone, no reload.
    clock.set(t0() + hours(1));
    assert_eq!(ring.state("new"), Some(KeyState::Active));
    let by_new = verifier.generate(&"b", TokenOptions::new()).unwrap();
    assert!(by_new.starts_with("v1.new."));
    let old_verified = verifier.verify::<String>(&by_old, None).unwrap();
    assert_eq!(&*old_verified.key_id, "old");
    assert!(!old_verified.is_current_key);
    assert!(
        verifier
            .verify::<String>(&by_new, None)
            .unwrap()
            .is_current_key
    );

    // +3h: old has expired.
    clock.set(t0() + hours(3));
    assert_eq!(ring.state("old"), Some(KeyState::Expired));
    assert_eq!(
        verifier.verify::<String>(&by_old, None),
        Err(VerifyError::KeyExpired {
            key_id: "old".into(),
            at: t0() + hours(3)
        })
    );
    assert!(verifier.verify::<String>(&by_new, None).is_ok());
}

#[test]
fn a_pending_key_verifies_tokens_from_nodes_whose_clock_runs_ahead() {
    // Node A's clock is already past activation; node B's is not: B must still accept.
    let new = || key("new", 2).with_activates_at(Some(t0() + hours(1)));
    let (ahead, clock_a) = keyring(vec![new(), key("old", 1)]);
    clock_a.set(t0() + hours(1));
    let (behind, _) = keyring(vec![new(), key("old", 1)]);
    let token = Verifier::new(ahead, "s")
        .generate(&1, TokenOptions::new())
        .unwrap();
    assert!(token.starts_with("v1.new."));
    let verified = Verifier::new(behind, "s")
        .verify::<u8>(&token, None)
        .unwrap();
    assert!(!verified.is_current_key);
}

#[test]
fn revoked_keys_are_rejected_at_once() {
    let (ring, _) = keyring(vec![key("k1", 1)]);
    let token = Verifier::new(ring, "s")
        .generate(&1, TokenOptions::new())
        .unwrap();
    let (revoked, _) = keyring(vec![key("k1", 1).with_disabled(true), key("k2", 2)]);
    assert_eq!(
        Verifier::new(revoked, "s").verify::<u8>(&token, None),
        Err(VerifyError::KeyDisabled {
            key_id: "k1".into()
        })
    );
}

/// A forgery naming a revoked or expired key is a bad signature: the key's state is only
/// told to someone who holds a real token of it.
#[test]
fn forgeries_naming_revoked_or_expired_keys_learn_nothing() {
    let (ring, _) = keyring(vec![key("k1", 1), key("k0", 9)]);
    let real = Verifier::new(ring, "s")
        .generate(&1, TokenOptions::new())
        .unwrap();
    let (forger, _) = keyring(vec![key("k1", 7)]);
    let forged = Verifier::new(forger, "s")
        .generate(&1, TokenOptions::new())
        .unwrap();
    assert!(real.starts_with("v1.k1.") && forged.starts_with("v1.k1."));
    for state in ["revoked", "expired"] {
        let k1 = match state {
            "revoked" => key("k1", 1).with_disabled(true),
            _ => key("k1", 1).with_expires_at(Some(t0() - hours(1))),
        };
        let (ring, _) = keyring(vec![k1, key("k2", 2)]);
        let verifier = Verifier::new(ring, "s");
        assert_eq!(
            verifier.verify::<u8>(&forged, None),
            Err(VerifyError::BadSignature {
                key_id: "k1".into()
            }),
            "{state}"
        );
        let real = verifier.verify::<u8>(&real, None).unwrap_err();
        assert!(
            matches!(
                real,
                VerifyError::KeyDisabled { .. } | VerifyError::KeyExpired { .. }
            ),
            "{state}: {real:?}"
        );
    }
}

#[test]
fn newest_activation_signs_and_file_order_breaks_ties() {
    let at = Some(t0() - hours(1));
    let (ring, _) = keyring(vec![
        key("a", 1),
        key("b", 2).with_activates_at(at),
        key("c", 3).with_activates_at(at),
        key("d", 4).with_activates_at(Some(t0() - hours(2))),
    ]);
    assert_eq!(ring.signing_key().unwrap().id(), "b");
    let (ring, _) = keyring(vec![key("a", 1), key("b", 2)]);
    assert_eq!(ring.signing_key().unwrap().id(), "a");
}

#[test]
fn a_64_key_keyring_finds_keys_by_id() {
    let keys = (0..64u8)
        .map(|i| key(&format!("k{i}"), i).with_activates_at(Some(t0() - hours(u64::from(i) + 1))))
        .collect();
    let (ring, _) = keyring(keys);
    let ring = Arc::new(ring);
    assert_eq!(ring.signing_key().unwrap().id(), "k0");
    let verifier = Verifier::new(ring.clone(), "s");
    for i in [0u8, 31, 63] {
        let single = Keyring::new_with_clock(
            vec![key(&format!("k{i}"), i)],
            Arc::new(ManualClock::new(t0())),
        )
        .unwrap();
        let token = Verifier::new(single, "s")
            .generate(&i, TokenOptions::new())
            .unwrap();
        let verified = verifier.verify::<u8>(&token, None).unwrap();
        assert_eq!(
            (verified.value, &*verified.key_id),
            (i, format!("k{i}").as_str())
        );
    }
}

#[test]
fn verifiers_are_cheap_to_share_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Verifier>();
    let (ring, _) = keyring(vec![key("k1", 1)]);
    let verifier = Verifier::new(ring, "s");
    let handles: Vec<_> = (0..4u64)
        .map(|i| {
            let verifier = verifier.clone();
            std::thread::spawn(move || {
                for n in 0..200 {
                    let token = verifier.generate(&(i, n), TokenOptions::new()).unwrap();
                    assert_eq!(
                        verifier.verify::<(u64, u64)>(&token, None).unwrap().value,
                        (i, n)
                    );
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
}

#[test]
fn debug_output_never_contains_secrets() {
    let (ring, _) = keyring(vec![key("k1", 0x41)]);
    let ring = Arc::new(ring);
    let verifier = Verifier::new(ring.clone(), "s");
    for shown in [
        format!("{ring:?}"),
        format!("{verifier:?}"),
        format!("{:?}", ring.keys()[0]),
    ] {
        assert!(shown.contains("k1"), "{shown}");
        assert!(!shown.contains("AAAA"), "{shown}");
        assert!(!shown.contains("65, 65"), "{shown}");
        assert!(!shown.contains("QUFB"), "{shown}"); // base64 of 0x41 0x41 0x41
    }
}

/// A refused token is logged at `debug` in a `tokenring_verification_failed` span with the
/// verifier, the purpose and the reason code, and nothing of the token.
#[test]
fn refusals_are_logged_at_debug_without_the_token() {
    let (ring, _) = keyring(vec![key("k1", 1)]);
    let verifier = Verifier::new(ring, "logged");
    let token = verifier
        .generate(&"secret value", TokenOptions::new().purpose("reset"))
        .unwrap();
    let log = crate::common::traced(tracing::Level::DEBUG, || {
        assert!(verifier.verify::<String>(&token, Some("login")).is_err());
        assert!(verifier.verify::<String>(&token, Some("reset")).is_ok());
    });
    assert!(
        log.contains("DEBUG")
            && log.contains("tokenring_verification_failed")
            && log.contains("verifier=\"logged\"")
            && log.contains("purpose=\"login\"")
            && log.contains("reason=\"purpose_mismatch\""),
        "{log}"
    );
    assert_eq!(log.lines().count(), 1, "only the refusal is logged: {log}");
    for part in token.split('.').filter(|p| p.len() > 8) {
        assert!(!log.contains(part), "the token leaked: {log}");
    }
}
