//! Fleet acknowledgements: each node's report under its lease, the reporter that keeps it
//! there, reading and judging every node's report, and the per-node etcd grants.

use std::sync::Arc;
use std::sync::PoisonError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use etcd_client::Client;
use zeroize::Zeroizing;

use super::config::check_node_id;
use super::{Endpoint, EtcdSource, Inner};
use crate::error::{KeyringError, StoreAction};
use crate::source::Versioned;

/// What this node reports at `/NAME/nodes/NODE_ID`, under its lease.
pub(super) struct Ack {
    pub(super) node: String,
    pub(super) key: String,
    pub(super) ttl: Duration,
    // The report to keep at `key` (none before the first load); the reporter writes the
    // newest one, retrying until it lands.
    pub(super) report: tokio::sync::watch::Sender<Option<NodeReport>>,
    pub(super) reporting: AtomicBool,
    // The lease the report lives under, revoked when the source is dropped.
    pub(super) lease: std::sync::Mutex<Option<i64>>,
}

impl Ack {
    pub(super) fn new(node: String, key: String, ttl: Duration) -> Self {
        Self {
            node,
            key,
            ttl,
            report: tokio::sync::watch::Sender::new(None),
            reporting: AtomicBool::new(false),
            lease: std::sync::Mutex::new(None),
        }
    }

    pub(super) fn lease(&self) -> std::sync::MutexGuard<'_, Option<i64>> {
        self.lease.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl EtcdSource {
    /// The etcd user and role of node `node_id` of this keyring (the same name):
    /// `tokenring-NAME-node-NODE_ID`.
    pub fn node_user(&self, node_id: &str) -> String {
        format!("tokenring-{}-node-{node_id}", self.inner.name)
    }

    /// Creates, or updates, the etcd role and user of node `node_id` ([`EtcdSource::node_user`]),
    /// the user with `password`: it may read this source's keyring (`/NAME/keyring`, or on a
    /// [public ring](super::EtcdSourceBuilder::public_ring) `/NAME/public`, that key exactly)
    /// and read and write its own report (`/NAME/nodes/NODE_ID`, that key exactly) — nothing
    /// else, so a node cannot write another's report nor touch the keyring, and a node granted
    /// the public keyring cannot read the signing one (a read of it granted earlier is
    /// revoked, and the other way round). Leases need no grant. Run it as a user allowed to
    /// manage etcd's auth (root). The user's name.
    ///
    /// # Errors
    ///
    /// [`KeyringError::StoreFailed`] ([`StoreAction::GrantNode`]) if etcd refuses (no
    /// permission to manage auth, say); [`KeyringError::Config`] for a node id
    /// [`EtcdSourceBuilder::acknowledge_as`](super::EtcdSourceBuilder::acknowledge_as) would
    /// refuse.
    pub fn grant_node(&self, node_id: &str, password: &str) -> Result<String, KeyringError> {
        check_node_id(node_id).map_err(|problem| KeyringError::Config {
            store: format!("etcd {}", self.inner.key),
            problem,
        })?;
        let name = self.node_user(node_id);
        let report = format!("/{}/nodes/{node_id}", self.inner.name);
        let password = Zeroizing::new(password.to_owned());
        let role = name.clone();
        self.run(move |inner, mut client| {
            let (role, report, password) = (role.clone(), report.clone(), password.clone());
            async move {
                use etcd_client::{Permission, PermissionType};
                let exists = |e: &etcd_client::Error| e.to_string().contains("already exists");
                match client.role_add(role.as_str()).await {
                    Err(e) if !exists(&e) => return Err(e.into()),
                    _ => {}
                }
                // Exact keys (no range end): the keyring, and this node's report only.
                client
                    .role_grant_permission(
                        role.as_str(),
                        Permission::new(PermissionType::Read, inner.key.as_str()),
                    )
                    .await?;
                // A role that read the other keyring no longer does: a node moved to the
                // public keyring loses the signing one's secrets.
                let other = match inner.public {
                    true => format!("/{}/keyring", inner.name),
                    false => inner.public_key(),
                };
                match client
                    .role_revoke_permission(role.as_str(), other.as_str(), None)
                    .await
                {
                    Err(e) if !e.to_string().contains("not granted") => return Err(e.into()),
                    _ => {}
                }
                client
                    .role_grant_permission(
                        role.as_str(),
                        Permission::new(PermissionType::Readwrite, report.as_str()),
                    )
                    .await?;
                // etcd's client takes the password as a String (not wiped by it).
                match client
                    .user_add(role.as_str(), password.as_str(), None)
                    .await
                {
                    Err(e) if exists(&e) => {
                        client
                            .user_change_password(role.as_str(), password.as_str())
                            .await?;
                    }
                    Err(e) => return Err(e.into()),
                    Ok(_) => {}
                }
                client.user_grant_role(role.as_str(), role.as_str()).await?;
                Ok(())
            }
        })
        .map_err(|e| e.while_doing(StoreAction::GrantNode))?;
        Ok(name)
    }

    /// The largest node report read as one: a node's report holds its key ids and last
    /// error, a few hundred bytes; one this large is refused by name (it cannot hold the new
    /// key) rather than read.
    pub const MAX_REPORT_BYTES: usize = 16 * 1024;

    /// Every report under `/NAME/nodes/`, in node id order, each judged: the node's name is
    /// the one in its etcd key, never the one its report claims. A report that is not under a
    /// lease, too large, unreadable, names another node, or claims a revision ahead of the
    /// stored keyring's is returned with its [`NodeReport::problem`] set, so promotion waits
    /// for that node and names it — a node that reports nonsense lags, it is never absent.
    /// Reports are read one at a time, so no report, however large, stops the others from
    /// being read.
    ///
    /// # Errors
    ///
    /// [`KeyringError::StoreFailed`] ([`StoreAction::ReadNodeReports`]) if etcd cannot be read.
    pub fn nodes(&self) -> Result<Vec<NodeReport>, KeyringError> {
        self.run(|inner, mut client| async move {
            let prefix = format!("/{}/nodes/", inner.name);
            let keys_only = || etcd_client::GetOptions::new().with_keys_only();
            let listed = client
                .get(prefix.as_str(), Some(keys_only().with_prefix()))
                .await?;
            let stored = client
                .get(inner.key.as_str(), Some(keys_only()))
                .await?
                .kvs()
                .first()
                .map(etcd_client::KeyValue::mod_revision);
            let mut nodes = Vec::with_capacity(listed.kvs().len());
            for listed in listed.kvs() {
                let node = String::from_utf8_lossy(&listed.key()[prefix.len()..]).into_owned();
                let response = client.get(listed.key(), None).await?;
                // Gone since it was listed: the node left.
                if let Some(kv) = response.kvs().first() {
                    nodes.push(NodeReport::judged(node, kv.value(), kv.lease(), stored));
                }
            }
            nodes.sort_by(|a, b| a.node.cmp(&b.node));
            Ok(nodes)
        })
        .map_err(|e| e.while_doing(StoreAction::ReadNodeReports))
    }
}

impl EtcdSource {
    /// Records what this load means for the node; the reporter task writes it. A load never
    /// waits for etcd to take it.
    pub(super) fn acknowledge(&self, loaded: &Result<Versioned, KeyringError>) {
        let (Some(ack), Some(runtime)) = (&self.inner.ack, &self.runtime) else {
            return;
        };
        ack.report.send_modify(|report| {
            let report = report.get_or_insert_with(|| NodeReport {
                node: ack.node.clone(),
                revision: 0,
                keys: Vec::new(),
                loaded_at: String::new(),
                last_error: None,
                public: self.inner.public,
                problem: None,
            });
            match loaded {
                Ok(versioned) => {
                    report.revision = versioned
                        .revision
                        .as_deref()
                        .and_then(|r| r.parse().ok())
                        .unwrap_or_default();
                    report.keys = versioned
                        .keyring
                        .keys()
                        .iter()
                        .map(|k| k.id().to_owned())
                        .collect();
                    report.loaded_at = crate::clock::format_rfc3339(versioned.keyring.now());
                    report.last_error = None;
                }
                Err(error) => report.last_error = Some(error.to_string()),
            }
        });
        if !ack.reporting.swap(true, Ordering::Relaxed) {
            runtime.spawn(Arc::clone(&self.inner).report(ack.report.subscribe()));
        }
    }
}

/// Why the reporter stopped reporting for a while.
pub(super) struct ReportFailed {
    error: etcd_client::Error,
    endpoint: Option<Endpoint>,
}

impl Inner {
    /// The reporter: keeps the newest report at the node's key under a live lease for as long
    /// as the source lives. A write that fails is retried, backing off, on the next endpoint;
    /// a lease lost (etcd restarted, or this process was paused past the TTL) is replaced and
    /// the report written again, so a node that runs again reappears.
    pub(super) async fn report(
        self: Arc<Self>,
        mut wanted: tokio::sync::watch::Receiver<Option<NodeReport>>,
    ) {
        const FIRST_BACKOFF: Duration = Duration::from_millis(100);
        const MAX_BACKOFF: Duration = Duration::from_secs(5);
        let Some(ack) = &self.ack else { return };
        let mut backoff = FIRST_BACKOFF;
        loop {
            let failed = self.keep_reporting(ack, &mut wanted, &mut backoff).await;
            let Err(ReportFailed { error, endpoint }) = failed else {
                return; // nothing more will be reported
            };
            if backoff == FIRST_BACKOFF {
                tracing::warn!(key = %ack.key, %error, "tokenring: cannot acknowledge in etcd; retrying");
            } else {
                tracing::debug!(key = %ack.key, %error, retry_in = ?backoff, "tokenring: cannot acknowledge in etcd");
            }
            if let Some(endpoint) = endpoint {
                self.reset(endpoint).await;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// One connection's worth of reporting: takes or renews the lease, writes each new
    /// report, and renews the lease every third of its TTL. `Ok` when the reports end.
    pub(super) async fn keep_reporting(
        &self,
        ack: &Ack,
        wanted: &mut tokio::sync::watch::Receiver<Option<NodeReport>>,
        backoff: &mut Duration,
    ) -> Result<(), ReportFailed> {
        let (mut client, endpoint) = self.client().await.map_err(|error| ReportFailed {
            error,
            endpoint: None,
        })?;
        let failed = |error| ReportFailed {
            error,
            endpoint: Some(endpoint),
        };
        let renew_every = ack.ttl / 3;
        let mut dirty = true; // a new connection writes the report again
        loop {
            let current = *ack.lease();
            let id = match current {
                Some(id) => id,
                None => {
                    let ttl = i64::try_from(ack.ttl.as_secs()).unwrap_or(i64::MAX);
                    let id = client.lease_grant(ttl, None).await.map_err(failed)?.id();
                    *ack.lease() = Some(id);
                    dirty = true;
                    id
                }
            };
            let (mut keeper, mut stream) = client.lease_keep_alive(id).await.map_err(failed)?;
            // Renew at once: a lease kept from an earlier connection may have expired.
            let mut renew_now = true;
            loop {
                if renew_now {
                    keeper.keep_alive().await.map_err(failed)?;
                    let answer = tokio::time::timeout(self.timeout, stream.message())
                        .await
                        .map_err(|_| {
                            failed(etcd_client::Error::LeaseKeepAliveError(format!(
                                "no answer within {:?}",
                                self.timeout
                            )))
                        })?
                        .map_err(failed)?;
                    if answer.is_none_or(|a| a.ttl() <= 0) {
                        // Expired: take a new lease and write the report under it.
                        tracing::debug!(key = %ack.key, lease = id, "tokenring: etcd lease expired; taking a new one");
                        *ack.lease() = None;
                        break;
                    }
                }
                if dirty {
                    let report = wanted.borrow_and_update().clone();
                    if let Some(report) = report {
                        self.put_report(&mut client, ack, &report, id)
                            .await
                            .map_err(failed)?;
                        *backoff = Duration::from_millis(100);
                    }
                    dirty = false;
                }
                match tokio::time::timeout(renew_every, wanted.changed()).await {
                    Ok(Ok(())) => (renew_now, dirty) = (false, true),
                    Ok(Err(_)) => return Ok(()),
                    Err(_) => renew_now = true,
                }
            }
        }
    }

    pub(super) async fn put_report(
        &self,
        client: &mut Client,
        ack: &Ack,
        report: &NodeReport,
        lease: i64,
    ) -> Result<(), etcd_client::Error> {
        // Strings and numbers: serialising into memory cannot fail.
        let value = serde_json::to_vec(report).expect("a node report serialises");
        let options = etcd_client::PutOptions::new().with_lease(lease);
        client.put(ack.key.as_str(), value, Some(options)).await?;
        Ok(())
    }
}

/// One node's acknowledgement: the keyring revision it holds and its key ids, when it loaded
/// it, and its last refusal (cleared by the next good load).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct NodeReport {
    /// The node's id: as read by [`EtcdSource::nodes`], the one in the report's etcd key.
    pub node: String,
    /// The etcd revision of the keyring it holds.
    pub revision: i64,
    /// The key ids of that keyring.
    pub keys: Vec<String>,
    /// When it loaded it (RFC 3339 UTC).
    pub loaded_at: String,
    /// Why its last load was refused, if it was.
    pub last_error: Option<String>,
    /// Whether it holds the public keyring (`/NAME/public`, a verify-only node), whose keys
    /// are the signing keyring's key pairs only: it never holds an HMAC key, and promotion
    /// of one does not wait for it. Absent in older reports: `false`.
    #[serde(default)]
    pub public: bool,
    /// Why the report cannot be trusted, when it cannot (set by [`EtcdSource::nodes`], never
    /// written): such a node counts as one that does not hold the new key.
    #[serde(skip)]
    pub problem: Option<ReportProblem>,
}

/// Why a node's report cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportProblem {
    /// Not under a lease: nothing removes it when its node dies, so it cannot say a node is
    /// alive.
    NoLease,
    /// Larger than [`EtcdSource::MAX_REPORT_BYTES`].
    TooLarge {
        /// Its size.
        bytes: usize,
    },
    /// Not a report's JSON.
    Unreadable,
    /// It names another node than the key it sits under.
    NamesAnother {
        /// The node it names.
        named: String,
    },
    /// It claims a revision the stored keyring has not reached.
    AheadOfStore {
        /// The revision it claims.
        claimed: i64,
        /// The stored keyring's (none: no keyring is stored).
        stored: Option<i64>,
    },
}

impl std::fmt::Display for ReportProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoLease => f.write_str("report not under a lease"),
            Self::TooLarge { bytes } => write!(
                f,
                "report of {bytes} bytes, over {}",
                EtcdSource::MAX_REPORT_BYTES
            ),
            Self::Unreadable => f.write_str("report is not a node report's JSON"),
            // The name comes from the report: quoted (escaped) and cut to 64 characters.
            Self::NamesAnother { named } => write!(f, "report names another node ({named:?})"),
            Self::AheadOfStore { claimed, stored } => match stored {
                Some(stored) => {
                    write!(
                        f,
                        "report claims revision {claimed}, ahead of the store's {stored}"
                    )
                }
                None => write!(
                    f,
                    "report claims revision {claimed}, but no keyring is stored"
                ),
            },
        }
    }
}

impl NodeReport {
    /// The report at `/NAME/nodes/NODE` as read: `value` under `lease` (0: none), judged
    /// against the stored keyring's revision.
    pub(super) fn judged(node: String, value: &[u8], lease: i64, stored: Option<i64>) -> Self {
        let untrusted = |problem| Self {
            node: node.clone(),
            revision: 0,
            keys: Vec::new(),
            loaded_at: String::new(),
            last_error: None,
            public: false,
            problem: Some(problem),
        };
        if value.len() > EtcdSource::MAX_REPORT_BYTES {
            return untrusted(ReportProblem::TooLarge { bytes: value.len() });
        }
        let Ok(mut report) = serde_json::from_slice::<NodeReport>(value) else {
            return untrusted(ReportProblem::Unreadable);
        };
        let problem = if lease == 0 {
            Some(ReportProblem::NoLease)
        } else if report.node != node {
            let named: String = report.node.chars().take(64).collect();
            Some(ReportProblem::NamesAnother { named })
        } else if stored.is_none_or(|stored| report.revision > stored) {
            Some(ReportProblem::AheadOfStore {
                claimed: report.revision,
                stored,
            })
        } else {
            None
        };
        report.node = node;
        report.problem = problem;
        report
    }

    /// Whether it is a trusted report of holding key `id` at `revision` or later.
    pub fn holds(&self, id: &str, revision: i64) -> bool {
        self.problem.is_none() && self.revision >= revision && self.keys.iter().any(|k| k == id)
    }

    /// Whether promotion of a key of `algorithm` waits for this node: every node holds key
    /// pairs, only the nodes on the signing keyring hold HMAC keys. A report that cannot be
    /// trusted is waited for whatever it claims.
    pub fn needs(&self, algorithm: crate::algorithm::Algorithm) -> bool {
        self.problem.is_some() || !self.public || algorithm.is_public_key()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report is judged by its key, its lease and the store: whatever it claims, a node
    /// whose report cannot be trusted holds nothing.
    #[test]
    fn reports_are_judged_never_taken_at_their_word() {
        let report = |node: &str, revision: i64| {
            serde_json::json!({"node": node, "revision": revision, "keys": ["new"],
                "loaded_at": "2026-12-04T00:00:00Z", "last_error": null})
            .to_string()
        };
        let judged = |value: &str, lease: i64, stored: Option<i64>| {
            NodeReport::judged("a".to_owned(), value.as_bytes(), lease, stored)
        };
        let good = judged(&report("a", 7), 42, Some(7));
        assert_eq!(good.problem, None);
        assert!(good.holds("new", 7) && !good.holds("new", 8) && !good.holds("other", 7));
        let huge = "x".repeat(EtcdSource::MAX_REPORT_BYTES + 1);
        for (value, lease, stored, problem) in [
            (report("a", 7), 0, Some(7), ReportProblem::NoLease),
            (
                "not json".to_owned(),
                42,
                Some(7),
                ReportProblem::Unreadable,
            ),
            (
                huge.clone(),
                42,
                Some(7),
                ReportProblem::TooLarge { bytes: huge.len() },
            ),
            (
                report("b", 7),
                42,
                Some(7),
                ReportProblem::NamesAnother { named: "b".into() },
            ),
            (
                report("a", 999_999),
                42,
                Some(7),
                ReportProblem::AheadOfStore {
                    claimed: 999_999,
                    stored: Some(7),
                },
            ),
            (
                report("a", 7),
                42,
                None,
                ReportProblem::AheadOfStore {
                    claimed: 7,
                    stored: None,
                },
            ),
        ] {
            let judged = judged(&value, lease, stored);
            assert_eq!(judged.node, "a", "the name is the key's");
            assert_eq!(judged.problem.as_ref(), Some(&problem));
            assert!(!judged.holds("new", 0), "{problem}");
        }
    }
}
