//! PyJWT, a JOSE library nobody here wrote, on the other side of tokenring's JWS: the
//! interpreter `tests/jose/setup.sh` installs it into, and the script the tests drive it with.

use std::path::PathBuf;
use std::process::Command;

/// The Python with PyJWT and `cryptography` (`$TOKENRING_PY` or `/tmp/tokenring-py`, from
/// `tests/jose/setup.sh`); `None` when missing and a skip is allowed (never under `CI=true`).
pub fn python() -> Option<PathBuf> {
    let venv = std::env::var_os("TOKENRING_PY")
        .map_or_else(|| PathBuf::from("/tmp/tokenring-py"), PathBuf::from);
    let python = venv.join("bin/python");
    let works = Command::new(&python)
        .args(["-c", "import jwt, cryptography"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !works {
        crate::missing::missing("PyJWT", "tests/jose/setup.sh");
        return None;
    }
    Some(python)
}

/// `tests/jose/pyjwt.py` (its usage is in its docstring).
pub fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/jose/pyjwt.py")
}
