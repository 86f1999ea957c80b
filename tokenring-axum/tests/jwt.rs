//! `Jwt<C>` in a real router: an issuer's bearer JWT verified by the `JwtVerifier` in the
//! state, each refusal with its code and status, none echoing the token.
#![cfg(feature = "jose")]

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use serde_json::{Value, json};
use tokenring::jose::{self, JoseAlgorithm, SigningKey};
use tokenring::verifier::JwtVerifier;
use tokenring::{Key, Keyring};
use tokenring_axum::Jwt;
use tower::ServiceExt as _;

#[derive(serde::Deserialize)]
struct Claims {
    sub: String,
}

async fn me(jwt: Jwt<Claims>) -> String {
    format!("{} {}", jwt.claims.sub, &*jwt.key_id)
}

async fn maybe(jwt: Option<Jwt<Claims>>) -> String {
    jwt.map_or_else(|| "anonymous".to_owned(), |jwt| jwt.claims.sub)
}

async fn call(router: &Router, path: &str, token: Option<&str>) -> (StatusCode, String) {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn an_issuers_bearer_tokens_with_the_usual_codes() {
    let key = SigningKey::generate(JoseAlgorithm::Es256).unwrap();
    let keys = Keyring::new(vec![Key::from_public_key("idp-1", key.public_key())]).unwrap();
    let verifier = JwtVerifier::builder(keys, "https://idp.example", "orders").build();
    let router = Router::new()
        .route("/me", get(me))
        .route("/maybe", get(maybe))
        .with_state(verifier);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mint = |changes: Value| {
        let mut claims =
            json!({"iss": "https://idp.example", "aud": "orders", "sub": "ann", "exp": now + 600});
        for (name, value) in changes.as_object().unwrap() {
            claims[name] = value.clone();
        }
        jose::sign("idp-1", &key, claims.to_string().as_bytes())
    };
    assert_eq!(
        call(&router, "/me", Some(&mint(json!({})))).await,
        (StatusCode::OK, "ann idp-1".to_owned())
    );
    assert_eq!(
        call(&router, "/maybe", None).await,
        (StatusCode::OK, "anonymous".to_owned())
    );
    for (changes, status, reason) in [
        (
            json!({"iss": "https://evil.example"}),
            StatusCode::UNAUTHORIZED,
            "wrong_issuer",
        ),
        (
            json!({"aud": "billing"}),
            StatusCode::FORBIDDEN,
            "wrong_audience",
        ),
        (json!({"exp": now - 600}), StatusCode::GONE, "expired"),
        (
            json!({"nbf": now + 600}),
            StatusCode::UNAUTHORIZED,
            "not_yet_valid",
        ),
        (json!({"exp": "soon"}), StatusCode::BAD_REQUEST, "malformed"),
        (json!({"sub": 7}), StatusCode::BAD_REQUEST, "invalid_value"),
    ] {
        let token = mint(changes.clone());
        for path in ["/me", "/maybe"] {
            let (got, body) = call(&router, path, Some(&token)).await;
            assert_eq!(got, status, "{changes}: {body}");
            let body: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(body["reason"], reason, "{changes}");
            for part in token.split('.') {
                assert!(
                    !body.to_string().contains(part),
                    "{changes}: the token leaked"
                );
            }
        }
    }
    let other = SigningKey::generate(JoseAlgorithm::Es256).unwrap();
    let forged = jose::sign(
        "idp-1",
        &other,
        json!({"iss": "https://idp.example", "aud": "orders", "sub": "root", "exp": now + 600})
            .to_string()
            .as_bytes(),
    );
    let (status, body) = call(&router, "/me", Some(&forged)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("bad_signature"), "{body}");
    let (status, body) = call(&router, "/me", None).await;
    assert_eq!(
        (status, body.contains("missing_token")),
        (StatusCode::UNAUTHORIZED, true)
    );
}
