//! Signed ids and TokenFor through the public API: each way a token can fail is a distinct,
//! typed outcome.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use crate::common::{block_on, hours, key, keyring, t0, yield_now};
use proptest::prelude::*;
use tokenring::clock::ManualClock;
use tokenring::record::FindError;
use tokenring::verifier::VerifierConfig;
use tokenring::{Keyring, Record, Verifiers, VerifyError};

#[derive(Debug, Clone, PartialEq)]
struct User {
    id: i64,
    email: String,
    password_hash: String,
}

impl Record for User {
    type Id = i64;
    const MODEL_NAME: &'static str = "User";
    fn record_id(&self) -> i64 {
        self.id
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Account {
    id: i64,
}

impl Record for Account {
    type Id = i64;
    const MODEL_NAME: &'static str = "Account";
    fn record_id(&self) -> i64 {
        self.id
    }
}

/// A type with a string id and its own verifier (and so its own keyring and expiry).
#[derive(Debug, Clone, PartialEq)]
struct Invite {
    code: String,
}

impl Record for Invite {
    type Id = String;
    const MODEL_NAME: &'static str = "Invite";
    fn record_id(&self) -> String {
        self.code.clone()
    }
    fn signed_id_verifier() -> &'static str {
        "invites"
    }
    fn signed_id_expires_in() -> Option<Duration> {
        Some(Duration::from_secs(60))
    }
}

fn user() -> User {
    User {
        id: 42,
        email: "ada@example.com".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$abcdefghijklmnop".into(),
    }
}

fn setup() -> (Verifiers, Arc<ManualClock>) {
    let (ring, clock) = keyring(vec![key("k1", 1)]);
    (Verifiers::builder(ring).build(), clock)
}

fn found<R: Clone>(record: &R) -> impl FnOnce(i64) -> Result<Option<R>, Infallible> + '_ {
    move |_| Ok(Some(record.clone()))
}

#[test]
fn signed_id_round_trip_and_every_failure() {
    let (verifiers, clock) = setup();
    let u = user();
    let token = verifiers
        .signed_id(&u, Some("password_reset"), Some(hours(1)))
        .unwrap();
    let ok = verifiers.find_signed::<User, Infallible>(&token, Some("password_reset"), |id| {
        assert_eq!(id, 42);
        Ok(Some(u.clone()))
    });
    assert_eq!(ok.unwrap().record, u);

    // Another model, another purpose, no purpose.
    assert!(matches!(
        verifiers.find_signed::<Account, Infallible>(&token, Some("password_reset"), |id| Ok(
            Some(Account { id })
        )),
        Err(FindError::Invalid(VerifyError::PurposeMismatch { .. }))
    ));
    for purpose in [Some("email_confirm"), None] {
        assert!(matches!(
            verifiers.find_signed::<User, Infallible>(&token, purpose, found(&u)),
            Err(FindError::Invalid(VerifyError::PurposeMismatch { .. }))
        ));
    }
    // Tampered.
    let mut tampered = token.clone();
    tampered.insert(10, 'x');
    assert!(matches!(
        verifiers.find_signed::<User, Infallible>(&tampered, Some("password_reset"), found(&u)),
        Err(FindError::Invalid(_))
    ));
    // Deleted; finder failure.
    assert!(matches!(
        verifiers.find_signed::<User, Infallible>(&token, Some("password_reset"), |_| Ok(None)),
        Err(FindError::NotFound)
    ));
    assert!(matches!(
        verifiers.find_signed::<User, &str>(&token, Some("password_reset"), |_| Err("db down")),
        Err(FindError::Finder("db down"))
    ));
    // Expired.
    clock.advance(hours(1));
    assert!(matches!(
        verifiers.find_signed::<User, Infallible>(&token, Some("password_reset"), found(&u)),
        Err(FindError::Invalid(VerifyError::Expired { .. }))
    ));
}

#[test]
fn per_class_verifier_keyring_and_expiry() {
    let (main, clock) = keyring(vec![key("main", 1)]);
    let invites_keyring = Keyring::new_with_clock(vec![key("inv", 9)], clock.clone()).unwrap();
    let verifiers = Verifiers::builder(main)
        .configure("invites", VerifierConfig::new().keyring(invites_keyring))
        .build();
    let invite = Invite {
        code: "c0ffee".into(),
    };
    let token = verifiers.signed_id(&invite, None, None).unwrap();
    assert!(token.starts_with("v1.inv."), "{token}");
    let verified = verifiers.verify_signed_id::<Invite>(&token, None).unwrap();
    assert_eq!(verified.value, "c0ffee");
    assert_eq!(verified.expires_at, Some(t0() + Duration::from_secs(60)));
    // The default verifier (another salt and keyring) refuses it.
    assert!(
        verifiers
            .get("signed_id")
            .verify::<String>(&token, Some("Invite"))
            .is_err()
    );
    clock.advance(Duration::from_secs(60));
    assert!(matches!(
        verifiers.verify_signed_id::<Invite>(&token, None),
        Err(VerifyError::Expired { .. })
    ));
}

#[test]
fn token_for_outcomes() {
    let (verifiers, clock) = setup();
    let resets = verifiers
        .token_for::<User>("password_reset")
        .expires_in(Duration::from_secs(900))
        .fingerprint(|u: &User| u.password_hash[u.password_hash.len() - 10..].to_owned())
        .build();
    let mut u = user();
    let token = resets.generate(&u).unwrap();
    assert_eq!(resets.resolve(&token, found(&u)).unwrap().record, u);

    // Another purpose, another model, the same purpose with another expiry: all invalid.
    let confirms = verifiers.token_for::<User>("email_confirm").build();
    assert!(matches!(
        confirms.resolve(&token, found(&u)),
        Err(FindError::Invalid(_))
    ));
    let accounts = verifiers
        .token_for::<Account>("password_reset")
        .expires_in(Duration::from_secs(900))
        .build();
    assert!(matches!(
        accounts.resolve(&token, |id| Ok::<_, Infallible>(Some(Account { id }))),
        Err(FindError::Invalid(VerifyError::PurposeMismatch { .. }))
    ));
    let longer = verifiers
        .token_for::<User>("password_reset")
        .expires_in(Duration::from_secs(3600))
        .fingerprint(|u: &User| u.password_hash[u.password_hash.len() - 10..].to_owned())
        .build();
    assert!(matches!(
        longer.resolve(&token, found(&u)),
        Err(FindError::Invalid(VerifyError::PurposeMismatch { .. }))
    ));

    // Deleted; changed; expired.
    assert!(matches!(
        resets.resolve(&token, |_| Ok::<_, Infallible>(None)),
        Err(FindError::NotFound)
    ));
    u.email = "new@example.com".into();
    assert!(
        resets.resolve(&token, found(&u)).is_ok(),
        "only the fingerprint matters"
    );
    u.password_hash.push('!');
    assert!(matches!(
        resets.resolve(&token, found(&u)),
        Err(FindError::Stale)
    ));
    let fresh = resets.generate(&u).unwrap();
    clock.advance(Duration::from_secs(900));
    assert!(matches!(
        resets.resolve(&fresh, found(&u)),
        Err(FindError::Invalid(VerifyError::Expired { .. }))
    ));
}

#[test]
fn rotation_is_reported() {
    let old = || key("old", 1).with_expires_at(Some(t0() + hours(24)));
    let (before, _) = keyring(vec![old()]);
    let token = Verifiers::builder(before)
        .build()
        .signed_id(&user(), None, None)
        .unwrap();
    let (after, _) = keyring(vec![key("new", 2), old()]);
    let verifiers = Verifiers::builder(after).build();
    let found = verifiers
        .find_signed::<User, Infallible>(&token, None, found(&user()))
        .unwrap();
    assert_eq!((&*found.key_id, found.is_current_key), ("old", false));
    let confirm = verifiers.token_for::<User>("c").build();
    let t = confirm.generate(&user()).unwrap();
    assert!(confirm.resolve(&t, found_user).unwrap().is_current_key);
}

fn found_user(_: i64) -> Result<Option<User>, Infallible> {
    Ok(Some(user()))
}

#[test]
fn async_finders() {
    let (verifiers, _) = setup();
    let u = user();
    let token = verifiers.signed_id(&u, None, None).unwrap();
    let got = block_on(verifiers.find_signed_async::<User, Infallible, _, _>(
        &token,
        None,
        |id| async move {
            yield_now().await;
            Ok((id == 42).then(user))
        },
    ))
    .unwrap();
    assert_eq!(got.record, u);
    let resets = verifiers
        .token_for::<User>("r")
        .fingerprint(|u: &User| u.email.clone())
        .build();
    let t = resets.generate(&u).unwrap();
    let got = block_on(resets.resolve_async(&t, |_| async { Ok::<_, Infallible>(None::<User>) }));
    assert!(matches!(got, Err(FindError::NotFound)));
}

proptest! {
    #[test]
    fn signed_ids_never_cross_purposes(code in ".{0,40}", a in "[a-z_]{0,12}", b in "[a-z_]{0,12}") {
        let (verifiers, _) = setup();
        let invite = Invite { code: code.clone() };
        let token = verifiers.signed_id(&invite, Some(&a), None).unwrap();
        prop_assert_eq!(verifiers.verify_signed_id::<Invite>(&token, Some(&a)).unwrap().value, code);
        if a != b {
            prop_assert!(verifiers.verify_signed_id::<Invite>(&token, Some(&b)).is_err());
        }
    }
}

#[test]
fn unserialisable_fingerprints_fail_closed() {
    use std::collections::HashMap;
    let (verifiers, _) = setup();
    // A map with non-string keys cannot be JSON: never a `null` fingerprint that always matches.
    let broken = verifiers
        .token_for::<User>("r")
        .fingerprint(|_: &User| HashMap::from([((1, 2), 3)]))
        .build();
    assert!(matches!(
        broken.generate(&user()),
        Err(tokenring::SignError::Serialize(_))
    ));
    let fine = verifiers
        .token_for::<User>("r")
        .fingerprint(|u: &User| u.email.clone())
        .build();
    let token = fine.generate(&user()).unwrap();
    assert!(matches!(
        broken.resolve(&token, found(&user())),
        Err(FindError::Stale)
    ));
}
