//! Errors about keyrings: their sources, their JSON, their entries.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use super::SecretError;
use super::scrub::{ValueShape, plain_field_names, without_string_values};

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
        /// What went wrong.
        reason: StoreProblem,
    },
    /// A source's configuration cannot work (a bad name or URL, half a TLS setup); nothing was
    /// tried.
    #[error("{store}: {problem}")]
    Config {
        /// The source, as far as it is known.
        store: String,
        /// What is wrong.
        problem: ConfigProblem,
    },
    /// The store could not do what was asked besides reading the keyring — write it, read
    /// the nodes' reports — and said why; nothing changed.
    #[error("cannot {action} at {store}: {reason}")]
    StoreFailed {
        /// The store and where in it, e.g. `etcd /payments/keyring`.
        store: String,
        /// What was being done.
        action: StoreAction,
        /// What went wrong.
        reason: StoreProblem,
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
    /// Key pairs remain, but none verifies now: the public keyring verify-only services load
    /// would verify nothing. Refused by a rotation that would cause it (add a new key pair
    /// first) and by writing such a keyring's public keyring.
    #[error(
        "no key pair would verify any more: the public keyring would verify nothing (add a new key pair first)"
    )]
    NoUsableKeyPair,
    /// A keyring read as a public keyring holds a secret (an HMAC key or a private key):
    /// refused, so a verify-only service never holds what mints.
    #[error("{key}: a public keyring holds no secret, and this key has one")]
    SecretInPublicKeyring {
        /// The first key with a secret.
        key: String,
    },
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

/// Why a store could not answer ([`KeyringError::Unavailable`],
/// [`KeyringError::StoreFailed`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreProblem {
    /// There is no keyring at the key (yet).
    #[error("the key does not exist")]
    Missing,
    /// The value is longer than a keyring may be.
    #[error("the value is over the limit of {max} bytes")]
    TooLarge {
        /// The limit, in bytes.
        max: usize,
    },
    /// The value is not UTF-8 text.
    #[error("the value is not UTF-8 text")]
    NotUtf8,
    /// No answer from any endpoint within the source's timeout.
    #[error("no answer within {within:?}")]
    NoAnswer {
        /// The timeout.
        within: std::time::Duration,
    },
    /// The source's own background runtime has stopped (the process is shutting down).
    #[error("its runtime stopped")]
    Stopped,
    /// A thread or runtime the source needs could not start.
    #[error("cannot start {what}: {error}")]
    CannotStart {
        /// What: `watching`, `its runtime`.
        what: &'static str,
        /// The operating system's error.
        error: String,
    },
    /// What the store (or its client library) said, as it said it: a refusal of credentials
    /// or permissions, a network error, a leader change.
    #[error("{0}")]
    Said(String),
    /// An HTTP source answered with a status other than 200 (or 304 to a conditional
    /// request).
    #[error("it answered HTTP {0}")]
    HttpStatus(u16),
    /// A JWKS source's document is not a JWKS: not JSON, no `keys` array (an HTML error page,
    /// say).
    #[error("the document is not a JWKS ({0})")]
    NotJwks(&'static str),
    /// A JWKS whose every key was refused; each is named with why.
    #[error("no key of the JWKS is usable: {}", refused.join("; "))]
    NoUsableJwk {
        /// Each refused key and why.
        refused: Vec<String>,
    },
}

/// What is wrong with a source's configuration ([`KeyringError::Config`]).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigProblem {
    /// A keyring name outside `[A-Za-z0-9_.-]+`.
    #[error("the name must be 1 or more of A-Z a-z 0-9 _ . -")]
    BadName,
    /// A node id outside `[A-Za-z0-9_.-]{1,128}`.
    #[error("a node id must be 1 to 128 of A-Z a-z 0-9 _ . -")]
    BadNodeId,
    /// No endpoint to connect to.
    #[error("no endpoints")]
    NoEndpoints,
    /// Not of the form `etcd://HOST:PORT[,HOST:PORT…]/NAME[/public]`.
    #[error("expected etcd://HOST:PORT[,HOST:PORT…]/NAME or …/NAME/public")]
    BadUrl,
    /// A JWKS URL that is neither `https://` nor `http://` on a loopback address.
    #[error("a JWKS URL must be https:// (or http:// to 127.0.0.1, [::1] or localhost)")]
    InsecureUrl,
    /// A write to the public keyring, which is written only with its signing keyring.
    #[error(
        "the public keyring is written together with its signing keyring: write etcd://…/NAME instead"
    )]
    PublicRingIsDerived,
    /// A file named by an environment variable cannot be read.
    #[error("{var}: cannot read {}: {error}", path.display())]
    UnreadableFile {
        /// The variable.
        var: &'static str,
        /// The file it names.
        path: PathBuf,
        /// The operating system's error.
        error: Arc<std::io::Error>,
    },
    /// A client certificate without its key, or a key without its certificate.
    #[error("ETCDCTL_CERT and ETCDCTL_KEY go together: set both or neither")]
    CertWithoutKey,
    /// A client certificate without the CA that signed the server's.
    #[error("ETCDCTL_CERT needs ETCDCTL_CACERT, the CA that signed etcd's certificate")]
    CertWithoutCa,
    /// A user name without a password.
    #[error("ETCDCTL_USER names no password: write name:password or set ETCDCTL_PASSWORD")]
    UserWithoutPassword,
    /// An environment variable that is not UTF-8.
    #[error("{0} is not UTF-8")]
    NotUtf8(&'static str),
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
        "unknown field {0} (expected id, algorithm, secret, public_key, activates_at, expires_at, disabled)"
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
    /// A public key's id outside 1 to 128 printable ASCII characters.
    #[error("field \"id\" of a public key must be 1 to 128 printable ASCII characters (it is {0})")]
    InvalidPublicKeyId(
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
    /// An algorithm name other than HS256, HS384, HS512, EdDSA, ES256.
    #[error("field \"algorithm\" must be HS256, HS384, HS512, EdDSA or ES256 (it is {0})")]
    UnknownAlgorithm(
        /// What the value looked like.
        ValueShape,
    ),
    /// A public-key algorithm (`EdDSA`, `ES256`) in a build without the `jose` feature.
    #[error("algorithm {0} needs tokenring's `jose` feature, which this build lacks")]
    AlgorithmNotBuilt(crate::Algorithm),
    /// A field the key's algorithm does not use (`public_key` on an HMAC key).
    #[error("field {field:?} is not used by {algorithm} keys")]
    NotForAlgorithm {
        /// The field.
        field: &'static str,
        /// The key's algorithm.
        algorithm: crate::Algorithm,
    },
    /// The public key is not base64 of a key of the entry's curve.
    #[error("field \"public_key\" is refused: {0}")]
    PublicKey(SecretError),
    /// The public key is not the private key's, or not of the entry's algorithm.
    #[error("field \"public_key\" is not the public key of this entry's private key and algorithm")]
    PublicKeyMismatch,
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
