//! `ActiveSupport::MessageEncryptor`, both ciphers Rails uses:
//!
//! - `aes-256-gcm` (Rails' default since 5.2): `base64(ciphertext)--base64(iv)--base64(tag)`,
//!   a random 12-byte IV, a 16-byte tag, no associated data (7.2 `message_encryptor.rb`
//!   `encrypt`, `join_parts`). The parts are found by their lengths from the end, as Rails
//!   does (`extract_parts`), since url-safe base64 may itself hold `--`.
//! - `aes-256-cbc` (PKCS#7 padding, random 16-byte IV), whose `base64(ciphertext)--base64(iv)`
//!   is then signed as a MessageVerifier token with a second secret (HMAC-SHA1 unless set).
//!
//! The plaintext is the value inside the same `_rails` envelope MessageVerifier uses.

use std::fmt;
use std::sync::Arc;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use base64::Engine as _;
use base64::engine::GeneralPurpose;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use super::error::{RailsError, ShapeProblem};
use super::format::{Envelope, JsonStyle, RailsDigest, RailsMac, signed_payload};
use super::message_verifier::RailsVerified;
use super::metadata::{self, RailsOptions};
use super::rotation::open_with_each;
use crate::clock::{Clock, SystemClock};
use crate::error::{SecretError, SharedError, SignError};
use crate::secret::Secret;
use crate::verifier::Verifier;

/// Which cipher (`cipher:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RailsCipher {
    /// `aes-256-gcm`: authenticated encryption, Rails' default since 5.2.
    #[default]
    Aes256Gcm,
    /// `aes-256-cbc`, signed with HMAC: what apps before 5.2 wrote.
    Aes256Cbc,
}

impl RailsCipher {
    /// Bytes of key the cipher takes (`MessageEncryptor.key_len`): 32 for both.
    pub const KEY_LEN: usize = 32;
}

impl std::str::FromStr for RailsCipher {
    type Err = super::error::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "aes-256-gcm" => Ok(Self::Aes256Gcm),
            "aes-256-cbc" => Ok(Self::Aes256Cbc),
            _ => Err(super::error::UnknownName {
                what: "cipher",
                expected: "aes-256-gcm or aes-256-cbc",
            }),
        }
    }
}

const GCM_IV_LEN: usize = 12;
const CBC_IV_LEN: usize = 16;
const TAG_LEN: usize = 16;

/// The cipher state, keyed once.
#[derive(Clone)]
enum Keyed {
    Gcm(Box<Aes256Gcm>),
    Cbc(Box<CbcKeys>),
}

/// The legacy form's key and the HMAC that signs it.
#[derive(Clone)]
struct CbcKeys {
    key: Zeroizing<[u8; RailsCipher::KEY_LEN]>,
    mac: RailsMac,
    digest: RailsDigest,
    sign_secret: Secret,
}

/// One Rails encryptor configuration: the secret(s) and the options Rails would be given.
#[derive(Clone)]
pub struct EncryptorConfig {
    keyed: Keyed,
    url_safe: bool,
    envelope: Envelope,
    json: JsonStyle,
}

impl EncryptorConfig {
    /// `MessageEncryptor.new(secret)` (`cipher: "aes-256-gcm"`): a 32-byte secret, strict
    /// base64, the legacy envelope, Ruby JSON.
    ///
    /// # Errors
    ///
    /// [`SecretError::WrongLength`] unless the secret is 32 bytes (Rails derives it with
    /// `key_generator.generate_key(salt, 32)`).
    pub fn new(secret: Secret) -> Result<Self, SecretError> {
        let cipher =
            Aes256Gcm::new_from_slice(secret.expose()).map_err(|_| wrong_length(&secret))?;
        Ok(Self::with(Keyed::Gcm(Box::new(cipher))))
    }

    /// `MessageEncryptor.new(secret, sign_secret, cipher: "aes-256-cbc")`: the legacy form,
    /// signed with `sign_secret` (Rails signs with `secret` itself when none is given) by
    /// HMAC-SHA1 unless [`EncryptorConfig::digest`] says otherwise.
    ///
    /// # Errors
    ///
    /// [`SecretError::WrongLength`] unless `secret` is 32 bytes.
    pub fn cbc(secret: Secret, sign_secret: Option<Secret>) -> Result<Self, SecretError> {
        let key = key_bytes(&secret)?;
        let sign_secret = sign_secret.unwrap_or(secret);
        let digest = RailsDigest::default();
        Ok(Self::with(Keyed::Cbc(Box::new(CbcKeys {
            key,
            mac: RailsMac::new(digest, sign_secret.expose()),
            digest,
            sign_secret,
        }))))
    }

    fn with(keyed: Keyed) -> Self {
        Self {
            keyed,
            url_safe: false,
            envelope: Envelope::default(),
            json: JsonStyle::default(),
        }
    }

    /// The cipher.
    pub fn cipher(&self) -> RailsCipher {
        match self.keyed {
            Keyed::Gcm(_) => RailsCipher::Aes256Gcm,
            Keyed::Cbc(_) => RailsCipher::Aes256Cbc,
        }
    }

    /// `digest:` — the HMAC of the CBC form (SHA1 unless set); GCM needs none.
    #[must_use]
    pub fn digest(mut self, digest: RailsDigest) -> Self {
        if let Keyed::Cbc(cbc) = &mut self.keyed {
            cbc.mac = RailsMac::new(digest, cbc.sign_secret.expose());
            cbc.digest = digest;
        }
        self
    }

    /// `url_safe:` (Rails 7.1+): the parts in url-safe base64 without padding.
    #[must_use]
    pub fn url_safe(mut self, url_safe: bool) -> Self {
        self.url_safe = url_safe;
        self
    }

    /// The envelope written when there is a purpose or an expiry.
    #[must_use]
    pub fn envelope(mut self, envelope: Envelope) -> Self {
        self.envelope = envelope;
        self
    }

    /// The JSON encoder to imitate.
    #[must_use]
    pub fn json(mut self, json: JsonStyle) -> Self {
        self.json = json;
        self
    }

    /// The base64 alphabet of the message's parts.
    fn engine(&self) -> &'static GeneralPurpose {
        if self.url_safe {
            &URL_SAFE_NO_PAD
        } else {
            &STANDARD
        }
    }

    fn encode(&self, bytes: &[u8]) -> String {
        self.engine().encode(bytes)
    }

    /// Bytes of a part of `len` bytes, encoded (`length_after_encode`).
    fn encoded_len(&self, len: usize) -> usize {
        if self.url_safe {
            (4 * len).div_ceil(3)
        } else {
            4 * len.div_ceil(3)
        }
    }

    fn decode(&self, part: &str) -> Result<Vec<u8>, RailsError> {
        self.engine()
            .decode(part)
            .map_err(|_| RailsError::Malformed(ShapeProblem::NotEncrypted))
    }

    /// A part of exactly `N` bytes (a tag or an IV), decoded on the stack.
    fn decode_array<const N: usize>(&self, part: &str) -> Result<[u8; N], RailsError> {
        // decode_slice wants room for its estimate of the part, a few bytes over `N`: 64 is
        // ample for the 12- and 16-byte parts, and a longer part is refused, not overflowed.
        let mut buf = [0u8; 64];
        match self.engine().decode_slice(part, &mut buf) {
            Ok(n) if n == N && N <= buf.len() => {
                let mut out = [0u8; N];
                out.copy_from_slice(&buf[..N]);
                Ok(out)
            }
            _ => Err(RailsError::Malformed(ShapeProblem::NotEncrypted)),
        }
    }

    fn encrypt(&self, plaintext: &[u8]) -> Result<String, SignError> {
        match &self.keyed {
            Keyed::Gcm(cipher) => {
                let iv = random::<GCM_IV_LEN>()?;
                let mut data = plaintext.to_vec();
                let nonce = Nonce::from(iv);
                let tag = cipher
                    .encrypt_inout_detached(&nonce, b"", data.as_mut_slice().into())
                    // Only a plaintext beyond GCM's 64 GiB fails.
                    .map_err(|_| SignError::TooLarge {
                        len: plaintext.len(),
                        max: usize::MAX,
                    })?;
                Ok(format!(
                    "{}--{}--{}",
                    self.encode(&data),
                    self.encode(&iv),
                    self.encode(&tag)
                ))
            }
            Keyed::Cbc(cbc) => {
                let iv = random::<CBC_IV_LEN>()?;
                let data = cbc::Encryptor::<aes::Aes256>::new(&(*cbc.key).into(), &iv.into())
                    .encrypt_padded_vec::<Pkcs7>(plaintext);
                let inner = format!("{}--{}", self.encode(&data), self.encode(&iv));
                // Signed as MessageVerifier signs a string with its null serializer.
                Ok(cbc.mac.sign(self.encode(inner.as_bytes())))
            }
        }
    }

    /// The plaintext, or why this configuration does not recognise the message (then the
    /// next one is tried).
    fn decrypt(&self, message: &str) -> Result<Zeroizing<Vec<u8>>, RailsError> {
        match &self.keyed {
            Keyed::Gcm(cipher) => {
                let tag_len = self.encoded_len(TAG_LEN);
                let (rest, tag) = split_part(message, tag_len)?;
                let (data, iv) = split_part(rest, self.encoded_len(GCM_IV_LEN))?;
                let tag = Tag::from(self.decode_array::<TAG_LEN>(tag)?);
                let nonce = Nonce::from(self.decode_array::<GCM_IV_LEN>(iv)?);
                let mut data = Zeroizing::new(self.decode(data)?);
                cipher
                    .decrypt_inout_detached(&nonce, b"", data.as_mut_slice().into(), &tag)
                    .map_err(|_| RailsError::Undecryptable)?;
                Ok(data)
            }
            Keyed::Cbc(cbc) => {
                let inner = signed_payload(cbc.digest, &cbc.mac, message)?;
                let inner = std::str::from_utf8(&inner)
                    .map_err(|_| RailsError::Malformed(ShapeProblem::NotEncrypted))?;
                let (data, iv) = split_part(inner, self.encoded_len(CBC_IV_LEN))?;
                let iv = self.decode_array::<CBC_IV_LEN>(iv)?;
                let data = self.decode(data)?;
                cbc::Decryptor::<aes::Aes256>::new(&(*cbc.key).into(), &iv.into())
                    .decrypt_padded_vec::<Pkcs7>(&data)
                    .map(Zeroizing::new)
                    .map_err(|_| RailsError::Undecryptable)
            }
        }
    }
}

impl fmt::Debug for EncryptorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("EncryptorConfig");
        debug.field("cipher", &self.cipher());
        if let Keyed::Cbc(cbc) = &self.keyed {
            debug.field("digest", &cbc.digest);
        }
        debug
            .field("url_safe", &self.url_safe)
            .field("envelope", &self.envelope)
            .field("json", &self.json)
            .finish_non_exhaustive()
    }
}

fn key_bytes(secret: &Secret) -> Result<Zeroizing<[u8; RailsCipher::KEY_LEN]>, SecretError> {
    let mut key = Zeroizing::new([0u8; RailsCipher::KEY_LEN]);
    if secret.len() != RailsCipher::KEY_LEN {
        return Err(wrong_length(secret));
    }
    key.copy_from_slice(secret.expose());
    Ok(key)
}

fn wrong_length(secret: &Secret) -> SecretError {
    SecretError::WrongLength {
        len: secret.len(),
        expected: RailsCipher::KEY_LEN,
    }
}

fn random<const N: usize>() -> Result<[u8; N], SignError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|e| SignError::Random(SharedError::new(std::io::Error::from(e))))?;
    Ok(bytes)
}

/// Splits `text` into what comes before `--` and the last `len` bytes, where Rails'
/// `extract_part` looks for them.
fn split_part(text: &str, len: usize) -> Result<(&str, &str), RailsError> {
    let malformed = RailsError::Malformed(ShapeProblem::NotEncrypted);
    let split = text.len().checked_sub(len + 2).ok_or(malformed.clone())?;
    if !text.is_char_boundary(split) || &text.as_bytes()[split..split + 2] != b"--" {
        return Err(malformed);
    }
    Ok((&text[..split], &text[split + 2..]))
}

/// Encrypts with one configuration and decrypts with it and older ones, tried in order, like
/// a Rails `MessageEncryptor` with `rotate`.
///
/// ```
/// use tokenring::Secret;
/// use tokenring::rails::{EncryptorConfig, RailsEncryptor, RailsOptions};
///
/// let encryptor = RailsEncryptor::new(EncryptorConfig::new(Secret::from_bytes([7u8; 32]))?);
/// let message = encryptor.encrypt(&"secret data", RailsOptions::new().purpose("login"))?;
/// let decrypted = encryptor.decrypt::<String>(&message, Some("login"))?;
/// assert_eq!(decrypted.value, "secret data");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct RailsEncryptor {
    configs: Vec<EncryptorConfig>,
    max_len: usize,
    clock: Arc<dyn Clock>,
}

impl RailsEncryptor {
    /// Encrypts and decrypts with `primary`.
    pub fn new(primary: EncryptorConfig) -> Self {
        Self {
            configs: vec![primary],
            max_len: Verifier::DEFAULT_MAX_TOKEN_LEN,
            clock: Arc::new(SystemClock),
        }
    }

    /// Also decrypts messages of `older` (Rails' `rotate`), tried after those before it.
    #[must_use]
    pub fn accept(mut self, older: EncryptorConfig) -> Self {
        self.configs.push(older);
        self
    }

    /// Longest message accepted or made (4096 unless set), as
    /// [`VerifierBuilder::max_token_len`](crate::verifier::VerifierBuilder::max_token_len).
    #[must_use]
    pub fn max_token_len(mut self, max: usize) -> Self {
        self.max_len = max;
        self
    }

    /// The former name of [`RailsEncryptor::max_token_len`].
    #[deprecated(
        since = "0.2.0",
        note = "renamed max_token_len, as on every other builder"
    )]
    #[must_use]
    pub fn max_len(self, max: usize) -> Self {
        self.max_token_len(max)
    }

    /// The clock expiry is judged by (the system clock unless set).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// `encrypt_and_sign`: encrypts `value` with the primary configuration.
    ///
    /// # Errors
    ///
    /// [`SignError`] if the value is not JSON, the expiry is out of range, the message would
    /// exceed the size cap, or no random IV can be drawn.
    pub fn encrypt<T: Serialize + ?Sized>(
        &self,
        value: &T,
        options: RailsOptions<'_>,
    ) -> Result<String, SignError> {
        let config = &self.configs[0];
        let plaintext = Zeroizing::new(metadata::wrap(
            value,
            &options,
            config.envelope,
            config.json,
            &*self.clock,
        )?);
        let message = config.encrypt(plaintext.as_bytes())?;
        if message.len() > self.max_len {
            return Err(SignError::TooLarge {
                len: message.len(),
                max: self.max_len,
            });
        }
        Ok(message)
    }

    /// `decrypt_and_verify` for `purpose`, with each configuration in turn.
    ///
    /// As in Rails 7.1+, a later configuration is tried only when the earlier ones cannot
    /// decrypt the message: one that decrypts but is expired or for another purpose is final.
    ///
    /// # Errors
    ///
    /// A [`RailsError`] saying why; the primary's when no configuration decrypted it.
    pub fn decrypt<T: DeserializeOwned>(
        &self,
        message: &str,
        purpose: Option<&str>,
    ) -> Result<RailsVerified<T>, RailsError> {
        let now = self.clock.now();
        open_with_each(
            &self.configs,
            message,
            self.max_len,
            RailsError::Undecryptable,
            |config| {
                let plaintext = config.decrypt(message)?;
                Ok(metadata::unwrap(&plaintext, purpose, now))
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gcm() -> EncryptorConfig {
        EncryptorConfig::new(Secret::from_bytes([1u8; 32])).unwrap()
    }

    #[test]
    fn round_trips_and_tampering() {
        for config in [
            gcm(),
            gcm().url_safe(true),
            EncryptorConfig::cbc(Secret::from_bytes([2u8; 32]), None).unwrap(),
            EncryptorConfig::cbc(
                Secret::from_bytes([2u8; 32]),
                Some(Secret::from_bytes([3u8; 64])),
            )
            .unwrap()
            .digest(RailsDigest::Sha256)
            .url_safe(true),
        ] {
            let encryptor = RailsEncryptor::new(config.clone());
            let message = encryptor
                .encrypt(&"v", RailsOptions::new().purpose("p"))
                .unwrap();
            let decrypted = encryptor.decrypt::<String>(&message, Some("p")).unwrap();
            assert_eq!((decrypted.value.as_str(), decrypted.config), ("v", 0));
            assert!(matches!(
                encryptor.decrypt::<String>(&message, Some("q")),
                Err(RailsError::PurposeMismatch { .. })
            ));
            // Every byte changed: refused, never a panic.
            for i in 0..message.len() {
                let mut bytes = message.clone().into_bytes();
                bytes[i] ^= 0x01;
                let Ok(tampered) = String::from_utf8(bytes) else {
                    continue;
                };
                assert!(
                    encryptor.decrypt::<String>(&tampered, Some("p")).is_err(),
                    "{config:?} byte {i}"
                );
            }
        }
    }

    #[test]
    fn rotation_and_wrong_keys() {
        let old = EncryptorConfig::new(Secret::from_bytes([9u8; 32])).unwrap();
        let message = RailsEncryptor::new(old.clone())
            .encrypt(&1, RailsOptions::new())
            .unwrap();
        let rotated = RailsEncryptor::new(gcm()).accept(old);
        assert_eq!(rotated.decrypt::<u8>(&message, None).unwrap().config, 1);
        assert_eq!(
            RailsEncryptor::new(gcm())
                .decrypt::<u8>(&message, None)
                .unwrap_err(),
            RailsError::Undecryptable
        );
        assert!(matches!(
            EncryptorConfig::new(Secret::from_bytes([1u8; 64])),
            Err(SecretError::WrongLength {
                len: 64,
                expected: 32
            })
        ));
        let debug = format!("{:?}", gcm());
        assert!(!debug.contains("1, 1"), "{debug}");
    }
}
