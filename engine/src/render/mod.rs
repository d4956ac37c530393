//! A whole render: video + scenario in, burned-in MP4 out.
//!
//! The job is cut into segments (`plan`), rendered in parallel on a pool of
//! pages, each segment a browser side (seek, capture or reuse) feeding a
//! bounded frame queue and a media side (decode, composite, encode) on its
//! own thread; the segments are merged with the source's audio and the
//! result must pass the QC gate.

mod compose;
mod job;
mod memory;
mod overlay;
mod page_slot;
mod rasterize;
mod report;
mod segment;
mod settings;

pub use job::{render, render_with};
pub use overlay::{decode_overlay, fade, OverlayImage};
pub use report::{FinishedSegment, FrameCounts, PeakMemory, RenderError, RenderReport, Retry, StageSeconds};
pub use settings::{OutputShape, RenderControl, RenderRequest, RenderSettings, RetryPolicy, SegmentHook};
