//! A whole render without actix: prepare it, render its segments in
//! parallel on a pool of pages (each segment retried after a transient
//! failure), then merge and check it. The actor tree drives the same steps
//! with its own browser pool, rasterizers and encoders.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::task::JoinSet;

use super::memory;
use super::page_slot::PageSlot;
use super::prepared::{JobContext, PreparedRender, SegmentsDone};
use super::pressure::PressureGate;
use super::report::{RenderError, RenderReport, Retry};
use super::segment::render_segment;
use super::settings::{RenderControl, RenderRequest};
use crate::plan::SegmentPlan;

/// How often progress is reported and memory sampled.
const TICK: Duration = Duration::from_millis(200);

/// Renders `request`, calling `progress(done, total)` as frames are
/// composited (never going backwards).
pub async fn render(request: &RenderRequest, progress: &mut (dyn FnMut(u64, u64) + Send)) -> Result<RenderReport, RenderError> {
    render_with(request, &RenderControl::default(), progress).await
}

/// As [`render`], under a service's `control`: cancellable, with segments
/// kept in a folder and reused from an earlier run.
pub async fn render_with(
    request: &RenderRequest,
    control: &RenderControl,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<RenderReport, RenderError> {
    // Without an outside controller, this render watches its own memory.
    let own_gate = control.pressure.is_none().then(|| Arc::new(PressureGate::default()));
    let control = RenderControl { pressure: control.pressure.clone().or_else(|| own_gate.clone()), ..control.clone() };
    let prepared = PreparedRender::prepare(request, &control).await?;
    let job = Arc::clone(prepared.context());
    let pending = Arc::new(Mutex::new(prepared.todo().iter().copied().collect::<VecDeque<_>>()));
    let mut workers = JoinSet::new();
    for _ in 0..prepared.pages() {
        let paths: Vec<_> = prepared.todo().iter().map(|plan| (plan.index, prepared.segment_path(plan.index))).collect();
        workers.spawn(work(Arc::clone(&job), Arc::clone(&pending), paths));
    }

    let total = prepared.frame_count();
    let mut ticker = tokio::time::interval(TICK);
    let (mut shown, mut chromium_peak, mut failure, mut done) = (0, 0, None, Vec::new());
    loop {
        tokio::select! {
            joined = workers.join_next() => match joined {
                None => break,
                Some(Ok(Ok(worker))) => done.push(worker),
                Some(Ok(Err(error))) => {
                    job.abort();
                    failure.get_or_insert(error);
                }
                Some(Err(panic)) => {
                    job.abort();
                    failure.get_or_insert(RenderError::Compositor { segment: 0, message: format!("a page worker failed: {panic}") });
                }
            },
            _ = ticker.tick() => {
                let frames = job.progress.load(Ordering::Relaxed);
                if frames > shown {
                    shown = frames;
                    progress(shown, total);
                }
                chromium_peak = chromium_peak.max(memory::chromium_bytes());
                if let Some(gate) = &own_gate {
                    gate.set_closed(memory::engine_bytes() > job.settings.memory_high_water_bytes);
                }
            }
        }
    }
    if let Some(error) = failure.filter(|_| !job.is_cancelled()) {
        prepared.abandon().await;
        return Err(error);
    }
    let report = prepared.finish(done, chromium_peak).await?;
    progress(total, total);
    Ok(report)
}

/// One page of the pool: takes segments until none is left, retrying a
/// segment after a transient failure (on a fresh browser when the browser
/// was at fault).
async fn work(
    job: Arc<JobContext>,
    pending: Arc<Mutex<VecDeque<SegmentPlan>>>,
    paths: Vec<(u32, std::path::PathBuf)>,
) -> Result<SegmentsDone, RenderError> {
    let mut slot = PageSlot::default();
    let mut done = SegmentsDone::default();
    let result = async {
        loop {
            let next = pending.lock().unwrap_or_else(PoisonError::into_inner).pop_front();
            let Some(plan) = next else { return Ok(()) };
            let Some((_, out)) = paths.iter().find(|(index, _)| *index == plan.index) else { return Err(RenderError::Stopped) };
            let mut attempt = 1;
            loop {
                if job.is_aborted() {
                    return Err(RenderError::Stopped);
                }
                let result = async {
                    let (ready, started_in) = slot.ready(&job).await?;
                    done.browser_start += started_in;
                    if done.page.is_none() {
                        done.page = Some(ready.report());
                    }
                    render_segment(&job, ready.page(), plan, out).await
                }
                .await;
                match result {
                    Ok(segment) => {
                        job.segment_finished(plan.index, &segment);
                        done.segments.push((plan, segment));
                        break;
                    }
                    Err(error) if error.is_transient() && attempt < job.settings.retries.max_attempts && !job.is_aborted() => {
                        tracing::warn!(segment = plan.index, attempt, %error, "segment failed; retrying");
                        done.retries.push(Retry { segment: plan.index, attempt, code: error.code(), reason: error.to_string() });
                        if error.is_browser_fault() {
                            slot.discard().await;
                        }
                        tokio::time::sleep(job.settings.retries.backoff(attempt)).await;
                        attempt += 1;
                    }
                    Err(error) => return Err(error),
                }
            }
        }
    }
    .await;
    slot.discard().await;
    result.map(|()| done)
}
