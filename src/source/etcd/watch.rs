//! Watching the keyring's key: announce each change, resume after interruptions, never miss
//! an update.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use etcd_client::WatchOptions;

use super::{Endpoint, Inner};
use crate::source::Changes;

/// Stops the watch task when the hot keyring stops.
pub(super) struct AbortOnDrop(pub(super) tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Watches the key for as long as the hot keyring runs, announcing each change; reconnects
/// with backoff and announces once after every interruption, so a reload catches whatever
/// the stream may have missed.
pub(super) async fn watch(inner: Arc<Inner>, changes: Changes) {
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
pub(super) async fn watch_from(
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
