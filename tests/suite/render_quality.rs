//! The render's picture and sound against its source, frame by frame: a 6 s
//! 640x360 25 fps clip with AAC audio and a two-cue fixture
//! (`fixtures/render/quality_cues.json`). The output keeps the source's frame
//! count and audio duration, shows each caption inside its box on exactly the
//! frames its displayTime covers and nowhere else, and outside the caption
//! boxes is the picture a plain x264 transcode of the source gives.

use std::path::Path;
use std::process::Command;

use motionrender_engine::media::{probe, quality_to_crf, testclip::generate_clip, FrameRate};
use motionrender_tests::{display_time, fixtures_dir, luma_frames, mean_difference, read_json, run_render, PixelBox, Window};
use serde_json::Value;

const WIDTH: u32 = 640;
const HEIGHT: u32 = 360;
const FPS: u32 = 25;
const SECONDS: f64 = 6.0;

/// The encoder settings of both the render and the plain transcode.
const PRESET: &str = "veryfast";
const QUALITY: u32 = 90;

/// Half the width and height of a region surely inside a caption's black box
/// (the box of "FIRST" at fontSizeRel 0.1 is about 146x62 px, of "SECOND"
/// about 200x62 px, both centred on their position). The positions keep
/// these regions off testsrc2's noise squares, which any re-encode changes by
/// a mean of about 2.5 and which would blur "absent" into "re-encoded".
const INNER_HALF: (u32, u32) = (50, 20);
/// Half the width and height of a region surely holding a caption's box and
/// the blocks the encoder changed around it. (At (80, 36), which cuts through
/// the box of "SECOND", the PSNR below falls to about 30 dB.)
const PADDED_HALF: (u32, u32) = (140, 70);

/// Inside a caption's box, the mean luma difference from the source while it
/// is shown must exceed this (measured: 104 and more)...
const SHOWN_MIN: f64 = 40.0;
/// ...and in its box outside its time, or anywhere on a frame without a cue,
/// stay under this (measured: 0.8 at most; the re-encode alone).
const ABSENT_MAX: f64 = 2.0;
/// The lowest PSNR (luma, dB) allowed between the render and the plain
/// transcode outside the padded boxes (measured: 52.7 dB at quality 90).
const PSNR_MIN: f64 = 45.0;

/// One cue of the fixture: when its root is shown and where its centre is, in pixels.
struct Cue {
    id: String,
    window: Window,
    centre: (u32, u32),
}

impl Cue {
    fn shown_at(&self, t: f64) -> bool {
        self.window.0 <= t && t <= self.window.1
    }

    /// The box of half size `half` around the centre, inside the frame.
    fn area(&self, (half_w, half_h): (u32, u32)) -> PixelBox {
        let (x, y) = self.centre;
        (x.saturating_sub(half_w), y.saturating_sub(half_h), (x + half_w).min(WIDTH), (y + half_h).min(HEIGHT))
    }
}

/// The fixture's cues, read from each root's displayTime and layout position.
fn cues(fixture: &Value) -> Vec<Cue> {
    let cues = fixture["cues"].as_array().expect("the fixture has cues");
    cues.iter()
        .map(|cue| {
            let root = &cue["root"];
            let position = &root["layout"]["position"];
            let (x, y) = (position["x"].as_f64().expect("position x"), position["y"].as_f64().expect("position y"));
            Cue {
                id: cue["id"].as_str().unwrap_or_default().to_owned(),
                window: display_time(root).expect("the root has a displayTime"),
                centre: ((x * f64::from(WIDTH)).round() as u32, (y * f64::from(HEIGHT)).round() as u32),
            }
        })
        .collect()
}

/// Whether pixel (x, y) lies in a box.
fn contains((x0, y0, x1, y1): PixelBox, x: u32, y: u32) -> bool {
    (x0..x1).contains(&x) && (y0..y1).contains(&y)
}

/// PSNR in dB of `a` against `b` (luma planes, frame by frame) over the pixels
/// outside every box of `excluded`, and how many pixels per frame that is.
fn psnr_outside(a: &[Vec<u8>], b: &[Vec<u8>], excluded: &[PixelBox]) -> (f64, u32) {
    let kept: Vec<usize> = (0..HEIGHT)
        .flat_map(|y| (0..WIDTH).map(move |x| (x, y)))
        .filter(|&(x, y)| !excluded.iter().any(|&area| contains(area, x, y)))
        .map(|(x, y)| (y * WIDTH + x) as usize)
        .collect();
    let mut squared = 0u64;
    for (frame_a, frame_b) in a.iter().zip(b) {
        for &i in &kept {
            let d = u64::from(frame_a[i].abs_diff(frame_b[i]));
            squared += d * d;
        }
    }
    let mse = squared as f64 / (kept.len() * a.len()) as f64;
    let psnr = if mse == 0.0 { f64::INFINITY } else { 10.0 * (255.0 * 255.0 / mse).log10() };
    (psnr, kept.len() as u32)
}

/// The source re-encoded with the x264 settings the engine's encoder uses
/// (engine/src/media/x264.rs): `PRESET`, the CRF of `QUALITY`, yuv420p, a
/// closed GOP of two seconds.
fn plain_transcode(source: &Path, out: &Path) {
    let keyint = (2 * FPS).to_string();
    let result = Command::new("ffmpeg")
        .args(["-nostdin", "-y", "-v", "error", "-i"])
        .arg(source)
        .args(["-an", "-c:v", "libx264", "-preset", PRESET, "-crf", &quality_to_crf(QUALITY).to_string()])
        .args(["-pix_fmt", "yuv420p", "-g", &keyint, "-x264-params", &format!("keyint={keyint}:open_gop=0"), "-f", "mp4"])
        .arg(out)
        .output()
        .unwrap();
    assert!(result.status.success(), "plain transcode failed: {}", String::from_utf8_lossy(&result.stderr));
}

#[test]
fn the_render_keeps_frames_and_audio_shows_each_cue_only_in_its_box_and_time_and_matches_a_plain_transcode_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.mp4");
    let fps = FrameRate::new(FPS, 1).unwrap();
    generate_clip(&source, SECONDS, WIDTH, HEIGHT, fps, true).unwrap();
    let scenario = fixtures_dir().join("render/quality_cues.json");
    let out = dir.path().join("out.mp4");
    let quality = QUALITY.to_string();
    let result = run_render(&dir.path().join("work"), &source, &scenario, &out, &["--preset", PRESET, "--quality", &quality]);
    assert!(result.status.success(), "render failed: {}", String::from_utf8_lossy(&result.stderr));

    // Frames and audio.
    let (source_info, out_info) = (probe(&source).unwrap(), probe(&out).unwrap());
    assert_eq!(source_info.frame_count, (SECONDS * f64::from(FPS)) as u64, "the generated clip");
    assert_eq!(out_info.frame_count, source_info.frame_count, "output frames");
    let source_audio = source_info.audio.as_ref().and_then(|a| a.duration_seconds).expect("the source has timed audio");
    let out_audio = out_info.audio.as_ref().expect("the output has no audio stream");
    assert_eq!(out_audio.codec, "aac");
    let out_audio = out_audio.duration_seconds.expect("the output's audio has a duration");
    assert!(
        (out_audio - source_audio).abs() <= fps.frame_duration(),
        "audio lasts {out_audio:.3} s in the output, {source_audio:.3} s in the source"
    );

    // Captions: inside each cue's box exactly while it is shown, nothing
    // anywhere on frames without a cue.
    let cues = cues(&read_json(&scenario));
    assert_eq!(cues.len(), 2, "the fixture's two cues");
    let source_luma = luma_frames(&source, WIDTH, HEIGHT);
    let out_luma = luma_frames(&out, WIDTH, HEIGHT);
    let frames = source_info.frame_count as usize;
    assert_eq!((source_luma.len(), out_luma.len()), (frames, frames), "decoded frames");
    let mut wrong = Vec::new();
    let mut shown_frames = vec![0u32; cues.len()];
    for (index, (src, rendered)) in source_luma.iter().zip(&out_luma).enumerate() {
        let t = fps.frame_time(index as u64);
        for (cue, shown) in cues.iter().zip(&mut shown_frames) {
            let inside = mean_difference(rendered, src, WIDTH, cue.area(INNER_HALF));
            if cue.shown_at(t) {
                *shown += 1;
                if inside <= SHOWN_MIN {
                    wrong.push(format!("frame {index} ({t:.2} s): cue {} missing from its box (difference {inside:.1})", cue.id));
                }
            } else if inside >= ABSENT_MAX {
                wrong.push(format!("frame {index} ({t:.2} s): cue {}'s box changed outside its time (difference {inside:.1})", cue.id));
            }
        }
        if !cues.iter().any(|cue| cue.shown_at(t)) {
            let whole = mean_difference(rendered, src, WIDTH, (0, 0, WIDTH, HEIGHT));
            if whole >= ABSENT_MAX {
                wrong.push(format!("frame {index} ({t:.2} s), no cue: the picture differs from the source by {whole:.1}"));
            }
        }
    }
    assert_eq!(shown_frames, [37, 36], "frames inside each cue's displayTime (1.02..2.5 s, 3.54..4.98 s)");
    assert!(wrong.is_empty(), "{} wrong frames:\n{}", wrong.len(), wrong.join("\n"));

    // Elsewhere the same picture as a plain transcode.
    let plain = dir.path().join("plain.mp4");
    plain_transcode(&source, &plain);
    let plain_luma = luma_frames(&plain, WIDTH, HEIGHT);
    assert_eq!(plain_luma.len(), out_luma.len(), "plain transcode frames");
    let padded: Vec<PixelBox> = cues.iter().map(|cue| cue.area(PADDED_HALF)).collect();
    let (psnr, pixels) = psnr_outside(&out_luma, &plain_luma, &padded);
    assert!(pixels >= WIDTH * HEIGHT / 2, "the padded boxes leave only {pixels} pixels per frame to compare");
    eprintln!("render_quality: PSNR {psnr:.2} dB against the plain transcode over {pixels} pixels per frame (quality {QUALITY}, CRF {})", quality_to_crf(QUALITY));
    assert!(psnr >= PSNR_MIN, "outside the caption boxes the render differs from a plain transcode: PSNR {psnr:.2} dB < {PSNR_MIN} dB");
}
