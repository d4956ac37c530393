//! What the store keeps of a job, and what the status endpoint shows.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::request::RenderJobRequest;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Processing,
    Completed,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Processing => "processing",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// A job as stored (snake_case, as the status endpoint answers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub job_id: String,
    pub status: JobStatus,
    /// 0–100, never lower than before.
    pub progress: f64,
    pub message: String,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub download_url: Option<String>,
    /// Where the output is stored (storage key).
    pub output_key: String,
    pub created_at: String,
    pub updated_at: String,
    /// The request as submitted.
    pub request: RenderJobRequest,
    pub request_digest: String,
    /// Frames, drops, fps, memory and stage timings (the QC report's numbers).
    pub metrics: serde_json::Value,
    /// Sequence number the next callback event of this job gets.
    pub next_event_seq: u64,
}

impl JobRecord {
    /// A freshly queued job.
    pub fn queued(job_id: String, output_key: String, request: RenderJobRequest) -> Self {
        let now = timestamp();
        Self {
            request_digest: request.digest(),
            job_id,
            status: JobStatus::Queued,
            progress: 0.0,
            message: "Job queued for processing".to_owned(),
            error_code: None,
            error_message: None,
            download_url: None,
            output_key,
            created_at: now.clone(),
            updated_at: now,
            request,
            metrics: serde_json::json!({}),
            next_event_seq: 0,
        }
    }

    /// Raises the progress (it never goes back) and stamps the update.
    pub fn advance(&mut self, progress: f64) {
        if progress > self.progress {
            self.progress = progress.min(100.0);
        }
        self.updated_at = timestamp();
    }
}

/// Now, as UTC ISO 8601 with milliseconds.
pub fn timestamp() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}
