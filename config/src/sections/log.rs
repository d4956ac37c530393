//! `[log]`: format and verbosity of log output.

use serde::{Deserialize, Serialize};

/// How log events are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines. The default.
    #[default]
    Text,
    /// One JSON object per event.
    Json,
}

/// Log format and level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// Output format: `"text"` or `"json"`. Default: `"text"`.
    pub format: LogFormat,
    /// Least severe level logged: `"error"`, `"warn"`, `"info"`, `"debug"`
    /// or `"trace"`. Default: `"info"`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".to_owned(),
        }
    }
}
