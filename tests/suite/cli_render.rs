//! `motionrender render` end to end with the real Chromium, the real
//! motiontext-renderer and FFmpeg: frame count and audio kept, caption pixels
//! where and when the scenario puts them and nowhere else.

use std::path::Path;

use motionrender_engine::media::{probe, testclip::generate_clip, FrameRate};
use motionrender_tests::{processes_mentioning, fixtures_dir, luma_frame, mean_difference, run_render, x264_settings};

const WIDTH: u32 = 640;
const HEIGHT: u32 = 360;

#[test]
fn a_caption_is_burned_in_where_and_when_the_scenario_says() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.mp4");
    generate_clip(&source, 4.0, WIDTH, HEIGHT, FrameRate::new(25, 1).unwrap(), true).unwrap();
    let out = dir.path().join("out.mp4");
    let result = run_render(&dir.path().join("work"), &source, &fixtures_dir().join("render/caption_box.json"), &out, &[]);
    assert!(result.status.success(), "render failed: {}", String::from_utf8_lossy(&result.stderr));

    let (source_info, out_info) = (probe(&source).unwrap(), probe(&out).unwrap());
    assert_eq!(out_info.frame_count, source_info.frame_count);
    assert!(out_info.has_audio(), "the source's audio is missing");
    assert!((out_info.duration_seconds - source_info.duration_seconds).abs() <= 0.04);

    let centre = (WIDTH / 2 - 120, HEIGHT / 2 - 30, WIDTH / 2 + 120, HEIGHT / 2 + 30);
    let luma = |video: &Path, index: u64| luma_frame(video, WIDTH, HEIGHT, index);
    let inside = mean_difference(&luma(&out, 50), &luma(&source, 50), WIDTH, centre); // t = 2.0 s, caption shown
    assert!(inside > 12.0, "no caption in the centre at 2.0 s (mean luma difference {inside:.1})");
    let corner = (0, HEIGHT - 60, 160, HEIGHT);
    let away = mean_difference(&luma(&out, 50), &luma(&source, 50), WIDTH, corner);
    assert!(away < 4.0, "pixels far from the caption changed (mean difference {away:.1})");
    for frame in [5, 95] {
        let whole = mean_difference(&luma(&out, frame), &luma(&source, frame), WIDTH, (0, 0, WIDTH, HEIGHT));
        assert!(whole < 4.0, "frame {frame} (outside the cue) differs from the source by {whole:.1}");
    }

    let qc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("out.mp4.qc.json")).unwrap()).unwrap();
    let frames = &qc["frames"];
    assert_eq!(frames["output"], 100);
    assert!(frames["captured"].as_u64().unwrap() >= 1);
    assert!(frames["reused"].as_u64().unwrap() >= 40, "a static caption should be captured once and reused: {frames}");
    assert!(frames["seeked"].as_u64().unwrap() <= 51, "frames outside the cue went to the browser: {frames}");

    // x264 on one thread: with frame threads the same frames do not always
    // encode the same (a render's frames must be the same run to run).
    let settings = x264_settings(&out);
    assert!(!settings.is_empty(), "no x264 settings in the output");
    for segment in &settings {
        let options: Vec<&str> = segment.split(' ').collect();
        assert!(options.contains(&"threads=1") && options.contains(&"lookahead_threads=1"), "x264 ran with more threads: {segment}");
    }
}

#[test]
fn bad_input_fails_with_a_one_line_reason_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    generate_clip(&clip, 1.0, 320, 180, FrameRate::new(25, 1).unwrap(), true).unwrap();
    let text = dir.path().join("notes.mp4");
    std::fs::write(&text, "not a video\n").unwrap();
    let empty = dir.path().join("empty.mp4");
    std::fs::write(&empty, "").unwrap();
    let good = fixtures_dir().join("render/caption_box.json");
    let invalid = fixtures_dir().join("invalid/cue_track_unknown.json");
    let out = dir.path().join("out/result.mp4");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let missing_dir_out = dir.path().join("no/such/folder/result.mp4");
    let cases = [
        (dir.path().join("missing.mp4"), good.clone(), out.clone(), "missing.mp4"),
        (text.clone(), good.clone(), out.clone(), "notes.mp4"),
        (empty.clone(), good.clone(), out.clone(), "empty.mp4"),
        (clip.clone(), invalid, out.clone(), "/cues/0/track"),
        (clip.clone(), good.clone(), missing_dir_out.clone(), "not writable"),
    ];
    for (video, scenario, target, named) in cases {
        let result = run_render(&dir.path().join("work"), &video, &scenario, &target, &[]);
        let stderr = String::from_utf8_lossy(&result.stderr);
        let last = stderr.lines().last().unwrap_or_default();
        assert!(!result.status.success(), "{named}: accepted");
        assert!(last.starts_with("motionrender: ") && last.contains(named), "{named}: the reason does not name it: {stderr}");
        assert!(!target.exists(), "{named}: partial output left at {}", target.display());
        let leftovers: Vec<_> = std::fs::read_dir(out.parent().unwrap()).unwrap().collect();
        assert!(leftovers.is_empty(), "{named}: files left in the output folder: {leftovers:?}");
        let work = dir.path().join("work");
        let scratch: Vec<_> = std::fs::read_dir(&work).map(|d| d.collect()).unwrap_or_default();
        assert!(scratch.is_empty(), "{named}: scratch left in {}: {scratch:?}", work.display());
        let marker = dir.path().to_string_lossy().into_owned();
        let left = processes_mentioning(&marker);
        assert!(left.is_empty(), "{named}: child processes left: {left:?}");
    }
}
