//! `tokenring rails cookie read|write`: a Rails app's signed and encrypted cookies, for an
//! operator debugging a session both sides share.

use clap::{Args, Subcommand};
use serde_json::Value;
use tokenring::rails::{CookieConfig, KdfDigest, RailsCookies, RailsDigest, RailsVersion};

use super::keys::{BaseArgs, read_token};
use crate::{ExpiryArgs, Failure, out};

#[derive(Subcommand)]
pub(crate) enum CookieCommand {
    /// Print the JSON value of a cookie, given as the browser sends it (URL-escaped).
    Read(ReadArgs),
    /// Print a cookie value exactly as the Rails app would set it (URL-escaped).
    Write(WriteArgs),
}

/// The app's cookie configuration, and which jar.
#[derive(Args)]
#[command(group(clap::ArgGroup::new("base").required(true).args(
    ["secret_key_base", "secret_key_base_file"]
)))]
#[command(group(clap::ArgGroup::new("jar").required(true).args(["signed", "encrypted"])))]
pub(crate) struct JarArgs {
    #[command(flatten)]
    base: BaseArgs,
    /// The cookie's name (the session cookie is `_APPNAME_session`).
    #[arg(long)]
    name: String,
    /// cookies.signed.
    #[arg(long)]
    signed: bool,
    /// cookies.encrypted (and the session cookie).
    #[arg(long)]
    encrypted: bool,
    /// The key generator's hash: SHA1 (Rails 6.1 apps) or SHA256 (apps on 7.0+ defaults).
    #[arg(long, default_value = "SHA256", value_parser = |s: &str| s.parse::<KdfDigest>())]
    kdf_digest: KdfDigest,
    /// use_authenticated_cookie_encryption = false: the legacy aes-256-cbc + HMAC cookies
    /// (read either way; this picks what is written).
    #[arg(long)]
    legacy_encryption: bool,
    /// use_cookies_with_metadata = false (apps before 6.0 defaults): no `cookie.NAME`
    /// purpose in what is written.
    #[arg(long)]
    no_metadata: bool,
    /// signed_cookie_digest (SHA1 unless the app sets it).
    #[arg(long, default_value = "SHA1", value_parser = |s: &str| s.parse::<RailsDigest>())]
    signed_cookie_digest: RailsDigest,
}

impl JarArgs {
    fn cookies(&self) -> Result<RailsCookies, Failure> {
        let mut config = CookieConfig::for_version(RailsVersion::V7_2);
        config.kdf_digest = self.kdf_digest;
        config.use_authenticated_cookie_encryption = !self.legacy_encryption;
        config.use_cookies_with_metadata = !self.no_metadata;
        config.signed_cookie_digest = self.signed_cookie_digest;
        Ok(RailsCookies::new(&self.base.read()?, &config)?)
    }
}

#[derive(Args)]
pub(crate) struct ReadArgs {
    #[command(flatten)]
    jar: JarArgs,
    /// The cookie value as the browser sends it; `-` reads it from standard input, dropping
    /// one trailing newline.
    value: String,
}

#[derive(Args)]
pub(crate) struct WriteArgs {
    #[command(flatten)]
    jar: JarArgs,
    #[command(flatten)]
    expiry: ExpiryArgs,
    /// The value, as JSON.
    #[arg(value_name = "JSON")]
    value: String,
}

pub(super) fn run(command: &CookieCommand) -> Result<(), Failure> {
    match command {
        CookieCommand::Read(args) => read(args),
        CookieCommand::Write(args) => write(args),
    }
}

fn read(args: &ReadArgs) -> Result<(), Failure> {
    let value = if args.value == "-" {
        if args.jar.base.reads_stdin() {
            return Err(Failure::new(
                "standard input can hold the secret_key_base or the cookie, not both",
            ));
        }
        // Rails caps a cookie at 4096 bytes; escaped, each byte takes at most three.
        read_token(3 * tokenring::Verifier::DEFAULT_MAX_TOKEN_LEN)?
    } else {
        args.value.clone()
    };
    let cookies = args.jar.cookies()?;
    let name = &args.jar.name;
    let read = if args.jar.signed {
        cookies.read_signed::<Value>(name, &value)
    } else {
        cookies.read_encrypted::<Value>(name, &value)
    };
    let read = read.map_err(|e| Failure::new(format!("cookie rejected: {e}")))?;
    out(read.value)
}

fn write(args: &WriteArgs) -> Result<(), Failure> {
    let value: Value = serde_json::from_str(&args.value)
        .map_err(|e| Failure::new(format!("the value is not JSON: {e}")))?;
    let expires = crate::resolve_time(
        args.expiry.expires_in,
        args.expiry.expires_at,
        std::time::SystemTime::now(),
    )?;
    let cookies = args.jar.cookies()?;
    let name = &args.jar.name;
    out(if args.jar.signed {
        cookies.write_signed(name, &value, expires)?
    } else {
        cookies.write_encrypted(name, &value, expires)?
    })
}
