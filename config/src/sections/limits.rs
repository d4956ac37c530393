//! `[limits]`: how much a single render request may carry, so that no
//! request can claim more memory or work than the operator allows.

use serde::{Deserialize, Serialize};

/// Size limits of the strings and lists in a `POST /render` body. A request
/// beyond one of them is refused with `422 VALIDATION_ERROR` naming the field
/// and the limit's key; nothing is queued. `server.max_body_bytes` bounds the
/// body as a whole before any of these are checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Longest `jobId`, in bytes (1 to 128). Default: `128`.
    pub max_job_id_bytes: u32,
    /// Longest `videoUrl` and `callbackUrl`, in bytes (>= 16). Default: `4096`.
    pub max_url_bytes: u32,
    /// Longest string in `options` (`format`, `encoder`, `preset`,
    /// `dropPolicy`, `outputKey`), in bytes (>= 16). Default: `1024`.
    pub max_option_bytes: u32,
    /// Largest `scenario`, in bytes of compact JSON (>= 1024).
    /// Default: `2097152` (2 MiB).
    pub max_scenario_bytes: u64,
    /// Most cues in a scenario (>= 1). Default: `10000`.
    pub max_cues: u32,
    /// Most nodes in a scenario, counted over every cue's `root` and its
    /// `children`, at any depth (>= 1). Default: `50000`.
    pub max_nodes: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_job_id_bytes: 128,
            max_url_bytes: 4096,
            max_option_bytes: 1024,
            max_scenario_bytes: 2 * 1024 * 1024,
            max_cues: 10_000,
            max_nodes: 50_000,
        }
    }
}
