//! Time ranges on the media timeline, and their union: the alive intervals
//! outside which nothing can be drawn.

use std::fmt;

/// A closed range of media time in seconds, `start <= end`, both finite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeRange {
    pub start: f64,
    pub end: f64,
}

impl TimeRange {
    /// A range, or `None` unless both bounds are finite and `start <= end`.
    pub fn new(start: f64, end: f64) -> Option<Self> {
        (start.is_finite() && end.is_finite() && start <= end).then_some(Self { start, end })
    }

    /// Whether `t` lies inside the range, bounds included.
    pub fn contains(&self, t: f64) -> bool {
        self.start <= t && t <= self.end
    }

    /// Whether `other` lies wholly inside this range.
    pub fn covers(&self, other: &TimeRange) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// The smallest range holding both.
    pub fn hull(&self, other: &TimeRange) -> TimeRange {
        TimeRange { start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    /// Length in seconds.
    pub fn duration(&self) -> f64 {
        self.end - self.start
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{:.3}, {:.3}]", self.start, self.end)
    }
}

/// The union of `ranges` as sorted, disjoint ranges (touching ranges merge).
pub fn union(ranges: impl IntoIterator<Item = TimeRange>) -> Vec<TimeRange> {
    let mut sorted: Vec<TimeRange> = ranges.into_iter().collect();
    sorted.sort_by(|a, b| a.start.total_cmp(&b.start));
    let mut merged: Vec<TimeRange> = Vec::with_capacity(sorted.len());
    for range in sorted {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: f64, end: f64) -> TimeRange {
        TimeRange { start, end }
    }

    #[test]
    fn union_merges_overlapping_and_touching_ranges() {
        let merged = union([r(6.0, 11.0), r(2.0, 7.0), r(12.0, 13.0), r(11.0, 11.5)]);
        assert_eq!(merged, vec![r(2.0, 11.5), r(12.0, 13.0)]);
    }

    #[test]
    fn new_refuses_reversed_and_non_finite() {
        assert!(TimeRange::new(2.0, 1.0).is_none());
        assert!(TimeRange::new(f64::NAN, 1.0).is_none());
        assert!(TimeRange::new(0.0, f64::INFINITY).is_none());
        assert_eq!(TimeRange::new(1.0, 1.0), Some(r(1.0, 1.0)));
    }
}
