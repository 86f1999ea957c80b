//! Fleet commands on etcd keyrings: promotion once every live node holds a key, and each
//! node's acknowledgement.

use crate::Failure;
use crate::new_key::NewKeyArgs;
use crate::ring::{Ring, RingArg};

/// `tokenring fleet …`.
#[derive(clap::Subcommand)]
pub(crate) enum FleetCommand {
    /// Each node's acknowledged revision, keys and last error (etcd keyrings).
    Status {
        #[command(flatten)]
        ring: RingArg,
    },
    /// Create (or update) node NODE's etcd user and role: it may read the keyring and write
    /// its own report, nothing else (run with etcd's root credentials in ETCDCTL_USER).
    Grant {
        #[command(flatten)]
        ring: RingArg,
        /// The node's id, as it acknowledges (--node-id).
        #[arg(value_name = "NODE")]
        node: String,
        /// A file holding the node user's password (`-`: standard input; one trailing newline
        /// dropped).
        #[arg(long, value_name = "PATH")]
        password_file: std::path::PathBuf,
    },
}

pub(crate) fn run(command: FleetCommand) -> Result<(), Failure> {
    match command {
        FleetCommand::Status { ring } => status(&ring.ring),
        FleetCommand::Grant {
            ring,
            node,
            password_file,
        } => grant(&ring.ring, &node, &password_file),
    }
}

#[cfg(not(feature = "etcd"))]
fn status(ring: &Ring) -> Result<(), Failure> {
    Err(Failure::new(format!(
        "{ring}: fleet status needs an etcd keyring (cargo install --locked --path cli --features etcd)"
    )))
}

#[cfg(not(feature = "etcd"))]
fn grant(ring: &Ring, _node: &str, _password_file: &std::path::Path) -> Result<(), Failure> {
    Err(Failure::new(format!(
        "{ring}: fleet grant needs an etcd keyring (cargo install --locked --path cli --features etcd)"
    )))
}

#[cfg(not(feature = "etcd"))]
pub(crate) fn add_when_converged(
    ring: &Ring,
    _args: &NewKeyArgs,
    _timeout: std::time::Duration,
    _min_nodes: usize,
) -> Result<(), Failure> {
    Err(Failure::new(format!(
        "{ring}: --activate-when-converged needs an etcd keyring (cargo install --locked --path cli --features etcd)"
    )))
}

#[cfg(feature = "etcd")]
pub(crate) use with_etcd::{add_when_converged, grant, status};

#[cfg(feature = "etcd")]
mod with_etcd {
    use std::collections::BTreeSet;
    use std::sync::Arc;
    use std::time::{Duration, Instant, SystemTime};

    use tokenring::Algorithm;
    use tokenring::clock::SystemClock;
    use tokenring::error::KeyringError;
    use tokenring::source::{EtcdSource, NodeReport};

    use super::{Failure, NewKeyArgs, Ring};
    use crate::new_key::new_key;
    use crate::output::refused;
    use crate::{format_time, out};

    /// A pending key waits this long for promotion at most; in practice it is promoted (or
    /// the operator intervenes) long before.
    const PENDING_FOR: Duration = Duration::from_secs(365 * 24 * 3600);
    /// Activation after convergence leaves this much for clock skew between nodes.
    const SKEW_MARGIN: Duration = Duration::from_secs(5);

    /// The stored keyring's revision and every node's report. A broken stored keyring is
    /// said first and fails the command (exit 1), but the nodes are shown all the same: it is
    /// when the operator needs them most.
    pub(crate) fn status(ring: &Ring) -> Result<(), Failure> {
        let source = ring.etcd()?;
        let (revision, broken) = match source.read(Arc::new(SystemClock)) {
            Ok(stored) => (
                stored.map_or_else(|| "none".to_owned(), |(_, r)| r.to_string()),
                None,
            ),
            Err(error @ KeyringError::StoreFailed { .. })
            | Err(error @ KeyringError::Unavailable { .. }) => return Err(error.into()),
            Err(error) => ("broken".to_owned(), Some(error)),
        };
        let nodes = source.nodes()?;
        out(format_args!(
            "{ring}: keyring at revision {revision}; {} live node(s)",
            nodes.len()
        ))?;
        out(format_args!(
            "{:<24}  {:>8}  {:<32}  {:<20}  LAST_ERROR",
            "NODE", "REVISION", "KEYS", "LOADED_AT"
        ))?;
        for node in nodes {
            let error = match (&node.problem, &node.last_error) {
                (Some(problem), _) => format!("UNTRUSTED: {problem}"),
                (None, Some(error)) => error.clone(),
                (None, None) => "-".to_owned(),
            };
            let name = match node.public {
                true => format!("{} (public)", node.node),
                false => node.node.clone(),
            };
            out(format_args!(
                "{:<24}  {:>8}  {:<32}  {:<20}  {error}",
                name,
                node.revision,
                node.keys.join(","),
                node.loaded_at,
            ))?;
        }
        match broken {
            Some(error) => Err(Failure::new(format!(
                "the keyring stored at {ring} is broken: {error}"
            ))),
            None => Ok(()),
        }
    }

    /// Creates node `node`'s user and role; says what it may do and how to start it.
    pub(crate) fn grant(
        ring: &Ring,
        node: &str,
        password_file: &std::path::Path,
    ) -> Result<(), Failure> {
        let source = ring.etcd()?;
        let password = crate::input::secret_text(password_file, "the password")?;
        if password.is_empty() {
            return Err(Failure::new(format!(
                "the password in {} is empty",
                password_file.display()
            )));
        }
        let user = source.grant_node(node, &password)?;
        let (name, key) = (source.name(), source.key());
        out(format_args!(
            "etcd user {user:?}: reads {key}, reads and writes /{name}/nodes/{node}, \
             nothing else; start node {node:?} with --node-id {node} and ETCDCTL_USER={user} \
             (password in ETCDCTL_PASSWORD)"
        ))
    }

    /// Adds the key pending, waits for every live node to hold it, then activates it.
    pub(crate) fn add_when_converged(
        ring: &Ring,
        args: &NewKeyArgs,
        timeout: Duration,
        min_nodes: usize,
    ) -> Result<(), Failure> {
        let source = ring.writable_etcd()?;
        let (id, algorithm, revision) = add_pending(ring, &source, args)?;
        out(format_args!(
            "added key {id:?} pending at revision {revision}; waiting for every live node to hold it"
        ))?;
        let nodes = wait_until_held(&source, (&id, algorithm), revision, timeout, min_nodes)?;
        let at = activate(&source, &id)?;
        out(format_args!(
            "key {id:?}: all {nodes} live node(s) hold it; it signs from {}",
            format_time(at)
        ))
    }

    fn add_pending(
        ring: &Ring,
        source: &EtcdSource,
        args: &NewKeyArgs,
    ) -> Result<(String, Algorithm, i64), Failure> {
        let (keyring, revision) = source.read(Arc::new(SystemClock))?.ok_or_else(|| {
            Failure::new(format!(
                "{ring} has no keyring yet; create one with: tokenring keyring init {ring}"
            ))
        })?;
        let key = new_key(args, Some(keyring.now() + PENDING_FOR), Some(&keyring))?;
        let (id, algorithm) = (key.id().to_owned(), key.algorithm());
        let updated = tokenring::rotation::add(&keyring, key).map_err(refused)?;
        let written = source.store(&updated, Some(revision))?;
        Ok((id, algorithm, written))
    }

    /// Polls the acknowledgements until every live node — at least `min_nodes` of them —
    /// reports a revision at or after `revision` holding `id`; the number of nodes, or an
    /// error naming those that lag (a node whose report cannot be trusted lags, named with
    /// why). Nodes on the public keyring never hold an HMAC key: for one, they are not
    /// waited for.
    fn wait_until_held(
        source: &EtcdSource,
        (id, algorithm): (&str, Algorithm),
        revision: i64,
        timeout: Duration,
        min_nodes: usize,
    ) -> Result<usize, Failure> {
        let deadline = Instant::now() + timeout;
        let mut shown = None;
        loop {
            // etcd may be between leaders: keep asking until the deadline.
            let nodes = match source.nodes() {
                Ok(nodes) => nodes,
                Err(error) if Instant::now() < deadline => {
                    eprintln!("tokenring: {error}; asking again");
                    std::thread::sleep(Duration::from_millis(500));
                    continue;
                }
                Err(error) => return Err(error.into()),
            };
            let nodes: Vec<NodeReport> = nodes.into_iter().filter(|n| n.needs(algorithm)).collect();
            let lagging: BTreeSet<String> = nodes
                .iter()
                .filter(|n| !n.holds(id, revision))
                .map(describe_lag)
                .collect();
            let too_few = nodes.len() < min_nodes;
            if lagging.is_empty() && !too_few {
                if nodes.is_empty() {
                    eprintln!(
                        "tokenring: warning: no node acknowledges this keyring (--min-nodes 0)"
                    );
                }
                return Ok(nodes.len());
            }
            let progress = if too_few {
                format!(
                    "{} live node(s) acknowledge this keyring, fewer than --min-nodes {min_nodes}; \
                     waiting (are the nodes started with --node-id?)",
                    nodes.len()
                )
            } else {
                format!(
                    "{} of {} live node(s) hold {id:?}; waiting for {}",
                    nodes.len() - lagging.len(),
                    nodes.len(),
                    lagging.iter().cloned().collect::<Vec<_>>().join(", ")
                )
            };
            if shown.as_ref() != Some(&progress) {
                eprintln!("tokenring: {progress}");
                shown = Some(progress);
            }
            if Instant::now() >= deadline {
                let why = if too_few {
                    format!(
                        "only {} live node(s) acknowledge it, fewer than --min-nodes {min_nodes} \
                         (--min-nodes 0 activates with none)",
                        nodes.len()
                    )
                } else {
                    format!(
                        "nodes that lag: {}",
                        lagging.into_iter().collect::<Vec<_>>().join(", ")
                    )
                };
                return Err(Failure::new(format!(
                    "timed out after {}: key {id:?} stays pending; {why}",
                    humantime::format_duration(timeout),
                )));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// A node that does not hold the key yet, as the operator reads it: its revision, or why its
    /// report is not trusted.
    fn describe_lag(node: &NodeReport) -> String {
        match &node.problem {
            Some(problem) => format!("{} ({problem})", node.node),
            None => format!("{} (revision {})", node.node, node.revision),
        }
    }

    /// Sets the key's `activates_at` to now plus the skew margin; retries a conflicting
    /// write (only this key's time is changed, on whatever the keyring is then).
    fn activate(source: &EtcdSource, id: &str) -> Result<SystemTime, Failure> {
        for _ in 0..5 {
            let Some((keyring, revision)) = source.read(Arc::new(SystemClock))? else {
                return Err(Failure::new("the keyring disappeared"));
            };
            let at = keyring.now() + SKEW_MARGIN;
            let updated = match tokenring::rotation::activate_at(&keyring, id, at) {
                Ok(updated) => updated,
                Err(tokenring::rotation::RotationError::UnknownKey { .. }) => {
                    return Err(Failure::new(format!("key {id:?} was removed meanwhile")));
                }
                Err(error) => return Err(refused(error)),
            };
            match source.store(&updated, Some(revision)) {
                Ok(_) => return Ok(at),
                Err(KeyringError::Conflict { .. }) => continue,
                Err(error) => return Err(error.into()),
            }
        }
        Err(Failure::new(format!(
            "key {id:?} could not be activated: the keyring keeps changing; it stays pending"
        )))
    }
}
