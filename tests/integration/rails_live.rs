//! The other direction: tokens minted by tokenring, judged by real ActiveSupport and
//! ActiveRecord (`verified`, `find_signed`, `find_by_token_for`). Needs Ruby with Rails
//! (tests/rails/setup.sh, which tests/setup.sh runs); without it the tests fail, naming the setup,
//! unless TOKENRING_SKIP_MISSING=1 asks to skip them (loudly).
#![cfg(feature = "rails")]

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use tokenring::Secret;
use tokenring::rails::{
    Envelope, RailsApp, RailsConfig, RailsDigest, RailsOptions, RailsVerifier, RailsVersion,
    signed_id_purpose, token_for_purpose,
};

use crate::rails_ruby::live;

const SECRET_KEY_BASE: &str = "tokenring-live-secret-key-base-not-a-real-one-0123456789";
const PASSWORD_SALT: &str = "$2a$12$zyxwvutsrqponmlkjihgfe";

fn judge(version: &str, input: &Value) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    std::fs::write(&path, serde_json::to_string_pretty(input).unwrap()).unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let output = Command::new(format!("{root}/tests/rails/ruby"))
        .args([
            version,
            &format!("{root}/tests/rails/verify.rb"),
            path.to_str().unwrap(),
        ])
        .output()
        .expect("tests/rails/ruby runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}");
    assert!(
        output.status.success(),
        "Rails {version} disagrees:\n{stderr}"
    );
    assert!(stdout.contains("all as expected"), "{stdout}");
}

fn messages(version: RailsVersion) -> (String, Vec<Value>) {
    let secret = Secret::random(64).unwrap();
    let secret_hex: String = secret.expose().iter().map(|b| format!("{b:02x}")).collect();
    let mut out = Vec::new();
    let values = [
        json!(42),
        json!("hé <&> \u{2028}"),
        json!({"user": {"id": 7, "roles": ["a", "b"]}, "n": null}),
    ];
    let modern = version == RailsVersion::V7_2;
    for digest in [
        RailsDigest::Sha1,
        RailsDigest::Sha256,
        RailsDigest::Sha384,
        RailsDigest::Sha512,
    ] {
        for url_safe in [false, true] {
            for envelope in [Envelope::Legacy, Envelope::Current] {
                // 6.1 reads neither url-safe tokens nor the 7.1 envelope.
                if !modern && (url_safe || envelope == Envelope::Current) {
                    continue;
                }
                let config = RailsConfig::new(secret.clone())
                    .digest(digest)
                    .url_safe(url_safe)
                    .envelope(envelope);
                let verifier = RailsVerifier::new(config);
                for (i, value) in values.iter().enumerate() {
                    for (purpose, expires_in) in [
                        (None, None),
                        (Some("login"), Some(3600)),
                        (Some("login"), None),
                        (None, Some(3600)),
                    ] {
                        let mut options = RailsOptions::new();
                        if let Some(p) = purpose {
                            options = options.purpose(p);
                        }
                        if let Some(secs) = expires_in {
                            options = options.expires_in(Duration::from_secs(secs));
                        }
                        let token = verifier.generate(value, options).unwrap();
                        let name = format!(
                            "{digest:?} url_safe={url_safe} {envelope:?} value {i} {purpose:?} {expires_in:?}"
                        );
                        let base = json!({"name": name, "digest": format!("{digest:?}").to_uppercase(),
                            "value": value, "token": token, "verify_url_safe": url_safe});
                        let with = |extra: Value| {
                            let mut m = base.clone();
                            m.as_object_mut()
                                .unwrap()
                                .extend(extra.as_object().unwrap().clone());
                            m
                        };
                        out.push(with(json!({"purpose": purpose, "expect_valid": true})));
                        out.push(with(json!({"name": format!("{name} other purpose"), "purpose": "other", "expect_valid": false})));
                        if purpose.is_some() {
                            out.push(with(json!({"name": format!("{name} no purpose"), "purpose": null, "expect_valid": false})));
                        }
                    }
                }
                // An expired token is refused by Rails too.
                let token = verifier
                    .generate(
                        &1,
                        RailsOptions::new()
                            .expires_at(std::time::SystemTime::now() - Duration::from_secs(5)),
                    )
                    .unwrap();
                out.push(json!({"name": "expired", "digest": format!("{digest:?}").to_uppercase(), "value": 1,
                    "token": token, "verify_url_safe": url_safe, "purpose": null, "expect_valid": false}));
            }
        }
    }
    if modern {
        // 7.2 reads only the alphabet it is configured with: a url-safe token whose length is
        // not a multiple of 4 is refused by a verifier without url_safe.
        let verifier = RailsVerifier::new(RailsConfig::new(secret.clone()).url_safe(true));
        let token = (0..)
            .map(|n| {
                verifier
                    .generate(&json!({"n": n}), RailsOptions::new())
                    .unwrap()
            })
            .find(|t| t.split("--").next().unwrap().len() % 4 != 0)
            .unwrap();
        out.push(
            json!({"name": "url-safe read as strict", "digest": "SHA1", "value": null,
            "token": token, "verify_url_safe": false, "purpose": null, "expect_valid": false}),
        );
    }
    (secret_hex, out)
}

fn records(version: RailsVersion) -> (Vec<Value>, Vec<Value>) {
    let app = RailsApp::new(SECRET_KEY_BASE, version).unwrap();
    let signed = RailsVerifier::new(app.signed_id_config());
    let mut signed_ids = Vec::new();
    for (purpose, expires_in, found) in [
        (None, None, Some(1)),
        (Some("password_reset"), Some(900), Some(1)),
    ] {
        let full = signed_id_purpose("User", purpose);
        let mut options = RailsOptions::new().purpose(&full);
        if let Some(secs) = expires_in {
            options = options.expires_in(Duration::from_secs(secs));
        }
        let token = signed.generate(&1, options).unwrap();
        signed_ids.push(json!({"name": format!("{purpose:?}"), "token": token, "purpose": purpose, "found": found}));
        // The same token asked for another purpose finds nothing.
        signed_ids.push(json!({"name": format!("{purpose:?} as email_confirm"), "token": token, "purpose": "email_confirm", "found": null}));
    }
    let mut tokens_for = Vec::new();
    if let Some(config) = app.token_for_config() {
        let purpose = token_for_purpose("User", "password_reset", Some(Duration::from_secs(900)));
        let token = RailsVerifier::new(config)
            .generate(
                &json!([1, &PASSWORD_SALT[PASSWORD_SALT.len() - 10..]]),
                RailsOptions::new()
                    .purpose(&purpose)
                    .expires_in(Duration::from_secs(900)),
            )
            .unwrap();
        tokens_for.push(json!({"name": "password_reset", "token": token}));
    }
    (signed_ids, tokens_for)
}

fn run(version: &str, rails: RailsVersion) {
    if !live() {
        return;
    }
    let (secret_hex, messages) = messages(rails);
    let (signed_ids, tokens_for) = records(rails);
    judge(
        version,
        &json!({
            "secret_key_base": SECRET_KEY_BASE, "secret_hex": secret_hex, "password_salt": PASSWORD_SALT,
            "messages": messages, "signed_ids": signed_ids, "tokens_for": tokens_for,
        }),
    );
}

#[test]
fn rails_6_1_accepts_what_tokenring_mints() {
    run("6.1", RailsVersion::V6_1);
}

#[test]
fn rails_7_2_accepts_what_tokenring_mints() {
    run("7.2", RailsVersion::V7_2);
}
