//! The public face of a keyring with key pairs (feature `jose`): the public keyring a
//! verify-only service loads, and the JWKS that publishes the public keys.

use std::time::Duration;

use super::{Key, KeyState, Keyring};
use crate::error::KeyringError;

impl Keyring {
    /// The public keyring: every `EdDSA`/`ES256` key with its public key alone, in the same
    /// order, states and times. HMAC keys are left out — their secret is what mints — and so
    /// is every private key: the result holds no secret at all, and a verifier over it
    /// verifies this keyring's JWS and refuses to sign
    /// ([`SignError::NoPrivateKey`](crate::SignError::NoPrivateKey)).
    ///
    /// ```
    /// use tokenring::jose::{JoseAlgorithm, SigningKey};
    /// use tokenring::{Key, Keyring, SignError, TokenOptions, Verifier};
    ///
    /// let key = SigningKey::generate(JoseAlgorithm::EdDsa)?;
    /// let private = Keyring::new(vec![Key::from_signing_key("2026-12", key)])?;
    /// let public = private.public()?;
    /// assert!(public.keys().iter().all(|key| key.secret().is_none()));
    ///
    /// let token = Verifier::new(&private, "login").generate(&42, TokenOptions::new())?;
    /// let verifier = Verifier::new(public, "login");
    /// assert_eq!(verifier.verify::<u32>(&token, None)?.value, 42);
    /// assert!(matches!(
    ///     verifier.generate(&42, TokenOptions::new()),
    ///     Err(SignError::NoPrivateKey { .. })
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`KeyringError::NoKeys`] if the keyring has no key pair; [`KeyringError::NoUsableKey`]
    /// if none of its key pairs verifies now.
    pub fn public(&self) -> Result<Self, KeyringError> {
        let keys: Vec<Key> = self.keys.iter().filter_map(Key::to_public).collect();
        Ok(Self::new_with_clock(keys, self.clock.clone())?
            .with_description(self.description.clone())
            .with_demo(self.demo))
    }

    /// Whether no key holds a secret: a public keyring, which can verify and never sign.
    pub fn is_public(&self) -> bool {
        self.keys.iter().all(|key| key.secret().is_none())
    }

    /// The JWKS document (RFC 7517) publishing the public key of every key pair that verifies
    /// now — active ones, and pending ones so caches hold a key before it signs — the signer
    /// first. Never a private key, never an HMAC key.
    pub fn jwks(&self) -> String {
        crate::jose::jwks(
            self.verifying_keys()
                .filter_map(|key| Some((key.id(), key.public_key()?))),
        )
    }

    /// How long a copy of [`Keyring::jwks`] stays true at most, capped at `max`: until the
    /// next key activates or expires. What a JWKS endpoint's `Cache-Control: max-age` says,
    /// so no cache outlives a key set that changes on schedule.
    pub fn jwks_max_age(&self, max: Duration) -> Duration {
        let now = self.now();
        self.keys
            .iter()
            .filter(|key| key.state_at(now) != KeyState::Disabled)
            .flat_map(|key| [key.activates_at, key.expires_at])
            .flatten()
            .filter_map(|at| at.duration_since(now).ok())
            .filter(|left| !left.is_zero())
            .fold(max, Duration::min)
    }
}
