//! Cutting a video's frames into segments that render independently: about
//! `target_seconds` long, cut where no cue is alive when a gap is near, else
//! cut inside a cue and pre-roll the page from the frame where that cue began.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::alive_frames::alive_frame_ranges;
use crate::scenario::TimeRange;

/// One segment of a render: frames `first_frame .. first_frame + frame_count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentPlan {
    /// Position of the segment in the job, from 0.
    pub index: u32,
    pub first_frame: u64,
    pub frame_count: u64,
    /// When the segment starts inside an alive interval: the first frame of
    /// that interval. The rasterizer seeks through frames
    /// `preroll_from..first_frame` without capturing them, so the page's
    /// state at `first_frame` equals that of a continuous render.
    pub preroll_from: Option<u64>,
}

impl SegmentPlan {
    /// The frames this segment outputs.
    pub fn frames(&self) -> Range<u64> {
        self.first_frame..self.first_frame + self.frame_count
    }

    /// The frames seeked through, uncaptured, before the first one (empty
    /// without pre-roll).
    pub fn preroll_frames(&self) -> Range<u64> {
        self.preroll_from.unwrap_or(self.first_frame)..self.first_frame
    }
}

/// Splits frames `0..frame_count` at `fps` into contiguous segments, in order,
/// covering every frame exactly once.
///
/// Each segment aims at `target_seconds`. The cut goes on the frame nearest to
/// the ideal cut, within ±50 % of the target length, at which no `alive`
/// interval holds (ties go to the earlier frame); a segment starting there
/// needs no pre-roll. With no such frame, the cut goes at the ideal point and
/// the next segment pre-rolls from the first frame of the alive run it starts
/// in. Then a keyframe (of `keyframes`, the source's) within a tenth of the
/// target of that cut takes its place when it costs less: a segment decodes
/// and drops the frames from the keyframe at or before its start (up to a
/// GOP; about 7 ms each at 1080p) and seeks the page through its pre-roll
/// (about 2 ms a frame), and a cut costs those frames together (ties: the
/// nearer, then the earlier). The reach is short so that segments keep
/// their lengths: pages share a render's segments, and one long segment
/// left to the last keeps a page waiting longer than the frames it saved.
/// A remainder of up to 1.5 targets stays one last segment rather than
/// leaving a short tail.
///
/// A frame rate or target that is not a positive finite number gives one
/// segment for the whole video.
pub fn plan_segments(
    frame_count: u64,
    fps: f64,
    alive: &[TimeRange],
    target_seconds: f64,
    keyframes: &[u64],
) -> Vec<SegmentPlan> {
    if frame_count == 0 {
        return Vec::new();
    }
    let target = target_frames(frame_count, fps, target_seconds);
    let half = target / 2;
    let alive_frames = alive_frame_ranges(frame_count, fps, alive);

    let mut segments = Vec::new();
    let mut first_frame = 0;
    let mut preroll_from = None;
    loop {
        let index = u32::try_from(segments.len()).unwrap_or(u32::MAX);
        let remaining = frame_count - first_frame;
        if remaining <= target.saturating_add(half) {
            segments.push(SegmentPlan {
                index,
                first_frame,
                frame_count: remaining,
                preroll_from,
            });
            return segments;
        }
        // first_frame < ideal - half and ideal + half < frame_count.
        let ideal = first_frame + target;
        let (cut, next_preroll) = cheapest_cut(keyframes, &alive_frames, ideal, half, target / 10);
        segments.push(SegmentPlan {
            index,
            first_frame,
            frame_count: cut - first_frame,
            preroll_from,
        });
        first_frame = cut;
        preroll_from = next_preroll;
    }
}

/// The target length in frames, at least 1; the whole video when the target
/// cannot be expressed in frames.
fn target_frames(frame_count: u64, fps: f64, target_seconds: f64) -> u64 {
    let frames = (target_seconds * fps).round();
    let valid = fps.is_finite() && fps > 0.0 && target_seconds > 0.0 && frames.is_finite();
    if !valid || frames >= frame_count as f64 {
        return frame_count;
    }
    (frames as u64).max(1)
}

/// Of [`choose_cut`]'s cut and the keyframes within `reach` frames of it
/// (and `half` of `ideal`), the one with the lowest [`cut_cost`] (ties:
/// nearer to that cut, then earlier), with the pre-roll start of the
/// segment that begins there.
fn cheapest_cut(keyframes: &[u64], alive_frames: &[Range<u64>], ideal: u64, half: u64, reach: u64) -> (u64, Option<u64>) {
    let cut = choose_cut(alive_frames, ideal, half);
    let window = cut.0.saturating_sub(reach).max(ideal - half)..=(cut.0 + reach).min(ideal + half);
    let from = keyframes.partition_point(|k| k < window.start());
    let on_keyframes = keyframes[from..].iter().take_while(|k| window.contains(k)).map(|&k| (k, preroll_from(alive_frames, k)));
    std::iter::once(cut)
        .chain(on_keyframes)
        .min_by_key(|&(at, preroll)| (cut_cost(keyframes, at, preroll), at.abs_diff(cut.0), at))
        .unwrap_or(cut)
}

/// The frames a segment starting at `cut` spends before its first: decoded
/// and dropped since the keyframe at or before it (none when the keyframes
/// are unknown), and seeked through from `preroll`.
pub fn cut_cost(keyframes: &[u64], cut: u64, preroll: Option<u64>) -> u64 {
    let keyframe = keyframes.partition_point(|&k| k <= cut).checked_sub(1).map(|i| keyframes[i]);
    let dropped = keyframe.map_or(if keyframes.is_empty() { 0 } else { cut }, |k| cut - k);
    dropped + preroll.map_or(0, |from| cut - from)
}

/// The first frame of the alive run holding `frame`, if one does and
/// starts before it (a segment starting where a run starts needs none).
fn preroll_from(alive_frames: &[Range<u64>], frame: u64) -> Option<u64> {
    alive_frames.iter().find(|run| run.contains(&frame)).map(|run| run.start).filter(|&start| start < frame)
}

/// Where to cut near `ideal`, and the pre-roll start of the segment that
/// begins at the cut. `alive_frames` are sorted, disjoint and non-adjacent,
/// so the frames just outside an alive run are dead.
fn choose_cut(alive_frames: &[Range<u64>], ideal: u64, half: u64) -> (u64, Option<u64>) {
    let containing = alive_frames
        .binary_search_by(|run| {
            if run.end <= ideal {
                std::cmp::Ordering::Less
            } else if run.start > ideal {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .ok()
        .map(|i| alive_frames[i].clone());
    let Some(run) = containing else {
        return (ideal, None); // the ideal frame is in a gap
    };
    let before = run
        .start
        .checked_sub(1)
        .filter(|frame| ideal - frame <= half);
    let after = Some(run.end).filter(|frame| frame - ideal <= half);
    match (before, after) {
        (Some(b), Some(a)) if a - ideal < ideal - b => (a, None),
        (Some(b), _) => (b, None),
        (None, Some(a)) => (a, None),
        (None, None) => (ideal, Some(run.start)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(start: f64, end: f64) -> TimeRange {
        TimeRange { start, end }
    }

    fn cuts(segments: &[SegmentPlan]) -> Vec<u64> {
        segments.iter().skip(1).map(|s| s.first_frame).collect()
    }

    #[test]
    fn no_frames_no_segments() {
        assert!(plan_segments(0, 30.0, &[range(0.0, 1.0)], 10.0, &[]).is_empty());
    }

    #[test]
    fn a_target_longer_than_the_video_is_one_segment() {
        let segments = plan_segments(300, 30.0, &[range(1.0, 5.0)], 60.0, &[]);
        assert_eq!(
            segments,
            vec![SegmentPlan {
                index: 0,
                first_frame: 0,
                frame_count: 300,
                preroll_from: None
            }]
        );
    }

    #[test]
    fn a_video_without_cues_is_cut_at_plain_targets() {
        let segments = plan_segments(300, 30.0, &[], 2.0, &[]);
        assert_eq!(cuts(&segments), vec![60, 120, 180, 240]);
        assert!(segments
            .iter()
            .all(|s| s.frame_count == 60 && s.preroll_from.is_none()));
        assert_eq!(
            segments.iter().map(|s| s.index).collect::<Vec<_>>(),
            vec![0, 1, 2, 3, 4]
        );
    }

    #[test]
    fn a_short_remainder_joins_the_last_segment() {
        let segments = plan_segments(250, 10.0, &[], 10.0, &[]);
        assert_eq!(cuts(&segments), vec![100]);
        assert_eq!(segments[1].frame_count, 150);
    }

    #[test]
    fn cuts_land_in_the_nearest_gap_within_reach() {
        // 10 fps, target 10 s = 100 frames, reach ±50 frames. Cues cover
        // frames 80..=105 and 108..=200: the ideal cut 100 is alive, the
        // nearest dead frames are 79 and 106 and 107.
        let alive = [range(8.0, 10.5), range(10.8, 20.0)];
        let segments = plan_segments(400, 10.0, &alive, 10.0, &[]);
        assert_eq!(segments[1].first_frame, 106);
        assert_eq!(segments[1].preroll_from, None);
        for segment in &segments[1..] {
            assert!(
                !crate::plan::frame_is_alive(segment.first_frame, 10.0, &alive)
                    || segment.preroll_from.is_some()
            );
        }
    }

    #[test]
    fn a_keyframe_near_the_cut_takes_its_place_when_it_costs_less() {
        // Target 100 frames at 10 fps: keyframes within 10 frames of the cut count.
        let keyframes: Vec<u64> = (0..4).map(|i| i * 100).collect();
        // The ideal cut 100 is a keyframe in a gap.
        assert_eq!(plan_segments(400, 10.0, &[range(11.0, 12.0)], 10.0, &keyframes)[1].first_frame, 100);
        // Frames 98..=110 alive: keyframe 100 pre-rolls 2 frames, the gap
        // frame 97 drops 97.
        let segments = plan_segments(400, 10.0, &[range(9.8, 11.0)], 10.0, &keyframes);
        assert_eq!((segments[1].first_frame, segments[1].preroll_from), (100, Some(98)));
        // Frames 70..=130 alive: keyframe 100 is beyond reach of the gap
        // frame 69, which stays the cut.
        let segments = plan_segments(400, 10.0, &[range(7.0, 13.0)], 10.0, &keyframes);
        assert_eq!((segments[1].first_frame, segments[1].preroll_from), (69, None));
        // No cue: keyframe 95 drops nothing where 100 drops 5.
        assert_eq!(plan_segments(400, 10.0, &[], 10.0, &[0, 95, 330])[1].first_frame, 95);
        // Keyframes 96 and 104 cost nothing and are as near: the earlier.
        assert_eq!(plan_segments(400, 10.0, &[], 10.0, &[0, 96, 104, 330])[1].first_frame, 96);
        // No keyframes known: the gap frame nearest to the ideal cut.
        assert_eq!(plan_segments(400, 10.0, &[range(7.0, 13.0)], 10.0, &[])[1].first_frame, 69);
    }

    #[test]
    fn a_cut_costs_the_frames_dropped_since_its_keyframe_and_its_pre_roll() {
        assert_eq!(cut_cost(&[0, 50, 100], 60, None), 10);
        assert_eq!(cut_cost(&[0, 50, 100], 100, Some(90)), 10);
        assert_eq!(cut_cost(&[0, 50, 100], 120, Some(110)), 30);
        assert_eq!(cut_cost(&[], 120, Some(110)), 10);
        assert_eq!(cut_cost(&[30], 20, None), 20);
    }

    #[test]
    fn ties_go_to_the_earlier_gap() {
        // Alive frames 95..=105: dead frames 94 and 106 are both 6 from 100.
        let segments = plan_segments(400, 10.0, &[range(9.5, 10.5)], 10.0, &[]);
        assert_eq!(segments[1].first_frame, 94);
    }

    #[test]
    fn a_cut_inside_a_long_cue_prerolls_from_the_cue_start() {
        // One cue from 3 s to 40 s at 10 fps: frames 30..=400, target 10 s.
        let segments = plan_segments(600, 10.0, &[range(3.0, 40.0)], 10.0, &[]);
        assert_eq!(segments[0].preroll_from, None);
        // The first cut finds no gap within 50..=150 and goes at 100.
        assert_eq!(segments[1].first_frame, 100);
        assert_eq!(segments[1].preroll_from, Some(30));
        assert_eq!(segments[1].preroll_frames(), 30..100);
        assert_eq!(segments[2].first_frame, 200);
        assert_eq!(segments[2].preroll_from, Some(30));
        assert_eq!(segments[3].first_frame, 300);
        assert_eq!(segments[3].preroll_from, Some(30));
        // From 300 the ideal cut 400 is still alive, 401 is dead and near.
        assert_eq!(segments[4].first_frame, 401);
        assert_eq!(segments[4].preroll_from, None);
    }

    #[test]
    fn a_cue_alive_to_the_end_prerolls_from_its_start() {
        let segments = plan_segments(300, 10.0, &[range(0.0, f64::INFINITY)], 10.0, &[]);
        assert_eq!(cuts(&segments), vec![100, 200]);
        assert_eq!(segments[1].preroll_from, Some(0));
        assert_eq!(segments[2].preroll_from, Some(0));
    }

    #[test]
    fn invalid_rates_give_one_segment() {
        for (fps, target) in [
            (0.0, 10.0),
            (f64::NAN, 10.0),
            (30.0, 0.0),
            (30.0, f64::INFINITY),
        ] {
            let segments = plan_segments(90, fps, &[], target, &[]);
            assert_eq!(segments.len(), 1, "fps {fps}, target {target}");
            assert_eq!(segments[0].frames(), 0..90);
        }
    }
}
