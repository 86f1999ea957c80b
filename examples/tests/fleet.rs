//! A fleet on loopback: three example servers watch one keyring file while the operator runs
//! the whole rotation protocol with the CLI, bad files included, and a driver mints tokens on
//! one server and verifies them on the other two the whole time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{Server, tokenring, tokenring_command};

/// Waits until every server's status satisfies `done` (at most 5 s).
fn converge(servers: &[Server], what: &str, done: impl Fn(&Value) -> bool) {
    let start = Instant::now();
    loop {
        let statuses: Vec<Value> = servers.iter().map(Server::status).collect();
        if statuses.iter().all(&done) {
            eprintln!("{what}: converged in {:?}", start.elapsed());
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{what}: {statuses:#?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn key<'a>(status: &'a Value, id: &str) -> Option<&'a Value> {
    status["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
}

#[test]
fn fleet_rotation_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyring.json");
    let k = path.to_str().unwrap();
    tokenring(&["keyring", "init", k, "--id", "old"]);
    let servers: Arc<Vec<Server>> = Arc::new(
        (0..3)
            .map(|_| Server::start(path.to_str().unwrap(), &[]))
            .collect(),
    );

    // The driver: mint on server 0, verify at once on 1 and 2, until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let old_tokens = Arc::new(Mutex::new(Vec::<String>::new()));
    let driver = {
        let (servers, stop, failures, old_tokens) = (
            servers.clone(),
            stop.clone(),
            failures.clone(),
            old_tokens.clone(),
        );
        std::thread::spawn(move || {
            let mut minted = 0u64;
            while !stop.load(Ordering::Relaxed) && minted < 20_000 {
                let Some(token) = servers[0].mint(minted) else {
                    failures
                        .lock()
                        .unwrap()
                        .push(format!("mint {minted} failed"));
                    continue;
                };
                if token.starts_with("v1.old.") {
                    old_tokens.lock().unwrap().push(token.clone());
                }
                for server in &servers[1..] {
                    let (code, body) = server.verify(&token);
                    if code != 200 || body["data"]["n"] != minted {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{token}: {code} {body}"));
                    }
                }
                minted += 1;
            }
            minted
        })
    };

    // 1. Add a key that activates in 3 s; every server must accept it before it signs.
    std::thread::sleep(Duration::from_millis(300));
    tokenring(&["keyring", "add", k, "--id", "new", "--activates-in", "3s"]);
    converge(&servers, "new key pending everywhere", |s| {
        key(s, "new").is_some_and(|k| k["state"] == "pending")
    });

    // A bad file in between: refused everywhere, the keyring in force is untouched.
    let good = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, "{\"keys\": [{\"id\": \"half").unwrap();
    converge(&servers, "bad file refused", |s| !s["last_error"].is_null());
    std::fs::write(&path, &good).unwrap();
    converge(&servers, "error cleared", |s| s["last_error"].is_null());

    // 2. At activation every server signs with the new key, no reload needed.
    converge(&servers, "new key signing everywhere", |s| {
        key(s, "new").is_some_and(|k| k["signing"] == true)
    });
    std::thread::sleep(Duration::from_millis(300));

    // 3. Retire the old key; its tokens verify until it expires.
    tokenring(&["keyring", "retire", k, "old", "--expires-in", "2s"]);
    converge(&servers, "old key retiring", |s| {
        s["generation"].as_u64() >= Some(3)
    });
    let old_token = old_tokens
        .lock()
        .unwrap()
        .last()
        .cloned()
        .expect("tokens from the old key");
    for server in &servers[..] {
        assert_eq!(
            server.verify(&old_token).0,
            200,
            "old token before the old key expires"
        );
    }
    converge(&servers, "old key expired", |s| {
        key(s, "old").is_some_and(|k| k["state"] == "expired")
    });

    // Another bad file: an unknown field.
    std::fs::write(&path, good.replace("\"id\"", "\"kid\"")).unwrap();
    converge(&servers, "typo refused", |s| !s["last_error"].is_null());
    let listed = tokenring_command()
        .args(["keyring", "list", k])
        .output()
        .unwrap();
    assert_eq!(
        listed.status.code(),
        Some(1),
        "the CLI refuses the broken file too"
    );
    std::fs::write(&path, &good).unwrap();
    tokenring(&["keyring", "retire", k, "old", "--expires-in", "1s"]);
    std::thread::sleep(Duration::from_millis(1100));

    // 4. Prune: every server converges on the same keyring, and old tokens are rejected.
    tokenring(&["keyring", "prune", k]);
    converge(&servers, "pruned everywhere", |s| {
        s["keys"].as_array().unwrap().len() == 1 && key(s, "new").is_some()
    });
    stop.store(true, Ordering::Relaxed);
    let minted = driver.join().unwrap();

    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} valid tokens rejected: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert!(minted > 100, "only {minted} tokens minted");
    let ids: Vec<Value> = servers.iter().map(|s| s.status()["keys"].clone()).collect();
    assert!(ids.iter().all(|k| k.as_array().unwrap()[0]["id"] == "new"));
    for server in &servers[..] {
        let (code, body) = server.verify(&old_token);
        assert_eq!(
            (code, body["reason"].as_str()),
            (401, Some("bad_signature"))
        );
    }
    eprintln!("{minted} tokens minted and each verified on two other servers; 0 rejected");
}
