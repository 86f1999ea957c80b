//! The ratios of `compare`, measured interleaved: each pair of operations runs in alternating
//! batches of about a millisecond for a few seconds, and the ratio is the median over adjacent
//! batch pairs. Machine noise that drifts over seconds (another tenant, frequency changes)
//! then touches both sides alike, where criterion's one-after-the-other benches can differ by
//! ±10% between two runs of the same code on a shared machine.
//!
//! `cargo bench --bench ratio` (`--features rails` adds the Rails rows; `-- --seconds 5` runs
//! each pair longer).

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::{Floor, LIFETIME, PURPOSE, Small, big, keyring, small, verify_small};
use serde::{Serialize, de::DeserializeOwned};
use tokenring::{Key, Keyring, Secret, TokenOptions, Verifier};

/// ns per call of `a` and of `b` (medians over their batches) and the median of the per-pair
/// ratios a ÷ b.
fn interleaved(time: Duration, a: &dyn Fn(), b: &dyn Fn()) -> (f64, f64, f64) {
    // A batch size that takes about a millisecond for `a`.
    let start = Instant::now();
    let mut calibrate = 0u32;
    while start.elapsed() < Duration::from_millis(20) {
        a();
        calibrate += 1;
    }
    let batch = (calibrate / 20).max(1);
    let run = |op: &dyn Fn()| {
        let start = Instant::now();
        for _ in 0..batch {
            op();
        }
        start.elapsed().as_nanos() as f64 / f64::from(batch)
    };
    let (mut times_a, mut times_b, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let start = Instant::now();
    while start.elapsed() < time {
        let (x, y) = (run(a), run(b));
        times_a.push(x);
        times_b.push(y);
        ratios.push(x / y);
    }
    (median(times_a), median(times_b), median(ratios))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn row(time: Duration, what: &str, a_name: &str, a: &dyn Fn(), b_name: &str, b: &dyn Fn()) {
    let (a_ns, b_ns, ratio) = interleaved(time, a, b);
    println!("| {what} | {a_name} {a_ns:.0} ns | {b_name} {b_ns:.0} ns | {ratio:.2}× |");
}

fn against_floor<T: Serialize + DeserializeOwned>(time: Duration, name: &str, value: T) {
    let options = TokenOptions::new().purpose(PURPOSE).expires_in(LIFETIME);
    let verifier = Verifier::new(keyring(1), "bench");
    let token = verifier.generate(&value, options).unwrap();
    let floor = Floor::new();
    let floor_token = floor.sign(&value);
    assert!(floor.verify::<T>(&floor_token).is_some());
    row(
        time,
        &format!("{name}: verify ÷ floor"),
        "tokenring",
        &|| {
            black_box(
                verifier
                    .verify::<T>(black_box(&token), Some(PURPOSE))
                    .unwrap(),
            );
        },
        "floor",
        &|| {
            black_box(floor.verify::<T>(black_box(&floor_token)).unwrap());
        },
    );
    row(
        time,
        &format!("{name}: sign ÷ floor"),
        "tokenring",
        &|| {
            black_box(verifier.generate(black_box(&value), options).unwrap());
        },
        "floor",
        &|| {
            black_box(floor.sign(black_box(&value)));
        },
    );
}

fn main() {
    let seconds = common::seconds_arg(3.0);
    let time = Duration::from_secs_f64(seconds);
    println!("interleaved batches of ~1 ms for {seconds} s per row; medians");
    println!();
    println!("| ratio | a | b | a ÷ b |");
    println!("|---|---:|---:|---:|");
    against_floor(time, "small", small());
    against_floor(time, "1KiB", big());

    let options = TokenOptions::new().purpose(PURPOSE).expires_in(LIFETIME);
    let verifier = Verifier::new(keyring(1), "bench");
    let token = verifier.generate(&small(), options).unwrap();
    let verify = || {
        black_box(verify_small(&verifier, &token));
    };
    let (signed, tag) = token.rsplit_once('.').unwrap();
    let other = if tag.starts_with('A') { 'B' } else { 'A' };
    let forged = format!("{signed}.{other}{}", &tag[1..]);
    row(
        time,
        "small: forged ÷ verify",
        "forged",
        &|| {
            black_box(
                verifier
                    .verify::<Small>(black_box(&forged), Some(PURPOSE))
                    .is_err(),
            );
        },
        "verify",
        &verify,
    );
    let many = Verifier::new(keyring(64), "bench");
    let single = Keyring::new(vec![Key::new("k31", Secret::from_bytes([32; 32]))]).unwrap();
    let token31 = Verifier::new(single, "bench")
        .generate(&small(), options)
        .unwrap();
    row(
        time,
        "small: 64 keys ÷ 1 key",
        "64 keys",
        &|| {
            black_box(verify_small(&many, &token31));
        },
        "1 key",
        &verify,
    );
    rails(time, &verifier, &token);
}

/// Rails tokens (SHA256, current envelope; SHA1, legacy envelope) ÷ native ones, same value.
#[cfg(feature = "rails")]
fn rails(time: Duration, native: &Verifier, native_token: &str) {
    use tokenring::rails::{Envelope, RailsConfig, RailsDigest, RailsOptions, RailsVerifier};

    let value = small();
    let options = RailsOptions::new().purpose(PURPOSE).expires_in(LIFETIME);
    let native_options = TokenOptions::new().purpose(PURPOSE).expires_in(LIFETIME);
    for (name, digest, envelope) in [
        ("SHA256 current", RailsDigest::Sha256, Envelope::Current),
        ("SHA1 legacy", RailsDigest::Sha1, Envelope::Legacy),
    ] {
        let config = RailsConfig::new(Secret::from_bytes([1; 64]))
            .digest(digest)
            .envelope(envelope);
        let rails = RailsVerifier::new(config);
        let token = rails.generate(&value, options).unwrap();
        row(
            time,
            &format!("Rails {name}: verify ÷ native"),
            "Rails",
            &|| {
                black_box(
                    rails
                        .verify::<Small>(black_box(&token), Some(PURPOSE))
                        .unwrap(),
                );
            },
            "native",
            &|| {
                black_box(
                    native
                        .verify::<Small>(black_box(native_token), Some(PURPOSE))
                        .unwrap(),
                );
            },
        );
        row(
            time,
            &format!("Rails {name}: sign ÷ native"),
            "Rails",
            &|| {
                black_box(rails.generate(black_box(&value), options).unwrap());
            },
            "native",
            &|| {
                black_box(native.generate(black_box(&value), native_options).unwrap());
            },
        );
    }
}

#[cfg(not(feature = "rails"))]
fn rails(_: Duration, _: &Verifier, _: &str) {}
