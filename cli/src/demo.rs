//! `tokenring demo`: the whole lifecycle in one run, on a copy of the demo keyring.
//!
//! Time is simulated with a `ManualClock` so the rotation takes seconds, not hours; every
//! keyring change goes through the same validated, atomic file write a real rotation uses,
//! and each step checks its own outcome, so the demo fails loudly if the library misbehaves.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clap::Args;
use serde_json::{Value, json};
use tokenring::clock::{Clock as _, ManualClock};
use tokenring::{
    FileSource, Key, Keyring, KeyringSource as _, Secret, TokenOptions, Verifier, VerifyError,
};

use crate::{Failure, files, format_time, out};

/// Where the demo keyring is in a checkout.
const DEFAULT_PATH: &str = "keyrings/example.json";

/// The bundled demo keyring, used when the file is not at its usual path.
const BUNDLED: &str = include_str!("../../keyrings/example.json");

const SALT: &str = "password_reset";
const HOUR: Duration = Duration::from_secs(3600);

#[derive(Args)]
pub(crate) struct DemoArgs {
    /// The demo keyring to start from (copied, never modified). Default:
    /// keyrings/example.json if it is there, else the copy built into the binary.
    #[arg(long)]
    keyring: Option<PathBuf>,
}

struct Demo {
    clock: Arc<ManualClock>,
    path: PathBuf,
}

impl Demo {
    fn load(&self) -> Result<Verifier, Failure> {
        let keyring = FileSource::new(&self.path).load(self.clock.clone())?;
        Ok(Verifier::new(keyring, SALT))
    }

    /// Simulated now plus `after`.
    fn after(&self, after: Duration) -> SystemTime {
        self.clock.now() + after
    }

    fn write(&self, keyring: &Keyring) -> Result<(), Failure> {
        files::create(&self.path, keyring)
    }

    fn states(&self, verifier: &Verifier) -> Result<(), Failure> {
        let keyring = verifier.keyring();
        let signing = keyring.signing_key().map(Key::id);
        for key in keyring.keys() {
            out(format_args!(
                "     key {:<14} {:<8}{}",
                key.id(),
                key.state_at(keyring.now()),
                if signing == Some(key.id()) {
                    "  <- signs"
                } else {
                    ""
                }
            ))?;
        }
        Ok(())
    }
}

fn step(title: &str) -> Result<(), Failure> {
    out(format_args!("\n== {title}"))
}

fn accepted(verifier: &Verifier, token: &str, purpose: Option<&str>) -> Result<(), Failure> {
    let verified = verifier
        .verify::<Value>(token, purpose)
        .map_err(|e| Failure::new(format!("demo: expected the token to verify: {e}")))?;
    out(format_args!(
        "   accepted: {} (key {:?}{})",
        verified.value,
        verified.key_id,
        if verified.is_current_key {
            ", the current signer"
        } else {
            ", an older key: re-issue"
        }
    ))
}

fn rejected(
    verifier: &Verifier,
    token: &str,
    purpose: Option<&str>,
    expect: fn(&VerifyError) -> bool,
) -> Result<(), Failure> {
    match verifier.verify::<Value>(token, purpose) {
        Err(err) if expect(&err) => out(format_args!("   rejected: {err}")),
        Err(err) => Err(Failure::new(format!(
            "demo: rejected for the wrong reason: {err}"
        ))),
        Ok(_) => Err(Failure::new("demo: a token that must fail verified")),
    }
}

pub(crate) fn run(args: &DemoArgs) -> Result<(), Failure> {
    let (text, origin) = match &args.keyring {
        // A path the user gave must exist: a typo must not silently run another keyring.
        Some(path) => (
            std::fs::read_to_string(path)
                .map_err(|e| Failure::new(format!("cannot read {}: {e}", path.display())))?,
            path.display().to_string(),
        ),
        None => match std::fs::read_to_string(DEFAULT_PATH) {
            Ok(text) => (text, DEFAULT_PATH.to_owned()),
            Err(_) => (
                BUNDLED.to_owned(),
                "the bundled keyrings/example.json".to_owned(),
            ),
        },
    };
    let clock = Arc::new(ManualClock::new(SystemTime::now()));
    let start = Keyring::from_json_with_clock(&text, clock.clone())?;
    if !start.is_demo() {
        return Err(Failure::new(format!(
            "{origin} is not marked \"demo\": true; the demo only runs on demo keyrings"
        )));
    }
    let dir = tempfile::tempdir()?;
    let demo = Demo {
        clock,
        path: dir.path().join("keyring.json"),
    };
    demo.write(&start)?;
    out(format_args!(
        "tokenring demo: a copy of {origin} in {}\n\
         (a DEMO keyring: its secrets are public; time below is simulated)",
        dir.path().display()
    ))?;
    walk(&demo, dir.path())
}

fn walk(demo: &Demo, dir: &Path) -> Result<(), Failure> {
    let verifier = demo.load()?;
    demo.states(&verifier)?;

    step("1. Sign a password-reset token: purpose \"password_reset\", expires in 2h")?;
    let user = json!({"user_id": 42});
    let reset = TokenOptions::new().purpose("password_reset");
    let token = verifier.generate(&user, reset.expires_in(2 * HOUR))?;
    out(format_args!("   {token}"))?;
    accepted(&verifier, &token, Some("password_reset"))?;

    step("2. What must fail does")?;
    out("   for another purpose:")?;
    rejected(&verifier, &token, Some("email_confirm"), |e| {
        matches!(e, VerifyError::PurposeMismatch { .. })
    })?;
    out("   with one character changed:")?;
    // Change one character of the payload (after "v1.KEY_ID.").
    let mut tampered = token.clone().into_bytes();
    let at = token.match_indices('.').nth(1).map_or(0, |(i, _)| i + 5);
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).map_err(|e| Failure::new(e.to_string()))?;
    rejected(&verifier, &tampered, Some("password_reset"), |e| {
        matches!(e, VerifyError::BadSignature { .. })
    })?;
    out("   by a verifier for another salt (\"email_confirm\"):")?;
    let other = Verifier::new(verifier.keyring().clone(), "email_confirm");
    rejected(&other, &token, Some("password_reset"), |e| {
        matches!(e, VerifyError::BadSignature { .. })
    })?;

    step("3. Rotate: add a key that activates in 1h (`tokenring keyring add --activates-in 1h`)")?;
    let next = Key::new("demo-next", Secret::random(32)?).with_activates_at(Some(demo.after(HOUR)));
    let mut keys = vec![next];
    keys.extend(verifier.keyring().keys().iter().cloned());
    demo.write(&Keyring::new_with_clock(keys, demo.clock.clone())?.with_demo(true))?;
    let verifier = demo.load()?;
    demo.states(&verifier)?;
    out("   every node now accepts the new key; none signs with it yet")?;
    accepted(&verifier, &token, Some("password_reset"))?;

    step("4. One hour later: the new key signs, the old token still verifies")?;
    demo.clock.advance(HOUR);
    demo.states(&verifier)?;
    accepted(&verifier, &token, Some("password_reset"))?;
    let short = verifier.generate(&user, reset.expires_in(Duration::from_secs(300)))?;
    out(format_args!("   new token (expires in 5m): {short}"))?;
    accepted(&verifier, &short, Some("password_reset"))?;

    step(
        "5. Retire the old key after the longest token lifetime (`keyring retire --expires-in 2h`)",
    )?;
    let expires = demo.after(2 * HOUR);
    let keys = verifier
        .keyring()
        .keys()
        .iter()
        .map(|k| {
            let k = k.clone();
            if k.id() == "demo-2026-11" {
                k.with_expires_at(Some(expires))
            } else {
                k
            }
        })
        .collect();
    demo.write(&Keyring::new_with_clock(keys, demo.clock.clone())?.with_demo(true))?;
    let verifier = demo.load()?;
    out(format_args!(
        "   demo-2026-11 verifies until {}",
        format_time(expires)
    ))?;

    step("6. Three hours later: expired tokens and the retired key are refused")?;
    demo.clock.advance(3 * HOUR);
    demo.states(&verifier)?;
    out("   the 5-minute token:")?;
    rejected(&verifier, &short, Some("password_reset"), |e| {
        matches!(e, VerifyError::Expired { .. })
    })?;
    out("   the first token, signed by the retired key:")?;
    rejected(&verifier, &token, Some("password_reset"), |e| {
        matches!(e, VerifyError::KeyExpired { .. })
    })?;

    step("7. Prune expired keys (`tokenring keyring prune`)")?;
    let now = verifier.keyring().now();
    let kept = verifier
        .keyring()
        .keys()
        .iter()
        .filter(|k| k.state_at(now).verifies())
        .cloned()
        .collect();
    demo.write(&Keyring::new_with_clock(kept, demo.clock.clone())?.with_demo(true))?;
    let verifier = demo.load()?;
    demo.states(&verifier)?;
    rejected(&verifier, &token, Some("password_reset"), |e| {
        matches!(e, VerifyError::UnknownKey { .. })
    })?;

    out(format_args!(
        "\nDone. Try the CLI on your own keyring:\n  \
         tokenring keyring init my-keyring.json\n  \
         tokenring sign --keyring my-keyring.json --purpose login --expires-in 15m '{{\"user\":42}}'\n  \
         tokenring verify --keyring my-keyring.json --purpose login TOKEN\n\
         (the demo's files in {} are removed on exit)",
        dir.display()
    ))
}
