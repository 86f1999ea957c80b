//! A freshly generated key, as `keygen`, `keyring init` and `keyring add` make it.

use std::time::SystemTime;

use clap::Args;
use tokenring::{Algorithm, Key, Secret};

use crate::{Failure, format_time};

/// Options for a freshly generated key.
#[derive(Args)]
pub(crate) struct NewKeyArgs {
    /// Key id, 1–32 of A-Z a-z 0-9 _ - (default: today's date and a random suffix).
    #[arg(long)]
    id: Option<String>,
    /// MAC algorithm.
    #[arg(long, default_value = "HS256", value_parser = parse_algorithm)]
    algorithm: Algorithm,
    /// Secret length in bytes (at least 32).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(32..=1024))]
    bytes: u16,
}

fn parse_algorithm(text: &str) -> Result<Algorithm, String> {
    text.parse()
        .map_err(|e: tokenring::error::UnknownAlgorithm| e.to_string())
}

pub(crate) fn new_key(args: &NewKeyArgs, activates_at: Option<SystemTime>) -> Result<Key, Failure> {
    let id = match &args.id {
        Some(id) => id.clone(),
        None => default_id()?,
    };
    let secret = Secret::random(usize::from(args.bytes))?;
    Ok(Key::new(id, secret)
        .with_algorithm(args.algorithm)
        .with_activates_at(activates_at))
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
