//! What a finished render adds to the metrics: its frames by kind, its
//! drops by reason, its queue traffic and its seconds per stage.

use motionrender_engine::render::RenderReport;

use super::Metrics;

/// The pipeline stages `motionrender_stage_seconds_total` counts.
pub(super) const STAGES: [&str; 7] = ["probe", "browser_start", "seek", "capture", "compose_encode", "merge", "backpressure"];

impl Metrics {
    /// Counts the frames, drops, queue traffic and stage seconds of a
    /// render that finished.
    pub fn render_finished(&self, report: &RenderReport) {
        let frames = &report.frames;
        for (kind, count) in [("captured", frames.captured), ("reused", frames.reused), ("empty", frames.empty)] {
            self.frames.with_label_values(&[kind]).inc_by(count);
        }
        self.frames_output.inc_by(frames.output);
        for (reason, count) in &frames.dropped {
            self.drops.with_label_values(&[reason.as_str()]).inc_by(*count);
        }
        self.substituted.inc_by(frames.substituted);
        self.queue_frames.with_label_values(&["push"]).inc_by(frames.queue_pushed);
        self.queue_frames.with_label_values(&["pop"]).inc_by(frames.queue_popped);
        let stages = &report.stages;
        let seconds = [stages.probe, stages.browser_start, stages.seek, stages.capture, stages.compose_encode, stages.merge, stages.backpressure];
        for (stage, seconds) in STAGES.into_iter().zip(seconds) {
            // A counter only goes up: a negative or NaN reading is skipped.
            if seconds.is_finite() && seconds > 0.0 {
                self.stage_seconds.with_label_values(&[stage]).inc_by(seconds);
            }
        }
        if report.wall_seconds.is_finite() && report.wall_seconds > 0.0 {
            self.render_seconds.inc_by(report.wall_seconds);
        }
    }
}
