//! One point's runs summarized: for each metric the median and MAD over the
//! runs, and which runs are outliers — the rows of `points.csv`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::metrics::RunMetrics;
use super::spec::Point;
use super::stats::{mad, median, outliers};

/// Which way a metric gets better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Lower,
    Higher,
}

/// A metric that points are summarized, compared and recommended by.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    pub name: &'static str,
    pub better: Better,
    pub value: fn(&RunMetrics) -> Option<f64>,
}

/// The summarized metrics, in the column order of `points.csv`.
pub const METRICS: &[Metric] = &[
    Metric { name: "drop_rate", better: Better::Lower, value: |m| Some(m.drop_rate) },
    Metric { name: "substituted", better: Better::Lower, value: |m| Some(m.substituted as f64) },
    Metric { name: "longest_drop_run", better: Better::Lower, value: |m| m.longest_drop_run.map(|v| v as f64) },
    Metric { name: "longest_stand_in_ms", better: Better::Lower, value: |m| m.longest_stand_in_ms },
    Metric { name: "p50_latency_ms", better: Better::Lower, value: |m| m.latency.as_ref().map(|l| l.p50_ms) },
    Metric { name: "p99_latency_ms", better: Better::Lower, value: |m| m.latency.as_ref().map(|l| l.p99_ms) },
    Metric { name: "p999_latency_ms", better: Better::Lower, value: |m| m.latency.as_ref().map(|l| l.p999_ms) },
    Metric { name: "max_latency_ms", better: Better::Lower, value: |m| m.latency.as_ref().map(|l| l.max_ms) },
    Metric { name: "deadline_misses", better: Better::Lower, value: |m| m.deadline_misses.map(|v| v as f64) },
    Metric { name: "throughput_fps", better: Better::Higher, value: |m| Some(m.throughput_fps) },
    Metric { name: "render_time_factor", better: Better::Lower, value: |m| Some(m.render_time_factor) },
    Metric { name: "blocked_seconds", better: Better::Lower, value: |m| Some(m.blocked_seconds) },
    Metric { name: "queue_peak_frames", better: Better::Lower, value: |m| Some(m.queue_peak_frames as f64) },
    Metric { name: "peak_engine_mb", better: Better::Lower, value: |m| Some(m.peak_memory_mb.engine) },
    Metric { name: "peak_chromium_mb", better: Better::Lower, value: |m| Some(m.peak_memory_mb.chromium) },
    Metric { name: "peak_memory_mb", better: Better::Lower, value: |m| Some(m.peak_memory_mb.total()) },
];

/// The metrics whose outliers mark a run as one in `points.csv` and the summary.
pub const OUTLIER_METRICS: [&str; 4] = ["drop_rate", "p99_latency_ms", "throughput_fps", "render_time_factor"];

/// The metric named `name`.
pub fn metric(name: &str) -> Option<&'static Metric> {
    METRICS.iter().find(|m| m.name == name)
}

/// Median and spread of one metric over a point's runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSummary {
    pub median: f64,
    pub mad: f64,
    /// Run numbers whose value is an outlier by modified z-score.
    pub outlier_runs: Vec<usize>,
}

/// A point and the summary of its runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointSummary {
    pub index: usize,
    pub key: String,
    pub point: Point,
    pub runs: usize,
    pub metrics: BTreeMap<String, MetricSummary>,
}

impl PointSummary {
    /// Summarizes the measured runs of point `index`.
    pub fn of(index: usize, point: &Point, runs: &[&RunMetrics]) -> Self {
        let mut metrics = BTreeMap::new();
        for metric in METRICS {
            let values: Vec<f64> = runs.iter().filter_map(|run| (metric.value)(run)).collect();
            if values.len() == runs.len() && !values.is_empty() {
                metrics.insert(metric.name.to_owned(), MetricSummary { median: median(&values), mad: mad(&values), outlier_runs: outliers(&values) });
            }
        }
        Self { index, key: point.key(), point: point.clone(), runs: runs.len(), metrics }
    }

    /// The median of `name`, when every run measured it.
    pub fn median(&self, name: &str) -> Option<f64> {
        self.metrics.get(name).map(|m| m.median)
    }

    /// Runs that are an outlier in any of [`OUTLIER_METRICS`].
    pub fn outlier_runs(&self) -> Vec<usize> {
        let mut runs: Vec<usize> = OUTLIER_METRICS.iter().filter_map(|name| self.metrics.get(*name)).flat_map(|m| m.outlier_runs.iter().copied()).collect();
        runs.sort_unstable();
        runs.dedup();
        runs
    }
}
