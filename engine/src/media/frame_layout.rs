//! The byte layout of a planar yuv420p frame: plane sizes and offsets for any width and height.

/// Sizes of the three planes of a yuv420p frame of `width`×`height`.
///
/// Chroma planes are `ceil(width/2)`×`ceil(height/2)`, as FFmpeg lays them out
/// for odd sizes; planes follow each other with no padding (Y, then U, then V).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Yuv420pLayout {
    pub width: usize,
    pub height: usize,
    pub chroma_width: usize,
    pub chroma_height: usize,
}

impl Yuv420pLayout {
    pub fn new(width: u32, height: u32) -> Self {
        let (width, height) = (width as usize, height as usize);
        Yuv420pLayout {
            width,
            height,
            chroma_width: width.div_ceil(2),
            chroma_height: height.div_ceil(2),
        }
    }

    /// Bytes of the luma plane.
    pub fn luma_len(&self) -> usize {
        self.width * self.height
    }

    /// Bytes of one chroma plane.
    pub fn chroma_len(&self) -> usize {
        self.chroma_width * self.chroma_height
    }

    /// Bytes of a whole frame: `w*h*3/2` for even sizes.
    pub fn frame_len(&self) -> usize {
        self.luma_len() + 2 * self.chroma_len()
    }
}
