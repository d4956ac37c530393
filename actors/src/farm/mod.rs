//! Scale-out: render workers on many hosts through Redis Streams, with
//! sources and segments in S3 (`[work_queue]`, `[s3]`).
//!
//! - The server ([`Dispatcher`], [`render_on_farm`]) plans a job's segments
//!   and publishes one task per segment to the task stream, at most
//!   `work_queue.job_tasks_in_flight` per job at a time; it reads the result
//!   stream and merges when the last segment has landed.
//! - Workers ([`Worker`]) claim tasks in the workers' consumer group, render
//!   and upload, report and acknowledge in one transaction, heartbeat while
//!   rendering, reclaim tasks of dead workers (`XAUTOCLAIM`), and refuse a
//!   task delivered too often.
//! - Cancel is a mark in Redis (`PREFIX:cancelled:JOB`) the workers watch.
//! - Both sides retry a lost Redis connection with backoff ([`RedisLink`]).

mod dispatcher;
mod error;
mod job_render;
mod link;
mod names;
mod status;
mod stream;
mod task;
mod worker;

pub use dispatcher::{Dispatcher, JobReports};
pub use error::FarmError;
pub(crate) use job_render::render_on_farm;
pub use job_render::FarmUse;
pub use link::RedisLink;
pub use names::FarmNames;
pub use status::{prometheus_text, QueueSnapshot, WorkerState};
pub use task::{SegmentOutcome, SegmentReport, SegmentTask};
pub use worker::{Worker, WorkerSummary};
