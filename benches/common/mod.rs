//! What the benches share: the payloads, the hand-written keyed floor, and keyrings.
#![allow(dead_code)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit as _, Mac as _};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sha2::Sha256;
use tokenring::{Key, Keyring, Secret, Verified, Verifier};

pub const PURPOSE: &str = "login";
pub const LIFETIME: Duration = Duration::from_secs(15 * 60);

#[derive(Serialize, Deserialize, Clone)]
pub struct Small {
    pub sub: u64,
}

#[derive(Serialize, Deserialize, Clone)]
pub struct Big {
    pub sub: u64,
    pub data: String,
}

pub fn small() -> Small {
    Small { sub: 42 }
}

/// About 1 KiB of JSON.
pub fn big() -> Big {
    Big {
        sub: 42,
        data: "The quick brown fox jumps over the lazy dog. ".repeat(22),
    }
}

pub fn exp() -> u64 {
    (SystemTime::now() + LIFETIME)
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

// --- the hand-written floor -------------------------------------------------------------

#[derive(Serialize)]
struct FloorOut<'a, T> {
    dat: &'a T,
    pur: &'a str,
    exp: u64,
}

#[derive(Deserialize)]
struct FloorIn<T> {
    dat: T,
    pur: String,
    exp: u64,
}

pub struct Floor {
    pub mac: Hmac<Sha256>,
}

impl Floor {
    pub fn sign<T: Serialize>(&self, value: &T) -> String {
        let json = serde_json::to_vec(&FloorOut {
            dat: value,
            pur: PURPOSE,
            exp: exp(),
        })
        .unwrap();
        let signed = format!("v1.k1.{}", URL_SAFE_NO_PAD.encode(json));
        let mut mac = self.mac.clone();
        mac.update(signed.as_bytes());
        let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signed}.{tag}")
    }

    pub fn verify<T: DeserializeOwned>(&self, token: &str) -> Option<T> {
        let (signed, tag) = token.rsplit_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let mut mac = self.mac.clone();
        mac.update(signed.as_bytes());
        mac.verify_slice(&tag).ok()?;
        let payload = signed.rsplit_once('.')?.1;
        let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let envelope: FloorIn<T> = serde_json::from_slice(&json).ok()?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
        (envelope.pur == PURPOSE && envelope.exp > now).then_some(envelope.dat)
    }
}

impl Floor {
    /// The floor keyed with the bytes the benches give tokenring's key.
    pub fn new() -> Self {
        Self {
            mac: Hmac::new_from_slice(&[1; 32]).unwrap(),
        }
    }
}

/// A verify of a small token as every bench times it: the token hidden from the optimiser, the
/// result handed back for the caller to keep (criterion's `iter` does, or `black_box`).
pub fn verify_small(verifier: &Verifier, token: &str) -> Verified<Small> {
    verifier
        .verify::<Small>(black_box(token), Some(PURPOSE))
        .unwrap()
}

/// `n` keys, the first signing.
pub fn keyring(n: usize) -> Arc<Keyring> {
    let now = SystemTime::now();
    let keys = (0..n)
        .map(|i| {
            Key::new(format!("k{i}"), Secret::from_bytes([i as u8 + 1; 32]))
                .with_activates_at(Some(now - Duration::from_secs(3600 * (i as u64 + 1))))
        })
        .collect();
    Arc::new(Keyring::new(keys).unwrap())
}

/// `--seconds S` from the command line (how long each measured point runs), else `default`.
pub fn seconds_arg(default: f64) -> f64 {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--seconds" {
            return args.next().and_then(|s| s.parse().ok()).unwrap_or(default);
        }
    }
    default
}
