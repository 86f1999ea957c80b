//! Key material that cannot leak by accident.
//!
//! A [`Secret`] is a byte string that is wiped when dropped, prints as `Secret(<redacted>,
//! 32 bytes)`, has no `Display` and no `Serialize`, and compares in constant time. Reading the
//! bytes takes an explicit call to [`Secret::expose`], so every use is easy to find.

use std::fmt;

use base64::Engine as _;
use subtle::ConstantTimeEq as _;
use zeroize::{Zeroize as _, Zeroizing};

use crate::error::{SecretError, SharedError};

/// Standard base64 alphabet, padding optional: what `openssl rand -base64 32` prints, and
/// what people paste with the `=` trimmed.
pub(crate) const SECRET_BASE64: base64::engine::GeneralPurpose =
    base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );

/// Key material: zeroized on drop, redacted in `Debug`, never displayed or serialised.
///
/// ```
/// use tokenring::Secret;
///
/// let secret = Secret::from_base64("YW4gZXhhbXBsZSBzZWNyZXQgb2YgMzIgYnl0ZXMhISE=")?;
/// assert_eq!(secret.len(), 32);
/// assert_eq!(format!("{secret:?}"), "Secret(<redacted>, 32 bytes)");
/// # Ok::<(), tokenring::error::SecretError>(())
/// ```
///
/// # Security
///
/// Zeroizing covers the bytes this type owns. Copies made elsewhere (the text of a keyring
/// file before it was parsed, the process's swap, a core dump) are outside its reach; keep
/// keyring files at mode 0600 and core dumps off on hosts that hold production keys.
#[derive(Clone)]
pub struct Secret {
    bytes: Box<[u8]>,
}

impl Secret {
    /// The shortest master key accepted: 32 bytes, the output size of SHA-256.
    pub const MIN_MASTER_LEN: usize = 32;

    /// Takes ownership of `bytes`. The vector's buffer is wiped after the copy, so no
    /// unzeroized copy is left behind when its capacity differs from its length.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        let mut bytes = bytes.into();
        let secret = Self {
            bytes: Box::from(bytes.as_slice()),
        };
        bytes.zeroize();
        secret
    }

    /// Decodes standard base64 (padding optional).
    ///
    /// # Errors
    ///
    /// [`SecretError::InvalidBase64`] if `encoded` is not base64; the message never repeats
    /// the input.
    pub fn from_base64(encoded: &str) -> Result<Self, SecretError> {
        let bytes = Zeroizing::new(
            SECRET_BASE64
                .decode(encoded.trim_end())
                .map_err(|_| SecretError::InvalidBase64)?,
        );
        Ok(Self {
            bytes: Box::from(bytes.as_slice()),
        })
    }

    /// `len` bytes from the operating system's random number generator.
    ///
    /// # Errors
    ///
    /// [`SecretError::Random`] if the operating system cannot provide randomness.
    pub fn random(len: usize) -> Result<Self, SecretError> {
        let mut bytes = vec![0u8; len].into_boxed_slice();
        getrandom::fill(&mut bytes)
            .map_err(|e| SecretError::Random(SharedError::new(std::io::Error::from(e))))?;
        Ok(Self { bytes })
    }

    /// The key bytes. Named so that every place that touches them stands out in review.
    pub fn expose(&self) -> &[u8] {
        &self.bytes
    }

    /// The key encoded as standard padded base64, for writing a keyring file.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&self.bytes))
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the secret holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Refuses a secret too short to serve as a master key.
    ///
    /// # Errors
    ///
    /// [`SecretError::TooShort`] below [`Secret::MIN_MASTER_LEN`] bytes.
    pub fn check_master_len(&self) -> Result<(), SecretError> {
        if self.len() < Self::MIN_MASTER_LEN {
            return Err(SecretError::TooShort {
                len: self.len(),
                min: Self::MIN_MASTER_LEN,
            });
        }
        Ok(())
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<redacted>, {} bytes)", self.len())
    }
}

/// Constant time in the contents; the length is not secret.
impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.bytes.ct_eq(&other.bytes).into()
    }
}

impl Eq for Secret {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_bytes() {
        let secret = Secret::from_bytes(*b"hunter2hunter2hunter2hunter2hunt");
        let shown = format!("{secret:?} {secret:#?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("104"), "{shown}"); // 'h' as a decimal byte
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>, 32 bytes)");
    }

    #[test]
    fn base64_with_or_without_padding() {
        let padded = Secret::from_base64("AAECAwQ=").unwrap();
        let bare = Secret::from_base64("AAECAwQ").unwrap();
        assert_eq!(padded.expose(), &[0, 1, 2, 3, 4]);
        assert_eq!(padded, bare);
        assert_eq!(&*padded.to_base64(), "AAECAwQ=");
    }

    #[test]
    fn bad_base64_is_refused_without_echo() {
        let err = Secret::from_base64("not base64!!").unwrap_err();
        assert_eq!(err, SecretError::InvalidBase64);
        assert!(!err.to_string().contains("not base64!!"));
        // url-safe characters are not the standard alphabet
        assert!(Secret::from_base64("ab-_").is_err());
    }

    #[test]
    fn master_length_is_enforced() {
        assert_eq!(
            Secret::from_bytes(vec![7; 31]).check_master_len(),
            Err(SecretError::TooShort { len: 31, min: 32 })
        );
        assert!(Secret::from_bytes(vec![7; 32]).check_master_len().is_ok());
    }

    #[test]
    fn random_secrets_differ() {
        let a = Secret::random(32).unwrap();
        let b = Secret::random(32).unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }

    #[test]
    fn equality_depends_on_every_byte() {
        let a = Secret::from_bytes(vec![1; 32]);
        let mut other = vec![1; 32];
        other[31] = 2;
        assert_ne!(a, Secret::from_bytes(other));
        assert_ne!(a, Secret::from_bytes(vec![1; 33]));
    }
}
