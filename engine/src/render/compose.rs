//! The media side of a segment, on a thread of its own: decode the source
//! frames, take one overlay per frame from the queue (dropped ones
//! substituted), blend it inside its box, encode.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::prepared::JobContext;
use super::report::RenderError;
use crate::media::{composite, DecodedItem, Decoder, LibavDecoder, VideoFormat};
use crate::plan::SegmentPlan;
use crate::queue::{FrameConsumer, OverlaySequencer, SequencerStats};

/// Decoded frames held ahead of the compositor.
const DECODED_AHEAD: usize = 8;

/// What the media side of one segment did.
#[derive(Debug)]
pub struct Composed {
    pub encoded: u64,
    pub sequencer: SequencerStats,
    pub seconds: f64,
}

/// The decoded frames of segment `plan`: decoded in-process when asked and
/// the source allows it, else by an FFmpeg child.
fn open_decoder(job: &JobContext, plan: &SegmentPlan, in_process: bool) -> Result<Box<dyn Iterator<Item = DecodedItem> + Send>, RenderError> {
    let (source, format) = (&job.source, VideoFormat::of(&job.info));
    if in_process {
        if let Some(decoder) = LibavDecoder::open(&source.path, source, format, plan.first_frame, plan.frame_count, DECODED_AHEAD, job.threads)? {
            return Ok(Box::new(decoder));
        }
    }
    Ok(Box::new(Decoder::spawn_as(&source.path, source, format, plan.first_frame, plan.frame_count, DECODED_AHEAD, job.threads)?))
}

/// Threads of each segment's x264 encoder. With frame threads x264 is not
/// the same run to run: under load, the same composited frames came out as
/// different B-frames in about one render in ten (the frames going in were
/// hashed equal). One thread is; segments rendered side by side (`pages`)
/// share the cores instead.
const ENCODER_THREADS: u32 = 1;

/// Composites and encodes segment `plan` into `out`. Stops with
/// [`RenderError::Stopped`] as soon as the job or this attempt is aborted.
pub fn compose_segment(
    job: &JobContext,
    plan: &SegmentPlan,
    out: &Path,
    consumer: FrameConsumer,
    attempt_aborted: &std::sync::atomic::AtomicBool,
    progress: &Arc<std::sync::atomic::AtomicU64>,
) -> Result<Composed, RenderError> {
    let started = Instant::now();
    let info = &job.info;
    let settings = &job.settings;
    let decoder = open_decoder(job, plan, settings.in_process)?;
    let mut encoder = job.encoder.kind.spawn_threaded(out, info.width, info.height, info.frame_rate, &settings.preset, settings.quality, ENCODER_THREADS, settings.in_process)?;
    let mut overlays = OverlaySequencer::new(consumer.frames(), plan.frames());
    for decoded in decoder {
        let frame = decoded?;
        if job.is_aborted() || attempt_aborted.load(Ordering::Relaxed) {
            return Err(RenderError::Stopped);
        }
        let overlay = overlays.next().ok_or_else(|| RenderError::Compositor {
            segment: plan.index,
            message: format!("no overlay for frame {}", frame.index),
        })?;
        if overlay.index != frame.index {
            return Err(RenderError::Compositor {
                segment: plan.index,
                message: format!("overlay of frame {} met decoded frame {}", overlay.index, frame.index),
            });
        }
        match (&overlay.image, overlay.bbox) {
            (Some(image), Some(bbox)) => {
                // The decoded frame is ours alone: blend into it in place.
                let mut pixels = frame.data.try_into_mut().unwrap_or_else(|shared| bytes::BytesMut::from(&shared[..]));
                composite(&mut pixels, info.width, info.height, image, bbox)?;
                encoder.write_frame(&pixels)?;
            }
            _ => encoder.write_frame(&frame.data)?,
        }
        progress.fetch_add(1, Ordering::Relaxed);
        job.progress.fetch_add(1, Ordering::Relaxed);
    }
    // The producer may still be finishing; an aborted attempt must not
    // leave a complete-looking segment behind.
    if attempt_aborted.load(Ordering::Relaxed) {
        return Err(RenderError::Stopped);
    }
    let encoded = encoder.finish()?;
    Ok(Composed { encoded: encoded.frames, sequencer: overlays.stats(), seconds: started.elapsed().as_secs_f64() })
}
