//! tokenring against the hand-written floor and jsonwebtoken HS256, in one run.
//!
//! `cargo bench --bench compare` (or `-- small/` / `-- 1KiB/` for one group). The floor is
//! what a careful user would write by hand: serde_json + base64url + HMAC-SHA256 with the
//! keyed HMAC state precomputed, no key rotation, no purpose binding beyond a field check.

mod common;

use common::{Floor, LIFETIME, PURPOSE, big, exp, keyring, small};
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use tokenring::{Key, Keyring, Secret, TokenOptions, Verifier};

// --- jsonwebtoken ------------------------------------------------------------------------

/// The same claims as ours, so the comparison is of the machinery, not the shape.
#[derive(Serialize)]
struct JwtOut<'a, T> {
    dat: &'a T,
    pur: &'a str,
    exp: u64,
}

#[derive(Deserialize)]
struct JwtIn<T> {
    dat: T,
    pur: String,
    #[allow(dead_code)]
    exp: u64,
}

// --- the benches -------------------------------------------------------------------------

fn group<T>(c: &mut Criterion, name: &str, value: T)
where
    T: Serialize + DeserializeOwned,
{
    let mut group = c.benchmark_group(name);
    let options = TokenOptions::new().purpose(PURPOSE).expires_in(LIFETIME);

    let verifier = Verifier::new(keyring(1), "bench");
    let token = verifier.generate(&value, options).unwrap();
    group.bench_function("tokenring_sign", |b| {
        b.iter(|| verifier.generate(black_box(&value), options).unwrap())
    });
    group.bench_function("tokenring_verify", |b| {
        b.iter(|| {
            verifier
                .verify::<T>(black_box(&token), Some(PURPOSE))
                .unwrap()
        })
    });
    if name == "small" {
        // The signing key is k0; verify a token of the key in the middle of 64.
        let many = Verifier::new(keyring(64), "bench");
        let single = Keyring::new(vec![Key::new("k31", Secret::from_bytes([32; 32]))]).unwrap();
        let token31 = Verifier::new(single, "bench")
            .generate(&value, options)
            .unwrap();
        assert!(many.verify::<T>(&token31, Some(PURPOSE)).is_ok());
        group.bench_function("tokenring_verify_64keys", |b| {
            b.iter(|| {
                many.verify::<T>(black_box(&token31), Some(PURPOSE))
                    .unwrap()
            })
        });
        // A forgery: the same token with its tag's first character changed (still a
        // well-formed tag), refused after one MAC.
        let (signed, tag) = token.rsplit_once('.').unwrap();
        let other = if tag.starts_with('A') { 'B' } else { 'A' };
        let forged = format!("{signed}.{other}{}", &tag[1..]);
        assert!(matches!(
            verifier.verify::<T>(&forged, Some(PURPOSE)),
            Err(tokenring::VerifyError::BadSignature { .. })
        ));
        group.bench_function("tokenring_verify_forged", |b| {
            b.iter(|| {
                verifier
                    .verify::<T>(black_box(&forged), Some(PURPOSE))
                    .map(|_| ())
                    .unwrap_err()
            })
        });
    }

    let floor = Floor::new();
    let floor_token = floor.sign(&value);
    assert!(floor.verify::<T>(&floor_token).is_some());
    group.bench_function("floor_sign", |b| b.iter(|| floor.sign(black_box(&value))));
    group.bench_function("floor_verify", |b| {
        b.iter(|| floor.verify::<T>(black_box(&floor_token)).unwrap())
    });

    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    let encoding = jsonwebtoken::EncodingKey::from_secret(&[1; 32]);
    let decoding = jsonwebtoken::DecodingKey::from_secret(&[1; 32]);
    let validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    let claims = || JwtOut {
        dat: &value,
        pur: PURPOSE,
        exp: exp(),
    };
    let jwt = jsonwebtoken::encode(&header, &claims(), &encoding).unwrap();
    group.bench_function("jwt_sign", |b| {
        b.iter(|| jsonwebtoken::encode(&header, black_box(&claims()), &encoding).unwrap())
    });
    group.bench_function("jwt_verify", |b| {
        b.iter(|| {
            let data =
                jsonwebtoken::decode::<JwtIn<T>>(black_box(&jwt), &decoding, &validation).unwrap();
            assert_eq!(data.claims.pur, PURPOSE);
            data.claims.dat
        })
    });
    group.finish();
}

/// Rails-format tokens beside native ones for the same value (feature `rails`): SHA256 with the
/// current envelope (what a 7.2 app's `signed_id` writes), SHA1 with the legacy envelope,
/// encrypted messages (AES-256-GCM, and AES-256-CBC + HMAC-SHA1), and the rotation trial with
/// 1, 4 and 16 accepted configurations, the token from the last one.
#[cfg(feature = "rails")]
fn rails(c: &mut Criterion) {
    use common::{Small, verify_small};
    use tokenring::rails::{
        EncryptorConfig, Envelope, RailsConfig, RailsDigest, RailsEncryptor, RailsOptions,
        RailsVerifier,
    };

    let mut group = c.benchmark_group("rails");
    let value = small();
    let config = |n: u8, digest, envelope| {
        RailsConfig::new(Secret::from_bytes([n; 64]))
            .digest(digest)
            .envelope(envelope)
    };
    let options = RailsOptions::new().purpose(PURPOSE).expires_in(LIFETIME);
    for (name, digest, envelope) in [
        ("sha256_current", RailsDigest::Sha256, Envelope::Current),
        ("sha1_legacy", RailsDigest::Sha1, Envelope::Legacy),
    ] {
        let verifier = RailsVerifier::new(config(1, digest, envelope));
        let token = verifier.generate(&value, options).unwrap();
        group.bench_function(format!("{name}_sign"), |b| {
            b.iter(|| verifier.generate(black_box(&value), options).unwrap())
        });
        group.bench_function(format!("{name}_verify"), |b| {
            b.iter(|| {
                verifier
                    .verify::<Small>(black_box(&token), Some(PURPOSE))
                    .unwrap()
            })
        });
    }
    // Encrypted messages (MessageEncryptor), the same value and options.
    for (name, config) in [
        (
            "gcm",
            EncryptorConfig::new(Secret::from_bytes([1u8; 32])).unwrap(),
        ),
        (
            "cbc_sha1",
            EncryptorConfig::cbc(Secret::from_bytes([1u8; 32]), None).unwrap(),
        ),
    ] {
        let encryptor = RailsEncryptor::new(config);
        let message = encryptor.encrypt(&value, options).unwrap();
        group.bench_function(format!("{name}_encrypt"), |b| {
            b.iter(|| encryptor.encrypt(black_box(&value), options).unwrap())
        });
        group.bench_function(format!("{name}_decrypt"), |b| {
            b.iter(|| {
                encryptor
                    .decrypt::<Small>(black_box(&message), Some(PURPOSE))
                    .unwrap()
            })
        });
    }
    // The native token for the same value, in the same group, for the ratios.
    let native = Verifier::new(keyring(1), "bench");
    let token = native
        .generate(
            &value,
            TokenOptions::new().purpose(PURPOSE).expires_in(LIFETIME),
        )
        .unwrap();
    group.bench_function("native_verify", |b| {
        b.iter(|| verify_small(&native, &token))
    });
    let native_options = TokenOptions::new().purpose(PURPOSE).expires_in(LIFETIME);
    group.bench_function("native_sign", |b| {
        b.iter(|| native.generate(black_box(&value), native_options).unwrap())
    });
    for accepted in [1u8, 4, 16] {
        let mut verifier = RailsVerifier::new(config(100, RailsDigest::Sha256, Envelope::Current));
        for n in 1..=accepted {
            verifier = verifier.accept(config(n, RailsDigest::Sha256, Envelope::Current));
        }
        let last = RailsVerifier::new(config(accepted, RailsDigest::Sha256, Envelope::Current));
        let token = last.generate(&value, options).unwrap();
        assert_eq!(
            verifier
                .verify::<Small>(&token, Some(PURPOSE))
                .unwrap()
                .config,
            usize::from(accepted)
        );
        group.bench_function(format!("trial_{accepted}_accepted"), |b| {
            b.iter(|| {
                verifier
                    .verify::<Small>(black_box(&token), Some(PURPOSE))
                    .unwrap()
            })
        });
    }
    group.finish();
}

#[cfg(not(feature = "rails"))]
fn rails(_: &mut Criterion) {}

/// Verify with metrics (feature `metrics`): handles bound to a Prometheus recorder beside
/// the same verify with no recorder installed (the facade's no-op), same value, same run.
#[cfg(feature = "metrics")]
fn telemetry(c: &mut Criterion) {
    use common::{Small, verify_small};
    let mut group = c.benchmark_group("metrics");
    let options = TokenOptions::new().purpose(PURPOSE).expires_in(LIFETIME);
    let plain = Verifier::new(keyring(1), "bench");
    let token = plain.generate(&small(), options).unwrap();
    group.bench_function("verify_no_recorder", |b| {
        b.iter(|| verify_small(&plain, &token))
    });
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let recorded = Verifier::new(keyring(1), "bench");
    metrics::with_local_recorder(&recorder, || {
        // The first verify makes the handles, bound to this recorder.
        recorded.verify::<Small>(&token, Some(PURPOSE)).unwrap();
    });
    group.bench_function("verify_prometheus", |b| {
        b.iter(|| verify_small(&recorded, &token))
    });
    group.finish();
}

#[cfg(not(feature = "metrics"))]
fn telemetry(_: &mut Criterion) {}

/// Public-key tokens (feature `jose`): tokenring's JWS verify beside a hand-written floor
/// (the same curve crate called directly, the same base64 and JSON work: split, header read,
/// signature checked, claims decoded and their purpose checked) and jsonwebtoken (same curves,
/// a pre-built `DecodingKey`), for EdDSA and ES256, in the same run; and signing beside the
/// floor's.
#[cfg(feature = "jose")]
fn jose(c: &mut Criterion) {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use tokenring::jose::{self, JoseAlgorithm, Jwk, SigningKey};

    #[derive(Deserialize)]
    struct FloorHeader<'a> {
        alg: &'a str,
        kid: &'a str,
    }

    for algorithm in [JoseAlgorithm::EdDsa, JoseAlgorithm::Es256] {
        let mut group = c.benchmark_group(format!("jose_{algorithm}"));
        let key = SigningKey::generate(algorithm).unwrap();
        let public = key.public_key();
        let value = small();
        let claims = serde_json::to_vec(&JwtOut {
            dat: &value,
            pur: PURPOSE,
            exp: exp(),
        })
        .unwrap();
        let token = jose::sign("k1", &key, &claims);

        group.bench_function("tokenring_sign", |b| {
            b.iter(|| jose::sign("k1", &key, black_box(&claims)))
        });
        // Through a `Verifier` over the public keyring (claims with `aud` and `iat`), with one
        // key and with 64: the key is found by id, so the count should not show.
        for count in [1usize, 64] {
            let mut keys = vec![Key::from_signing_key("k1", key.clone())];
            keys.extend((1..count).map(|i| {
                Key::from_signing_key(format!("old{i}"), SigningKey::generate(algorithm).unwrap())
                    .with_activates_at(Some(std::time::UNIX_EPOCH))
            }));
            let ring = Keyring::new(keys).unwrap();
            let minted = Verifier::new(&ring, "bench")
                .generate(&value, TokenOptions::new().purpose(PURPOSE))
                .unwrap();
            let verifier = Verifier::new(ring.public().unwrap(), "bench");
            group.bench_function(format!("verifier_verify_{count}keys"), |b| {
                b.iter(|| {
                    verifier
                        .verify::<common::Small>(black_box(&minted), Some(PURPOSE))
                        .unwrap()
                        .value
                })
            });
        }
        group.bench_function("tokenring_verify", |b| {
            b.iter(|| {
                let (_, claims) = jose::verify(black_box(&token), 4096, |kid| {
                    (kid == "k1").then_some(&public)
                })
                .unwrap();
                let claims: JwtIn<common::Small> = serde_json::from_slice(&claims).unwrap();
                assert_eq!(claims.pur, PURPOSE);
                claims.dat
            })
        });

        // The floor: the curve crate directly.
        let seed = key.to_bytes();
        let ed = ed25519_dalek::SigningKey::from_bytes(seed.expose().try_into().unwrap());
        let ed_public = ed.verifying_key();
        let es = p256::ecdsa::SigningKey::from_slice(seed.expose()).unwrap();
        // ES256 verifies with `ring`, as tokenring does.
        let es_public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_FIXED,
            public.to_bytes(),
        );
        let floor_sign = |claims: &[u8]| {
            let mut token =
                B64.encode(format!(r#"{{"alg":"{algorithm}","kid":"k1","typ":"JWT"}}"#));
            token.push('.');
            B64.encode_string(claims, &mut token);
            let signature: [u8; 64] = match algorithm {
                JoseAlgorithm::EdDsa => {
                    use ed25519_dalek::Signer as _;
                    ed.sign(token.as_bytes()).to_bytes()
                }
                _ => {
                    use p256::ecdsa::signature::Signer as _;
                    let signature: p256::ecdsa::Signature = es.sign(token.as_bytes());
                    signature.to_bytes().into()
                }
            };
            token.push('.');
            B64.encode_string(signature, &mut token);
            token
        };
        group.bench_function("floor_sign", |b| b.iter(|| floor_sign(black_box(&claims))));
        group.bench_function("floor_verify", |b| {
            b.iter(|| {
                let token = black_box(&token);
                let (input, signature) = token.rsplit_once('.').unwrap();
                let (header, payload) = input.split_once('.').unwrap();
                let header = B64.decode(header).unwrap();
                let header: FloorHeader<'_> = serde_json::from_slice(&header).unwrap();
                assert_eq!((header.alg, header.kid), (algorithm.name(), "k1"));
                let mut bytes = [0u8; 64];
                B64.decode_slice(signature, &mut bytes).unwrap();
                let valid = match algorithm {
                    JoseAlgorithm::EdDsa => ed_public
                        .verify_strict(
                            input.as_bytes(),
                            &ed25519_dalek::Signature::from_bytes(&bytes),
                        )
                        .is_ok(),
                    _ => es_public.verify(input.as_bytes(), &bytes).is_ok(),
                };
                assert!(valid);
                let claims = B64.decode(payload).unwrap();
                let claims: JwtIn<common::Small> = serde_json::from_slice(&claims).unwrap();
                assert_eq!(claims.pur, PURPOSE);
                claims.dat
            })
        });

        // jsonwebtoken, its best case: a pre-built DecodingKey, no fetching.
        let jwk = Jwk::public("k1", &public);
        let (decoding, alg) = match algorithm {
            JoseAlgorithm::EdDsa => (
                jsonwebtoken::DecodingKey::from_ed_components(&jwk.x).unwrap(),
                jsonwebtoken::Algorithm::EdDSA,
            ),
            _ => (
                jsonwebtoken::DecodingKey::from_ec_components(&jwk.x, jwk.y.as_deref().unwrap())
                    .unwrap(),
                jsonwebtoken::Algorithm::ES256,
            ),
        };
        let validation = jsonwebtoken::Validation::new(alg);
        group.bench_function("jwt_verify", |b| {
            b.iter(|| {
                let data = jsonwebtoken::decode::<JwtIn<common::Small>>(
                    black_box(&token),
                    &decoding,
                    &validation,
                )
                .unwrap();
                assert_eq!(data.claims.pur, PURPOSE);
                data.claims.dat
            })
        });
        group.finish();
    }
}

#[cfg(not(feature = "jose"))]
fn jose(_: &mut Criterion) {}

/// An issuer's tokens (feature `jwks`): a `JwtVerifier` over a hot keyring that follows the
/// issuer's JWKS from a loopback server (a `JwksSource`), beside jsonwebtoken with a
/// pre-built `DecodingKey` and the same issuer/audience checks — its best case, no fetching —
/// for RS256, ES256 and EdDSA, in the same run. Also says what one source costs in threads
/// and memory.
#[cfg(feature = "jwks")]
fn jwks(c: &mut Criterion) {
    use tokenring::jose::{self, JoseAlgorithm, Jwk, SigningKey};
    use tokenring::source::JwksSource;
    use tokenring::verifier::JwtVerifier;
    use tokenring_test_support::http_server::{HttpServer, Reply};

    #[derive(Deserialize)]
    struct Claims {
        #[allow(dead_code)]
        sub: String,
    }
    const ISSUER: &str = "https://issuer.example";
    // A test-only key (benches/common/): jsonwebtoken signs RS256 with it; tokenring holds no
    // RSA private key.
    const RSA_PEM: &[u8] = include_bytes!("common/rsa-2048-test-only.pem");
    let rsa_n = include_str!("common/rsa-2048-test-only.n").trim();
    let claims = serde_json::json!({"iss": ISSUER, "aud": "orders", "sub": "ann",
        "exp": exp(), "iat": exp() - 3600, "scope": "read write"});

    let status = |field: &str| {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix(field).map(|v| v.trim().to_owned()))
            })
            .unwrap_or_default()
    };
    for alg in ["RS256", "ES256", "EdDSA"] {
        let mut group = c.benchmark_group(format!("jwks_{alg}"));
        let (token, jwk, decoding, algorithm) = match alg {
            "RS256" => {
                use base64::Engine as _;
                let body: String = std::str::from_utf8(RSA_PEM)
                    .unwrap()
                    .lines()
                    .filter(|line| !line.starts_with("-----"))
                    .collect();
                let der = base64::engine::general_purpose::STANDARD
                    .decode(body)
                    .unwrap();
                let encoding = jsonwebtoken::EncodingKey::from_rsa_der(&der);
                let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
                header.kid = Some("k1".into());
                let token = jsonwebtoken::encode(&header, &claims, &encoding).unwrap();
                let jwk = serde_json::json!({"kty": "RSA", "kid": "k1", "n": rsa_n, "e": "AQAB", "alg": "RS256", "use": "sig"});
                let decoding =
                    jsonwebtoken::DecodingKey::from_rsa_components(rsa_n, "AQAB").unwrap();
                (token, jwk, decoding, jsonwebtoken::Algorithm::RS256)
            }
            _ => {
                let algorithm = alg.parse::<JoseAlgorithm>().unwrap();
                let key = SigningKey::generate(algorithm).unwrap();
                let token = jose::sign("k1", &key, claims.to_string().as_bytes());
                let jwk = Jwk::public("k1", &key.public_key());
                let decoding = match algorithm {
                    JoseAlgorithm::EdDsa => jsonwebtoken::DecodingKey::from_ed_components(&jwk.x),
                    _ => jsonwebtoken::DecodingKey::from_ec_components(
                        &jwk.x,
                        jwk.y.as_deref().unwrap(),
                    ),
                }
                .unwrap();
                let algorithm = match algorithm {
                    JoseAlgorithm::EdDsa => jsonwebtoken::Algorithm::EdDSA,
                    _ => jsonwebtoken::Algorithm::ES256,
                };
                (
                    token,
                    serde_json::to_value(jwk).unwrap(),
                    decoding,
                    algorithm,
                )
            }
        };
        let server = HttpServer::start(Reply::json(
            &serde_json::json!({"keys": [jwk]}).to_string(),
            Some("\"1\""),
            Some(3600),
        ));
        let (threads, rss) = (status("Threads:"), status("VmRSS:"));
        let source = JwksSource::builder(server.url("/jwks")).build().unwrap();
        let keys = tokenring::HotKeyring::builder(source).build().unwrap();
        eprintln!(
            "jwks_{alg}: one JwksSource + HotKeyring: threads {threads} -> {}, VmRSS {rss} -> {}",
            status("Threads:"),
            status("VmRSS:")
        );
        let verifier = JwtVerifier::builder(&keys, ISSUER, "orders").build();
        group.bench_function("jwtverifier_verify", |b| {
            b.iter(|| verifier.verify::<Claims>(black_box(&token)).unwrap().value)
        });
        let mut validation = jsonwebtoken::Validation::new(algorithm);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&["orders"]);
        group.bench_function("jwt_verify", |b| {
            b.iter(|| {
                jsonwebtoken::decode::<Claims>(black_box(&token), &decoding, &validation)
                    .unwrap()
                    .claims
            })
        });
        group.finish();
        drop((verifier, keys, server));
    }
}

#[cfg(not(feature = "jwks"))]
fn jwks(_: &mut Criterion) {}

fn benches(c: &mut Criterion) {
    group(c, "small", small());
    group(c, "1KiB", big());
    rails(c);
    telemetry(c);
    jose(c);
    jwks(c);
}

criterion_group!(compare, benches);
criterion_main!(compare);
