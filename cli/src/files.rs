//! Reading keyring files with a permissions check, and changing them safely.
//!
//! An edit (`keyring add|retire|revoke|prune`) holds an exclusive lock on a sidecar file
//! from the read to the rename, so concurrent edits queue instead of overwriting each other,
//! and refuses to rename if the file changed anyway (an editor that does not lock). It writes
//! to the real file behind a symbolic link, keeps the file's owner, group and mode, and
//! replaces it atomically: servers see the old keyring or the new one, never half of one.

use std::fs::{File, Metadata};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use tokenring::Keyring;

use crate::Failure;

/// Loads and validates a keyring file, refusing one that others can write, warning on stderr
/// if others can read it or if it is a demo keyring.
pub(crate) fn load(path: &Path) -> Result<Keyring, Failure> {
    check_permissions(path)?;
    let keyring = Keyring::from_file(path)?;
    warn_if_demo(path, &keyring);
    Ok(keyring)
}

fn warn_if_demo(path: &Path, keyring: &Keyring) {
    if keyring.is_demo() {
        eprintln!(
            "tokenring: warning: {} is a DEMO keyring with public secrets; never use it for real tokens",
            path.display()
        );
    }
}

/// Changes the keyring file at `path` under an exclusive lock: `change` gets the keyring as
/// read and returns the new one (validated as a whole keyring; `None` to leave the file as it
/// is) and what to report.
pub(crate) fn edit<T>(
    path: &Path,
    change: impl FnOnce(&Keyring) -> Result<(Option<Keyring>, T), Failure>,
) -> Result<T, Failure> {
    // Through a symbolic link to the file servers read; a link replaced by a private copy
    // would leave them on the old keys while the CLI says "revoked".
    let target = std::fs::canonicalize(path)
        .map_err(|e| Failure::new(format!("cannot read keyring file {}: {e}", path.display())))?;
    let _lock = Lock::acquire(&target)?;
    remove_stale_temp_files(&target);
    let before = std::fs::metadata(&target)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", target.display())))?;
    let keyring = load(&target)?;
    let (updated, report) = change(&keyring)?;
    if let Some(updated) = updated {
        write_atomically(&target, &updated, Some(&before))?;
    }
    Ok(report)
}

/// Writes a new keyring file (mode 0600) at `path`, replacing any file there.
pub(crate) fn create(path: &Path, keyring: &Keyring) -> Result<(), Failure> {
    let _lock = Lock::acquire(path)?;
    remove_stale_temp_files(path);
    write_atomically(path, keyring, None)
}

/// A temporary file in the target's directory (mode 0600, or the original file's owner,
/// group and mode minus world bits), written, fsynced, renamed over the target, and the
/// directory fsynced. With `before`, refuses to rename if the target changed since.
fn write_atomically(
    path: &Path,
    keyring: &Keyring,
    before: Option<&Metadata>,
) -> Result<(), Failure> {
    let failed = |what: &str, err: &dyn std::fmt::Display| {
        Failure::new(format!("cannot {what} {}: {err}", path.display()))
    };
    let dir = parent(path);
    // Never replace a keyring with text that would not load back to the same keys.
    let text = keyring.to_json();
    let reloaded = Keyring::from_json_with_clock(&text, keyring.clock().clone())
        .map_err(|e| failed("write (the new keyring would not load back)", &e))?;
    let ids = |k: &Keyring| {
        k.keys()
            .iter()
            .map(|k| k.id().to_owned())
            .collect::<Vec<_>>()
    };
    if ids(&reloaded) != ids(keyring) {
        return Err(failed(
            "write (the new keyring would not load back)",
            &"keys differ",
        ));
    }
    // tempfile creates the file with mode 0600 on Unix.
    let mut temp = tempfile::Builder::new()
        .prefix(&temp_prefix(path))
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| failed("create a temporary file beside", &e))?;
    if let Some(before) = before {
        keep_owner_and_mode(temp.as_file(), before).map_err(|e| {
            failed(
                "keep the owner, group and mode of (refused, the file is unchanged)",
                &e,
            )
        })?;
    }
    temp.write_all(text.as_bytes())
        .map_err(|e| failed("write", &e))?;
    temp.as_file().sync_all().map_err(|e| failed("fsync", &e))?;
    if let Some(before) = before {
        let now = std::fs::metadata(path).map_err(|e| failed("read", &e))?;
        if !same_file_version(before, &now) {
            return Err(Failure::new(format!(
                "refused, the file is unchanged: {} changed while it was being edited \
                 (by a program that does not take the lock); run the command again",
                path.display()
            )));
        }
    }
    temp.persist(path)
        .map_err(|e| failed("replace", &e.error))?;
    sync_dir(&dir).map_err(|e| failed("fsync the directory of", &e))?;
    Ok(())
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || "keyring".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Temporary files are named after their keyring, so an edit cleans up only its own.
fn temp_prefix(path: &Path) -> String {
    format!(".{}.tokenring-", file_name(path))
}

/// Removes temporary files an interrupted edit of this keyring left behind. Only called
/// under the keyring's lock, so none of them belongs to an edit in progress.
fn remove_stale_temp_files(path: &Path) {
    let prefix = temp_prefix(path);
    let Ok(entries) = std::fs::read_dir(parent(path)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix) && name.ends_with(".tmp") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// An exclusive lock on `.NAME.lock` beside the keyring. The keyring itself cannot carry the
/// lock: every edit replaces it by rename, and a lock on the old inode protects nothing.
struct Lock {
    // Held, not read: closing the file releases the lock.
    _file: File,
}

impl Lock {
    fn acquire(target: &Path) -> Result<Self, Failure> {
        let dir = parent(target);
        // The directory's absence is the user's mistake to name, not the lock file's.
        match std::fs::metadata(&dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(Failure::new(format!(
                    "{} is not a directory, so {} cannot be written",
                    dir.display(),
                    target.display()
                )));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Failure::new(format!(
                    "the directory {} does not exist (create it first), so {} cannot be written",
                    dir.display(),
                    target.display()
                )));
            }
            Err(_) => {} // Left to the open below, which names the lock file and the cause.
        }
        let path = dir.join(format!(".{}.lock", file_name(target)));
        let failed =
            |e: std::io::Error| Failure::new(format!("cannot lock {}: {e}", path.display()));
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path).map_err(failed)?;
        file.lock().map_err(failed)?;
        Ok(Self { _file: file })
    }
}

/// Whether the file is still the one read: same inode, size and change times.
#[cfg(unix)]
fn same_file_version(a: &Metadata, b: &Metadata) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    (
        a.dev(),
        a.ino(),
        a.size(),
        a.mtime(),
        a.mtime_nsec(),
        a.ctime(),
        a.ctime_nsec(),
    ) == (
        b.dev(),
        b.ino(),
        b.size(),
        b.mtime(),
        b.mtime_nsec(),
        b.ctime(),
        b.ctime_nsec(),
    )
}

#[cfg(not(unix))]
fn same_file_version(a: &Metadata, b: &Metadata) -> bool {
    (a.len(), a.modified().ok()) == (b.len(), b.modified().ok())
}

/// Gives the new file the old one's owner, group and mode, minus any world bits: a keyring
/// made `0640 root:app` for its service must stay readable by that service after an edit.
#[cfg(unix)]
fn keep_owner_and_mode(temp: &File, before: &Metadata) -> std::io::Result<()> {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    let mine = temp.metadata()?;
    if (mine.uid(), mine.gid()) != (before.uid(), before.gid()) {
        std::os::unix::fs::fchown(temp, Some(before.uid()), Some(before.gid()))?;
    }
    temp.set_permissions(std::fs::Permissions::from_mode(before.mode() & 0o770))
}

#[cfg(not(unix))]
fn keep_owner_and_mode(_temp: &File, _before: &Metadata) -> std::io::Result<()> {
    Ok(())
}

/// OpenSSH's StrictModes for keyrings: whoever can write the file, or replace it in its
/// directory, controls the keys. A world-writable directory with the sticky bit (`/tmp`)
/// is allowed: there only the owner can replace or remove the file.
#[cfg(unix)]
fn check_permissions(path: &Path) -> Result<(), Failure> {
    use std::os::unix::fs::PermissionsExt as _;
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(()); // reading reports the missing file
    };
    if !meta.is_file() {
        return Ok(()); // reading refuses it, naming what it is
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(Failure::new(format!(
            "refused: {} is writable by {} (mode {:03o}); whoever can write it controls the keys. \
             Run: chmod go-w {}",
            path.display(),
            if mode & 0o002 != 0 {
                "everyone"
            } else {
                "its group"
            },
            mode & 0o777,
            path.display()
        )));
    }
    let dir = std::fs::canonicalize(path).map_or_else(|_| parent(path), |real| parent(&real));
    if let Ok(dir_meta) = std::fs::metadata(&dir) {
        let dir_mode = dir_meta.permissions().mode() & 0o7777;
        let sticky = dir_mode & 0o1000 != 0;
        if dir_mode & 0o022 != 0 && !sticky {
            return Err(Failure::new(format!(
                "refused: the directory {} is writable by {} (mode {:03o}), so others can \
                 replace the keyring in it. Run: chmod go-w {}",
                dir.display(),
                if dir_mode & 0o002 != 0 {
                    "everyone"
                } else {
                    "its group"
                },
                dir_mode & 0o777,
                dir.display()
            )));
        }
    }
    if mode & 0o004 != 0 {
        eprintln!(
            "tokenring: warning: {} is world-readable (mode {:03o}); run: chmod o-r {}",
            path.display(),
            mode & 0o777,
            path.display()
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_path: &Path) -> Result<(), Failure> {
    Ok(())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Refuses to overwrite an existing file unless asked to.
pub(crate) fn ensure_absent(path: &Path, force: bool) -> Result<(), Failure> {
    if !force && path.exists() {
        return Err(Failure::new(format!(
            "{} already exists (pass --force to replace it and lose its keys)",
            path.display()
        )));
    }
    Ok(())
}
