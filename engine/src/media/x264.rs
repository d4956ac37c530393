//! `X264Encoder`: the software encoder back end, an FFmpeg libx264 child fed raw frames on stdin.
//!
//! Segments are MP4 files, each starting with an IDR frame and using closed
//! GOPs, encoded with identical settings so their codec parameters match and
//! the concat demuxer can join them with `-c copy`. MP4 (rather than MPEG-TS)
//! stores every frame's exact duration, so the concat demuxer places each
//! segment exactly where the previous one ended and the merged frame count and
//! duration equal the sum of the segments'.

use std::ffi::OsString;
use std::path::Path;

use super::encoder::{EncodedSegment, Encoder};
use super::encoder_pipe::EncoderPipe;
use super::error::MediaError;
use super::frame_rate::FrameRate;

/// The x264 preset names FFmpeg accepts.
const PRESETS: [&str; 10] = [
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
];

/// Maps the 1..=100 quality scale of the configuration to an x264 CRF.
///
/// Piecewise linear through 1 → 45, 90 → 18 and 100 → 12: the range from 1 to
/// 90 covers the useful CRFs from "barely watchable" to "visually lossless for
/// most content", and the last ten steps spend bits on near-transparent
/// quality. Values outside 1..=100 are clamped.
pub fn quality_to_crf(quality: u32) -> u8 {
    let q = quality.clamp(1, 100) as f64;
    let crf = if q <= 90.0 {
        45.0 - (q - 1.0) * 27.0 / 89.0
    } else {
        18.0 - (q - 90.0) * 0.6
    };
    crf.round() as u8
}

/// An x264 encode of one segment, running as an FFmpeg child.
///
/// Frames are written to the child's stdin from the caller's thread; its
/// stderr is kept (last 4 KiB) for errors. If the child dies, the next write
/// or `finish` returns `ProcessFailed` instead of hanging. Dropping the
/// encoder kills the child and removes nothing (the caller owns the path).
#[derive(Debug)]
pub struct X264Encoder {
    pipe: EncoderPipe,
}

impl X264Encoder {
    /// Starts an encoder writing `out_path` (an `.mp4`), with `preset` one of
    /// x264's and `crf` 0..=51. The keyframe interval is two seconds; every
    /// segment starts with an IDR frame, so segments join at any boundary.
    pub fn spawn(
        out_path: &Path,
        width: u32,
        height: u32,
        fps: FrameRate,
        preset: &str,
        crf: u8,
    ) -> Result<Self, MediaError> {
        Self::spawn_threaded(out_path, width, height, fps, preset, crf, 0)
    }

    /// As [`X264Encoder::spawn`], with x264 limited to `threads` threads (0:
    /// x264's own choice, about 1.5 per core).
    pub fn spawn_threaded(
        out_path: &Path,
        width: u32,
        height: u32,
        fps: FrameRate,
        preset: &str,
        crf: u8,
        threads: u32,
    ) -> Result<Self, MediaError> {
        check_settings(preset, crf, width, height)?;
        let keyint = keyframe_interval(fps);
        let codec_args: Vec<OsString> = [
            "-c:v",
            "libx264",
            "-preset",
            preset,
            "-crf",
            &crf.to_string(),
            "-pix_fmt",
            "yuv420p",
            "-g",
            &keyint.to_string(),
            "-x264-params",
            &format!("keyint={keyint}:open_gop=0"),
            "-threads",
            &threads.to_string(),
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let pipe = EncoderPipe::spawn(
            out_path,
            width,
            height,
            fps,
            &codec_args,
            &format!("x264 encoder of {}", out_path.display()),
        )?;
        Ok(X264Encoder { pipe })
    }

    /// The FFmpeg child's process id.
    pub fn pid(&self) -> u32 {
        self.pipe.pid()
    }
}

/// Refuses a preset x264 does not have, a CRF outside 0..=51 and an empty size.
pub(crate) fn check_settings(preset: &str, crf: u8, width: u32, height: u32) -> Result<(), MediaError> {
    if !PRESETS.contains(&preset) {
        return Err(MediaError::InvalidArgument(format!(
        "unknown x264 preset {preset:?} (expected one of {})",
        PRESETS.join(", ")
        )));
    }
    if crf > 51 || width == 0 || height == 0 {
        return Err(MediaError::InvalidArgument(format!(
        "x264 needs crf 0..=51 and a non-empty size, got crf {crf} at {width}x{height}"
        )));
    }
    Ok(())
}

/// Frames between keyframes: two seconds' worth at `fps`, at least one.
pub(crate) fn keyframe_interval(fps: FrameRate) -> u64 {
    (2.0 * fps.as_f64()).round().max(1.0) as u64
}

impl Encoder for X264Encoder {
    fn write_frame(&mut self, yuv: &[u8]) -> Result<(), MediaError> {
        self.pipe.write_frame(yuv)
    }

    fn finish(self: Box<Self>) -> Result<EncodedSegment, MediaError> {
        let name = self.name();
        self.pipe.finish(name)
    }

    fn name(&self) -> &'static str {
        "x264"
    }
}

#[cfg(test)]
mod tests {
    use super::quality_to_crf;

    #[test]
    fn quality_maps_to_documented_crfs() {
        assert_eq!(quality_to_crf(1), 45);
        assert_eq!(quality_to_crf(90), 18);
        assert_eq!(quality_to_crf(100), 12);
        assert_eq!(quality_to_crf(0), 45);
        assert_eq!(quality_to_crf(500), 12);
        let crfs: Vec<u8> = (1..=100).map(quality_to_crf).collect();
        assert!(crfs.windows(2).all(|w| w[0] >= w[1]), "monotonic");
    }
}
