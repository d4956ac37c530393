//! `Encoder`: the one interface every video encoder back end (x264, NVENC) offers the compositor.

use std::path::PathBuf;

use super::error::MediaError;

/// A segment file an encoder finished writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedSegment {
    pub path: PathBuf,
    /// Frames written into it.
    pub frames: u64,
    /// The back end that wrote it (`Encoder::name`).
    pub encoder: &'static str,
}

/// Takes yuv420p frames of one segment, in order, and writes a segment file.
///
/// Calls block (they run on the compositor thread). Dropping an encoder
/// without `finish` abandons the segment and stops any child process.
pub trait Encoder: Send {
    /// Encodes one frame: yuv420p of the size the encoder was opened with.
    fn write_frame(&mut self, yuv: &[u8]) -> Result<(), MediaError>;

    /// Flushes, closes the segment file and reports it.
    fn finish(self: Box<Self>) -> Result<EncodedSegment, MediaError>;

    /// The back end's name, for logs and QC reports (`"x264"`, `"nvenc"`).
    fn name(&self) -> &'static str;
}
