//! A real etcd for the tests: one member on free loopback ports with a temporary data
//! directory, killed on drop; certificates for running it over TLS; etcd's JSON gateway.

use crate::missing;

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
    tls: Option<Certs>,
}

/// Certificates made by `openssl` in a temporary directory: a CA, a server certificate for
/// 127.0.0.1 and a client certificate signed by it, and a second CA that signed neither.
pub struct Certs {
    dir: tempfile::TempDir,
}

impl Certs {
    /// `None` when `openssl` is missing and the skip was asked for (see `missing`).
    pub fn new() -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let openssl = |args: &[&str]| {
            Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
        };
        if openssl(&["version"]).is_err() {
            missing::missing("openssl", "apt-get install openssl");
            return None;
        }
        let run = |args: &[&str]| {
            let status = openssl(args).unwrap();
            assert!(status.success(), "openssl {args:?}");
        };
        for ca in ["ca", "other-ca"] {
            run(&[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN=tokenring test {ca}"),
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-keyout",
                &format!("{ca}.key"),
                "-out",
                &format!("{ca}.pem"),
            ]);
        }
        for (leaf, usage) in [("server", "serverAuth"), ("client", "clientAuth")] {
            std::fs::write(
                dir.path().join(format!("{leaf}.ext")),
                format!(
                    "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage={usage}\n"
                ),
            )
            .unwrap();
            run(&[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-subj",
                &format!("/CN={leaf}"),
                "-keyout",
                &format!("{leaf}.key"),
                "-out",
                &format!("{leaf}.csr"),
            ]);
            run(&[
                "x509",
                "-req",
                "-in",
                &format!("{leaf}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &format!("{leaf}.ext"),
                "-out",
                &format!("{leaf}.pem"),
            ]);
        }
        Some(Self { dir })
    }

    /// The file `name` (`ca.pem`, `other-ca.pem`, `server.pem`, `client.pem`, `client.key`, …).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }
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
    gateway_as(addr, path, body, None)
}

/// [`gateway`] with an auth token (from `/v3/auth/authenticate`), for an etcd with auth on.
pub fn gateway_as(addr: &str, path: &str, body: &str, token: Option<&str>) -> Option<String> {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let auth = token.map_or_else(String::new, |t| format!("Authorization: {t}\r\n"));
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

/// The etcd binary, or `None` when it is missing and the skip was asked for (see `missing`).
pub fn etcd_binary() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("etcd"))
            .find(|path| path.is_file())
    });
    if found.is_none() {
        missing::missing("etcd", "apt-get install etcd-server");
    }
    found
}

impl Etcd {
    pub fn start() -> Option<Self> {
        etcd_binary()?;
        Some(Self::spawned(None))
    }

    /// One that clients reach over TLS only, with a certificate signed by [`Certs`]' CA.
    pub fn start_tls() -> Option<Self> {
        etcd_binary()?;
        // How readiness is asked over TLS.
        if Command::new("curl").arg("--version").output().is_err() {
            missing::missing("curl", "apt-get install curl");
            return None;
        }
        Some(Self::spawned(Some(Certs::new()?)))
    }

    fn spawned(tls: Option<Certs>) -> Self {
        let mut etcd = Self {
            child: None,
            dir: tempfile::tempdir().unwrap(),
            client_port: free_port(),
            peer_port: free_port(),
            tls,
        };
        etcd.spawn();
        etcd
    }

    pub fn certs(&self) -> &Certs {
        self.tls.as_ref().expect("started with start_tls")
    }

    /// Its certificates, when it runs TLS.
    pub fn tls(&self) -> Option<&Certs> {
        self.tls.as_ref()
    }

    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.client_port)
    }

    fn spawn(&mut self) {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let client = format!("{scheme}://127.0.0.1:{}", self.client_port);
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let data: &Path = self.dir.path();
        let mut command = Command::new("etcd");
        if let Some(certs) = &self.tls {
            command
                .arg("--cert-file")
                .arg(certs.path("server.pem"))
                .arg("--key-file")
                .arg(certs.path("server.key"))
                .arg("--trusted-ca-file")
                .arg(certs.path("ca.pem"))
                .arg("--client-cert-auth");
        }
        let child = command
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

    /// Whether it answers a read: etcd's JSON gateway over plain HTTP, and its health check
    /// through `curl` (with the client certificate) over TLS.
    fn answers(&self) -> bool {
        match &self.tls {
            None => gateway(&self.endpoint(), "/v3/kv/range", r#"{"key":"cmVhZHk="}"#)
                .is_some_and(|response| response.starts_with("HTTP/1.1 200")),
            Some(certs) => Command::new("curl")
                .args(["--silent", "--fail", "--max-time", "1", "--cacert"])
                .arg(certs.path("ca.pem"))
                .arg("--cert")
                .arg(certs.path("client.pem"))
                .arg("--key")
                .arg(certs.path("client.key"))
                .arg(format!("https://{}/health", self.endpoint()))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success()),
        }
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        self.kill();
    }
}
