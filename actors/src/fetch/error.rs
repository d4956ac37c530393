//! Why an outbound download did not bring the whole file.

use std::path::PathBuf;

/// A failed source-video download. Messages never show the URL (it may
/// carry credentials) and name the configuration key of a limit that was hit.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// No connection within `url_policy.connect_timeout_ms`.
    #[error("cannot connect within url_policy.connect_timeout_ms ({0} ms)")]
    ConnectTimedOut(u64),
    /// The connection or the request failed (refused, reset, DNS, TLS).
    #[error("cannot fetch it: {0}")]
    Transport(String),
    /// The origin answered with a status other than 2xx (a redirect too:
    /// redirects are not followed, so the URL policy's check holds).
    #[error("fetching it answered HTTP {0}")]
    Status(u16),
    /// The file is, or grew, larger than the limit.
    #[error("it is larger than url_policy.max_video_bytes ({limit} bytes){}", announced_size(*.announced))]
    TooLarge { limit: u64, announced: Option<u64> },
    /// The download as a whole took longer than the limit.
    #[error("the download took longer than url_policy.download_timeout_secs ({0} s)")]
    TimedOut(u64),
    /// Nothing arrived for longer than the limit.
    #[error("nothing arrived for url_policy.download_idle_secs ({0} s)")]
    Stalled(u64),
    /// The job was cancelled (or the engine is stopping).
    #[error("the download was cancelled")]
    Cancelled,
    /// The local copy could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn announced_size(announced: Option<u64>) -> String {
    announced.map(|size| format!(": it announced {size} bytes")).unwrap_or_default()
}

impl FetchError {
    /// Whether the fault is the server's (its disk), not the source's.
    pub fn is_local(&self) -> bool {
        matches!(self, Self::Write { .. })
    }
}
