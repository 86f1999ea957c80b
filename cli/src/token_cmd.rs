//! `tokenring sign`, `verify` and `inspect`.

use std::time::{Duration, SystemTime};

use clap::Args;
use serde_json::{Value, json};
use tokenring::{TokenOptions, Verifier};

use crate::{ExpiryArgs, Failure, format_time, out, parse_duration};

/// What `sign` and `verify` share: which keys, derived for which salt, bound to which purpose.
#[derive(Args)]
pub(crate) struct TokenArgs {
    /// The keyring: a file, or etcd://HOST:PORT[,HOST:PORT…]/NAME.
    #[arg(long, value_name = "RING", value_parser = crate::ring::parse_ring)]
    keyring: crate::ring::Ring,
    /// Label the keys are derived for (e.g. password_reset); sign and verify must agree.
    #[arg(long, default_value = Verifier::DEFAULT_SALT)]
    salt: String,
    /// Purpose bound into the token; verification must give the same one (none if omitted).
    #[arg(long)]
    purpose: Option<String>,
}

#[derive(Args)]
pub(crate) struct SignArgs {
    #[command(flatten)]
    with: TokenArgs,
    #[command(flatten)]
    expiry: ExpiryArgs,
    /// The value to sign, as JSON (e.g. '{"user":42}' or '"text"'); - reads stdin.
    #[arg(value_name = "JSON")]
    value: String,
}

#[derive(Args)]
pub(crate) struct VerifyArgs {
    /// The keyring: a file, or etcd://HOST:PORT[,HOST:PORT…]/NAME.
    #[arg(long, value_name = "RING", value_parser = crate::ring::parse_ring,
          required_unless_present = "jwks", conflicts_with = "jwks")]
    keyring: Option<crate::ring::Ring>,
    /// Label the keys are derived for (e.g. password_reset); sign and verify must agree.
    #[arg(long, default_value = Verifier::DEFAULT_SALT, conflicts_with = "jwks")]
    salt: String,
    /// Purpose bound into the token; verification must give the same one (none if omitted).
    #[arg(long, conflicts_with = "jwks")]
    purpose: Option<String>,
    /// An issuer's JWKS URL (https://, or http:// on loopback): verify a JWT that issuer
    /// minted, with --issuer and --audience, and print its claims.
    #[arg(long, value_name = "URL", requires_all = ["issuer", "audience"])]
    jwks: Option<String>,
    /// The issuer the JWT's iss must name (with --jwks).
    #[arg(long, requires = "jwks")]
    issuer: Option<String>,
    /// An audience the JWT's aud must include (with --jwks; repeat for several).
    #[arg(long, requires = "jwks")]
    audience: Vec<String>,
    /// Accept tokens this long past their expiry (clock skew; with --jwks 60s unless set).
    #[arg(long, value_parser = parse_duration)]
    leeway: Option<Duration>,
    /// The token, exactly as given (surrounding whitespace is refused, by name); `-` reads
    /// it from standard input, dropping one trailing newline.
    token: String,
}

#[derive(Args)]
pub(crate) struct InspectArgs {
    /// The token, exactly as given; `-` reads it from standard input, dropping one trailing
    /// newline.
    token: String,
}

/// The argument exactly as given, or standard input for `-` (one trailing newline dropped):
/// the rule of `crate::input`.
fn argument(text: &str) -> Result<String, Failure> {
    if text == "-" {
        crate::input::stdin_text(1 << 20, "the argument")
    } else {
        Ok(text.to_owned())
    }
}

pub(crate) fn sign(args: &SignArgs) -> Result<(), Failure> {
    let value: Value = serde_json::from_str(&argument(&args.value)?)
        .map_err(|e| Failure::new(format!("the value is not JSON: {e}")))?;
    let keyring = args.with.keyring.load()?;
    let verifier = Verifier::new(keyring, args.with.salt.clone());
    let mut options = TokenOptions::new();
    if let Some(purpose) = &args.with.purpose {
        options = options.purpose(purpose);
    }
    if let Some(after) = args.expiry.expires_in {
        options = options.expires_in(after);
    }
    if let Some(at) = args.expiry.expires_at {
        options = options.expires_at(at);
    }
    out(verifier.generate(&value, options)?)
}

pub(crate) fn verify(args: &VerifyArgs) -> Result<(), Failure> {
    let token = argument(&args.token)?;
    let (Some(ring), None) = (&args.keyring, &args.jwks) else {
        return verify_jwt(args, &token);
    };
    let keyring = ring.load()?;
    let verifier = Verifier::builder(keyring)
        .salt(args.salt.clone())
        .leeway(args.leeway.unwrap_or_default())
        .build();
    let verified = verifier
        .verify::<Value>(&token, args.purpose.as_deref())
        .map_err(|e| Failure::new(format!("token rejected: {e}")))?;
    if !verified.is_current_key {
        eprintln!(
            "tokenring: note: verified with key {:?}, which no longer signs; re-issue long-lived tokens",
            verified.key_id
        );
    }
    out(verified.value)
}

/// `verify --jwks URL --issuer ISS --audience AUD TOKEN`: the issuer's keys fetched once,
/// the JWT checked by a `JwtVerifier`, its claims printed.
fn verify_jwt(args: &VerifyArgs, token: &str) -> Result<(), Failure> {
    let (Some(url), Some(issuer), [audience, more @ ..]) =
        (&args.jwks, &args.issuer, args.audience.as_slice())
    else {
        return Err(Failure::new("--jwks needs --issuer and --audience"));
    };
    let keyring = crate::jwks::fetch(url)?;
    let mut verifier = tokenring::verifier::JwtVerifier::builder(keyring, issuer, audience);
    for audience in more {
        verifier = verifier.audience(audience);
    }
    if let Some(leeway) = args.leeway {
        verifier = verifier.leeway(leeway);
    }
    let verified = verifier
        .build()
        .verify::<Value>(token)
        .map_err(|e| Failure::new(format!("token rejected: {e}")))?;
    out(verified.value)
}

pub(crate) fn inspect(args: &InspectArgs) -> Result<(), Failure> {
    let token = argument(&args.token)?;
    let warn = || {
        eprintln!(
            "tokenring: warning: NOT VERIFIED. Anyone can write a token that decodes; \
             only `tokenring verify` checks the signature."
        );
    };
    if !token.starts_with("v1.") && token.matches('.').count() == 2 {
        let jws = tokenring::inspect::decode_jws_unverified(&token)
            .map_err(|e| Failure::new(format!("cannot decode: {e}")))?;
        warn();
        let expires_at = jws.claims["exp"]
            .as_u64()
            .map(|s| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(s));
        return out(serde_json::to_string_pretty(&json!({
            "verified": false,
            "format": "JWS",
            "key_id": jws.header["kid"],
            "algorithm": jws.header["alg"],
            "purpose": jws.claims["pur"],
            "audience": jws.claims["aud"],
            "expires_at": expires_at.map(format_time),
            "expired": expires_at.map(|at| at <= SystemTime::now()),
            "value": jws.claims["dat"],
            "header": jws.header,
            "claims": jws.claims,
        }))?);
    }
    let claims = tokenring::inspect::decode_unverified(&token)
        .map_err(|e| Failure::new(format!("cannot decode: {e}")))?;
    warn();
    let algorithm = match claims.tag_len {
        32 => "HS256",
        48 => "HS384",
        64 => "HS512",
        _ => "unknown",
    };
    let expired = claims.expires_at.map(|at| at <= SystemTime::now());
    out(serde_json::to_string_pretty(&json!({
        "verified": false,
        "format": "v1",
        "key_id": claims.key_id,
        "tag_algorithm": algorithm,
        "purpose": claims.purpose,
        "expires_at": claims.expires_at.map(format_time),
        "expired": expired,
        "value": claims.value,
    }))?)
}
