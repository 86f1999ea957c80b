//! A keyring source written outside the crate: a keyring served over HTTP, its `ETag` as the
//! revision, followed by a hot keyring that polls it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;
use tokenring::clock::Clock;
use tokenring::error::StoreProblem;
use tokenring::hot::WatchMode;
use tokenring::source::Versioned;
use tokenring::{HotKeyring, Keyring, KeyringError, KeyringSource};

/// `GET http://ADDR/keyring`; the `ETag` is the revision.
struct HttpSource {
    addr: String,
}

impl KeyringSource for HttpSource {
    fn load(&self, clock: Arc<dyn Clock>) -> Result<Keyring, KeyringError> {
        Ok(self.load_revision(clock)?.keyring)
    }
    fn load_revision(&self, clock: Arc<dyn Clock>) -> Result<Versioned, KeyringError> {
        let unavailable = |said: String| KeyringError::Unavailable {
            store: format!("http://{}/keyring", self.addr),
            reason: StoreProblem::Said(said),
        };
        let mut stream = TcpStream::connect(&self.addr).map_err(|e| unavailable(e.to_string()))?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
        write!(
            stream,
            "GET /keyring HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .map_err(|e| unavailable(e.to_string()))?;
        let mut response = String::new();
        stream
            .take(1 << 20)
            .read_to_string(&mut response)
            .map_err(|e| unavailable(e.to_string()))?;
        let (head, body) = response
            .split_once("\r\n\r\n")
            .ok_or_else(|| unavailable("no body".into()))?;
        if !head.starts_with("HTTP/1.1 200") {
            return Err(unavailable(
                head.lines().next().unwrap_or_default().to_owned(),
            ));
        }
        let etag = head
            .lines()
            .find_map(|l| l.strip_prefix("ETag: "))
            .map(str::to_owned);
        Ok(Versioned::new(
            Keyring::from_json_with_clock(body, clock)?,
            etag,
        ))
    }
    fn describe(&self) -> String {
        format!("http://{}/keyring", self.addr)
    }
}

#[test]
fn a_source_written_outside_the_crate_is_followed() -> Result<(), KeyringError> {
    // A stand-in for the keyring service: one answer per connection, given once the whole
    // request is read (closing with unread bytes would reset the connection).
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let body =
            r#"{"keys": [{"id": "k1", "secret": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}]}"#;
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let (mut request, mut chunk) = (Vec::new(), [0u8; 1024]);
            while !request.ends_with(b"\r\n\r\n") {
                match stream.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&chunk[..n]),
                }
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nETag: \"v7\"\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
        }
    });

    let keyring = HotKeyring::builder(HttpSource { addr })
        .mode(WatchMode::Poll(Duration::from_secs(30)))
        .build()?;
    assert_eq!(keyring.status().revision.as_deref(), Some("\"v7\""));
    assert_eq!(keyring.keyring().keys()[0].id(), "k1");
    Ok(())
}
