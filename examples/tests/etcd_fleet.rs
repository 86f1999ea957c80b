//! A fleet on etcd: a 3-member etcd cluster and 3 example servers that acknowledge as nodes.
//! A driver mints on one server and verifies on the others the whole time while the operator
//! runs add → activate-when-converged → retire → prune; meanwhile the etcd leader is killed
//! (SIGKILL) and one server is paused (SIGSTOP): activation waits, naming that server, and
//! proceeds once it runs again (SIGCONT). No valid token is rejected; every node ends on the
//! same revision; the pruned key's tokens are refused.
#![cfg(feature = "etcd")]

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{Server, tokenring, tokenring_command};

use tokenring_test_support::etcd::{self as etcd_harness, free_port};

/// Three etcd members on loopback, each killed on drop.
struct Cluster {
    members: Vec<(Child, u16)>,
    _dir: tempfile::TempDir,
}

impl Cluster {
    fn start() -> Option<Self> {
        etcd_harness::etcd_binary()?;
        let dir = tempfile::tempdir().unwrap();
        let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
        let initial: Vec<String> = ports
            .iter()
            .enumerate()
            .map(|(i, (_, peer))| format!("m{i}=http://127.0.0.1:{peer}"))
            .collect();
        let members = ports
            .iter()
            .enumerate()
            .map(|(i, &(client, peer))| {
                let client_url = format!("http://127.0.0.1:{client}");
                let peer_url = format!("http://127.0.0.1:{peer}");
                let child = Command::new("etcd")
                    .args(["--name", &format!("m{i}"), "--data-dir"])
                    .arg(dir.path().join(format!("m{i}")))
                    .args(["--listen-client-urls", &client_url])
                    .args(["--advertise-client-urls", &client_url])
                    .args(["--listen-peer-urls", &peer_url])
                    .args(["--initial-advertise-peer-urls", &peer_url])
                    .args(["--initial-cluster", &initial.join(",")])
                    .args(["--initial-cluster-state", "new"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
                (child, client)
            })
            .collect();
        let cluster = Self { members, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while cluster.leader().is_none() {
            assert!(
                Instant::now() < deadline,
                "the etcd cluster elected no leader"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        Some(cluster)
    }

    fn ring(&self, name: &str) -> String {
        let hosts: Vec<String> = self
            .members
            .iter()
            .map(|(_, port)| format!("127.0.0.1:{port}"))
            .collect();
        format!("etcd://{}/{name}", hosts.join(","))
    }

    /// The index of the member that leads, asked through etcd's JSON gateway.
    fn leader(&self) -> Option<usize> {
        self.members.iter().position(|(_, port)| {
            let status = post(*port, "/v3/maintenance/status");
            let (id, leader) = (&status["header"]["member_id"], &status["leader"]);
            !id.is_null() && id == leader
        })
    }

    fn kill(&mut self, member: usize) {
        let (child, _) = &mut self.members[member];
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for (child, _) in &mut self.members {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn post(port: u16, path: &str) -> Value {
    etcd_harness::gateway(&format!("127.0.0.1:{port}"), path, "{}")
        .and_then(|response| {
            let (_, body) = response.split_once("\r\n\r\n")?;
            serde_json::from_str(body).ok()
        })
        .unwrap_or(Value::Null)
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status();
    assert!(status.unwrap().success());
}

fn wait(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("{what}: {:?}", start.elapsed());
}

fn signing(server: &Server) -> Option<String> {
    let status = server.status();
    status["keys"]
        .as_array()?
        .iter()
        .find(|k| k["signing"] == true)
        .and_then(|k| k["id"].as_str().map(str::to_owned))
}

#[test]
fn a_fleet_rotates_through_a_leader_kill_and_a_paused_node() {
    let Some(mut cluster) = Cluster::start() else {
        return;
    };
    let ring = cluster.ring("fleet");
    tokenring(&["keyring", "init", &ring, "--id", "old"]);
    let servers: Arc<Vec<Server>> = Arc::new(
        (0..3)
            .map(|i| {
                Server::start_logging(
                    &ring,
                    &["--node-id", &format!("s{i}")],
                    "warn,tokenring=debug",
                )
            })
            .collect(),
    );
    wait(Duration::from_secs(10), "three nodes acknowledge", || {
        tokenring(&["fleet", "status", &ring]).contains("3 live node(s)")
    });

    // The driver: mint on one running server, verify on the other running ones.
    let paused = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let old_tokens = Arc::new(Mutex::new(Vec::<String>::new()));
    let verified = Arc::new(AtomicUsize::new(0));
    let driver = {
        let (servers, paused, stop, failures, old_tokens, verified) = (
            servers.clone(),
            paused.clone(),
            stop.clone(),
            failures.clone(),
            old_tokens.clone(),
            verified.clone(),
        );
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let running = if paused.load(Ordering::Relaxed) { 2 } else { 3 };
                let minter = &servers[(n as usize) % running];
                n += 1;
                let Some(token) = minter.mint(n) else {
                    failures.lock().unwrap().push(format!("mint {n} failed"));
                    continue;
                };
                if token.starts_with("v1.old.") {
                    old_tokens.lock().unwrap().push(token.clone());
                }
                for server in servers[..running].iter() {
                    let (code, body) = server.verify(&token);
                    if code == 200 && body["data"]["n"] == n {
                        verified.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{token}: {code} {body}"));
                    }
                }
            }
        })
    };

    // Pause s2, then promote a new key while the etcd leader dies.
    let stopped = &servers[2];
    paused.store(true, Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(200)); // the driver stops using s2
    signal(&stopped.child, "STOP");
    let mut add = tokenring_command()
        .args([
            "keyring",
            "add",
            &ring,
            "--id",
            "new",
            "--activate-when-converged",
        ])
        .args(["--timeout", "60s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let leader = cluster.leader().expect("a leader");
    cluster.kill(leader);
    std::thread::sleep(Duration::from_secs(4));
    if add.try_wait().unwrap().is_some() {
        let output = add.wait_with_output().unwrap();
        panic!(
            "activation did not wait for the paused node: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    signal(&stopped.child, "CONT");
    paused.store(false, Ordering::Relaxed);
    let output = add.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(
        output.status.success(),
        "{stdout}\n{stderr}\nthe servers' logs:\n{}",
        servers
            .iter()
            .enumerate()
            .map(|(i, s)| format!("s{i}:\n{}", s.log()))
            .collect::<String>()
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("waiting for") && l.contains("s2 (revision")),
        "the paused node was named: {stderr}"
    );
    assert!(stdout.contains("all 3 live node(s) hold it"), "{stdout}");

    wait(
        Duration::from_secs(15),
        "every server signs with the new key",
        || servers.iter().all(|s| signing(s).as_deref() == Some("new")),
    );
    tokenring(&["keyring", "retire", &ring, "old", "--expires-in", "2s"]);
    std::thread::sleep(Duration::from_secs(3));
    tokenring(&["keyring", "prune", &ring]);
    wait(
        Duration::from_secs(15),
        "every node on the same revision",
        || {
            let revisions: Vec<Value> = servers
                .iter()
                .map(|s| s.status()["revision"].clone())
                .collect();
            revisions.iter().all(|r| !r.is_null() && *r == revisions[0])
                && servers
                    .iter()
                    .all(|s| !s.status()["keys"].to_string().contains("\"old\""))
        },
    );
    stop.store(true, Ordering::Relaxed);
    driver.join().unwrap();

    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} valid tokens rejected: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    let old = old_tokens.lock().unwrap();
    assert!(!old.is_empty() && verified.load(Ordering::Relaxed) > 100);
    for server in servers.iter() {
        let (code, body) = server.verify(&old[0]);
        assert_ne!(code, 200, "a pruned key's token verified: {body}");
    }
    eprintln!(
        "{} verifications, none rejected; {} tokens minted by the pruned key, now refused",
        verified.load(Ordering::Relaxed),
        old.len()
    );
}

/// Not a test: the numbers the README reports. Run with
/// `cargo test --release -p tokenring-examples --features etcd --test etcd_fleet -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a test: run it by hand"]
fn measure_propagation_verify_cost_and_footprint() {
    use tokenring::source::{EtcdSource, EtcdSourceBuilder};
    use tokenring::{FileSource, HotKeyring, Keyring, TokenOptions, Verifier};

    let Some(cluster) = Cluster::start() else {
        return;
    };
    let ring = cluster.ring("measure");
    tokenring(&["keyring", "init", &ring, "--id", "k0"]);
    let threads = || {
        std::fs::read_to_string("/proc/self/status")
            .unwrap()
            .lines()
            .find_map(|l| {
                l.strip_prefix("Threads:")
                    .map(|n| n.trim().parse::<u64>().unwrap())
            })
            .unwrap()
    };
    let rss_kib = || {
        std::fs::read_to_string("/proc/self/status")
            .unwrap()
            .lines()
            .find_map(|l| {
                l.strip_prefix("VmRSS:").map(|n| {
                    n.trim()
                        .trim_end_matches(" kB")
                        .trim()
                        .parse::<u64>()
                        .unwrap()
                })
            })
            .unwrap()
    };
    let (threads_before, rss_before) = (threads(), rss_kib());
    let node = |id: &str| {
        let source = EtcdSourceBuilder::from_url(&ring)
            .unwrap()
            .acknowledge_as(id, Duration::from_secs(30))
            .build()
            .unwrap();
        HotKeyring::builder(source).build().unwrap()
    };
    let first = node("n0");
    std::thread::sleep(Duration::from_millis(500));
    println!(
        "one etcd source with acknowledgements: +{} threads, +{} KiB RSS",
        threads() - threads_before,
        rss_kib().saturating_sub(rss_before)
    );
    let nodes = [first, node("n1"), node("n2")];

    // Propagation: a write until every node has acknowledged it.
    let writer = EtcdSource::from_url(&ring).unwrap();
    let clock: Arc<dyn tokenring::clock::Clock> = Arc::new(tokenring::clock::SystemClock);
    let mut samples = Vec::new();
    for i in 1..=50 {
        let (keyring, revision) = writer.read(clock.clone()).unwrap().unwrap();
        let mut keys = vec![tokenring::Key::new(
            format!("k{i}"),
            tokenring::Secret::random(32).unwrap(),
        )];
        keys.extend(keyring.keys().iter().take(3).cloned());
        let updated = Keyring::new(keys).unwrap();
        let start = Instant::now();
        let written = writer.store(&updated, Some(revision)).unwrap();
        while !writer
            .nodes()
            .unwrap()
            .iter()
            .filter(|n| n.revision >= written)
            .count()
            .eq(&3)
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        samples.push(start.elapsed());
    }
    samples.sort();
    println!(
        "propagation, write to every node's acknowledgement (50 rotations, 3 nodes): median {:?}, max {:?}",
        samples[25], samples[49]
    );

    // Verify cost: the same keys through an etcd source and a file source.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.json");
    std::fs::write(&path, nodes[0].keyring().to_json()).unwrap();
    let file = HotKeyring::builder(FileSource::new(&path)).build().unwrap();
    let time = |verifier: &Verifier| {
        let token = verifier
            .generate(
                &serde_json::json!({"sub": 42}),
                TokenOptions::new().purpose("p"),
            )
            .unwrap();
        let mut best = Duration::MAX;
        for _ in 0..5 {
            let start = Instant::now();
            for _ in 0..200_000 {
                std::hint::black_box(verifier.verify::<Value>(&token, Some("p")).unwrap());
            }
            best = best.min(start.elapsed() / 200_000);
        }
        best
    };
    // Interleaved, best of each: the other nodes' runtimes share these two cores.
    let (etcd_verifier, file_verifier) = (Verifier::new(&nodes[0], "m"), Verifier::new(&file, "m"));
    let (mut on_etcd, mut on_file) = (Duration::MAX, Duration::MAX);
    for _ in 0..3 {
        on_etcd = on_etcd.min(time(&etcd_verifier));
        on_file = on_file.min(time(&file_verifier));
    }
    println!(
        "verify, best of 3 × 5 × 200k, interleaved: etcd source {on_etcd:?}, file source {on_file:?} ({:+.1}%)",
        (on_etcd.as_secs_f64() / on_file.as_secs_f64() - 1.0) * 100.0
    );
}
