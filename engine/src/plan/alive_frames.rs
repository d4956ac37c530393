//! Which frames lie inside the alive intervals: frame `i` is at time `i / fps`
//! and is alive when some interval holds that time, bounds included.
//!
//! A frame rate that is not a positive finite number puts no frame in time,
//! so no frame is alive.

use std::ops::Range;

use crate::scenario::{union, TimeRange};

fn valid_fps(fps: f64) -> bool {
    fps.is_finite() && fps > 0.0
}

fn frame_time(index: u64, fps: f64) -> f64 {
    index as f64 / fps
}

/// Whether frame `index` at `fps` lies inside any of `alive` (`start <= t <= end`).
pub fn frame_is_alive(index: u64, fps: f64, alive: &[TimeRange]) -> bool {
    if !valid_fps(fps) {
        return false;
    }
    let t = frame_time(index, fps);
    alive.iter().any(|range| range.start <= t && t <= range.end)
}

/// The alive frames of a video of `frame_count` frames, as sorted, disjoint,
/// non-adjacent half-open ranges of frame indices. `alive` need not be sorted
/// or disjoint; an `end` of `f64::INFINITY` runs to the last frame, and a
/// range with a NaN bound or `start > end` holds no frame.
pub fn alive_frame_ranges(frame_count: u64, fps: f64, alive: &[TimeRange]) -> Vec<Range<u64>> {
    if frame_count == 0 || !valid_fps(fps) {
        return Vec::new();
    }
    let intervals = union(alive.iter().copied().filter(|r| r.start <= r.end));
    let last = frame_count - 1;
    let mut frames: Vec<Range<u64>> = Vec::with_capacity(intervals.len());
    for interval in intervals {
        let first = first_frame_at_or_after(interval.start, fps, last);
        let Some(first) = first else { continue };
        let Some(end) = last_frame_at_or_before(interval.end, fps, last) else {
            continue;
        };
        if end < first {
            continue; // the interval falls between two frames
        }
        match frames.last_mut() {
            Some(previous) if previous.end >= first => previous.end = previous.end.max(end + 1),
            _ => frames.push(first..end + 1),
        }
    }
    frames
}

/// The first frame, at most `last`, whose time is `>= t`.
fn first_frame_at_or_after(t: f64, fps: f64, last: u64) -> Option<u64> {
    if t <= 0.0 {
        return Some(0);
    }
    if t > frame_time(last, fps) {
        return None;
    }
    // A float guess, then corrected against the exact test frame_is_alive uses.
    let mut frame = ((t * fps).ceil() as u64).min(last);
    while frame > 0 && frame_time(frame - 1, fps) >= t {
        frame -= 1;
    }
    while frame_time(frame, fps) < t && frame < last {
        frame += 1;
    }
    Some(frame)
}

/// The last frame, at most `last`, whose time is `<= t`.
fn last_frame_at_or_before(t: f64, fps: f64, last: u64) -> Option<u64> {
    if t < 0.0 {
        return None;
    }
    if t >= frame_time(last, fps) {
        return Some(last);
    }
    let mut frame = ((t * fps).floor() as u64).min(last);
    while frame > 0 && frame_time(frame, fps) > t {
        frame -= 1;
    }
    while frame < last && frame_time(frame + 1, fps) <= t {
        frame += 1;
    }
    Some(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(start: f64, end: f64) -> TimeRange {
        TimeRange { start, end }
    }

    #[test]
    fn bounds_are_inclusive() {
        // At 10 fps frame 5 is at 0.5 s and frame 10 at 1.0 s.
        let alive = [range(0.5, 1.0)];
        assert_eq!(alive_frame_ranges(100, 10.0, &alive), vec![5..11]);
        assert!(frame_is_alive(5, 10.0, &alive));
        assert!(frame_is_alive(10, 10.0, &alive));
        assert!(!frame_is_alive(4, 10.0, &alive));
        assert!(!frame_is_alive(11, 10.0, &alive));
    }

    #[test]
    fn awkward_float_bounds_agree_with_frame_is_alive() {
        // 3 / 30 == 0.1 exactly while 0.1 * 30 rounds above 3.
        let alive = [range(0.1, 0.2), range(1.0 / 3.0, 0.7)];
        let ranges = alive_frame_ranges(40, 30.0, &alive);
        for i in 0..40 {
            let in_ranges = ranges.iter().any(|r| r.contains(&i));
            assert_eq!(in_ranges, frame_is_alive(i, 30.0, &alive), "frame {i}");
        }
    }

    #[test]
    fn infinite_end_and_negative_start_are_clamped() {
        let alive = [range(-3.0, f64::INFINITY)];
        assert_eq!(alive_frame_ranges(50, 25.0, &alive), vec![0..50]);
    }

    #[test]
    fn touching_and_overlapping_intervals_merge_and_gaps_between_frames_vanish() {
        let alive = [
            range(2.0, 3.0),
            range(0.0, 1.0),
            range(1.1, 1.5),
            range(4.01, 4.09),
        ];
        // 1.0 s is frame 10, 1.1 s frame 11: adjacent frames merge.
        assert_eq!(alive_frame_ranges(100, 10.0, &alive), vec![0..16, 20..31]);
    }

    #[test]
    fn invalid_fps_and_empty_video_have_no_alive_frames() {
        let alive = [range(0.0, 10.0)];
        assert!(alive_frame_ranges(0, 30.0, &alive).is_empty());
        assert!(alive_frame_ranges(10, 0.0, &alive).is_empty());
        assert!(alive_frame_ranges(10, f64::NAN, &alive).is_empty());
        assert!(!frame_is_alive(1, 0.0, &alive));
    }
}
