//! How a render runs: encoder, pages, segments, queue, retries, memory.
//! Built from the configuration; the CLI and the service override parts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use motionrender_config::{Config, DropPolicy, EncoderChoice};

use crate::browser::{LaunchOptions, PageTimeouts};
use crate::media::{FrameRate, MediaInfo, VideoFormat};
use crate::queue::{InvalidCapacity, MemoryGate, QueueCapacity};
use crate::scenario::Scenario;
use super::report::FinishedSegment;

/// What to render.
#[derive(Debug)]
pub struct RenderRequest {
    pub video: PathBuf,
    pub scenario: Scenario,
    pub out: PathBuf,
    /// Where the job's scratch folder (segments) is made.
    pub work_dir: PathBuf,
    /// Plugins beyond the bundled standard pack.
    pub plugin_dir: Option<PathBuf>,
    /// Fonts the page loads (see `browser::plan_fonts`); `None`: system fonts.
    pub font_dir: Option<PathBuf>,
    pub settings: RenderSettings,
}

/// What a service adds to a render: a way to cancel it, a folder where its
/// segments outlive the process, the segments an earlier run finished, and a
/// hook told of each segment as it finishes.
#[derive(Default, Clone)]
pub struct RenderControl {
    pub cancel: Arc<AtomicBool>,
    /// Where segments are written and kept; `None`: a scratch folder removed
    /// when the render ends.
    pub segments_dir: Option<PathBuf>,
    /// Segments an earlier run of this job finished, by index; reused when
    /// the plan still has them and their files exist.
    pub finished: BTreeMap<u32, FinishedSegment>,
    pub on_segment: Option<SegmentHook>,
    /// Told how long each overlay capture (and its PNG decode) took.
    pub on_capture: Option<CaptureHook>,
    /// The gate an outside memory controller closes to pause producers;
    /// `None`: producers never pause for memory.
    pub pressure: Option<Arc<super::pressure::PressureGate>>,
}

/// Called with a segment's index when it is finished.
pub type SegmentHook = Arc<dyn Fn(u32, &FinishedSegment) + Send + Sync>;

/// Called with the time one overlay capture took.
pub type CaptureHook = Arc<dyn Fn(Duration) + Send + Sync>;

impl std::fmt::Debug for RenderControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderControl")
            .field("cancel", &self.cancel)
            .field("segments_dir", &self.segments_dir)
            .field("finished", &self.finished.keys().collect::<Vec<_>>())
            .field("on_segment", &self.on_segment.is_some())
            .field("on_capture", &self.on_capture.is_some())
            .finish()
    }
}

/// Tunables of one render.
#[derive(Debug, Clone)]
pub struct RenderSettings {
    pub encoder: EncoderChoice,
    pub preset: String,
    /// 1..=100, mapped to the encoder's rate control.
    pub quality: u32,
    /// Decode and encode x264 in-process (FFmpeg's libraries) rather than
    /// through FFmpeg child processes.
    pub in_process: bool,
    /// Pages (one headless browser each) rendering segments in parallel.
    pub pages: u32,
    /// Target segment length; cuts go in gaps between cues when one is near.
    pub segment_seconds: f64,
    pub queue: QueueCapacity,
    pub drop_policy: DropPolicy,
    /// Fail with PLUGIN_NOT_FOUND instead of rendering without the effect.
    pub strict_plugins: bool,
    pub retries: RetryPolicy,
    /// Producers pause while the engine's resident memory is above this.
    pub memory_high_water_bytes: u64,
    pub browser: LaunchOptions,
    pub page_timeouts: PageTimeouts,
    /// The output's size and rate; unset parts keep the source's.
    pub output: OutputShape,
    /// The browser page's folder (`paths.page_dir`); `None`: the installed
    /// one ([`crate::browser::locate_page_dir`]).
    pub page_dir: Option<PathBuf>,
}

/// Output size and frame rate asked for; `None` keeps the source's. With
/// only one side given, the other follows the source's aspect ratio.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputShape {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub frame_rate: Option<FrameRate>,
}

impl OutputShape {
    /// The output format for a source of `info`, or why it cannot be.
    pub fn resolve(&self, info: &MediaInfo) -> Result<VideoFormat, String> {
        let scaled = |side: u32, from: u32, to: u32| -> u32 {
            let exact = f64::from(side) * f64::from(to) / f64::from(from.max(1));
            ((exact / 2.0).round() * 2.0).max(2.0) as u32
        };
        let (width, height) = match (self.width, self.height) {
            (Some(w), Some(h)) => (w, h),
            (Some(w), None) => (w, scaled(info.height, info.width, w)),
            (None, Some(h)) => (scaled(info.width, info.height, h), h),
            (None, None) => (info.width, info.height),
        };
        for (name, side) in [("width", width), ("height", height)] {
            if !(16..=8192).contains(&side) || side % 2 != 0 {
                return Err(format!("output {name} must be even and within 16..=8192, got {side}"));
            }
        }
        let frame_rate = self.frame_rate.unwrap_or(info.frame_rate);
        if !(1.0..=240.0).contains(&frame_rate.as_f64()) {
            return Err(format!("output frame rate must be within 1..=240 fps, got {frame_rate}"));
        }
        Ok(VideoFormat { width, height, frame_rate })
    }
}

/// Bounded retries of a segment after a transient failure.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts per segment, the first one included (at least 1).
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl RetryPolicy {
    /// The pause before attempt `attempt + 1` (doubling from the initial one).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

impl RenderSettings {
    /// The settings the configuration gives.
    pub fn from_config(config: &Config) -> Result<Self, InvalidCapacity> {
        Ok(Self {
            encoder: config.encoder.kind,
            preset: config.encoder.preset.clone(),
            quality: config.encoder.quality,
            in_process: config.encoder.in_process,
            pages: config.browser.pool_size.min(config.segments.max_parallel).max(1),
            segment_seconds: config.segments.seconds,
            queue: QueueCapacity::from_config(&config.queue)?,
            drop_policy: config.queue.drop_policy,
            strict_plugins: false,
            retries: RetryPolicy {
                max_attempts: config.retries.max_attempts.max(1),
                initial_backoff: Duration::from_millis(config.retries.initial_backoff_ms),
                max_backoff: Duration::from_millis(config.retries.max_backoff_ms),
            },
            memory_high_water_bytes: MemoryGate::from_budget(config.memory.budget_mb, config.memory.pause_at_fraction).high_water_bytes(),
            browser: LaunchOptions {
                executable: config.browser.executable().map(PathBuf::from),
                launch_timeout: Duration::from_millis(config.browser.launch_timeout_ms),
                ..LaunchOptions::default()
            },
            page_timeouts: PageTimeouts {
                frame: Duration::from_millis(config.browser.frame_timeout_ms),
                ..PageTimeouts::default()
            },
            output: OutputShape::default(),
            page_dir: config.paths.page_dir().map(PathBuf::from),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::path::PathBuf;

    use super::*;

    fn source(width: u32, height: u32) -> MediaInfo {
        MediaInfo {
            path: PathBuf::from("in.mp4"),
            width,
            height,
            rotation: 0,
            frame_rate: FrameRate { num: 25, den: 1 },
            frame_count: 100,
            duration_seconds: 4.0,
            video_codec: "h264".to_owned(),
            pixel_format: "yuv420p".to_owned(),
            audio: None,
            keyframes: Vec::new(),
        }
    }

    #[test]
    fn unset_parts_keep_the_source_and_one_side_keeps_the_aspect_ratio() {
        let info = source(1920, 1080);
        let same = OutputShape::default().resolve(&info).unwrap();
        assert_eq!((same.width, same.height, same.frame_rate), (1920, 1080, info.frame_rate));
        let narrow = OutputShape { width: Some(640), ..OutputShape::default() }.resolve(&info).unwrap();
        assert_eq!((narrow.width, narrow.height), (640, 360));
        let short = OutputShape { height: Some(720), ..OutputShape::default() }.resolve(&info).unwrap();
        assert_eq!((short.width, short.height), (1280, 720));
        let odd_source = OutputShape { width: Some(300), ..OutputShape::default() }.resolve(&source(1000, 333)).unwrap();
        assert_eq!(odd_source.height % 2, 0);
    }

    #[test]
    fn odd_tiny_or_huge_sizes_and_rates_are_refused_by_name() {
        let info = source(640, 360);
        let refused = |shape: OutputShape, named: &str| {
            let error = shape.resolve(&info).unwrap_err();
            assert!(error.contains(named), "{error}");
        };
        refused(OutputShape { width: Some(641), ..OutputShape::default() }, "width");
        refused(OutputShape { width: Some(640), height: Some(8), ..OutputShape::default() }, "height");
        refused(OutputShape { width: Some(20000), height: Some(360), ..OutputShape::default() }, "width");
        refused(OutputShape { frame_rate: FrameRate::new(1000, 1), ..OutputShape::default() }, "frame rate");
    }

    #[test]
    fn backoff_doubles_up_to_its_ceiling() {
        let policy = RetryPolicy { max_attempts: 5, initial_backoff: Duration::from_millis(100), max_backoff: Duration::from_millis(350) };
        let waits: Vec<_> = (1..=4).map(|attempt| policy.backoff(attempt).as_millis()).collect();
        assert_eq!(waits, [100, 200, 350, 350]);
    }
}
