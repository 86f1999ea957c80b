//! The counters and gauges, recorded through the `metrics` facade.

use std::sync::OnceLock;

use metrics::Counter;

use super::KeysByState;
use crate::error::VerifyError;

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

/// A hot keyring's load attempt (`loaded`, `unchanged` or `refused`), the generation then in
/// force and its keys by state.
#[cfg_attr(not(feature = "hot"), allow(dead_code))]
pub(crate) fn reload(result: &'static str, generation: u64, keys: KeysByState) {
    metrics::counter!("tokenring_reloads_total", "result" => result).increment(1);
    #[allow(clippy::cast_precision_loss)] // generations stay far below 2^53
    metrics::gauge!("tokenring_keyring_generation").set(generation as f64);
    for (state, count) in [
        ("pending", keys.pending),
        ("active", keys.active),
        ("expired", keys.expired),
        ("disabled", keys.disabled),
    ] {
        metrics::gauge!("tokenring_keys", "state" => state).set(f64::from(count));
    }
}
