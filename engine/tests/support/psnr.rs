//! Shared by the media tests: PSNR through FFmpeg's own filter.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

/// Average PSNR (all planes) of `encoded` against `reference`, from FFmpeg's psnr filter.
pub fn psnr(encoded: &Path, reference: &Path) -> f64 {
    let output = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "info", "-i"])
        .arg(encoded)
        .arg("-i")
        .arg(reference)
        .args(["-lavfi", "[0:v][1:v]psnr", "-f", "null", "-"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("PSNR"))
        .unwrap_or_else(|| panic!("no PSNR in: {stderr}"));
    let average = line
        .split("average:")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    average.parse().unwrap()
}
