//! The keyring JSON format (keyrings/README.md): strict parsing and canonical writing.
//!
//! Parsing is strict because a keyring is security configuration: an unknown field is far
//! more likely a typo (`expire_at`) than an extension, and a typo must not silently leave a
//! key alive. Serde checks the document's shape and duplicate fields; each key entry is then
//! checked by hand so every error names the key and the field.

use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::SystemTime;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroize::{Zeroize as _, Zeroizing};

use super::{Key, Keyring};
use crate::algorithm::Algorithm;
use crate::clock::{Clock, SystemClock};
use crate::error::{EntryError, KeyRef, KeyringError, ValueShape, field_name};
use crate::secret::Secret;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    keys: Vec<Entry>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    demo: bool,
}

/// One key entry's fields in file order, refusing duplicates (which `serde_json::Value`
/// would silently collapse to the last).
struct Entry(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = Entry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key entry object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entry, A::Error> {
                let mut fields: Vec<(String, Value)> = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    if fields.iter().any(|(seen, _)| *seen == name) {
                        return Err(de::Error::custom(format_args!(
                            "duplicate field `{name}` in a key entry"
                        )));
                    }
                    let value = map.next_value()?;
                    fields.push((name, value));
                }
                Ok(Entry(fields))
            }
        }
        deserializer.deserialize_map(EntryVisitor)
    }
}

impl Drop for Entry {
    // The secret's base64 text is key material too.
    fn drop(&mut self) {
        for (name, value) in &mut self.0 {
            if name == "secret"
                && let Value::String(s) = value
            {
                s.zeroize();
            }
        }
    }
}

const FIELDS: [&str; 7] = [
    "id",
    "algorithm",
    "secret",
    "public_key",
    "activates_at",
    "expires_at",
    "disabled",
];

impl Keyring {
    /// Parses and validates a keyring document against the system clock.
    ///
    /// ```
    /// let keyring = tokenring::Keyring::from_json(r#"{"keys": [
    ///     {"id": "k1", "secret": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}
    /// ]}"#)?;
    /// assert_eq!(keyring.keys()[0].id(), "k1");
    /// # Ok::<(), tokenring::KeyringError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// Any [`KeyringError`] about content; each names the key and the field.
    pub fn from_json(json: &str) -> Result<Self, KeyringError> {
        Self::from_json_with_clock(json, Arc::new(SystemClock))
    }

    /// Parses and validates a keyring document; key states will be read from `clock`.
    ///
    /// # Errors
    ///
    /// As [`Keyring::from_json`].
    pub fn from_json_with_clock(json: &str, clock: Arc<dyn Clock>) -> Result<Self, KeyringError> {
        let document: Document = serde_json::from_str(json).map_err(|e| KeyringError::json(&e))?;
        let keys = document
            .keys
            .into_iter()
            .enumerate()
            .map(|(index, entry)| parse_entry(index, entry))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new_with_clock(keys, clock)?
            .with_description(document.description)
            .with_demo(document.demo))
    }

    /// The keyring as a JSON document in the format [`Keyring::from_json`] reads, with
    /// secrets in it; the returned string is wiped on drop.
    pub fn to_json(&self) -> Zeroizing<String> {
        // Sized first, then written once into a buffer of exactly that size: a growing buffer
        // would leave copies of the secrets behind in the memory it frees.
        let mut counter = Counter(0);
        self.write_json(&mut counter);
        let mut out = Zeroizing::new(Vec::with_capacity(counter.0));
        self.write_json(&mut *out);
        // The Vec moves into the String without a copy.
        let text = String::from_utf8(std::mem::take(&mut *out));
        Zeroizing::new(text.expect("serde_json writes UTF-8"))
    }

    /// The canonical document, pretty-printed with a final newline.
    pub(crate) fn write_json(&self, out: &mut impl Write) {
        #[derive(Serialize)]
        struct DocumentOut<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            description: Option<&'a str>,
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            demo: bool,
            keys: Vec<EntryOut<'a>>,
        }
        #[derive(Serialize)]
        struct EntryOut<'a> {
            id: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            algorithm: Option<&'static str>,
            #[serde(
                skip_serializing_if = "Option::is_none",
                serialize_with = "serialize_zeroizing"
            )]
            secret: Option<Zeroizing<String>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            public_key: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            activates_at: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            expires_at: Option<String>,
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            disabled: bool,
        }
        let document = DocumentOut {
            description: self.description(),
            demo: self.is_demo(),
            keys: self
                .keys()
                .iter()
                .map(|key| EntryOut {
                    id: key.id(),
                    algorithm: (key.algorithm() != Algorithm::default())
                        .then(|| key.algorithm().name()),
                    secret: key.secret().map(Secret::to_base64),
                    public_key: public_key_base64(key),
                    activates_at: key.activates_at().map(format_time),
                    expires_at: key.expires_at().map(format_time),
                    disabled: key.is_disabled(),
                })
                .collect(),
        };
        // Strings and booleans, into writers that never fail (a Vec, a counter, a hasher):
        // an error here is a bug, not an input, so it is not turned into a quiet empty file.
        serde_json::to_writer_pretty(&mut *out, &document)
            .and_then(|()| out.write_all(b"\n").map_err(serde_json::Error::io))
            .expect("serialising a keyring into memory cannot fail");
    }
}

/// Counts the bytes written to it.
struct Counter(usize);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn serialize_zeroizing<S: serde::Serializer>(
    text: &Option<Zeroizing<String>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    // Only called for `Some`: `None` is skipped.
    serializer.serialize_str(text.as_deref().map_or("", String::as_str))
}

/// A key pair's public key, standard base64 like secrets: Ed25519's 32 bytes, P-256's
/// uncompressed SEC1 point.
fn public_key_base64(key: &Key) -> Option<String> {
    #[cfg(feature = "jose")]
    {
        use base64::Engine as _;
        key.public_key()
            .map(|public| base64::engine::general_purpose::STANDARD.encode(public.to_bytes()))
    }
    #[cfg(not(feature = "jose"))]
    {
        // Without `jose` a keyring holds no key pairs.
        let _ = key;
        None
    }
}

/// RFC 3339 UTC to the second, the form keyring files use.
pub(crate) fn format_time(at: SystemTime) -> String {
    crate::clock::format_rfc3339(at)
}

/// RFC 3339 UTC (`Z` suffix, optional fraction), the form keyring files use.
pub(crate) fn parse_time(text: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339(text).ok()
}

fn parse_entry(index: usize, mut entry: Entry) -> Result<Key, KeyringError> {
    let id = entry
        .0
        .iter()
        .find(|(name, _)| name == "id")
        .and_then(|(_, v)| v.as_str())
        .map(str::to_owned);
    let key = KeyRef::new(index, id.as_deref());
    if let Some((name, _)) = entry.0.iter().find(|(n, _)| !FIELDS.contains(&n.as_str())) {
        return Err(KeyringError::entry(
            key,
            EntryError::UnknownField(field_name(name)),
        ));
    }
    let mut take = |field: &'static str| {
        entry
            .0
            .iter_mut()
            .find(|(name, _)| name == field)
            .map(|(_, value)| std::mem::take(value))
    };
    let wrong_type = |field, expected| {
        KeyringError::entry(key.clone(), EntryError::WrongType { field, expected })
    };
    let missing = |field| KeyringError::entry(key.clone(), EntryError::MissingField(field));

    let id = match take("id") {
        Some(Value::String(id)) => id,
        Some(_) => return Err(wrong_type("id", "a string")),
        None => return Err(missing("id")),
    };
    let algorithm = match take("algorithm") {
        None => Algorithm::default(),
        Some(Value::String(name)) => name.parse().map_err(|_| {
            KeyringError::entry(
                key.clone(),
                EntryError::UnknownAlgorithm(ValueShape::of(&name)),
            )
        })?,
        Some(_) => return Err(wrong_type("algorithm", "a string")),
    };
    if algorithm.is_public_key() && cfg!(not(feature = "jose")) {
        return Err(KeyringError::entry(
            key,
            EntryError::AlgorithmNotBuilt(algorithm),
        ));
    }
    let secret = match take("secret") {
        Some(Value::String(text)) => {
            let text = Zeroizing::new(text);
            Some(
                Secret::from_base64(&text)
                    .map_err(|e| KeyringError::entry(key.clone(), EntryError::Secret(e)))?,
            )
        }
        Some(_) => return Err(wrong_type("secret", "a base64 string")),
        // A public key alone is a key that only verifies.
        None if algorithm.is_public_key() => None,
        None => return Err(missing("secret")),
    };
    let public_key = match take("public_key") {
        None => None,
        Some(_) if !algorithm.is_public_key() => {
            return Err(KeyringError::entry(
                key,
                EntryError::NotForAlgorithm {
                    field: "public_key",
                    algorithm,
                },
            ));
        }
        Some(Value::String(text)) => Some(text),
        Some(_) => return Err(wrong_type("public_key", "a base64 string")),
    };
    let mut time = |field: &'static str| match take(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => match parse_time(&text) {
            Some(at) => Ok(Some(at)),
            None => Err(KeyringError::entry(
                key.clone(),
                EntryError::InvalidTimestamp {
                    field,
                    found: ValueShape::of(&text),
                },
            )),
        },
        Some(_) => Err(wrong_type(field, "an RFC 3339 UTC time string")),
    };
    let activates_at = time("activates_at")?;
    let expires_at = time("expires_at")?;
    let disabled = match take("disabled") {
        None => false,
        Some(Value::Bool(b)) => b,
        Some(_) => return Err(wrong_type("disabled", "true or false")),
    };
    let material = Key::unchecked(id, algorithm, secret);
    #[cfg(feature = "jose")]
    let material = with_public_key(material, algorithm, public_key.as_deref())
        .map_err(|e| KeyringError::entry(key.clone(), e))?;
    #[cfg(not(feature = "jose"))]
    let _ = public_key;
    // The keyring checks the material (and pairs a private key with its public key).
    Ok(material
        .with_activates_at(activates_at)
        .with_expires_at(expires_at)
        .with_disabled(disabled))
}

/// The key with the public key an entry gave, parsed (`None`: the keyring derives it from
/// the private key, which must then be there).
#[cfg(feature = "jose")]
fn with_public_key(key: Key, algorithm: Algorithm, text: Option<&str>) -> Result<Key, EntryError> {
    use base64::Engine as _;
    let Some(text) = text else {
        return Ok(key);
    };
    let Some(jose) = crate::jose::JoseAlgorithm::of(algorithm) else {
        return Ok(key);
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| EntryError::PublicKey(crate::error::SecretError::InvalidBase64))?;
    let public = crate::jose::PublicKey::from_bytes(jose, &bytes).map_err(EntryError::PublicKey)?;
    Ok(Key {
        pair: Some(super::pair::KeyPair::public(public)),
        ..key
    })
}
