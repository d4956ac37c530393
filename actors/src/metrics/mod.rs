//! The engine's Prometheus metrics (the `prometheus` crate, one registry per
//! engine): histograms of job wall time, queue wait, segment render,
//! capture, encode and callback delivery; counters of jobs by outcome and
//! error code, frames by kind, drops by reason, retries by cause, callbacks,
//! browsers, backpressure and actor restarts; gauges only for levels
//! (jobs waiting and running, browsers alive and idle, callbacks pending).
//! Everything is counted as it happens, never by scanning jobs; `/metrics`
//! renders the registry as Prometheus text.

mod buckets;
mod engine_metrics;
mod report;

pub use engine_metrics::{JobOutcome, Metrics, METRIC_NAMES};
