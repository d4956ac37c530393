//! `[memory]`: the memory budget the backpressure controller keeps to.

use serde::{Deserialize, Serialize};

/// Memory budget and the point at which producers are paused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MemoryConfig {
    /// Memory the engine may use, in mebibytes (>= 1). Default: `4096`.
    pub budget_mb: u64,
    /// Fraction of the budget at which producers are paused, in (0, 1].
    /// Default: `0.9`.
    pub pause_at_fraction: f64,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Self {
            budget_mb: 4096,
            pause_at_fraction: 0.9,
        }
    }
}
