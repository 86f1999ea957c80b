//! The `tokenring` binary end to end: real processes, real files, exit codes — a module per
//! command group (etcd keyrings are in `etcd.rs`, a binary of its own).

mod jwks;
mod keyring;
mod public;
#[cfg(feature = "rails")]
mod rails;
mod tokens;
mod usage;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use tokenring_test_support::process::{self, Run};

pub(crate) fn tokenring() -> Command {
    Command::cargo_bin("tokenring").unwrap()
}

pub(crate) fn run(args: &[&str]) -> Run {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tokenring"));
    process::run(command.args(args))
}

pub(crate) fn ok(args: &[&str]) -> String {
    run(args).ok(&format!("{args:?}"))
}

/// Exit 1 with exactly one line on stderr (besides warnings), containing `why`.
pub(crate) fn fails(args: &[&str], why: &str) -> String {
    let r = run(args);
    assert_eq!(
        r.code, 1,
        "{args:?}\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    let errors = r.error_lines();
    assert_eq!(errors.len(), 1, "{args:?}: {:?}", r.stderr);
    assert!(errors[0].starts_with("tokenring: "), "{}", errors[0]);
    assert!(
        errors[0].contains(why),
        "{:?} should contain {why:?}",
        errors[0]
    );
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    r.stderr
}

pub(crate) fn keyring_file(dir: &Path) -> (PathBuf, String) {
    let path = dir.join("keyring.json");
    ok(&["keyring", "init", path.to_str().unwrap(), "--id", "first"]);
    let p = path.to_str().unwrap().to_owned();
    (path, p)
}

pub(crate) fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

pub(crate) fn kid(token: &str) -> &str {
    token.split('.').nth(1).unwrap()
}
