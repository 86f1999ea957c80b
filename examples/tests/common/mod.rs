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
    tokenring_test_support::process::run(tokenring_command().args(args)).ok(&format!("{args:?}"))
}

/// An example server process, killed on drop.
pub struct Server {
    pub child: Child,
    pub addr: String,
    /// The admin listener (`/keyring`, `/metrics`).
    pub admin_addr: String,
    log: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    /// The minter's session cookie (`session=…`), logged in at start and kept as a browser
    /// keeps it (replaced when a response re-signs it after a rotation).
    session: std::sync::Mutex<Option<String>>,
    _users: tempfile::TempDir,
}

/// The user every started server knows: a minter.
pub const MINTER: (&str, &str) = ("minter", "minter-password");
/// A user without the minter role.
pub const READER: (&str, &str) = ("reader", "reader-password");

/// A users file with [`MINTER`] and [`READER`], written by the server's own `add-user`.
pub fn users_file() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    for ((name, password), roles) in [(MINTER, &["--role", "minter"][..]), (READER, &[])] {
        let mut child = Command::new(example("server"))
            .args(["add-user", path.to_str().unwrap(), name])
            .args(roles)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        assert!(child.wait().unwrap().success(), "add-user {name}");
    }
    dir
}

impl Server {
    /// Starts the example server on `keyring` (a file or etcd://…), with `extra` arguments.
    pub fn start(keyring: &str, extra: &[&str]) -> Self {
        Self::start_logging(keyring, extra, "warn")
    }

    /// As [`Server::start`], logging at `filter` (`RUST_LOG`); [`Server::log`] shows it.
    pub fn start_logging(keyring: &str, extra: &[&str], filter: &str) -> Self {
        let mut server = Self::spawn(keyring, extra, filter);
        let session = server.login(MINTER).expect("the minter logs in");
        *server.session.get_mut().unwrap() = Some(session);
        server
    }

    /// A server that only verifies (on a public keyring it could not log anyone in: a
    /// session cookie is minted): started, nobody logged in.
    pub fn start_verifying(keyring: &str, extra: &[&str]) -> Self {
        Self::spawn(keyring, extra, "warn")
    }

    fn spawn(keyring: &str, extra: &[&str], filter: &str) -> Self {
        let users = users_file();
        let mut child = Command::new(example("server"))
            .args(["--keyring", keyring, "--addr", "127.0.0.1:0"])
            .args([
                "--admin-addr",
                "127.0.0.1:0",
                "--purposes",
                "api,fleet,reset",
            ])
            .arg("--users")
            .arg(users.path().join("users.json"))
            .args(extra)
            .env("RUST_LOG", filter)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut lines = [String::new(), String::new()];
        for line in &mut lines {
            stdout.read_line(line).unwrap();
        }
        let (Some(addr), Some(admin_addr)) = (
            lines[0].trim().strip_prefix("listening on "),
            lines[1].trim().strip_prefix("admin listening on "),
        ) else {
            let mut stderr = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
            panic!("the server did not start: {stderr}");
        };
        let (addr, admin_addr) = (addr.to_owned(), admin_addr.to_owned());
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
        Self {
            child,
            addr,
            admin_addr,
            log,
            session: std::sync::Mutex::new(None),
            _users: users,
        }
    }

    /// Logs `(user, password)` in: the session cookie (`session=…`), or `None` if refused.
    pub fn login(&self, (user, password): (&str, &str)) -> Option<String> {
        let (status, _, cookie) = self.exchange(
            &self.addr,
            "POST",
            "/login",
            Some(&json!({"user": user, "password": password})),
            None,
        );
        (status == 200).then_some(cookie).flatten()
    }

    /// What the server has logged so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&self.log.lock().unwrap()).into_owned()
    }

    /// `method path` with the minter's session, on the public listener.
    pub fn request(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let session = self.session.lock().unwrap().clone();
        let (status, body, renewed) =
            self.exchange(&self.addr, method, path, body, session.as_deref());
        if renewed.is_some() {
            *self.session.lock().unwrap() = renewed;
        }
        (status, body)
    }

    /// `method path` with `session` (a `session=…` cookie) or none.
    pub fn request_as(
        &self,
        session: Option<&str>,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let (status, body, _) = self.exchange(&self.addr, method, path, body, session);
        (status, body)
    }

    /// `GET path` on the admin listener.
    pub fn admin(&self, path: &str) -> (u16, Value) {
        let (status, body, _) = self.exchange(&self.admin_addr, "GET", path, None, None);
        (status, body)
    }

    /// One HTTP/1.1 exchange: the status, the JSON body (null if none) and the session cookie
    /// the response sets (`session=…`), if any.
    fn exchange(
        &self,
        addr: &str,
        method: &str,
        path: &str,
        body: Option<&Value>,
        session: Option<&str>,
    ) -> (u16, Value, Option<String>) {
        let body = body.map(Value::to_string).unwrap_or_default();
        let cookie = session.map_or_else(String::new, |c| format!("Cookie: {c}\r\n"));
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             {cookie}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let set_cookie = response
            .split("\r\n\r\n")
            .next()
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.strip_prefix("set-cookie: "))
            .find(|c| c.starts_with("session="))
            .and_then(|c| c.split(';').next())
            .map(str::to_owned);
        let status = response[9..12].parse().unwrap();
        let body = response.split_once("\r\n\r\n").unwrap().1;
        (
            status,
            serde_json::from_str(body).unwrap_or(Value::Null),
            set_cookie,
        )
    }

    /// The keyring's status, from the admin listener.
    pub fn status(&self) -> Value {
        self.admin("/keyring").1
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
