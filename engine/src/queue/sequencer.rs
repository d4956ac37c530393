//! The compositor's side of the queue: exactly one overlay per frame index,
//! with dropped frames substituted by the overlay shown last.
//!
//! Frames arrive in increasing index order (one producer per segment), with
//! gaps where the queue dropped a frame (`drop_newest`) or evicted one
//! (`drop_oldest`). [`OverlaySequencer`] turns that into one overlay for every
//! index of its range: a delivered frame as it is, a missing one as a copy of
//! the nearest earlier delivered overlay — or, before any overlay was
//! delivered, an empty one. The output therefore always has exactly the
//! source's frame count, and every substitution is counted.

use std::ops::Range;

use bytes::Bytes;

use super::frame::{BoundingBox, OverlayFrame};

/// Where a sequenced overlay came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverlayOrigin {
    /// The frame delivered for this index; `reused` as the rasterizer set it.
    Delivered { reused: bool },
    /// This index was dropped; the overlay is that of frame `from`, the
    /// nearest earlier delivered one, or empty when `from` is `None`.
    Substituted { from: Option<u64> },
}

/// The overlay to composite onto frame `index`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequencedOverlay {
    pub index: u64,
    /// Premultiplied RGBA of `bbox`; `None` is an empty overlay.
    pub image: Option<Bytes>,
    pub bbox: Option<BoundingBox>,
    pub origin: OverlayOrigin,
}

impl SequencedOverlay {
    pub fn is_substituted(&self) -> bool {
        matches!(self.origin, OverlayOrigin::Substituted { .. })
    }
}

/// Counters of a sequencer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SequencerStats {
    /// Overlays yielded, delivered plus substituted.
    pub yielded: u64,
    /// Indices whose own frame arrived.
    pub delivered: u64,
    /// Indices whose frame was missing and was substituted.
    pub substituted: u64,
    /// Of `substituted`, those substituted by an empty overlay because no
    /// overlay had been delivered yet.
    pub substituted_empty: u64,
    /// Frames ignored because their index was out of range or not after the
    /// previous one.
    pub out_of_order: u64,
    /// Most consecutive indices substituted: the longest one overlay (or
    /// nothing) stood in for missing ones.
    pub longest_substituted_run: u64,
}

/// Yields one [`SequencedOverlay`] per index of `range`, in order, pulling
/// frames from `source` (for instance [`super::FrameConsumer::frames`]).
/// Ends after the last index of the range; when `source` ends early, the
/// remaining indices are substituted.
#[derive(Debug)]
pub struct OverlaySequencer<I> {
    source: I,
    next: u64,
    end: u64,
    /// A frame pulled ahead of its turn: its index is past `next`.
    pending: Option<OverlayFrame>,
    /// The overlay shown last, for substitutions.
    last: Option<OverlayFrame>,
    source_done: bool,
    /// Consecutive indices substituted up to now.
    substituted_run: u64,
    stats: SequencerStats,
}

impl<I: Iterator<Item = OverlayFrame>> OverlaySequencer<I> {
    /// A sequencer over the frame indices `range`.
    pub fn new(source: I, range: Range<u64>) -> Self {
        Self {
            source,
            next: range.start,
            end: range.end,
            pending: None,
            last: None,
            source_done: false,
            substituted_run: 0,
            stats: SequencerStats::default(),
        }
    }

    pub fn stats(&self) -> SequencerStats {
        self.stats
    }

    /// The next frame from the source whose index is at least `self.next`
    /// and inside the range; other frames are counted and skipped.
    fn pull(&mut self) -> Option<OverlayFrame> {
        if let Some(frame) = self.pending.take() {
            return Some(frame);
        }
        while !self.source_done {
            match self.source.next() {
                Some(frame) if frame.index >= self.next && frame.index < self.end => {
                    return Some(frame)
                }
                Some(_) => self.stats.out_of_order += 1,
                None => self.source_done = true,
            }
        }
        None
    }

    fn substitute(&mut self, index: u64) -> SequencedOverlay {
        self.stats.substituted += 1;
        self.substituted_run += 1;
        self.stats.longest_substituted_run = self.stats.longest_substituted_run.max(self.substituted_run);
        match &self.last {
            Some(last) => SequencedOverlay {
                index,
                image: last.image.clone(),
                bbox: last.bbox,
                origin: OverlayOrigin::Substituted {
                    from: Some(last.index),
                },
            },
            None => {
                self.stats.substituted_empty += 1;
                SequencedOverlay {
                    index,
                    image: None,
                    bbox: None,
                    origin: OverlayOrigin::Substituted { from: None },
                }
            }
        }
    }
}

impl<I: Iterator<Item = OverlayFrame>> Iterator for OverlaySequencer<I> {
    type Item = SequencedOverlay;

    fn next(&mut self) -> Option<SequencedOverlay> {
        if self.next >= self.end {
            return None;
        }
        let index = self.next;
        let pulled = self.pull();
        self.next += 1;
        self.stats.yielded += 1;
        let overlay = match pulled {
            Some(frame) if frame.index == index => {
                self.stats.delivered += 1;
                self.substituted_run = 0;
                let overlay = SequencedOverlay {
                    index,
                    image: frame.image.clone(),
                    bbox: frame.bbox,
                    origin: OverlayOrigin::Delivered {
                        reused: frame.reused,
                    },
                };
                self.last = Some(frame);
                overlay
            }
            Some(frame) => {
                self.pending = Some(frame);
                self.substitute(index)
            }
            None => self.substitute(index),
        };
        Some(overlay)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.end.saturating_sub(self.next)).unwrap_or(usize::MAX);
        (left, Some(left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(index: u64) -> OverlayFrame {
        OverlayFrame {
            index,
            image: Some(Bytes::from(vec![index as u8; 4])),
            bbox: Some(BoundingBox { x: 0, y: 0, width: 1, height: 1 }),
            reused: false,
        }
    }

    #[test]
    fn gaps_are_filled_with_the_overlay_shown_last() {
        let frames = vec![frame(2), frame(3), frame(6)];
        let mut sequencer = OverlaySequencer::new(frames.into_iter(), 0..8);
        let out: Vec<_> = sequencer.by_ref().collect();
        assert_eq!(
            out.iter().map(|o| o.index).collect::<Vec<_>>(),
            (0..8).collect::<Vec<_>>()
        );
        let origins: Vec<_> = out.iter().map(|o| o.origin).collect();
        assert_eq!(
            origins,
            vec![
                OverlayOrigin::Substituted { from: None },
                OverlayOrigin::Substituted { from: None },
                OverlayOrigin::Delivered { reused: false },
                OverlayOrigin::Delivered { reused: false },
                OverlayOrigin::Substituted { from: Some(3) },
                OverlayOrigin::Substituted { from: Some(3) },
                OverlayOrigin::Delivered { reused: false },
                OverlayOrigin::Substituted { from: Some(6) },
            ]
        );
        assert_eq!(out[4].image, frame(3).image);
        assert_eq!(out[0].image, None);
        let stats = sequencer.stats();
        assert_eq!(
            stats,
            SequencerStats {
                yielded: 8,
                delivered: 3,
                substituted: 5,
                substituted_empty: 2,
                out_of_order: 0,
                longest_substituted_run: 2,
            }
        );
    }

    #[test]
    fn out_of_range_and_repeated_indices_are_skipped() {
        let frames = vec![frame(4), frame(5), frame(5), frame(4), frame(7), frame(20)];
        let mut sequencer = OverlaySequencer::new(frames.into_iter(), 5..8);
        let out: Vec<_> = sequencer.by_ref().collect();
        assert_eq!(
            out.iter().map(|o| o.index).collect::<Vec<_>>(),
            vec![5, 6, 7]
        );
        assert_eq!(out[1].origin, OverlayOrigin::Substituted { from: Some(5) });
        assert_eq!(sequencer.stats().out_of_order, 3);
        assert_eq!(sequencer.stats().substituted, 1);
    }

    #[test]
    fn an_empty_range_yields_nothing() {
        let mut sequencer = OverlaySequencer::new(vec![frame(0)].into_iter(), 3..3);
        assert_eq!(sequencer.next(), None);
    }
}
