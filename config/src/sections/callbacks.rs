//! `[callbacks]`: delivery of progress, completion and failure callbacks.

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// Callback signing and retry settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallbacksConfig {
    /// Shared secret for the `X-Motionrender-Signature` HMAC-SHA256 header;
    /// empty means callbacks are sent unsigned. Secret: masked when shown.
    /// Default: `""`.
    pub secret: Secret,
    /// How long an undelivered callback keeps being retried before it is
    /// given up, in seconds. Default: `3600`.
    pub deadline_secs: u64,
    /// Wait before the first redelivery, in milliseconds; it grows
    /// exponentially with jitter. Default: `500`.
    pub initial_backoff_ms: u64,
    /// Longest wait between deliveries, in milliseconds
    /// (>= `callbacks.initial_backoff_ms`). Default: `60000`.
    pub max_backoff_ms: u64,
    /// Timeout of one callback request, in milliseconds (>= 1). Default: `10000`.
    pub timeout_ms: u64,
    /// Longest wait for the connection to the callback host, in milliseconds
    /// (>= 1); the request as a whole is still bounded by
    /// `callbacks.timeout_ms`. Default: `5000`.
    pub connect_timeout_ms: u64,
}

impl CallbacksConfig {
    /// The signing secret, or `None` when callbacks are unsigned.
    pub fn secret(&self) -> Option<&str> {
        self.secret.get()
    }
}

impl Default for CallbacksConfig {
    fn default() -> Self {
        Self {
            secret: Secret::default(),
            deadline_secs: 3600,
            initial_backoff_ms: 500,
            max_backoff_ms: 60_000,
            timeout_ms: 10_000,
            connect_timeout_ms: 5_000,
        }
    }
}
