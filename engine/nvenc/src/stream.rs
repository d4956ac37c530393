//! The encode loop: frames from the engine, pictures into the session through
//! a ring of input/output buffer pairs, bitstreams out in submission order.
//!
//! - Every `gop`-th picture, starting with the first, is an IDR picture (the
//!   session is opened without picture-type decision, so the loop decides);
//!   the first must come out with SPS and PPS in front, or the segment could
//!   not be decoded on its own after concatenation — the loop checks it.
//! - A picture the session keeps for later (`NeedMoreInput`) stays pending in
//!   its slot; the next picture that completes brings out every pending one,
//!   in order. The ring must never lap a pending slot.
//! - End of input flushes the session and brings out what is left. Input
//!   that stops inside a frame is an error, not a shorter video.

use std::collections::VecDeque;
use std::io::{self, Read, Write};

use crate::annexb;
use crate::picture::{PictureError, PictureLayout};

/// The kind of picture the loop asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PictureKind {
    Idr,
    P,
}

/// What the session did with a submitted picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitted {
    /// Its bitstream (and every pending one before it) can be collected.
    Complete,
    /// The session holds it until more input arrives.
    NeedMoreInput,
}

/// A session's own failure, in its words (the driver's status named).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SessionError(pub String);

/// One NVENC session as the loop drives it. The driver's session implements
/// it; unit tests use a stand-in.
pub trait EncodeSession {
    /// Input/output buffer pairs in the ring.
    fn slots(&self) -> usize;
    /// The picture size and input pitch of the session's buffers.
    fn layout(&self) -> PictureLayout;
    /// Fills slot `slot`'s input buffer with `nv12`, `layout().buffer_len()` bytes.
    fn upload(&mut self, slot: usize, nv12: &[u8]) -> Result<(), SessionError>;
    /// Encodes slot `slot`'s input as picture number `frame`.
    fn submit(&mut self, slot: usize, frame: u64, kind: PictureKind) -> Result<Submitted, SessionError>;
    /// Writes slot `slot`'s finished bitstream to `out`.
    fn collect(&mut self, slot: usize, out: &mut Vec<u8>) -> Result<(), SessionError>;
    /// Flushes: every pending picture becomes complete.
    fn end_of_stream(&mut self) -> Result<(), SessionError>;
}

/// Why an encode stopped.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error(transparent)]
    Picture(#[from] PictureError),
    #[error("the NVENC session failed at frame {frame}: {source}")]
    Session { frame: u64, source: SessionError },
    #[error("input ended {bytes} bytes into frame {frame} (a frame is {frame_len} bytes)")]
    TruncatedFrame { frame: u64, bytes: usize, frame_len: usize },
    #[error("the encoder still holds all {slots} buffers at frame {frame}")]
    RingFull { frame: u64, slots: usize },
    #[error("the first picture came out without SPS and PPS before its IDR slice")]
    NoParameterSets,
    #[error("reading frames: {0}")]
    Input(io::Error),
    #[error("writing the stream: {0}")]
    Output(io::Error),
}

/// What an encode did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamReport {
    pub frames: u64,
    pub idr_pictures: u64,
    pub bytes: u64,
}

/// Encodes every frame of `input` through `session` into `output`.
pub fn encode<S: EncodeSession>(session: &mut S, gop: u32, mut input: impl Read, mut output: impl Write) -> Result<StreamReport, StreamError> {
    let layout = session.layout();
    let slots = session.slots().max(1);
    let mut frame = vec![0u8; layout.frame_len()];
    let mut staging = vec![0u8; layout.buffer_len()];
    let mut pending: VecDeque<usize> = VecDeque::with_capacity(slots);
    let mut report = StreamReport::default();
    let mut bitstream = Vec::new();
    let gop = u64::from(gop.max(1));
    loop {
        let read = read_frame(&mut input, &mut frame).map_err(StreamError::Input)?;
        if read == 0 {
            break;
        }
        if read < frame.len() {
            return Err(StreamError::TruncatedFrame { frame: report.frames, bytes: read, frame_len: frame.len() });
        }
        let index = report.frames;
        let slot = (index % slots as u64) as usize;
        if pending.contains(&slot) {
            return Err(StreamError::RingFull { frame: index, slots });
        }
        let session_error = |source| StreamError::Session { frame: index, source };
        layout.copy_into(&frame, &mut staging)?;
        session.upload(slot, &staging).map_err(session_error)?;
        let kind = if index % gop == 0 { PictureKind::Idr } else { PictureKind::P };
        report.idr_pictures += u64::from(kind == PictureKind::Idr);
        let submitted = session.submit(slot, index, kind).map_err(session_error)?;
        pending.push_back(slot);
        report.frames += 1;
        if submitted == Submitted::Complete {
            drain(session, &mut pending, &mut bitstream, &mut report, &mut output, index)?;
        }
    }
    session.end_of_stream().map_err(|source| StreamError::Session { frame: report.frames, source })?;
    let last = report.frames;
    drain(session, &mut pending, &mut bitstream, &mut report, &mut output, last)?;
    output.flush().map_err(StreamError::Output)?;
    Ok(report)
}

/// Collects every pending slot in order; the very first bitstream must open the stream.
fn drain<S: EncodeSession>(
    session: &mut S,
    pending: &mut VecDeque<usize>,
    bitstream: &mut Vec<u8>,
    report: &mut StreamReport,
    output: &mut impl Write,
    frame: u64,
) -> Result<(), StreamError> {
    while let Some(slot) = pending.pop_front() {
        bitstream.clear();
        session.collect(slot, bitstream).map_err(|source| StreamError::Session { frame, source })?;
        if report.bytes == 0 && !annexb::opens_a_stream(bitstream) {
            return Err(StreamError::NoParameterSets);
        }
        output.write_all(bitstream).map_err(StreamError::Output)?;
        report.bytes += bitstream.len() as u64;
    }
    Ok(())
}

/// Reads until `frame` is full or the input ends; the bytes read.
fn read_frame(input: &mut impl Read, frame: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < frame.len() {
        match input.read(&mut frame[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
