//! Alerts the engine posts itself, for operators without Prometheus: a
//! failed job, a render whose drop rate passed `alerts.max_drop_rate`, a
//! queue longer than `alerts.max_queue_depth`. Each goes to
//! `alerts.webhook_url` as a Slack-compatible JSON body, through the URL
//! policy and the callback client (signed with `callbacks.secret`, retried
//! with backoff until `callbacks.deadline_secs`), at most one of a kind per
//! `alerts.min_interval_secs`.

mod alert;
mod alerter;
mod alerts_handle;
mod rate_limit;

pub use alert::{Alert, AlertKind};
pub use alerter::Alerter;
pub use alerts_handle::Alerts;
pub use rate_limit::RateLimit;
