//! `NvencEncoder`: the NVIDIA hardware encoder back end, an FFmpeg `h264_nvenc` child fed raw frames on stdin.
//!
//! This goes through FFmpeg's `h264_nvenc` encoder, not the NVENC SDK
//! directly. Binding the SDK (or `nvidia-video-codec-sdk`, as the architecture
//! notes first planned) means calling C through FFI, which needs `unsafe`, and
//! the workspace forbids `unsafe` code. FFmpeg already loads the driver's
//! libraries at run time, so a binary built with the `nvenc` feature needs no
//! CUDA or NVIDIA library to build or to start; whether this machine can use
//! NVENC is found out at run time by `nvenc_status`. The cost is one more
//! copy of each frame through a pipe, the same as the x264 back end pays.
//!
//! Segments are MP4 files with closed GOPs of two seconds, each starting with
//! an IDR frame, like x264's, so segments of one job join with `-c copy`.
//! Segments from the two back ends differ in codec parameters and must not be
//! mixed within one output.
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
    use std::ffi::OsString;
    use std::path::Path;

    use super::super::encoder::{EncodedSegment, Encoder};
    use super::super::encoder_pipe::EncoderPipe;
    use super::super::error::MediaError;
    use super::super::frame_rate::FrameRate;
    use super::super::x264::keyframe_interval;
    use super::{nvenc_preset, PRESETS};

    /// An NVENC encode of one segment, running as an FFmpeg `h264_nvenc` child.
    ///
    /// Behaves like `X264Encoder`: frames go to the child's stdin from the
    /// caller's thread; a dead child makes the next write or `finish` return
    /// `ProcessFailed` (with FFmpeg's stderr, which names driver problems such
    /// as a missing `libcuda.so.1`); dropping the encoder kills the child.
    ///
    /// `spawn` does not check that NVENC works here; use `nvenc_status` (or
    /// `EncoderKind::Nvenc.spawn`, which does) to find out first.
    #[derive(Debug)]
    pub struct NvencEncoder {
        pipe: EncoderPipe,
    }

    impl NvencEncoder {
        /// Starts an encoder writing `out_path` (an `.mp4`), with `preset` an
        /// x264 preset name (mapped by `nvenc_preset`) and `cq` the constant
        /// quality level 1..=51 (variable bitrate, no bitrate cap). The
        /// keyframe interval is two seconds and every keyframe is an IDR
        /// frame, so GOPs are closed and segments join at any boundary.
        pub fn spawn(
            out_path: &Path,
            width: u32,
            height: u32,
            fps: FrameRate,
            preset: &str,
            cq: u8,
        ) -> Result<Self, MediaError> {
            let Some(nvenc) = nvenc_preset(preset) else {
                let names: Vec<&str> = PRESETS.iter().map(|(x264, _)| *x264).collect();
                return Err(MediaError::InvalidArgument(format!(
                    "unknown encoder preset {preset:?} (expected one of {})",
                    names.join(", ")
                )));
            };
            if !(1..=51).contains(&cq) || width == 0 || height == 0 {
                return Err(MediaError::InvalidArgument(format!(
                    "NVENC needs cq 1..=51 and a non-empty size, got cq {cq} at {width}x{height}"
                )));
            }
            let keyint = keyframe_interval(fps);
            let codec_args: Vec<OsString> = [
                "-c:v",
                "h264_nvenc",
                "-preset",
                nvenc,
                "-tune",
                "hq",
                "-rc",
                "vbr",
                "-cq",
                &cq.to_string(),
                // No bitrate target: quality alone decides the size.
                "-b:v",
                "0",
                "-pix_fmt",
                "yuv420p",
                "-g",
                &keyint.to_string(),
                // Keyframes are IDR frames and none are added at scene cuts,
                // so every GOP is closed and of the fixed length.
                "-forced-idr",
                "1",
                "-no-scenecut",
                "1",
            ]
            .iter()
            .map(OsString::from)
            .collect();
            let pipe = EncoderPipe::spawn(
                out_path,
                width,
                height,
                fps,
                &codec_args,
                &format!("nvenc encoder of {}", out_path.display()),
            )?;
            Ok(NvencEncoder { pipe })
        }

        /// The FFmpeg child's process id.
        pub fn pid(&self) -> u32 {
            self.pipe.pid()
        }
    }

    impl Encoder for NvencEncoder {
        fn write_frame(&mut self, yuv: &[u8]) -> Result<(), MediaError> {
            self.pipe.write_frame(yuv)
        }

        fn finish(self: Box<Self>) -> Result<EncodedSegment, MediaError> {
            let name = self.name();
            self.pipe.finish(name)
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

    /// Without a GPU the encode must fail, but only when opening the driver:
    /// FFmpeg checks every option first, so an error about options means the
    /// command line is wrong. The failure is an error, not a hang or a panic.
    #[cfg(feature = "nvenc")]
    #[test]
    fn without_a_gpu_the_encoder_fails_at_the_driver_not_at_its_options() {
        use super::super::encoder::Encoder;
        use super::super::error::MediaError;
        use super::super::frame_layout::Yuv420pLayout;
        use super::super::frame_rate::FrameRate;
        use super::NvencEncoder;

        if std::path::Path::new("/dev/nvidia0").exists() {
            return; // with a GPU the selection tests encode for real
        }
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
        let MediaError::ProcessFailed {
            process, stderr, ..
        } = &error
        else {
            panic!("expected ProcessFailed, got {error:?}");
        };
        assert!(process.contains("nvenc encoder of"), "{process}");
        assert!(!stderr.is_empty(), "FFmpeg said why: {error}");
        for option_error in [
            "Unrecognized option",
            "Error setting option",
            "Option not found",
        ] {
            assert!(!stderr.contains(option_error), "bad command line: {stderr}");
        }
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
