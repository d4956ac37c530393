//! `[jobs]`: how long the service keeps jobs once they have finished.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Retention of finished jobs. Durations are written as `humantime` text:
/// `"7d"`, `"12h"`, `"30m"`, `"90s"`, `"1h 30m"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// How long a finished job (completed, failed or cancelled) is kept
    /// after it finished. Past it the job is deleted with everything of it:
    /// its record and stored request (its status is then `404`), its output
    /// and QC report (in the output folder or the S3 bucket), its work folder
    /// and its undelivered callbacks; its `outputKey` is free again. Queued
    /// and running jobs are never deleted. `"0"` keeps finished jobs for
    /// ever. Default: `"7d"`.
    pub retention: String,
    /// How often finished jobs past `jobs.retention` are looked for (also
    /// once when the engine starts), a duration of at least 1 s.
    /// Default: `"10m"`.
    pub retention_sweep: String,
}

impl JobsConfig {
    /// How long finished jobs are kept; `None` for ever (`"0"`, or a value
    /// that does not parse, which validation refuses).
    pub fn retention(&self) -> Option<Duration> {
        parse_duration(&self.retention).filter(|kept| !kept.is_zero())
    }

    /// How often expired jobs are looked for (at least 1 s).
    pub fn retention_sweep(&self) -> Duration {
        parse_duration(&self.retention_sweep).unwrap_or(Duration::from_secs(600)).max(Duration::from_secs(1))
    }
}

/// A `humantime` duration (`"7d"`, `"90s"`), or `"0"`.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text == "0" {
        return Some(Duration::ZERO);
    }
    humantime::parse_duration(text).ok()
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self { retention: "7d".to_owned(), retention_sweep: "10m".to_owned() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jobs(retention: &str, sweep: &str) -> JobsConfig {
        JobsConfig { retention: retention.to_owned(), retention_sweep: sweep.to_owned() }
    }

    #[test]
    fn retention_reads_durations_and_zero_keeps_jobs_for_ever() {
        assert_eq!(JobsConfig::default().retention(), Some(Duration::from_secs(7 * 24 * 3600)));
        assert_eq!(jobs("90s", "1s").retention(), Some(Duration::from_secs(90)));
        assert_eq!(jobs("1h 30m", "1s").retention(), Some(Duration::from_secs(5400)));
        assert_eq!(jobs("0", "1s").retention(), None);
        assert_eq!(jobs("0s", "1s").retention(), None);
        assert_eq!(JobsConfig::default().retention_sweep(), Duration::from_secs(600));
        assert_eq!(jobs("7d", "2s").retention_sweep(), Duration::from_secs(2));
        assert_eq!(parse_duration("soon"), None);
    }
}
