//! Property tests of segment planning: every frame in exactly one segment,
//! cuts in gaps, at the start of an alive run or pre-rolled from the start
//! of the one they fall in, and none costlier than a keyframe within reach.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use motionrender_engine::plan::{alive_frame_ranges, cut_cost, frame_is_alive, plan_segments};
use motionrender_engine::scenario::TimeRange;
use proptest::prelude::*;

fn intervals() -> impl Strategy<Value = Vec<TimeRange>> {
    let interval = (-5.0f64..120.0, 0.0f64..30.0, prop::bool::weighted(0.05)).prop_map(
        |(start, length, forever)| TimeRange {
            start,
            end: if forever {
                f64::INFINITY
            } else {
                start + length
            },
        },
    );
    prop::collection::vec(interval, 0..8)
}

fn fps() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(24.0),
        Just(25.0),
        Just(30.0),
        Just(30000.0 / 1001.0),
        Just(60.0),
        1.0f64..120.0
    ]
}

proptest! {
    #[test]
    fn segments_cover_every_frame_once_and_cut_safely(
        frame_count in 0u64..6000,
        fps in fps(),
        alive in intervals(),
        target in 0.5f64..40.0,
        gop in 1u64..600,
    ) {
        let keyframes: Vec<u64> = (0..frame_count).step_by(gop as usize).collect();
        let segments = plan_segments(frame_count, fps, &alive, target, &keyframes);
        let ranges = alive_frame_ranges(frame_count, fps, &alive);
        let is_alive = |frame: u64| ranges.iter().any(|r| r.contains(&frame));

        let mut next = 0;
        for (i, segment) in segments.iter().enumerate() {
            prop_assert_eq!(segment.index as usize, i);
            prop_assert_eq!(segment.first_frame, next);
            prop_assert!(segment.frame_count > 0);
            next += segment.frame_count;
            match segment.preroll_from {
                // In a gap, or where an alive run starts.
                None => prop_assert!(i == 0 || !is_alive(segment.first_frame) || !is_alive(segment.first_frame - 1)),
                Some(from) => {
                    prop_assert!(i > 0);
                    prop_assert!(from < segment.first_frame);
                    prop_assert!((from..=segment.first_frame).all(is_alive));
                    prop_assert!(from == 0 || !is_alive(from - 1));
                }
            }
        }
        prop_assert_eq!(next, frame_count);

        let target_frames = ((target * fps).round() as u64).max(1);
        let half = target_frames / 2;
        if let Some((last, rest)) = segments.split_last() {
            for segment in rest {
                prop_assert!(segment.frame_count >= target_frames - half);
                prop_assert!(segment.frame_count <= target_frames + half);
            }
            prop_assert!(last.frame_count <= target_frames + half || segments.len() == 1);
            // A cut off the keyframes is the gap rule's: no keyframe within
            // a tenth of the target of it (and half of the ideal cut) costs
            // less.
            let mut first = 0;
            for segment in rest {
                let ideal = first + target_frames;
                let cut = segment.first_frame + segment.frame_count;
                let next = &segments[segment.index as usize + 1];
                let cost = cut_cost(&keyframes, cut, next.preroll_from);
                if keyframes.contains(&cut) {
                    first = cut;
                    continue;
                }
                let reach = target_frames / 10;
                let window = cut.saturating_sub(reach).max(ideal - half)..=(cut + reach).min(ideal + half);
                for k in window.filter(|k| k % gop == 0) {
                    let preroll = ranges.iter().find(|r| r.contains(&k)).map(|r| r.start).filter(|&start| start < k);
                    prop_assert!(cut_cost(&keyframes, k, preroll) >= cost, "cut {} costs {}, keyframe {} less", cut, cost, k);
                }
                first = cut;
            }
        }
    }

    #[test]
    fn alive_frame_ranges_agree_with_frame_is_alive(
        frame_count in 0u64..3000,
        fps in fps(),
        alive in intervals(),
    ) {
        let ranges = alive_frame_ranges(frame_count, fps, &alive);
        for pair in ranges.windows(2) {
            prop_assert!(pair[0].end < pair[1].start);
        }
        for frame in 0..frame_count {
            let in_ranges = ranges.iter().any(|r| r.contains(&frame));
            prop_assert_eq!(in_ranges, frame_is_alive(frame, fps, &alive), "frame {}", frame);
        }
        prop_assert!(ranges.iter().all(|r| r.start < r.end && r.end <= frame_count));
    }
}
