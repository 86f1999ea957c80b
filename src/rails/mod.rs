//! Rails wire compatibility (feature `rails`): tokens a Rails app minted verify here, and
//! tokens minted here verify in the Rails app.
//!
//! - [`RailsVerifier`] / [`RailsConfig`]: `ActiveSupport::MessageVerifier`'s `data--digest`
//!   format, every digest, both base64 alphabets, both `_rails` envelopes, and `rotate`.
//! - [`RailsKeyGenerator`]: `ActiveSupport::KeyGenerator` (PBKDF2 over `secret_key_base`).
//! - [`RailsApp`]: the verifiers a Rails 6.1 or 7.2 application configures for `signed_id`
//!   and `generates_token_for`, and the purposes ActiveRecord builds.
//!
//! Real ActiveSupport and ActiveRecord (6.1 and 7.2) judge this module in CI:
//! `tests/rails/mint.rb` mints the vectors in `tests/vectors/rails-*.json`. docs/RAILS.md
//! cites the Rails source for each rule.

mod cookies;
mod error;
mod format;
mod key_generator;
mod message_encryptor;
mod message_verifier;
mod metadata;
mod rotation;
mod ruby;

/// The same rule in both places: Rails' `generates_token_for` purpose.
pub use crate::record::token_for_purpose;
pub use cookies::{CookieConfig, RailsCookies};
pub use error::{PayloadProblem, RailsError, ShapeProblem, UnknownName};
pub use format::{Envelope, JsonStyle, RailsDigest};
pub use key_generator::{KdfDigest, RailsKeyGenerator};
pub use message_encryptor::{EncryptorConfig, RailsCipher, RailsEncryptor};
pub use message_verifier::{RailsConfig, RailsVerified, RailsVerifier};
pub use metadata::RailsOptions;

/// The Rails defaults to imitate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RailsVersion {
    /// A Rails 6.1 application (`load_defaults 6.1`).
    V6_1,
    /// A Rails 7.2 application (`load_defaults 7.2`).
    V7_2,
}

/// The secrets and verifier options of a Rails application, from its `secret_key_base`.
///
/// | | Rails 6.1 app | Rails 7.2 app |
/// |---|---|---|
/// | key generator | PBKDF2-HMAC-SHA1, 1000 iterations, 64 bytes | PBKDF2-HMAC-SHA256, 1000 iterations, 64 bytes |
/// | `signed_id` secret | `generate_key("active_record/signed_id")` | same |
/// | `signed_id` verifier | SHA256, strict base64, legacy envelope | SHA256, url-safe, current envelope |
/// | `generates_token_for` | (not in 6.1) | secret `generate_key("active_record/token_for")`, SHA1, strict base64, current envelope, ActiveSupport JSON |
#[derive(Debug)]
pub struct RailsApp {
    keys: RailsKeyGenerator,
    version: RailsVersion,
}

impl RailsApp {
    /// The application with this `secret_key_base`, as Rails `version` configures it.
    ///
    /// # Errors
    ///
    /// [`SecretError::Empty`](crate::error::SecretError::Empty) for an empty `secret_key_base`,
    /// as [`RailsKeyGenerator::new`].
    pub fn new(
        secret_key_base: &str,
        version: RailsVersion,
    ) -> Result<Self, crate::error::SecretError> {
        let digest = match version {
            RailsVersion::V6_1 => KdfDigest::Sha1,
            RailsVersion::V7_2 => KdfDigest::Sha256,
        };
        Ok(Self {
            keys: RailsKeyGenerator::new(
                secret_key_base,
                digest,
                RailsKeyGenerator::APP_ITERATIONS,
            )?,
            version,
        })
    }

    /// `Rails.application.key_generator`.
    pub fn key_generator(&self) -> &RailsKeyGenerator {
        &self.keys
    }

    /// ActiveRecord's `signed_id_verifier`.
    pub fn signed_id_config(&self) -> RailsConfig {
        let config = RailsConfig::new(self.keys.generate_key("active_record/signed_id", 64))
            .digest(RailsDigest::Sha256);
        match self.version {
            RailsVersion::V6_1 => config,
            RailsVersion::V7_2 => config.url_safe(true).envelope(Envelope::Current),
        }
    }

    /// ActiveRecord's `generated_token_verifier` (`generates_token_for`), or `None` for a
    /// 6.1 app, which has no such feature.
    pub fn token_for_config(&self) -> Option<RailsConfig> {
        match self.version {
            RailsVersion::V6_1 => None,
            RailsVersion::V7_2 => Some(
                RailsConfig::new(self.keys.generate_key("active_record/token_for", 64))
                    .envelope(Envelope::Current)
                    .json(JsonStyle::ActiveSupport),
            ),
        }
    }
}

/// The purpose `signed_id` binds: the base class name underscored (`Admin::User` →
/// `admin/user`), then the purpose, joined by `/`, blanks dropped.
///
/// ```
/// use tokenring::rails::signed_id_purpose;
/// assert_eq!(signed_id_purpose("User", Some("password_reset")), "user/password_reset");
/// assert_eq!(signed_id_purpose("Admin::APIKey", None), "admin/api_key");
/// ```
pub fn signed_id_purpose(model_name: &str, purpose: Option<&str>) -> String {
    let model = underscore(model_name);
    match purpose {
        Some(purpose) if !purpose.is_empty() => format!("{model}/{purpose}"),
        _ => model,
    }
}

/// ActiveSupport's `String#underscore` for class names.
fn underscore(name: &str) -> String {
    let chars: Vec<char> = name.replace("::", "/").chars().collect();
    let mut out = String::with_capacity(chars.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            let boundary = prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower);
            if boundary {
                out.push('_');
            }
        }
        out.push(if c == '-' {
            '_'
        } else {
            c.to_ascii_lowercase()
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn underscore_like_active_support() {
        for (name, expected) in [
            ("User", "user"),
            ("AdminUser", "admin_user"),
            ("Admin::User", "admin/user"),
            ("HTTPRequest", "http_request"),
            ("APIKey2Factor", "api_key2_factor"),
            ("V2::OAuthToken", "v2/o_auth_token"),
        ] {
            assert_eq!(underscore(name), expected, "{name}");
        }
        assert_eq!(
            token_for_purpose("User", "password_reset", Some(Duration::from_secs(900))),
            "User\npassword_reset\n900"
        );
        assert_eq!(
            token_for_purpose("User", "confirm", None),
            "User\nconfirm\n"
        );
        assert_eq!(signed_id_purpose("User", Some("")), "user");
    }
}
