//! Metrics (feature `metrics`; without it every count below is a no-op the compiler removes),
//! through the `metrics` facade so any exporter works:
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

#[cfg_attr(feature = "metrics", path = "recorded.rs")]
#[cfg_attr(not(feature = "metrics"), path = "disabled.rs")]
pub(crate) mod counters;

pub(crate) use counters::KeyCounters;

use crate::keyring::KeyState;

/// The label of a token that names no key of the keyring: not a valid key id, so no key's.
pub(crate) const UNKNOWN_KEY: &str = "(unknown)";

/// How many keys of a keyring are in each state: what a reload reports, in plain numbers.
// Reloads happen only in the hot layer.
#[cfg_attr(not(feature = "hot"), allow(dead_code))]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct KeysByState {
    pub(crate) pending: u32,
    pub(crate) active: u32,
    pub(crate) expired: u32,
    pub(crate) disabled: u32,
}

#[cfg_attr(not(feature = "hot"), allow(dead_code))]
impl KeysByState {
    /// Counts one key in `state`.
    pub(crate) fn count(&mut self, state: KeyState) {
        *match state {
            KeyState::Pending => &mut self.pending,
            KeyState::Active => &mut self.active,
            KeyState::Expired => &mut self.expired,
            KeyState::Disabled => &mut self.disabled,
        } += 1;
    }
}
