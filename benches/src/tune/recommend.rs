//! The recommendation: the smallest configuration whose medians meet the
//! targets, or a plain statement that none does and how close each came.
//!
//! "Smallest" orders points by what they cost: fewer pages, then fewer
//! frames and bytes of queue, then a smaller memory budget; among equals the
//! lower drop rate, then the lower p99 latency, wins.

use serde::{Deserialize, Serialize};

use super::point_config::point_toml;
use super::point_summary::PointSummary;
use super::spec::Targets;

/// One target checked against a point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetCheck {
    pub target: String,
    pub limit: f64,
    /// The point's median; `None` when its runs did not measure it.
    pub value: Option<f64>,
    pub met: bool,
}

/// What the recommendation says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Recommendation {
    /// No target was given: nothing to recommend.
    NoTargets,
    /// The smallest point meeting every target, and the configuration selecting it.
    Meets { point: usize, key: String, checks: Vec<TargetCheck>, toml: String },
    /// No point meets every target; the point that came closest, and for
    /// each target the best any point reached.
    NoneMeets { closest: usize, key: String, checks: Vec<TargetCheck>, best: Vec<TargetCheck> },
}

/// The targets as (name, metric, limit).
fn limits(targets: &Targets) -> Vec<(&'static str, &'static str, f64)> {
    let mut limits = Vec::new();
    if let Some(limit) = targets.max_drop_rate {
        limits.push(("max_drop_rate", "drop_rate", limit));
    }
    if let Some(limit) = targets.max_p99_latency_ms {
        limits.push(("max_p99_latency_ms", "p99_latency_ms", limit));
    }
    if let Some(limit) = targets.max_memory_mb {
        limits.push(("max_memory_mb", "peak_memory_mb", limit));
    }
    limits
}

fn checks(point: &PointSummary, targets: &Targets) -> Vec<TargetCheck> {
    limits(targets)
        .into_iter()
        .map(|(target, metric, limit)| {
            let value = point.median(metric);
            TargetCheck { target: target.to_owned(), limit, value, met: value.is_some_and(|v| v <= limit) }
        })
        .collect()
}

/// How far a point is from meeting the targets: the sum of the relative
/// excesses (a target it did not measure counts as 1).
fn shortfall(checks: &[TargetCheck]) -> f64 {
    checks
        .iter()
        .map(|c| match c.value {
            None => 1.0,
            Some(v) if v <= c.limit => 0.0,
            Some(v) => (v - c.limit) / c.limit.max(1e-9),
        })
        .sum()
}

/// Recommends among `points` for `targets`.
pub fn recommend(points: &[PointSummary], targets: &Targets) -> Recommendation {
    if limits(targets).is_empty() || points.is_empty() {
        return Recommendation::NoTargets;
    }
    let cost = |p: &PointSummary| {
        let q = &p.point;
        (q.pages, q.capacity_frames, q.capacity_bytes, q.budget_mb)
    };
    let quality = |p: &PointSummary| (p.median("drop_rate").unwrap_or(f64::INFINITY), p.median("p99_latency_ms").unwrap_or(f64::INFINITY));
    let mut meeting: Vec<&PointSummary> = points.iter().filter(|p| checks(p, targets).iter().all(|c| c.met)).collect();
    meeting.sort_by(|a, b| cost(a).cmp(&cost(b)).then(quality(a).0.total_cmp(&quality(b).0)).then(quality(a).1.total_cmp(&quality(b).1)).then(a.index.cmp(&b.index)));
    if let Some(best) = meeting.first() {
        return Recommendation::Meets { point: best.index, key: best.key.clone(), checks: checks(best, targets), toml: point_toml(&best.point) };
    }
    let mut closest = &points[0];
    for point in points {
        if shortfall(&checks(point, targets)) < shortfall(&checks(closest, targets)) {
            closest = point;
        }
    }
    let best = limits(targets)
        .into_iter()
        .map(|(target, metric, limit)| {
            let value = points.iter().filter_map(|p| p.median(metric)).min_by(f64::total_cmp);
            TargetCheck { target: target.to_owned(), limit, value, met: value.is_some_and(|v| v <= limit) }
        })
        .collect();
    Recommendation::NoneMeets { closest: closest.index, key: closest.key.clone(), checks: checks(closest, targets), best }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use motionrender_config::DropPolicy;

    use super::super::point_summary::MetricSummary;
    use super::super::spec::Point;
    use super::*;

    fn summary(index: usize, frames: u32, drop_rate: f64, p99: f64) -> PointSummary {
        let point = Point { drop_policy: DropPolicy::DropNewest, capacity_frames: frames, capacity_bytes: 1, budget_mb: 1, pages: 1, preset: "veryfast".to_owned(), width: 16, height: 16, fps: 30 };
        let m = |median| MetricSummary { median, mad: 0.0, outlier_runs: Vec::new() };
        let metrics = BTreeMap::from([("drop_rate".to_owned(), m(drop_rate)), ("p99_latency_ms".to_owned(), m(p99)), ("peak_memory_mb".to_owned(), m(100.0))]);
        PointSummary { index, key: format!("p{index}"), point, runs: 3, metrics }
    }

    #[test]
    fn the_smallest_point_meeting_the_targets_is_recommended() {
        let points = [summary(0, 64, 0.0, 900.0), summary(1, 4, 0.3, 50.0), summary(2, 16, 0.1, 200.0)];
        let targets = Targets { max_drop_rate: Some(0.2), max_p99_latency_ms: Some(500.0), max_memory_mb: None };
        assert!(matches!(recommend(&points, &targets), Recommendation::Meets { point: 2, .. }));
        let tight = Targets { max_drop_rate: Some(0.01), max_p99_latency_ms: Some(100.0), max_memory_mb: None };
        let Recommendation::NoneMeets { best, .. } = recommend(&points, &tight) else { panic!("expected none") };
        assert_eq!(best.iter().map(|c| c.value).collect::<Vec<_>>(), vec![Some(0.0), Some(50.0)]);
    }
}
