//! `MediaError`: every way media I/O can fail, with the file, the process and its stderr tail.

use std::io;
use std::path::PathBuf;

use super::damage::{client_reason, file_name};

/// A failure of probing, decoding, compositing, encoding or merging.
///
/// Errors about the source video name it by its file name only, and show
/// FFmpeg's complaint without paths or addresses: they are shown to the
/// client that sent the video. Process failures carry a label naming the
/// program, its purpose and pid (`"ffmpeg decoder of /in.mp4 (pid 4242)"`)
/// and the last few KiB of its stderr.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The input path does not exist.
    #[error("media file not found: {}", file_name(path))]
    NotFound { path: PathBuf },
    /// The input exists but has zero bytes.
    #[error("media file is empty: {}", file_name(path))]
    EmptyFile { path: PathBuf },
    /// FFprobe could not read the file as media at all.
    #[error("{} is not a readable video file: {}", file_name(path), client_reason(stderr, path))]
    InvalidVideoFormat { path: PathBuf, stderr: String },
    /// The file is a video, but damaged or cut short: FFprobe or the decoder
    /// could not read all of it. `reason` is fit to show a client.
    #[error("{} is damaged or truncated: {reason}", file_name(path))]
    DamagedVideo { path: PathBuf, reason: String },
    /// The file is media but carries no video stream.
    #[error("no video stream in {}", file_name(path))]
    NoVideoStream { path: PathBuf },
    /// The video stream has no frames, or no usable size or frame rate.
    #[error("video stream of {} is unusable: {detail}", file_name(path))]
    NoFrames { path: PathBuf, detail: String },
    /// FFprobe's JSON could not be understood.
    #[error("unreadable ffprobe output for {}: {source}", file_name(path))]
    ProbeOutput {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// A child process could not be started.
    #[error("could not start {process}: {source}")]
    Spawn {
        process: String,
        #[source]
        source: io::Error,
    },
    /// A child process exited unsuccessfully (or was killed).
    #[error("{process} failed ({status}): {stderr}")]
    ProcessFailed {
        process: String,
        status: String,
        stderr: String,
    },
    /// A child process ended before producing every frame asked of it.
    #[error("{process} produced {got} of {expected} frames: {stderr}")]
    ShortOutput {
        process: String,
        got: u64,
        expected: u64,
        stderr: String,
    },
    /// Reading from or writing to a child process's pipe failed.
    #[error("pipe to {process} failed: {source}; stderr: {stderr}")]
    Pipe {
        process: String,
        #[source]
        source: io::Error,
        stderr: String,
    },
    /// A file operation (list file, rename, metadata) failed.
    #[error("I/O on {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A caller passed sizes or settings that cannot work (wrong buffer length,
    /// a bounding box outside the frame, an unknown preset).
    #[error("invalid media argument: {0}")]
    InvalidArgument(String),
    /// A call into FFmpeg's libraries (in-process decode or encode) failed
    /// for a reason other than damaged input.
    #[error("{stage} failed: {message}")]
    Codec { stage: String, message: String },

    /// The configuration asks for an encoder back end this build or machine
    /// cannot run (NVENC without the feature, the GPU or the driver).
    #[error("{encoder} encoder unavailable: {reason}")]
    EncoderUnavailable {
        encoder: &'static str,
        reason: String,
    },
}

impl MediaError {
    /// A stable machine-readable code for API responses and QC reports.
    pub fn code(&self) -> &'static str {
        match self {
            MediaError::NotFound { .. } => "VIDEO_NOT_FOUND",
            MediaError::EmptyFile { .. }
            | MediaError::InvalidVideoFormat { .. }
            | MediaError::DamagedVideo { .. }
            | MediaError::NoVideoStream { .. }
            | MediaError::NoFrames { .. } => "INVALID_VIDEO_FORMAT",
            MediaError::ProbeOutput { .. } => "PROBE_FAILED",
            MediaError::Spawn { .. } => "FFMPEG_UNAVAILABLE",
            MediaError::ProcessFailed { .. }
            | MediaError::ShortOutput { .. }
            | MediaError::Pipe { .. }
            | MediaError::Codec { .. } => "FFMPEG_FAILED",
            MediaError::Io { .. } => "IO_ERROR",
            MediaError::InvalidArgument(_) => "INVALID_ARGUMENT",
            MediaError::EncoderUnavailable { .. } => "ENCODER_UNAVAILABLE",
        }
    }
}
