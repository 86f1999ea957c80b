//! Verify latency over a hot keyring, idle and while a writer publishes a new keyring every
//! millisecond; and what the read path (arc-swap loads + key lookup) costs per verify.
//!
//! `cargo bench --bench reload`. A small harness rather than criterion because the question
//! is the tail (p99) under concurrent swaps: each verify is timed on its own.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokenring::hot::WatchMode;
use tokenring::source::KeysSource;
use tokenring::{HotKeyring, Key, Keyring, Secret, TokenOptions, Verifier};

const SAMPLES: usize = 1_000_000;

fn keys() -> Vec<Key> {
    (0..4u8)
        .map(|i| Key::new(format!("k{i}"), Secret::from_bytes([i + 1; 32])))
        .collect()
}

/// Median, p99 and p99.9 of `SAMPLES` timed calls of `f`, in nanoseconds.
fn measure(mut f: impl FnMut()) -> (f64, f64, f64) {
    for _ in 0..SAMPLES / 10 {
        f();
    }
    let mut times: Vec<u64> = (0..SAMPLES)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_nanos() as u64
        })
        .collect();
    times.sort_unstable();
    let at = |q: f64| times[((times.len() as f64) * q) as usize] as f64;
    (at(0.5), at(0.99), at(0.999))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let fixed = Verifier::new(Keyring::new(keys()).unwrap(), "bench");
    let hot = HotKeyring::builder(KeysSource::new(keys()))
        .mode(WatchMode::Manual)
        .build()
        .unwrap();
    let over_hot = Verifier::new(&hot, "bench");
    let options = TokenOptions::new()
        .purpose("login")
        .expires_in(Duration::from_secs(900));
    let token = fixed
        .generate(&serde_json::json!({"sub": 42}), options)
        .unwrap();
    let verify = |v: &Verifier| {
        let verified = v
            .verify::<serde_json::Value>(black_box(&token), Some("login"))
            .unwrap();
        black_box(verified);
    };

    let (fixed_median, fixed_p99, fixed_p999) = measure(|| verify(&fixed));
    let (idle_median, idle_p99, idle_p999) = measure(|| verify(&over_hot));

    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (hot, stop) = (hot.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut swaps = 0u64;
            while !stop.load(Ordering::Relaxed) {
                hot.replace(Keyring::new(keys()).unwrap());
                swaps += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
            swaps
        })
    };
    let started = Instant::now();
    let (busy_median, busy_p99, busy_p999) = measure(|| verify(&over_hot));
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let swaps = writer.join().unwrap();

    // The read path alone: the two arc-swap loads a hot verifier does, and the id lookup.
    let (load_median, ..) = measure(|| {
        black_box(hot.load());
        black_box(hot.load());
    });
    let keyring = hot.keyring();
    let (lookup_median, ..) = measure(|| {
        black_box(keyring.get(black_box("k2")));
    });
    let (empty_median, ..) = measure(|| {});

    println!(
        "verify, small token, 4-key keyring ({SAMPLES} timed calls each; Instant overhead {empty_median:.0} ns included)"
    );
    println!("| keyring | median | p99 | p99.9 |");
    println!("|---|---:|---:|---:|");
    println!("| fixed `Keyring` | {fixed_median:.0} ns | {fixed_p99:.0} ns | {fixed_p999:.0} ns |");
    println!("| `HotKeyring`, idle | {idle_median:.0} ns | {idle_p99:.0} ns | {idle_p999:.0} ns |");
    println!(
        "| `HotKeyring`, new keyring every 1 ms ({swaps} swaps in {:.1} s) | {busy_median:.0} ns | {busy_p99:.0} ns | {busy_p999:.0} ns |",
        elapsed.as_secs_f64()
    );
    println!(
        "\nmedian moved by the writer: {:+.1}% (idle → swapping)",
        (busy_median / idle_median - 1.0) * 100.0
    );
    let read_path = (load_median - empty_median).max(0.0) + (lookup_median - empty_median).max(0.0);
    println!(
        "read path (2 arc-swap loads + id lookup): {read_path:.0} ns, {:.1}% of an idle hot verify",
        read_path / (idle_median - empty_median) * 100.0
    );
}
