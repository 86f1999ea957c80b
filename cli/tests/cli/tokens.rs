//! `tokenring sign`, `verify` and `inspect`: minting, checking, expiry, and what a token reader refuses.

use super::*;

#[test]
fn sign_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (_, k) = keyring_file(dir.path());
    let token = ok(&[
        "sign",
        "--keyring",
        &k,
        "--salt",
        "reset",
        "--purpose",
        "login",
        "--expires-in",
        "15m",
        r#"{"user":42}"#,
    ]);
    let token = token.trim();
    assert_eq!(kid(token), "first");
    let value = ok(&[
        "verify",
        "--keyring",
        &k,
        "--salt",
        "reset",
        "--purpose",
        "login",
        token,
    ]);
    assert_eq!(value.trim(), r#"{"user":42}"#);

    fails(
        &[
            "verify",
            "--keyring",
            &k,
            "--salt",
            "reset",
            "--purpose",
            "other",
            token,
        ],
        "purpose mismatch",
    );
    fails(
        &["verify", "--keyring", &k, "--salt", "reset", token],
        "purpose mismatch",
    );
    fails(
        &[
            "verify",
            "--keyring",
            &k,
            "--salt",
            "other",
            "--purpose",
            "login",
            token,
        ],
        "bad signature",
    );
    let mut tampered = token.to_owned();
    tampered.insert(12, 'A');
    fails(
        &[
            "verify",
            "--keyring",
            &k,
            "--salt",
            "reset",
            "--purpose",
            "login",
            &tampered,
        ],
        "token rejected",
    );
    fails(&["verify", "--keyring", &k, "garbage"], "malformed token");
    let huge = "v1.first.".to_owned() + &"A".repeat(10_000);
    fails(&["verify", "--keyring", &k, &huge], "over the limit");

    // From stdin.
    tokenring()
        .args([
            "verify",
            "--keyring",
            &k,
            "--salt",
            "reset",
            "--purpose",
            "login",
            "-",
        ])
        .write_stdin(format!("{token}\n"))
        .assert()
        .success()
        .stdout("{\"user\":42}\n");
}

#[test]
fn expired_tokens_and_leeway() {
    let dir = tempfile::tempdir().unwrap();
    let (path, k) = keyring_file(dir.path());
    // `sign` refuses to mint a dead token (below); the library mints one for the test.
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_577_836_800);
    let token = tokenring::Verifier::new(
        tokenring::Keyring::from_file(&path).unwrap(),
        tokenring::Verifier::DEFAULT_SALT,
    )
    .generate(&1, tokenring::TokenOptions::new().expires_at(at))
    .unwrap();
    fails(
        &["verify", "--keyring", &k, &token],
        "expired at 2020-01-01T00:00:00Z",
    );
    // Minting a token dead on arrival is bad usage, for every command that mints.
    let key32 = "11".repeat(32);
    let mut minting = vec![vec!["sign", "--keyring", &k]];
    if cfg!(feature = "rails") {
        minting.push(vec!["rails", "sign", "--secret", "00"]);
        minting.push(vec!["rails", "encrypt", "--secret", &key32]);
    }
    for command in minting {
        for expiry in [
            ["--expires-at", "2020-01-01T00:00:00Z"],
            ["--expires-in", "0s"],
        ] {
            let r = run(&[&command[..], &expiry[..], &["1"]].concat());
            assert_eq!(r.code, 2, "{command:?} {expiry:?}: {}", r.stderr);
            assert!(r.stderr.contains("dead when minted"), "{}", r.stderr);
        }
    }
    let fresh = ok(&["sign", "--keyring", &k, "--expires-in", "1h", "\"v\""]);
    assert_eq!(
        ok(&["verify", "--keyring", &k, fresh.trim()]).trim(),
        "\"v\""
    );
}

#[test]
fn sign_refuses_bad_json_and_missing_keyrings() {
    let dir = tempfile::tempdir().unwrap();
    let (_, k) = keyring_file(dir.path());
    fails(&["sign", "--keyring", &k, "{not json"], "not JSON");
    fails(
        &["sign", "--keyring", "/nonexistent/k.json", "1"],
        "cannot read keyring file",
    );
    fails(
        &["verify", "--keyring", "/nonexistent/k.json", "v1.a.b.c"],
        "cannot read keyring file",
    );
}

#[test]
fn inspect_decodes_and_says_it_did_not_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (_, k) = keyring_file(dir.path());
    let token = ok(&[
        "sign",
        "--keyring",
        &k,
        "--purpose",
        "p",
        "--expires-in",
        "1h",
        "[1,2]",
    ]);
    tokenring()
        .args(["inspect", token.trim()])
        .assert()
        .success()
        .stderr(predicate::str::contains("NOT VERIFIED"))
        .stdout(predicate::str::contains("\"verified\": false"));
    let claims: Value = serde_json::from_str(&ok(&["inspect", token.trim()])).unwrap();
    assert_eq!(claims["value"], serde_json::json!([1, 2]));
    assert_eq!(claims["purpose"], "p");
    assert_eq!(claims["key_id"], "first");
    assert_eq!(claims["tag_algorithm"], "HS256");
    assert_eq!(claims["expired"], false);
    fails(&["inspect", "v1.x"], "cannot decode");
}

#[test]
fn times_beyond_rfc3339_are_refused_or_printed_safely() {
    let dir = tempfile::tempdir().unwrap();
    let (_, k) = keyring_file(dir.path());
    fails(
        &["keyring", "add", &k, "--activates-in", "100000years"],
        "outside 1970 to 9999",
    );
    // A token may claim any expiry; inspect must still print it.
    let token = ok(&["sign", "--keyring", &k, "--expires-in", "100000years", "1"]);
    let claims: Value = serde_json::from_str(&ok(&["inspect", token.trim()])).unwrap();
    assert!(
        claims["expires_at"]
            .as_str()
            .unwrap()
            .starts_with("unix time "),
        "{claims}"
    );
    assert_eq!(ok(&["verify", "--keyring", &k, token.trim()]).trim(), "1");
}

/// One rule for whitespace around a token, for every command that reads one: as given on the
/// command line (surrounding whitespace refused, by name); from standard input, exactly one
/// trailing newline dropped.
#[test]
fn one_whitespace_rule_for_every_token_reader() {
    let dir = tempfile::tempdir().unwrap();
    let (_, k) = keyring_file(dir.path());
    let token = ok(&["sign", "--keyring", &k, "42"]);
    let token = token.strip_suffix('\n').unwrap();
    let mut readers: Vec<Vec<&str>> = vec![vec!["verify", "--keyring", &k], vec!["inspect"]];
    let key = "11".repeat(32);
    let rails_token;
    let rails_message;
    if cfg!(feature = "rails") {
        rails_token = ok(&["rails", "sign", "--secret", &key, "42"]);
        rails_message = ok(&["rails", "encrypt", "--secret", &key, "42"]);
        readers.push(vec!["rails", "verify", "--secret", &key]);
        readers.push(vec!["rails", "decrypt", "--secret", &key]);
    } else {
        (rails_token, rails_message) = (String::new(), String::new());
    }
    let tokens = [
        token,
        token,
        rails_token.trim_end(),
        rails_message.trim_end(),
    ];
    fn with<'a>(reader: &[&'a str], last: &'a str) -> Vec<&'a str> {
        [reader, &[last]].concat()
    }
    for (reader, token) in readers.iter().zip(tokens) {
        assert!(ok(&with(reader, token)).contains("42"), "{reader:?}");
        for wrapped in [
            format!("{token}\n"),
            format!(" {token}"),
            format!("{token} "),
            format!("\t{token}"),
        ] {
            fails(&with(reader, &wrapped), "whitespace before or after");
        }
        tokenring()
            .args(with(reader, "-"))
            .write_stdin(format!("{token}\r\n"))
            .assert()
            .success()
            .stdout(predicate::str::contains("42"));
        for extra in [format!("{token}\n\n"), format!(" {token}\n")] {
            tokenring()
                .args(with(reader, "-"))
                .write_stdin(extra)
                .assert()
                .code(1)
                .stderr(predicate::str::contains("whitespace before or after"));
        }
    }
    // An empty part is named, not counted wrong.
    let (head, _tag) = token.rsplit_once('.').unwrap();
    fails(
        &["inspect", &format!("{head}.")],
        "signature (after the last dot) is empty",
    );
    let kid = head.split('.').nth(1).unwrap();
    fails(
        &["inspect", &format!("v1.{kid}..AAAA")],
        "payload (between the key id and the last dot) is empty",
    );
}
