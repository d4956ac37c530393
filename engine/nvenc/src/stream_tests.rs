//! The encode loop against a stand-in for the NVENC session (no device can be
//! reached here): the stand-in keeps what it was given and, like a session
//! with lookahead, may hold pictures back until more input comes.

#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;

use crate::annexb::{self, IDR_SLICE, PPS, SPS};
use crate::picture::PictureLayout;
use crate::stream::{encode, EncodeSession, PictureKind, SessionError, StreamError, Submitted};

#[derive(Debug)]
struct StandIn {
    layout: PictureLayout,
    slots: usize,
    /// Pictures held back before one completes.
    hold: usize,
    held: VecDeque<usize>,
    parameter_sets: bool,
    buffers: Vec<Vec<u8>>,
    /// Per slot: the picture it encodes, once submitted.
    encoded: Vec<Option<(u64, PictureKind)>>,
    submitted: Vec<(u64, PictureKind, usize)>,
    ended: bool,
}

impl StandIn {
    fn new(width: u32, height: u32, pitch: u32, slots: usize, hold: usize) -> Self {
        let layout = PictureLayout::new(width, height, pitch).unwrap();
        Self {
            layout,
            slots,
            hold,
            held: VecDeque::new(),
            parameter_sets: true,
            buffers: vec![vec![0; layout.buffer_len()]; slots],
            encoded: vec![None; slots],
            submitted: Vec::new(),
            ended: false,
        }
    }
}

impl EncodeSession for StandIn {
    fn slots(&self) -> usize {
        self.slots
    }

    fn layout(&self) -> PictureLayout {
        self.layout
    }

    fn upload(&mut self, slot: usize, nv12: &[u8]) -> Result<(), SessionError> {
        assert!(self.encoded[slot].is_none(), "slot {slot} overwritten before its bitstream was collected");
        self.buffers[slot].copy_from_slice(nv12);
        Ok(())
    }

    fn submit(&mut self, slot: usize, frame: u64, kind: PictureKind) -> Result<Submitted, SessionError> {
        self.submitted.push((frame, kind, slot));
        self.encoded[slot] = Some((frame, kind));
        self.held.push_back(slot);
        if self.held.len() > self.hold {
            self.held.clear();
            Ok(Submitted::Complete)
        } else {
            Ok(Submitted::NeedMoreInput)
        }
    }

    fn collect(&mut self, slot: usize, out: &mut Vec<u8>) -> Result<(), SessionError> {
        let (frame, kind) = self.encoded[slot].take().ok_or_else(|| SessionError(format!("slot {slot} has no picture")))?;
        if kind == PictureKind::Idr && self.parameter_sets {
            out.extend_from_slice(&[0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x68, 0xCE]);
        }
        let nal = if kind == PictureKind::Idr { 0x65 } else { 0x41 };
        out.extend_from_slice(&[0, 0, 0, 1, nal]);
        // No zero bytes after the slice header, so no false start codes.
        out.extend_from_slice(&[0xFF, u8::try_from(frame).unwrap() | 0x80]);
        // The luma of the picture's first pixel, to check the upload.
        out.push(self.buffers[slot][0] | 0x80);
        Ok(())
    }

    fn end_of_stream(&mut self) -> Result<(), SessionError> {
        self.ended = true;
        self.held.clear();
        Ok(())
    }
}

/// `count` yuv420p frames whose pixels all hold the frame number.
fn frames(layout: PictureLayout, count: u8) -> Vec<u8> {
    (0..count).flat_map(|i| vec![i; layout.frame_len()]).collect()
}

/// The (frame, first luma byte, NAL types) of each picture in the stream.
fn pictures(stream: &[u8]) -> Vec<(u64, u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let slice = (0..rest.len() - 4).find(|&i| rest[i..i + 4] == [0, 0, 0, 1] && matches!(rest[i + 4], 0x65 | 0x41)).unwrap();
        let end = slice + 8;
        let frame = u64::from(rest[slice + 6] & 0x7F);
        out.push((frame, rest[slice + 7] & 0x7F, annexb::nal_types(&rest[..end])));
        rest = &rest[end..];
    }
    out
}

#[test]
fn every_frame_comes_out_once_in_order_with_an_idr_and_parameter_sets_at_each_gop() {
    let mut session = StandIn::new(8, 4, 16, 4, 0);
    let input = frames(session.layout(), 7);
    let mut stream = Vec::new();
    let report = encode(&mut session, 3, input.as_slice(), &mut stream).unwrap();
    assert_eq!(report.frames, 7);
    assert_eq!(report.idr_pictures, 3);
    assert_eq!(report.bytes, stream.len() as u64);
    let pictures = pictures(&stream);
    assert_eq!(pictures.iter().map(|p| p.0).collect::<Vec<_>>(), (0..7).collect::<Vec<_>>());
    assert!(pictures.iter().all(|(frame, luma, _)| u64::from(*luma) == *frame), "each picture encodes its own frame");
    for (frame, _, types) in &pictures {
        if frame % 3 == 0 {
            assert_eq!(types, &vec![SPS, PPS, IDR_SLICE], "frame {frame}");
        } else {
            assert_eq!(types, &vec![1], "frame {frame}");
        }
    }
    let kinds: Vec<_> = session.submitted.iter().map(|s| s.1).collect();
    assert_eq!(kinds[0], PictureKind::Idr);
    assert!(session.ended);
}

#[test]
fn pictures_held_back_by_the_session_come_out_in_order_and_the_end_flushes_them() {
    let mut session = StandIn::new(8, 4, 16, 4, 2);
    let input = frames(session.layout(), 8);
    let mut stream = Vec::new();
    let report = encode(&mut session, 60, input.as_slice(), &mut stream).unwrap();
    assert_eq!(report.frames, 8);
    let order: Vec<u64> = pictures(&stream).iter().map(|p| p.0).collect();
    assert_eq!(order, (0..8).collect::<Vec<_>>());
    // Slots go round the ring.
    assert_eq!(session.submitted.iter().map(|s| s.2).collect::<Vec<_>>(), vec![0, 1, 2, 3, 0, 1, 2, 3]);
}

#[test]
fn uploads_are_the_frame_at_the_buffers_pitch() {
    let mut session = StandIn::new(4, 2, 8, 2, 0);
    // One frame: Y 0..8, U 100 101, V 200 201.
    let frame: Vec<u8> = (0..8).chain([100, 101, 200, 201]).collect();
    let mut stream = Vec::new();
    encode(&mut session, 1, frame.as_slice(), &mut stream).unwrap();
    assert_eq!(
        session.buffers[0],
        vec![0, 1, 2, 3, 0, 0, 0, 0, 4, 5, 6, 7, 0, 0, 0, 0, 100, 200, 101, 201, 0, 0, 0, 0]
    );
}

#[test]
fn a_session_that_never_completes_fills_the_ring_and_stops() {
    let mut session = StandIn::new(8, 4, 16, 3, 10);
    let input = frames(session.layout(), 5);
    let error = encode(&mut session, 60, input.as_slice(), Vec::new()).unwrap_err();
    assert!(matches!(error, StreamError::RingFull { frame: 3, slots: 3 }), "{error}");
}

#[test]
fn input_that_stops_inside_a_frame_is_an_error_not_a_shorter_video() {
    let mut session = StandIn::new(8, 4, 16, 4, 0);
    let mut input = frames(session.layout(), 3);
    input.truncate(input.len() - 5);
    let error = encode(&mut session, 60, input.as_slice(), Vec::new()).unwrap_err();
    assert!(matches!(error, StreamError::TruncatedFrame { frame: 2, bytes: 43, frame_len: 48 }), "{error}");
}

#[test]
fn a_first_picture_without_parameter_sets_is_refused() {
    let mut session = StandIn::new(8, 4, 16, 4, 0);
    session.parameter_sets = false;
    let input = frames(session.layout(), 2);
    let error = encode(&mut session, 60, input.as_slice(), Vec::new()).unwrap_err();
    assert!(matches!(error, StreamError::NoParameterSets), "{error}");
}

#[test]
fn no_input_is_an_empty_stream_and_the_session_is_still_flushed() {
    let mut session = StandIn::new(8, 4, 16, 4, 0);
    let mut stream = Vec::new();
    let report = encode(&mut session, 60, &[][..], &mut stream).unwrap();
    assert_eq!(report.frames, 0);
    assert!(stream.is_empty());
    assert!(session.ended);
}
