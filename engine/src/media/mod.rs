//! Media I/O through FFmpeg (its libraries in-process, or child processes): probe, decode, composite, encode, merge.

mod composite;
mod damage;
mod decoder;
mod encoder;
mod encoder_pipe;
mod encoder_selection;
mod error;
mod frame_layout;
mod frame_rate;
mod libav;
mod merge;
mod nvenc;
#[cfg(feature = "nvenc")]
mod nvenc_helper;
mod nvenc_status;
mod probe;
mod process;
pub mod testclip;
mod x264;

pub use composite::{composite, BoundingBox};
pub use decoder::{DecodedFrame, DecodedItem, Decoder, VideoFormat};
pub use encoder::{EncodedSegment, Encoder};
pub use encoder_selection::{select_encoder, EncoderKind, EncoderSelection};
pub use error::MediaError;
pub use frame_layout::Yuv420pLayout;
pub use frame_rate::FrameRate;
pub use libav::{LibavDecoder, LibavX264Encoder};
pub use merge::merge_segments;
#[cfg(feature = "nvenc")]
pub use nvenc::NvencEncoder;
pub use nvenc::{nvenc_preset, quality_to_cq};
pub use nvenc_status::{nvenc_status, NvencStatus};
pub use probe::{probe, AudioInfo, MediaInfo};
pub use x264::{quality_to_crf, X264Encoder};
