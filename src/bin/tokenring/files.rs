//! Reading keyring files with a permissions check, and writing them atomically.

use std::io::Write as _;
use std::path::Path;

use tokenring::Keyring;

use crate::Failure;

/// Loads and validates a keyring file, warning on stderr if others can read it or if it is a
/// demo keyring.
pub(crate) fn load(path: &Path) -> Result<Keyring, Failure> {
    warn_if_exposed(path);
    let keyring = Keyring::from_file(path)?;
    if keyring.is_demo() {
        eprintln!(
            "tokenring: warning: {} is a DEMO keyring with public secrets; never use it for real tokens",
            path.display()
        );
    }
    Ok(keyring)
}

#[cfg(unix)]
fn warn_if_exposed(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o004 != 0 {
            eprintln!(
                "tokenring: warning: {} is world-readable (mode {mode:03o}); run: chmod 600 {}",
                path.display(),
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_exposed(_path: &Path) {}

/// Replaces `path` with the keyring: a temporary file in the same directory (mode 0600),
/// written, fsynced, renamed over the target, and the directory fsynced. Readers — including
/// hot-reloading servers — see the old file or the new one, never half of one.
pub(crate) fn write_atomically(path: &Path, keyring: &Keyring) -> Result<(), Failure> {
    let failed = |what: &str, err: &dyn std::fmt::Display| {
        Failure::new(format!("cannot {what} {}: {err}", path.display()))
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
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
        .prefix(".tokenring-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| failed("create a temporary file beside", &e))?;
    temp.write_all(text.as_bytes())
        .map_err(|e| failed("write", &e))?;
    temp.as_file().sync_all().map_err(|e| failed("fsync", &e))?;
    temp.persist(path)
        .map_err(|e| failed("replace", &e.error))?;
    sync_dir(dir).map_err(|e| failed("fsync the directory of", &e))?;
    Ok(())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
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
