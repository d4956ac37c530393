//! What the store keeps of a job, what the status endpoint shows, and the
//! legal changes of a job's state.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Processing,
    Completed,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub const ALL: [JobStatus; 5] = [Self::Queued, Self::Processing, Self::Completed, Self::Failed, Self::Cancelled];

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

/// A job as stored (snake_case, as the status endpoint answers). The
/// request itself (with its scenario) is stored once, apart from this.
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
    /// Where the job's events are posted, when the request named a place.
    pub callback_url: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub request_digest: String,
    /// Frames, drops, fps, memory and stage timings (the QC report's numbers).
    pub metrics: serde_json::Value,
    /// Sequence number the next callback event of this job gets.
    pub next_event_seq: u64,
}

/// One change of a job's state, as the job's actor asks the store for it.
#[derive(Debug, Clone, PartialEq)]
pub enum JobChange {
    /// queued → processing.
    Start,
    /// processing → processing, with the progress (never going back) and the running numbers.
    Progress { progress: f64, metrics: serde_json::Value },
    /// processing → completed.
    Complete { download_url: String, metrics: serde_json::Value },
    /// queued | processing → failed.
    Fail { code: String, message: String, details: serde_json::Value },
    /// queued | processing → cancelled.
    Cancel,
}

impl JobChange {
    /// The state the change leads to.
    pub fn target(&self) -> JobStatus {
        match self {
            Self::Start | Self::Progress { .. } => JobStatus::Processing,
            Self::Complete { .. } => JobStatus::Completed,
            Self::Fail { .. } => JobStatus::Failed,
            Self::Cancel => JobStatus::Cancelled,
        }
    }
}

/// A change the job's state does not allow (e.g. anything out of a terminal state).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job {job_id}: {from} cannot become {to}")]
pub struct IllegalTransition {
    pub job_id: String,
    pub from: &'static str,
    pub to: &'static str,
}

impl JobRecord {
    /// A freshly queued job.
    pub fn queued(job_id: String, output_key: String, callback_url: Option<String>, request_digest: String) -> Self {
        let now = timestamp();
        Self {
            request_digest,
            job_id,
            status: JobStatus::Queued,
            progress: 0.0,
            message: "Job queued for processing".to_owned(),
            error_code: None,
            error_message: None,
            download_url: None,
            output_key,
            callback_url,
            created_at: now.clone(),
            updated_at: now,
            metrics: serde_json::json!({}),
            next_event_seq: 0,
        }
    }

    /// Applies `change` when the job's state allows it.
    pub fn apply(&mut self, change: &JobChange) -> Result<(), IllegalTransition> {
        use JobStatus::{Processing, Queued};
        let allowed = match change {
            JobChange::Start => self.status == Queued,
            JobChange::Progress { .. } | JobChange::Complete { .. } => self.status == Processing,
            JobChange::Fail { .. } | JobChange::Cancel => matches!(self.status, Queued | Processing),
        };
        if !allowed {
            return Err(IllegalTransition { job_id: self.job_id.clone(), from: self.status.as_str(), to: change.target().as_str() });
        }
        self.status = change.target();
        match change {
            JobChange::Start => {
                self.message = "Rendering".to_owned();
                self.advance(0.0);
            }
            JobChange::Progress { progress, metrics } => {
                self.metrics = metrics.clone();
                self.advance(*progress);
            }
            JobChange::Complete { download_url, metrics } => {
                self.message = "Render completed".to_owned();
                self.download_url = Some(download_url.clone());
                self.metrics = metrics.clone();
                self.advance(100.0);
            }
            JobChange::Fail { code, message, details } => {
                self.message = "Render failed".to_owned();
                self.error_code = Some(code.clone());
                self.error_message = Some(message.clone());
                self.metrics["error_details"] = details.clone();
                self.advance(0.0);
            }
            JobChange::Cancel => {
                self.message = "Job cancelled".to_owned();
                self.advance(0.0);
            }
        }
        Ok(())
    }

    /// The storage keys the job writes: its output and, beside it, its QC
    /// report. The store gives them to this job alone.
    pub fn stored_keys(&self) -> [String; 2] {
        [self.output_key.clone(), qc_key(&self.output_key)]
    }

    /// When the job last changed (for a finished job, when it finished);
    /// `None` when the stamp cannot be read.
    pub fn updated(&self) -> Option<SystemTime> {
        humantime::parse_rfc3339(&self.updated_at).ok()
    }

    /// Raises the progress (it never goes back) and stamps the update.
    pub fn advance(&mut self, progress: f64) {
        if progress > self.progress {
            self.progress = progress.min(100.0);
        }
        self.updated_at = timestamp();
    }
}

/// The storage key of the QC report of the output stored under `output_key`.
pub fn qc_key(output_key: &str) -> String {
    format!("{output_key}.qc.json")
}

/// Now, as UTC ISO 8601 with milliseconds.
pub fn timestamp() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn job() -> JobRecord {
        JobRecord::queued("a".into(), "a.mp4".into(), None, "digest".into())
    }

    #[test]
    fn a_job_goes_forward_only_and_never_leaves_a_terminal_state() {
        let mut record = job();
        assert!(record.apply(&JobChange::Progress { progress: 5.0, metrics: serde_json::json!({}) }).is_err(), "progress before start");
        record.apply(&JobChange::Start).unwrap();
        assert!(record.apply(&JobChange::Start).is_err(), "started twice");
        record.apply(&JobChange::Progress { progress: 40.0, metrics: serde_json::json!({}) }).unwrap();
        record.apply(&JobChange::Progress { progress: 20.0, metrics: serde_json::json!({}) }).unwrap();
        assert_eq!(record.progress, 40.0, "progress never goes back");
        record.apply(&JobChange::Cancel).unwrap();
        for change in [JobChange::Start, JobChange::Cancel, JobChange::Complete { download_url: "u".into(), metrics: serde_json::json!({}) }] {
            let error = record.apply(&change).unwrap_err();
            assert_eq!(error.from, "cancelled");
        }
        assert_eq!(record.status, JobStatus::Cancelled);
    }

    #[test]
    fn a_queued_job_can_fail_or_be_cancelled_but_not_complete() {
        let mut record = job();
        assert!(record.apply(&JobChange::Complete { download_url: "u".into(), metrics: serde_json::json!({}) }).is_err());
        record.apply(&JobChange::Fail { code: "X".into(), message: "m".into(), details: serde_json::json!({}) }).unwrap();
        assert_eq!(record.error_code.as_deref(), Some("X"));
    }
}
