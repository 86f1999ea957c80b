//! The extractor on a public keyring (feature `jose`): a service that only verifies takes
//! the issuer's JWS as bearer tokens, and every way one fails answers with the same stable
//! reason codes as v1 tokens, never echoing the token.
#![cfg(feature = "jose")]

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use serde_json::{Value, json};
use tokenring::clock::ManualClock;
use tokenring::jose::{self, JoseAlgorithm, SigningKey};
use tokenring::{Key, Keyring, Secret, TokenOptions, Verifier};
use tokenring_axum::{Purpose, Token};
use tower::ServiceExt as _;

const HOUR: Duration = Duration::from_secs(3600);

struct Api;
impl Purpose for Api {
    const PURPOSE: &'static str = "api";
}

async fn protected(token: Token<Value, Api>) -> String {
    format!("{} {}", token.value, &*token.key_id)
}

fn signing_key(byte: u8) -> SigningKey {
    SigningKey::from_bytes(JoseAlgorithm::EdDsa, &Secret::from_bytes([byte; 32])).unwrap()
}

async fn answer(router: &Router, token: &str) -> (StatusCode, String) {
    let request = Request::get("/protected")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn a_verify_only_service_answers_jws_with_the_usual_codes() {
    let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let clock = Arc::new(ManualClock::new(t0));
    let issuer = Keyring::new_with_clock(
        vec![
            Key::from_signing_key("p1", signing_key(1)).with_activates_at(Some(t0)),
            Key::from_signing_key("p0", signing_key(2)).with_activates_at(Some(t0 - HOUR)),
        ],
        clock.clone(),
    )
    .unwrap();
    // The service holds the public keyring, where p0 has since been revoked.
    let public = issuer.public().unwrap();
    let keys: Vec<Key> = public
        .keys()
        .iter()
        .map(|key| {
            let revoked = key.id() == "p0";
            key.clone().with_disabled(revoked)
        })
        .collect();
    let public = Arc::new(Keyring::new_with_clock(keys, clock.clone()).unwrap());
    assert!(public.is_public());
    let router = Router::new()
        .route("/protected", get(protected))
        .with_state(Verifier::new(public, "api"));

    let mint = |salt: &str, options: TokenOptions| {
        Verifier::new(issuer.clone(), salt)
            .generate(&json!({"n": 1}), options)
            .unwrap()
    };
    let ok = mint("api", TokenOptions::new().purpose("api").expires_in(HOUR));
    assert_eq!(
        answer(&router, &ok).await,
        (StatusCode::OK, r#"{"n":1} p1"#.to_owned())
    );

    let only_p0 = Keyring::new_with_clock(
        vec![Key::from_signing_key("p0", signing_key(2))],
        clock.clone(),
    )
    .unwrap();
    let of_revoked = Verifier::new(only_p0, "api")
        .generate(&1, TokenOptions::new().purpose("api"))
        .unwrap();
    let stranger = Keyring::new_with_clock(
        vec![Key::from_signing_key("p9", signing_key(9))],
        clock.clone(),
    )
    .unwrap();
    let unknown = Verifier::new(stranger, "api")
        .generate(&1, TokenOptions::new().purpose("api"))
        .unwrap();
    let (header, rest) = ok.split_once('.').unwrap();
    // {"alg":"none","kid":"p1","typ":"JWT"} over the real claims and signature: refused for
    // its algorithm before any signature work.
    let alg_none = format!("eyJhbGciOiJub25lIiwia2lkIjoicDEiLCJ0eXAiOiJKV1QifQ.{rest}");
    let not_yet = jose::sign(
        "p1",
        &signing_key(1),
        json!({"dat": 1, "pur": "api", "aud": "api", "nbf": 1_800_003_600u64})
            .to_string()
            .as_bytes(),
    );
    let mut tampered = ok.clone().into_bytes();
    let middle = header.len() + 3;
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();

    let cases: Vec<(String, StatusCode, &str)> = vec![
        ("a.b.c".into(), StatusCode::BAD_REQUEST, "malformed"),
        (tampered, StatusCode::UNAUTHORIZED, "bad_signature"),
        // The header's algorithm is never the token's to pick; the code does not say which
        // check refused it.
        (alg_none, StatusCode::UNAUTHORIZED, "bad_signature"),
        (unknown, StatusCode::UNAUTHORIZED, "bad_signature"),
        (of_revoked, StatusCode::UNAUTHORIZED, "key_revoked"),
        (
            mint("cookies", TokenOptions::new().purpose("api")),
            StatusCode::FORBIDDEN,
            "wrong_audience",
        ),
        (
            mint("api", TokenOptions::new().purpose("admin")),
            StatusCode::FORBIDDEN,
            "purpose_mismatch",
        ),
        (not_yet, StatusCode::UNAUTHORIZED, "not_yet_valid"),
    ];
    for (token, status, reason) in &cases {
        let (got, body) = answer(&router, token).await;
        assert_eq!(got, *status, "{reason}: {body}");
        let body_json: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body_json["reason"], *reason, "{body}");
        for part in token.split('.').filter(|p| p.len() > 8) {
            assert!(!body.contains(part), "{reason}: part of the token leaked");
        }
    }
    clock.advance(2 * HOUR);
    let (status, body) = answer(&router, &ok).await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert!(body.contains("\"reason\":\"expired\""), "{body}");
}
