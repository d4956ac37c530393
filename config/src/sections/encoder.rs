//! `[encoder]`: which H.264 encoder renders the output, and its settings.

use serde::{Deserialize, Serialize};

/// Which H.264 encoder to use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EncoderChoice {
    /// NVENC when a usable NVIDIA GPU is present, else x264. The default.
    #[default]
    Auto,
    /// NVIDIA NVENC only; fail if it is unavailable.
    Nvenc,
    /// x264 (software) only.
    X264,
}

/// Encoder selection and quality.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EncoderConfig {
    /// Encoder to use: `"auto"`, `"nvenc"` or `"x264"`. Default: `"auto"`.
    pub kind: EncoderChoice,
    /// Speed/size preset passed to the encoder (an x264 preset name such as
    /// `"veryfast"`; the NVENC back end maps it to its own presets).
    /// Default: `"veryfast"`.
    pub preset: String,
    /// Output quality on a 1 to 100 scale, higher is better; each back end
    /// maps it to its own rate control (CRF, CQ). Default: `90`.
    pub quality: u32,
    /// Decode the source and encode x264 with FFmpeg's libraries inside the
    /// engine (`true`), or with FFmpeg child processes fed raw frames over
    /// pipes (`false`, the slower way the engine used before). Sources that
    /// need scaling, rate conversion or turning upright always take the
    /// child decoder; NVENC always its helper. Default: `true`.
    pub in_process: bool,
}

impl Default for EncoderConfig {
    fn default() -> Self {
        Self {
            kind: EncoderChoice::Auto,
            preset: "veryfast".to_owned(),
            quality: 90,
            in_process: true,
        }
    }
}
