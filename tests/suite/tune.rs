//! `motionrender tune`, through the binary and the files it writes: seeded
//! synthetic sweeps repeat exactly, every run accounts for every frame, the
//! recommendation meets its targets (or says none does), `compare` flags a
//! slower consumer and not a rerun, the plots are real pictures, a real
//! sweep renders with the engine, and bad sweep files are refused by name.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{Browser, BrowserConfig};
use futures::StreamExt as _;
use motionrender_engine::browser::find_executable;
use motionrender_engine::media::{testclip::generate_clip, FrameRate};
use motionrender_tests::{fixtures_dir, motionrender_binary, read_json, read_text};
use serde_json::Value;

/// A small sweep: 3 policies × 3 capacities, 20 s at 30 fps, a consumer
/// (40 ms a frame) slower than the 33 ms the deadline allows.
const SLOW_CONSUMER: &str = r#"
name = "slow-consumer"
mode = "synthetic"
seed = 7
runs = 3
warmup = 1

[deadline]
mode = "deadline"
latency_budget_ms = 200

[sweep]
drop_policy = ["block", "drop_newest", "drop_oldest"]
pages = [1]

[sweep.queue]
capacity_frames = [2, 8, 32]

[synthetic]
seconds = 20

[synthetic.consumer]
service_ms = 40
"#;

fn tune(args: &[&str]) -> Output {
    Command::new(motionrender_binary()).arg("tune").args(args).output().unwrap()
}

fn text(output: &Output) -> String {
    format!("status {:?}\nstdout:\n{}\nstderr:\n{}", output.status, String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// Writes `sweep` and runs it into `dir/name`, with `extra` flags; the run folder.
fn sweep(dir: &Path, name: &str, sweep: &str, extra: &[&str]) -> PathBuf {
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, sweep).unwrap();
    let out = dir.join(name);
    let mut args = vec![file.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let output = tune(&args);
    assert!(output.status.success(), "tune {name}: {}", text(&output));
    out
}

fn results(dir: &Path) -> Vec<Value> {
    read_text(&dir.join("results.jsonl")).lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

/// `points.csv` as rows of column name → cell.
fn points_csv(dir: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let text = read_text(&dir.join("points.csv"));
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(str::to_owned).collect();
    lines.map(|line| header.iter().cloned().zip(line.split(',').map(str::to_owned)).collect()).collect()
}

/// A results line without the fields that may hold the time of day (none
/// do today; the check keeps the comparison honest if one is added).
fn without_timestamps(mut line: Value) -> Value {
    if let Some(object) = line.as_object_mut() {
        object.retain(|key, _| !key.ends_with("_at"));
    }
    line
}

#[test]
fn a_synthetic_sweep_repeats_for_its_seed_and_differs_for_another() {
    let dir = tempfile::tempdir().unwrap();
    let first = sweep(dir.path(), "first", SLOW_CONSUMER, &[]);
    let again = sweep(dir.path(), "again", SLOW_CONSUMER, &[]);
    let other = sweep(dir.path(), "other", SLOW_CONSUMER, &["--seed", "8"]);
    let strip = |dir: &Path| results(dir).into_iter().map(without_timestamps).collect::<Vec<_>>();
    let (first, again, other) = (strip(&first), strip(&again), strip(&other));
    assert_eq!(first.len(), 9 * 3, "one line per measured run");
    assert_eq!(first, again, "the same seed gave different results");
    assert_ne!(first, other, "another seed gave the same results");
    let metrics = |lines: &[Value]| lines.iter().map(|l| l["metrics"].clone()).collect::<Vec<_>>();
    assert_ne!(metrics(&first), metrics(&other), "another seed changed only the seeds, not the measurements");
}

#[test]
fn every_run_accounts_for_every_frame_and_block_drops_none() {
    let dir = tempfile::tempdir().unwrap();
    let run = sweep(dir.path(), "accounts", SLOW_CONSUMER, &[]);
    let lines = results(&run);
    assert_eq!(lines.len(), 27);
    let mut dropped_somewhere = 0;
    for line in &lines {
        let m = &line["metrics"];
        let n = |key: &str| m[key].as_u64().unwrap_or_else(|| panic!("{key} missing: {line}"));
        let by_reason: u64 = m["dropped"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
        assert_eq!(by_reason, n("dropped_total"), "{line}");
        assert_eq!(n("pushed"), n("popped") + n("dropped_total"), "pushed != popped + dropped: {line}");
        assert_eq!(n("frames_out"), n("frames_in"), "frames out != frames in: {line}");
        assert_eq!(n("frames_in"), 600, "{line}");
        assert_eq!(n("substituted"), n("dropped_total"), "{line}");
        if line["params"]["drop_policy"] == "block" {
            assert_eq!(n("dropped_total"), 0, "block dropped frames: {line}");
            assert!(m["blocked_seconds"].as_f64().unwrap() > 0.0, "block never blocked behind a slow consumer: {line}");
        }
        dropped_somewhere += n("dropped_total");
    }
    assert!(dropped_somewhere > 0, "no drop policy dropped anything behind a slow consumer");
    assert_eq!(points_csv(&run).len(), 9, "one row per point");
}

#[test]
fn the_recommendation_meets_the_targets_and_a_tighter_target_meets_none() {
    let dir = tempfile::tempdir().unwrap();
    let met = sweep(dir.path(), "met", &format!("{SLOW_CONSUMER}\n[targets]\nmax_drop_rate = 0.25\nmax_p99_latency_ms = 1500\nmax_memory_mb = 1000\n"), &[]);
    let record = read_json(&met.join("record.json"));
    let chosen = record["recommendation"]["Meets"]["point"].as_u64().unwrap_or_else(|| panic!("no recommendation: {}", record["recommendation"])) as usize;
    let rows = points_csv(&met);
    let row = &rows[chosen];
    let median = |name: &str| row[&format!("{name}_median")].parse::<f64>().unwrap();
    assert!(median("drop_rate") <= 0.25 && median("p99_latency_ms") <= 1500.0 && median("peak_memory_mb") <= 1000.0, "the recommended point misses a target: {row:?}");
    // The smallest: no point with a smaller queue meets the targets.
    for other in rows.iter().filter(|r| r["capacity_frames"].parse::<u32>().unwrap() < row["capacity_frames"].parse::<u32>().unwrap()) {
        let m = |name: &str| other[&format!("{name}_median")].parse::<f64>().unwrap();
        assert!(m("drop_rate") > 0.25 || m("p99_latency_ms") > 1500.0, "a smaller point meets the targets too: {other:?}");
    }
    // Blocking behind a slow consumer lets latency grow past the target.
    assert_ne!(row["drop_policy"], "block", "{row:?}");
    let snippet = read_text(&met.join("recommendation.toml"));
    let config: motionrender_config::Config = toml::from_str(&snippet).unwrap_or_else(|e| panic!("recommendation.toml is not configuration: {e}\n{snippet}"));
    assert_eq!(config.queue.capacity_frames.to_string(), row["capacity_frames"], "{snippet}");
    let summary = read_text(&met.join("summary.md"));
    assert!(summary.contains("smallest configuration that meets every target") && summary.contains(&snippet), "{summary}");

    let tight = sweep(dir.path(), "tight", &format!("{SLOW_CONSUMER}\n[targets]\nmax_drop_rate = 0.02\nmax_p99_latency_ms = 1500\n"), &[]);
    let record = read_json(&tight.join("record.json"));
    assert!(record["recommendation"]["NoneMeets"].is_object(), "expected none to meet: {}", record["recommendation"]);
    assert!(!tight.join("recommendation.toml").exists());
    let summary = read_text(&tight.join("summary.md"));
    assert!(summary.contains("No configuration meets every target") && summary.contains("Closest: point"), "{summary}");
}

/// A throughput sweep (no deadline) whose consumer is the bottleneck.
const THROUGHPUT: &str = r#"
name = "throughput"
seed = 3
runs = 5

[sweep]
drop_policy = ["block", "drop_oldest"]

[sweep.queue]
capacity_frames = [4, 16]

[synthetic]
seconds = 10

[synthetic.producer]
rate_fps = 60
"#;

#[test]
fn compare_flags_a_slower_consumer_and_not_a_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = sweep(dir.path(), "baseline", THROUGHPUT, &["--with", "synthetic.consumer.service_ms=30"]);
    let rerun = sweep(dir.path(), "rerun", THROUGHPUT, &["--with", "synthetic.consumer.service_ms=30"]);
    let slower = sweep(dir.path(), "slower", THROUGHPUT, &["--with", "synthetic.consumer.service_ms=39"]);
    let (b, r, s) = (baseline.to_str().unwrap(), rerun.to_str().unwrap(), slower.to_str().unwrap());

    let same = tune(&["compare", b, r, "--fail-on-regression"]);
    assert!(same.status.success(), "a rerun was flagged: {}", text(&same));
    let report = String::from_utf8_lossy(&same.stdout);
    assert!(report.contains("4 points matched; 0 changed beyond noise"), "{report}");

    let worse = tune(&["compare", b, s, "--fail-on-regression"]);
    assert_eq!(worse.status.code(), Some(2), "a 30% slower consumer passed: {}", text(&worse));
    let report = String::from_utf8_lossy(&worse.stdout).into_owned();
    assert!(report.contains("Mann-Whitney"), "the report does not say its test: {report}");
    // Every point is affected: blocking ones render slower, dropping ones drop more.
    for row in points_csv(&baseline) {
        let metric = if row["drop_policy"] == "block" { "render_time_factor" } else { "drop_rate" };
        let flagged = report.lines().any(|l| l.contains(&format!("`{}`", row["key"])) && l.contains(&format!("| {metric} |")) && l.contains("REGRESSION"));
        assert!(flagged, "point {} is not flagged for {metric}: {report}", row["key"]);
    }
    assert!(!report.contains("improvement"), "a slower consumer improved something: {report}");
    // Without --fail-on-regression the same comparison only reports.
    assert!(tune(&["compare", b, s]).status.success());
}

/// Headless Chromium with a profile of its own, for looking at the outputs.
async fn browser(profile: &Path) -> (Browser, tokio::task::JoinHandle<()>) {
    let config = BrowserConfig::builder()
        .chrome_executable(find_executable().unwrap())
        .no_sandbox()
        .user_data_dir(profile)
        .window_size(1280, 900)
        .viewport(Viewport { width: 1280, height: 900, device_scale_factor: Some(1.0), ..Viewport::default() })
        .arg("disable-gpu")
        .arg("no-first-run")
        .arg("allow-file-access-from-files")
        .build()
        .unwrap();
    let (browser, mut events) = Browser::launch(config).await.unwrap();
    let handler = tokio::spawn(async move { while events.next().await.is_some_and(|event| event.is_ok()) {} });
    (browser, handler)
}

/// Pixels of a PNG close to one of the policies' colours (the curves).
fn curve_pixels(png: &[u8]) -> (u32, u32, usize) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png)).read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buffer).unwrap();
    let channels = match frame.color_type {
        png::ColorType::Rgba => 4,
        png::ColorType::Rgb => 3,
        other => panic!("unexpected colour type {other:?}"),
    };
    let colors = [[0x2f, 0x7d, 0xe1], [0xe8, 0x74, 0x3b], [0x19, 0xa9, 0x79]];
    let count = buffer[..frame.buffer_size()]
        .chunks(channels)
        .filter(|px| colors.iter().any(|c| (0..3).map(|i| u32::from(px[i].abs_diff(c[i]))).sum::<u32>() < 60))
        .count();
    (frame.width, frame.height, count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plots_are_svg_and_png_pictures_that_show_their_curves() {
    let dir = tempfile::tempdir().unwrap();
    let run = sweep(dir.path(), "plots", SLOW_CONSUMER, &[]);
    let names = ["drop_rate_vs_capacity", "p99_latency_vs_throughput", "queue_depth_over_time", "peak_memory_vs_capacity", "render_time_factor_vs_pages"];
    for name in names {
        let png = std::fs::read(run.join(format!("plots/{name}.png"))).unwrap();
        let (width, height, curves) = curve_pixels(&png);
        assert_eq!((width, height), (960, 600), "{name}.png");
        assert!(curves > 200, "{name}.png shows almost no curve pixels ({curves})");
    }
    let (mut browser, handler) = browser(&dir.path().join("profile")).await;
    for name in names {
        let url = format!("file://{}", run.join(format!("plots/{name}.svg")).display());
        let page = browser.new_page(url.as_str()).await.unwrap();
        let parsed: Value = page
            .evaluate("({root: document.documentElement.nodeName, errors: document.getElementsByTagName('parsererror').length, drawn: document.querySelectorAll('polyline, path, circle, rect').length})")
            .await
            .unwrap()
            .into_value()
            .unwrap();
        assert_eq!(parsed["root"], "svg", "{name}.svg: {parsed}");
        assert_eq!(parsed["errors"], 0, "{name}.svg is not well-formed: {parsed}");
        assert!(parsed["drawn"].as_u64().unwrap() > 5, "{name}.svg draws nothing: {parsed}");
        let shot = page.screenshot(ScreenshotParams::builder().build()).await.unwrap();
        assert!(curve_pixels(&shot).2 > 200, "Chromium shows no curves in {name}.svg");
        page.close().await.unwrap();
    }
    let url = format!("file://{}", run.join("summary.html").display());
    let page = browser.new_page(url.as_str()).await.unwrap();
    let loaded: Value = page
        .evaluate("new Promise(done => { const imgs = [...document.images]; const check = () => imgs.every(i => i.complete) ? done(imgs.map(i => i.naturalWidth)) : setTimeout(check, 50); check(); })")
        .await
        .unwrap()
        .into_value()
        .unwrap();
    assert_eq!(loaded.as_array().map(Vec::len), Some(5), "summary.html shows {loaded}");
    assert!(loaded.as_array().unwrap().iter().all(|w| w.as_u64() == Some(960)), "a plot did not load in summary.html: {loaded}");
    let shot = page.screenshot(ScreenshotParams::builder().full_page(true).build()).await.unwrap();
    let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tune_summary.png");
    std::fs::write(&kept, &shot).unwrap();
    let (_, _, curves) = curve_pixels(&shot);
    assert!(curves > 1000, "the screenshot of summary.html shows almost no curves ({curves} pixels; kept at {})", kept.display());
    let _ = tokio::time::timeout(Duration::from_secs(5), browser.close()).await;
    handler.abort();
}

#[test]
fn a_real_sweep_renders_with_the_engine_and_says_what_it_cannot_measure() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    generate_clip(&clip, 3.0, 320, 180, FrameRate::new(25, 1).unwrap(), true).unwrap();
    let scenario = fixtures_dir().join("render/busy_captions.json");
    let spec = format!(
        "name = \"real\"\nmode = \"real\"\nruns = 1\n[sweep]\ndrop_policy = [\"block\", \"drop_newest\"]\nsize = [\"320x180\"]\nfps = [25]\n[sweep.queue]\ncapacity_frames = [2]\n[real]\nvideo = {:?}\nscenario = {:?}\n",
        clip.display().to_string(),
        scenario.display().to_string()
    );
    let run = sweep(dir.path(), "real", &spec, &["--set", &format!("paths.work_dir={}", dir.path().join("work").display())]);
    let lines = results(&run);
    assert_eq!(lines.len(), 2);
    for line in &lines {
        let m = &line["metrics"];
        assert_eq!(m["frames_in"], 75, "{line}");
        assert_eq!(m["frames_out"], 75, "{line}");
        assert_eq!(m["pushed"].as_u64().unwrap(), m["popped"].as_u64().unwrap() + m["dropped_total"].as_u64().unwrap(), "{line}");
        // The queue times every overlay from push to pop.
        let latency = &m["latency"];
        assert_eq!(latency["samples"], m["popped"], "{line}");
        let (p50, p99, max) = (latency["p50_ms"].as_f64().unwrap(), latency["p99_ms"].as_f64().unwrap(), latency["max_ms"].as_f64().unwrap());
        assert!(p50 <= p99 && p99 <= max && max > 0.0, "{line}");
        let peak_frames = m["queue_peak_frames"].as_u64().unwrap();
        assert!((1..=2).contains(&peak_frames), "the queue holds 2 frames at most: {line}");
        assert!(m["queue_peak_bytes"].as_u64().unwrap() > 0, "{line}");
        // Depth over time: never above the pages' bound, and the peak shows.
        let depth: Vec<u64> = m["queue_depth"].as_array().unwrap().iter().map(|bin| bin[1].as_u64().unwrap()).collect();
        assert!(!depth.is_empty() && depth.len() <= 120, "{line}");
        assert!(depth.iter().all(|&d| d <= 2 * 2), "2 frames × at most 2 pages: {line}");
        assert!(depth.iter().any(|&d| d >= 1), "{line}");
        let (run_frames, stand_in) = (m["longest_drop_run"].as_u64().unwrap(), m["longest_stand_in_ms"].as_f64().unwrap());
        assert!((stand_in - run_frames as f64 * 40.0).abs() < 1e-6, "25 fps: 40 ms a frame: {line}");
        assert_eq!(m["peak_memory_mb"]["source"], "measured");
        assert!(m["peak_memory_mb"]["engine"].as_f64().unwrap() > 1.0 && m["peak_memory_mb"]["chromium"].as_f64().unwrap() > 1.0, "{line}");
        assert!(m["render_time_factor"].as_f64().unwrap() > 0.0);
        let qc = run.join(format!("qc/p{:03}-r0.qc.json", line["point"].as_u64().unwrap()));
        assert_eq!(read_json(&qc)["frames"]["output"], 75, "the QC report kept for the run");
    }
    assert_eq!(lines[0]["metrics"]["dropped_total"], 0, "block dropped frames");
    assert_eq!(lines[0]["metrics"]["longest_drop_run"], 0, "block substituted frames");
    let summary = read_text(&run.join("summary.md"));
    assert!(summary.contains("memory-paused share of blocked time"), "{summary}");
    assert!(!run.join("work").exists(), "the render's work folder was left behind");
}

#[test]
fn bad_sweeps_are_refused_naming_the_file_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |name: &str, body: &str, expected: &[&str]| {
        let file = dir.path().join(name);
        std::fs::write(&file, body).unwrap();
        let output = tune(&[file.to_str().unwrap(), "--out", dir.path().join(format!("{name}.out")).to_str().unwrap()]);
        assert!(!output.status.success(), "{name} was accepted: {}", text(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(name), "{name}: the error does not name the file: {stderr}");
        for part in expected {
            assert!(stderr.contains(part), "{name}: the error lacks {part:?}: {stderr}");
        }
    };
    refused("unknown.toml", "[sweep.queue]\ncapacity_frame = [4]\n", &["sweep.queue", "capacity_frame"]);
    refused("empty.toml", "[sweep]\npages = []\n", &["sweep.pages is empty"]);
    refused("policy.toml", "[sweep]\ndrop_policy = [\"drop_all\"]\n", &["sweep.drop_policy", "drop_all"]);
    refused("preset.toml", "[sweep]\npreset = [\"warp\"]\n", &["sweep.preset", "warp"]);
    refused("real.toml", "mode = \"real\"\n", &["real.video is required"]);
    let output = tune(&["--capacity-frames", "0", "--out", dir.path().join("zero").to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && stderr.contains("sweep.queue.capacity_frames"), "{}", text(&output));
    let output = tune(&["compare", dir.path().to_str().unwrap(), dir.path().to_str().unwrap()]);
    assert!(!output.status.success() && String::from_utf8_lossy(&output.stderr).contains("is not a run folder"), "{}", text(&output));
}
