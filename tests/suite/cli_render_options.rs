//! `motionrender render` options: output size and frame rate, and what an
//! unknown plugin does with and without `--strict-plugins`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use motionrender_engine::media::{probe, testclip::generate_clip, FrameRate};
use motionrender_tests::{fixtures_dir, motionrender_binary, read_json};

fn clip(dir: &Path) -> PathBuf {
    let clip = dir.join("clip.mp4");
    generate_clip(&clip, 2.0, 640, 360, FrameRate::new(25, 1).unwrap(), true).unwrap();
    clip
}

fn render(dir: &Path, scenario: &str, out: &Path, extra: &[&str]) -> Output {
    Command::new(motionrender_binary())
        .args(["--set", &format!("paths.work_dir={}", dir.join("work").display()), "render", "--video"])
        .arg(clip(dir))
        .arg("--scenario")
        .arg(fixtures_dir().join(scenario))
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn width_and_fps_scale_and_convert_the_output_keeping_duration_and_audio() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("small.mp4");
    let result = render(dir.path(), "render/caption_box.json", &out, &["--width", "320", "--fps", "30"]);
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    let info = probe(&out).unwrap();
    assert_eq!((info.width, info.height), (320, 180), "height follows the source's 16:9");
    assert_eq!(info.frame_rate, FrameRate::new(30, 1).unwrap());
    assert_eq!(info.frame_count, 60, "2 s at 30 fps");
    assert!(info.has_audio());
    let qc = read_json(&dir.path().join("small.mp4.qc.json"));
    assert_eq!((qc["frames"]["source"].as_u64(), qc["frames"]["planned"].as_u64()), (Some(50), Some(60)));
}

#[test]
fn an_odd_width_is_refused_by_name_before_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("odd.mp4");
    let result = render(dir.path(), "render/caption_box.json", &out, &["--width", "321"]);
    assert!(!result.status.success());
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.lines().last().unwrap_or_default().contains("width"), "{stderr}");
    assert!(!out.exists());
}

#[test]
fn an_unknown_plugin_is_listed_in_qc_or_fails_the_render_under_strict_plugins() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lenient.mp4");
    let result = render(dir.path(), "render/unknown_plugin.json", &out, &[]);
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    let qc = read_json(&dir.path().join("lenient.mp4.qc.json"));
    let missing: Vec<String> = qc["plugins_missing"].as_array().unwrap().iter().map(|m| m.as_str().unwrap().to_owned()).collect();
    assert!(missing.len() == 1 && missing[0].starts_with("glow"), "QC must list glow, and only glow: {missing:?}");

    let strict = dir.path().join("strict.mp4");
    let result = render(dir.path(), "render/unknown_plugin.json", &strict, &["--strict-plugins"]);
    assert!(!result.status.success(), "--strict-plugins accepted a missing plugin");
    let stderr = String::from_utf8_lossy(&result.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.contains("[PLUGIN_NOT_FOUND]"), "{stderr}");
    assert!(last.contains("glow"), "{stderr}");
    assert!(!strict.exists(), "output left behind");
}

#[test]
fn the_encoder_choice_and_its_reason_reach_qc_and_an_unusable_nvenc_fails_by_code() {
    let status = motionrender_engine::media::nvenc_status();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("auto.mp4");
    let result = render(dir.path(), "render/caption_box.json", &out, &["--encoder", "auto"]);
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    let qc = read_json(&dir.path().join("auto.mp4.qc.json"));
    let expected = if status.usable { "nvenc" } else { "x264" };
    assert_eq!(qc["encoder"], expected, "{qc}");
    assert!(qc["encoder_reason"].as_str().unwrap().contains("NVENC"), "the reason must say why NVENC was or was not used: {qc}");

    if !status.usable {
        let forced = dir.path().join("nvenc.mp4");
        let result = render(dir.path(), "render/caption_box.json", &forced, &["--encoder", "nvenc"]);
        assert!(!result.status.success(), "an unusable NVENC was accepted");
        let stderr = String::from_utf8_lossy(&result.stderr);
        let last = stderr.lines().last().unwrap_or_default();
        assert!(last.contains("[ENCODER_UNAVAILABLE]") && last.contains(&status.reason), "{stderr}");
        assert!(!forced.exists());
    }
}
