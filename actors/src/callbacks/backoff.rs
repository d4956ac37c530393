//! Waits between callback delivery attempts: exponential growth with full
//! jitter, capped.

use std::time::Duration;

use motionrender_config::CallbacksConfig;

/// Exponential backoff with full jitter: before retry `n` (1 for the first
/// redelivery) the wait is uniform in `[0, min(max, initial * 2^(n-1))]`.
///
/// Full jitter spreads the retries of many jobs hitting the same restarting
/// backend instead of having them arrive together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    initial_ms: u64,
    max_ms: u64,
}

impl Backoff {
    /// A backoff starting at `initial` and never exceeding `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial_ms: saturating_millis(initial),
            max_ms: saturating_millis(max),
        }
    }

    /// The backoff of `callbacks.initial_backoff_ms` and `callbacks.max_backoff_ms`.
    pub fn from_config(config: &CallbacksConfig) -> Self {
        Self {
            initial_ms: config.initial_backoff_ms,
            max_ms: config.max_backoff_ms,
        }
    }

    /// The longest wait before retry `retry` (1-based): `initial * 2^(retry-1)`
    /// capped at `max`. Retry 0 is treated as retry 1.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(63);
        let grown = self.initial_ms.saturating_mul(1_u64 << doublings);
        Duration::from_millis(grown.min(self.max_ms))
    }

    /// The jittered wait before retry `retry`: uniform in `[0, ceiling(retry)]`,
    /// in whole milliseconds, drawn from `rng`.
    pub fn delay(&self, retry: u32, rng: &mut fastrand::Rng) -> Duration {
        let ceiling_ms = saturating_millis(self.ceiling(retry));
        Duration::from_millis(rng.u64(0..=ceiling_ms))
    }
}

fn saturating_millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::time::Duration;

    use super::Backoff;

    fn backoff() -> Backoff {
        Backoff::new(Duration::from_millis(500), Duration::from_millis(60_000))
    }

    #[test]
    fn ceiling_doubles_from_initial_and_stops_at_max() {
        let ceilings: Vec<u64> = (1..=9)
            .map(|retry| backoff().ceiling(retry).as_millis() as u64)
            .collect();
        assert_eq!(
            ceilings,
            [500, 1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]
        );
        assert_eq!(backoff().ceiling(0), Duration::from_millis(500));
        assert_eq!(backoff().ceiling(u32::MAX), Duration::from_millis(60_000));
    }

    #[test]
    fn huge_initial_saturates_at_max() {
        let backoff = Backoff::new(Duration::from_secs(u64::MAX), Duration::from_secs(5));
        assert_eq!(backoff.ceiling(40), Duration::from_secs(5));
    }

    #[test]
    fn delays_stay_within_ceiling_and_are_jittered() {
        let mut rng = fastrand::Rng::with_seed(7);
        for retry in 1..=12 {
            let ceiling = backoff().ceiling(retry);
            let delays: HashSet<Duration> =
                (0..50).map(|_| backoff().delay(retry, &mut rng)).collect();
            assert!(
                delays.iter().all(|delay| *delay <= ceiling),
                "retry {retry}"
            );
            assert!(
                delays.len() > 10,
                "retry {retry}: {} distinct delays",
                delays.len()
            );
        }
    }

    #[test]
    fn zero_backoff_never_waits() {
        let backoff = Backoff::new(Duration::ZERO, Duration::ZERO);
        let mut rng = fastrand::Rng::with_seed(1);
        assert_eq!(backoff.delay(5, &mut rng), Duration::ZERO);
    }
}
