//! One verifier per name (salt) from one keyring, with shared defaults and per-name overrides —
//! Rails' `message_verifiers` plus per-class `signed_id_verifier`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use super::{Expiry, Verifier};
use crate::keyring::KeyringRef;

/// Settings for the verifiers of a [`Verifiers`] registry: the defaults for every name, or
/// an override for one.
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct VerifierConfig {
    keyring: Option<KeyringRef>,
    // `None`: inherited; `Expiry::In` or `Expiry::Never` once set.
    expiry: Option<Expiry>,
    leeway: Option<Duration>,
    max_token_len: Option<usize>,
}

impl VerifierConfig {
    /// Nothing set: everything inherited.
    pub fn new() -> Self {
        Self::default()
    }

    /// Another keyring (fixed or hot) for this name.
    pub fn keyring(mut self, keyring: impl Into<KeyringRef>) -> Self {
        self.keyring = Some(keyring.into());
        self
    }

    /// Tokens minted without an expiry of their own expire this long after signing.
    pub fn expires_in(mut self, after: Duration) -> Self {
        self.expiry = Some(Expiry::In(after));
        self
    }

    /// Tokens minted without an expiry of their own never expire (the default; use it to
    /// override a registry-wide `expires_in` for one name).
    pub fn never_expires(mut self) -> Self {
        self.expiry = Some(Expiry::Never);
        self
    }

    /// Clock leeway for expiry.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = Some(leeway);
        self
    }

    /// Longest token accepted (and minted), in bytes.
    pub fn max_token_len(mut self, max: usize) -> Self {
        self.max_token_len = Some(max);
        self
    }

    /// `self` where set, else `base`.
    fn over(&self, base: &VerifierConfig) -> VerifierConfig {
        VerifierConfig {
            keyring: self.keyring.clone().or_else(|| base.keyring.clone()),
            expiry: self.expiry.or(base.expiry),
            leeway: self.leeway.or(base.leeway),
            max_token_len: self.max_token_len.or(base.max_token_len),
        }
    }
}

/// Hands out one [`Verifier`] per name, built on first use and cached; `Clone + Send + Sync`
/// (one `Arc`).
///
/// The name is the verifier's salt, so each name has its own derived keys: a token for
/// `"password_reset"` never verifies as `"email_confirm"`. Looking a name up takes a read
/// lock on the cache; hold on to the `Verifier` it returns (it is one `Arc`) where a request
/// path must not touch a lock.
///
/// ```
/// use std::time::Duration;
/// use tokenring::{Key, Keyring, Secret, TokenOptions, Verifiers};
/// use tokenring::verifier::VerifierConfig;
///
/// let keyring = Keyring::new(vec![Key::new("k1", Secret::random(32)?)])?;
/// let verifiers = Verifiers::builder(keyring)
///     .defaults(VerifierConfig::new().expires_in(Duration::from_secs(3600)))
///     .configure("password_reset", VerifierConfig::new().expires_in(Duration::from_secs(900)))
///     .build();
/// let resets = verifiers.get("password_reset");
/// let token = resets.generate(&42, TokenOptions::new())?;
/// assert!(verifiers.get("email_confirm").verify::<u64>(&token, None).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Verifiers {
    inner: Arc<Inner>,
}

struct Inner {
    // Every verifier's keyring unless its configuration names another.
    keyring: KeyringRef,
    defaults: VerifierConfig,
    overrides: HashMap<String, VerifierConfig>,
    cache: RwLock<HashMap<String, Verifier>>,
    // Whether the cache was found full once (said once, not per call).
    cache_full_said: std::sync::atomic::AtomicBool,
}

/// Configures a [`Verifiers`] registry.
#[must_use]
pub struct VerifiersBuilder {
    keyring: KeyringRef,
    defaults: VerifierConfig,
    overrides: HashMap<String, VerifierConfig>,
}

impl VerifiersBuilder {
    /// Defaults for every name (the keyring given to [`Verifiers::builder`] stays unless this
    /// sets another).
    pub fn defaults(mut self, mut defaults: VerifierConfig) -> Self {
        if let Some(keyring) = defaults.keyring.take() {
            self.keyring = keyring;
        }
        self.defaults = defaults.over(&self.defaults);
        self
    }

    /// Settings for one name, over the defaults.
    pub fn configure(mut self, name: impl Into<String>, config: VerifierConfig) -> Self {
        self.overrides.insert(name.into(), config);
        self
    }

    /// Builds the registry; verifiers are built on first use of each name.
    pub fn build(self) -> Verifiers {
        Verifiers {
            inner: Arc::new(Inner {
                keyring: self.keyring,
                defaults: self.defaults,
                overrides: self.overrides,
                cache: RwLock::new(HashMap::new()),
                cache_full_said: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }
}

impl Verifiers {
    /// The verifier name signed ids use unless a record type picks another.
    pub const SIGNED_ID: &str = "signed_id";

    /// The verifier name `TokenFor` definitions use unless a record type picks another.
    pub const TOKEN_FOR: &str = "token_for";

    /// A registry whose verifiers use `keyring` (a `Keyring`, `Arc<Keyring>` or hot keyring)
    /// unless configured otherwise.
    pub fn builder(keyring: impl Into<KeyringRef>) -> VerifiersBuilder {
        VerifiersBuilder {
            keyring: keyring.into(),
            defaults: VerifierConfig::new(),
            overrides: HashMap::new(),
        }
    }

    /// How many names [`Verifiers::get`] keeps built. Names are meant to be a program's own
    /// (`"password_reset"`, a record type's); past this many, a name that is not configured
    /// gets a verifier built for the call and not kept, so names taken from input cannot grow
    /// the registry without bound (a warning says so, once).
    pub const MAX_CACHED: usize = 256;

    /// The verifier for `name`, built (keys derived) on first use and kept (see
    /// [`Verifiers::MAX_CACHED`]). Use names from the program, not from requests.
    pub fn get(&self, name: &str) -> Verifier {
        if let Some(verifier) = self
            .inner
            .cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
        {
            return verifier.clone();
        }
        let mut cache = self
            .inner
            .cache
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= Self::MAX_CACHED && !self.inner.overrides.contains_key(name) {
            drop(cache);
            if !self
                .inner
                .cache_full_said
                .swap(true, std::sync::atomic::Ordering::Relaxed)
            {
                tracing::warn!(
                    cached = Self::MAX_CACHED,
                    "tokenring: Verifiers holds {} names; further ones are built per call and \
                     not kept (are verifier names taken from input?)",
                    Self::MAX_CACHED
                );
            }
            return self.build(name);
        }
        cache
            .entry(name.to_owned())
            .or_insert_with(|| self.build(name))
            .clone()
    }

    fn build(&self, name: &str) -> Verifier {
        let config = match self.inner.overrides.get(name) {
            Some(config) => config.over(&self.inner.defaults),
            None => self.inner.defaults.clone(),
        };
        let keyring = config.keyring.unwrap_or_else(|| self.inner.keyring.clone());
        Verifier::builder(keyring)
            .salt(name)
            .default_expires_in(match config.expiry {
                Some(Expiry::In(after)) => Some(after),
                _ => None,
            })
            .leeway(config.leeway.unwrap_or_default())
            .max_token_len(
                config
                    .max_token_len
                    .unwrap_or(Verifier::DEFAULT_MAX_TOKEN_LEN),
            )
            .build()
    }
}

impl fmt::Debug for Verifiers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifiers")
            .field("defaults", &self.inner.defaults)
            .field(
                "configured",
                &self.inner.overrides.keys().collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Key, Keyring, Secret, TokenOptions};

    #[test]
    fn names_from_input_cannot_grow_the_cache_without_bound() {
        let keyring = Keyring::new(vec![Key::new("k", Secret::from_bytes([4u8; 32]))]).unwrap();
        let verifiers = Verifiers::builder(keyring)
            .configure(
                "late",
                VerifierConfig::new().leeway(std::time::Duration::from_secs(1)),
            )
            .build();
        for n in 0..Verifiers::MAX_CACHED + 50 {
            let verifier = verifiers.get(&format!("name-{n}"));
            let token = verifier.generate(&n, TokenOptions::new()).unwrap();
            // A verifier got again for the same name verifies it, cached or not.
            let again = verifiers.get(&format!("name-{n}"));
            assert_eq!(again.verify::<usize>(&token, None).unwrap().value, n);
        }
        // A configured name is still kept when the cache is full.
        verifiers.get("late");
        let cache = verifiers.inner.cache.read().unwrap();
        assert_eq!(cache.len(), Verifiers::MAX_CACHED + 1);
        assert!(cache.contains_key("late"));
    }
}
