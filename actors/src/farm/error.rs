//! What can go wrong between the server, Redis, S3 and the workers.

/// A failure of the work queue, with the context an operator needs.
#[derive(Debug, thiserror::Error)]
pub enum FarmError {
    #[error("work_queue.url {url:?} is not a usable Redis URL: {detail}")]
    BadUrl { url: String, detail: String },
    #[error("Redis at {url} answered {command} with an error: {detail}")]
    Redis { url: String, command: String, detail: String },
    #[error("Redis at {url} is unreachable: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("Redis at {url} answered {command} with something unexpected: {detail}")]
    Reply { url: String, command: String, detail: String },
    #[error("the work queue needs S3 (s3.bucket) for sources and segments: {0}")]
    NoS3(String),
    #[error("stopped")]
    Stopped,
}

impl FarmError {
    /// The error code of the HTTP API for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadUrl { .. } | Self::NoS3(_) => "INVALID_RENDER_OPTIONS",
            Self::Redis { .. } | Self::Unreachable { .. } | Self::Reply { .. } => "QUEUE_ERROR",
            Self::Stopped => "JOB_CANCELLED",
        }
    }
}
