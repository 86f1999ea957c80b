//! `tokenring rails …`: Rails MessageVerifier tokens, MessageEncryptor messages and cookies
//! (feature `rails`).

mod cookie;
mod encrypted;
mod keys;

use clap::{Args, Subcommand};
use serde_json::Value;
use tokenring::rails::{Envelope, JsonStyle, RailsOptions, RailsVerifier};

use crate::{ExpiryArgs, Failure, out};
use keys::{KeyArgs, parse_accept, parse_json_style};

#[derive(Subcommand)]
pub(crate) enum RailsCommand {
    /// Mint a token a Rails MessageVerifier with these options accepts.
    Sign(SignArgs),
    /// Verify a Rails MessageVerifier token; print its JSON value.
    Verify(VerifyArgs),
    /// Encrypt a value as a Rails MessageEncryptor with these options does.
    Encrypt(encrypted::EncryptArgs),
    /// Decrypt a Rails MessageEncryptor message; print its JSON value.
    Decrypt(encrypted::DecryptArgs),
    /// Read or write a Rails app's signed or encrypted cookie (the session cookie is one).
    #[command(subcommand)]
    Cookie(cookie::CookieCommand),
}

/// How a minted value is written.
#[derive(Args)]
struct MintArgs {
    /// Write the legacy envelope (what Rails ≤ 7.0 writes, and the only one 6.1 reads).
    #[arg(long)]
    legacy_envelope: bool,
    /// The JSON encoder to imitate: `ruby` (Ruby's JSON.dump: `serializer: JSON`, as
    /// signed_id uses) or `active-support` (ActiveSupport::JSON, which escapes <, >, & and
    /// U+2028/9: `:json`, `:json_allow_marshal`, as generates_token_for uses).
    #[arg(long, value_name = "STYLE", default_value = "ruby", value_parser = parse_json_style)]
    json: JsonStyle,
    #[command(flatten)]
    expiry: ExpiryArgs,
    /// The value, as JSON.
    #[arg(value_name = "JSON")]
    value: String,
}

impl MintArgs {
    fn envelope(&self) -> Envelope {
        if self.legacy_envelope {
            Envelope::Legacy
        } else {
            Envelope::Current
        }
    }

    fn value(&self) -> Result<Value, Failure> {
        serde_json::from_str(&self.value)
            .map_err(|e| Failure::new(format!("the value is not JSON: {e}")))
    }

    fn options<'a>(&self, purpose: Option<&'a str>) -> RailsOptions<'a> {
        let mut options = RailsOptions::new();
        if let Some(purpose) = purpose {
            options = options.purpose(purpose);
        }
        if let Some(after) = self.expiry.expires_in {
            options = options.expires_in(after);
        }
        if let Some(at) = self.expiry.expires_at {
            options = options.expires_at(at);
        }
        options
    }
}

#[derive(Args)]
pub(crate) struct SignArgs {
    #[command(flatten)]
    key: KeyArgs,
    #[command(flatten)]
    mint: MintArgs,
}

#[derive(Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    key: KeyArgs,
    /// An older configuration to accept, tried in order:
    /// `secret-file=PATH[,digest=SHA1][,url_safe=true]` (or `secret=HEX…`). A digest or
    /// url_safe left out is the primary's (--digest, --url-safe), as Rails' `rotate` inherits.
    #[arg(long, value_name = "SPEC")]
    accept: Vec<String>,
    /// The token, exactly as given (a trailing newline is part of it, and Rails refuses
    /// that); `-` reads it from standard input, dropping one trailing newline.
    token: String,
}

pub(crate) fn run(command: RailsCommand) -> Result<(), Failure> {
    match command {
        RailsCommand::Sign(args) => sign(&args),
        RailsCommand::Verify(args) => verify(&args),
        RailsCommand::Encrypt(args) => encrypted::encrypt(&args),
        RailsCommand::Decrypt(args) => encrypted::decrypt(&args),
        RailsCommand::Cookie(command) => cookie::run(&command),
    }
}

fn sign(args: &SignArgs) -> Result<(), Failure> {
    let value = args.mint.value()?;
    let config = args
        .key
        .config()?
        .envelope(args.mint.envelope())
        .json(args.mint.json);
    let verifier = RailsVerifier::new(config).max_token_len(args.key.max_len);
    out(verifier.generate(&value, args.mint.options(args.key.purpose.as_deref()))?)
}

fn verify(args: &VerifyArgs) -> Result<(), Failure> {
    // The token first: when it comes from standard input, no secret may.
    let token = args.key.token(&args.token)?;
    let mut verifier = RailsVerifier::new(args.key.config()?).max_token_len(args.key.max_len);
    for spec in &args.accept {
        verifier = verifier.accept(parse_accept(spec, args.key.digest, args.key.url_safe)?);
    }
    let verified = verifier
        .verify::<Value>(&token, args.key.purpose.as_deref())
        .map_err(|e| Failure::new(format!("token rejected: {e}")))?;
    if verified.config > 0 {
        eprintln!(
            "tokenring: note: verified with --accept #{}; re-issue it with the primary secret",
            verified.config
        );
    }
    out(verified.value)
}
