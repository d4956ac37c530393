//! SegmentMerger: collects a job's finished segments and, once the set is
//! complete, concatenates them without re-encoding, muxes the source's audio
//! unchanged and runs the QC gate (frame count, audio, duration); an output
//! that fails QC is removed. The merge itself runs off the actor's thread.

use actix::prelude::*;
use motionrender_engine::render::{PreparedRender, RenderError, RenderReport, SegmentsDone};

const MAILBOX: usize = 64;

#[derive(Debug, Default)]
pub struct SegmentMerger {
    merged: u64,
}

impl Actor for SegmentMerger {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX);
    }
}

/// Merge a render's segments: those `done` by its pages and those an
/// earlier run left; `chromium_peak` goes into the QC report.
#[derive(Debug, Message)]
#[rtype(result = "Result<RenderReport, RenderError>")]
pub struct Merge {
    pub render: PreparedRender,
    pub done: Vec<SegmentsDone>,
    pub chromium_peak: u64,
}

impl Handler<Merge> for SegmentMerger {
    type Result = ResponseActFuture<Self, Result<RenderReport, RenderError>>;

    fn handle(&mut self, Merge { render, done, chromium_peak }: Merge, _: &mut Self::Context) -> Self::Result {
        Box::pin(render.finish(done, chromium_peak).into_actor(self).map(|report, merger, _| {
            merger.merged += 1;
            report
        }))
    }
}
