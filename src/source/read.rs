//! Reading a keyring file without trusting what sits at its path.
//!
//! A watcher reads the path on every change, so whatever an operator (or an attacker who can
//! write the directory) puts there must not wedge it or exhaust memory: the file is opened
//! without blocking (a FIFO would otherwise block `open` until a writer appears), checked to
//! be a regular file once open (`fstat`, so the check and the read see the same inode), and
//! read up to a cap.

use std::fs::File;
use std::io::Read as _;
use std::path::Path;

use zeroize::Zeroizing;

use crate::error::{FileProblem, KeyringError};

/// Reads the keyring text at `path` (symbolic links followed), refusing anything that is not
/// a regular file or is longer than `max_bytes`. The text is wiped on drop.
pub(crate) fn read_keyring_file(
    path: &Path,
    max_bytes: u64,
) -> Result<Zeroizing<String>, KeyringError> {
    let io = |source| KeyringError::Io {
        path: path.to_owned(),
        source: std::sync::Arc::new(source),
    };
    let refused = |problem| KeyringError::File {
        path: path.to_owned(),
        problem,
    };
    let file = open_nonblocking(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(refused(FileProblem::NotRegular(file_kind(
            &meta.file_type(),
        ))));
    }
    if meta.len() > max_bytes {
        return Err(refused(FileProblem::TooLarge { max: max_bytes }));
    }
    // One allocation of the final size: growing a buffer would leave copies of the secrets
    // in freed memory. The `+ 1` detects a file that grew since `fstat`.
    let capacity = usize::try_from(meta.len())
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    let mut bytes = Zeroizing::new(Vec::with_capacity(capacity));
    (&file)
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(refused(FileProblem::TooLarge { max: max_bytes }));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(refused(FileProblem::Empty));
    }
    match std::str::from_utf8(&bytes) {
        // Moving the Vec into a String keeps the same allocation: no copy left behind.
        Ok(_) => Ok(Zeroizing::new(
            String::from_utf8(std::mem::take(&mut *bytes)).unwrap_or_default(),
        )),
        Err(err) => Err(refused(FileProblem::NotUtf8 {
            offset: err.valid_up_to(),
        })),
    }
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

fn file_kind(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(err: KeyringError) -> FileProblem {
        match err {
            KeyringError::File { problem, .. } => problem,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn refuses_what_is_not_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_keyring_file(dir.path(), 1 << 20).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("it is a directory, not a regular file"),
            "{err}"
        );
        assert_eq!(problem(err), FileProblem::NotRegular("a directory"));
        #[cfg(unix)]
        {
            let err = read_keyring_file(Path::new("/dev/zero"), 1 << 20).unwrap_err();
            assert_eq!(problem(err), FileProblem::NotRegular("a character device"));
        }
    }

    #[test]
    fn caps_the_size_and_names_empty_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        std::fs::write(&path, "x".repeat(101)).unwrap();
        let err = read_keyring_file(&path, 100).unwrap_err();
        assert_eq!(problem(err), FileProblem::TooLarge { max: 100 });
        assert_eq!(&*read_keyring_file(&path, 101).unwrap(), &"x".repeat(101));
        std::fs::write(&path, " \n").unwrap();
        let err = read_keyring_file(&path, 100).unwrap_err();
        assert!(err.to_string().contains("the file is empty"), "{err}");
        std::fs::write(&path, b"{\xff}").unwrap();
        let err = read_keyring_file(&path, 100).unwrap_err();
        assert_eq!(problem(err), FileProblem::NotUtf8 { offset: 1 });
    }
}
