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
    let token = sign(&verifier)?;
    what_must_fail(&verifier, &token)?;
    let verifier = add_next_key(demo, &verifier, &token)?;
    let short = next_key_signs(demo, &verifier, &token)?;
    let verifier = retire_old_key(demo, &verifier)?;
    expired_are_refused(demo, &verifier, &token, &short)?;
    prune(demo, &verifier, &token)?;
    closing(dir)
}

const PURPOSE: &str = "password_reset";

fn user() -> Value {
    json!({"user_id": 42})
}

/// 1: a password-reset token, verified.
fn sign(verifier: &Verifier) -> Result<String, Failure> {
    step("1. Sign a password-reset token: purpose \"password_reset\", expires in 2h")?;
    let reset = TokenOptions::new().purpose(PURPOSE);
    let token = verifier.generate(&user(), reset.expires_in(2 * HOUR))?;
    out(format_args!("   {token}"))?;
    accepted(verifier, &token, Some("password_reset"))?;

    Ok(token)
}

/// 2: another purpose, one changed character, another salt.
fn what_must_fail(verifier: &Verifier, token: &str) -> Result<(), Failure> {
    step("2. What must fail does")?;
    out("   for another purpose:")?;
    rejected(verifier, token, Some("email_confirm"), |e| {
        matches!(e, VerifyError::PurposeMismatch { .. })
    })?;
    out("   with one character changed:")?;
    // Change one character of the payload (after "v1.KEY_ID.").
    let mut tampered = token.as_bytes().to_vec();
    let at = token.match_indices('.').nth(1).map_or(0, |(i, _)| i + 5);
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).map_err(|e| Failure::new(e.to_string()))?;
    rejected(verifier, &tampered, Some("password_reset"), |e| {
        matches!(e, VerifyError::BadSignature { .. })
    })?;
    out("   by a verifier for another salt (\"email_confirm\"):")?;
    let other = Verifier::new(verifier.keyring().clone(), "email_confirm");
    rejected(&other, token, Some("password_reset"), |e| {
        matches!(e, VerifyError::BadSignature { .. })
    })?;

    Ok(())
}

/// 3: a pending key joins; the old token still verifies. Returns the verifier over it.
fn add_next_key(demo: &Demo, verifier: &Verifier, token: &str) -> Result<Verifier, Failure> {
    step("3. Rotate: add a key that activates in 1h (`tokenring keyring add --activates-in 1h`)")?;
    let next = Key::new("demo-next", Secret::random(32)?).with_activates_at(Some(demo.after(HOUR)));
    let mut keys = vec![next];
    keys.extend(verifier.keyring().keys().iter().cloned());
    demo.write(&Keyring::new_with_clock(keys, demo.clock.clone())?.with_demo(true))?;
    let verifier = demo.load()?;
    demo.states(&verifier)?;
    out("   every node now accepts the new key; none signs with it yet")?;
    accepted(&verifier, token, Some("password_reset"))?;

    Ok(verifier)
}

/// 4: an hour later the new key signs; returns a short-lived token it signed.
fn next_key_signs(demo: &Demo, verifier: &Verifier, token: &str) -> Result<String, Failure> {
    step("4. One hour later: the new key signs, the old token still verifies")?;
    demo.clock.advance(HOUR);
    demo.states(verifier)?;
    accepted(verifier, token, Some("password_reset"))?;
    let reset = TokenOptions::new().purpose(PURPOSE);
    let short = verifier.generate(&user(), reset.expires_in(Duration::from_secs(300)))?;
    out(format_args!("   new token (expires in 5m): {short}"))?;
    accepted(verifier, &short, Some("password_reset"))?;

    Ok(short)
}

/// 5: the old key verifies for two more hours. Returns the verifier over the new file.
fn retire_old_key(demo: &Demo, verifier: &Verifier) -> Result<Verifier, Failure> {
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

    Ok(verifier)
}

/// 6: three hours later, the short token and the retired key's token are refused.
fn expired_are_refused(
    demo: &Demo,
    verifier: &Verifier,
    token: &str,
    short: &str,
) -> Result<(), Failure> {
    step("6. Three hours later: expired tokens and the retired key are refused")?;
    demo.clock.advance(3 * HOUR);
    demo.states(verifier)?;
    out("   the 5-minute token:")?;
    rejected(verifier, short, Some("password_reset"), |e| {
        matches!(e, VerifyError::Expired { .. })
    })?;
    out("   the first token, signed by the retired key:")?;
    rejected(verifier, token, Some("password_reset"), |e| {
        matches!(e, VerifyError::KeyExpired { .. })
    })?;

    Ok(())
}

/// 7: pruned, the retired key's token names an unknown key.
fn prune(demo: &Demo, verifier: &Verifier, token: &str) -> Result<(), Failure> {
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
    rejected(&verifier, token, Some("password_reset"), |e| {
        matches!(e, VerifyError::UnknownKey { .. })
    })?;

    Ok(())
}

fn closing(dir: &Path) -> Result<(), Failure> {
    out(format_args!(
        "\nDone. Try the CLI on your own keyring:\n  \
         tokenring keyring init my-keyring.json\n  \
         tokenring sign --keyring my-keyring.json --purpose login --expires-in 15m '{{\"user\":42}}'\n  \
         tokenring verify --keyring my-keyring.json --purpose login TOKEN\n\
         (the demo's files in {} are removed on exit)",
        dir.display()
    ))
}
