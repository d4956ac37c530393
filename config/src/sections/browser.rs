//! `[browser]`: the pool of headless Chromium pages that rasterize overlays.

use serde::{Deserialize, Serialize};

use crate::unset::non_empty;

/// Settings of the browser page pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrowserConfig {
    /// Number of browser pages rendering overlays at once, in pages (>= 1).
    /// Default: `2`.
    pub pool_size: u32,
    /// Path of the Chromium executable; empty means auto-detect
    /// `chromium-headless-shell`, then `chromium`. Default: `""`.
    pub executable: String,
    /// Longest time one frame may take to seek and capture before the page is
    /// considered hung, in milliseconds (>= 1). Default: `10000`.
    pub frame_timeout_ms: u64,
    /// Longest time the browser may take to start and load the page, in
    /// milliseconds (>= 1). Default: `30000`.
    pub launch_timeout_ms: u64,
    /// Warm browsers the service keeps idle between jobs, so a job does not
    /// wait for Chromium to start, in browsers (>= 0). Default: `1`.
    pub min_idle: u32,
    /// How long a browser beyond `min_idle` stays idle before it is closed,
    /// in seconds (>= 1). Default: `300`.
    pub idle_timeout_secs: u64,
}

impl BrowserConfig {
    /// The configured browser executable, or `None` to auto-detect one.
    pub fn executable(&self) -> Option<&str> {
        non_empty(&self.executable)
    }
}

impl Default for BrowserConfig {
    fn default() -> Self {
        Self {
            pool_size: 2,
            executable: String::new(),
            frame_timeout_ms: 10_000,
            launch_timeout_ms: 30_000,
            min_idle: 1,
            idle_timeout_secs: 300,
        }
    }
}
