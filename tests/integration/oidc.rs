//! A real OpenID Provider nobody here wrote — Node's `oidc-provider` on loopback — issuing
//! RS256 access tokens while it rotates its keys: k1 → k1 + k2 published → k2 signs → k1
//! removed. A `JwksSource`-backed `JwtVerifier` and PyJWT's `PyJWKClient` verify the same
//! stream: no valid token refused by either, no forged or expired one accepted, and
//! tokenring fetches the JWKS no more often than PyJWT does.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};

use serde_json::Value;
use tokenring::HotKeyring;
use tokenring::source::JwksSource;
use tokenring::verifier::JwtVerifier;
use tokenring_test_support::jose_libraries;

/// A line-per-command conversation with a child process.
struct Conversation {
    child: Child,
    to: ChildStdin,
    from: BufReader<ChildStdout>,
}

impl Conversation {
    fn start(mut command: std::process::Command) -> Self {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let to = child.stdin.take().unwrap();
        let from = BufReader::new(child.stdout.take().unwrap());
        Self { child, to, from }
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.from.read_line(&mut line).unwrap();
        line.trim().to_owned()
    }

    fn ask(&mut self, command: &str) -> String {
        writeln!(self.to, "{command}").unwrap();
        let answer = self.line();
        assert!(!answer.starts_with("error"), "{command}: {answer}");
        answer
    }
}

impl Drop for Conversation {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_oidc_providers_tokens_verify_through_its_key_rotation() {
    let Some(command) = jose_libraries::oidc_provider() else {
        return;
    };
    let Some(pyjwt) = jose_libraries::pyjwt() else {
        tokenring_test_support::missing::missing("PyJWT", "tests/jose/setup.sh");
        return;
    };
    let mut provider = Conversation::start(command);
    let listening = provider.line();
    let issuer = listening
        .strip_prefix("listening ")
        .unwrap_or_else(|| panic!("the provider did not start: {listening}"))
        .to_owned();

    // tokenring: the issuer's JWKS followed by a hot keyring, its defaults otherwise.
    let source = JwksSource::builder(format!("{issuer}/jwks?client=tokenring"))
        .build()
        .unwrap();
    let keys = HotKeyring::builder(source.clone()).build().unwrap();
    let verifier = JwtVerifier::builder(&keys, &issuer, "orders").build();
    // PyJWT: PyJWKClient with its default cache lifespan (300 s), and no cooldown: by
    // default, after any fetch (the first one included) it refuses a kid it lacks for 30 s
    // without fetching, so it would refuse the new key's first tokens here.
    let mut client = pyjwt.script("pyjwkclient.py");
    client.args([
        format!("{issuer}/jwks?client=pyjwt"),
        "orders".to_owned(),
        "300".to_owned(),
        issuer.clone(),
        "0".to_owned(),
    ]);
    let mut pyjwt = Conversation::start(client);

    let mut refused = Vec::new();
    let mut verified = 0;
    let mut kids = std::collections::BTreeSet::new();
    for stage in 1..=4 {
        if stage > 1 {
            assert_eq!(provider.ask(&format!("stage {stage}")), "ok");
        }
        for n in 0..20 {
            let token = provider.ask("token");
            match verifier.verify::<Value>(&token) {
                Ok(ok) => {
                    verified += 1;
                    kids.insert(ok.key_id.to_string());
                    assert_eq!(ok.value["aud"], "orders");
                }
                Err(error) => refused.push(format!("stage {stage}: tokenring: {error}")),
            }
            let said = pyjwt.ask(&token);
            if said != "ok" {
                refused.push(format!("stage {stage}: PyJWKClient: {said}"));
            }
            if n % 5 == 0 {
                let forged = provider.ask("forged");
                let expired = provider.ask("expired");
                assert_eq!(
                    verifier.verify::<Value>(&forged).unwrap_err().reason(),
                    "bad_signature",
                    "stage {stage}"
                );
                assert_eq!(
                    verifier.verify::<Value>(&expired).unwrap_err().reason(),
                    "expired",
                    "stage {stage}"
                );
                assert_ne!(pyjwt.ask(&forged), "ok", "PyJWKClient took a forged token");
                assert_ne!(
                    pyjwt.ask(&expired),
                    "ok",
                    "PyJWKClient took an expired token"
                );
            }
        }
    }
    assert!(refused.is_empty(), "valid tokens refused: {refused:?}");
    assert_eq!(verified, 80);
    assert_eq!(kids.into_iter().collect::<Vec<_>>(), ["k1", "k2"]);

    let fetches: Value = serde_json::from_str(&provider.ask("fetches")).unwrap();
    let (ours, theirs) = (
        fetches["tokenring"].as_u64().unwrap(),
        fetches["pyjwt"].as_u64().unwrap(),
    );
    assert_eq!(ours, source.fetches(), "every fetch reached the provider");
    eprintln!(
        "JWKS fetches for 80 tokens through a rotation: tokenring {ours}, PyJWKClient {theirs}"
    );
    assert!(
        ours <= theirs,
        "tokenring fetched {ours} times, PyJWKClient {theirs}"
    );
    assert!(ours >= 2, "the first load and one for k2: {ours}");
}
