//! `Decoder`: an FFmpeg child decoding one segment of a source into raw yuv420p frames, read on its own thread into a bounded channel.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;

use bytes::Bytes;
use crossbeam_channel::{bounded, Receiver, Sender};

use super::damage::{client_reason, is_damage};
use super::error::MediaError;
use super::frame_layout::Yuv420pLayout;
use super::frame_rate::FrameRate;
use super::probe::MediaInfo;

/// The pictures a decoder delivers: their size and rate, which may differ
/// from the source's (FFmpeg scales and converts the frame rate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoFormat {
    pub width: u32,
    pub height: u32,
    pub frame_rate: FrameRate,
}

impl VideoFormat {
    /// The source's own format.
    pub fn of(info: &MediaInfo) -> Self {
        Self { width: info.width, height: info.height, frame_rate: info.frame_rate }
    }

    /// FFmpeg's filter chain turning the source's pictures into this format
    /// (`None` when they already are).
    fn filters_from(&self, source: &MediaInfo) -> Option<String> {
        let mut filters = Vec::new();
        if (self.width, self.height) != (source.width, source.height) {
            filters.push(format!("scale={}:{}:flags=bicubic", self.width, self.height));
        }
        if self.frame_rate != source.frame_rate {
            filters.push(format!("fps={}", self.frame_rate));
        }
        (!filters.is_empty()).then(|| filters.join(","))
    }
}
use super::process::{ChildProcess, FFMPEG};

/// One decoded picture: yuv420p, laid out as `Yuv420pLayout` describes.
#[derive(Debug, Clone)]
pub struct DecodedFrame {
    /// Index of this frame in the source (not in the segment).
    pub index: u64,
    pub data: Bytes,
}

/// What travels over the decoder's channel: a frame, or the error that ended
/// the stream (it is always the last item).
pub type DecodedItem = Result<DecodedFrame, MediaError>;

/// A running decode of source frames `first_frame .. first_frame + frame_count`.
///
/// A reader thread pushes frames into a bounded channel; when it is full the
/// reader blocks and FFmpeg blocks on its pipe (lossless backpressure). The
/// channel closes after the last frame; a child that fails or stops early
/// sends one `Err` first. Dropping the decoder kills and reaps the child.
#[derive(Debug)]
pub struct Decoder {
    frames: Receiver<DecodedItem>,
    process: Arc<Mutex<ChildProcess>>,
    pid: u32,
}

impl Decoder {
    /// Starts decoding `frame_count` frames of `path` from source frame
    /// `first_frame`, holding at most `channel_capacity` decoded frames (at
    /// least 1) in the channel.
    ///
    /// Seeking is frame-exact: FFmpeg seeks to the keyframe before, decodes,
    /// and discards frames earlier than half a frame before `first_frame`'s
    /// timestamp, so frame `k` of the segment is source frame `first_frame + k`
    /// for constant-rate sources. Frames are neither duplicated nor dropped
    /// (`-fps_mode passthrough`), and a rotated source's frames are turned
    /// upright (FFmpeg's autorotation), so their size is the probed display
    /// size. A decoder that fails on damaged bytes ends its stream with
    /// [`MediaError::DamagedVideo`], not a process failure.
    pub fn spawn(
        path: &Path,
        info: &MediaInfo,
        first_frame: u64,
        frame_count: u64,
        channel_capacity: usize,
    ) -> Result<Self, MediaError> {
        Self::spawn_as(path, info, VideoFormat::of(info), first_frame, frame_count, channel_capacity, 0)
    }

    /// As [`Decoder::spawn`], delivering `format` (scaled and rate-converted
    /// from the source); frame numbers count at `format`'s rate. `threads`
    /// limits FFmpeg's decoding threads (0: its own choice).
    pub fn spawn_as(
        path: &Path,
        info: &MediaInfo,
        format: VideoFormat,
        first_frame: u64,
        frame_count: u64,
        channel_capacity: usize,
        threads: u32,
    ) -> Result<Self, MediaError> {
        if frame_count == 0 {
            return Err(MediaError::InvalidArgument(format!(
                "decoder of {} asked for zero frames",
                path.display()
            )));
        }
        let layout = Yuv420pLayout::new(format.width, format.height);
        let mut command = Command::new(FFMPEG);
        command.args(["-nostdin", "-v", "error", "-threads", &threads.to_string()]);
        if first_frame > 0 {
            let start =
                format.frame_rate.frame_time(first_frame) - format.frame_rate.frame_duration() / 2.0;
            command.arg("-ss").arg(format!("{start:.6}"));
        }
        command
            .arg("-i")
            .arg(path)
            .args(["-map", "0:v:0", "-an", "-sn", "-dn"]);
        if let Some(filters) = format.filters_from(info) {
            command.arg("-vf").arg(filters);
        }
        command
            .arg("-frames:v")
            .arg(frame_count.to_string())
            .args(["-fps_mode", "passthrough"])
            .args(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        let mut process = ChildProcess::spawn(
            command,
            &format!(
                "decoder of {} frames {}..{}",
                path.display(),
                first_frame,
                first_frame + frame_count
            ),
        )?;
        let pid = process.pid();
        let label = process.label().to_owned();
        let stdout = process.take_stdout().ok_or_else(|| MediaError::Pipe {
            process: label.clone(),
            source: io::Error::other("stdout was not captured"),
            stderr: String::new(),
        })?;
        let process = Arc::new(Mutex::new(process));
        let (sender, frames) = bounded(channel_capacity.max(1));
        let reader = FrameReader {
            source: path.to_path_buf(),
            stdout,
            process: Arc::clone(&process),
            label,
            frame_len: layout.frame_len(),
            first_frame,
            frame_count,
            sender,
        };
        thread::Builder::new()
            .name(format!("decoder-{pid}"))
            .spawn(move || reader.run())
            .map_err(|source| MediaError::Spawn {
                process: format!("reader thread of decoder pid {pid}"),
                source,
            })?;
        Ok(Decoder {
            frames,
            process,
            pid,
        })
    }

    /// The channel of decoded frames, for `select!` or handing to another thread.
    pub fn frames(&self) -> &Receiver<DecodedItem> {
        &self.frames
    }

    /// The FFmpeg child's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }
}

impl Iterator for Decoder {
    type Item = DecodedItem;

    /// Blocks for the next frame; `None` once the segment is complete.
    fn next(&mut self) -> Option<DecodedItem> {
        self.frames.recv().ok()
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        // Kill and reap now; the reader thread then fails its next read or
        // send (the receiver drops right after this) and exits.
        let _ = lock(&self.process).kill();
    }
}

fn lock(process: &Mutex<ChildProcess>) -> MutexGuard<'_, ChildProcess> {
    process
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The reader thread's state: reads exact frames from FFmpeg's stdout.
struct FrameReader {
    source: PathBuf,
    stdout: ChildStdout,
    process: Arc<Mutex<ChildProcess>>,
    label: String,
    frame_len: usize,
    first_frame: u64,
    frame_count: u64,
    sender: Sender<DecodedItem>,
}

impl FrameReader {
    fn run(mut self) {
        for k in 0..self.frame_count {
            // Read straight into spare capacity: no zeroing of a buffer that
            // is about to be overwritten whole.
            let mut buffer = Vec::with_capacity(self.frame_len);
            let read = (&mut self.stdout).take(self.frame_len as u64).read_to_end(&mut buffer);
            let read = match read {
                Ok(n) if n == self.frame_len => Ok(()),
                Ok(_) => Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
                Err(error) => Err(error),
            };
            if let Err(error) = read {
                let failure = self.failure(k, error);
                let failure = self.damage_or(failure);
                let _ = self.sender.send(Err(failure));
                return;
            }
            let frame = DecodedFrame {
                index: self.first_frame + k,
                data: Bytes::from(buffer),
            };
            if self.sender.send(Ok(frame)).is_err() {
                return; // the consumer is gone; the decoder's drop kills the child
            }
        }
        // Drain anything left so FFmpeg never dies of a broken pipe, then check its exit.
        let _ = io::copy(&mut self.stdout, &mut io::sink());
        let exit = lock(&self.process).wait_success();
        if let Err(failure) = exit {
            let _ = self.sender.send(Err(self.damage_or(failure)));
        }
    }

    /// A process failure whose stderr tells of damaged input, as
    /// [`MediaError::DamagedVideo`] (not worth a retry); others unchanged.
    fn damage_or(&self, failure: MediaError) -> MediaError {
        match &failure {
            MediaError::ProcessFailed { stderr, .. } | MediaError::ShortOutput { stderr, .. } if is_damage(stderr) => {
                MediaError::DamagedVideo { path: self.source.clone(), reason: client_reason(stderr, &self.source) }
            }
            _ => failure,
        }
    }

    /// The error for a read that failed after `got` whole frames.
    fn failure(&self, got: u64, error: io::Error) -> MediaError {
        let mut process = lock(&self.process);
        if error.kind() == io::ErrorKind::UnexpectedEof {
            match process.wait() {
                Ok((status, stderr)) if !status.success() => MediaError::ProcessFailed {
                    process: self.label.clone(),
                    status: status.to_string(),
                    stderr,
                },
                Ok((_, stderr)) => MediaError::ShortOutput {
                    process: self.label.clone(),
                    got,
                    expected: self.frame_count,
                    stderr,
                },
                Err(wait_error) => wait_error,
            }
        } else {
            let stderr = process.kill().map(|(_, tail)| tail).unwrap_or_default();
            MediaError::Pipe {
                process: self.label.clone(),
                source: error,
                stderr,
            }
        }
    }
}
