//! Where the Rails commands get their secrets: a raw secret in hex, or a `secret_key_base`
//! and a salt through Rails' key generator; from a file or standard input rather than the
//! command line. Also the token argument, taken exactly as given.

use std::path::{Path, PathBuf};

use clap::Args;
use tokenring::Secret;
use tokenring::rails::{JsonStyle, KdfDigest, RailsConfig, RailsDigest, RailsKeyGenerator};
use zeroize::Zeroizing;

use crate::Failure;

/// The secret and options of one Rails verifier or encryptor.
#[derive(Args)]
#[command(group(clap::ArgGroup::new("key").required(true).args(
    ["secret", "secret_file", "secret_key_base", "secret_key_base_file"]
)))]
pub(super) struct KeyArgs {
    /// The raw secret, in hex. Visible to other local users (ps): prefer --secret-file.
    #[arg(long)]
    secret: Option<String>,
    /// A file holding the raw secret in hex (`-` for standard input).
    #[arg(long, value_name = "PATH")]
    pub(super) secret_file: Option<PathBuf>,
    #[command(flatten)]
    base: BaseArgs,
    /// The key generator salt (e.g. active_record/signed_id).
    #[arg(long)]
    salt: Option<String>,
    /// PBKDF2 hash: SHA1 (Rails 6.1 apps) or SHA256 (apps on 7.0+ defaults).
    #[arg(long, default_value = "SHA256", value_parser = |s: &str| s.parse::<KdfDigest>())]
    kdf_digest: KdfDigest,
    /// PBKDF2 iterations (Rails apps use 1000).
    #[arg(long, default_value_t = 1000)]
    iterations: u32,
    /// Derived key size in bytes (64 for a verifier, 32 for an encryptor unless set).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    key_size: Option<u16>,
    /// HMAC digest (Rails' default is SHA1); for an encryptor, the aes-256-cbc form's.
    #[arg(long, default_value = "SHA1", value_parser = |s: &str| s.parse::<RailsDigest>())]
    pub(super) digest: RailsDigest,
    /// url_safe: true (write the url-safe alphabet, unpadded).
    #[arg(long)]
    pub(super) url_safe: bool,
    /// The purpose (none if omitted).
    #[arg(long)]
    pub(super) purpose: Option<String>,
    /// The longest token accepted or minted, in bytes (Rails tokens are capped at 4096 here
    /// unless raised; Rails itself has no cap).
    #[arg(long, value_name = "BYTES", default_value_t = tokenring::Verifier::DEFAULT_MAX_TOKEN_LEN)]
    pub(super) max_len: usize,
}

/// An app's `secret_key_base`, given or read from a file.
#[derive(Args)]
pub(super) struct BaseArgs {
    /// The app's secret_key_base, exactly as Rails holds it (fed to PBKDF2 as is). Visible to
    /// other local users (ps): prefer --secret-key-base-file.
    #[arg(long)]
    secret_key_base: Option<String>,
    /// A file holding the app's secret_key_base (`-` for standard input; one trailing
    /// newline is dropped).
    #[arg(long, value_name = "PATH")]
    pub(super) secret_key_base_file: Option<PathBuf>,
}

impl BaseArgs {
    /// The `secret_key_base`, refused when empty and warned about when short.
    pub(super) fn read(&self) -> Result<Zeroizing<String>, Failure> {
        let base = match (&self.secret_key_base, &self.secret_key_base_file) {
            (Some(base), _) => {
                warn_on_argv("--secret-key-base", "--secret-key-base-file");
                Zeroizing::new(base.clone())
            }
            (None, Some(path)) => read_secret(path)?,
            (None, None) => {
                return Err(Failure::new(
                    "give --secret-key-base or --secret-key-base-file",
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
        Ok(base)
    }

    pub(super) fn reads_stdin(&self) -> bool {
        self.secret_key_base_file.as_deref() == Some(Path::new("-"))
    }
}

impl KeyArgs {
    /// The verifier configuration.
    pub(super) fn config(&self) -> Result<RailsConfig, Failure> {
        Ok(RailsConfig::new(self.secret(64)?)
            .digest(self.digest)
            .url_safe(self.url_safe))
    }

    /// The secret: raw, or derived with `--key-size` bytes (`default_size` unless set).
    pub(super) fn secret(&self, default_size: u16) -> Result<Secret, Failure> {
        if let Some(hex) = &self.secret {
            warn_on_argv("--secret", "--secret-file");
            return raw_secret(hex, "--secret");
        }
        if let Some(path) = &self.secret_file {
            return raw_secret(&read_secret(path)?, &path.display().to_string());
        }
        let salt = self.salt.as_deref().ok_or_else(|| {
            Failure::new("--secret-key-base needs --salt (e.g. active_record/signed_id)")
        })?;
        self.derive(salt, self.key_size.unwrap_or(default_size))
    }

    /// A secret derived from the `secret_key_base` with another salt (an encryptor's signing
    /// secret).
    pub(super) fn derive(&self, salt: &str, size: u16) -> Result<Secret, Failure> {
        let base = self.base.read()?;
        Ok(
            RailsKeyGenerator::new(&base, self.kdf_digest, self.iterations)?
                .generate_key(salt, usize::from(size)),
        )
    }

    /// Whether a secret is read from standard input (which then cannot hold the token).
    pub(super) fn reads_stdin(&self) -> bool {
        self.secret_file.as_deref() == Some(Path::new("-")) || self.base.reads_stdin()
    }

    /// The token argument: exactly as given, or `-` for standard input.
    pub(super) fn token(&self, argument: &str) -> Result<String, Failure> {
        if argument != "-" {
            return Ok(argument.to_owned());
        }
        if self.reads_stdin() {
            return Err(Failure::new(
                "standard input can hold the secret or the token, not both",
            ));
        }
        read_token(self.max_len)
    }
}

pub(super) fn warn_on_argv(flag: &str, instead: &str) {
    eprintln!(
        "tokenring: warning: a secret given with {flag} is visible to every local user (ps, \
         /proc) and stays in shell history; prefer {instead}"
    );
}

/// The secret in the file at `path` (`-`: standard input), one trailing newline dropped.
pub(super) fn read_secret(path: &Path) -> Result<Zeroizing<String>, Failure> {
    crate::input::secret_text(path, "the secret")
}

/// A token from standard input by the rule of `crate::input`; more than `max_len` bytes
/// (and a newline) is refused, as the verifier would refuse it.
pub(super) fn read_token(max_len: usize) -> Result<String, Failure> {
    let limit = u64::try_from(max_len).unwrap_or(u64::MAX).saturating_add(2);
    crate::input::stdin_text(limit, "the token")
}

pub(super) fn parse_json_style(text: &str) -> Result<JsonStyle, String> {
    match text {
        "ruby" => Ok(JsonStyle::Ruby),
        "active-support" => Ok(JsonStyle::ActiveSupport),
        _ => Err("expected ruby or active-support".to_owned()),
    }
}

/// `secret=HEX|secret-file=PATH[,digest=SHA1][,url_safe=true]`; what it leaves unset is the
/// primary's (`digest`, `url_safe`), as Rails' `rotate` inherits unset options.
pub(super) fn parse_accept(
    spec: &str,
    digest: RailsDigest,
    url_safe: bool,
) -> Result<RailsConfig, Failure> {
    // Never echo a part: it may hold a secret.
    let bad = |why: &str| {
        Failure::new(format!(
            "--accept {why} (expected secret=HEX or secret-file=PATH, then optionally \
             ,digest=SHA1 and ,url_safe=true)"
        ))
    };
    let (mut secret, mut digest, mut url_safe) = (None, digest, url_safe);
    for (n, part) in spec.split(',').enumerate() {
        match part.split_once('=') {
            Some(("secret", hex)) => {
                warn_on_argv("--accept secret=", "--accept secret-file=PATH");
                secret = Some(raw_secret(hex, "--accept secret=")?);
            }
            Some(("secret-file", path)) => {
                secret = Some(raw_secret(&read_secret(Path::new(path))?, path)?);
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
    Ok(RailsConfig::new(secret).digest(digest).url_safe(url_safe))
}

/// The shortest raw secret taken without a warning: what Rails' key generator derives for an
/// encryptor (a verifier's is 64 bytes).
const SHORT_SECRET: usize = 32;

/// A raw secret given as hex by `source` (a path, or the flag): refused when empty, as an
/// empty `secret_key_base` is, and warned about when short, as a short one is.
pub(super) fn raw_secret(hex: &str, source: &str) -> Result<Secret, Failure> {
    if hex.trim().is_empty() {
        return Err(Failure::new(format!(
            "the secret from {source} is empty (an empty file or unset variable?): anyone \
             could forge its tokens"
        )));
    }
    let secret = Secret::from_bytes(decode_hex(hex)?);
    if secret.len() < SHORT_SECRET {
        eprintln!(
            "tokenring: warning: the secret from {source} is only {} bytes; Rails' key \
             generator derives 64 for a verifier and 32 for an encryptor",
            secret.len()
        );
    }
    Ok(secret)
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
