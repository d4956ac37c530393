//! `FrameRate`: a frame rate as an exact rational, as FFmpeg writes it (`30000/1001`).

use std::fmt;

/// Frames per second as `num/den`, both non-zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FrameRate {
    pub num: u32,
    pub den: u32,
}

impl FrameRate {
    /// A rate of `num/den`, or `None` if either is zero.
    pub fn new(num: u32, den: u32) -> Option<Self> {
        (num != 0 && den != 0).then_some(FrameRate { num, den })
    }

    /// Parses FFprobe's `"30000/1001"` (or a bare integer); `None` for `0/0` and junk.
    pub fn parse(text: &str) -> Option<Self> {
        let (num, den) = text.split_once('/').unwrap_or((text, "1"));
        FrameRate::new(num.trim().parse().ok()?, den.trim().parse().ok()?)
    }

    pub fn as_f64(&self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }

    /// Seconds from the stream start to the start of frame `index`.
    pub fn frame_time(&self, index: u64) -> f64 {
        index as f64 * f64::from(self.den) / f64::from(self.num)
    }

    /// Duration of one frame, in seconds.
    pub fn frame_duration(&self) -> f64 {
        f64::from(self.den) / f64::from(self.num)
    }
}

impl fmt::Display for FrameRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}
