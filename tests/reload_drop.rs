//! Dropping the last handle stops the watcher thread. Alone in its binary so that no other
//! test's watcher is counted.
#![cfg(feature = "hot")]

use std::time::{Duration, Instant};

use tokenring::{FileSource, HotKeyring, Verifier};

fn watcher_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim() == "tokenring-watch")
        .count()
}

/// The count once it settles on `n` (threads name themselves when they start, and the kernel
/// reaps them a moment after they end), or whatever it is after a second.
fn watcher_threads_settle_at(n: usize) -> usize {
    let start = Instant::now();
    while watcher_threads() != n && start.elapsed() < Duration::from_secs(1) {
        std::thread::sleep(Duration::from_millis(5));
    }
    watcher_threads()
}

#[test]
fn dropping_the_last_handle_stops_the_watcher() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyring.json");
    std::fs::write(
        &path,
        r#"{"keys": [{"id": "k1", "secret": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}]}"#,
    )
    .unwrap();
    assert_eq!(watcher_threads(), 0);
    let hot = HotKeyring::builder(FileSource::new(&path)).build().unwrap();
    let clone = hot.clone();
    let verifier = Verifier::new(&hot, "s");
    assert_eq!(watcher_threads_settle_at(1), 1);
    drop(hot);
    drop(clone);
    assert_eq!(watcher_threads(), 1, "the verifier still holds a handle");
    drop(verifier);
    assert_eq!(watcher_threads_settle_at(0), 0);
}
