//! Job events: the payloads of callbacks and of the live event stream.

use serde_json::{json, Value};

use crate::job::{timestamp, JobRecord};

/// What a job's watchers are told (the same JSON a callback carries, plus
/// `event_id` once it is in the outbox).
#[derive(Debug, Clone, PartialEq)]
pub struct JobEvent {
    pub job_id: String,
    pub payload: Value,
}

/// The event for `job` as it stands: progress, completed, failed or cancelled.
pub fn payload(job: &JobRecord) -> Value {
    let metric = |key: &str| job.metrics.get(key).cloned().unwrap_or(Value::Null);
    let base = json!({ "job_id": job.job_id, "status": job.status.as_str(), "timestamp": timestamp() });
    let extra = match job.status.as_str() {
        "completed" => json!({
            "progress": 100,
            "download_url": job.download_url,
            "file_size": metric("file_size"),
            "duration": metric("duration"),
            "message": job.message,
            "total_frames_processed": metric("frames_processed"),
            "total_frames_dropped": metric("frames_dropped"),
            "final_drop_rate": metric("drop_rate"),
            "peak_memory_mb": metric("memory_peak_mb"),
            "average_fps": metric("fps"),
            "qc_report_url": metric("qc_report_url"),
        }),
        "failed" => json!({
            "error_code": job.error_code,
            "error_message": job.error_message,
            "details": metric("error_details"),
        }),
        "cancelled" => json!({ "message": job.message }),
        _ => json!({
            "progress": job.progress,
            "message": job.message,
            "estimated_time_remaining": metric("eta_seconds"),
            "frames_processed": metric("frames_processed"),
            "frames_dropped": metric("frames_dropped"),
            "drop_rate": metric("drop_rate"),
            "memory_peak_mb": metric("memory_peak_mb"),
        }),
    };
    merge(base, extra)
}

fn merge(mut base: Value, extra: Value) -> Value {
    if let (Some(base), Value::Object(extra)) = (base.as_object_mut(), extra) {
        base.extend(extra);
    }
    base
}
