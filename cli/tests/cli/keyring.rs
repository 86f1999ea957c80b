//! `tokenring keygen` and `tokenring keyring …` on files: creating, rotating, checking, watching, and edits that are never lost.

use super::*;

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
