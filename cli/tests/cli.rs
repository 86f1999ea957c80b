//! The `tokenring` binary end to end: real processes, real files, exit codes.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use tokenring_test_support::process::{self, Run};

fn tokenring() -> Command {
    Command::cargo_bin("tokenring").unwrap()
}

fn run(args: &[&str]) -> Run {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tokenring"));
    process::run(command.args(args))
}

fn ok(args: &[&str]) -> String {
    run(args).ok(&format!("{args:?}"))
}

/// Exit 1 with exactly one line on stderr (besides warnings), containing `why`.
fn fails(args: &[&str], why: &str) -> String {
    let r = run(args);
    assert_eq!(
        r.code, 1,
        "{args:?}\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    let errors = r.error_lines();
    assert_eq!(errors.len(), 1, "{args:?}: {:?}", r.stderr);
    assert!(errors[0].starts_with("tokenring: "), "{}", errors[0]);
    assert!(
        errors[0].contains(why),
        "{:?} should contain {why:?}",
        errors[0]
    );
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    r.stderr
}

fn keyring_file(dir: &Path) -> (PathBuf, String) {
    let path = dir.join("keyring.json");
    ok(&["keyring", "init", path.to_str().unwrap(), "--id", "first"]);
    let p = path.to_str().unwrap().to_owned();
    (path, p)
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn kid(token: &str) -> &str {
    token.split('.').nth(1).unwrap()
}

#[test]
fn keygen_prints_a_key_entry() {
    let entry: Value = serde_json::from_str(&ok(&["keygen"])).unwrap();
    let id = entry["id"].as_str().unwrap();
    assert!(id.len() >= 10 && id.len() <= 32, "{id}");
    let secret = entry["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 44); // 32 bytes, padded base64
    let entry: Value = serde_json::from_str(&ok(&[
        "keygen",
        "--id",
        "x",
        "--algorithm",
        "HS512",
        "--bytes",
        "64",
    ]))
    .unwrap();
    assert_eq!(entry["algorithm"], "HS512");
    assert_eq!(entry["secret"].as_str().unwrap().len(), 88);
    assert_ne!(ok(&["keygen"]), ok(&["keygen"]));
}

#[test]
fn bad_usage_exits_2() {
    for args in [
        vec![],
        vec!["frobnicate"],
        vec!["keygen", "--bytes", "16"],
        vec!["keygen", "--algorithm", "none"],
        vec!["sign", "{}"],
        vec!["verify", "--keyring", "k.json"],
        vec!["keyring", "retire", "k.json", "id"],
        vec!["keyring", "add", "k.json", "--activates-in", "soon"],
        vec![
            "keyring",
            "add",
            "k.json",
            "--activates-in",
            "1h",
            "--activates-at",
            "2030-01-01T00:00:00Z",
        ],
        vec![
            "sign",
            "--keyring",
            "k.json",
            "--expires-at",
            "tomorrow",
            "{}",
        ],
    ] {
        let r = run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(!r.stderr.is_empty());
    }
    assert_eq!(run(&["--help"]).code, 0);
    assert_eq!(run(&["--version"]).code, 0);
}

#[test]
fn init_writes_mode_0600_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let (path, p) = keyring_file(dir.path());
    assert_eq!(mode(&path), 0o600);
    fails(&["keyring", "init", &p], "already exists");
    ok(&["keyring", "init", &p, "--force", "--id", "second"]);
    assert!(ok(&["keyring", "list", &p]).contains("second"));
    // Only the keyring (and the sidecar its edits lock) is left in the directory: temporary
    // files are renamed or removed.
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, [".keyring.json.lock", "keyring.json"]);
}

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
fn staged_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let (path, k) = keyring_file(dir.path());
    let old_token = ok(&["sign", "--keyring", &k, "--purpose", "p", "\"old\""]);

    // 1. add a pending key: verifies, does not sign yet.
    let added = ok(&[
        "keyring",
        "add",
        &k,
        "--id",
        "second",
        "--activates-in",
        "1h",
    ]);
    assert!(added.contains("pending"), "{added}");
    assert_eq!(mode(&path), 0o600);
    let list = ok(&["keyring", "list", &k]);
    let second = list.lines().find(|l| l.starts_with("second")).unwrap();
    assert!(second.contains("pending"), "{list}");
    let first = list.lines().find(|l| l.starts_with("first")).unwrap();
    assert!(first.contains("active") && first.contains("yes"), "{list}");
    let token = ok(&["sign", "--keyring", &k, "1"]);
    assert_eq!(kid(token.trim()), "first");

    // 2. add a key that is active at once: it signs now (with a warning).
    let r = run(&["keyring", "add", &k, "--id", "third"]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("signs at once"), "{}", r.stderr);
    let token = ok(&["sign", "--keyring", &k, "1"]);
    assert_eq!(kid(token.trim()), "third");
    // The old token still verifies, with a note that its key no longer signs.
    let r = run(&[
        "verify",
        "--keyring",
        &k,
        "--purpose",
        "p",
        old_token.trim(),
    ]);
    assert_eq!((r.code, r.stdout.trim()), (0, "\"old\""));
    assert!(r.stderr.contains("no longer signs"), "{}", r.stderr);

    // 3. retire the old key.
    let retired = ok(&["keyring", "retire", &k, "first", "--expires-in", "7d"]);
    assert!(retired.contains("verifies until"), "{retired}");
    assert!(
        ok(&[
            "verify",
            "--keyring",
            &k,
            "--purpose",
            "p",
            old_token.trim()
        ])
        .contains("old")
    );
    ok(&[
        "keyring",
        "retire",
        &k,
        "first",
        "--expires-at",
        "2020-01-01T00:00:00Z",
    ]);
    fails(
        &[
            "verify",
            "--keyring",
            &k,
            "--purpose",
            "p",
            old_token.trim(),
        ],
        "expired",
    );
    fails(
        &["keyring", "retire", &k, "nope", "--expires-in", "1h"],
        "no key \"nope\"",
    );

    // 4. prune.
    let pruned = ok(&["keyring", "prune", &k]);
    assert_eq!(pruned.trim(), "removed key \"first\"");
    assert_eq!(ok(&["keyring", "prune", &k]).trim(), "nothing to prune");
    fails(
        &[
            "verify",
            "--keyring",
            &k,
            "--purpose",
            "p",
            old_token.trim(),
        ],
        "unknown key \"first\"",
    );
    let check = ok(&["keyring", "check", &k]);
    assert!(
        check.contains("2 keys (1 active, 1 pending, 0 expired, 0 disabled)"),
        "{check}"
    );
}

#[test]
fn revoke() {
    let dir = tempfile::tempdir().unwrap();
    let (path, k) = keyring_file(dir.path());
    let token = ok(&["sign", "--keyring", &k, "1"]);
    // Revoking the only key would leave nothing that verifies: refused, file unchanged.
    let before = std::fs::read(&path).unwrap();
    fails(&["keyring", "revoke", &k, "first"], "add a new key first");
    assert_eq!(std::fs::read(&path).unwrap(), before);

    ok(&["keyring", "add", &k, "--id", "next"]);
    assert!(ok(&["keyring", "revoke", &k, "first"]).contains("revoked"));
    fails(&["verify", "--keyring", &k, token.trim()], "revoked");
    let list = ok(&["keyring", "list", &k]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("first") && l.contains("disabled")),
        "{list}"
    );
    assert_eq!(ok(&["keyring", "prune", &k]).trim(), "nothing to prune");
    assert_eq!(
        ok(&["keyring", "prune", &k, "--revoked"]).trim(),
        "removed key \"first\""
    );
}

#[test]
fn check_reports_broken_files_and_exposure() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    let p = path.to_str().unwrap();
    std::fs::write(
        &path,
        r#"{"keys": [{"id": "a", "secret": "AAAA", "expire_at": 1}]}"#,
    )
    .unwrap();
    fails(&["keyring", "check", p], "unknown field \"expire_at\"");
    std::fs::write(&path, r#"{"keys": [{"id": "a", "secret": "AAAA"}]}"#).unwrap();
    fails(
        &["keyring", "check", p],
        "key \"a\" (keys[0]): field \"secret\" is 3 bytes",
    );
    std::fs::write(&path, "").unwrap();
    fails(&["keyring", "check", p], "the file is empty");
    std::fs::write(&path, r#"{"keys": [{"id": "a", "sec"#).unwrap();
    fails(&["keyring", "check", p], "ends early");

    let (good, k) = keyring_file(dir.path());
    let r = run(&["keyring", "check", &k]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("signing with \"first\""), "{}", r.stdout);
    assert!(!r.stderr.contains("world-readable"));
    std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o644)).unwrap();
    let r = run(&["keyring", "check", &k]);
    assert_eq!(r.code, 0);
    assert!(
        r.stderr.contains("world-readable (mode 644)"),
        "{}",
        r.stderr
    );
    // An edit keeps the mode, minus the world bits.
    ok(&["keyring", "add", &k, "--activates-in", "1d"]);
    assert_eq!(mode(&good), 0o640);
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
fn demo_runs_from_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    // Outside the repository the bundled copy is used.
    tokenring()
        .current_dir(dir.path())
        .arg("demo")
        .assert()
        .success()
        .stdout(predicate::str::contains("bundled"))
        .stdout(predicate::str::contains("unknown key"));
    // A keyring not marked as a demo is refused.
    let (_, k) = keyring_file(dir.path());
    fails(&["demo", "--keyring", &k], "not marked");
}

#[test]
fn demo_keyring_warns_when_used() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../keyrings/example.json");
    let r = run(&["keyring", "check", example]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("DEMO keyring"), "{}", r.stderr);
}

#[test]
fn hostile_arguments_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let (_, k) = keyring_file(dir.path());
    let long = "x".repeat(100_000);
    let inputs = [
        "",
        ".",
        "...",
        "v1...",
        "v1.first..",
        "v1.first.AAAA.AAAA",
        "v1.first.////.AAAA",
        "v1.first.\u{1}.\u{7f}",
        "v1.ü.ü.ü",
        &long,
    ];
    for input in inputs {
        for args in [
            vec!["verify", "--keyring", &k, input],
            vec!["inspect", input],
            vec!["sign", "--keyring", &k, input],
        ] {
            let r = run(&args);
            assert!(r.code == 1 || r.code == 0, "{args:?}: {}", r.stderr);
        }
    }
    // Arguments that are not UTF-8 are a usage error.
    use std::os::unix::ffi::OsStrExt as _;
    let r = tokenring()
        .args(["verify", "--keyring", &k])
        .arg(std::ffi::OsStr::from_bytes(b"v1.\xff.a.b"))
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));

    let path = dir.path().join("garbage.json");
    for content in [
        &b"\xff\xfe"[..],
        b"{\"keys\":[{}]}",
        b"null",
        b"{\"keys\": [[[[[[[[]]]]]]]]}",
    ] {
        std::fs::write(&path, content).unwrap();
        let r = run(&["keyring", "list", path.to_str().unwrap()]);
        assert_eq!(r.code, 1, "{}", r.stderr);
    }
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

#[test]
fn watch_prints_reloads_and_refusals() {
    use std::io::{BufRead as _, BufReader};
    use std::process::{Command as Process, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let (path, k) = keyring_file(dir.path());
    let mut child = Process::new(assert_cmd::cargo::cargo_bin("tokenring"))
        .args(["keyring", "watch", &k, "--count", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(
        first.contains("generation 1 loaded") && first.contains("signing \"first\""),
        "{first}"
    );

    // Whole-file replacements, as the CLI itself writes: the watcher never reads a file
    // half-written (an empty file would be a refusal of its own).
    let replace = |contents: &str| {
        let next = path.with_extension("next");
        std::fs::write(&next, contents).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions();
        std::fs::set_permissions(&next, mode).unwrap();
        std::fs::rename(&next, &path).unwrap();
    };
    let good = std::fs::read_to_string(&path).unwrap();
    replace("{broken");
    let refused = lines.next().unwrap().unwrap();
    assert!(
        refused.contains("refused") && refused.contains("generation 1 stays"),
        "{refused}"
    );

    // The same content as in force: a recovery, not a new generation. Waiting for it keeps
    // the next change from being read in the same pass.
    replace(&good);
    let recovered = lines.next().unwrap().unwrap();
    assert!(
        recovered.contains("recovered") && recovered.contains("generation 1 stays"),
        "{recovered}"
    );
    ok(&[
        "keyring",
        "add",
        &k,
        "--id",
        "second",
        "--activates-in",
        "1h",
    ]);
    let reloaded = lines.next().unwrap().unwrap();
    assert!(
        reloaded.contains("generation 2 loaded") && reloaded.contains("second (pending)"),
        "{reloaded}"
    );
    assert!(child.wait().unwrap().success());
}

#[cfg(feature = "rails")]
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
#[cfg(feature = "rails")]
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
#[cfg(feature = "rails")]
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
        "secret is 4 bytes; the cipher takes exactly 32",
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
#[cfg(feature = "rails")]
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

/// Spawns `tokenring` with each argument list at once and waits for all of them.
fn run_at_once(runs: &[Vec<String>]) -> Vec<std::process::Output> {
    let bin = assert_cmd::cargo::cargo_bin("tokenring");
    let children: Vec<_> = runs
        .iter()
        .map(|args| {
            std::process::Command::new(&bin)
                .args(args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect()
}

fn key_line<'a>(list: &'a str, id: &str) -> Option<&'a str> {
    list.lines()
        .find(|l| l.split_whitespace().next() == Some(id))
}

#[test]
fn concurrent_edits_are_never_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (_, k) = keyring_file(dir.path());
    let adds: Vec<Vec<String>> = (0..10)
        .map(|i| {
            [
                "keyring",
                "add",
                &k,
                "--id",
                &format!("k{i}"),
                "--activates-in",
                "1h",
            ]
            .map(str::to_owned)
            .to_vec()
        })
        .collect();
    for output in run_at_once(&adds) {
        assert!(output.status.success(), "{output:?}");
    }
    let list = ok(&["keyring", "list", &k]);
    for i in 0..10 {
        assert!(
            key_line(&list, &format!("k{i}")).is_some(),
            "k{i} lost:\n{list}"
        );
    }

    // A revocation racing an addition is never undone.
    for round in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let (_, k) = keyring_file(dir.path());
        ok(&[
            "keyring",
            "add",
            &k,
            "--id",
            "spare",
            "--activates-in",
            "1h",
        ]);
        let outputs = run_at_once(&[
            ["keyring", "revoke", &k, "first"]
                .map(str::to_owned)
                .to_vec(),
            ["keyring", "add", &k, "--id", "late", "--activates-in", "2h"]
                .map(str::to_owned)
                .to_vec(),
        ]);
        for output in outputs {
            assert!(output.status.success(), "round {round}: {output:?}");
        }
        let list = ok(&["keyring", "list", &k]);
        assert!(
            key_line(&list, "first").is_some_and(|l| l.contains("disabled")),
            "round {round}: revocation lost:\n{list}"
        );
        assert!(key_line(&list, "late").is_some(), "round {round}:\n{list}");
    }
}

#[test]
fn edits_keep_owner_group_and_mode_and_follow_symlinks() {
    use std::os::unix::fs::MetadataExt as _;
    let dir = tempfile::tempdir().unwrap();
    let real_dir = dir.path().join("real");
    std::fs::create_dir(&real_dir).unwrap();
    let (real, r) = keyring_file(&real_dir);
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let l = link.to_str().unwrap();

    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let is_root = std::fs::metadata(&real).unwrap().uid() == 0;
    if is_root {
        // As a deployment does: root owns it, the service's group reads it.
        std::os::unix::fs::chown(&real, Some(0), Some(2)).unwrap();
    }
    let before = std::fs::metadata(&real).unwrap();

    ok(&["keyring", "add", l, "--id", "next"]);
    ok(&["keyring", "revoke", l, "first"]);
    // The link is still a link, and the file behind it changed.
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let list = ok(&["keyring", "list", &r]);
    assert!(
        key_line(&list, "first").unwrap().contains("disabled"),
        "{list}"
    );
    let after = std::fs::metadata(&real).unwrap();
    assert_eq!(mode(&real), 0o640);
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
    if !is_root {
        eprintln!("not root: owner and group checked unchanged, not changed to another's");
    }
    // Temporary files are beside the target, and none is left.
    let leftovers: Vec<_> = std::fs::read_dir(&real_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// The compromise procedure in the README: add a key (no activation time), then revoke the
/// leaked one. The added key must really sign, whatever activation times the others have.
#[test]
fn a_key_added_without_a_time_really_signs() {
    let dir = tempfile::tempdir().unwrap();
    let (_, k) = keyring_file(dir.path());
    // A key added through the documented staged rotation, already active.
    ok(&[
        "keyring",
        "add",
        &k,
        "--id",
        "staged",
        "--activates-at",
        "2020-01-01T00:00:00Z",
    ]);
    assert_eq!(kid(ok(&["sign", "--keyring", &k, "1"]).trim()), "staged");
    let r = run(&["keyring", "add", &k, "--id", "fresh"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("active, signing now"), "{}", r.stdout);
    assert_eq!(kid(ok(&["sign", "--keyring", &k, "1"]).trim()), "fresh");
    let revoked = ok(&["keyring", "revoke", &k, "staged"]);
    assert!(revoked.contains("\"fresh\" signs"), "{revoked}");
    assert_eq!(kid(ok(&["sign", "--keyring", &k, "1"]).trim()), "fresh");

    // A key whose given time is older than the signer's is said not to sign.
    let r = ok(&[
        "keyring",
        "add",
        &k,
        "--id",
        "old",
        "--activates-at",
        "2019-01-01T00:00:00Z",
    ]);
    assert!(r.contains("\"fresh\" signs"), "{r}");
    assert_eq!(kid(ok(&["sign", "--keyring", &k, "1"]).trim()), "fresh");
}

#[test]
fn writable_keyrings_and_strange_paths_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let (path, k) = keyring_file(dir.path());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o620)).unwrap();
    fails(&["keyring", "list", &k], "writable by its group (mode 620)");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o602)).unwrap();
    fails(&["keyring", "add", &k], "writable by everyone");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o770)).unwrap();
    fails(&["keyring", "check", &k], "the directory");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    ok(&["keyring", "check", &k]);

    let fifo = dir.path().join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    for (what, path, expect) in [
        (
            "directory",
            sub.to_str().unwrap(),
            "is a directory, not a regular file",
        ),
        (
            "FIFO",
            fifo.to_str().unwrap(),
            "is a FIFO, not a regular file",
        ),
        (
            "device",
            "/dev/zero",
            "is a character device, not a regular file",
        ),
    ] {
        let stderr = fails(&["keyring", "check", path], expect);
        assert!(!stderr.contains("chmod"), "{what}: {stderr}");
        fails(&["sign", "--keyring", path, "1"], expect);
    }

    // A temporary file left by an interrupted edit is removed by the next one.
    let stale = dir.path().join(".keyring.json.tokenring-AbCdEf.tmp");
    std::fs::write(&stale, "half").unwrap();
    ok(&["keyring", "add", &k, "--id", "next", "--activates-in", "1h"]);
    assert!(!stale.exists());

    // An unknown key id is answered with the ids there are.
    fails(&["keyring", "revoke", &k, "nope"], "its keys: next, first");
}

/// Secrets come from files or standard input, never only from argv; an empty
/// secret_key_base (an unset variable) is refused instead of minting forgeable tokens.
#[cfg(feature = "rails")]
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

#[test]
fn small_things_operators_meet() {
    let dir = tempfile::tempdir().unwrap();
    let (_, k) = keyring_file(dir.path());
    ok(&[
        "keyring",
        "add",
        &k,
        "--id",
        "a-much-longer-key-id",
        "--activates-in",
        "1h",
    ]);
    // `keyring list` columns line up, whatever the state's or algorithm's name.
    let list = ok(&["keyring", "list", &k]);
    let columns: Vec<Vec<usize>> = list
        .lines()
        .map(|line| {
            // Where each field starts: a non-space after a space.
            let bytes = line.as_bytes();
            (0..bytes.len())
                .filter(|&i| bytes[i] != b' ' && (i == 0 || bytes[i - 1] == b' '))
                .collect()
        })
        .collect();
    let header = &columns[0];
    for (line, starts) in list.lines().zip(&columns) {
        for start in starts {
            assert!(header.contains(start), "misaligned:\n{list}\n{line}");
        }
    }

    // A keyring in a directory that does not exist: the directory is named, not a lock file.
    let nowhere = dir.path().join("missing-dir").join("k.json");
    let stderr = fails(
        &["keyring", "init", nowhere.to_str().unwrap(), "--id", "a"],
        "missing-dir does not exist",
    );
    assert!(!stderr.contains(".lock"), "{stderr}");

    // A demo keyring given by path must exist: no silent fallback to the bundled one.
    fails(
        &["demo", "--keyring", "keyrings/exmaple.json"],
        "cannot read keyrings/exmaple.json",
    );

    // An oversized token on stdin is "over 1 MiB", not a made-up length.
    let output = tokenring()
        .args(["verify", "--keyring", &k, "-"])
        .write_stdin("x".repeat((1 << 20) + 10))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("standard input is over 1 MiB"), "{stderr}");
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

/// `--accept` inherits what it leaves unset from the primary, as Rails' `rotate` does; a raw
/// secret that is empty is refused naming its file, and a short one is warned about, as a
/// `secret_key_base` is.
#[cfg(feature = "rails")]
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
