//! A JWKS document as a keyring: each usable signature key becomes a public key of the
//! keyring under its `kid`; every other key is refused by name, with why, and the rest are
//! kept — one bad key never takes the good ones down.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::clock::Clock;
use crate::error::{KeyringError, StoreProblem};
use crate::jose::{Jwk, RSA_BITS};
use crate::key_id_grammar::is_valid_public_key_id;
use crate::keyring::{Key, Keyring};

/// A key of a JWKS that was not taken into the keyring, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefusedJwk {
    /// Its position in the `keys` array.
    pub index: usize,
    /// Its `kid`, when it has a printable one (at most 128 characters).
    pub kid: Option<String>,
    /// Why.
    pub reason: JwkRefusal,
}

/// Why a JWKS key was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwkRefusal {
    /// Not a JSON object of a JWK's shape.
    NotAJwk,
    /// No `kid`: tokens name their key by it.
    NoKid,
    /// A `kid` that is not 1 to 128 printable ASCII characters.
    BadKid,
    /// `use` is not `sig` (an encryption key).
    NotForSignatures,
    /// It has a private part (`d`): the issuer publishes a private key. Never taken.
    PrivatePart,
    /// A key type, curve or `alg` tokenring does not verify with (`EC` P-384, `PS256`, …).
    Unsupported {
        /// `kty`, `crv` and `alg` as the JWK says them (cut to 32 characters).
        what: String,
    },
    /// An RSA key outside 2048 to 8192 bits.
    RsaSize {
        /// Its modulus size.
        bits: usize,
    },
    /// Members that are no key of its type (a point off the curve, a small-order Ed25519
    /// key, an even RSA exponent, bad base64url).
    Invalid,
    /// Another key of the JWKS has the same `kid`: which one signed a token could not be
    /// told, so none of them is taken.
    DuplicateKid,
}

impl fmt::Display for RefusedJwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kid {
            Some(kid) => write!(f, "key {kid:?} (keys[{}]): ", self.index)?,
            None => write!(f, "keys[{}]: ", self.index)?,
        }
        match &self.reason {
            JwkRefusal::NotAJwk => f.write_str("not a JWK"),
            JwkRefusal::NoKid => f.write_str("no kid"),
            JwkRefusal::BadKid => f.write_str("its kid is not 1 to 128 printable ASCII characters"),
            JwkRefusal::NotForSignatures => f.write_str("its use is not sig"),
            JwkRefusal::PrivatePart => f.write_str("it has a private part (d): never taken"),
            JwkRefusal::Unsupported { what } => write!(f, "{what} is not supported"),
            JwkRefusal::RsaSize { bits } => {
                write!(f, "an RSA key of {bits} bits (2048 to 8192 are taken)")
            }
            JwkRefusal::Invalid => f.write_str("not a valid key"),
            JwkRefusal::DuplicateKid => f.write_str("another key has the same kid"),
        }
    }
}

/// The largest JWKS document read, unless configured: a JWKS holds a few keys, a few KiB.
pub(super) const DEFAULT_MAX_BYTES: usize = 256 * 1024;

/// `text` (a JWKS document read from `store`) as a keyring of its usable keys, on `clock`,
/// and the keys refused. Every key taken is active: it verifies and, being a public key,
/// never signs.
pub(super) fn keyring_of(
    text: &str,
    store: &str,
    clock: Arc<dyn Clock>,
) -> Result<(Keyring, Vec<RefusedJwk>), KeyringError> {
    let not_jwks = |why| KeyringError::Unavailable {
        store: store.to_owned(),
        reason: StoreProblem::NotJwks(why),
    };
    let document: serde_json::Value =
        serde_json::from_str(text).map_err(|_| not_jwks("not JSON"))?;
    let entries = document
        .get("keys")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| not_jwks("no keys array"))?;
    let mut refused = Vec::new();
    let mut taken: Vec<(usize, Key)> = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let kid = entry
            .get("kid")
            .and_then(serde_json::Value::as_str)
            .filter(|kid| is_valid_public_key_id(kid.as_bytes()))
            .map(str::to_owned);
        match key_of(entry) {
            Ok(key) => taken.push((index, key)),
            Err(reason) => refused.push(RefusedJwk { index, kid, reason }),
        }
    }
    // A kid twice: neither is taken.
    let mut count: HashMap<String, usize> = HashMap::new();
    for (_, key) in &taken {
        *count.entry(key.id().to_owned()).or_default() += 1;
    }
    let (keys, duplicates): (Vec<_>, Vec<_>) =
        taken.into_iter().partition(|(_, key)| count[key.id()] == 1);
    refused.extend(duplicates.into_iter().map(|(index, key)| RefusedJwk {
        index,
        kid: Some(key.id().to_owned()),
        reason: JwkRefusal::DuplicateKid,
    }));
    refused.sort_by_key(|refusal| refusal.index);
    let keys: Vec<Key> = keys.into_iter().map(|(_, key)| key).collect();
    if keys.is_empty() {
        return Err(KeyringError::Unavailable {
            store: store.to_owned(),
            reason: StoreProblem::NoUsableJwk {
                refused: refused.iter().map(ToString::to_string).collect(),
            },
        });
    }
    Ok((Keyring::new_with_clock(keys, clock)?, refused))
}

/// The public key of one JWKS entry, under its `kid`, or why not.
fn key_of(entry: &serde_json::Value) -> Result<Key, JwkRefusal> {
    let jwk: Jwk = serde_json::from_value(entry.clone()).map_err(|_| JwkRefusal::NotAJwk)?;
    let kid = jwk.kid.as_deref().ok_or(JwkRefusal::NoKid)?;
    if !is_valid_public_key_id(kid.as_bytes()) {
        return Err(JwkRefusal::BadKid);
    }
    if entry.get("d").is_some() {
        return Err(JwkRefusal::PrivatePart);
    }
    if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
        return Err(JwkRefusal::NotForSignatures);
    }
    if jwk.algorithm().is_none() {
        let mut what = format!("kty {:?}", jwk.kty);
        if !jwk.crv.is_empty() {
            what.push_str(&format!(" crv {:?}", jwk.crv));
        }
        if let Some(alg) = &jwk.alg {
            what.push_str(&format!(" alg {alg:?}"));
        }
        return Err(JwkRefusal::Unsupported {
            what: what.chars().take(64).collect(),
        });
    }
    if let Some(bits) = jwk.rsa_bits()
        && !RSA_BITS.contains(&bits)
    {
        return Err(JwkRefusal::RsaSize { bits });
    }
    let public = jwk.to_public_key().map_err(|_| JwkRefusal::Invalid)?;
    Ok(Key::from_public_key(kid, public))
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;
    use crate::clock::SystemClock;
    use crate::jose::{JoseAlgorithm, SigningKey};

    fn jwk(kid: &str, algorithm: JoseAlgorithm) -> serde_json::Value {
        let key = SigningKey::generate(algorithm).unwrap().public_key();
        serde_json::to_value(Jwk::public(kid, &key)).unwrap()
    }

    /// One bad key among good ones: the good ones are taken, each bad one named with why.
    #[test]
    fn bad_keys_are_refused_by_name_and_the_rest_kept() {
        let mut private = jwk("priv", JoseAlgorithm::EdDsa);
        private["d"] = "AAAA".into();
        let mut enc = jwk("enc", JoseAlgorithm::Es256);
        enc["use"] = "enc".into();
        let mut wrong_alg = jwk("ps", JoseAlgorithm::Es256);
        wrong_alg["alg"] = "PS256".into();
        let small_rsa = serde_json::json!({"kty": "RSA", "kid": "small",
            "n": URL_SAFE_NO_PAD.encode([0xc3; 128]), "e": "AQAB"});
        let document = serde_json::json!({"keys": [
            jwk("good-1", JoseAlgorithm::EdDsa),
            private,
            {"kty": "oct", "kid": "hmac", "k": "AAAA"},
            {"kty": "EC", "crv": "P-384", "kid": "p384", "x": "AA", "y": "AA"},
            enc,
            wrong_alg,
            small_rsa,
            {"kty": "OKP", "crv": "Ed25519", "x": "AA"},
            {"kty": "OKP", "crv": "Ed25519", "kid": "bad", "x": "AA"},
            jwk("twice", JoseAlgorithm::EdDsa),
            jwk("twice", JoseAlgorithm::Es256),
            "not an object",
            jwk("good-2", JoseAlgorithm::Es256),
        ]});
        let (keyring, refused) =
            keyring_of(&document.to_string(), "JWKS", Arc::new(SystemClock)).unwrap();
        let ids: Vec<&str> = keyring.keys().iter().map(Key::id).collect();
        assert_eq!(ids, ["good-1", "good-2"]);
        let said: Vec<String> = refused.iter().map(ToString::to_string).collect();
        assert_eq!(
            said,
            [
                "key \"priv\" (keys[1]): it has a private part (d): never taken",
                "key \"hmac\" (keys[2]): kty \"oct\" is not supported",
                "key \"p384\" (keys[3]): kty \"EC\" crv \"P-384\" is not supported",
                "key \"enc\" (keys[4]): its use is not sig",
                "key \"ps\" (keys[5]): kty \"EC\" crv \"P-256\" alg \"PS256\" is not supported",
                "key \"small\" (keys[6]): an RSA key of 1024 bits (2048 to 8192 are taken)",
                "keys[7]: no kid",
                "key \"bad\" (keys[8]): not a valid key",
                "key \"twice\" (keys[9]): another key has the same kid",
                "key \"twice\" (keys[10]): another key has the same kid",
                "keys[11]: not a JWK",
            ]
        );
    }

    #[test]
    fn documents_that_are_no_jwks_or_hold_no_usable_key_are_errors() {
        for (text, said) in [
            ("<html>502 Bad Gateway</html>", "not a JWKS (not JSON)"),
            ("{\"keys\": 3}", "not a JWKS (no keys array)"),
            ("{\"keys\": []}", "no key of the JWKS is usable: "),
            (
                "{\"keys\": [{\"kty\": \"oct\", \"kid\": \"a\"}]}",
                "no key of the JWKS is usable: key \"a\" (keys[0]): kty \"oct\" is not supported",
            ),
        ] {
            let error = keyring_of(text, "JWKS", Arc::new(SystemClock)).unwrap_err();
            assert!(error.to_string().contains(said), "{error}");
        }
    }
}
