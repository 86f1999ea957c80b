//! `tokenring rails sign|verify`: Rails MessageVerifier tokens (feature `rails`).

use std::io::Read as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::Value;
use tokenring::Secret;
use tokenring::rails::{
    Envelope, JsonStyle, KdfDigest, RailsConfig, RailsDigest, RailsKeyGenerator, RailsOptions,
    RailsVerifier,
};
use zeroize::Zeroizing;

use crate::{ExpiryArgs, Failure, out};

#[derive(Subcommand)]
pub(crate) enum RailsCommand {
    /// Mint a token a Rails MessageVerifier with these options accepts.
    Sign(SignArgs),
    /// Verify a Rails MessageVerifier token; print its JSON value.
    Verify(VerifyArgs),
}

/// The secret and options of one Rails verifier.
#[derive(Args)]
#[command(group(clap::ArgGroup::new("key").required(true).args(
    ["secret", "secret_file", "secret_key_base", "secret_key_base_file"]
)))]
struct KeyArgs {
    /// The verifier's raw secret, in hex. Visible to other local users (ps): prefer
    /// --secret-file.
    #[arg(long)]
    secret: Option<String>,
    /// A file holding the verifier's raw secret in hex (`-` for standard input).
    #[arg(long, value_name = "PATH")]
    secret_file: Option<PathBuf>,
    /// The app's secret_key_base, exactly as Rails holds it (fed to PBKDF2 as is). Visible to
    /// other local users (ps): prefer --secret-key-base-file.
    #[arg(long, requires = "salt")]
    secret_key_base: Option<String>,
    /// A file holding the app's secret_key_base (`-` for standard input; one trailing
    /// newline is dropped).
    #[arg(long, value_name = "PATH", requires = "salt")]
    secret_key_base_file: Option<PathBuf>,
    /// The key generator salt (e.g. active_record/signed_id).
    #[arg(long)]
    salt: Option<String>,
    /// PBKDF2 hash: SHA1 (Rails 6.1 apps) or SHA256 (apps on 7.0+ defaults).
    #[arg(long, default_value = "SHA256", value_parser = |s: &str| s.parse::<KdfDigest>())]
    kdf_digest: KdfDigest,
    /// PBKDF2 iterations (Rails apps use 1000).
    #[arg(long, default_value_t = 1000)]
    iterations: u32,
    /// Derived key size in bytes.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=1024))]
    key_size: u16,
    /// HMAC digest (Rails' default is SHA1).
    #[arg(long, default_value = "SHA1", value_parser = |s: &str| s.parse::<RailsDigest>())]
    digest: RailsDigest,
    /// url_safe: true (write the url-safe alphabet, unpadded).
    #[arg(long)]
    url_safe: bool,
    /// The purpose (none if omitted).
    #[arg(long)]
    purpose: Option<String>,
    /// The longest token accepted or minted, in bytes (Rails tokens are capped at 4096 here
    /// unless raised; Rails itself has no cap).
    #[arg(long, value_name = "BYTES", default_value_t = tokenring::Verifier::DEFAULT_MAX_TOKEN_LEN)]
    max_len: usize,
}

impl KeyArgs {
    fn config(&self) -> Result<RailsConfig, Failure> {
        let secret = if let Some(hex) = &self.secret {
            warn_on_argv("--secret", "--secret-file");
            Secret::from_bytes(decode_hex(hex)?)
        } else if let Some(path) = &self.secret_file {
            Secret::from_bytes(decode_hex(&read_secret(path)?)?)
        } else {
            let base = match (&self.secret_key_base, &self.secret_key_base_file) {
                (Some(base), _) => {
                    warn_on_argv("--secret-key-base", "--secret-key-base-file");
                    Zeroizing::new(base.clone())
                }
                (None, Some(path)) => read_secret(path)?,
                (None, None) => {
                    return Err(Failure::new(
                        "give --secret, --secret-file, --secret-key-base or --secret-key-base-file",
                    ));
                }
            };
            if base.is_empty() {
                return Err(Failure::new(
                    "the secret_key_base is empty (an unset variable?): anyone could forge its tokens",
                ));
            }
            if base.len() < RailsKeyGenerator::GENERATED_LEN / 2 {
                eprintln!(
                    "tokenring: warning: the secret_key_base is only {} characters; Rails \
                     generates {}",
                    base.len(),
                    RailsKeyGenerator::GENERATED_LEN
                );
            }
            RailsKeyGenerator::new(&base, self.kdf_digest, self.iterations)?.generate_key(
                self.salt.as_deref().unwrap_or_default(),
                usize::from(self.key_size),
            )
        };
        Ok(RailsConfig::new(secret)
            .digest(self.digest)
            .url_safe(self.url_safe))
    }
}

fn warn_on_argv(flag: &str, instead: &str) {
    eprintln!(
        "tokenring: warning: a secret given with {flag} is visible to every local user (ps, \
         /proc) and stays in shell history; prefer {instead}"
    );
}

/// The secret in the file at `path` (`-`: standard input), one trailing newline dropped.
fn read_secret(path: &Path) -> Result<Zeroizing<String>, Failure> {
    const MAX: u64 = 64 * 1024;
    let failed = |e: &dyn std::fmt::Display| {
        Failure::new(format!(
            "cannot read the secret from {}: {e}",
            path.display()
        ))
    };
    let mut bytes = Zeroizing::new(Vec::new());
    let read = if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(MAX + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|file| {
            if !file.metadata()?.is_file() {
                return Err(std::io::Error::other("not a regular file"));
            }
            file.take(MAX + 1).read_to_end(&mut bytes)
        })
    };
    read.map_err(|e| failed(&e))?;
    if bytes.len() as u64 > MAX {
        return Err(failed(&format_args!("over {MAX} bytes")));
    }
    let mut text = Zeroizing::new(
        String::from_utf8(std::mem::take(&mut *bytes)).map_err(|_| failed(&"not UTF-8 text"))?,
    );
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Ok(text)
}

#[derive(Args)]
pub(crate) struct SignArgs {
    #[command(flatten)]
    key: KeyArgs,
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

#[derive(Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    key: KeyArgs,
    /// An older configuration to accept, tried in order:
    /// `secret-file=PATH[,digest=SHA1][,url_safe=true]` (or `secret=HEX…`).
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
    }
}

fn sign(args: &SignArgs) -> Result<(), Failure> {
    let value: Value = serde_json::from_str(&args.value)
        .map_err(|e| Failure::new(format!("the value is not JSON: {e}")))?;
    let envelope = if args.legacy_envelope {
        Envelope::Legacy
    } else {
        Envelope::Current
    };
    let config = args.key.config()?.envelope(envelope).json(args.json);
    let verifier = RailsVerifier::new(config).max_token_len(args.key.max_len);
    let mut options = RailsOptions::new();
    if let Some(purpose) = &args.key.purpose {
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

fn verify(args: &VerifyArgs) -> Result<(), Failure> {
    let stdin = Some(Path::new("-"));
    if args.token == "-"
        && (args.key.secret_file.as_deref() == stdin
            || args.key.secret_key_base_file.as_deref() == stdin)
    {
        return Err(Failure::new(
            "standard input can hold the secret or the token, not both",
        ));
    }
    let mut verifier = RailsVerifier::new(args.key.config()?).max_token_len(args.key.max_len);
    for spec in &args.accept {
        verifier = verifier.accept(parse_accept(spec)?);
    }
    let token = if args.token == "-" {
        read_token(args.key.max_len)?
    } else {
        args.token.clone()
    };
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

/// A token from standard input, one trailing newline (`\n` or `\r\n`) dropped; reading
/// stops past `max_len` bytes, where the verifier refuses it anyway.
fn read_token(max_len: usize) -> Result<String, Failure> {
    let mut bytes = Vec::new();
    let limit = u64::try_from(max_len).unwrap_or(u64::MAX).saturating_add(2);
    std::io::stdin()
        .lock()
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::new(format!("cannot read the token from standard input: {e}")))?;
    let mut token = String::from_utf8(bytes)
        .map_err(|_| Failure::new("token rejected: it is not UTF-8 text"))?;
    if token.ends_with('\n') {
        token.pop();
        if token.ends_with('\r') {
            token.pop();
        }
    }
    Ok(token)
}

fn parse_json_style(text: &str) -> Result<JsonStyle, String> {
    match text {
        "ruby" => Ok(JsonStyle::Ruby),
        "active-support" => Ok(JsonStyle::ActiveSupport),
        _ => Err("expected ruby or active-support".to_owned()),
    }
}

/// `secret=HEX|secret-file=PATH[,digest=SHA1][,url_safe=true]`.
fn parse_accept(spec: &str) -> Result<RailsConfig, Failure> {
    // Never echo a part: it may hold a secret.
    let bad = |why: &str| {
        Failure::new(format!(
            "--accept {why} (expected secret=HEX or secret-file=PATH, then optionally \
             ,digest=SHA1 and ,url_safe=true)"
        ))
    };
    let mut secret = None;
    let mut digest = RailsDigest::default();
    let mut url_safe = false;
    for (n, part) in spec.split(',').enumerate() {
        match part.split_once('=') {
            Some(("secret", hex)) => {
                warn_on_argv("--accept secret=", "--accept secret-file=PATH");
                secret = Some(decode_hex(hex)?);
            }
            Some(("secret-file", path)) => {
                secret = Some(decode_hex(&read_secret(Path::new(path))?)?);
            }
            Some(("digest", name)) => {
                digest = name
                    .parse()
                    .map_err(|_| bad("digest must be SHA1, SHA256, SHA384 or SHA512"))?;
            }
            Some(("url_safe", flag)) => {
                url_safe = flag
                    .parse()
                    .map_err(|_| bad("url_safe must be true or false"))?;
            }
            _ => return Err(bad(&format!("part {} is not one of these", n + 1))),
        }
    }
    let secret = secret.ok_or_else(|| bad("needs a secret"))?;
    Ok(RailsConfig::new(Secret::from_bytes(secret))
        .digest(digest)
        .url_safe(url_safe))
}

fn decode_hex(hex: &str) -> Result<Vec<u8>, Failure> {
    let hex = hex.trim();
    if hex.is_empty() || !hex.len().is_multiple_of(2) || !hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(Failure::new("secret must be an even number of hex digits"));
    }
    Ok((0..hex.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect())
}
