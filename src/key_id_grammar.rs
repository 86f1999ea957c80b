//! The key id grammars: at the bottom of the crate's imports, so every layer that checks an id
//! (keyring validation, token parsing, error scrubbing) asks them without importing another
//! layer.
//!
//! - HMAC keys: `[A-Za-z0-9_-]{1,32}` — they are named inside `v1.` tokens, between dots.
//! - Public keys: 1 to 128 printable ASCII characters (`!` to `~`) — they are named by a JWS
//!   header's `kid`, and issuers choose theirs: 40 hex digits (Google), a 43-character
//!   thumbprint (Keycloak, Okta, `oidc-provider`), base64 with `+/=` (Amazon Cognito).

/// Whether `id` matches `[A-Za-z0-9_-]{1,32}`, the key id grammar of HMAC keys.
pub(crate) fn is_valid_key_id(id: &[u8]) -> bool {
    (1..=32).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
}

/// The longest public key id.
pub(crate) const MAX_PUBLIC_KEY_ID_LEN: usize = 128;

/// Whether `id` is 1 to 128 printable ASCII characters, the key id grammar of public keys.
pub(crate) fn is_valid_public_key_id(id: &[u8]) -> bool {
    (1..=MAX_PUBLIC_KEY_ID_LEN).contains(&id.len()) && id.iter().all(u8::is_ascii_graphic)
}
