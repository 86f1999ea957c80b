//! `JwtVerifier`: an issuer's JWTs, their registered claims checked in order against the
//! issuer and audiences trusted, each failure its own reason; RS256 from PyJWT and Node's
//! `jose` through the same rules.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::{Value, json};
use tokenring::error::Malformed;
use tokenring::jose::{self, JoseAlgorithm, Jwk, SigningKey};
use tokenring::verifier::JwtVerifier;
use tokenring::{Key, Keyring, TokenOptions, Verifier, VerifyError};
use tokenring_test_support::jose_libraries;

const ISSUER: &str = "https://issuer.example";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[derive(Debug, Deserialize, PartialEq)]
struct Claims {
    sub: String,
    #[serde(default)]
    scope: Option<String>,
}

#[test]
fn registered_claims_are_checked_in_order() {
    let key = SigningKey::generate(JoseAlgorithm::Es256).unwrap();
    let keys = Keyring::new(vec![Key::from_public_key("k1", key.public_key())]).unwrap();
    let verifier = JwtVerifier::builder(keys, ISSUER, "orders")
        .audience("billing")
        .leeway(Duration::from_secs(30))
        .build();
    let mint = |claims: Value| jose::sign("k1", &key, claims.to_string().as_bytes());
    let t = now();
    let good = json!({"iss": ISSUER, "aud": "orders", "sub": "ann", "scope": "read", "exp": t + 600, "iat": t, "nbf": t});
    let verified = verifier.verify::<Claims>(&mint(good.clone())).unwrap();
    assert_eq!(
        verified.value,
        Claims {
            sub: "ann".into(),
            scope: Some("read".into())
        }
    );
    assert_eq!(&*verified.key_id, "k1");
    assert_eq!(
        verified.expires_at,
        Some(UNIX_EPOCH + Duration::from_secs(t + 600))
    );

    let with = |changes: Value| {
        let mut claims = good.clone();
        for (name, value) in changes.as_object().unwrap() {
            match value {
                Value::Null => {
                    claims.as_object_mut().unwrap().remove(name);
                }
                value => claims[name] = value.clone(),
            }
        }
        verifier.verify::<Claims>(&mint(claims))
    };
    // Accepted: another trusted audience, an array of audiences, fractional times, within
    // the leeway.
    for changes in [
        json!({"aud": "billing"}),
        json!({"aud": ["somebody-else", "orders"]}),
        json!({"exp": (t + 600) as f64 + 0.5}),
        json!({"exp": t - 20}),
        json!({"nbf": t + 20, "iat": t + 20}),
        json!({"nbf": null, "iat": null}),
    ] {
        assert!(with(changes.clone()).is_ok(), "{changes}");
    }
    let reason = |changes: Value| with(changes).unwrap_err().reason();
    assert_eq!(
        reason(json!({"iss": "https://evil.example"})),
        "wrong_issuer"
    );
    assert_eq!(reason(json!({"aud": "somebody-else"})), "wrong_audience");
    assert_eq!(reason(json!({"aud": ["a", "b"]})), "wrong_audience");
    assert_eq!(reason(json!({"exp": t - 31})), "expired");
    assert_eq!(reason(json!({"nbf": t + 31})), "not_yet_valid");
    assert_eq!(reason(json!({"iat": t + 31})), "not_yet_valid");
    assert_eq!(reason(json!({"sub": 42})), "invalid_value");
    for (changes, malformed) in [
        (json!({"exp": null}), Malformed::MissingClaim("exp")),
        (json!({"iss": null}), Malformed::MissingClaim("iss")),
        (json!({"aud": null}), Malformed::MissingClaim("aud")),
        (json!({"exp": "tomorrow"}), Malformed::Claims),
        (json!({"iss": 7}), Malformed::Claims),
        (json!({"exp": -5}), Malformed::Claims),
        (json!({"exp": 1e300}), Malformed::Claims),
    ] {
        assert_eq!(
            with(changes.clone()).unwrap_err(),
            VerifyError::Malformed(malformed),
            "{changes}"
        );
    }
    // The issuer is checked before the audience, both before the expiry.
    assert_eq!(
        reason(json!({"iss": "x", "aud": "y", "exp": 1})),
        "wrong_issuer"
    );
    assert_eq!(reason(json!({"aud": "y", "exp": 1})), "wrong_audience");
}

/// tokenring's own tokens are not an issuer's JWTs: a v1 token is malformed here, and a JWS
/// minted by a `Verifier` (no `iss`) lacks the issuer.
#[test]
fn tokenring_tokens_are_not_an_issuers() {
    let pair = SigningKey::generate(JoseAlgorithm::EdDsa).unwrap();
    let ring = Keyring::new(vec![Key::from_signing_key("k1", pair)]).unwrap();
    let jwt = JwtVerifier::builder(&ring, ISSUER, "orders").build();
    let own = Verifier::new(&ring, "orders")
        .generate(&1, TokenOptions::new().expires_in(Duration::from_secs(60)))
        .unwrap();
    assert_eq!(
        jwt.verify::<Value>(&own).unwrap_err(),
        VerifyError::Malformed(Malformed::MissingClaim("iss"))
    );
    let hmac = Keyring::new(vec![tokenring::Key::new(
        "h1",
        tokenring::Secret::from_bytes([1; 32]),
    )])
    .unwrap();
    let v1 = Verifier::new(&hmac, "orders")
        .generate(&1, TokenOptions::new())
        .unwrap();
    assert_eq!(
        JwtVerifier::builder(&hmac, ISSUER, "orders")
            .build()
            .verify::<Value>(&v1)
            .unwrap_err()
            .reason(),
        "malformed"
    );
}

/// RS256, ES256 and EdDSA tokens minted by PyJWT and Node's `jose` verify through their JWKs;
/// another issuer, another audience and an expired token are refused by reason.
#[test]
fn jose_libraries_tokens_verify_as_an_issuers() {
    let t = now();
    for library in jose_libraries::all() {
        for alg in ["RS256", "ES256", "EdDSA"] {
            let what = format!("{} {alg}", library.name);
            let claims =
                json!({"iss": ISSUER, "aud": ["orders"], "sub": "ann", "exp": t + 600, "iat": t});
            let minted = library.mint(alg, "kid-1", &claims.to_string());
            let jwk: Jwk = serde_json::from_value(minted["jwk"].clone()).unwrap();
            let keys = Keyring::new(vec![Key::from_public_key(
                "kid-1",
                jwk.to_public_key().unwrap(),
            )])
            .unwrap();
            let token = minted["token"].as_str().unwrap();
            let verified = JwtVerifier::builder(&keys, ISSUER, "orders")
                .build()
                .verify::<Claims>(token)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(verified.value.sub, "ann", "{what}");
            let refused =
                |verifier: JwtVerifier| verifier.verify::<Claims>(token).unwrap_err().reason();
            assert_eq!(
                refused(JwtVerifier::builder(&keys, "https://other.example", "orders").build()),
                "wrong_issuer"
            );
            assert_eq!(
                refused(JwtVerifier::builder(&keys, ISSUER, "billing").build()),
                "wrong_audience"
            );
            let expired = library.mint(
                alg,
                "kid-1",
                &json!({"iss": ISSUER, "aud": "orders", "sub": "ann", "exp": t - 600}).to_string(),
            );
            let jwk: Jwk = serde_json::from_value(expired["jwk"].clone()).unwrap();
            let keys = Keyring::new(vec![Key::from_public_key(
                "kid-1",
                jwk.to_public_key().unwrap(),
            )])
            .unwrap();
            assert_eq!(
                JwtVerifier::builder(&keys, ISSUER, "orders")
                    .build()
                    .verify::<Claims>(expired["token"].as_str().unwrap())
                    .unwrap_err()
                    .reason(),
                "expired",
                "{what}"
            );
        }
    }
}
