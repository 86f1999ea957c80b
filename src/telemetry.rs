//! Metrics (feature `metrics`), through the `metrics` facade so any exporter works:
//!
//! | name | labels | what |
//! |---|---|---|
//! | `tokenring_verifications_total` | `verifier`, `key_id`, `outcome` | verifications; `outcome` is `ok` or a [`VerifyError::reason`] code |
//! | `tokenring_tokens_signed_total` | `verifier`, `key_id` | tokens minted |
//! | `tokenring_reloads_total` | `result` = `loaded`, `unchanged` or `refused` | hot keyring load attempts |
//! | `tokenring_keyring_generation` | | the generation in force (gauge) |
//! | `tokenring_keys` | `state` = `pending`, `active`, `expired`, `disabled` | keys in each state (gauge, refreshed on every load attempt) |
//!
//! `verifier` is the verifier's salt; `key_id` is a key of the keyring, or `(unknown)` when the
//! token names none of them (never a label an attacker chooses; the parentheses are outside
//! the key id grammar, so no key — not even one named `unknown` — shares it). Counter handles are made
//! once per key and keyring snapshot, on first use, not per token. Install the recorder
//! before the first token is verified: a handle made before that stays a no-op for the
//! snapshot.
//!
//! [`VerifyError::reason`]: crate::VerifyError::reason

use std::sync::OnceLock;

use metrics::Counter;

use crate::error::VerifyError;
#[cfg(feature = "watch")]
use crate::keyring::{KeyState, Keyring};

const OUTCOMES: usize = VerifyError::REASONS.len() + 1;

/// One key's counters for one verifier (or the `(unknown)` key's).
pub(crate) struct KeyCounters {
    verifier: String,
    key_id: String,
    outcomes: [OnceLock<Counter>; OUTCOMES],
    signed: OnceLock<Counter>,
}

impl KeyCounters {
    pub(crate) fn new(verifier: &str, key_id: &str) -> Self {
        Self {
            verifier: verifier.to_owned(),
            key_id: key_id.to_owned(),
            outcomes: std::array::from_fn(|_| OnceLock::new()),
            signed: OnceLock::new(),
        }
    }

    /// Counts a verification's outcome.
    pub(crate) fn verified<T>(&self, result: &Result<T, VerifyError>) {
        let index = match result {
            Ok(_) => 0,
            Err(error) => error.reason_index() + 1,
        };
        self.outcomes[index]
            .get_or_init(|| {
                let outcome = match index {
                    0 => "ok",
                    n => VerifyError::REASONS[n - 1],
                };
                metrics::counter!(
                    "tokenring_verifications_total",
                    "verifier" => self.verifier.clone(),
                    "key_id" => self.key_id.clone(),
                    "outcome" => outcome,
                )
            })
            .increment(1);
    }

    /// Counts a token minted.
    pub(crate) fn signed(&self) {
        self.signed
            .get_or_init(|| {
                metrics::counter!(
                    "tokenring_tokens_signed_total",
                    "verifier" => self.verifier.clone(),
                    "key_id" => self.key_id.clone(),
                )
            })
            .increment(1);
    }
}

/// The label of a token that names no key of the keyring: not a valid key id, so no key's.
pub(crate) const UNKNOWN_KEY: &str = "(unknown)";

/// A hot keyring's load attempt (`loaded`, `unchanged` or `refused`) and the keyring then in
/// force.
#[cfg(feature = "watch")]
pub(crate) fn reload(result: &'static str, generation: u64, keyring: &Keyring) {
    metrics::counter!("tokenring_reloads_total", "result" => result).increment(1);
    #[allow(clippy::cast_precision_loss)] // generations stay far below 2^53
    metrics::gauge!("tokenring_keyring_generation").set(generation as f64);
    let now = keyring.now();
    let mut counts = [0u32; 4];
    for key in keyring.keys() {
        counts[match key.state_at(now) {
            KeyState::Pending => 0,
            KeyState::Active => 1,
            KeyState::Expired => 2,
            KeyState::Disabled => 3,
        }] += 1;
    }
    for (state, count) in ["pending", "active", "expired", "disabled"]
        .into_iter()
        .zip(counts)
    {
        metrics::gauge!("tokenring_keys", "state" => state).set(f64::from(count));
    }
}
