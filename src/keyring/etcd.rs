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

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use etcd_client::{Client, ConnectOptions, WatchOptions};
use zeroize::Zeroizing;

use super::Keyring;
use super::source::{Announcement, Changes, KeyringSource, Versioned};
use crate::clock::Clock;
use crate::error::{KeyringError, StoreAction};
use crate::secret::Secret;

mod env;

/// A keyring stored in etcd under `/NAME/keyring`; hot-reloads by watching the key.
///
/// ```no_run
/// use tokenring::HotKeyring;
/// use tokenring::keyring::EtcdSource;
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
    key: String,
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

/// What this node reports at `/NAME/nodes/NODE_ID`, under its lease.
struct Ack {
    node: String,
    key: String,
    ttl: Duration,
    // The report to keep at `key` (none before the first load); the reporter writes the
    // newest one, retrying until it lands.
    report: tokio::sync::watch::Sender<Option<NodeReport>>,
    reporting: AtomicBool,
    // The lease the report lives under, revoked when the source is dropped.
    lease: std::sync::Mutex<Option<i64>>,
}

impl Ack {
    fn new(node: String, key: String, ttl: Duration) -> Self {
        Self {
            node,
            key,
            ttl,
            report: tokio::sync::watch::Sender::new(None),
            reporting: AtomicBool::new(false),
            lease: std::sync::Mutex::new(None),
        }
    }

    fn lease(&self) -> std::sync::MutexGuard<'_, Option<i64>> {
        self.lease.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Why a read found nothing: the key is not there (yet).
const NO_KEY: &str = "the key does not exist";

/// The longest keyring value read, as for files.
const MAX_VALUE_LEN: usize = Keyring::MAX_FILE_LEN as usize;

impl EtcdSource {
    /// The keyring `NAME` on the etcd cluster at `endpoints` (`host:port` or URLs).
    ///
    /// # Errors
    ///
    /// [`KeyringError::Unavailable`] for a name that is empty or not `[A-Za-z0-9_.-]`, no
    /// endpoints, or a runtime that cannot start. Connecting happens on first use.
    pub fn new(
        endpoints: impl IntoIterator<Item = impl Into<String>>,
        name: &str,
    ) -> Result<Self, KeyringError> {
        let endpoints: Vec<String> = endpoints.into_iter().map(Into::into).collect();
        let refuse = |reason: String| KeyringError::Unavailable {
            store: format!("etcd keyring {name:?}"),
            reason,
        };
        let plain = |c: char| c.is_ascii_alphanumeric() || "_.-".contains(c);
        if name.is_empty() || !name.chars().all(plain) {
            return Err(refuse(
                "the name must be 1 or more of A-Z a-z 0-9 _ . -".to_owned(),
            ));
        }
        if endpoints.is_empty() {
            return Err(refuse("no endpoints".to_owned()));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("tokenring-etcd")
            .enable_all()
            .build()
            .map_err(|e| refuse(format!("cannot start its runtime: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                name: name.to_owned(),
                key: format!("/{name}/keyring"),
                endpoints,
                user: None,
                tls: None,
                client_cert: false,
                exposures_said: AtomicBool::new(false),
                timeout: Duration::from_secs(5),
                connection: tokio::sync::Mutex::default(),
                last_revision: AtomicI64::new(0),
                ack: None,
            }),
            runtime: Some(runtime),
        })
    }

    /// `etcd://HOST:PORT[,HOST:PORT…]/NAME`, the form the CLI and the example server take.
    ///
    /// # Errors
    ///
    /// [`KeyringError::Unavailable`] for another form, and as [`EtcdSource::new`].
    pub fn from_url(url: &str) -> Result<Self, KeyringError> {
        let bad = || KeyringError::Unavailable {
            store: "etcd".to_owned(),
            reason: "expected etcd://HOST:PORT[,HOST:PORT…]/NAME".to_owned(),
        };
        let rest = url.strip_prefix("etcd://").ok_or_else(bad)?;
        let (hosts, name) = rest.split_once('/').ok_or_else(bad)?;
        let endpoints: Vec<&str> = hosts.split(',').filter(|h| !h.is_empty()).collect();
        if endpoints.is_empty() {
            return Err(bad());
        }
        Self::new(endpoints, name)
    }

    /// Authenticates as `user` (etcd's user/password auth).
    #[must_use]
    pub fn user(mut self, user: impl Into<String>, password: Secret) -> Self {
        self.inner_mut().user = Some((user.into(), password));
        self
    }

    /// Connects over TLS, trusting `ca_pem`; with `client`, also authenticates with that
    /// certificate and key (PEM).
    #[must_use]
    pub fn tls(mut self, ca_pem: &[u8], client: Option<(&[u8], &[u8])>) -> Self {
        let mut tls = etcd_client::TlsOptions::new()
            .ca_certificate(etcd_client::Certificate::from_pem(ca_pem));
        if let Some((cert, key)) = client {
            tls = tls.identity(etcd_client::Identity::from_pem(cert, key));
        }
        let inner = self.inner_mut();
        inner.tls = Some(tls);
        inner.client_cert = client.is_some();
        self
    }

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

    /// Acknowledges: after every load or refusal, this process writes what it holds to
    /// `/NAME/nodes/NODE_ID` — `{"node", "revision", "keys", "loaded_at", "last_error"}` —
    /// under a lease of `ttl` (at least 5 s; 30 s is a sensible default: a node paused for a
    /// few seconds is waited for, not forgotten) that it keeps alive. A node that dies
    /// disappears with its lease; one alive but stuck keeps reporting its old revision.
    /// [`EtcdSource::nodes`] reads them all.
    ///
    /// # Errors
    ///
    /// [`KeyringError::Unavailable`] for a node id that is empty or not `[A-Za-z0-9_.-]`.
    pub fn acknowledge_as(mut self, node_id: &str, ttl: Duration) -> Result<Self, KeyringError> {
        self.check_node_id(node_id)?;
        let key = format!("/{}/nodes/{node_id}", self.inner.name);
        self.inner_mut().ack = Some(Ack::new(
            node_id.to_owned(),
            key,
            ttl.max(Duration::from_secs(5)),
        ));
        Ok(self)
    }

    fn check_node_id(&self, node_id: &str) -> Result<(), KeyringError> {
        let plain = |c: char| c.is_ascii_alphanumeric() || "_.-".contains(c);
        if node_id.is_empty() || node_id.len() > 128 || !node_id.chars().all(plain) {
            return Err(self
                .inner
                .unavailable("a node id must be 1 to 128 of A-Z a-z 0-9 _ . -".to_owned()));
        }
        Ok(())
    }

    /// The etcd user and role of node `node_id` of this keyring (the same name):
    /// `tokenring-NAME-node-NODE_ID`.
    pub fn node_user(&self, node_id: &str) -> String {
        format!("tokenring-{}-node-{node_id}", self.inner.name)
    }

    /// Creates, or updates, the etcd role and user of node `node_id` ([`EtcdSource::node_user`]),
    /// the user with `password`: it may read the keyring (`/NAME/keyring`, that key exactly)
    /// and read and write its own report (`/NAME/nodes/NODE_ID`, that key exactly) — nothing
    /// else, so a node cannot write another's report nor touch the keyring. Leases need no
    /// grant. Run it as a user allowed to manage etcd's auth (root). The user's name.
    ///
    /// # Errors
    ///
    /// [`KeyringError::StoreFailed`] ([`StoreAction::GrantNode`]) if etcd refuses (no
    /// permission to manage auth, say), or for a node id [`EtcdSource::acknowledge_as`]
    /// would refuse.
    pub fn grant_node(&self, node_id: &str, password: &str) -> Result<String, KeyringError> {
        self.check_node_id(node_id)?;
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

    /// Reads the keyring (validated against `clock`) and the revision to write it back at
    /// with [`EtcdSource::store`]; `None` when the key does not exist yet.
    ///
    /// # Errors
    ///
    /// [`KeyringError::Unavailable`] if etcd cannot be read; the keyring's own errors.
    pub fn read(&self, clock: Arc<dyn Clock>) -> Result<Option<(Keyring, i64)>, KeyringError> {
        match self.run(Inner::fetch) {
            Ok((text, revision)) => Ok(Some((
                Keyring::from_json_with_clock(&text, clock)?,
                revision,
            ))),
            Err(KeyringError::Unavailable { reason, .. }) if reason == NO_KEY => Ok(None),
            Err(error) => Err(error),
        }
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
    /// compare-and-swap, so two operators at once never lose an update. The new revision.
    ///
    /// # Errors
    ///
    /// [`KeyringError::Conflict`] if the key changed meanwhile (nothing was written);
    /// [`KeyringError::Unavailable`] if etcd cannot be written.
    pub fn store(&self, keyring: &Keyring, expected: Option<i64>) -> Result<i64, KeyringError> {
        use etcd_client::{Compare, CompareOp, Txn, TxnOp};
        let text = keyring.to_json();
        let value = text.as_bytes().to_vec();
        self.run(move |inner, mut client| {
            let value = value.clone();
            async move {
                let key = inner.key.clone();
                let guard = match expected {
                    Some(revision) => {
                        Compare::mod_revision(key.as_str(), CompareOp::Equal, revision)
                    }
                    None => Compare::create_revision(key.as_str(), CompareOp::Equal, 0),
                };
                let txn = Txn::new()
                    .when([guard])
                    .and_then([TxnOp::put(key.as_str(), value.clone(), None)])
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

    /// How long one request (a read, a connect) may take (5 s unless set).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.inner_mut().timeout = timeout;
        self
    }

    /// The keyring's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The etcd key holding the keyring: `/NAME/keyring`.
    pub fn key(&self) -> &str {
        &self.inner.key
    }

    /// The configuration, for the setters. Tasks from earlier use (a request just answered,
    /// an acknowledgement, a watch) may still hold the current one: then the setter applies
    /// to a fresh copy of the configuration (with no connection or acknowledgement state yet)
    /// rather than panic.
    fn inner_mut(&mut self) -> &mut Inner {
        if Arc::get_mut(&mut self.inner).is_none() {
            self.inner = Arc::new(self.inner.reconfigured());
        }
        Arc::get_mut(&mut self.inner).unwrap_or_else(|| unreachable!("just replaced"))
    }

    /// Runs `work` on the source's runtime and waits for it, at most the timeout. An etcd
    /// error (an endpoint down, a leader change) or an attempt that takes half the timeout is
    /// tried again on the next endpoint, backing off, until the timeout; a definite answer (no
    /// such key, a conflict) is not.
    fn run<T, Fut>(
        &self,
        work: impl Fn(Arc<Inner>, Client) -> Fut + Send + 'static,
    ) -> Result<T, KeyringError>
    where
        T: Send + 'static,
        Fut: Future<Output = Result<T, Attempt>> + Send,
    {
        let runtime = self
            .runtime
            .as_ref()
            .expect("the runtime lives as long as the source");
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let inner = Arc::clone(&self.inner);
        runtime.spawn(async move {
            let _ = tx.send(inner.attempt_until_timeout(work).await);
        });
        rx.recv()
            .map_err(|_| self.inner.unavailable("its runtime stopped".to_owned()))?
    }
}

/// How one try of a request ended, when it did not succeed.
enum Attempt {
    /// etcd could not answer (an endpoint down, a leader change): try again.
    Again(etcd_client::Error),
    /// A definite answer: report it.
    Done(KeyringError),
}

impl From<etcd_client::Error> for Attempt {
    fn from(error: etcd_client::Error) -> Self {
        Self::Again(error)
    }
}

/// Whether etcd refused for good (credentials, permissions, a bad request): asking again,
/// on any endpoint, gets the same answer.
fn refused_for_good(error: &etcd_client::Error) -> bool {
    use tonic::Code;
    matches!(
        error,
        etcd_client::Error::GRpcStatus(status)
            if matches!(status.code(), Code::PermissionDenied | Code::Unauthenticated | Code::InvalidArgument)
    )
}

impl Inner {
    /// [`EtcdSource::run`]'s loop, on the runtime.
    async fn attempt_until_timeout<T, Fut>(
        self: Arc<Self>,
        work: impl Fn(Arc<Inner>, Client) -> Fut,
    ) -> Result<T, KeyringError>
    where
        Fut: Future<Output = Result<T, Attempt>>,
    {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let per_attempt = self.timeout / 2;
        let mut pause = Duration::from_millis(50);
        loop {
            let failure = match tokio::time::timeout_at(deadline, self.client()).await {
                Err(_) => return Err(self.no_answer()),
                Ok(Err(error)) if refused_for_good(&error) => {
                    return Err(self.unavailable(error.to_string()));
                }
                Ok(Err(error)) => error.to_string(), // already moved to the next endpoint
                Ok(Ok((client, endpoint))) => {
                    let limit = deadline.min(tokio::time::Instant::now() + per_attempt);
                    let failure =
                        match tokio::time::timeout_at(limit, work(Arc::clone(&self), client)).await
                        {
                            Ok(Ok(value)) => return Ok(value),
                            Ok(Err(Attempt::Done(error))) => return Err(error),
                            Ok(Err(Attempt::Again(error))) if refused_for_good(&error) => {
                                return Err(self.unavailable(error.to_string()));
                            }
                            Ok(Err(Attempt::Again(error))) => error.to_string(),
                            Err(_) => format!("no answer within {per_attempt:?}"),
                        };
                    self.reset(endpoint).await;
                    failure
                }
            };
            if tokio::time::Instant::now() + pause >= deadline {
                return Err(self.unavailable(failure));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(1));
        }
    }

    fn no_answer(&self) -> KeyringError {
        self.unavailable(format!("no answer within {:?}", self.timeout))
    }

    /// The same configuration, without the connection, revision or acknowledgement state.
    fn reconfigured(&self) -> Self {
        Self {
            name: self.name.clone(),
            key: self.key.clone(),
            endpoints: self.endpoints.clone(),
            user: self.user.clone(),
            tls: self.tls.clone(),
            client_cert: self.client_cert,
            exposures_said: AtomicBool::new(false),
            timeout: self.timeout,
            connection: tokio::sync::Mutex::default(),
            last_revision: AtomicI64::new(0),
            ack: self
                .ack
                .as_ref()
                .map(|ack| Ack::new(ack.node.clone(), ack.key.clone(), ack.ttl)),
        }
    }

    /// Endpoint `index` as a URL: `host:port` becomes `https://` with TLS options and
    /// `http://` without; a URL is taken as written.
    fn url(&self, index: usize) -> String {
        let endpoint = &self.endpoints[index];
        if endpoint.contains("://") {
            endpoint.clone()
        } else if self.tls.is_some() {
            format!("https://{endpoint}")
        } else {
            format!("http://{endpoint}")
        }
    }

    fn urls(&self) -> Vec<String> {
        (0..self.endpoints.len()).map(|i| self.url(i)).collect()
    }

    fn unavailable(&self, reason: String) -> KeyringError {
        KeyringError::Unavailable {
            store: format!("etcd {}", self.key),
            reason,
        }
    }

    /// The client of the endpoint in use, connecting first if there is none; a failure to
    /// connect moves on to the next endpoint.
    async fn client(&self) -> Result<(Client, Endpoint), etcd_client::Error> {
        let mut connection = self.connection.lock().await;
        let endpoint = Endpoint(connection.endpoint);
        if let Some(client) = &connection.client {
            return Ok((client.clone(), endpoint));
        }
        match self.connect(&self.url(endpoint.0)).await {
            Ok(client) => {
                connection.client = Some(client.clone());
                Ok((client, endpoint))
            }
            Err(error) => {
                connection.endpoint = (endpoint.0 + 1) % self.endpoints.len();
                Err(error)
            }
        }
    }

    async fn connect(&self, endpoint: &str) -> Result<Client, etcd_client::Error> {
        // Requiring a leader ends a watch on a member cut off from the others, so that it
        // moves on instead of waiting for events that never come.
        let mut options = ConnectOptions::new()
            .with_connect_timeout(self.timeout)
            .with_timeout(self.timeout)
            .with_keep_alive(Duration::from_secs(5), self.timeout)
            .with_require_leader(true);
        if let Some((user, password)) = &self.user {
            // etcd-client keeps the password as a String; it lives as long as the source.
            let password = String::from_utf8_lossy(password.expose()).into_owned();
            options = options.with_user(user.clone(), password);
        }
        if let Some(tls) = &self.tls {
            options = options.with_tls(tls.clone());
        }
        Client::connect([endpoint], Some(options)).await
    }

    /// After a failure on `failed`: drops its client and moves on to the next endpoint,
    /// unless another task already did.
    async fn reset(&self, failed: Endpoint) {
        let mut connection = self.connection.lock().await;
        if connection.endpoint == failed.0 {
            connection.client = None;
            connection.endpoint = (failed.0 + 1) % self.endpoints.len();
        }
    }

    /// The value at the key and its modification revision.
    async fn fetch(
        self: Arc<Self>,
        mut client: Client,
    ) -> Result<(Zeroizing<String>, i64), Attempt> {
        let mut response = client.get(self.key.as_str(), None).await?;
        let done = |reason: String| Attempt::Done(self.unavailable(reason));
        // Owned, so the value (the keyring's secrets) is wiped when dropped; the copies the
        // transport made on its way in are beyond reach (SECURITY.md says how many remain).
        let Some(kv) = response.take_kvs().pop() else {
            return Err(done(NO_KEY.to_owned()));
        };
        let revision = kv.mod_revision();
        let mut value = Zeroizing::new(kv.into_key_value().1);
        if value.len() > MAX_VALUE_LEN {
            return Err(done(format!(
                "the value is over the limit of {MAX_VALUE_LEN} bytes"
            )));
        }
        let text = String::from_utf8(std::mem::take(&mut *value)).map_err(|error| {
            drop(Zeroizing::new(error.into_bytes()));
            done("the value is not UTF-8 text".to_owned())
        })?;
        Ok((Zeroizing::new(text), revision))
    }
}

impl KeyringSource for EtcdSource {
    fn load(&self, clock: Arc<dyn Clock>) -> Result<Keyring, KeyringError> {
        Ok(self.load_revision(clock)?.keyring)
    }

    fn load_revision(&self, clock: Arc<dyn Clock>) -> Result<Versioned, KeyringError> {
        let loaded = self.run(Inner::fetch).and_then(|(text, revision)| {
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
            let keyring = Keyring::from_json_with_clock(&text, clock)?;
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

impl EtcdSource {
    /// Records what this load means for the node; the reporter task writes it. A load never
    /// waits for etcd to take it.
    fn acknowledge(&self, loaded: &Result<Versioned, KeyringError>) {
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
struct ReportFailed {
    error: etcd_client::Error,
    endpoint: Option<Endpoint>,
}

impl Inner {
    /// The reporter: keeps the newest report at the node's key under a live lease for as long
    /// as the source lives. A write that fails is retried, backing off, on the next endpoint;
    /// a lease lost (etcd restarted, or this process was paused past the TTL) is replaced and
    /// the report written again, so a node that runs again reappears.
    async fn report(self: Arc<Self>, mut wanted: tokio::sync::watch::Receiver<Option<NodeReport>>) {
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
    async fn keep_reporting(
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

    async fn put_report(
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
    fn judged(node: String, value: &[u8], lease: i64, stored: Option<i64>) -> Self {
        let untrusted = |problem| Self {
            node: node.clone(),
            revision: 0,
            keys: Vec::new(),
            loaded_at: String::new(),
            last_error: None,
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

/// Stops the watch task when the hot keyring stops.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Watches the key for as long as the hot keyring runs, announcing each change; reconnects
/// with backoff and announces once after every interruption, so a reload catches whatever
/// the stream may have missed.
async fn watch(inner: Arc<Inner>, changes: Changes) {
    const FIRST_BACKOFF: Duration = Duration::from_millis(100);
    const MAX_BACKOFF: Duration = Duration::from_secs(5);
    let mut backoff = FIRST_BACKOFF;
    let mut from = inner.last_revision.load(Ordering::Relaxed) + 1;
    loop {
        from = from.max(inner.last_revision.load(Ordering::Relaxed) + 1);
        match watch_from(&inner, &mut from, &changes, &mut backoff).await {
            Ok(()) => {}
            Err((error, endpoint)) => {
                tracing::warn!(
                    key = %inner.key,
                    %error,
                    retry_in = ?backoff,
                    "tokenring: etcd watch interrupted; keeping the last good keyring"
                );
                if let Some(endpoint) = endpoint {
                    inner.reset(endpoint).await;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
        changes.changed();
    }
}

/// One watch stream from `*from`; `Ok` when it must be started again from a compacted
/// revision, an error (and the endpoint it came from) when the stream failed or ended.
async fn watch_from(
    inner: &Inner,
    from: &mut i64,
    changes: &Changes,
    backoff: &mut Duration,
) -> Result<(), (etcd_client::Error, Option<Endpoint>)> {
    let (mut client, endpoint) = inner.client().await.map_err(|e| (e, None))?;
    let failed = |error| (error, Some(endpoint));
    let options = WatchOptions::new().with_start_revision(*from);
    let mut stream = client
        .watch(inner.key.as_str(), Some(options))
        .await
        .map_err(failed)?;
    while let Some(response) = stream.message().await.map_err(failed)? {
        *backoff = Duration::from_millis(100);
        if response.compact_revision() > 0 {
            // The revision to resume from is gone: watch from the oldest one kept, and let
            // the full read that follows catch up on what was compacted.
            *from = response.compact_revision();
            return Ok(());
        }
        if response.canceled() {
            // Not a compaction: the member refused the watch (it lost its leader, say).
            let reason = response.cancel_reason().to_owned();
            return Err(failed(etcd_client::Error::WatchError(format!(
                "canceled by the server: {reason}"
            ))));
        }
        if let Some(last) = response
            .events()
            .iter()
            .filter_map(|event| event.kv().map(etcd_client::KeyValue::mod_revision))
            .max()
        {
            *from = last + 1;
            changes.changed();
        }
    }
    Err(failed(etcd_client::Error::WatchError(
        "the stream ended".to_owned(),
    )))
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

    /// A setter after use (here while a watch task holds the configuration) gives a source
    /// with the new setting instead of panicking.
    #[test]
    fn setters_after_use_do_not_panic() {
        let source = EtcdSource::new(["127.0.0.1:9"], "x").unwrap();
        let _watching = source.announce(Changes::new(|| {})).unwrap();
        let source = source
            .timeout(Duration::from_millis(300))
            .acknowledge_as("n1", Duration::from_secs(30))
            .unwrap();
        assert_eq!(source.inner.timeout, Duration::from_millis(300));
        assert_eq!(source.key(), "/x/keyring");
        assert!(source.inner.ack.is_some());
    }
}
