//! One struct per `[section]` of the configuration file.

mod alerts;
mod browser;
mod callbacks;
mod encoder;
mod jobs;
mod limits;
mod log;
mod memory;
mod paths;
mod queue;
mod retries;
mod s3;
mod segments;
mod server;
mod url_policy;
mod work_queue;

pub use alerts::AlertsConfig;
pub use browser::BrowserConfig;
pub use callbacks::CallbacksConfig;
pub use encoder::{EncoderChoice, EncoderConfig};
pub(crate) use jobs::parse_duration;
pub use jobs::JobsConfig;
pub use limits::LimitsConfig;
pub use log::{LogConfig, LogFormat};
pub use memory::MemoryConfig;
pub use paths::PathsConfig;
pub use queue::{DropPolicy, QueueConfig};
pub use retries::RetriesConfig;
pub use s3::S3Config;
pub use segments::SegmentsConfig;
pub use server::ServerConfig;
pub use url_policy::UrlPolicyConfig;
pub use work_queue::WorkQueueConfig;
