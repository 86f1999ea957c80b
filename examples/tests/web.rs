//! The example server's web layer, driven by a real HTTP client with a cookie store while the
//! keyring file goes through add → activate → retire → prune: the session survives the whole
//! rotation, the cookie is re-issued with the new key once it signs, the old key's counter
//! stops growing, a cookie of the pruned key (kept aside) is refused (`bad_signature` to the
//! client, `unknown_key` in the metrics), and
//! `/metrics` counts exactly the verifications this test made.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{MINTER, READER, Server, tokenring};
use reqwest::blocking::{Client, Response};
use reqwest::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use serde_json::{Value, json};

/// The verifications the test expects, by (verifier, key id, outcome).
#[derive(Default)]
struct Expected(BTreeMap<(String, String, String), u64>);

impl Expected {
    fn add(&mut self, verifier: &str, key: &str, outcome: &str) {
        *self
            .0
            .entry((verifier.into(), key.into(), outcome.into()))
            .or_default() += 1;
    }
}

struct Web {
    server: Server,
    base: String,
    browser: Client,
    plain: Client,
}

impl Web {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn me(&self) -> (u16, Value, Option<String>) {
        read(self.browser.get(self.url("/me")).send().unwrap())
    }

    fn keys(&self) -> Vec<Value> {
        self.server.status()["keys"].as_array().unwrap().clone()
    }

    fn verified_count(&self, id: &str) -> u64 {
        self.keys()
            .iter()
            .find(|k| k["id"] == id)
            .map_or(0, |k| k["verified_count"].as_u64().unwrap())
    }

    fn wait(&self, what: &str, done: impl Fn(&[Value]) -> bool) {
        let start = Instant::now();
        while !done(&self.keys()) {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{what}: {:?}\n{}",
                self.keys(),
                self.server.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Status, JSON body and the `session` cookie set, if any.
fn read(response: Response) -> (u16, Value, Option<String>) {
    let status = response.status().as_u16();
    let set = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("session="));
    let body = response.text().unwrap();
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::Null),
        set,
    )
}

fn session_value(set_cookie: &str) -> String {
    let first = set_cookie.split(';').next().unwrap();
    first.strip_prefix("session=").unwrap().to_owned()
}

/// The `tokenring_verifications_total` series of a Prometheus text page.
fn verifications(page: &str) -> BTreeMap<(String, String, String), u64> {
    let mut out = BTreeMap::new();
    for line in page.lines() {
        let Some(rest) = line.strip_prefix("tokenring_verifications_total{") else {
            continue;
        };
        let (labels, value) = rest.split_once("} ").unwrap();
        let labels: BTreeMap<&str, &str> = labels
            .split(',')
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap();
                (k, v.trim_matches('"'))
            })
            .collect();
        out.insert(
            (
                labels["verifier"].to_owned(),
                labels["key_id"].to_owned(),
                labels["outcome"].to_owned(),
            ),
            value.trim().parse().unwrap(),
        );
    }
    out
}

fn assert_no_token(body: &Value, token: &str) {
    let text = body.to_string();
    for part in token.split('.').filter(|p| p.len() > 8) {
        assert!(!text.contains(part), "the token leaked into {text}");
    }
    assert!(
        body["reason"].is_string() && body["error"].is_string(),
        "{text}"
    );
}

#[test]
fn a_session_survives_a_rotation_and_metrics_count_every_verification() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyring.json");
    let k = path.to_str().unwrap();
    tokenring(&["keyring", "init", k, "--id", "old"]);
    let server = Server::start(k, &[]);
    let base = format!("http://{}", server.addr);
    let cookies = Arc::new(reqwest::cookie::Jar::default());
    let web = Web {
        server,
        base,
        browser: Client::builder()
            .cookie_provider(cookies.clone())
            .build()
            .unwrap(),
        plain: Client::new(),
    };
    let mut expected = Expected::default();

    // Log in: a signed, HttpOnly, Secure, SameSite=Lax session cookie.
    let (status, body, set) = read(
        web.browser
            .post(web.url("/login"))
            .json(&json!({"user": MINTER.0, "password": MINTER.1}))
            .send()
            .unwrap(),
    );
    assert_eq!((status, &body), (200, &json!({"user": MINTER.0})));
    let set = set.expect("a session cookie");
    for attribute in [
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=28800",
    ] {
        assert!(set.contains(attribute), "{attribute}: {set}");
    }
    let old_cookie = session_value(&set);
    assert!(old_cookie.starts_with("v1.old."), "{old_cookie}");
    assert_eq!(web.me().0, 200);
    expected.add("cookies", "old", "ok");

    // An API token for /protected, and the ways it is refused.
    let (_, minted) = web.server.request(
        "POST",
        "/tokens",
        // (Whole seconds: it lives between 1 and 2 s from now.)
        Some(&json!({"data": {"n": 1}, "purpose": "api", "expires_in": 2})),
    );
    let api = minted["token"].as_str().unwrap().to_owned();
    expected.add("cookies", "old", "ok"); // the minter's session, read to mint
    let bearer = |token: &str| {
        read(
            web.plain
                .get(web.url("/protected"))
                .header(AUTHORIZATION, format!("Bearer {token}"))
                .send()
                .unwrap(),
        )
    };
    let (status, body, _) = bearer(&api);
    assert_eq!((status, &body), (200, &json!({"data": {"n": 1}})));
    expected.add("tokenring", "old", "ok");
    let (_, other) = web.server.request(
        "POST",
        "/tokens",
        Some(&json!({"data": 1, "purpose": "reset"})),
    );
    let other = other["token"].as_str().unwrap().to_owned();
    expected.add("cookies", "old", "ok");
    let (status, body, _) = bearer(&other);
    assert_eq!(
        (status, body["reason"].as_str()),
        (403, Some("purpose_mismatch"))
    );
    assert_no_token(&body, &other);
    expected.add("tokenring", "old", "purpose_mismatch");
    // Another valid last character of the tag (its low bits unused by base64url stay zero).
    let last = if api.ends_with('A') { "E" } else { "A" };
    let tampered = format!("{}{last}", &api[..api.len() - 1]);
    let (status, body, _) = bearer(&tampered);
    assert_eq!(
        (status, body["reason"].as_str()),
        (401, Some("bad_signature"))
    );
    assert_no_token(&body, &tampered);
    expected.add("tokenring", "old", "bad_signature");
    let (status, body, _) = read(web.plain.get(web.url("/protected")).send().unwrap());
    assert_eq!(
        (status, body["reason"].as_str()),
        (401, Some("missing_token"))
    );
    let (status, body, _) = read(web.plain.get(web.url("/me")).send().unwrap());
    assert_eq!(
        (status, body["reason"].as_str()),
        (401, Some("missing_token"))
    );
    std::thread::sleep(Duration::from_millis(2200));
    let (status, body, _) = bearer(&api);
    assert_eq!((status, body["reason"].as_str()), (410, Some("expired")));
    assert_no_token(&body, &api);
    expected.add("tokenring", "old", "expired");

    // A new key, pending: the cookie still verifies with the old one and is left alone.
    tokenring(&["keyring", "add", k, "--id", "new", "--activates-in", "2s"]);
    web.wait("the new key loaded", |keys| keys.len() == 2);
    let (status, _, set) = web.me();
    // (It may already sign if the reload came late; then this is the re-issue below.)
    expected.add("cookies", "old", "ok");
    assert_eq!(status, 200);
    let reissued = match set {
        Some(set) => set,
        None => {
            web.wait("the new key signs", |keys| {
                keys.iter()
                    .any(|k| k["id"] == "new" && k["signing"] == true)
            });
            // The next response re-issues the cookie with the new key.
            let (status, body, set) = web.me();
            expected.add("cookies", "old", "ok");
            assert_eq!((status, &body), (200, &json!({"user": MINTER.0})));
            set.expect("the cookie re-issued with the new key")
        }
    };
    assert!(
        session_value(&reissued).starts_with("v1.new."),
        "{reissued}"
    );
    assert!(reissued.contains("Max-Age="), "{reissued}");

    // From now on the browser presents the new cookie: the old key's counter stops growing.
    let old_count = web.verified_count("old");
    for _ in 0..3 {
        let (status, _, set) = web.me();
        assert_eq!((status, set), (200, None));
        expected.add("cookies", "new", "ok");
    }
    assert_eq!(web.verified_count("old"), old_count);
    assert!(web.verified_count("new") >= 3);

    // Retire and prune the old key: the session survives; a cookie of the pruned key is refused.
    tokenring(&["keyring", "retire", k, "old", "--expires-in", "1s"]);
    std::thread::sleep(Duration::from_millis(1500));
    tokenring(&["keyring", "prune", k]);
    web.wait("the old key pruned", |keys| keys.len() == 1);
    let (status, body, _) = web.me();
    assert_eq!((status, &body), (200, &json!({"user": MINTER.0})));
    expected.add("cookies", "new", "ok");
    let (status, body, _) = read(
        web.plain
            .get(web.url("/me"))
            .header(COOKIE, format!("session={old_cookie}"))
            .send()
            .unwrap(),
    );
    assert_eq!(
        (status, body["reason"].as_str()),
        (401, Some("bad_signature"))
    );
    assert_no_token(&body, &old_cookie);
    expected.add("cookies", "(unknown)", "unknown_key");

    // The counts equal exactly what this test did.
    let page = web
        .plain
        .get(format!("http://{}/metrics", web.server.admin_addr))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let counted: BTreeMap<_, _> = verifications(&page)
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect();
    assert_eq!(counted, expected.0, "{page}");
    assert!(page.contains("tokenring_tokens_signed_total"), "{page}");
    assert!(
        page.contains("tokenring_reloads_total{result=\"loaded\"}"),
        "{page}"
    );
    assert!(
        page.contains("tokenring_keys{state=\"active\"} 1"),
        "{page}"
    );
}

/// The server as an operator meets it: `--help` answers with the usage, a log written to a
/// file holds no colour codes, and `/verify` answers each reason with the extractor's status.
#[test]
fn the_server_helps_logs_plainly_and_answers_one_status_per_reason() {
    let help = std::process::Command::new(common::example("server"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).starts_with("usage: server --keyring"));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyring.json");
    let ring = path.to_str().unwrap();
    tokenring(&["keyring", "init", ring, "--id", "k1"]);
    let server = Server::start_logging(ring, &[], "info");
    let client = Client::new();
    let protected = |token: &str| {
        let response = client
            .get(format!("http://{}/protected", server.addr))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json::<Value>().unwrap())
    };
    for (token, reason, status) in [
        ("garbage", "malformed", 400),
        // Answered as a forgery, so key ids cannot be enumerated.
        ("v1.nokey.e30.AAAA", "bad_signature", 401),
    ] {
        let (code, body) = server.request("POST", "/verify", Some(&json!({"token": token})));
        assert_eq!(
            (code, body["reason"].as_str()),
            (status, Some(reason)),
            "{body}"
        );
        assert!(!body.to_string().contains("nokey"), "{body}");
        let (code, body) = protected(token);
        assert_eq!(
            (code, body["reason"].as_str()),
            (status, Some(reason)),
            "{body}"
        );
    }
    let log = server.log();
    assert!(log.contains("INFO"), "{log}");
    assert!(
        !log.contains('\x1b'),
        "colour codes in a log that is not a terminal: {log:?}"
    );
}

/// The example is a safe service: logging in takes the password, minting takes a logged-in
/// minter and gives only configured purposes and bounded lifetimes, and the operator endpoints
/// are not on the public listener.
#[test]
fn the_server_mints_only_for_a_logged_in_minter_within_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyring.json");
    let ring = path.to_str().unwrap();
    tokenring(&["keyring", "init", ring, "--id", "k1"]);
    let server = Server::start(ring, &["--max-lifetime", "600"]);
    // Passwords are checked: a wrong one, an unknown user, and none at all are refused.
    assert!(server.login((MINTER.0, "wrong")).is_none());
    assert!(server.login(("admin", "admin")).is_none());
    let (status, body) = server.request_as(None, "POST", "/login", Some(&json!({"user": "admin"})));
    assert_eq!(
        (status, body["reason"].as_str()),
        (400, Some("bad_request"))
    );
    let (status, body) = server.request_as(
        None,
        "POST",
        "/login",
        Some(&json!({"user": MINTER.0, "password": "wrong"})),
    );
    assert_eq!(
        (status, body["reason"].as_str()),
        (401, Some("bad_credentials"))
    );

    let mint = |session: Option<&str>, request: Value| {
        server.request_as(session, "POST", "/tokens", Some(&request))
    };
    let api = json!({"data": {"role": "admin"}, "purpose": "api", "expires_in": 60});
    // Nobody logged in, and a user without the minter role: no token.
    let (status, body) = mint(None, api.clone());
    assert_eq!(
        (status, body["reason"].as_str()),
        (401, Some("missing_token"))
    );
    let reader = server.login(READER).expect("the reader logs in");
    let (status, body) = mint(Some(&reader), api.clone());
    assert_eq!(
        (status, body["reason"].as_str()),
        (403, Some("not_a_minter"))
    );
    // The minter: a token for a configured purpose, within the maximum lifetime.
    let minter = server.login(MINTER).expect("the minter logs in");
    let (status, body) = mint(Some(&minter), api);
    assert_eq!(status, 200, "{body}");
    for (request, reason) in [
        (
            json!({"data": 1, "purpose": "admin"}),
            "purpose_not_allowed",
        ),
        (json!({"data": 1}), "bad_request"),
        (
            json!({"data": 1, "purpose": "api", "expires_in": 601}),
            "bad_lifetime",
        ),
        (
            json!({"data": 1, "purpose": "api", "expires_in": 0}),
            "bad_lifetime",
        ),
    ] {
        let (status, body) = mint(Some(&minter), request.clone());
        assert_eq!(
            (status, body["reason"].as_str()),
            (400, Some(reason)),
            "{request}"
        );
    }
    // Without expires_in: the maximum, never "no expiry".
    let (_, body) = mint(Some(&minter), json!({"data": 1, "purpose": "api"}));
    let token = body["token"].as_str().unwrap();
    let inspected: Value = serde_json::from_str(&tokenring(&["inspect", token])).unwrap();
    let expires_at = inspected["expires_at"].as_str().expect("an expiry");
    let at = humantime_seconds(expires_at);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(at > now && at <= now + 601, "{expires_at}");

    // Operator endpoints: not on the public listener; on the admin one (loopback).
    for path in ["/keyring", "/metrics"] {
        assert_eq!(server.request_as(None, "GET", path, None).0, 404, "{path}");
        assert_eq!(server.admin(path).0, 200, "{path}");
    }
    assert!(server.admin_addr.starts_with("127.0.0.1:"));
}

/// `2026-12-04T16:00:00Z` as seconds since the epoch.
fn humantime_seconds(text: &str) -> u64 {
    humantime::parse_rfc3339(text)
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// On a key pair keyring the server mints JWS and serves its JWKS at
/// `/.well-known/jwks.json`, cached no longer than until the pending key activates; PyJWT
/// and Node's `jose` verify the server's token with that JWKS alone, and so does the public keyring, which
/// mints nothing.
#[test]
fn the_server_publishes_its_jwks_for_verify_only_services() {
    let dir = tempfile::tempdir().unwrap();
    let ring = dir.path().join("ring.json");
    let public = dir.path().join("public.json");
    let (ring, public) = (ring.to_str().unwrap(), public.to_str().unwrap());
    tokenring(&[
        "keyring",
        "init",
        ring,
        "--algorithm",
        "EdDSA",
        "--id",
        "k1",
    ]);
    tokenring(&[
        "keyring",
        "add",
        ring,
        "--id",
        "k2",
        "--activates-in",
        "90s",
    ]);
    tokenring(&["keyring", "public", ring, "--output", public]);
    let issuer = Server::start(ring, &[]);

    let response = Client::new()
        .get(format!("http://{}/.well-known/jwks.json", issuer.addr))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let cache = response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_owned();
    let max_age: u64 = cache
        .trim_start_matches("public, max-age=")
        .parse()
        .unwrap();
    assert!(max_age <= 90, "{cache}");
    let jwks = response.text().unwrap();
    let document: Value = serde_json::from_str(&jwks).unwrap();
    let kids: Vec<&str> = document["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, ["k2", "k1"], "{jwks}");
    assert!(!jwks.contains("\"d\""), "{jwks}");

    let token = issuer.mint(7).expect("the issuer mints");
    assert_eq!(token.split('.').count(), 3, "a JWS: {token}");
    let value = tokenring(&["verify", "--keyring", public, "--purpose", "fleet", &token]);
    assert_eq!(value.trim(), r#"{"n":7}"#);
    let minted = common::tokenring_command()
        .args(["sign", "--keyring", public, "1"])
        .output()
        .unwrap();
    assert!(!minted.status.success(), "the public keyring minted");

    let jwks_file = dir.path().join("jwks.json");
    std::fs::write(&jwks_file, &jwks).unwrap();
    for library in tokenring_test_support::jose_libraries::all() {
        let (accepted, said) = library.verify(&jwks_file, &token, "tokenring");
        assert!(accepted, "{}: {said}", library.name);
        let claims: Value = serde_json::from_str(&said).unwrap();
        assert_eq!(claims["dat"], json!({"n": 7}), "{}", library.name);
        assert_eq!(claims["pur"], "fleet", "{}", library.name);
    }
}
