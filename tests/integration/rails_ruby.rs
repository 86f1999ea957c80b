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

/// Whether the live Rails tests run (TOKENRING_RAILS_LIVE=1, as .ci/run sets it).
pub fn live() -> bool {
    let on = std::env::var("TOKENRING_RAILS_LIVE").is_ok_and(|v| v == "1");
    if !on {
        eprintln!(
            "skipped: set TOKENRING_RAILS_LIVE=1 after tests/rails/setup.sh to judge with real Rails"
        );
    }
    on
}
