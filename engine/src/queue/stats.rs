//! Counters of a frame queue: what went in, what came out, what was dropped and why.

use std::collections::BTreeMap;

use super::depth::QueueDepth;
use super::wait::QueueWait;

/// Why a frame was dropped. Every drop is counted under exactly one reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DropReason {
    /// `drop_newest`: the queue was full and the incoming frame was discarded.
    QueueFullNewest,
    /// `drop_oldest`: the queue was full and its oldest frame was evicted.
    QueueFullOldest,
}

impl DropReason {
    /// Every reason, for exporting zero-valued counters.
    pub const ALL: [DropReason; 2] = [DropReason::QueueFullNewest, DropReason::QueueFullOldest];

    /// The label value for metrics (`reason="..."`).
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::QueueFullNewest => "queue_full_newest",
            DropReason::QueueFullOldest => "queue_full_oldest",
        }
    }
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A snapshot of a queue's counters.
///
/// `pushed` counts every frame offered to the queue, including the ones
/// `drop_newest` discards on arrival, so at any moment
/// `pushed == popped + dropped() + depth()`; once closed and drained,
/// `pushed == popped + dropped()`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Frames offered by producers.
    pub pushed: u64,
    /// Frames taken by consumers.
    pub popped: u64,
    /// Frames dropped, by reason; a reason with no drops is absent.
    pub dropped_by_reason: BTreeMap<DropReason, u64>,
    /// Overlay bytes queued now.
    pub bytes_in_queue: u64,
    /// Most frames ever queued at once.
    pub peak_frames: u64,
    /// Most overlay bytes ever queued at once.
    pub peak_bytes: u64,
    /// Total time producers spent waiting for room, in nanoseconds.
    pub blocked_nanos: u64,
    /// How long popped frames had waited in the queue, push to pop.
    pub wait: QueueWait,
    /// Frames queued over time.
    pub depth: QueueDepth,
    /// The queue's frame bound.
    pub capacity_frames: u32,
    /// The queue's byte bound.
    pub capacity_bytes: u64,
}

impl QueueStats {
    /// Frames dropped for `reason`.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped_by_reason.get(&reason).copied().unwrap_or(0)
    }

    /// Frames dropped for any reason.
    pub fn dropped_total(&self) -> u64 {
        self.dropped_by_reason.values().sum()
    }

    /// Frames queued now, derived from the counters: pushed − popped − dropped.
    pub fn depth(&self) -> u64 {
        self.pushed
            .saturating_sub(self.popped)
            .saturating_sub(self.dropped_total())
    }

    /// How full the queue is, 0.0..=1.0 (can exceed 1.0 only while a single
    /// oversize frame is queued): the larger of the frame and the byte fill.
    pub fn fill_ratio(&self) -> f64 {
        let frames = self.depth() as f64 / f64::from(self.capacity_frames.max(1));
        let bytes = self.bytes_in_queue as f64 / self.capacity_bytes.max(1) as f64;
        frames.max(bytes)
    }
}
