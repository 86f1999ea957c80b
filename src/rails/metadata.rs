//! Rails' `_rails` metadata envelope around a serialised value — the purpose and the expiry
//! MessageVerifier and MessageEncryptor bind, written as Rails writes them and read as Rails
//! 7.1+ reads them (docs/RAILS.md cites the Rails source for each rule).

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::{PayloadProblem, RailsError};
use super::format::{Envelope, JsonStyle, style};
use super::ruby;
use crate::clock::Clock;
use crate::error::{SharedError, SignError};

/// What to bind into a Rails token besides its value.
#[derive(Debug, Clone, Copy, Default)]
pub struct RailsOptions<'a> {
    purpose: Option<&'a str>,
    expires_at: Option<SystemTime>,
    expires_in: Option<Duration>,
}

impl<'a> RailsOptions<'a> {
    /// No purpose, no expiry: no envelope at all.
    pub fn new() -> Self {
        Self::default()
    }

    /// `purpose:` (an empty purpose still makes an envelope, as in Rails).
    #[must_use]
    pub fn purpose(mut self, purpose: &'a str) -> Self {
        self.purpose = Some(purpose);
        self
    }

    /// `expires_at:` (wins over `expires_in`, as in Rails).
    #[must_use]
    pub fn expires_at(mut self, at: SystemTime) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// `expires_in:`.
    #[must_use]
    pub fn expires_in(mut self, after: Duration) -> Self {
        self.expires_in = Some(after);
        self
    }
}

/// The payload for `value` under `options`: the serialised value alone when there is no
/// purpose and no expiry, otherwise `envelope` around it, in the JSON style `json`.
pub(super) fn wrap<T: Serialize + ?Sized>(
    value: &T,
    options: &RailsOptions<'_>,
    envelope: Envelope,
    json: JsonStyle,
    clock: &dyn Clock,
) -> Result<String, SignError> {
    // Serialised straight from the value, so struct fields keep their order as in Ruby.
    let value =
        serde_json::to_string(value).map_err(|e| SignError::Serialize(SharedError::new(e)))?;
    let exp = match (options.expires_at, options.expires_in) {
        (Some(at), _) => Some(at),
        (None, Some(after)) => Some(
            clock
                .now()
                .checked_add(after)
                .ok_or(SignError::InvalidExpiry)?,
        ),
        (None, None) => None,
    };
    let exp = match exp {
        Some(at) if crate::clock::in_rfc3339_range(at) => {
            Some(humantime::format_rfc3339_millis(at).to_string())
        }
        Some(_) => return Err(SignError::InvalidExpiry),
        None => None,
    };
    let quoted = |s: &str| Value::String(s.to_owned()).to_string();
    if options.purpose.is_none() && exp.is_none() {
        return Ok(style(value, json));
    }
    Ok(match envelope {
        // Key order and nulls as Rails writes them; the outer JSON always goes through
        // ActiveSupport::JSON.
        Envelope::Legacy => style(
            format!(
                r#"{{"_rails":{{"message":"{}","exp":{},"pur":{}}}}}"#,
                STANDARD.encode(style(value, json)),
                exp.as_deref().map_or("null".to_owned(), quoted),
                options.purpose.map_or("null".to_owned(), quoted),
            ),
            JsonStyle::ActiveSupport,
        ),
        // Absent keys are omitted.
        Envelope::Current => {
            let mut text = format!(r#"{{"_rails":{{"data":{value}"#);
            if let Some(exp) = &exp {
                text.push_str(&format!(r#","exp":{}"#, quoted(exp)));
            }
            if let Some(purpose) = options.purpose {
                text.push_str(&format!(r#","pur":{}"#, quoted(purpose)));
            }
            text.push_str("}}");
            style(text, json)
        }
    })
}

/// The value of a payload whose signature (or encryption) is already verified, checked in
/// Rails' order — expiry against `now`, then `purpose` — and only then decoded.
pub(super) fn unwrap<T: DeserializeOwned>(
    payload: &[u8],
    purpose: Option<&str>,
    now: SystemTime,
) -> Result<(T, Option<SystemTime>), RailsError> {
    let opened = Opened::read(payload)?;
    let expires_at = match &opened.exp {
        Some(text) => {
            let at = ruby::parse_iso8601(text)
                .ok_or(RailsError::BadPayload(PayloadProblem::ExpNotTime))?;
            if now >= at {
                return Err(RailsError::Expired { at });
            }
            Some(at)
        }
        None => None,
    };
    // Rails 7.1+: `pur.to_s == purpose.to_s` inside an envelope (no purpose and "" are
    // equal there), but a plain value answers no purpose at all, not even "" (6.1
    // accepted "" for it).
    let matches = if opened.unmatchable_purpose {
        false
    } else if opened.enveloped {
        opened.purpose.as_deref().unwrap_or("") == purpose.unwrap_or("")
    } else {
        purpose.is_none()
    };
    if !matches {
        return Err(RailsError::PurposeMismatch {
            expected: purpose.map(str::to_owned),
            found: opened.purpose,
        });
    }
    let value = serde_json::from_value(opened.into_value()?)
        .map_err(|e| RailsError::InvalidValue(SharedError::new(e)))?;
    Ok((value, expires_at))
}

/// A signed payload read as Rails 7.1+ reads it, before any check.
struct Opened {
    value: Held,
    /// Whether it came in a `_rails` envelope (a plain value answers no purpose, not even "").
    enveloped: bool,
    /// `pur` as Ruby's `to_s` spells it; `None` when absent or null.
    purpose: Option<String>,
    /// `pur` is an array or an object: Ruby compares its `inspect` form, which no purpose
    /// asked here is meant to match, so it matches none (`purpose` holds its JSON).
    unmatchable_purpose: bool,
    /// `exp`, unparsed.
    exp: Option<String>,
}

/// The value, or the legacy envelope's `message`, decoded only once the checks have passed
/// (Rails decodes it after checking expiry and purpose, so an expired token says so).
enum Held {
    Value(Value),
    Message(Value),
}

/// The legacy ("dual-serialised") envelope is recognised by its first bytes alone, as Rails
/// 7.1+ does (`dual_serialized_metadata_envelope_json?`); any other `_rails` object is the
/// current envelope, whose value is `data` (null when absent).
const LEGACY_PREFIX: &[u8] = br#"{"_rails":{"message":"#;

impl Opened {
    /// Reads `payload`: a plain JSON value, or either envelope.
    fn read(payload: &[u8]) -> Result<Self, RailsError> {
        refuse_non_json(payload)?;
        let parsed: Value = serde_json::from_slice(payload)
            .map_err(|_| RailsError::BadPayload(PayloadProblem::NotJson))?;
        let meta = match parsed {
            // Rails: any Hash with a "_rails" key is an envelope (`metadata_envelope?`).
            Value::Object(mut outer) if outer.contains_key("_rails") => outer.remove("_rails"),
            plain => {
                return Ok(Self {
                    value: Held::Value(plain),
                    enveloped: false,
                    purpose: None,
                    unmatchable_purpose: false,
                    exp: None,
                });
            }
        };
        // Rails raises on a `_rails` that is not a Hash; here it is a typed refusal.
        let Some(Value::Object(mut meta)) = meta else {
            return Err(RailsError::BadPayload(PayloadProblem::RailsNotObject));
        };
        let (purpose, unmatchable_purpose) = match meta.remove("pur") {
            None | Some(Value::Null) => (None, false),
            Some(pur) => match ruby::to_s(&pur) {
                Some(text) => (Some(text), false),
                None => (Some(pur.to_string()), true),
            },
        };
        let exp = match meta.remove("exp") {
            None | Some(Value::Null) => None,
            Some(Value::String(exp)) => Some(exp),
            Some(_) => return Err(RailsError::BadPayload(PayloadProblem::ExpNotString)),
        };
        let value = if payload.starts_with(LEGACY_PREFIX) {
            Held::Message(meta.remove("message").unwrap_or_default())
        } else {
            Held::Value(meta.remove("data").unwrap_or_default())
        };
        Ok(Self {
            value,
            enveloped: true,
            purpose,
            unmatchable_purpose,
            exp,
        })
    }

    /// The value; for the legacy envelope, its `message` decoded (strict base64 of JSON).
    fn into_value(self) -> Result<Value, RailsError> {
        match self.value {
            Held::Value(value) => Ok(value),
            Held::Message(Value::String(message)) => {
                let bytes = STANDARD
                    .decode(message)
                    .map_err(|_| RailsError::BadPayload(PayloadProblem::MessageNotBase64))?;
                refuse_non_json(&bytes)?;
                serde_json::from_slice(&bytes)
                    .map_err(|_| RailsError::BadPayload(PayloadProblem::MessageNotJson))
            }
            Held::Message(_) => Err(RailsError::BadPayload(PayloadProblem::MessageNotString)),
        }
    }
}

/// Refuses what JSON cannot hold faithfully: Ruby Marshal data (its format version 4.8
/// leads), and integers beyond 64 bits — Ruby's Integer is unbounded; here one would come
/// back as a float with digits lost.
fn refuse_non_json(json: &[u8]) -> Result<(), RailsError> {
    if json.starts_with(b"\x04\x08") {
        return Err(RailsError::BadPayload(PayloadProblem::Marshal));
    }
    if ruby::holds_wide_integer(json) {
        return Err(RailsError::BadPayload(PayloadProblem::WideInteger));
    }
    Ok(())
}
