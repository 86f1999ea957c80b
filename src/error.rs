//! Errors, one enum per layer, each variant something a caller can act on.
//!
//! Messages name the key id, the field and what was expected; they never contain key
//! material.

pub use crate::algorithm::UnknownAlgorithm;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

/// An error kept whole as the source of another (serde_json's, with its line and column; a
/// refused keyring's), shared by `Arc` so the error that carries it stays `Clone`. It
/// dereferences to the error; two are equal when their messages are.
#[derive(Debug)]
pub struct SharedError<E>(Arc<E>);

impl<E> SharedError<E> {
    pub(crate) fn new(error: E) -> Self {
        Self(Arc::new(error))
    }
}

impl<E> Clone for SharedError<E> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<E> std::ops::Deref for SharedError<E> {
    type Target = E;
    fn deref(&self) -> &E {
        &self.0
    }
}

impl<E: fmt::Display> fmt::Display for SharedError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<E: std::error::Error> std::error::Error for SharedError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl<E: fmt::Display> PartialEq for SharedError<E> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.to_string() == other.0.to_string()
    }
}

impl<E: fmt::Display> Eq for SharedError<E> {}

/// Problems with key material itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The text is not standard base64.
    #[error("not valid base64 (standard alphabet, padding optional)")]
    InvalidBase64,
    /// An empty secret, with which anyone can mint tokens (e.g. an unset `SECRET_KEY_BASE`).
    #[error("the secret is empty: anyone could forge tokens with it")]
    Empty,
    /// A master key below the minimum length.
    #[error("secret is {len} bytes; at least {min} are required")]
    TooShort {
        /// Bytes given.
        len: usize,
        /// Bytes required.
        min: usize,
    },
    /// A derived key length HKDF cannot produce.
    #[error("derived key length {len} is outside 1..={max}")]
    InvalidLength {
        /// Length asked for.
        len: usize,
        /// Longest possible.
        max: usize,
    },
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed: {0}")]
    Random(#[source] SharedError<std::io::Error>),
    /// A cipher key of the wrong size (AES-256 takes exactly 32 bytes).
    #[error("secret is {len} bytes; the cipher takes exactly {expected}")]
    WrongLength {
        /// Bytes given.
        len: usize,
        /// Bytes the cipher takes.
        expected: usize,
    },
}

/// Which key entry an error is about: its position in the file and, when it has a valid
/// one, its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRef {
    /// Zero-based position in the `keys` array.
    pub index: usize,
    /// The entry's id, if it is a valid key id (`[A-Za-z0-9_-]{1,32}`). Anything else may be
    /// a secret pasted one line off, so it is never kept.
    pub id: Option<String>,
}

impl KeyRef {
    /// The entry at `index`, with `id` kept only if it is a valid key id.
    pub(crate) fn new(index: usize, id: Option<&str>) -> Self {
        Self {
            index,
            id: id
                .filter(|id| crate::key_id_grammar::is_valid_key_id(id.as_bytes()))
                .map(str::to_owned),
        }
    }
}

impl fmt::Display for KeyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "key {id:?} (keys[{}])", self.index),
            None => write!(f, "key keys[{}]", self.index),
        }
    }
}

/// What a refused value looked like, never the value itself: in a keyring, a value in the
/// wrong place is often a secret pasted one line off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueShape {
    /// Its length in characters.
    pub len: usize,
    /// Whether it looks like key material (long, and all base64 or hex characters).
    pub looks_like_secret: bool,
}

impl ValueShape {
    pub(crate) fn of(value: &str) -> Self {
        let len = value.chars().count();
        let alphabet = |c: char| c.is_ascii_alphanumeric() || "+/=_-".contains(c);
        let looks_like_secret = len >= 16
            && value.chars().all(alphabet)
            && value
                .chars()
                .any(|c| c.is_ascii_digit() || c.is_ascii_uppercase());
        Self {
            len,
            looks_like_secret,
        }
    }
}

impl fmt::Display for ValueShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noun = if self.len == 1 {
            "character"
        } else {
            "characters"
        };
        write!(f, "a value of {} {noun}", self.len)?;
        if self.looks_like_secret {
            f.write_str(" that looks like a secret (not shown)")?;
        }
        Ok(())
    }
}

/// A field name as written if it reads like one (`expire_at`: how a typo is found), otherwise
/// only its shape.
pub(crate) fn field_name(name: &str) -> String {
    let plain = (1..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
        && !ValueShape::of(name).looks_like_secret;
    if plain {
        format!("{name:?}")
    } else {
        format!("(a name that is {})", ValueShape::of(name))
    }
}

/// Caps echoed user input so a hostile file cannot flood a log line.
fn shorten(s: &str) -> String {
    const MAX: usize = 64;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}

/// Why a keyring was refused. A keyring that fails validation never exists, so a running
/// process keeps its last good one.
///
/// Problems with one key entry are [`KeyringError::Entry`], naming the entry; the rest are
/// about the source or the keyring as a whole.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringError {
    /// The keyring file could not be read.
    #[error("cannot read keyring file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: Arc<std::io::Error>,
    },
    /// What is at the keyring's path was refused before parsing.
    #[error("keyring file {}: {problem}", path.display())]
    File {
        /// The path.
        path: PathBuf,
        /// What is wrong with it.
        problem: FileProblem,
    },
    /// The environment variable is unset or not UTF-8.
    #[error("environment variable {name} {problem}")]
    Env {
        /// The variable.
        name: String,
        /// What is wrong with it.
        problem: EnvProblem,
    },
    /// The store holding the keyring could not answer, or has no keyring (etcd down, the
    /// key missing, access denied). The last good keyring stays in force.
    #[error("cannot read the keyring from {store}: {reason}")]
    Unavailable {
        /// The store and where in it, e.g. `etcd /payments/keyring`.
        store: String,
        /// What went wrong, as the store said it.
        reason: String,
    },
    /// The store could not do what was asked besides reading the keyring — write it, read
    /// the nodes' reports — and said why; nothing changed.
    #[error("cannot {action} at {store}: {reason}")]
    StoreFailed {
        /// The store and where in it, e.g. `etcd /payments/keyring`.
        store: String,
        /// What was being done.
        action: StoreAction,
        /// What went wrong, as the store said it.
        reason: String,
    },
    /// A compare-and-swap write found the keyring changed since it was read (another
    /// operator's write): nothing was written.
    #[error(
        "the keyring at {store} changed since it was read; nothing was written (run the command again)"
    )]
    Conflict {
        /// The store and where in it.
        store: String,
    },
    /// The text is not JSON of the keyring's shape (syntax, top-level fields, duplicate
    /// fields). Serde's message names the field; line and column locate it.
    #[error("keyring JSON at line {line}, column {column}: {message}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What was wrong.
        message: String,
    },
    /// The `keys` array is empty.
    #[error("keyring has no keys")]
    NoKeys,
    /// More keys than [`crate::Keyring::MAX_KEYS`].
    #[error("keyring has {count} keys, over the limit of {max}")]
    TooManyKeys {
        /// Keys given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// Every key is expired or disabled: nothing could verify a token.
    #[error("keyring has no key that verifies now (all are expired or disabled)")]
    NoUsableKey,
    /// One key entry is wrong.
    #[error("{key}: {error}")]
    Entry {
        /// The entry.
        key: KeyRef,
        /// What is wrong with it.
        error: EntryError,
    },
    /// [`crate::HotKeyring::reload`] found another reload still running after waiting for
    /// it (a source that hangs, such as a stuck network mount).
    #[error("a reload is already running (since {})", crate::clock::format_rfc3339(*since))]
    ReloadInProgress {
        /// When the running reload started.
        since: SystemTime,
    },
}

/// Why what is at a keyring file's path was refused without parsing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FileProblem {
    /// A directory, a FIFO, a device: not read (a FIFO would block the reader).
    #[error("it is {0}, not a regular file")]
    NotRegular(&'static str),
    /// Longer than the source's cap.
    #[error("it is over the limit of {max} bytes")]
    TooLarge {
        /// The cap, in bytes.
        max: u64,
    },
    /// Empty, or only white space: often a write caught half-way.
    #[error("the file is empty")]
    Empty,
    /// Not UTF-8 text.
    #[error("it is not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 {
        /// Where the first invalid byte is.
        offset: usize,
    },
}

/// What a store was asked to do when it failed ([`KeyringError::StoreFailed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreAction {
    /// Write the keyring.
    WriteKeyring,
    /// Read the nodes' acknowledgements.
    ReadNodeReports,
    /// Create a node's user and role.
    GrantNode,
}

impl std::fmt::Display for StoreAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::WriteKeyring => "write the keyring",
            Self::ReadNodeReports => "read the node reports",
            Self::GrantNode => "grant the node its role",
        })
    }
}

/// Why an environment variable holds no keyring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvProblem {
    /// The variable is not set.
    #[error("is not set")]
    NotSet,
    /// The variable is not UTF-8.
    #[error("is not valid UTF-8")]
    NotUnicode,
}

/// What is wrong with one key entry; [`KeyringError::Entry`] says which entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// A required field is missing.
    #[error("missing field {0:?}")]
    MissingField(&'static str),
    /// A field this format does not define (often a typo).
    #[error(
        "unknown field {0} (expected id, algorithm, secret, activates_at, expires_at, disabled)"
    )]
    UnknownField(
        /// The field as written, quoted, when it reads like a field name; otherwise its
        /// shape (it may be a secret).
        String,
    ),
    /// A field holds the wrong JSON type.
    #[error("field {field:?} must be {expected}")]
    WrongType {
        /// The field.
        field: &'static str,
        /// The type expected.
        expected: &'static str,
    },
    /// An id outside `[A-Za-z0-9_-]{1,32}`.
    #[error("field \"id\" must be 1 to 32 of A-Z a-z 0-9 _ - (it is {0})")]
    InvalidId(
        /// What the id looked like.
        ValueShape,
    ),
    /// Two entries share an id.
    #[error("duplicate id (first used by keys[{first}])")]
    DuplicateId {
        /// Position of the first.
        first: usize,
    },
    /// The secret is not base64, or too short for a master key.
    #[error("field \"secret\" {}", secret_problem(.0))]
    Secret(SecretError),
    /// An algorithm name other than HS256, HS384, HS512.
    #[error("field \"algorithm\" must be HS256, HS384 or HS512 (it is {0})")]
    UnknownAlgorithm(
        /// What the value looked like.
        ValueShape,
    ),
    /// A timestamp that is not RFC 3339 UTC (`2026-12-01T00:00:00Z`).
    #[error(
        "field {field:?} must be an RFC 3339 UTC time like 2026-12-01T00:00:00Z (it is {found})"
    )]
    InvalidTimestamp {
        /// `activates_at` or `expires_at`.
        field: &'static str,
        /// What the value looked like.
        found: ValueShape,
    },
    /// A time outside 1970-01-01T00:00:00Z ..= 9999-12-31T23:59:59Z (keys built in code).
    #[error("field {0:?} is outside 1970 to 9999")]
    TimeOutOfRange(
        /// `activates_at` or `expires_at`.
        &'static str,
    ),
    /// `expires_at` is not after `activates_at`: the key could never be used.
    #[error("field \"expires_at\" must be later than \"activates_at\"")]
    ExpiresBeforeActivation,
}

/// The wording keyring errors have always used for a bad secret.
fn secret_problem(error: &SecretError) -> String {
    match error {
        SecretError::InvalidBase64 => "is not valid base64 (standard alphabet)".to_owned(),
        SecretError::TooShort { len, min } => {
            format!("is {len} bytes; at least {min} are required")
        }
        other => format!("is refused: {other}"),
    }
}

impl KeyringError {
    pub(crate) fn json(err: &serde_json::Error) -> Self {
        // serde_json appends " at line L column C"; we carry those as fields instead.
        if err.is_eof() {
            return Self::Json {
                line: err.line(),
                column: err.column(),
                message: "the JSON ends early (a truncated file?)".to_owned(),
            };
        }
        let message = err.to_string();
        let message = match message.rfind(" at line ") {
            Some(cut) => &message[..cut],
            None => &message,
        };
        Self::Json {
            line: err.line(),
            column: err.column(),
            message: plain_field_names(&without_string_values(message)),
        }
    }

    /// The key entry this error is about, if it is about one.
    pub fn key(&self) -> Option<&KeyRef> {
        match self {
            Self::Entry { key, .. } => Some(key),
            _ => None,
        }
    }

    /// An [`KeyringError::Unavailable`] met while doing `action` (not reading the keyring)
    /// said as such; any other error as it is.
    #[cfg(feature = "etcd")]
    pub(crate) fn while_doing(self, action: StoreAction) -> Self {
        match self {
            Self::Unavailable { store, reason } => Self::StoreFailed {
                store,
                action,
                reason,
            },
            other => other,
        }
    }

    pub(crate) fn entry(key: KeyRef, error: EntryError) -> Self {
        Self::Entry { key, error }
    }
}

/// Serde quotes the offending value (`invalid type: string "…", expected …`); in a keyring
/// that value may be a secret pasted in the wrong place, so it is dropped. Field names, which
/// serde quotes with backticks, stay: they are how a typo is found.
fn without_string_values(message: &str) -> String {
    const MARK: &str = "string \"";
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(MARK) {
        out.push_str(&rest[..start]);
        out.push_str("string");
        // Skip to the closing quote; serde escapes quotes inside the value as \".
        let value = &rest[start + MARK.len()..];
        let mut escaped = false;
        let end = value
            .char_indices()
            .find(|&(_, c)| {
                let closes = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                closes
            })
            .map_or(value.len(), |(i, _)| i + 1);
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

/// Serde quotes field names with backticks (`` unknown field `dmeo` ``); a name that does not
/// read like one may be a secret pasted as a key, so only its shape is kept.
fn plain_field_names(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut parts = message.split('`');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    let mut inside = true;
    for part in parts {
        if inside && !field_name(part).starts_with('"') {
            out.push_str(&field_name(part));
        } else if inside {
            out.push('`');
            out.push_str(part);
            out.push('`');
        } else {
            out.push_str(part);
        }
        inside = !inside;
    }
    out
}

/// What is wrong with a token's shape. Reported before any key is used, or — for the
/// payload — after the MAC held (which only a holder of the key can cause).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Malformed {
    /// It starts or ends with whitespace (a space, a tab, a newline): a token never does, so
    /// it was copied or read with something around it.
    Whitespace,
    /// It does not start with `v1.`.
    Version,
    /// It is not `v1.KID.PAYLOAD.TAG`: a dot is missing.
    Structure,
    /// The payload, between the key id and the last dot, is empty.
    EmptyPayload,
    /// The tag, after the last dot, is empty.
    EmptyTag,
    /// The key id is not 1 to 32 of `[A-Za-z0-9_-]`.
    KeyId,
    /// The tag is not base64url of the key's tag length.
    Tag,
    /// The payload is not base64url of a JSON envelope.
    Payload,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Whitespace => {
                "whitespace before or after the token (a space, tab or newline copied with it)"
            }
            Self::Version => "not a tokenring v1 token (expected it to start with \"v1.\")",
            Self::Structure => "expected four dot-separated parts: v1.KEY_ID.PAYLOAD.TAG",
            Self::EmptyPayload => "the payload (between the key id and the last dot) is empty",
            Self::EmptyTag => "the signature (after the last dot) is empty",
            Self::KeyId => "key id must be 1 to 32 of A-Z a-z 0-9 _ -",
            Self::Tag => "signature is not base64url of the right length",
            Self::Payload => "payload is not a base64url JSON envelope",
        })
    }
}

/// Why a token was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Longer than the verifier's cap; refused before any other work.
    #[error("token is {len} bytes, over the limit of {max}")]
    TooLarge {
        /// Token length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not a well-formed token.
    #[error("malformed token: {0}")]
    Malformed(Malformed),
    /// No key in the keyring has this id (never existed, or pruned).
    #[error("unknown key {key_id:?}")]
    UnknownKey {
        /// The id the token named.
        key_id: String,
    },
    /// The MAC does not match: tampered, or signed for another salt or keyring.
    #[error("bad signature (key {key_id:?})")]
    BadSignature {
        /// The key the token named.
        key_id: String,
    },
    /// The key was revoked (`disabled`).
    #[error("key {key_id:?} is revoked")]
    KeyDisabled {
        /// The revoked key's id.
        key_id: String,
    },
    /// The key is past its `expires_at`.
    #[error("key {key_id:?} expired at {}", crate::clock::format_rfc3339(*at))]
    KeyExpired {
        /// The expired key's id.
        key_id: String,
        /// When it expired.
        at: SystemTime,
    },
    /// The token is past its expiry (plus the verifier's leeway).
    #[error("token expired at {}", crate::clock::format_rfc3339(*at))]
    Expired {
        /// When it expired.
        at: SystemTime,
    },
    /// The token was minted for another purpose (or for none, or only for one).
    #[error("purpose mismatch: token is for {}, expected {}", describe_purpose(found.as_deref()), describe_purpose(expected.as_deref()))]
    PurposeMismatch {
        /// The purpose the caller asked for.
        expected: Option<String>,
        /// The purpose in the token.
        found: Option<String>,
    },
    /// The signature holds but the value does not decode as the requested type. The message
    /// names where, never what: serde's own message quotes the value, so it is not this
    /// error's `source()`; the field holds it for an explicit look while debugging.
    #[error(
        "signature valid, but the value does not decode as the requested type (line {}, column {})",
        .0.line(),
        .0.column()
    )]
    InvalidValue(SharedError<serde_json::Error>),
}

impl VerifyError {
    /// Every [`VerifyError::reason`] code, in a stable order.
    pub const REASONS: [&'static str; 9] = [
        "too_large",
        "malformed",
        "unknown_key",
        "bad_signature",
        "key_revoked",
        "key_expired",
        "expired",
        "purpose_mismatch",
        "invalid_value",
    ];

    /// A stable, machine-readable code for why the token was rejected — for API error
    /// bodies, metric labels and logs. It never carries the token or a key's internals.
    pub fn reason(&self) -> &'static str {
        Self::REASONS[self.reason_index()]
    }

    /// The position of [`VerifyError::reason`] in [`VerifyError::REASONS`].
    pub(crate) fn reason_index(&self) -> usize {
        match self {
            Self::TooLarge { .. } => 0,
            Self::Malformed(_) => 1,
            Self::UnknownKey { .. } => 2,
            Self::BadSignature { .. } => 3,
            Self::KeyDisabled { .. } => 4,
            Self::KeyExpired { .. } => 5,
            Self::Expired { .. } => 6,
            Self::PurposeMismatch { .. } => 7,
            Self::InvalidValue(_) => 8,
        }
    }
}

/// A purpose in a message: quoted and capped, or "no purpose". Shared by both formats.
pub(crate) fn describe_purpose(purpose: Option<&str>) -> String {
    match purpose {
        Some(p) => format!("{:?}", shorten(p)),
        None => "no purpose".to_owned(),
    }
}

/// Why a token could not be minted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// No key is active now: every key is pending, expired or disabled.
    #[error("no key is active now, so none can sign (keys that are pending still verify)")]
    NoSigningKey,
    /// The value could not be serialised as JSON.
    #[error("value cannot be serialised as JSON: {0}")]
    Serialize(#[source] SharedError<serde_json::Error>),
    /// The expiry is before 1970 or too far in the future to represent.
    #[error("expiry is out of range")]
    InvalidExpiry,
    /// The token would exceed the verifier's size cap, so it could never verify.
    #[error("token would be {len} bytes, over the limit of {max}")]
    TooLarge {
        /// The token's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The operating system's random number generator failed (an encryption's IV).
    #[error("the system random number generator failed: {0}")]
    Random(#[source] SharedError<std::io::Error>),
}
