//! Per-key use counters that verifying threads update without sharing a cache line.
//!
//! One atomic per key is one cache line every verifying thread writes: on many cores it
//! bounces between them on every request. Here each thread adds to its own stripe (a
//! cache-line-sized slot picked once per thread), and a read sums the stripes, so the
//! count stays exact while the verify path writes only memory its thread owns in practice.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Stripes per counter: threads beyond this share stripes, round-robin.
const STRIPES: usize = 16;

/// An exact counter, striped by thread.
pub(crate) struct StripedCounter {
    stripes: [Stripe; STRIPES],
}

/// One stripe on a cache line of its own.
#[repr(align(64))]
#[derive(Default)]
struct Stripe(AtomicU64);

impl Default for StripedCounter {
    fn default() -> Self {
        Self {
            stripes: std::array::from_fn(|_| Stripe::default()),
        }
    }
}

thread_local! {
    /// This thread's stripe, assigned round-robin on first use.
    static STRIPE: usize = {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES
    };
}

impl StripedCounter {
    pub(crate) fn add_one(&self) {
        let stripe = STRIPE.with(|s| *s);
        self.stripes[stripe].0.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.stripes
            .iter()
            .map(|s| s.0.load(Ordering::Relaxed))
            .fold(0, u64::wrapping_add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_across_threads() {
        let counter = StripedCounter::default();
        std::thread::scope(|scope| {
            for _ in 0..STRIPES + 3 {
                scope.spawn(|| {
                    for _ in 0..1000 {
                        counter.add_one();
                    }
                });
            }
        });
        assert_eq!(counter.get(), (STRIPES as u64 + 3) * 1000);
        assert_eq!(std::mem::align_of::<Stripe>(), 64);
    }
}
