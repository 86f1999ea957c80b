//! One side of `benches/between/run.sh`: verifies (or refuses) the same small token in a loop
//! and prints nanoseconds per call. Built against two revisions of tokenring, so it uses only
//! API both have had since before the performance round (74d769d).
//!
//! `loop verify|forged|none N`

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};
use tokenring::{Key, Keyring, Secret, TokenOptions, Verifier};

#[derive(Serialize, Deserialize)]
struct Small {
    sub: u64,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_default();
    let n: u32 = args
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);

    let key = Key::new("k0", Secret::from_bytes([1; 32]))
        .with_activates_at(Some(SystemTime::now() - Duration::from_secs(3600)));
    let verifier = Verifier::new(Keyring::new(vec![key]).unwrap(), "bench");
    let options = TokenOptions::new()
        .purpose("login")
        .expires_in(Duration::from_secs(900));
    let token = verifier.generate(&Small { sub: 42 }, options).unwrap();
    // The tag's first character changed: still a well-formed tag, refused after one MAC.
    let (signed, tag) = token.rsplit_once('.').unwrap();
    let other = if tag.starts_with('A') { 'B' } else { 'A' };
    let forged = format!("{signed}.{other}{}", &tag[1..]);

    let start = Instant::now();
    for _ in 0..n {
        match what.as_str() {
            "verify" => {
                let verified = verifier.verify::<Small>(black_box(&token), Some("login"));
                black_box(verified.unwrap());
            }
            "forged" => {
                let refused = verifier.verify::<Small>(black_box(&forged), Some("login"));
                black_box(refused.is_err());
            }
            "none" => {}
            _ => {
                eprintln!("usage: loop verify|forged|none N");
                std::process::exit(2);
            }
        }
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(n.max(1));
    println!("{ns:.1}");
}
