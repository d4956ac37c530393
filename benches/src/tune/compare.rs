//! `tune compare A B`: baseline A against candidate B, point by point
//! (matched by their configuration), metric by metric.
//!
//! A metric changed beyond noise when the two-sided Mann-Whitney U test of
//! A's runs against B's gives p < `alpha` and the medians differ by at least
//! `min_change` (relative). Such a change is a regression when it goes the
//! metric's worse way. With fewer than 4 runs on a side no p-value can reach
//! 0.05, and the report says so.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::error::TuneError;
use super::point_summary::{metric, Better};
use super::record::{read_results, RunLine};
use super::stats::{mann_whitney_p, median};

/// The metrics compared unless others are asked for.
pub const DEFAULT_METRICS: [&str; 7] = ["drop_rate", "p99_latency_ms", "deadline_misses", "throughput_fps", "render_time_factor", "blocked_seconds", "peak_memory_mb"];

#[derive(Debug, Clone)]
pub struct CompareOptions {
    pub alpha: f64,
    pub min_change: f64,
    pub metrics: Vec<String>,
}

impl Default for CompareOptions {
    fn default() -> Self {
        Self { alpha: 0.05, min_change: 0.05, metrics: DEFAULT_METRICS.iter().map(|m| (*m).to_owned()).collect() }
    }
}

/// One metric of one point that changed beyond noise.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub key: String,
    pub metric: String,
    pub baseline: f64,
    pub candidate: f64,
    /// (candidate − baseline) / |baseline|; infinite from a zero baseline.
    pub relative: f64,
    pub p_value: f64,
    pub regression: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub matched_points: usize,
    pub only_in_baseline: Vec<String>,
    pub only_in_candidate: Vec<String>,
    pub changes: Vec<Change>,
    pub notes: Vec<String>,
}

impl Comparison {
    pub fn regressions(&self) -> usize {
        self.changes.iter().filter(|c| c.regression).count()
    }
}

fn keys(lines: &[RunLine]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for line in lines {
        if !keys.contains(&line.key) {
            keys.push(line.key.clone());
        }
    }
    keys
}

/// Compares the run folders `baseline` and `candidate`.
pub fn compare(baseline: &Path, candidate: &Path, options: &CompareOptions) -> Result<Comparison, TuneError> {
    for name in &options.metrics {
        if metric(name).is_none() {
            return Err(TuneError::Spec { origin: "--metrics".to_owned(), message: format!("unknown metric {name:?}") });
        }
    }
    let a = read_results(baseline)?;
    let b = read_results(candidate)?;
    let (keys_a, keys_b) = (keys(&a), keys(&b));
    let mut comparison = Comparison {
        matched_points: 0,
        only_in_baseline: keys_a.iter().filter(|k| !keys_b.contains(k)).cloned().collect(),
        only_in_candidate: keys_b.iter().filter(|k| !keys_a.contains(k)).cloned().collect(),
        changes: Vec::new(),
        notes: Vec::new(),
    };
    let mut too_few = false;
    for key in keys_a.iter().filter(|k| keys_b.contains(k)) {
        comparison.matched_points += 1;
        for name in &options.metrics {
            let Some(m) = metric(name) else { continue };
            let values = |lines: &[RunLine]| -> Vec<f64> { lines.iter().filter(|l| &l.key == key).filter_map(|l| (m.value)(&l.metrics)).collect() };
            let (va, vb) = (values(&a), values(&b));
            if va.is_empty() || vb.is_empty() {
                continue;
            }
            too_few |= va.len() < 4 || vb.len() < 4;
            let (ma, mb) = (median(&va), median(&vb));
            let relative = if ma == 0.0 { if mb == 0.0 { 0.0 } else { f64::INFINITY.copysign(mb) } } else { (mb - ma) / ma.abs() };
            let p_value = mann_whitney_p(&va, &vb);
            if p_value < options.alpha && relative.abs() >= options.min_change {
                let worse = match m.better {
                    Better::Lower => mb > ma,
                    Better::Higher => mb < ma,
                };
                comparison.changes.push(Change { key: key.clone(), metric: name.clone(), baseline: ma, candidate: mb, relative, p_value, regression: worse });
            }
        }
    }
    if too_few {
        comparison.notes.push("some points have fewer than 4 runs on a side: Mann-Whitney cannot reach p < 0.05 with so few, so their changes cannot be told from noise (use runs >= 5)".to_owned());
    }
    if comparison.matched_points == 0 {
        comparison.notes.push("no point of the candidate has the configuration of a baseline point".to_owned());
    }
    Ok(comparison)
}

/// The comparison as Markdown.
pub fn report(baseline: &Path, candidate: &Path, options: &CompareOptions, comparison: &Comparison) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Tuning comparison\n\nbaseline `{}`, candidate `{}`\n", baseline.display(), candidate.display());
    let _ = writeln!(
        md,
        "Test: two-sided Mann-Whitney U on each point's runs (exact without ties, else normal approximation), flagged when p < {} and the medians differ by at least {:.0}%.\n",
        options.alpha,
        options.min_change * 100.0
    );
    let _ = writeln!(md, "{} points matched; {} changed beyond noise, {} of them regressions.\n", comparison.matched_points, comparison.changes.len(), comparison.regressions());
    if !comparison.changes.is_empty() {
        md.push_str("| point | metric | baseline | candidate | change | p | verdict |\n|---|---|---|---|---|---|---|\n");
        for c in &comparison.changes {
            let _ = writeln!(
                md,
                "| `{}` | {} | {:.4} | {:.4} | {:+.1}% | {:.4} | {} |",
                c.key,
                c.metric,
                c.baseline,
                c.candidate,
                c.relative * 100.0,
                c.p_value,
                if c.regression { "REGRESSION" } else { "improvement" }
            );
        }
        md.push('\n');
    }
    for (what, keys) in [("only in the baseline", &comparison.only_in_baseline), ("only in the candidate", &comparison.only_in_candidate)] {
        if !keys.is_empty() {
            let _ = writeln!(md, "Points {what}: {}\n", keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "));
        }
    }
    for note in &comparison.notes {
        let _ = writeln!(md, "Note: {note}\n");
    }
    md
}
