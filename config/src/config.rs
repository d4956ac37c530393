//! The whole configuration: one typed struct with a field per `[section]`.

use serde::{Deserialize, Serialize};

use crate::sections::{
    AlertsConfig, BrowserConfig, CallbacksConfig, EncoderConfig, JobsConfig, LogConfig, MemoryConfig, PathsConfig,
    QueueConfig, RetriesConfig, S3Config, SegmentsConfig, ServerConfig, UrlPolicyConfig, LimitsConfig, WorkQueueConfig,
};

/// The effective configuration of motionrender. Build it with
/// [`Config::load`]; [`Config::default`] is the documented defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `[paths]`: data, scratch and output directories, plugin pack, input roots.
    pub paths: PathsConfig,
    /// `[browser]`: the headless Chromium page pool.
    pub browser: BrowserConfig,
    /// `[queue]`: the bounded frame queue between rasterizer and compositor.
    pub queue: QueueConfig,
    /// `[memory]`: the memory budget the backpressure controller keeps to.
    pub memory: MemoryConfig,
    /// `[encoder]`: which H.264 encoder to use and how.
    pub encoder: EncoderConfig,
    /// `[segments]`: how a job's timeline is split and rendered in parallel.
    pub segments: SegmentsConfig,
    /// `[retries]`: how failed steps of a job are retried.
    pub retries: RetriesConfig,
    /// `[callbacks]`: delivery of progress and completion callbacks.
    pub callbacks: CallbacksConfig,
    /// `[s3]`: result storage in S3 (or an S3-compatible server).
    pub s3: S3Config,
    /// `[server]`: the HTTP render service.
    pub server: ServerConfig,
    /// `[url_policy]`: which video and callback URLs may be used, and how
    /// much may be fetched from them.
    pub url_policy: UrlPolicyConfig,
    /// `[limits]`: how much one render request may carry.
    pub limits: LimitsConfig,
    /// `[jobs]`: how long finished jobs and their files are kept.
    pub jobs: JobsConfig,
    /// `[log]`: log output.
    pub log: LogConfig,
    /// `[alerts]`: alerts posted to a webhook.
    pub alerts: AlertsConfig,
    /// `[work_queue]`: render workers on other hosts through Redis Streams.
    pub work_queue: WorkQueueConfig,
}
