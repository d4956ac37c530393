//! Health, liveness, readiness, queue status and Prometheus metrics.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use actix_web::{web, HttpResponse};
use motionrender_actors::job::JobStatus;
use motionrender_actors::{Counters, Engine};
use motionrender_engine::browser::{find_executable, page_dir};
use motionrender_engine::media::nvenc_status;
use serde_json::json;


pub async fn health(engine: web::Data<Engine>) -> HttpResponse {
    let (waiting, running) = engine.queue_counts();
    let nvenc = web::block(nvenc_status).await.ok();
    let browsers = engine.browsers().await;
    let browser = find_executable();
    HttpResponse::Ok().json(json!({
        "status": if engine.is_accepting() { "healthy" } else { "draining" },
        "timestamp": motionrender_actors::job::timestamp(),
        "queue": { "pending_jobs": waiting, "processing_jobs": running, "max_running_jobs": engine.config().server.max_running_jobs },
        "browsers": {
            "executable": browser.as_ref().ok().map(|path| path.display().to_string()),
            "available": browser.is_ok(),
            "reason": browser.err().map(|e| e.to_string()),
            "pages_per_job": engine.config().browser.pool_size,
            "warm": browsers.idle,
            "alive": browsers.alive,
        },
        "encoders": {
            "nvenc": { "available": nvenc.as_ref().is_some_and(|s| s.usable), "reason": nvenc.as_ref().map(|s| s.reason.clone()) },
            "x264": { "available": true, "reason": "FFmpeg's libx264" },
        },
        "gpu": { "nvenc_device": std::path::Path::new("/dev/nvidia0").exists() },
        "workers": running,
    }))
}

pub async fn livez() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "alive" }))
}

/// Ready when taking jobs and able to render them: a browser to launch, the
/// page's npm packages installed, and a writable work folder.
pub async fn readyz(engine: web::Data<Engine>) -> HttpResponse {
    if !engine.is_accepting() {
        return HttpResponse::ServiceUnavailable().json(json!({ "status": "draining" }));
    }
    let work_dir = std::path::PathBuf::from(&engine.config().paths.work_dir);
    let browser = engine.config().browser.executable().map(std::path::PathBuf::from);
    let checks = web::block(move || {
        let mut missing = Vec::new();
        match browser {
            Some(path) if !path.is_file() => missing.push(format!("the configured browser {} does not exist", path.display())),
            Some(_) => {}
            None => {
                if let Err(error) = find_executable() {
                    missing.push(error.to_string());
                }
            }
        }
        if !page_dir().join("node_modules/motiontext-renderer").is_dir() {
            missing.push("the page's npm packages are not installed (run scripts/setup)".to_owned());
        }
        if tempfile::tempfile_in(&work_dir).is_err() {
            missing.push(format!("the work folder {} is not writable", work_dir.display()));
        }
        missing
    })
    .await
    .unwrap_or_else(|e| vec![e.to_string()]);
    if checks.is_empty() {
        HttpResponse::Ok().json(json!({ "status": "ready" }))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({ "status": "not_ready", "reasons": checks }))
    }
}

pub async fn queue_status(engine: web::Data<Engine>) -> HttpResponse {
    let (waiting, running) = engine.queue_counts();
    let count = |status: JobStatus| engine.count(status);
    HttpResponse::Ok().json(json!({
        "pending_jobs": waiting,
        "processing_jobs": running,
        "estimated_wait_time": if waiting == 0 { 0 } else { engine.retry_after_seconds() },
        "detailed_status": {
            "queued": count(JobStatus::Queued),
            "processing": count(JobStatus::Processing),
            "completed": count(JobStatus::Completed),
            "failed": count(JobStatus::Failed),
            "cancelled": count(JobStatus::Cancelled),
        },
    }))
}

pub async fn metrics(engine: web::Data<Engine>) -> HttpResponse {
    let counters = engine.counters();
    let browsers = engine.browsers().await;
    let mut text = String::new();
    let _ = writeln!(text, "# HELP motionrender_jobs Jobs by state.\n# TYPE motionrender_jobs gauge");
    for status in JobStatus::ALL {
        let _ = writeln!(text, "motionrender_jobs{{state=\"{}\"}} {}", status.as_str(), engine.count(status));
    }
    let _ = writeln!(text, "# HELP motionrender_job_panics_total Jobs whose work panicked (failed with INTERNAL_ERROR).\n# TYPE motionrender_job_panics_total counter");
    let _ = writeln!(text, "motionrender_job_panics_total {}", Counters::get(&counters.job_panics));
    let _ = writeln!(text, "# HELP motionrender_job_failures_total Failed jobs by error code.\n# TYPE motionrender_job_failures_total counter");
    for (code, n) in counters.failures() {
        let _ = writeln!(text, "motionrender_job_failures_total{{code=\"{code}\"}} {n}");
    }
    let _ = writeln!(text, "# HELP motionrender_browsers Browsers of the warm pool.\n# TYPE motionrender_browsers gauge");
    let _ = writeln!(text, "motionrender_browsers{{state=\"alive\"}} {}", browsers.alive);
    let _ = writeln!(text, "motionrender_browsers{{state=\"idle\"}} {}", browsers.idle);
    let _ = writeln!(text, "# HELP motionrender_browser_leases_total Browsers leased to pages, by whether they were launched or warm.\n# TYPE motionrender_browser_leases_total counter");
    let _ = writeln!(text, "motionrender_browser_leases_total{{browser=\"launched\"}} {}", Counters::get(&counters.browsers_launched));
    let _ = writeln!(text, "motionrender_browser_leases_total{{browser=\"reused\"}} {}", Counters::get(&counters.browsers_reused));
    let _ = writeln!(text, "# HELP motionrender_browsers_replaced_total Browsers that crashed or failed a health check.\n# TYPE motionrender_browsers_replaced_total counter");
    let _ = writeln!(text, "motionrender_browsers_replaced_total {}", Counters::get(&counters.browsers_replaced));
    let _ = writeln!(text, "# HELP motionrender_backpressure_pauses_total Times producers were paused for memory.\n# TYPE motionrender_backpressure_pauses_total counter");
    let _ = writeln!(text, "motionrender_backpressure_pauses_total {}", Counters::get(&counters.backpressure_pauses));
    let _ = writeln!(text, "# HELP motionrender_pool_shrinks_total Times the browser pool was shrunk for memory.\n# TYPE motionrender_pool_shrinks_total counter");
    let _ = writeln!(text, "motionrender_pool_shrinks_total {}", Counters::get(&counters.pool_shrinks));
    let _ = writeln!(text, "# HELP motionrender_actor_restarts_total Actor restarts by actor.\n# TYPE motionrender_actor_restarts_total counter");
    for (actor, n) in counters.restarts() {
        let _ = writeln!(text, "motionrender_actor_restarts_total{{actor=\"{actor}\"}} {n}");
    }
    let _ = writeln!(text, "# HELP motionrender_frames_total Frames of finished renders by origin.\n# TYPE motionrender_frames_total counter");
    for (kind, counter) in [
        ("captured", &counters.frames_captured),
        ("reused", &counters.frames_reused),
        ("empty", &counters.frames_empty),
        ("dropped", &counters.frames_dropped),
    ] {
        let _ = writeln!(text, "motionrender_frames_total{{kind=\"{kind}\"}} {}", counter.load(Ordering::Relaxed));
    }
    let _ = writeln!(text, "# HELP motionrender_render_seconds_total Wall seconds of finished renders.\n# TYPE motionrender_render_seconds_total counter");
    let _ = writeln!(text, "motionrender_render_seconds_total {}", counters.render_seconds_millis.load(Ordering::Relaxed) as f64 / 1000.0);
    let _ = writeln!(text, "# HELP motionrender_queue_total Overlay frames through the frame queues.\n# TYPE motionrender_queue_total counter");
    let _ = writeln!(text, "motionrender_queue_total{{op=\"push\"}} {}", counters.queue_pushed.load(Ordering::Relaxed));
    let _ = writeln!(text, "motionrender_queue_total{{op=\"pop\"}} {}", counters.queue_popped.load(Ordering::Relaxed));
    let _ = writeln!(text, "# HELP motionrender_stage_seconds_total Seconds per pipeline stage, summed over finished jobs.\n# TYPE motionrender_stage_seconds_total counter");
    for (stage, seconds) in counters.stage_seconds() {
        let _ = writeln!(text, "motionrender_stage_seconds_total{{stage=\"{stage}\"}} {seconds}");
    }
    let _ = writeln!(text, "# HELP motionrender_callbacks_total Callback deliveries by outcome.\n# TYPE motionrender_callbacks_total counter");
    let _ = writeln!(text, "motionrender_callbacks_total{{outcome=\"delivered\"}} {}", counters.callbacks_delivered.load(Ordering::Relaxed));
    let _ = writeln!(text, "motionrender_callbacks_total{{outcome=\"abandoned\"}} {}", counters.callbacks_abandoned.load(Ordering::Relaxed));
    let _ = writeln!(text, "motionrender_callback_attempts_total {}", counters.callback_attempts.load(Ordering::Relaxed));
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(text)
}
