//! `[segments]`: how a job's timeline is split into segments rendered in parallel.

use serde::{Deserialize, Serialize};

/// Segment length and parallelism.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SegmentsConfig {
    /// Target length of one segment, in seconds (> 0); the planner prefers cut
    /// points in gaps between cues near it. Default: `10.0`.
    pub seconds: f64,
    /// Most segments of one job rendered at once (>= 1). Default: `2`.
    pub max_parallel: u32,
}

impl Default for SegmentsConfig {
    fn default() -> Self {
        Self {
            seconds: 10.0,
            max_parallel: 2,
        }
    }
}
