//! `[retries]`: how a failed step of a job (fetch, segment render, upload) is retried.

use serde::{Deserialize, Serialize};

/// Retry limits with exponential backoff between attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetriesConfig {
    /// Most attempts of one step, counting the first (>= 1; 1 means no retry).
    /// Default: `3`.
    pub max_attempts: u32,
    /// Wait before the first retry, in milliseconds; it grows exponentially
    /// after each failure. Default: `500`.
    pub initial_backoff_ms: u64,
    /// Longest wait between attempts, in milliseconds
    /// (>= `retries.initial_backoff_ms`). Default: `30000`.
    pub max_backoff_ms: u64,
}

impl Default for RetriesConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff_ms: 500,
            max_backoff_ms: 30_000,
        }
    }
}
