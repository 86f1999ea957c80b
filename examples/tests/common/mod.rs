//! What the end-to-end tests share: finding the binaries they drive.
#![allow(dead_code)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

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

/// An example server process, killed on drop.
pub struct Server {
    pub child: Child,
    pub addr: String,
    log: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Server {
    /// Starts the example server on `keyring` (a file or etcd://…), with `extra` arguments.
    pub fn start(keyring: &str, extra: &[&str]) -> Self {
        Self::start_logging(keyring, extra, "warn")
    }

    /// As [`Server::start`], logging at `filter` (`RUST_LOG`); [`Server::log`] shows it.
    pub fn start_logging(keyring: &str, extra: &[&str], filter: &str) -> Self {
        let mut child = Command::new(example("server"))
            .args(["--keyring", keyring, "--addr", "127.0.0.1:0"])
            .args(extra)
            .env("RUST_LOG", filter)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let Some(addr) = line.trim().strip_prefix("listening on ") else {
            let mut stderr = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
            panic!("the server did not start: {stderr}");
        };
        let addr = addr.to_owned();
        // Its log goes on being written: drain it so the server never blocks on a full pipe,
        // and keep it for a failing test to show.
        let mut stderr = child.stderr.take().unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut buffer = [0; 4096];
            while let Ok(n @ 1..) = stderr.read(&mut buffer) {
                sink.lock().unwrap().extend_from_slice(&buffer[..n]);
            }
        });
        Self { child, addr, log }
    }

    /// What the server has logged so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&self.log.lock().unwrap()).into_owned()
    }

    pub fn request(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let status = response[9..12].parse().unwrap();
        let body = response.split_once("\r\n\r\n").unwrap().1;
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }

    pub fn status(&self) -> Value {
        self.request("GET", "/keyring", None).1
    }

    pub fn mint(&self, n: u64) -> Option<String> {
        let (code, body) = self.request(
            "POST",
            "/tokens",
            Some(&json!({"data": {"n": n}, "purpose": "fleet", "expires_in": 600})),
        );
        (code == 200).then(|| body["token"].as_str().unwrap().to_owned())
    }

    pub fn verify(&self, token: &str) -> (u16, Value) {
        self.request(
            "POST",
            "/verify",
            Some(&json!({"token": token, "purpose": "fleet"})),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}
