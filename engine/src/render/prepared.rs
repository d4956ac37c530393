//! A render made ready to run segment by segment: the source probed, the
//! encoder chosen, the segments planned (those an earlier run finished set
//! aside), the asset server up. The actor tree renders the segments left to
//! do and hands their results to [`PreparedRender::finish`], which
//! merges them with the source's audio and applies the QC gate.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::memory;
use super::page_slot::PageReport;
use super::pressure::PressureGate;
use super::report::{FinishedSegment, FrameCounts, PeakMemory, QueueWaitSummary, RenderError, RenderReport, Retry, StageSeconds};
use super::settings::{CaptureHook, RenderControl, RenderRequest, RenderSettings, SegmentHook};
use crate::browser::{locate_page_dir, plan_fonts, AssetServer, FontFace};
use crate::queue::QueueDepth;
use crate::media::{merge_segments, probe, select_encoder, EncoderSelection, MediaInfo};
use crate::plan::{plan_segments, SegmentPlan};
use crate::scenario::TimeRange;

/// What every segment of a render shares.
pub struct JobContext {
    pub source: MediaInfo,
    /// The output's view of the video: its size, rate and frame count.
    pub info: MediaInfo,
    pub scenario: serde_json::Value,
    /// The scenario's warnings (`pointer: message`), for the QC report.
    pub scenario_warnings: Vec<String>,
    /// The faces the page loads, and font assets that could not be served.
    pub fonts: Vec<FontFace>,
    pub font_warnings: Vec<String>,
    pub alive: Vec<TimeRange>,
    pub settings: RenderSettings,
    pub asset_base_url: String,
    /// The encoder back end every segment uses, and why.
    pub encoder: EncoderSelection,
    /// Decoder threads per segment: the cores shared among the segments that
    /// run side by side (0: FFmpeg's choice, one segment at a time). The
    /// encoder has one thread (see `compose`).
    pub threads: u32,
    /// Frames composited so far (a failed attempt takes its frames back).
    pub progress: Arc<AtomicU64>,
    /// Closed by the memory controller to pause the producers.
    pub pressure: Arc<PressureGate>,
    aborted: AtomicBool,
    cancel: Arc<AtomicBool>,
    on_segment: Option<SegmentHook>,
    on_capture: Option<CaptureHook>,
}

impl std::fmt::Debug for JobContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobContext").field("info", &self.info).field("encoder", &self.encoder).finish_non_exhaustive()
    }
}

impl JobContext {
    /// Whether the render was cancelled or another part of it failed.
    pub fn is_aborted(&self) -> bool {
        self.aborted.load(Ordering::Relaxed) || self.is_cancelled()
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Stops every other part of the render (one part failed).
    pub fn abort(&self) {
        self.aborted.store(true, Ordering::Relaxed);
    }

    /// Tells the service's hook how long one overlay capture took.
    pub fn captured(&self, took: std::time::Duration) {
        if let Some(hook) = &self.on_capture {
            hook(took);
        }
    }

    /// Tells the service's hook that a segment is finished.
    pub fn segment_finished(&self, index: u32, segment: &FinishedSegment) {
        if let Some(hook) = &self.on_segment {
            hook(index, segment);
        }
    }
}

/// What the pages of a render did: the segments they finished, the retries,
/// the time spent starting browsers, and what the first page reported.
#[derive(Debug, Default)]
pub struct SegmentsDone {
    pub segments: Vec<(SegmentPlan, FinishedSegment)>,
    pub retries: Vec<Retry>,
    pub browser_start: f64,
    pub page: Option<PageReport>,
}

/// The folder segments are written to: a scratch one removed at the end, or
/// the one a service keeps for resuming.
#[derive(Debug)]
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

/// A render ready for its segments.
#[derive(Debug)]
pub struct PreparedRender {
    job: Arc<JobContext>,
    plans: Vec<SegmentPlan>,
    todo: Vec<SegmentPlan>,
    reused: SegmentsDone,
    segments_reused: u32,
    scratch: SegmentsFolder,
    server: Option<AssetServer>,
    /// The browser page's folder the pages load from.
    page_dir: PathBuf,
    video: PathBuf,
    out: PathBuf,
    started: Instant,
    probe_seconds: f64,
}

impl PreparedRender {
    /// Probes the source, chooses the encoder, plans the segments (setting
    /// aside those `control.finished` still matches) and starts the asset
    /// server the pages load from.
    pub async fn prepare(request: &RenderRequest, control: &RenderControl) -> Result<Self, RenderError> {
        let started = Instant::now();
        let mut settings = request.settings.clone();
        settings.browser.profile_parent.get_or_insert_with(|| request.work_dir.clone());
        if settings.pages == 0 || !(settings.segment_seconds.is_finite() && settings.segment_seconds > 0.0) {
            return Err(RenderError::Settings(format!(
                "pages must be at least 1 and segment seconds positive, got {} and {}",
                settings.pages, settings.segment_seconds
            )));
        }
        let page_dir = locate_page_dir(settings.page_dir.as_deref())?.path;
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
        let plans = plan_segments(info.frame_count, info.frame_rate.as_f64(), &alive, settings.segment_seconds, &info.keyframes);
        // Segments an earlier run finished are reused as they are.
        let mut reused = SegmentsDone::default();
        let mut todo = Vec::new();
        for plan in &plans {
            match control.finished.get(&plan.index) {
                Some(done)
                    if done.first_frame == plan.first_frame
                        && done.frame_count == plan.frame_count
                        && segment_path(scratch.path(), plan.index).is_file() =>
                {
                    reused.segments.push((*plan, done.clone()));
                }
                _ => todo.push(*plan),
            }
        }
        let segments_reused = reused.segments.len() as u32;
        let frames_reused: u64 = reused.segments.iter().map(|(plan, _)| plan.frame_count).sum();
        let server = AssetServer::start_with_fonts(&page_dir, request.plugin_dir.as_deref(), request.font_dir.as_deref()).await?;
        let fonts = plan_fonts(request.font_dir.as_deref(), &request.scenario.document);
        let job = Arc::new(JobContext {
            source,
            info,
            scenario: request.scenario.document.clone(),
            scenario_warnings: request.scenario.warnings.iter().map(ToString::to_string).collect(),
            fonts: fonts.faces,
            font_warnings: fonts.warnings,
            alive,
            asset_base_url: server.base_url(),
            encoder,
            threads: threads_per_segment(settings.pages, plans.len()),
            settings,
            progress: Arc::new(AtomicU64::new(frames_reused)),
            pressure: control.pressure.clone().unwrap_or_default(),
            aborted: AtomicBool::new(false),
            cancel: Arc::clone(&control.cancel),
            on_segment: control.on_segment.clone(),
            on_capture: control.on_capture.clone(),
        });
        Ok(Self {
            job,
            plans,
            todo,
            reused,
            segments_reused,
            scratch,
            server: Some(server),
            page_dir,
            video: request.video.clone(),
            out: request.out.clone(),
            started,
            probe_seconds,
        })
    }

    /// What the segments share.
    pub fn context(&self) -> &Arc<JobContext> {
        &self.job
    }

    /// The segments left to render, in order.
    pub fn todo(&self) -> &[SegmentPlan] {
        &self.todo
    }

    /// Every segment of the render, in order (those set aside included).
    pub fn plans(&self) -> &[SegmentPlan] {
        &self.plans
    }

    /// Leaves `plan` as the only segment to render (a render worker's task
    /// is one segment of a job); refused when this render did not plan it,
    /// e.g. because the worker's source or settings differ from the server's.
    pub fn keep_only(&mut self, plan: SegmentPlan) -> Result<(), RenderError> {
        if !self.plans.contains(&plan) {
            return Err(RenderError::Settings(format!(
                "segment {} (frames {}..{}) is not in this render's plan of {} segments",
                plan.index,
                plan.first_frame,
                plan.first_frame + plan.frame_count,
                self.plans.len()
            )));
        }
        self.todo = vec![plan];
        Ok(())
    }

    /// How many segments run side by side: the pages asked for, at most one
    /// per segment left.
    pub fn pages(&self) -> u32 {
        self.job.settings.pages.min(self.todo.len() as u32).max(1)
    }

    /// Frames in the output.
    pub fn frame_count(&self) -> u64 {
        self.job.info.frame_count
    }

    /// Where segment `index` is written.
    pub fn segment_path(&self, index: u32) -> PathBuf {
        segment_path(self.scratch.path(), index)
    }

    /// Merges the finished segments with the source's audio and applies the
    /// QC gate; `done` is what the pages did, `chromium_peak` the highest
    /// summed resident memory of the browsers seen meanwhile.
    pub async fn finish(mut self, done: Vec<SegmentsDone>, chromium_peak: u64) -> Result<RenderReport, RenderError> {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
        let job = &self.job;
        if job.is_cancelled() {
            return Err(RenderError::Cancelled);
        }
        let info = &job.info;
        let mut report = RenderReport {
            segments: self.plans.len() as u32,
            segments_reused: self.segments_reused,
            pages: self.pages(),
            encoder: job.encoder.kind.name().to_owned(),
            encoder_reason: job.encoder.reason.clone(),
            drop_policy: job.settings.drop_policy,
            queue_capacity_frames: job.settings.queue.frames(),
            queue_capacity_bytes: job.settings.queue.bytes(),
            source_duration_seconds: info.duration_seconds,
            source_rotation_degrees: job.source.rotation,
            page_dir: self.page_dir.display().to_string(),
            ..RenderReport::default()
        };
        report.frames = FrameCounts { source: job.source.frame_count, planned: info.frame_count, ..FrameCounts::default() };
        report.stages = StageSeconds { probe: self.probe_seconds, ..StageSeconds::default() };
        let mut segments = Vec::new();
        let mut encoded = 0;
        for worker in std::iter::once(std::mem::take(&mut self.reused)).chain(done) {
            report.retries.extend(worker.retries);
            report.stages.browser_start += worker.browser_start;
            if let (Some(page), true) = (worker.page, report.capture_mode.is_empty()) {
                report.plugins_missing = page.loaded.plugins.missing.iter().map(|m| format!("{}: {}", m.name, m.reason)).collect();
                report.warnings.extend(page.loaded.warnings);
                report.fonts = page.loaded.fonts;
                report.capture_mode = page.capture_mode;
                report.capture_fallback = page.capture_fallback;
            }
            for (plan, segment) in worker.segments {
                report.frames.add(&segment.counts);
                for warning in &segment.warnings {
                    if !report.warnings.contains(warning) {
                        report.warnings.push(warning.clone());
                    }
                }
                add_stages(&mut report.stages, &segment.stages);
                encoded += segment.encoded;
                segments.push((plan.index, segment_path(self.scratch.path(), plan.index)));
            }
        }
        report.scenario_warnings = job.scenario_warnings.clone();
        report.fonts.failed.extend(job.font_warnings.iter().cloned());
        report.warnings.extend(job.font_warnings.iter().cloned());
        report.warnings.extend(job.scenario_warnings.iter().cloned());
        report.queue_wait = QueueWaitSummary::of(&report.frames.queue_wait);
        report.queue_depth = QueueDepth::combine(&report.frames.queue_depth, self.started);
        segments.sort();
        segments.dedup_by_key(|(index, _)| *index);
        if segments.len() != self.plans.len() {
            return Err(RenderError::Qc(format!("{} of {} segments were rendered", segments.len(), self.plans.len())));
        }

        let merged = Instant::now();
        let paths: Vec<PathBuf> = segments.into_iter().map(|(_, path)| path).collect();
        let (video, out, has_audio) = (self.video.clone(), self.out.clone(), info.has_audio());
        blocking(move || merge_segments(&paths, &video, &out, has_audio)).await??;
        report.stages.merge = merged.elapsed().as_secs_f64();
        let out = self.out.clone();
        let result = match blocking(move || probe(&out)).await? {
            Ok(result) => result,
            Err(e) => {
                let _ = std::fs::remove_file(&self.out);
                return Err(e.into());
            }
        };
        report.frames.output = result.frame_count;
        report.output_duration_seconds = result.duration_seconds;
        report.audio_kept = result.has_audio() == info.has_audio();
        let video_seconds = result.frame_count as f64 * result.frame_rate.frame_duration();
        report.av_drift_seconds = result.audio.as_ref().and_then(|audio| audio.duration_seconds).map_or(0.0, |audio| audio - video_seconds);
        report.peak_memory = PeakMemory { engine_bytes: memory::engine_peak_bytes(), chromium_bytes: chromium_peak };
        report.backpressure_pauses = job.pressure.closings();
        report.wall_seconds = self.started.elapsed().as_secs_f64();
        if let Err(reason) = qc_gate(&report, info, encoded) {
            let _ = std::fs::remove_file(&self.out);
            return Err(RenderError::Qc(reason));
        }
        Ok(report)
    }

    /// Stops the asset server without merging (the render failed or was cancelled).
    pub async fn abandon(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}

/// The source as the output sees it: scaled and rate-converted when asked.
fn output_view(source: &MediaInfo, settings: &RenderSettings) -> Result<MediaInfo, RenderError> {
    let format = settings.output.resolve(source).map_err(RenderError::Settings)?;
    let mut info = source.clone();
    if format.frame_rate != source.frame_rate {
        let seconds = source.frame_count as f64 * source.frame_rate.frame_duration();
        info.frame_count = (seconds * format.frame_rate.as_f64()).round().max(1.0) as u64;
        // The source's keyframes, counted in output frames.
        let scale = format.frame_rate.as_f64() / source.frame_rate.as_f64();
        info.keyframes = source.keyframes.iter().map(|&k| (k as f64 * scale).round() as u64).collect();
        info.keyframes.dedup();
    }
    (info.width, info.height, info.frame_rate) = (format.width, format.height, format.frame_rate);
    Ok(info)
}

/// Threads for each segment's decoder: the cores shared among the segments
/// a whole render of `planned` segments runs side by side on `pages` pages.
/// It counts the render's plan, not the segments left to do, so a retry or
/// a resume that renders one segment again runs it as the first run did.
fn threads_per_segment(pages: u32, planned: usize) -> u32 {
    let pages = pages.min(u32::try_from(planned).unwrap_or(u32::MAX)).max(1);
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
pub(super) async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, RenderError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| RenderError::Compositor { segment: 0, message: format!("a blocking task failed: {e}") })
}
