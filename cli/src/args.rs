//! Argument parsing shared by the commands: durations, times, expiries.

use std::time::{Duration, SystemTime};

use crate::Failure;

/// A time given relative to now (`--…-in 1h`) or absolute (`--…-at …Z`); clap makes the two
/// flags exclusive.
pub(crate) fn resolve_time(
    after: Option<Duration>,
    at: Option<SystemTime>,
    now: SystemTime,
) -> Result<Option<SystemTime>, Failure> {
    match (after, at) {
        (Some(after), _) => now
            .checked_add(after)
            .map(Some)
            .ok_or_else(|| Failure::new("duration is too long")),
        (None, at) => Ok(at),
    }
}

/// `--expires-in` / `--expires-at`, shared by the signing commands. A token that would be
/// dead when minted is refused as bad usage (exit 2): it can only be a mistake.
#[derive(clap::Args)]
pub(crate) struct ExpiryArgs {
    /// Expire this long from now (e.g. 15m, 2h, 7d; more than zero).
    #[arg(long, value_parser = parse_lifetime, conflicts_with = "expires_at")]
    pub(crate) expires_in: Option<Duration>,
    /// Expire at this time (RFC 3339 UTC, in the future).
    #[arg(long, value_parser = parse_expiry)]
    pub(crate) expires_at: Option<SystemTime>,
}

/// A token's lifetime: a duration over zero.
fn parse_lifetime(text: &str) -> Result<Duration, String> {
    match parse_duration(text)? {
        Duration::ZERO => Err("a token that expires in 0s is dead when minted".to_owned()),
        lifetime => Ok(lifetime),
    }
}

/// A token's expiry: a time after now.
fn parse_expiry(text: &str) -> Result<SystemTime, String> {
    let at = parse_time(text)?;
    if at <= SystemTime::now() {
        return Err("that time has passed: the token would be dead when minted".to_owned());
    }
    Ok(at)
}

/// `15m`, `1h 30m`, `30days`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{e} (examples: 90s, 15m, 2h, 30days)"))
}

/// RFC 3339 UTC, like `2026-12-01T00:00:00Z`.
pub(crate) fn parse_time(text: &str) -> Result<SystemTime, String> {
    humantime::parse_rfc3339(text)
        .map_err(|e| format!("{e} (expected an RFC 3339 UTC time like 2026-12-01T00:00:00Z)"))
}

/// RFC 3339 UTC to the second, as the library writes times everywhere. Tokens can claim any
/// expiry, including ones RFC 3339 cannot write (after 9999); those print as seconds since
/// the epoch.
pub(crate) fn format_time(at: SystemTime) -> String {
    tokenring::clock::format_rfc3339(at)
}
