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
//
// What a careful engineer writes by hand for the same token, `v1.k1.PAYLOAD.TAG`: the HMAC
// keyed once and cloned per token; on sign the clock read once, the JSON written onto the
// stack and the token built in one buffer of its exact length (the one allocation per
// token); on verify the tag and the payload decoded onto the stack and the envelope parsed
// borrowing its purpose, the clock read once. No tokenring code is used.

#[derive(Serialize)]
struct FloorOut<'a, T> {
    dat: &'a T,
    pur: &'a str,
    exp: u64,
}

#[derive(Deserialize)]
struct FloorIn<'a, T> {
    dat: T,
    #[serde(borrow)]
    pur: std::borrow::Cow<'a, str>,
    exp: u64,
}

pub struct Floor {
    pub mac: Hmac<Sha256>,
}

/// Room on the stack for a payload's JSON (or its decoding); larger ones go to the heap.
const STACK: usize = 2048;
const PREFIX: &str = "v1.k1.";
/// Base64url (unpadded) length of a SHA-256 tag.
const TAG_LEN: usize = 43;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Floor {
    pub fn sign<T: Serialize>(&self, value: &T) -> String {
        let envelope = FloorOut {
            dat: value,
            pur: PURPOSE,
            exp: unix_now() + LIFETIME.as_secs(),
        };
        let mut stack = [0u8; STACK];
        let mut cursor = std::io::Cursor::new(&mut stack[..]);
        let heap;
        let json: &[u8] = if serde_json::to_writer(&mut cursor, &envelope).is_ok() {
            let len = cursor.position() as usize;
            &stack[..len]
        } else {
            heap = serde_json::to_vec(&envelope).unwrap();
            &heap
        };
        let payload_len = (json.len() * 4).div_ceil(3);
        let mut token = String::with_capacity(PREFIX.len() + payload_len + 1 + TAG_LEN);
        token.push_str(PREFIX);
        URL_SAFE_NO_PAD.encode_string(json, &mut token);
        let mut mac = self.mac.clone();
        mac.update(token.as_bytes());
        let tag = mac.finalize().into_bytes();
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(tag, &mut token);
        debug_assert_eq!(token.len(), token.capacity());
        token
    }

    pub fn verify<T: DeserializeOwned>(&self, token: &str) -> Option<T> {
        let (signed, tag_text) = token.rsplit_once('.')?;
        let mut tag = [0u8; 35];
        if tag_text.len() != TAG_LEN || URL_SAFE_NO_PAD.decode_slice(tag_text, &mut tag).ok()? != 32
        {
            return None;
        }
        let mut mac = self.mac.clone();
        mac.update(signed.as_bytes());
        mac.verify_slice(&tag[..32]).ok()?;
        let payload = signed.strip_prefix(PREFIX)?;
        let mut stack = [0u8; STACK];
        let heap;
        let json: &[u8] = if payload.len() / 4 * 3 + 3 <= STACK {
            let len = URL_SAFE_NO_PAD.decode_slice(payload, &mut stack).ok()?;
            &stack[..len]
        } else {
            heap = URL_SAFE_NO_PAD.decode(payload).ok()?;
            &heap
        };
        let envelope: FloorIn<'_, T> = serde_json::from_slice(json).ok()?;
        (envelope.pur == PURPOSE && envelope.exp > unix_now()).then_some(envelope.dat)
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
