//! When producers pause for memory: the backpressure rule between the
//! rasterizers and the frame queue.
//!
//! A producer pauses before a push while the engine's resident memory is
//! above the high-water mark (`memory.pause_at_fraction` of
//! `memory.budget_mb`) and the queue still holds frames whose consumption will
//! free memory; with an empty queue pausing could free nothing, so it pushes.

use std::time::Duration;

use super::stats::QueueStats;

/// The memory rule a producer checks before each push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryGate {
    high_water_bytes: u64,
}

impl MemoryGate {
    /// How long a producer pauses at a time before checking again.
    pub const PAUSE: Duration = Duration::from_millis(20);

    /// A gate that closes above `high_water_bytes` of resident memory.
    pub fn new(high_water_bytes: u64) -> Self {
        Self { high_water_bytes }
    }

    /// The gate of a budget of `budget_mb` MiB, pausing at `pause_at_fraction` of it.
    pub fn from_budget(budget_mb: u64, pause_at_fraction: f64) -> Self {
        let budget = budget_mb.saturating_mul(1024 * 1024);
        Self::new((budget as f64 * pause_at_fraction) as u64)
    }

    pub fn high_water_bytes(&self) -> u64 {
        self.high_water_bytes
    }

    /// Whether a producer must pause now, with `resident_bytes` in use and
    /// the queue as `queue` says.
    pub fn must_pause(&self, resident_bytes: u64, queue: &QueueStats) -> bool {
        resident_bytes > self.high_water_bytes && queue.depth() > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(depth: u64) -> QueueStats {
        QueueStats { pushed: depth, capacity_frames: 8, capacity_bytes: 8, ..QueueStats::default() }
    }

    #[test]
    fn pauses_only_above_the_mark_with_frames_queued() {
        let gate = MemoryGate::from_budget(100, 0.5);
        assert_eq!(gate.high_water_bytes(), 50 * 1024 * 1024);
        assert!(gate.must_pause(gate.high_water_bytes() + 1, &queue(1)));
        assert!(!gate.must_pause(gate.high_water_bytes(), &queue(1)));
        assert!(!gate.must_pause(u64::MAX, &queue(0)));
    }
}
