//! Property tests: any JSON value, purpose and expiry round-trips, and verification under
//! any other purpose fails.

use std::time::Duration;

use crate::common::{key, keyring};
use proptest::prelude::*;
use serde_json::{Map, Number, Value};
use tokenring::{TokenOptions, Verifier, VerifyError};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        any::<u64>().prop_map(|n| Value::Number(n.into())),
        // Finite floats only: JSON has no NaN or infinity.
        (-1e300f64..1e300).prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_value_purpose_and_expiry_round_trips(
        value in json_value(),
        purpose in proptest::option::of(any::<String>()),
        expires_in in proptest::option::of(1u64..10_000_000_000),
        other in any::<String>(),
    ) {
        let (ring, clock) = keyring(vec![key("k1", 1)]);
        let verifier = Verifier::builder(ring).max_token_len(1 << 20).build();
        let mut options = TokenOptions::new();
        if let Some(p) = &purpose {
            options = options.purpose(p);
        }
        if let Some(secs) = expires_in {
            options = options.expires_in(Duration::from_secs(secs));
        }
        let token = verifier.generate(&value, options).unwrap();
        let verified = verifier.verify::<Value>(&token, purpose.as_deref()).unwrap();
        prop_assert_eq!(&verified.value, &value);

        if purpose.as_deref() != Some(other.as_str()) {
            let is_mismatch = matches!(
                verifier.verify::<Value>(&token, Some(&other)),
                Err(VerifyError::PurposeMismatch { .. })
            );
            prop_assert!(is_mismatch);
        }
        if let Some(secs) = expires_in {
            clock.advance(Duration::from_secs(secs));
            let is_expired = matches!(
                verifier.verify::<Value>(&token, purpose.as_deref()),
                Err(VerifyError::Expired { .. })
            );
            prop_assert!(is_expired);
        }
    }

    #[test]
    fn arbitrary_strings_never_verify_and_never_panic(token in ".{0,300}") {
        let (ring, _) = keyring(vec![key("k1", 1)]);
        let verifier = Verifier::new(ring, "s");
        prop_assert!(verifier.verify::<Value>(&token, None).is_err());
        let _ = tokenring::inspect::decode_unverified(&token);
    }

    #[test]
    fn token_shaped_garbage_never_verifies(payload in "[A-Za-z0-9_-]{1,200}", tag in "[A-Za-z0-9_-]{43}") {
        let (ring, _) = keyring(vec![key("k1", 1)]);
        let verifier = Verifier::new(ring, "s");
        let token = format!("v1.k1.{payload}.{tag}");
        prop_assert!(verifier.verify::<Value>(&token, None).is_err());
    }
}
