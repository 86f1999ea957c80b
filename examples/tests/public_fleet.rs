//! Zero-downtime rotation of public keys across processes: an issuer signs with the private
//! keyring; three example servers verify with the public keyring only; PyJWT's `PyJWKClient`
//! verifies the same tokens with the JWKS one of them serves, caching it. The operator goes
//! add → (pending, published) → activate → retire → prune with the CLI while a driver mints
//! on the issuer and verifies everywhere at once: no valid token is refused, and the JWKS
//! client never meets a `kid` it does not have. Twice: with keyring files (the public one
//! written with `keyring public` after each step), and on etcd (the servers on
//! `etcd://…/NAME/public`, acknowledging it; the key activated once all of them hold it).

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;
use common::{Server, tokenring};

fn wait(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn holds(server: &Server, id: &str) -> bool {
    server.status()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["id"] == id)
}

/// Where the keyrings live, and how a change reaches the verifiers.
struct Fleet<'a> {
    /// The signing keyring (the issuer's).
    ring: &'a str,
    /// The public keyring (the verifiers').
    public: &'a str,
    /// Extra arguments for the issuer, and for verifier `i`.
    issuer_args: Vec<String>,
    verifier_args: fn(usize) -> Vec<String>,
    /// Run after every change of the signing keyring.
    publish: &'a dyn Fn(),
    /// How the new key is added: pending, then signing; and what adding it says.
    add: &'a [&'a str],
    add_says: &'a str,
}

#[test]
fn public_keys_rotate_across_verify_only_servers_and_a_jwks_cache() {
    let dir = tempfile::tempdir().unwrap();
    let ring = dir.path().join("ring.json");
    let public = dir.path().join("public.json");
    let (ring, public) = (ring.to_str().unwrap(), public.to_str().unwrap());
    tokenring(&[
        "keyring",
        "init",
        ring,
        "--algorithm",
        "EdDSA",
        "--id",
        "old",
    ]);
    let publish = || {
        tokenring(&["keyring", "public", ring, "--output", public]);
    };
    publish();
    // Pending for 3 s: published (and fetched by every verifier) before it signs.
    rotate(Fleet {
        ring,
        public,
        issuer_args: Vec::new(),
        verifier_args: |_| Vec::new(),
        publish: &publish,
        add: &["--activates-in", "3s"],
        add_says: "added key \"new\"",
    });
}

#[cfg(feature = "etcd")]
#[test]
fn public_keys_rotate_on_etcd_once_every_verifier_holds_them() {
    let Some(etcd) = tokenring_test_support::etcd::Etcd::start() else {
        return;
    };
    let ring = format!("etcd://{}/jwt", etcd.endpoint());
    let public = format!("{ring}/public");
    tokenring(&[
        "keyring",
        "init",
        &ring,
        "--algorithm",
        "EdDSA",
        "--id",
        "old",
    ]);
    // The issuer and the three verifiers acknowledge: the key signs once all four hold it.
    rotate(Fleet {
        ring: &ring,
        public: &public,
        issuer_args: vec!["--node-id".into(), "issuer".into()],
        verifier_args: |i| vec!["--node-id".into(), format!("verifier-{i}")],
        publish: &|| {},
        add: &["--activate-when-converged", "--timeout", "20s"],
        add_says: "key \"new\": all 4 live node(s) hold it",
    });
}

fn rotate(fleet: Fleet<'_>) {
    let Fleet {
        ring,
        public,
        publish,
        ..
    } = fleet;
    let issuer_args: Vec<&str> = fleet.issuer_args.iter().map(String::as_str).collect();
    let issuer = Arc::new(Server::start(ring, &issuer_args));
    let verifiers: Arc<Vec<Server>> = Arc::new(
        (0..3)
            .map(|i| {
                let args = (fleet.verifier_args)(i);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                Server::start_verifying(public, &args)
            })
            .collect(),
    );

    let pyjwt = tokenring_test_support::jose_libraries::pyjwt();
    if pyjwt.is_none() {
        tokenring_test_support::missing::missing("PyJWT", "tests/jose/setup.sh");
    }
    let mut jwks_client = pyjwt.map(|library| {
        library
            .script("pyjwkclient.py")
            .arg(format!(
                "http://{}/.well-known/jwks.json",
                verifiers[0].addr
            ))
            // Its JWKS cache lives 1 s; the new key is pending for 3 s.
            .args(["tokenring", "1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    });
    let (to_client, from_client) = match &mut jwks_client {
        Some(child) => (
            Some(child.stdin.take().unwrap()),
            Some(BufReader::new(child.stdout.take().unwrap())),
        ),
        None => (None, None),
    };
    let client = Arc::new(Mutex::new((to_client, from_client)));

    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let driver = {
        let (issuer, verifiers, stop, failures, client) = (
            issuer.clone(),
            verifiers.clone(),
            stop.clone(),
            failures.clone(),
            client.clone(),
        );
        std::thread::spawn(move || {
            let mut counts = (0u64, std::collections::BTreeSet::new());
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let Some(token) = issuer.mint(n) else {
                    failures.lock().unwrap().push(format!("mint {n} refused"));
                    continue;
                };
                counts.0 += 1;
                for (i, server) in verifiers.iter().enumerate() {
                    let (status, body) = server.verify(&token);
                    if status != 200 {
                        failures.lock().unwrap().push(format!("server {i}: {body}"));
                    } else if let Some(kid) = body["key_id"].as_str() {
                        counts.1.insert(kid.to_owned());
                    }
                }
                let mut client = client.lock().unwrap();
                if let (Some(to), Some(from)) = &mut *client {
                    writeln!(to, "{token}").unwrap();
                    let mut answer = String::new();
                    from.read_line(&mut answer).unwrap();
                    if answer.trim() != "ok" {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("PyJWKClient: {answer}"));
                    }
                }
            }
            counts
        })
    };

    let all_hold = |id: &str| verifiers.iter().all(|s| holds(s, id));
    std::thread::sleep(Duration::from_millis(300));
    // Add the new key pending and publish it: every verifier (and the JWKS) has it before
    // the issuer signs with it.
    let said = tokenring(&[&["keyring", "add", ring, "--id", "new"], fleet.add].concat());
    assert!(said.contains(fleet.add_says), "{said}");
    publish();
    wait(
        "every verifier holds the new key",
        Duration::from_secs(3),
        || all_hold("new"),
    );
    wait(
        "the issuer signs with the new key",
        Duration::from_secs(6),
        || {
            issuer
                .mint(0)
                .is_some_and(|t| verifiers[0].verify(&t).1["key_id"] == "new")
        },
    );
    std::thread::sleep(Duration::from_millis(500));
    tokenring(&["keyring", "retire", ring, "old", "--expires-in", "1s"]);
    publish();
    std::thread::sleep(Duration::from_millis(1500));
    tokenring(&["keyring", "prune", ring]);
    publish();
    wait(
        "every verifier dropped the old key",
        Duration::from_secs(3),
        || verifiers.iter().all(|s| !holds(s, "old")),
    );
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let (minted, kids) = driver.join().unwrap();

    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} refused: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert!(minted > 20, "only {minted} tokens");
    assert_eq!(kids.into_iter().collect::<Vec<_>>(), ["new", "old"]);
    eprintln!("{minted} tokens, each verified by 3 servers and PyJWKClient: 0 refused");

    // A server on the public keyring says plainly that it mints nothing, sessions included.
    let (user, password) = common::MINTER;
    let (status, body) = verifiers[0].request(
        "POST",
        "/login",
        Some(&serde_json::json!({"user": user, "password": password})),
    );
    assert_eq!(
        (status, body["reason"].as_str()),
        (403, Some("verify_only")),
        "{body}"
    );
    if let Some(mut child) = jwks_client {
        drop(client.lock().unwrap().0.take());
        let _ = child.wait();
    }
}
