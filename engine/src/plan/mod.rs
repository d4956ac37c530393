//! Segment planning: the timeline split into segments cut in gaps between cues.

mod alive_frames;
mod segments;

pub use alive_frames::{alive_frame_ranges, frame_is_alive};
pub use segments::{cut_cost, plan_segments, SegmentPlan};
