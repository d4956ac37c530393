//! At most one alert of a kind per interval.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::AlertKind;

/// When each kind of alert was last let through.
#[derive(Debug, Clone)]
pub struct RateLimit {
    interval: Duration,
    last: HashMap<AlertKind, Instant>,
}

impl RateLimit {
    pub fn new(interval: Duration) -> Self {
        Self { interval, last: HashMap::new() }
    }

    /// Whether an alert of `kind` may go out at `now`; if so, `now` is
    /// when that kind last went out.
    pub fn allow(&mut self, kind: AlertKind, now: Instant) -> bool {
        let allowed = self.last.get(&kind).is_none_or(|last| now.saturating_duration_since(*last) >= self.interval);
        if allowed {
            self.last.insert(kind, now);
        }
        allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_alert_of_a_kind_per_interval_and_kinds_apart() {
        let mut limit = RateLimit::new(Duration::from_secs(300));
        let start = Instant::now();
        assert!(limit.allow(AlertKind::JobFailed, start));
        assert!(!limit.allow(AlertKind::JobFailed, start + Duration::from_secs(299)));
        assert!(limit.allow(AlertKind::DropRate, start + Duration::from_secs(1)), "another kind has its own limit");
        assert!(limit.allow(AlertKind::JobFailed, start + Duration::from_secs(300)));
        assert!(!limit.allow(AlertKind::JobFailed, start + Duration::from_secs(301)));
    }
}
