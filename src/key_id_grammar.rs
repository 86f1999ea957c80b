//! The key id grammar, `[A-Za-z0-9_-]{1,32}`: at the bottom of the crate's imports, so every
//! layer that checks an id (keyring validation, token parsing, error scrubbing) asks it
//! without importing another layer.

/// Whether `id` matches `[A-Za-z0-9_-]{1,32}`, the key id grammar.
pub(crate) fn is_valid_key_id(id: &[u8]) -> bool {
    (1..=32).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
}
