//! `JwksSource` against a real HTTP server on loopback: an issuer's keys followed through a
//! rotation (scheduled by `max-age`, and at once for a token naming a key not yet held),
//! `ETag` revalidation, every fault keeping the last good keys, one bad key among good ones,
//! and forged `kid`s that cannot make it fetch faster than its rate.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tokenring::error::StoreProblem;
use tokenring::jose::{self, JoseAlgorithm, PublicKey, SigningKey};
use tokenring::source::JwksSource;
use tokenring::{HotKeyring, KeyringError, Verifier, VerifyError};
use tokenring_test_support::http_server::{HttpServer, Reply};

/// An issuer: its keys, the JWKS it publishes, the tokens it mints.
struct Issuer(Vec<(String, SigningKey)>);

impl Issuer {
    fn new(ids: &[&str]) -> Self {
        Self(
            ids.iter()
                .map(|id| {
                    let algorithm = match id.len() % 2 {
                        0 => JoseAlgorithm::EdDsa,
                        _ => JoseAlgorithm::Es256,
                    };
                    ((*id).to_owned(), SigningKey::generate(algorithm).unwrap())
                })
                .collect(),
        )
    }

    /// The JWKS of the keys `ids`.
    fn jwks(&self, ids: &[&str]) -> String {
        let publics: Vec<(String, PublicKey)> = self
            .0
            .iter()
            .filter(|(id, _)| ids.contains(&id.as_str()))
            .map(|(id, key)| (id.clone(), key.public_key()))
            .collect();
        jose::jwks(publics.iter().map(|(id, key)| (id.as_str(), key)))
    }

    /// A token of key `id` for verifier salt `aud`.
    fn token(&self, id: &str) -> String {
        let (_, key) = self.0.iter().find(|(k, _)| k == id).unwrap();
        let claims = serde_json::json!({"dat": id, "aud": "api"});
        jose::sign(id, key, claims.to_string().as_bytes())
    }
}

fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn verified(verifier: &Verifier, token: &str) -> Result<String, VerifyError> {
    verifier.verify::<String>(token, None).map(|v| v.value)
}

/// An issuer rotates k1 → k2: a token of k2 verifies at once (fetched for the unknown kid),
/// and k1 goes when the JWKS that drops it is fetched on schedule (`max-age=1`).
#[test]
fn follows_an_issuer_through_a_rotation() {
    let issuer = Issuer::new(&["k1", "k22"]);
    let server = HttpServer::start(Reply::json(
        &issuer.jwks(&["k1"]),
        Some("\"1\""),
        Some(3600),
    ));
    let source = JwksSource::builder(server.url("/jwks"))
        .min_refresh(Duration::from_millis(100))
        .refetch_interval(Duration::from_millis(100))
        .build()
        .unwrap();
    let hot = HotKeyring::builder(source.clone()).build().unwrap();
    let verifier = Verifier::new(&hot, "api");
    assert_eq!(verified(&verifier, &issuer.token("k1")).unwrap(), "k1");
    assert_eq!(source.fetches(), 1);

    // The issuer publishes k2 and signs with it at once; max-age says an hour.
    server.set(Reply::json(
        &issuer.jwks(&["k1", "k22"]),
        Some("\"2\""),
        Some(1),
    ));
    assert_eq!(verified(&verifier, &issuer.token("k22")).unwrap(), "k22");
    assert_eq!(source.fetches(), 2, "one fetch, for the unknown kid");
    assert_eq!(hot.status().revision.as_deref(), Some("\"2\""));

    // It drops k1; max-age=1 schedules the next fetch within a second.
    server.set(Reply::json(&issuer.jwks(&["k22"]), Some("\"3\""), Some(1)));
    wait_for(Duration::from_secs(10), "k1 dropped", || {
        hot.keyring().get("k1").is_none()
    });
    assert!(matches!(
        verified(&verifier, &issuer.token("k1")),
        Err(VerifyError::UnknownKey { .. })
    ));
    assert_eq!(verified(&verifier, &issuer.token("k22")).unwrap(), "k22");
}

/// Revalidation: after the first fetch every request carries `If-None-Match`; a 304 keeps the
/// keys (no new generation), and a new `ETag` over the same keys publishes nothing either.
#[test]
fn etags_revalidate_and_unchanged_keys_publish_nothing() {
    let issuer = Issuer::new(&["k1"]);
    let jwks = issuer.jwks(&["k1"]);
    let server = HttpServer::start(Reply::json(&jwks, Some("\"v1\""), Some(0)));
    let source = JwksSource::builder(server.url("/jwks"))
        .min_refresh(Duration::from_millis(100))
        .build()
        .unwrap();
    let hot = HotKeyring::builder(source.clone()).build().unwrap();
    wait_for(Duration::from_secs(10), "three fetches", || {
        server.requests().len() >= 3
    });
    let requests = server.requests();
    assert_eq!(requests[0].if_none_match, None);
    assert!(
        requests[1..]
            .iter()
            .all(|r| r.if_none_match.as_deref() == Some("\"v1\""))
    );
    assert_eq!(hot.generation(), 1);
    server.set(Reply::json(&jwks, Some("\"v2\""), Some(0)));
    wait_for(Duration::from_secs(10), "the new ETag held", || {
        hot.status().revision.as_deref() == Some("\"v2\"")
    });
    assert_eq!(hot.generation(), 1, "the same keys: nothing published");
    assert!(hot.status().last_error.is_none());
}

/// Each fault is refused, named, and the last good keys stay: the server down, slower than
/// the timeout, answering 500, HTML, 10 MB, a JWKS of no usable key, a redirect. It comes back: the
/// keys are fetched again and the error clears.
#[test]
fn every_fault_keeps_the_last_good_keys() {
    let issuer = Issuer::new(&["k1"]);
    let good = Reply::json(&issuer.jwks(&["k1"]), None, Some(3600));
    let mut server = HttpServer::start(good.clone());
    let source = JwksSource::builder(server.url("/jwks"))
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let hot = HotKeyring::builder(source).build().unwrap();
    let verifier = Verifier::new(&hot, "api");
    let token = issuer.token("k1");
    let refused = |what: &str, check: &dyn Fn(&StoreProblem) -> bool| {
        match hot.reload() {
            Err(KeyringError::Unavailable { reason, store }) => {
                assert!(check(&reason), "{what}: {reason}");
                assert!(store.contains("/jwks"), "{what}: {store}");
            }
            other => panic!("{what}: {other:?}"),
        }
        assert!(hot.status().last_error.is_some(), "{what}");
        assert_eq!(verified(&verifier, &token).unwrap(), "k1", "{what}");
        assert_eq!(hot.generation(), 1, "{what}");
    };
    let slow = Reply {
        delay: Duration::from_secs(2),
        ..good.clone()
    };
    server.set(slow);
    refused("slow", &|p| matches!(p, StoreProblem::NoAnswer { .. }));
    server.set(Reply::status(500, "text/plain", b"oops"));
    refused("500", &|p| matches!(p, StoreProblem::HttpStatus(500)));
    server.set(Reply::status(
        200,
        "text/html",
        b"<html><body>Bad gateway</body></html>",
    ));
    refused("HTML", &|p| matches!(p, StoreProblem::NotJwks(_)));
    let huge = format!("{{\"keys\": [], \"pad\": \"{}\"}}", "x".repeat(10 << 20));
    server.set(Reply::status(200, "application/json", huge.as_bytes()));
    refused("10 MB", &|p| matches!(p, StoreProblem::TooLarge { .. }));
    server.set(Reply::json(
        r#"{"keys": [{"kty": "oct", "kid": "h", "k": "AA"}]}"#,
        None,
        None,
    ));
    refused("no usable key", &|p| {
        matches!(p, StoreProblem::NoUsableJwk { .. })
    });
    // A redirect is not followed: the document comes from the URL configured only.
    server.set(Reply {
        status: 302,
        headers: vec![("Location".into(), format!("{}/elsewhere", server.url("")))],
        ..good.clone()
    });
    refused("redirect", &|p| matches!(p, StoreProblem::HttpStatus(302)));
    server.stop();
    refused("down", &|p| matches!(p, StoreProblem::Said(_)));
    server.restart();
    server.set(good);
    assert!(!hot.reload().unwrap(), "the same keys");
    assert!(hot.status().last_error.is_none());
}

/// One bad key among good ones: the good ones verify, the bad one is named with why.
#[test]
fn one_bad_key_among_good_ones() {
    let issuer = Issuer::new(&["k1", "k22"]);
    let mut jwks: serde_json::Value = serde_json::from_str(&issuer.jwks(&["k1", "k22"])).unwrap();
    jwks["keys"].as_array_mut().unwrap().push(
        serde_json::json!({"kty": "EC", "crv": "P-256", "kid": "broken", "x": "AA", "y": "AA"}),
    );
    let server = HttpServer::start(Reply::json(&jwks.to_string(), None, None));
    let source = JwksSource::builder(server.url("/jwks")).build().unwrap();
    let hot = HotKeyring::builder(source.clone()).build().unwrap();
    let verifier = Verifier::new(&hot, "api");
    for id in ["k1", "k22"] {
        assert_eq!(verified(&verifier, &issuer.token(id)).unwrap(), id);
    }
    let refused: Vec<String> = source.refused().iter().map(ToString::to_string).collect();
    assert_eq!(refused, ["key \"broken\" (keys[2]): not a valid key"]);
}

/// A flood of tokens naming random keys: the source fetches at most once per refetch
/// interval, and a valid token keeps verifying throughout.
#[test]
fn forged_kids_cannot_make_it_fetch_faster_than_its_rate() {
    let issuer = Issuer::new(&["k1"]);
    let server = HttpServer::start(Reply::json(
        &issuer.jwks(&["k1"]),
        Some("\"1\""),
        Some(3600),
    ));
    let interval = Duration::from_millis(200);
    let source = JwksSource::builder(server.url("/jwks"))
        .refetch_interval(interval)
        .build()
        .unwrap();
    let hot = HotKeyring::builder(source.clone()).build().unwrap();
    let verifier = Verifier::new(&hot, "api");
    let good = issuer.token("k1");
    let claims = URL_SAFE_NO_PAD.encode(br#"{"dat":"x","aud":"api"}"#);
    let start = Instant::now();
    let mut forged = 0u32;
    while start.elapsed() < Duration::from_millis(1500) {
        forged += 1;
        let header = format!(r#"{{"alg":"EdDSA","kid":"forged-{forged}"}}"#);
        let token = format!(
            "{}.{claims}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode([0u8; 64])
        );
        assert!(matches!(
            verified(&verifier, &token),
            Err(VerifyError::UnknownKey { .. })
        ));
        if forged.is_multiple_of(50) {
            assert_eq!(verified(&verifier, &good).unwrap(), "k1");
        }
    }
    let elapsed = start.elapsed();
    let allowed = 1 + (elapsed.as_millis() / interval.as_millis()) as u64 + 1;
    assert!(forged > 100, "only {forged} forged tokens");
    assert!(
        source.fetches() <= allowed,
        "{} fetches for {forged} forged kids in {elapsed:?} (at most {allowed})",
        source.fetches()
    );
}

/// Many requests at once carry the first token of a new key: one fetch runs, the others wait
/// for it instead of failing, and all verify.
#[test]
fn concurrent_tokens_of_a_new_key_share_one_fetch() {
    let issuer = Issuer::new(&["k1", "k22"]);
    let server = HttpServer::start(Reply::json(&issuer.jwks(&["k1"]), None, Some(3600)));
    let source = JwksSource::builder(server.url("/jwks")).build().unwrap();
    let hot = HotKeyring::builder(source.clone()).build().unwrap();
    let verifier = Verifier::new(&hot, "api");
    server.set(Reply {
        delay: Duration::from_millis(300),
        ..Reply::json(&issuer.jwks(&["k1", "k22"]), None, Some(3600))
    });
    let token = issuer.token("k22");
    let barrier = std::sync::Barrier::new(8);
    std::thread::scope(|scope| {
        let results: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    verified(&verifier, &token)
                })
            })
            .collect();
        for result in results {
            assert_eq!(result.join().unwrap().unwrap(), "k22");
        }
    });
    assert_eq!(
        source.fetches(),
        2,
        "the first load and one fetch for the new kid"
    );
}

/// A failing issuer is not hammered: with a schedule of 100 ms while healthy, fetches back off
/// after failures (1 s, then 2 s, …), and the source comes back on its own once the issuer
/// answers again.
#[test]
fn failures_back_off_and_recover_on_their_own() {
    let issuer = Issuer::new(&["k1", "k22"]);
    let server = HttpServer::start(Reply::json(&issuer.jwks(&["k1"]), None, Some(0)));
    let source = JwksSource::builder(server.url("/jwks"))
        .min_refresh(Duration::from_millis(100))
        .build()
        .unwrap();
    let hot = HotKeyring::builder(source.clone()).build().unwrap();
    wait_for(
        Duration::from_secs(10),
        "healthy fetches every 100 ms",
        || source.fetches() >= 5,
    );
    server.set(Reply::status(503, "text/plain", b"down for maintenance"));
    wait_for(Duration::from_secs(10), "the failure seen", || {
        hot.status().last_error.is_some()
    });
    let before = source.fetches();
    std::thread::sleep(Duration::from_millis(2500));
    let tries = source.fetches() - before;
    assert!(
        tries <= 3,
        "{tries} fetches in 2.5 s of failures: no back-off"
    );
    assert_eq!(
        verified(&Verifier::new(&hot, "api"), &issuer.token("k1")).unwrap(),
        "k1"
    );
    server.set(Reply::json(&issuer.jwks(&["k22"]), None, Some(0)));
    wait_for(Duration::from_secs(15), "recovered on its own", || {
        hot.keyring().get("k22").is_some() && hot.status().last_error.is_none()
    });
}
