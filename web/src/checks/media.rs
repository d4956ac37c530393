//! FFmpeg: the decoder, muxer and prober, the x264 encoder, and whether
//! NVENC can be used here.

use motionrender_config::{Config, EncoderChoice};
use motionrender_engine::media::nvenc_status;

use super::{command, Check, Verdict};

const INSTALL: &str = "install FFmpeg with libx264 (apt-get install ffmpeg; scripts/setup does it)";

/// `ffmpeg` and `ffprobe` on `PATH`, where the engine runs them from.
pub fn tools() -> Vec<Check> {
    ["ffmpeg", "ffprobe"]
        .into_iter()
        .map(|tool| match command::on_path(tool) {
            Some(path) => Check::ok(tool, path.display().to_string()),
            None => Check::fail(tool, format!("{tool} is not on PATH"), INSTALL),
        })
        .collect()
}

/// FFmpeg's `libx264`, the encoder every machine has.
pub fn x264() -> Check {
    let Some(ffmpeg) = command::on_path("ffmpeg") else {
        return Check::fail("x264", "no ffmpeg to encode with", INSTALL);
    };
    match command::output(&ffmpeg, &["-hide_banner", "-encoders"]) {
        Ok(list) if list.lines().any(|line| line.split_whitespace().nth(1) == Some("libx264")) => {
            // "ffmpeg version 5.1.9-0+deb12u1 Copyright …": the first three words.
            let version = command::output(&ffmpeg, &["-hide_banner", "-version"])
                .ok()
                .and_then(|text| text.lines().next().map(|line| line.split_whitespace().take(3).collect::<Vec<_>>().join(" ")));
            Check::ok("x264", format!("libx264 in {}", version.unwrap_or_else(|| ffmpeg.display().to_string())))
        }
        Ok(_) => Check::fail("x264", format!("{} has no libx264 encoder", ffmpeg.display()), INSTALL),
        Err(reason) => Check::fail("x264", reason, INSTALL),
    }
}

/// Whether NVENC can be used, and why not; a failure only when
/// `encoder.kind = "nvenc"` asks for it.
pub fn nvenc(config: &Config) -> Check {
    let status = nvenc_status();
    if status.usable {
        return Check::ok("nvenc", status.reason);
    }
    let verdict = if config.encoder.kind == EncoderChoice::Nvenc { Verdict::Fail } else { Verdict::Warn };
    Check::new("nvenc", verdict, format!("not usable: {}", status.reason))
        .advise("renders use x264 (encoder.kind = \"auto\"); NVENC needs an NVIDIA GPU with its driver and the motionrender-nvenc helper beside this binary (cargo build --release --features nvenc)")
}
