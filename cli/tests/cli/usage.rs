//! Usage, the demo, and arguments meant to break the program.

use super::*;

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
