//! Ed25519 and P-256 keys: a signing key (private, zeroized on drop, never printed) and the
//! public key that verifies its signatures; RSA public keys (`RS256`), which only verify.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::Signer as _;

use super::rsa::RsaPublic;
use crate::error::SecretError;
use crate::secret::Secret;

/// A JOSE signature algorithm tokenring signs and verifies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JoseAlgorithm {
    /// Ed25519 (RFC 8037's `EdDSA` with `crv: Ed25519`).
    EdDsa,
    /// ECDSA on P-256 with SHA-256 (RFC 7518's `ES256`).
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518's `RS256`), 2048 to 8192 bits: verify only,
    /// for tokens other issuers mint.
    Rs256,
    /// RSASSA-PSS with SHA-256 and MGF1 (RFC 7518's `PS256`), the same keys: verify only.
    Ps256,
}

impl JoseAlgorithm {
    /// The JOSE name: `EdDSA`, `ES256`, `RS256` or `PS256`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::EdDsa => "EdDSA",
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
            Self::Ps256 => "PS256",
        }
    }

    /// Whether tokenring can hold a private key of it and sign (`EdDSA`, `ES256`).
    pub const fn signs(self) -> bool {
        matches!(self, Self::EdDsa | Self::Es256)
    }
}

impl JoseAlgorithm {
    /// The public-key algorithm `algorithm` is, if it is one.
    pub const fn of(algorithm: crate::Algorithm) -> Option<Self> {
        match algorithm {
            crate::Algorithm::EdDsa => Some(Self::EdDsa),
            crate::Algorithm::Es256 => Some(Self::Es256),
            crate::Algorithm::Rs256 => Some(Self::Rs256),
            crate::Algorithm::Ps256 => Some(Self::Ps256),
            _ => None,
        }
    }
}

impl From<JoseAlgorithm> for crate::Algorithm {
    fn from(algorithm: JoseAlgorithm) -> Self {
        match algorithm {
            JoseAlgorithm::EdDsa => Self::EdDsa,
            JoseAlgorithm::Es256 => Self::Es256,
            JoseAlgorithm::Rs256 => Self::Rs256,
            JoseAlgorithm::Ps256 => Self::Ps256,
        }
    }
}

impl fmt::Display for JoseAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for JoseAlgorithm {
    type Err = crate::error::UnknownAlgorithm;

    /// Exact names only, as in keyring files.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "EdDSA" => Ok(Self::EdDsa),
            "ES256" => Ok(Self::Es256),
            "RS256" => Ok(Self::Rs256),
            "PS256" => Ok(Self::Ps256),
            _ => Err(crate::error::UnknownAlgorithm),
        }
    }
}

/// A private key that signs JWS. Zeroized on drop (by the curve crates); `Debug` shows the
/// algorithm and public key only.
#[derive(Clone)]
pub struct SigningKey(Signing);

#[derive(Clone)]
enum Signing {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
}

/// A public key that verifies JWS. Holds nothing secret.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(Public);

#[derive(Clone, PartialEq, Eq)]
enum Public {
    Ed25519(ed25519_dalek::VerifyingKey),
    // Checked on the curve by `p256` when read; verified with by `ring`, which takes the
    // uncompressed point.
    P256(p256::ecdsa::VerifyingKey, Box<[u8; P256_POINT_LEN]>),
    // One RSA key type, two signature schemes: which one is the key's algorithm.
    Rsa(Box<RsaPublic>, JoseAlgorithm),
}

/// An uncompressed SEC1 P-256 point: `04 || x || y`.
const P256_POINT_LEN: usize = 65;

impl Public {
    fn p256(key: p256::ecdsa::VerifyingKey) -> Self {
        let mut point = [0u8; P256_POINT_LEN];
        point.copy_from_slice(key.to_encoded_point(false).as_bytes());
        Self::P256(key, Box::new(point))
    }
}

/// The length of a private key's bytes for both curves: an Ed25519 seed, a P-256 scalar.
pub(crate) const PRIVATE_KEY_LEN: usize = 32;
/// The length of a signature for both curves: Ed25519's, and ES256's `r || s`.
pub(crate) const SIGNATURE_LEN: usize = 64;
/// The longest signature of any algorithm: an 8192-bit RSA key's.
pub(crate) const MAX_SIGNATURE_LEN: usize = super::rsa::MAX_BITS / 8;

impl SigningKey {
    /// A new random key for `algorithm`, from the operating system's generator.
    ///
    /// # Errors
    ///
    /// [`SecretError::Random`] if the generator fails; [`SecretError::VerifyOnly`] for
    /// `RS256`.
    pub fn generate(algorithm: JoseAlgorithm) -> Result<Self, SecretError> {
        if !algorithm.signs() {
            return Err(SecretError::VerifyOnly(algorithm.name()));
        }
        loop {
            let bytes = Secret::random(PRIVATE_KEY_LEN)?;
            // A P-256 scalar must be below the group order: a random one is, but for a
            // chance of about 2^-32; draw again then.
            if let Ok(key) = Self::from_bytes(algorithm, &bytes) {
                return Ok(key);
            }
        }
    }

    /// The key whose private bytes are `bytes`: an Ed25519 seed (RFC 8032), or a P-256 scalar
    /// (big-endian), 32 bytes each.
    ///
    /// # Errors
    ///
    /// [`SecretError::WrongLength`] for another length; [`SecretError::InvalidKey`] for a
    /// P-256 scalar that is zero or not below the group order; [`SecretError::VerifyOnly`]
    /// for `RS256`.
    pub fn from_bytes(algorithm: JoseAlgorithm, bytes: &Secret) -> Result<Self, SecretError> {
        if !algorithm.signs() {
            return Err(SecretError::VerifyOnly(algorithm.name()));
        }
        let raw: &[u8; PRIVATE_KEY_LEN] =
            bytes
                .expose()
                .try_into()
                .map_err(|_| SecretError::WrongLength {
                    len: bytes.len(),
                    expected: PRIVATE_KEY_LEN,
                })?;
        Ok(Self(match algorithm {
            JoseAlgorithm::EdDsa => Signing::Ed25519(ed25519_dalek::SigningKey::from_bytes(raw)),
            JoseAlgorithm::Es256 => Signing::P256(
                p256::ecdsa::SigningKey::from_slice(raw).map_err(|_| SecretError::InvalidKey)?,
            ),
            JoseAlgorithm::Rs256 | JoseAlgorithm::Ps256 => {
                return Err(SecretError::VerifyOnly(algorithm.name()));
            }
        }))
    }

    /// The private bytes, as [`SigningKey::from_bytes`] takes them (zeroized on drop).
    pub fn to_bytes(&self) -> Secret {
        match &self.0 {
            Signing::Ed25519(key) => Secret::from_bytes(key.to_bytes()),
            Signing::P256(key) => Secret::from_bytes(<[u8; 32]>::from(key.to_bytes())),
        }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> JoseAlgorithm {
        match &self.0 {
            Signing::Ed25519(_) => JoseAlgorithm::EdDsa,
            Signing::P256(_) => JoseAlgorithm::Es256,
        }
    }

    /// The public key that verifies this key's signatures.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(match &self.0 {
            Signing::Ed25519(key) => Public::Ed25519(key.verifying_key()),
            Signing::P256(key) => Public::p256(*key.verifying_key()),
        })
    }

    /// The raw signature over `message`: Ed25519's, or ES256's `r || s` with a low `S`
    /// (deterministic, RFC 6979). [`crate::jose::sign`] makes a token of it.
    pub fn sign(&self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        match &self.0 {
            Signing::Ed25519(key) => key.sign(message).to_bytes(),
            Signing::P256(key) => {
                let signature: p256::ecdsa::Signature = key.sign(message);
                let signature = signature.normalize_s().unwrap_or(signature);
                signature.to_bytes().into()
            }
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm())
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

impl PublicKey {
    /// The public key encoded as `bytes`: 32 bytes for Ed25519 (RFC 8032), a SEC1 point for
    /// P-256 (65 bytes uncompressed, or 33 compressed), PKCS#1 `RSAPublicKey` DER for RSA.
    ///
    /// # Errors
    ///
    /// [`SecretError::InvalidKey`] for bytes that are no key of the curve, and — Ed25519 — for
    /// a small-order point, which would verify forged signatures; for RSA, a modulus outside
    /// 2048 to 8192 bits or an exponent that is even or outside 3 to 2^33 − 1.
    pub fn from_bytes(algorithm: JoseAlgorithm, bytes: &[u8]) -> Result<Self, SecretError> {
        Ok(Self(match algorithm {
            JoseAlgorithm::EdDsa => {
                let raw: &[u8; 32] = bytes.try_into().map_err(|_| SecretError::InvalidKey)?;
                let key = ed25519_dalek::VerifyingKey::from_bytes(raw)
                    .map_err(|_| SecretError::InvalidKey)?;
                if key.is_weak() {
                    return Err(SecretError::InvalidKey);
                }
                Public::Ed25519(key)
            }
            JoseAlgorithm::Es256 => Public::p256(
                p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
                    .map_err(|_| SecretError::InvalidKey)?,
            ),
            JoseAlgorithm::Rs256 | JoseAlgorithm::Ps256 => {
                Public::Rsa(Box::new(RsaPublic::from_der(bytes)?), algorithm)
            }
        }))
    }

    /// The RSA public key of modulus `n` and exponent `e` (big-endian), for `RS256`.
    ///
    /// # Errors
    ///
    /// [`SecretError::InvalidKey`] as [`PublicKey::from_bytes`] for RSA.
    pub fn rsa(n: &[u8], e: &[u8]) -> Result<Self, SecretError> {
        Self::rsa_for(JoseAlgorithm::Rs256, n, e)
    }

    /// The RSA public key of modulus `n` and exponent `e` for `algorithm`: `RS256` or
    /// `PS256` (an RSA key verifies one scheme, as its JWK's `alg` says).
    ///
    /// # Errors
    ///
    /// [`SecretError::InvalidKey`] as [`PublicKey::rsa`], or for another algorithm.
    pub fn rsa_for(algorithm: JoseAlgorithm, n: &[u8], e: &[u8]) -> Result<Self, SecretError> {
        if !matches!(algorithm, JoseAlgorithm::Rs256 | JoseAlgorithm::Ps256) {
            return Err(SecretError::InvalidKey);
        }
        Ok(Self(Public::Rsa(
            Box::new(RsaPublic::new(n, e)?),
            algorithm,
        )))
    }

    /// An RSA key's modulus size in bits; `None` for the curves.
    pub fn rsa_bits(&self) -> Option<usize> {
        match &self.0 {
            Public::Rsa(key, _) => Some(key.bits()),
            _ => None,
        }
    }

    /// The key's bytes as [`PublicKey::from_bytes`] takes them (P-256: uncompressed).
    pub fn to_bytes(&self) -> Vec<u8> {
        match &self.0 {
            Public::Ed25519(key) => key.to_bytes().to_vec(),
            Public::P256(_, point) => point.to_vec(),
            Public::Rsa(key, _) => key.to_der(),
        }
    }

    /// The length of this key's signatures in bytes: 64 for the curves, the modulus' for RSA.
    pub(crate) fn signature_len(&self) -> usize {
        match &self.0 {
            Public::Rsa(key, _) => key.signature_len(),
            _ => SIGNATURE_LEN,
        }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> JoseAlgorithm {
        match &self.0 {
            Public::Ed25519(_) => JoseAlgorithm::EdDsa,
            Public::P256(..) => JoseAlgorithm::Es256,
            Public::Rsa(_, algorithm) => *algorithm,
        }
    }

    /// Whether the raw `signature` is this key's over `message`: Ed25519 strictly; ES256 as
    /// `r || s`, either `S`; RS256 as PKCS#1 v1.5; PS256 as PSS. [`crate::jose::verify`]
    /// checks a whole token.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.0 {
            Public::Ed25519(key) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|signature| key.verify_strict(message, &signature).is_ok()),
            // `ring` accepts either `S`, as `p256` did; `r` and `s` must be in 1..n.
            Public::P256(_, point) => ring::signature::UnparsedPublicKey::new(
                &ring::signature::ECDSA_P256_SHA256_FIXED,
                &point[..],
            )
            .verify(message, signature)
            .is_ok(),
            Public::Rsa(key, algorithm) => {
                key.verify(*algorithm == JoseAlgorithm::Ps256, message, signature)
            }
        }
    }

    /// The JWK members' bytes: `x` (and `y` for P-256); for RSA, `n` and `e`.
    pub(crate) fn coordinates(&self) -> (Vec<u8>, Option<Vec<u8>>) {
        match &self.0 {
            Public::Rsa(key, _) => (key.n.clone(), Some(key.e.clone())),
            Public::Ed25519(key) => (key.to_bytes().to_vec(), None),
            Public::P256(key, _) => {
                let point = key.to_encoded_point(false);
                let x = point.x().map(|x| x.to_vec()).unwrap_or_default();
                let y = point.y().map(|y| y.to_vec());
                (x, y)
            }
        }
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.to_bytes());
        write!(f, "PublicKey({} {bytes})", self.algorithm())
    }
}
