//! The `metrics` feature: every verification counted once, under the key that verified it (or
//! `(unknown)`) and its outcome; tokens signed per key; reloads and the keyring's gauges. A
//! recorder of plain atomics, scoped to the test's thread, reads them back.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use metrics::{
    Counter, Gauge, Histogram, Key as MetricKey, KeyName, Metadata, Recorder, SharedString, Unit,
};
use tokenring::hot::WatchMode;
use tokenring::{HotKeyring, Keyring, TokenOptions, Verifier};

use crate::common::{hours, key, keyring};

/// Counters and gauges as atomics, by `name{label=value,…}` (labels sorted).
#[derive(Default, Clone)]
struct Recorded(Arc<Mutex<BTreeMap<String, Arc<AtomicU64>>>>);

impl Recorded {
    fn slot(&self, key: &MetricKey) -> Arc<AtomicU64> {
        let mut labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        labels.sort();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        self.0.lock().unwrap().entry(name).or_default().clone()
    }

    fn counter(&self, name: &str) -> u64 {
        self.0
            .lock()
            .unwrap()
            .get(name)
            .map_or(0, |v| v.load(Ordering::Relaxed))
    }

    fn gauge(&self, name: &str) -> f64 {
        f64::from_bits(self.counter(name))
    }

    fn names(&self) -> Vec<String> {
        self.0.lock().unwrap().keys().cloned().collect()
    }
}

impl Recorder for Recorded {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &MetricKey, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(self.slot(key))
    }
    fn register_gauge(&self, key: &MetricKey, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(self.slot(key))
    }
    fn register_histogram(&self, _: &MetricKey, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

fn verifications(key_id: &str, outcome: &str) -> String {
    format!(
        "tokenring_verifications_total{{key_id={key_id},outcome={outcome},verifier=metrics-test}}"
    )
}

#[test]
fn every_verification_is_counted_once_by_key_and_outcome() {
    let recorded = Recorded::default();
    metrics::with_local_recorder(&recorded, || {
        let (ring, clock) = keyring(vec![key("k2", 2), key("k1", 1)]);
        let verifier = Verifier::new(ring, "metrics-test");
        let short = TokenOptions::new().purpose("p").expires_in(hours(1));
        let tokens: Vec<String> = (0..3)
            .map(|i| verifier.generate(&i, short).unwrap())
            .collect();
        for token in &tokens[..2] {
            verifier.verify::<u8>(token, Some("p")).unwrap();
        }
        let _ = verifier.verify::<u8>(&tokens[2], Some("other"));
        let _ = verifier.verify::<String>(&tokens[2], Some("p"));
        let mut tampered = tokens[2].clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let _ = verifier.verify::<u8>(std::str::from_utf8(&tampered).unwrap(), Some("p"));
        let _ = verifier.verify::<u8>(&tokens[0].replacen("k2", "zz", 1), Some("p"));
        let _ = verifier.verify::<u8>("garbage", Some("p"));
        let _ = verifier.verify::<u8>(&"x".repeat(5000), Some("p"));
        clock.advance(hours(2));
        let _ = verifier.verify::<u8>(&tokens[0], Some("p"));

        assert_eq!(
            recorded.counter("tokenring_tokens_signed_total{key_id=k2,verifier=metrics-test}"),
            3
        );
        for (key_id, outcome, count) in [
            ("k2", "ok", 2),
            ("k2", "purpose_mismatch", 1),
            ("k2", "invalid_value", 1),
            ("k2", "bad_signature", 1),
            ("k2", "expired", 1),
            ("(unknown)", "unknown_key", 1),
            ("(unknown)", "malformed", 1),
            ("(unknown)", "too_large", 1),
        ] {
            assert_eq!(
                recorded.counter(&verifications(key_id, outcome)),
                count,
                "{key_id} {outcome}: {:#?}",
                recorded.names()
            );
        }
        // No attacker-chosen label: the unknown key "zz" appears nowhere.
        assert!(recorded.names().iter().all(|n| !n.contains("zz")));
        let total: u64 = recorded
            .names()
            .iter()
            .filter(|n| n.starts_with("tokenring_verifications_total"))
            .map(|n| recorded.counter(n))
            .sum();
        assert_eq!(total, 9, "each verification counted exactly once");
    });
}

/// A key named `unknown` is counted as itself, apart from tokens naming no key.
#[test]
fn a_key_named_unknown_is_not_the_unknown_label() {
    let recorded = Recorded::default();
    metrics::with_local_recorder(&recorded, || {
        let (ring, _clock) = keyring(vec![key("unknown", 2)]);
        let verifier = Verifier::new(ring, "metrics-test");
        let token = verifier.generate(&1, TokenOptions::new()).unwrap();
        verifier.verify::<u8>(&token, None).unwrap();
        let _ = verifier.verify::<u8>(&token.replacen("unknown", "nokey", 1), None);
        assert_eq!(recorded.counter(&verifications("unknown", "ok")), 1);
        assert_eq!(
            recorded.counter(&verifications("unknown", "unknown_key")),
            0
        );
        assert_eq!(
            recorded.counter(&verifications("(unknown)", "unknown_key")),
            1
        );
    });
}

#[test]
fn reloads_and_keyring_gauges() {
    let recorded = Recorded::default();
    metrics::with_local_recorder(&recorded, || {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyring.json");
        let write = |keys| {
            std::fs::write(&path, Keyring::new(keys).unwrap().to_json().as_bytes()).unwrap();
        };
        write(vec![key("k1", 1)]);
        let hot = HotKeyring::builder(tokenring::FileSource::new(&path))
            .mode(WatchMode::Manual)
            .build()
            .unwrap();
        assert_eq!(
            recorded.counter("tokenring_reloads_total{result=loaded}"),
            1
        );
        assert_eq!(recorded.gauge("tokenring_keyring_generation{}"), 1.0);
        assert_eq!(recorded.gauge("tokenring_keys{state=active}"), 1.0);

        let pending = key("k2", 2).with_activates_at(Some(
            std::time::SystemTime::now() + Duration::from_secs(3600),
        ));
        write(vec![pending, key("k1", 1)]);
        assert!(hot.reload().unwrap());
        std::fs::write(&path, "{broken").unwrap();
        assert!(hot.reload().is_err());
        assert!(hot.reload().is_err());
        assert_eq!(
            recorded.counter("tokenring_reloads_total{result=loaded}"),
            2
        );
        assert_eq!(
            recorded.counter("tokenring_reloads_total{result=refused}"),
            2
        );
        assert_eq!(recorded.gauge("tokenring_keyring_generation{}"), 2.0);
        assert_eq!(recorded.gauge("tokenring_keys{state=pending}"), 1.0);
        assert_eq!(recorded.gauge("tokenring_keys{state=active}"), 1.0);
    });
}

/// JWS on a public keyring are counted like v1 tokens: by the key that verified them and
/// their outcome, a refusal that names no key of the keyring under `(unknown)`.
#[cfg(feature = "jose")]
#[test]
fn public_keyring_verifications_are_counted_by_key_and_outcome() {
    use tokenring::jose::{JoseAlgorithm, SigningKey};
    let recorded = Recorded::default();
    metrics::with_local_recorder(&recorded, || {
        let pair = SigningKey::generate(JoseAlgorithm::Es256).unwrap();
        let issuer = Keyring::new(vec![tokenring::Key::from_signing_key("es", pair)]).unwrap();
        let verifier = Verifier::new(issuer.public().unwrap(), "metrics-test");
        let minted = Verifier::new(issuer, "metrics-test")
            .generate(&1, TokenOptions::new().purpose("p"))
            .unwrap();
        verifier.verify::<u8>(&minted, Some("p")).unwrap();
        let _ = verifier.verify::<u8>(&minted, Some("other"));
        let signature_start = minted.rfind('.').unwrap() + 1;
        let mut tampered = minted.clone().into_bytes();
        tampered[signature_start] = if tampered[signature_start] == b'A' {
            b'B'
        } else {
            b'A'
        };
        let _ = verifier.verify::<u8>(std::str::from_utf8(&tampered).unwrap(), Some("p"));
        let _ = verifier.verify::<u8>("a.b.c", Some("p"));
        assert!(
            verifier
                .generate(&1, TokenOptions::new())
                .is_err_and(|e| matches!(e, tokenring::SignError::NoPrivateKey { .. }))
        );
        for (key_id, outcome, count) in [
            ("es", "ok", 1),
            ("es", "purpose_mismatch", 1),
            ("es", "bad_signature", 1),
            ("(unknown)", "malformed", 1),
        ] {
            assert_eq!(
                recorded.counter(&verifications(key_id, outcome)),
                count,
                "{key_id} {outcome}: {:#?}",
                recorded.names()
            );
        }
        assert_eq!(
            recorded.counter("tokenring_tokens_signed_total{key_id=es,verifier=metrics-test}"),
            1,
            "the issuer's token; the public keyring signed none"
        );
    });
}
