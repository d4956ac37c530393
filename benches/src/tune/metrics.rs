//! What one run measured ([`RunMetrics`], one line of `results.jsonl`), and
//! [`RunRecorder`], which collects it from the queue, the sequencer and the
//! times a producer and a consumer report — for the synthetic runs and for
//! anyone who drives the engine's queue with producers of their own.

use std::collections::{BTreeMap, HashMap};

use motionrender_engine::queue::{DropReason, OverlayOrigin, QueueStats, QueueWait, SequencedOverlay, SequencerStats};
use serde::{Deserialize, Serialize};

/// Enqueue-to-encode latency percentiles, from each frame's scheduled time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    pub samples: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
    /// Counts per bucket: `[upper bound in ms, count]`, the last bound infinite (written `null`).
    pub histogram: Vec<(Option<f64>, u64)>,
}

/// Upper bounds of the latency histogram's buckets, in milliseconds.
const BUCKETS_MS: [f64; 15] = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0, 30000.0, 60000.0];

impl LatencySummary {
    /// The summary of latencies in nanoseconds; `None` without samples.
    pub fn of(mut nanos: Vec<u64>) -> Option<Self> {
        if nanos.is_empty() {
            return None;
        }
        nanos.sort_unstable();
        let ms = |n: u64| n as f64 / 1e6;
        // Nearest rank: the smallest sample with at least q of them at or below it.
        let rank = |q: f64| {
            let at = ((q * nanos.len() as f64).ceil() as usize).clamp(1, nanos.len()) - 1;
            ms(nanos[at])
        };
        let mut histogram: Vec<(Option<f64>, u64)> = BUCKETS_MS.iter().map(|b| (Some(*b), 0)).collect();
        histogram.push((None, 0));
        for &n in &nanos {
            let at = BUCKETS_MS.iter().position(|b| ms(n) <= *b).unwrap_or(BUCKETS_MS.len());
            histogram[at].1 += 1;
        }
        let max = nanos.last().copied().unwrap_or(0);
        Some(Self {
            samples: nanos.len() as u64,
            p50_ms: rank(0.5),
            p99_ms: rank(0.99),
            p999_ms: rank(0.999),
            max_ms: ms(max),
            mean_ms: nanos.iter().map(|&n| ms(n)).sum::<f64>() / nanos.len() as f64,
            histogram,
        })
    }
}

impl LatencySummary {
    /// The summary of a frame queue's push-to-pop waits (a real render's),
    /// each wait taken at its bucket's upper bound; `None` without frames.
    pub fn of_queue_wait(wait: &QueueWait) -> Option<Self> {
        if wait.count() == 0 {
            return None;
        }
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        let mut histogram: Vec<(Option<f64>, u64)> = BUCKETS_MS.iter().map(|b| (Some(*b), 0)).collect();
        histogram.push((None, 0));
        for (bound, frames) in wait.buckets() {
            let at = BUCKETS_MS.iter().position(|b| ms(bound) <= *b).unwrap_or(BUCKETS_MS.len());
            histogram[at].1 += frames;
        }
        Some(Self {
            samples: wait.count(),
            p50_ms: ms(wait.quantile(0.5)),
            p99_ms: ms(wait.quantile(0.99)),
            p999_ms: ms(wait.quantile(0.999)),
            max_ms: ms(wait.max()),
            mean_ms: ms(wait.mean()),
            histogram,
        })
    }
}

/// Peak resident memory, and whether it was measured or modelled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeakMemoryMb {
    pub engine: f64,
    pub chromium: f64,
    /// `measured` (real runs, /proc) or `model` (synthetic runs).
    pub source: String,
}

impl PeakMemoryMb {
    pub fn total(&self) -> f64 {
        self.engine + self.chromium
    }
}

/// Everything one run measured. Values a mode cannot measure are `None`
/// and named in `not_measured`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMetrics {
    /// Frames of the source (the planned output).
    pub frames_in: u64,
    /// Frames written to the output (one per input frame, substituted ones included).
    pub frames_out: u64,
    /// Overlays producers made.
    pub produced: u64,
    /// Overlays offered to the queue, dropped ones included.
    pub pushed: u64,
    /// Overlays the consumer took from the queue.
    pub popped: u64,
    /// Overlays the queue dropped, by reason (`queue_full_newest`, `queue_full_oldest`).
    pub dropped: BTreeMap<String, u64>,
    pub dropped_total: u64,
    /// Output frames that showed an earlier overlay in place of their own.
    pub substituted: u64,
    /// `dropped_total / pushed`.
    pub drop_rate: f64,
    /// Most consecutive output frames without their own overlay.
    pub longest_drop_run: Option<u64>,
    /// Longest time one overlay stood in for dropped ones.
    pub longest_stand_in_ms: Option<f64>,
    /// Output frames per second of render time.
    pub throughput_fps: f64,
    pub render_seconds: f64,
    pub video_seconds: f64,
    /// `render_seconds / video_seconds`.
    pub render_time_factor: f64,
    pub latency: Option<LatencySummary>,
    /// Frames encoded later than the deadline's latency budget (deadline mode).
    pub deadline_misses: Option<u64>,
    /// Producers' time waiting: on a full queue and on the memory budget.
    pub blocked_seconds: f64,
    /// Of `blocked_seconds`, the part paused by the memory budget.
    pub memory_paused_seconds: Option<f64>,
    pub queue_peak_frames: u64,
    pub queue_peak_bytes: u64,
    /// Frames queued (all pages) over time: `[seconds, most frames in that bin]`.
    pub queue_depth: Option<Vec<(f64, u64)>>,
    pub peak_memory_mb: PeakMemoryMb,
    /// Seconds per stage, summed over pages.
    pub stages: BTreeMap<String, f64>,
    pub not_measured: Vec<String>,
}

/// Bins of the queue-depth series.
pub const DEPTH_BINS: usize = 120;

/// Collects a run's metrics as it happens. Times are nanoseconds from the
/// start of the run, on whatever clock the caller keeps (the synthetic runs
/// keep a virtual one).
#[derive(Debug, Default)]
pub struct RunRecorder {
    scheduled: HashMap<u64, u64>,
    latencies: Vec<u64>,
    latency_budget_nanos: Option<u64>,
    deadline_misses: u64,
    depth: Vec<(u64, u64)>,
    runs: HashMap<u32, Streak>,
    longest_drop_run: u64,
    longest_stand_in: u64,
}

/// The current streak of substituted frames in one segment.
#[derive(Debug, Default)]
struct Streak {
    dropped: u64,
    from: Option<u64>,
    standing: u64,
}

impl RunRecorder {
    /// A recorder; frames encoded more than `latency_budget_nanos` after
    /// their scheduled time are counted as deadline misses.
    pub fn new(latency_budget_nanos: Option<u64>) -> Self {
        Self { latency_budget_nanos, ..Self::default() }
    }

    /// Frame `index` was scheduled (due, or started) at `at`.
    pub fn scheduled(&mut self, index: u64, at: u64) {
        self.scheduled.insert(index, at);
    }

    /// The queues held `frames` frames in all from `at` on.
    pub fn depth(&mut self, at: u64, frames: u64) {
        self.depth.push((at, frames));
    }

    /// The consumer of segment `segment` finished encoding `overlay` at `at`.
    pub fn encoded(&mut self, segment: u32, overlay: &SequencedOverlay, at: u64) {
        let streak = self.runs.entry(segment).or_default();
        match overlay.origin {
            OverlayOrigin::Delivered { .. } => {
                *streak = Streak::default();
                if let Some(scheduled) = self.scheduled.remove(&overlay.index) {
                    let latency = at.saturating_sub(scheduled);
                    self.latencies.push(latency);
                    if self.latency_budget_nanos.is_some_and(|budget| latency > budget) {
                        self.deadline_misses += 1;
                    }
                }
            }
            OverlayOrigin::Substituted { from } => {
                self.scheduled.remove(&overlay.index);
                streak.dropped += 1;
                self.longest_drop_run = self.longest_drop_run.max(streak.dropped);
                if from.is_some() && streak.from == from {
                    streak.standing += 1;
                } else {
                    streak.from = from;
                    streak.standing = u64::from(from.is_some());
                }
                self.longest_stand_in = self.longest_stand_in.max(streak.standing);
            }
        }
    }

    /// The run's metrics: `queue` and `sequencer` summed over its segments,
    /// `frames_in` the source's frames, `render_nanos` the run's length.
    pub fn finish(self, run: RunTotals) -> RunMetrics {
        let RunTotals { frames_in, produced, queue, sequencer, render_nanos, video_seconds, fps, blocked_nanos, memory_paused_nanos, peak_memory_mb, stages } = run;
        let mut dropped = BTreeMap::new();
        for reason in DropReason::ALL {
            dropped.insert(reason.as_str().to_owned(), queue.dropped(reason));
        }
        let render_seconds = render_nanos as f64 / 1e9;
        RunMetrics {
            frames_in,
            frames_out: sequencer.yielded,
            produced,
            pushed: queue.pushed,
            popped: queue.popped,
            dropped_total: queue.dropped_total(),
            dropped,
            substituted: sequencer.substituted,
            drop_rate: ratio(queue.dropped_total() as f64, queue.pushed as f64),
            longest_drop_run: Some(self.longest_drop_run),
            longest_stand_in_ms: Some(self.longest_stand_in as f64 * 1000.0 / fps),
            throughput_fps: ratio(sequencer.yielded as f64, render_seconds),
            render_seconds,
            video_seconds,
            render_time_factor: ratio(render_seconds, video_seconds),
            deadline_misses: self.latency_budget_nanos.map(|_| self.deadline_misses),
            latency: LatencySummary::of(self.latencies),
            blocked_seconds: blocked_nanos as f64 / 1e9,
            memory_paused_seconds: Some(memory_paused_nanos as f64 / 1e9),
            queue_peak_frames: queue.peak_frames,
            queue_peak_bytes: queue.peak_bytes,
            queue_depth: Some(depth_bins(&self.depth, render_nanos)),
            peak_memory_mb,
            stages,
            not_measured: Vec::new(),
        }
    }
}

/// The totals of a run that the recorder does not see itself.
#[derive(Debug)]
pub struct RunTotals {
    pub frames_in: u64,
    pub produced: u64,
    pub queue: QueueStats,
    pub sequencer: SequencerStats,
    pub render_nanos: u64,
    pub video_seconds: f64,
    pub fps: f64,
    pub blocked_nanos: u64,
    pub memory_paused_nanos: u64,
    pub peak_memory_mb: PeakMemoryMb,
    pub stages: BTreeMap<String, f64>,
}

/// Adds the counters of one segment's queue to a run's.
pub fn add_queue_stats(total: &mut QueueStats, segment: &QueueStats) {
    total.pushed += segment.pushed;
    total.popped += segment.popped;
    for (reason, count) in &segment.dropped_by_reason {
        *total.dropped_by_reason.entry(*reason).or_default() += count;
    }
    total.peak_frames = total.peak_frames.max(segment.peak_frames);
    total.peak_bytes = total.peak_bytes.max(segment.peak_bytes);
    total.capacity_frames = segment.capacity_frames;
    total.capacity_bytes = segment.capacity_bytes;
}

/// Adds the counters of one segment's sequencer to a run's.
pub fn add_sequencer_stats(total: &mut SequencerStats, segment: &SequencerStats) {
    total.yielded += segment.yielded;
    total.delivered += segment.delivered;
    total.substituted += segment.substituted;
    total.substituted_empty += segment.substituted_empty;
    total.out_of_order += segment.out_of_order;
}

/// The most frames queued in each of [`DEPTH_BINS`] equal bins of the run.
fn depth_bins(changes: &[(u64, u64)], length: u64) -> Vec<(f64, u64)> {
    let bins = DEPTH_BINS as u64;
    let width = (length / bins).max(1);
    let mut most = vec![0u64; DEPTH_BINS];
    let mut current = 0;
    let mut at = 0usize;
    for (bin, slot) in most.iter_mut().enumerate() {
        let end = (bin as u64 + 1) * width;
        let mut peak = current;
        while at < changes.len() && changes[at].0 < end {
            current = changes[at].1;
            peak = peak.max(current);
            at += 1;
        }
        *slot = peak;
    }
    most.into_iter().enumerate().map(|(bin, frames)| ((bin as u64 * width) as f64 / 1e9, frames)).collect()
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let summary = LatencySummary::of((1..=1000).map(|ms| ms * 1_000_000).collect());
        let Some(summary) = summary else { panic!("no summary") };
        assert_eq!((summary.p50_ms, summary.p99_ms, summary.p999_ms, summary.max_ms), (500.0, 990.0, 999.0, 1000.0));
        assert_eq!(summary.histogram.iter().map(|(_, n)| n).sum::<u64>(), 1000);
        assert_eq!(LatencySummary::of(Vec::new()), None);
    }

    #[test]
    fn substitutions_make_streaks() {
        let mut recorder = RunRecorder::new(Some(5));
        let overlay = |index, origin| SequencedOverlay { index, image: None, bbox: None, origin };
        recorder.scheduled(0, 0);
        recorder.encoded(0, &overlay(0, OverlayOrigin::Delivered { reused: false }), 10);
        for index in 1..4 {
            recorder.encoded(0, &overlay(index, OverlayOrigin::Substituted { from: Some(0) }), 20);
        }
        recorder.encoded(1, &overlay(9, OverlayOrigin::Substituted { from: None }), 20);
        assert_eq!((recorder.longest_drop_run, recorder.longest_stand_in, recorder.deadline_misses), (3, 3, 1));
    }
}
