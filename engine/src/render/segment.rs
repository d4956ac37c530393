//! One attempt at one segment: the browser side pushes overlays into a
//! bounded frame queue while the media side, on its own thread, composites
//! and encodes. Whichever side fails first stops the other.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use super::compose::{compose_segment, Composed};
use super::prepared::JobContext;
use super::rasterize::{rasterize_segment, Rasterized};
use super::report::{FinishedSegment, RenderError};
use crate::browser::OverlayPage;
use crate::plan::SegmentPlan;
use crate::queue::{DropReason, FrameQueue};

/// Renders `plan` into `out` on `page`. Frames it reported through
/// `job.progress` are taken back when it fails.
pub(super) async fn render_segment(
    job: &Arc<JobContext>,
    page: &OverlayPage,
    plan: SegmentPlan,
    out: &Path,
) -> Result<FinishedSegment, RenderError> {
    let queue = FrameQueue::new(job.settings.queue, job.settings.drop_policy);
    let producer = queue.producer();
    let aborted = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(AtomicU64::new(0));
    let compositor = {
        let (job, consumer, aborted, progress, out) = (Arc::clone(job), queue.consumer(), Arc::clone(&aborted), Arc::clone(&progress), out.to_path_buf());
        let counted = Arc::clone(&job.progress);
        std::thread::Builder::new()
            .name(format!("segment-{}", plan.index))
            .spawn(move || {
                let result = compose_segment(&job, &plan, &out, consumer, &aborted, &progress);
                // A failed attempt takes back the frames it reported.
                if result.is_err() {
                    counted.fetch_sub(progress.load(Ordering::Relaxed), Ordering::Relaxed);
                }
                result
            })
            .map_err(|e| RenderError::Compositor { segment: plan.index, message: format!("cannot start its thread: {e}") })?
    };
    let rasterized = rasterize_segment(job, page, &plan, &producer).await;
    if rasterized.is_err() {
        aborted.store(true, Ordering::Relaxed);
    }
    drop(producer); // the last producer: the queue closes
    let composed = tokio::task::spawn_blocking(move || compositor.join())
        .await
        .map_err(|_| RenderError::Stopped)?
        .map_err(|_| RenderError::Compositor { segment: plan.index, message: "its thread panicked".to_owned() })?;
    let (rasterized, composed) = settle(rasterized, composed)?;
    Ok(finish_segment(&plan, rasterized, composed, &queue))
}

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
    let Rasterized { mut counts, mut stages } = rasterized;
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
    stages.compose_encode = composed.seconds;
    FinishedSegment { first_frame: plan.first_frame, frame_count: plan.frame_count, counts, stages, encoded: composed.encoded }
}
