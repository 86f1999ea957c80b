//! `tokenring keygen` and `tokenring keyring …`: the operator's side of rotation.
//!
//! Every change is validated as a whole keyring before it is written, so the CLI never
//! writes a file that a server would refuse.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use clap::Subcommand;
use tokenring::rotation;
use tokenring::{Key, KeyState, Keyring};

use crate::new_key::{NewKeyArgs, key_id, new_key, shapes_key};
use crate::output::refused;
use crate::ring::{Ring, RingArg};
use crate::{Failure, format_time, out, parse_duration, parse_time, resolve_time};

#[derive(Subcommand)]
pub(crate) enum KeyringCommand {
    /// Create a keyring file with one new active key.
    Init {
        #[command(flatten)]
        file: RingArg,
        #[command(flatten)]
        key: NewKeyArgs,
        /// Replace an existing file (its keys are lost).
        #[arg(long)]
        force: bool,
    },
    /// Add a new key at the top of the keyring. Give it a future activation so every node
    /// has it before any node signs with it.
    Add {
        #[command(flatten)]
        file: RingArg,
        #[command(flatten)]
        key: NewKeyArgs,
        /// Add a public key from a JWK file (EdDSA or ES256; its `kid` is the key id unless
        /// --id is given) instead of generating a key: tokens its holder mints verify here.
        #[arg(long, value_name = "FILE", conflicts_with = "activate_when_converged")]
        jwk: Option<PathBuf>,
        /// Start signing this long from now (e.g. 1h); it verifies at once.
        #[arg(long, value_parser = parse_duration, conflicts_with = "activates_at")]
        activates_in: Option<Duration>,
        /// Start signing at this time (RFC 3339 UTC); it verifies at once.
        #[arg(long, value_parser = parse_time)]
        activates_at: Option<SystemTime>,
        /// (etcd) Add the key pending, wait until every live node acknowledges a revision
        /// that holds it, then activate it (in a few seconds, for clock skew).
        #[arg(long, conflicts_with_all = ["activates_in", "activates_at"])]
        activate_when_converged: bool,
        /// How long --activate-when-converged waits (then the key stays pending, exit 1).
        #[arg(long, value_parser = parse_duration, default_value = "5m", requires = "activate_when_converged")]
        timeout: Duration,
        /// How many live nodes --activate-when-converged needs to see holding the key (1
        /// unless set): with none at all it waits, then fails, rather than activate a key no
        /// node was seen to hold. `--min-nodes 0` is the explicit override.
        #[arg(
            long,
            value_name = "N",
            default_value_t = 1,
            requires = "activate_when_converged"
        )]
        min_nodes: usize,
    },
    /// Set when a key stops verifying: at least the longest token lifetime from now.
    #[command(group(clap::ArgGroup::new("when").required(true).args(["expires_in", "expires_at"])))]
    Retire {
        #[command(flatten)]
        file: RingArg,
        /// The key to retire.
        key_id: String,
        /// Stop verifying this long from now (e.g. 7d).
        #[arg(long, value_parser = parse_duration)]
        expires_in: Option<Duration>,
        /// Stop verifying at this time (RFC 3339 UTC).
        #[arg(long, value_parser = parse_time)]
        expires_at: Option<SystemTime>,
    },
    /// Disable a key at once: every token it signed is rejected. For compromised keys.
    Revoke {
        #[command(flatten)]
        file: RingArg,
        /// The key to revoke.
        key_id: String,
    },
    /// Remove expired keys (and, with --revoked, disabled ones).
    Prune {
        #[command(flatten)]
        file: RingArg,
        /// Also remove revoked keys (their tokens then fail as "unknown key").
        #[arg(long)]
        revoked: bool,
    },
    /// Print the public keyring (every EdDSA/ES256 key's public key, no secret at all): what
    /// verify-only services load with --keyring.
    Public {
        #[command(flatten)]
        file: RingArg,
        /// Write it to this file (atomically, mode 0600, replacing it) instead of stdout.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print the JWKS (RFC 7517) of the keys that verify now and the pending ones: what a
    /// JOSE library verifies this keyring's tokens with.
    Jwks {
        #[command(flatten)]
        file: RingArg,
    },
    /// Fetch an issuer's JWKS (https://, or http:// on loopback) as a JwksSource would: the
    /// keyring it gives on stdout (a public keyring file), each key taken and each refused,
    /// with why, on stderr.
    JwksFetch {
        /// The JWKS URL.
        url: String,
    },
    /// Show every key and its state now.
    List {
        #[command(flatten)]
        file: RingArg,
    },
    /// Validate a keyring file; exit 1 if a server would refuse it.
    Check {
        #[command(flatten)]
        file: RingArg,
    },
    /// Watch a keyring file as a server would and print each reload and each refused file.
    Watch {
        #[command(flatten)]
        file: RingArg,
        /// Poll at this interval instead of using file-system events (e.g. 500ms; at
        /// least 100ms).
        #[arg(long, value_parser = parse_poll_interval)]
        poll: Option<Duration>,
        /// Exit after this many reload events (default: run until interrupted).
        #[arg(long)]
        count: Option<u64>,
    },
}

fn parse_poll_interval(text: &str) -> Result<Duration, String> {
    let every = parse_duration(text)?;
    if every < tokenring::hot::WatchMode::MIN_POLL_INTERVAL {
        return Err(format!(
            "polling more often than every {}ms would keep a core busy",
            tokenring::hot::WatchMode::MIN_POLL_INTERVAL.as_millis()
        ));
    }
    Ok(every)
}

pub(crate) fn run(command: KeyringCommand) -> Result<(), Failure> {
    match command {
        KeyringCommand::Init { file, key, force } => init(&file.ring, &key, force),
        KeyringCommand::Add {
            file,
            key,
            jwk: _,
            activates_in: _,
            activates_at: _,
            activate_when_converged: true,
            timeout,
            min_nodes,
        } => crate::fleet::add_when_converged(&file.ring, &key, timeout, min_nodes),
        KeyringCommand::Add {
            file,
            key,
            jwk,
            activates_in,
            activates_at,
            ..
        } => add(&file.ring, &key, jwk.as_deref(), activates_in, activates_at),
        KeyringCommand::Public { file, output } => public(&file.ring, output.as_deref()),
        KeyringCommand::Jwks { file } => out(file.ring.load()?.jwks()),
        KeyringCommand::JwksFetch { url } => crate::jwks::show(&url),
        KeyringCommand::Retire {
            file,
            key_id,
            expires_in,
            expires_at,
        } => retire(&file.ring, &key_id, expires_in, expires_at),
        KeyringCommand::Revoke { file, key_id } => revoke(&file.ring, &key_id),
        KeyringCommand::Prune { file, revoked } => prune(&file.ring, revoked),
        KeyringCommand::List { file } => list(&file.ring),
        KeyringCommand::Check { file } => check(&file.ring),
        KeyringCommand::Watch { file, poll, count } => watch(&file.ring, poll, count),
    }
}

pub(crate) fn keygen(args: &NewKeyArgs) -> Result<(), Failure> {
    let key = new_key(args, None, None)?;
    let keyring = Keyring::new(vec![key])?;
    // Print the entry exactly as it would appear in a keyring file.
    let document: serde_json::Value = serde_json::from_str(&keyring.to_json())?;
    let entry = &document["keys"][0];
    out(serde_json::to_string_pretty(entry)?)
}

fn init(file: &Ring, args: &NewKeyArgs, force: bool) -> Result<(), Failure> {
    let keyring = Keyring::new(vec![new_key(args, None, None)?])?;
    file.create(&keyring, force)?;
    let id = keyring.keys()[0].id();
    out(format_args!(
        "created {file} with key {id:?} (active, signing)"
    ))
}

fn add(
    file: &Ring,
    args: &NewKeyArgs,
    jwk: Option<&Path>,
    activates_in: Option<Duration>,
    activates_at: Option<SystemTime>,
) -> Result<(), Failure> {
    let imported = jwk.map(|path| import_jwk(path, args)).transpose()?;
    let (id, message) = file.edit(|keyring| {
        let now = keyring.now();
        // Without a time the key activates now, so it really signs: a key without
        // `activates_at` would count as the earliest and lose to every staged key.
        let activates = resolve_time(activates_in, activates_at, now)?.unwrap_or(now);
        let key = match &imported {
            Some(key) => key.clone().with_activates_at(Some(activates)),
            None => new_key(args, Some(activates), Some(keyring))?,
        };
        let id = key.id().to_owned();
        let updated = rotation::add(keyring, key).map_err(refused)?;
        let message = describe_added(&updated, &id);
        Ok((Some(updated), (id, message)))
    })?;
    if message.contains("signing now") {
        eprintln!(
            "tokenring: warning: key {id:?} signs at once; nodes that have not loaded it yet \
             will reject its tokens. Prefer --activates-in longer than your slowest rollout."
        );
    }
    out(format_args!("added key {id:?}: {message}"))
}

/// The public key a JWK file holds, as a key that only verifies.
fn import_jwk(path: &Path, args: &NewKeyArgs) -> Result<Key, Failure> {
    if shapes_key(args) {
        return Err(Failure::new(
            "--algorithm and --bytes describe a generated key; a JWK names its own",
        ));
    }
    let failed = |what: &str| Failure::new(format!("{}: {what}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| failed(&e.to_string()))?;
    let jwk: tokenring::jose::Jwk = serde_json::from_str(&text)
        .map_err(|_| failed("not a JWK (a JSON object with kty and the key's members)"))?;
    let public = jwk.to_public_key().map_err(|e| {
        failed(&format!(
            "refused: {e} (EdDSA, ES256 or RS256 public keys, use sig, no private part)"
        ))
    })?;
    let id = match (&jwk.kid, args.has_id()) {
        (Some(kid), false) => kid.clone(),
        _ => key_id(args)?,
    };
    Ok(Key::from_public_key(id, public))
}

/// Writes the public keyring of `file`: to `output`, atomically, or to stdout.
fn public(file: &Ring, output: Option<&Path>) -> Result<(), Failure> {
    let public = file.load()?.public()?;
    match output {
        Some(path) => {
            crate::files::create(path, &public)?;
            eprintln!(
                "tokenring: wrote the public keyring of {file} to {} ({} keys, no secret)",
                path.display(),
                public.keys().len()
            );
            Ok(())
        }
        None => out(public.to_json().trim_end()),
    }
}

/// What the new key does in the keyring as written, never what the flags asked for.
fn describe_added(keyring: &Keyring, id: &str) -> String {
    let Some(key) = keyring.get(id) else {
        return "not in the keyring".to_owned();
    };
    let signer = keyring.signing_key().map(Key::id);
    match (key.state_at(keyring.now()), signer) {
        (KeyState::Pending, _) => format!(
            "pending, verifies now, signs from {}",
            key.activates_at()
                .map_or_else(|| "-".to_owned(), format_time)
        ),
        (KeyState::Active, Some(signer)) if signer == id => "active, signing now".to_owned(),
        (KeyState::Active, Some(signer)) => {
            format!("active, verifies now; {signer:?} signs (it activates later)")
        }
        (state, _) => format!("{state}, does not sign"),
    }
}

fn retire(
    file: &Ring,
    key_id: &str,
    expires_in: Option<Duration>,
    expires_at: Option<SystemTime>,
) -> Result<(), Failure> {
    let at = file.edit_reapplying(|keyring| {
        let Some(at) = resolve_time(expires_in, expires_at, keyring.now())? else {
            return Err(Failure::new("give --expires-in or --expires-at"));
        };
        let updated = rotation::retire(keyring, key_id, at).map_err(refused)?;
        let successor = updated
            .keys()
            .iter()
            .any(|k| k.id() != key_id && k.state_at(at) == KeyState::Active);
        if !successor {
            eprintln!(
                "tokenring: warning: from {} no key will sign; add a key that activates before then",
                format_time(at)
            );
        }
        Ok((Some(updated), at))
    })?;
    out(format_args!(
        "key {key_id:?} verifies until {}",
        format_time(at)
    ))
}

fn revoke(file: &Ring, key_id: &str) -> Result<(), Failure> {
    let signs = file.edit_reapplying(|keyring| {
        let updated = rotation::revoke(keyring, key_id).map_err(refused)?;
        let signs = updated.signing_key().map(|k| k.id().to_owned());
        Ok((Some(updated), signs))
    })?;
    match signs {
        Some(signer) => out(format_args!(
            "key {key_id:?} revoked: its tokens are rejected; {signer:?} signs"
        )),
        None => {
            eprintln!("tokenring: warning: no key signs now; add one with `tokenring keyring add`");
            out(format_args!(
                "key {key_id:?} revoked: its tokens are rejected"
            ))
        }
    }
}

fn prune(file: &Ring, revoked: bool) -> Result<(), Failure> {
    let removed = file.edit_reapplying(|keyring| {
        let pruned = rotation::prune(keyring, revoked).map_err(refused)?;
        Ok((pruned.keyring, pruned.removed))
    })?;
    if removed.is_empty() {
        return out("nothing to prune");
    }
    for id in removed {
        out(format_args!("removed key {id:?}"))?;
    }
    Ok(())
}

fn list(file: &Ring) -> Result<(), Failure> {
    let keyring = file.load()?;
    let now = keyring.now();
    let signing = keyring.signing_key().map(Key::id);
    let time = |t: Option<SystemTime>| t.map_or_else(|| "-".to_owned(), format_time);
    out(format_args!(
        "{:<32}  {:<8}  {:<7}  {:<9}  {:<20}  {:<20}",
        "ID", "STATE", "SIGNING", "ALGORITHM", "ACTIVATES_AT", "EXPIRES_AT"
    ))?;
    for key in keyring.keys() {
        out(format_args!(
            "{:<32}  {:<8}  {:<7}  {:<9}  {:<20}  {:<20}",
            key.id(),
            key.state_at(now),
            if signing == Some(key.id()) { "yes" } else { "" },
            key.algorithm(),
            time(key.activates_at()),
            time(key.expires_at()),
        ))?;
    }
    Ok(())
}

fn check(file: &Ring) -> Result<(), Failure> {
    let keyring = file.load()?;
    let now = keyring.now();
    let count = |state| {
        keyring
            .keys()
            .iter()
            .filter(|k| k.state_at(now) == state)
            .count()
    };
    let signing = match keyring.signing_key() {
        Some(key) => format!("signing with {:?}", key.id()),
        None => "no key signs now (verify-only until a pending key activates)".to_owned(),
    };
    out(format_args!(
        "ok: {file}: {} keys ({} active, {} pending, {} expired, {} disabled); {signing}",
        keyring.keys().len(),
        count(KeyState::Active),
        count(KeyState::Pending),
        count(KeyState::Expired),
        count(KeyState::Disabled),
    ))
}

fn watch(file: &Ring, poll: Option<Duration>, count: Option<u64>) -> Result<(), Failure> {
    use std::sync::mpsc;
    use tokenring::hot::{ReloadEvent, WatchMode};
    use tokenring::{FileSource, HotKeyring};

    let (tx, rx) = mpsc::channel();
    let builder = match file {
        Ring::File(path) => HotKeyring::builder(FileSource::new(path)),
        #[cfg(feature = "etcd")]
        Ring::Etcd(_) => HotKeyring::builder(file.etcd()?),
    };
    let hot = builder
        .mode(poll.map_or(WatchMode::Events, WatchMode::Poll))
        .on_reload(move |event| {
            let _ = tx.send(event.clone());
        })
        .build()?;
    let describe = |hot: &HotKeyring| {
        let keyring = hot.keyring();
        let signing = keyring
            .signing_key()
            .map_or_else(|| "none".to_owned(), |k| format!("{:?}", k.id()));
        let keys: Vec<String> = keyring
            .keys()
            .iter()
            .map(|k| format!("{} ({})", k.id(), k.state_at(keyring.now())))
            .collect();
        format!("keys {}; signing {signing}", keys.join(", "))
    };
    out(format_args!(
        "{} generation 1 loaded from {file}: {}",
        format_time(SystemTime::now()),
        describe(&hot)
    ))?;
    let mut seen = 0;
    while count.is_none_or(|n| seen < n) {
        let Ok(event) = rx.recv() else {
            break;
        };
        seen += 1;
        let now = format_time(SystemTime::now());
        match event {
            ReloadEvent::Reloaded { generation, .. } => out(format_args!(
                "{now} generation {generation} loaded: {}",
                describe(&hot)
            ))?,
            ReloadEvent::Refused { generation, error } => out(format_args!(
                "{now} refused: {error}; generation {generation} stays in force"
            ))?,
            ReloadEvent::Recovered { generation } => out(format_args!(
                "{now} recovered: the file loads again; generation {generation} stays in force"
            ))?,
            _ => {}
        }
    }
    Ok(())
}
