//! The end of one attempt at one segment: the outcome from its browser side
//! (which pushed overlays into the segment's frame queue) and its media side
//! (which composited and encoded them), and what the segment reports.

use super::compose::Composed;
use super::rasterize::Rasterized;
use super::report::{FinishedSegment, RenderError};
use crate::plan::SegmentPlan;
use crate::queue::{DropReason, FrameQueue};

/// The outcome of a segment from those of its two sides: a producer stopped
/// by a closed queue means the compositor's error is the cause.
pub fn settle(
    rasterized: Result<Rasterized, RenderError>,
    composed: Result<Composed, RenderError>,
) -> Result<(Rasterized, Composed), RenderError> {
    match (rasterized, composed) {
        (Ok(r), Ok(c)) => Ok((r, c)),
        (Err(RenderError::Stopped), Err(cause)) | (Ok(_), Err(cause)) | (Err(cause), _) => Err(cause),
    }
}

/// What a segment whose two sides succeeded reports.
pub fn finish_segment(plan: &SegmentPlan, rasterized: Rasterized, composed: Composed, queue: &FrameQueue) -> FinishedSegment {
    let Rasterized { mut counts, mut stages, media_warnings } = rasterized;
    let stats = queue.stats();
    for reason in DropReason::ALL {
        let dropped = stats.dropped(reason);
        if dropped > 0 {
            counts.dropped.insert(reason.as_str().to_owned(), dropped);
        }
    }
    counts.substituted = composed.sequencer.substituted;
    counts.queue_pushed = stats.pushed;
    counts.queue_popped = stats.popped;
    counts.queue_peak_frames = stats.peak_frames;
    counts.queue_peak_bytes = stats.peak_bytes;
    counts.longest_substituted_run = composed.sequencer.longest_substituted_run;
    counts.queue_wait = stats.wait;
    counts.queue_depth = vec![stats.depth];
    stages.compose_encode = composed.seconds;
    FinishedSegment { first_frame: plan.first_frame, frame_count: plan.frame_count, counts, stages, encoded: composed.encoded, warnings: media_warnings }
}
