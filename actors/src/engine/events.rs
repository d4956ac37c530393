//! Job events: the payloads of callbacks and of the live event stream,
//! typed (so `/openapi.json` describes them from these types), tagged by the
//! job's `status`.

use serde::Serialize;
use serde_json::Value;

use crate::job::{timestamp, JobRecord, JobStatus};

/// What a job's watchers are told (the same JSON a callback carries, plus
/// `event_id` once it is in the outbox).
#[derive(Debug, Clone, PartialEq)]
pub struct JobEvent {
    pub job_id: String,
    pub payload: Value,
}

/// A callback's or live event's body, by the job's status.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum JobEventPayload {
    Queued(ProgressEvent),
    Processing(ProgressEvent),
    Completed(CompletedEvent),
    Failed(FailedEvent),
    Cancelled(CancelledEvent),
}

/// A job waiting or rendering.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProgressEvent {
    pub job_id: String,
    /// UTC, RFC 3339 with milliseconds.
    pub timestamp: String,
    /// Unique per event: receivers de-duplicate on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// 0–100, never lower than before.
    pub progress: f64,
    pub message: String,
    pub estimated_time_remaining: Option<f64>,
    pub frames_processed: Option<u64>,
    pub frames_dropped: Option<u64>,
    pub drop_rate: Option<f64>,
    pub memory_peak_mb: Option<u64>,
}

/// A job whose output is stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CompletedEvent {
    pub job_id: String,
    pub timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Always 100.
    pub progress: u8,
    pub download_url: Option<String>,
    /// Bytes of the output.
    pub file_size: Option<u64>,
    /// Seconds of the output.
    pub duration: Option<f64>,
    pub message: String,
    pub total_frames_processed: Option<u64>,
    pub total_frames_dropped: Option<u64>,
    pub final_drop_rate: Option<f64>,
    pub peak_memory_mb: Option<u64>,
    pub average_fps: Option<f64>,
    pub qc_report_url: Option<String>,
}

/// A job that failed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FailedEvent {
    pub job_id: String,
    pub timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// What the failure concerns (null when nothing more is known).
    #[schema(value_type = Object, nullable)]
    pub details: Value,
}

/// A job that was cancelled.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CancelledEvent {
    pub job_id: String,
    pub timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    pub message: String,
}

/// The event for `job` as it stands: progress, completed, failed or cancelled.
pub fn payload(job: &JobRecord) -> Value {
    serde_json::to_value(typed(job)).unwrap_or(Value::Null)
}

fn typed(job: &JobRecord) -> JobEventPayload {
    let metric = |key: &str| job.metrics.get(key);
    let count = |key: &str| metric(key).and_then(Value::as_u64);
    let number = |key: &str| metric(key).and_then(Value::as_f64);
    let (job_id, timestamp) = (job.job_id.clone(), timestamp());
    match job.status {
        JobStatus::Completed => JobEventPayload::Completed(CompletedEvent {
            job_id,
            timestamp,
            event_id: None,
            progress: 100,
            download_url: job.download_url.clone(),
            file_size: count("file_size"),
            duration: number("duration"),
            message: job.message.clone(),
            total_frames_processed: count("frames_processed"),
            total_frames_dropped: count("frames_dropped"),
            final_drop_rate: number("drop_rate"),
            peak_memory_mb: count("memory_peak_mb"),
            average_fps: number("fps"),
            qc_report_url: metric("qc_report_url").and_then(Value::as_str).map(str::to_owned),
        }),
        JobStatus::Failed => JobEventPayload::Failed(FailedEvent {
            job_id,
            timestamp,
            event_id: None,
            error_code: job.error_code.clone(),
            error_message: job.error_message.clone(),
            details: metric("error_details").cloned().unwrap_or(Value::Null),
        }),
        JobStatus::Cancelled => JobEventPayload::Cancelled(CancelledEvent { job_id, timestamp, event_id: None, message: job.message.clone() }),
        JobStatus::Queued | JobStatus::Processing => {
            let progress = ProgressEvent {
                job_id,
                timestamp,
                event_id: None,
                progress: job.progress,
                message: job.message.clone(),
                estimated_time_remaining: number("eta_seconds"),
                frames_processed: count("frames_processed"),
                frames_dropped: count("frames_dropped"),
                drop_rate: number("drop_rate"),
                memory_peak_mb: count("memory_peak_mb"),
            };
            if job.status == JobStatus::Queued {
                JobEventPayload::Queued(progress)
            } else {
                JobEventPayload::Processing(progress)
            }
        }
    }
}
