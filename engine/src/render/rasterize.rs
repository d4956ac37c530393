//! The browser side of a segment: one overlay per output frame, pushed into
//! the segment's frame queue in order.
//!
//! Frames outside the alive intervals never reach the page. Inside, the page
//! is seeked and its fingerprint compared with the last capture's: equal
//! fingerprints reuse that capture, a new one is captured and decoded (PNG
//! decode runs off the async threads).

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::prepared::JobContext;
use super::overlay::{decode_overlay, fade};
use super::report::{FrameCounts, RenderError, StageSeconds};
use crate::browser::OverlayPage;
use crate::plan::{frame_is_alive, SegmentPlan};
use crate::queue::{FrameProducer, MemoryGate, OverlayFrame, PushTimeoutError};

/// What the browser side of one segment did.
#[derive(Debug, Default)]
pub struct Rasterized {
    pub counts: FrameCounts,
    pub stages: StageSeconds,
    /// What the page noted about animated media (an image it could not put
    /// on the render's clock), for the QC warnings.
    pub media_warnings: Vec<String>,
}

/// Seeks and captures the frames of `plan`, pushing one overlay per frame.
pub async fn rasterize_segment(
    job: &JobContext,
    page: &OverlayPage,
    plan: &SegmentPlan,
    producer: &FrameProducer,
) -> Result<Rasterized, RenderError> {
    let rate = job.info.frame_rate;
    let fps = rate.as_f64();
    let mut done = Rasterized::default();
    // The page's seek is absolute in time, so one seek at the start of the
    // cue the segment begins inside brings the page to the state a continuous
    // render would have had.
    if let Some(from) = plan.preroll_frames().next() {
        page.seek(rate.frame_time(from)).await?;
        done.counts.seeked += 1;
    }
    let mut last: Option<(String, Bytes, crate::media::BoundingBox)> = None;
    let mut states = StateRuns::default();
    for index in plan.frames() {
        if job.is_aborted() {
            return Err(RenderError::Stopped);
        }
        let mut frame = OverlayFrame::empty(index);
        if frame_is_alive(index, fps, &job.alive) {
            let state = match states.take(index) {
                Some(state) => state,
                None => {
                    let run: Vec<u64> = (index..plan.frames().end).take_while(|&i| frame_is_alive(i, fps, &job.alive)).take(states.next_len()).collect();
                    let times: Vec<f64> = run.iter().map(|&i| rate.frame_time(i)).collect();
                    let sought = Instant::now();
                    let answers = page.seek_many(&times).await?;
                    done.stages.seek += sought.elapsed().as_secs_f64();
                    done.counts.seeked += run.len() as u64;
                    states.fill(run, answers);
                    states.take(index).ok_or_else(|| RenderError::Capture { frame: index, message: "the page answered no state for it".to_owned() })?
                }
            };
            if let Some(bbox) = state.bbox {
                let reusable = last.as_ref().filter(|(fingerprint, _, _)| *fingerprint == state.fingerprint).map(|(_, image, _)| image.clone());
                let reused = reusable.is_some();
                let opaque = match reusable {
                    Some(image) => {
                        done.counts.reused += 1;
                        image
                    }
                    None => {
                        // The run's seeks left the page further on: back to this
                        // frame (not counted again among the frames seeked).
                        if states.page_at() != Some(index) {
                            page.seek(rate.frame_time(index)).await?;
                            states.moved_to(index);
                        }
                        states.captured();
                        let captured = Instant::now();
                        let png = if state.alpha < 1.0 { page.capture_opaque(bbox).await? } else { page.capture(bbox).await? };
                        let image = tokio::task::spawn_blocking(move || decode_overlay(&png, bbox))
                            .await
                            .map_err(|e| RenderError::Capture { frame: index, message: e.to_string() })?
                            .map_err(|message| RenderError::Capture { frame: index, message })?;
                        let took = captured.elapsed();
                        done.stages.capture += took.as_secs_f64();
                        job.captured(took);
                        done.counts.captured += 1;
                        let image = Bytes::from(image.rgba);
                        last = Some((state.fingerprint, image.clone(), bbox));
                        image
                    }
                };
                // A fading overlay: the opaque one times alpha.
                let image = if state.alpha < 1.0 {
                    let alpha = state.alpha;
                    let faded = tokio::task::spawn_blocking(move || fade(&opaque, alpha))
                        .await
                        .map_err(|e| RenderError::Capture { frame: index, message: e.to_string() })?;
                    Bytes::from(faded)
                } else {
                    opaque
                };
                frame = OverlayFrame { index, image: Some(image), bbox: Some(bbox), reused };
            } else {
                last = None;
            }
        } else {
            last = None;
        }
        if frame.image.is_none() {
            done.counts.empty += 1;
        }
        done.stages.backpressure += push(job, producer, frame).await?;
    }
    if let Ok(value) = page.evaluate("motionrender.mediaWarnings()").await {
        done.media_warnings = serde_json::from_value(value).unwrap_or_default();
    }
    Ok(done)
}

/// Longest run of frames whose states the page is asked for in one call.
const LONGEST_RUN: usize = 32;

/// The states of a run of frames asked for in one call, handed out frame by
/// frame. Runs grow (doubling to [`LONGEST_RUN`]) while their frames reuse
/// captures, and drop to one frame after a run that captured: a capture
/// inside a run costs a seek back, and where captures are frequent the
/// page is best asked frame by frame.
#[derive(Debug)]
struct StateRuns {
    states: std::collections::VecDeque<(u64, crate::browser::SeekState)>,
    /// The frame the page stands at.
    page_at: Option<u64>,
    len: usize,
    captured: bool,
}

impl Default for StateRuns {
    fn default() -> Self {
        Self { states: std::collections::VecDeque::new(), page_at: None, len: 1, captured: false }
    }
}

impl StateRuns {
    /// The state of frame `index` when the current run holds it next.
    fn take(&mut self, index: u64) -> Option<crate::browser::SeekState> {
        if self.states.front().is_some_and(|(i, _)| *i != index) {
            self.states.clear();
        }
        self.states.pop_front().map(|(_, state)| state)
    }

    /// How many frames to ask for next, ending the run before.
    fn next_len(&mut self) -> usize {
        self.len = if self.captured { 1 } else { (self.len * 2).min(LONGEST_RUN) };
        self.captured = false;
        self.len
    }

    fn fill(&mut self, frames: Vec<u64>, states: Vec<crate::browser::SeekState>) {
        self.page_at = frames.last().copied();
        self.states = frames.into_iter().zip(states).collect();
    }

    fn page_at(&self) -> Option<u64> {
        self.page_at
    }

    fn moved_to(&mut self, index: u64) {
        self.page_at = Some(index);
    }

    fn captured(&mut self) {
        self.captured = true;
    }
}

/// Pushes one frame, first pausing while the memory controller holds the
/// gate closed (and the queue still holds frames that will free memory).
/// A push that must wait for room runs off the async threads. Returns the
/// seconds spent waiting.
async fn push(job: &JobContext, producer: &FrameProducer, frame: OverlayFrame) -> Result<f64, RenderError> {
    let started = Instant::now();
    // The controller's reading stands for the resident memory MemoryGate's rule compares.
    while job.pressure.is_closed() && producer.stats().depth() > 0 {
        if job.is_aborted() {
            return Err(RenderError::Stopped);
        }
        tokio::time::sleep(MemoryGate::PAUSE).await;
    }
    match producer.push_timeout(frame, Duration::ZERO) {
        Ok(_) => {}
        Err(PushTimeoutError::Closed(_)) => return Err(RenderError::Stopped),
        Err(PushTimeoutError::Timeout(frame)) => {
            let producer = producer.clone();
            tokio::task::spawn_blocking(move || producer.push(frame))
                .await
                .map_err(|_| RenderError::Stopped)?
                .map_err(|_| RenderError::Stopped)?;
        }
    }
    Ok(started.elapsed().as_secs_f64())
}

