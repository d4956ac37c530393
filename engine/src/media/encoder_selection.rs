//! `select_encoder`: turns the configured `encoder.kind` into the back end a job encodes with, and says why.

use std::path::Path;

use motionrender_config::EncoderChoice;

use super::encoder::Encoder;
use super::error::MediaError;
use super::frame_rate::FrameRate;
use super::nvenc::quality_to_cq;
use super::nvenc_status::nvenc_status;
use super::libav::LibavX264Encoder;
use super::x264::{quality_to_crf, X264Encoder};

/// An encoder back end that can be started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EncoderKind {
    /// libx264 in an FFmpeg child (software).
    X264,
    /// NVIDIA NVENC through the `motionrender-nvenc` helper (needs the `nvenc` feature).
    Nvenc,
}

/// The back end chosen for a job, and a sentence saying why, for logs and
/// QC reports (`"x264: NVENC not usable: built without the `nvenc` feature"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncoderSelection {
    pub kind: EncoderKind,
    pub reason: String,
}

/// Chooses the back end for `choice`: `Auto` takes NVENC when it is usable
/// and x264 otherwise; `X264` always gives x264; `Nvenc` gives NVENC or, if
/// it is not usable, `EncoderUnavailable` with the reason.
///
/// The first `Auto` or `Nvenc` call may block for a moment (see
/// `nvenc_status`); later ones are immediate.
pub fn select_encoder(choice: EncoderChoice) -> Result<EncoderSelection, MediaError> {
    match choice {
        EncoderChoice::X264 => Ok(EncoderSelection {
            kind: EncoderKind::X264,
            reason: "x264: chosen by configuration".to_owned(),
        }),
        EncoderChoice::Auto => {
            let status = nvenc_status();
            Ok(if status.usable {
                EncoderSelection {
                    kind: EncoderKind::Nvenc,
                    reason: format!("nvenc: usable ({})", status.reason),
                }
            } else {
                EncoderSelection {
                    kind: EncoderKind::X264,
                    reason: format!("x264: NVENC not usable: {}", status.reason),
                }
            })
        }
        EncoderChoice::Nvenc => {
            let status = nvenc_status();
            if status.usable {
                Ok(EncoderSelection {
                    kind: EncoderKind::Nvenc,
                    reason: "nvenc: chosen by configuration".to_owned(),
                })
            } else {
                Err(MediaError::EncoderUnavailable {
                    encoder: EncoderKind::Nvenc.name(),
                    reason: status.reason,
                })
            }
        }
    }
}

impl EncoderKind {
    /// The name its encoders report (`Encoder::name`): `"x264"` or `"nvenc"`.
    pub fn name(&self) -> &'static str {
        match self {
            EncoderKind::X264 => "x264",
            EncoderKind::Nvenc => "nvenc",
        }
    }

    /// Starts an encoder of this kind writing `out` (an `.mp4`) from
    /// `width`×`height` yuv420p frames at `fps`. `preset` is an x264 preset
    /// name (NVENC maps it, see `nvenc_preset`); `quality` is the 1..=100
    /// scale of the configuration (see `quality_to_crf`, `quality_to_cq`).
    ///
    /// `Nvenc` fails with `EncoderUnavailable` when `nvenc_status` says it is
    /// not usable, which is always the case in a build without the feature.
    pub fn spawn(
        &self,
        out: &Path,
        width: u32,
        height: u32,
        fps: FrameRate,
        preset: &str,
        quality: u32,
    ) -> Result<Box<dyn Encoder + Send>, MediaError> {
        self.spawn_threaded(out, width, height, fps, preset, quality, 0, true)
    }

    /// As [`EncoderKind::spawn`], with at most `threads` encoder threads (0:
    /// the encoder's own choice; NVENC has none to set). Segments encoded
    /// side by side each take their share of the cores this way. With
    /// `in_process` x264 runs inside the engine (FFmpeg's libraries), else in
    /// an FFmpeg child fed over a pipe.
    #[allow(clippy::too_many_arguments)]
    pub fn spawn_threaded(
        &self,
        out: &Path,
        width: u32,
        height: u32,
        fps: FrameRate,
        preset: &str,
        quality: u32,
        threads: u32,
        in_process: bool,
    ) -> Result<Box<dyn Encoder + Send>, MediaError> {
        match self {
            EncoderKind::X264 if in_process => {
                Ok(Box::new(LibavX264Encoder::open(out, width, height, fps, preset, quality_to_crf(quality), threads)?))
            }
            EncoderKind::X264 => Ok(Box::new(X264Encoder::spawn_threaded(
                out,
                width,
                height,
                fps,
                preset,
                quality_to_crf(quality),
                threads,
            )?)),
            EncoderKind::Nvenc => {
                let status = nvenc_status();
                if !status.usable {
                    return Err(MediaError::EncoderUnavailable {
                        encoder: self.name(),
                        reason: status.reason,
                    });
                }
                spawn_nvenc(out, width, height, fps, preset, quality_to_cq(quality))
            }
        }
    }
}

#[cfg(feature = "nvenc")]
fn spawn_nvenc(
    out: &Path,
    width: u32,
    height: u32,
    fps: FrameRate,
    preset: &str,
    cq: u8,
) -> Result<Box<dyn Encoder + Send>, MediaError> {
    let encoder = super::nvenc::NvencEncoder::spawn(out, width, height, fps, preset, cq)?;
    Ok(Box::new(encoder))
}

/// Not reached (`nvenc_status` is never usable without the feature), but
/// typed all the same.
#[cfg(not(feature = "nvenc"))]
fn spawn_nvenc(
    _out: &Path,
    _width: u32,
    _height: u32,
    _fps: FrameRate,
    _preset: &str,
    _cq: u8,
) -> Result<Box<dyn Encoder + Send>, MediaError> {
    Err(MediaError::EncoderUnavailable {
        encoder: EncoderKind::Nvenc.name(),
        reason: "built without the `nvenc` feature".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use motionrender_config::EncoderChoice;

    use super::super::frame_layout::Yuv420pLayout;
    use super::super::frame_rate::FrameRate;
    use super::super::nvenc_status::nvenc_status;
    use super::super::probe::probe;
    use super::{select_encoder, EncoderKind};

    const PAL: FrameRate = FrameRate { num: 25, den: 1 };

    /// Frame `index` of a moving pattern: a luma gradient shifted by the
    /// index, and chroma that changes with it, so no two frames are equal.
    fn pattern(layout: &Yuv420pLayout, index: usize) -> Vec<u8> {
        let mut frame = Vec::with_capacity(layout.frame_len());
        for y in 0..layout.height {
            for x in 0..layout.width {
                frame.push(((x + 2 * y + 4 * index) % 220 + 16) as u8);
            }
        }
        let chroma = layout.chroma_len();
        frame.extend(std::iter::repeat_n((64 + 8 * index % 128) as u8, chroma));
        frame.extend(std::iter::repeat_n((192 - 8 * index % 128) as u8, chroma));
        frame
    }

    #[test]
    fn configured_x264_is_always_x264() {
        let selection = select_encoder(EncoderChoice::X264).unwrap();
        assert_eq!(selection.kind, EncoderKind::X264);
        assert_eq!(selection.reason, "x264: chosen by configuration");
    }

    #[test]
    fn auto_takes_nvenc_only_when_usable_and_says_why_not() {
        let status = nvenc_status();
        let selection = select_encoder(EncoderChoice::Auto).unwrap();
        if status.usable {
            assert_eq!(selection.kind, EncoderKind::Nvenc);
        } else {
            assert_eq!(selection.kind, EncoderKind::X264);
            assert!(selection.reason.starts_with("x264: NVENC not usable: "));
            assert!(
                selection.reason.ends_with(&status.reason),
                "{selection:?} vs {status:?}"
            );
        }
    }

    #[test]
    fn configured_nvenc_without_nvenc_is_encoder_unavailable() {
        let status = nvenc_status();
        match select_encoder(EncoderChoice::Nvenc) {
            Ok(selection) => {
                assert!(status.usable, "chose {selection:?} though {status:?}");
                assert_eq!(selection.kind, EncoderKind::Nvenc);
            }
            Err(error) => {
                assert!(!status.usable);
                assert_eq!(error.code(), "ENCODER_UNAVAILABLE");
                let message = error.to_string();
                assert!(message.contains(&status.reason), "{message}");
                assert!(
                    message.starts_with("nvenc encoder unavailable: "),
                    "{message}"
                );
            }
        }
    }

    #[test]
    fn spawning_unusable_nvenc_is_refused_before_any_child_starts() {
        let status = nvenc_status();
        if status.usable {
            return; // the encode itself is tested by the selection below
        }
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("nvenc.mp4");
        let error = EncoderKind::Nvenc
            .spawn(&out, 64, 48, PAL, "veryfast", 90)
            .err()
            .unwrap();
        assert_eq!(error.code(), "ENCODER_UNAVAILABLE");
        assert!(!out.exists());
    }

    /// Encodes with whatever `Auto` selects on this machine (x264 here), and
    /// with x264 explicitly, and reads both files back.
    #[test]
    fn selected_encoders_write_every_frame_of_a_pattern() {
        let mut kinds = vec![EncoderKind::X264];
        let auto = select_encoder(EncoderChoice::Auto).unwrap().kind;
        if auto != EncoderKind::X264 {
            kinds.push(auto);
        }
        for kind in kinds {
            let (width, height, frames) = (96, 64, 12);
            let layout = Yuv420pLayout::new(width, height);
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join(format!("{}.mp4", kind.name()));
            let mut encoder = kind
                .spawn(&out, width, height, PAL, "veryfast", 80)
                .unwrap();
            assert_eq!(encoder.name(), kind.name());
            for index in 0..frames {
                encoder.write_frame(&pattern(&layout, index)).unwrap();
            }
            let segment = encoder.finish().unwrap();
            assert_eq!(segment.path, out);
            assert_eq!(segment.frames, frames as u64);
            assert_eq!(segment.encoder, kind.name());

            let info = probe(&out).unwrap();
            assert_eq!((info.width, info.height), (width, height));
            assert_eq!(info.frame_rate, PAL);
            assert_eq!(info.frame_count, frames as u64, "{kind:?}");
            assert_eq!(info.video_codec, "h264");
            assert_eq!(info.pixel_format, "yuv420p");
        }
    }

    #[test]
    fn a_wrong_frame_size_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut encoder = EncoderKind::X264
            .spawn(&dir.path().join("x.mp4"), 64, 48, PAL, "ultrafast", 50)
            .unwrap();
        let error = encoder.write_frame(&[0u8; 10]).unwrap_err();
        assert_eq!(error.code(), "INVALID_ARGUMENT");
    }
}
