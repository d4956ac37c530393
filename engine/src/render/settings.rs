//! How a render runs: encoder, pages, segments, queue, retries, memory.
//! Built from the configuration; the CLI and the service override parts.

use std::path::PathBuf;
use std::time::Duration;

use motionrender_config::{Config, DropPolicy, EncoderChoice};

use crate::browser::{LaunchOptions, PageTimeouts};
use crate::queue::{InvalidCapacity, QueueCapacity};
use crate::scenario::Scenario;

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
    pub settings: RenderSettings,
}

/// Tunables of one render.
#[derive(Debug, Clone)]
pub struct RenderSettings {
    pub encoder: EncoderChoice,
    pub preset: String,
    /// 1..=100, mapped to the encoder's rate control.
    pub quality: u32,
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
        let budget = config.memory.budget_mb.saturating_mul(1024 * 1024);
        Ok(Self {
            encoder: config.encoder.kind,
            preset: config.encoder.preset.clone(),
            quality: config.encoder.quality,
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
            memory_high_water_bytes: (budget as f64 * config.memory.pause_at_fraction) as u64,
            browser: LaunchOptions {
                executable: config.browser.executable().map(PathBuf::from),
                launch_timeout: Duration::from_millis(config.browser.launch_timeout_ms),
                ..LaunchOptions::default()
            },
            page_timeouts: PageTimeouts {
                frame: Duration::from_millis(config.browser.frame_timeout_ms),
                ..PageTimeouts::default()
            },
        })
    }
}
