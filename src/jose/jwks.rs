//! JSON Web Keys (RFC 7517, RFC 8037 for Ed25519, RFC 7518 §6.3 for RSA): publishing public
//! keys, and importing them. A JWK made here never holds a private part; one read here must
//! not.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::keys::{JoseAlgorithm, PublicKey};
use crate::error::SecretError;

/// One public key as a JWK: `{"kty", "crv", "x", "y"?, "kid", "alg", "use": "sig"}` for the
/// curves, `{"kty": "RSA", "n", "e", "kid", "alg", "use": "sig"}` for RSA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Jwk {
    /// `OKP` (Ed25519), `EC` (P-256) or `RSA`.
    pub kty: String,
    /// `Ed25519` or `P-256`; empty for RSA.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub crv: String,
    /// The public key (Ed25519) or its x coordinate (P-256), unpadded base64url; empty for
    /// RSA.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub x: String,
    /// P-256's y coordinate, unpadded base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// RSA's modulus, unpadded base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA's public exponent, unpadded base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// The key id, as tokens' headers name it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// `EdDSA` or `ES256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// `sig`.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// A private part (`d`): never written; a JWK that has one is refused on import.
    #[serde(default, skip_serializing)]
    d: Option<Present>,
}

/// A member that is there, whatever it holds (never kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Present;

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer).map(|_| Present)
    }
}

impl Jwk {
    /// The JWK of `key`, named `kid`, for signatures.
    pub fn public(kid: &str, key: &PublicKey) -> Self {
        let (x, y) = key.coordinates();
        let encode = |bytes: Vec<u8>| URL_SAFE_NO_PAD.encode(bytes);
        let (kty, crv) = match key.algorithm() {
            JoseAlgorithm::EdDsa => ("OKP", "Ed25519"),
            JoseAlgorithm::Es256 => ("EC", "P-256"),
            JoseAlgorithm::Rs256 | JoseAlgorithm::Ps256 => ("RSA", ""),
        };
        let rsa = kty == "RSA";
        let (x, y, n, e) = match rsa {
            true => (String::new(), None, Some(encode(x)), y.map(encode)),
            false => (encode(x), y.map(encode), None, None),
        };
        Self {
            kty: kty.to_owned(),
            crv: crv.to_owned(),
            x,
            y,
            n,
            e,
            kid: Some(kid.to_owned()),
            alg: Some(key.algorithm().name().to_owned()),
            use_: Some("sig".to_owned()),
            d: None,
        }
    }

    /// The public key this JWK holds.
    ///
    /// # Errors
    ///
    /// [`SecretError::InvalidKey`] for a key type, curve or algorithm tokenring does not
    /// verify with, a `use` other than `sig`, a private part (`d`: a private key is not
    /// published, and not imported as a public one), coordinates that are no key, or an RSA
    /// key outside 2048 to 8192 bits.
    pub fn to_public_key(&self) -> Result<PublicKey, SecretError> {
        if self.d.is_some() || self.use_.as_deref().is_some_and(|u| u != "sig") {
            return Err(SecretError::InvalidKey);
        }
        let algorithm = self.algorithm().ok_or(SecretError::InvalidKey)?;
        let decode = |text: &str| {
            URL_SAFE_NO_PAD
                .decode(text)
                .map_err(|_| SecretError::InvalidKey)
        };
        if self.kty == "RSA" {
            let (Some(n), Some(e), true) = (&self.n, &self.e, self.x.is_empty()) else {
                return Err(SecretError::InvalidKey);
            };
            return PublicKey::rsa_for(algorithm, &decode(n)?, &decode(e)?);
        }
        let x = decode(&self.x)?;
        match (algorithm, &self.y) {
            (JoseAlgorithm::EdDsa, None) => PublicKey::from_bytes(algorithm, &x),
            (JoseAlgorithm::Es256, Some(y)) => {
                let y = decode(y)?;
                if x.len() != 32 || y.len() != 32 {
                    return Err(SecretError::InvalidKey);
                }
                let mut point = Vec::with_capacity(65);
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                PublicKey::from_bytes(algorithm, &point)
            }
            _ => Err(SecretError::InvalidKey),
        }
    }
}

impl Jwk {
    /// The algorithm its key verifies: the one its `kty` and `crv` allow (`OKP` Ed25519:
    /// EdDSA; `EC` P-256: ES256; `RSA`: RS256, or PS256 when `alg` says so), which its `alg`,
    /// when present, must name. `None` for a key tokenring does not verify with.
    pub fn algorithm(&self) -> Option<JoseAlgorithm> {
        let algorithm = match (self.kty.as_str(), self.crv.as_str()) {
            ("OKP", "Ed25519") => JoseAlgorithm::EdDsa,
            ("EC", "P-256") => JoseAlgorithm::Es256,
            // An RSA key without `alg` is RS256, most issuers' default.
            ("RSA", "") if self.alg.as_deref() == Some("PS256") => JoseAlgorithm::Ps256,
            ("RSA", "") => JoseAlgorithm::Rs256,
            _ => return None,
        };
        match &self.alg {
            Some(alg) if alg != algorithm.name() => None,
            _ => Some(algorithm),
        }
    }

    /// An RSA key's modulus size in bits, read from `n` (before any other check: a key of
    /// the wrong size can be named as such); `None` for another key type or an `n` that is not
    /// base64url.
    pub fn rsa_bits(&self) -> Option<usize> {
        let n = URL_SAFE_NO_PAD.decode(self.n.as_deref()?).ok()?;
        (self.kty == "RSA").then(|| super::rsa::modulus_bits(&n))
    }
}

/// A JWKS document (`{"keys": [...]}`) of `keys` (key id, public key), in the order given.
pub fn document<'a>(keys: impl IntoIterator<Item = (&'a str, &'a PublicKey)>) -> String {
    let keys: Vec<Jwk> = keys
        .into_iter()
        .map(|(kid, key)| Jwk::public(kid, key))
        .collect();
    serde_json::json!({ "keys": keys }).to_string()
}
