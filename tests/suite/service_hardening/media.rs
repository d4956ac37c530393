//! Sources the engine must get right: a portrait phone clip (rotation
//! metadata) comes out upright with its captions placed on the upright
//! picture, and a truncated or corrupted file fails as the client's fault,
//! `INVALID_VIDEO_FORMAT`, named as the client named it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use motionrender_engine::media::probe;
use motionrender_tests::luma_frame;
use serde_json::{json, Value};

use super::super::service_support::{get, scenario, Server};

fn ffmpeg(args: &[&str]) {
    let output = Command::new("ffmpeg").args(["-nostdin", "-y", "-v", "error"]).args(args).output().unwrap();
    assert!(output.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// `source` rewritten beside it as `name`, its streams copied, with `extra` output options.
fn remuxed(source: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = source.with_file_name(name);
    let mut args = vec!["-i", source.to_str().unwrap(), "-c", "copy"];
    args.extend(extra);
    args.push(out.to_str().unwrap());
    ffmpeg(&args);
    out
}

/// A caption `text` at `(x, y)` of the stage, shown for the first 2 s.
fn caption_at(text: &str, x: f64, y: f64, aspect: &str) -> Value {
    let mut caption = scenario("caption_box.json");
    caption["stage"]["baseAspect"] = json!(aspect);
    caption["tracks"][0]["defaultStyle"]["fontSizeRel"] = json!(0.06);
    caption["cues"][0]["domLifetime"] = json!([0.0, 2.0]);
    let node = &mut caption["cues"][0]["root"]["children"][0];
    node["text"] = json!(text);
    node["displayTime"] = json!([0.0, 2.0]);
    node["layout"]["position"] = json!({ "x": x, "y": y });
    caption
}

#[test]
fn a_portrait_clip_renders_upright_with_its_caption_where_the_scenario_puts_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let landscape = server.input_clip("coded.mp4", 2.0, 320, 180);
    let portrait = remuxed(&landscape, "portrait.mp4", &["-metadata:s:v:0", "rotate=90"]);
    assert_eq!(probe(&portrait).unwrap().rotation, 90, "the clip must carry a rotation for this test");
    let (width, height) = (180_u32, 320_u32);
    let body = json!({ "jobId": "portrait", "videoUrl": portrait, "scenario": caption_at("HI", 0.5, 0.25, "9:16") });
    assert_eq!(server.submit(&body).status, 202);
    let done = server.wait_for("portrait", Duration::from_secs(180), |s| s["status"] != "queued" && s["status"] != "processing");
    assert_eq!(done["status"], "completed", "{done}");

    let out = dir.path().join("output/portrait.mp4");
    let info = probe(&out).unwrap();
    assert_eq!((info.width, info.height, info.rotation), (width, height, 0), "the output is upright, with no rotation left for players to apply");
    let qc = get(&server.url("/api/render/portrait/qc")).json();
    assert_eq!(qc["source_rotation_degrees"], 90, "QC records the rotation: {qc}");

    // FFmpeg's own upright view of the source is the reference picture.
    let source = luma_frame(&portrait, width, height, 25);
    let frame = luma_frame(&out, width, height, 25);
    let changed: Vec<(u32, u32)> = (0..height)
        .flat_map(|y| (0..width).map(move |x| (x, y)))
        .filter(|&(x, y)| frame[(y * width + x) as usize].abs_diff(source[(y * width + x) as usize]) > 60)
        .collect();
    assert!(changed.len() > 30, "no caption was drawn ({} pixels changed)", changed.len());
    let (xs, ys): (Vec<u32>, Vec<u32>) = changed.iter().copied().unzip();
    let centre = |values: &[u32]| (values.iter().min().unwrap() + values.iter().max().unwrap()) / 2;
    let (cx, cy) = (centre(&xs), centre(&ys));
    assert!(cx.abs_diff(width / 2) <= 20 && cy.abs_diff(height / 4) <= 20, "the caption is centred at ({cx}, {cy}), the scenario puts it at ({}, {})", width / 2, height / 4);
    assert!(*ys.iter().max().unwrap() < height / 2, "caption pixels in the lower half: the overlay is not on the upright picture");
    // Away from the caption the picture is the upright source.
    let mut off_caption = 0.0;
    let rows = height / 2..height;
    for y in rows.clone() {
        for x in 0..width {
            off_caption += f64::from(frame[(y * width + x) as usize].abs_diff(source[(y * width + x) as usize]));
        }
    }
    let mean = off_caption / f64::from(width * rows.len() as u32);
    assert!(mean < 6.0, "the lower half differs from the upright source by {mean:.1} on average: sideways?");
}

#[test]
fn a_truncated_or_corrupted_clip_fails_as_invalid_video_format_named_as_the_client_named_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let clip = server.input_clip("whole.mp4", 4.0, 320, 180);
    let faststart = remuxed(&clip, "faststart.mp4", &["-movflags", "+faststart"]);
    let bytes = std::fs::read(&faststart).unwrap();
    let cut = clip.with_file_name("cut-short.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let mut garbled = bytes.clone();
    let middle = bytes.len() / 4..bytes.len() * 3 / 4;
    for byte in &mut garbled[middle] {
        *byte = byte.wrapping_mul(7).wrapping_add(13);
    }
    let corrupted = clip.with_file_name("garbled.mp4");
    std::fs::write(&corrupted, &garbled).unwrap();
    let index_lost = clip.with_file_name("no-index.mp4");
    let plain = std::fs::read(&clip).unwrap();
    std::fs::write(&index_lost, &plain[..plain.len() / 2]).unwrap();

    for (id, file) in [("cut", &cut), ("garbled", &corrupted), ("no-index", &index_lost)] {
        let body = json!({ "jobId": id, "videoUrl": file, "scenario": scenario("caption_box.json") });
        assert_eq!(server.submit(&body).status, 202, "{id}");
        let status = server.wait_for(id, Duration::from_secs(120), |s| s["status"] != "queued" && s["status"] != "processing");
        assert_eq!(status["status"], "failed", "{id}: {status}");
        assert_eq!(status["error_code"], "INVALID_VIDEO_FORMAT", "{id}: damaged input is the client's fault: {status}");
        let message = status["error_message"].as_str().unwrap();
        let name = file.file_name().unwrap().to_str().unwrap();
        assert!(message.contains(name), "{id}: the message does not name {name}: {message}");
        assert!(!message.contains(dir.path().to_str().unwrap()) && !message.contains("/work/"), "{id}: a server path: {message}");
        assert!(!message.contains("pid") && !message.contains(" @ 0x"), "{id}: a process in the message: {message}");
        assert!(status["metrics"]["retries"].as_u64().unwrap_or(0) == 0, "{id}: damaged input is not retried: {status}");
    }
}
