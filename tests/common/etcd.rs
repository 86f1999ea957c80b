//! A real etcd for the tests: one member on free loopback ports with a temporary data
//! directory, killed on drop. Shared by the library's and the CLI's tests.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One etcd member on loopback, killed on drop.
pub struct Etcd {
    child: Option<Child>,
    dir: tempfile::TempDir,
    client_port: u16,
    peer_port: u16,
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// POSTs `body` to etcd's JSON gateway at `addr` (`HOST:PORT`): the whole response, or
/// `None` when nothing answers.
pub fn gateway(addr: &str, path: &str, body: &str) -> Option<String> {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

/// The etcd binary, or `None` (after saying so) when it is missing outside CI.
pub fn etcd_binary() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("etcd"))
            .find(|path| path.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "etcd is not installed, and CI must run the etcd tests: apt-get install etcd-server"
        );
        eprintln!(
            "\n*** SKIPPED: etcd is not installed (apt-get install etcd-server); \
             the etcd source tests did not run ***\n"
        );
    }
    found
}

impl Etcd {
    pub fn start() -> Option<Self> {
        etcd_binary()?;
        let mut etcd = Self {
            child: None,
            dir: tempfile::tempdir().unwrap(),
            client_port: free_port(),
            peer_port: free_port(),
        };
        etcd.spawn();
        Some(etcd)
    }

    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.client_port)
    }

    fn spawn(&mut self) {
        let client = format!("http://127.0.0.1:{}", self.client_port);
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let data: &Path = self.dir.path();
        let child = Command::new("etcd")
            .args(["--name", "n1", "--data-dir"])
            .arg(data.join("data"))
            .args(["--listen-client-urls", &client])
            .args(["--advertise-client-urls", &client])
            .args(["--listen-peer-urls", &peer])
            .args(["--initial-advertise-peer-urls", &peer])
            .args(["--initial-cluster", &format!("n1={peer}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("etcd starts");
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.answers() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("etcd did not become ready on port {}", self.client_port);
    }

    /// Kills it (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same ports and data.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Whether it answers (a read of the fleet under any name).
    fn answers(&self) -> bool {
        tokenring::keyring::EtcdSource::new([self.endpoint()], "ready")
            .map(|source| source.timeout(Duration::from_millis(500)))
            .is_ok_and(|source| source.nodes().is_ok())
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        self.kill();
    }
}
