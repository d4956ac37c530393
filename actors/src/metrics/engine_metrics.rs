//! The metric families of one engine, registered in its own registry, and
//! the calls the actors make as things happen.

use std::time::Duration;

use prometheus::{
    Counter, CounterVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

use super::buckets;
use crate::alerts::AlertKind;

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    Completed,
    Failed,
    Cancelled,
}

impl JobOutcome {
    pub const ALL: [JobOutcome; 3] = [JobOutcome::Completed, JobOutcome::Failed, JobOutcome::Cancelled];

    /// The `outcome` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// The error codes a job can fail with (API.md, and `INTERNAL_ERROR` for a
/// panic), exported at zero from the start.
const JOB_FAILURE_CODES: [&str; 16] = [
    "VALIDATION_ERROR",
    "SCENARIO_PARSE_ERROR",
    "INVALID_VIDEO_URL",
    "INVALID_VIDEO_FORMAT",
    "INVALID_RENDER_OPTIONS",
    "JOB_CANCELLED",
    "BROWSER_ERROR",
    "FFMPEG_ERROR",
    "ENCODER_UNAVAILABLE",
    "PLUGIN_NOT_FOUND",
    "S3_UPLOAD_ERROR",
    "STORAGE_ACCESS_ERROR",
    "RENDERING_TIMEOUT",
    "QC_FAILED",
    "UNEXPECTED_ERROR",
    "INTERNAL_ERROR",
];

/// Every metric family `/metrics` exports, by name (without the
/// `_bucket`/`_sum`/`_count` suffixes of histograms).
pub const METRIC_NAMES: &[&str] = &[
    "motionrender_job_duration_seconds",
    "motionrender_job_queue_wait_seconds",
    "motionrender_segment_render_seconds",
    "motionrender_segment_encode_seconds",
    "motionrender_capture_seconds",
    "motionrender_callback_delivery_seconds",
    "motionrender_jobs_total",
    "motionrender_job_failures_total",
    "motionrender_job_panics_total",
    "motionrender_frames_total",
    "motionrender_frames_output_total",
    "motionrender_frames_dropped_total",
    "motionrender_frames_substituted_total",
    "motionrender_segment_retries_total",
    "motionrender_queue_frames_total",
    "motionrender_stage_seconds_total",
    "motionrender_render_seconds_total",
    "motionrender_callbacks_total",
    "motionrender_callback_attempts_total",
    "motionrender_browser_leases_total",
    "motionrender_browsers_replaced_total",
    "motionrender_backpressure_pauses_total",
    "motionrender_pool_shrinks_total",
    "motionrender_actor_restarts_total",
    "motionrender_alerts_total",
    "motionrender_jobs_queued",
    "motionrender_jobs_running",
    "motionrender_browsers_alive",
    "motionrender_browsers_idle",
    "motionrender_callbacks_pending",
];

/// The metrics of one engine, shared by its actors.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    job_duration: HistogramVec,
    queue_wait: Histogram,
    segment_render: Histogram,
    segment_encode: Histogram,
    capture: Histogram,
    callback_delivery: HistogramVec,
    jobs: IntCounterVec,
    failures: IntCounterVec,
    panics: IntCounter,
    pub(super) frames: IntCounterVec,
    pub(super) frames_output: IntCounter,
    pub(super) drops: IntCounterVec,
    pub(super) substituted: IntCounter,
    retries: IntCounterVec,
    pub(super) queue_frames: IntCounterVec,
    pub(super) stage_seconds: CounterVec,
    pub(super) render_seconds: Counter,
    callbacks: IntCounterVec,
    callback_attempts: IntCounter,
    browser_leases: IntCounterVec,
    browsers_replaced: IntCounter,
    backpressure_pauses: IntCounter,
    pool_shrinks: IntCounter,
    restarts: IntCounterVec,
    alerts: IntCounterVec,
    jobs_queued: IntGauge,
    jobs_running: IntGauge,
    browsers_alive: IntGauge,
    browsers_idle: IntGauge,
    callbacks_pending: IntGauge,
}

/// Registers metric families in one registry.
struct Families<'a>(&'a Registry);

impl Families<'_> {
    fn register<C: prometheus::core::Collector + Clone + 'static>(&self, collector: C) -> prometheus::Result<C> {
        self.0.register(Box::new(collector.clone()))?;
        Ok(collector)
    }

    fn histogram(&self, name: &str, help: &str, bounds: &[f64]) -> prometheus::Result<Histogram> {
        self.register(Histogram::with_opts(HistogramOpts::new(name, help).buckets(bounds.to_vec()))?)
    }

    fn histogram_vec(&self, name: &str, help: &str, bounds: &[f64], labels: &[&str]) -> prometheus::Result<HistogramVec> {
        self.register(HistogramVec::new(HistogramOpts::new(name, help).buckets(bounds.to_vec()), labels)?)
    }

    fn counter(&self, name: &str, help: &str) -> prometheus::Result<IntCounter> {
        self.register(IntCounter::new(name, help)?)
    }

    fn counter_vec(&self, name: &str, help: &str, labels: &[&str]) -> prometheus::Result<IntCounterVec> {
        self.register(IntCounterVec::new(Opts::new(name, help), labels)?)
    }

    fn gauge(&self, name: &str, help: &str) -> prometheus::Result<IntGauge> {
        self.register(IntGauge::new(name, help)?)
    }
}

impl Metrics {
    /// Every family, registered in a registry of its own, with the label
    /// values known in advance exported at zero.
    pub fn new() -> prometheus::Result<Self> {
        let registry = Registry::new();
        let f = Families(&registry);
        let metrics = Self {
            job_duration: f.histogram_vec(
                "motionrender_job_duration_seconds",
                "Wall time of a job from its start (a run slot) to its outcome, by outcome.",
                buckets::JOB,
                &["outcome"],
            )?,
            queue_wait: f.histogram("motionrender_job_queue_wait_seconds", "Time a job waited for a run slot.", buckets::QUEUE_WAIT)?,
            segment_render: f.histogram(
                "motionrender_segment_render_seconds",
                "Wall time of one segment (browser side and media side together), per segment rendered.",
                buckets::SEGMENT,
            )?,
            segment_encode: f.histogram(
                "motionrender_segment_encode_seconds",
                "Decode, composite and encode time of one segment, per segment rendered.",
                buckets::SEGMENT,
            )?,
            capture: f.histogram("motionrender_capture_seconds", "Time of one overlay capture and its PNG decode.", buckets::CAPTURE)?,
            callback_delivery: f.histogram_vec(
                "motionrender_callback_delivery_seconds",
                "Time from a callback event's creation to its delivery (or abandonment), by outcome.",
                buckets::CALLBACK,
                &["outcome"],
            )?,
            jobs: f.counter_vec("motionrender_jobs_total", "Jobs that ran (got a run slot) and ended, by outcome.", &["outcome"])?,
            failures: f.counter_vec("motionrender_job_failures_total", "Failed jobs by error code.", &["error_code"])?,
            panics: f.counter("motionrender_job_panics_total", "Jobs whose work panicked (failed with INTERNAL_ERROR).")?,
            frames: f.counter_vec(
                "motionrender_frames_total",
                "Frames of finished renders by how their overlay came to be: captured, reused or empty.",
                &["kind"],
            )?,
            frames_output: f.counter("motionrender_frames_output_total", "Frames written to the outputs of finished renders.")?,
            drops: f.counter_vec("motionrender_frames_dropped_total", "Overlays the frame queues dropped, by reason.", &["reason"])?,
            substituted: f.counter(
                "motionrender_frames_substituted_total",
                "Output frames that showed the nearest earlier overlay in place of a dropped one.",
            )?,
            retries: f.counter_vec("motionrender_segment_retries_total", "Segment attempts that failed and were retried, by error code.", &["cause"])?,
            queue_frames: f.counter_vec("motionrender_queue_frames_total", "Overlay frames through the frame queues, by operation.", &["op"])?,
            stage_seconds: f.register(CounterVec::new(
                Opts::new("motionrender_stage_seconds_total", "Seconds per pipeline stage, summed over the segments of finished renders."),
                &["stage"],
            )?)?,
            render_seconds: f.register(Counter::new("motionrender_render_seconds_total", "Wall seconds of finished renders.")?)?,
            callbacks: f.counter_vec("motionrender_callbacks_total", "Callback events by outcome.", &["outcome"])?,
            callback_attempts: f.counter("motionrender_callback_attempts_total", "Callback requests made, retries included.")?,
            browser_leases: f.counter_vec(
                "motionrender_browser_leases_total",
                "Browsers started for the pool (launched) and warm ones leased again (reused).",
                &["browser"],
            )?,
            browsers_replaced: f.counter("motionrender_browsers_replaced_total", "Browsers that crashed or failed a health check.")?,
            backpressure_pauses: f.counter("motionrender_backpressure_pauses_total", "Times producers were paused for memory.")?,
            pool_shrinks: f.counter("motionrender_pool_shrinks_total", "Times the browser pool was shrunk for memory.")?,
            restarts: f.counter_vec("motionrender_actor_restarts_total", "Actor restarts by actor.", &["actor"])?,
            alerts: f.counter_vec("motionrender_alerts_total", "Alerts by kind and outcome (sent, suppressed by the rate limit, failed).", &["kind", "outcome"])?,
            jobs_queued: f.gauge("motionrender_jobs_queued", "Jobs waiting for a run slot.")?,
            jobs_running: f.gauge("motionrender_jobs_running", "Jobs running.")?,
            browsers_alive: f.gauge("motionrender_browsers_alive", "Browsers of the warm pool alive (leased, idle or starting).")?,
            browsers_idle: f.gauge("motionrender_browsers_idle", "Browsers of the warm pool idle and ready for a job.")?,
            callbacks_pending: f.gauge("motionrender_callbacks_pending", "Callback events waiting in the outbox for delivery.")?,
            registry,
        };
        metrics.export_known_labels();
        Ok(metrics)
    }

    /// Label values known in advance are exported at zero, so a rate over
    /// them exists before the first event.
    fn export_known_labels(&self) {
        for outcome in JobOutcome::ALL {
            let _ = self.jobs.with_label_values(&[outcome.as_str()]);
            let _ = self.job_duration.with_label_values(&[outcome.as_str()]);
        }
        for kind in ["captured", "reused", "empty"] {
            let _ = self.frames.with_label_values(&[kind]);
        }
        for reason in motionrender_engine::queue::DropReason::ALL {
            let _ = self.drops.with_label_values(&[reason.as_str()]);
        }
        for op in ["push", "pop"] {
            let _ = self.queue_frames.with_label_values(&[op]);
        }
        for outcome in ["delivered", "abandoned"] {
            let _ = self.callbacks.with_label_values(&[outcome]);
            let _ = self.callback_delivery.with_label_values(&[outcome]);
        }
        for cause in ["BROWSER_ERROR", "FFMPEG_FAILED"] {
            let _ = self.retries.with_label_values(&[cause]);
        }
        for browser in ["launched", "reused"] {
            let _ = self.browser_leases.with_label_values(&[browser]);
        }
        for stage in super::report::STAGES {
            let _ = self.stage_seconds.with_label_values(&[stage]);
        }
        for code in JOB_FAILURE_CODES {
            let _ = self.failures.with_label_values(&[code]);
        }
        for actor in ["notifier", "backpressure", "browser_pool"] {
            let _ = self.restarts.with_label_values(&[actor]);
        }
        for kind in [AlertKind::JobFailed, AlertKind::DropRate, AlertKind::QueueDepth] {
            for outcome in ["sent", "suppressed", "failed"] {
                let _ = self.alerts.with_label_values(&[kind.as_str(), outcome]);
            }
        }
    }

    /// A job got its run slot after waiting `waited`.
    pub fn job_started(&self, waited: Duration) {
        self.queue_wait.observe(waited.as_secs_f64());
    }

    /// A job that ran for `took` ended with `outcome`.
    pub fn job_ended(&self, outcome: JobOutcome, took: Duration) {
        self.jobs.with_label_values(&[outcome.as_str()]).inc();
        self.job_duration.with_label_values(&[outcome.as_str()]).observe(took.as_secs_f64());
    }

    /// A job failed with `code`.
    pub fn job_failed(&self, code: &str) {
        self.failures.with_label_values(&[code]).inc();
    }

    /// A job's work panicked.
    pub fn job_panicked(&self) {
        self.panics.inc();
    }

    /// A segment was rendered in `took`, `encode_seconds` of it on its media side.
    pub fn segment_rendered(&self, took: Duration, encode_seconds: f64) {
        self.segment_render.observe(took.as_secs_f64());
        self.segment_encode.observe(encode_seconds);
    }

    /// One overlay was captured and decoded in `took`.
    pub fn captured(&self, took: Duration) {
        self.capture.observe(took.as_secs_f64());
    }

    /// A segment attempt failed with `cause` and is retried.
    pub fn segment_retried(&self, cause: &str) {
        self.retries.with_label_values(&[cause]).inc();
    }

    /// Callback events entered the outbox (or were found there at start).
    pub fn callbacks_enqueued(&self, events: u64) {
        self.callbacks_pending.add(i64::try_from(events).unwrap_or(i64::MAX));
    }

    /// The outbox holds `events` (read when the notifier starts).
    pub fn set_callbacks_pending(&self, events: u64) {
        self.callbacks_pending.set(i64::try_from(events).unwrap_or(i64::MAX));
    }

    /// A callback event left the outbox: delivered or not, `age` after it
    /// was made, after `attempts` requests.
    pub fn callback_finished(&self, delivered: bool, age: Duration, attempts: u32) {
        let outcome = if delivered { "delivered" } else { "abandoned" };
        self.callbacks.with_label_values(&[outcome]).inc();
        self.callback_delivery.with_label_values(&[outcome]).observe(age.as_secs_f64());
        self.callback_attempts.inc_by(u64::from(attempts));
        if self.callbacks_pending.get() > 0 {
            self.callbacks_pending.dec();
        }
    }

    /// An alert of `kind` was `outcome` (`sent`, `suppressed`, `failed`).
    pub fn alert(&self, kind: &str, outcome: &'static str) {
        self.alerts.with_label_values(&[kind, outcome]).inc();
    }

    /// The pool launched a browser.
    pub fn browser_launched(&self) {
        self.browser_leases.with_label_values(&["launched"]).inc();
    }

    /// The pool leased a warm browser again.
    pub fn browser_reused(&self) {
        self.browser_leases.with_label_values(&["reused"]).inc();
    }

    /// A browser crashed or failed its health check.
    pub fn browser_replaced(&self) {
        self.browsers_replaced.inc();
    }

    /// The memory controller paused the producers.
    pub fn backpressure_paused(&self) {
        self.backpressure_pauses.inc();
    }

    /// The memory controller shrank the browser pool.
    pub fn pool_shrunk(&self) {
        self.pool_shrinks.inc();
    }

    /// `actor` was restarted by its supervisor.
    pub fn restarted(&self, actor: &str) {
        self.restarts.with_label_values(&[actor]).inc();
    }

    /// The levels read when scraped: jobs waiting and running, browsers alive and idle.
    pub fn set_levels(&self, queued: usize, running: usize, browsers_alive: u32, browsers_idle: u32) {
        self.jobs_queued.set(i64::try_from(queued).unwrap_or(i64::MAX));
        self.jobs_running.set(i64::try_from(running).unwrap_or(i64::MAX));
        self.browsers_alive.set(i64::from(browsers_alive));
        self.browsers_idle.set(i64::from(browsers_idle));
    }

    /// Every family as Prometheus text (format 0.0.4).
    pub fn render(&self) -> String {
        TextEncoder::new().encode_to_string(&self.registry.gather()).unwrap_or_else(|error| format!("# cannot encode the metrics: {error}\n"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn every_family_is_exported_from_the_start_with_prometheus_names() {
        let text = Metrics::new().unwrap().render();
        for name in METRIC_NAMES {
            assert!(text.contains(&format!("# TYPE {name} ")), "{name} is not exported:\n{text}");
            let counter = text.contains(&format!("# TYPE {name} counter"));
            assert_eq!(counter, name.ends_with("_total"), "{name}: counters and only counters end in _total");
        }
        assert!(text.contains("motionrender_job_duration_seconds_bucket{outcome=\"completed\",le=\"+Inf\"} 0"), "{text}");
    }

    #[test]
    fn histograms_count_what_they_observe() {
        let metrics = Metrics::new().unwrap();
        metrics.job_started(Duration::from_millis(20));
        metrics.job_ended(JobOutcome::Failed, Duration::from_secs(3));
        metrics.captured(Duration::from_millis(7));
        metrics.captured(Duration::from_millis(70));
        let text = metrics.render();
        for line in [
            "motionrender_job_queue_wait_seconds_count 1",
            "motionrender_job_duration_seconds_count{outcome=\"failed\"} 1",
            "motionrender_job_duration_seconds_bucket{outcome=\"failed\",le=\"2.5\"} 0",
            "motionrender_job_duration_seconds_bucket{outcome=\"failed\",le=\"5\"} 1",
            "motionrender_jobs_total{outcome=\"failed\"} 1",
            "motionrender_capture_seconds_bucket{le=\"0.01\"} 1",
            "motionrender_capture_seconds_count 2",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
        }
    }
}
