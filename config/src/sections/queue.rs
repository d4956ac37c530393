//! `[queue]`: the bounded frame queue between rasterizer and compositor, and
//! what happens when it is full.

use serde::{Deserialize, Serialize};

/// What the frame queue does with a new overlay frame when it is full.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropPolicy {
    /// The producer waits until there is room: lossless. The default.
    #[default]
    Block,
    /// The new frame is dropped (and later substituted by the nearest earlier one).
    DropNewest,
    /// The oldest queued frame is dropped to make room for the new one.
    DropOldest,
}

/// Bounds of the frame queue; it is full when either bound is reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueConfig {
    /// Most frames the queue holds, in frames (>= 1). Default: `64`.
    pub capacity_frames: u32,
    /// Most overlay bytes the queue holds, in bytes (>= 1).
    /// Default: `268435456` (256 MiB).
    pub capacity_bytes: u64,
    /// What to do when the queue is full: `"block"`, `"drop_newest"` or
    /// `"drop_oldest"`. Default: `"block"`.
    pub drop_policy: DropPolicy,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            capacity_frames: 64,
            capacity_bytes: 256 * 1024 * 1024,
            drop_policy: DropPolicy::Block,
        }
    }
}
