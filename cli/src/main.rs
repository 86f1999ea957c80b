//! `tokenring`: keys, keyrings and tokens from the command line.
//!
//! Exit codes: 0 success; 1 the operation failed (a token did not verify, a keyring was
//! refused), with one line on stderr saying why; 2 bad usage.

#![forbid(unsafe_code)]

mod args;
mod demo;
mod files;
mod fleet;
mod input;
mod jwks;
mod keyring_cmd;
mod new_key;
mod output;
#[cfg(feature = "rails")]
mod rails_cmd;
mod ring;
mod token_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub(crate) use args::{ExpiryArgs, format_time, parse_duration, parse_time, resolve_time};
pub(crate) use output::{Failure, out};

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
