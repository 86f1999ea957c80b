//! Talking to etcd: one endpoint at a time, retried on the next with backoff until the
//! source's timeout, and reading the keyring's value.

use std::future::Future;
use std::sync::Arc;

use std::time::Duration;

use etcd_client::{Client, ConnectOptions};
use zeroize::Zeroizing;

use super::{Endpoint, EtcdSource, Inner, MAX_VALUE_LEN};
use crate::error::{KeyringError, StoreProblem};

impl EtcdSource {
    /// Runs `work` on the source's runtime and waits for it, at most the timeout. An etcd
    /// error (an endpoint down, a leader change) or an attempt that takes half the timeout is
    /// tried again on the next endpoint, backing off, until the timeout; a definite answer (no
    /// such key, a conflict) is not.
    pub(super) fn run<T, Fut>(
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
            .map_err(|_| self.inner.unavailable(StoreProblem::Stopped))?
    }
}

/// How one try of a request ended, when it did not succeed.
pub(super) enum Attempt {
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
pub(super) fn refused_for_good(error: &etcd_client::Error) -> bool {
    use tonic::Code;
    matches!(
        error,
        etcd_client::Error::GRpcStatus(status)
            if matches!(status.code(), Code::PermissionDenied | Code::Unauthenticated | Code::InvalidArgument)
    )
}

impl Inner {
    /// [`EtcdSource::run`]'s loop, on the runtime.
    pub(super) async fn attempt_until_timeout<T, Fut>(
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
                    return Err(self.unavailable(StoreProblem::Said(error.to_string())));
                }
                // Already moved to the next endpoint.
                Ok(Err(error)) => StoreProblem::Said(error.to_string()),
                Ok(Ok((client, endpoint))) => {
                    let limit = deadline.min(tokio::time::Instant::now() + per_attempt);
                    let failure =
                        match tokio::time::timeout_at(limit, work(Arc::clone(&self), client)).await
                        {
                            Ok(Ok(value)) => return Ok(value),
                            Ok(Err(Attempt::Done(error))) => return Err(error),
                            Ok(Err(Attempt::Again(error))) if refused_for_good(&error) => {
                                return Err(self.unavailable(StoreProblem::Said(error.to_string())));
                            }
                            Ok(Err(Attempt::Again(error))) => StoreProblem::Said(error.to_string()),
                            Err(_) => StoreProblem::NoAnswer {
                                within: per_attempt,
                            },
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

    pub(super) fn no_answer(&self) -> KeyringError {
        self.unavailable(StoreProblem::NoAnswer {
            within: self.timeout,
        })
    }

    /// Endpoint `index` as a URL: `host:port` becomes `https://` with TLS options and
    /// `http://` without; a URL is taken as written.
    pub(super) fn url(&self, index: usize) -> String {
        let endpoint = &self.endpoints[index];
        if endpoint.contains("://") {
            endpoint.clone()
        } else if self.tls.is_some() {
            format!("https://{endpoint}")
        } else {
            format!("http://{endpoint}")
        }
    }

    pub(super) fn urls(&self) -> Vec<String> {
        (0..self.endpoints.len()).map(|i| self.url(i)).collect()
    }

    pub(super) fn unavailable(&self, reason: StoreProblem) -> KeyringError {
        KeyringError::Unavailable {
            store: format!("etcd {}", self.key),
            reason,
        }
    }

    /// The client of the endpoint in use, connecting first if there is none; a failure to
    /// connect moves on to the next endpoint.
    pub(super) async fn client(&self) -> Result<(Client, Endpoint), etcd_client::Error> {
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

    pub(super) async fn connect(&self, endpoint: &str) -> Result<Client, etcd_client::Error> {
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
    pub(super) async fn reset(&self, failed: Endpoint) {
        let mut connection = self.connection.lock().await;
        if connection.endpoint == failed.0 {
            connection.client = None;
            connection.endpoint = (failed.0 + 1) % self.endpoints.len();
        }
    }

    /// The value at the key and its modification revision; `None` when there is no key.
    pub(super) async fn fetch(
        self: Arc<Self>,
        mut client: Client,
    ) -> Result<Option<(Zeroizing<String>, i64)>, Attempt> {
        let mut response = client.get(self.key.as_str(), None).await?;
        let done = |reason| Attempt::Done(self.unavailable(reason));
        // Owned, so the value (the keyring's secrets) is wiped when dropped; the copies the
        // transport made on its way in are beyond reach (SECURITY.md says how many remain).
        let Some(kv) = response.take_kvs().pop() else {
            return Ok(None);
        };
        let revision = kv.mod_revision();
        let mut value = Zeroizing::new(kv.into_key_value().1);
        if value.len() > MAX_VALUE_LEN {
            return Err(done(StoreProblem::TooLarge { max: MAX_VALUE_LEN }));
        }
        let text = String::from_utf8(std::mem::take(&mut *value)).map_err(|error| {
            drop(Zeroizing::new(error.into_bytes()));
            done(StoreProblem::NotUtf8)
        })?;
        Ok(Some((Zeroizing::new(text), revision)))
    }
}
