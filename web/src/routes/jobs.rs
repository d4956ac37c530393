//! Submit, status, cancel, download and QC of a job.

use actix_web::{web, HttpRequest, HttpResponse};
use motionrender_actors::job::{JobRecord, JobStatus};
use motionrender_actors::limits::check_limits;
use motionrender_actors::{ApiError, Engine};
use serde_json::json;

use super::bodies::{Accepted, CancelAnswer, JobStatusView};
use super::error_response;
use super::ranged_file::ranged_file;
use crate::body;

pub async fn submit(engine: web::Data<Engine>, request: HttpRequest, payload: web::Payload) -> HttpResponse {
    if let Err(error) = body::require_json(request.headers()) {
        return error_response(&engine, &error);
    }
    let limit = engine.config().server.max_body_bytes;
    if let Err(error) = body::require_declared_within(request.headers(), limit) {
        return error_response(&engine, &error);
    }
    let bytes = match body::read_limited(payload, limit).await {
        Ok(bytes) => bytes,
        Err(error) => return error_response(&engine, &error),
    };
    // Parsing megabytes is work for a blocking thread, not the server's
    // event loop; what a request may carry is bounded before the engine
    // looks at it.
    let limits = engine.config().limits.clone();
    let parsed = web::block(move || {
        let job = body::render_request(&bytes)?;
        check_limits(&limits, &job).map_err(ApiError::from)?;
        Ok::<_, ApiError>(job)
    })
    .await;
    let job = match parsed {
        Ok(Ok(job)) => job,
        Ok(Err(error)) => return error_response(&engine, &error),
        Err(error) => return error_response(&engine, &ApiError::internal(format!("cannot read the request: {error}"))),
    };
    match engine.submit(job).await {
        Ok(submitted) if submitted.created => HttpResponse::Accepted()
            .insert_header(("Location", location(&request, &submitted.job.job_id)))
            .json(Accepted {
                status: "accepted",
                job_id: submitted.job.job_id.clone(),
                message: submitted.job.message.clone(),
                estimated_time: engine.retry_after_seconds(),
            }),
        Ok(submitted) => HttpResponse::Ok().json(JobStatusView::of(&submitted.job)),
        Err(error) => error_response(&engine, &error),
    }
}

/// `…/api/render/{id}/status` under the scope the request came through.
fn location(request: &HttpRequest, job_id: &str) -> String {
    let path = request.path();
    let prefix = path.strip_suffix("/render").unwrap_or("");
    format!("{prefix}/api/render/{job_id}/status")
}

pub async fn status(engine: web::Data<Engine>, job_id: web::Path<String>) -> HttpResponse {
    match engine.job(&job_id) {
        Ok(job) => HttpResponse::Ok().json(JobStatusView::of(&job)),
        Err(error) => error_response(&engine, &error),
    }
}

pub async fn list(engine: web::Data<Engine>) -> HttpResponse {
    match engine.jobs() {
        Ok(jobs) => HttpResponse::Ok().json(jobs.iter().map(JobStatusView::of).collect::<Vec<_>>()),
        Err(error) => error_response(&engine, &error),
    }
}

pub async fn cancel(engine: web::Data<Engine>, job_id: web::Path<String>) -> HttpResponse {
    match engine.cancel(&job_id).await {
        Ok(true) => HttpResponse::Ok().json(CancelAnswer { success: true, message: format!("job {job_id} cancelled") }),
        Ok(false) => HttpResponse::Ok().json(CancelAnswer { success: false, message: format!("job {job_id} has already finished") }),
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

/// A file of a completed job whose output is stored here, streamed (with
/// `Range` support); a job that has not completed is a `409 JOB_NOT_COMPLETED`.
async fn finished_file(
    engine: &Engine,
    request: &HttpRequest,
    job_id: &str,
    content_type: &'static str,
    pick: impl Fn(&std::path::Path) -> std::path::PathBuf,
) -> HttpResponse {
    let job = match engine.job(job_id) {
        Ok(job) => job,
        Err(error) => return error_response(engine, &error),
    };
    match engine.local_output(&job) {
        Some(output) => ranged_file(request.headers(), &pick(&output), content_type, request.method() == actix_web::http::Method::HEAD).await,
        None => error_response(engine, &not_downloadable(&job)),
    }
}

/// Why a job has nothing to download here.
fn not_downloadable(job: &JobRecord) -> ApiError {
    let status = job.status.as_str();
    let mut error = if job.status == JobStatus::Completed {
        ApiError::new(404, "OUTPUT_NOT_FOUND", format!("job {} has completed, but its output is not stored on this server", job.job_id))
            .suggest("fetch the job's download_url (outputs stored in S3 are downloaded from there)")
    } else if job.status.is_finished() {
        ApiError::new(409, "JOB_NOT_COMPLETED", format!("job {} is {status}: it has no output", job.job_id))
            .suggest("see the job's error_code and error_message in its status, and submit it again under a new jobId")
    } else {
        ApiError::new(409, "JOB_NOT_COMPLETED", format!("job {} is {status}: its output is not ready yet", job.job_id))
            .suggest("wait for status completed (GET /api/render/{job_id}/status or its /events), then download")
    };
    error.details = json!({ "status": status, "progress": job.progress, "download_url": job.download_url });
    error.with_job(&job.job_id)
}
