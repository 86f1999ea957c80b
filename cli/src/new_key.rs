//! A freshly generated key, as `keygen`, `keyring init` and `keyring add` make it.

use std::time::SystemTime;

use clap::Args;
use tokenring::jose::{JoseAlgorithm, SigningKey};
use tokenring::{Algorithm, Key, Keyring, Secret};

use crate::{Failure, format_time};

/// Options for a freshly generated key.
#[derive(Args)]
pub(crate) struct NewKeyArgs {
    /// Key id, 1–32 of A-Z a-z 0-9 _ - (default: today's date and a random suffix).
    #[arg(long)]
    id: Option<String>,
    /// Algorithm: HS256, HS384, HS512 (a shared secret), EdDSA or ES256 (a key pair: the
    /// public keyring verifies without being able to mint). Default: HS256, or for `keyring
    /// add` the algorithm of the ring's newest key.
    #[arg(long, value_parser = parse_algorithm)]
    algorithm: Option<Algorithm>,
    /// HMAC secret length in bytes (at least 32; default 32). Key pairs have fixed sizes.
    #[arg(long, value_parser = clap::value_parser!(u16).range(32..=1024))]
    bytes: Option<u16>,
}

/// An algorithm a key can be generated for: every one tokenring signs with.
fn parse_algorithm(text: &str) -> Result<Algorithm, String> {
    let algorithm: Algorithm = text
        .parse()
        .map_err(|e: tokenring::error::UnknownAlgorithm| e.to_string())?;
    if !algorithm.signs() {
        return Err(format!(
            "{algorithm} keys verify only (an issuer's public keys: import one with --jwk); \
             generate HS256, HS384, HS512, EdDSA or ES256"
        ));
    }
    Ok(algorithm)
}

/// A new key; without `--algorithm`, of the algorithm of `beside`'s newest key (the one at
/// the top, where `keyring add` puts keys), or HS256.
pub(crate) fn new_key(
    args: &NewKeyArgs,
    activates_at: Option<SystemTime>,
    beside: Option<&Keyring>,
) -> Result<Key, Failure> {
    let id = key_id(args)?;
    let algorithm = args
        .algorithm
        .or_else(|| {
            beside
                .and_then(|ring| ring.keys().first())
                .map(Key::algorithm)
        })
        .unwrap_or_default();
    let key = match JoseAlgorithm::of(algorithm) {
        Some(pair) => {
            if args.bytes.is_some() {
                return Err(Failure::new(format!(
                    "--bytes sets an HMAC secret's length; {algorithm} keys have a fixed size"
                )));
            }
            Key::from_signing_key(id, SigningKey::generate(pair)?)
        }
        None => {
            let secret = Secret::random(usize::from(args.bytes.unwrap_or(32)))?;
            Key::new(id, secret).with_algorithm(algorithm)
        }
    };
    Ok(key.with_activates_at(activates_at))
}

/// `--id`, or a fresh default.
pub(crate) fn key_id(args: &NewKeyArgs) -> Result<String, Failure> {
    match &args.id {
        Some(id) => Ok(id.clone()),
        None => default_id(),
    }
}

impl NewKeyArgs {
    /// Whether `--id` was given.
    pub(crate) fn has_id(&self) -> bool {
        self.id.is_some()
    }
}

/// Whether `--algorithm` or `--bytes` was given (they describe a generated key).
pub(crate) fn shapes_key(args: &NewKeyArgs) -> bool {
    args.algorithm.is_some() || args.bytes.is_some()
}

/// `2026-11-22-1a2b`: sortable by creation day, unique enough to add several a day.
fn default_id() -> Result<String, Failure> {
    let day = &format_time(SystemTime::now())[..10];
    let suffix = Secret::random(2)?;
    let [a, b] = suffix.expose() else {
        return Err(Failure::new("random id suffix"));
    };
    Ok(format!("{day}-{a:02x}{b:02x}"))
}
