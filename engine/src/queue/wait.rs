//! How long frames waited in a queue, from push to pop: a histogram with
//! buckets fine enough for percentiles (each within 1/8 of its value) and
//! of fixed size, so a long render costs no more memory than a short one.
//!
//! Bucket `i` holds waits in microseconds: below 16 µs one bucket per
//! microsecond; above, eight buckets per power of two.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Sub-buckets per power of two.
const SUB_BITS: u32 = 3;
const SUB: u64 = 1 << SUB_BITS;
/// Values below this many microseconds get a bucket each.
const LINEAR: u64 = 2 * SUB;
/// Enough powers of two for waits up to about 2^40 µs (12 days).
const BUCKETS: usize = (LINEAR + (40 - SUB_BITS as u64) * SUB) as usize;

fn bucket_of(micros: u64) -> usize {
    if micros < LINEAR {
        return micros as usize;
    }
    let power = 63 - u64::from(micros.leading_zeros());
    let sub = (micros >> (power - u64::from(SUB_BITS))) & (SUB - 1);
    let index = LINEAR + (power - u64::from(SUB_BITS) - 1) * SUB + sub;
    (index as usize).min(BUCKETS - 1)
}

/// The largest wait, in microseconds, bucket `index` holds.
fn upper_bound_micros(index: usize) -> u64 {
    let index = index as u64;
    if index < LINEAR {
        return index;
    }
    let power = (index - LINEAR) / SUB + u64::from(SUB_BITS) + 1;
    let sub = (index - LINEAR) % SUB;
    let width = 1u64 << (power - u64::from(SUB_BITS));
    (1u64 << power) + (sub + 1) * width - 1
}

/// The live histogram a queue updates on every pop.
#[derive(Debug)]
pub(super) struct WaitRecorder {
    buckets: Box<[AtomicU64]>,
    sum_micros: AtomicU64,
    max_micros: AtomicU64,
}

impl Default for WaitRecorder {
    fn default() -> Self {
        Self {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
            max_micros: AtomicU64::new(0),
        }
    }
}

impl WaitRecorder {
    pub(super) fn record(&self, waited: Duration) {
        let micros = u64::try_from(waited.as_micros()).unwrap_or(u64::MAX);
        self.buckets[bucket_of(micros)].fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
        self.max_micros.fetch_max(micros, Ordering::Relaxed);
    }

    pub(super) fn snapshot(&self) -> QueueWait {
        let counts: Vec<u64> = self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).collect();
        let last = counts.iter().rposition(|&c| c > 0).map_or(0, |i| i + 1);
        QueueWait {
            counts: counts[..last].to_vec(),
            sum_micros: self.sum_micros.load(Ordering::Relaxed),
            max_micros: self.max_micros.load(Ordering::Relaxed),
        }
    }
}

/// A snapshot of how long popped frames had waited in their queue.
/// Snapshots of several queues merge into one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueWait {
    /// Frames per bucket, trailing empty buckets left out.
    counts: Vec<u64>,
    sum_micros: u64,
    max_micros: u64,
}

impl QueueWait {
    /// Frames measured.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The longest wait measured.
    pub fn max(&self) -> Duration {
        Duration::from_micros(self.max_micros)
    }

    /// The mean wait; zero without frames.
    pub fn mean(&self) -> Duration {
        let count = self.count();
        if count == 0 {
            return Duration::ZERO;
        }
        Duration::from_micros(self.sum_micros / count)
    }

    /// The wait at or below which a share `q` (0..=1) of the frames waited,
    /// to within 1/8 above it (the bucket's upper bound, never above the
    /// maximum); zero without frames.
    pub fn quantile(&self, q: f64) -> Duration {
        let count = self.count();
        if count == 0 {
            return Duration::ZERO;
        }
        let rank = ((q.clamp(0.0, 1.0) * count as f64).ceil() as u64).clamp(1, count);
        let mut seen = 0;
        for (index, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Duration::from_micros(upper_bound_micros(index).min(self.max_micros));
            }
        }
        self.max()
    }

    /// Every bucket with frames: `(upper bound, frames)`, in order.
    pub fn buckets(&self) -> impl Iterator<Item = (Duration, u64)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(index, &c)| (Duration::from_micros(upper_bound_micros(index)), c))
    }

    /// Adds the frames of `other`.
    pub fn merge(&mut self, other: &QueueWait) {
        if self.counts.len() < other.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.sum_micros = self.sum_micros.saturating_add(other.sum_micros);
        self.max_micros = self.max_micros.max(other.max_micros);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_lands_in_a_bucket_whose_bound_is_within_an_eighth() {
        for micros in (0..5000).chain([65_535, 65_536, 1 << 30, u64::MAX >> 24]) {
            let index = bucket_of(micros);
            let bound = upper_bound_micros(index);
            assert!(bound >= micros, "{micros} µs: bound {bound}");
            assert!(bound - micros <= micros / 8, "{micros} µs: bound {bound}");
            if index > 0 {
                assert!(upper_bound_micros(index - 1) < micros, "{micros} µs in bucket {index}");
            }
        }
    }

    #[test]
    fn quantiles_follow_the_ranks_and_merge_adds() {
        let recorder = WaitRecorder::default();
        for ms in 1..=100u64 {
            recorder.record(Duration::from_millis(ms));
        }
        let wait = recorder.snapshot();
        assert_eq!(wait.count(), 100);
        let p50 = wait.quantile(0.5).as_micros() as f64;
        assert!((50_000.0..=50_000.0 * 1.125).contains(&p50), "p50 {p50} µs");
        assert_eq!(wait.quantile(1.0), Duration::from_millis(100));
        assert_eq!(wait.max(), Duration::from_millis(100));
        assert_eq!(wait.mean(), Duration::from_micros(50_500));
        let mut merged = QueueWait::default();
        merged.merge(&wait);
        merged.merge(&wait);
        assert_eq!(merged.count(), 200);
        assert_eq!(merged.quantile(0.5), wait.quantile(0.5));
        assert_eq!(QueueWait::default().quantile(0.99), Duration::ZERO);
    }
}
