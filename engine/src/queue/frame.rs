//! One rasterized overlay frame as it travels from a rasterizer to the compositor.

use bytes::Bytes;

pub use crate::media::BoundingBox;

/// The overlay of one video frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlayFrame {
    /// Frame number in the segment or job the producer renders.
    pub index: u64,
    /// Premultiplied RGBA pixels of `bbox`, row by row; `None` is an empty
    /// overlay (nothing on screen), which costs no queue bytes.
    pub image: Option<Bytes>,
    /// Where `image` goes on the output frame.
    pub bbox: Option<BoundingBox>,
    /// The rasterizer saw no change and reused its previous capture.
    pub reused: bool,
}

impl OverlayFrame {
    /// An empty overlay for frame `index`.
    pub fn empty(index: u64) -> Self {
        Self {
            index,
            image: None,
            bbox: None,
            reused: false,
        }
    }

    /// Bytes this frame holds, the amount it counts against the queue's byte budget.
    pub fn bytes(&self) -> u64 {
        self.image.as_ref().map_or(0, |image| image.len() as u64)
    }
}
