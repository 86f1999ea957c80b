//! Tokens minted by real ActiveSupport/ActiveRecord 6.1 and 7.2 (tests/rails/mint.rb,
//! stored in tests/vectors/rails-*.json): each verifies here exactly as it did in Rails, and
//! minting the same value with the same options gives the same bytes.
#![cfg(feature = "rails")]

use crate::common::{hex_decode, hex_encode};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokenring::Secret;
use tokenring::clock::ManualClock;
use tokenring::rails::{
    Envelope, KdfDigest, RailsApp, RailsConfig, RailsError, RailsKeyGenerator, RailsOptions,
    RailsVerifier, RailsVersion, signed_id_purpose, token_for_purpose,
};

fn load(version: &str) -> Value {
    let path = format!(
        "{}/tests/vectors/rails-{version}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn time(text: &str) -> std::time::SystemTime {
    humantime::parse_rfc3339(text).unwrap()
}

/// Builds the Rails purpose of one record token.
type PurposeOf = Box<dyn Fn(&Value) -> String>;

fn check(version: &str, app_version: RailsVersion) {
    let doc = load(version);
    let skb = doc["secret_key_base"].as_str().unwrap();
    let clock = Arc::new(ManualClock::new(time(doc["now"].as_str().unwrap())));

    for k in doc["key_generator"].as_array().unwrap() {
        let digest: KdfDigest = k["kdf_digest"].as_str().unwrap().parse().unwrap();
        let generator =
            RailsKeyGenerator::new(skb, digest, k["iterations"].as_u64().unwrap() as u32).unwrap();
        let key = generator.generate_key(
            k["salt"].as_str().unwrap(),
            k["key_size"].as_u64().unwrap() as usize,
        );
        assert_eq!(
            hex_encode(key.expose()),
            k["key_hex"],
            "{version} key generator {k}"
        );
    }

    let secret = Secret::from_bytes(hex_decode(doc["secret_hex"].as_str().unwrap()));
    let mut checked = 0;
    for v in doc["vectors"].as_array().unwrap() {
        let config = RailsConfig::new(secret.clone())
            .digest(v["digest"].as_str().unwrap().parse().unwrap())
            .url_safe(v["url_safe"].as_bool().unwrap())
            .envelope(if v["envelope"] == "current" {
                Envelope::Current
            } else {
                Envelope::Legacy
            });
        let verifier = RailsVerifier::new(config).clock(clock.clone());
        let token = v["token"].as_str().unwrap();
        let purpose = v["purpose"].as_str();
        let value = &v["value"];

        let result = verifier.verify::<Value>(token, purpose);
        if v["expired"].as_bool().unwrap() {
            assert!(
                matches!(result, Err(RailsError::Expired { .. })),
                "{version} {v}: {result:?}"
            );
        } else {
            assert_eq!(
                result.as_ref().map(|r| &r.value),
                Ok(value),
                "{version} {v}"
            );
            assert_eq!(v["verified"], *value);
        }
        for (asked, expected) in [
            (None, &v["verified_without_purpose"]),
            (Some("other"), &v["verified_other_purpose"]),
        ] {
            let result = verifier.verify::<Value>(token, asked);
            match result {
                Ok(got) => assert_eq!(&got.value, expected, "{version} {asked:?} {v}"),
                // Rails answers nil for a failure; a signed nil is indistinguishable.
                Err(e) => assert!(
                    expected.is_null(),
                    "{version} {asked:?}: {e} but Rails gave {expected} for {v}"
                ),
            }
        }

        let mut options = RailsOptions::new();
        if let Some(p) = purpose {
            options = options.purpose(p);
        }
        if let Some(at) = v["expires_at"].as_str() {
            options = options.expires_at(time(at));
        }
        assert_eq!(
            verifier.generate(value, options).unwrap(),
            token,
            "{version} minting {v}"
        );
        checked += 1;
    }
    assert!(checked > 40, "{checked}");

    let app = RailsApp::new(skb, app_version).unwrap();
    for record in doc["records"].as_array().unwrap() {
        let id = record["id"].as_u64().unwrap();
        let (config, purpose_of): (RailsConfig, PurposeOf) = match record["kind"].as_str().unwrap()
        {
            "signed_id" => (
                app.signed_id_config(),
                Box::new(|t: &Value| signed_id_purpose("User", t["purpose"].as_str())),
            ),
            _ => (
                app.token_for_config().unwrap(),
                Box::new(|t: &Value| {
                    token_for_purpose(
                        "User",
                        t["purpose"].as_str().unwrap(),
                        t["expires_in"].as_u64().map(Duration::from_secs),
                    )
                }),
            ),
        };
        let verifier = RailsVerifier::new(config).clock(clock.clone());
        for t in record["tokens"].as_array().unwrap() {
            let purpose = purpose_of(t);
            let token = t["token"].as_str().unwrap();
            let expected: Value = if record["kind"] == "signed_id" {
                id.into()
            } else if t["purpose"] == "password_reset" {
                let salt = record["password_salt"].as_str().unwrap();
                serde_json::json!([id, &salt[salt.len() - 10..]])
            } else {
                serde_json::json!([id])
            };
            let verified = verifier.verify::<Value>(token, Some(&purpose)).unwrap();
            assert_eq!(verified.value, expected, "{version} {record}");
            assert_eq!(t["found"], id);
            let mut options = RailsOptions::new().purpose(&purpose);
            if let Some(secs) = t["expires_in"].as_u64() {
                options = options.expires_in(Duration::from_secs(secs));
            }
            assert_eq!(
                verifier.generate(&expected, options).unwrap(),
                token,
                "{version} minting {t}"
            );
        }
    }
}

#[test]
fn rails_6_1_vectors() {
    check("6.1", RailsVersion::V6_1);
}

#[test]
fn rails_7_2_vectors() {
    check("7.2", RailsVersion::V7_2);
}
