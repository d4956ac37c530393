//! A real run: the engine's render on its actor tree (`render_blocking`) of the
//! sweep's video and scenario with the point's settings, its numbers read
//! from the render's report (the QC report, kept beside the results).
//!
//! Latency here is each overlay's wait in its frame queue, push to pop (a
//! render has no schedule to measure from), from the queue's own histogram.
//! Queue depth over time is the queues' own trace (the most frames queued in
//! each bin, summed over pages). What a render does not report is left out
//! and named: the split of blocked time between a full queue and the memory
//! budget.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use motionrender_config::Config;
use motionrender_actors::render_blocking;
use motionrender_engine::render::{RenderReport, RenderRequest, RenderSettings};
use motionrender_engine::scenario::Scenario;

use super::error::TuneError;
use motionrender_engine::queue::DEPTH_BIN;

use super::metrics::{LatencySummary, PeakMemoryMb, RunMetrics, DEPTH_BINS};
use super::spec::{Point, RealInput};

const MIB: f64 = 1024.0 * 1024.0;

/// What every real run of a sweep shares.
#[derive(Debug)]
pub struct RealSource {
    pub video: PathBuf,
    pub scenario: Scenario,
    pub segment_seconds: Option<f64>,
    pub plugin_dir: Option<PathBuf>,
}

impl RealSource {
    /// Loads the scenario of `input`.
    pub fn open(input: &RealInput, config: &Config) -> Result<Self, TuneError> {
        let missing = |name: &str| TuneError::Spec { origin: "the sweep".to_owned(), message: format!("{name} is required when mode = \"real\"") };
        let video = input.video.clone().ok_or_else(|| missing("real.video"))?;
        let scenario_path = input.scenario.clone().ok_or_else(|| missing("real.scenario"))?;
        let text = std::fs::read_to_string(&scenario_path).map_err(TuneError::io(&scenario_path))?;
        let scenario = motionrender_engine::scenario::load(&text)
            .map_err(|e| TuneError::Spec { origin: scenario_path.display().to_string(), message: format!("the scenario is refused: {e}") })?;
        Ok(Self { video, scenario, segment_seconds: input.segment_seconds, plugin_dir: config.paths.plugin_dir().map(PathBuf::from) })
    }

    /// Renders once with `settings` into `work`, keeping the QC report as
    /// `qc_path`; the output video is removed afterwards.
    pub fn run(&self, point: &Point, run: i64, mut settings: RenderSettings, work: &Path, qc_path: &Path) -> Result<RunMetrics, TuneError> {
        let failed = |message: String| TuneError::Real { point: point.key(), run, message };
        if let Some(seconds) = self.segment_seconds {
            settings.segment_seconds = seconds;
        }
        std::fs::create_dir_all(work).map_err(TuneError::io(work))?;
        let out = work.join("out.mp4");
        let request = RenderRequest {
            video: self.video.clone(),
            scenario: self.scenario.clone(),
            out: out.clone(),
            work_dir: work.to_path_buf(),
            plugin_dir: self.plugin_dir.clone(),
            font_dir: None,
            settings,
        };
        // Each run's peak starts from now (Linux: "5" resets VmHWM); where
        // that fails the peak is the process's so far, and says so.
        let peak_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let report = render_blocking(&request, &mut |_, _| {}).map_err(|e| failed(format!("[{}] {e}", e.code())))?;
        let qc = serde_json::to_string_pretty(&report).map_err(|e| failed(e.to_string()))?;
        std::fs::write(qc_path, qc).map_err(TuneError::io(qc_path))?;
        let _ = std::fs::remove_file(&out);
        Ok(metrics(&report, peak_reset))
    }
}

/// The render's queue-depth trace (per `DEPTH_BIN`) in at most
/// `DEPTH_BINS` bins: `[seconds from the start, most frames in that bin]`.
fn depth_bins(trace: &[u64]) -> Vec<(f64, u64)> {
    let per_bin = trace.len().div_ceil(DEPTH_BINS).max(1);
    trace
        .chunks(per_bin)
        .enumerate()
        .map(|(bin, chunk)| ((bin * per_bin) as f64 * DEPTH_BIN.as_secs_f64(), chunk.iter().copied().max().unwrap_or(0)))
        .collect()
}

/// A run's metrics from the render's report.
pub fn metrics(report: &RenderReport, peak_reset: bool) -> RunMetrics {
    let f = &report.frames;
    let video_seconds = report.source_duration_seconds;
    let s = &report.stages;
    let stages = BTreeMap::from([
        ("probe".to_owned(), s.probe),
        ("browser_start".to_owned(), s.browser_start),
        ("seek".to_owned(), s.seek),
        ("capture".to_owned(), s.capture),
        ("compose_encode".to_owned(), s.compose_encode),
        ("merge".to_owned(), s.merge),
        ("backpressure".to_owned(), s.backpressure),
    ]);
    let dropped_total = f.dropped_total();
    let mut not_measured = vec![
        "latency from each frame's scheduled time: a real render has no schedule; latency is the push-to-pop wait in the frame queue".to_owned(),
        "memory-paused share of blocked time: the render reports one backpressure total".to_owned(),
    ];
    let frame_ms = if f.output > 0 && report.output_duration_seconds > 0.0 { report.output_duration_seconds * 1e3 / f.output as f64 } else { 0.0 };
    if !peak_reset {
        not_measured.push("per-run engine peak: the peak is the tune process's so far (VmHWM could not be reset)".to_owned());
    }
    RunMetrics {
        frames_in: f.planned,
        frames_out: f.output,
        produced: f.queue_pushed,
        pushed: f.queue_pushed,
        popped: f.queue_popped,
        dropped: f.dropped.clone(),
        dropped_total,
        substituted: f.substituted,
        drop_rate: if f.queue_pushed > 0 { dropped_total as f64 / f.queue_pushed as f64 } else { 0.0 },
        longest_drop_run: Some(f.longest_substituted_run),
        longest_stand_in_ms: Some(f.longest_substituted_run as f64 * frame_ms),
        throughput_fps: if report.wall_seconds > 0.0 { f.output as f64 / report.wall_seconds } else { 0.0 },
        render_seconds: report.wall_seconds,
        video_seconds,
        render_time_factor: if video_seconds > 0.0 { report.wall_seconds / video_seconds } else { 0.0 },
        latency: LatencySummary::of_queue_wait(&f.queue_wait),
        deadline_misses: None,
        blocked_seconds: s.backpressure,
        memory_paused_seconds: None,
        queue_peak_frames: f.queue_peak_frames,
        queue_peak_bytes: f.queue_peak_bytes,
        queue_depth: Some(depth_bins(&report.queue_depth)),
        peak_memory_mb: PeakMemoryMb {
            engine: report.peak_memory.engine_bytes as f64 / MIB,
            chromium: report.peak_memory.chromium_bytes as f64 / MIB,
            source: "measured".to_owned(),
        },
        stages,
        not_measured,
    }
}
