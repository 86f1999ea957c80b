//! JOSE libraries nobody here wrote — PyJWT (with `cryptography`) and Node's `jose` — on the
//! other side of tokenring's JWS, each driven by a small script of the same two commands
//! (`tests/jose/pyjwt.py`, `tests/jose/jose.cjs`; `tests/jose/setup.sh` installs both).

use std::path::{Path, PathBuf};
use std::process::Command;

/// One library, ready to run.
#[derive(Debug, Clone)]
pub struct Library {
    /// `PyJWT` or `jose (Node)`.
    pub name: &'static str,
    program: PathBuf,
    script: PathBuf,
    /// What `verify` prints for an expired token.
    pub expired: &'static str,
    /// What `verify` prints for a token of another audience.
    pub wrong_audience: &'static str,
}

impl Library {
    /// Verifies `token` with the key its `kid` names in the JWKS file, checking `audience`
    /// with the library's standard call: whether it accepted, and the claims (JSON) or the
    /// error's name.
    pub fn verify(&self, jwks: &Path, token: &str, audience: &str) -> (bool, String) {
        let output = Command::new(&self.program)
            .arg(&self.script)
            .arg("verify")
            .arg(jwks)
            .args([token.trim(), audience])
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", self.name));
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        )
    }

    /// A command running another script of `tests/jose/` with this library's interpreter.
    pub fn script(&self, name: &str) -> Command {
        let mut command = Command::new(&self.program);
        command.arg(scripts().join(name));
        command
    }

    /// Makes a new `alg` key and signs `claims` (JSON) with it under `kid`:
    /// `{"jwk": its public JWK, "token": the JWS}`.
    pub fn mint(&self, alg: &str, kid: &str, claims: &str) -> serde_json::Value {
        let output = Command::new(&self.program)
            .arg(&self.script)
            .args(["mint", alg, kid, claims])
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", self.name));
        assert!(
            output.status.success(),
            "{} mint: {}",
            self.name,
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("the mint script prints JSON")
    }
}

fn scripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/jose")
}

/// PyJWT in `$TOKENRING_PY` (`/tmp/tokenring-py` unless set).
pub fn pyjwt() -> Option<Library> {
    let venv = std::env::var_os("TOKENRING_PY")
        .map_or_else(|| PathBuf::from("/tmp/tokenring-py"), PathBuf::from);
    let python = venv.join("bin/python");
    let works = Command::new(&python)
        .args(["-c", "import jwt, cryptography"])
        .output()
        .is_ok_and(|o| o.status.success());
    works.then(|| Library {
        name: "PyJWT",
        program: python,
        script: scripts().join("pyjwt.py"),
        expired: "ExpiredSignatureError",
        wrong_audience: "InvalidAudienceError",
    })
}

/// Node's `jose` in `$TOKENRING_NODE` (`/tmp/tokenring-node` unless set).
pub fn node_jose() -> Option<Library> {
    node_has("jose").then(|| Library {
        name: "jose (Node)",
        program: PathBuf::from("node"),
        script: scripts().join("jose.cjs"),
        expired: "ERR_JWT_EXPIRED",
        wrong_audience: "ERR_JWT_CLAIM_VALIDATION_FAILED",
    })
}

/// Every library that is installed; each missing one is reported (a failure under
/// `CI=true`, a loud skip elsewhere).
pub fn all() -> Vec<Library> {
    let mut found = Vec::new();
    for (library, name) in [(pyjwt(), "PyJWT"), (node_jose(), "Node's jose")] {
        match library {
            Some(library) => found.push(library),
            None => crate::missing::missing(name, "tests/jose/setup.sh"),
        }
    }
    found
}

/// `node tests/oidc/provider.mjs`: oidc-provider (Node, in `$TOKENRING_NODE`) on loopback,
/// ready to spawn; `None`, reported as missing (a failure under `CI=true`), when it is not
/// installed.
pub fn oidc_provider() -> Option<Command> {
    if !node_has("oidc-provider") {
        crate::missing::missing("oidc-provider (Node)", "tests/jose/setup.sh");
        return None;
    }
    let mut command = Command::new("node");
    command.arg(scripts().join("../oidc/provider.mjs"));
    Some(command)
}

/// Whether Node runs and finds `module` in `$TOKENRING_NODE` (`/tmp/tokenring-node` unless
/// set).
fn node_has(module: &str) -> bool {
    let dir = std::env::var("TOKENRING_NODE").unwrap_or_else(|_| "/tmp/tokenring-node".into());
    Command::new("node")
        .arg("-e")
        .arg(format!("require.resolve('{module}', {{paths: ['{dir}']}})"))
        .output()
        .is_ok_and(|o| o.status.success())
}
