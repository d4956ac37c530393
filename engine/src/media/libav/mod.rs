//! FFmpeg's libraries in-process (through `ffmpeg-next`): decode a segment
//! of the source and encode it with libx264, with no raw picture crossing a
//! pipe. The FFmpeg child processes remain for what these do not cover
//! (scaling, frame-rate conversion, rotated sources, other pixel formats).

mod decode;
mod encode;
mod planes;

use std::sync::OnceLock;

pub use decode::LibavDecoder;
pub use encode::LibavX264Encoder;

use super::error::MediaError;

/// Initialises the libraries once per process and keeps their own logging
/// quiet (errors reach the caller as [`MediaError`]s instead).
pub(crate) fn init() -> Result<(), MediaError> {
    static INIT: OnceLock<Result<(), String>> = OnceLock::new();
    INIT.get_or_init(|| {
        ffmpeg_next::init().map_err(|e| e.to_string())?;
        ffmpeg_next::util::log::set_level(ffmpeg_next::util::log::Level::Quiet);
        Ok(())
    })
    .clone()
    .map_err(|message| MediaError::Codec { stage: "initialising FFmpeg's libraries".to_owned(), message })
}

/// A failed library call as a [`MediaError::Codec`].
pub(crate) fn codec_error(stage: impl Into<String>, error: ffmpeg_next::Error) -> MediaError {
    MediaError::Codec { stage: stage.into(), message: error.to_string() }
}
