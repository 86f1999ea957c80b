//! Services built on tokenring the way a user would build them: `server` (a token service
//! with a hot-reloaded keyring) and `password_reset` (signed reset links on SQLite). Run them
//! with `cargo run --example server -- …` from the repository root; `tests/` drives them end to
//! end through key rotations.

use argon2::password_hash::{PasswordHasher, SaltString};

/// `password`'s argon2id hash (argon2's default parameters, a random salt) as a PHC string:
/// what both examples store.
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| e.to_string())?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| e.to_string())
}
