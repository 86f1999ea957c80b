//! Rails' `_rails` metadata envelope around a serialised value — the purpose and the expiry
//! MessageVerifier and MessageEncryptor bind, written as Rails writes them and read as Rails
//! 7.1+ reads them (docs/RAILS.md cites the Rails source for each rule).

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use super::error::{PayloadProblem, RailsError};
use super::format::{Envelope, JsonStyle, style};
use super::ruby;
use crate::clock::Clock;
use crate::codec::{strip_string_field, with_decoded};
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
    if options.purpose.is_none() && exp.is_none() {
        return Ok(style(value, json));
    }
    // One buffer, sized once; key order and nulls as Rails writes them.
    let mut text = String::with_capacity(value.len().div_ceil(3) * 4 + 96);
    match envelope {
        // The value as base64 text; the outer JSON always goes through ActiveSupport::JSON.
        Envelope::Legacy => {
            text.push_str(r#"{"_rails":{"message":""#);
            STANDARD.encode_string(style(value, json), &mut text);
            text.push_str(r#"","exp":"#);
            push_json_str_or_null(&mut text, exp.as_deref());
            text.push_str(r#","pur":"#);
            push_json_str_or_null(&mut text, options.purpose);
            text.push_str("}}");
            Ok(style(text, JsonStyle::ActiveSupport))
        }
        // Absent keys are omitted.
        Envelope::Current => {
            text.push_str(r#"{"_rails":{"data":"#);
            text.push_str(&value);
            if let Some(exp) = &exp {
                text.push_str(r#","exp":"#);
                push_json_str(&mut text, exp);
            }
            if let Some(purpose) = options.purpose {
                text.push_str(r#","pur":"#);
                push_json_str(&mut text, purpose);
            }
            text.push_str("}}");
            Ok(style(text, json))
        }
    }
}

/// `s` as a JSON string literal, as serde_json (and Ruby's JSON) writes it: only quotes,
/// backslashes and control characters are escaped, so text without them is copied as is.
fn push_json_str(out: &mut String, s: &str) {
    if s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        // A `str` always serialises.
        out.push_str(&serde_json::to_string(s).unwrap_or_default());
    } else {
        out.push('"');
        out.push_str(s);
        out.push('"');
    }
}

fn push_json_str_or_null(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => push_json_str(out, s),
        None => out.push_str("null"),
    }
}

/// The value of a payload whose signature (or encryption) is already verified, checked in
/// Rails' order — expiry against `now`, then `purpose` — and only then decoded.
pub(super) fn unwrap<T: DeserializeOwned>(
    payload: &[u8],
    purpose: Option<&str>,
    now: SystemTime,
) -> Result<(T, Option<SystemTime>), RailsError> {
    if let Some(unwrapped) = unwrap_as_written(payload, purpose, now) {
        return Ok(unwrapped);
    }
    unwrap_read(Opened::read(payload)?, purpose, now)
}

/// Either envelope exactly as Rails writes it — `{"_rails":{"data":VALUE` (current) or
/// `{"_rails":{"message":"BASE64"` (legacy), then `,"exp":"TIME"` and `,"pur":"PURPOSE"`
/// (each optional or null, in that order), then `}}`; no whitespace, no escape in the
/// strings — cut from its ends without a JSON parser, and accepted only if every check passes
/// and the value decodes into `T`. If the value is one JSON value (the message, a plain
/// string) these bytes *are* that envelope, so the general reading would answer the same;
/// `None` (another spelling, or any refusal) leaves the answer to it.
fn unwrap_as_written<T: DeserializeOwned>(
    payload: &[u8],
    purpose: Option<&str>,
    now: SystemTime,
) -> Option<(T, Option<SystemTime>)> {
    let (legacy, rest) = match payload.strip_prefix(CURRENT_PREFIX) {
        Some(rest) => (false, rest),
        None => (true, payload.strip_prefix(LEGACY_PREFIX)?),
    };
    // The legacy envelope writes absent fields as null, which reads as absent.
    let rest = rest.strip_suffix(b"}}")?;
    let rest = rest.strip_suffix(br#","pur":null"#).unwrap_or(rest);
    let (rest, pur) = strip_string_field(rest, br#","pur":""#)?;
    let rest = rest.strip_suffix(br#","exp":null"#).unwrap_or(rest);
    let (value, exp) = strip_string_field(rest, br#","exp":""#)?;
    // A string `pur` is its own `to_s`; inside an envelope none and "" are equal.
    if pur.unwrap_or_default() != purpose.unwrap_or_default().as_bytes() {
        return None;
    }
    let expires_at = match exp {
        Some(text) => {
            let at = ruby::parse_iso8601(std::str::from_utf8(text).ok()?)?;
            if now >= at {
                return None;
            }
            Some(at)
        }
        None => None,
    };
    let decode = |json: &[u8]| {
        // `exp` and `pur` are plain strings, so only the value can hold a number.
        refuse_non_json(json).ok()?;
        serde_json::from_slice(json).ok()
    };
    let value = if legacy {
        // Base64 has no quote, backslash or control character, so a message that decodes
        // was a plain JSON string.
        let message = value.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
        with_decoded(message, &[&STANDARD], decode)??
    } else {
        decode(value)?
    };
    Some((value, expires_at))
}

fn unwrap_read<T: DeserializeOwned>(
    opened: Opened<'_>,
    purpose: Option<&str>,
    now: SystemTime,
) -> Result<(T, Option<SystemTime>), RailsError> {
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
            found: opened.purpose.map(Cow::into_owned),
        });
    }
    let value = match opened.value {
        // The current envelope's `data`, still as text (valid JSON): straight into `T`.
        Held::Raw(data) => serde_json::from_str(data.map_or("null", RawValue::get))
            .map_err(|e| RailsError::InvalidValue(SharedError::new(e)))?,
        // The legacy envelope's `message`: decoded, then straight into `T`.
        Held::Encoded(None) => {
            return Err(RailsError::BadPayload(PayloadProblem::MessageNotString));
        }
        Held::Encoded(Some(message)) => {
            let bytes = decode_message(&message)?;
            serde_json::from_slice(&bytes).map_err(|e| {
                // Only text that is JSON can hold a value of the wrong type.
                match serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
                    Ok(_) => RailsError::InvalidValue(SharedError::new(e)),
                    Err(_) => RailsError::BadPayload(PayloadProblem::MessageNotJson),
                }
            })?
        }
        Held::Value(value) => serde_json::from_value(value)
            .map_err(|e| RailsError::InvalidValue(SharedError::new(e)))?,
    };
    Ok((value, expires_at))
}

/// A signed payload read as Rails 7.1+ reads it, before any check.
struct Opened<'a> {
    value: Held<'a>,
    /// Whether it came in a `_rails` envelope (a plain value answers no purpose, not even "").
    enveloped: bool,
    /// `pur` as Ruby's `to_s` spells it; `None` when absent or null.
    purpose: Option<Cow<'a, str>>,
    /// `pur` is an array or an object: Ruby compares its `inspect` form, which no purpose
    /// asked here is meant to match, so it matches none (`purpose` holds its JSON).
    unmatchable_purpose: bool,
    /// `exp`, unparsed.
    exp: Option<Cow<'a, str>>,
}

/// The value, or the legacy envelope's `message`, decoded only once the checks have passed
/// (Rails decodes it after checking expiry and purpose, so an expired token says so).
enum Held<'a> {
    /// A plain value, or the current envelope's `data` read by the general reading.
    Value(Value),
    /// The current envelope's `data` as written (absent: null).
    Raw(Option<&'a RawValue>),
    /// The legacy envelope's `message`, not yet decoded; `None` when it is not a string.
    Encoded(Option<Cow<'a, str>>),
}

/// What Rails writes for the legacy envelope: read in one pass too, the message decoded
/// straight into the value once the checks pass.
#[derive(Deserialize)]
struct Legacy<'a> {
    #[serde(rename = "_rails", borrow)]
    meta: LegacyMeta<'a>,
}

#[derive(Deserialize)]
struct LegacyMeta<'a> {
    #[serde(borrow)]
    message: Cow<'a, str>,
    #[serde(borrow, default)]
    exp: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pur: Option<&'a RawValue>,
}

/// What Rails writes for the current envelope, `_rails` first and `data` first in it: read in
/// one borrowed pass, the value left as text until the checks pass.
const CURRENT_PREFIX: &[u8] = br#"{"_rails":{"data":"#;

#[derive(Deserialize)]
struct Current<'a> {
    #[serde(rename = "_rails", borrow)]
    meta: CurrentMeta<'a>,
}

#[derive(Deserialize)]
struct CurrentMeta<'a> {
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    exp: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pur: Option<&'a RawValue>,
}

/// The legacy ("dual-serialised") envelope is recognised by its first bytes alone, as Rails
/// 7.1+ does (`dual_serialized_metadata_envelope_json?`); any other `_rails` object is the
/// current envelope, whose value is `data` (null when absent).
const LEGACY_PREFIX: &[u8] = br#"{"_rails":{"message":"#;

impl<'a> Opened<'a> {
    /// Reads `payload`: a plain JSON value, or either envelope.
    fn read(payload: &'a [u8]) -> Result<Self, RailsError> {
        refuse_non_json(payload)?;
        // The common case in one pass; anything unusual about it (a duplicate key, say) is
        // left to the general reading below, which gives the same answer either way.
        if payload.starts_with(CURRENT_PREFIX)
            && let Ok(Current { meta }) = serde_json::from_slice::<Current<'a>>(payload)
        {
            let (purpose, unmatchable_purpose) = purpose_of(meta.pur.map(Field::raw));
            return Ok(Self {
                value: Held::Raw(meta.data),
                enveloped: true,
                purpose,
                unmatchable_purpose,
                exp: expiry_of(meta.exp.map(Field::raw))?,
            });
        }
        if payload.starts_with(LEGACY_PREFIX)
            && let Ok(Legacy { meta }) = serde_json::from_slice::<Legacy<'a>>(payload)
        {
            let (purpose, unmatchable_purpose) = purpose_of(meta.pur.map(Field::raw));
            return Ok(Self {
                value: Held::Encoded(Some(meta.message)),
                enveloped: true,
                purpose,
                unmatchable_purpose,
                exp: expiry_of(meta.exp.map(Field::raw))?,
            });
        }
        Self::read_general(payload)
    }

    /// Any payload, through a `Value`.
    fn read_general(payload: &'a [u8]) -> Result<Self, RailsError> {
        let parsed: Value = serde_json::from_slice(payload)
            .map_err(|_| RailsError::BadPayload(PayloadProblem::NotJson))?;
        let meta = match parsed {
            // Rails' MessageVerifier (JSON serializer) reads any Hash with a "_rails" key as
            // the current envelope (`metadata_envelope?`) and answers its `data`: null when
            // absent — the legacy envelope spelled with spaces (`{"_rails": {"message": …`)
            // would verify to null, a value its signer never wrote. Its cookie jars (Rails
            // 7.1 to 8.1: a verifier without serializer) do not read it as an envelope at all;
            // tokenring reads it as they do: a `_rails` object with no `data` that is not the
            // legacy envelope as Rails writes it is a plain value, which answers no purpose.
            Value::Object(mut outer)
                if outer.contains_key("_rails")
                    && (payload.starts_with(LEGACY_PREFIX) || !holds_no_data(&outer)) =>
            {
                outer.remove("_rails")
            }
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
        let (purpose, unmatchable_purpose) = purpose_of(meta.remove("pur").map(Field::value));
        let exp = expiry_of(meta.remove("exp").map(Field::value))?;
        let value = if payload.starts_with(LEGACY_PREFIX) {
            Held::Encoded(match meta.remove("message") {
                Some(Value::String(message)) => Some(Cow::Owned(message)),
                _ => None,
            })
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
}

/// Whether `outer["_rails"]` is an object without a `data` field (not the current envelope).
fn holds_no_data(outer: &serde_json::Map<String, Value>) -> bool {
    matches!(outer.get("_rails"), Some(Value::Object(meta)) if !meta.contains_key("data"))
}

/// The legacy envelope's `message`: strict base64 of JSON text.
fn decode_message(message: &str) -> Result<Vec<u8>, RailsError> {
    let bytes = STANDARD
        .decode(message)
        .map_err(|_| RailsError::BadPayload(PayloadProblem::MessageNotBase64))?;
    refuse_non_json(&bytes)?;
    Ok(bytes)
}

/// A metadata field: a string (borrowed from the payload when it holds no escape), or any
/// other JSON value.
enum Field<'a> {
    Str(Cow<'a, str>),
    Other(Value),
}

impl<'a> Field<'a> {
    fn value(value: Value) -> Self {
        match value {
            Value::String(text) => Self::Str(Cow::Owned(text)),
            other => Self::Other(other),
        }
    }

    /// From the field's JSON text (valid JSON: the payload was parsed).
    fn raw(raw: &'a RawValue) -> Self {
        let text = raw.get();
        match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            Some(inner) if !inner.contains('\\') => Self::Str(Cow::Borrowed(inner)),
            _ => Self::value(serde_json::from_str(text).unwrap_or_default()),
        }
    }
}

/// `pur` as Ruby's `to_s` spells it (absent or null: none), and whether it is an array or an
/// object, which matches no purpose.
fn purpose_of(pur: Option<Field<'_>>) -> (Option<Cow<'_, str>>, bool) {
    match pur {
        None | Some(Field::Other(Value::Null)) => (None, false),
        Some(Field::Str(text)) => (Some(text), false),
        Some(Field::Other(pur)) => match ruby::to_s(&pur) {
            Some(text) => (Some(Cow::Owned(text)), false),
            None => (Some(Cow::Owned(pur.to_string())), true),
        },
    }
}

/// `exp`: absent or null, or a string (parsed once the envelope is read).
fn expiry_of(exp: Option<Field<'_>>) -> Result<Option<Cow<'_, str>>, RailsError> {
    match exp {
        None | Some(Field::Other(Value::Null)) => Ok(None),
        Some(Field::Str(exp)) => Ok(Some(exp)),
        Some(Field::Other(_)) => Err(RailsError::BadPayload(PayloadProblem::ExpNotString)),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass reading of the current envelope answers exactly as the general one, on
    /// the shapes Rails writes and on the odd ones (duplicate keys, extra keys, nulls, values
    /// of the wrong type), for each purpose asked.
    #[test]
    fn the_fast_reading_agrees_with_the_general_one() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let payloads = [
            r#"{"_rails":{"data":{"sub":42},"exp":"2030-01-01T00:00:00.000Z","pur":"login"}}"#,
            r#"{"_rails":{"data":1,"pur":"a","pur":"b"}}"#,
            r#"{"_rails":{"data":1,"data":2}}"#,
            r#"{"_rails":{"data":1},"_rails":{"data":2}}"#,
            r#"{"_rails":{"data":1,"extra":[1,2],"message":"Mg=="},"other":true}"#,
            r#"{"_rails":{"data":null,"exp":null,"pur":null}}"#,
            r#"{"_rails":{"data":"x","exp":"2000-01-01T00:00:00Z","pur":"login"}}"#,
            r#"{"_rails":{"data":"x","exp":12}}"#,
            r#"{"_rails":{"data":"x","exp":"soon"}}"#,
            r#"{"_rails":{"data":"x","pur":123}}"#,
            r#"{"_rails":{"data":"x","pur":{"a":1}}}"#,
            r#"{"_rails":{"data":[1,"<\u0026>"],"pur":"lo\u0067in"}}"#,
            r#"{"_rails":{"data":1} trailing"#,
            r#"{"_rails":{"message":"eyJzdWIiOjQyfQ==","exp":"2030-01-01T00:00:00.000Z","pur":"login"}}"#,
            r#"{"_rails":{"message":"eyJzdWIiOjQyfQ==","exp":null,"pur":null}}"#,
            r#"{"_rails":{"message":"eyJzdWIiOjQyfQ==","message":"Mg==","pur":"a"}}"#,
            r#"{"_rails":{"message":"!!","exp":"2000-01-01T00:00:00Z","pur":null}}"#,
            r#"{"_rails":{"message":"!!","pur":"login"}}"#,
            r#"{"_rails":{"message":"e25vdA==","pur":"login"}}"#,
            r#"{"_rails":{"message":42,"pur":"login"}}"#,
            r#"{"_rails":{"message":"BAhJIgY=","pur":null}}"#,
            r#"{"_rails":{"message":"WzEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MF0=","pur":null}}"#,
            r#"{"_rails":{"message":"eyJzdWIiOjQyfQ\u003d\u003d","pur":"login"}}"#,
            // What the cut from the ends must get right or decline.
            r#"{"_rails":{"data":1,"pur":"login"}}"#,
            r#"{"_rails":{"data":1,"exp":"2030-01-01T00:00:00Z"}}"#,
            r#"{"_rails":{"data":1}}"#,
            r#"{"_rails":{"data":1,"pur":""}}"#,
            r#"{"_rails":{"data":"x\",\"pur\":\"login","pur":""}}"#,
            r#"{"_rails":{"data":{"x":1,"pur":"login"}}}"#,
            r#"{"_rails":{"data":{"a":1},"x":2},"pur":"login"}}"#,
            r#"{"_rails":{"data":1},"x":{"pur":"login"}}"#,
            r#"{"_rails":{"data":123456789012345678901234,"pur":"login"}}"#,
            r#"{"_rails":{"data":[1.5e300,-12],"pur":"login"}}"#,
            r#"{"_rails":{"data":1,"exp":"2000-01-01T00:00:00Z","pur":"login"}}"#,
            r#"{"_rails":{"data":1,"pur":"login","exp":"2030-01-01T00:00:00Z"}}"#,
            r#"{"_rails":{"data":1 2,"pur":"login"}}"#,
            r#"{"_rails":{"data":,"pur":"login"}}"#,
            r#"{"_rails":{"data":1,"exp":" 2030-01-01T00:00:00Z ","pur":"login"}}"#,
            r#"{"_rails":{"data":1,"exp":"2030-01-01T00:00:00Z","pur":"lo\u0067in"}}"#,
            r#"{"_rails":{"data":1,"exp":"2030-02-30T24:00:00+01:00","pur":"a"}}"#,
            r#"{"_rails":{"data":1,"exp":"","pur":"a"}}"#,
            r#"{"_rails":{"data":1,"exp":"2030-01-01T00:00:00Z","pur":"login"}} "#,
            "{\"_rails\":{\"data\":1,\"pur\":\"a\u{1}\"}}",
            r#"{"_rails":{"message":"eyJzdWIiOjQyfQ==","pur":"login"}}"#,
            r#"{"_rails":{"message":"eyJzdWIiOjQyfQ=="}}"#,
            r#"{"_rails":{"message":"MQ==","exp":"2000-01-01T00:00:00Z","pur":"login"}}"#,
            r#"{"_rails":{"message":"e30=\",\"pur\":\"login","pur":""}}"#,
            r#"{"_rails":{"message":"eyJzdWIiOjQyfQ","pur":"login"}}"#,
            r#"{"_rails":{"message":"MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0","pur":"login"}}"#,
            r#"{"_rails":{"message":"eyJzdWIiOjQyfQ==","pur":"login"},"x":1}"#,
            r#"{"_rails":{"message":"a","b":"eyJzdWIiOjQyfQ==","pur":"login"}}"#,
            r#"{"_rails":{"message":"BAhJIgY=","pur":"login"}}"#,
            r#"{"_rails":{"message":"","pur":"login"}}"#,
            r#"{"_rails":{"message":"eyJzdWIiOjQyfQ==","exp":null,"pur":"login"}}"#,
            r#"{"_rails":{"message":"eyJzdWIiOjQyfQ==","exp":"2030-01-01T00:00:00Z","pur":null}}"#,
            r#"{"_rails":{"data":1,"exp":null,"pur":null}}"#,
            r#"{"_rails":{"data":1,"pur":null,"exp":null}}"#,
        ];
        for payload in payloads {
            agree(payload.as_bytes(), now);
        }
    }

    /// `unwrap` (the cut first) and the general reading alone answer the same for `payload`,
    /// for each purpose asked, as a value and typed.
    fn agree(payload: &[u8], now: SystemTime) {
        let text = String::from_utf8_lossy(payload);
        for purpose in [
            None,
            Some(""),
            Some("login"),
            Some("123"),
            Some("a"),
            Some("b"),
            Some(r"lo\u0067in"),
            Some("a\u{1}"),
        ] {
            let fast = unwrap::<Value>(payload, purpose, now);
            let general = refuse_non_json(payload)
                .and_then(|()| Opened::read_general(payload))
                .and_then(|opened| unwrap_read::<Value>(opened, purpose, now));
            assert_eq!(fast, general, "{text} for {purpose:?}");
            // Typed: the same answer or the same kind of error (serde's messages differ in
            // where they point).
            let fast = unwrap::<u8>(payload, purpose, now);
            let general = refuse_non_json(payload)
                .and_then(|()| Opened::read_general(payload))
                .and_then(|opened| unwrap_read::<u8>(opened, purpose, now));
            match (&fast, &general) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{text}"),
                (Err(a), Err(b)) => assert_eq!(
                    std::mem::discriminant(a),
                    std::mem::discriminant(b),
                    "{text} for {purpose:?}: {a} / {b}"
                ),
                _ => panic!("{text} for {purpose:?}: {fast:?} / {general:?}"),
            }
        }
    }

    #[test]
    fn json_strings_are_written_as_serde_json_writes_them() {
        for s in [
            "login",
            "",
            "a\"b",
            "back\\slash",
            "tab\t",
            "\u{1}",
            "\u{7f}",
            "é €",
            "</script>",
        ] {
            let mut out = String::new();
            push_json_str(&mut out, s);
            assert_eq!(out, serde_json::to_string(s).unwrap());
        }
    }

    /// What `wrap` writes takes the cut (the fast path), in both envelopes, with and without
    /// purpose and expiry.
    #[test]
    fn what_rails_writes_takes_the_cut() {
        let clock = crate::clock::SystemClock;
        let value = serde_json::json!({"sub": 42, "name": "a\"b"});
        let hour = Duration::from_secs(3600);
        for envelope in [Envelope::Current, Envelope::Legacy] {
            for json in [JsonStyle::Ruby, JsonStyle::ActiveSupport] {
                for (purpose, options) in [
                    (
                        Some("login"),
                        RailsOptions::new().purpose("login").expires_in(hour),
                    ),
                    (Some("login"), RailsOptions::new().purpose("login")),
                    (None, RailsOptions::new().expires_in(hour)),
                ] {
                    let payload = wrap(&value, &options, envelope, json, &clock).unwrap();
                    let cut =
                        unwrap_as_written::<Value>(payload.as_bytes(), purpose, SystemTime::now());
                    assert_eq!(cut.map(|(v, _)| v).as_ref(), Some(&value), "{payload}");
                }
            }
        }
    }

    proptest::proptest! {
        /// Any bytes in the cut's frame, and any time and purpose text: the same answer
        /// either way.
        #[test]
        fn the_cut_agrees_on_any_bytes(
            data in "([\\[\\]{}\",:\\\\ 0-9a-z.e-]{0,24}|meyJhIjoxfQ==|m[A-Za-z0-9+/=\",\\\\]{0,12})",
            exp in proptest::option::of("(2030-01-01T00:00:00Z|1999-01-01|[0-9TZ:. \"\\\\-]{0,12})"),
            pur in proptest::option::of("[\",:\\\\a-z]{0,6}"),
        ) {
            let mut payload = match data.strip_prefix('m') {
                // The legacy envelope: a message (base64 of `{"a":1}` or any text).
                Some(message) => format!("{{\"_rails\":{{\"message\":\"{message}\""),
                None => format!("{{\"_rails\":{{\"data\":{data}"),
            };
            if let Some(exp) = exp {
                payload.push_str(&format!(",\"exp\":\"{exp}\""));
            }
            if let Some(pur) = pur {
                payload.push_str(&format!(",\"pur\":\"{pur}\""));
            }
            payload.push_str("}}");
            agree(payload.as_bytes(), SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000));
        }
    }
}
