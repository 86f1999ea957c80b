//! The CLI on etcd keyrings against a real etcd: every keyring command through
//! `etcd://HOST:PORT/NAME`, compare-and-swap writes that never lose an update, promotion
//! only once every live node holds the key, and `fleet status`.
#![cfg(feature = "etcd")]

#[path = "../../tests/common/etcd.rs"]
mod etcd_harness;

use std::process::{Command, Output};
use std::time::Duration;

use etcd_harness::Etcd;
use tokenring::HotKeyring;
use tokenring::hot::WatchMode;
use tokenring::keyring::EtcdSource;

fn tokenring(args: &[&str]) -> Output {
    tokenring_with(args, &[])
}

/// Runs the CLI with `vars` set in its environment (and no etcdctl variables of the caller's).
fn tokenring_with(args: &[&str], vars: &[(&str, &std::path::Path)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tokenring"));
    for name in [
        "ETCDCTL_CACERT",
        "ETCDCTL_CERT",
        "ETCDCTL_KEY",
        "ETCDCTL_USER",
    ] {
        command.env_remove(name);
    }
    let output = command
        .args(args)
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    output
}

fn ok(args: &[&str]) -> String {
    let output = tokenring(args);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn fails(args: &[&str], why: &str) -> String {
    let output = tokenring(args);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(
        stderr.contains(why),
        "{args:?}: {stderr:?} should say {why:?}"
    );
    stderr
}

fn ring(etcd: &Etcd, name: &str) -> String {
    format!("etcd://{}/{name}", etcd.endpoint())
}

/// A node of the fleet, acknowledging as `id`; `follows: false` is a node stuck on what it
/// first loaded (it never reloads), as a wedged process would be.
fn node(ring: &str, id: &str, follows: bool) -> HotKeyring {
    let source = EtcdSource::from_url(ring)
        .unwrap()
        .acknowledge_as(id, Duration::from_secs(30))
        .unwrap();
    let mode = if follows {
        WatchMode::Events
    } else {
        WatchMode::Manual
    };
    HotKeyring::builder(source).mode(mode).build().unwrap()
}

#[test]
fn every_keyring_command_takes_an_etcd_keyring() {
    let Some(etcd) = Etcd::start() else { return };
    let r = ring(&etcd, "app");
    fails(
        &["keyring", "list", &r],
        "has no keyring yet; create one with: tokenring keyring init",
    );
    assert!(ok(&["keyring", "init", &r, "--id", "first"]).contains("created etcd://"));
    fails(&["keyring", "init", &r], "already exists");
    ok(&[
        "keyring",
        "add",
        &r,
        "--id",
        "second",
        "--activates-in",
        "1h",
    ]);
    let list = ok(&["keyring", "list", &r]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("second") && l.contains("pending")),
        "{list}"
    );
    assert!(ok(&["keyring", "check", &r]).contains("2 keys (1 active, 1 pending"));
    let token = ok(&["sign", "--keyring", &r, "--purpose", "p", "42"]);
    assert_eq!(
        ok(&["verify", "--keyring", &r, "--purpose", "p", token.trim()]).trim(),
        "42"
    );
    ok(&["keyring", "retire", &r, "first", "--expires-in", "1d"]);
    ok(&["keyring", "add", &r, "--id", "third"]);
    assert!(ok(&["keyring", "revoke", &r, "first"]).contains("\"third\" signs"));
    fails(
        &["verify", "--keyring", &r, "--purpose", "p", token.trim()],
        "revoked",
    );
    assert_eq!(
        ok(&["keyring", "prune", &r, "--revoked"]).trim(),
        "removed key \"first\""
    );
    let bad = tokenring(&["keyring", "list", "etcd://nowhere"]);
    assert_eq!(
        bad.status.code(),
        Some(2),
        "a malformed address is bad usage"
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("expected etcd://HOST:PORT"));
}

/// Concurrent writers: each write is a compare-and-swap on the revision it read, so an
/// edit either lands whole or fails with a conflict; none is silently lost.
#[test]
fn concurrent_writers_never_lose_an_update() {
    let Some(etcd) = Etcd::start() else { return };
    let r = ring(&etcd, "race");
    ok(&["keyring", "init", &r, "--id", "first"]);
    let children: Vec<_> = (0..8)
        .map(|i| {
            Command::new(env!("CARGO_BIN_EXE_tokenring"))
                .args([
                    "keyring",
                    "add",
                    &r,
                    "--id",
                    &format!("k{i}"),
                    "--activates-in",
                    "1h",
                ])
                .output()
        })
        .collect();
    let mut landed = Vec::new();
    for (i, output) in children.into_iter().enumerate() {
        let output = output.unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        match output.status.code() {
            Some(0) => landed.push(format!("k{i}")),
            Some(1) => assert!(stderr.contains("changed since it was read"), "{stderr}"),
            other => panic!("{other:?}: {stderr}"),
        }
    }
    let list = ok(&["keyring", "list", &r]);
    for id in &landed {
        assert!(
            list.lines().any(|l| l.starts_with(id.as_str())),
            "{id} lost:\n{list}"
        );
    }
    assert_eq!(list.lines().count(), 1 + 1 + landed.len(), "{list}");
}

#[test]
fn a_key_activates_only_when_every_live_node_holds_it() {
    let Some(etcd) = Etcd::start() else { return };
    let r = ring(&etcd, "fleet");
    ok(&["keyring", "init", &r, "--id", "old"]);
    let (a, b) = (node(&r, "node-a", true), node(&r, "node-b", true));

    let out = ok(&[
        "keyring",
        "add",
        &r,
        "--id",
        "new",
        "--activate-when-converged",
        "--timeout",
        "20s",
    ]);
    assert!(
        out.contains("all 2 live node(s) hold it; it signs from"),
        "{out}"
    );
    let status = ok(&["fleet", "status", &r]);
    assert!(status.contains("2 live node(s)"), "{status}");
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("node-a") && l.contains("new,old")),
        "{status}"
    );

    // A node stuck on an old revision holds activation back, and is named.
    let stuck = node(&r, "node-stuck", false);
    let stderr = fails(
        &[
            "keyring",
            "add",
            &r,
            "--id",
            "next",
            "--activate-when-converged",
            "--timeout",
            "2s",
        ],
        "timed out after 2s: key \"next\" stays pending; nodes that lag: node-stuck (revision",
    );
    assert!(
        stderr.contains("2 of 3 live node(s) hold \"next\""),
        "{stderr}"
    );
    let list = ok(&["keyring", "list", &r]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("next") && l.contains("pending")),
        "{list}"
    );
    drop((a, b, stuck));
}

/// A value at the key that is not a keyring: commands say so, `init` refuses to overwrite it
/// and `init --force` replaces it.
#[test]
fn init_force_replaces_a_broken_value() {
    let Some(etcd) = Etcd::start() else { return };
    // Through etcd's JSON gateway: PUT /broken/keyring = "{broken" (both base64).
    let body = r#"{"key":"L2Jyb2tlbi9rZXlyaW5n","value":"e2Jyb2tlbg=="}"#;
    let response = etcd_harness::gateway(&etcd.endpoint(), "/v3/kv/put", body).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    let r = ring(&etcd, "broken");
    fails(&["keyring", "list", &r], "JSON");
    fails(&["keyring", "init", &r, "--id", "first"], "JSON");
    assert!(ok(&["keyring", "init", &r, "--id", "first", "--force"]).contains("created etcd://"));
    let list = ok(&["keyring", "list", &r]);
    assert!(list.lines().any(|l| l.starts_with("first")), "{list}");
}

/// TLS with client certificates, configured the way etcdctl is: from `ETCDCTL_CACERT`,
/// `ETCDCTL_CERT` and `ETCDCTL_KEY`.
#[test]
fn tls_comes_from_the_etcdctl_environment() {
    let Some(etcd) = Etcd::start_tls() else {
        return;
    };
    let certs = etcd.certs();
    let (ca, cert, key) = (
        certs.path("ca.pem"),
        certs.path("client.pem"),
        certs.path("client.key"),
    );
    let tls = [
        ("ETCDCTL_CACERT", ca.as_path()),
        ("ETCDCTL_CERT", cert.as_path()),
        ("ETCDCTL_KEY", key.as_path()),
    ];
    let r = ring(&etcd, "secure");
    let run = |args: &[&str], vars: &[(&str, &std::path::Path)]| {
        let output = tokenring_with(args, vars);
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        (
            output.status.code(),
            text(&output.stdout),
            text(&output.stderr),
        )
    };
    let (code, out, err) = run(&["keyring", "init", &r, "--id", "first"], &tls);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("created etcd://"), "{out}");
    let (code, out, err) = run(&["keyring", "list", &r], &tls);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.lines().any(|l| l.starts_with("first")), "{out}");

    let (code, _, err) = run(&["keyring", "list", &r], &[]);
    assert_eq!(code, Some(1), "plain HTTP to a TLS etcd: {err}");
    assert!(
        err.contains("cannot read the keyring from etcd /secure/keyring"),
        "{err}"
    );
    let (code, _, err) = run(&["keyring", "list", &r], &tls[..2]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("ETCDCTL_CERT and ETCDCTL_KEY go together"),
        "{err}"
    );
}
