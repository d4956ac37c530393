//! Encoder: runs each segment's encoder session on a thread made for it —
//! the consumer side of the segment's frame queue: decode the source frames,
//! blend each overlay inside its box, and feed the encoder back end (x264
//! child today, the NVENC helper when it lands). Frames move between the
//! decoder, this thread and the encoder over bounded channels and pipes,
//! never through a mailbox. A panic on the session's thread is caught there
//! and becomes the segment's failure.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use actix::prelude::*;
use motionrender_engine::plan::SegmentPlan;
use motionrender_engine::queue::FrameConsumer;
use motionrender_engine::render::{compose_segment, Composed, JobContext, RenderError};
use tokio::sync::oneshot;

use crate::panic_guard::{catching_blocking, fault_at};

const MAILBOX: usize = 64;

/// Starts encoder sessions; counts those running.
#[derive(Debug, Default)]
pub struct Encoder {
    running: Arc<AtomicU64>,
}

impl Actor for Encoder {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX);
    }
}

/// Encode one segment from its queue's consumer into `out`; `progress`
/// counts its frames (taken back from the job's count when it fails).
#[derive(Debug, Message)]
#[rtype(result = "Result<Composed, RenderError>")]
pub struct EncodeSegment {
    pub job: Arc<JobContext>,
    pub plan: SegmentPlan,
    pub out: PathBuf,
    pub consumer: FrameConsumer,
    /// Set when the segment's rasterizer failed: the session stops.
    pub aborted: Arc<AtomicBool>,
}

impl Handler<EncodeSegment> for Encoder {
    type Result = ResponseFuture<Result<Composed, RenderError>>;

    fn handle(&mut self, message: EncodeSegment, _: &mut Self::Context) -> Self::Result {
        let EncodeSegment { job, plan, out, consumer, aborted } = message;
        let (done, answer) = oneshot::channel();
        let running = Arc::clone(&self.running);
        let spawned = std::thread::Builder::new().name(format!("encode-{}", plan.index)).spawn(move || {
            running.fetch_add(1, Ordering::Relaxed);
            let progress = Arc::new(AtomicU64::new(0));
            let result = catching_blocking(|| {
                if fault_at("encoder_panic") {
                    panic!("injected fault: encoder_panic");
                }
                if fault_at("encoder_waits_for_producer") {
                    // A consumer slower than any producer: every overlay is
                    // offered before the first is taken, so a drop policy drops.
                    while consumer.stats().pushed < plan.frame_count && !aborted.load(Ordering::Relaxed) && !job.is_aborted() {
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                }
                compose_segment(&job, &plan, &out, consumer, &aborted, &progress)
            })
            .unwrap_or_else(|message| {
                job.abort();
                Err(RenderError::Compositor { segment: plan.index, message: format!("the encoder thread panicked: {message}") })
            });
            // A failed attempt takes back the frames it reported.
            if result.is_err() {
                job.progress.fetch_sub(progress.load(Ordering::Relaxed), Ordering::Relaxed);
            }
            running.fetch_sub(1, Ordering::Relaxed);
            let _ = done.send(result);
        });
        Box::pin(async move {
            if let Err(error) = spawned {
                return Err(RenderError::Compositor { segment: 0, message: format!("cannot start an encoder thread: {error}") });
            }
            answer.await.unwrap_or(Err(RenderError::Stopped))
        })
    }
}
