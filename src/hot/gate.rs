//! One reload at a time, with a wait a caller can give up on.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

/// Lets one reload run at a time and tells since when it has been running. Unlike a mutex
/// held across the source's I/O, a caller can give up waiting, and `status()` can see it.
#[derive(Default)]
pub(super) struct Gate {
    running_since: Mutex<Option<SystemTime>>,
    idle: Condvar,
}

/// The right to reload; opens the gate when dropped.
pub(super) struct Pass<'a>(&'a Gate);

impl Gate {
    /// Waits for the running reload to finish, however long it takes.
    pub(super) fn enter(&self, now: SystemTime) -> Pass<'_> {
        let mut running = self
            .idle
            .wait_while(lock(&self.running_since), |running| running.is_some())
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *running = Some(now);
        Pass(self)
    }

    /// Waits at most `wait`; `Err(since)` if a reload running since then is still running.
    pub(super) fn enter_within(
        &self,
        now: SystemTime,
        wait: Duration,
    ) -> Result<Pass<'_>, SystemTime> {
        let (mut running, _) = self
            .idle
            .wait_timeout_while(lock(&self.running_since), wait, |running| running.is_some())
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(since) = *running {
            return Err(since);
        }
        *running = Some(now);
        Ok(Pass(self))
    }

    pub(super) fn running_since(&self) -> Option<SystemTime> {
        *lock(&self.running_since)
    }
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        *lock(&self.0.running_since) = None;
        self.0.idle.notify_all();
    }
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking listener must not disable reloading for good.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
