//! Without the `metrics` feature: the same calls, doing nothing, so the verify path and the
//! hot keyring carry no `cfg`.

use super::KeysByState;
use crate::error::VerifyError;

/// No counters: zero-sized, every call empty.
pub(crate) struct KeyCounters;

impl KeyCounters {
    pub(crate) fn new(_verifier: &str, _key_id: &str) -> Self {
        Self
    }

    #[inline(always)]
    pub(crate) fn verified<T>(&self, _result: &Result<T, VerifyError>) {}

    #[inline(always)]
    pub(crate) fn signed(&self) {}
}

#[inline(always)]
#[cfg_attr(not(feature = "hot"), allow(dead_code))]
pub(crate) fn reload(_result: &'static str, _generation: u64, _keys: KeysByState) {}
