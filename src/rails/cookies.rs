//! A Rails app's `cookies.signed` and `cookies.encrypted` — and so its session cookie — read
//! and written exactly as ActionDispatch does (7.2 `action_dispatch/middleware/cookies.rb`):
//! keys derived from `secret_key_base` with the cookie salts, the value serialised as JSON
//! (`cookies_serializer = :json`), bound to the purpose `cookie.NAME` when
//! `use_cookies_with_metadata` is on, and URL-escaped as Rack escapes cookie values.

use std::time::SystemTime;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::RailsVersion;
use super::error::RailsError;
use super::format::{Envelope, JsonStyle, RailsDigest};
use super::key_generator::{KdfDigest, RailsKeyGenerator};
use super::message_encryptor::{EncryptorConfig, RailsCipher, RailsEncryptor};
use super::message_verifier::{RailsConfig, RailsVerified, RailsVerifier};
use super::metadata::RailsOptions;
use crate::error::{SecretError, SignError};

/// The settings that shape a Rails app's cookies (`config.action_dispatch.*`), each named as
/// in Rails. [`CookieConfig::for_version`] gives an app's defaults; change a field where the
/// app's configuration does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CookieConfig {
    /// The key generator's hash: SHA1 for 6.1 apps, SHA256 for apps on 7.0+ defaults.
    pub kdf_digest: KdfDigest,
    /// PBKDF2 iterations (1000 in Rails apps).
    pub iterations: u32,
    /// `signed_cookie_salt` (`"signed cookie"`).
    pub signed_cookie_salt: String,
    /// `encrypted_cookie_salt` (`"encrypted cookie"`): the legacy CBC form's key.
    pub encrypted_cookie_salt: String,
    /// `encrypted_signed_cookie_salt` (`"signed encrypted cookie"`): its HMAC key.
    pub encrypted_signed_cookie_salt: String,
    /// `authenticated_encrypted_cookie_salt` (`"authenticated encrypted cookie"`): the GCM key.
    pub authenticated_encrypted_cookie_salt: String,
    /// `signed_cookie_digest` (SHA1 unless configured).
    pub signed_cookie_digest: RailsDigest,
    /// `cookies_digest`: the HMAC of legacy CBC cookies (SHA1 when unset).
    pub cookies_digest: RailsDigest,
    /// `use_authenticated_cookie_encryption`: AES-256-GCM (true since 5.2 defaults) or the
    /// legacy AES-256-CBC + HMAC. Either way the other form is read too, as Rails does while
    /// upgrading.
    pub use_authenticated_cookie_encryption: bool,
    /// `use_cookies_with_metadata` (6.0+ defaults): bind each value to `cookie.NAME`.
    pub use_cookies_with_metadata: bool,
}

impl CookieConfig {
    /// The defaults of an app on `load_defaults` for `version`.
    pub fn for_version(version: RailsVersion) -> Self {
        Self {
            kdf_digest: match version {
                RailsVersion::V6_1 => KdfDigest::Sha1,
                RailsVersion::V7_2 => KdfDigest::Sha256,
            },
            iterations: 1000,
            signed_cookie_salt: "signed cookie".to_owned(),
            encrypted_cookie_salt: "encrypted cookie".to_owned(),
            encrypted_signed_cookie_salt: "signed encrypted cookie".to_owned(),
            authenticated_encrypted_cookie_salt: "authenticated encrypted cookie".to_owned(),
            signed_cookie_digest: RailsDigest::Sha1,
            cookies_digest: RailsDigest::Sha1,
            use_authenticated_cookie_encryption: true,
            use_cookies_with_metadata: true,
        }
    }
}

/// A Rails app's signed and encrypted cookie jars.
///
/// ```
/// use tokenring::rails::{CookieConfig, RailsCookies, RailsVersion};
///
/// let config = CookieConfig::for_version(RailsVersion::V7_2);
/// let cookies = RailsCookies::new(&"0123456789abcdef".repeat(8), &config)?;
/// // What goes after `_app_session=` in Set-Cookie, and comes back in the Cookie header:
/// let value = cookies.write_encrypted("_app_session", &serde_json::json!({"user_id": 7}), None)?;
/// let session = cookies.read_encrypted::<serde_json::Value>("_app_session", &value)?;
/// assert_eq!(session.value["user_id"], 7);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct RailsCookies {
    signed: RailsVerifier,
    encrypted: RailsEncryptor,
    metadata: bool,
}

impl RailsCookies {
    /// The jars of the app with this `secret_key_base` and cookie configuration.
    ///
    /// # Errors
    ///
    /// [`SecretError::Empty`] for an empty `secret_key_base`, as [`RailsKeyGenerator::new`].
    pub fn new(secret_key_base: &str, config: &CookieConfig) -> Result<Self, SecretError> {
        let keys = RailsKeyGenerator::new(secret_key_base, config.kdf_digest, config.iterations)?;
        let cookie_style = |verifier: RailsConfig| {
            verifier
                .envelope(Envelope::Legacy)
                .json(JsonStyle::ActiveSupport)
        };
        let signed = RailsVerifier::new(cookie_style(
            RailsConfig::new(keys.generate_key(&config.signed_cookie_salt, 64))
                .digest(config.signed_cookie_digest),
        ));
        let gcm = EncryptorConfig::new(keys.generate_key(
            &config.authenticated_encrypted_cookie_salt,
            RailsCipher::KEY_LEN,
        ))?;
        let cbc = EncryptorConfig::cbc(
            keys.generate_key(&config.encrypted_cookie_salt, RailsCipher::KEY_LEN),
            Some(keys.generate_key(&config.encrypted_signed_cookie_salt, 64)),
        )?;
        let (primary, upgrade) = if config.use_authenticated_cookie_encryption {
            (gcm, cbc.digest(config.cookies_digest))
        } else {
            (cbc, gcm)
        };
        let encrypted_style = |encryptor: EncryptorConfig| {
            encryptor
                .envelope(Envelope::Legacy)
                .json(JsonStyle::ActiveSupport)
        };
        Ok(Self {
            signed,
            encrypted: RailsEncryptor::new(encrypted_style(primary))
                .accept(encrypted_style(upgrade)),
            metadata: config.use_cookies_with_metadata,
        })
    }

    /// Also reads signed cookies of `older` (`cookies_rotations.rotate :signed, …`).
    #[must_use]
    pub fn accept_signed(mut self, older: RailsConfig) -> Self {
        self.signed = self.signed.accept(older);
        self
    }

    /// Also reads encrypted cookies of `older` (`cookies_rotations.rotate :encrypted, …`).
    #[must_use]
    pub fn accept_encrypted(mut self, older: EncryptorConfig) -> Self {
        self.encrypted = self.encrypted.accept(older);
        self
    }

    /// The former name of [`RailsCookies::accept_signed`].
    #[deprecated(
        since = "0.2.0",
        note = "renamed accept_signed: `accept` is the rotation verb"
    )]
    #[must_use]
    pub fn rotate_signed(self, older: RailsConfig) -> Self {
        self.accept_signed(older)
    }

    /// The former name of [`RailsCookies::accept_encrypted`].
    #[deprecated(
        since = "0.2.0",
        note = "renamed accept_encrypted: `accept` is the rotation verb"
    )]
    #[must_use]
    pub fn rotate_encrypted(self, older: EncryptorConfig) -> Self {
        self.accept_encrypted(older)
    }

    /// `cookies.signed[name]`: `value` as the browser sends it (URL-escaped).
    ///
    /// # Errors
    ///
    /// A [`RailsError`] where Rails' jar would answer nil; [`PayloadProblem::Marshal`]
    /// (in [`RailsError::BadPayload`]) for a cookie of a `:marshal` or `:hybrid` app.
    ///
    /// [`PayloadProblem::Marshal`]: super::PayloadProblem::Marshal
    pub fn read_signed<T: DeserializeOwned>(
        &self,
        name: &str,
        value: &str,
    ) -> Result<RailsVerified<T>, RailsError> {
        let value = unescape(value);
        read(name, |purpose| self.signed.verify(&value, purpose))
    }

    /// `cookies.encrypted[name]` (the session cookie is one): `value` as the browser sends
    /// it.
    ///
    /// # Errors
    ///
    /// As [`RailsCookies::read_signed`].
    pub fn read_encrypted<T: DeserializeOwned>(
        &self,
        name: &str,
        value: &str,
    ) -> Result<RailsVerified<T>, RailsError> {
        let value = unescape(value);
        read(name, |purpose| self.encrypted.decrypt(&value, purpose))
    }

    /// `cookies.signed[name] = { value:, expires: }`: the cookie value to set, URL-escaped
    /// as Rack writes it into `Set-Cookie`.
    ///
    /// # Errors
    ///
    /// [`SignError`] if the value is not JSON or the cookie would exceed 4096 bytes (Rails'
    /// `CookieOverflow`).
    pub fn write_signed<T: Serialize + ?Sized>(
        &self,
        name: &str,
        value: &T,
        expires: Option<SystemTime>,
    ) -> Result<String, SignError> {
        let purpose = format!("cookie.{name}");
        let token = self
            .signed
            .generate(value, self.options(&purpose, expires))?;
        Ok(escape(&token))
    }

    /// `cookies.encrypted[name] = { value:, expires: }`, URL-escaped.
    ///
    /// # Errors
    ///
    /// As [`RailsCookies::write_signed`], and if no random IV can be drawn.
    pub fn write_encrypted<T: Serialize + ?Sized>(
        &self,
        name: &str,
        value: &T,
        expires: Option<SystemTime>,
    ) -> Result<String, SignError> {
        let purpose = format!("cookie.{name}");
        let message = self
            .encrypted
            .encrypt(value, self.options(&purpose, expires))?;
        Ok(escape(&message))
    }

    fn options<'a>(&self, purpose: &'a str, expires: Option<SystemTime>) -> RailsOptions<'a> {
        let mut options = RailsOptions::new();
        if self.metadata {
            options = options.purpose(purpose);
        }
        if let Some(at) = expires {
            options = options.expires_at(at);
        }
        options
    }
}

/// Rails reads a cookie for its purpose `cookie.NAME` and, when that fails, once more with
/// no purpose (`AbstractCookieJar#[]`): cookies written without metadata still read, a
/// cookie moved under another name does not.
fn read<T>(
    name: &str,
    attempt: impl Fn(Option<&str>) -> Result<RailsVerified<T>, RailsError>,
) -> Result<RailsVerified<T>, RailsError> {
    let purpose = format!("cookie.{name}");
    match attempt(Some(&purpose)) {
        Err(RailsError::PurposeMismatch { .. }) => attempt(None).map_err(|error| match error {
            // Report the purpose the jar asked for, not the second, purpose-less try.
            RailsError::PurposeMismatch { found, .. } => RailsError::PurposeMismatch {
                expected: Some(purpose.clone()),
                found,
            },
            other => other,
        }),
        result => result,
    }
}

/// Rack's `escape` (`URI.encode_www_form_component`): `*-._`, digits and letters as they
/// are, space as `+`, every other byte `%XX`.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + value.len() / 8);
    for byte in value.bytes() {
        match byte {
            b'*' | b'-' | b'.' | b'_' | b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 0xf)]));
            }
        }
    }
    out
}

/// Rack's cookie parsing (`unescape(value) rescue value`): `%XX` and `+` decoded; a value
/// that does not decode (a stray `%`, bytes that are not UTF-8) is taken as it is.
fn unescape(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                let Some(byte) = hex else {
                    return value.to_owned();
                };
                out.push(byte);
                i += 2;
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_as_rack_does() {
        // Ruby: URI.encode_www_form_component("a+b/c=d e*-._~é")
        assert_eq!(escape("a+b/c=d e*-._~é"), "a%2Bb%2Fc%3Dd+e*-._%7E%C3%A9");
        assert_eq!(unescape("a%2Bb%2Fc%3Dd+e*-._%7E%C3%A9"), "a+b/c=d e*-._~é");
        assert_eq!(unescape("100%"), "100%");
        assert_eq!(unescape("%zz"), "%zz");
        assert_eq!(unescape("%ff"), "%ff");
    }

    #[test]
    fn a_cookie_reads_under_its_own_name_only() {
        let cookies = RailsCookies::new(
            &"k".repeat(64),
            &CookieConfig::for_version(RailsVersion::V7_2),
        )
        .unwrap();
        let value = cookies.write_signed("a", &1, None).unwrap();
        assert_eq!(cookies.read_signed::<u8>("a", &value).unwrap().value, 1);
        assert!(matches!(
            cookies.read_signed::<u8>("b", &value),
            Err(RailsError::PurposeMismatch { expected: Some(p), .. }) if p == "cookie.b"
        ));
        let value = cookies.write_encrypted("a", &1, None).unwrap();
        assert_eq!(cookies.read_encrypted::<u8>("a", &value).unwrap().value, 1);
        assert!(cookies.read_encrypted::<u8>("b", &value).is_err());
    }
}
