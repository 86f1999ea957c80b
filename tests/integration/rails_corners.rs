//! The corners of Rails' envelope, judged by real ActiveSupport 7.2 (the newest Rails CI
//! runs, whose reading tokenring follows): a purpose that is a number or a boolean, an expiry
//! with a UTC offset, an envelope with both `data` and `message`, expiry checked before
//! purpose, a plain token asked for purpose "", integers wider than 64 bits. Each token is
//! hand-made (any payload, signed as Rails signs), read by `tests/rails/corners.rb` and by
//! tokenring, and the two verdicts compared. Needs the Rails judges (see `rails_ruby::live`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use tokenring::Secret;
use tokenring::rails::{PayloadProblem, RailsConfig, RailsDigest, RailsError, RailsVerifier};

use crate::rails_ruby::{judge, live};

const SECRET: [u8; 32] = [0x5a; 32];

/// `payload` signed as Rails signs it (HMAC-SHA256 over the strict base64).
fn token(payload: &str) -> String {
    crate::common::rails_signed(&SECRET, true, &STANDARD.encode(payload))
}

fn b64(json: &str) -> String {
    STANDARD.encode(json)
}

/// What a reader made of a token, in terms both sides share.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// Verified, with the value as JSON text.
    Ok(String),
    Expired,
    Purpose,
    /// Refused for the payload's shape (Rails raises or says invalid).
    Refused,
}

fn tokenring(token: &str, purpose: Option<&str>) -> (Verdict, Option<RailsError>) {
    let verifier = RailsVerifier::new(
        RailsConfig::new(Secret::from_bytes(SECRET)).digest(RailsDigest::Sha256),
    );
    match verifier.verify::<Value>(token, purpose) {
        Ok(verified) => (Verdict::Ok(verified.value.to_string()), None),
        Err(RailsError::Expired { .. }) => (Verdict::Expired, None),
        Err(RailsError::PurposeMismatch { .. }) => (Verdict::Purpose, None),
        Err(error) => (Verdict::Refused, Some(error)),
    }
}

fn rails(result: &Value) -> Verdict {
    let reason = result["reason"].as_str().unwrap_or_default();
    match result["verdict"].as_str() {
        Some("ok") => Verdict::Ok(result["value"].as_str().unwrap().to_owned()),
        Some("invalid") if reason == "expired" => Verdict::Expired,
        Some("invalid") if reason == "mismatched purpose" || reason == "missing metadata" => {
            Verdict::Purpose
        }
        _ => Verdict::Refused,
    }
}

#[test]
fn corners_read_as_rails_reads_them() {
    if !live() {
        return;
    }
    let future = "2099-01-01T00:00:00.000Z";
    let past = "2001-01-01T00:00:00.000Z";
    let legacy = |value: &str, exp: &str, pur: &str| {
        format!(
            r#"{{"_rails":{{"message":"{}","exp":{exp},"pur":{pur}}}}}"#,
            b64(value)
        )
    };
    let current = |meta: &str| format!(r#"{{"_rails":{{{meta}}}}}"#);
    let cases: Vec<(&str, String, Option<&str>)> = vec![
        ("pur_number", legacy("42", "null", "123"), Some("123")),
        ("pur_number_other", legacy("42", "null", "123"), Some("124")),
        (
            "pur_true",
            current(r#""data":"v","pur":true"#),
            Some("true"),
        ),
        ("pur_float", current(r#""data":"v","pur":1.5"#), Some("1.5")),
        (
            "pur_float_exponent",
            current(r#""data":"v","pur":1e20"#),
            Some("1.0e+20"),
        ),
        (
            "pur_null_asked_empty",
            current(r#""data":"v","pur":null"#),
            Some(""),
        ),
        ("pur_array", current(r#""data":"v","pur":["p"]"#), Some("p")),
        ("plain_asked_empty", r#""v""#.to_owned(), Some("")),
        ("plain_asked_none", r#""v""#.to_owned(), None),
        (
            "exp_offset_future",
            current(r#""data":"v","exp":"2099-01-01T00:00:00.000+01:00","pur":"p""#),
            Some("p"),
        ),
        (
            "exp_offset_past",
            current(r#""data":"v","exp":"2001-01-01T00:30:00+01:00","pur":"p""#),
            Some("p"),
        ),
        (
            "exp_compact_offset",
            current(r#""data":"v","exp":"2099-01-01T00:00:00-0530""#),
            None,
        ),
        (
            "exp_lower_case",
            current(r#""data":"v","exp":"2099-01-01t00:00:00z""#),
            None,
        ),
        (
            "exp_midnight_24",
            current(r#""data":"v","exp":"2098-12-31T24:00:00Z""#),
            None,
        ),
        (
            "exp_february_30",
            current(r#""data":"v","exp":"2099-02-30T00:00:00Z""#),
            None,
        ),
        (
            "exp_no_zone",
            current(r#""data":"v","exp":"2099-01-01T00:00:00""#),
            None,
        ),
        (
            "exp_date_only",
            current(r#""data":"v","exp":"2099-01-01""#),
            None,
        ),
        (
            "expired_and_other_purpose",
            current(&format!(r#""data":"v","exp":"{past}","pur":"a""#)),
            Some("b"),
        ),
        (
            "legacy_expired_bad_message",
            format!(r#"{{"_rails":{{"message":"!!","exp":"{past}","pur":null}}}}"#),
            None,
        ),
        (
            "data_before_message",
            current(&format!(r#""data":1,"message":"{}""#, b64("2"))),
            None,
        ),
        (
            "message_before_data",
            format!(r#"{{"_rails":{{"message":"{}","data":1}}}}"#, b64("2")),
            None,
        ),
        (
            "legacy_future",
            legacy(r#"{"a":[1,"x"]}"#, &format!(r#""{future}""#), r#""p""#),
            Some("p"),
        ),
        ("rails_not_a_hash", r#"{"_rails":5}"#.to_owned(), None),
        ("rails_null", r#"{"_rails":null}"#.to_owned(), None),
        ("exp_a_number", current(r#""data":1,"exp":12"#), None),
    ];
    // Ruby's Integer is unbounded: Rails reads these exactly; tokenring refuses them
    // (typed) rather than hand back a float with digits lost.
    let wide = "123456789012345678901234567890";
    let by_design = vec![
        ("wide_integer", format!(r#"{{"n":{wide}}}"#), None),
        (
            "wide_integer_in_message",
            legacy(&format!("[-{wide}]"), "null", "null"),
            None,
        ),
    ];

    // A `_rails` object with no `data` that is not the legacy envelope as Rails writes it —
    // the legacy envelope spelled with spaces, as Python's json.dumps writes it, say. Rails'
    // cookie jars (7.1 to 8.1, the same code) read it as no envelope: the whole object is the
    // value, and a purpose asked is refused ("missing metadata"). tokenring reads it so
    // everywhere, and these must agree with the jar's verdicts.
    let spaced = format!(
        r#"{{"_rails": {{"message": "{}", "exp": null, "pur": "cookie.a"}}}}"#,
        b64("42")
    );
    let spaced_plain = format!(r#"{{"_rails": {{"message": "{}"}}}}"#, b64("42"));
    let cookie_cases = [
        (
            "cookie_spaced_legacy_asked",
            spaced.clone(),
            Some("cookie.a"),
        ),
        ("cookie_spaced_legacy_plain", spaced_plain.clone(), None),
        ("cookie_no_data", current(r#""pur":"p""#), Some("p")),
        (
            "cookie_compact_legacy",
            legacy("42", "null", r#""cookie.a""#),
            Some("cookie.a"),
        ),
    ];
    // Rails' MessageVerifier with a JSON serializer reads the same payloads as the current
    // envelope and answers its absent `data`: null, a value the signer never wrote. tokenring
    // does not (above): these are the disagreements chosen, each checked.
    let envelope_by_design = [
        ("spaced_legacy_asked", spaced, Some("cookie.a")),
        ("spaced_legacy_plain", spaced_plain, None),
        ("no_data", current(r#""pur":"p""#), Some("p")),
    ];

    let verifier_cases = cases.iter().chain(&by_design).chain(&envelope_by_design);
    let all: Vec<Value> = verifier_cases
        .map(|case| (case, "verifier"))
        .chain(cookie_cases.iter().map(|case| (case, "cookie")))
        .map(|((name, payload, purpose), reader)| {
            json!({"name": name, "token": token(payload), "purpose": purpose, "reader": reader})
        })
        .collect();
    let input = json!({"secret_hex": hex(&SECRET), "cases": all});
    let judged = judge("7.2", "corners.rb", &input);
    let results = judged["results"].as_array().unwrap();
    let counts = [
        cases.len(),
        by_design.len(),
        envelope_by_design.len(),
        cookie_cases.len(),
    ];
    assert_eq!(results.len(), counts.iter().sum::<usize>());
    let (envelope_results, cookie_results) = results[counts[0] + counts[1]..].split_at(counts[2]);

    let mut disagreements = Vec::new();
    for ((name, payload, purpose), result) in cases.iter().zip(results) {
        assert_eq!(result["name"], *name);
        let (ours, error) = tokenring(&token(payload), *purpose);
        let theirs = rails(result);
        if ours != theirs {
            disagreements.push(format!(
                "{name}: Rails {result}, tokenring {ours:?} {error:?}"
            ));
        }
    }
    for ((name, payload, purpose), result) in cookie_cases.iter().zip(cookie_results) {
        assert_eq!(result["name"], *name);
        let (ours, error) = tokenring(&token(payload), *purpose);
        let theirs = rails(result);
        if ours != theirs {
            disagreements.push(format!(
                "{name} (cookie jar): Rails {result}, tokenring {ours:?} {error:?}"
            ));
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");

    for ((name, payload, purpose), result) in envelope_by_design.iter().zip(envelope_results) {
        assert_eq!(result["name"], *name);
        assert_eq!(
            rails(result),
            Verdict::Ok("null".into()),
            "{name}: {result}"
        );
        let (ours, _) = tokenring(&token(payload), *purpose);
        let plain: Value = serde_json::from_str(payload).unwrap();
        let expected = match purpose {
            Some(_) => Verdict::Purpose,
            None => Verdict::Ok(plain.to_string()),
        };
        assert_eq!(ours, expected, "{name}");
    }

    for ((name, payload, purpose), result) in by_design.iter().zip(&results[cases.len()..]) {
        assert_eq!(result["name"], *name);
        let rails_value = result["value"].as_str().unwrap();
        assert!(
            rails_value.contains(wide),
            "{name}: Rails read {rails_value}"
        );
        let (_, error) = tokenring(&token(payload), *purpose);
        assert_eq!(
            error,
            Some(RailsError::BadPayload(PayloadProblem::WideInteger)),
            "{name}"
        );
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
