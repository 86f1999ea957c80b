//! The etcd source against a real etcd (Debian's `etcd-server`, 3.4): loading with the key's
//! revision, watch pickup, a bad value refused with the last good keyring kept, a watch that
//! must resume past a compaction, and reconnection after etcd is killed and restarted.
//!
//! Each test starts its own etcd on free loopback ports with a temporary data directory. When
//! `etcd` is not installed the tests say so loudly and pass on a developer's machine; with
//! `CI=true` they fail instead.
#![cfg(feature = "etcd")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokenring::hot::WatchMode;
use tokenring::source::{Changes, EtcdSource, EtcdSourceBuilder};
use tokenring::{HotKeyring, Key, Keyring, KeyringSource, TokenOptions, Verifier};

use crate::common::key;
use tokenring_test_support::etcd::Etcd;

/// Writes into etcd as another client would.
trait Write {
    fn put(&self, key: &str, value: &str) -> i64;
    fn compact(&self, revision: i64);
}

impl Write for Etcd {
    /// Puts `value` at `key`; the new revision.
    fn put(&self, key: &str, value: &str) -> i64 {
        let (endpoint, key, value) = (self.endpoint(), key.to_owned(), value.to_owned());
        runtime().block_on(async move {
            let mut client = etcd_client::Client::connect([endpoint], None)
                .await
                .unwrap();
            let response = client.put(key, value, None).await.unwrap();
            response.header().unwrap().revision()
        })
    }

    /// Compacts history up to `revision`.
    fn compact(&self, revision: i64) {
        let endpoint = self.endpoint();
        runtime().block_on(async move {
            let mut client = etcd_client::Client::connect([endpoint], None)
                .await
                .unwrap();
            client.compact(revision, None).await.unwrap();
        });
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn json(keys: Vec<Key>) -> String {
    Keyring::new(keys).unwrap().to_json().to_string()
}

fn signer(verifier: &Verifier) -> String {
    let token = verifier.generate(&1, TokenOptions::new()).unwrap();
    token.split('.').nth(1).unwrap().to_owned()
}

fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

fn source(etcd: &Etcd, name: &str) -> EtcdSource {
    configure(etcd, name).build().unwrap()
}

fn configure(etcd: &Etcd, name: &str) -> EtcdSourceBuilder {
    EtcdSource::builder([etcd.endpoint()], name).timeout(Duration::from_secs(1))
}

/// A source for keyring `name` on `etcd`, with the client certificate when it runs TLS.
fn source_with_tls(etcd: &Etcd, name: &str) -> EtcdSourceBuilder {
    let source = EtcdSource::builder([etcd.endpoint()], name);
    match etcd.tls() {
        None => source,
        Some(certs) => source.tls(
            &certs.read("ca.pem"),
            Some((&certs.read("client.pem"), &certs.read("client.key"))),
        ),
    }
}

#[test]
fn loads_watches_and_refuses_bad_values() {
    let Some(etcd) = Etcd::start() else { return };
    let first = etcd.put("/ring/keyring", &json(vec![key("k1", 1)]));
    let hot = HotKeyring::builder(source(&etcd, "ring")).build().unwrap();
    let verifier = Verifier::new(&hot, "etcd");
    let status = hot.status();
    assert_eq!(status.revision, Some(first.to_string()));
    assert!(
        status
            .source
            .starts_with("etcd /ring/keyring at http://127.0.0.1:"),
        "{status:?}"
    );
    let old = verifier.generate(&"old", TokenOptions::new()).unwrap();

    let second = etcd.put("/ring/keyring", &json(vec![key("k2", 2), key("k1", 1)]));
    assert!(
        wait_for(Duration::from_secs(2), || signer(&verifier) == "k2"),
        "{:?}",
        hot.status()
    );
    assert_eq!(hot.status().revision, Some(second.to_string()));
    assert_eq!(verifier.verify::<String>(&old, None).unwrap().value, "old");

    // A value that is not a keyring is refused exactly like a bad file.
    etcd.put(
        "/ring/keyring",
        r#"{"keys": [{"id": "k3", "secret": "AAAA"}]}"#,
    );
    assert!(wait_for(Duration::from_secs(2), || hot
        .status()
        .last_error
        .is_some()));
    let error = hot.status().last_error.unwrap().to_string();
    assert!(
        error.contains("key \"k3\" (keys[0]): field \"secret\" is 3 bytes"),
        "{error}"
    );
    assert_eq!(signer(&verifier), "k2");
    assert_eq!(hot.generation(), 2);

    // A missing key is a clear error, never a panic or an empty keyring.
    let missing = source(&etcd, "nothing").load(Arc::new(tokenring::clock::SystemClock));
    let error = missing.unwrap_err().to_string();
    assert!(
        error.contains("etcd /nothing/keyring: the key does not exist"),
        "{error}"
    );
}

/// A watch that resumes from a compacted revision announces a change (the reload that
/// follows reads everything) and then keeps following.
#[test]
fn a_watch_resumes_past_a_compaction() {
    let Some(etcd) = Etcd::start() else { return };
    etcd.put("/c/keyring", &json(vec![key("k1", 1)]));
    let source = source(&etcd, "c");
    source
        .load(Arc::new(tokenring::clock::SystemClock))
        .unwrap();
    // History moves on and is compacted before the watch starts from what was loaded.
    for n in 0..5 {
        etcd.put("/c/other", &n.to_string());
    }
    let latest = etcd.put("/c/keyring", &json(vec![key("k2", 2), key("k1", 1)]));
    etcd.compact(latest);

    let announced = Arc::new(AtomicUsize::new(0));
    let count = announced.clone();
    let _watching = source
        .announce(Changes::new(move || {
            count.fetch_add(1, Ordering::SeqCst);
        }))
        .unwrap()
        .expect("etcd announces");
    assert!(wait_for(Duration::from_secs(3), || announced
        .load(Ordering::SeqCst)
        >= 1));
    let before = announced.load(Ordering::SeqCst);
    etcd.put("/c/keyring", &json(vec![key("k3", 3), key("k2", 2)]));
    assert!(
        wait_for(Duration::from_secs(3), || announced.load(Ordering::SeqCst)
            > before),
        "changes after the compaction are announced"
    );
}

/// etcd killed and started again: the node keeps its last good keyring meanwhile, and the
/// first change after the restart is picked up.
#[test]
fn reconnects_after_etcd_restarts() {
    let Some(mut etcd) = Etcd::start() else {
        return;
    };
    etcd.put("/r/keyring", &json(vec![key("k1", 1)]));
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let hot = HotKeyring::builder(source(&etcd, "r"))
        .mode(WatchMode::Events)
        .on_reload(move |event| sink.lock().unwrap().push(format!("{event:?}")))
        .build()
        .unwrap();
    let verifier = Verifier::new(&hot, "etcd");
    let token = verifier.generate(&7, TokenOptions::new()).unwrap();

    etcd.kill();
    std::thread::sleep(Duration::from_millis(1500));
    // Down: still verifying and signing with the last good keyring.
    assert_eq!(verifier.verify::<u8>(&token, None).unwrap().value, 7);
    assert_eq!(signer(&verifier), "k1");

    etcd.restart();
    let revision = etcd.put("/r/keyring", &json(vec![key("k2", 2), key("k1", 1)]));
    assert!(
        wait_for(Duration::from_secs(15), || signer(&verifier) == "k2"),
        "not picked up after the restart: {:?} {:?}",
        hot.status(),
        events.lock().unwrap()
    );
    assert_eq!(hot.status().revision, Some(revision.to_string()));
    assert_eq!(hot.status().last_error, None);
}

#[test]
fn urls_name_the_endpoints_and_the_keyring() {
    let source = EtcdSource::from_url("etcd://10.1.1.1:2379,10.1.1.2:2379/payments").unwrap();
    assert_eq!(
        (source.name(), source.key()),
        ("payments", "/payments/keyring")
    );
    assert!(
        source
            .describe()
            .ends_with("at http://10.1.1.1:2379,http://10.1.1.2:2379")
    );
    for bad in [
        "etcd://h:1",
        "http://h:1/x",
        "etcd:///x",
        "etcd://h:1/",
        "etcd://h:1/a/b",
    ] {
        assert!(EtcdSource::from_url(bad).is_err(), "{bad}");
    }
}

/// Nodes acknowledge under a lease what they hold: the revision, its keys, their last error;
/// a node that stops leaves, one that refuses a value keeps reporting what it holds.
#[test]
fn nodes_acknowledge_what_they_hold() {
    let Some(etcd) = Etcd::start() else { return };
    let first = etcd.put("/f/keyring", &json(vec![key("k1", 1)]));
    let node = |id: &str| {
        let source = configure(&etcd, "f")
            .acknowledge_as(id, Duration::from_secs(30))
            .build()
            .unwrap();
        HotKeyring::builder(source).build().unwrap()
    };
    let (a, b) = (node("node-a"), node("node-b"));
    let reader = source(&etcd, "f");
    let converged = |revision: i64, count: usize| {
        wait_for(Duration::from_secs(5), || {
            reader.nodes().is_ok_and(|nodes| {
                nodes.len() == count && nodes.iter().all(|n| n.revision == revision)
            })
        })
    };
    assert!(converged(first, 2), "{:?}", reader.nodes());
    let nodes = reader.nodes().unwrap();
    assert_eq!(
        (nodes[0].node.as_str(), nodes[1].node.as_str()),
        ("node-a", "node-b")
    );
    assert_eq!(nodes[0].keys, ["k1"]);
    assert_eq!(nodes[0].last_error, None);

    let second = etcd.put("/f/keyring", &json(vec![key("k2", 2), key("k1", 1)]));
    assert!(converged(second, 2), "{:?}", reader.nodes());
    assert_eq!(reader.nodes().unwrap()[1].keys, ["k2", "k1"]);

    // A bad value: each node still holds the last good revision, and says why.
    etcd.put("/f/keyring", "{broken");
    assert!(wait_for(Duration::from_secs(5), || {
        reader
            .nodes()
            .is_ok_and(|nodes| nodes.iter().all(|n| n.last_error.is_some()))
    }));
    assert!(reader.nodes().unwrap().iter().all(|n| n.revision == second));

    // A node that stops leaves at once (its lease is revoked), not after the TTL.
    drop(b);
    assert!(wait_for(Duration::from_secs(3), || {
        reader
            .nodes()
            .is_ok_and(|nodes| nodes.len() == 1 && nodes[0].node == "node-a")
    }));
    assert_eq!(a.status().revision, Some(second.to_string()));
    assert!(
        configure(&etcd, "f")
            .acknowledge_as("bad/id", Duration::from_secs(30))
            .build()
            .is_err()
    );
}

/// With etcd's authentication on, a source without credentials is refused (a clear error, the
/// keyring unchanged) and one with them loads.
#[test]
fn user_and_password() {
    let Some(etcd) = Etcd::start() else { return };
    etcd.put("/auth/keyring", &json(vec![key("k1", 1)]));
    let endpoint = etcd.endpoint();
    runtime().block_on(async move {
        let mut client = etcd_client::Client::connect([endpoint], None)
            .await
            .unwrap();
        client
            .user_add("root", "root-password", None)
            .await
            .unwrap();
        client.role_add("root").await.ok(); // built in on some versions
        client.user_grant_role("root", "root").await.unwrap();
        client.auth_enable().await.unwrap();
    });
    // A refusal is an answer: reported at once, not tried again until the (long) timeout.
    let patient = || configure(&etcd, "auth").timeout(Duration::from_secs(30));
    let start = Instant::now();
    let anonymous = patient()
        .build()
        .unwrap()
        .load(Arc::new(tokenring::clock::SystemClock));
    let error = anonymous.unwrap_err().to_string();
    assert!(
        error.starts_with("cannot read the keyring from etcd /auth/keyring:")
            && error.contains("user name is empty"),
        "{error}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "retried a refusal"
    );
    let keyring = configure(&etcd, "auth")
        .user(
            "root",
            tokenring::Secret::from_bytes(b"root-password".to_vec()),
        )
        .build()
        .unwrap()
        .load(Arc::new(tokenring::clock::SystemClock))
        .unwrap();
    assert_eq!(keyring.keys()[0].id(), "k1");
    let start = Instant::now();
    let wrong = patient()
        .user("root", tokenring::Secret::from_bytes(b"wrong".to_vec()))
        .build()
        .unwrap()
        .load(Arc::new(tokenring::clock::SystemClock));
    let error = wrong.unwrap_err().to_string();
    assert!(error.contains("authentication failed"), "{error}");
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "retried a refusal"
    );
}

/// An endpoint that is down (here the first one listed, as when a member of the cluster has
/// died) is passed over: every node loads, follows changes and acknowledges, and reads
/// succeed, each time. (etcd-client's balanced channel sends some requests to the dead
/// member and fails them; an acknowledgement lost that way used to be lost for good.)
#[test]
fn an_endpoint_that_is_down_is_passed_over() {
    let Some(etcd) = Etcd::start() else { return };
    let first = etcd.put("/d/keyring", &json(vec![key("k1", 1)]));
    // Port 1: nothing listens there, and no other test's etcd can take it meanwhile.
    let endpoints = ["127.0.0.1:1".to_owned(), etcd.endpoint()];
    let node = |id: &str| {
        let source = EtcdSource::builder(endpoints.clone(), "d")
            .timeout(Duration::from_secs(2))
            .acknowledge_as(id, Duration::from_secs(30))
            .build()
            .unwrap();
        HotKeyring::builder(source).build().unwrap()
    };
    let nodes: Vec<HotKeyring> = (0..4).map(|i| node(&format!("n{i}"))).collect();
    let reader = EtcdSource::new(endpoints.clone(), "d").unwrap();
    let converged = |revision: i64| {
        wait_for(Duration::from_secs(10), || {
            reader.nodes().is_ok_and(|all| {
                all.len() == nodes.len() && all.iter().all(|n| n.revision == revision)
            })
        })
    };
    assert!(converged(first), "{:?}", reader.nodes());
    for round in 2..6 {
        let revision = etcd.put(
            "/d/keyring",
            &json(vec![key(&format!("k{round}"), round), key("k1", 1)]),
        );
        assert!(converged(revision), "round {round}: {:?}", reader.nodes());
        for hot in &nodes {
            assert_eq!(hot.status().revision, Some(revision.to_string()));
        }
    }
    for _ in 0..10 {
        let fresh = EtcdSource::new(endpoints.clone(), "d").unwrap();
        assert_eq!(fresh.nodes().unwrap().len(), nodes.len());
    }
}

/// Over TLS with client certificates (etcd's `--client-cert-auth`): a node loads, follows a
/// change and acknowledges; a source that trusts another CA, brings no client certificate
/// or speaks plain HTTP is refused with a clear error.
#[test]
fn tls_with_client_certificates() {
    let Some(etcd) = Etcd::start_tls() else {
        return;
    };
    let certs = etcd.certs();
    let writer = source_with_tls(&etcd, "tls")
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let ring = |keys| Keyring::new(keys).unwrap();
    let first = writer.store(&ring(vec![key("k1", 1)]), None).unwrap();
    let node = source_with_tls(&etcd, "tls")
        .timeout(Duration::from_secs(5))
        .acknowledge_as("n1", Duration::from_secs(30))
        .build()
        .unwrap();
    let hot = HotKeyring::builder(node).build().unwrap();
    let status = hot.status();
    assert_eq!(status.revision, Some(first.to_string()));
    assert!(
        status
            .source
            .starts_with("etcd /tls/keyring at https://127.0.0.1:"),
        "{status:?}"
    );
    let verifier = Verifier::new(&hot, "tls");
    let second = writer
        .store(&ring(vec![key("k2", 2), key("k1", 1)]), Some(first))
        .unwrap();
    assert!(
        wait_for(Duration::from_secs(5), || signer(&verifier) == "k2"),
        "{:?}",
        hot.status()
    );
    assert!(
        wait_for(Duration::from_secs(5), || writer.nodes().is_ok_and(
            |nodes| nodes.len() == 1
                && nodes[0].revision == second
                && nodes[0].keys == ["k2", "k1"]
        )),
        "{:?}",
        writer.nodes()
    );

    let client = (certs.read("client.pem"), certs.read("client.key"));
    let refused = |source: EtcdSourceBuilder| {
        let source = source.timeout(Duration::from_secs(2)).build().unwrap();
        let error = source
            .load(Arc::new(tokenring::clock::SystemClock))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("cannot read the keyring from etcd /tls/keyring:"),
            "{error}"
        );
        error
    };
    let bare = || EtcdSource::builder([etcd.endpoint()], "tls");
    let stranger = refused(bare().tls(&certs.read("other-ca.pem"), Some((&client.0, &client.1))));
    assert!(stranger.contains("UnknownIssuer"), "{stranger}");
    refused(bare().tls(&certs.read("ca.pem"), None));
    refused(bare());
    assert_eq!(signer(&verifier), "k2", "the keyring is untouched");
}

/// A compare-and-swap retried after its answer was lost finds its own write in place: that
/// is success at the revision it landed at, not a conflict. A different value on a stale
/// revision is a conflict, and nothing is written.
#[test]
fn a_retried_write_that_landed_is_not_a_conflict() {
    let Some(etcd) = Etcd::start() else { return };
    let source = source_with_tls(&etcd, "cas").build().unwrap();
    let one = Keyring::new(vec![key("k1", 1)]).unwrap();
    let first = source.store(&one, None).unwrap();
    assert_eq!(source.store(&one, None).unwrap(), first);
    let two = Keyring::new(vec![key("k2", 2), key("k1", 1)]).unwrap();
    let second = source.store(&two, Some(first)).unwrap();
    assert_eq!(source.store(&two, Some(first)).unwrap(), second);

    let stale = source.store(&one, Some(first)).unwrap_err();
    assert!(
        matches!(stale, tokenring::KeyringError::Conflict { .. }),
        "{stale}"
    );
    assert_eq!(source.revision().unwrap(), Some(second));
}
