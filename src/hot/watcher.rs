//! The background thread that notices a keyring file change and reloads it.
//!
//! It watches directories, not the file: renames over the file, delete-and-recreate and the
//! Kubernetes `..data` symlink swap replace the inode, and a watch on the old inode would be
//! lost with it. A directory reports much more than the keyring's changes, though — every
//! open and read of any file in it, the reloader's own read included — so each event is
//! filtered twice: by kind (opens, reads and closes without a write are not changes) and by
//! name (only the keyring's own name, its symbolic link's target and a `..data` link count).
//! Without that filter the reloader's read of the file queues the next reload, forever.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, Weak};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::gate::lock;
use super::publish::Shared;
use crate::source::Changes;

enum Message {
    Changed,
    Stop,
}

/// The background thread; stopped (and joined) when the hot keyring's last handle drops.
pub(super) struct Watcher {
    tx: mpsc::Sender<Message>,
    thread: Option<JoinHandle<()>>,
}

/// What makes the watcher reload.
pub(super) enum Trigger {
    /// File-system events on this path (polling every second if they are unavailable).
    Files { path: PathBuf, debounce: Duration },
    /// The source's own announcements ([`KeyringSource::announce`]).
    ///
    /// [`KeyringSource::announce`]: crate::KeyringSource::announce
    Announced { debounce: Duration },
    /// Nothing but a poll at this interval.
    Poll(Duration),
}

impl Watcher {
    /// Starts the thread; `Ok(None)` if there is nothing to watch (a source that can neither
    /// be watched as a file nor announce, in events mode).
    pub(super) fn start(shared: &Arc<Shared>, trigger: Trigger) -> std::io::Result<Option<Self>> {
        let (tx, rx) = mpsc::channel();
        // A safety poll catches anything events or announcements miss.
        const SAFETY_POLL: Duration = Duration::from_secs(30);
        const FALLBACK_POLL: Duration = Duration::from_secs(1);
        let (events, announcement, debounce, every) = match trigger {
            Trigger::Files { path, debounce } => {
                let path = std::path::absolute(path)?;
                match Events::start(&path, tx.clone()) {
                    Ok(events) => (Some(events), None, debounce, SAFETY_POLL),
                    Err(error) => {
                        tracing::warn!(
                            path = %path.display(),
                            %error,
                            "tokenring: file events unavailable; polling every second instead"
                        );
                        (None, None, debounce, FALLBACK_POLL)
                    }
                }
            }
            Trigger::Announced { debounce } => {
                let sender = tx.clone();
                let changes = Changes::new(move || {
                    let _ = sender.send(Message::Changed);
                });
                match shared.source.announce(changes) {
                    Ok(Some(announcement)) => (None, Some(announcement), debounce, SAFETY_POLL),
                    Ok(None) => return Ok(None),
                    Err(error) => {
                        tracing::warn!(
                            source = %shared.source_name,
                            %error,
                            "tokenring: the source cannot announce changes; polling every second instead"
                        );
                        (None, None, debounce, FALLBACK_POLL)
                    }
                }
            }
            Trigger::Poll(every) => (None, None, Duration::ZERO, every),
        };
        let weak = Arc::downgrade(shared);
        let thread = thread::Builder::new()
            .name("tokenring-watch".to_owned())
            .spawn(move || {
                // Announcing stops when this thread does.
                let _announcement = announcement;
                run(&weak, &rx, events, debounce, every);
            })?;
        Ok(Some(Self {
            tx,
            thread: Some(thread),
        }))
    }

    pub(super) fn stop(mut self) {
        let _ = self.tx.send(Message::Stop);
        if let Some(thread) = self.thread.take() {
            // The last handle may be dropped by the watcher thread itself, mid-reload; it
            // then finds the stop message when it returns to its loop.
            if thread.thread().id() != thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

fn run(
    shared: &Weak<Shared>,
    rx: &mpsc::Receiver<Message>,
    mut events: Option<Events>,
    debounce: Duration,
    every: Duration,
) {
    loop {
        match rx.recv_timeout(every) {
            Ok(Message::Changed) => {
                // Let the writer finish, and fold a burst of events into one reload.
                thread::sleep(debounce);
                loop {
                    match rx.try_recv() {
                        Ok(Message::Changed) => {}
                        Ok(Message::Stop) | Err(mpsc::TryRecvError::Disconnected) => return,
                        Err(mpsc::TryRecvError::Empty) => break,
                    }
                }
            }
            Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {}
        }
        let Some(shared) = shared.upgrade() else {
            return;
        };
        // Errors are reported inside; the loop keeps the last good keyring and waits. The
        // watcher waits for a `reload()` running beside it rather than skip a change.
        let _ = shared.reload(None);
        drop(shared);
        if let Some(events) = &mut events {
            // A symbolic link may now point into a directory not yet watched.
            events.refresh();
        }
    }
}

/// File-system events for the keyring's path, filtered down to the ones that can change it.
struct Events {
    watcher: notify::RecommendedWatcher,
    path: PathBuf,
    relevant: Arc<Mutex<Relevant>>,
}

impl Events {
    fn start(path: &Path, tx: mpsc::Sender<Message>) -> notify::Result<Self> {
        let relevant = Arc::new(Mutex::new(Relevant::default()));
        let filter = Arc::clone(&relevant);
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else {
                // An error (e.g. the event queue overflowed) may hide a change.
                let _ = tx.send(Message::Changed);
                return;
            };
            if is_change(&event.kind) && lock(&filter).matches(&event.paths) {
                let _ = tx.send(Message::Changed);
            }
        })?;
        let mut events = Self {
            watcher,
            path: path.to_owned(),
            relevant,
        };
        events.watch_new_directories()?;
        Ok(events)
    }

    /// Recomputes what is relevant and watches any directory the path now leads into.
    fn refresh(&mut self) {
        if let Err(error) = self.watch_new_directories() {
            tracing::warn!(
                path = %self.path.display(),
                %error,
                "tokenring: cannot watch the keyring's new link target; the safety poll covers it"
            );
        }
    }

    fn watch_new_directories(&mut self) -> notify::Result<()> {
        use notify::Watcher as _;
        let now = Relevant::of(&self.path);
        let new_dirs: Vec<PathBuf> = {
            let mut relevant = lock(&self.relevant);
            // Directories swapped away (old `..data` targets) are gone, and so are their watches.
            relevant.dirs.retain(|dir| dir.exists());
            for name in now.names {
                if !relevant.names.contains(&name) {
                    relevant.names.push(name);
                }
            }
            now.dirs
                .into_iter()
                .filter(|dir| !relevant.dirs.contains(dir))
                .collect()
        };
        // Not under the lock: `watch` waits for notify's event thread, which may be waiting
        // for the lock in the filter.
        for dir in new_dirs {
            self.watcher
                .watch(&dir, notify::RecursiveMode::NonRecursive)?;
            lock(&self.relevant).dirs.push(dir);
        }
        Ok(())
    }
}

/// Whether an event can mean new content: anything but an open, a read or a close after
/// reading (a close after writing is how an in-place write ends).
fn is_change(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode, EventKind};
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

/// The watched directories and the names in them that lead to the keyring.
#[derive(Default, Debug, PartialEq)]
struct Relevant {
    dirs: Vec<PathBuf>,
    names: Vec<OsString>,
}

impl Relevant {
    /// For `/etc/app/keyring.json` a symbolic link to `..data/keyring.json` (a Kubernetes
    /// mount): the directory `/etc/app` with the names `keyring.json` and `..data`, and the
    /// target's directory with the target's name.
    fn of(path: &Path) -> Self {
        let mut relevant = Self {
            dirs: vec![parent(path)],
            names: vec![OsString::from("..data")],
        };
        relevant.add_name(path);
        if let Ok(link) = std::fs::read_link(path) {
            // A relative link's first step (`..data` above) is swapped to retarget it.
            if let Some(Component::Normal(first)) = link.components().next()
                && link.is_relative()
            {
                relevant.names.push(first.to_owned());
            }
        }
        if let Ok(target) = std::fs::canonicalize(path) {
            let dir = parent(&target);
            if !relevant.dirs.contains(&dir) {
                relevant.dirs.push(dir);
            }
            relevant.add_name(&target);
        }
        relevant
    }

    fn add_name(&mut self, path: &Path) {
        if let Some(name) = path.file_name()
            && !self.names.iter().any(|n| n == name)
        {
            self.names.push(name.to_owned());
        }
    }

    /// An event without paths (a rescan) may be about anything, so it counts.
    fn matches(&self, paths: &[PathBuf]) -> bool {
        paths.is_empty()
            || paths.iter().any(|p| {
                p.file_name()
                    .is_some_and(|n| self.names.iter().any(|m| m == n))
                    && p.parent().is_some_and(|d| self.dirs.iter().any(|w| w == d))
            })
    }
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changes_to_the_keyring_count() {
        use notify::event::{AccessKind, AccessMode, CreateKind, EventKind, ModifyKind};
        assert!(!is_change(&EventKind::Access(AccessKind::Open(
            AccessMode::Any
        ))));
        assert!(!is_change(&EventKind::Access(AccessKind::Read)));
        assert!(!is_change(&EventKind::Access(AccessKind::Close(
            AccessMode::Read
        ))));
        assert!(is_change(&EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))));
        assert!(is_change(&EventKind::Create(CreateKind::File)));
        assert!(is_change(&EventKind::Modify(ModifyKind::Any)));

        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let path = dir.join("keyring.json");
        let relevant = Relevant::of(&path);
        assert!(relevant.matches(std::slice::from_ref(&path)));
        assert!(relevant.matches(&[dir.join("..data")]));
        assert!(relevant.matches(&[]));
        assert!(!relevant.matches(&[dir.join("other.json")]));
        assert!(!relevant.matches(&[dir.join("sub").join("keyring.json")]));
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_brings_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let dir = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(dir.join("..2026_01")).unwrap();
        std::fs::write(dir.join("..2026_01").join("ring.json"), "{}").unwrap();
        std::os::unix::fs::symlink("..2026_01", dir.join("..data")).unwrap();
        std::os::unix::fs::symlink("..data/ring.json", dir.join("keyring.json")).unwrap();
        let relevant = Relevant::of(&dir.join("keyring.json"));
        assert_eq!(relevant.dirs, [dir.clone(), dir.join("..2026_01")]);
        assert!(relevant.matches(&[dir.join("..2026_01").join("ring.json")]));
        assert!(relevant.matches(&[dir.join("..data")]));
        assert!(!relevant.matches(&[dir.join("..2026_01").join("other")]));
    }
}
