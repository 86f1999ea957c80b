//! Errors, one enum per layer, each variant something a caller can act on: key material
//! ([`SecretError`]), keyrings and their sources ([`KeyringError`] and what it nests), tokens
//! ([`SignError`], [`VerifyError`], [`Malformed`]).
//!
//! Messages name the key id, the field and what was expected; they never contain key
//! material, and a refused value is described by its shape ([`ValueShape`]), not shown.

mod keyring;
mod scrub;
mod secret;
pub(crate) mod token;

pub use crate::algorithm::UnknownAlgorithm;
pub use keyring::{
    ConfigProblem, EntryError, EnvProblem, FileProblem, KeyRef, KeyringError, StoreAction,
    StoreProblem,
};
pub use scrub::ValueShape;
pub(crate) use scrub::field_name;
pub use secret::SecretError;
pub use token::{Malformed, SignError, VerifyError};

use std::fmt;
use std::sync::Arc;

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
