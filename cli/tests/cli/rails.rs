//! `tokenring rails …`: Rails tokens, encrypted messages and cookies, and keeping their secrets off the command line.

use super::*;

#[test]
fn rails_sign_and_verify() {
    fn strs(args: &[String]) -> Vec<&str> {
        args.iter().map(String::as_str).collect()
    }
    // A signed_id minted by real Rails 7.2 (tests/vectors/rails-7.2.json).
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/vectors/rails-7.2.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let skb = doc["secret_key_base"].as_str().unwrap().to_owned();
    let token = doc["records"][0]["tokens"][1]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let key: Vec<String> = [
        "--secret-key-base",
        &skb,
        "--salt",
        "active_record/signed_id",
        "--digest",
        "SHA256",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let with = |command: &str, extra: &[&str]| -> Vec<String> {
        let mut args = vec!["rails".to_owned(), command.to_owned()];
        args.extend(key.iter().cloned());
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    assert_eq!(
        ok(&strs(&with(
            "verify",
            &["--purpose", "user/password_reset", &token]
        )))
        .trim(),
        "1"
    );
    fails(
        &strs(&with(
            "verify",
            &["--purpose", "user/email_confirm", &token],
        )),
        "purpose mismatch",
    );
    fails(&strs(&with("verify", &[&token])), "purpose mismatch");
    fails(
        &strs(&with(
            "verify",
            &[
                "--kdf-digest",
                "SHA1",
                "--purpose",
                "user/password_reset",
                &token,
            ],
        )),
        "bad signature",
    );

    // Minted here, read back; an older secret is accepted with --accept, in order.
    let minted = ok(&strs(&with(
        "sign",
        &[
            "--url-safe",
            "--purpose",
            "p",
            "--expires-in",
            "1h",
            r#"{"a":1}"#,
        ],
    )));
    assert!(!minted.contains('=') && !minted.contains('+'), "{minted}");
    assert_eq!(
        ok(&strs(&with("verify", &["--purpose", "p", minted.trim()]))).trim(),
        r#"{"a":1}"#
    );
    let old = ok(&[
        "rails",
        "sign",
        "--secret",
        "00112233",
        "--legacy-envelope",
        "--purpose",
        "p",
        "7",
    ]);
    let r = run(&strs(&with(
        "verify",
        &[
            "--purpose",
            "p",
            "--accept",
            "secret=ffff",
            "--accept",
            "secret=00112233,digest=SHA1",
            old.trim(),
        ],
    )));
    assert_eq!((r.code, r.stdout.trim()), (0, "7"));
    assert!(r.stderr.contains("--accept #2"), "{}", r.stderr);
    fails(
        &strs(&with("verify", &["--accept", "secret=zz", old.trim()])),
        "hex",
    );
    assert_eq!(run(&["rails", "verify", "tok"]).code, 2);
    let expired = tokenring::rails::RailsVerifier::new(tokenring::rails::RailsConfig::new(
        tokenring::Secret::from_bytes([0u8]),
    ))
    .generate(
        &1,
        tokenring::rails::RailsOptions::new().expires_at(std::time::UNIX_EPOCH),
    )
    .unwrap();
    fails(&["rails", "verify", "--secret", "00", &expired], "expired");
}

/// `rails verify` takes its token exactly as given (Rails refuses a trailing newline);
/// `-` reads it from standard input, dropping one trailing newline. `--max-len` raises the
/// 4096-byte cap; `--json active-support` escapes as ActiveSupport::JSON does.
#[test]
fn rails_tokens_as_given_caps_and_json_styles() {
    let token = ok(&[
        "rails",
        "sign",
        "--secret",
        "00112233",
        "--purpose",
        "p",
        "7",
    ]);
    let token = token.trim_end_matches('\n');
    let verify = ["rails", "verify", "--secret", "00112233", "--purpose", "p"];
    fn with<'a>(verify: &[&'a str], last: &'a str) -> Vec<&'a str> {
        [verify, &[last]].concat()
    }
    assert_eq!(ok(&with(&verify, token)).trim(), "7");
    let newline = format!("{token}\n");
    fails(&with(&verify, &newline), "whitespace before or after");
    tokenring()
        .args(with(&verify, "-"))
        .write_stdin(format!("{token}\n"))
        .assert()
        .success()
        .stdout("7\n");
    tokenring()
        .args(with(&verify, "-"))
        .write_stdin(format!("{token}\n\n"))
        .assert()
        .code(1);
    fails(
        &["rails", "verify", "--secret-file", "-", "-"],
        "the secret or the token, not both",
    );

    let big = format!("\"{}\"", "x".repeat(4000));
    fails(
        &["rails", "sign", "--secret", "00", &big],
        "over the limit of 4096",
    );
    let minted = ok(&["rails", "sign", "--secret", "00", "--max-len", "8192", &big]);
    fails(
        &["rails", "verify", "--secret", "00", minted.trim()],
        "over the limit of 4096",
    );
    let verified = ok(&[
        "rails",
        "verify",
        "--secret",
        "00",
        "--max-len",
        "8192",
        minted.trim(),
    ]);
    assert_eq!(verified.trim(), big);

    let html = r#""<b>&</b>""#;
    let decode = |token: &str| {
        let data = token.trim().split("--").next().unwrap().to_owned();
        String::from_utf8(
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, data).unwrap(),
        )
        .unwrap()
    };
    let ruby = ok(&["rails", "sign", "--secret", "00", html]);
    assert_eq!(decode(&ruby), html);
    let active_support = ok(&[
        "rails",
        "sign",
        "--secret",
        "00",
        "--json",
        "active-support",
        html,
    ]);
    assert_eq!(
        decode(&active_support),
        r#""\u003cb\u003e\u0026\u003c/b\u003e""#
    );
    assert_eq!(
        run(&["rails", "sign", "--secret", "00", "--json", "yaml", "1"]).code,
        2
    );
}

/// `rails encrypt|decrypt`: both ciphers round-trip with purpose and expiry, the library
/// reads what the CLI wrote, and bad keys and tampered messages are refused with one line.
#[test]
fn rails_encrypt_and_decrypt() {
    use tokenring::rails::{EncryptorConfig, RailsEncryptor};
    let key = "11".repeat(32);
    for cipher in ["aes-256-gcm", "aes-256-cbc"] {
        let message = ok(&[
            "rails",
            "encrypt",
            "--secret",
            &key,
            "--cipher",
            cipher,
            "--purpose",
            "p",
            "--expires-in",
            "1h",
            r#"{"a":[1,"<&>"]}"#,
        ]);
        let message = message.trim();
        let decrypt = |purpose: &str, message: &str| {
            run(&[
                "rails",
                "decrypt",
                "--secret",
                &key,
                "--cipher",
                cipher,
                "--purpose",
                purpose,
                message,
            ])
        };
        let r = decrypt("p", message);
        assert_eq!(
            (r.code, r.stdout.trim()),
            (0, r#"{"a":[1,"<&>"]}"#),
            "{}",
            r.stderr
        );
        assert!(decrypt("q", message).stderr.contains("purpose mismatch"));
        let mut tampered = message.as_bytes().to_vec();
        tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
        let r = decrypt("p", std::str::from_utf8(&tampered).unwrap());
        assert_eq!(r.code, 1);
        assert!(
            r.stderr.contains("tokenring: message rejected:"),
            "{}",
            r.stderr
        );
    }
    let message = ok(&["rails", "encrypt", "--secret", &key, "7"]);
    let config = EncryptorConfig::new(tokenring::Secret::from_bytes([0x11; 32])).unwrap();
    let read = RailsEncryptor::new(config)
        .decrypt::<u8>(message.trim(), None)
        .unwrap();
    assert_eq!(read.value, 7);
    fails(
        &["rails", "encrypt", "--secret", "00112233", "1"],
        "secret is 4 bytes; the algorithm takes exactly 32",
    );
    fails(
        &[
            "rails",
            "encrypt",
            "--secret",
            &key,
            "--sign-salt",
            "s",
            "1",
        ],
        "for --cipher aes-256-cbc",
    );
    // Derived from a secret_key_base: 32 bytes unless told otherwise.
    let skb = "0123456789abcdef".repeat(8);
    let derived = [
        "--secret-key-base",
        skb.as_str(),
        "--salt",
        "authenticated encrypted cookie",
    ];
    let message = ok(&[&["rails", "encrypt"][..], &derived, &["42"]].concat());
    let decrypted = ok(&[&["rails", "decrypt"][..], &derived, &[message.trim()]].concat());
    assert_eq!(decrypted.trim(), "42");
}

/// `rails cookie read|write`: what the CLI writes, the library's jar reads (and the reverse),
/// under the cookie's own name only; the escaped value round-trips.
#[test]
fn rails_cookies() {
    use tokenring::rails::{CookieConfig, RailsCookies, RailsVersion};
    let dir = tempfile::tempdir().unwrap();
    let skb = "f00d".repeat(32);
    let file = dir.path().join("skb");
    std::fs::write(&file, format!("{skb}\n")).unwrap();
    let file = file.to_str().unwrap();
    let jar = |kind: &str, name: &str| {
        vec![
            "rails".to_owned(),
            "cookie".to_owned(),
            kind.to_owned(),
            "--secret-key-base-file".to_owned(),
            file.to_owned(),
            "--name".to_owned(),
            name.to_owned(),
        ]
    };
    let library = RailsCookies::new(&skb, &CookieConfig::for_version(RailsVersion::V7_2)).unwrap();
    for kind in ["--signed", "--encrypted"] {
        let mut write = jar("write", "_app_session");
        write.extend([
            kind.to_owned(),
            "--expires-in".to_owned(),
            "1h".to_owned(),
            r#"{"user_id":7}"#.to_owned(),
        ]);
        let write: Vec<&str> = write.iter().map(String::as_str).collect();
        let value = ok(&write);
        let value = value.trim();
        assert!(!value.contains(['+', '/', '=']), "URL-escaped: {value}");
        let session = if kind == "--signed" {
            library.read_signed::<Value>("_app_session", value)
        } else {
            library.read_encrypted::<Value>("_app_session", value)
        };
        assert_eq!(session.unwrap().value["user_id"], 7);

        let read = |name: &str, value: &str| {
            let mut args = jar("read", name);
            args.extend([kind.to_owned(), value.to_owned()]);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run(&args)
        };
        let r = read("_app_session", value);
        assert_eq!(
            (r.code, r.stdout.trim()),
            (0, r#"{"user_id":7}"#),
            "{}",
            r.stderr
        );
        let r = read("other", value);
        assert_eq!(r.code, 1);
        assert!(
            r.stderr.contains("cookie rejected: purpose mismatch"),
            "{}",
            r.stderr
        );

        let written = if kind == "--signed" {
            library.write_signed("flash", &"hi", None)
        } else {
            library.write_encrypted("flash", &"hi", None)
        }
        .unwrap();
        let r = read("flash", &written);
        assert_eq!((r.code, r.stdout.trim()), (0, r#""hi""#), "{}", r.stderr);
    }
    let mut neither = jar("read", "x");
    neither.push("v".to_owned());
    let neither: Vec<&str> = neither.iter().map(String::as_str).collect();
    assert_eq!(run(&neither).code, 2, "--signed or --encrypted is required");
}

/// Secrets come from files or standard input, never only from argv; an empty
/// secret_key_base (an unset variable) is refused instead of minting forgeable tokens.
#[test]
fn rails_secrets_stay_off_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let skb = "ab".repeat(64);
    let skb_file = dir.path().join("skb");
    std::fs::write(&skb_file, format!("{skb}\n")).unwrap();
    let f = skb_file.to_str().unwrap();
    let common = ["--salt", "active_record/signed_id", "--purpose", "p"];

    let by_file = run(&[
        &["rails", "sign", "--secret-key-base-file", f][..],
        &common,
        &["7"],
    ]
    .concat());
    assert_eq!(by_file.code, 0, "{}", by_file.stderr);
    assert!(!by_file.stderr.contains("warning"), "{}", by_file.stderr);
    let by_argv = run(&[
        &["rails", "sign", "--secret-key-base", &skb][..],
        &common,
        &["7"],
    ]
    .concat());
    assert_eq!(
        by_argv.stdout, by_file.stdout,
        "the trailing newline is dropped"
    );
    assert!(
        by_argv.stderr.contains("visible to every local user"),
        "{}",
        by_argv.stderr
    );

    // Standard input, as `printenv SECRET_KEY_BASE | tokenring rails verify --secret-key-base-file -`.
    let token = by_file.stdout.trim().to_owned();
    let verified = tokenring()
        .args(
            [
                &["rails", "verify", "--secret-key-base-file", "-"][..],
                &common,
                &[&token],
            ]
            .concat(),
        )
        .write_stdin(format!("{skb}\n"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&verified.stdout).trim(), "7");

    // Empty: an unset variable.
    fails(
        &[
            &["rails", "sign", "--secret-key-base", ""][..],
            &common,
            &["7"],
        ]
        .concat(),
        "empty",
    );
    std::fs::write(&skb_file, "\n").unwrap();
    fails(
        &[
            &["rails", "sign", "--secret-key-base-file", f][..],
            &common,
            &["7"],
        ]
        .concat(),
        "empty",
    );
    std::fs::write(&skb_file, "short").unwrap();
    let short = run(&[
        &["rails", "sign", "--secret-key-base-file", f][..],
        &common,
        &["7"],
    ]
    .concat());
    assert_eq!(short.code, 0);
    assert!(
        short.stderr.contains("only 5 characters"),
        "{}",
        short.stderr
    );

    // --accept reads a secret file; a bad part is never echoed.
    let hex_file = dir.path().join("old.hex");
    std::fs::write(&hex_file, "00112233\n").unwrap();
    let old = ok(&[
        "rails",
        "sign",
        "--secret-file",
        hex_file.to_str().unwrap(),
        "--purpose",
        "p",
        "7",
    ]);
    let accept = format!("secret-file={}", hex_file.display());
    let r = run(&[
        "rails",
        "verify",
        "--secret",
        "ffff",
        "--purpose",
        "p",
        "--accept",
        &accept,
        old.trim(),
    ]);
    assert_eq!((r.code, r.stdout.trim()), (0, "7"), "{}", r.stderr);
    let stderr = fails(
        &[
            "rails",
            "verify",
            "--secret",
            "ffff",
            "--accept",
            "secrt=c2VjcmV0c2VjcmV0",
            old.trim(),
        ],
        "part 1 is not one of these",
    );
    assert!(
        !stderr.contains("c2VjcmV0c2VjcmV0") && !stderr.contains("secrt"),
        "{stderr}"
    );
}

/// `--accept` inherits what it leaves unset from the primary, as Rails' `rotate` does; a raw
/// secret that is empty is refused naming its file, and a short one is warned about, as a
/// `secret_key_base` is.
#[test]
fn rails_accept_inherits_and_raw_secrets_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let old = file("old.hex", &format!("{}\n", "ab".repeat(64)));
    let new = file("new.hex", &"cd".repeat(64));
    let token = ok(&[
        "rails",
        "sign",
        "--secret-file",
        &old,
        "--digest",
        "SHA256",
        "--url-safe",
        r#"{"a":"??>>"}"#,
    ]);
    let token = token.trim_end();
    let verify = |accept: &str| {
        run(&[
            "rails",
            "verify",
            "--secret-file",
            &new,
            "--digest",
            "SHA256",
            "--url-safe",
            "--accept",
            accept,
            token,
        ])
    };
    let inherited = verify(&format!("secret-file={old}"));
    assert_eq!(inherited.code, 0, "{}", inherited.stderr);
    assert_eq!(inherited.stdout.trim(), r#"{"a":"??>>"}"#);
    // Said explicitly, another digest still overrides the primary's.
    assert_eq!(verify(&format!("secret-file={old},digest=SHA1")).code, 1);

    let empty = file("empty.hex", "");
    fails(
        &["rails", "sign", "--secret-file", &empty, "1"],
        &format!("the secret from {empty} is empty"),
    );
    let short = file("short.hex", "ab\n");
    let r = run(&["rails", "sign", "--secret-file", &short, "1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("warning: the secret from {short} is only 1 bytes")),
        "{}",
        r.stderr
    );
    let long = run(&["rails", "sign", "--secret-file", &new, "1"]);
    assert!(!long.stderr.contains("warning"), "{}", long.stderr);
}
