//! Following an issuer's keys (feature `jwks`): a JWKS URL as a keyring source, so tokens an
//! OIDC provider (or any JOSE issuer) signs verify while its keys rotate.
//!
//! The source fetches the document, takes each usable key (`RS256`, `PS256`, `ES256`,
//! `EdDSA`) under its `kid` and refuses the others by name, keeping the rest. It schedules its
//! next fetch from the answer — `Cache-Control: max-age` bounded by a minimum and a maximum
//! interval, revalidated with `If-None-Match` — and after a failure backs off (1 s doubling to
//! 5 min), while the hot keyring keeps the last good keys. A token naming a key it does not hold
//! makes it fetch at once, at most once per interval: forged `kid`s cannot make it fetch
//! more often than that.

mod document;
mod http;

pub use document::{JwkRefusal, RefusedJwk};

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::{Announcement, Changes, KeyMiss, KeyringSource, Versioned};
use crate::clock::Clock;
use crate::error::{ConfigProblem, KeyringError};
use crate::keyring::Keyring;

/// A keyring that follows an issuer's JWKS URL (feature `jwks`): tokens an OIDC provider, or
/// any JOSE issuer, signs verify while its keys rotate.
///
/// Each load fetches the document and takes every usable key (`RS256`, `PS256`, `ES256`,
/// `EdDSA`) under its `kid`; the others are refused by name ([`JwksSource::refused`]) and the
/// rest kept. The next fetch is scheduled from the answer — `Cache-Control: max-age`, bounded by
/// [`min_refresh`](JwksSourceBuilder::min_refresh) and
/// [`max_refresh`](JwksSourceBuilder::max_refresh), revalidated with `If-None-Match` — and a
/// failure (down, slow, a non-200, an oversized or invalid document) backs off from 1 s,
/// doubling to 5 min, while the hot keyring keeps the last good keys and reports the error
/// like any source's. A token naming a key not held makes it fetch at once, at most once per
/// [`refetch_interval`](JwksSourceBuilder::refetch_interval): forged `kid`s cannot make it
/// fetch more often.
///
/// ```no_run
/// use std::time::Duration;
/// use tokenring::source::JwksSource;
/// use tokenring::{HotKeyring, Verifier};
///
/// let source = JwksSource::builder("https://issuer.example/.well-known/jwks.json")
///     .min_refresh(Duration::from_secs(60))
///     .build()?;
/// let keys = HotKeyring::builder(source).build()?; // fetched now; refreshed as it says
/// # Ok::<(), tokenring::KeyringError>(())
/// ```
#[derive(Clone)]
pub struct JwksSource {
    inner: Arc<Inner>,
}

/// Configures a [`JwksSource`]; see [`JwksSource::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct JwksSourceBuilder {
    url: String,
    timeout: Duration,
    min_refresh: Duration,
    max_refresh: Duration,
    default_refresh: Duration,
    refetch_interval: Duration,
    max_bytes: usize,
}

struct Inner {
    url: String,
    describe: String,
    agent: ureq::Agent,
    config: JwksSourceBuilder,
    state: Mutex<State>,
    // Wakes the scheduling thread when the next fetch time changes, or it must stop.
    wake: Condvar,
    fetches: AtomicU64,
    // When a fetch for an unknown key was last allowed: the rate bound. (Waiting for one that
    // runs is the hot keyring's part.)
    last_on_demand: Mutex<Option<Instant>>,
}

#[derive(Default)]
struct State {
    // The last good document and its `ETag`: what a 304 confirms.
    held: Option<(String, Option<String>)>,
    refused: Vec<RefusedJwk>,
    next_at: Option<Instant>,
    failures: u32,
}

/// After a failure the next fetch waits this long, doubling per failure...
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// ...up to this (or the maximum refresh interval, if shorter).
const MAX_BACKOFF: Duration = Duration::from_secs(300);

impl JwksSource {
    /// Starts configuring a source on `url`: `https://`, or `http://` to a loopback address
    /// (a sidecar, a test). Checked by [`JwksSourceBuilder::build`].
    pub fn builder(url: impl Into<String>) -> JwksSourceBuilder {
        JwksSourceBuilder {
            url: url.into(),
            timeout: Duration::from_secs(5),
            min_refresh: Duration::from_secs(30),
            max_refresh: Duration::from_secs(3600),
            default_refresh: Duration::from_secs(300),
            refetch_interval: Duration::from_secs(30),
            max_bytes: document::DEFAULT_MAX_BYTES,
        }
    }

    /// The URL, as configured (credentials included, if it has any: the description that logs,
    /// errors and `Debug` show leaves them out).
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// How many requests this source has made (scheduled, on demand, and reloads).
    pub fn fetches(&self) -> u64 {
        self.inner.fetches.load(Ordering::Relaxed)
    }

    /// The keys of the last good document that were refused, each with why.
    pub fn refused(&self) -> Vec<RefusedJwk> {
        self.inner.state().refused.clone()
    }

    /// The keyring the JWKS document `text` gives, and the keys refused: what this source
    /// would load from it (for `tokenring keyring jwks-fetch` and tests).
    ///
    /// # Errors
    ///
    /// [`KeyringError::Unavailable`] for a document that is no JWKS, or whose every key is
    /// refused (each named).
    pub fn keyring_of(
        text: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<(Keyring, Vec<RefusedJwk>), KeyringError> {
        document::keyring_of(text, "JWKS", clock)
    }
}

impl JwksSourceBuilder {
    /// How long one request may take, connecting included (5 s unless set).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The shortest interval between scheduled fetches, whatever `max-age` says (30 s unless
    /// set; at least 100 ms).
    pub fn min_refresh(mut self, interval: Duration) -> Self {
        self.min_refresh = interval.max(Duration::from_millis(100));
        self
    }

    /// The longest interval between scheduled fetches, whatever `max-age` says (1 h unless
    /// set).
    pub fn max_refresh(mut self, interval: Duration) -> Self {
        self.max_refresh = interval;
        self
    }

    /// The interval when the answer says no `max-age` (5 min unless set; bounded by the
    /// minimum and maximum).
    pub fn default_refresh(mut self, interval: Duration) -> Self {
        self.default_refresh = interval;
        self
    }

    /// The shortest interval between fetches made because a token named a key not held
    /// (30 s unless set; at least 100 ms): the bound on what forged `kid`s can cost.
    pub fn refetch_interval(mut self, interval: Duration) -> Self {
        self.refetch_interval = interval.max(Duration::from_millis(100));
        self
    }

    /// The largest document read (256 KiB unless set); a larger one is refused.
    pub fn max_bytes(mut self, max: usize) -> Self {
        self.max_bytes = max;
        self
    }

    /// The source; nothing is fetched until it is loaded.
    ///
    /// # Errors
    ///
    /// [`KeyringError::Config`] ([`ConfigProblem::InsecureUrl`]) for a URL that is neither
    /// `https://` nor `http://` to `127.0.0.1`, `[::1]` or `localhost`.
    pub fn build(self) -> Result<JwksSource, KeyringError> {
        if !acceptable_url(&self.url) {
            return Err(KeyringError::Config {
                store: format!("JWKS {}", self.url),
                problem: ConfigProblem::InsecureUrl,
            });
        }
        let mut config = self;
        config.max_refresh = config.max_refresh.max(config.min_refresh);
        config.default_refresh = config
            .default_refresh
            .clamp(config.min_refresh, config.max_refresh);
        Ok(JwksSource {
            inner: Arc::new(Inner {
                describe: format!("JWKS {}", redacted(&config.url)),
                url: config.url.clone(),
                agent: http::agent(config.timeout),
                config,
                state: Mutex::default(),
                wake: Condvar::new(),
                fetches: AtomicU64::new(0),
                last_on_demand: Mutex::new(None),
            }),
        })
    }
}

/// `url` as logs, errors and status show it: without credentials (`user:password@`), query
/// or fragment, which may carry a secret.
fn redacted(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!("{scheme}://{host}{path}")
}

/// `https://…`, or `http://` to a loopback host.
fn acceptable_url(url: &str) -> bool {
    if url.starts_with("https://") && url.len() > "https://".len() {
        return true;
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One fetch: the keyring of the document (a new one, or the one held when the answer
    /// is 304) and the next fetch scheduled from the answer; or the failure, and the next
    /// fetch backed off.
    fn load(&self, clock: Arc<dyn Clock>) -> Result<Versioned, KeyringError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let etag = {
            let state = self.state();
            state.held.as_ref().and_then(|(_, etag)| etag.clone())
        };
        let config = &self.config;
        let answer = http::fetch(
            &self.agent,
            &self.url,
            etag.as_deref(),
            config.max_bytes,
            config.timeout,
        );
        let loaded = match answer {
            Ok(http::Answer::Fresh {
                text,
                etag,
                max_age,
            }) => document::keyring_of(&text, &self.describe, clock).map(|(keyring, refused)| {
                let mut state = self.state();
                if refused != state.refused {
                    for refusal in &refused {
                        tracing::warn!(source = %self.describe, "tokenring: JWKS {refusal}");
                    }
                }
                state.refused = refused;
                state.held = Some((text, etag.clone()));
                (Versioned::new(keyring, etag), max_age)
            }),
            Ok(http::Answer::NotModified { max_age }) => {
                let held = self.state().held.clone();
                let (text, etag) = held.unwrap_or_default();
                document::keyring_of(&text, &self.describe, clock)
                    .map(|(keyring, _)| (Versioned::new(keyring, etag), max_age))
            }
            Err(reason) => Err(KeyringError::Unavailable {
                store: self.describe.clone(),
                reason,
            }),
        };
        let mut state = self.state();
        let now = Instant::now();
        let result = match loaded {
            Ok((versioned, max_age)) => {
                state.failures = 0;
                let every = max_age
                    .unwrap_or(config.default_refresh)
                    .clamp(config.min_refresh, config.max_refresh);
                state.next_at = Some(now + every);
                Ok(versioned)
            }
            Err(error) => {
                state.failures = state.failures.saturating_add(1);
                let doubled = FIRST_BACKOFF.saturating_mul(1 << (state.failures - 1).min(16));
                state.next_at = Some(now + doubled.min(MAX_BACKOFF.min(config.max_refresh)));
                Err(error)
            }
        };
        drop(state);
        self.wake.notify_all();
        result
    }
}

impl KeyringSource for JwksSource {
    fn load(&self, clock: Arc<dyn Clock>) -> Result<Keyring, KeyringError> {
        Ok(self.inner.load(clock)?.keyring)
    }

    /// The keyring and the document's `ETag`.
    fn load_revision(&self, clock: Arc<dyn Clock>) -> Result<Versioned, KeyringError> {
        self.inner.load(clock)
    }

    fn describe(&self) -> String {
        self.inner.describe.clone()
    }

    /// A thread (`tokenring-jwks`) that announces a change whenever the next fetch is due.
    fn announce(&self, changes: Changes) -> Result<Option<Announcement>, KeyringError> {
        let inner = Arc::clone(&self.inner);
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("tokenring-jwks".to_owned())
            .spawn(move || schedule(&inner, &changes, &stopped))
            .map_err(|error| KeyringError::Unavailable {
                store: self.inner.describe.clone(),
                reason: crate::error::StoreProblem::CannotStart {
                    what: "its schedule",
                    error: error.to_string(),
                },
            })?;
        Ok(Some(Announcement::new(StopOnDrop {
            stop,
            inner: Arc::clone(&self.inner),
        })))
    }

    /// Fetch now, unless a fetch for a missing key ran within the refetch interval.
    fn key_missing(&self) -> KeyMiss {
        let inner = &self.inner;
        let mut last = inner
            .last_on_demand
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if last.is_some_and(|at| now.duration_since(at) < inner.config.refetch_interval) {
            return KeyMiss::Ignore;
        }
        *last = Some(now);
        KeyMiss::Fetch
    }
}

/// Announces a change each time the next fetch falls due, until stopped.
fn schedule(inner: &Inner, changes: &Changes, stop: &AtomicBool) {
    let mut state = inner.state();
    while !stop.load(Ordering::Acquire) {
        let now = Instant::now();
        let due = state.next_at.unwrap_or(now + inner.config.default_refresh);
        if now < due {
            state = inner
                .wake
                .wait_timeout(state, due - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            continue;
        }
        // Until the load this asks for schedules the next one.
        state.next_at = Some(now + inner.config.min_refresh);
        drop(state);
        changes.changed();
        state = inner.state();
    }
}

/// Stops the schedule when the hot keyring stops.
struct StopOnDrop {
    stop: Arc<AtomicBool>,
    inner: Arc<Inner>,
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _state = self.inner.state();
        self.inner.wake.notify_all();
    }
}

impl std::fmt::Debug for JwksSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksSource")
            .field("source", &self.inner.describe)
            .field("fetches", &self.fetches())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http() {
        for (url, ok) in [
            ("https://issuer.example/jwks", true),
            ("http://127.0.0.1:8080/jwks", true),
            ("http://localhost/jwks", true),
            ("http://[::1]:9/jwks", true),
            ("http://issuer.example/jwks", false),
            ("http://127.0.0.1.evil.example/jwks", false),
            ("ftp://issuer.example/jwks", false),
            ("https://", false),
        ] {
            assert_eq!(acceptable_url(url), ok, "{url}");
        }
    }

    #[test]
    fn descriptions_carry_no_credentials() {
        for (url, shown) in [
            (
                "https://user:s3cret@idp.example/jwks?key=abc#x",
                "https://idp.example/jwks",
            ),
            (
                "https://idp.example/a/b@c/jwks",
                "https://idp.example/a/b@c/jwks",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ] {
            assert_eq!(redacted(url), shown);
        }
        let source = JwksSource::builder("https://user:s3cret@idp.example/jwks?key=abc")
            .build()
            .unwrap();
        assert_eq!(source.describe(), "JWKS https://idp.example/jwks");
        assert!(!format!("{source:?}").contains("s3cret"));
    }
}
