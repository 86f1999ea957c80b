//! Rails' `ActiveSupport::KeyGenerator`: PBKDF2 over `secret_key_base`, cached per salt.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use crate::error::SecretError;
use crate::secret::Secret;

/// The PBKDF2 hash: SHA-1 (every 6.1 app; 7.0+ apps created before 7.0 defaults) or SHA-256
/// (apps on `load_defaults 7.0` or later).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KdfDigest {
    /// PBKDF2-HMAC-SHA1.
    Sha1,
    /// PBKDF2-HMAC-SHA256.
    Sha256,
}

impl std::str::FromStr for KdfDigest {
    type Err = super::error::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "SHA1" => Ok(Self::Sha1),
            "SHA256" => Ok(Self::Sha256),
            _ => Err(super::error::UnknownName {
                what: "key generator digest",
                expected: "SHA1 or SHA256",
            }),
        }
    }
}

/// Derives per-salt secrets from a Rails `secret_key_base` exactly as Rails does:
/// `PBKDF2-HMAC-<digest>(password = secret_key_base as given (not hex-decoded), salt,
/// iterations, key_size)`. Results are cached per (salt, size), like Rails'
/// `CachingKeyGenerator`.
///
/// ```
/// use tokenring::rails::{KdfDigest, RailsKeyGenerator};
///
/// let generator = RailsKeyGenerator::new("my secret_key_base", KdfDigest::Sha256, 1000)?;
/// let secret = generator.generate_key("active_record/signed_id", 64);
/// assert_eq!(secret.len(), 64);
/// # Ok::<(), tokenring::error::SecretError>(())
/// ```
pub struct RailsKeyGenerator {
    secret_key_base: Secret,
    digest: KdfDigest,
    iterations: u32,
    cache: Mutex<HashMap<(String, usize), Secret>>,
}

impl RailsKeyGenerator {
    /// Rails applications use 1000 iterations (`Rails.application.key_generator`).
    pub const APP_ITERATIONS: u32 = 1000;

    /// What `bin/rails secret` generates: 64 random bytes in hex.
    pub const GENERATED_LEN: usize = 128;

    /// A generator over `secret_key_base` (the string exactly as the app holds it). A base
    /// shorter than half of [`Self::GENERATED_LEN`] is accepted, as Rails does, with a
    /// warning.
    ///
    /// # Errors
    ///
    /// [`SecretError::Empty`] for an empty `secret_key_base` (an unset variable, most often):
    /// every token derived from it could be forged by anyone.
    pub fn new(
        secret_key_base: &str,
        digest: KdfDigest,
        iterations: u32,
    ) -> Result<Self, SecretError> {
        if secret_key_base.is_empty() {
            return Err(SecretError::Empty);
        }
        if secret_key_base.len() < Self::GENERATED_LEN / 2 {
            tracing::warn!(
                len = secret_key_base.len(),
                generated = Self::GENERATED_LEN,
                "tokenring: short secret_key_base; Rails generates 128 hex characters"
            );
        }
        Ok(Self {
            secret_key_base: Secret::from_bytes(secret_key_base.as_bytes()),
            digest,
            iterations: iterations.max(1),
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The secret for `salt`, `key_size` bytes (Rails' default is 64).
    pub fn generate_key(&self, salt: &str, key_size: usize) -> Secret {
        let key = (salt.to_owned(), key_size);
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(secret) = cache.get(&key) {
            return secret.clone();
        }
        let mut out = vec![0u8; key_size];
        let password = self.secret_key_base.expose();
        match self.digest {
            KdfDigest::Sha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(
                password,
                salt.as_bytes(),
                self.iterations,
                &mut out,
            ),
            KdfDigest::Sha256 => pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
                password,
                salt.as_bytes(),
                self.iterations,
                &mut out,
            ),
        }
        let secret = Secret::from_bytes(out);
        cache.insert(key, secret.clone());
        secret
    }
}

impl fmt::Debug for RailsKeyGenerator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RailsKeyGenerator")
            .field("digest", &self.digest)
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}
