//! Running a command to completion and judging what it did: the exit code and both outputs,
//! never a panic.

use std::process::Command;

/// How a command ended.
#[derive(Debug)]
pub struct Run {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `command` to completion. Fails the test if the program panicked: no input may make
/// it panic.
#[track_caller]
pub fn run(command: &mut Command) -> Run {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?} did not start: {e}"));
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "{command:?} panicked: {}",
        run.stderr
    );
    run
}

impl Run {
    /// Asserts exit 0; the standard output.
    #[track_caller]
    pub fn ok(self, what: &str) -> String {
        assert_eq!(
            self.code, 0,
            "{what}\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self.stdout
    }

    /// Asserts exit 1 with standard error containing `why`; the standard error.
    #[track_caller]
    pub fn fails(self, what: &str, why: &str) -> String {
        assert_eq!(
            self.code, 1,
            "{what}\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        assert!(
            self.stderr.contains(why),
            "{what}: {:?} should say {why:?}",
            self.stderr
        );
        self.stderr
    }

    /// The lines of standard error that are errors (not `tokenring: warning:` lines).
    pub fn error_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| !l.starts_with("tokenring: warning:"))
            .collect()
    }
}
