//! `tokenring`: keys, keyrings and tokens from the command line.
//!
//! Exit codes: 0 success; 1 the operation failed (a token did not verify, a keyring was
//! refused), with one line on stderr saying why; 2 bad usage.

#![forbid(unsafe_code)]

mod demo;
mod files;
mod fleet;
mod input;
mod keyring_cmd;
mod new_key;
#[cfg(feature = "rails")]
mod rails_cmd;
mod ring;
mod token_cmd;

use std::fmt;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "tokenring",
    version,
    about = "Signed, expiring, purpose-bound tokens with zero-downtime key rotation"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print a new key entry (JSON) with a random secret.
    Keygen(new_key::NewKeyArgs),
    /// Create, rotate and inspect keyring files.
    #[command(subcommand)]
    Keyring(keyring_cmd::KeyringCommand),
    /// Mint a token for a JSON value with the keyring's current signing key.
    Sign(token_cmd::SignArgs),
    /// Verify a token; print its JSON value on stdout.
    Verify(token_cmd::VerifyArgs),
    /// Fleets on etcd: what every node holds.
    #[command(subcommand)]
    Fleet(fleet::FleetCommand),
    /// Decode a token WITHOUT verifying it.
    Inspect(token_cmd::InspectArgs),
    /// Walk through sign, verify, rotate, expire and tamper on the bundled demo keyring.
    Demo(demo::DemoArgs),
    /// Rails MessageVerifier tokens (signed_id, generates_token_for, message_verifier).
    #[cfg(feature = "rails")]
    #[command(subcommand)]
    Rails(rails_cmd::RailsCommand),
}

/// A time given relative to now (`--…-in 1h`) or absolute (`--…-at …Z`); clap makes the two
/// flags exclusive.
pub(crate) fn resolve_time(
    after: Option<Duration>,
    at: Option<SystemTime>,
    now: SystemTime,
) -> Result<Option<SystemTime>, Failure> {
    match (after, at) {
        (Some(after), _) => now
            .checked_add(after)
            .map(Some)
            .ok_or_else(|| Failure::new("duration is too long")),
        (None, at) => Ok(at),
    }
}

/// `--expires-in` / `--expires-at`, shared by the signing commands. A token that would be
/// dead when minted is refused as bad usage (exit 2): it can only be a mistake.
#[derive(clap::Args)]
pub(crate) struct ExpiryArgs {
    /// Expire this long from now (e.g. 15m, 2h, 7d; more than zero).
    #[arg(long, value_parser = parse_lifetime, conflicts_with = "expires_at")]
    pub(crate) expires_in: Option<Duration>,
    /// Expire at this time (RFC 3339 UTC, in the future).
    #[arg(long, value_parser = parse_expiry)]
    pub(crate) expires_at: Option<SystemTime>,
}

/// A token's lifetime: a duration over zero.
fn parse_lifetime(text: &str) -> Result<Duration, String> {
    match parse_duration(text)? {
        Duration::ZERO => Err("a token that expires in 0s is dead when minted".to_owned()),
        lifetime => Ok(lifetime),
    }
}

/// A token's expiry: a time after now.
fn parse_expiry(text: &str) -> Result<SystemTime, String> {
    let at = parse_time(text)?;
    if at <= SystemTime::now() {
        return Err("that time has passed: the token would be dead when minted".to_owned());
    }
    Ok(at)
}

/// `15m`, `1h 30m`, `30days`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{e} (examples: 90s, 15m, 2h, 30days)"))
}

/// RFC 3339 UTC, like `2026-12-01T00:00:00Z`.
pub(crate) fn parse_time(text: &str) -> Result<SystemTime, String> {
    humantime::parse_rfc3339(text)
        .map_err(|e| format!("{e} (expected an RFC 3339 UTC time like 2026-12-01T00:00:00Z)"))
}

/// RFC 3339 UTC to the second, as the library writes times everywhere. Tokens can claim any
/// expiry, including ones RFC 3339 cannot write (after 9999); those print as seconds since
/// the epoch.
pub(crate) fn format_time(at: SystemTime) -> String {
    tokenring::clock::format_rfc3339(at)
}

/// Why a command failed; printed as one line, exit status 1.
#[derive(Debug)]
pub(crate) struct Failure(
    String,
    #[cfg_attr(not(feature = "etcd"), allow(dead_code))] Kind,
);

/// What a caller may do about a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Only etcd writes conflict.
#[cfg_attr(not(feature = "etcd"), allow(dead_code))]
pub(crate) enum Kind {
    /// Nothing but report it.
    Final,
    /// A compare-and-swap write lost to another writer: nothing was written.
    Conflict,
}

impl Failure {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into(), Kind::Final)
    }

    /// A lost compare-and-swap: `error` said as it is, marked so the write can be redone.
    #[cfg(feature = "etcd")]
    pub(crate) fn conflict(error: impl std::fmt::Display) -> Self {
        Self(error.to_string(), Kind::Conflict)
    }

    #[cfg(feature = "etcd")]
    pub(crate) fn is_conflict(&self) -> bool {
        self.1 == Kind::Conflict
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the source error looked like.
        f.write_str(&self.0.replace('\n', " "))
    }
}

impl<E: std::error::Error> From<E> for Failure {
    fn from(err: E) -> Self {
        Self(err.to_string(), Kind::Final)
    }
}

/// Writes to stdout, turning a closed pipe into an error rather than a panic.
pub(crate) fn out(text: impl fmt::Display) -> Result<(), Failure> {
    use std::io::Write as _;
    writeln!(std::io::stdout().lock(), "{text}")
        .map_err(|e| Failure::new(format!("cannot write to stdout: {e}")))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // Help and version go to stdout with status 0; usage errors to stderr with 2.
            let _ = err.print();
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2));
        }
    };
    let result = match cli.command {
        Command::Keygen(args) => keyring_cmd::keygen(&args),
        Command::Keyring(command) => keyring_cmd::run(command),
        Command::Sign(args) => token_cmd::sign(&args),
        Command::Verify(args) => token_cmd::verify(&args),
        Command::Inspect(args) => token_cmd::inspect(&args),
        Command::Fleet(command) => fleet::run(command),
        Command::Demo(args) => demo::run(&args),
        #[cfg(feature = "rails")]
        Command::Rails(command) => rails_cmd::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("tokenring: {failure}");
            ExitCode::FAILURE
        }
    }
}
