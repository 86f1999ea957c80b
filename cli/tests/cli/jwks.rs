//! An issuer's JWKS from the command line: `keyring jwks-fetch URL` (the keyring it gives,
//! each key taken and refused) and `verify --jwks URL --issuer ISS --audience AUD TOKEN`.

use serde_json::json;
use tokenring::jose::{self, JoseAlgorithm, Jwk, SigningKey};
use tokenring_test_support::http_server::{HttpServer, Reply};

use super::{fails, run};

#[test]
fn an_issuers_jwks_fetched_and_its_tokens_verified() {
    let key = SigningKey::generate(JoseAlgorithm::EdDsa).unwrap();
    let mut jwks = json!({"keys": [Jwk::public("idp-1", &key.public_key())]});
    jwks["keys"]
        .as_array_mut()
        .unwrap()
        .push(json!({"kty": "EC", "crv": "P-384", "kid": "p384", "x": "AA", "y": "AA"}));
    let server = HttpServer::start(Reply::json(&jwks.to_string(), None, None));
    let url = server.url("/jwks");

    let fetched = run(&["keyring", "jwks-fetch", &url]);
    assert_eq!(fetched.code, 0, "{}", fetched.stderr);
    let keyring: serde_json::Value = serde_json::from_str(&fetched.stdout).unwrap();
    assert_eq!(keyring["keys"][0]["id"], "idp-1");
    assert_eq!(keyring["keys"][0]["algorithm"], "EdDSA");
    assert!(keyring["keys"][0].get("secret").is_none());
    assert!(
        fetched.stderr.contains("taken \"idp-1\": EdDSA"),
        "{}",
        fetched.stderr
    );
    assert!(
        fetched
            .stderr
            .contains("refused key \"p384\" (keys[1]): kty \"EC\" crv \"P-384\" is not supported"),
        "{}",
        fetched.stderr
    );

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims =
        json!({"iss": "https://idp.example", "aud": "orders", "sub": "ann", "exp": now + 600});
    let token = jose::sign("idp-1", &key, claims.to_string().as_bytes());
    let verify = |issuer: &str, audience: &str| {
        run(&[
            "verify",
            "--jwks",
            &url,
            "--issuer",
            issuer,
            "--audience",
            "billing",
            "--audience",
            audience,
            &token,
        ])
    };
    let verified = verify("https://idp.example", "orders");
    assert_eq!(verified.code, 0, "{}", verified.stderr);
    let printed: serde_json::Value = serde_json::from_str(&verified.stdout).unwrap();
    assert_eq!(printed, claims);
    let other = verify("https://other.example", "orders");
    assert_eq!(other.code, 1);
    assert!(
        other
            .stderr
            .contains("token rejected: the token is from another issuer"),
        "{}",
        other.stderr
    );
    let elsewhere = verify("https://idp.example", "shipping");
    assert_eq!(elsewhere.code, 1);
    assert!(
        elsewhere.stderr.contains("another audience"),
        "{}",
        elsewhere.stderr
    );

    // Usage: --jwks needs --issuer and --audience, and excludes --keyring.
    let usage = run(&["verify", "--jwks", &url, &token]);
    assert_eq!(usage.code, 2, "{}", usage.stderr);
    let usage = run(&[
        "verify",
        "--jwks",
        &url,
        "--keyring",
        "x.json",
        "--issuer",
        "i",
        "--audience",
        "a",
        &token,
    ]);
    assert_eq!(usage.code, 2, "{}", usage.stderr);
    // Plain http to another host is refused.
    fails(
        &["keyring", "jwks-fetch", "http://issuer.example/jwks"],
        "a JWKS URL must be https://",
    );
}
