//! Key pairs in the keyring (feature `jose`): `EdDSA` and `ES256` keys in keyring files, the
//! public keyring that verifies and cannot mint, JWS through the `Verifier` with the same
//! states and rotation as v1 tokens, the JWKS, and the security rules at the verifier.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use tokenring::error::{EntryError, Malformed};
use tokenring::jose::{JoseAlgorithm, Jwk, PublicKey, SigningKey};
use tokenring::{
    Algorithm, Key, KeyState, Keyring, KeyringError, SignError, TokenOptions, Verifier, VerifyError,
};

use crate::common::{hours, key, keyring, t0};

const ALGORITHMS: [JoseAlgorithm; 2] = [JoseAlgorithm::EdDsa, JoseAlgorithm::Es256];

fn pair(id: &str, algorithm: JoseAlgorithm) -> Key {
    Key::from_signing_key(id, SigningKey::generate(algorithm).unwrap())
}

fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A JWS of `header` and `claims` with a signature of 64 zero bytes (the right length, so it
/// gets as far as the key).
fn unsigned(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes()),
        b64url(&[0; 64])
    )
}

#[test]
fn key_pairs_round_trip_through_keyring_files() {
    let (ring, _) = keyring(vec![
        key("hmac", 1),
        pair("ed", JoseAlgorithm::EdDsa).with_activates_at(Some(t0() + hours(1))),
        pair("ec", JoseAlgorithm::Es256),
    ]);
    let json = ring.to_json();
    let document: Value = serde_json::from_str(&json).unwrap();
    for entry in document["keys"].as_array().unwrap() {
        let algorithm = entry["algorithm"].as_str().unwrap_or("HS256");
        assert!(entry["secret"].is_string(), "{entry}");
        // The public key is written beside every private key, and only for key pairs.
        assert_eq!(
            entry.get("public_key").is_some(),
            algorithm != "HS256",
            "{entry}"
        );
    }
    let again = Keyring::from_json(&json).unwrap();
    for (a, b) in ring.keys().iter().zip(again.keys()) {
        assert_eq!(a.id(), b.id());
        assert_eq!(a.algorithm(), b.algorithm());
        assert_eq!(a.secret(), b.secret());
        assert_eq!(a.public_key(), b.public_key());
        assert_eq!(a.activates_at(), b.activates_at());
    }
    assert_eq!(*again.to_json(), *json, "canonical form is stable");
}

/// The public keyring holds no secret at all: no key has one, and no byte of any private key
/// (raw, or base64 as files hold it) is in its file or its `Debug`.
#[test]
fn a_public_keyring_holds_no_private_key_bytes() {
    let (ring, _) = keyring(vec![
        key("hmac", 7),
        pair("ed", JoseAlgorithm::EdDsa),
        pair("ec", JoseAlgorithm::Es256),
    ]);
    let public = ring.public().unwrap();
    assert!(public.is_public());
    assert!(!ring.is_public());
    let ids: Vec<&str> = public.keys().iter().map(Key::id).collect();
    assert_eq!(ids, ["ed", "ec"], "HMAC keys are left out");
    let file = public.to_json();
    let debug = format!("{public:?}");
    for key in public.keys() {
        assert!(key.secret().is_none());
        assert!(key.public_key().is_some());
    }
    for key in ring.keys() {
        let secret = key.secret().unwrap().expose();
        let encodings = [
            STANDARD.encode(secret),
            b64url(secret),
            format!("{secret:?}"),
        ];
        for text in encodings {
            assert!(!file.contains(&text), "{}: secret in the file", key.id());
            assert!(!debug.contains(&text), "{}: secret in Debug", key.id());
        }
    }
    assert!(!file.contains("\"secret\""), "{}", *file);
    // The file loads back as a public keyring.
    let loaded = Keyring::from_json(&file).unwrap();
    assert!(loaded.is_public());
    assert_eq!(loaded.keys().len(), 2);
    // A keyring of HMAC keys alone has no public face.
    let (hmac, _) = keyring(vec![key("hmac", 1)]);
    assert!(matches!(hmac.public(), Err(KeyringError::NoKeys)));
}

#[test]
fn public_keyrings_verify_and_cannot_mint() {
    for algorithm in ALGORITHMS {
        let (ring, _) = keyring(vec![pair("k1", algorithm)]);
        let public = ring.public().unwrap();
        let minter = Verifier::new(&ring, "login");
        let checker = Verifier::new(&public, "login");
        let options = TokenOptions::new()
            .purpose("sign_in")
            .expires_in(Duration::from_secs(600));
        let token = minter.generate(&json!({"user": 42}), options).unwrap();
        assert_eq!(token.split('.').count(), 3, "a JWS: {token}");
        let verified = checker.verify::<Value>(&token, Some("sign_in")).unwrap();
        assert_eq!(verified.value, json!({"user": 42}));
        assert_eq!(&*verified.key_id, "k1");
        // The verify-only side cannot produce a token, with any options.
        for options in [TokenOptions::new(), options] {
            assert_eq!(
                checker.generate(&1, options),
                Err(SignError::NoPrivateKey {
                    key_id: "k1".into()
                }),
                "{algorithm}"
            );
        }
    }
}

#[test]
fn jws_claims_are_standard_and_bind_purpose_expiry_and_salt() {
    let (ring, clock) = keyring(vec![pair("k1", JoseAlgorithm::EdDsa)]);
    let verifier = Verifier::new(&ring, "password_reset");
    let options = TokenOptions::new()
        .purpose("reset")
        .expires_in(Duration::from_secs(900));
    let token = verifier.generate(&"ada", options).unwrap();
    let mut parts = token.split('.');
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap();
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap();
    assert_eq!(header, json!({"alg": "EdDSA", "kid": "k1", "typ": "JWT"}));
    let now = t0()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(
        claims,
        json!({"dat": "ada", "pur": "reset", "exp": now + 900, "iat": now, "aud": "password_reset"})
    );

    assert!(matches!(
        verifier.verify::<String>(&token, Some("login")),
        Err(VerifyError::PurposeMismatch { .. })
    ));
    assert!(matches!(
        verifier.verify::<String>(&token, None),
        Err(VerifyError::PurposeMismatch { .. })
    ));
    // Another salt is another audience: refused, as an HMAC key derived for it would be.
    let other = Verifier::new(&ring, "cookies");
    assert_eq!(
        other.verify::<String>(&token, Some("reset")),
        Err(VerifyError::WrongAudience {
            expected: "cookies".into()
        })
    );
    assert_eq!(
        other
            .verify::<String>(&token, Some("reset"))
            .unwrap_err()
            .reason(),
        "wrong_audience"
    );
    // A value of another type: the claims held, the value does not decode.
    assert!(matches!(
        verifier.verify::<u64>(&token, Some("reset")),
        Err(VerifyError::InvalidValue(_))
    ));
    clock.advance(Duration::from_secs(900));
    assert!(matches!(
        verifier.verify::<String>(&token, Some("reset")),
        Err(VerifyError::Expired { .. })
    ));
}

/// Every character of a JWS replaced: never accepted, never a panic.
#[test]
fn tampered_jws_never_verify() {
    for algorithm in ALGORITHMS {
        let (ring, _) = keyring(vec![pair("k1", algorithm)]);
        let verifier = Verifier::new(ring.public().unwrap(), "tamper");
        let token = Verifier::new(&ring, "tamper")
            .generate(&"value", TokenOptions::new().purpose("p"))
            .unwrap();
        assert!(verifier.verify::<String>(&token, Some("p")).is_ok());
        let bytes = token.as_bytes();
        for i in 0..bytes.len() {
            for replacement in [b'A', b'x', b'-', b'.', b'_'] {
                if bytes[i] == replacement {
                    continue;
                }
                let mut forged = bytes.to_vec();
                forged[i] = replacement;
                let forged = String::from_utf8(forged).unwrap();
                let result = verifier.verify::<String>(&forged, Some("p"));
                assert!(result.is_err(), "{algorithm}: byte {i} -> {replacement}");
            }
        }
    }
}

#[test]
fn the_algorithm_comes_from_the_key_never_the_token() {
    let ed = SigningKey::generate(JoseAlgorithm::EdDsa).unwrap();
    let ec = SigningKey::generate(JoseAlgorithm::Es256).unwrap();
    let (ring, _) = keyring(vec![
        key("hmac", 1),
        Key::from_signing_key("ed", ed.clone()),
        Key::from_signing_key("ec", ec.clone()),
    ]);
    let verifier = Verifier::new(ring.public().unwrap(), "s");
    let mixed = Verifier::new(&ring, "s");
    let claims = json!({"dat": 1, "aud": "s"});
    let mismatch = |kid: &str| {
        Err::<tokenring::Verified<Value>, _>(VerifyError::AlgorithmMismatch { key_id: kid.into() })
    };

    // `none`, and HS256 with the public key's bytes as the HMAC secret.
    let none = format!(
        "{}.{}.",
        b64url(json!({"alg": "none", "kid": "ed"}).to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    assert!(verifier.verify::<Value>(&none, None).is_err());
    let public_bytes = ed.public_key().to_bytes();
    let hs256 = {
        use hmac::{Hmac, KeyInit, Mac};
        let input = format!(
            "{}.{}",
            b64url(json!({"alg": "HS256", "kid": "ed"}).to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&public_bytes).unwrap();
        mac.update(input.as_bytes());
        // Padded to the 64 bytes a signature has, so only the alg rule can refuse it.
        let mut tag = mac.finalize().into_bytes().to_vec();
        tag.resize(64, 0);
        format!("{input}.{}", b64url(&tag))
    };
    assert_eq!(verifier.verify::<Value>(&hs256, None), mismatch("ed"));
    // An ES256 token for an EdDSA key, signed by a real ES256 key under the EdDSA key's id.
    let es256_for_ed = tokenring::jose::sign("ed", &ec, claims.to_string().as_bytes());
    assert_eq!(
        verifier.verify::<Value>(&es256_for_ed, None),
        mismatch("ed")
    );
    let header_says_none = unsigned(&json!({"alg": "none", "kid": "ed"}), &claims);
    assert_eq!(
        verifier.verify::<Value>(&header_says_none, None),
        mismatch("ed")
    );
    // A JWS naming an HMAC key, and a v1 token naming a key pair.
    let jws_for_hmac = unsigned(&json!({"alg": "HS256", "kid": "hmac"}), &claims);
    assert_eq!(mixed.verify::<Value>(&jws_for_hmac, None), mismatch("hmac"));
    let v1_for_pair = format!("v1.ed.e30.{}", b64url(&[0; 32]));
    assert_eq!(mixed.verify::<Value>(&v1_for_pair, None), mismatch("ed"));
    assert_eq!(
        mixed
            .verify::<Value>(&v1_for_pair, None)
            .unwrap_err()
            .reason(),
        "alg_mismatch"
    );

    // No kid, or an unknown one: unknown_key. crit: refused.
    let no_kid = unsigned(&json!({"alg": "EdDSA"}), &claims);
    let unknown = unsigned(&json!({"alg": "EdDSA", "kid": "nope"}), &claims);
    let secretish = "s3cr3t/ab+cd==".repeat(20);
    let strange = unsigned(&json!({"alg": "EdDSA", "kid": secretish}), &claims);
    for token in [no_kid, unknown, strange] {
        let error = verifier.verify::<Value>(&token, None).unwrap_err();
        assert_eq!(error.reason(), "unknown_key");
        assert!(!error.to_string().contains("s3cr3t"), "{error}");
    }
    let crit = unsigned(
        &json!({"alg": "EdDSA", "kid": "ed", "crit": ["exp"], "exp": 1}),
        &claims,
    );
    assert_eq!(
        verifier.verify::<Value>(&crit, None),
        Err(VerifyError::Malformed(Malformed::CriticalHeader))
    );
}

/// Key states apply to key pairs as to HMAC keys, and the signature comes first: a forged
/// token naming a revoked key is a bad signature, a real one a revoked key.
#[test]
fn key_pair_states_rotate_like_hmac_keys() {
    let ed = SigningKey::generate(JoseAlgorithm::EdDsa).unwrap();
    let ec = SigningKey::generate(JoseAlgorithm::Es256).unwrap();
    let (ring, clock) = keyring(vec![
        Key::from_signing_key("old", ed.clone()),
        Key::from_signing_key("new", ec.clone()).with_activates_at(Some(t0() + hours(1))),
    ]);
    assert_eq!(ring.state("new"), Some(KeyState::Pending));
    let verifier = Verifier::new(&ring, "s");
    let before = verifier.generate(&1, TokenOptions::new()).unwrap();
    assert!(before.starts_with("eyJ"));
    clock.advance(hours(1));
    let after = verifier.generate(&2, TokenOptions::new()).unwrap();
    let old = verifier.verify::<u32>(&before, None).unwrap();
    assert!(!old.is_current_key, "the old key no longer signs");
    assert_eq!(
        &*verifier.verify::<u32>(&after, None).unwrap().key_id,
        "new"
    );

    // Revoke the old key.
    let revoked = Keyring::new_with_clock(
        vec![
            Key::from_signing_key("old", ed).with_disabled(true),
            Key::from_signing_key("new", ec),
        ],
        ring.clock().clone(),
    )
    .unwrap();
    let verifier = Verifier::new(revoked.public().unwrap(), "s");
    assert_eq!(
        verifier.verify::<u32>(&before, None),
        Err(VerifyError::KeyDisabled {
            key_id: "old".into()
        })
    );
    // A signature byte changed (in the middle: Ed25519's last byte has spare bits).
    let mut forged = before.clone().into_bytes();
    let at = forged.len() - 20;
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    assert_eq!(
        verifier.verify::<u32>(&forged, None),
        Err(VerifyError::BadSignature {
            key_id: "old".into()
        })
    );
}

/// A fleet moves from HS256 to EdDSA without downtime: the mixed keyring verifies both
/// formats, and the signing key's algorithm picks what is minted.
#[test]
fn a_mixed_keyring_migrates_from_hmac_to_key_pairs() {
    let (ring, clock) = keyring(vec![
        key("hmac", 1),
        pair("ed", JoseAlgorithm::EdDsa).with_activates_at(Some(t0() + hours(1))),
    ]);
    let verifier = Verifier::new(&ring, "s");
    let v1 = verifier.generate(&1, TokenOptions::new()).unwrap();
    assert!(v1.starts_with("v1.hmac."), "{v1}");
    clock.advance(hours(1));
    let jws = verifier.generate(&2, TokenOptions::new()).unwrap();
    assert!(jws.starts_with("eyJ"), "{jws}");
    assert_eq!(verifier.verify::<u32>(&v1, None).unwrap().value, 1);
    assert_eq!(verifier.verify::<u32>(&jws, None).unwrap().value, 2);
}

#[test]
fn jwks_publishes_verifying_and_pending_public_keys_only() {
    let (ring, clock) = keyring(vec![
        key("hmac", 1),
        pair("active", JoseAlgorithm::EdDsa),
        pair("pending", JoseAlgorithm::Es256).with_activates_at(Some(t0() + hours(2))),
        pair("expired", JoseAlgorithm::EdDsa).with_expires_at(Some(t0())),
        pair("revoked", JoseAlgorithm::Es256).with_disabled(true),
    ]);
    let jwks: Value = serde_json::from_str(&ring.jwks()).unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    let kids: Vec<&str> = keys.iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(
        kids,
        ["pending", "active"],
        "signing preference, then pending"
    );
    for jwk in keys {
        assert!(jwk.get("d").is_none(), "{jwk}");
        let parsed: Jwk = serde_json::from_value(jwk.clone()).unwrap();
        let kid = parsed.kid.clone().unwrap();
        assert_eq!(
            Some(&parsed.to_public_key().unwrap()),
            ring.get(&kid).unwrap().public_key()
        );
    }
    assert_eq!(ring.public().unwrap().jwks(), ring.jwks());
    // Cached no longer than until the pending key activates.
    let cap = Duration::from_secs(86_400);
    assert_eq!(ring.jwks_max_age(cap), hours(2));
    assert_eq!(
        ring.jwks_max_age(Duration::from_secs(60)),
        Duration::from_secs(60)
    );
    clock.advance(hours(2));
    assert_eq!(ring.jwks_max_age(cap), cap);
}

/// Whether an entry error is the one expected.
type IsError = fn(&EntryError) -> bool;

/// Key pair entries in files: each fault refused with the entry and field named.
#[test]
fn bad_key_pair_entries_are_refused_by_name() {
    let key = SigningKey::generate(JoseAlgorithm::EdDsa).unwrap();
    let other = SigningKey::generate(JoseAlgorithm::EdDsa).unwrap();
    let secret = STANDARD.encode(key.to_bytes().expose());
    let public = STANDARD.encode(key.public_key().to_bytes());
    let other_public = STANDARD.encode(other.public_key().to_bytes());
    let ec_public = STANDARD.encode(
        SigningKey::generate(JoseAlgorithm::Es256)
            .unwrap()
            .public_key()
            .to_bytes(),
    );
    let one = |entry: String| format!(r#"{{"keys": [{entry}]}}"#);
    let entry_error = |json: String| match Keyring::from_json(&json) {
        Err(KeyringError::Entry { key, error }) => {
            assert_eq!(key.id.as_deref(), Some("a"), "{json}");
            error
        }
        other => panic!("{json}: {other:?}"),
    };
    let cases: Vec<(String, IsError, &str)> = vec![
        (
            format!(
                r#"{{"id": "a", "algorithm": "EdDSA", "secret": "{secret}", "public_key": "{other_public}"}}"#
            ),
            |e| matches!(e, EntryError::PublicKeyMismatch),
            "public_key",
        ),
        (
            format!(r#"{{"id": "a", "algorithm": "EdDSA", "public_key": "{ec_public}"}}"#),
            |e| matches!(e, EntryError::PublicKey(_)),
            "public_key",
        ),
        (
            r#"{"id": "a", "algorithm": "EdDSA", "public_key": "not base64!"}"#.to_owned(),
            |e| matches!(e, EntryError::PublicKey(_)),
            "public_key",
        ),
        (
            r#"{"id": "a", "algorithm": "ES256"}"#.to_owned(),
            |e| matches!(e, EntryError::MissingField("public_key")),
            "public_key",
        ),
        (
            r#"{"id": "a", "algorithm": "EdDSA", "secret": "AAAA"}"#.to_owned(),
            |e| matches!(e, EntryError::Secret(_)),
            "secret",
        ),
        (
            format!(r#"{{"id": "a", "secret": "{secret}", "public_key": "{public}"}}"#),
            |e| {
                matches!(
                    e,
                    EntryError::NotForAlgorithm {
                        field: "public_key",
                        ..
                    }
                )
            },
            "public_key",
        ),
        (
            // An Ed25519 key of small order (the identity point): it would verify forgeries.
            format!(
                r#"{{"id": "a", "algorithm": "EdDSA", "public_key": "{}"}}"#,
                STANDARD.encode([1u8].iter().chain(&[0u8; 31]).copied().collect::<Vec<_>>())
            ),
            |e| matches!(e, EntryError::PublicKey(_)),
            "public_key",
        ),
    ];
    for (entry, expected, field) in cases {
        let error = entry_error(one(entry.clone()));
        assert!(expected(&error), "{entry}: {error:?}");
        assert!(error.to_string().contains(field), "{entry}: {error}");
        assert!(!error.to_string().contains(&secret), "{error}");
    }
    // A good public-key-only entry loads.
    let ring = Keyring::from_json(&one(format!(
        r#"{{"id": "a", "algorithm": "EdDSA", "public_key": "{public}"}}"#
    )))
    .unwrap();
    assert_eq!(ring.get("a").unwrap().algorithm(), Algorithm::EdDsa);
    assert_eq!(
        ring.get("a").unwrap().public_key(),
        Some(&PublicKey::from_bytes(JoseAlgorithm::EdDsa, &key.public_key().to_bytes()).unwrap())
    );
}

/// A `Verifiers` registry over the public keyring: each name its own audience, the
/// per-name expiry the issuer's registry set in the claims, signing refused on every name.
#[test]
fn a_verifiers_registry_over_the_public_keyring() {
    use tokenring::verifier::{VerifierConfig, Verifiers};
    let issuer = Keyring::new(vec![pair("ed", JoseAlgorithm::EdDsa)]).unwrap();
    let public = issuer.public().unwrap();
    let registry = |keyring: Keyring| {
        Verifiers::builder(keyring)
            .defaults(VerifierConfig::new().expires_in(hours(24)))
            .configure("reset", VerifierConfig::new().expires_in(hours(1)))
            .build()
    };
    let (minting, verifying) = (registry(issuer), registry(public));
    let reset = minting
        .get("reset")
        .generate(&42, TokenOptions::new().purpose("reset"))
        .unwrap();
    let verified = verifying
        .get("reset")
        .verify::<u32>(&reset, Some("reset"))
        .unwrap();
    assert_eq!(verified.value, 42);
    let left = verified
        .expires_at
        .unwrap()
        .duration_since(std::time::SystemTime::now())
        .unwrap();
    assert!(left <= hours(1) && left > hours(1) - Duration::from_secs(60));
    assert!(matches!(
        verifying.get("login").verify::<u32>(&reset, Some("reset")),
        Err(VerifyError::WrongAudience { .. })
    ));
    for name in ["reset", "login"] {
        assert!(matches!(
            verifying.get(name).generate(&1, TokenOptions::new()),
            Err(SignError::NoPrivateKey { .. })
        ));
    }
}

/// RS256 public keys (an issuer's, imported) live in keyring files under any printable key
/// id; an RS256 entry with a private key is refused by name: tokenring never mints with RSA.
#[test]
fn rs256_public_keys_in_keyring_files() {
    let mut n = vec![0xd1; 256];
    n[255] |= 1;
    let public = PublicKey::rsa(&n, &[1, 0, 1]).unwrap();
    let ring = Keyring::new(vec![Key::from_public_key("kWb+a/6q=.x", public.clone())]).unwrap();
    let json = ring.to_json();
    let back = Keyring::from_json(&json).unwrap();
    assert_eq!(back.keys()[0].algorithm(), Algorithm::Rs256);
    assert_eq!(back.keys()[0].public_key(), Some(&public));
    assert!(back.is_public());
    assert!(matches!(
        Verifier::new(back, "x").generate(&1, TokenOptions::new()),
        Err(SignError::NoPrivateKey { .. })
    ));
    let with_secret = json!({"keys": [{"id": "r1", "algorithm": "RS256",
        "secret": STANDARD.encode([7u8; 32]), "public_key": STANDARD.encode(public.to_bytes())}]});
    let error = Keyring::from_json(&with_secret.to_string()).unwrap_err();
    assert!(
        error.to_string().contains("RS256 keys verify only"),
        "{error}"
    );
    // Under 2048 bits, refused by name.
    let small = json!({"keys": [{"id": "r1", "algorithm": "RS256",
        "public_key": STANDARD.encode([0x30, 0x0c, 0x02, 0x05, 0x00, 0xd1, 0xd1, 0xd1, 0xd1, 0x02, 0x03, 1, 0, 1])}]});
    let error = Keyring::from_json(&small.to_string()).unwrap_err();
    assert!(error.to_string().contains("r1"), "{error}");
    // HMAC key ids keep their grammar.
    assert!(Keyring::new(vec![key("a.b", 1)]).is_err());
}
