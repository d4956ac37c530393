//! Submit, status, cancel, download and QC of a job.

use actix_web::{web, HttpRequest, HttpResponse};
use motionrender_actors::job::{JobRecord, JobStatus};
use motionrender_actors::Engine;
use serde_json::json;

use super::error_response;
use crate::{auth, body};

pub async fn submit(engine: web::Data<Engine>, request: HttpRequest, payload: web::Payload) -> HttpResponse {
    if let Err(error) = auth::authorize(&engine, &request) {
        return error_response(&engine, &error);
    }
    let limit = engine.config().server.max_body_bytes;
    let job = match body::read_limited(payload, limit).await.and_then(|bytes| body::render_request(&bytes)) {
        Ok(job) => job,
        Err(error) => return error_response(&engine, &error),
    };
    match engine.submit(job).await {
        Ok(submitted) if submitted.created => HttpResponse::Accepted()
            .insert_header(("Location", location(&request, &submitted.job.job_id)))
            .json(json!({
                "status": "accepted",
                "job_id": submitted.job.job_id,
                "message": submitted.job.message,
                "estimated_time": engine.retry_after_seconds(),
            })),
        Ok(submitted) => HttpResponse::Ok().json(status_view(&submitted.job)),
        Err(error) => error_response(&engine, &error),
    }
}

/// `…/api/render/{id}/status` under the scope the request came through.
fn location(request: &HttpRequest, job_id: &str) -> String {
    let path = request.path();
    let prefix = path.strip_suffix("/render").unwrap_or("");
    format!("{prefix}/api/render/{job_id}/status")
}

pub async fn status(engine: web::Data<Engine>, request: HttpRequest, job_id: web::Path<String>) -> HttpResponse {
    if let Err(error) = auth::authorize(&engine, &request) {
        return error_response(&engine, &error);
    }
    match engine.job(&job_id) {
        Ok(job) => HttpResponse::Ok().json(status_view(&job)),
        Err(error) => error_response(&engine, &error),
    }
}

pub async fn list(engine: web::Data<Engine>, request: HttpRequest) -> HttpResponse {
    if let Err(error) = auth::authorize(&engine, &request) {
        return error_response(&engine, &error);
    }
    match engine.jobs() {
        Ok(jobs) => HttpResponse::Ok().json(jobs.iter().map(status_view).collect::<Vec<_>>()),
        Err(error) => error_response(&engine, &error),
    }
}

/// What the status endpoint answers (snake_case, as API.md).
pub fn status_view(job: &JobRecord) -> serde_json::Value {
    json!({
        "job_id": job.job_id,
        "status": job.status.as_str(),
        "progress": job.progress,
        "message": job.message,
        "error_code": job.error_code,
        "error_message": job.error_message,
        "download_url": job.download_url,
        "estimated_time_remaining": job.metrics.get("eta_seconds"),
        "metrics": job.metrics,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
    })
}

pub async fn cancel(engine: web::Data<Engine>, request: HttpRequest, job_id: web::Path<String>) -> HttpResponse {
    if let Err(error) = auth::authorize(&engine, &request) {
        return error_response(&engine, &error);
    }
    match engine.cancel(&job_id).await {
        Ok(true) => HttpResponse::Ok().json(json!({ "success": true, "message": format!("job {job_id} cancelled") })),
        Ok(false) => HttpResponse::Ok().json(json!({ "success": false, "message": format!("job {job_id} has already finished") })),
        Err(error) => error_response(&engine, &error),
    }
}

pub async fn download(engine: web::Data<Engine>, request: HttpRequest, job_id: web::Path<String>) -> HttpResponse {
    finished_file(&engine, &request, &job_id, "video/mp4", |path| path.to_path_buf()).await
}

pub async fn qc_report(engine: web::Data<Engine>, request: HttpRequest, job_id: web::Path<String>) -> HttpResponse {
    finished_file(&engine, &request, &job_id, "application/json", |path| {
        let mut name = path.as_os_str().to_owned();
        name.push(".qc.json");
        name.into()
    })
    .await
}

async fn finished_file(
    engine: &Engine,
    request: &HttpRequest,
    job_id: &str,
    content_type: &'static str,
    pick: impl Fn(&std::path::Path) -> std::path::PathBuf,
) -> HttpResponse {
    if let Err(error) = auth::authorize(engine, request) {
        return error_response(engine, &error);
    }
    let job = match engine.job(job_id) {
        Ok(job) => job,
        Err(error) => return error_response(engine, &error),
    };
    let Some(output) = engine.local_output(&job) else {
        let message = if job.status == JobStatus::Completed { "the output is not stored locally" } else { "the job has not completed" };
        return HttpResponse::NotFound().json(json!({ "error_code": "JOB_NOT_FOUND", "error_message": message, "job_id": job_id }));
    };
    match tokio::fs::read(pick(&output)).await {
        Ok(bytes) => HttpResponse::Ok().content_type(content_type).body(bytes),
        Err(e) => HttpResponse::InternalServerError().json(json!({ "error_code": "STORAGE_ACCESS_ERROR", "error_message": e.to_string(), "job_id": job_id })),
    }
}
