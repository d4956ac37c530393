//! `[alerts]`: alerts the engine posts itself (for operators without
//! Prometheus): a failed job, a render whose drop rate passed a threshold, a
//! queue longer than a depth.

use serde::{Deserialize, Serialize};

use crate::unset::non_empty;

/// Where alerts go, when they fire and how often.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
    /// Webhook that receives alerts as a Slack-compatible JSON body
    /// (`{"text": …}`), checked by the URL policy as a callback URL, signed
    /// with `callbacks.secret` and retried like a callback; empty means no
    /// alerts. Default: `""`.
    pub webhook_url: String,
    /// Least time between two alerts of the same kind, in seconds; alerts
    /// within it are counted (`motionrender_alerts_total{outcome="suppressed"}`)
    /// but not sent. Default: `300`.
    pub min_interval_secs: u64,
    /// A finished render whose share of dropped overlays is above this
    /// (0.0 to 1.0) posts a drop-rate alert. Default: `0.05`.
    pub max_drop_rate: f64,
    /// More jobs waiting than this posts a queue-depth alert (>= 1).
    /// Default: `50`.
    pub max_queue_depth: u32,
}

impl AlertsConfig {
    /// The webhook, or `None` when alerts are off.
    pub fn webhook_url(&self) -> Option<&str> {
        non_empty(&self.webhook_url)
    }
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self { webhook_url: String::new(), min_interval_secs: 300, max_drop_rate: 0.05, max_queue_depth: 50 }
    }
}
