//! The CLI on etcd keyrings against a real etcd: every keyring command through
//! `etcd://HOST:PORT/NAME`, compare-and-swap writes that never lose an update, promotion
//! only once every live node holds the key, and `fleet status`.
#![cfg(feature = "etcd")]

use std::process::{Command, Output};
use std::time::Duration;

use tokenring::HotKeyring;
use tokenring::hot::WatchMode;
use tokenring::source::EtcdSourceBuilder;
use tokenring_test_support::etcd::{self as etcd_harness, Etcd};
use tokenring_test_support::process;

fn tokenring(args: &[&str]) -> Output {
    tokenring_with(args, &[])
}

/// Runs the CLI with `vars` set in its environment (and no etcdctl variables of the caller's).
fn tokenring_with(args: &[&str], vars: &[(&str, &std::path::Path)]) -> Output {
    let output = cli(args).envs(vars.iter().copied()).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    output
}

fn ok(args: &[&str]) -> String {
    process::run(&mut cli(args)).ok(&format!("{args:?}"))
}

fn fails(args: &[&str], why: &str) -> String {
    process::run(&mut cli(args)).fails(&format!("{args:?}"), why)
}

/// The CLI with `args`, without the caller's etcdctl variables.
fn cli(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tokenring"));
    for name in [
        "ETCDCTL_CACERT",
        "ETCDCTL_CERT",
        "ETCDCTL_KEY",
        "ETCDCTL_USER",
    ] {
        command.env_remove(name);
    }
    command.args(args);
    command
}

fn ring(etcd: &Etcd, name: &str) -> String {
    format!("etcd://{}/{name}", etcd.endpoint())
}

/// A node of the fleet, acknowledging as `id`; `follows: false` is a node stuck on what it
/// first loaded (it never reloads), as a wedged process would be.
fn node(ring: &str, id: &str, follows: bool) -> HotKeyring {
    let source = EtcdSourceBuilder::from_url(ring)
        .unwrap()
        .acknowledge_as(id, Duration::from_secs(30))
        .build()
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
    // All started before any is waited for: they race (`output()` would run them in turn).
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
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut landed = Vec::new();
    for (i, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().unwrap();
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

/// etcd's JSON gateway as `token`'s user: `path` with `body`, the answer's body.
fn gateway(etcd: &Etcd, path: &str, body: &serde_json::Value, token: Option<&str>) -> String {
    let response =
        etcd_harness::gateway_as(&etcd.endpoint(), path, &body.to_string(), token).unwrap();
    response.split_once("\r\n\r\n").unwrap().1.to_owned()
}

fn b64(text: &str) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, text)
}

/// Turns etcd's authentication on, with `root` (password `rootpw`) its only user.
fn enable_auth(etcd: &Etcd) {
    for (path, body) in [
        (
            "/v3/auth/user/add",
            serde_json::json!({"name": "root", "password": "rootpw"}),
        ),
        ("/v3/auth/role/add", serde_json::json!({"name": "root"})),
        (
            "/v3/auth/user/grant",
            serde_json::json!({"user": "root", "role": "root"}),
        ),
        ("/v3/auth/enable", serde_json::json!({})),
    ] {
        gateway(etcd, path, &body, None);
    }
}

/// An auth token for `user` (etcd's gateway).
fn login(etcd: &Etcd, user: &str, password: &str) -> String {
    let body = gateway(
        etcd,
        "/v3/auth/authenticate",
        &serde_json::json!({"name": user, "password": password}),
        None,
    );
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    answer["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

/// With etcd's authentication on and the per-node roles `fleet grant` creates: a node cannot
/// write another's report (etcd refuses it), a report that is garbage or sits under no lease
/// makes promotion wait and is named, promotion needs at least one live node unless told
/// otherwise, a broken keyring still shows the nodes, and the CLI warns about a password
/// sent over plain http.
#[test]
fn per_node_roles_keep_each_node_to_its_own_report() {
    let Some(etcd) = Etcd::start() else { return };
    enable_auth(&etcd);
    let dir = tempfile::tempdir().unwrap();
    let root = [("ETCDCTL_USER", std::path::Path::new("root:rootpw"))];
    let as_root = |args: &[&str]| tokenring_with(args, &root);
    // `keyring add RING --id ID --activate-when-converged` then `extra`, as root.
    let converge = |ring: &str, id: &str, extra: &[&str]| {
        let add = [
            "keyring",
            "add",
            ring,
            "--id",
            id,
            "--activate-when-converged",
        ];
        as_root(&[&add[..], extra].concat())
    };
    let r = ring(&etcd, "fleet");
    let init = as_root(&["keyring", "init", &r, "--id", "old"]);
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let stderr = String::from_utf8_lossy(&init.stderr);
    assert!(stderr.contains("password goes over plain http"), "{stderr}");

    // Without credentials etcd refuses, and the CLI said it sent none.
    let anonymous = tokenring(&["keyring", "list", &r]);
    assert_eq!(anonymous.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&anonymous.stderr).contains("no etcd credentials"));

    let mut nodes = Vec::new();
    for id in ["node-a", "node-b"] {
        let password = dir.path().join(format!("{id}.pw"));
        std::fs::write(&password, format!("{id}-secret\n")).unwrap();
        let granted = as_root(&[
            "fleet",
            "grant",
            &r,
            id,
            "--password-file",
            password.to_str().unwrap(),
        ]);
        let said = String::from_utf8_lossy(&granted.stdout);
        assert!(
            granted.status.success(),
            "{}",
            String::from_utf8_lossy(&granted.stderr)
        );
        let user = format!("tokenring-fleet-node-{id}");
        assert!(said.contains(&format!("ETCDCTL_USER={user}")), "{said}");
        let source = EtcdSourceBuilder::from_url(&r)
            .unwrap()
            .user(
                &user,
                tokenring::Secret::from_bytes(format!("{id}-secret").into_bytes()),
            )
            .acknowledge_as(id, Duration::from_secs(30))
            .build()
            .unwrap();
        nodes.push(HotKeyring::builder(source).build().unwrap());
    }
    let converged = converge(&r, "new", &["--timeout", "20s"]);
    let said = String::from_utf8_lossy(&converged.stdout);
    assert!(
        said.contains("all 2 live node(s) hold it"),
        "{said}{}",
        String::from_utf8_lossy(&converged.stderr)
    );

    // Node B, with its own credentials, tries to speak for node A: etcd refuses.
    let b = login(&etcd, "tokenring-fleet-node-node-b", "node-b-secret");
    let forged = serde_json::json!({"node": "node-a", "revision": 999_999, "keys": ["FORGED"],
        "loaded_at": "2026-01-01T00:00:00Z", "last_error": null});
    for key in [
        "/fleet/nodes/node-a",
        "/fleet/nodes/node-c",
        "/fleet/keyring",
    ] {
        let answer = gateway(
            &etcd,
            "/v3/kv/put",
            &serde_json::json!({"key": b64(key), "value": b64(&forged.to_string())}),
            Some(&b),
        );
        assert!(answer.contains("permission denied"), "{key}: {answer}");
    }
    // Its own report it may write.
    let own = gateway(
        &etcd,
        "/v3/kv/put",
        &serde_json::json!({"key": b64("/fleet/nodes/node-b"), "value": b64("not json")}),
        Some(&b),
    );
    assert!(!own.contains("permission denied"), "{own}");

    // A report that is garbage (here root's write, as a broken node's would be: node-b's
    // own reporter rewrites its key at its next load) holds promotion back and is named.
    let root_token = login(&etcd, "root", "rootpw");
    gateway(
        &etcd,
        "/v3/kv/put",
        &serde_json::json!({"key": b64("/fleet/nodes/node-c"), "value": b64("not json")}),
        Some(&root_token),
    );
    let held_back = converge(&r, "next", &["--timeout", "2s"]);
    let stderr = String::from_utf8_lossy(&held_back.stderr);
    assert_eq!(held_back.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("key \"next\" stays pending")
            && stderr.contains("node-c (report is not a node report's JSON)"),
        "{stderr}"
    );
    let status = as_root(&["fleet", "status", &r]);
    let table = String::from_utf8_lossy(&status.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("node-c") && l.contains("UNTRUSTED")),
        "{table}"
    );

    // Three reports of 1.45 MB (etcd takes values up to 1.5 MiB): read together they would pass
    // gRPC's 4 MiB and stop status and promotion for everyone; read one at a time, each is
    // refused by name and the rest of the fleet still shows.
    let big = "x".repeat(1_450_000);
    for i in 0..3 {
        let answer = gateway(
            &etcd,
            "/v3/kv/put",
            &serde_json::json!({"key": b64(&format!("/fleet/nodes/big-{i}")), "value": b64(&big)}),
            Some(&root_token),
        );
        assert!(answer.contains("revision"), "{answer}");
    }
    let status = as_root(&["fleet", "status", &r]);
    let table = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    for i in 0..3 {
        assert!(
            table.lines().any(|l| l.starts_with(&format!("big-{i}"))
                && l.contains("report of 1450000 bytes, over 16384")),
            "{table}"
        );
    }
    assert!(table.lines().any(|l| l.starts_with("node-a")), "{table}");

    // No live node at all: promotion waits for --min-nodes (1), then fails; 0 overrides.
    let empty = ring(&etcd, "empty");
    assert!(
        as_root(&["keyring", "init", &empty, "--id", "k1"])
            .status
            .success()
    );
    let lonely = converge(&empty, "k2", &["--timeout", "1s"]);
    assert_eq!(lonely.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&lonely.stderr).contains("fewer than --min-nodes 1"),
        "{}",
        String::from_utf8_lossy(&lonely.stderr)
    );
    let forced = converge(&empty, "k3", &["--min-nodes", "0"]);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );

    // A broken stored keyring: status exits 1, saying so, and still lists the nodes.
    gateway(
        &etcd,
        "/v3/kv/put",
        &serde_json::json!({"key": b64("/fleet/keyring"), "value": b64("{broken")}),
        Some(&root_token),
    );
    let status = as_root(&["fleet", "status", &r]);
    assert_eq!(status.status.code(), Some(1));
    let table = String::from_utf8_lossy(&status.stdout);
    assert!(table.lines().any(|l| l.starts_with("node-a")), "{table}");
    assert!(String::from_utf8_lossy(&status.stderr).contains("is broken"));
    drop(nodes);
}

/// `revoke`, `retire` and `prune` racing each other on etcd all land: a lost compare-and-swap
/// is applied again on the keyring as it then is (they name keys, not a state).
#[test]
fn racing_revokes_retires_and_prunes_all_land() {
    let Some(etcd) = Etcd::start() else { return };
    let r = ring(&etcd, "revokes");
    ok(&["keyring", "init", &r, "--id", "keep"]);
    let ids: Vec<String> = (0..10).map(|i| format!("k{i}")).collect();
    for id in &ids {
        ok(&["keyring", "add", &r, "--id", id]);
    }
    let children: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let mut command = Command::new(env!("CARGO_BIN_EXE_tokenring"));
            command.env_remove("ETCDCTL_USER");
            if i % 2 == 0 {
                command.args(["keyring", "revoke", &r, id]);
            } else {
                command.args(["keyring", "retire", &r, id, "--expires-in", "2h"]);
            }
            command
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let prune = Command::new(env!("CARGO_BIN_EXE_tokenring"))
        .args(["keyring", "prune", &r])
        .output()
        .unwrap();
    assert!(
        prune.status.success(),
        "{}",
        String::from_utf8_lossy(&prune.stderr)
    );
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let list = ok(&["keyring", "list", &r]);
    for (i, id) in ids.iter().enumerate() {
        let line = list
            .lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("{id} lost:\n{list}"));
        // Revoked: disabled; retired: an expiry where there was none.
        let landed = if i % 2 == 0 {
            line.contains("disabled")
        } else {
            !line.trim_end().ends_with('-')
        };
        assert!(landed, "{id}: {line}\n{list}");
    }
}

/// A fleet on a keyring of key pairs, with etcd's authentication on: every write of the
/// signing keyring writes its public keyring in the same transaction (same revision, no
/// secret in it); a node granted the public keyring reads it and nothing of the signing one,
/// verifies the issuer's tokens and acknowledges; promotion of a key pair waits for it, of an
/// HMAC key does not; the last verifying key pair cannot be revoked; the public keyring is
/// never written on its own.
#[test]
fn verify_only_nodes_follow_the_public_keyring() {
    use tokenring::{TokenOptions, Verifier};
    let Some(etcd) = Etcd::start() else { return };
    enable_auth(&etcd);
    let dir = tempfile::tempdir().unwrap();
    let root = [("ETCDCTL_USER", std::path::Path::new("root:rootpw"))];
    let as_root = |args: &[&str]| {
        let output = tokenring_with(args, &root);
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success(), said)
    };
    let r = ring(&etcd, "fleet");
    let public = format!("{r}/public");
    let (done, said) = as_root(&["keyring", "init", &r, "--algorithm", "EdDSA", "--id", "old"]);
    assert!(done, "{said}");

    // The two keys, written together: one revision, and no secret in the public one.
    let root_token = login(&etcd, "root", "rootpw");
    let stored = |key: &str| {
        let body = gateway(
            &etcd,
            "/v3/kv/range",
            &serde_json::json!({"key": b64(key)}),
            Some(&root_token),
        );
        let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
        let kv = &answer["kvs"][0];
        let value = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            kv["value"]
                .as_str()
                .unwrap_or_else(|| panic!("{key}: {body}")),
        )
        .unwrap();
        let revision = kv["mod_revision"].as_str().unwrap().to_owned();
        (String::from_utf8(value).unwrap(), revision)
    };
    let (signing, signing_revision) = stored("/fleet/keyring");
    let (public_json, public_revision) = stored("/fleet/public");
    assert_eq!(signing_revision, public_revision);
    let signing: serde_json::Value = serde_json::from_str(&signing).unwrap();
    let secret = signing["keys"][0]["secret"].as_str().unwrap();
    assert!(!public_json.contains(secret) && !public_json.contains("\"secret\""));

    // A verify-only node: granted the public keyring, given it, holding no secret.
    let grant = |ring: &str, id: &str| {
        let password = dir.path().join(format!("{id}.pw"));
        std::fs::write(&password, format!("{id}-secret\n")).unwrap();
        let (done, said) = as_root(&[
            "fleet",
            "grant",
            ring,
            id,
            "--password-file",
            password.to_str().unwrap(),
        ]);
        assert!(done, "{said}");
        said
    };
    let said = grant(&public, "verifier");
    assert!(
        said.contains("reads /fleet/public, reads and writes /fleet/nodes/verifier"),
        "{said}"
    );
    grant(&r, "issuer");
    let start = |ring: &str, id: &str| {
        let user = format!("tokenring-fleet-node-{id}");
        let password = tokenring::Secret::from_bytes(format!("{id}-secret").into_bytes());
        let source = EtcdSourceBuilder::from_url(ring)
            .unwrap()
            .user(&user, password)
            .acknowledge_as(id, Duration::from_secs(30))
            .build()
            .unwrap();
        HotKeyring::builder(source).build()
    };
    let verifier = start(&public, "verifier").unwrap();
    let issuer = start(&r, "issuer").unwrap();
    assert!(verifier.keyring().is_public());
    let token = Verifier::new(issuer.keyring(), "login")
        .generate(&7u32, TokenOptions::new())
        .unwrap();
    let check = Verifier::new(verifier.keyring(), "login");
    assert_eq!(check.verify::<u32>(&token, None).unwrap().value, 7);
    assert!(check.generate(&7u32, TokenOptions::new()).is_err());

    // Its user reads nothing of the signing keyring, and writes neither keyring.
    let refused = start(&r, "verifier").expect_err("the signing keyring is refused");
    assert!(
        refused.to_string().contains("permission denied"),
        "{refused}"
    );
    let node_token = login(&etcd, "tokenring-fleet-node-verifier", "verifier-secret");
    for (path, key) in [
        ("/v3/kv/range", "/fleet/keyring"),
        ("/v3/kv/put", "/fleet/public"),
        ("/v3/kv/put", "/fleet/keyring"),
    ] {
        let answer = gateway(
            &etcd,
            path,
            &serde_json::json!({"key": b64(key), "value": b64("{}")}),
            Some(&node_token),
        );
        assert!(
            answer.contains("permission denied"),
            "{path} {key}: {answer}"
        );
    }
    // A node moved from the signing keyring to the public one loses the signing one.
    grant(&r, "moved");
    grant(&public, "moved");
    let moved = login(&etcd, "tokenring-fleet-node-moved", "moved-secret");
    let answer = gateway(
        &etcd,
        "/v3/kv/range",
        &serde_json::json!({"key": b64("/fleet/keyring")}),
        Some(&moved),
    );
    assert!(answer.contains("permission denied"), "{answer}");

    // Promotion: a key pair waits for the verify-only node too; an HMAC key does not.
    let converge = |id: &str, algorithm: &str| {
        as_root(&[
            "keyring",
            "add",
            &r,
            "--id",
            id,
            "--algorithm",
            algorithm,
            "--activate-when-converged",
            "--timeout",
            "20s",
        ])
    };
    let (done, said) = converge("new", "EdDSA");
    assert!(
        done && said.contains("all 2 live node(s) hold it"),
        "{said}"
    );
    assert!(verifier.keyring().get("new").is_some());
    let (done, said) = converge("mac", "HS256");
    assert!(
        done && said.contains("all 1 live node(s) hold it"),
        "{said}"
    );
    assert!(
        verifier.keyring().get("mac").is_none(),
        "no HMAC key is public"
    );
    let (_, table) = as_root(&["fleet", "status", &r]);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("verifier (public)") && l.contains("new,old")),
        "{table}"
    );

    // The public keyring keeps a verifying key pair; it is written only with the signing one.
    let (_, said) = as_root(&["keyring", "revoke", &r, "old"]);
    assert!(said.contains("revoked"), "{said}");
    let (done, said) = as_root(&["keyring", "revoke", &r, "new"]);
    assert!(!done && said.contains("add a new key pair first"), "{said}");
    let (done, said) = as_root(&["keyring", "revoke", &public, "mac"]);
    assert!(
        !done && said.contains(&format!("{public} is a public keyring, written together with its signing keyring: change {r} instead")),
        "{said}"
    );
    assert!(
        stored("/fleet/public").0.contains("\"new\""),
        "the public keyring still verifies the new key"
    );

    // Replacing it with a keyring of HMAC keys only would leave the pairs in /fleet/public.
    let (done, said) = as_root(&["keyring", "init", &r, "--force"]);
    assert!(
        !done && said.contains("holds key pairs, which verify-only nodes hold in"),
        "{said}"
    );

    // A signing keyring put where the public one belongs (a slip of root's) is refused by
    // the verify-only node, which keeps what it holds: it never holds a secret.
    let (signing, _) = stored("/fleet/keyring");
    gateway(
        &etcd,
        "/v3/kv/put",
        &serde_json::json!({"key": b64("/fleet/public"), "value": b64(&signing)}),
        Some(&root_token),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while verifier.status().last_error.is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the slip was not refused"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let error = verifier.status().last_error.unwrap().to_string();
    assert!(
        error.contains("a public keyring holds no secret"),
        "{error}"
    );
    assert!(verifier.keyring().is_public());
}
