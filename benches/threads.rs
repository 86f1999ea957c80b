//! Verify throughput on 1, 2, 4, … threads up to the machine's cores: tokenring beside the
//! hand-written keyed floor (which shares nothing between threads), then tokenring over a
//! hot keyring while a writer swaps it every millisecond. Scaling is ops/s on N threads over
//! ops/s on one; tokenring's scaling should match the floor's.
//!
//! `cargo bench --bench threads` (`-- --seconds 2` to run each point longer).

mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{Floor, LIFETIME, PURPOSE, Small, keyring, small, verify_small};
use tokenring::hot::WatchMode;
use tokenring::source::KeysSource;
use tokenring::{HotKeyring, TokenOptions, Verifier};

/// Runs `op` on `threads` threads for `time`; operations per second, all threads together.
fn throughput(threads: usize, time: Duration, op: &(dyn Fn() + Sync)) -> f64 {
    let stop = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..64 {
                        op();
                    }
                    n += 64;
                }
                done.fetch_add(n, Ordering::Relaxed);
            });
        }
        std::thread::sleep(time);
        stop.store(true, Ordering::Relaxed);
    });
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let seconds = common::seconds_arg(1.0);
    let time = Duration::from_secs_f64(seconds);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let counts: Vec<usize> = std::iter::successors(Some(1), |n| Some(n * 2))
        .take_while(|&n| n <= cores)
        .chain((!cores.is_power_of_two()).then_some(cores))
        .collect();

    let verifier = Verifier::new(keyring(4), "bench");
    let options = TokenOptions::new().purpose(PURPOSE).expires_in(LIFETIME);
    let token = verifier.generate(&small(), options).unwrap();
    let floor = Floor::new();
    let floor_token = floor.sign(&small());

    let hot = HotKeyring::builder(KeysSource::new(keyring(4).keys().to_vec()))
        .mode(WatchMode::Manual)
        .build()
        .unwrap();
    let hot_verifier = Verifier::new(&hot, "bench");
    let hot_token = hot_verifier.generate(&small(), options).unwrap();

    let ours = || {
        black_box(verify_small(&verifier, &token));
    };
    let theirs = || {
        black_box(floor.verify::<Small>(black_box(&floor_token)).unwrap());
    };
    let swapping = || {
        black_box(verify_small(&hot_verifier, &hot_token));
    };

    // Interleaved repetitions, medians: this kind of machine drifts by ±10% over seconds.
    const REPETITIONS: usize = 5;
    let mut samples = vec![[Vec::new(), Vec::new(), Vec::new()]; counts.len()];
    for _ in 0..REPETITIONS {
        for (i, &threads) in counts.iter().enumerate() {
            samples[i][0].push(throughput(threads, time, &ours));
            samples[i][1].push(throughput(threads, time, &theirs));
            // A writer publishes a new snapshot every millisecond (same keys: each verifier
            // derives again, as after a real rotation).
            let writing = Arc::new(AtomicBool::new(true));
            let writer = {
                let (hot, writing) = (hot.clone(), writing.clone());
                let keys = keyring(4);
                std::thread::spawn(move || {
                    while writing.load(Ordering::Relaxed) {
                        let next = tokenring::Keyring::new(keys.keys().to_vec()).unwrap();
                        hot.replace(next);
                        std::thread::sleep(Duration::from_millis(1));
                    }
                })
            };
            samples[i][2].push(throughput(threads, time, &swapping));
            writing.store(false, Ordering::Relaxed);
            writer.join().unwrap();
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!("median of {REPETITIONS} interleaved runs of {seconds} s; {cores} cores");
    println!(
        "| threads | tokenring ops/s | floor ops/s | tokenring scaling | floor scaling | scaling ratio | hot + 1 ms swaps ops/s | its scaling |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut base: Option<(f64, f64, f64)> = None;
    for (i, &threads) in counts.iter().enumerate() {
        let [a, b, c] = &mut samples[i];
        let (a, b, c) = (median(a), median(b), median(c));
        let (a1, b1, c1) = *base.get_or_insert((a, b, c));
        println!(
            "| {threads} | {a:.0} | {b:.0} | {:.2}× | {:.2}× | {:.2} | {c:.0} | {:.2}× |",
            a / a1,
            b / b1,
            (a / a1) / (b / b1),
            c / c1
        );
    }
}
