//! What a render reports: the QC report written beside the output, and the
//! typed error of a failed render.

use std::collections::BTreeMap;
use std::path::PathBuf;

use motionrender_config::DropPolicy;
use serde::{Deserialize, Serialize};

use crate::browser::BrowserError;
use crate::media::MediaError;
use crate::queue::{QueueDepth, QueueWait};

/// How the output's frames came to be.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FrameCounts {
    pub source: u64,
    /// Frames the output must have (the source's, or as many at another rate).
    pub planned: u64,
    pub output: u64,
    /// Frames whose overlay was captured from the page.
    pub captured: u64,
    /// Frames that reused the previous capture (same fingerprint).
    pub reused: u64,
    /// Frames with no overlay: outside every alive interval, or nothing visible.
    pub empty: u64,
    /// Frames for which the page was asked at all (pre-roll included).
    pub seeked: u64,
    /// Overlays the frame queue dropped, by reason.
    pub dropped: BTreeMap<String, u64>,
    /// Frames that showed the nearest earlier overlay in place of a dropped one.
    pub substituted: u64,
    /// Overlays pushed into and popped from the frame queues.
    #[serde(default)]
    pub queue_pushed: u64,
    #[serde(default)]
    pub queue_popped: u64,
    /// The most frames and bytes any one segment's queue held at once.
    #[serde(default)]
    pub queue_peak_frames: u64,
    #[serde(default)]
    pub queue_peak_bytes: u64,
    /// Most consecutive frames of one segment without their own overlay.
    #[serde(default)]
    pub longest_substituted_run: u64,
    /// Push-to-pop waits of the overlays measured in this run (segments an
    /// earlier run finished have none); summarized in [`RenderReport::queue_wait`].
    #[serde(skip)]
    pub queue_wait: QueueWait,
    /// Each measured segment queue's depth over time.
    #[serde(skip)]
    pub queue_depth: Vec<QueueDepth>,
}

impl FrameCounts {
    /// Adds the counts of one segment.
    pub fn add(&mut self, other: &FrameCounts) {
        self.captured += other.captured;
        self.reused += other.reused;
        self.empty += other.empty;
        self.seeked += other.seeked;
        self.substituted += other.substituted;
        self.queue_pushed += other.queue_pushed;
        self.queue_popped += other.queue_popped;
        self.queue_peak_frames = self.queue_peak_frames.max(other.queue_peak_frames);
        self.queue_peak_bytes = self.queue_peak_bytes.max(other.queue_peak_bytes);
        self.longest_substituted_run = self.longest_substituted_run.max(other.longest_substituted_run);
        self.queue_wait.merge(&other.queue_wait);
        self.queue_depth.extend(other.queue_depth.iter().cloned());
        for (reason, count) in &other.dropped {
            *self.dropped.entry(reason.clone()).or_default() += count;
        }
    }

    pub fn dropped_total(&self) -> u64 {
        self.dropped.values().sum()
    }
}

/// Seconds spent per stage, summed over segments (stages overlap in time).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StageSeconds {
    pub probe: f64,
    pub browser_start: f64,
    pub seek: f64,
    pub capture: f64,
    /// Decode, composite and encode of the segments (their own threads).
    pub compose_encode: f64,
    pub merge: f64,
    /// Producers waiting on a full queue or on the memory budget.
    pub backpressure: f64,
}

/// Peak resident memory seen while rendering.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct PeakMemory {
    pub engine_bytes: u64,
    pub chromium_bytes: u64,
}

/// A segment file that is complete: where it sits in the job and how its
/// frames came to be. Kept by a service so a restarted job can skip it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FinishedSegment {
    pub first_frame: u64,
    pub frame_count: u64,
    pub counts: FrameCounts,
    pub stages: StageSeconds,
    /// Frames the encoder wrote.
    pub encoded: u64,
    /// Warnings of the page while it drew the segment (animated media).
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// One failed attempt of a segment that was retried.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Retry {
    pub segment: u32,
    pub attempt: u32,
    #[schema(value_type = String)]
    pub code: &'static str,
    pub reason: String,
}

/// What a finished render reports (the QC report).
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
#[schema(as = QcReport)]
pub struct RenderReport {
    pub frames: FrameCounts,
    pub segments: u32,
    /// Segments an earlier run of the job finished, reused as they were.
    pub segments_reused: u32,
    pub pages: u32,
    pub encoder: String,
    pub encoder_reason: String,
    /// How overlays were captured (`begin_frame` or `screenshot`), and why
    /// not with beginFrame when a headless shell refused it.
    pub capture_mode: String,
    pub capture_fallback: Option<String>,
    /// `block`, `drop_newest` or `drop_oldest`.
    #[schema(value_type = String)]
    pub drop_policy: DropPolicy,
    pub queue_capacity_frames: u32,
    pub queue_capacity_bytes: u64,
    pub source_duration_seconds: f64,
    /// The source's display rotation (counter-clockwise degrees, 0–359; see
    /// `MediaInfo::rotation`): the output is drawn on the upright picture.
    pub source_rotation_degrees: u32,
    pub output_duration_seconds: f64,
    /// Output audio duration minus output video duration.
    pub av_drift_seconds: f64,
    pub audio_kept: bool,
    pub plugins_missing: Vec<String>,
    /// Everything the render warns about: plugins, fonts, and the scenario's
    /// own warnings (also in `scenario_warnings`).
    pub warnings: Vec<String>,
    /// Where the scenario renders as the package draws it but probably not as
    /// meant, `pointer: message` (e.g. a `layout.position` array).
    pub scenario_warnings: Vec<String>,
    /// Fonts loaded for the page and the requested families that fell back.
    pub fonts: crate::browser::FontReport,
    pub retries: Vec<Retry>,
    pub stages: StageSeconds,
    pub peak_memory: PeakMemory,
    /// Times the memory controller paused the producers.
    pub backpressure_pauses: u64,
    /// Browsers this render launched, and warm ones it reused from the pool.
    pub browsers_launched: u32,
    pub browsers_reused: u32,
    /// How long overlays waited in the frame queues, push to pop (the
    /// encoder side takes them as it encodes); `None` when none was measured.
    pub queue_wait: Option<QueueWaitSummary>,
    /// Frames queued over all pages, per `queue::DEPTH_BIN` from the start
    /// of the render (for the tuning harness; not in the QC file).
    #[serde(skip)]
    pub queue_depth: Vec<u64>,
    /// The browser page's folder the render used.
    pub page_dir: String,
    pub wall_seconds: f64,
}

/// Percentiles of the overlays' push-to-pop waits, in milliseconds (each
/// within 1/8 above the true value).
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct QueueWaitSummary {
    pub frames: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl QueueWaitSummary {
    /// The summary of `wait`; `None` without frames.
    pub fn of(wait: &QueueWait) -> Option<Self> {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        (wait.count() > 0).then(|| Self {
            frames: wait.count(),
            p50_ms: ms(wait.quantile(0.5)),
            p99_ms: ms(wait.quantile(0.99)),
            p999_ms: ms(wait.quantile(0.999)),
            max_ms: ms(wait.max()),
            mean_ms: ms(wait.mean()),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Browser(#[from] BrowserError),
    #[error(transparent)]
    Page(#[from] crate::browser::PageDirError),
    #[error("frame {frame}: {message}")]
    Capture { frame: u64, message: String },
    #[error("cannot prepare {path}: {error}")]
    WorkDir { path: PathBuf, error: std::io::Error },
    #[error("segment {segment}: {message}")]
    Compositor { segment: u32, message: String },
    #[error("plugins not found (strict plugins): {}", .0.join("; "))]
    PluginNotFound(Vec<String>),
    #[error("invalid render settings: {0}")]
    Settings(String),
    #[error("QC failed: {0}")]
    Qc(String),
    #[error("the render was cancelled")]
    Cancelled,
    /// The other side of a segment stopped first; its error is the cause.
    #[error("stopped because another part of the render failed")]
    Stopped,
}

impl RenderError {
    /// The error code of the HTTP API for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Media(e) => e.code(),
            Self::Browser(_) | Self::Capture { .. } | Self::Page(_) => "BROWSER_ERROR",
            Self::WorkDir { .. } => "STORAGE_ACCESS_ERROR",
            Self::Compositor { .. } => "FFMPEG_FAILED",
            Self::PluginNotFound(_) => "PLUGIN_NOT_FOUND",
            Self::Settings(_) => "INVALID_ARGUMENT",
            Self::Qc(_) => "QC_FAILED",
            Self::Cancelled => "JOB_CANCELLED",
            Self::Stopped => "UNEXPECTED_ERROR",
        }
    }

    /// Whether retrying the segment may succeed: a browser that crashed or
    /// hung, a decoder or encoder that died. Bad input and settings are not.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Browser(e) => matches!(
                e,
                BrowserError::Launch { .. }
                    | BrowserError::Cdp { .. }
                    | BrowserError::Timeout { .. }
                    | BrowserError::PageStart { .. }
                    | BrowserError::Navigate { .. }
            ),
            Self::Media(e) => matches!(
                e,
                MediaError::ProcessFailed { .. } | MediaError::ShortOutput { .. } | MediaError::Pipe { .. } | MediaError::Codec { .. }
            ),
            Self::Capture { .. } | Self::Compositor { .. } | Self::Stopped => true,
            Self::WorkDir { .. } | Self::Page(_) | Self::PluginNotFound(_) | Self::Settings(_) | Self::Qc(_) | Self::Cancelled => false,
        }
    }

    /// Whether the page or its browser is suspect after this error.
    pub fn is_browser_fault(&self) -> bool {
        matches!(self, Self::Browser(_) | Self::Capture { .. })
    }
}
