//! `X264Encoder`: the software encoder back end, an FFmpeg libx264 child fed raw frames on stdin.
//!
//! Segments are MP4 files, each starting with an IDR frame and using closed
//! GOPs, encoded with identical settings so their codec parameters match and
//! the concat demuxer can join them with `-c copy`. MP4 (rather than MPEG-TS)
//! stores every frame's exact duration, so the concat demuxer places each
//! segment exactly where the previous one ended and the merged frame count and
//! duration equal the sum of the segments'.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};

use super::encoder::{EncodedSegment, Encoder};
use super::error::MediaError;
use super::frame_layout::Yuv420pLayout;
use super::frame_rate::FrameRate;
use super::process::{ChildProcess, FFMPEG};

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
    stdin: Option<ChildStdin>,
    process: ChildProcess,
    out_path: PathBuf,
    frame_len: usize,
    frames: u64,
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
        let keyint = (2.0 * fps.as_f64()).round().max(1.0) as u64;
        let mut command = Command::new(FFMPEG);
        command
            .args(["-nostdin", "-y", "-v", "error"])
            .args(["-f", "rawvideo", "-pix_fmt", "yuv420p"])
            .arg("-video_size")
            .arg(format!("{width}x{height}"))
            .arg("-framerate")
            .arg(fps.to_string())
            .args(["-i", "-", "-an", "-c:v", "libx264", "-preset", preset])
            .arg("-crf")
            .arg(crf.to_string())
            .args(["-pix_fmt", "yuv420p", "-g"])
            .arg(keyint.to_string())
            .arg("-x264-params")
            .arg(format!("keyint={keyint}:open_gop=0"))
            .args(["-f", "mp4"])
            .arg(out_path)
            .stdin(Stdio::piped())
            .stdout(Stdio::null());
        let mut process =
            ChildProcess::spawn(command, &format!("x264 encoder of {}", out_path.display()))?;
        let stdin = process.take_stdin();
        Ok(X264Encoder {
            stdin,
            process,
            out_path: out_path.to_owned(),
            frame_len: Yuv420pLayout::new(width, height).frame_len(),
            frames: 0,
        })
    }

    /// The FFmpeg child's process id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The error for a child that stopped taking frames: its exit and stderr.
    fn child_failure(&mut self, source: std::io::Error) -> MediaError {
        self.stdin = None;
        match self.process.kill() {
            Ok((status, stderr)) => MediaError::ProcessFailed {
                process: self.process.label().to_owned(),
                status: format!("{status}, after {} frames: {source}", self.frames),
                stderr,
            },
            Err(error) => error,
        }
    }
}

impl Encoder for X264Encoder {
    fn write_frame(&mut self, yuv: &[u8]) -> Result<(), MediaError> {
        if yuv.len() != self.frame_len {
            return Err(MediaError::InvalidArgument(format!(
                "frame {} for {} has {} bytes, expected {}",
                self.frames,
                self.out_path.display(),
                yuv.len(),
                self.frame_len
            )));
        }
        let written = match self.stdin.as_mut() {
            Some(stdin) => stdin.write_all(yuv),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "encoder input already closed",
            )),
        };
        match written {
            Ok(()) => {
                self.frames += 1;
                Ok(())
            }
            Err(source) => Err(self.child_failure(source)),
        }
    }

    fn finish(mut self: Box<Self>) -> Result<EncodedSegment, MediaError> {
        if let Some(mut stdin) = self.stdin.take() {
            if let Err(source) = stdin.flush() {
                return Err(self.child_failure(source));
            }
        } // stdin closes here: end of input
        self.process.wait_success()?;
        Ok(EncodedSegment {
            path: self.out_path.clone(),
            frames: self.frames,
            encoder: self.name(),
        })
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
