//! Sources the engine must not get wrong: a rotated phone clip is probed and
//! decoded upright, and a truncated or corrupted file is refused as damaged
//! input, named by its file name only, never as a failure of FFmpeg.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use motionrender_engine::media::{probe, Decoder, LibavDecoder, MediaError, VideoFormat};
use motionrender_engine::render::RenderError;

fn ffmpeg(args: &[&str]) {
    let output = Command::new("ffmpeg").args(["-nostdin", "-y", "-v", "error"]).args(args).output().unwrap();
    assert!(output.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// A 2 s 320x180 clip, white above and black below, with the moov atom up
/// front (`+faststart`, as phones and web encoders write it).
fn halves(dir: &Path) -> PathBuf {
    let path = dir.join("halves.mp4");
    let picture = "color=black:size=320x180:rate=25:duration=2,drawbox=x=0:y=0:w=320:h=90:color=white:t=fill";
    ffmpeg(&["-f", "lavfi", "-i", picture, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart", path.to_str().unwrap()]);
    path
}

/// `source` with a display rotation of 90 degrees (a portrait phone clip).
fn rotated(source: &Path) -> PathBuf {
    let path = source.with_file_name("portrait.mp4");
    ffmpeg(&["-i", source.to_str().unwrap(), "-c", "copy", "-metadata:s:v:0", "rotate=90", path.to_str().unwrap()]);
    path
}

/// The first frame as FFmpeg itself shows it (autorotated), yuv420p.
fn ffmpeg_first_frame(path: &Path) -> Vec<u8> {
    let output = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"])
        .output()
        .unwrap();
    assert!(output.status.success());
    output.stdout
}

#[test]
fn a_rotated_source_is_probed_with_its_upright_size_and_decoded_upright() {
    let dir = tempfile::tempdir().unwrap();
    let portrait = rotated(&halves(dir.path()));
    let info = probe(&portrait).unwrap();
    assert_eq!((info.width, info.height), (180, 320), "the displayed size, not the coded one");
    assert_eq!(info.rotation, 90);
    let frame = Decoder::spawn(&portrait, &info, 0, 1, 1).unwrap().next().unwrap().unwrap();
    assert_eq!(frame.data.len(), 180 * 320 * 3 / 2);
    assert!(frame.data == ffmpeg_first_frame(&portrait), "the decoded frame is not the upright picture FFmpeg shows");
    // Upright means the white half is now on one side, top to bottom.
    let column_mean = |x: usize| (0..320).map(|y| u32::from(frame.data[y * 180 + x])).sum::<u32>() / 320;
    assert!(column_mean(10).abs_diff(column_mean(170)) > 150, "no side is white: {} / {}", column_mean(10), column_mean(170));
    let plain = probe(&dir.path().join("halves.mp4")).unwrap();
    assert_eq!((plain.width, plain.height, plain.rotation), (320, 180, 0));
}

/// Asserts that a refusal names `file` by its name alone and says nothing of
/// the folder it is in or of a process.
fn assert_client_fit(error: &MediaError, file: &Path) {
    let message = error.to_string();
    let folder = file.parent().unwrap().display().to_string();
    assert!(message.contains(file.file_name().unwrap().to_str().unwrap()), "{message}");
    assert!(!message.contains(&folder), "the message shows a server path: {message}");
    assert!(!message.contains("pid") && !message.contains(" @ 0x"), "{message}");
    assert_eq!(error.code(), "INVALID_VIDEO_FORMAT", "{message}");
    assert!(!RenderError::from(MediaError::DamagedVideo { path: file.to_owned(), reason: String::new() }).is_transient());
}

#[test]
fn a_truncated_source_is_refused_as_damaged_at_probe() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(halves(dir.path())).unwrap();
    let cut = dir.path().join("cut.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let error = probe(&cut).unwrap_err();
    assert!(matches!(error, MediaError::DamagedVideo { .. }), "{error:?}");
    assert_client_fit(&error, &cut);

    // Cut before its index (moov at the end): not readable at all.
    let tail_index = dir.path().join("tail-index.mp4");
    ffmpeg(&["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=2", "-c:v", "libx264", tail_index.to_str().unwrap()]);
    let bytes = std::fs::read(&tail_index).unwrap();
    std::fs::write(&tail_index, &bytes[..bytes.len() / 2]).unwrap();
    let error = probe(&tail_index).unwrap_err();
    assert!(matches!(error, MediaError::InvalidVideoFormat { .. }), "{error:?}");
    assert_client_fit(&error, &tail_index);
}

#[test]
fn a_corrupted_source_is_refused_as_damaged_by_probe_and_by_the_decoder() {
    let dir = tempfile::tempdir().unwrap();
    let clean = dir.path().join("clean.mp4");
    ffmpeg(&["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart", clean.to_str().unwrap()]);
    let info = probe(&clean).unwrap();
    let mut bytes = std::fs::read(&clean).unwrap();
    let middle = bytes.len() / 4..bytes.len() * 3 / 4;
    for byte in &mut bytes[middle] {
        *byte = byte.wrapping_mul(7).wrapping_add(13);
    }
    let corrupted = dir.path().join("corrupted.mp4");
    std::fs::write(&corrupted, &bytes).unwrap();
    let error = probe(&corrupted).unwrap_err();
    assert!(matches!(error, MediaError::DamagedVideo { .. }), "{error:?}");
    assert_client_fit(&error, &corrupted);

    // A decoder that meets the damage (probe aside) ends in the same refusal.
    let items: Vec<_> = Decoder::spawn(&corrupted, &info, 0, info.frame_count, 4).unwrap().collect();
    let error = items.into_iter().find_map(Result::err).expect("the decoder read the damaged file without complaint");
    assert!(matches!(error, MediaError::DamagedVideo { .. }), "{error:?}");
    assert_client_fit(&error, &corrupted);
}

/// The frames FFmpeg decodes from `path` (it applies the edit list).
fn ffmpeg_frame_count(path: &Path) -> u64 {
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).trim().parse().unwrap()
}

#[test]
fn a_clip_cut_without_reencoding_counts_only_the_frames_its_edit_list_shows_and_decodes_them_all() {
    let dir = tempfile::tempdir().unwrap();
    // Keyframes 5 s apart, cut 3.2 s in with `-c copy`: the cut keeps the
    // packets from the keyframe before, and an edit list hides the first 3.2 s.
    let source = dir.path().join("long_gop.mp4");
    ffmpeg(&["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=10", "-c:v", "libx264", "-g", "125", "-pix_fmt", "yuv420p", source.to_str().unwrap()]);
    let cut = dir.path().join("cut.mp4");
    ffmpeg(&["-ss", "3.2", "-i", source.to_str().unwrap(), "-t", "4", "-c", "copy", cut.to_str().unwrap()]);

    let info = probe(&cut).unwrap();
    let decodable = ffmpeg_frame_count(&cut);
    assert_eq!(info.frame_count, decodable, "the probe counted the packets the edit list hides");
    assert!(decodable < 125, "the cut kept its hidden packets: {decodable} frames");

    // Both decoders deliver every counted frame, in two segments, and the same pictures.
    let half = info.frame_count / 2;
    let child: Vec<bytes::Bytes> = Decoder::spawn(&cut, &info, 0, half, 4)
        .unwrap()
        .chain(Decoder::spawn(&cut, &info, half, info.frame_count - half, 4).unwrap())
        .map(|frame| frame.unwrap().data)
        .collect();
    assert_eq!(child.len() as u64, info.frame_count);
    let format = VideoFormat::of(&info);
    let in_process: Vec<bytes::Bytes> = LibavDecoder::open(&cut, &info, format, 0, half, 4, 1)
        .unwrap()
        .expect("a yuv420p source decodes in-process")
        .chain(LibavDecoder::open(&cut, &info, format, half, info.frame_count - half, 4, 1).unwrap().unwrap())
        .map(|frame| frame.unwrap().data)
        .collect();
    assert!(in_process == child, "the in-process decoder's pictures differ from the child decoder's");
}
