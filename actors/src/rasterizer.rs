//! Rasterizer: one per leased page and segment. It owns the segment's
//! producer side: seeks the page through the segment's frames, reads each
//! fingerprint, captures only what changed, and pushes one overlay per frame
//! into the segment's bounded frame queue (the overlays never pass through a
//! mailbox). Dropping its producer when done closes the queue; a panic is
//! caught here and becomes the segment's failure. It stops after its segment.

use std::sync::Arc;

use actix::prelude::*;
use motionrender_engine::plan::SegmentPlan;
use motionrender_engine::queue::FrameProducer;
use motionrender_engine::render::{rasterize_segment, JobContext, LoadedPage, Rasterized, RenderError};

use crate::panic_guard::catching;

/// The rasterizer of one segment.
pub struct Rasterizer {
    job: Arc<JobContext>,
    page: Arc<LoadedPage>,
    plan: SegmentPlan,
    producer: Option<FrameProducer>,
}

impl std::fmt::Debug for Rasterizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rasterizer").field("segment", &self.plan.index).finish()
    }
}

impl Rasterizer {
    pub fn new(job: Arc<JobContext>, page: Arc<LoadedPage>, plan: SegmentPlan, producer: FrameProducer) -> Self {
        Self { job, page, plan, producer: Some(producer) }
    }
}

impl Actor for Rasterizer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // One request: rasterize the segment.
        ctx.set_mailbox_capacity(1);
    }
}

/// Rasterize the segment; answered when its last overlay is pushed.
#[derive(Debug, Message)]
#[rtype(result = "Result<Rasterized, RenderError>")]
pub struct Rasterize;

impl Handler<Rasterize> for Rasterizer {
    type Result = ResponseActFuture<Self, Result<Rasterized, RenderError>>;

    fn handle(&mut self, _: Rasterize, _: &mut Self::Context) -> Self::Result {
        let (job, page, plan, producer) = (Arc::clone(&self.job), Arc::clone(&self.page), self.plan, self.producer.take());
        let segment = plan.index;
        Box::pin(
            async move {
                let Some(producer) = producer else { return Err(RenderError::Stopped) };
                let result = catching(rasterize_segment(&job, &page.page, &plan, &producer)).await;
                // The last producer: the queue closes, the encoder sees the end.
                drop(producer);
                result.unwrap_or_else(|message| {
                    job.abort();
                    Err(RenderError::Compositor { segment, message: format!("the rasterizer panicked: {message}") })
                })
            }
            .into_actor(self)
            .map(|result, _, ctx| {
                ctx.stop();
                result
            }),
        )
    }
}
