//! Where the farm keeps things: the Redis keys (task stream and its consumer
//! group, result stream, heartbeats, cancel marks) under
//! `work_queue.key_prefix`, and the S3 keys of a job's source and segments
//! under `work_queue.s3_prefix`. Segment keys depend only on the job and the
//! segment's index, so a segment rendered twice overwrites itself.

use motionrender_config::WorkQueueConfig;

/// The consumer group of the workers on the task stream.
pub const WORKERS_GROUP: &str = "workers";
/// The consumer group of the servers on the result stream.
pub const SERVERS_GROUP: &str = "servers";

/// The names one farm uses.
#[derive(Debug, Clone)]
pub struct FarmNames {
    key_prefix: String,
    s3_prefix: String,
}

impl FarmNames {
    pub fn new(config: &WorkQueueConfig) -> Self {
        Self { key_prefix: config.key_prefix.clone(), s3_prefix: config.s3_prefix.clone() }
    }

    /// The stream of segment tasks, read by the workers' group.
    pub fn tasks(&self) -> String {
        format!("{}:tasks", self.key_prefix)
    }

    /// The stream of segment results, read by the servers' group.
    pub fn results(&self) -> String {
        format!("{}:results", self.key_prefix)
    }

    /// The hash of worker name → last heartbeat (Unix milliseconds).
    pub fn heartbeats(&self) -> String {
        format!("{}:heartbeats", self.key_prefix)
    }

    /// The mark that job `job_id` was cancelled (workers drop and stop its tasks).
    pub fn cancelled(&self, job_id: &str) -> String {
        format!("{}:cancelled:{job_id}", self.key_prefix)
    }

    /// The S3 key of job `job_id`'s source video.
    pub fn source_key(&self, job_id: &str) -> String {
        format!("{}/{job_id}/source", self.s3_prefix)
    }

    /// The S3 key of segment `index` of job `job_id`.
    pub fn segment_key(&self, job_id: &str, index: u32) -> String {
        format!("{}/{job_id}/segment-{index:05}.mp4", self.s3_prefix)
    }
}
