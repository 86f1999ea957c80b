//! A long-running token service with a hot-reloaded keyring, as a user would embed one.
//!
//! ```sh
//! cargo run --example server -- --keyring keyring.json --addr 127.0.0.1:8080
//! curl -s localhost:8080/tokens -d '{"data": {"user": 42}, "purpose": "login", "expires_in": 900}'
//! curl -s localhost:8080/verify -d '{"token": "v1…", "purpose": "login"}'
//! curl -s localhost:8080/keyring
//! curl -s -c jar -b jar localhost:8080/login -d '{"user": "ann"}'   # a signed session cookie
//! curl -s -b jar localhost:8080/me                                  # {"user": "ann"}
//! curl -s localhost:8080/protected -H "Authorization: Bearer $API_TOKEN"  # purpose "api"
//! curl -s localhost:8080/metrics                                    # Prometheus text
//! ```
//!
//! Rotate the keyring file on disk (`tokenring keyring add …`) and the server follows within
//! a second; a broken file is refused and the last good keyring stays. SIGHUP forces a
//! reload; SIGTERM or Ctrl-C shuts down gracefully. Prints `listening on ADDR` once bound.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::Deserialize;
use serde_json::{Value, json};
use tokenring::{FileSource, HotKeyring, TokenOptions, Verifier};
use tokenring_axum::{JarKeys, Purpose, RotatingJar, Token, TokenRejection};

#[derive(Clone)]
struct App {
    keyring: HotKeyring,
    verifier: Verifier,
    cookies: JarKeys,
    metrics: PrometheusHandle,
}

/// `/protected` takes the API tokens `POST /tokens` mints with purpose `api`.
impl FromRef<App> for Verifier {
    fn from_ref(app: &App) -> Verifier {
        app.verifier.clone()
    }
}

/// The session cookie's jar: its own verifier (salt `cookies`), so no API token passes for a
/// cookie.
impl FromRef<App> for JarKeys {
    fn from_ref(app: &App) -> JarKeys {
        app.cookies.clone()
    }
}

/// Tokens for `/protected`: bearer tokens minted for purpose `api`.
struct Api;
impl Purpose for Api {
    const PURPOSE: &'static str = "api";
}

/// How long a session cookie lives.
const SESSION: Duration = Duration::from_secs(8 * 3600);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    user: String,
}

#[derive(serde::Serialize, Deserialize)]
struct Session {
    user: String,
}

/// `POST /login {"user": NAME}`: sets the signed session cookie.
async fn login(jar: RotatingJar, body: Bytes) -> Response {
    let request: LoginRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return bad_request(&e),
    };
    let session = Session { user: request.user };
    match jar.add("session", &session, SESSION) {
        Ok(jar) => (jar, axum::Json(json!({"user": session.user}))).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, "no_signing_key", e),
    }
}

/// `GET /me`: the session's user; after a rotation the cookie comes back re-signed.
async fn me(jar: RotatingJar) -> Result<(RotatingJar, axum::Json<Value>), TokenRejection> {
    let session: Session = jar.try_get("session")?;
    Ok((jar, axum::Json(json!({"user": session.user}))))
}

/// `GET /protected` with `Authorization: Bearer TOKEN` (purpose `api`).
async fn protected(token: Token<Value, Api>) -> axum::Json<Value> {
    axum::Json(json!({"data": token.value}))
}

/// `GET /metrics`: Prometheus text.
async fn metrics_text(State(app): State<App>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        app.metrics.render(),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MintRequest {
    data: Value,
    purpose: Option<String>,
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyRequest {
    token: String,
    purpose: Option<String>,
}

fn error(status: StatusCode, reason: &str, message: impl ToString) -> Response {
    let body = json!({"error": message.to_string(), "reason": reason});
    (status, axum::Json(body)).into_response()
}

/// Bodies are parsed by hand so that every rejection is JSON, never a framework default.
fn bad_request(e: &serde_json::Error) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "bad_request",
        format!("invalid request: {e}"),
    )
}

async fn mint(State(app): State<App>, body: Bytes) -> Response {
    let request: MintRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return bad_request(&e),
    };
    let mut options = TokenOptions::new();
    if let Some(purpose) = &request.purpose {
        options = options.purpose(purpose);
    }
    if let Some(seconds) = request.expires_in {
        options = options.expires_in(Duration::from_secs(seconds));
    }
    match app.verifier.generate(&request.data, options) {
        Ok(token) => axum::Json(json!({"token": token})).into_response(),
        Err(tokenring::SignError::NoSigningKey) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_signing_key",
            tokenring::SignError::NoSigningKey,
        ),
        Err(e) => error(StatusCode::BAD_REQUEST, "cannot_sign", e),
    }
}

async fn verify(State(app): State<App>, body: Bytes) -> Response {
    let request: VerifyRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return bad_request(&e),
    };
    match app
        .verifier
        .verify::<Value>(&request.token, request.purpose.as_deref())
    {
        Ok(verified) => axum::Json(json!({
            "data": verified.value,
            "key_id": &*verified.key_id,
            "current_key": verified.is_current_key,
        }))
        .into_response(),
        // The extractor's answer for the same reason: one status per reason code across the
        // server, and words fixed per reason (never the token or its key id).
        Err(e) => TokenRejection::from(&e).into_response(),
    }
}

async fn status(State(app): State<App>) -> Response {
    let status = app.keyring.status();
    let keys: Vec<Value> = status
        .keys
        .iter()
        .map(|k| {
            json!({
                "id": k.id,
                "state": k.state.name(),
                "signing": k.signing,
                "verified_count": k.verified_count,
            })
        })
        .collect();
    let time = |at| humantime::format_rfc3339_seconds(at).to_string();
    axum::Json(json!({
        "generation": status.generation,
        "loaded_at": time(status.loaded_at),
        "source": status.source,
        "keys": keys,
        "last_error": status.last_error.map(|e| e.to_string()),
        "reloading_since": status.reloading_since.map(time),
        "loads": status.loads,
        "demo": status.demo,
        "revision": status.revision,
    }))
    .into_response()
}

struct Args {
    keyring: String,
    node_id: Option<String>,
    addr: SocketAddr,
}

const USAGE: &str =
    "usage: server --keyring FILE|etcd://HOST:PORT/NAME [--node-id ID] [--addr 127.0.0.1:PORT]

  --keyring   the keyring: a file (hot-reloaded), or etcd://HOST:PORT/NAME (feature etcd)
  --node-id   acknowledge the keyring held under this id (etcd keyrings only)
  --addr      where to listen (default 127.0.0.1:8080)

Logs go to stderr (RUST_LOG sets the level; colour only on a terminal).";

/// The arguments, `Ok(None)` for `--help`.
fn args() -> Result<Option<Args>, String> {
    let mut keyring = None;
    let mut node_id = None;
    let mut addr = "127.0.0.1:8080".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--keyring" => keyring = args.next(),
            "--node-id" => node_id = Some(args.next().ok_or("--node-id needs a value")?),
            "--addr" => addr = args.next().ok_or("--addr needs a value")?,
            "--help" | "-h" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(Some(Args {
        keyring: keyring.ok_or(USAGE)?,
        node_id,
        addr: addr.parse().map_err(|e| format!("--addr: {e}"))?,
    }))
}

/// A file, or (feature `etcd`) `etcd://HOST:PORT/NAME`, acknowledged as `--node-id`.
fn keyring_builder(args: &Args) -> Result<tokenring::hot::HotKeyringBuilder, String> {
    if args.keyring.starts_with("etcd://") {
        #[cfg(feature = "etcd")]
        {
            // TLS and credentials come from the environment etcdctl reads.
            let mut source = tokenring::keyring::EtcdSource::from_url(&args.keyring)
                .and_then(tokenring::keyring::EtcdSource::with_etcdctl_env)
                .map_err(|e| e.to_string())?;
            if let Some(id) = &args.node_id {
                source = source
                    .acknowledge_as(id, std::time::Duration::from_secs(30))
                    .map_err(|e| e.to_string())?;
            }
            return Ok(HotKeyring::builder(source));
        }
        #[cfg(not(feature = "etcd"))]
        return Err("built without etcd: cargo run --features etcd --example server".to_owned());
    }
    if args.node_id.is_some() {
        return Err("--node-id acknowledges in etcd: it needs an etcd:// keyring".to_owned());
    }
    let path = PathBuf::from(&args.keyring);
    if !path.exists() {
        return Err(format!(
            "no keyring at {0}; create one first:\n  cargo run -- keyring init {0}",
            path.display()
        ));
    }
    Ok(HotKeyring::builder(FileSource::new(path)))
}

async fn shutdown_on_signals(keyring: HotKeyring) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return;
    };
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
            _ = hup.recv() => {
                // Errors are already logged and kept in the status.
                let _ = keyring.reload();
            }
        }
    }
    tracing::info!("shutting down");
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // Escape codes only where a terminal shows them as colour, not in a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = match args() {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return std::process::ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("{message}");
            return std::process::ExitCode::from(2);
        }
    };
    let builder = match keyring_builder(&args) {
        Ok(builder) => builder,
        Err(message) => {
            eprintln!("{message}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // Before the keyring and verifiers exist, so that every counter reaches it.
    let metrics = match metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder() {
        Ok(handle) => handle,
        Err(e) => {
            eprintln!("cannot install the metrics recorder: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let keyring = match builder.build() {
        Ok(keyring) => keyring,
        Err(e) => {
            eprintln!("cannot load keyring: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let app = App {
        verifier: Verifier::new(&keyring, tokenring::Verifier::DEFAULT_SALT),
        cookies: JarKeys::new(Verifier::new(&keyring, "cookies")),
        keyring: keyring.clone(),
        metrics,
    };
    let router = Router::new()
        .route("/tokens", post(mint))
        .route("/verify", post(verify))
        .route("/keyring", get(status))
        .route("/login", post(login))
        .route("/me", get(me))
        .route("/protected", get(protected))
        .route("/metrics", get(metrics_text))
        .with_state(app);
    let listener = match tokio::net::TcpListener::bind(args.addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("cannot listen on {}: {e}", args.addr);
            return std::process::ExitCode::FAILURE;
        }
    };
    if let Ok(addr) = listener.local_addr() {
        println!("listening on {addr}");
    }
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_on_signals(keyring))
        .await;
    match served {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
