//! A whole render: video + scenario in, burned-in MP4 out.
//!
//! This first version runs one segment on one page, in order; the segment
//! planner, the frame queue and the page pool take over in the next steps.

mod overlay;
mod single_pass;

pub use overlay::{decode_overlay, OverlayImage};
pub use single_pass::{render, FrameCounts, RenderError, RenderReport, RenderRequest};
