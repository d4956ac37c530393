//! Media I/O against the real FFmpeg: probing, frame-exact decoding, x264
//! encoding, segment merging with audio, and child processes that never
//! outlive their owners.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use motionrender_engine::media::testclip::generate_clip;
use motionrender_engine::media::{
    merge_segments, probe, quality_to_crf, DecodedFrame, Decoder, Encoder, FrameRate, MediaError,
    MediaInfo, X264Encoder,
};
use tempfile::TempDir;

#[path = "support/psnr.rs"]
mod psnr;
use psnr::psnr;

const PAL: FrameRate = FrameRate { num: 25, den: 1 };

/// A 2 s 320x180 25 fps clip with audio, in a fresh temporary directory.
fn clip() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("source.mp4");
    generate_clip(&path, 2.0, 320, 180, PAL, true).unwrap();
    (dir, path)
}

fn decode(path: &Path, info: &MediaInfo, first: u64, count: u64) -> Vec<DecodedFrame> {
    Decoder::spawn(path, info, first, count, 4)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn encode(frames: &[DecodedFrame], info: &MediaInfo, out: &Path, quality: u32) -> u64 {
    let mut encoder: Box<dyn Encoder> = Box::new(
        X264Encoder::spawn(
            out,
            info.width,
            info.height,
            info.frame_rate,
            "veryfast",
            quality_to_crf(quality),
        )
        .unwrap(),
    );
    for frame in frames {
        encoder.write_frame(&frame.data).unwrap();
    }
    let segment = encoder.finish().unwrap();
    assert_eq!(segment.path, out);
    assert_eq!(segment.encoder, "x264");
    segment.frames
}

#[test]
fn probe_reports_a_generated_clip() {
    let (_dir, path) = clip();
    let info = probe(&path).unwrap();
    assert_eq!((info.width, info.height), (320, 180));
    assert_eq!(info.frame_rate, PAL);
    assert_eq!(info.frame_count, 50);
    assert!(
        (info.duration_seconds - 2.0).abs() < 0.1,
        "duration {}",
        info.duration_seconds
    );
    assert_eq!(info.pixel_format, "yuv420p");
    assert_eq!(info.video_codec, "h264");
    let audio = info.audio.as_ref().expect("audio stream");
    assert_eq!(audio.codec, "aac");
    assert!(audio.duration_seconds.unwrap() > 1.9);
}

#[test]
fn probe_without_audio_reports_none() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("silent.mp4");
    generate_clip(&path, 1.0, 64, 48, PAL, false).unwrap();
    let info = probe(&path).unwrap();
    assert!(!info.has_audio());
    assert_eq!(info.frame_count, 25);
}

#[test]
fn probe_of_a_missing_file_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nowhere.mp4");
    let error = probe(&path).unwrap_err();
    assert!(matches!(error, MediaError::NotFound { .. }), "{error:?}");
    assert!(error.to_string().contains("nowhere.mp4"));
}

#[test]
fn probe_of_a_text_file_is_an_invalid_video_format() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.mp4");
    std::fs::write(
        &path,
        "these are not the frames you are looking for\n".repeat(50),
    )
    .unwrap();
    let error = probe(&path).unwrap_err();
    assert!(
        matches!(error, MediaError::InvalidVideoFormat { .. }),
        "{error:?}"
    );
    assert_eq!(error.code(), "INVALID_VIDEO_FORMAT");
    assert!(error.to_string().contains("notes.mp4"));
}

#[test]
fn probe_of_an_empty_file_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.mp4");
    std::fs::write(&path, b"").unwrap();
    let error = probe(&path).unwrap_err();
    assert!(matches!(error, MediaError::EmptyFile { .. }), "{error:?}");
    assert_eq!(error.code(), "INVALID_VIDEO_FORMAT");
}

#[test]
fn probe_of_audio_only_reports_no_video_stream() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tone.m4a");
    let status = Command::new("ffmpeg")
        .args([
            "-nostdin",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=1",
            "-c:a",
            "aac",
        ])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    let error = probe(&path).unwrap_err();
    assert!(
        matches!(error, MediaError::NoVideoStream { .. }),
        "{error:?}"
    );
}

#[test]
fn decoding_from_frame_10_equals_decoding_from_0_and_skipping() {
    let (_dir, path) = clip();
    let info = probe(&path).unwrap();
    let all = decode(&path, &info, 0, 50);
    assert_eq!(all.len(), 50);
    assert!(all.iter().all(|f| f.data.len() == 320 * 180 * 3 / 2));
    let middle = decode(&path, &info, 10, 10);
    assert_eq!(middle.len(), 10);
    for (k, frame) in middle.iter().enumerate() {
        assert_eq!(frame.index, 10 + k as u64);
        assert!(
            frame.data == all[10 + k].data,
            "segment frame {k} differs from source frame {}",
            10 + k
        );
    }
    // Neighbouring frames differ, so the comparison above can tell a one-frame slip.
    assert!(all[10].data != all[11].data && all[9].data != all[10].data);
}

#[test]
fn seeking_is_frame_exact_at_an_ntsc_rate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ntsc.mp4");
    generate_clip(
        &path,
        3.0,
        160,
        90,
        FrameRate {
            num: 30000,
            den: 1001,
        },
        false,
    )
    .unwrap();
    let info = probe(&path).unwrap();
    assert_eq!(
        info.frame_rate,
        FrameRate {
            num: 30000,
            den: 1001
        }
    );
    let all = decode(&path, &info, 0, info.frame_count);
    for first in [1, 37, 60, info.frame_count - 3] {
        let part = decode(&path, &info, first, 3);
        for (k, frame) in part.iter().enumerate() {
            assert!(
                frame.data == all[first as usize + k].data,
                "frame {} after seeking to {first}",
                first as usize + k
            );
        }
    }
}

#[test]
fn decoding_past_the_end_reports_short_output() {
    let (_dir, path) = clip();
    let info = probe(&path).unwrap();
    let items: Vec<_> = Decoder::spawn(&path, &info, 45, 10, 2).unwrap().collect();
    assert_eq!(items.len(), 6, "five frames then one error");
    assert!(items[..5].iter().all(|item| item.is_ok()));
    match &items[5] {
        Err(MediaError::ShortOutput { got, expected, .. }) => {
            assert_eq!((*got, *expected), (5, 10))
        }
        other => panic!("expected ShortOutput, got {other:?}"),
    }
}

#[test]
fn encoding_50_decoded_frames_gives_50_frames() {
    let (dir, path) = clip();
    let info = probe(&path).unwrap();
    let frames = decode(&path, &info, 0, 50);
    let out = dir.path().join("encoded.mp4");
    assert_eq!(encode(&frames, &info, &out, 90), 50);
    let encoded = probe(&out).unwrap();
    assert_eq!(encoded.frame_count, 50);
    assert_eq!(encoded.frame_rate, PAL);
    assert!(!encoded.has_audio());
}

#[test]
fn x264_at_quality_90_keeps_psnr_above_40_db() {
    let (dir, path) = clip();
    let info = probe(&path).unwrap();
    let frames = decode(&path, &info, 0, 50);
    let out = dir.path().join("q90.mp4");
    let started = Instant::now();
    encode(&frames, &info, &out, 90);
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "x264 veryfast crf {} at 320x180: {:.0} fps (incl. start-up)",
        quality_to_crf(90),
        50.0 / seconds
    );
    let db = psnr(&out, &path);
    assert!(db >= 40.0, "PSNR {db} dB");
}

#[test]
fn two_segments_merged_with_audio_match_the_source() {
    let (dir, path) = clip();
    let info = probe(&path).unwrap();
    let mut segments = Vec::new();
    for (index, first) in [0u64, 25].into_iter().enumerate() {
        let frames = decode(&path, &info, first, 25);
        let out = dir.path().join(format!("segment-{index}.mp4"));
        assert_eq!(encode(&frames, &info, &out, 90), 25);
        segments.push(out);
    }
    let merged = dir.path().join("merged.mp4");
    merge_segments(&segments, &path, &merged, true).unwrap();
    let result = probe(&merged).unwrap();
    assert_eq!(result.frame_count, 50);
    assert_eq!(result.frame_rate, PAL);
    assert_eq!(result.audio.as_ref().map(|a| a.codec.as_str()), Some("aac"));
    let frame = info.frame_rate.frame_duration();
    assert!(
        (result.duration_seconds - info.duration_seconds).abs() <= frame,
        "merged {} s vs source {} s",
        result.duration_seconds,
        info.duration_seconds
    );
    assert!(psnr(&merged, &path) >= 40.0);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn a_failed_merge_leaves_no_output() {
    let (dir, path) = clip();
    let bogus = dir.path().join("bogus.mp4");
    std::fs::write(&bogus, "not video").unwrap();
    let merged = dir.path().join("merged.mp4");
    let error = merge_segments(&[bogus], &path, &merged, true).unwrap_err();
    assert!(
        matches!(error, MediaError::ProcessFailed { .. }),
        "{error:?}"
    );
    assert!(!merged.exists());
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "only source and bogus remain: {names:?}");
}

#[test]
fn a_killed_encoder_child_is_an_error_not_a_hang() {
    let (dir, path) = clip();
    let info = probe(&path).unwrap();
    let frames = decode(&path, &info, 0, 5);
    let out = dir.path().join("killed.mp4");
    let mut encoder = X264Encoder::spawn(
        &out,
        info.width,
        info.height,
        info.frame_rate,
        "veryfast",
        23,
    )
    .unwrap();
    for frame in &frames {
        encoder.write_frame(&frame.data).unwrap();
    }
    let status = Command::new("kill")
        .args(["-KILL", &encoder.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let error = (0..1000)
        .find_map(|_| encoder.write_frame(&frames[0].data).err())
        .expect("writing to a killed encoder fails");
    assert!(
        matches!(error, MediaError::ProcessFailed { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("x264 encoder"), "{error}");
    let finished = Box::new(encoder).finish();
    assert!(
        matches!(finished, Err(MediaError::ProcessFailed { .. })),
        "{finished:?}"
    );
}

#[test]
fn a_dropped_decoder_reaps_its_child() {
    let (_dir, path) = clip();
    let info = probe(&path).unwrap();
    let mut decoder = Decoder::spawn(&path, &info, 0, 50, 1).unwrap();
    let pid = decoder.pid();
    assert!(decoder.next().unwrap().is_ok());
    assert!(
        Path::new(&format!("/proc/{pid}")).exists(),
        "child still running mid-segment"
    );
    drop(decoder);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "pid {pid} outlived its decoder"
    );
}

#[test]
fn a_dropped_encoder_reaps_its_child() {
    let dir = tempfile::tempdir().unwrap();
    let encoder =
        X264Encoder::spawn(&dir.path().join("x.mp4"), 64, 48, PAL, "ultrafast", 30).unwrap();
    let pid = encoder.pid();
    drop(encoder);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "pid {pid} outlived its encoder"
    );
}

#[test]
fn an_unknown_preset_is_refused_before_spawning() {
    let dir = tempfile::tempdir().unwrap();
    let error =
        X264Encoder::spawn(&dir.path().join("x.mp4"), 64, 48, PAL, "ludicrous", 20).unwrap_err();
    assert!(matches!(error, MediaError::InvalidArgument(_)), "{error:?}");
}
