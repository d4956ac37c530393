//! What each key accepts: the semantic rules a loaded configuration must
//! satisfy, and the "expected ..." text of every error about a key.

use std::net::SocketAddr;

use toml::{Table, Value};

use crate::config::Config;
use crate::error::ConfigError;
use crate::mask::display_value;
use crate::sections::parse_duration;
use crate::table::{self, table_of};

/// A constraint on one key, beyond its type.
pub(crate) struct Rule {
    /// The key the rule constrains, named in the error.
    pub(crate) key: &'static str,
    /// What the key accepts, completing "expected ...".
    pub(crate) expected: &'static str,
    /// Another key the rule reads, if any: a violation is blamed on whichever
    /// of the two was set by the later layer.
    pub(crate) depends_on: Option<&'static str>,
    /// Whether the configuration satisfies the rule.
    holds: fn(&Config) -> bool,
}

impl Rule {
    const fn new(key: &'static str, expected: &'static str, holds: fn(&Config) -> bool) -> Self {
        Self {
            key,
            expected,
            depends_on: None,
            holds,
        }
    }

    const fn depending_on(mut self, other: &'static str) -> Self {
        self.depends_on = Some(other);
        self
    }

    /// What the key accepts; for a rule between two keys, followed by the
    /// other key's value in `shown`, e.g. `(retries.initial_backoff_ms = 500)`.
    pub(crate) fn expectation(&self, shown: &Table) -> String {
        let other = self
            .depends_on
            .and_then(|other| Some((other, table::get(shown, other)?)));
        match other {
            Some((other, value)) => {
                format!(
                    "{} ({other} = {})",
                    self.expected,
                    display_value(other, value)
                )
            }
            None => self.expected.to_owned(),
        }
    }
}

/// Every semantic rule, checked in this order.
const RULES: &[Rule] = &[
    Rule::new("work_queue.url", "empty, or a redis:// URL", |c| {
        c.work_queue.url.is_empty() || c.work_queue.url.starts_with("redis://")
    }),
    Rule::new("work_queue.key_prefix", "a non-empty key prefix", |c| !c.work_queue.key_prefix.is_empty()),
    Rule::new("work_queue.s3_prefix", "a non-empty key prefix without a leading or trailing /", |c| {
        let prefix = &c.work_queue.s3_prefix;
        !prefix.is_empty() && !prefix.starts_with('/') && !prefix.ends_with('/')
    }),
    Rule::new("work_queue.claim_idle_ms", "an integer >= 100", |c| c.work_queue.claim_idle_ms >= 100),
    Rule::new("work_queue.heartbeat_ms", "an integer >= 50, below work_queue.claim_idle_ms", |c| {
        c.work_queue.heartbeat_ms >= 50 && c.work_queue.heartbeat_ms < c.work_queue.claim_idle_ms
    })
    .depending_on("work_queue.claim_idle_ms"),
    Rule::new("work_queue.max_deliveries", "an integer >= 1", |c| c.work_queue.max_deliveries >= 1),
    Rule::new("work_queue.job_tasks_in_flight", "an integer >= 1", |c| c.work_queue.job_tasks_in_flight >= 1),
    Rule::new("work_queue.max_stream_length", "an integer >= 1", |c| c.work_queue.max_stream_length >= 1),
    Rule::new("work_queue.timeout_ms", "an integer >= 100", |c| c.work_queue.timeout_ms >= 100),
    Rule::new("work_queue.max_backoff_ms", "an integer >= 100", |c| c.work_queue.max_backoff_ms >= 100),
    Rule::new("paths.data_dir", "a non-empty directory path", |c| {
        !c.paths.data_dir.is_empty()
    }),
    Rule::new("paths.work_dir", "a non-empty directory path", |c| {
        !c.paths.work_dir.is_empty()
    }),
    Rule::new("paths.output_dir", "a non-empty directory path", |c| {
        !c.paths.output_dir.is_empty()
    }),
    Rule::new(
        "paths.input_roots",
        "an array of non-empty directory paths",
        |c| c.paths.input_roots.iter().all(|root| !root.is_empty()),
    ),
    Rule::new("browser.pool_size", "an integer >= 1", |c| {
        c.browser.pool_size >= 1
    }),
    Rule::new("browser.frame_timeout_ms", "an integer >= 1", |c| {
        c.browser.frame_timeout_ms >= 1
    }),
    Rule::new("browser.launch_timeout_ms", "an integer >= 1", |c| {
        c.browser.launch_timeout_ms >= 1
    }),
    Rule::new("browser.idle_timeout_secs", "an integer >= 1", |c| {
        c.browser.idle_timeout_secs >= 1
    }),
    Rule::new("queue.capacity_frames", "an integer >= 1", |c| {
        c.queue.capacity_frames >= 1
    }),
    Rule::new("queue.capacity_bytes", "an integer >= 1", |c| {
        c.queue.capacity_bytes >= 1
    }),
    Rule::new("memory.budget_mb", "an integer >= 1", |c| {
        c.memory.budget_mb >= 1
    }),
    Rule::new(
        "memory.pause_at_fraction",
        "a number greater than 0 and at most 1",
        |c| c.memory.pause_at_fraction > 0.0 && c.memory.pause_at_fraction <= 1.0,
    ),
    Rule::new("encoder.preset", "a non-empty preset name", |c| {
        !c.encoder.preset.is_empty()
    }),
    Rule::new("encoder.quality", "an integer from 1 to 100", |c| {
        (1..=100).contains(&c.encoder.quality)
    }),
    Rule::new("segments.seconds", "a number greater than 0", |c| {
        c.segments.seconds > 0.0 && c.segments.seconds.is_finite()
    }),
    Rule::new("segments.max_parallel", "an integer >= 1", |c| {
        c.segments.max_parallel >= 1
    }),
    Rule::new("retries.max_attempts", "an integer >= 1", |c| {
        c.retries.max_attempts >= 1
    }),
    Rule::new(
        "retries.max_backoff_ms",
        "an integer >= retries.initial_backoff_ms",
        |c| c.retries.max_backoff_ms >= c.retries.initial_backoff_ms,
    )
    .depending_on("retries.initial_backoff_ms"),
    Rule::new(
        "callbacks.max_backoff_ms",
        "an integer >= callbacks.initial_backoff_ms",
        |c| c.callbacks.max_backoff_ms >= c.callbacks.initial_backoff_ms,
    )
    .depending_on("callbacks.initial_backoff_ms"),
    Rule::new("alerts.webhook_url", "empty, or an http:// or https:// URL", |c| {
        c.alerts.webhook_url.is_empty() || c.alerts.webhook_url.starts_with("http://") || c.alerts.webhook_url.starts_with("https://")
    }),
    Rule::new("alerts.max_drop_rate", "a number from 0.0 to 1.0", |c| {
        (0.0..=1.0).contains(&c.alerts.max_drop_rate)
    }),
    Rule::new("alerts.max_queue_depth", "an integer >= 1", |c| {
        c.alerts.max_queue_depth >= 1
    }),
    Rule::new("callbacks.timeout_ms", "an integer >= 1", |c| {
        c.callbacks.timeout_ms >= 1
    }),
    Rule::new("callbacks.connect_timeout_ms", "an integer >= 1", |c| {
        c.callbacks.connect_timeout_ms >= 1
    }),
    Rule::new("s3.region", "a non-empty region name", |c| {
        !c.s3.region.is_empty()
    }),
    Rule::new(
        "s3.endpoint",
        "an http:// or https:// URL, or \"\" for the AWS endpoint",
        |c| {
            let endpoint = &c.s3.endpoint;
            endpoint.is_empty()
                || endpoint.starts_with("http://")
                || endpoint.starts_with("https://")
        },
    ),
    Rule::new(
        "s3.secret_access_key",
        "a secret access key set together with s3.access_key_id (both or neither)",
        |c| c.s3.access_key_id.is_set() == c.s3.secret_access_key.is_set(),
    )
    .depending_on("s3.access_key_id"),
    Rule::new(
        "s3.presign_expiry_secs",
        "an integer from 1 to 604800 (7 days)",
        |c| (1..=604_800).contains(&c.s3.presign_expiry_secs),
    ),
    Rule::new(
        "s3.part_size_bytes",
        "an integer from 5242880 (5 MiB) to 5368709120 (5 GiB)",
        |c| (5_242_880..=5_368_709_120).contains(&c.s3.part_size_bytes),
    ),
    Rule::new(
        "server.bind",
        "a socket address ip:port, e.g. \"127.0.0.1:8090\"",
        |c| c.server.bind.parse::<SocketAddr>().is_ok(),
    ),
    Rule::new(
        "server.token",
        "a non-empty token, because server.bind is not a loopback address",
        |c| {
            c.server.token.is_set()
                || c.server
                    .bind
                    .parse::<SocketAddr>()
                    .map_or(true, |addr| addr.ip().is_loopback())
        },
    )
    .depending_on("server.bind"),
    Rule::new("server.max_body_bytes", "an integer >= 1", |c| {
        c.server.max_body_bytes >= 1
    }),
    Rule::new("server.max_queued_jobs", "an integer >= 1", |c| {
        c.server.max_queued_jobs >= 1
    }),
    Rule::new("server.max_running_jobs", "an integer >= 1", |c| {
        c.server.max_running_jobs >= 1
    }),
    Rule::new(
        "server.allowed_hosts",
        "an array of host names without port (or \"*\" for any host)",
        |c| c.server.allowed_hosts.iter().all(|host| (is_host(host) && !host.contains(':')) || is_ipv6(host)),
    ),
    Rule::new(
        "url_policy.allow_hosts",
        "an array of host names (no scheme, path or spaces)",
        |c| c.url_policy.allow_hosts.iter().all(|host| is_host(host)),
    ),
    Rule::new(
        "url_policy.deny_hosts",
        "an array of host names (no scheme, path or spaces)",
        |c| c.url_policy.deny_hosts.iter().all(|host| is_host(host)),
    ),
    Rule::new("url_policy.connect_timeout_ms", "an integer >= 1", |c| {
        c.url_policy.connect_timeout_ms >= 1
    }),
    Rule::new("url_policy.download_timeout_secs", "an integer >= 1", |c| {
        c.url_policy.download_timeout_secs >= 1
    }),
    Rule::new("url_policy.download_idle_secs", "an integer >= 1", |c| {
        c.url_policy.download_idle_secs >= 1
    }),
    Rule::new("url_policy.max_video_bytes", "an integer >= 1", |c| {
        c.url_policy.max_video_bytes >= 1
    }),
    Rule::new("limits.max_job_id_bytes", "an integer from 1 to 128", |c| {
        (1..=128).contains(&c.limits.max_job_id_bytes)
    }),
    Rule::new("limits.max_url_bytes", "an integer >= 16", |c| {
        c.limits.max_url_bytes >= 16
    }),
    Rule::new("limits.max_option_bytes", "an integer >= 16", |c| {
        c.limits.max_option_bytes >= 16
    }),
    Rule::new("limits.max_scenario_bytes", "an integer >= 1024", |c| {
        c.limits.max_scenario_bytes >= 1024
    }),
    Rule::new("limits.max_cues", "an integer >= 1", |c| c.limits.max_cues >= 1),
    Rule::new("limits.max_nodes", "an integer >= 1", |c| c.limits.max_nodes >= 1),
    Rule::new(
        "jobs.retention",
        "a duration such as \"7d\", \"12h\" or \"90s\", or \"0\" to keep finished jobs for ever",
        |c| parse_duration(&c.jobs.retention).is_some(),
    ),
    Rule::new("jobs.retention_sweep", "a duration of at least 1s, such as \"10m\"", |c| {
        parse_duration(&c.jobs.retention_sweep).is_some_and(|every| every >= std::time::Duration::from_secs(1))
    }),
    Rule::new(
        "log.level",
        "one of \"error\", \"warn\", \"info\", \"debug\", \"trace\"",
        |c| ["error", "warn", "info", "debug", "trace"].contains(&c.log.level.as_str()),
    ),
];

/// Keys whose type is an enum: what they accept.
const ENUM_EXPECTATIONS: &[(&str, &str)] = &[
    (
        "queue.drop_policy",
        "one of \"block\", \"drop_newest\", \"drop_oldest\"",
    ),
    ("encoder.kind", "one of \"auto\", \"nvenc\", \"x264\""),
    ("log.format", "one of \"text\", \"json\""),
];

/// Whether `host` can be a host name or IP address on its own.
fn is_host(host: &str) -> bool {
    !host.is_empty() && !host.contains(|c: char| c == '/' || c.is_whitespace())
}

/// Whether `host` is an IPv6 address (which has colons, but no port).
fn is_ipv6(host: &str) -> bool {
    host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::Ipv6Addr>().is_ok()
}

/// The first rule the configuration breaks, if any.
pub(crate) fn first_broken(config: &Config) -> Option<&'static Rule> {
    RULES.iter().find(|rule| !(rule.holds)(config))
}

/// What `key` accepts, for an error about its value's type: its own rule's
/// or enum's description, else one derived from the type of its default.
/// Rules between two keys describe a relation, not the type, and are skipped.
pub(crate) fn expected(key: &str, default: Option<&Value>) -> String {
    let described = RULES
        .iter()
        .find(|rule| rule.key == key && rule.depends_on.is_none())
        .map(|rule| rule.expected)
        .or_else(|| {
            ENUM_EXPECTATIONS
                .iter()
                .find(|(enum_key, _)| *enum_key == key)
                .map(|(_, expected)| *expected)
        });
    if let Some(described) = described {
        return described.to_owned();
    }
    match default {
        Some(Value::String(_)) => "a string",
        Some(Value::Integer(_)) => "an integer >= 0",
        Some(Value::Float(_)) => "a number",
        Some(Value::Boolean(_)) => "true or false",
        Some(Value::Array(_)) => "an array of strings",
        Some(Value::Table(_)) => "a table of settings",
        Some(Value::Datetime(_)) => "a date-time",
        None => "a known configuration key",
    }
    .to_owned()
}

impl Config {
    /// Checks every key's range and the rules between keys (e.g.
    /// `retries.max_backoff_ms >= retries.initial_backoff_ms`); the error names
    /// the first key at fault. [`Config::load`] runs this on what it loads,
    /// naming the layer too; here the layer is unknown (`None`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let Some(rule) = first_broken(self) else {
            return Ok(());
        };
        let shown = table_of(self).unwrap_or_default();
        let value = table::get(&shown, rule.key)
            .map(|value| display_value(rule.key, value))
            .unwrap_or_else(|| "(not representable in TOML)".to_owned());
        Err(ConfigError::Invalid {
            key: rule.key.to_owned(),
            value,
            expected: rule.expectation(&shown),
            layer: None,
        })
    }
}
