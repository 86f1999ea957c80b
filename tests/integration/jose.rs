//! Public-key tokens (feature `jose`): keys, JWS and JWKS against RFC 8037's vector, every
//! security rule, a tamper sweep, and PyJWT — a JOSE library nobody here wrote — verifying
//! what a tokenring verifier mints and minting what it verifies.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tokenring::error::SecretError;
use tokenring::jose::{self, JoseAlgorithm, Jwk, JwsError, PublicKey, SigningKey};
use tokenring::{Key, Keyring, Secret, TokenOptions, Verifier, VerifyError};

const MAX: usize = 4096;
const ALGORITHMS: [JoseAlgorithm; 2] = [JoseAlgorithm::EdDsa, JoseAlgorithm::Es256];

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn verify_with(token: &str, kid: &str, key: &PublicKey) -> Result<Vec<u8>, JwsError> {
    jose::verify(token, MAX, |k| (k == kid).then_some(key)).map(|(_, claims)| claims)
}

/// RFC 8037 A.1–A.4: the Ed25519 key, its public key, and the signature over the example's
/// signing input (Ed25519 is deterministic, so ours must be the RFC's byte for byte).
#[test]
fn rfc_8037_ed25519_vector() {
    let seed = URL_SAFE_NO_PAD
        .decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
        .unwrap();
    let key = SigningKey::from_bytes(JoseAlgorithm::EdDsa, &Secret::from_bytes(seed)).unwrap();
    let jwk = Jwk::public("k", &key.public_key());
    assert_eq!(jwk.x, "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
    assert_eq!((jwk.kty.as_str(), jwk.crv.as_str()), ("OKP", "Ed25519"));
    let input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
    let expected = URL_SAFE_NO_PAD
        .decode("hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg")
        .unwrap();
    assert_eq!(key.sign(input.as_bytes()).as_slice(), expected.as_slice());
    let public = Jwk::public("k", &key.public_key()).to_public_key().unwrap();
    assert!(public.verify(input.as_bytes(), &expected));
    // The RFC's header names no key: as a token it is refused for that, before any check.
    let rfc_token = format!("{input}.{}", b64(&expected));
    assert_eq!(
        verify_with(&rfc_token, "k", &public),
        Err(JwsError::MissingKeyId)
    );
}

/// Whatever bytes are signed as claims come back, the empty payload included (RFC 7515 allows
/// it; the fuzz target found the reader refusing what the writer made).
#[test]
fn any_claims_bytes_round_trip() {
    let key = SigningKey::generate(JoseAlgorithm::EdDsa).unwrap();
    for claims in [&b""[..], b"x", b"\x00\xff", br#"{"dat":null}"#] {
        let token = jose::sign("k1", &key, claims);
        assert_eq!(
            verify_with(&token, "k1", &key.public_key()).unwrap(),
            claims
        );
    }
}

#[test]
fn both_algorithms_round_trip_and_keys_survive_their_bytes() {
    for algorithm in ALGORITHMS {
        let key = SigningKey::generate(algorithm).unwrap();
        let again = SigningKey::from_bytes(algorithm, &key.to_bytes()).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        let public = PublicKey::from_bytes(algorithm, &key.public_key().to_bytes()).unwrap();
        let token = jose::sign("k1", &key, br#"{"dat":1}"#);
        assert_eq!(verify_with(&token, "k1", &public).unwrap(), br#"{"dat":1}"#);
        // Debug never shows the private key.
        let debug = format!("{key:?}");
        assert!(!debug.contains(&b64(key.to_bytes().expose())), "{debug}");
        let jwk = Jwk::public("k1", &public);
        assert_eq!(jwk.to_public_key().unwrap(), public);
    }
}

/// Every byte of header, claims and signature changed, one at a time, to every other
/// base64url character: never accepted.
#[test]
fn tamper_sweep() {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for algorithm in ALGORITHMS {
        let key = SigningKey::generate(algorithm).unwrap();
        let public = key.public_key();
        let token = jose::sign("k1", &key, br#"{"dat":"x","pur":"login"}"#);
        for i in 0..token.len() {
            if token.as_bytes()[i] == b'.' {
                continue;
            }
            for &c in ALPHABET.iter().step_by(7) {
                if c == token.as_bytes()[i] {
                    continue;
                }
                let mut bytes = token.clone().into_bytes();
                bytes[i] = c;
                let tampered = String::from_utf8(bytes).unwrap();
                assert!(
                    verify_with(&tampered, "k1", &public).is_err(),
                    "{algorithm}: byte {i} -> {}",
                    c as char
                );
            }
        }
    }
}

/// The algorithm comes from the key: `none`, HS256 keyed with the public key's bytes, and the
/// other curve's name are refused before any signature check; so are `crit` and a header
/// without `kid`; an unknown `kid` names no key.
#[test]
fn the_header_never_chooses() {
    use hmac::{Hmac, KeyInit as _, Mac as _};
    let key = SigningKey::generate(JoseAlgorithm::EdDsa).unwrap();
    let public = key.public_key();
    let claims = b64(br#"{"dat":"admin"}"#);
    let forged = |header: Value, signature: &[u8]| {
        let header = b64(header.to_string().as_bytes());
        format!("{header}.{claims}.{}", b64(signature))
    };
    let mismatch = Err(JwsError::AlgorithmMismatch {
        key_id: "k1".to_owned(),
        expected: JoseAlgorithm::EdDsa,
    });
    assert_eq!(
        verify_with(
            &forged(json!({"alg": "none", "kid": "k1"}), &[0; 64]),
            "k1",
            &public
        ),
        mismatch
    );
    // HS256 "signed" with the public key as the HMAC secret: the classic confusion.
    let input = format!(
        "{}.{claims}",
        b64(json!({"alg": "HS256", "kid": "k1"}).to_string().as_bytes())
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&public.to_bytes()).unwrap();
    mac.update(input.as_bytes());
    let tag = mac.finalize().into_bytes();
    let mut padded = [0u8; 64];
    padded[..32].copy_from_slice(&tag);
    assert_eq!(
        verify_with(&format!("{input}.{}", b64(&padded)), "k1", &public),
        mismatch
    );
    assert_eq!(
        verify_with(
            &forged(json!({"alg": "ES256", "kid": "k1"}), &[1; 64]),
            "k1",
            &public
        ),
        mismatch
    );
    assert_eq!(
        verify_with(
            &forged(
                json!({"alg": "EdDSA", "kid": "k1", "crit": ["exp"]}),
                &[1; 64]
            ),
            "k1",
            &public
        ),
        Err(JwsError::CriticalHeader)
    );
    assert_eq!(
        verify_with(&forged(json!({"alg": "EdDSA"}), &[1; 64]), "k1", &public),
        Err(JwsError::MissingKeyId)
    );
    assert_eq!(
        verify_with(
            &forged(json!({"alg": "EdDSA", "kid": "k9"}), &[1; 64]),
            "k1",
            &public
        ),
        Err(JwsError::UnknownKey)
    );
    // Shapes: parts, sizes, a header that is no object.
    for bad in [
        "",
        "a.b",
        "a.b.c.d",
        "..",
        &"a".repeat(MAX + 1),
        &forged(json!(["EdDSA"]), &[1; 64]),
        &forged(json!({"alg": "EdDSA", "kid": "k1"}), &[1; 63]),
    ] {
        assert!(
            matches!(
                verify_with(bad, "k1", &public),
                Err(JwsError::Malformed(_) | JwsError::TooLarge { .. })
            ),
            "{bad:.40}"
        );
    }
}

/// Ed25519 is verified strictly: a signature whose S is not reduced (S + L) and a public key
/// of small order are refused. ES256 accepts a high S (documented).
#[test]
fn strict_ed25519_and_documented_ecdsa() {
    // L, the order of the Ed25519 group, little-endian.
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let key = SigningKey::generate(JoseAlgorithm::EdDsa).unwrap();
    let token = jose::sign("k1", &key, b"{}");
    let (input, signature) = token.rsplit_once('.').unwrap();
    let mut signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(signature[32 + i]) + u16::from(L[i]) + carry;
        signature[32 + i] = sum as u8;
        carry = sum >> 8;
    }
    let non_canonical = format!("{input}.{}", b64(&signature));
    assert!(verify_with(&non_canonical, "k1", &key.public_key()).is_err());
    // The identity point: small order, would verify forgeries under lax rules.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert_eq!(
        PublicKey::from_bytes(JoseAlgorithm::EdDsa, &identity),
        Err(SecretError::InvalidKey)
    );

    // ES256: n - s verifies too.
    const N: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63,
        0x25, 0x51,
    ];
    let key = SigningKey::generate(JoseAlgorithm::Es256).unwrap();
    let token = jose::sign("k1", &key, b"{}");
    let (input, signature) = token.rsplit_once('.').unwrap();
    let mut signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let diff = i16::from(N[i]) - i16::from(signature[32 + i]) - borrow;
        signature[32 + i] = diff.rem_euclid(256) as u8;
        borrow = i16::from(diff < 0);
    }
    let high_s = format!("{input}.{}", b64(&signature));
    assert_ne!(high_s, token);
    assert!(verify_with(&high_s, "k1", &key.public_key()).is_ok());
    // Out of range: `s` = 0, `s` = n, `r` = n (`ring` checks 1 <= r, s < n).
    for (at, value) in [(32, [0u8; 32]), (32, N), (0, N)] {
        let mut bad = signature.clone();
        bad[at..at + 32].copy_from_slice(&value);
        let bad = format!("{input}.{}", b64(&bad));
        assert!(
            matches!(
                verify_with(&bad, "k1", &key.public_key()),
                Err(JwsError::BadSignature { .. })
            ),
            "{at}"
        );
    }
}

#[test]
fn a_jwk_with_a_private_part_or_another_use_is_refused() {
    let key = SigningKey::generate(JoseAlgorithm::Es256).unwrap();
    let mut jwk = serde_json::to_value(Jwk::public("k1", &key.public_key())).unwrap();
    assert!(jwk.get("d").is_none());
    let usable: Jwk = serde_json::from_value(jwk.clone()).unwrap();
    assert!(usable.to_public_key().is_ok());
    jwk["d"] = json!(b64(key.to_bytes().expose()));
    let private: Jwk = serde_json::from_value(jwk.clone()).unwrap();
    assert_eq!(private.to_public_key(), Err(SecretError::InvalidKey));
    jwk.as_object_mut().unwrap().remove("d");
    jwk["use"] = json!("enc");
    let encryption: Jwk = serde_json::from_value(jwk.clone()).unwrap();
    assert_eq!(encryption.to_public_key(), Err(SecretError::InvalidKey));
    jwk["use"] = json!("sig");
    jwk["alg"] = json!("EdDSA");
    let wrong: Jwk = serde_json::from_value(jwk).unwrap();
    assert_eq!(wrong.to_public_key(), Err(SecretError::InvalidKey));
}

use tokenring_test_support::jose_libraries;

/// PyJWT and Node's `jose` verify what a tokenring `Verifier` mints from a keyring's key pair,
/// with nothing but the keyring's JWKS and their standard call with an audience: they read
/// the value and purpose, and refuse an expired token, another audience and a tampered token.
#[test]
fn jose_libraries_verify_what_tokenring_mints() {
    let dir = tempfile::tempdir().unwrap();
    for library in jose_libraries::all() {
        for algorithm in ALGORITHMS {
            let what = format!("{} {algorithm}", library.name);
            let kid = format!("k-{algorithm}");
            let key = SigningKey::generate(algorithm).unwrap();
            let ring = Keyring::new(vec![Key::from_signing_key(kid.as_str(), key)]).unwrap();
            let jwks = ring.public().unwrap().jwks();
            assert!(!jwks.contains("\"d\""), "{jwks}");
            let jwks_file = dir.path().join("jwks.json");
            std::fs::write(&jwks_file, &jwks).unwrap();
            let verifier = Verifier::new(&ring, "accounts");
            let options = TokenOptions::new()
                .purpose("login")
                .expires_in(Duration::from_secs(600));
            let token = verifier.generate(&json!({"user": 42}), options).unwrap();
            let (ok, said) = library.verify(&jwks_file, &token, "accounts");
            assert!(ok, "{what}: {said}");
            let read: Value = serde_json::from_str(&said).unwrap();
            assert_eq!(read["dat"], json!({"user": 42}), "{what}: {read}");
            assert_eq!(read["pur"], "login", "{what}");
            assert_eq!(read["aud"], "accounts", "{what}");

            let (ok, said) = library.verify(&jwks_file, &token, "billing");
            assert_eq!(
                (ok, said.as_str()),
                (false, library.wrong_audience),
                "{what}"
            );

            let past = SystemTime::now() - Duration::from_secs(600);
            let expired = verifier
                .generate(&1, TokenOptions::new().expires_at(past))
                .unwrap();
            let (ok, said) = library.verify(&jwks_file, &expired, "accounts");
            assert_eq!((ok, said.as_str()), (false, library.expired), "{what}");

            let mut tampered = token.clone().into_bytes();
            let at = token.find('.').unwrap() + 3;
            tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(tampered).unwrap();
            let (ok, _) = library.verify(&jwks_file, &tampered, "accounts");
            assert!(!ok, "{what}: a tampered token verified");
        }
    }
}

/// tokenring verifies PyJWT's and Node `jose`'s EdDSA, ES256, RS256 and PS256 tokens through a
/// public keyring holding the imported JWK, reading `dat` and `pur`; a wrong purpose, an
/// expired token, another key's token and another audience are refused. The key id is an
/// issuer's kind (dots, `+`, `/`, `=`: public key ids are any printable ASCII).
#[test]
fn tokenring_verifies_what_jose_libraries_mint() {
    const KID: &str = "ext.1+/=";
    let now = SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({"dat": "hello", "pur": "login", "aud": "accounts", "exp": now + 600});
    for library in jose_libraries::all() {
        let mint = |alg: &str, claims: &Value| -> (PublicKey, String) {
            let minted = library.mint(alg, KID, &claims.to_string());
            let jwk: Jwk = serde_json::from_value(minted["jwk"].clone()).unwrap();
            (
                jwk.to_public_key().unwrap(),
                minted["token"].as_str().unwrap().to_owned(),
            )
        };
        for alg in ["EdDSA", "ES256", "RS256", "PS256"] {
            let what = format!("{} {alg}", library.name);
            let (public, token) = mint(alg, &claims);
            let ring = Keyring::new(vec![Key::from_public_key(KID, public)]).unwrap();
            let verifier = Verifier::new(&ring, "accounts");
            let verified = verifier.verify::<String>(&token, Some("login")).unwrap();
            assert_eq!(verified.value, "hello", "{what}");
            assert_eq!(&*verified.key_id, KID);
            assert!(matches!(
                verifier.verify::<String>(&token, Some("logout")),
                Err(VerifyError::PurposeMismatch { .. })
            ));
            assert!(matches!(
                Verifier::new(&ring, "billing").verify::<String>(&token, Some("login")),
                Err(VerifyError::WrongAudience { .. })
            ));
            let mut expired = claims.clone();
            expired["exp"] = json!(now - 600);
            let (other, expired) = mint(alg, &expired);
            let other_ring = Keyring::new(vec![Key::from_public_key(KID, other)]).unwrap();
            assert!(
                matches!(
                    Verifier::new(&other_ring, "accounts")
                        .verify::<String>(&expired, Some("login")),
                    Err(VerifyError::Expired { .. })
                ),
                "{what}"
            );
            assert!(
                matches!(
                    verifier.verify::<String>(&expired, Some("login")),
                    Err(VerifyError::BadSignature { .. })
                ),
                "{what}"
            );
        }
    }
}

/// RS256 (and PS256), on tokens an outside library minted (tokenring holds no RSA private key): every
/// character of header, claims and signature changed is refused; HS256 "signed" with the RSA
/// key's DER bytes, or with the JWK's modulus, is refused for its algorithm before any
/// signature work; a signature of another length is malformed; the JWK round-trips.
#[test]
fn rs256_tamper_sweep_and_alg_confusion() {
    use hmac::{Hmac, KeyInit as _, Mac as _};
    let Some(library) = jose_libraries::all().into_iter().next() else {
        return;
    };
    let minted = library.mint("RS256", "rsa-1", r#"{"dat":"x","pur":"login"}"#);
    let jwk: Jwk = serde_json::from_value(minted["jwk"].clone()).unwrap();
    let public = jwk.to_public_key().unwrap();
    assert_eq!(public.algorithm(), JoseAlgorithm::Rs256);
    assert_eq!(public.rsa_bits(), Some(2048));
    assert_eq!(
        PublicKey::from_bytes(JoseAlgorithm::Rs256, &public.to_bytes()).unwrap(),
        public
    );
    let exported = Jwk::public("rsa-1", &public);
    assert_eq!((&exported.n, &exported.e), (&jwk.n, &jwk.e));
    let token = minted["token"].as_str().unwrap();
    assert_eq!(
        verify_with(token, "rsa-1", &public).unwrap(),
        br#"{"dat":"x","pur":"login"}"#
    );

    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for i in (0..token.len()).filter(|&i| token.as_bytes()[i] != b'.') {
        let c = ALPHABET[(ALPHABET
            .iter()
            .position(|&c| c == token.as_bytes()[i])
            .unwrap()
            + 7)
            % 64];
        let mut bytes = token.as_bytes().to_vec();
        bytes[i] = c;
        let tampered = String::from_utf8(bytes).unwrap();
        assert!(
            verify_with(&tampered, "rsa-1", &public).is_err(),
            "byte {i}"
        );
    }

    let (_, claims) = token.split_once('.').unwrap();
    let claims = claims.split_once('.').unwrap().0;
    let input = format!(
        "{}.{claims}",
        b64(json!({"alg": "HS256", "kid": "rsa-1"})
            .to_string()
            .as_bytes())
    );
    let modulus = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(jwk.n.as_deref().unwrap())
        .unwrap();
    for secret in [public.to_bytes(), modulus] {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&secret).unwrap();
        mac.update(input.as_bytes());
        let tag = mac.finalize().into_bytes();
        assert_eq!(
            verify_with(&format!("{input}.{}", b64(&tag)), "rsa-1", &public),
            Err(JwsError::AlgorithmMismatch {
                key_id: "rsa-1".to_owned(),
                expected: JoseAlgorithm::Rs256,
            })
        );
    }
    // One RSA key, two schemes: a key read as RS256 (a JWK without alg) refuses a PS256
    // token of the same key by its algorithm, and the other way round.
    let pss = library.mint("PS256", "rsa-1", r#"{"dat":"x","pur":"login"}"#);
    let mut pss_jwk: Jwk = serde_json::from_value(pss["jwk"].clone()).unwrap();
    let pss_token = pss["token"].as_str().unwrap();
    let as_pss = pss_jwk.to_public_key().unwrap();
    assert_eq!(as_pss.algorithm(), JoseAlgorithm::Ps256);
    assert!(verify_with(pss_token, "rsa-1", &as_pss).is_ok());
    pss_jwk.alg = None;
    let as_pkcs1 = pss_jwk.to_public_key().unwrap();
    assert_eq!(as_pkcs1.algorithm(), JoseAlgorithm::Rs256);
    assert_eq!(
        verify_with(pss_token, "rsa-1", &as_pkcs1),
        Err(JwsError::AlgorithmMismatch {
            key_id: "rsa-1".to_owned(),
            expected: JoseAlgorithm::Rs256,
        })
    );
    let short = format!("{}.{}", &token[..token.rfind('.').unwrap()], b64(&[7; 64]));
    assert_eq!(
        verify_with(&short, "rsa-1", &public),
        Err(JwsError::Malformed(tokenring::error::Malformed::Tag))
    );
}
