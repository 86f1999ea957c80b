//! A long-running token service with a hot-reloaded keyring, as a user would embed one — and
//! as safely: only a logged-in user with the `minter` role mints, every token it mints
//! expires (within `--max-lifetime`) and carries a purpose from `--purposes`, passwords are
//! checked against argon2id hashes, and the operator endpoints listen apart, on loopback.
//!
//! ```sh
//! echo demo-password | cargo run --example server -- add-user users.json demo --role minter
//! cargo run --example server -- --keyring keyring.json --users users.json --addr 127.0.0.1:8080
//! curl -s -c jar localhost:8080/login -d '{"user": "demo", "password": "demo-password"}'
//! curl -s -b jar localhost:8080/tokens -d '{"data": {"user": 42}, "purpose": "api", "expires_in": 900}'
//! curl -s localhost:8080/verify -d '{"token": "v1…", "purpose": "api"}'
//! curl -s -b jar localhost:8080/me                                  # {"user": "demo"}
//! curl -s localhost:8080/protected -H "Authorization: Bearer $API_TOKEN"  # purpose "api"
//! curl -s localhost:9090/keyring                                    # operators: loopback only
//! curl -s localhost:9090/metrics                                    # Prometheus text
//! ```
//!
//! Rotate the keyring file on disk (`tokenring keyring add …`) and the server follows within
//! a second; a broken file is refused and the last good keyring stays. SIGHUP forces a
//! reload; SIGTERM or Ctrl-C shuts down gracefully. Prints `listening on ADDR` and then
//! `admin listening on ADDR` once bound.

#[path = "users.rs"]
mod users;

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
use tokenring_axum::{JarConfig, Purpose, RotatingJar, Token, TokenRejection};
use users::Users;

#[derive(Clone)]
struct App {
    keyring: HotKeyring,
    verifier: Verifier,
    cookies: JarConfig,
    metrics: PrometheusHandle,
    users: std::sync::Arc<Users>,
    /// The purposes `POST /tokens` mints for.
    purposes: std::sync::Arc<Vec<String>>,
    /// The longest lifetime `POST /tokens` gives a token.
    max_lifetime: Duration,
}

/// `/protected` takes the API tokens `POST /tokens` mints with purpose `api`.
impl FromRef<App> for Verifier {
    fn from_ref(app: &App) -> Verifier {
        app.verifier.clone()
    }
}

/// The session cookie's jar: its own verifier (salt `cookies`), so no API token passes for a
/// cookie.
impl FromRef<App> for JarConfig {
    fn from_ref(app: &App) -> JarConfig {
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
    password: String,
}

#[derive(serde::Serialize, Deserialize)]
struct Session {
    user: String,
    #[serde(default)]
    roles: Vec<String>,
}

/// `POST /login {"user": NAME, "password": …}`: checks the password against the user's
/// argon2id hash and sets the signed session cookie (with the user's roles).
async fn login(State(app): State<App>, jar: RotatingJar, body: Bytes) -> Response {
    let request: LoginRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return bad_request(&e),
    };
    // Argon2 is slow on purpose: off the async workers.
    let users = app.users.clone();
    let checked = tokio::task::spawn_blocking(move || {
        users
            .check(&request.user, &request.password)
            .map(|u| (u.name.clone(), u.roles.clone()))
    })
    .await
    .ok()
    .flatten();
    let Some((user, roles)) = checked else {
        return error(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "unknown user or wrong password",
        );
    };
    let session = Session { user, roles };
    match jar.add("session", &session, SESSION) {
        Ok(jar) => (jar, axum::Json(json!({"user": session.user}))).into_response(),
        Err(e) => cannot_sign(e),
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
    purpose: String,
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

/// Why a token or a session could not be minted, as an answer: no key signs yet (503), or this
/// server holds the public keyring and only verifies (403).
fn cannot_sign(e: tokenring::SignError) -> Response {
    match e {
        tokenring::SignError::NoSigningKey => {
            error(StatusCode::SERVICE_UNAVAILABLE, "no_signing_key", e)
        }
        tokenring::SignError::NoPrivateKey { .. } => error(
            StatusCode::FORBIDDEN,
            "verify_only",
            "this server holds the public keyring: it verifies tokens and mints none",
        ),
        e => error(StatusCode::BAD_REQUEST, "cannot_sign", e),
    }
}

/// Bodies are parsed by hand so that every rejection is JSON, never a framework default.
fn bad_request(e: &serde_json::Error) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "bad_request",
        format!("invalid request: {e}"),
    )
}

/// `POST /tokens {"data", "purpose", "expires_in"?}` by a logged-in `minter`: a token for one
/// of the configured purposes, expiring within the configured maximum (the maximum when
/// `expires_in` is left out).
async fn mint(State(app): State<App>, jar: RotatingJar, body: Bytes) -> Response {
    let session: Session = match jar.try_get("session") {
        Ok(session) => session,
        Err(rejection) => return rejection.into_response(),
    };
    if !session.roles.iter().any(|r| r == users::MINTER) {
        return error(
            StatusCode::FORBIDDEN,
            "not_a_minter",
            "this user may not mint tokens",
        );
    }
    let request: MintRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return bad_request(&e),
    };
    if !app.purposes.contains(&request.purpose) {
        return error(
            StatusCode::BAD_REQUEST,
            "purpose_not_allowed",
            format!("purposes minted here: {}", app.purposes.join(", ")),
        );
    }
    let lifetime = match request.expires_in.map(Duration::from_secs) {
        None => app.max_lifetime,
        Some(Duration::ZERO) => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_lifetime",
                "expires_in must be over 0",
            );
        }
        Some(asked) if asked > app.max_lifetime => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_lifetime",
                format!("expires_in is at most {}", app.max_lifetime.as_secs()),
            );
        }
        Some(asked) => asked,
    };
    let options = TokenOptions::new()
        .purpose(&request.purpose)
        .expires_in(lifetime);
    match app.verifier.generate(&request.data, options) {
        Ok(token) => (jar, axum::Json(json!({"token": token}))).into_response(),
        Err(e) => cannot_sign(e),
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

/// The public keys of the keyring in force (key pairs only; empty for HMAC keyrings), for
/// JOSE libraries verifying this service's tokens. Public: it holds nothing secret.
async fn jwks(State(app): State<App>) -> tokenring_axum::JwksDocument {
    tokenring_axum::JwksDocument::new(&app.keyring.keyring())
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
    users: PathBuf,
    node_id: Option<String>,
    addr: SocketAddr,
    admin_addr: SocketAddr,
    purposes: Vec<String>,
    max_lifetime: Duration,
}

const USAGE: &str = "usage: server --keyring FILE|etcd://HOST:PORT/NAME --users FILE [options]
       server add-user FILE NAME [--role ROLE]...   (the password on standard input)

  --keyring       the keyring: a file (hot-reloaded), or etcd://HOST:PORT/NAME (feature etcd)
  --users         who may log in: made by add-user (argon2id hashes, mode 0600)
  --node-id       acknowledge the keyring held under this id (etcd keyrings only)
  --addr          where to listen (default 127.0.0.1:8080)
  --admin-addr    where /keyring and /metrics listen (default 127.0.0.1:9090, loopback)
  --purposes      the purposes POST /tokens mints for, comma-separated (default api)
  --max-lifetime  the longest a minted token lives, in seconds (default 3600)

Minting (POST /tokens) takes a logged-in user with the role minter.
Logs go to stderr (RUST_LOG sets the level; colour only on a terminal).";

/// The arguments, `Ok(None)` for `--help`.
fn args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let (mut keyring, mut users, mut node_id) = (None, None, None);
    let mut addr = "127.0.0.1:8080".to_owned();
    let mut admin_addr = "127.0.0.1:9090".to_owned();
    let mut purposes = "api".to_owned();
    let mut max_lifetime = "3600".to_owned();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--keyring" => keyring = Some(value()?),
            "--users" => users = Some(PathBuf::from(value()?)),
            "--node-id" => node_id = Some(value()?),
            "--addr" => addr = value()?,
            "--admin-addr" => admin_addr = value()?,
            "--purposes" => purposes = value()?,
            "--max-lifetime" => max_lifetime = value()?,
            "--help" | "-h" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let max_lifetime: u64 = max_lifetime
        .parse()
        .ok()
        .filter(|&s| s > 0)
        .ok_or("--max-lifetime: a number of seconds over 0")?;
    Ok(Some(Args {
        keyring: keyring.ok_or(USAGE)?,
        users: users.ok_or(USAGE)?,
        node_id,
        addr: addr.parse().map_err(|e| format!("--addr: {e}"))?,
        admin_addr: admin_addr
            .parse()
            .map_err(|e| format!("--admin-addr: {e}"))?,
        purposes: purposes
            .split(',')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
        max_lifetime: Duration::from_secs(max_lifetime),
    }))
}

/// `server add-user FILE NAME [--role ROLE]…`, the password on standard input (at most
/// 4 KiB, one trailing newline dropped).
fn add_user(mut args: impl Iterator<Item = String>) -> Result<(), String> {
    let usage = "usage: server add-user FILE NAME [--role ROLE]... (password on standard input)";
    let (file, name) = (args.next().ok_or(usage)?, args.next().ok_or(usage)?);
    let mut roles = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--role" => roles.push(args.next().ok_or(usage)?),
            _ => return Err(usage.to_owned()),
        }
    }
    let mut password = String::new();
    std::io::Read::read_to_string(
        &mut std::io::Read::take(std::io::stdin(), 4096),
        &mut password,
    )
    .map_err(|e| format!("cannot read the password: {e}"))?;
    let password = password.strip_suffix('\n').unwrap_or(&password);
    Users::add(std::path::Path::new(&file), &name, password, roles)?;
    println!("user {name:?} written to {file}");
    Ok(())
}

/// A file, or (feature `etcd`) `etcd://HOST:PORT/NAME`, acknowledged as `--node-id`.
fn keyring_builder(args: &Args) -> Result<tokenring::hot::HotKeyringBuilder, String> {
    if args.keyring.starts_with("etcd://") {
        #[cfg(feature = "etcd")]
        {
            // TLS and credentials come from the environment etcdctl reads.
            let mut source = tokenring::source::EtcdSourceBuilder::from_url(&args.keyring)
                .and_then(tokenring::source::EtcdSourceBuilder::etcdctl_env)
                .map_err(|e| e.to_string())?;
            if let Some(id) = &args.node_id {
                source = source.acknowledge_as(id, std::time::Duration::from_secs(30));
            }
            return Ok(HotKeyring::builder(
                source.build().map_err(|e| e.to_string())?,
            ));
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
    let mut argv = std::env::args().skip(1).peekable();
    if argv.peek().map(String::as_str) == Some("add-user") {
        argv.next();
        return match add_user(argv) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("{message}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    let args = match args(argv) {
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
    let users = match Users::load(&args.users) {
        Ok(users) => std::sync::Arc::new(users),
        Err(message) => {
            eprintln!("{message}");
            return std::process::ExitCode::FAILURE;
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
        cookies: JarConfig::new(Verifier::new(&keyring, "cookies")),
        keyring: keyring.clone(),
        metrics,
        users,
        purposes: std::sync::Arc::new(args.purposes.clone()),
        max_lifetime: args.max_lifetime,
    };
    let router = Router::new()
        .route("/tokens", post(mint))
        .route("/verify", post(verify))
        .route("/login", post(login))
        .route("/me", get(me))
        .route("/protected", get(protected))
        .route("/.well-known/jwks.json", get(jwks))
        .with_state(app.clone());
    // What operators read (key ids, states, per-key counts, the keyring's source) listens
    // apart, on loopback unless told otherwise, never beside the public routes.
    let admin = Router::new()
        .route("/keyring", get(status))
        .route("/metrics", get(metrics_text))
        .with_state(app);
    let mut bound = Vec::new();
    for addr in [args.addr, args.admin_addr] {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => bound.push(listener),
            Err(e) => {
                eprintln!("cannot listen on {addr}: {e}");
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    let (admin_listener, listener) = (bound.pop(), bound.pop());
    let (Some(listener), Some(admin_listener)) = (listener, admin_listener) else {
        return std::process::ExitCode::FAILURE;
    };
    if !args.admin_addr.ip().is_loopback() {
        tracing::warn!(addr = %args.admin_addr, "/keyring and /metrics listen beyond loopback");
    }
    if let (Ok(addr), Ok(admin_addr)) = (listener.local_addr(), admin_listener.local_addr()) {
        println!("listening on {addr}");
        println!("admin listening on {admin_addr}");
    }
    let admin_task = tokio::spawn(async move { axum::serve(admin_listener, admin).await });
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_on_signals(keyring))
        .await;
    admin_task.abort();
    match served {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
