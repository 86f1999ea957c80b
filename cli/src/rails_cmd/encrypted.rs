//! `tokenring rails encrypt|decrypt`: Rails MessageEncryptor messages.

use clap::Args;
use serde_json::Value;
use tokenring::rails::{EncryptorConfig, RailsCipher, RailsEncryptor};

use super::MintArgs;
use super::keys::{KeyArgs, raw_secret, read_secret};
use crate::{Failure, out};

/// The cipher and, for aes-256-cbc, the signing secret.
#[derive(Args)]
pub(super) struct CipherArgs {
    /// aes-256-gcm (Rails' default since 5.2) or aes-256-cbc (the legacy form, signed with
    /// HMAC by --digest).
    #[arg(long, default_value = "aes-256-gcm", value_parser = |s: &str| s.parse::<RailsCipher>())]
    cipher: RailsCipher,
    /// aes-256-cbc: a file holding the HMAC secret in hex (Rails signs with the secret itself
    /// when there is none).
    #[arg(long, value_name = "PATH", conflicts_with = "sign_salt")]
    sign_secret_file: Option<std::path::PathBuf>,
    /// aes-256-cbc with --secret-key-base: derive the 64-byte HMAC secret with this salt
    /// (cookies use "signed encrypted cookie").
    #[arg(long, value_name = "SALT")]
    sign_salt: Option<String>,
}

impl CipherArgs {
    /// The encryptor configuration (a 32-byte key: derived as such unless --key-size says
    /// otherwise, and then refused).
    fn config(&self, key: &KeyArgs) -> Result<EncryptorConfig, Failure> {
        let secret = key.secret(RailsCipher::KEY_LEN as u16)?;
        let config = match self.cipher {
            RailsCipher::Aes256Cbc => {
                let sign = match (&self.sign_secret_file, &self.sign_salt) {
                    (Some(path), _) => Some(raw_secret(
                        &read_secret(path)?,
                        &path.display().to_string(),
                    )?),
                    (None, Some(salt)) => Some(key.derive(salt, 64)?),
                    (None, None) => None,
                };
                EncryptorConfig::cbc(secret, sign)?.digest(key.digest)
            }
            _ => {
                if self.sign_secret_file.is_some() || self.sign_salt.is_some() {
                    return Err(Failure::new(
                        "aes-256-gcm authenticates itself: --sign-secret-file and --sign-salt \
                         are for --cipher aes-256-cbc",
                    ));
                }
                EncryptorConfig::new(secret)?
            }
        };
        Ok(config.url_safe(key.url_safe))
    }
}

#[derive(Args)]
pub(crate) struct EncryptArgs {
    #[command(flatten)]
    key: KeyArgs,
    #[command(flatten)]
    cipher: CipherArgs,
    #[command(flatten)]
    mint: MintArgs,
}

#[derive(Args)]
pub(crate) struct DecryptArgs {
    #[command(flatten)]
    key: KeyArgs,
    #[command(flatten)]
    cipher: CipherArgs,
    /// The message, exactly as given; `-` reads it from standard input, dropping one
    /// trailing newline.
    message: String,
}

pub(super) fn encrypt(args: &EncryptArgs) -> Result<(), Failure> {
    let value = args.mint.value()?;
    let config = args
        .cipher
        .config(&args.key)?
        .envelope(args.mint.envelope())
        .json(args.mint.json);
    let encryptor = RailsEncryptor::new(config).max_token_len(args.key.max_len);
    out(encryptor.encrypt(&value, args.mint.options(args.key.purpose.as_deref()))?)
}

pub(super) fn decrypt(args: &DecryptArgs) -> Result<(), Failure> {
    let message = args.key.token(&args.message)?;
    let encryptor =
        RailsEncryptor::new(args.cipher.config(&args.key)?).max_token_len(args.key.max_len);
    let decrypted = encryptor
        .decrypt::<Value>(&message, args.key.purpose.as_deref())
        .map_err(|e| Failure::new(format!("message rejected: {e}")))?;
    out(decrypted.value)
}
