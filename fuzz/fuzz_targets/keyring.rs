//! Arbitrary text as a keyring file: loading never panics, and whatever loads re-serialises
//! to a document that loads to the same keys.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenring::Keyring;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(keyring) = Keyring::from_json(text) {
        let again = Keyring::from_json(&keyring.to_json()).expect("written keyring reloads");
        assert_eq!(again.keys().len(), keyring.keys().len());
        for (a, b) in keyring.keys().iter().zip(again.keys()) {
            assert_eq!(a.id(), b.id());
            assert_eq!(a.secret(), b.secret());
        }
    }
});
