//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokenring::clock::ManualClock;
use tokenring::{Key, Keyring, Secret};

/// 2027-01-15T08:00:00Z: a fixed "now" for tests.
pub const T0_SECS: u64 = 1_800_000_000;

pub fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(T0_SECS)
}

pub fn hours(n: u64) -> Duration {
    Duration::from_secs(n * 3600)
}

/// A distinct 32-byte secret per `n`.
pub fn secret(n: u8) -> Secret {
    Secret::from_bytes([n; 32])
}

pub fn key(id: &str, n: u8) -> Key {
    Key::new(id, secret(n))
}

/// A keyring of `keys` on a manual clock at `t0()`.
pub fn keyring(keys: Vec<Key>) -> (Keyring, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(t0()));
    (Keyring::new_with_clock(keys, clock.clone()).unwrap(), clock)
}

/// Lower-case hex of `bytes`.
pub fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of lower- or upper-case hex `text` (panics on anything else: test data).
pub fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// Runs a future to completion on this thread. The finders the tests hand to the async APIs
/// never wait on I/O, so polling with a no-op waker until ready is enough — and keeps an
/// async runtime out of the library's test build.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::yield_now();
    }
}

/// A future that is pending once, then ready: an `.await` that really suspends.
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|_| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            std::task::Poll::Pending
        }
    })
    .await;
}

/// What `tracing` logs at `level` and above on this thread while `run` runs, as plain text.
pub fn traced(level: tracing::Level, run: impl FnOnce()) -> String {
    use std::io::Write;
    use std::sync::Mutex;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(level)
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, run);
    let bytes = buffer.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

/// `data` signed as Rails signs it — HMAC over the text (SHA-1, Rails' default, or SHA-256),
/// lowercase hex — as `data--hex`: for payloads Rails' own API would never produce.
#[cfg(feature = "rails")]
pub fn rails_signed(secret: &[u8], sha256: bool, data: &str) -> String {
    use hmac::{Hmac, KeyInit as _, Mac as _};
    let tag = if sha256 {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
        mac.update(data.as_bytes());
        mac.finalize().into_bytes().to_vec()
    } else {
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).unwrap();
        mac.update(data.as_bytes());
        mac.finalize().into_bytes().to_vec()
    };
    format!("{data}--{}", hex_encode(&tag))
}
