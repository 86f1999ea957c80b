//! Key pairs from the command line: `--algorithm EdDSA|ES256`, the public keyring and the
//! JWKS, JWS signed, verified and inspected, a JWK imported — and PyJWT on the other side,
//! verifying with nothing but the JWKS the CLI prints.

use serde_json::{Value, json};
use tokenring_test_support::jose_libraries;

use super::{fails, ok};

/// A signing keyring of `algorithm` at `dir/ring.json` and its public keyring beside it.
fn rings(dir: &std::path::Path, algorithm: &str) -> (String, String) {
    let ring = dir.join("ring.json").to_str().unwrap().to_owned();
    let public = dir.join("public.json").to_str().unwrap().to_owned();
    ok(&[
        "keyring",
        "init",
        &ring,
        "--algorithm",
        algorithm,
        "--id",
        "k1",
    ]);
    ok(&["keyring", "public", &ring, "--output", &public]);
    (ring, public)
}

#[test]
fn key_pairs_sign_with_the_ring_and_verify_with_the_public_ring() {
    for algorithm in ["EdDSA", "ES256"] {
        let dir = tempfile::tempdir().unwrap();
        let (ring, public) = rings(dir.path(), algorithm);
        // `add` without --algorithm keeps the newest key's.
        ok(&[
            "keyring",
            "add",
            &ring,
            "--id",
            "k2",
            "--activates-in",
            "1h",
        ]);
        let list = ok(&["keyring", "list", &ring]);
        assert_eq!(list.matches(algorithm).count(), 2, "{list}");

        let text = std::fs::read_to_string(&public).unwrap();
        let document: Value = serde_json::from_str(&text).unwrap();
        assert!(!text.contains("secret"), "{text}");
        assert_eq!(document["keys"][0]["algorithm"], algorithm);
        assert_eq!(super::mode(std::path::Path::new(&public)), 0o600);

        let token = ok(&[
            "sign",
            "--keyring",
            &ring,
            "--purpose",
            "login",
            r#"{"user":1}"#,
        ]);
        let token = token.trim();
        assert_eq!(token.split('.').count(), 3, "{token}");
        let value = ok(&["verify", "--keyring", &public, "--purpose", "login", token]);
        assert_eq!(value.trim(), r#"{"user":1}"#);
        fails(
            &["verify", "--keyring", &public, "--purpose", "logout", token],
            "purpose",
        );
        // The public keyring cannot mint, whatever is asked.
        for args in [
            vec!["sign", "--keyring", public.as_str(), "1"],
            vec![
                "sign",
                "--keyring",
                public.as_str(),
                "--purpose",
                "login",
                "1",
            ],
        ] {
            fails(&args, "cannot sign");
        }
        // A second `public` replaces the file, atomically, with the same keys.
        ok(&["keyring", "public", &ring, "--output", &public]);
        let again = std::fs::read_to_string(&public).unwrap();
        assert!(again.contains("\"k2\""), "{again}");

        let jwks: Value = serde_json::from_str(&ok(&["keyring", "jwks", &ring])).unwrap();
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert_eq!(kids, ["k2", "k1"], "the pending key is published too");
        assert!(
            jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .all(|k| k.get("d").is_none())
        );
        assert_eq!(
            ok(&["keyring", "jwks", &public]),
            ok(&["keyring", "jwks", &ring])
        );

        let inspected: Value = serde_json::from_str(&ok(&["inspect", token])).unwrap();
        assert_eq!(inspected["format"], "JWS");
        assert_eq!(
            inspected["header"],
            json!({"alg": algorithm, "kid": "k1", "typ": "JWT"})
        );
        assert_eq!(inspected["value"], json!({"user": 1}));
        assert_eq!(inspected["purpose"], "login");
    }
}

#[test]
fn key_pair_options_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let ring = dir.path().join("ring.json").to_str().unwrap().to_owned();
    fails(
        &[
            "keyring",
            "init",
            &ring,
            "--algorithm",
            "ES256",
            "--bytes",
            "64",
        ],
        "fixed size",
    );
    let usage = super::run(&["keyring", "init", &ring, "--algorithm", "RS256"]);
    assert_eq!(usage.code, 2, "a usage error");
    assert!(
        usage
            .stderr
            .contains("RS256 keys verify only (an issuer's public keys: import one with --jwk)"),
        "{}",
        usage.stderr
    );
    ok(&["keyring", "init", &ring]);
    // A keyring of HMAC keys alone has no public face.
    fails(&["keyring", "public", &ring], "no keys");
    let jwk = dir.path().join("jwk.json");
    std::fs::write(&jwk, r#"{"kty": "oct", "k": "AAAA"}"#).unwrap();
    let jwk = jwk.to_str().unwrap();
    fails(
        &["keyring", "add", &ring, "--jwk", jwk],
        "refused: not a valid key for the algorithm (EdDSA, ES256 or RS256 public keys",
    );
    fails(
        &[
            "keyring",
            "add",
            &ring,
            "--jwk",
            jwk,
            "--algorithm",
            "EdDSA",
        ],
        "a JWK names its own",
    );
}

/// PyJWT and Node's `jose` verify what `tokenring sign` mints with only what `tokenring
/// keyring jwks` prints; `tokenring verify` accepts what they mint once the JWK is imported
/// with `keyring add --jwk`, and refuses a wrong purpose.
#[test]
fn jose_libraries_and_the_cli_read_each_other() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for library in jose_libraries::all() {
        for algorithm in ["EdDSA", "ES256"] {
            let what = format!("{} {algorithm}", library.name);
            let dir = tempfile::tempdir().unwrap();
            let (ring, _) = rings(dir.path(), algorithm);
            let jwks = dir.path().join("jwks.json");
            std::fs::write(&jwks, ok(&["keyring", "jwks", &ring])).unwrap();
            let token = ok(&[
                "sign",
                "--keyring",
                &ring,
                "--salt",
                "accounts",
                "--purpose",
                "login",
                "--expires-in",
                "10m",
                r#"{"user":7}"#,
            ]);
            let (accepted, said) = library.verify(&jwks, &token, "accounts");
            assert!(accepted, "{what}: {said}");
            let claims: Value = serde_json::from_str(&said).unwrap();
            assert_eq!(claims["dat"], json!({"user": 7}), "{what}");
            assert_eq!(claims["pur"], "login", "{what}");
            let refused = library.verify(&jwks, &token, "billing");
            assert_eq!(
                refused,
                (false, library.wrong_audience.to_owned()),
                "{what}"
            );

            // The other way: the library mints with a key of its own, imported as a JWK.
            let claims = json!({"dat": "hi", "pur": "login", "aud": "accounts", "exp": now + 600});
            let minted = library.mint(algorithm, "ext-1", &claims.to_string());
            let jwk_file = dir.path().join("ext.jwk");
            std::fs::write(&jwk_file, minted["jwk"].to_string()).unwrap();
            let jwk_file = jwk_file.to_str().unwrap();
            let theirs = minted["token"].as_str().unwrap();
            let verify = |purpose: &'static str| {
                [
                    "verify",
                    "--keyring",
                    ring.as_str(),
                    "--salt",
                    "accounts",
                    "--purpose",
                    purpose,
                    theirs,
                ]
            };
            fails(&verify("login"), "unknown key");
            ok(&[
                "keyring",
                "add",
                &ring,
                "--jwk",
                jwk_file,
                "--activates-in",
                "1h",
            ]);
            assert_eq!(ok(&verify("login")).trim(), r#""hi""#, "{what}");
            fails(&verify("logout"), "purpose");
            let list = ok(&["keyring", "list", &ring]);
            assert!(list.contains("ext-1"), "{list}");
        }
    }
}
