//! A whole render: probe, plan segments, render them in parallel on a pool
//! of pages (each segment retried after a transient failure), merge them
//! with the source's audio, and pass the QC gate before the output is kept.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::memory;
use super::page_slot::{PageReport, PageSlot};
use super::report::{FinishedSegment, FrameCounts, PeakMemory, RenderError, RenderReport, Retry, StageSeconds};
use super::segment::render_segment;
use super::settings::{RenderControl, RenderRequest, RenderSettings, SegmentHook};
use crate::browser::{page_dir, AssetServer};
use crate::media::{merge_segments, probe, select_encoder, EncoderSelection, MediaInfo};
use crate::plan::{plan_segments, SegmentPlan};
use crate::scenario::TimeRange;

/// How often progress is reported and memory sampled.
const TICK: Duration = Duration::from_millis(200);

/// What every segment of a job shares.
pub(super) struct JobContext {
    pub source: MediaInfo,
    /// The output's view of the video: its size, rate and frame count.
    pub info: MediaInfo,
    pub scenario: serde_json::Value,
    pub alive: Vec<TimeRange>,
    pub settings: RenderSettings,
    pub asset_base_url: String,
    /// The encoder back end every segment uses, and why.
    pub encoder: EncoderSelection,
    /// Decoder and encoder threads per segment: the cores shared among the
    /// segments that run side by side (0: FFmpeg's choice, one segment at a time).
    pub threads: u32,
    /// Frames composited so far (a failed attempt takes its frames back).
    pub progress: Arc<AtomicU64>,
    aborted: AtomicBool,
    cancel: Arc<AtomicBool>,
    on_segment: Option<SegmentHook>,
}

impl JobContext {
    pub fn is_aborted(&self) -> bool {
        self.aborted.load(Ordering::Relaxed) || self.is_cancelled()
    }

    fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    fn abort(&self) {
        self.aborted.store(true, Ordering::Relaxed);
    }
}

/// What one page of the pool did over the job.
#[derive(Default)]
struct WorkerDone {
    segments: Vec<(SegmentPlan, FinishedSegment)>,
    retries: Vec<Retry>,
    browser_start: f64,
    page: Option<PageReport>,
}

/// Renders `request`, calling `progress(done, total)` as frames are
/// composited (never going backwards).
pub async fn render(request: &RenderRequest, progress: &mut (dyn FnMut(u64, u64) + Send)) -> Result<RenderReport, RenderError> {
    render_with(request, &RenderControl::default(), progress).await
}

/// The folder segments are written to: a scratch one removed at the end, or
/// the one a service keeps for resuming.
enum SegmentsFolder {
    Scratch(tempfile::TempDir),
    Kept(PathBuf),
}

impl SegmentsFolder {
    fn path(&self) -> &Path {
        match self {
            Self::Scratch(dir) => dir.path(),
            Self::Kept(path) => path,
        }
    }
}

/// As [`render`], under a service's `control`: cancellable, with segments
/// kept in a folder and reused from an earlier run.
pub async fn render_with(
    request: &RenderRequest,
    control: &RenderControl,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<RenderReport, RenderError> {
    let started = Instant::now();
    let mut settings = request.settings.clone();
    settings.browser.profile_parent.get_or_insert_with(|| request.work_dir.clone());
    if settings.pages == 0 || !(settings.segment_seconds.is_finite() && settings.segment_seconds > 0.0) {
        return Err(RenderError::Settings(format!(
            "pages must be at least 1 and segment seconds positive, got {} and {}",
            settings.pages, settings.segment_seconds
        )));
    }
    let video = request.video.clone();
    let source = blocking(move || probe(&video)).await??;
    let probe_seconds = started.elapsed().as_secs_f64();
    let info = output_view(&source, &settings)?;
    let choice = settings.encoder;
    let encoder = blocking(move || select_encoder(choice)).await??;
    std::fs::create_dir_all(&request.work_dir).map_err(|error| RenderError::WorkDir { path: request.work_dir.clone(), error })?;
    let scratch = match &control.segments_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|error| RenderError::WorkDir { path: dir.clone(), error })?;
            SegmentsFolder::Kept(dir.clone())
        }
        None => SegmentsFolder::Scratch(
            tempfile::Builder::new()
                .prefix(".render-")
                .tempdir_in(&request.work_dir)
                .map_err(|error| RenderError::WorkDir { path: request.work_dir.clone(), error })?,
        ),
    };

    let alive = request.scenario.alive_intervals();
    let plans = plan_segments(info.frame_count, info.frame_rate.as_f64(), &alive, settings.segment_seconds);
    // Segments an earlier run finished are reused as they are.
    let mut reused = WorkerDone::default();
    let mut todo = VecDeque::new();
    for plan in &plans {
        match control.finished.get(&plan.index) {
            Some(done)
                if done.first_frame == plan.first_frame
                    && done.frame_count == plan.frame_count
                    && segment_path(scratch.path(), plan.index).is_file() =>
            {
                reused.segments.push((*plan, done.clone()));
            }
            _ => todo.push_back(*plan),
        }
    }
    let segments_reused = reused.segments.len() as u32;
    let frames_reused: u64 = reused.segments.iter().map(|(plan, _)| plan.frame_count).sum();
    let pages = settings.pages.min(todo.len() as u32).max(1);
    let server = AssetServer::start(&page_dir(), request.plugin_dir.as_deref()).await?;
    let job = Arc::new(JobContext {
        source: source.clone(),
        info: info.clone(),
        scenario: request.scenario.document.clone(),
        alive,
        asset_base_url: server.base_url(),
        encoder,
        threads: threads_per_segment(pages),
        settings,
        progress: Arc::new(AtomicU64::new(frames_reused)),
        aborted: AtomicBool::new(false),
        cancel: Arc::clone(&control.cancel),
        on_segment: control.on_segment.clone(),
    });
    let pending = Arc::new(Mutex::new(todo));
    let mut workers = JoinSet::new();
    for _ in 0..pages {
        workers.spawn(work(Arc::clone(&job), Arc::clone(&pending), scratch.path().to_path_buf()));
    }

    let mut ticker = tokio::time::interval(TICK);
    let (mut shown, mut chromium_peak, mut failure, mut done) = (0, 0, None, vec![reused]);
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
                    progress(shown, info.frame_count);
                }
                chromium_peak = chromium_peak.max(memory::chromium_bytes());
            }
        }
    }
    server.shutdown().await;
    if job.is_cancelled() {
        return Err(RenderError::Cancelled);
    }
    if let Some(error) = failure {
        return Err(error);
    }

    let mut report = RenderReport {
        segments: plans.len() as u32,
        segments_reused,
        pages,
        encoder: job.encoder.kind.name().to_owned(),
        encoder_reason: job.encoder.reason.clone(),
        drop_policy: job.settings.drop_policy,
        queue_capacity_frames: job.settings.queue.frames(),
        queue_capacity_bytes: job.settings.queue.bytes(),
        source_duration_seconds: info.duration_seconds,
        source_rotation_degrees: source.rotation,
        ..RenderReport::default()
    };
    report.frames = FrameCounts { source: source.frame_count, planned: info.frame_count, ..FrameCounts::default() };
    report.stages = StageSeconds { probe: probe_seconds, ..StageSeconds::default() };
    let mut segments = Vec::new();
    let mut encoded = 0;
    for worker in done {
        report.retries.extend(worker.retries);
        report.stages.browser_start += worker.browser_start;
        if let (Some(page), true) = (worker.page, report.capture_mode.is_empty()) {
            report.plugins_missing = page.loaded.plugins.missing.iter().map(|m| format!("{}: {}", m.name, m.reason)).collect();
            report.warnings = page.loaded.warnings;
            report.capture_mode = page.capture_mode;
            report.capture_fallback = page.capture_fallback;
        }
        for (plan, segment) in worker.segments {
            report.frames.add(&segment.counts);
            add_stages(&mut report.stages, &segment.stages);
            encoded += segment.encoded;
            segments.push((plan.index, segment_path(scratch.path(), plan.index)));
        }
    }
    segments.sort();
    if segments.len() != plans.len() {
        return Err(RenderError::Qc(format!("{} of {} segments were rendered", segments.len(), plans.len())));
    }
    progress(info.frame_count.min(job.progress.load(Ordering::Relaxed)).max(shown), info.frame_count);

    let merged = Instant::now();
    let paths: Vec<PathBuf> = segments.into_iter().map(|(_, path)| path).collect();
    let (video, out, has_audio) = (request.video.clone(), request.out.clone(), info.has_audio());
    if job.is_cancelled() {
        return Err(RenderError::Cancelled);
    }
    blocking(move || merge_segments(&paths, &video, &out, has_audio)).await??;
    report.stages.merge = merged.elapsed().as_secs_f64();
    let out = request.out.clone();
    let result = match blocking(move || probe(&out)).await? {
        Ok(result) => result,
        Err(e) => {
            let _ = std::fs::remove_file(&request.out);
            return Err(e.into());
        }
    };
    report.frames.output = result.frame_count;
    report.output_duration_seconds = result.duration_seconds;
    report.audio_kept = result.has_audio() == info.has_audio();
    let video_seconds = result.frame_count as f64 * result.frame_rate.frame_duration();
    report.av_drift_seconds = result.audio.as_ref().and_then(|audio| audio.duration_seconds).map_or(0.0, |audio| audio - video_seconds);
    report.peak_memory = PeakMemory { engine_bytes: memory::engine_peak_bytes(), chromium_bytes: chromium_peak };
    report.wall_seconds = started.elapsed().as_secs_f64();
    if let Err(reason) = qc_gate(&report, &info, encoded) {
        let _ = std::fs::remove_file(&request.out);
        return Err(RenderError::Qc(reason));
    }
    Ok(report)
}

/// One page of the pool: takes segments until none is left, retrying a
/// segment after a transient failure (on a fresh browser when the browser
/// was at fault).
async fn work(job: Arc<JobContext>, pending: Arc<Mutex<VecDeque<SegmentPlan>>>, scratch: PathBuf) -> Result<WorkerDone, RenderError> {
    let mut slot = PageSlot::default();
    let mut done = WorkerDone::default();
    let result = async {
        loop {
            let next = pending.lock().unwrap_or_else(PoisonError::into_inner).pop_front();
            let Some(plan) = next else { return Ok(()) };
            let out = segment_path(&scratch, plan.index);
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
                    render_segment(&job, &ready.page, plan, &out).await
                }
                .await;
                match result {
                    Ok(segment) => {
                        if let Some(hook) = &job.on_segment {
                            hook(plan.index, &segment);
                        }
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

/// The source as the output sees it: scaled and rate-converted when asked.
fn output_view(source: &MediaInfo, settings: &RenderSettings) -> Result<MediaInfo, RenderError> {
    let format = settings.output.resolve(source).map_err(RenderError::Settings)?;
    let mut info = source.clone();
    if format.frame_rate != source.frame_rate {
        let seconds = source.frame_count as f64 * source.frame_rate.frame_duration();
        info.frame_count = (seconds * format.frame_rate.as_f64()).round().max(1.0) as u64;
    }
    (info.width, info.height, info.frame_rate) = (format.width, format.height, format.frame_rate);
    Ok(info)
}

/// Threads for each decoder and encoder when `pages` segments run at once.
fn threads_per_segment(pages: u32) -> u32 {
    if pages <= 1 {
        return 0;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    (cores / pages).max(1)
}

fn segment_path(scratch: &Path, index: u32) -> PathBuf {
    scratch.join(format!("segment-{index:05}.mp4"))
}

fn add_stages(total: &mut StageSeconds, segment: &StageSeconds) {
    total.seek += segment.seek;
    total.capture += segment.capture;
    total.compose_encode += segment.compose_encode;
    total.backpressure += segment.backpressure;
}

/// The gate a render must pass before its output is kept.
fn qc_gate(report: &RenderReport, info: &MediaInfo, encoded: u64) -> Result<(), String> {
    let frames = &report.frames;
    if encoded != frames.planned || frames.output != frames.planned {
        return Err(format!("{} frames were planned, encoders took {encoded}, output has {}", frames.planned, frames.output));
    }
    if !report.audio_kept {
        return Err("the source's audio stream is missing from the output".to_owned());
    }
    let frame = info.frame_rate.frame_duration();
    let drift = (report.output_duration_seconds - report.source_duration_seconds).abs();
    if drift > frame * 1.5 {
        return Err(format!("output lasts {:.3} s, source {:.3} s", report.output_duration_seconds, report.source_duration_seconds));
    }
    Ok(())
}

/// Runs blocking work off the async threads.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, RenderError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| RenderError::Compositor { segment: 0, message: format!("a blocking task failed: {e}") })
}
