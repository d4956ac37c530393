//! `[url_policy]`: which hosts source-video and callback URLs may point at,
//! and how much of a source video may be fetched from them.

use serde::{Deserialize, Serialize};

/// Allow/deny policy for `videoUrl` and `callbackUrl`. Host names are compared
/// exactly, ignoring ASCII case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UrlPolicyConfig {
    /// Allow video URLs whose host resolves to a private, loopback or
    /// link-local address. Default: `false`.
    pub allow_private_video: bool,
    /// Allow callback URLs whose host resolves to a loopback address.
    /// Default: `true`.
    pub allow_loopback_callbacks: bool,
    /// If non-empty, video and callback URLs must name one of these hosts
    /// (host names or IP addresses, no scheme or path). Default: `[]`.
    pub allow_hosts: Vec<String>,
    /// Hosts that video and callback URLs may never name; checked before
    /// `url_policy.allow_hosts`. Default: `[]`.
    pub deny_hosts: Vec<String>,
    /// Longest wait for the connection to an http(s) `videoUrl` host, in
    /// milliseconds (>= 1). Default: `10000`.
    pub connect_timeout_ms: u64,
    /// Longest time an http(s) `videoUrl` download may take as a whole, in
    /// seconds (>= 1); the job fails past it. Default: `1800`.
    pub download_timeout_secs: u64,
    /// Longest time an http(s) `videoUrl` download may go without receiving
    /// a byte, in seconds (>= 1); the job fails past it. Default: `60`.
    pub download_idle_secs: u64,
    /// Largest source video fetched from an http(s) or s3 `videoUrl`, in
    /// bytes (>= 1); a larger one fails the job and is deleted.
    /// Default: `4294967296` (4 GiB).
    pub max_video_bytes: u64,
}

impl Default for UrlPolicyConfig {
    fn default() -> Self {
        Self {
            allow_private_video: false,
            allow_loopback_callbacks: true,
            allow_hosts: Vec::new(),
            deny_hosts: Vec::new(),
            connect_timeout_ms: 10_000,
            download_timeout_secs: 1800,
            download_idle_secs: 60,
            max_video_bytes: 4 * 1024 * 1024 * 1024,
        }
    }
}
