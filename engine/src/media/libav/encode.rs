//! `LibavX264Encoder`: the x264 back end in-process, libavcodec's libx264
//! writing an MP4 segment through libavformat, with the settings of the
//! FFmpeg child encoder ([`crate::media::X264Encoder`]).

use std::path::{Path, PathBuf};

use ffmpeg_next::codec::{self, threading};
use ffmpeg_next::format::Pixel;
use ffmpeg_next::util::error::EAGAIN;
use ffmpeg_next::util::frame::Video;
use ffmpeg_next::{Dictionary, Error, Packet, Rational};

use super::planes::unpack;
use super::{codec_error, init};
use crate::media::encoder_pipe::check_frame_len;
use crate::media::x264::{check_settings, keyframe_interval};
use crate::media::{EncodedSegment, Encoder, FrameRate, MediaError, Yuv420pLayout};

/// An x264 encode of one segment into `path`, in the calling thread (x264
/// runs its own worker threads). Segments start with an IDR frame and use
/// closed GOPs two seconds long, so the merger joins them with `-c copy`.
/// Dropping it without [`Encoder::finish`] abandons the file (the caller
/// owns the path).
pub struct LibavX264Encoder {
    output: ffmpeg_next::format::context::Output,
    encoder: codec::encoder::Video,
    picture: Video,
    layout: Yuv420pLayout,
    /// One tick per frame.
    time_base: Rational,
    stream_time_base: Rational,
    frames: u64,
    path: PathBuf,
}

impl std::fmt::Debug for LibavX264Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LibavX264Encoder").field("path", &self.path).field("frames", &self.frames).finish_non_exhaustive()
    }
}

impl LibavX264Encoder {
    /// Opens an encoder writing `out_path` (an `.mp4`) at `width`×`height`
    /// and `fps`, with x264 `preset`, `crf` 0..=51 and at most `threads`
    /// threads (0: x264's own choice).
    pub fn open(out_path: &Path, width: u32, height: u32, fps: FrameRate, preset: &str, crf: u8, threads: u32) -> Result<Self, MediaError> {
        check_settings(preset, crf, width, height)?;
        init()?;
        let stage = |what: &str| format!("x264 encoder of {}: {what}", out_path.display());
        let mut output = ffmpeg_next::format::output_as(&out_path, "mp4").map_err(|e| codec_error(stage("creating the file"), e))?;
        let codec = ffmpeg_next::encoder::find_by_name("libx264").ok_or_else(|| MediaError::EncoderUnavailable {
            encoder: "x264",
            reason: "this FFmpeg library has no libx264".to_owned(),
        })?;
        let global_header = output.format().flags().contains(ffmpeg_next::format::Flags::GLOBAL_HEADER);
        output.add_stream(codec).map_err(|e| codec_error(stage("adding the video stream"), e))?;
        let time_base = Rational(fps.den as i32, fps.num as i32);
        let mut settings = codec::context::Context::new_with_codec(codec)
            .encoder()
            .video()
            .map_err(|e| codec_error(stage("creating the encoder"), e))?;
        settings.set_width(width);
        settings.set_height(height);
        settings.set_format(Pixel::YUV420P);
        settings.set_time_base(time_base);
        settings.set_frame_rate(Some(Rational(fps.num as i32, fps.den as i32)));
        let keyint = keyframe_interval(fps);
        settings.set_gop(keyint as u32);
        settings.set_threading(threading::Config { kind: threading::Type::Frame, count: threads as usize, ..Default::default() });
        if global_header {
            settings.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        let mut options = Dictionary::new();
        options.set("preset", preset);
        options.set("crf", &crf.to_string());
        options.set("x264-params", &format!("keyint={keyint}:open_gop=0"));
        let encoder = settings.open_with(options).map_err(|e| codec_error(stage("opening x264"), e))?;
        let stream_time_base = {
            let mut stream = output.stream_mut(0).ok_or_else(|| MediaError::Codec {
                stage: stage("adding the video stream"),
                message: "the stream is missing".to_owned(),
            })?;
            stream.set_parameters(&encoder);
            stream.set_time_base(time_base);
            output.write_header().map_err(|e| codec_error(stage("writing the header"), e))?;
            output.stream(0).map_or(time_base, |s| s.time_base())
        };
        Ok(Self {
            output,
            encoder,
            picture: Video::new(Pixel::YUV420P, width, height),
            layout: Yuv420pLayout::new(width, height),
            time_base,
            stream_time_base,
            frames: 0,
            path: out_path.to_path_buf(),
        })
    }

    /// Writes every packet the encoder has ready.
    fn drain(&mut self) -> Result<(), MediaError> {
        let mut packet = Packet::empty();
        loop {
            match self.encoder.receive_packet(&mut packet) {
                Ok(()) => {
                    packet.set_stream(0);
                    packet.set_duration(1);
                    packet.rescale_ts(self.time_base, self.stream_time_base);
                    packet
                        .write_interleaved(&mut self.output)
                        .map_err(|e| codec_error(format!("x264 encoder of {}: writing a packet", self.path.display()), e))?;
                }
                Err(Error::Other { errno }) if errno == EAGAIN => return Ok(()),
                Err(Error::Eof) => return Ok(()),
                Err(error) => return Err(codec_error(format!("x264 encoder of {}: encoding", self.path.display()), error)),
            }
        }
    }
}

impl Encoder for LibavX264Encoder {
    fn write_frame(&mut self, yuv: &[u8]) -> Result<(), MediaError> {
        check_frame_len(yuv, self.layout.frame_len(), self.frames, &self.path)?;
        // The previous picture was consumed: the packets were drained after it.
        unpack(yuv, &self.layout, &mut self.picture);
        self.picture.set_pts(Some(self.frames as i64));
        self.encoder
            .send_frame(&self.picture)
            .map_err(|e| codec_error(format!("x264 encoder of {}: encoding frame {}", self.path.display(), self.frames), e))?;
        self.frames += 1;
        self.drain()
    }

    fn finish(mut self: Box<Self>) -> Result<EncodedSegment, MediaError> {
        self.encoder.send_eof().map_err(|e| codec_error(format!("x264 encoder of {}: flushing", self.path.display()), e))?;
        self.drain()?;
        self.output.write_trailer().map_err(|e| codec_error(format!("x264 encoder of {}: writing the trailer", self.path.display()), e))?;
        Ok(EncodedSegment { path: self.path.clone(), frames: self.frames, encoder: "x264" })
    }

    fn name(&self) -> &'static str {
        "x264"
    }
}
