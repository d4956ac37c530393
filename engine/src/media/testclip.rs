//! `generate_clip`: synthetic source videos (FFmpeg's `testsrc2` picture and a `sine` tone) for tests, benchmarks and demos.

use std::path::Path;
use std::process::Command;

use super::error::MediaError;
use super::frame_rate::FrameRate;
use super::process::{run_to_end, FFMPEG};

/// Writes an H.264 (x264 `fast`, B-frames on) MP4 of `seconds` at
/// `width`×`height` and `fps`, with a 440 Hz AAC stereo tone when `with_audio`.
pub fn generate_clip(
    path: &Path,
    seconds: f64,
    width: u32,
    height: u32,
    fps: FrameRate,
    with_audio: bool,
) -> Result<(), MediaError> {
    let mut command = Command::new(FFMPEG);
    command
        .args(["-nostdin", "-y", "-v", "error", "-f", "lavfi", "-i"])
        .arg(format!(
            "testsrc2=size={width}x{height}:rate={fps}:duration={seconds}"
        ));
    if with_audio {
        command
            .args(["-f", "lavfi", "-i"])
            .arg(format!(
                "sine=frequency=440:sample_rate=48000:duration={seconds}"
            ))
            .args(["-c:a", "aac", "-ac", "2", "-b:a", "96k"]);
    }
    command
        .args(["-c:v", "libx264", "-preset", "fast", "-pix_fmt", "yuv420p"])
        .args(["-f", "mp4"])
        .arg(path);
    run_to_end(
        command,
        &format!("test clip generator of {}", path.display()),
    )?;
    Ok(())
}
