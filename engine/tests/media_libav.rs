//! The in-process media path (FFmpeg's libraries) against the FFmpeg child
//! processes it replaces: the same frames after every seek, the same
//! refusals of damaged and short input, and x264 segments that probe, merge
//! and decode like the child encoder's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use motionrender_engine::media::testclip::generate_clip;
use motionrender_engine::media::{
    merge_segments, probe, DecodedFrame, DecodedItem, Decoder, Encoder, EncoderKind, FrameRate, LibavDecoder, LibavX264Encoder,
    MediaError, MediaInfo, VideoFormat,
};
use tempfile::TempDir;

#[path = "support/psnr.rs"]
mod psnr;
use psnr::psnr;

const PAL: FrameRate = FrameRate { num: 25, den: 1 };

fn clip(seconds: f64, width: u32, height: u32, rate: FrameRate, audio: bool) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("source.mp4");
    generate_clip(&path, seconds, width, height, rate, audio).unwrap();
    (dir, path)
}

fn in_process(path: &Path, info: &MediaInfo, first: u64, count: u64) -> Vec<DecodedItem> {
    LibavDecoder::open(path, info, VideoFormat::of(info), first, count, 4, 0).unwrap().expect("a plain yuv420p source decodes in-process").collect()
}

fn by_child(path: &Path, info: &MediaInfo, first: u64, count: u64) -> Vec<DecodedItem> {
    Decoder::spawn(path, info, first, count, 4).unwrap().collect()
}

fn frames(items: Vec<DecodedItem>) -> Vec<DecodedFrame> {
    items.into_iter().collect::<Result<_, _>>().unwrap()
}

/// A 3 s NTSC-rate clip with audio, B-frames and a keyframe every 12
/// frames, so seeks land on keyframes and between them.
fn short_gop_clip() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("short-gop.mp4");
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=30000/1001:duration=3"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-c:a", "aac"])
        .args(["-c:v", "libx264", "-preset", "fast", "-pix_fmt", "yuv420p", "-g", "12", "-bf", "2", "-sc_threshold", "0"])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    (dir, path)
}

#[test]
fn every_seek_gives_the_child_decoders_frames() {
    let (_dir, path) = short_gop_clip();
    let info = probe(&path).unwrap();
    assert_eq!(info.frame_rate, FrameRate { num: 30000, den: 1001 });
    for (first, count) in [(0, info.frame_count), (1, 5), (11, 3), (12, 3), (37, 20), (info.frame_count - 2, 2)] {
        let ours = frames(in_process(&path, &info, first, count));
        let theirs = frames(by_child(&path, &info, first, count));
        assert_eq!(ours.len() as u64, count, "frames {first}+{count}");
        for (k, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!(a.index, first + k as u64);
            assert_eq!(a.index, b.index);
            assert!(a.data == b.data, "frame {} after seeking to {first} differs from the child decoder's", a.index);
        }
    }
}

#[test]
fn a_segment_starting_on_a_keyframe_decodes_no_frame_before_it() {
    let (_dir, path) = short_gop_clip();
    let info = probe(&path).unwrap();
    let expected: Vec<u64> = (0..info.frame_count).step_by(12).collect();
    assert_eq!(info.keyframes, expected, "keyframes every 12 frames");
    for (first, skipped) in [(24, 0), (25, 1), (35, 11), (36, 0)] {
        let mut decoder = LibavDecoder::open(&path, &info, VideoFormat::of(&info), first, 5, 8, 0).unwrap().unwrap();
        let got: Vec<DecodedFrame> = decoder.by_ref().collect::<Result<_, _>>().unwrap();
        assert_eq!(got.first().map(|f| f.index), Some(first));
        assert_eq!(decoder.frames_skipped(), skipped, "frames decoded and dropped before frame {first}");
        let theirs = frames(by_child(&path, &info, first, 5));
        assert!(got.iter().zip(&theirs).all(|(a, b)| a.data == b.data), "frames from {first} differ from the child decoder's");
    }
}

#[test]
fn odd_sizes_decode_as_the_child_decoder_packs_them() {
    let (_dir, path) = clip(1.0, 161, 91, PAL, false);
    let info = probe(&path).unwrap();
    let ours = frames(in_process(&path, &info, 3, 10));
    let theirs = frames(by_child(&path, &info, 3, 10));
    assert_eq!(ours.len(), 10);
    assert!(ours.iter().zip(&theirs).all(|(a, b)| a.data == b.data));
}

#[test]
fn a_source_that_needs_filters_is_left_to_the_child_decoder() {
    let (_dir, path) = clip(1.0, 160, 90, PAL, false);
    let info = probe(&path).unwrap();
    let scaled = VideoFormat { width: 80, height: 44, frame_rate: PAL };
    assert!(LibavDecoder::open(&path, &info, scaled, 0, 5, 2, 0).unwrap().is_none());
    let slower = VideoFormat { frame_rate: FrameRate { num: 10, den: 1 }, ..VideoFormat::of(&info) };
    assert!(LibavDecoder::open(&path, &info, slower, 0, 5, 2, 0).unwrap().is_none());
    let mut rotated = info.clone();
    rotated.rotation = 90;
    assert!(LibavDecoder::open(&path, &rotated, VideoFormat::of(&info), 0, 5, 2, 0).unwrap().is_none());
}

#[test]
fn decoding_past_the_end_reports_short_output() {
    let (_dir, path) = clip(2.0, 160, 90, PAL, false);
    let info = probe(&path).unwrap();
    let items = in_process(&path, &info, 45, 10);
    assert_eq!(items.len(), 6, "five frames then one error");
    assert!(items[..5].iter().all(Result::is_ok));
    match &items[5] {
        Err(MediaError::ShortOutput { got, expected, .. }) => assert_eq!((*got, *expected), (5, 10)),
        other => panic!("expected ShortOutput, got {other:?}"),
    }
}

#[test]
fn damaged_bytes_end_the_stream_as_damaged_video() {
    let (dir, path) = clip(2.0, 160, 90, PAL, false);
    let info = probe(&path).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 4..bytes.len() * 3 / 4;
    for byte in &mut bytes[middle] {
        *byte = byte.wrapping_mul(7).wrapping_add(13);
    }
    let damaged = dir.path().join("damaged.mp4");
    std::fs::write(&damaged, &bytes).unwrap();
    let items: Vec<_> = LibavDecoder::open(&damaged, &info, VideoFormat::of(&info), 0, info.frame_count, 4, 0)
        .map(|decoder| decoder.map(Iterator::collect).unwrap_or_default())
        .unwrap_or_else(|error| vec![Err(error)]);
    let error = items.into_iter().find_map(Result::err).expect("the damaged file decoded without complaint");
    assert!(matches!(error, MediaError::DamagedVideo { .. }), "{error:?}");
    assert!(error.to_string().contains("damaged.mp4"), "{error}");
    assert!(!error.to_string().contains(dir.path().to_str().unwrap()), "{error}");
}

#[test]
fn a_dropped_decoder_stops_mid_segment() {
    let (_dir, path) = clip(2.0, 160, 90, PAL, false);
    let info = probe(&path).unwrap();
    let mut decoder = LibavDecoder::open(&path, &info, VideoFormat::of(&info), 0, 50, 1, 0).unwrap().unwrap();
    assert!(decoder.next().unwrap().is_ok());
    // Its thread is blocked on a full channel; dropping must not hang.
    drop(decoder);
}

fn encode_in_process(frames: &[DecodedFrame], info: &MediaInfo, out: &Path) -> u64 {
    let mut encoder: Box<dyn Encoder> = Box::new(LibavX264Encoder::open(out, info.width, info.height, info.frame_rate, "veryfast", 18, 0).unwrap());
    for frame in frames {
        encoder.write_frame(&frame.data).unwrap();
    }
    let segment = encoder.finish().unwrap();
    assert_eq!((segment.path.as_path(), segment.encoder), (out, "x264"));
    segment.frames
}

#[test]
fn in_process_x264_segments_merge_with_audio_and_match_the_source() {
    let (dir, path) = clip(2.0, 320, 180, PAL, true);
    let info = probe(&path).unwrap();
    let mut segments = Vec::new();
    for (index, first) in [0u64, 25].into_iter().enumerate() {
        let frames = frames(in_process(&path, &info, first, 25));
        let out = dir.path().join(format!("segment-{index}.mp4"));
        assert_eq!(encode_in_process(&frames, &info, &out), 25);
        let segment = probe(&out).unwrap();
        assert_eq!((segment.frame_count, segment.frame_rate), (25, PAL));
        assert!((segment.duration_seconds - 1.0).abs() < 1e-3, "segment {index} lasts {} s", segment.duration_seconds);
        segments.push(out);
    }
    let merged = dir.path().join("merged.mp4");
    merge_segments(&segments, &path, &merged, true).unwrap();
    let result = probe(&merged).unwrap();
    assert_eq!((result.frame_count, result.frame_rate), (50, PAL));
    assert!(result.audio.is_some());
    assert!((result.duration_seconds - info.duration_seconds).abs() <= PAL.frame_duration());
    let db = psnr(&merged, &path);
    assert!(db >= 40.0, "PSNR {db} dB");
}

#[test]
fn in_process_x264_is_the_same_run_to_run_and_refuses_bad_settings() {
    let (dir, path) = clip(1.0, 160, 90, PAL, false);
    let info = probe(&path).unwrap();
    let frames = frames(in_process(&path, &info, 0, 25));
    let (a, b) = (dir.path().join("a.mp4"), dir.path().join("b.mp4"));
    encode_in_process(&frames, &info, &a);
    encode_in_process(&frames, &info, &b);
    let decoded = |p: &Path| frames_of(&by_child(p, &probe(p).unwrap(), 0, 25));
    assert!(decoded(&a) == decoded(&b), "two encodes of the same frames differ");

    let error = LibavX264Encoder::open(&dir.path().join("x.mp4"), 64, 48, PAL, "ludicrous", 20, 0).unwrap_err();
    assert!(matches!(error, MediaError::InvalidArgument(_)), "{error:?}");
    let mut encoder = EncoderKind::X264.spawn(&dir.path().join("y.mp4"), 64, 48, PAL, "veryfast", 90).unwrap();
    let error = encoder.write_frame(&[0; 10]).unwrap_err();
    assert!(matches!(error, MediaError::InvalidArgument(_)), "{error:?}");
}

fn frames_of(items: &[DecodedItem]) -> Vec<Vec<u8>> {
    items.iter().map(|item| item.as_ref().unwrap().data.to_vec()).collect()
}
