//! Configuring an etcd source: endpoints, credentials, TLS, timeout, acknowledgements — and
//! what in a configuration exposes the keyring.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64};
use std::time::Duration;

use super::acks::Ack;
use super::{EtcdSource, Inner};
use crate::error::{ConfigProblem, KeyringError, StoreProblem};
use crate::secret::Secret;

/// Configures an [`EtcdSource`]; see [`EtcdSource::builder`]. Everything is checked by
/// [`EtcdSourceBuilder::build`], which is also where the source's runtime starts: a source,
/// once built, is never reconfigured.
#[must_use]
pub struct EtcdSourceBuilder {
    endpoints: Vec<String>,
    name: String,
    user: Option<(String, Secret)>,
    tls: Option<etcd_client::TlsOptions>,
    client_cert: bool,
    timeout: Duration,
    node: Option<(String, Duration)>,
    public: bool,
}

impl EtcdSourceBuilder {
    pub(super) fn new(endpoints: Vec<String>, name: &str) -> Self {
        Self {
            endpoints,
            name: name.to_owned(),
            user: None,
            tls: None,
            client_cert: false,
            timeout: Duration::from_secs(5),
            node: None,
            public: false,
        }
    }

    /// `etcd://HOST:PORT[,HOST:PORT…]/NAME`, the form the CLI and the example server take;
    /// `…/NAME/public` for the keyring's public keyring ([`EtcdSourceBuilder::public_ring`]).
    ///
    /// # Errors
    ///
    /// [`KeyringError::Config`] ([`ConfigProblem::BadUrl`]) for another form.
    pub fn from_url(url: &str) -> Result<Self, KeyringError> {
        let bad = || KeyringError::Config {
            store: "etcd".to_owned(),
            problem: ConfigProblem::BadUrl,
        };
        let rest = url.strip_prefix("etcd://").ok_or_else(bad)?;
        let (hosts, name) = rest.split_once('/').ok_or_else(bad)?;
        let endpoints: Vec<String> = hosts
            .split(',')
            .filter(|h| !h.is_empty())
            .map(str::to_owned)
            .collect();
        if endpoints.is_empty() {
            return Err(bad());
        }
        Ok(match name.strip_suffix("/public") {
            Some(name) => Self::new(endpoints, name).public_ring(),
            None => Self::new(endpoints, name),
        })
    }

    /// The keyring's name, as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Authenticates as `user` (etcd's user/password auth).
    pub fn user(mut self, user: impl Into<String>, password: Secret) -> Self {
        self.user = Some((user.into(), password));
        self
    }

    /// Connects over TLS, trusting `ca_pem`; with `client`, also authenticates with that
    /// certificate and key (PEM).
    pub fn tls(mut self, ca_pem: &[u8], client: Option<(&[u8], &[u8])>) -> Self {
        let mut tls = etcd_client::TlsOptions::new()
            .ca_certificate(etcd_client::Certificate::from_pem(ca_pem));
        if let Some((cert, key)) = client {
            tls = tls.identity(etcd_client::Identity::from_pem(cert, key));
        }
        self.tls = Some(tls);
        self.client_cert = client.is_some();
        self
    }

    /// Reads the public keyring, `/NAME/public`, instead of `/NAME/keyring`: the keyring of a
    /// verify-only service. It holds the public keys of the signing keyring's key pairs and no
    /// secret; [`EtcdSource::store`] writes it in the same transaction as the signing keyring,
    /// so both always carry the same revision. A value there that holds any secret is
    /// refused ([`KeyringError::SecretInPublicKeyring`]; the last good keyring is kept), so
    /// the node never holds what mints. A source on it cannot write
    /// ([`ConfigProblem::PublicRingIsDerived`]); its node, granted with
    /// [`EtcdSource::grant_node`], reads `/NAME/public` and nothing of the signing keyring.
    pub fn public_ring(mut self) -> Self {
        self.public = true;
        self
    }

    /// How long one request (a read, a connect) may take (5 s unless set).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Acknowledges: after every load or refusal, the source writes what it holds to
    /// `/NAME/nodes/NODE_ID` — `{"node", "revision", "keys", "loaded_at", "last_error"}` —
    /// under a lease of `ttl` (at least 5 s; 30 s is a sensible default: a node paused for a
    /// few seconds is waited for, not forgotten) that it keeps alive. A node that dies
    /// disappears with its lease; one alive but stuck keeps reporting its old revision.
    /// [`EtcdSource::nodes`] reads them all. The id is checked by `build()`.
    pub fn acknowledge_as(mut self, node_id: &str, ttl: Duration) -> Self {
        self.node = Some((node_id.to_owned(), ttl.max(Duration::from_secs(5))));
        self
    }

    /// Checks the configuration without starting anything: what [`EtcdSourceBuilder::build`]
    /// would refuse it for.
    ///
    /// # Errors
    ///
    /// [`KeyringError::Config`] for a name that is empty or not `[A-Za-z0-9_.-]`
    /// ([`ConfigProblem::BadName`]), no endpoints ([`ConfigProblem::NoEndpoints`]) or a bad
    /// node id ([`ConfigProblem::BadNodeId`]).
    pub fn check(&self) -> Result<(), KeyringError> {
        let problem = if !is_plain_name(&self.name, usize::MAX) {
            Some(ConfigProblem::BadName)
        } else if self.endpoints.is_empty() {
            Some(ConfigProblem::NoEndpoints)
        } else {
            self.node
                .as_ref()
                .and_then(|(node, _)| check_node_id(node).err())
        };
        match problem {
            Some(problem) => Err(KeyringError::Config {
                store: format!("etcd keyring {:?}", self.name),
                problem,
            }),
            None => Ok(()),
        }
    }

    /// Checks the configuration ([`EtcdSourceBuilder::check`]) and starts the source's
    /// runtime (one worker thread, `tokenring-etcd`). Connecting happens on first use.
    ///
    /// # Errors
    ///
    /// As [`EtcdSourceBuilder::check`]; [`KeyringError::Unavailable`]
    /// ([`StoreProblem::CannotStart`]) for a runtime that cannot start.
    pub fn build(self) -> Result<EtcdSource, KeyringError> {
        self.check()?;
        let name = self.name;
        let ack = self.node.map(|(node, ttl)| {
            let key = format!("/{name}/nodes/{node}");
            Ack::new(node, key, ttl)
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("tokenring-etcd")
            .enable_all()
            .build()
            .map_err(|e| KeyringError::Unavailable {
                store: format!("etcd keyring {name:?}"),
                reason: StoreProblem::CannotStart {
                    what: "its runtime",
                    error: e.to_string(),
                },
            })?;
        Ok(EtcdSource {
            inner: Arc::new(Inner {
                key: format!("/{name}/{}", if self.public { "public" } else { "keyring" }),
                public: self.public,
                name,
                endpoints: self.endpoints,
                user: self.user,
                tls: self.tls,
                client_cert: self.client_cert,
                exposures_said: AtomicBool::new(false),
                timeout: self.timeout,
                connection: tokio::sync::Mutex::default(),
                last_revision: AtomicI64::new(0),
                ack,
            }),
            runtime: Some(runtime),
        })
    }
}

impl std::fmt::Debug for EtcdSourceBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdSourceBuilder")
            .field("name", &self.name)
            .field("endpoints", &self.endpoints)
            .field("user", &self.user.as_ref().map(|(user, _)| user))
            .field("tls", &self.tls.is_some())
            .field("node", &self.node.as_ref().map(|(node, _)| node))
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// Whether `name` is 1 to `max` of `[A-Za-z0-9_.-]`: what keyring names and node ids may be
/// (they become etcd keys and user names).
fn is_plain_name(name: &str, max: usize) -> bool {
    (1..=max).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// `Ok` for a node id of 1 to 128 of `[A-Za-z0-9_.-]`.
pub(super) fn check_node_id(node_id: &str) -> Result<(), ConfigProblem> {
    if !is_plain_name(node_id, 128) {
        return Err(ConfigProblem::BadNodeId);
    }
    Ok(())
}

impl EtcdSource {
    /// What in this source's configuration exposes the keyring, for an operator to hear:
    /// a password sent over plain `http://`, or no credentials at all (if etcd answers such a
    /// source, it answers anyone who reaches it — who can then rewrite the keyring). Said once
    /// as a warning by the first good load; the CLI prints them.
    pub fn exposures(&self) -> Vec<Exposure> {
        let inner = &self.inner;
        let mut found = Vec::new();
        if let Some((user, _)) = &inner.user {
            let clear: Vec<String> = inner
                .urls()
                .into_iter()
                .filter(|url| url.starts_with("http://"))
                .collect();
            if !clear.is_empty() {
                found.push(Exposure::PasswordInClear {
                    user: user.clone(),
                    endpoints: clear,
                });
            }
        } else if !inner.client_cert {
            found.push(Exposure::NoCredentials);
        }
        found
    }
}

/// What exposes an etcd keyring ([`EtcdSource::exposures`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Exposure {
    /// A user's password goes to these endpoints over plain `http://`.
    PasswordInClear {
        /// The etcd user.
        user: String,
        /// The `http://` endpoints.
        endpoints: Vec<String>,
    },
    /// No user and no client certificate: an etcd that answers accepts requests from anyone.
    NoCredentials,
}

impl std::fmt::Display for Exposure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PasswordInClear { user, endpoints } => write!(
                f,
                "etcd user {user:?}'s password goes over plain http to {}: anyone on the path \
                 can read it; use TLS (ETCDCTL_CACERT)",
                endpoints.join(", ")
            ),
            Self::NoCredentials => f.write_str(
                "no etcd credentials are configured: if etcd answers, it accepts requests \
                 without authentication, and anyone who reaches it can rewrite the keyring \
                 (enable etcd auth; docs/ROTATION.md)",
            ),
        }
    }
}
