//! Where "now" comes from.
//!
//! Key states and token expiry are evaluated against a [`Clock`] rather than read from the
//! system directly, so tests (and operators rehearsing a rotation) can move time.

use std::fmt::Debug;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time.
pub trait Clock: Debug + Send + Sync {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The operating system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that stands still until told to move; for tests and rehearsals.
///
/// Lock-free (one atomic), so it can sit on the verify path in a test without changing what
/// is measured.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use tokenring::clock::{Clock, ManualClock};
///
/// let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(clock.now(), UNIX_EPOCH + Duration::from_secs(1_800_000_060));
/// ```
#[derive(Debug)]
pub struct ManualClock {
    // Milliseconds since the epoch; negative for times before it.
    millis: AtomicI64,
}

impl ManualClock {
    /// A clock showing `at` (to the millisecond).
    pub fn new(at: SystemTime) -> Self {
        Self {
            millis: AtomicI64::new(to_millis(at)),
        }
    }

    /// Sets the time.
    pub fn set(&self, at: SystemTime) {
        self.millis.store(to_millis(at), Ordering::SeqCst);
    }

    /// Moves the clock forward by `by` (saturating).
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        let _ = self
            .millis
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |m| {
                Some(m.saturating_add(by))
            });
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        let millis = self.millis.load(Ordering::SeqCst);
        let magnitude = Duration::from_millis(millis.unsigned_abs());
        if millis >= 0 {
            UNIX_EPOCH + magnitude
        } else {
            UNIX_EPOCH - magnitude
        }
    }
}

fn to_millis(at: SystemTime) -> i64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |m| -m),
    }
}

/// The last second RFC 3339 can write: 9999-12-31T23:59:59Z.
pub(crate) const LAST_RFC3339_SECOND: u64 = 253_402_300_799;

/// Whether `at` lies in 1970-01-01T00:00:00Z ..= 9999-12-31T23:59:59Z, the range keyring
/// files can express.
pub(crate) fn in_rfc3339_range(at: SystemTime) -> bool {
    unix_seconds(at).is_some_and(|s| s <= LAST_RFC3339_SECOND)
}

/// `at` as RFC 3339 UTC to the second, as keyring files, messages and the CLI write times;
/// times outside the writable range (which only code, never a file, can produce) as a plain
/// offset from the epoch rather than a panic.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use tokenring::clock::format_rfc3339;
///
/// assert_eq!(format_rfc3339(UNIX_EPOCH + Duration::from_secs(1_800_000_000)), "2027-01-15T08:00:00Z");
/// ```
pub fn format_rfc3339(at: SystemTime) -> String {
    if in_rfc3339_range(at) {
        humantime::format_rfc3339_seconds(at).to_string()
    } else {
        match at.duration_since(UNIX_EPOCH) {
            Ok(after) => format!("unix time {}", after.as_secs()),
            Err(before) => format!("unix time -{}", before.duration().as_secs()),
        }
    }
}

/// `at` rounded down to a whole second: keyring files hold seconds, so keys do too.
pub(crate) fn whole_seconds(at: SystemTime) -> SystemTime {
    match at.duration_since(UNIX_EPOCH) {
        Ok(after) => UNIX_EPOCH + Duration::from_secs(after.as_secs()),
        Err(before) => {
            let before = before.duration();
            let secs = before.as_secs() + u64::from(before.subsec_nanos() > 0);
            UNIX_EPOCH
                .checked_sub(Duration::from_secs(secs))
                .unwrap_or(at)
        }
    }
}

/// Whole seconds since the Unix epoch, or `None` before it.
pub(crate) fn unix_seconds(at: SystemTime) -> Option<u64> {
    at.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs())
}
