//! The algorithms a key can use, and the keyed MAC state built once per derived key.
//!
//! The algorithm is a property of the key in the keyring, never of the token: a token names
//! only a key id, so nothing an attacker writes can pick a weaker algorithm. HMAC keys mint
//! native `v1.` tokens; `EdDSA` and `ES256` keys (feature `jose`) mint standard JWS.

use std::fmt;
use std::str::FromStr;

use hmac::{EagerHash, Hmac, KeyInit, Mac};
use sha2::{Sha256, Sha384, Sha512};

/// Algorithms for keyring keys. `HS256` is the default.
///
/// The HMAC algorithms share one secret between who mints and who verifies. `EdDSA` and
/// `ES256` are public-key algorithms: the private key mints, the public key only verifies,
/// so a verify-only service can hold the public key alone. Their keys work only with the
/// `jose` feature; without it, a keyring naming them is refused by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC-SHA-256, 32-byte tags.
    #[default]
    Hs256,
    /// HMAC-SHA-384, 48-byte tags.
    Hs384,
    /// HMAC-SHA-512, 64-byte tags.
    Hs512,
    /// Ed25519 signatures (RFC 8037's `EdDSA`), 64 bytes.
    EdDsa,
    /// ECDSA on P-256 with SHA-256 (RFC 7518's `ES256`), 64-byte `r || s`.
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518's `RS256`): public keys only, verifying the
    /// tokens of issuers that sign with RSA (most OIDC providers' default).
    Rs256,
    /// RSASSA-PSS with SHA-256 and MGF1 (RFC 7518's `PS256`): public keys only.
    Ps256,
}

impl Algorithm {
    /// Every algorithm, HMAC ones first.
    pub const ALL: [Self; 7] = [
        Self::Hs256,
        Self::Hs384,
        Self::Hs512,
        Self::EdDsa,
        Self::Es256,
        Self::Rs256,
        Self::Ps256,
    ];

    /// The name used in keyring files and JOSE headers: `"HS256"`, `"HS384"`, `"HS512"`,
    /// `"EdDSA"`, `"ES256"`, `"RS256"` or `"PS256"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::Hs384 => "HS384",
            Self::Hs512 => "HS512",
            Self::EdDsa => "EdDSA",
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
            Self::Ps256 => "PS256",
        }
    }

    /// Tag (or signature) length in bytes; for HMAC also the length of the derived key. For
    /// `RS256`/`PS256` the shortest (a 2048-bit key's); a key's own is its modulus'.
    pub const fn tag_len(self) -> usize {
        match self {
            Self::Hs256 => 32,
            Self::Hs384 => 48,
            Self::Hs512 | Self::EdDsa | Self::Es256 => 64,
            Self::Rs256 | Self::Ps256 => 256,
        }
    }

    /// Whether keys of this algorithm are public keys (`EdDSA`, `ES256`, `RS256`, `PS256`)
    /// rather than shared HMAC secrets.
    pub const fn is_public_key(self) -> bool {
        matches!(self, Self::EdDsa | Self::Es256 | Self::Rs256 | Self::Ps256)
    }

    /// Whether tokenring can hold this algorithm's private key and sign with it: every
    /// algorithm but the RSA ones (`RS256`, `PS256`), whose keys only verify.
    pub const fn signs(self) -> bool {
        !matches!(self, Self::Rs256 | Self::Ps256)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, not `write_str`: callers align tables with `{:<8}`.
        f.pad(self.name())
    }
}

/// The error for an algorithm name this crate does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown algorithm (expected HS256, HS384, HS512, EdDSA, ES256, RS256 or PS256)")]
pub struct UnknownAlgorithm;

impl FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    /// Exact, case-sensitive names only: a keyring is configuration, and `hs256` is as likely
    /// a typo as a preference.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "HS256" => Ok(Self::Hs256),
            "HS384" => Ok(Self::Hs384),
            "HS512" => Ok(Self::Hs512),
            "EdDSA" => Ok(Self::EdDsa),
            "ES256" => Ok(Self::Es256),
            "RS256" => Ok(Self::Rs256),
            "PS256" => Ok(Self::Ps256),
            _ => Err(UnknownAlgorithm),
        }
    }
}

/// The longest tag of any algorithm; sizes stack buffers.
pub(crate) const MAX_TAG_LEN: usize = 64;

/// A tag held on the stack.
pub(crate) struct Tag {
    bytes: [u8; MAX_TAG_LEN],
    len: usize,
}

impl Tag {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// One HMAC keyed once — its inner and outer pads hashed — and cloned per message, so no
/// token pays for keying. The native format and the Rails formats both MAC through it, each
/// choosing its digests.
#[derive(Clone)]
pub(crate) struct Keyed<D: EagerHash>(Hmac<D>);

impl<D> Keyed<D>
where
    D: EagerHash,
    Hmac<D>: Mac + KeyInit + Clone,
{
    pub(crate) fn new(key: &[u8]) -> Self {
        // HMAC takes keys of any length (RFC 2104 §3), so this cannot fail.
        Self(Hmac::new_from_slice(key).expect("HMAC accepts keys of any length"))
    }

    /// The tag over `message`, on the stack.
    pub(crate) fn tag(&self, message: &[u8]) -> Tag {
        let mut mac = self.0.clone();
        mac.update(message);
        let out = mac.finalize().into_bytes();
        let mut tag = Tag {
            bytes: [0; MAX_TAG_LEN],
            len: out.len(),
        };
        tag.bytes[..out.len()].copy_from_slice(&out);
        tag
    }

    /// Whether `tag` is the tag over `message`, compared in constant time by `hmac`'s own
    /// `verify_slice`.
    pub(crate) fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        let mut mac = self.0.clone();
        mac.update(message);
        mac.verify_slice(tag).is_ok()
    }
}

/// The keyed MAC of a keyring key's algorithm.
#[derive(Clone)]
pub(crate) enum KeyedMac {
    Hs256(Keyed<Sha256>),
    Hs384(Keyed<Sha384>),
    Hs512(Keyed<Sha512>),
}

impl KeyedMac {
    /// The keyed MAC for an HMAC `algorithm`; `None` for a public-key one.
    pub(crate) fn new(algorithm: Algorithm, key: &[u8]) -> Option<Self> {
        Some(match algorithm {
            Algorithm::Hs256 => Self::Hs256(Keyed::new(key)),
            Algorithm::Hs384 => Self::Hs384(Keyed::new(key)),
            Algorithm::Hs512 => Self::Hs512(Keyed::new(key)),
            Algorithm::EdDsa | Algorithm::Es256 | Algorithm::Rs256 | Algorithm::Ps256 => {
                return None;
            }
        })
    }

    pub(crate) fn algorithm(&self) -> Algorithm {
        match self {
            Self::Hs256(_) => Algorithm::Hs256,
            Self::Hs384(_) => Algorithm::Hs384,
            Self::Hs512(_) => Algorithm::Hs512,
        }
    }

    pub(crate) fn tag(&self, message: &[u8]) -> Tag {
        match self {
            Self::Hs256(mac) => mac.tag(message),
            Self::Hs384(mac) => mac.tag(message),
            Self::Hs512(mac) => mac.tag(message),
        }
    }

    /// Constant-time comparison.
    pub(crate) fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        match self {
            Self::Hs256(mac) => mac.verify(message, tag),
            Self::Hs384(mac) => mac.verify(message, tag),
            Self::Hs512(mac) => mac.verify(message, tag),
        }
    }
}

impl fmt::Debug for KeyedMac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyedMac({}, <redacted>)", self.algorithm())
    }
}

#[cfg(test)]
mod tests {
    //! RFC 4231 HMAC-SHA-2 test cases 1–4, 6 and 7 through the keyed state the verifier uses
    //! (case 5 checks output truncation, which tokenring never does).
    use super::*;
    use crate::testing::hex;

    /// The keyed states are as good as the derived keys for forging. A keyed `Hmac` holds
    /// the key-derived state (the hashed inner and outer pads) in two hash cores; with the
    /// `zeroize` features those wipe themselves on drop. (`Hmac` itself carries no
    /// `ZeroizeOnDrop` marker in hmac 0.13, so the cores are what is checked.)
    #[test]
    fn keyed_states_zeroize_on_drop() {
        use hmac::digest::block_api::CoreProxy;
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wiped_on_drop::<<Sha256 as CoreProxy>::Core>();
        wiped_on_drop::<<Sha384 as CoreProxy>::Core>();
        wiped_on_drop::<<Sha512 as CoreProxy>::Core>();
    }

    struct Case {
        key: Vec<u8>,
        data: Vec<u8>,
        sha256: &'static str,
        sha384: &'static str,
        sha512: &'static str,
    }

    fn cases() -> Vec<Case> {
        let long_key = vec![0xaa; 131];
        vec![
            Case {
                key: vec![0x0b; 20],
                data: b"Hi There".to_vec(),
                sha256: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
                sha384: "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c
                         faea9ea9076ede7f4af152e8b2fa9cb6",
                sha512: "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde
                         daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
            },
            Case {
                key: b"Jefe".to_vec(),
                data: b"what do ya want for nothing?".to_vec(),
                sha256: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                sha384: "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e
                         8e2240ca5e69e2c78b3239ecfab21649",
                sha512: "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554
                         9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
            },
            Case {
                key: vec![0xaa; 20],
                data: vec![0xdd; 50],
                sha256: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
                sha384: "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b
                         2a5ab39dc13814b94e3ab6e101a34f27",
                sha512: "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39
                         bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb",
            },
            Case {
                key: (0x01..=0x19).collect(),
                data: vec![0xcd; 50],
                sha256: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
                sha384: "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e
                         6801dd23c4a7d679ccf8a386c674cffb",
                sha512: "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db
                         a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd",
            },
            Case {
                key: long_key.clone(),
                data: b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
                sha256: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
                sha384: "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6
                         0c2ef6ab4030fe8296248df163f44952",
                sha512: "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352
                         6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
            },
            Case {
                key: long_key,
                data: b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".to_vec(),
                sha256: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
                sha384: "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5
                         a678cc31e799176d3860e6110c46523e",
                sha512: "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944
                         b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58",
            },
        ]
    }

    #[test]
    fn rfc4231_vectors() {
        for (i, case) in cases().iter().enumerate() {
            for (algorithm, expected) in [
                (Algorithm::Hs256, case.sha256),
                (Algorithm::Hs384, case.sha384),
                (Algorithm::Hs512, case.sha512),
            ] {
                let mac = KeyedMac::new(algorithm, &case.key).unwrap();
                let expected = hex(expected);
                assert_eq!(
                    mac.tag(&case.data).as_bytes(),
                    expected,
                    "case {i} {algorithm}"
                );
                assert!(mac.verify(&case.data, &expected), "case {i} {algorithm}");
                let mut wrong = expected.clone();
                wrong[0] ^= 1;
                assert!(!mac.verify(&case.data, &wrong), "case {i} {algorithm}");
                assert!(!mac.verify(&case.data, &expected[..expected.len() - 1]));
            }
        }
    }

    #[test]
    fn names_round_trip_and_are_case_sensitive() {
        for algorithm in Algorithm::ALL {
            assert_eq!(algorithm.name().parse::<Algorithm>(), Ok(algorithm));
            assert_eq!(
                KeyedMac::new(algorithm, &[0; 32]).is_none(),
                algorithm.is_public_key()
            );
        }
        assert!("hs256".parse::<Algorithm>().is_err());
        assert!("eddsa".parse::<Algorithm>().is_err());
        assert!("none".parse::<Algorithm>().is_err());
    }
}
