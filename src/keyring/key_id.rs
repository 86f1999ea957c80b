//! A key id held inline, for handing out on every verification.

use std::fmt;
use std::ops::Deref;

/// The id of the key that verified a token ([`Verified::key_id`](crate::Verified::key_id)).
///
/// Key ids are at most 32 ASCII characters, so the id is copied inline: handing it out costs
/// no allocation and touches no memory shared with other threads (a reference-counted
/// string would write its count, shared by every verifying thread, on every verification).
/// It dereferences to `&str`.
///
/// ```
/// use tokenring::{Key, Keyring, Secret, TokenOptions, Verifier};
///
/// let verifier = Verifier::new(Keyring::new(vec![Key::new("2026-11", Secret::random(32)?)])?, "s");
/// let token = verifier.generate(&1, TokenOptions::new())?;
/// let verified = verifier.verify::<u8>(&token, None)?;
/// assert_eq!(&*verified.key_id, "2026-11");
/// assert_eq!(verified.key_id, "2026-11");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId {
    bytes: [u8; KeyId::MAX_LEN],
    len: u8,
}

impl KeyId {
    /// The longest key id (the grammar is `[A-Za-z0-9_-]{1,32}`).
    pub const MAX_LEN: usize = 32;

    /// The id of a key in a keyring (validated there, so it fits); cut to `MAX_LEN` bytes
    /// otherwise, never a panic.
    pub(crate) fn new(id: &str) -> Self {
        let len = id.len().min(Self::MAX_LEN);
        let mut bytes = [0; Self::MAX_LEN];
        bytes[..len].copy_from_slice(&id.as_bytes()[..len]);
        Self {
            bytes,
            len: len as u8,
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        // Keyring ids are ASCII, so any cut is on a character boundary.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl Deref for KeyId {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for KeyId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for KeyId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for KeyId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// FNV-1a, for the keyring's id index. Ids are at most 32 bytes and the table is built from
/// the keyring alone, so a token cannot choose what collides with what (the flooding SipHash
/// guards against): it can only look an id up, and a lookup costs a handful of byte
/// operations here instead of a SipHash round.
#[derive(Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Default for IdHasher {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The keyring's index from key id to position.
pub(crate) type IdIndex =
    std::collections::HashMap<std::sync::Arc<str>, usize, std::hash::BuildHasherDefault<IdHasher>>;
