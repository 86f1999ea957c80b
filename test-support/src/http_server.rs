//! A programmable HTTP/1.1 server on loopback, for sources that fetch over HTTP (a JWKS
//! URL): each request is recorded and answered with the reply set at that moment — a status,
//! headers, a body, a delay — and a conditional request whose `If-None-Match` is the reply's
//! `ETag` gets a 304. It can be stopped (connections then refused) and started again on the
//! same port.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server answers.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Waited before answering.
    pub delay: Duration,
    /// Answer 304 to `If-None-Match` equal to this (it is also sent as `ETag`).
    pub etag: Option<String>,
}

impl Reply {
    /// 200 with `body` as JSON, `Cache-Control: max-age=AGE` when given, and an `ETag`.
    pub fn json(body: &str, etag: Option<&str>, max_age: Option<u64>) -> Self {
        let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
        if let Some(age) = max_age {
            headers.push(("Cache-Control".to_owned(), format!("public, max-age={age}")));
        }
        Self {
            status: 200,
            headers,
            body: body.as_bytes().to_vec(),
            delay: Duration::ZERO,
            etag: etag.map(str::to_owned),
        }
    }

    /// `status` with `body` as `content_type`.
    pub fn status(status: u16, content_type: &str, body: &[u8]) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".to_owned(), content_type.to_owned())],
            body: body.to_vec(),
            delay: Duration::ZERO,
            etag: None,
        }
    }
}

/// One request as received.
#[derive(Clone, Debug)]
pub struct Request {
    pub path: String,
    pub if_none_match: Option<String>,
}

/// The server; stopped on drop.
pub struct HttpServer {
    port: u16,
    reply: Arc<Mutex<Reply>>,
    requests: Arc<Mutex<Vec<Request>>>,
    running: Option<Arc<AtomicBool>>,
}

impl HttpServer {
    /// Starts on a free loopback port, answering `reply`.
    pub fn start(reply: Reply) -> Self {
        let mut server = Self {
            port: 0,
            reply: Arc::new(Mutex::new(reply)),
            requests: Arc::new(Mutex::new(Vec::new())),
            running: None,
        };
        server.listen(TcpListener::bind("127.0.0.1:0").unwrap());
        server
    }

    fn listen(&mut self, listener: TcpListener) {
        self.port = listener.local_addr().unwrap().port();
        let running = Arc::new(AtomicBool::new(true));
        let (reply, requests, still) = (self.reply.clone(), self.requests.clone(), running.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if !still.load(Ordering::Acquire) {
                    return; // the listener closes here
                }
                let Ok(stream) = stream else { continue };
                let (reply, requests) = (reply.clone(), requests.clone());
                std::thread::spawn(move || answer(stream, &reply, &requests));
            }
        });
        self.running = Some(running);
    }

    /// `http://127.0.0.1:PORT/PATH`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Answers `reply` from now on.
    pub fn set(&self, reply: Reply) {
        *self.reply.lock().unwrap() = reply;
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// Stops listening: connections are refused until [`HttpServer::restart`].
    pub fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.store(false, Ordering::Release);
            // Wake the accept loop so it sees the flag and drops the listener.
            let _ = TcpStream::connect(("127.0.0.1", self.port));
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Listens again on the same port.
    pub fn restart(&mut self) {
        let listener = (0..100)
            .find_map(|_| {
                TcpListener::bind(("127.0.0.1", self.port))
                    .map_err(|_| std::thread::sleep(Duration::from_millis(20)))
                    .ok()
            })
            .expect("the port is free again");
        self.listen(listener);
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn answer(stream: TcpStream, reply: &Mutex<Reply>, requests: &Mutex<Vec<Request>>) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() || line.is_empty() {
        return;
    }
    let path = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let mut if_none_match = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("if-none-match")
        {
            if_none_match = Some(value.trim().to_owned());
        }
    }
    requests.lock().unwrap().push(Request {
        path,
        if_none_match: if_none_match.clone(),
    });
    let reply = reply.lock().unwrap().clone();
    std::thread::sleep(reply.delay);
    let not_modified = reply.etag.is_some() && reply.etag == if_none_match;
    let (status, body): (u16, &[u8]) = match not_modified {
        true => (304, b""),
        false => (reply.status, &reply.body),
    };
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(etag) = &reply.etag {
        head.push_str(&format!("ETag: {etag}\r\n"));
    }
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = reader.into_inner();
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}
