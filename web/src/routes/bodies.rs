//! The JSON bodies the routes answer with, as types: the handlers build
//! them, and `/openapi.json` describes them from the same types.

use motionrender_actors::job::{JobRecord, JobStatus};
use serde::Serialize;
use utoipa::ToSchema;

/// `202` to a new job.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    /// Always `accepted`.
    pub status: &'static str,
    pub job_id: String,
    pub message: String,
    /// Seconds until a slot is likely free.
    pub estimated_time: u64,
}

/// A job's status, progress and metrics.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobStatusView {
    pub job_id: String,
    pub status: JobStatus,
    /// 0–100, never lower than before.
    pub progress: f64,
    pub message: String,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub download_url: Option<String>,
    /// Seconds, while rendering.
    pub estimated_time_remaining: Option<f64>,
    /// Frames processed, captured, reused and dropped, drop rate, fps, peak
    /// memory and stage timings (running numbers while processing).
    #[schema(value_type = Object)]
    pub metrics: serde_json::Value,
    pub created_at: String,
    pub updated_at: String,
}

impl JobStatusView {
    pub fn of(job: &JobRecord) -> Self {
        Self {
            job_id: job.job_id.clone(),
            status: job.status,
            progress: job.progress,
            message: job.message.clone(),
            error_code: job.error_code.clone(),
            error_message: job.error_message.clone(),
            download_url: job.download_url.clone(),
            estimated_time_remaining: job.metrics.get("eta_seconds").and_then(serde_json::Value::as_f64),
            metrics: job.metrics.clone(),
            created_at: job.created_at.clone(),
            updated_at: job.updated_at.clone(),
        }
    }
}

/// The answer to a cancel.
#[derive(Debug, Serialize, ToSchema)]
pub struct CancelAnswer {
    /// False when the job had finished already.
    pub success: bool,
    pub message: String,
}

/// Jobs waiting and running.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueStatus {
    pub pending_jobs: usize,
    pub processing_jobs: usize,
    /// Seconds a new job would wait, roughly.
    pub estimated_wait_time: u64,
    pub detailed_status: JobCounts,
    /// *new*, with `serve --queue` only: the task stream's length, pending
    /// tasks, the workers with their pending tasks and last heartbeat; or
    /// `{"reachable": false, "error": …}` when Redis does not answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub work_queue: Option<serde_json::Value>,
}

/// Jobs in each state (kept as jobs change, not counted).
#[derive(Debug, Serialize, ToSchema)]
pub struct JobCounts {
    pub queued: u64,
    pub processing: u64,
    pub completed: u64,
    pub failed: u64,
    pub cancelled: u64,
}

/// Health: queue, browsers, encoders.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `healthy`, or `draining` while shutting down.
    pub status: &'static str,
    pub timestamp: String,
    pub queue: HealthQueue,
    pub browsers: HealthBrowsers,
    pub encoders: HealthEncoders,
    pub gpu: HealthGpu,
    /// Jobs running.
    pub workers: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthQueue {
    pub pending_jobs: usize,
    pub processing_jobs: usize,
    pub max_running_jobs: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthBrowsers {
    pub executable: Option<String>,
    pub available: bool,
    pub reason: Option<String>,
    pub pages_per_job: u32,
    /// Browsers idle and ready.
    pub warm: u32,
    pub alive: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthEncoders {
    pub nvenc: EncoderHealth,
    pub x264: EncoderHealth,
}

/// Whether an encoder can be used, and why (not).
#[derive(Debug, Serialize, ToSchema)]
pub struct EncoderHealth {
    pub available: bool,
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthGpu {
    /// Whether `/dev/nvidia0` exists.
    pub nvenc_device: bool,
}

/// `/livez`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Liveness {
    /// Always `alive`.
    pub status: &'static str,
}

/// `/readyz`: `ready`, `not_ready` (with the reasons) or `draining`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    pub status: &'static str,
    /// What is missing, each with what to do (as `motionrender doctor` says it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<String>>,
}
