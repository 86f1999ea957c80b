//! What the end-to-end tests share: finding the binaries they drive.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// An example of this package, built by `cargo test` beside the test binaries.
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let debug = exe.parent().unwrap().parent().unwrap();
    let path = debug.join("examples").join(name);
    assert!(
        path.exists(),
        "{} missing: `cargo test` builds it",
        path.display()
    );
    path
}

/// The `tokenring` command of the `tokenring-cli` member. `cargo test` at the repository root
/// builds it; `cargo test -p tokenring-examples` alone does not (`cargo build -p
/// tokenring-cli` first).
pub fn tokenring_command() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin("tokenring"))
}

/// Runs `tokenring ARGS`, asserting it succeeds; its standard output.
pub fn tokenring(args: &[&str]) -> String {
    let output = tokenring_command().args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}
