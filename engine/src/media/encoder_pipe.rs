//! `EncoderPipe`: an FFmpeg child that encodes raw yuv420p frames written to its stdin into an MP4 segment.
//!
//! Both FFmpeg-driven back ends (x264 and NVENC) are this pipe with different
//! codec arguments: the input side (raw frames of a fixed size and rate on
//! stdin, no audio) and the output side (an MP4 file) are the same.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};

use super::encoder::EncodedSegment;
use super::error::MediaError;
use super::frame_layout::Yuv420pLayout;
use super::frame_rate::FrameRate;
use super::process::{ChildProcess, FFMPEG};

/// A running FFmpeg encode of one segment, fed frame by frame.
///
/// Frames are written to the child's stdin from the caller's thread; its
/// stderr is kept (last 4 KiB) for errors. If the child dies, the next write
/// or `finish` returns `ProcessFailed` instead of hanging. Dropping the pipe
/// kills the child and removes nothing (the caller owns the path).
#[derive(Debug)]
pub(crate) struct EncoderPipe {
    stdin: Option<ChildStdin>,
    process: ChildProcess,
    out_path: PathBuf,
    frame_len: usize,
    frames: u64,
}

impl EncoderPipe {
    /// Starts `ffmpeg` reading `width`×`height` yuv420p frames at `fps` from
    /// stdin and writing `out_path` as MP4, with `codec_args` (the `-c:v …`
    /// options) between input and output. `purpose` names the child in errors
    /// (`"x264 encoder of /seg/0001.mp4"`).
    pub(crate) fn spawn(
        out_path: &Path,
        width: u32,
        height: u32,
        fps: FrameRate,
        codec_args: &[OsString],
        purpose: &str,
    ) -> Result<Self, MediaError> {
        let mut command = Command::new(FFMPEG);
        command
            .args(["-nostdin", "-y", "-v", "error"])
            .args(["-f", "rawvideo", "-pix_fmt", "yuv420p"])
            .arg("-video_size")
            .arg(format!("{width}x{height}"))
            .arg("-framerate")
            .arg(fps.to_string())
            .args(["-i", "-", "-an"])
            .args(codec_args)
            .args(["-f", "mp4"])
            .arg(out_path)
            .stdin(Stdio::piped())
            .stdout(Stdio::null());
        let mut process = ChildProcess::spawn(command, purpose)?;
        let stdin = process.take_stdin();
        Ok(EncoderPipe {
            stdin,
            process,
            out_path: out_path.to_owned(),
            frame_len: Yuv420pLayout::new(width, height).frame_len(),
            frames: 0,
        })
    }

    /// The FFmpeg child's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Writes one yuv420p frame of the size the pipe was opened with.
    pub(crate) fn write_frame(&mut self, yuv: &[u8]) -> Result<(), MediaError> {
        check_frame_len(yuv, self.frame_len, self.frames, &self.out_path)?;
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

    /// Closes stdin (end of input), waits for FFmpeg to finish the file and
    /// reports it as written by `encoder`.
    pub(crate) fn finish(mut self, encoder: &'static str) -> Result<EncodedSegment, MediaError> {
        if let Some(mut stdin) = self.stdin.take() {
            if let Err(source) = stdin.flush() {
                return Err(self.child_failure(source));
            }
        } // stdin closes here: end of input
        self.process.wait_success()?;
        Ok(EncodedSegment {
            path: self.out_path.clone(),
            frames: self.frames,
            encoder,
        })
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

/// Refuses a frame that is not `frame_len` bytes, naming frame `index` of `out_path`.
pub(crate) fn check_frame_len(yuv: &[u8], frame_len: usize, index: u64, out_path: &Path) -> Result<(), MediaError> {
    if yuv.len() == frame_len {
        return Ok(());
    }
    Err(MediaError::InvalidArgument(format!("frame {index} for {} has {} bytes, expected {frame_len}", out_path.display(), yuv.len())))
}
