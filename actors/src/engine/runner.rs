//! Runs one job: marks it processing, renders it (reusing the segments an
//! earlier run finished), stores the output, and records the outcome. Every
//! path out of here leaves no partial output behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use motionrender_engine::render::{render_with, RenderControl, RenderError, RenderReport, RenderRequest};
use serde_json::json;

use super::error::ApiError;
use super::{input, options, Engine};
use crate::job::{JobRecord, JobStatus};

/// Share of the progress bar the render takes; storing the output the rest.
const RENDER_SHARE: f64 = 95.0;
/// Least time between two progress events of a job.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Runs `job_id` to its end (or until `cancel` is set).
pub async fn run(engine: &Engine, job_id: &str, cancel: Arc<AtomicBool>) {
    let Ok(mut job) = engine.job(job_id) else { return };
    if job.status.is_finished() {
        return;
    }
    let dir = PathBuf::from(&engine.config().paths.work_dir).join("jobs").join(job_id);
    job.status = JobStatus::Processing;
    job.message = "Rendering".to_owned();
    job.advance(0.0);
    if let Err(error) = engine.record(&mut job) {
        tracing::error!(job = job_id, %error, "cannot record the job's start");
        return;
    }
    let outcome = render_job(engine, &job, &dir, &cancel).await;

    let Ok(mut job) = engine.job(job_id) else { return };
    if cancel.load(Ordering::Relaxed) && job.status == JobStatus::Processing && !engine.is_accepting() {
        // Shutting down: keep the finished segments; the next start resumes the job.
        tracing::info!(job = job_id, "render stopped for shutdown; it resumes on the next start");
        return;
    }
    let stored = match (outcome, job.status) {
        (_, JobStatus::Cancelled) => None,
        (Ok(report), _) => match store_output(engine, &job, &dir, &report, &cancel).await {
            Ok(download_url) => {
                job.download_url = Some(download_url);
                Some(report)
            }
            Err(error) => {
                fail(&mut job, &error);
                None
            }
        },
        (Err(error), _) => {
            fail(&mut job, &error);
            None
        }
    };
    if let Some(report) = stored {
        job.status = JobStatus::Completed;
        job.message = "Render completed".to_owned();
        let size = std::fs::metadata(dir.join("output.mp4")).map_or(0, |m| m.len());
        job.metrics = metrics(engine, &job, &report, size);
        job.advance(100.0);
        count(engine, &report);
    }
    if job.status != JobStatus::Cancelled {
        if let Err(error) = engine.record(&mut job) {
            tracing::error!(job = job_id, %error, "cannot record the job's outcome");
        }
    }
    if let Err(error) = engine.inner.store.drop_segments(job_id) {
        tracing::warn!(job = job_id, %error, "cannot forget the job's segments");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn fail(job: &mut JobRecord, error: &ApiError) {
    job.status = JobStatus::Failed;
    job.message = "Render failed".to_owned();
    job.error_code = Some(error.error_code.clone());
    job.error_message = Some(error.error_message.clone());
    job.metrics["error_details"] = error.details.clone();
}

async fn render_job(engine: &Engine, job: &JobRecord, dir: &Path, cancel: &Arc<AtomicBool>) -> Result<RenderReport, ApiError> {
    let config = engine.config();
    let scenario = input::load_scenario(&job.request.scenario)?;
    let settings = options::render_settings(config, &job.request.options)?;
    std::fs::create_dir_all(dir).map_err(|e| ApiError::new(500, "STORAGE_ACCESS_ERROR", format!("cannot create {}: {e}", dir.display())))?;
    let video = input::fetch_video(&engine.inner.policy, &engine.inner.storage, &job.request.video_url, dir).await?;
    let request = RenderRequest {
        video,
        scenario,
        out: dir.join("output.mp4"),
        work_dir: dir.to_path_buf(),
        plugin_dir: config.paths.plugin_dir().map(PathBuf::from),
        settings,
    };
    let finished: BTreeMap<_, _> = engine.inner.store.segments(&job.job_id)?.into_iter().collect();
    let recorder = engine.clone();
    let job_id = job.job_id.clone();
    let control = RenderControl {
        cancel: Arc::clone(cancel),
        segments_dir: Some(dir.join("segments")),
        finished,
        on_segment: Some(Arc::new(move |index, segment| {
            if let Err(error) = recorder.inner.store.put_segment(&job_id, index, segment) {
                tracing::warn!(job = %job_id, index, %error, "cannot record a finished segment");
            }
        })),
    };
    let started = Instant::now();
    let mut last = Instant::now();
    let reporter = engine.clone();
    let job_id = job.job_id.clone();
    let mut progress = move |done: u64, total: u64| {
        if last.elapsed() < PROGRESS_EVERY && done < total {
            return;
        }
        last = Instant::now();
        let fps = done as f64 / started.elapsed().as_secs_f64().max(1e-3);
        // The store's write is a disk sync: keep it off the async workers' turn.
        tokio::task::block_in_place(|| {
            let Ok(mut job) = reporter.job(&job_id) else { return };
            if job.status != JobStatus::Processing {
                return;
            }
            job.advance(RENDER_SHARE * done as f64 / total.max(1) as f64);
            job.metrics = json!({
                "frames_processed": done,
                "frames_total": total,
                "fps": fps,
                "eta_seconds": (total.saturating_sub(done)) as f64 / fps.max(1e-3),
            });
            if let Err(error) = reporter.record(&mut job) {
                tracing::warn!(job = %job_id, %error, "cannot record progress");
            }
        });
    };
    render_with(&request, &control, &mut progress).await.map_err(render_failure)
}

fn render_failure(error: RenderError) -> ApiError {
    let status = match error.code() {
        "INVALID_VIDEO_FORMAT" | "VIDEO_NOT_FOUND" | "PLUGIN_NOT_FOUND" | "ENCODER_UNAVAILABLE" => 422,
        _ => 500,
    };
    let code = match error.code() {
        "FFMPEG_FAILED" | "FFMPEG_UNAVAILABLE" | "PROBE_FAILED" => "FFMPEG_ERROR",
        "VIDEO_NOT_FOUND" => "INVALID_VIDEO_URL",
        "IO_ERROR" => "STORAGE_ACCESS_ERROR",
        "INVALID_ARGUMENT" => "INVALID_RENDER_OPTIONS",
        other => other,
    };
    ApiError::new(status, code, error.to_string())
}

/// Stores the output and its QC report under the job's key (local folder or
/// S3); returns the download URL. A failed or cancelled upload leaves
/// nothing behind.
async fn store_output(engine: &Engine, job: &JobRecord, dir: &Path, report: &RenderReport, cancel: &Arc<AtomicBool>) -> Result<String, ApiError> {
    let storage = &engine.inner.storage;
    let qc = qc_path(&dir.join("output.mp4"));
    let text = serde_json::to_string_pretty(report).map_err(|e| ApiError::internal(e.to_string()))?;
    std::fs::write(&qc, text).map_err(|e| ApiError::new(500, "STORAGE_ACCESS_ERROR", format!("cannot write {}: {e}", qc.display())))?;
    // The upload watches the job's cancel flag.
    let (cancelled, watching) = tokio::sync::watch::channel(false);
    let flag = Arc::clone(cancel);
    let watcher = tokio::spawn(async move {
        while !flag.load(Ordering::Relaxed) {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let _ = cancelled.send(true);
    });
    let stored = async {
        storage.put_file(&qc_key(&job.output_key), &qc, &watching).await?;
        storage.put_file(&job.output_key, &dir.join("output.mp4"), &watching).await?;
        storage.download_url(&job.output_key).await
    }
    .await;
    watcher.abort();
    match stored {
        Ok(url) => Ok(url.unwrap_or_else(|| format!("{}/api/render/{}/download", engine.inner.public_base_url, job.job_id))),
        Err(error) => {
            let _ = storage.delete(&qc_key(&job.output_key)).await;
            let _ = storage.delete(&job.output_key).await;
            Err(ApiError::new(502, error.code(), error.to_string()))
        }
    }
}

fn qc_key(key: &str) -> String {
    format!("{key}.qc.json")
}

/// The QC report beside an output: `OUT.mp4.qc.json` next to `OUT.mp4`.
pub fn qc_path(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".qc.json");
    PathBuf::from(name)
}

fn metrics(engine: &Engine, job: &JobRecord, report: &RenderReport, size: u64) -> serde_json::Value {
    let frames = &report.frames;
    let dropped = frames.dropped_total();
    json!({
        "frames_processed": frames.output,
        "frames_captured": frames.captured,
        "frames_reused": frames.reused,
        "frames_empty": frames.empty,
        "frames_dropped": dropped,
        "drop_rate": dropped as f64 / frames.output.max(1) as f64,
        "fps": frames.output as f64 / report.wall_seconds.max(1e-3),
        "memory_peak_mb": (report.peak_memory.engine_bytes + report.peak_memory.chromium_bytes) / (1024 * 1024),
        "file_size": size,
        "duration": report.output_duration_seconds,
        "stages": report.stages,
        "segments": report.segments,
        "segments_reused": report.segments_reused,
        "retries": report.retries.len(),
        "qc_report_url": format!("{}/api/render/{}/qc", engine.inner.public_base_url, job.job_id),
    })
}

fn count(engine: &Engine, report: &RenderReport) {
    let counters = engine.counters();
    counters.frames_captured.fetch_add(report.frames.captured, Ordering::Relaxed);
    counters.frames_reused.fetch_add(report.frames.reused, Ordering::Relaxed);
    counters.frames_empty.fetch_add(report.frames.empty, Ordering::Relaxed);
    counters.frames_dropped.fetch_add(report.frames.dropped_total(), Ordering::Relaxed);
    counters.queue_pushed.fetch_add(report.frames.queue_pushed, Ordering::Relaxed);
    counters.queue_popped.fetch_add(report.frames.queue_popped, Ordering::Relaxed);
    let stages = &report.stages;
    for (stage, seconds) in [("probe", stages.probe), ("browser_start", stages.browser_start), ("seek", stages.seek), ("capture", stages.capture), ("compose_encode", stages.compose_encode), ("merge", stages.merge)] {
        counters.add_stage(stage, seconds);
    }
    counters.render_seconds_millis.fetch_add((report.wall_seconds * 1000.0) as u64, Ordering::Relaxed);
}
