//! The web layer's costs, each beside its anchor in the same run: the extractor beside a bare
//! `Verifier::verify` of the same token, and the rotating jar's get and add beside
//! axum-extra's `SignedCookieJar` on the same cookie value.
//!
//! `cargo bench -p tokenring-axum`

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, HeaderValue, Request, header};
use axum_extra::extract::cookie::{Cookie, Key as CookieKey, SignedCookieJar};
use criterion::{Criterion, criterion_group, criterion_main};
use serde::{Deserialize, Serialize};
use tokenring::{Key, Keyring, Secret, TokenOptions, Verifier};
use tokenring_axum::{JarConfig, Purpose, RotatingJar, Token};

#[derive(Serialize, Deserialize)]
struct Session {
    user: String,
    id: u64,
}

struct Api;
impl Purpose for Api {
    const PURPOSE: &'static str = "api";
}

/// Runs a future that never waits (the extractors do not) to completion.
fn now<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("the extractors complete at once"),
    }
}

fn benches(c: &mut Criterion) {
    let keyring = Keyring::new(vec![Key::new("k1", Secret::from_bytes([7u8; 32]))]).unwrap();
    let keyring = std::sync::Arc::new(keyring);
    let verifier = Verifier::new(keyring.clone(), "api");
    let session = Session {
        user: "ann".to_owned(),
        id: 42,
    };
    let token = verifier
        .generate(
            &session,
            TokenOptions::new()
                .purpose("api")
                .expires_in(Duration::from_secs(900)),
        )
        .unwrap();

    let mut group = c.benchmark_group("extractor");
    group.bench_function("bare_verify", |b| {
        b.iter(|| {
            verifier
                .verify::<Session>(black_box(&token), Some("api"))
                .unwrap()
        })
    });
    let (mut parts, ()) = Request::get("/protected")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(())
        .unwrap()
        .into_parts();
    group.bench_function("token_extractor", |b| {
        b.iter(|| {
            now(Token::<Session, Api>::from_request_parts(
                black_box(&mut parts),
                &verifier,
            ))
            .unwrap()
        })
    });
    group.finish();

    // The jars, on the same session value.
    let mut group = c.benchmark_group("cookie_jar");
    let keys = JarConfig::new(Verifier::new(keyring, "cookies"));
    let cookie_key = CookieKey::from(&[9u8; 64]);
    let lifetime = Duration::from_secs(8 * 3600);
    let ours = RotatingJar::from_headers(&HeaderMap::new(), keys.clone())
        .add("session", &session, lifetime)
        .unwrap();
    let ours_cookie = set_cookie(axum::response::IntoResponse::into_response(ours));
    let json = serde_json::to_string(&session).unwrap();
    let theirs = SignedCookieJar::new(cookie_key.clone()).add(Cookie::new("session", json.clone()));
    let theirs_cookie = set_cookie(axum::response::IntoResponse::into_response(theirs));
    let headers = |cookie: &str| {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(cookie).unwrap());
        headers
    };
    let (ours_headers, theirs_headers) = (headers(&ours_cookie), headers(&theirs_cookie));
    group.bench_function("tokenring_get", |b| {
        b.iter(|| {
            RotatingJar::from_headers(black_box(&ours_headers), keys.clone())
                .try_get::<Session>("session")
                .unwrap()
        })
    });
    group.bench_function("axum_extra_signed_get", |b| {
        b.iter(|| {
            let jar = SignedCookieJar::from_headers(black_box(&theirs_headers), cookie_key.clone());
            let cookie = jar.get("session").unwrap();
            serde_json::from_str::<Session>(cookie.value()).unwrap()
        })
    });
    group.bench_function("tokenring_add", |b| {
        b.iter(|| {
            RotatingJar::from_headers(&HeaderMap::new(), keys.clone())
                .add("session", black_box(&session), lifetime)
                .unwrap()
        })
    });
    group.bench_function("axum_extra_signed_add", |b| {
        b.iter(|| {
            let value = serde_json::to_string(black_box(&session)).unwrap();
            SignedCookieJar::new(cookie_key.clone()).add(Cookie::new("session", value))
        })
    });
    group.finish();
}

/// `name=value` of the response's first Set-Cookie.
fn set_cookie(response: axum::response::Response) -> String {
    let value = response.headers()[header::SET_COOKIE].to_str().unwrap();
    value.split(';').next().unwrap().to_owned()
}

criterion_group!(web, benches);
criterion_main!(web);
