//! Hot reload on real files: every write pattern deployments use is picked up within a
//! second, and no bad file ever replaces a good keyring.
#![cfg(feature = "hot")]

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{hours, key, t0};
use tokenring::clock::ManualClock;
use tokenring::hot::{ReloadEvent, WatchMode};
use tokenring::{FileSource, HotKeyring, Key, Keyring, TokenOptions, Verifier, VerifyError};

const WITHIN: Duration = Duration::from_secs(1);

fn json(keys: Vec<Key>) -> String {
    Keyring::new_with_clock(keys, Arc::new(ManualClock::new(t0())))
        .unwrap()
        .to_json()
        .to_string()
}

fn one() -> String {
    json(vec![key("k1", 1)])
}

fn two() -> String {
    json(vec![key("k2", 2), key("k1", 1)])
}

/// Polls `done` until it holds or `limit` passes; returns how long it took.
fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    done().then(|| start.elapsed())
}

struct Setup {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    path: PathBuf,
    hot: HotKeyring,
    verifier: Verifier,
    events: Arc<Mutex<Vec<ReloadEvent>>>,
}

fn setup_at(dir: tempfile::TempDir, path: PathBuf, mode: WatchMode) -> Setup {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let hot = HotKeyring::builder(FileSource::new(&path))
        .mode(mode)
        .on_reload(move |e| sink.lock().unwrap().push(e.clone()))
        .build()
        .unwrap();
    let verifier = Verifier::new(&hot, "reload");
    Setup {
        dir: dir.path().to_owned(),
        _dir: dir,
        path,
        hot,
        verifier,
        events,
    }
}

fn setup(mode: WatchMode) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyring.json");
    std::fs::write(&path, one()).unwrap();
    setup_at(dir, path, mode)
}

fn signer(verifier: &Verifier) -> String {
    let token = verifier.generate(&1, TokenOptions::new()).unwrap();
    token.split('.').nth(1).unwrap().to_owned()
}

fn assert_picks_up(s: &Setup, write: impl FnOnce(&Setup)) {
    let old = s.verifier.generate(&"old", TokenOptions::new()).unwrap();
    assert_eq!(signer(&s.verifier), "k1");
    write(s);
    let took = wait_for(WITHIN, || signer(&s.verifier) == "k2")
        .unwrap_or_else(|| panic!("not picked up within {WITHIN:?}: {:?}", s.hot.status()));
    eprintln!("picked up in {took:?}");
    assert!(s.hot.generation() >= 2);
    // Tokens signed before the reload still verify.
    let verified = s.verifier.verify::<String>(&old, None).unwrap();
    assert!(!verified.is_current_key);
    assert_eq!(s.hot.status().last_error, None);
}

fn rename_into_place(path: &Path, text: &str) {
    let temp = path.with_extension("tmp");
    std::fs::write(&temp, text).unwrap();
    std::fs::rename(&temp, path).unwrap();
}

#[test]
fn write_in_place() {
    let s = setup(WatchMode::Events);
    assert_picks_up(&s, |s| std::fs::write(&s.path, two()).unwrap());
}

#[test]
fn write_temp_then_rename() {
    let s = setup(WatchMode::Events);
    assert_picks_up(&s, |s| rename_into_place(&s.path, &two()));
}

#[test]
fn delete_then_recreate() {
    let s = setup(WatchMode::Events);
    assert_picks_up(&s, |s| {
        std::fs::remove_file(&s.path).unwrap();
        std::thread::sleep(Duration::from_millis(150));
        // While the file is missing the old keyring stays in force.
        assert_eq!(signer(&s.verifier), "k1");
        std::fs::write(&s.path, two()).unwrap();
    });
}

/// The Kubernetes Secret/ConfigMap volume layout: keyring.json -> ..data/keyring.json, and
/// ..data -> ..<timestamp>; an update writes a new timestamped directory and renames a new
/// ..data link over the old one.
#[test]
fn kubernetes_data_symlink_swap() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_owned();
    std::fs::create_dir(d.join("..2026_11_22_01")).unwrap();
    std::fs::write(d.join("..2026_11_22_01/keyring.json"), one()).unwrap();
    symlink("..2026_11_22_01", d.join("..data")).unwrap();
    symlink("..data/keyring.json", d.join("keyring.json")).unwrap();
    let s = setup_at(dir, d.join("keyring.json"), WatchMode::Events);
    assert_picks_up(&s, |s| {
        swap_data(&s.dir, "..2026_11_22_02", &two(), "..2026_11_22_01")
    });
}

fn swap_data(dir: &Path, new: &str, text: &str, old: &str) {
    std::fs::create_dir(dir.join(new)).unwrap();
    std::fs::write(dir.join(new).join("keyring.json"), text).unwrap();
    symlink(new, dir.join("..data_tmp")).unwrap();
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    std::fs::remove_dir_all(dir.join(old)).unwrap();
}

#[test]
fn polling_mode_picks_up_changes() {
    let s = setup(WatchMode::Poll(Duration::from_millis(100)));
    assert_picks_up(&s, |s| rename_into_place(&s.path, &two()));
}

#[test]
fn manual_mode_waits_for_reload() {
    let s = setup(WatchMode::Manual);
    rename_into_place(&s.path, &two());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(signer(&s.verifier), "k1");
    assert!(s.hot.reload().unwrap());
    assert_eq!(signer(&s.verifier), "k2");
    assert!(
        !s.hot.reload().unwrap(),
        "unchanged content is not a new generation"
    );
    assert_eq!(s.hot.generation(), 2);
}

#[test]
fn bad_files_never_replace_the_good_keyring() {
    let s = setup(WatchMode::Events);
    let old = s.verifier.generate(&"old", TokenOptions::new()).unwrap();
    let full = two();
    let bad: Vec<(&str, BadWrite)> = vec![
        (
            "invalid JSON",
            Box::new(|p| std::fs::write(p, "{not json").unwrap()),
        ),
        ("empty", Box::new(|p| std::fs::write(p, "").unwrap())),
        ("half-written", {
            let half = full[..full.len() / 2].to_owned();
            Box::new(move |p| std::fs::write(p, &half).unwrap())
        }),
        (
            "unknown field",
            Box::new(|p| std::fs::write(p, one().replace("\"id\"", "\"kid\"")).unwrap()),
        ),
        (
            "no usable key",
            Box::new(|p| {
                std::fs::write(
                    p,
                    one().replace("\"id\": \"k1\",", "\"id\": \"k1\", \"disabled\": true,"),
                )
                .unwrap()
            }),
        ),
        ("missing", Box::new(|p| std::fs::remove_file(p).unwrap())),
    ];
    for (what, write) in bad {
        let refused_before = count_refused(&s.events);
        write(&s.path);
        wait_for(WITHIN, || s.hot.status().last_error.is_some())
            .unwrap_or_else(|| panic!("{what}: error not reported: {:?}", s.hot.status()));
        assert!(
            count_refused(&s.events) > refused_before,
            "{what}: no Refused event"
        );
        assert_eq!(s.hot.generation(), 1, "{what}");
        assert_eq!(signer(&s.verifier), "k1", "{what}");
        assert_eq!(
            s.verifier.verify::<String>(&old, None).unwrap().value,
            "old",
            "{what}"
        );
        // Restore the good file: the error clears, still generation 1 (same content).
        std::fs::write(&s.path, one()).unwrap();
        wait_for(WITHIN, || s.hot.status().last_error.is_none())
            .unwrap_or_else(|| panic!("{what}: error not cleared: {:?}", s.hot.status()));
    }
    // And the next valid new file is picked up.
    rename_into_place(&s.path, &two());
    wait_for(WITHIN, || signer(&s.verifier) == "k2").expect("good file after bad ones");
    assert_eq!(s.hot.generation(), 2);
}

/// Writes one kind of bad keyring file at the path.
type BadWrite = Box<dyn Fn(&Path)>;

fn count_refused(events: &Mutex<Vec<ReloadEvent>>) -> usize {
    events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, ReloadEvent::Refused { .. }))
        .count()
}

#[test]
fn pending_key_activates_by_the_clock_without_a_reload() {
    let clock = Arc::new(ManualClock::new(t0()));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyring.json");
    std::fs::write(
        &path,
        json(vec![
            key("next", 2).with_activates_at(Some(t0() + hours(1))),
            key("k1", 1),
        ]),
    )
    .unwrap();
    let hot = HotKeyring::builder(FileSource::new(&path))
        .clock(clock.clone())
        .mode(WatchMode::Manual)
        .build()
        .unwrap();
    let verifier = Verifier::new(&hot, "s");
    assert_eq!(signer(&verifier), "k1");
    clock.advance(hours(1));
    assert_eq!(signer(&verifier), "next");
    assert_eq!(hot.generation(), 1);
}

#[test]
fn verification_counters_and_rotation_hook() {
    let s = setup(WatchMode::Manual);
    let rotated = Arc::new(AtomicUsize::new(0));
    let seen = rotated.clone();
    let verifier = Verifier::builder(&s.hot)
        .salt("reload")
        .on_rotation(move |r| {
            assert_eq!(
                (r.key_id, r.signing_key_id, r.salt),
                ("k1", Some("k2"), "reload")
            );
            seen.fetch_add(1, Ordering::SeqCst);
        })
        .build();
    let old = verifier.generate(&1, TokenOptions::new()).unwrap();
    verifier.verify::<u8>(&old, None).unwrap();
    assert_eq!(rotated.load(Ordering::SeqCst), 0);

    rename_into_place(&s.path, &two());
    s.hot.reload().unwrap();
    let new = verifier.generate(&1, TokenOptions::new()).unwrap();
    for _ in 0..3 {
        verifier.verify::<u8>(&old, None).unwrap();
    }
    verifier.verify::<u8>(&new, None).unwrap();
    assert!(verifier.verify::<u8>(&(new.clone() + "x"), None).is_err());
    assert_eq!(rotated.load(Ordering::SeqCst), 3);

    let status = s.hot.status();
    let count = |id: &str| {
        status
            .keys
            .iter()
            .find(|k| k.id == id)
            .unwrap()
            .verified_count
    };
    assert_eq!(
        (count("k1"), count("k2")),
        (3, 1),
        "counted since this snapshot loaded"
    );
    assert!(status.keys.iter().find(|k| k.id == "k2").unwrap().signing);
    assert!(status.source.contains("keyring.json"));
    assert!(!format!("{status:?}").contains("secret"));
}

#[test]
fn pruned_keys_are_rejected_after_reload() {
    let s = setup(WatchMode::Manual);
    rename_into_place(&s.path, &two());
    s.hot.reload().unwrap();
    let by_k1 = {
        let only_k1 = Verifier::new(Keyring::new(vec![key("k1", 1)]).unwrap(), "reload");
        only_k1.generate(&1, TokenOptions::new()).unwrap()
    };
    assert!(s.verifier.verify::<u8>(&by_k1, None).is_ok());
    rename_into_place(&s.path, &json(vec![key("k2", 2)]));
    s.hot.reload().unwrap();
    assert_eq!(
        s.verifier.verify::<u8>(&by_k1, None),
        Err(VerifyError::UnknownKey {
            key_id: "k1".into()
        })
    );
}

#[test]
fn first_load_must_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyring.json");
    assert!(HotKeyring::builder(FileSource::new(&path)).build().is_err());
    std::fs::write(&path, "{}").unwrap();
    assert!(HotKeyring::builder(FileSource::new(&path)).build().is_err());
}

/// Threads sign and verify without pause while the keyring file is rewritten hundreds of
/// times, by rename and by `..data` symlink swap, always keeping every key: not one
/// verification may fail, and no thread may see the generation go back.
#[test]
fn concurrent_readers_during_hundreds_of_rewrites() {
    let keys = |signing: usize, n: usize| {
        let mut keys: Vec<Key> = (0..8).map(|i| key(&format!("k{i}"), i as u8 + 1)).collect();
        keys.rotate_left(signing % 8); // the first in the file signs
        let ring = Keyring::new_with_clock(keys, Arc::new(ManualClock::new(t0()))).unwrap();
        ring.with_description(Some(format!("write {n}")))
            .to_json()
            .to_string()
    };

    // By rename.
    let renamed = setup(WatchMode::Events);
    std::fs::write(&renamed.path, keys(0, 0)).unwrap();
    renamed.hot.reload().unwrap();
    // By symlink swap.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_owned();
    std::fs::create_dir(d.join("..v0")).unwrap();
    std::fs::write(d.join("..v0/keyring.json"), keys(0, 0)).unwrap();
    symlink("..v0", d.join("..data")).unwrap();
    symlink("..data/keyring.json", d.join("keyring.json")).unwrap();
    let swapped = setup_at(dir, d.join("keyring.json"), WatchMode::Events);

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = Vec::new();
    for setup in [&renamed, &swapped] {
        for t in 0..2u64 {
            let verifier = setup.verifier.clone();
            let hot = setup.hot.clone();
            let stop = stop.clone();
            readers.push(std::thread::spawn(move || {
                let mut last_generation = 0;
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let generation = hot.generation();
                    assert!(generation >= last_generation, "generation went back");
                    last_generation = generation;
                    let token = verifier.generate(&(t, n), TokenOptions::new()).unwrap();
                    assert_eq!(
                        verifier.verify::<(u64, u64)>(&token, None).unwrap().value,
                        (t, n)
                    );
                    n += 1;
                }
                (n, last_generation)
            }));
        }
    }
    for n in 1..=300 {
        rename_into_place(&renamed.path, &keys(n, n));
        swap_data(
            &d,
            &format!("..v{n}"),
            &keys(n, n),
            &format!("..v{}", n - 1),
        );
        std::thread::sleep(Duration::from_millis(3));
    }
    // Both converge on the last file.
    for setup in [&renamed, &swapped] {
        wait_for(WITHIN, || {
            signer(&setup.verifier) == format!("k{}", 300 % 8)
        })
        .expect("converged on the last write");
    }
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        let (verified, generation) = reader.join().expect("a reader failed");
        assert!(verified > 100, "{verified}");
        assert!(generation > 2, "{generation}");
    }
    eprintln!(
        "generations: rename {}, symlink swap {}",
        renamed.hot.generation(),
        swapped.hot.generation()
    );
}

#[test]
fn refusals_are_traced_and_listeners_may_read_the_status() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyring.json");
    std::fs::write(&path, one()).unwrap();
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let cell: Arc<Mutex<Option<HotKeyring>>> = Arc::new(Mutex::new(None));
    let (sink, handle) = (statuses.clone(), cell.clone());
    let hot = HotKeyring::builder(FileSource::new(&path))
        .mode(WatchMode::Manual)
        .on_reload(move |_| {
            // Reading the status from a listener must not deadlock.
            if let Some(hot) = handle.lock().unwrap().as_ref() {
                sink.lock().unwrap().push(hot.status().last_error);
            }
        })
        .build()
        .unwrap();
    *cell.lock().unwrap() = Some(hot.clone());

    let log = crate::common::traced(tracing::Level::INFO, || {
        std::fs::write(&path, "{").unwrap();
        assert!(hot.reload().is_err());
        rename_into_place(&path, &two());
        assert!(hot.reload().unwrap());
    });
    assert!(
        log.contains("WARN") && log.contains("keyring refused"),
        "{log}"
    );
    assert!(
        log.contains("INFO") && log.contains("keyring reloaded") && log.contains("generation=2"),
        "{log}"
    );
    assert!(
        !log.contains("AQEBAQEB") && !log.contains("AgICAgIC"),
        "no secrets in logs: {log}"
    );
    let statuses = statuses.lock().unwrap();
    assert_eq!(statuses.len(), 2);
    assert!(
        statuses[0].is_some() && statuses[1].is_none(),
        "{statuses:?}"
    );
    cell.lock().unwrap().take();
}

#[test]
fn status_does_not_wait_for_a_reload_in_progress() {
    use std::sync::mpsc;
    use tokenring::clock::Clock;
    use tokenring::{KeyringError, KeyringSource};

    /// A secrets manager whose second answer waits until the test releases it.
    struct Blocking {
        calls: AtomicUsize,
        entered: Mutex<mpsc::Sender<()>>,
        release: Mutex<mpsc::Receiver<()>>,
    }
    impl KeyringSource for Blocking {
        fn load(&self, clock: Arc<dyn Clock>) -> Result<Keyring, KeyringError> {
            if self.calls.fetch_add(1, Ordering::SeqCst) > 0 {
                self.entered.lock().unwrap().send(()).unwrap();
                self.release.lock().unwrap().recv().unwrap();
            }
            Keyring::new_with_clock(vec![key("k1", 1)], clock)
        }
        fn describe(&self) -> String {
            "blocking secrets manager".to_owned()
        }
    }

    let (entered_tx, entered) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    let source = Blocking {
        calls: AtomicUsize::new(0),
        entered: Mutex::new(entered_tx),
        release: Mutex::new(release_rx),
    };
    let hot = HotKeyring::builder(source).build().unwrap();
    let reloading = {
        let hot = hot.clone();
        std::thread::spawn(move || hot.reload())
    };
    entered.recv().unwrap(); // the reload is inside the source, holding the reload lock
    let (status_tx, status_rx) = mpsc::channel();
    let reader = hot.clone();
    std::thread::spawn(move || status_tx.send(reader.status()).unwrap());
    let status = status_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("status() waited for the reload");
    assert_eq!(
        (status.generation, status.source.as_str()),
        (1, "blocking secrets manager")
    );
    release.send(()).unwrap();
    assert!(!reloading.join().unwrap().unwrap(), "same keys: unchanged");
}

/// Log lines from every thread (the watcher's included), for the tests that count them. Each
/// test counts only the lines naming its own file, so tests running beside it do not interfere.
fn global_log() -> &'static Mutex<Vec<u8>> {
    use std::sync::OnceLock;
    static LOG: OnceLock<&'static Mutex<Vec<u8>>> = OnceLock::new();
    LOG.get_or_init(|| {
        struct Sink(&'static Mutex<Vec<u8>>);
        impl std::io::Write for Sink {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let log: &'static Mutex<Vec<u8>> = Box::leak(Box::default());
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || Sink(log))
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        log
    })
}

fn log_lines(about: &Path, containing: &str) -> usize {
    let log = String::from_utf8_lossy(&global_log().lock().unwrap()).into_owned();
    let about = about.display().to_string();
    log.lines()
        .filter(|l| l.contains(&about) && l.contains(containing))
        .count()
}

fn count(events: &Mutex<Vec<ReloadEvent>>, which: fn(&ReloadEvent) -> bool) -> usize {
    events.lock().unwrap().iter().filter(|e| which(e)).count()
}

/// The reloader's own read of the file, another process reading it and writes to other files
/// in its directory are not changes: the source is not read again. A broken file is reported
/// once, and its repair back to the same content is reported as a recovery.
#[test]
fn the_reloader_stays_idle() {
    global_log();
    let s = setup(WatchMode::Events);
    // The first rotation used to start an endless loop of self-triggered reloads.
    rename_into_place(&s.path, &two());
    wait_for(WITHIN, || s.hot.generation() == 2).expect("rotation picked up");
    std::thread::sleep(Duration::from_millis(300));
    let loads = s.hot.status().loads;
    let settle = || std::thread::sleep(Duration::from_millis(1500));

    settle();
    assert_eq!(s.hot.status().loads - loads, 0, "idle file");

    for _ in 0..20 {
        std::fs::read(&s.path).unwrap();
    }
    let cat = std::process::Command::new("cat")
        .arg(&s.path)
        .output()
        .unwrap();
    assert!(cat.status.success());
    settle();
    assert_eq!(s.hot.status().loads - loads, 0, "after reads");

    std::fs::write(s.dir.join("other.json"), "{}").unwrap();
    rename_into_place(&s.dir.join("notes.txt"), "beside it");
    std::fs::remove_file(s.dir.join("other.json")).unwrap();
    settle();
    assert_eq!(s.hot.status().loads - loads, 0, "after writes beside it");
    assert_eq!(s.hot.generation(), 2);

    let is_refused: fn(&ReloadEvent) -> bool = |e| matches!(e, ReloadEvent::Refused { .. });
    std::fs::write(&s.path, "{not json").unwrap();
    wait_for(WITHIN, || s.hot.status().last_error.is_some()).expect("refusal reported");
    settle();
    let status = s.hot.status();
    assert!(
        status.loads - loads <= 2,
        "a broken file is read once per change, not forever: {status:?}"
    );
    assert_eq!(count(&s.events, is_refused), 1);
    assert_eq!(log_lines(&s.path, "keyring refused"), 1);

    // The same content as before the breakage: nothing to publish, but say it recovered.
    rename_into_place(&s.path, &two());
    let recovery = |e: &ReloadEvent| matches!(e, ReloadEvent::Recovered { generation: 2 });
    // The event, not `last_error`: listeners hear it just after the status clears, so a
    // loaded machine can see one before the other.
    wait_for(5 * WITHIN, || count(&s.events, recovery) > 0).expect("recovery");
    assert!(s.hot.status().last_error.is_none());
    assert_eq!(s.hot.generation(), 2);
    let recovered = count(&s.events, recovery);
    assert_eq!(recovered, 1, "{:?}", s.events.lock().unwrap());
    assert_eq!(log_lines(&s.path, "keyring source recovered"), 1);
}

/// A FIFO at the path used to block the watcher in `open` forever, holding the reload lock.
#[test]
fn a_fifo_at_the_path_is_refused_without_blocking() {
    let s = setup(WatchMode::Events);
    let fifo = s.dir.join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    std::fs::rename(&fifo, &s.path).unwrap();
    wait_for(WITHIN, || s.hot.status().last_error.is_some()).expect("FIFO refused");
    let error = s.hot.status().last_error.unwrap();
    assert!(
        error.to_string().contains("is a FIFO, not a regular file"),
        "{error}"
    );
    match s.hot.reload() {
        Err(tokenring::KeyringError::File {
            problem: tokenring::error::FileProblem::NotRegular("a FIFO"),
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    // A good file after it is still picked up.
    rename_into_place(&s.path, &two());
    wait_for(WITHIN, || signer(&s.verifier) == "k2").expect("good file after the FIFO");
    assert_eq!(s.hot.status().last_error, None);
}

#[test]
fn oversized_files_and_too_many_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyring.json");
    std::fs::write(&path, one()).unwrap();
    let hot = HotKeyring::builder(FileSource::new(&path).max_bytes(one().len() as u64))
        .mode(WatchMode::Manual)
        .build()
        .unwrap();
    std::fs::write(&path, two()).unwrap();
    let err = hot.reload().unwrap_err();
    assert!(err.to_string().contains("over the limit of"), "{err}");
    assert_eq!(hot.generation(), 1);

    let keys = (0..=Keyring::MAX_KEYS)
        .map(|i| key(&format!("k{i}"), 1))
        .collect();
    let err = Keyring::new(keys).unwrap_err();
    assert!(
        matches!(
            err,
            tokenring::KeyringError::TooManyKeys {
                count: 1025,
                max: 1024
            }
        ),
        "{err}"
    );
}

/// `reload()` (the SIGHUP path) must not hang behind a source that hangs.
#[test]
fn reload_gives_up_on_a_reload_that_hangs_and_status_shows_it() {
    use std::sync::mpsc;
    use tokenring::clock::Clock;
    use tokenring::{KeyringError, KeyringSource};

    struct Hanging {
        calls: AtomicUsize,
        entered: Mutex<mpsc::Sender<()>>,
        release: Mutex<mpsc::Receiver<()>>,
    }
    impl KeyringSource for Hanging {
        fn load(&self, clock: Arc<dyn Clock>) -> Result<Keyring, KeyringError> {
            if self.calls.fetch_add(1, Ordering::SeqCst) == 1 {
                self.entered.lock().unwrap().send(()).unwrap();
                self.release.lock().unwrap().recv().unwrap();
            }
            Keyring::new_with_clock(vec![key("k1", 1)], clock)
        }
        fn describe(&self) -> String {
            "a hung mount".to_owned()
        }
    }

    let (entered_tx, entered) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    let hot = HotKeyring::builder(Hanging {
        calls: AtomicUsize::new(0),
        entered: Mutex::new(entered_tx),
        release: Mutex::new(release_rx),
    })
    .reload_wait(Duration::from_millis(200))
    .build()
    .unwrap();
    assert_eq!(hot.status().reloading_since, None);
    let hung = {
        let hot = hot.clone();
        std::thread::spawn(move || hot.reload())
    };
    entered.recv().unwrap();
    assert!(hot.status().reloading_since.is_some());
    match hot.reload() {
        Err(err @ KeyringError::ReloadInProgress { .. }) => {
            assert!(
                err.to_string()
                    .starts_with("a reload is already running (since ")
            );
        }
        other => panic!("{other:?}"),
    }
    release.send(()).unwrap();
    assert!(!hung.join().unwrap().unwrap());
    assert_eq!(hot.status().reloading_since, None);
    assert!(!hot.reload().unwrap(), "the gate opens again");
}

#[test]
fn a_zero_poll_interval_does_not_spin() {
    let s = setup(WatchMode::Poll(Duration::ZERO));
    let loads = s.hot.status().loads;
    std::thread::sleep(Duration::from_secs(1));
    let polled = s.hot.status().loads - loads;
    assert!(
        polled <= 12,
        "{polled} loads in a second: not raised to the minimum"
    );
    assert_picks_up(&s, |s| rename_into_place(&s.path, &two()));
}

#[test]
fn demo_keyrings_are_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyring.json");
    let demo = Keyring::new_with_clock(vec![key("k1", 1)], Arc::new(ManualClock::new(t0())))
        .unwrap()
        .with_demo(true);
    std::fs::write(&path, demo.to_json()).unwrap();
    global_log();
    let hot = HotKeyring::builder(FileSource::new(&path))
        .mode(WatchMode::Manual)
        .build()
        .unwrap();
    assert!(hot.status().demo);
    assert_eq!(log_lines(&path, "DEMO keyring"), 1);
}

/// A store that is not a file: a value and a revision, changed by the test, announced or not.
struct Store {
    state: Mutex<(String, u64)>,
    changes: Mutex<Option<tokenring::source::Changes>>,
    announces: bool,
}

impl Store {
    fn new(text: String, announces: bool) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new((text, 1)),
            changes: Mutex::new(None),
            announces,
        })
    }

    fn put(&self, text: String) {
        let mut state = self.state.lock().unwrap();
        *state = (text, state.1 + 1);
        drop(state);
        if let Some(changes) = &*self.changes.lock().unwrap() {
            changes.changed();
        }
    }
}

struct StoreSource(Arc<Store>);

impl tokenring::KeyringSource for StoreSource {
    fn load(
        &self,
        clock: Arc<dyn tokenring::clock::Clock>,
    ) -> Result<Keyring, tokenring::KeyringError> {
        Ok(self.load_revision(clock)?.keyring)
    }
    fn load_revision(
        &self,
        clock: Arc<dyn tokenring::clock::Clock>,
    ) -> Result<tokenring::source::Versioned, tokenring::KeyringError> {
        let (text, revision) = self.0.state.lock().unwrap().clone();
        let keyring = Keyring::from_json_with_clock(&text, clock)?;
        Ok(tokenring::source::Versioned::new(
            keyring,
            Some(revision.to_string()),
        ))
    }
    fn describe(&self) -> String {
        "test store".to_owned()
    }
    fn announce(
        &self,
        changes: tokenring::source::Changes,
    ) -> Result<Option<tokenring::source::Announcement>, tokenring::KeyringError> {
        if !self.0.announces {
            return Ok(None);
        }
        *self.0.changes.lock().unwrap() = Some(changes);
        Ok(Some(tokenring::source::Announcement::new(())))
    }
}

/// Any source reloads: one that announces its changes in events mode, and one that cannot
/// in poll mode; both report their revision, and a bad value is refused like a bad file.
#[test]
fn sources_that_are_not_files_announce_or_are_polled() {
    for (announces, mode) in [
        (true, WatchMode::Events),
        (false, WatchMode::Poll(Duration::from_millis(100))),
    ] {
        let store = Store::new(one(), announces);
        let hot = HotKeyring::builder(StoreSource(store.clone()))
            .mode(mode)
            .build()
            .unwrap();
        let verifier = Verifier::new(&hot, "store");
        assert_eq!(hot.status().revision.as_deref(), Some("1"));
        let old = verifier.generate(&"old", TokenOptions::new()).unwrap();

        store.put(two());
        wait_for(WITHIN, || signer(&verifier) == "k2")
            .unwrap_or_else(|| panic!("{mode:?}: not picked up: {:?}", hot.status()));
        assert_eq!(hot.status().revision.as_deref(), Some("2"), "{mode:?}");
        assert_eq!(verifier.verify::<String>(&old, None).unwrap().value, "old");

        store.put("{not a keyring".to_owned());
        wait_for(WITHIN, || hot.status().last_error.is_some()).expect("refused");
        assert_eq!(
            signer(&verifier),
            "k2",
            "{mode:?}: the last good keyring stays"
        );
        assert_eq!(hot.status().revision.as_deref(), Some("2"), "{mode:?}");
    }
    // Events mode with a source that can neither be watched nor announce: loaded once.
    let store = Store::new(one(), false);
    let hot = HotKeyring::builder(StoreSource(store.clone()))
        .build()
        .unwrap();
    store.put(two());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(hot.status().loads, 1);
    assert!(hot.reload().unwrap(), "reload() still reads it");
}

/// A verify-only node follows a public keyring file like any other: a new key pair's public
/// key is picked up, a file with a broken public key is refused with the entry named while
/// the last good keyring keeps verifying, and the node never holds a secret.
#[cfg(feature = "jose")]
#[test]
fn a_public_keyring_file_hot_reloads_and_keeps_the_last_good_one() {
    use tokenring::jose::{JoseAlgorithm, SigningKey};
    let pair =
        |id: &str, algorithm| Key::from_signing_key(id, SigningKey::generate(algorithm).unwrap());
    let first = pair("k1", JoseAlgorithm::EdDsa);
    let issuer_one = Keyring::new(vec![first.clone()]).unwrap();
    let issuer_two = Keyring::new(vec![pair("k2", JoseAlgorithm::Es256), first.clone()]).unwrap();
    let public_text = |ring: &Keyring| ring.public().unwrap().to_json().to_string();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("public.json");
    std::fs::write(&path, public_text(&issuer_one)).unwrap();
    let s = setup_at(dir, path, WatchMode::Events);
    assert!(s.hot.keyring().is_public());
    let old = Verifier::new(&issuer_one, "reload")
        .generate(&"old", TokenOptions::new())
        .unwrap();
    assert_eq!(
        s.verifier.verify::<String>(&old, None).unwrap().value,
        "old"
    );

    // A broken public key (another curve's bytes for an EdDSA entry): refused, named.
    let broken = public_text(&issuer_two).replacen("\"ES256\"", "\"EdDSA\"", 1);
    rename_into_place(&s.path, &broken);
    wait_for(WITHIN, || s.hot.status().last_error.is_some())
        .unwrap_or_else(|| panic!("not refused: {:?}", s.hot.status()));
    let error = s.hot.status().last_error.unwrap().to_string();
    assert!(
        error.contains("\"k2\"") && error.contains("public_key"),
        "{error}"
    );
    assert_eq!(
        s.verifier.verify::<String>(&old, None).unwrap().value,
        "old"
    );

    rename_into_place(&s.path, &public_text(&issuer_two));
    let new = Verifier::new(&issuer_two, "reload")
        .generate(&"new", TokenOptions::new())
        .unwrap();
    wait_for(WITHIN, || s.verifier.verify::<String>(&new, None).is_ok())
        .unwrap_or_else(|| panic!("not picked up: {:?}", s.hot.status()));
    assert_eq!(
        s.verifier.verify::<String>(&old, None).unwrap().value,
        "old"
    );
    assert!(s.hot.keyring().is_public());
    assert!(matches!(
        s.verifier.generate(&1, TokenOptions::new()),
        Err(tokenring::SignError::NoPrivateKey { .. })
    ));
}
