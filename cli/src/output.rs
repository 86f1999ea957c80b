//! What a command says: its one-line failure and its standard output.

use std::fmt;

use tokenring::KeyringError;
use tokenring::rotation::RotationError;

/// Why a command failed; printed as one line, exit status 1.
#[derive(Debug)]
pub(crate) struct Failure(
    String,
    #[cfg_attr(not(feature = "etcd"), allow(dead_code))] Kind,
);

/// What a caller may do about a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Only etcd writes conflict.
#[cfg_attr(not(feature = "etcd"), allow(dead_code))]
pub(crate) enum Kind {
    /// Nothing but report it.
    Final,
    /// A compare-and-swap write lost to another writer: nothing was written.
    Conflict,
}

impl Failure {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into(), Kind::Final)
    }

    /// A lost compare-and-swap: `error` said as it is, marked so the write can be redone.
    #[cfg(feature = "etcd")]
    pub(crate) fn conflict(error: impl std::fmt::Display) -> Self {
        Self(error.to_string(), Kind::Conflict)
    }

    #[cfg(feature = "etcd")]
    pub(crate) fn is_conflict(&self) -> bool {
        self.1 == Kind::Conflict
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the source error looked like.
        f.write_str(&self.0.replace('\n', " "))
    }
}

impl<E: std::error::Error> From<E> for Failure {
    fn from(err: E) -> Self {
        Self(err.to_string(), Kind::Final)
    }
}

/// Writes to stdout, turning a closed pipe into an error rather than a panic.
pub(crate) fn out(text: impl fmt::Display) -> Result<(), Failure> {
    use std::io::Write as _;
    writeln!(std::io::stdout().lock(), "{text}")
        .map_err(|e| Failure::new(format!("cannot write to stdout: {e}")))
}

/// A refused rotation, as the CLI says it: nothing was written.
pub(crate) fn refused(error: RotationError) -> Failure {
    match error {
        unknown @ RotationError::UnknownKey { .. } => Failure::new(unknown.to_string()),
        RotationError::Invalid(err @ KeyringError::NoUsableKey) => Failure::new(format!(
            "refused, the file is unchanged: {err}; add a new key first"
        )),
        other => Failure::new(format!("refused, the file is unchanged: {other}")),
    }
}
