//! examples/password_reset.rs end to end: a real SQLite file, a real keyring file, HTTP on
//! loopback, a key rotation in the middle and a restart — nothing about the tokens is stored,
//! so they survive it.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;
use common::{example, tokenring};

struct Server {
    child: Child,
    addr: String,
    lines: mpsc::Receiver<String>,
}

impl Server {
    fn start(db: &Path, keyring: &Path) -> Self {
        let mut child = Command::new(example("password_reset"))
            .args([
                "--database",
                db.to_str().unwrap(),
                "--keyring",
                keyring.to_str().unwrap(),
            ])
            .args(["--addr", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let first = lines.recv_timeout(Duration::from_secs(10)).unwrap();
        let addr = first.strip_prefix("listening on ").unwrap().to_owned();
        Self { child, addr, lines }
    }

    fn request(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let status: u16 = response[9..12].parse().unwrap();
        let body = response.split_once("\r\n\r\n").unwrap().1;
        let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        assert!(status < 500, "{method} {path}: {status} {body}");
        if status >= 400 {
            assert!(
                json["error"].is_string(),
                "rejections carry a JSON error: {body}"
            );
        }
        (status, json)
    }

    /// Requests a reset for `email` and reads the link from the server's stdout.
    fn reset_token(&self, email: &str) -> String {
        let (status, _) = self.request("POST", "/password_resets", Some(json!({"email": email})));
        assert_eq!(status, 202);
        let line = self.lines.recv_timeout(Duration::from_secs(10)).unwrap();
        let prefix = format!(
            "reset link for {email}: http://{}/password_resets/",
            self.addr
        );
        line.strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("{line}"))
            .to_owned()
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

fn kid(token: &str) -> &str {
    token.split('.').nth(1).unwrap()
}

#[test]
fn password_reset_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    let keyring = dir.path().join("keyring.json");
    let k = keyring.to_str().unwrap();
    tokenring(&["keyring", "init", k, "--id", "old"]);
    let server = Server::start(&db, &keyring);

    let (status, created) = server.request(
        "POST",
        "/users",
        Some(json!({"email": "ada@example.com", "password": "correct horse"})),
    );
    assert_eq!(status, 201, "{created}");
    let signed_id = created["signed_id"].as_str().unwrap().to_owned();
    assert_eq!(
        server.request("GET", &format!("/users/{signed_id}"), None),
        (200, json!({"email": "ada@example.com"}))
    );
    assert_eq!(
        server
            .request(
                "POST",
                "/users",
                Some(json!({"email": "ada@example.com", "password": "another one"}))
            )
            .0,
        409
    );

    // No account enumeration: unknown addresses get the same answer and no link.
    assert_eq!(
        server
            .request(
                "POST",
                "/password_resets",
                Some(json!({"email": "nobody@example.com"}))
            )
            .0,
        202
    );
    let before = server.reset_token("ada@example.com");
    assert_eq!(kid(&before), "old");
    let path = |token: &str| format!("/password_resets/{token}");
    assert_eq!(
        server.request("GET", &path(&before), None),
        (200, json!({"email": "ada@example.com"}))
    );

    // Rotation in the middle: a new key signs; tokens from the old one still work.
    tokenring(&["keyring", "add", k, "--id", "new"]);
    let start = Instant::now();
    let after = loop {
        let token = server.reset_token("ada@example.com");
        if kid(&token) == "new" {
            break token;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "rotation not picked up"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(server.request("GET", &path(&before), None).0, 200);

    // A restart: nothing is stored, the tokens survive it.
    drop(server);
    let server = Server::start(&db, &keyring);
    assert_eq!(server.request("GET", &path(&before), None).0, 200);
    assert_eq!(server.request("GET", &path(&after), None).0, 200);
    assert_eq!(
        server
            .request("GET", &format!("/users/{signed_id}"), None)
            .0,
        200
    );

    // Rejections, each a 4xx with a reason.
    assert_eq!(server.request("GET", &path("garbage"), None).0, 400);
    let mut tampered = after.clone();
    tampered.insert(12, 'x');
    assert_eq!(server.request("GET", &path(&tampered), None).0, 400);
    // A signed id is not a reset token (another verifier salt), nor the reverse.
    assert_eq!(server.request("GET", &path(&signed_id), None).0, 400);
    assert_eq!(
        server.request("GET", &format!("/users/{after}"), None).0,
        400
    );
    assert_eq!(
        server
            .request("PATCH", &path(&after), Some(json!({"password": "short"})))
            .0,
        422
    );

    // Resetting the password uses up every outstanding reset token.
    let (status, body) = server.request(
        "PATCH",
        &path(&after),
        Some(json!({"password": "battery staple"})),
    );
    assert_eq!((status, body), (200, json!({"email": "ada@example.com"})));
    for token in [&after, &before] {
        let (status, body) = server.request("GET", &path(token), None);
        assert_eq!(status, 410, "{body}");
        assert_eq!(
            server
                .request(
                    "PATCH",
                    &path(token),
                    Some(json!({"password": "again again"}))
                )
                .0,
            410
        );
    }
    let fresh = server.reset_token("ada@example.com");
    assert_eq!(server.request("GET", &path(&fresh), None).0, 200);

    // The old key retires: its tokens stop working once it expires.
    tokenring(&["keyring", "retire", k, "old", "--expires-in", "1s"]);
    std::thread::sleep(Duration::from_millis(1500));
    let (status, body) = server.request("GET", &format!("/users/{signed_id}"), None);
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("expired"),
        "{body}"
    );
    assert_eq!(server.request("GET", &path(&fresh), None).0, 200);
}
