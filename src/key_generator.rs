//! Per-purpose keys derived from one master key with HKDF-SHA256 (RFC 5869).
//!
//! One master key per keyring entry; one derived key per (entry, verifier salt). A token
//! minted for `"password_reset"` is therefore useless to a verifier for `"email_confirm"`,
//! even though both use the same keyring. Derivation runs when a verifier is built, never
//! per token.

use hkdf::Hkdf;
use sha2::Sha256;

use crate::error::SecretError;
use crate::secret::Secret;

/// Derives per-purpose keys from a master key, like Rails' `KeyGenerator` but with HKDF.
///
/// `generate_key(salt, len)` is HKDF-SHA256 with the master key as input keying material,
/// the generator's extract salt (empty unless set with
/// [`KeyGenerator::new_salted`]) and the Rails-style *salt* — the purpose label — as
/// HKDF's `info`.
///
/// ```
/// use tokenring::{KeyGenerator, Secret};
///
/// let master = Secret::from_bytes([7u8; 32]);
/// let generator = KeyGenerator::new(&master)?;
/// let reset = generator.generate_key(b"password_reset", 32)?;
/// let confirm = generator.generate_key(b"email_confirm", 32)?;
/// assert_ne!(reset, confirm);
/// # Ok::<(), tokenring::error::SecretError>(())
/// ```
pub struct KeyGenerator {
    // Holds the extracted pseudorandom key; expand is all that runs per derivation.
    hkdf: Hkdf<Sha256>,
}

impl KeyGenerator {
    /// The longest output HKDF-SHA256 can produce (RFC 5869 §2.3: 255 × hash length).
    pub const MAX_KEY_LEN: usize = 255 * 32;

    /// A generator over `master` with an empty extract salt.
    ///
    /// # Errors
    ///
    /// [`SecretError::TooShort`] if `master` is shorter than [`Secret::MIN_MASTER_LEN`].
    pub fn new(master: &Secret) -> Result<Self, SecretError> {
        Self::new_salted(master, &[])
    }

    /// A generator with an explicit HKDF extract salt (RFC 5869 §3.1 recommends a random,
    /// non-secret salt where one can be shared between the parties).
    ///
    /// # Errors
    ///
    /// [`SecretError::TooShort`] if `master` is shorter than [`Secret::MIN_MASTER_LEN`].
    pub fn new_salted(master: &Secret, extract_salt: &[u8]) -> Result<Self, SecretError> {
        master.check_master_len()?;
        Ok(Self {
            hkdf: Hkdf::<Sha256>::new(Some(extract_salt), master.expose()),
        })
    }

    /// The former name of [`KeyGenerator::new_salted`].
    ///
    /// # Errors
    ///
    /// As [`KeyGenerator::new_salted`].
    #[deprecated(
        since = "0.2.0",
        note = "renamed new_salted: `with_` names setters only"
    )]
    pub fn with_extract_salt(master: &Secret, extract_salt: &[u8]) -> Result<Self, SecretError> {
        Self::new_salted(master, extract_salt)
    }

    /// Derives `len` bytes bound to `salt` (HKDF's `info`).
    ///
    /// # Errors
    ///
    /// [`SecretError::InvalidLength`] if `len` is 0 or above [`Self::MAX_KEY_LEN`].
    pub fn generate_key(&self, salt: &[u8], len: usize) -> Result<Secret, SecretError> {
        if len == 0 || len > Self::MAX_KEY_LEN {
            return Err(SecretError::InvalidLength {
                len,
                max: Self::MAX_KEY_LEN,
            });
        }
        let mut okm = vec![0u8; len];
        self.hkdf
            .expand(salt, &mut okm)
            .map_err(|_| SecretError::InvalidLength {
                len,
                max: Self::MAX_KEY_LEN,
            })?;
        Ok(Secret::from_bytes(okm))
    }
}

impl std::fmt::Debug for KeyGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyGenerator(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::hex;

    /// RFC 5869 A.1–A.3 through the same `Hkdf` calls the generator makes; cases 1 and 3
    /// use a 22-byte IKM, below our master-key floor, so they bypass the length check.
    fn raw(ikm: &[u8], salt: &[u8], info: &[u8], len: usize) -> Vec<u8> {
        let mut out = vec![0; len];
        Hkdf::<Sha256>::new(Some(salt), ikm)
            .expand(info, &mut out)
            .unwrap();
        out
    }

    #[test]
    fn rfc5869_case_1() {
        let okm = raw(
            &hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
            &hex("000102030405060708090a0b0c"),
            &hex("f0f1f2f3f4f5f6f7f8f9"),
            42,
        );
        assert_eq!(
            okm,
            hex(
                "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
            )
        );
    }

    #[test]
    fn rfc5869_case_2_through_the_public_api() {
        let ikm: Vec<u8> = (0x00..=0x4f).collect();
        let salt: Vec<u8> = (0x60..=0xaf).collect();
        let info: Vec<u8> = (0xb0..=0xff).collect();
        let generator = KeyGenerator::new_salted(&Secret::from_bytes(ikm), &salt).unwrap();
        let okm = generator.generate_key(&info, 82).unwrap();
        assert_eq!(
            okm.expose(),
            hex(concat!(
                "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c",
                "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71",
                "cc30c58179ec3e87c14c01d5c1f3434f1d87"
            ))
        );
    }

    #[test]
    fn rfc5869_case_3_empty_salt_and_info() {
        let okm = raw(
            &hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
            &[],
            &[],
            42,
        );
        assert_eq!(
            okm,
            hex(
                "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
            )
        );
    }

    #[test]
    fn empty_extract_salt_equals_rfc_default() {
        // RFC 5869 §2.2: an absent salt is HashLen zero bytes; `new` must match that.
        let master = Secret::from_bytes([0x0b; 32]);
        let a = KeyGenerator::new(&master).unwrap();
        let b = KeyGenerator::new_salted(&master, &[0; 32]).unwrap();
        assert_eq!(
            a.generate_key(b"x", 32).unwrap(),
            b.generate_key(b"x", 32).unwrap()
        );
    }

    #[test]
    fn refuses_short_master_and_bad_lengths() {
        assert!(matches!(
            KeyGenerator::new(&Secret::from_bytes([1; 16])),
            Err(SecretError::TooShort { len: 16, min: 32 })
        ));
        let generator = KeyGenerator::new(&Secret::from_bytes([1; 32])).unwrap();
        assert!(generator.generate_key(b"s", 0).is_err());
        assert!(
            generator
                .generate_key(b"s", KeyGenerator::MAX_KEY_LEN + 1)
                .is_err()
        );
        assert_eq!(
            generator
                .generate_key(b"s", KeyGenerator::MAX_KEY_LEN)
                .unwrap()
                .len(),
            KeyGenerator::MAX_KEY_LEN
        );
    }
}
