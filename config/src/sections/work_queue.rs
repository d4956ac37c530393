//! `[work_queue]`: scale-out through Redis Streams. `motionrender serve`
//! with a queue URL publishes one task per segment instead of rendering;
//! `motionrender worker` processes (any number, any host) claim and render
//! them, with segments and sources travelling through S3 (`[s3]`).

use serde::{Deserialize, Serialize};

use crate::unset::non_empty;

/// The Redis broker, its streams, and how tasks are claimed, reclaimed and bounded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkQueueConfig {
    /// Redis URL (`redis://HOST:PORT/DB`) of the broker; empty means no
    /// queue: the server renders jobs itself (the embedded default).
    /// `--queue` on `serve` and `worker` sets it. Default: `""`.
    pub url: String,
    /// Prefix of every Redis key the queue uses (streams, heartbeats, cancel
    /// marks), so several farms can share one Redis. Default: `"motionrender"`.
    pub key_prefix: String,
    /// Prefix of the S3 keys of a job's source and segments
    /// (`PREFIX/JOB/source`, `PREFIX/JOB/segment-00000.mp4`). Default: `"farm"`.
    pub s3_prefix: String,
    /// A task whose worker sent no heartbeat for this long is reclaimed by
    /// another worker (`XAUTOCLAIM`), in milliseconds (>= 100). Default: `30000`.
    pub claim_idle_ms: u64,
    /// How often a worker heartbeats its task and checks for a cancel, in
    /// milliseconds (>= 50, below `work_queue.claim_idle_ms`). Default: `1000`.
    pub heartbeat_ms: u64,
    /// A task delivered more often than this fails its job with
    /// `TASK_DELIVERY_LIMIT_EXCEEDED` instead of being rendered again (>= 1).
    /// Default: `3`.
    pub max_deliveries: u32,
    /// Tasks of one job in the stream or being rendered at once (>= 1): a
    /// long job cannot crowd out short ones. Default: `4`.
    pub job_tasks_in_flight: u32,
    /// Most tasks in the task stream; a server with more to publish waits
    /// (>= 1). Default: `1000`.
    pub max_stream_length: u64,
    /// Timeout of connecting to Redis and of one reply, in milliseconds
    /// (>= 100; a blocking read adds its own wait). Default: `5000`.
    pub timeout_ms: u64,
    /// Longest pause between two attempts to reach Redis after it went away,
    /// in milliseconds (>= 100; the pause doubles from 100 ms). Default: `5000`.
    pub max_backoff_ms: u64,
    /// Name of this worker in the consumer group; empty means `HOST-PID`.
    /// Default: `""`.
    pub worker_name: String,
    /// How long a worker that got SIGTERM may finish its task before it
    /// stops it and leaves it to be reclaimed, in seconds. Default: `600`.
    pub drain_secs: u64,
}

impl WorkQueueConfig {
    /// The broker's URL, or `None` when jobs render in this process.
    pub fn url(&self) -> Option<&str> {
        non_empty(&self.url)
    }

    /// The worker's name, or `None` for the default `HOST-PID`.
    pub fn worker_name(&self) -> Option<&str> {
        non_empty(&self.worker_name)
    }
}

impl Default for WorkQueueConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            key_prefix: "motionrender".to_owned(),
            s3_prefix: "farm".to_owned(),
            claim_idle_ms: 30_000,
            heartbeat_ms: 1_000,
            max_deliveries: 3,
            job_tasks_in_flight: 4,
            max_stream_length: 1_000,
            timeout_ms: 5_000,
            max_backoff_ms: 5_000,
            worker_name: String::new(),
            drain_secs: 600,
        }
    }
}
