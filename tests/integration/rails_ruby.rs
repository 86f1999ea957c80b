//! Runs a judge script under real Rails (`tests/rails/ruby VERSION SCRIPT INPUT`): the input
//! written as JSON to a file, the script's JSON answer on stdout parsed, and the Rails version
//! it ran under checked.

use std::process::Command;

use serde_json::Value;

/// `script` (under `tests/rails/`) run by Rails `version` ("6.1" or "7.2") on `input`.
pub fn judge(version: &str, script: &str, input: &Value) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input.json");
    std::fs::write(&path, input.to_string()).unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let output = Command::new(format!("{root}/tests/rails/ruby"))
        .args([version, &format!("{root}/tests/rails/{script}")])
        .arg(&path)
        .output()
        .expect("tests/rails/ruby runs");
    assert!(
        output.status.success(),
        "{script} under Rails {version}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let judged: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        judged["rails"].as_str().unwrap().starts_with(version),
        "{judged}"
    );
    judged
}

/// Whether the Rails judges are installed (`tests/rails/setup.sh`), asked once per run. When
/// they are not, the test fails naming the setup, or — with TOKENRING_SKIP_MISSING=1 outside
/// CI — says SKIPPED on the terminal and this answers false.
pub fn live() -> bool {
    static INSTALLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let installed = *INSTALLED.get_or_init(|| {
        let root = env!("CARGO_MANIFEST_DIR");
        ["6.1", "7.2"].iter().all(|version| {
            Command::new(format!("{root}/tests/rails/ruby"))
                .args([
                    version,
                    "-e",
                    "require 'active_support'; require 'active_record'; require 'action_dispatch'",
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        })
    });
    if !installed {
        tokenring_test_support::missing::missing(
            "Ruby with Rails 6.1 and 7.2 (the judges)",
            "tests/rails/setup.sh installs them",
        );
    }
    installed
}
