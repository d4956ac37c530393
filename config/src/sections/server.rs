//! `[server]`: the HTTP render service (`motionrender serve`).

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// Listening address, authentication and admission limits of the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Socket address to listen on, `ip:port`. Default: `"127.0.0.1:8090"`.
    pub bind: String,
    /// Bearer token required in `Authorization` on API requests; empty means
    /// none, which is allowed only when `server.bind` is a loopback address.
    /// Secret: masked when shown. Default: `""`.
    pub token: Secret,
    /// Largest accepted request body, in bytes (>= 1). Default: `10485760` (10 MiB).
    pub max_body_bytes: u64,
    /// Most jobs waiting to run; further submissions are refused (>= 1).
    /// Default: `100`.
    pub max_queued_jobs: u32,
    /// Most jobs rendering at once (>= 1). Default: `2`.
    pub max_running_jobs: u32,
    /// Host names (no port) a request's `Host` header may carry; a request
    /// with an `Origin` header must come from one of them too. This stops a
    /// web page in an operator's browser from driving the API (cross-site
    /// requests, DNS rebinding). Empty means the address of `server.bind`,
    /// `localhost`, `127.0.0.1` and `::1`; with an empty list and a bind to
    /// every interface (`0.0.0.0`, `::`) the check is off, as a token is
    /// required there. `"*"` allows any host. Default: `[]`.
    pub allowed_hosts: Vec<String>,
}

impl ServerConfig {
    /// The API token, or `None` when no token is required.
    pub fn token(&self) -> Option<&str> {
        self.token.get()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8090".to_owned(),
            token: Secret::default(),
            max_body_bytes: 10 * 1024 * 1024,
            max_queued_jobs: 100,
            max_running_jobs: 2,
            allowed_hosts: Vec::new(),
        }
    }
}
