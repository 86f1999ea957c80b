//! What a test does when a program it needs (etcd, openssl, Ruby with Rails) is missing. A
//! skip that only prints is invisible: the harness captures the line and counts the test as
//! passed. So a missing program fails the test, naming how to install it (`tests/setup.sh`
//! installs everything), unless `TOKENRING_SKIP_MISSING=1` asks to skip; then the test says
//! SKIPPED on the terminal itself (past the harness's capture) and returns. Under `CI=true`
//! the opt-out is ignored: CI must run every test.

use std::io::Write as _;

/// The environment variable that turns a missing program into a loud skip.
pub const SKIP_VAR: &str = "TOKENRING_SKIP_MISSING";

/// Call when `what` is missing: panics (the test fails, saying what to install) unless the
/// skip is asked for outside CI, in which case it writes a SKIPPED line to the terminal and
/// returns, and the caller returns too.
#[track_caller]
pub fn missing(what: &str, install: &str) {
    let ci = std::env::var("CI").as_deref() == Ok("true");
    let skip = std::env::var(SKIP_VAR).as_deref() == Ok("1");
    if ci || !skip {
        panic!(
            "{what} is missing ({install}; tests/setup.sh installs every tool the tests use){}",
            if ci {
                ", and CI must run every test"
            } else {
                "; or set TOKENRING_SKIP_MISSING=1 to skip these tests"
            }
        );
    }
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    // Straight to the process's stderr: `eprintln!` would be captured with the test's output
    // and shown only if it failed.
    let _ = writeln!(
        std::io::stderr().lock(),
        "\n*** SKIPPED {test}: {what} is missing ({install}); {SKIP_VAR}=1 asked to skip ***"
    );
}
