//! Keyrings on etcd (feature `etcd`): the keyring JSON at `/NAME/keyring`, loaded with its
//! modification revision and watched from it.
//!
//! The core stays runtime-free: the source runs its own tokio runtime (one worker thread,
//! `tokenring-etcd`) and callers wait on a channel, so loading from inside another runtime
//! (an axum handler calling `reload()`) neither panics nor blocks that runtime's scheduler
//! for longer than the source's timeout. Requests stick to one endpoint while it answers and
//! move to the next after a failure; the watch reconnects with backoff after a leader
//! change, a dropped stream or a network error, resumes from the revision after the last one
//! it saw, and when that revision was compacted away announces a change anyway, so a full
//! read catches up: no update is missed. Acknowledgements are written by one task that
//! retries until each lands.

mod acks;
mod client;
mod config;
mod env;
mod watch;

pub use acks::{NodeReport, ReportProblem};
pub use config::{EtcdSourceBuilder, Exposure};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use etcd_client::Client;

use super::{Announcement, Changes, KeyringSource, Versioned};
use crate::clock::Clock;
use crate::error::{KeyringError, StoreAction, StoreProblem};
use crate::keyring::Keyring;
use crate::secret::Secret;
use acks::Ack;
use client::Attempt;
use watch::{AbortOnDrop, watch};

/// A keyring stored in etcd under `/NAME/keyring`; hot-reloads by watching the key.
///
/// ```no_run
/// use tokenring::HotKeyring;
/// use tokenring::source::EtcdSource;
///
/// let source = EtcdSource::from_url("etcd://10.0.0.1:2379,10.0.0.2:2379/payments")?;
/// let keyring = HotKeyring::builder(source).build()?; // follows every change to /payments/keyring
/// # Ok::<(), tokenring::KeyringError>(())
/// ```
pub struct EtcdSource {
    inner: Arc<Inner>,
    // Shut down without blocking when the source is dropped (possibly inside another
    // runtime, where a blocking shutdown would panic).
    runtime: Option<tokio::runtime::Runtime>,
}

struct Inner {
    name: String,
    // `/NAME/keyring`, or `/NAME/public` for the public keyring.
    key: String,
    public: bool,
    // As given: `host:port` (the scheme follows the TLS options) or URLs.
    endpoints: Vec<String>,
    user: Option<(String, Secret)>,
    tls: Option<etcd_client::TlsOptions>,
    // Whether `tls` carries a client certificate (a credential of its own).
    client_cert: bool,
    // Whether the first good load has said this source's exposures (once per source).
    exposures_said: AtomicBool,
    timeout: Duration,
    connection: tokio::sync::Mutex<Connection>,
    // The modification revision of the value last loaded: where a watch resumes.
    last_revision: AtomicI64,
    ack: Option<Ack>,
}

/// The endpoint in use and its client. Requests stick to one member while it answers and
/// move to the next after a failure: etcd-client's own balancing sends some requests to a
/// member that is down and fails them (etcdv3/etcd-client#39) instead of trying another.
#[derive(Default)]
struct Connection {
    endpoint: usize,
    client: Option<Client>,
}

/// Which endpoint a client talks to, so that a failure moves on from that one only (several
/// tasks failing at once on one dead member move on once, not once each).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Endpoint(usize);

/// The longest keyring value read, as for files.
const MAX_VALUE_LEN: usize = Keyring::MAX_FILE_LEN as usize;

impl EtcdSource {
    /// Starts configuring the keyring `NAME` on the etcd cluster at `endpoints` (`host:port`
    /// or URLs). Nothing is checked or connected until [`EtcdSourceBuilder::build`].
    pub fn builder(
        endpoints: impl IntoIterator<Item = impl Into<String>>,
        name: &str,
    ) -> EtcdSourceBuilder {
        EtcdSourceBuilder::new(endpoints.into_iter().map(Into::into).collect(), name)
    }

    /// The keyring `NAME` on the etcd cluster at `endpoints`, with no credentials, TLS or
    /// acknowledgements: [`EtcdSource::builder`] and `build()`.
    ///
    /// # Errors
    ///
    /// As [`EtcdSourceBuilder::build`].
    pub fn new(
        endpoints: impl IntoIterator<Item = impl Into<String>>,
        name: &str,
    ) -> Result<Self, KeyringError> {
        Self::builder(endpoints, name).build()
    }

    /// `etcd://HOST:PORT[,HOST:PORT…]/NAME`, the form the CLI and the example server take,
    /// with no credentials: [`EtcdSourceBuilder::from_url`] and `build()`.
    ///
    /// # Errors
    ///
    /// As [`EtcdSourceBuilder::from_url`] and [`EtcdSourceBuilder::build`].
    pub fn from_url(url: &str) -> Result<Self, KeyringError> {
        EtcdSourceBuilder::from_url(url)?.build()
    }

    /// Reads the keyring (validated against `clock`) and the revision to write it back at
    /// with [`EtcdSource::store`]; `None` when the key does not exist yet.
    ///
    /// # Errors
    ///
    /// [`KeyringError::Unavailable`] if etcd cannot be read; the keyring's own errors.
    pub fn read(&self, clock: Arc<dyn Clock>) -> Result<Option<(Keyring, i64)>, KeyringError> {
        match self.run(Inner::fetch)? {
            Some((text, revision)) => Ok(Some((self.parse(&text, clock)?, revision))),
            None => Ok(None),
        }
    }

    /// The keyring in `text`; on the public keyring, only one that holds no secret.
    fn parse(&self, text: &str, clock: Arc<dyn Clock>) -> Result<Keyring, KeyringError> {
        let keyring = Keyring::from_json_with_clock(text, clock)?;
        if self.inner.public
            && let Some(key) = keyring.keys().iter().find(|key| key.secret().is_some())
        {
            return Err(KeyringError::SecretInPublicKeyring {
                key: key.id().to_owned(),
            });
        }
        Ok(keyring)
    }

    /// The modification revision of the value at the key, whatever it holds (a keyring or
    /// not), to overwrite it with [`EtcdSource::store`]; `None` when the key does not exist.
    ///
    /// # Errors
    ///
    /// [`KeyringError::Unavailable`] if etcd cannot be read.
    pub fn revision(&self) -> Result<Option<i64>, KeyringError> {
        self.run(|inner, mut client| async move {
            let options = etcd_client::GetOptions::new().with_keys_only();
            let response = client.get(inner.key.as_str(), Some(options)).await?;
            Ok(response
                .kvs()
                .first()
                .map(etcd_client::KeyValue::mod_revision))
        })
    }

    /// Writes `keyring` if the key is still at `expected` (its modification revision as
    /// [`EtcdSource::read`] returned it; `None`: only if the key does not exist yet) — a
    /// compare-and-swap, so two operators at once never lose an update. A keyring holding
    /// key pairs has its public keyring ([`Keyring::public`]) written to `/NAME/public` in
    /// the same transaction: verify-only nodes never hold a public keyring the signing one
    /// has moved past, and both carry the same revision, which is what nodes acknowledge.
    /// (A keyring without key pairs leaves `/NAME/public` alone: through [`crate::rotation`]
    /// its pairs can only have left by expiring or being revoked, so the copy there verifies
    /// none of them; a caller replacing a keyring wholesale checks that itself, as the CLI's
    /// `keyring init --force` does.) The new revision.
    ///
    /// # Errors
    ///
    /// [`KeyringError::Conflict`] if the key changed meanwhile (nothing was written);
    /// [`KeyringError::Unavailable`] if etcd cannot be written;
    /// [`KeyringError::NoUsableKeyPair`] if the keyring's key pairs verify nothing;
    /// [`KeyringError::Config`] ([`ConfigProblem::PublicRingIsDerived`]) on a source on the
    /// public keyring.
    ///
    /// [`ConfigProblem::PublicRingIsDerived`]: crate::error::ConfigProblem::PublicRingIsDerived
    pub fn store(&self, keyring: &Keyring, expected: Option<i64>) -> Result<i64, KeyringError> {
        use etcd_client::{Compare, CompareOp, Txn, TxnOp};
        if self.inner.public {
            return Err(KeyringError::Config {
                store: format!("etcd {}", self.inner.key),
                problem: crate::error::ConfigProblem::PublicRingIsDerived,
            });
        }
        let public = public_ring_json(keyring)?;
        let text = keyring.to_json();
        let value = text.as_bytes().to_vec();
        self.run(move |inner, mut client| {
            let (value, public) = (value.clone(), public.clone());
            async move {
                let key = inner.key.clone();
                let mut writes = vec![TxnOp::put(key.as_str(), value.clone(), None)];
                if let Some(public) = public {
                    writes.push(TxnOp::put(inner.public_key(), public, None));
                }
                let guard = match expected {
                    Some(revision) => {
                        Compare::mod_revision(key.as_str(), CompareOp::Equal, revision)
                    }
                    None => Compare::create_revision(key.as_str(), CompareOp::Equal, 0),
                };
                let txn = Txn::new()
                    .when([guard])
                    .and_then(writes)
                    .or_else([TxnOp::get(key.as_str(), None)]);
                let response = client.txn(txn).await?;
                if response.succeeded() {
                    return Ok(response
                        .header()
                        .map_or(0, etcd_client::ResponseHeader::revision));
                }
                // A transaction retried after its answer was lost finds the revision moved
                // by its own first attempt: the value is then exactly ours, and it landed.
                let current = response.op_responses().into_iter().find_map(|op| match op {
                    etcd_client::TxnOpResponse::Get(get) => get.kvs().first().cloned(),
                    _ => None,
                });
                match current {
                    Some(kv) if kv.value() == value.as_slice() => Ok(kv.mod_revision()),
                    _ => Err(Attempt::Done(KeyringError::Conflict {
                        store: format!("etcd {}", inner.key),
                    })),
                }
            }
        })
        .map_err(|e| e.while_doing(StoreAction::WriteKeyring))
    }

    /// The keyring's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The etcd key this source reads: `/NAME/keyring`, or `/NAME/public` on the public
    /// keyring.
    pub fn key(&self) -> &str {
        &self.inner.key
    }

    /// Whether this source reads the public keyring ([`EtcdSourceBuilder::public_ring`]).
    pub fn is_public_ring(&self) -> bool {
        self.inner.public
    }
}

impl Inner {
    /// `/NAME/public`: where the public keyring is written.
    pub(super) fn public_key(&self) -> String {
        format!("/{}/public", self.name)
    }
}

/// The public keyring to write beside `keyring`, as JSON (no secret in it): `None` when it
/// holds no key pair.
#[cfg(feature = "jose")]
fn public_ring_json(keyring: &Keyring) -> Result<Option<Vec<u8>>, KeyringError> {
    if !keyring.has_public_keys() {
        return Ok(None);
    }
    match keyring.public() {
        Ok(public) => Ok(Some(public.to_json().as_bytes().to_vec())),
        Err(KeyringError::NoUsableKey) => Err(KeyringError::NoUsableKeyPair),
        Err(error) => Err(error),
    }
}

/// Without `jose` a keyring holds no key pair (they are refused when read).
#[cfg(not(feature = "jose"))]
#[allow(clippy::unnecessary_wraps)]
fn public_ring_json(_: &Keyring) -> Result<Option<Vec<u8>>, KeyringError> {
    Ok(None)
}

impl KeyringSource for EtcdSource {
    fn load(&self, clock: Arc<dyn Clock>) -> Result<Keyring, KeyringError> {
        Ok(self.load_revision(clock)?.keyring)
    }

    fn load_revision(&self, clock: Arc<dyn Clock>) -> Result<Versioned, KeyringError> {
        let fetched = self
            .run(Inner::fetch)
            .and_then(|value| value.ok_or_else(|| self.inner.unavailable(StoreProblem::Missing)));
        let loaded = fetched.and_then(|(text, revision)| {
            // Refused exactly like a bad file, and the watch resumes after what was read
            // even when it was refused: the next change is what matters.
            self.inner
                .last_revision
                .fetch_max(revision, Ordering::Relaxed);
            if !self.inner.exposures_said.swap(true, Ordering::Relaxed) {
                for exposure in self.exposures() {
                    tracing::warn!(source = %self.describe(), "{exposure}");
                }
            }
            let keyring = self.parse(&text, clock)?;
            Ok(Versioned::new(keyring, Some(revision.to_string())))
        });
        self.acknowledge(&loaded);
        loaded
    }

    fn describe(&self) -> String {
        format!("etcd {} at {}", self.inner.key, self.inner.urls().join(","))
    }

    fn announce(&self, changes: Changes) -> Result<Option<Announcement>, KeyringError> {
        let runtime = self
            .runtime
            .as_ref()
            .expect("the runtime lives as long as the source");
        let task = runtime.spawn(watch(Arc::clone(&self.inner), changes));
        Ok(Some(Announcement::new(AbortOnDrop(task.abort_handle()))))
    }
}

impl Drop for EtcdSource {
    fn drop(&mut self) {
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        // A node that stops cleanly leaves the fleet at once rather than after its TTL.
        if self.inner.ack.is_some() {
            let inner = Arc::clone(&self.inner);
            let (tx, rx) = std::sync::mpsc::sync_channel(1);
            runtime.spawn(async move {
                if let Some(ack) = &inner.ack {
                    let lease = ack.lease().take();
                    if let (Some(lease), Ok((mut client, _))) = (lease, inner.client().await) {
                        let _ = client.lease_revoke(lease).await;
                    }
                }
                let _ = tx.send(());
            });
            let _ = rx.recv_timeout(Duration::from_secs(1));
        }
        runtime.shutdown_background();
    }
}

impl std::fmt::Debug for EtcdSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdSource")
            .field("key", &self.inner.key)
            .field("endpoints", &self.inner.urls())
            .field("user", &self.inner.user.as_ref().map(|(user, _)| user))
            .field("tls", &self.inner.tls.is_some())
            .finish_non_exhaustive()
    }
}
