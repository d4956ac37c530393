//! The binary's log output, as `[log]` says: human-readable lines or one JSON
//! object per line on stderr, at the configured level (`RUST_LOG`, when set,
//! wins). A job's events carry its `job_id` (as a field, or through the
//! `job` span its work runs in).

use anyhow::Context as _;
use motionrender_config::{LogConfig, LogFormat};
use tracing_subscriber::EnvFilter;

/// Installs the subscriber for the whole process.
pub fn install(config: &LogConfig) -> anyhow::Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.is_empty() => EnvFilter::try_new(directives).context("RUST_LOG is not a valid filter")?,
        _ => EnvFilter::try_new(format!("warn,chromiumoxide=error,motionrender={0},motionrender_actors={0},motionrender_engine={0},motionrender_web={0}", config.level))
            .with_context(|| format!("log.level {:?} is not a level", config.level))?,
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let installed = match config.format {
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).try_init(),
        LogFormat::Text => builder.with_target(false).try_init(),
    };
    installed.map_err(|e| anyhow::anyhow!("cannot install the log subscriber: {e}"))
}
