//! How many frames a queue held over its life: the most at once in each
//! 50 ms bin from the moment it opened, kept for the tuning harness's
//! queue-depth plots. Fixed cost per bin; a queue open for more than an hour
//! folds the rest into its last bin.

use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// The width of one bin.
pub const DEPTH_BIN: Duration = Duration::from_millis(50);
/// Bins kept at most (an hour).
const MAX_BINS: usize = 72_000;

/// The live trace a queue updates on every push, pop and eviction.
#[derive(Debug)]
pub(super) struct DepthRecorder {
    opened: Instant,
    trace: Mutex<Trace>,
}

#[derive(Debug, Default)]
struct Trace {
    most: Vec<u32>,
    /// The depth after the last event.
    current: u32,
}

impl DepthRecorder {
    pub(super) fn new() -> Self {
        Self { opened: Instant::now(), trace: Mutex::new(Trace::default()) }
    }

    pub(super) fn record(&self, depth: usize) {
        let bin = ((self.opened.elapsed().as_nanos() / DEPTH_BIN.as_nanos()) as usize).min(MAX_BINS - 1);
        let depth = u32::try_from(depth).unwrap_or(u32::MAX);
        let mut trace = self.trace.lock();
        let current = trace.current;
        if trace.most.len() <= bin {
            // Bins without events held the depth the last event left.
            trace.most.resize(bin + 1, current);
        }
        trace.most[bin] = trace.most[bin].max(depth);
        trace.current = depth;
    }

    pub(super) fn snapshot(&self) -> QueueDepth {
        QueueDepth { opened: Some(self.opened), most: self.trace.lock().most.clone() }
    }
}

/// A snapshot of a queue's depth over time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueDepth {
    /// When the queue opened; `None` for an empty trace.
    pub opened: Option<Instant>,
    /// The most frames queued at once in each [`DEPTH_BIN`] since then.
    pub most: Vec<u32>,
}

impl QueueDepth {
    /// Adds the traces of queues open side by side (one per page) onto one
    /// timeline from `origin`: each bin's sum of the queues' most in it
    /// (an upper bound of the frames queued at once over all pages).
    pub fn combine(traces: &[QueueDepth], origin: Instant) -> Vec<u64> {
        let mut total: Vec<u64> = Vec::new();
        for trace in traces {
            let Some(opened) = trace.opened else { continue };
            let offset = (opened.saturating_duration_since(origin).as_nanos() / DEPTH_BIN.as_nanos()) as usize;
            if total.len() < offset + trace.most.len() {
                total.resize(offset + trace.most.len(), 0);
            }
            for (bin, &most) in trace.most.iter().enumerate() {
                total[offset + bin] += u64::from(most);
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_keep_the_most_and_traces_add_on_one_timeline() {
        let recorder = DepthRecorder::new();
        recorder.record(1);
        recorder.record(3);
        recorder.record(2);
        let trace = recorder.snapshot();
        assert_eq!(trace.most, vec![3]);
        let origin = trace.opened.unwrap_or_else(Instant::now);
        let later = QueueDepth { opened: Some(origin + DEPTH_BIN * 2), most: vec![4, 1] };
        assert_eq!(QueueDepth::combine(&[trace.clone(), later], origin), vec![3, 0, 4, 1]);
        assert_eq!(QueueDepth::combine(&[trace.clone(), trace], origin), vec![6]);
        assert!(QueueDepth::combine(&[QueueDepth::default()], origin).is_empty());
    }
}
