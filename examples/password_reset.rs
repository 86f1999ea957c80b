//! Password resets and signed profile links on a real SQLite database, with nothing stored
//! for the tokens: the reset token carries a fingerprint of the password hash, so it dies by
//! itself when the password changes.
//!
//! ```sh
//! cargo run --example password_reset -- --database app.db --keyring keyring.json --addr 127.0.0.1:8080
//! curl -s localhost:8080/users -d '{"email": "ada@example.com", "password": "correct horse"}'
//! curl -s localhost:8080/password_resets -d '{"email": "ada@example.com"}'   # the link is printed on stdout
//! curl -s localhost:8080/password_resets/TOKEN
//! curl -s -X PATCH localhost:8080/password_resets/TOKEN -d '{"password": "battery staple"}'
//! curl -s localhost:8080/users/SIGNED_ID
//! ```
//!
//! The database is created and migrated if missing; the keyring is hot-reloaded. Every
//! rejection is a 4xx with `{"error": reason}`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rusqlite::{Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::json;
use tokenring::record::FindError;
use tokenring::{FileSource, HotKeyring, Record, TokenFor, Verifiers, VerifyError};
use tokenring_examples::hash_password;

#[derive(Clone, Debug)]
struct User {
    id: i64,
    email: String,
    password_hash: String,
}

impl Record for User {
    type Id = i64;
    const MODEL_NAME: &'static str = "User";
    fn record_id(&self) -> i64 {
        self.id
    }
}

#[derive(Clone)]
struct App {
    db: Arc<Mutex<Connection>>,
    verifiers: Verifiers,
    resets: Arc<TokenFor<User>>,
    addr: SocketAddr,
}

impl App {
    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn find(&self, id: i64) -> Result<Option<User>, rusqlite::Error> {
        self.db()
            .query_row(
                "SELECT id, email, password_hash FROM users WHERE id = ?1",
                [id],
                row_to_user,
            )
            .optional()
    }

    fn find_by_email(&self, email: &str) -> Result<Option<User>, rusqlite::Error> {
        self.db()
            .query_row(
                "SELECT id, email, password_hash FROM users WHERE email = ?1",
                [email],
                row_to_user,
            )
            .optional()
    }
}

fn row_to_user(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        email: row.get(1)?,
        password_hash: row.get(2)?,
    })
}

fn reject(status: StatusCode, reason: impl ToString) -> Response {
    (status, axum::Json(json!({"error": reason.to_string()}))).into_response()
}

fn internal(e: impl std::fmt::Display) -> Response {
    eprintln!("internal error: {e}");
    reject(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
}

/// Maps a token outcome to a 4xx: expired and used-up links are gone (410), a deleted record
/// is not found (404), anything else is a bad token (400).
fn rejected<E: std::fmt::Display>(error: FindError<E>) -> Response {
    match error {
        FindError::Invalid(e @ VerifyError::Expired { .. }) => reject(StatusCode::GONE, e),
        FindError::Invalid(e) => reject(StatusCode::BAD_REQUEST, e),
        FindError::NotFound => reject(StatusCode::NOT_FOUND, "no such user"),
        FindError::Stale => reject(StatusCode::GONE, "this link was already used"),
        FindError::Finder(e) => internal(e),
        other => reject(StatusCode::BAD_REQUEST, other),
    }
}

#[derive(Deserialize)]
struct NewUser {
    email: String,
    password: String,
}

#[derive(Deserialize)]
struct ResetRequest {
    email: String,
}

#[derive(Deserialize)]
struct NewPassword {
    password: String,
}

fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(reject(
            StatusCode::BAD_REQUEST,
            format!("invalid request: {e}"),
        ))
    })
}

async fn create_user(State(app): State<App>, body: Bytes) -> Response {
    let new: NewUser = match parse(&body) {
        Ok(new) => new,
        Err(response) => return *response,
    };
    if !new.email.contains('@') || new.password.len() < 8 {
        return reject(
            StatusCode::UNPROCESSABLE_ENTITY,
            "an e-mail and a password of 8+ characters are required",
        );
    }
    let hash = match hash_password(&new.password) {
        Ok(hash) => hash,
        Err(e) => return internal(e),
    };
    let inserted = app.db().execute(
        "INSERT INTO users (email, password_hash) VALUES (?1, ?2)",
        [&new.email, &hash],
    );
    match inserted {
        Ok(_) => {}
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            return reject(StatusCode::CONFLICT, "e-mail already registered");
        }
        Err(e) => return internal(e),
    }
    let id = app.db().last_insert_rowid();
    let user = User {
        id,
        email: new.email,
        password_hash: hash,
    };
    match app.verifiers.signed_id(&user, None, None) {
        Ok(signed_id) => (
            StatusCode::CREATED,
            axum::Json(json!({"id": id, "signed_id": signed_id})),
        )
            .into_response(),
        Err(e) => internal(e),
    }
}

async fn show_user(State(app): State<App>, Path(signed_id): Path<String>) -> Response {
    match app
        .verifiers
        .find_signed::<User, _>(&signed_id, None, |id| app.find(id))
    {
        Ok(found) => axum::Json(json!({"email": found.record.email})).into_response(),
        Err(e) => rejected(e),
    }
}

async fn request_reset(State(app): State<App>, body: Bytes) -> Response {
    let request: ResetRequest = match parse(&body) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    // Same answer whether or not the address is registered: no account enumeration.
    match app.find_by_email(&request.email) {
        Ok(Some(user)) => match app.resets.generate(&user) {
            // The "e-mail".
            Ok(token) => println!(
                "reset link for {}: http://{}/password_resets/{token}",
                user.email, app.addr
            ),
            Err(e) => return internal(e),
        },
        Ok(None) => {}
        Err(e) => return internal(e),
    }
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({"status": "if the address is registered, a link is on its way"})),
    )
        .into_response()
}

async fn show_reset(State(app): State<App>, Path(token): Path<String>) -> Response {
    match app.resets.resolve(&token, |id| app.find(id)) {
        Ok(found) => axum::Json(json!({"email": found.record.email})).into_response(),
        Err(e) => rejected(e),
    }
}

async fn reset_password(
    State(app): State<App>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let new: NewPassword = match parse(&body) {
        Ok(new) => new,
        Err(response) => return *response,
    };
    if new.password.len() < 8 {
        return reject(
            StatusCode::UNPROCESSABLE_ENTITY,
            "a password of 8+ characters is required",
        );
    }
    let user = match app.resets.resolve(&token, |id| app.find(id)) {
        Ok(found) => found.record,
        Err(e) => return rejected(e),
    };
    let hash = match hash_password(&new.password) {
        Ok(hash) => hash,
        Err(e) => return internal(e),
    };
    // The new hash changes the fingerprint: this token, and every other outstanding one, die.
    if let Err(e) = app.db().execute(
        "UPDATE users SET password_hash = ?1 WHERE id = ?2",
        rusqlite::params![hash, user.id],
    ) {
        return internal(e);
    }
    axum::Json(json!({"email": user.email})).into_response()
}

struct Args {
    database: PathBuf,
    keyring: PathBuf,
    addr: SocketAddr,
}

const USAGE: &str = "usage: password_reset --database FILE --keyring FILE [--addr 127.0.0.1:PORT]";

fn args() -> Result<Args, String> {
    let (mut database, mut keyring, mut addr) = (None, None, "127.0.0.1:8080".to_owned());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--database" => database = Some(PathBuf::from(value()?)),
            "--keyring" => keyring = Some(PathBuf::from(value()?)),
            "--addr" => addr = value()?,
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let usage = USAGE;
    Ok(Args {
        database: database.ok_or(usage)?,
        keyring: keyring.ok_or(usage)?,
        addr: addr.parse().map_err(|e| format!("--addr: {e}"))?,
    })
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let fail = |message: String| {
        eprintln!("{message}");
        std::process::ExitCode::FAILURE
    };
    let args = match args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return std::process::ExitCode::from(2);
        }
    };
    if !args.keyring.exists() {
        return fail(format!(
            "no keyring at {0}; create one first:\n  cargo run -- keyring init {0}",
            args.keyring.display()
        ));
    }
    let db = match Connection::open(&args.database) {
        Ok(db) => db,
        Err(e) => return fail(format!("cannot open {}: {e}", args.database.display())),
    };
    let migrated = db.execute_batch(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE IF NOT EXISTS users (
           id INTEGER PRIMARY KEY,
           email TEXT NOT NULL UNIQUE,
           password_hash TEXT NOT NULL
         );",
    );
    if let Err(e) = migrated {
        return fail(format!("cannot migrate {}: {e}", args.database.display()));
    }
    let keyring = match HotKeyring::builder(FileSource::new(&args.keyring)).build() {
        Ok(keyring) => keyring,
        Err(e) => return fail(format!("cannot load keyring: {e}")),
    };
    let verifiers = Verifiers::builder(&keyring).build();
    let resets = verifiers
        .token_for::<User>("password_reset")
        .expires_in(Duration::from_secs(15 * 60))
        // Ten characters of the argon2 hash's tail: changes with every new password, reveals
        // nothing useful (see tokenring::models' security note).
        .fingerprint(|u: &User| u.password_hash.chars().rev().take(10).collect::<String>())
        .build();
    let listener = match tokio::net::TcpListener::bind(args.addr).await {
        Ok(listener) => listener,
        Err(e) => return fail(format!("cannot listen on {}: {e}", args.addr)),
    };
    let addr = listener.local_addr().unwrap_or(args.addr);
    let app = App {
        db: Arc::new(Mutex::new(db)),
        verifiers,
        resets: Arc::new(resets),
        addr,
    };
    let router = Router::new()
        .route("/users", post(create_user))
        .route("/users/{signed_id}", get(show_user))
        .route("/password_resets", post(request_reset))
        .route(
            "/password_resets/{token}",
            get(show_reset).patch(reset_password),
        )
        .with_state(app);
    println!("listening on {addr}");
    let shutdown = async {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::select! { _ = term.recv() => {}, _ = tokio::signal::ctrl_c() => {} }
        }
    };
    match axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
    {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => fail(format!("server error: {e}")),
    }
}
