//! A whole render: video + scenario in, burned-in MP4 out.
//!
//! A render is prepared (`PreparedRender`: probe, encoder, segment plan,
//! asset server), its segments rendered — each a browser side (seek, capture
//! or reuse) feeding a bounded frame queue and a media side (decode,
//! composite, encode) on its own thread — and finished: the segments merged
//! with the source's audio, the result put through the QC gate.
//! The actor tree (`motionrender-actors`) drives these steps with its
//! browser pool, rasterizers and encoders; this crate has no driver of its own.

mod compose;
mod memory;
mod overlay;
mod page_slot;
mod prepared;
mod pressure;
mod rasterize;
mod report;
mod segment;
mod settings;

pub use compose::{compose_segment, Composed};
pub use memory::{chromium_bytes, descendants, shared_fairly_bytes};
pub use overlay::{decode_overlay, fade, OverlayImage};
pub use page_slot::{LoadedPage, PageReport};
pub use prepared::{JobContext, PreparedRender, SegmentsDone};
pub use pressure::PressureGate;
pub use rasterize::{rasterize_segment, Rasterized};
pub use report::{FinishedSegment, FrameCounts, PeakMemory, QueueWaitSummary, RenderError, RenderReport, Retry, StageSeconds};
pub use segment::{finish_segment, settle};
pub use settings::{CaptureHook, OutputShape, RenderControl, RenderRequest, RenderSettings, RetryPolicy, SegmentHook};
