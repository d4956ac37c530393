//! `LibavDecoder`: one segment of a source decoded in-process, on its own
//! thread, into the same bounded channel of packed yuv420p frames the FFmpeg
//! child decoder fills.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use bytes::Bytes;
use crossbeam_channel::{bounded, Receiver, Sender};
use ffmpeg_next::codec::threading;
use ffmpeg_next::format::Pixel;
use ffmpeg_next::media::Type;
use ffmpeg_next::util::error::EAGAIN;
use ffmpeg_next::util::frame::Video;
use ffmpeg_next::{Error, Packet, Rational};

use super::planes::pack;
use super::{codec_error, init};
use crate::media::{DecodedFrame, DecodedItem, MediaError, MediaInfo, VideoFormat, Yuv420pLayout};

/// Failed reads in a row after which the input counts as ended.
const READ_FAILURES_AT_MOST: u32 = 64;

/// A running in-process decode of source frames `first_frame .. first_frame + frame_count`.
///
/// The frames, their order and the seek are those of the child decoder
/// ([`crate::media::Decoder`]): FFmpeg's own rule for `-ss` (seek to the
/// keyframe at or before the time, then drop frames before it, the time
/// counted from the file's start), no frame duplicated or dropped. Damaged
/// bytes are skipped as the FFmpeg command line skips them; a segment that
/// comes out short because of them ends with [`MediaError::DamagedVideo`],
/// one short for no such reason with [`MediaError::ShortOutput`]. Dropping
/// the decoder stops its thread and waits for it.
#[derive(Debug)]
pub struct LibavDecoder {
    frames: Receiver<DecodedItem>,
    stop: Arc<AtomicBool>,
    /// Frames decoded before the first one asked for.
    skipped: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl LibavDecoder {
    /// Opens `path` for frames `first_frame ..` in `format`, holding at most
    /// `channel_capacity` decoded frames ahead; `threads` caps the decoding
    /// threads (0: FFmpeg's choice). `Ok(None)` when this source needs what
    /// only the child decoder does: scaling or rate conversion to `format`,
    /// turning a rotated picture upright, or converting a pixel format other
    /// than yuv420p.
    pub fn open(
        path: &Path,
        info: &MediaInfo,
        format: VideoFormat,
        first_frame: u64,
        frame_count: u64,
        channel_capacity: usize,
        threads: u32,
    ) -> Result<Option<Self>, MediaError> {
        if frame_count == 0 {
            return Err(MediaError::InvalidArgument(format!("decoder of {} asked for zero frames", path.display())));
        }
        if format != VideoFormat::of(info) || info.rotation != 0 {
            return Ok(None);
        }
        init()?;
        let damaged = |error: Error| MediaError::DamagedVideo { path: path.to_path_buf(), reason: error.to_string() };
        let input = ffmpeg_next::format::input(&path).map_err(damaged)?;
        let Some(stream) = input.streams().find(|s| s.parameters().medium() == Type::Video) else {
            return Err(MediaError::NoVideoStream { path: path.to_path_buf() });
        };
        let (stream_index, time_base) = (stream.index(), stream.time_base());
        let mut context = ffmpeg_next::codec::Context::from_parameters(stream.parameters())
            .map_err(|e| codec_error("reading the video stream's parameters", e))?;
        context.set_threading(threading::Config { kind: threading::Type::Frame, count: threads as usize, ..Default::default() });
        let decoder = context.decoder().video().map_err(|e| codec_error("opening the video decoder", e))?;
        if decoder.format() != Pixel::YUV420P || (decoder.width(), decoder.height()) != (format.width, format.height) {
            return Ok(None);
        }
        // `-ss` counts from the file's start: the earliest audio or video start.
        let file_start = input
            .streams()
            .filter(|s| matches!(s.parameters().medium(), Type::Video | Type::Audio))
            .filter(|s| s.start_time() != ffmpeg_next::ffi::AV_NOPTS_VALUE)
            .map(|s| rescale(s.start_time(), s.time_base(), MICROSECONDS))
            .min()
            .unwrap_or(0);
        let seek_to = (first_frame > 0).then(|| {
            let start = format.frame_rate.frame_time(first_frame) - format.frame_rate.frame_duration() / 2.0;
            file_start + (start * 1e6).round() as i64
        });
        // The keyframe to seek to: where the container seeks by display time
        // (MP4, MOV), the last one before the first frame's successor, so a
        // segment starting on a keyframe decodes from it (the frames before
        // the first are dropped all the same); elsewhere the last one
        // before the first frame, as `-ss` finds it.
        // (FFmpeg's MOV demuxer, the one that seeks by display time, is named "mov,mp4,m4a,...".)
        let by_display_time = input.format().name().split(',').any(|name| name == "mov");
        let past_first = if by_display_time { (format.frame_rate.frame_duration() * 0.75 * 1e6).round() as i64 } else { 0 };
        let seek_target = seek_to.map(|at| at + past_first);
        let (sender, frames) = bounded(channel_capacity.max(1));
        let stop = Arc::new(AtomicBool::new(false));
        let skipped = Arc::new(AtomicU64::new(0));
        let run = Run {
            source: path.to_path_buf(),
            input,
            decoder,
            stream_index,
            time_base,
            seek_to,
            seek_target,
            skipped: Arc::clone(&skipped),
            layout: Yuv420pLayout::new(format.width, format.height),
            first_frame,
            frame_count,
            sender,
            stop: Arc::clone(&stop),
        };
        let thread = thread::Builder::new()
            .name("libav-decoder".to_owned())
            .spawn(move || run.run())
            .map_err(|source| MediaError::Spawn { process: format!("decoder thread of {}", path.display()), source })?;
        Ok(Some(Self { frames, stop, skipped, thread: Some(thread) }))
    }

    /// The channel of decoded frames.
    pub fn frames(&self) -> &Receiver<DecodedItem> {
        &self.frames
    }

    /// Frames decoded so far that come before the first one asked for
    /// (from the keyframe the seek landed on), and were dropped.
    pub fn frames_skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }
}

impl Iterator for LibavDecoder {
    type Item = DecodedItem;

    /// Blocks for the next frame; `None` once the segment is complete.
    fn next(&mut self) -> Option<DecodedItem> {
        self.frames.recv().ok()
    }
}

impl Drop for LibavDecoder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Without a receiver the thread's next send fails, so it ends even
        // when it is blocked waiting for room.
        drop(std::mem::replace(&mut self.frames, crossbeam_channel::never()));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Microseconds, FFmpeg's `AV_TIME_BASE`.
const MICROSECONDS: Rational = Rational(1, 1_000_000);

/// `value` in time base `from`, in time base `to`, rounded to nearest.
fn rescale(value: i64, from: Rational, to: Rational) -> i64 {
    let numerator = i128::from(value) * i128::from(from.0) * i128::from(to.1);
    let denominator = i128::from(from.1) * i128::from(to.0);
    if denominator == 0 {
        return value;
    }
    let half = denominator.abs() / 2;
    let rounded = if (numerator >= 0) == (denominator > 0) { (numerator.abs() + half) / denominator.abs() } else { -((numerator.abs() + half) / denominator.abs()) };
    rounded.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// The decoding thread's state.
struct Run {
    source: PathBuf,
    input: ffmpeg_next::format::context::Input,
    decoder: ffmpeg_next::decoder::Video,
    stream_index: usize,
    time_base: Rational,
    /// Where `-ss` would seek, in microseconds of the file's clock: frames
    /// before it are dropped.
    seek_to: Option<i64>,
    /// The time the seek finds the last keyframe at or before.
    seek_target: Option<i64>,
    skipped: Arc<AtomicU64>,
    layout: Yuv420pLayout,
    first_frame: u64,
    frame_count: u64,
    sender: Sender<DecodedItem>,
    stop: Arc<AtomicBool>,
}

/// How a decode ended early.
enum Ended {
    /// The consumer went away or the decoder was dropped.
    Stopped,
    Failed(MediaError),
}

impl Run {
    fn run(mut self) {
        if let Err(Ended::Failed(error)) = self.decode() {
            let _ = self.sender.send(Err(error));
        }
    }

    fn decode(&mut self) -> Result<(), Ended> {
        // The first frame kept: at or after the seek time, in the stream's time base.
        let first_kept = self.seek_to.zip(self.seek_target).map(|(at, target)| {
            // A failed seek decodes from the start; the frames before are dropped all the same.
            let _ = self.input.seek(target, ..target);
            rescale(at, MICROSECONDS, self.time_base)
        });
        let mut damage: Option<String> = None;
        let (mut sent, mut read_failures, mut ended) = (0u64, 0u32, false);
        let mut picture = Video::empty();
        while !ended {
            if self.stop.load(Ordering::Relaxed) {
                return Err(Ended::Stopped);
            }
            // A packet per read: `av_read_frame` does not release the packet
            // it fills, so reusing one kept every packet's bytes (about the
            // segment's compressed size, per segment, for the process's life).
            let mut packet = Packet::empty();
            match packet.read(&mut self.input) {
                Ok(()) => {
                    read_failures = 0;
                    if packet.stream() != self.stream_index {
                        continue;
                    }
                    if let Err(error) = self.decoder.send_packet(&packet) {
                        damage.get_or_insert_with(|| format!("error while decoding: {error}"));
                        continue;
                    }
                }
                Err(Error::Eof) => ended = true,
                Err(error) => {
                    read_failures += 1;
                    damage.get_or_insert_with(|| format!("error reading the input: {error}"));
                    ended = read_failures >= READ_FAILURES_AT_MOST;
                    if !ended {
                        continue;
                    }
                }
            }
            if ended {
                let _ = self.decoder.send_eof();
            }
            loop {
                match self.decoder.receive_frame(&mut picture) {
                    Ok(()) => {}
                    Err(Error::Other { errno }) if errno == EAGAIN => break,
                    Err(Error::Eof) => break,
                    Err(error) => {
                        damage.get_or_insert_with(|| format!("error while decoding: {error}"));
                        break;
                    }
                }
                if first_kept.is_some_and(|first| picture.timestamp().is_some_and(|t| t < first)) {
                    self.skipped.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                if picture.format() != Pixel::YUV420P || picture.width() as usize != self.layout.width || picture.height() as usize != self.layout.height {
                    return Err(Ended::Failed(MediaError::DamagedVideo {
                        path: self.source.clone(),
                        reason: format!("the picture changed to {}x{} {:?} mid-stream", picture.width(), picture.height(), picture.format()),
                    }));
                }
                let frame = DecodedFrame { index: self.first_frame + sent, data: Bytes::from(pack(&picture, &self.layout)) };
                if self.sender.send(Ok(frame)).is_err() {
                    return Err(Ended::Stopped);
                }
                sent += 1;
                if sent == self.frame_count {
                    return Ok(());
                }
            }
        }
        Err(Ended::Failed(match damage {
            Some(reason) => MediaError::DamagedVideo { path: self.source.clone(), reason },
            None => MediaError::ShortOutput {
                process: format!("decoder of {} frames {}..{}", self.source.display(), self.first_frame, self.first_frame + self.frame_count),
                got: sent,
                expected: self.frame_count,
                stderr: String::new(),
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rescaling_rounds_to_nearest() {
        assert_eq!(rescale(1_500_000, MICROSECONDS, Rational(1, 25)), 38);
        assert_eq!(rescale(1, Rational(1, 3), MICROSECONDS), 333_333);
        assert_eq!(rescale(-1, Rational(2, 3), MICROSECONDS), -666_667);
        assert_eq!(rescale(7, Rational(1, 0), MICROSECONDS), 7);
    }
}
