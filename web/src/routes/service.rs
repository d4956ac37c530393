//! Health, liveness, readiness, queue status and Prometheus metrics.

use actix_web::{web, HttpResponse};
use motionrender_actors::job::JobStatus;
use motionrender_actors::Engine;
use motionrender_engine::browser::find_executable;
use motionrender_engine::media::nvenc_status;

use super::bodies::{EncoderHealth, Health, HealthBrowsers, HealthEncoders, HealthGpu, HealthQueue, JobCounts, Liveness, QueueStatus, Readiness};
use crate::checks::{self, Purpose, Verdict};


pub async fn health(engine: web::Data<Engine>) -> HttpResponse {
    let (waiting, running) = engine.queue_counts();
    let nvenc = web::block(nvenc_status).await.ok();
    let browsers = engine.browsers().await;
    let browser = find_executable();
    HttpResponse::Ok().json(Health {
        status: if engine.is_accepting() { "healthy" } else { "draining" },
        timestamp: motionrender_actors::job::timestamp(),
        queue: HealthQueue { pending_jobs: waiting, processing_jobs: running, max_running_jobs: engine.config().server.max_running_jobs },
        browsers: HealthBrowsers {
            executable: browser.as_ref().ok().map(|path| path.display().to_string()),
            available: browser.is_ok(),
            reason: browser.err().map(|e| e.to_string()),
            pages_per_job: engine.config().browser.pool_size,
            warm: browsers.idle,
            alive: browsers.alive,
        },
        encoders: HealthEncoders {
            nvenc: EncoderHealth { available: nvenc.as_ref().is_some_and(|s| s.usable), reason: nvenc.as_ref().map(|s| s.reason.clone()) },
            x264: EncoderHealth { available: true, reason: Some("FFmpeg's libx264".to_owned()) },
        },
        gpu: HealthGpu { nvenc_device: std::path::Path::new("/dev/nvidia0").exists() },
        workers: running,
    })
}

pub async fn livez() -> HttpResponse {
    HttpResponse::Ok().json(Liveness { status: "alive" })
}

/// Ready when taking jobs and able to render them: the required checks of
/// `motionrender doctor` pass (browser, FFmpeg, page and its npm packages,
/// writable folders).
pub async fn readyz(engine: web::Data<Engine>) -> HttpResponse {
    if !engine.is_accepting() {
        return HttpResponse::ServiceUnavailable().json(Readiness { status: "draining", reasons: None });
    }
    let config = engine.config().clone();
    let reasons = web::block(move || {
        checks::required(&config, Purpose::Serve).into_iter().filter(|check| check.verdict == Verdict::Fail).map(|check| check.summary()).collect::<Vec<_>>()
    })
    .await
    .unwrap_or_else(|e| vec![e.to_string()]);
    let mut reasons = reasons;
    if let Some(Err(error)) = engine.work_queue_reachable().await {
        reasons.push(format!("work queue: {error}"));
    }
    if reasons.is_empty() {
        HttpResponse::Ok().json(Readiness { status: "ready", reasons: None })
    } else {
        HttpResponse::ServiceUnavailable().json(Readiness { status: "not_ready", reasons: Some(reasons) })
    }
}

pub async fn queue_status(engine: web::Data<Engine>) -> HttpResponse {
    let (waiting, running) = engine.queue_counts();
    let work_queue = engine.work_queue().await.map(|snapshot| match snapshot {
        Ok(snapshot) => {
            let mut shown = serde_json::to_value(&snapshot).unwrap_or_default();
            shown["reachable"] = true.into();
            shown
        }
        Err(error) => serde_json::json!({ "reachable": false, "error": error.to_string() }),
    });
    let count = |status: JobStatus| engine.count(status);
    HttpResponse::Ok().json(QueueStatus {
        pending_jobs: waiting,
        processing_jobs: running,
        estimated_wait_time: if waiting == 0 { 0 } else { engine.retry_after_seconds() },
        detailed_status: JobCounts {
            queued: count(JobStatus::Queued),
            processing: count(JobStatus::Processing),
            completed: count(JobStatus::Completed),
            failed: count(JobStatus::Failed),
            cancelled: count(JobStatus::Cancelled),
        },
        work_queue,
    })
}

/// The engine's metrics as Prometheus text; the levels (jobs waiting and
/// running, browsers alive and idle) are read as the request comes.
pub async fn metrics(engine: web::Data<Engine>) -> HttpResponse {
    let (waiting, running) = engine.queue_counts();
    let browsers = engine.browsers().await;
    let metrics = engine.metrics();
    metrics.set_levels(waiting, running, browsers.alive, browsers.idle);
    let mut text = metrics.render();
    if let Some(snapshot) = engine.work_queue().await {
        text.push_str(&motionrender_actors::farm::prometheus_text(snapshot.ok().as_ref()));
    }
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text)
}
