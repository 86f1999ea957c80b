//! Where a keyring lives: a file, or (feature `etcd`) `etcd://HOST:PORT[,HOST:PORT…]/NAME`,
//! the etcd key `/NAME/keyring`. Every command that takes a keyring takes either, and edits
//! either safely: a file under a lock with an atomic rename, etcd with a compare-and-swap on
//! the key's revision.

use std::fmt;
use std::path::PathBuf;

use tokenring::Keyring;

use crate::{Failure, files};

/// A keyring's address, as given on the command line.
#[derive(Clone, Debug)]
pub(crate) enum Ring {
    File(PathBuf),
    #[cfg(feature = "etcd")]
    Etcd(String),
}

/// The `RING` argument of every keyring command, written once.
#[derive(clap::Args)]
pub(crate) struct RingArg {
    /// The keyring: a file, or etcd://HOST:PORT[,HOST:PORT…]/NAME.
    #[arg(value_name = "RING", value_parser = parse_ring)]
    pub(crate) ring: Ring,
}

/// Parses a `RING` argument: `etcd://…` or a file path.
pub(crate) fn parse_ring(text: &str) -> Result<Ring, String> {
    if text.starts_with("etcd://") {
        #[cfg(feature = "etcd")]
        {
            tokenring::source::EtcdSourceBuilder::from_url(text)
                .and_then(|source| source.check())
                .map_err(|e| e.to_string())?;
            return Ok(Ring::Etcd(text.to_owned()));
        }
        #[cfg(not(feature = "etcd"))]
        return Err(
            "this tokenring was built without etcd support (cargo install --path cli --features etcd)"
                .to_owned(),
        );
    }
    Ok(Ring::File(PathBuf::from(text)))
}

impl fmt::Display for Ring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => path.display().fmt(f),
            #[cfg(feature = "etcd")]
            Self::Etcd(url) => f.write_str(url),
        }
    }
}

impl Ring {
    /// Loads and validates the keyring, warning as for files (exposure, demo keyrings).
    pub(crate) fn load(&self) -> Result<Keyring, Failure> {
        match self {
            Self::File(path) => files::load(path),
            #[cfg(feature = "etcd")]
            Self::Etcd(_) => {
                let (keyring, _) = self.etcd()?.read(clock())?.ok_or_else(|| {
                    Failure::new(format!(
                        "{self} has no keyring yet; create one with: tokenring keyring init {self}"
                    ))
                })?;
                Ok(keyring)
            }
        }
    }

    /// Changes the keyring: `change` gets it as read and returns the new one (`None`: leave
    /// it) and what to report. A file is edited under its lock; an etcd keyring is written
    /// only if nobody wrote it since it was read.
    pub(crate) fn edit<T>(
        &self,
        change: impl FnOnce(&Keyring) -> Result<(Option<Keyring>, T), Failure>,
    ) -> Result<T, Failure> {
        match self {
            Self::File(path) => files::edit(path, change),
            #[cfg(feature = "etcd")]
            Self::Etcd(_) => {
                let source = self.writable_etcd()?;
                let Some((keyring, revision)) = source.read(clock())? else {
                    return Err(Failure::new(format!(
                        "{self} has no keyring yet; create one with: tokenring keyring init {self}"
                    )));
                };
                let (updated, report) = change(&keyring)?;
                if let Some(updated) = updated {
                    source
                        .store(&updated, Some(revision))
                        .map_err(|error| match error {
                            conflict @ tokenring::KeyringError::Conflict { .. } => {
                                Failure::conflict(conflict)
                            }
                            other => other.into(),
                        })?;
                }
                Ok(report)
            }
        }
    }

    /// As [`Ring::edit`], for a change that is right on whatever the keyring is now (revoke,
    /// retire, prune: they name keys, not a state): an etcd write that lost a race to another
    /// is applied again on the keyring as it then is, up to 10 times, instead of failing.
    /// (`add` keeps failing on a conflict: two operators adding keys at once should know.)
    pub(crate) fn edit_reapplying<T>(
        &self,
        change: impl Fn(&Keyring) -> Result<(Option<Keyring>, T), Failure>,
    ) -> Result<T, Failure> {
        #[cfg(feature = "etcd")]
        if let Self::Etcd(_) = self {
            const TRIES: usize = 10;
            for _ in 1..TRIES {
                match self.edit(&change) {
                    Err(failure) if failure.is_conflict() => {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                    }
                    other => return other,
                }
            }
        }
        self.edit(change)
    }

    /// Writes a new keyring; an existing one only with `force`.
    pub(crate) fn create(&self, keyring: &Keyring, force: bool) -> Result<(), Failure> {
        match self {
            Self::File(path) => {
                files::ensure_absent(path, force)?;
                files::create(path, keyring)
            }
            #[cfg(feature = "etcd")]
            Self::Etcd(_) => {
                let source = self.writable_etcd()?;
                let (existing, had_pairs) = match source.read(clock()) {
                    Ok(found) => (
                        found.as_ref().map(|(_, revision)| *revision),
                        found.is_some_and(|(old, _)| old.has_public_keys()),
                    ),
                    // A broken value may be replaced by force like any other.
                    Err(_) if force => (source.revision()?, false),
                    Err(error) => return Err(error.into()),
                };
                if existing.is_some() && !force {
                    return Err(Failure::new(format!(
                        "{self} already exists (pass --force to replace it and lose its keys)"
                    )));
                }
                // Only a keyring with key pairs rewrites the public one: without any, the
                // verify-only nodes would go on verifying the replaced pairs.
                if had_pairs && !keyring.has_public_keys() {
                    return Err(Failure::new(format!(
                        "{self} holds key pairs, which verify-only nodes hold in {self}/public; \
                         a keyring without key pairs would leave them there: init with \
                         --algorithm EdDSA or ES256, or retire the pairs and prune them first"
                    )));
                }
                source.store(keyring, existing)?;
                Ok(())
            }
        }
    }

    /// The etcd source for an `etcd://` ring that is written: not a public keyring, which is
    /// written only with its signing keyring.
    #[cfg(feature = "etcd")]
    pub(crate) fn writable_etcd(&self) -> Result<tokenring::source::EtcdSource, Failure> {
        let source = self.etcd()?;
        if source.is_public_ring() {
            let signing = self.to_string();
            let signing = signing.strip_suffix("/public").unwrap_or(&signing);
            return Err(Failure::new(format!(
                "{self} is a public keyring, written together with its signing keyring: \
                 change {signing} instead"
            )));
        }
        Ok(source)
    }

    /// The etcd source for an `etcd://` ring.
    #[cfg(feature = "etcd")]
    pub(crate) fn etcd(&self) -> Result<tokenring::source::EtcdSource, Failure> {
        match self {
            // TLS and credentials come from the environment etcdctl reads.
            Self::Etcd(url) => {
                let source = tokenring::source::EtcdSourceBuilder::from_url(url)?
                    .etcdctl_env()?
                    .build()?;
                for exposure in source.exposures() {
                    eprintln!("tokenring: warning: {exposure}");
                }
                Ok(source)
            }
            Self::File(path) => Err(Failure::new(format!(
                "{} is a file; this needs an etcd keyring (etcd://HOST:PORT/NAME)",
                path.display()
            ))),
        }
    }
}

#[cfg(feature = "etcd")]
fn clock() -> std::sync::Arc<dyn tokenring::clock::Clock> {
    std::sync::Arc::new(tokenring::clock::SystemClock)
}
