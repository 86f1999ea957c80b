//! Fleet commands on etcd keyrings: promotion once every live node holds a key, and each
//! node's acknowledgement.

use crate::Failure;
use crate::keyring_cmd::NewKeyArgs;
use crate::ring::Ring;

/// `tokenring fleet …`.
#[derive(clap::Subcommand)]
pub(crate) enum FleetCommand {
    /// Each node's acknowledged revision, keys and last error (etcd keyrings).
    Status {
        /// The keyring: etcd://HOST:PORT[,HOST:PORT…]/NAME.
        #[arg(value_name = "RING", value_parser = crate::ring::parse_ring)]
        ring: Ring,
    },
}

pub(crate) fn run(command: FleetCommand) -> Result<(), Failure> {
    match command {
        FleetCommand::Status { ring } => status(&ring),
    }
}

#[cfg(not(feature = "etcd"))]
fn status(ring: &Ring) -> Result<(), Failure> {
    Err(Failure::new(format!(
        "{ring}: fleet status needs an etcd keyring (cargo install --path cli --features etcd)"
    )))
}

#[cfg(not(feature = "etcd"))]
pub(crate) fn add_when_converged(
    ring: &Ring,
    _args: &NewKeyArgs,
    _timeout: std::time::Duration,
) -> Result<(), Failure> {
    Err(Failure::new(format!(
        "{ring}: --activate-when-converged needs an etcd keyring (cargo install --path cli --features etcd)"
    )))
}

#[cfg(feature = "etcd")]
pub(crate) use with_etcd::{add_when_converged, status};

#[cfg(feature = "etcd")]
mod with_etcd {
    use std::collections::BTreeSet;
    use std::sync::Arc;
    use std::time::{Duration, Instant, SystemTime};

    use tokenring::clock::SystemClock;
    use tokenring::error::KeyringError;
    use tokenring::keyring::{EtcdSource, NodeReport};
    use tokenring::{Key, Keyring};

    use super::{Failure, NewKeyArgs, Ring};
    use crate::keyring_cmd::{new_key, rebuild};
    use crate::{format_time, out};

    /// A pending key waits this long for promotion at most; in practice it is promoted (or
    /// the operator intervenes) long before.
    const PENDING_FOR: Duration = Duration::from_secs(365 * 24 * 3600);
    /// Activation after convergence leaves this much for clock skew between nodes.
    const SKEW_MARGIN: Duration = Duration::from_secs(5);

    pub(crate) fn status(ring: &Ring) -> Result<(), Failure> {
        let source = ring.etcd()?;
        let revision = source
            .read(Arc::new(SystemClock))?
            .map_or_else(|| "none".to_owned(), |(_, r)| r.to_string());
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
            out(format_args!(
                "{:<24}  {:>8}  {:<32}  {:<20}  {}",
                node.node,
                node.revision,
                node.keys.join(","),
                node.loaded_at,
                node.last_error.as_deref().unwrap_or("-")
            ))?;
        }
        Ok(())
    }

    /// Adds the key pending, waits for every live node to hold it, then activates it.
    pub(crate) fn add_when_converged(
        ring: &Ring,
        args: &NewKeyArgs,
        timeout: Duration,
    ) -> Result<(), Failure> {
        let source = ring.etcd()?;
        let (id, revision) = add_pending(ring, &source, args)?;
        out(format_args!(
            "added key {id:?} pending at revision {revision}; waiting for every live node to hold it"
        ))?;
        let nodes = wait_until_held(&source, &id, revision, timeout)?;
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
    ) -> Result<(String, i64), Failure> {
        let (keyring, revision) = source.read(Arc::new(SystemClock))?.ok_or_else(|| {
            Failure::new(format!(
                "{ring} has no keyring yet; create one with: tokenring keyring init {ring}"
            ))
        })?;
        let key = new_key(args, Some(keyring.now() + PENDING_FOR))?;
        let id = key.id().to_owned();
        let mut keys = vec![key];
        keys.extend(keyring.keys().iter().cloned());
        let updated = rebuild(&keyring, keys)?;
        let written = source.store(&updated, Some(revision))?;
        Ok((id, written))
    }

    /// Polls the acknowledgements until every live node reports a revision at or after
    /// `revision` holding `id`; the number of nodes, or an error naming those that lag.
    fn wait_until_held(
        source: &EtcdSource,
        id: &str,
        revision: i64,
        timeout: Duration,
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
            let holds = |n: &NodeReport| n.revision >= revision && n.keys.iter().any(|k| k == id);
            let lagging: BTreeSet<String> = nodes
                .iter()
                .filter(|n| !holds(n))
                .map(|n| format!("{} (revision {})", n.node, n.revision))
                .collect();
            if lagging.is_empty() {
                if nodes.is_empty() {
                    eprintln!("tokenring: warning: no node acknowledges this keyring");
                }
                return Ok(nodes.len());
            }
            let progress = format!(
                "{} of {} live node(s) hold {id:?}; waiting for {}",
                nodes.len() - lagging.len(),
                nodes.len(),
                lagging.iter().cloned().collect::<Vec<_>>().join(", ")
            );
            if shown.as_ref() != Some(&progress) {
                eprintln!("tokenring: {progress}");
                shown = Some(progress);
            }
            if Instant::now() >= deadline {
                return Err(Failure::new(format!(
                    "timed out after {}: key {id:?} stays pending; nodes that lag: {}",
                    humantime::format_duration(timeout),
                    lagging.into_iter().collect::<Vec<_>>().join(", ")
                )));
            }
            std::thread::sleep(Duration::from_millis(200));
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
            let keys: Vec<Key> = keyring
                .keys()
                .iter()
                .map(|k| {
                    if k.id() == id {
                        k.clone().with_activates_at(Some(at))
                    } else {
                        k.clone()
                    }
                })
                .collect();
            if !keys.iter().any(|k| k.id() == id) {
                return Err(Failure::new(format!("key {id:?} was removed meanwhile")));
            }
            let updated: Keyring = rebuild(&keyring, keys)?;
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
