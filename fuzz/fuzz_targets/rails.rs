//! Rails MessageVerifier tokens: arbitrary text as a token for every configuration shape, and
//! arbitrary data *with a valid digest* to reach the base64, envelope and JSON decoding that
//! only a holder of the secret can reach. Neither may panic; no arbitrary text may verify.
#![no_main]

use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit as _, Mac as _};
use libfuzzer_sys::fuzz_target;
use tokenring::Secret;
use tokenring::rails::{Envelope, JsonStyle, RailsConfig, RailsDigest, RailsVerifier};

const SECRET: [u8; 64] = [7; 64];

/// Every digest, both alphabets, both envelopes, both JSON styles, tried in order.
static VERIFIER: LazyLock<RailsVerifier> = LazyLock::new(|| {
    let config = |digest, url_safe, envelope, json| {
        RailsConfig::new(Secret::from_bytes(SECRET))
            .digest(digest)
            .url_safe(url_safe)
            .envelope(envelope)
            .json(json)
    };
    RailsVerifier::new(config(
        RailsDigest::Sha1,
        false,
        Envelope::Legacy,
        JsonStyle::Ruby,
    ))
    .accept(config(RailsDigest::Sha256, true, Envelope::Current, JsonStyle::ActiveSupport))
    .accept(config(RailsDigest::Sha384, false, Envelope::Current, JsonStyle::Ruby))
    .accept(config(RailsDigest::Sha512, true, Envelope::Legacy, JsonStyle::ActiveSupport))
});

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for purpose in [None, Some("p"), Some("")] {
            let verified = VERIFIER.verify::<serde_json::Value>(text, purpose);
            assert!(verified.is_err(), "arbitrary text verified: {text:?}");
        }
    }
    // The data signed as Rails signs it, `base64(data)--hex(HMAC-SHA1(secret, base64(data)))`,
    // or the raw bytes as the signed text when they are UTF-8.
    let signed = match data.split_first() {
        Some((flag, rest)) if flag & 1 == 1 => match std::str::from_utf8(rest) {
            Ok(text) => text.to_owned(),
            Err(_) => return,
        },
        _ => STANDARD.encode(data),
    };
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&SECRET).unwrap();
    mac.update(signed.as_bytes());
    let digest: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let token = format!("{signed}--{digest}");
    for purpose in [None, Some("p")] {
        let _ = VERIFIER.verify::<serde_json::Value>(&token, purpose);
        let _ = VERIFIER.verify::<(u64, String)>(&token, purpose);
    }
});
