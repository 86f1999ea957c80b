//! The extractor and the jar inside a real axum router: every rejection code reachable, none
//! of their bodies holding the token; cookies signed, read, re-issued after a rotation, and
//! removed.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, to_bytes};
use axum::extract::FromRef;
use axum::http::{Request, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tokenring::clock::ManualClock;
use tokenring::{Key, Keyring, Secret, TokenOptions, Verifier};
use tokenring_axum::{JarConfig, Purpose, RotatingJar, Token, TokenRejection, TokenSource};
use tower::ServiceExt as _;

const HOUR: Duration = Duration::from_secs(3600);

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

struct Api;
impl Purpose for Api {
    const PURPOSE: &'static str = "api";
}

struct Link;
impl Purpose for Link {
    const PURPOSE: &'static str = "link";
    const SOURCE: TokenSource = TokenSource::Query("token");
}

struct Remembered;
impl Purpose for Remembered {
    const PURPOSE: &'static str = "remember";
    const SOURCE: TokenSource = TokenSource::Cookie("remember");
}

#[derive(Clone)]
struct App {
    api: Verifier,
    jar: JarConfig,
}

impl FromRef<App> for Verifier {
    fn from_ref(app: &App) -> Verifier {
        app.api.clone()
    }
}

impl FromRef<App> for JarConfig {
    fn from_ref(app: &App) -> JarConfig {
        app.jar.clone()
    }
}

/// k1 active, k2 pending until t0 + 1 h, k0 revoked; a manual clock.
fn keyring() -> (Arc<Keyring>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(t0()));
    let keys = vec![
        Key::new("k2", Secret::from_bytes([2u8; 32])).with_activates_at(Some(t0() + HOUR)),
        Key::new("k1", Secret::from_bytes([1u8; 32])),
        Key::new("k0", Secret::from_bytes([9u8; 32])).with_disabled(true),
        Key::new("kx", Secret::from_bytes([8u8; 32])).with_expires_at(Some(t0() - HOUR)),
    ];
    (
        Arc::new(Keyring::new_with_clock(keys, clock.clone()).unwrap()),
        clock,
    )
}

async fn protected(token: Token<Value, Api>) -> Json<Value> {
    Json(json!({"data": token.value, "key": &*token.key_id}))
}

async fn link(token: Token<u64, Link>) -> String {
    token.value.to_string()
}

async fn remembered(token: Token<String, Remembered>) -> String {
    token.value
}

async fn greeting(token: Option<Token<String, Remembered>>) -> String {
    match token {
        Some(token) => format!("hello {}", token.value),
        None => "hello stranger".to_owned(),
    }
}

async fn login(jar: RotatingJar) -> Result<RotatingJar, String> {
    jar.add("session", &json!({"user": "ann"}), 8 * HOUR)
        .map_err(|e| e.to_string())
}

async fn me(jar: RotatingJar) -> Result<(RotatingJar, Json<Value>), TokenRejection> {
    let session: Value = jar.try_get("session")?;
    Ok((jar, Json(session)))
}

async fn logout(jar: RotatingJar) -> RotatingJar {
    jar.remove("session")
}

fn router(keyring: Arc<Keyring>, reissue: bool) -> (Router, Verifier, Verifier) {
    let api = Verifier::new(keyring.clone(), "api");
    let cookies = Verifier::new(keyring, "cookies");
    let app = App {
        api: api.clone(),
        jar: JarConfig::new(cookies.clone()).reissue(reissue),
    };
    let router = Router::new()
        .route("/protected", get(protected))
        .route("/link", get(link))
        .route("/remembered", get(remembered))
        .route("/greeting", get(greeting))
        .route("/login", post(login))
        .route("/me", get(me))
        .route("/logout", post(logout))
        .with_state(app);
    (router, api, cookies)
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

fn bearer(token: &str) -> Request<Body> {
    Request::get("/protected")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn every_rejection_code_and_no_token_in_any_body() {
    let (ring, clock) = keyring();
    let (router, api, _) = router(ring, true);
    let ok = api
        .generate(
            &json!({"n": 1}),
            TokenOptions::new().purpose("api").expires_in(HOUR),
        )
        .unwrap();
    let answer = send(&router, bearer(&ok)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body, r#"{"data":{"n":1},"key":"k1"}"#);

    // A token of the revoked key, signed as a real one would have been.
    let revoked_keyring = Keyring::new_with_clock(
        vec![Key::new("k0", Secret::from_bytes([9u8; 32]))],
        clock.clone(),
    )
    .unwrap();
    let revoked = Verifier::new(revoked_keyring, "api")
        .generate(&1, TokenOptions::new().purpose("api"))
        .unwrap();
    let expired_keyring = Keyring::new_with_clock(
        vec![Key::new("kx", Secret::from_bytes([8u8; 32]))],
        clock.clone(),
    )
    .unwrap();
    let of_expired_key = Verifier::new(expired_keyring, "api")
        .generate(&1, TokenOptions::new().purpose("api"))
        .unwrap();
    let unknown_keyring = Keyring::new_with_clock(
        vec![Key::new("k9", Secret::from_bytes([5u8; 32]))],
        clock.clone(),
    )
    .unwrap();
    let unknown = Verifier::new(unknown_keyring, "api")
        .generate(&1, TokenOptions::new().purpose("api"))
        .unwrap();
    let other_purpose = api
        .generate(&1, TokenOptions::new().purpose("admin"))
        .unwrap();
    let not_an_object = api
        .generate(&1, TokenOptions::new().purpose("api"))
        .unwrap();
    let mut tampered = ok.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let expiring = api
        .generate(&1, TokenOptions::new().purpose("api").expires_in(HOUR))
        .unwrap();

    let cases: Vec<(String, StatusCode, &str)> = vec![
        ("v1.garbage".into(), StatusCode::BAD_REQUEST, "malformed"),
        ("x".repeat(5000), StatusCode::BAD_REQUEST, "too_large"),
        (tampered, StatusCode::UNAUTHORIZED, "bad_signature"),
        // An unknown key id answers as a forgery: ids cannot be enumerated.
        (unknown, StatusCode::UNAUTHORIZED, "bad_signature"),
        (revoked, StatusCode::UNAUTHORIZED, "key_revoked"),
        (of_expired_key, StatusCode::UNAUTHORIZED, "key_expired"),
        (other_purpose, StatusCode::FORBIDDEN, "purpose_mismatch"),
        (not_an_object, StatusCode::OK, ""),
    ];
    for (token, status, reason) in &cases {
        let answer = send(&router, bearer(token)).await;
        assert_eq!(answer.status, *status, "{reason}: {}", answer.body);
        if status != &StatusCode::OK {
            let body: Value = serde_json::from_str(&answer.body).unwrap();
            assert_eq!(body["reason"], *reason);
            assert!(body["error"].is_string());
            assert!(
                !answer.body.contains(token.as_str()),
                "{reason}: the token leaked"
            );
            for part in token.split('.').filter(|p| p.len() > 8) {
                assert!(
                    !answer.body.contains(part),
                    "{reason}: part of the token leaked"
                );
            }
        }
        if *status == StatusCode::UNAUTHORIZED {
            assert_eq!(
                answer.headers[header::WWW_AUTHENTICATE],
                "Bearer error=\"invalid_token\""
            );
        }
    }
    // The value is not what the route takes (a string where a number goes).
    let words = api
        .generate(&"words", TokenOptions::new().purpose("link"))
        .unwrap();
    let answer = send(
        &router,
        Request::get(format!("/link?token={words}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        (answer.status, answer.body.contains("invalid_value")),
        (StatusCode::BAD_REQUEST, true)
    );
    // Missing: no header at all.
    let answer = send(
        &router,
        Request::get("/protected").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.body.contains("missing_token"));
    assert_eq!(answer.headers[header::WWW_AUTHENTICATE], "Bearer");
    // Expired.
    clock.advance(2 * HOUR);
    let answer = send(&router, bearer(&expiring)).await;
    assert_eq!(answer.status, StatusCode::GONE);
    assert!(answer.body.contains("\"reason\":\"expired\""));
}

#[tokio::test]
async fn tokens_from_a_query_parameter_and_a_cookie() {
    let (ring, _) = keyring();
    let (router, api, _) = router(ring, true);
    let link = api
        .generate(&42u64, TokenOptions::new().purpose("link"))
        .unwrap();
    let answer = send(
        &router,
        Request::get(format!("/link?a=1&token={link}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::OK, "42")
    );
    let remember = api
        .generate(&"ann", TokenOptions::new().purpose("remember"))
        .unwrap();
    let answer = send(
        &router,
        Request::get("/remembered")
            .header(header::COOKIE, format!("other=1; remember={remember}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::OK, "ann")
    );
    // Optional: no token is `None`; a token that is there is still checked.
    let greeting = |cookie: Option<String>| {
        let mut request = Request::get("/greeting");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        request.body(Body::empty()).unwrap()
    };
    let answer = send(&router, greeting(None)).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::OK, "hello stranger")
    );
    let answer = send(&router, greeting(Some(format!("remember={remember}")))).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::OK, "hello ann")
    );
    let answer = send(&router, greeting(Some("remember=v1.k1.xx.yy".to_owned()))).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    let answer = send(
        &router,
        Request::get("/remembered").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(
        !answer.headers.contains_key(header::WWW_AUTHENTICATE),
        "not a bearer route"
    );
}

fn set_cookie(answer: &Answer) -> Vec<String> {
    answer
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

async fn me_with(router: &Router, session: &str) -> Answer {
    send(
        router,
        Request::get("/me")
            .header(header::COOKIE, format!("session={session}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn the_jar_signs_reads_reissues_after_a_rotation_and_removes() {
    let (ring, clock) = keyring();
    let (router, _, cookies) = router(ring.clone(), true);
    let answer = send(
        &router,
        Request::post("/login").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    let set = set_cookie(&answer);
    assert_eq!(set.len(), 1);
    for attribute in [
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=28800",
    ] {
        assert!(set[0].contains(attribute), "{attribute}: {}", set[0]);
    }
    let session = cookie_value(&set[0]);
    assert!(session.starts_with("v1.k1."), "{session}");

    let answer = me_with(&router, &session).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::OK, r#"{"user":"ann"}"#)
    );
    assert!(
        set_cookie(&answer).is_empty(),
        "signed by the current key: nothing to re-issue"
    );

    // k2 activates: the next response re-issues the cookie with it, keeping its expiry.
    clock.advance(2 * HOUR);
    let answer = me_with(&router, &session).await;
    assert_eq!(answer.status, StatusCode::OK);
    let reissued = set_cookie(&answer);
    assert_eq!(reissued.len(), 1, "{reissued:?}");
    assert!(reissued[0].contains("Max-Age=21600"), "{}", reissued[0]);
    let fresh = cookie_value(&reissued[0]);
    assert!(fresh.starts_with("v1.k2."), "{fresh}");
    let old = cookies.verify::<Value>(&session, Some("session")).unwrap();
    let new = cookies.verify::<Value>(&fresh, Some("session")).unwrap();
    assert_eq!((old.expires_at, old.value), (new.expires_at, new.value));
    assert!(set_cookie(&me_with(&router, &fresh).await).is_empty());

    // Opted out: the old cookie still reads, and is left as it is.
    let (quiet, _, _) = self::router(ring, false);
    let answer = me_with(&quiet, &session).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(set_cookie(&answer).is_empty());

    // Tampered, and a cookie signed under another name: refused with the reason.
    let tampered = fresh.replace("v1.k2.", "v1.k2.A");
    let answer = me_with(&router, &tampered).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
    assert!(answer.body.contains("bad_signature"));
    let elsewhere = cookies
        .generate(
            &json!({"user": "eve"}),
            TokenOptions::new().purpose("flash"),
        )
        .unwrap();
    let answer = me_with(&router, &elsewhere).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    assert!(answer.body.contains("purpose_mismatch"));
    let answer = send(&router, Request::get("/me").body(Body::empty()).unwrap()).await;
    assert!(answer.body.contains("missing_token"));

    let answer = send(
        &router,
        Request::post("/logout").body(Body::empty()).unwrap(),
    )
    .await;
    let removed = set_cookie(&answer);
    assert!(
        removed[0].starts_with("session=;") && removed[0].contains("Max-Age=0"),
        "{removed:?}"
    );
}

/// A keyring of `keys` (secret `[n; 32]` for each `(id, n, state)`) on `clock`: "old" keys
/// signed before `t0`, "active" signs, "revoked" is disabled.
fn ring_of(keys: &[(&str, u8, &str)], clock: &Arc<ManualClock>) -> Arc<Keyring> {
    let keys = keys
        .iter()
        .enumerate()
        .map(|(i, &(id, n, state))| {
            let key = Key::new(id, Secret::from_bytes([n; 32]))
                .with_activates_at(Some(t0() - HOUR * (10 - i as u32)));
            key.with_disabled(state == "revoked")
        })
        .collect();
    Arc::new(Keyring::new_with_clock(keys, clock.clone()).unwrap())
}

/// What re-issue can and cannot do for whoever holds a leaked old key, and the procedure
/// SECURITY.md gives for that case: revoke the old key; rotate the current one if forged
/// sessions may have been re-signed already.
#[tokio::test]
async fn reissue_never_extends_trust_past_a_revocation() {
    let clock = Arc::new(ManualClock::new(t0()));
    let max = 2 * HOUR;
    let jar_router = |ring: Arc<Keyring>| {
        let cookies = Verifier::new(ring, "cookies");
        let app = App {
            api: Verifier::new(
                Keyring::new(vec![Key::new("a", Secret::from_bytes([5u8; 32]))]).unwrap(),
                "api",
            ),
            jar: JarConfig::new(cookies.clone()).max_lifetime(max),
        };
        let router = Router::new()
            .route("/login", post(login))
            .route("/me", get(me))
            .with_state(app);
        (router, cookies)
    };
    // "old" leaked; "cur" signs (listed last: the latest activation).
    let (router, _) = jar_router(ring_of(&[("old", 1, ""), ("cur", 2, "")], &clock));
    let leaked = Verifier::new(ring_of(&[("old", 1, "")], &clock), "cookies");
    let root = json!({"user": "root"});
    let forever = leaked
        .generate(
            &root,
            TokenOptions::new().purpose("session").never_expires(),
        )
        .unwrap();
    let decade = leaked
        .generate(
            &root,
            TokenOptions::new()
                .purpose("session")
                .expires_at(t0() + HOUR * 24 * 3650),
        )
        .unwrap();

    // Minting never exceeds the maximum: 8 h asked, 2 h given (token and cookie).
    let answer = send(
        &router,
        Request::post("/login").body(Body::empty()).unwrap(),
    )
    .await;
    assert!(
        set_cookie(&answer)[0].contains("Max-Age=7200"),
        "{:?}",
        set_cookie(&answer)
    );

    // Without an expiry: read (the old key still verifies) but never re-signed.
    let answer = me_with(&router, &forever).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(set_cookie(&answer).is_empty(), "{:?}", set_cookie(&answer));

    // With a far expiry: re-signed, but to expire within the maximum from now.
    let answer = me_with(&router, &decade).await;
    let reissued = set_cookie(&answer);
    assert_eq!(reissued.len(), 1);
    assert!(reissued[0].contains("Max-Age=7200"), "{}", reissued[0]);
    let laundered = cookie_value(&reissued[0]);
    assert!(laundered.starts_with("v1.cur."), "{laundered}");

    // Revoke the leaked key: both forgeries are refused at once...
    let (revoked, cookies) = jar_router(ring_of(&[("old", 1, "revoked"), ("cur", 2, "")], &clock));
    for forged in [&forever, &decade] {
        let answer = me_with(&revoked, forged).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
        assert!(answer.body.contains("key_revoked"), "{}", answer.body);
    }
    // ...but the re-signed one lives on under the current key, at most `max`...
    assert_eq!(me_with(&revoked, &laundered).await.status, StatusCode::OK);
    let at = cookies
        .verify::<Value>(&laundered, Some("session"))
        .unwrap()
        .expires_at
        .unwrap();
    assert!(at <= t0() + max, "re-signed to expire at {at:?}");
    // ...until the current key is rotated too: a new key signs, "cur" is revoked.
    let (rotated, _) = jar_router(ring_of(
        &[("old", 1, "revoked"), ("cur", 2, "revoked"), ("new", 3, "")],
        &clock,
    ));
    let answer = me_with(&rotated, &laundered).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
    // And past `max` it would have died anyway.
    clock.advance(max + Duration::from_secs(1));
    let answer = me_with(&revoked, &laundered).await;
    assert_eq!(answer.status, StatusCode::GONE, "{}", answer.body);
}

/// A request carrying two cookies of one name: the jar and the `Token` extractor read the
/// same one, the first (as Rack does, and browsers send the most specific path first).
#[tokio::test]
async fn the_jar_and_the_extractor_read_the_same_of_two_cookies() {
    let (ring, _clock) = keyring();
    let (router, _, cookies) = router(ring, true);
    let value = |name: &str, user: &str| {
        cookies
            .generate(
                &json!(user),
                TokenOptions::new().purpose(name).expires_in(HOUR),
            )
            .unwrap()
    };
    let request = |path: &str, name: &str| {
        Request::get(path)
            .header(
                header::COOKIE,
                format!(
                    "{name}={}; {name}={}",
                    value(name, "first"),
                    value(name, "second")
                ),
            )
            .body(Body::empty())
            .unwrap()
    };
    let jar = send(&router, request("/me", "session")).await;
    assert_eq!(
        (jar.status, jar.body.as_str()),
        (StatusCode::OK, r#""first""#)
    );
    // The extractor's cookie source (Remembered reads cookie "remember", verified by "api").
    let (_, api, _) = self::router(keyring().0, true);
    let signed = |user: &str| {
        api.generate(
            &user.to_owned(),
            TokenOptions::new().purpose("remember").expires_in(HOUR),
        )
        .unwrap()
    };
    let extractor = send(
        &router,
        Request::get("/remembered")
            .header(
                header::COOKIE,
                format!(
                    "remember={}; remember={}",
                    signed("first"),
                    signed("second")
                ),
            )
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        (extractor.status, extractor.body.as_str()),
        (StatusCode::OK, "first")
    );
}
