//! The two messages of the farm: a segment task (server → workers, on the
//! task stream) and a segment report (worker → servers, on the result
//! stream), each one stream entry with the job id, the segment index and a
//! JSON body.

use motionrender_engine::plan::SegmentPlan;
use motionrender_engine::render::FinishedSegment;
use serde::{Deserialize, Serialize};

use crate::job::RenderJobRequest;

/// One segment of one job to render.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SegmentTask {
    pub job_id: String,
    pub plan: SegmentPlan,
    /// The S3 key of the job's source video.
    pub source_key: String,
    /// The S3 key the segment goes to.
    pub segment_key: String,
    /// The job's request (scenario and options; its video URL is not used).
    pub request: RenderJobRequest,
    /// The segment length the server planned with; the worker plans with it too.
    pub segment_seconds: f64,
}

/// What a worker did with a task.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SegmentReport {
    pub job_id: String,
    pub index: u32,
    /// The consumer name of the worker that rendered (or refused) it.
    pub worker: String,
    /// How often the task had been delivered when this worker took it.
    pub deliveries: u64,
    /// Whether this worker took it over from another one (`XAUTOCLAIM`).
    pub reclaimed: bool,
    pub outcome: SegmentOutcome,
}

/// A rendered segment (uploaded under the task's key), or why there is none.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SegmentOutcome {
    Rendered { segment: FinishedSegment, retries: u32, render_seconds: f64, upload_seconds: f64, fetch_seconds: f64 },
    Failed { code: String, message: String },
}

/// The stream fields of an entry carrying `body`.
pub fn entry_fields(job_id: &str, index: u32, body: &impl Serialize) -> Result<Vec<(&'static str, String)>, serde_json::Error> {
    Ok(vec![("job", job_id.to_owned()), ("segment", index.to_string()), ("body", serde_json::to_string(body)?)])
}
