//! `[url_policy]`: which hosts source-video and callback URLs may point at.

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
}

impl Default for UrlPolicyConfig {
    fn default() -> Self {
        Self {
            allow_private_video: false,
            allow_loopback_callbacks: true,
            allow_hosts: Vec::new(),
            deny_hosts: Vec::new(),
        }
    }
}
