//! Rails' MessageEncryptor and cookie jars, judged both ways by real Rails 6.1 and 7.2
//! (`tests/rails/encrypted.rb`): messages and cookies tokenring makes are read by
//! ActiveSupport's `MessageEncryptor` and ActionDispatch's cookie jar (and session store);
//! those Rails makes — each cipher, with and without purpose and expiry, rotated, and every
//! byte tampered — are read by tokenring. Needs the Rails judges (see `rails_ruby::live`).

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use tokenring::Secret;
use tokenring::rails::{
    CookieConfig, EncryptorConfig, Envelope, PayloadProblem, RailsCookies, RailsDigest,
    RailsEncryptor, RailsError, RailsOptions, RailsVersion,
};

use crate::rails_ruby::{judge, live};

const SECRET: [u8; 32] = [0x11; 32];
const SIGN_SECRET: [u8; 64] = [0x22; 64];
const OLD_SECRET: [u8; 32] = [0x33; 32];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The encryptor configurations both sides build, as the Ruby script reads them.
fn encryptor_configs(version: RailsVersion) -> Vec<Value> {
    let modern = version == RailsVersion::V7_2;
    let mut configs = vec![
        json!({"name": "gcm", "cipher": "aes-256-gcm", "envelope": "legacy"}),
        json!({"name": "cbc-sha1", "cipher": "aes-256-cbc", "sign_secret": true, "envelope": "legacy"}),
        json!({"name": "cbc-sha256", "cipher": "aes-256-cbc", "sign_secret": true, "digest": "SHA256", "envelope": "legacy"}),
        json!({"name": "cbc-self-signed", "cipher": "aes-256-cbc", "envelope": "legacy"}),
    ];
    if modern {
        configs
            .push(json!({"name": "gcm-current", "cipher": "aes-256-gcm", "envelope": "current"}));
        configs.push(json!({"name": "gcm-url-safe", "cipher": "aes-256-gcm", "url_safe": true, "envelope": "current"}));
        configs.push(json!({"name": "cbc-url-safe", "cipher": "aes-256-cbc", "sign_secret": true, "url_safe": true, "envelope": "legacy"}));
    }
    configs
}

fn config_from(spec: &Value, secret: &[u8]) -> EncryptorConfig {
    let secret = Secret::from_bytes(secret.to_vec());
    let config = if spec["cipher"] == "aes-256-gcm" {
        EncryptorConfig::new(secret).unwrap()
    } else {
        let sign = (spec["sign_secret"] == true).then(|| Secret::from_bytes(SIGN_SECRET));
        let mut config = EncryptorConfig::cbc(secret, sign).unwrap();
        if let Some(digest) = spec["digest"].as_str() {
            config = config.digest(digest.parse::<RailsDigest>().unwrap());
        }
        config
    };
    let envelope = if spec["envelope"] == "current" {
        Envelope::Current
    } else {
        Envelope::Legacy
    };
    config.url_safe(spec["url_safe"] == true).envelope(envelope)
}

fn encryptor(spec: &Value, rotated: bool) -> RailsEncryptor {
    let encryptor = RailsEncryptor::new(config_from(spec, &SECRET));
    if rotated {
        encryptor.accept(config_from(spec, &OLD_SECRET))
    } else {
        encryptor
    }
}

fn values() -> Vec<Value> {
    vec![
        json!(42),
        json!("hé <&> \u{2028}"),
        json!({"user": {"id": 7, "roles": ["a", "b"]}, "n": null}),
    ]
}

/// Messages tokenring encrypts, each with the value Rails must read (null: none).
fn messages(version: RailsVersion) -> Vec<Value> {
    let mut out = Vec::new();
    for spec in encryptor_configs(version) {
        for (i, value) in values().iter().enumerate() {
            for purpose in [None, Some("login")] {
                for expires in [None, Some(3600i64), Some(-10)] {
                    let rotated = i == 1 && spec["cipher"] == "aes-256-gcm";
                    let secret = if rotated { OLD_SECRET } else { SECRET };
                    let mut options = RailsOptions::new();
                    if let Some(purpose) = purpose {
                        options = options.purpose(purpose);
                    }
                    let past = SystemTime::now() - Duration::from_secs(10);
                    match expires {
                        Some(seconds) if seconds > 0 => {
                            options = options.expires_in(Duration::from_secs(3600));
                        }
                        Some(_) => options = options.expires_at(past),
                        None => {}
                    }
                    let token = RailsEncryptor::new(config_from(&spec, &secret))
                        .encrypt(value, options)
                        .unwrap();
                    let valid = expires.is_none_or(|s| s > 0);
                    let mut message = spec.clone();
                    let name = format!("{}/{i}/{purpose:?}/{expires:?}", spec["name"]);
                    message["name"] = json!(name);
                    message["token"] = json!(token);
                    message["purpose"] = json!(purpose);
                    message["rotated"] = json!(rotated);
                    message["expect"] = if valid {
                        json!(value.to_string())
                    } else {
                        Value::Null
                    };
                    out.push(message.clone());
                    if purpose.is_some() && valid {
                        // Asked for another purpose, Rails reads nothing.
                        message["name"] = json!(format!("{name}/other purpose"));
                        message["purpose"] = json!("other");
                        message["expect"] = Value::Null;
                        out.push(message);
                    }
                }
            }
        }
    }
    out
}

/// The cookie configurations of apps on `version`'s defaults, as the Ruby script reads them.
fn cookie_apps(version: RailsVersion) -> Vec<Value> {
    let kdf = match version {
        RailsVersion::V6_1 => "SHA1",
        _ => "SHA256",
    };
    let app = |label: &str, authenticated: bool, metadata: bool, serializer: &str| {
        json!({"label": label, "secret_key_base": format!("{label}-{}", "7".repeat(120)),
               "kdf_digest": kdf, "authenticated": authenticated, "metadata": metadata,
               "serializer": serializer})
    };
    vec![
        app("gcm", true, true, "json"),
        app("cbc", false, true, "json"),
        app("no-metadata", true, false, "json"),
        app("hybrid", true, true, "hybrid"),
        app("marshal", true, true, "marshal"),
    ]
}

fn cookies_for(app: &Value, version: RailsVersion) -> RailsCookies {
    let mut config = CookieConfig::for_version(version);
    config.use_authenticated_cookie_encryption = app["authenticated"] == true;
    config.use_cookies_with_metadata = app["metadata"] == true;
    RailsCookies::new(app["secret_key_base"].as_str().unwrap(), &config).unwrap()
}

/// Cookies tokenring writes, each with the value Rails' jar must read.
fn cookies(version: RailsVersion) -> Vec<Value> {
    let mut out = Vec::new();
    let in_an_hour = SystemTime::now() + Duration::from_secs(3600);
    for app in cookie_apps(version) {
        if app["serializer"] == "marshal" {
            continue;
        }
        let jars = cookies_for(&app, version);
        for (i, value) in values().iter().enumerate() {
            for jar in ["signed", "encrypted"] {
                for expires in [None, Some(in_an_hour)] {
                    let name = format!("c{i}");
                    let written = if jar == "signed" {
                        jars.write_signed(&name, value, expires)
                    } else {
                        jars.write_encrypted(&name, value, expires)
                    }
                    .unwrap();
                    let label = format!("{}/{jar}/{i}/{}", app["label"], expires.is_some());
                    out.push(
                        json!({"app": app, "jar": jar, "name": name, "value": written,
                                    "expect": value.to_string(), "label": label}),
                    );
                    if app["metadata"] == true {
                        // Presented under another name, Rails' jar reads nothing.
                        out.push(json!({"app": app, "jar": jar, "name": "elsewhere",
                                        "value": written, "expect": null,
                                        "label": format!("{label}/renamed")}));
                    }
                }
            }
        }
    }
    out
}

fn both_ways(version: RailsVersion) {
    if !live() {
        return;
    }
    let session_app = &cookie_apps(version)[0];
    let session = cookies_for(session_app, version)
        .write_encrypted(
            "_app_session",
            &json!({"session_id": "0123456789abcdef", "user_id": 7, "name": "Ann <&>"}),
            None,
        )
        .unwrap();
    let input = json!({
        "secret_hex": hex(&SECRET), "sign_secret_hex": hex(&SIGN_SECRET),
        "old_secret_hex": hex(&OLD_SECRET),
        "messages": messages(version), "encryptor_configs": encryptor_configs(version),
        "cookies": cookies(version), "cookie_apps": cookie_apps(version),
        "session_cookie": session,
    });
    let label = match version {
        RailsVersion::V6_1 => "6.1",
        _ => "7.2",
    };
    let judged = judge(label, "encrypted.rb", &input);
    assert_eq!(
        judged["problems"],
        json!([]),
        "Rails {label} read tokenring's messages and cookies differently"
    );
    let rails_checked = judged["checked"].as_u64().unwrap();

    // Messages Rails encrypted.
    let mut read = 0;
    for message in judged["messages"].as_array().unwrap() {
        let name = message["name"].as_str().unwrap();
        let token = message["token"].as_str().unwrap();
        let encryptor = encryptor(message, message["rotated"] == true);
        let purpose = message["purpose"].as_str();
        let result = encryptor.decrypt::<Value>(token, purpose);
        if message["valid"] == true {
            let decrypted = result.unwrap_or_else(|e| panic!("{name}: {e}"));
            let expected: Value = serde_json::from_str(message["value"].as_str().unwrap()).unwrap();
            assert_eq!(decrypted.value, expected, "{name}");
            assert_eq!(
                decrypted.config,
                usize::from(message["rotated"] == true),
                "{name}"
            );
        } else {
            assert!(
                matches!(result, Err(RailsError::Expired { .. })),
                "{name}: {result:?}"
            );
        }
        read += 1;
    }
    // Every byte of one message of each configuration (data, iv, tag, digest) tampered.
    let mut tampered = 0;
    for message in judged["messages"].as_array().unwrap() {
        // (Ruby names them CONFIG/VALUE/PURPOSE/EXPIRY, nil printing as nothing.)
        if !message["name"].as_str().unwrap().ends_with("/0//") {
            continue;
        }
        let token = message["token"].as_str().unwrap();
        let encryptor = encryptor(message, false);
        for i in 0..token.len() {
            let mut bytes = token.as_bytes().to_vec();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(bytes).unwrap();
            assert!(
                encryptor.decrypt::<Value>(&changed, None).is_err(),
                "{} byte {i}",
                message["name"]
            );
            tampered += 1;
        }
    }

    // Cookies Rails wrote.
    let mut cookies_read = 0;
    for cookie in judged["cookies"].as_array().unwrap() {
        let label = cookie["label"].as_str().unwrap();
        let jars = cookies_for(&cookie["app"], version);
        let (name, value) = (
            cookie["name"].as_str().unwrap(),
            cookie["value"].as_str().unwrap(),
        );
        let result = if cookie["jar"] == "signed" {
            jars.read_signed::<Value>(name, value)
        } else {
            jars.read_encrypted::<Value>(name, value)
        };
        if cookie["app"]["serializer"] == "marshal" {
            assert_eq!(
                result.unwrap_err(),
                RailsError::BadPayload(PayloadProblem::Marshal),
                "{label}"
            );
        } else {
            let expected: Value = serde_json::from_str(cookie["expect"].as_str().unwrap()).unwrap();
            assert_eq!(
                result.unwrap_or_else(|e| panic!("{label}: {e}")).value,
                expected,
                "{label}"
            );
        }
        cookies_read += 1;
    }

    // The session cookie Rails' CookieStore wrote.
    let session = cookies_for(session_app, version)
        .read_encrypted::<Value>("_app_session", judged["session_cookie"].as_str().unwrap())
        .unwrap();
    assert_eq!(session.value["user_id"], 7);
    assert_eq!(session.value["name"], "Ann <&>");
    assert!(
        session.value["session_id"].is_string(),
        "{:?}",
        session.value
    );
    eprintln!(
        "Rails {label}: read {rails_checked} messages and cookies from tokenring as expected; \
         tokenring read {read} messages and {cookies_read} cookies from Rails, and refused \
         {tampered} tampered messages"
    );
    assert!(read > 50 && cookies_read > 20 && tampered > 300);
}

#[test]
fn rails_6_1_and_tokenring_encrypt_for_each_other() {
    both_ways(RailsVersion::V6_1);
}

#[test]
fn rails_7_2_and_tokenring_encrypt_for_each_other() {
    both_ways(RailsVersion::V7_2);
}
