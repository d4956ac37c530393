//! Faults during a render: a killed Chromium or a killed encoder costs a
//! retry of one segment, never the job, and the output's frames equal those
//! of an undisturbed render. A tiny frame queue with a drop policy keeps the
//! frame count and reports its drops.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use motionrender_engine::media::{probe, testclip::generate_clip, FrameRate};
use motionrender_tests::{descendants, fixtures_dir, frame_hashes, motionrender_binary, read_json};
use serde_json::Value;

/// A 10 s clip with captions changing all the time, cut into five segments
/// rendered one after another on one page: a kill lands inside a segment.
const SECONDS: f64 = 10.0;
const SEGMENT_SECONDS: &str = "2";

struct Source {
    _dir: tempfile::TempDir,
    clip: PathBuf,
    /// Per-frame hashes of the undisturbed render's video.
    undisturbed: Vec<String>,
}

fn source() -> &'static Source {
    static SOURCE: OnceLock<Source> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let clip = dir.path().join("clip.mp4");
        generate_clip(&clip, SECONDS, 640, 360, FrameRate::new(25, 1).unwrap(), true).unwrap();
        let out = dir.path().join("undisturbed.mp4");
        let mut child = start_render(&clip, &out, &dir.path().join("work"), &[]);
        let status = child.wait().unwrap();
        assert!(status.success(), "the undisturbed render failed");
        let undisturbed = frame_hashes(&out);
        Source { _dir: dir, clip, undisturbed }
    })
}

fn start_render(clip: &Path, out: &Path, work: &Path, extra: &[&str]) -> Child {
    let log = std::fs::File::create(out.with_extension("log")).unwrap();
    Command::new(motionrender_binary())
        .args(["--set", &format!("paths.work_dir={}", work.display())])
        .args(["--set", "retries.initial_backoff_ms=100"])
        // Before the subcommand: a `--set` after it would replace these.
        .args(extra)
        .args(["render", "--pages", "1", "--segment-seconds", SEGMENT_SECONDS, "--video"])
        .arg(clip)
        .arg("--scenario")
        .arg(fixtures_dir().join("render/busy_captions.json"))
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// Waits until the render works on its second segment, then kills the
/// process among its children that `pick` chooses. Returns its command line.
fn kill_mid_render(render: &Child, work: &Path, pick: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "the render never reached its second segment");
        let second_started = std::fs::read_dir(work)
            .into_iter()
            .flatten()
            .flatten()
            .any(|scratch| scratch.path().join("segment-00001.mp4").exists());
        if second_started {
            if let Some((pid, cmdline)) = descendants(render.id()).into_iter().find(|(_, cmdline)| pick(cmdline)) {
                let killed = Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
                assert!(killed.success(), "could not kill {pid}");
                return cmdline;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn disturbed_render(name: &str, extra: &[&str], pick: impl Fn(&str) -> bool, expected_code: &str) {
    let source = source();
    let dir = tempfile::tempdir().unwrap();
    let (out, work) = (dir.path().join(format!("{name}.mp4")), dir.path().join("work"));
    let mut render = start_render(&source.clip, &out, &work, extra);
    let killed = kill_mid_render(&render, &work, pick);
    let status = render.wait().unwrap();
    let log = std::fs::read_to_string(out.with_extension("log")).unwrap_or_default();
    assert!(status.success(), "the render failed after killing {killed}: {log}");

    let qc = read_json(&dir.path().join(format!("{name}.mp4.qc.json")));
    let retries = qc["retries"].as_array().cloned().unwrap_or_default();
    assert!(!retries.is_empty(), "no segment was retried after killing {killed}: {qc}");
    assert!(retries.iter().all(|r| r["code"] == expected_code), "retries with other causes: {retries:?}");
    let hashes = frame_hashes(&out);
    assert_eq!(hashes.len(), source.undisturbed.len(), "frame count differs from the undisturbed render");
    let differing: Vec<usize> = (0..hashes.len()).filter(|&i| hashes[i] != source.undisturbed[i]).collect();
    assert!(differing.is_empty(), "frames {differing:?} differ from the undisturbed render");
    assert!(probe(&out).unwrap().has_audio());
    assert!(descendants(std::process::id()).iter().all(|(_, c)| !c.contains(&dir.path().to_string_lossy().into_owned())));
}

#[test]
fn killing_chromium_mid_render_retries_the_segment_and_changes_no_frame() {
    let is_browser = |cmdline: &str| cmdline.contains("chrom") && cmdline.contains("--remote-debugging") && !cmdline.contains("--type=");
    disturbed_render("chromium_killed", &[], is_browser, "BROWSER_ERROR");
}

/// The encoder is a child process only when media run out of process; that
/// render's frames are also the in-process undisturbed render's, frame for frame.
#[test]
fn killing_the_encoder_mid_render_retries_the_segment_and_changes_no_frame() {
    let is_encoder = |cmdline: &str| cmdline.starts_with("ffmpeg") && cmdline.contains("libx264");
    disturbed_render("encoder_killed", &["--set", "encoder.in_process=false"], is_encoder, "FFMPEG_FAILED");
}

fn render_with_policy(policy: &str) -> (Value, u64) {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    generate_clip(&clip, 4.0, 640, 360, FrameRate::new(25, 1).unwrap(), true).unwrap();
    let out = dir.path().join("out.mp4");
    let result = Command::new(motionrender_binary())
        .args(["--set", &format!("paths.work_dir={}", dir.path().join("work").display())])
        .args(["--set", "queue.capacity_frames=1"])
        .args(["render", "--drop-policy", policy, "--video"])
        .arg(&clip)
        .arg("--scenario")
        .arg(fixtures_dir().join("render/caption_box.json"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(result.status.success(), "{policy}: {}", String::from_utf8_lossy(&result.stderr));
    (read_json(&dir.path().join("out.mp4.qc.json")), probe(&out).unwrap().frame_count)
}

#[test]
fn a_tiny_queue_that_drops_keeps_every_frame_and_counts_the_drops() {
    let (qc, frames) = render_with_policy("drop_newest");
    assert_eq!(frames, 100, "the output lost frames");
    let dropped = qc["frames"]["dropped"]["queue_full_newest"].as_u64().unwrap_or(0);
    assert!(dropped > 0, "a one-frame queue fed faster than it drains dropped nothing: {qc}");
    assert_eq!(qc["frames"]["substituted"].as_u64(), Some(dropped), "each drop is substituted once: {qc}");
    assert_eq!(qc["drop_policy"], "drop_newest");

    let (qc, frames) = render_with_policy("block");
    assert_eq!(frames, 100);
    assert_eq!(qc["frames"]["dropped"], serde_json::json!({}), "block must not drop: {qc}");
    assert_eq!(qc["frames"]["substituted"], 0);
}
