//! The render side of the tree — browser pool, backpressure, encoder,
//! segment merger — and how one render runs on it: prepare it, give each of
//! its pages a leased browser, run every segment as a rasterizer actor
//! feeding a bounded frame queue that an encoder session drains (a segment
//! that fails transiently is retried, on a fresh browser when the browser
//! was at fault), then hand the finished set to the segment merger.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use motionrender_engine::plan::SegmentPlan;
use motionrender_engine::render::{
    finish_segment, settle, FinishedSegment, JobContext, LoadedPage, PreparedRender, PressureGate, RenderControl, RenderError,
    RenderReport, RenderRequest, Retry, SegmentsDone,
};
use parking_lot::Mutex;

use crate::backpressure::{Backpressure, OpenQueue, PressureReadings};
use crate::browser_pool::{Acquire, BrowserPool, Lease};
use crate::metrics::Metrics;
use crate::encoder::{EncodeSegment, Encoder};
use crate::rasterizer::{Rasterize, Rasterizer};
use crate::segment_merger::{Merge, SegmentMerger};

/// How often progress is reported.
const TICK: Duration = Duration::from_millis(200);

/// Addresses of the actors renders run on.
#[derive(Clone, Debug)]
pub struct RenderActors {
    pub pool: Addr<BrowserPool>,
    pub backpressure: Addr<Backpressure>,
    pub encoder: Addr<Encoder>,
    pub merger: Addr<SegmentMerger>,
    pub gate: Arc<PressureGate>,
    pub readings: Arc<PressureReadings>,
    pub metrics: Arc<Metrics>,
}

/// Browsers a render leased and reused.
#[derive(Debug, Default, Clone, Copy)]
pub struct BrowserUse {
    pub launched: u32,
    pub reused: u32,
}

impl RenderActors {
    /// Starts the render side of the tree in the current actix System.
    pub fn start(pool: crate::browser_pool::PoolSettings, high_water_bytes: u64, metrics: Arc<Metrics>) -> Self {
        let pool_metrics = Arc::clone(&metrics);
        let pool = actix::Supervisor::start(move |_| BrowserPool::new(pool, pool_metrics));
        let gate = Arc::new(PressureGate::default());
        let readings = Arc::new(PressureReadings::default());
        let backpressure = {
            let (gate, readings, pool, metrics) = (Arc::clone(&gate), Arc::clone(&readings), pool.clone(), Arc::clone(&metrics));
            actix::Supervisor::start(move |_| Backpressure::new(gate, readings, high_water_bytes, Some(pool), metrics))
        };
        Self { pool, backpressure, encoder: Encoder::default().start(), merger: SegmentMerger::default().start(), gate, readings, metrics }
    }

    /// Renders `request` under `control`, calling `progress(done, total)` as
    /// frames are composited.
    pub async fn render(
        &self,
        request: &RenderRequest,
        mut control: RenderControl,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<RenderReport, RenderError> {
        control.pressure = Some(Arc::clone(&self.gate));
        let metrics = Arc::clone(&self.metrics);
        control.on_capture = Some(Arc::new(move |took| metrics.captured(took)));
        let prepared = PreparedRender::prepare(request, &control).await?;
        let job = Arc::clone(prepared.context());
        let pending = Arc::new(Mutex::new(prepared.todo().iter().copied().collect::<VecDeque<_>>()));
        let browsers = Arc::new(Mutex::new(BrowserUse::default()));
        let mut pages = futures::stream::FuturesUnordered::new();
        for _ in 0..prepared.pages() {
            let paths = prepared.todo().iter().map(|plan| (plan.index, prepared.segment_path(plan.index))).collect();
            pages.push(run_page(self.clone(), Arc::clone(&job), Arc::clone(&pending), paths, Arc::clone(&browsers)));
        }
        let total = prepared.frame_count();
        let mut ticker = tokio::time::interval(TICK);
        let (mut shown, mut chromium_peak, mut failure, mut done) = (0, 0, None, Vec::new());
        loop {
            use futures::StreamExt as _;
            tokio::select! {
                finished = pages.next() => match finished {
                    None => break,
                    Some(Ok(worker)) => done.push(worker),
                    Some(Err(error)) => {
                        job.abort();
                        failure.get_or_insert(error);
                    }
                },
                _ = ticker.tick() => {
                    let frames = job.progress.load(Ordering::Relaxed);
                    if frames > shown {
                        shown = frames;
                        progress(shown, total);
                    }
                    chromium_peak = chromium_peak.max(self.readings.chromium());
                }
            }
        }
        if let Some(error) = failure.filter(|_| !job.is_cancelled()) {
            prepared.abandon().await;
            return Err(error);
        }
        let mut report = self
            .merger
            .send(Merge { render: prepared, done, chromium_peak })
            .await
            .map_err(|e| RenderError::Compositor { segment: 0, message: format!("the segment merger stopped: {e}") })??;
        let used = *browsers.lock();
        report.browsers_launched = used.launched;
        report.browsers_reused = used.reused;
        progress(total, total);
        Ok(report)
    }
}

impl RenderActors {
    /// Renders only segment `plan` of `request` into its file under
    /// `control.segments_dir` (a render worker's task): the same page,
    /// rasterizer, encoder and retry path as a whole render, without the
    /// merge. The plan must be one this render plans itself (the server and
    /// the worker agree on source and settings). Returns the finished
    /// segment, its file and the retries it took.
    pub async fn render_one_segment(
        &self,
        request: &RenderRequest,
        mut control: RenderControl,
        plan: SegmentPlan,
    ) -> Result<(FinishedSegment, std::path::PathBuf, Vec<Retry>), RenderError> {
        control.pressure = Some(Arc::clone(&self.gate));
        let metrics = Arc::clone(&self.metrics);
        control.on_capture = Some(Arc::new(move |took| metrics.captured(took)));
        let mut prepared = PreparedRender::prepare(request, &control).await?;
        if let Err(error) = prepared.keep_only(plan) {
            prepared.abandon().await;
            return Err(error);
        }
        let job = Arc::clone(prepared.context());
        let out = prepared.segment_path(plan.index);
        let pending = Arc::new(Mutex::new(VecDeque::from([plan])));
        let browsers = Arc::new(Mutex::new(BrowserUse::default()));
        let rendered = run_page(self.clone(), Arc::clone(&job), pending, vec![(plan.index, out.clone())], browsers).await;
        prepared.abandon().await;
        if job.is_cancelled() {
            return Err(RenderError::Cancelled);
        }
        let mut done = rendered?;
        match done.segments.pop() {
            Some((_, segment)) => Ok((segment, out, done.retries)),
            None => Err(RenderError::Stopped),
        }
    }
}

/// Renders `request` on the calling thread, outside any service: starts an
/// actix System there with the render side of the tree (a pool of
/// `settings.pages` browsers, none kept warm), renders, and closes the
/// browsers. The CLI's `render` and the tuning harness's real runs use it.
pub fn render_blocking(request: &RenderRequest, progress: &mut (dyn FnMut(u64, u64) + Send)) -> Result<RenderReport, RenderError> {
    let mut launch = request.settings.browser.clone();
    launch.profile_parent.get_or_insert_with(|| request.work_dir.clone());
    let pool = crate::browser_pool::PoolSettings { capacity: request.settings.pages.max(1), min_idle: 0, idle_timeout: Duration::from_secs(60), launch };
    let high_water = request.settings.memory_high_water_bytes;
    let metrics = Metrics::new().map_err(|e| RenderError::Settings(format!("cannot set up the metrics: {e}")))?;
    actix::System::new().block_on(async move {
        let actors = RenderActors::start(pool, high_water, Arc::new(metrics));
        let report = actors.render(request, RenderControl::default(), progress).await;
        let _ = actors.pool.send(crate::browser_pool::Close).await;
        report
    })
}

/// One page of a render: leases a browser, opens the render's page on it,
/// and takes segments until none is left.
async fn run_page(
    actors: RenderActors,
    job: Arc<JobContext>,
    pending: Arc<Mutex<VecDeque<SegmentPlan>>>,
    paths: Vec<(u32, std::path::PathBuf)>,
    browsers: Arc<Mutex<BrowserUse>>,
) -> Result<SegmentsDone, RenderError> {
    let mut slot: Option<(Lease, Arc<LoadedPage>)> = None;
    let mut done = SegmentsDone::default();
    let result = async {
        loop {
            let next = pending.lock().pop_front();
            let Some(plan) = next else { return Ok(()) };
            let Some((_, out)) = paths.iter().find(|(index, _)| *index == plan.index) else { return Err(RenderError::Stopped) };
            let mut attempt = 1;
            loop {
                if job.is_aborted() {
                    return Err(RenderError::Stopped);
                }
                let result: Result<FinishedSegment, RenderError> = async {
                    let page = ready_page(&actors, &job, &mut slot, &mut done, &browsers).await?;
                    let started = std::time::Instant::now();
                    let segment = render_segment(&actors, &job, page, plan, out.clone()).await?;
                    actors.metrics.segment_rendered(started.elapsed(), segment.stages.compose_encode);
                    Ok(segment)
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
                        actors.metrics.segment_retried(error.code());
                        done.retries.push(Retry { segment: plan.index, attempt, code: error.code(), reason: error.to_string() });
                        if error.is_browser_fault() {
                            discard(&mut slot, false).await;
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
    discard(&mut slot, result.is_ok()).await;
    result.map(|()| done)
}

/// The page's loaded overlay page: leased and opened on first use,
/// replaced when it no longer answers.
async fn ready_page(
    actors: &RenderActors,
    job: &Arc<JobContext>,
    slot: &mut Option<(Lease, Arc<LoadedPage>)>,
    done: &mut SegmentsDone,
    browsers: &Mutex<BrowserUse>,
) -> Result<Arc<LoadedPage>, RenderError> {
    if let Some((_, page)) = slot.as_ref() {
        if page.is_healthy().await {
            return Ok(Arc::clone(page));
        }
        discard(slot, false).await;
    }
    let started = std::time::Instant::now();
    let lease = actors.pool.send(Acquire).await.map_err(|e| RenderError::Compositor { segment: 0, message: format!("the browser pool stopped: {e}") })??;
    let Some(browser) = lease.browser() else { return Err(RenderError::Stopped) };
    {
        let mut used = browsers.lock();
        if lease.launched {
            used.launched += 1;
        } else {
            used.reused += 1;
        }
    }
    let page = match LoadedPage::open(job, browser).await {
        Ok(page) => Arc::new(page),
        Err(error) => {
            lease.release(!error.is_browser_fault());
            return Err(error);
        }
    };
    done.browser_start += started.elapsed().as_secs_f64();
    if done.page.is_none() {
        done.page = Some(page.report());
    }
    *slot = Some((lease, Arc::clone(&page)));
    Ok(page)
}

/// Closes the page and hands the browser back (to be reused when healthy).
async fn discard(slot: &mut Option<(Lease, Arc<LoadedPage>)>, healthy: bool) {
    if let Some((lease, page)) = slot.take() {
        match Arc::try_unwrap(page) {
            Ok(page) => page.close().await,
            Err(_) => {
                // A rasterizer still holds the page: its browser is not reused.
                lease.release(false);
                return;
            }
        }
        lease.release(healthy);
    }
}

/// One attempt at one segment: a rasterizer actor pushes into the
/// segment's queue while an encoder session drains it.
async fn render_segment(
    actors: &RenderActors,
    job: &Arc<JobContext>,
    page: Arc<LoadedPage>,
    plan: SegmentPlan,
    out: std::path::PathBuf,
) -> Result<FinishedSegment, RenderError> {
    let stopped = |what: &str, e: MailboxError| RenderError::Compositor { segment: plan.index, message: format!("the {what} stopped: {e}") };
    let queue = actors
        .backpressure
        .send(OpenQueue { capacity: job.settings.queue, policy: job.settings.drop_policy })
        .await
        .map_err(|e| stopped("backpressure controller", e))?;
    let aborted = Arc::new(AtomicBool::new(false));
    let encoded = actors.encoder.send(EncodeSegment { job: Arc::clone(job), plan, out, consumer: queue.consumer(), aborted: Arc::clone(&aborted) });
    let rasterizer = Rasterizer::new(Arc::clone(job), page, plan, queue.producer()).start();
    let rasterized = rasterizer.send(Rasterize).await.map_err(|e| stopped("rasterizer", e)).and_then(|r| r);
    if rasterized.is_err() {
        aborted.store(true, Ordering::Relaxed);
    }
    let composed = encoded.await.map_err(|e| stopped("encoder", e)).and_then(|r| r);
    let (rasterized, composed) = settle(rasterized, composed)?;
    Ok(finish_segment(&plan, rasterized, composed, &queue))
}
