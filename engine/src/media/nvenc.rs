//! `NvencEncoder`: the NVIDIA hardware encoder back end, the NVENC helper
//! (`motionrender-nvenc`, package `engine/nvenc`) fed raw frames on stdin,
//! its H.264 stream put into an MP4 segment by an FFmpeg child (`-c copy`).
//!
//! The helper drives NVENC directly through `nvidia-video-codec-sdk` in its
//! own process: it links the driver's `libnvidia-encode`, so where the
//! driver is missing it cannot start, and the crates beneath it panic on a
//! missing `libcuda` or an old driver. None of that reaches this process: the
//! helper's exit status and its one line on stderr become the reason (see
//! `nvenc_status`), and a helper that dies mid-segment is a `ProcessFailed`
//! like a dead x264 child, retried the same way.
//!
//! Segments are MP4 files with closed GOPs of two seconds, each starting with
//! an IDR picture carrying SPS and PPS, like x264's, so segments of one job
//! join with `-c copy`. Segments from the two back ends differ in codec
//! parameters and must not be mixed within one output.
//!
//! The preset and quality mapping below is compiled with or without the
//! feature, so it is tested in every build; the encoder itself needs the
//! feature.

use super::x264::quality_to_crf;

/// Each x264 preset name and the NVENC preset (`p1` fastest … `p7` slowest)
/// used for it.
///
/// The two scales are lined up at their defaults (x264 `medium` ↔ `p4`) and by
/// name from there (`fast` ↔ `p3` "fast", `slow` ↔ `p5` "slow", `slower` ↔
/// `p6` "slower"). x264 has more names at both ends than NVENC has presets, so
/// the ends share: `ultrafast`/`superfast` → `p1`, `veryfast`/`faster` → `p2`,
/// `veryslow`/`placebo` → `p7`.
const PRESETS: [(&str, &str); 10] = [
    ("ultrafast", "p1"),
    ("superfast", "p1"),
    ("veryfast", "p2"),
    ("faster", "p2"),
    ("fast", "p3"),
    ("medium", "p4"),
    ("slow", "p5"),
    ("slower", "p6"),
    ("veryslow", "p7"),
    ("placebo", "p7"),
];

/// The NVENC preset (`"p1"`..=`"p7"`) for an x264 preset name, or `None` if
/// the name is not one of x264's. See `PRESETS` for the mapping.
pub fn nvenc_preset(x264_preset: &str) -> Option<&'static str> {
    PRESETS
        .iter()
        .find(|(x264, _)| *x264 == x264_preset)
        .map(|(_, nvenc)| *nvenc)
}

/// Maps the 1..=100 quality scale of the configuration to an NVENC constant
/// quality level (`-cq`, 1..=51, lower is better).
///
/// CQ is on the same QP scale as x264's CRF, so this is the same curve as
/// `quality_to_crf` (1 → 45, 90 → 18, 100 → 12). The two encoders do not give
/// identical sizes or quality at equal values (NVENC usually needs a few more
/// bits for the same look), but a setting means roughly the same on both.
/// Never returns 0, which NVENC reads as "choose automatically".
pub fn quality_to_cq(quality: u32) -> u8 {
    quality_to_crf(quality).max(1)
}

#[cfg(feature = "nvenc")]
pub use encoder::NvencEncoder;

#[cfg(feature = "nvenc")]
mod encoder {
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::process::{ChildStdin, Command, Stdio};

    use super::super::encoder::{EncodedSegment, Encoder};
    use super::super::encoder_pipe::check_frame_len;
    use super::super::error::MediaError;
    use super::super::frame_layout::Yuv420pLayout;
    use super::super::frame_rate::FrameRate;
    use super::super::nvenc_helper::helper_path;
    use super::super::process::{ChildProcess, FFMPEG};
    use super::super::x264::keyframe_interval;
    use super::{nvenc_preset, PRESETS};

    /// An NVENC encode of one segment: the helper and the FFmpeg child that
    /// puts its stream into the segment file.
    ///
    /// Behaves like `X264Encoder`: frames go to the helper's stdin from the
    /// caller's thread; a dead helper or muxer makes the next write or
    /// `finish` return `ProcessFailed` (with the helper's stderr line);
    /// dropping the encoder kills both.
    #[derive(Debug)]
    pub struct NvencEncoder {
        stdin: Option<ChildStdin>,
        helper: ChildProcess,
        muxer: ChildProcess,
        out_path: PathBuf,
        frame_len: usize,
        frames: u64,
    }

    impl NvencEncoder {
        /// Starts an encoder writing `out_path` (an `.mp4`), with `preset` an
        /// x264 preset name (mapped by `nvenc_preset`) and `cq` the constant
        /// quality level 1..=51. The keyframe interval is two seconds, every
        /// keyframe an IDR picture with parameter sets.
        pub fn spawn(out_path: &Path, width: u32, height: u32, fps: FrameRate, preset: &str, cq: u8) -> Result<Self, MediaError> {
            let Some(nvenc) = nvenc_preset(preset) else {
                let names: Vec<&str> = PRESETS.iter().map(|(x264, _)| *x264).collect();
                return Err(MediaError::InvalidArgument(format!("unknown encoder preset {preset:?} (expected one of {})", names.join(", "))));
            };
            if !(1..=51).contains(&cq) || width == 0 || height == 0 || !width.is_multiple_of(2) || !height.is_multiple_of(2) {
                return Err(MediaError::InvalidArgument(format!("NVENC needs cq 1..=51 and an even, non-empty size, got cq {cq} at {width}x{height}")));
            }
            let helper_program = helper_path().map_err(|reason| MediaError::EncoderUnavailable { encoder: "nvenc", reason })?;
            let mut command = Command::new(helper_program);
            command
                .arg("--size")
                .arg(format!("{width}x{height}"))
                .arg("--fps")
                .arg(format!("{}/{}", fps.num, fps.den))
                .args(["--preset", nvenc, "--cq", &cq.to_string(), "--gop", &keyframe_interval(fps).to_string()])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped());
            let mut helper = ChildProcess::spawn(command, &format!("nvenc encoder of {}", out_path.display()))?;
            let stream = helper.take_stdout().map(Stdio::from).unwrap_or_else(Stdio::null);
            let mut mux = Command::new(FFMPEG);
            mux.args(["-nostdin", "-y", "-v", "error", "-f", "h264", "-framerate"])
                .arg(fps.to_string())
                .args(["-i", "-", "-c", "copy", "-f", "mp4"])
                .arg(out_path)
                .stdin(stream)
                .stdout(Stdio::null());
            let muxer = match ChildProcess::spawn(mux, &format!("muxer of {}", out_path.display())) {
                Ok(muxer) => muxer,
                Err(error) => {
                    let _ = helper.kill();
                    return Err(error);
                }
            };
            let stdin = helper.take_stdin();
            Ok(NvencEncoder {
                stdin,
                helper,
                muxer,
                out_path: out_path.to_owned(),
                frame_len: Yuv420pLayout::new(width, height).frame_len(),
                frames: 0,
            })
        }

        /// The helper's process id.
        pub fn pid(&self) -> u32 {
            self.helper.pid()
        }

        /// The error for a helper that stopped taking frames: its exit and stderr.
        fn helper_failure(&mut self, source: std::io::Error) -> MediaError {
            self.stdin = None;
            let _ = self.muxer.kill();
            match self.helper.kill() {
                Ok((status, stderr)) => MediaError::ProcessFailed {
                    process: self.helper.label().to_owned(),
                    status: format!("{status}, after {} frames: {source}", self.frames),
                    stderr,
                },
                Err(error) => error,
            }
        }
    }

    impl Encoder for NvencEncoder {
        fn write_frame(&mut self, yuv: &[u8]) -> Result<(), MediaError> {
            check_frame_len(yuv, self.frame_len, self.frames, &self.out_path)?;
            let written = match self.stdin.as_mut() {
                Some(stdin) => stdin.write_all(yuv),
                None => Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "encoder input already closed")),
            };
            match written {
                Ok(()) => {
                    self.frames += 1;
                    Ok(())
                }
                Err(source) => Err(self.helper_failure(source)),
            }
        }

        fn finish(mut self: Box<Self>) -> Result<EncodedSegment, MediaError> {
            if let Some(mut stdin) = self.stdin.take() {
                if let Err(source) = stdin.flush() {
                    return Err(self.helper_failure(source));
                }
            } // stdin closes here: end of input
            if let Err(error) = self.helper.wait_success() {
                let _ = self.muxer.kill();
                return Err(error);
            }
            self.muxer.wait_success()?;
            Ok(EncodedSegment { path: self.out_path.clone(), frames: self.frames, encoder: "nvenc" })
        }

        fn name(&self) -> &'static str {
            "nvenc"
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::{nvenc_preset, quality_to_cq};

    #[test]
    fn x264_presets_map_to_nvenc_presets_in_speed_order() {
        assert_eq!(nvenc_preset("ultrafast"), Some("p1"));
        assert_eq!(nvenc_preset("veryfast"), Some("p2"));
        assert_eq!(nvenc_preset("fast"), Some("p3"));
        assert_eq!(nvenc_preset("medium"), Some("p4"));
        assert_eq!(nvenc_preset("slow"), Some("p5"));
        assert_eq!(nvenc_preset("slower"), Some("p6"));
        assert_eq!(nvenc_preset("placebo"), Some("p7"));
        assert_eq!(nvenc_preset("p4"), None, "only x264 names are accepted");
        assert_eq!(nvenc_preset("ludicrous"), None);

        let order = [
            "ultrafast",
            "superfast",
            "veryfast",
            "faster",
            "fast",
            "medium",
            "slow",
            "slower",
            "veryslow",
            "placebo",
        ];
        let mapped: Vec<&str> = order.iter().filter_map(|p| nvenc_preset(p)).collect();
        assert_eq!(mapped.len(), order.len(), "every x264 preset is mapped");
        assert!(
            mapped.windows(2).all(|w| w[0] <= w[1]),
            "slower x264 presets never map to faster NVENC presets: {mapped:?}"
        );
        let used: std::collections::BTreeSet<&str> = mapped.into_iter().collect();
        assert_eq!(used.len(), 7, "all of p1..p7 are reachable: {used:?}");
    }

    #[test]
    fn quality_maps_to_a_cq_nvenc_accepts() {
        assert_eq!(quality_to_cq(90), 18);
        assert_eq!(quality_to_cq(1), 45);
        assert_eq!(quality_to_cq(100), 12);
        assert!((0..=1000)
            .map(quality_to_cq)
            .all(|cq| (1..=51).contains(&cq)));
    }

    /// Without the NVIDIA driver the helper cannot start (it links the
    /// driver's libnvidia-encode); the encode fails as a `ProcessFailed` (the
    /// error a dead x264 child gives, so it is retried the same way) whose
    /// stderr names the missing library. A failure, not a hang or a panic.
    #[cfg(feature = "nvenc")]
    #[test]
    fn without_the_driver_the_helper_fails_naming_the_library() {
        use super::super::encoder::Encoder;
        use super::super::error::MediaError;
        use super::super::frame_layout::Yuv420pLayout;
        use super::super::frame_rate::FrameRate;
        use super::NvencEncoder;

        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("nvenc.mp4");
        let fps = FrameRate { num: 25, den: 1 };
        let mut encoder = NvencEncoder::spawn(&out, 96, 64, fps, "veryfast", 18).unwrap();
        assert_eq!(encoder.name(), "nvenc");
        let frame = vec![128u8; Yuv420pLayout::new(96, 64).frame_len()];
        let written = (0..200).find_map(|_| encoder.write_frame(&frame).err());
        let error = match written {
            Some(error) => error,
            None => Box::new(encoder).finish().unwrap_err(),
        };
        let MediaError::ProcessFailed { process, stderr, .. } = &error else {
            panic!("expected ProcessFailed, got {error:?}");
        };
        assert!(process.contains("motionrender-nvenc nvenc encoder of"), "{process}");
        assert!(stderr.contains("libnvidia-encode.so.1"), "the loader named the library: {error}");
        let failure = crate::render::RenderError::Media(error);
        assert!(failure.is_transient(), "retried like a dead x264 child: {failure}");
    }

    #[cfg(feature = "nvenc")]
    #[test]
    fn an_unknown_preset_or_cq_is_refused_before_spawning() {
        use super::super::frame_rate::FrameRate;
        use super::NvencEncoder;

        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("nvenc.mp4");
        let fps = FrameRate { num: 25, den: 1 };
        for (preset, cq) in [("p4", 20), ("ludicrous", 20), ("fast", 0), ("fast", 52)] {
            let error = NvencEncoder::spawn(&out, 96, 64, fps, preset, cq).unwrap_err();
            assert_eq!(error.code(), "INVALID_ARGUMENT", "{preset} {cq}");
        }
        assert!(!out.exists());
    }
}
