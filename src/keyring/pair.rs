//! An `EdDSA` or `ES256` key's two halves as a keyring holds them (feature `jose`): the
//! public key always, the private key when this keyring signs.

use crate::algorithm::Algorithm;
use crate::error::EntryError;
use crate::jose::{JoseAlgorithm, PublicKey, SigningKey};
use crate::secret::Secret;

/// A parsed key pair, or a public key alone.
#[derive(Clone, Debug)]
pub(crate) struct KeyPair {
    // Zeroized on drop by the curve crates.
    signing: Option<SigningKey>,
    public: PublicKey,
}

impl KeyPair {
    pub(crate) fn signing(key: SigningKey) -> Self {
        Self {
            public: key.public_key(),
            signing: Some(key),
        }
    }

    pub(crate) fn public(key: PublicKey) -> Self {
        Self {
            signing: None,
            public: key,
        }
    }

    pub(crate) fn public_key(&self) -> &PublicKey {
        &self.public
    }

    pub(crate) fn signing_key(&self) -> Option<&SigningKey> {
        self.signing.as_ref()
    }

    /// The pair a key entry describes: its private bytes (`secret`) parsed and its public key
    /// derived from them, which must equal the public key given with them, if any; or the
    /// public key alone.
    pub(crate) fn check(
        algorithm: Algorithm,
        secret: Option<&Secret>,
        given: Option<&Self>,
    ) -> Result<Self, EntryError> {
        let jose = JoseAlgorithm::of(algorithm).ok_or(EntryError::PublicKeyMismatch)?;
        if let Some(given) = given
            && given.public.algorithm() != jose
        {
            return Err(EntryError::PublicKeyMismatch);
        }
        match (secret, given) {
            // Built from a parsed signing key: nothing to parse again.
            (Some(secret), Some(given))
                if given
                    .signing
                    .as_ref()
                    .is_some_and(|key| key.to_bytes() == *secret) =>
            {
                Ok(given.clone())
            }
            (Some(secret), given) => {
                let pair = Self::signing(
                    SigningKey::from_bytes(jose, secret).map_err(EntryError::Secret)?,
                );
                if given.is_some_and(|given| given.public != pair.public) {
                    return Err(EntryError::PublicKeyMismatch);
                }
                Ok(pair)
            }
            (None, Some(given)) => Ok(Self::public(given.public.clone())),
            (None, None) => Err(EntryError::MissingField("public_key")),
        }
    }
}
