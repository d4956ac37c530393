//! One yuv420p frame (planar Y, U, V, as the engine's compositor writes them)
//! laid into an NVENC input buffer: NV12 (Y, then U and V interleaved) with
//! every row starting at a multiple of the buffer's pitch, which is wider than
//! the picture. Rows are copied one by one; the padding past each row is left
//! as it was.

/// The size of a picture and the pitch of the buffer it goes into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PictureLayout {
    width: usize,
    height: usize,
    pitch: usize,
}

/// A frame or buffer of the wrong size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PictureError {
    #[error("a {width}x{height} picture does not fit rows of {pitch} bytes (4:2:0 needs an even size)")]
    Layout { width: usize, height: usize, pitch: usize },
    #[error("{what} has {actual} bytes, expected {expected}")]
    Size { what: &'static str, actual: usize, expected: usize },
}

impl PictureLayout {
    /// A `width`×`height` picture in rows of `pitch` bytes.
    pub fn new(width: u32, height: u32, pitch: u32) -> Result<Self, PictureError> {
        let (width, height, pitch) = (width as usize, height as usize, pitch as usize);
        if width == 0 || height == 0 || width % 2 != 0 || height % 2 != 0 || pitch < width {
            return Err(PictureError::Layout { width, height, pitch });
        }
        Ok(Self { width, height, pitch })
    }

    /// The narrowest pitch for `width` that is a multiple of `alignment`.
    pub fn aligned_pitch(width: u32, alignment: u32) -> u32 {
        let alignment = alignment.max(1);
        width.div_ceil(alignment) * alignment
    }

    pub fn pitch(&self) -> usize {
        self.pitch
    }

    /// Bytes of one yuv420p frame from the engine.
    pub fn frame_len(&self) -> usize {
        self.width * self.height * 3 / 2
    }

    /// Bytes of the NV12 buffer at the pitch: `height` luma rows and
    /// `height / 2` interleaved chroma rows.
    pub fn buffer_len(&self) -> usize {
        self.pitch * self.height * 3 / 2
    }

    /// Copies the yuv420p `frame` into the NV12 `buffer`, row by row at the pitch.
    pub fn copy_into(&self, frame: &[u8], buffer: &mut [u8]) -> Result<(), PictureError> {
        if frame.len() != self.frame_len() {
            return Err(PictureError::Size { what: "the frame", actual: frame.len(), expected: self.frame_len() });
        }
        if buffer.len() < self.buffer_len() {
            return Err(PictureError::Size { what: "the input buffer", actual: buffer.len(), expected: self.buffer_len() });
        }
        let (w, h, pitch) = (self.width, self.height, self.pitch);
        let (luma, chroma) = frame.split_at(w * h);
        let (u, v) = chroma.split_at(w * h / 4);
        for (row, dst) in luma.chunks_exact(w).zip(buffer.chunks_mut(pitch)) {
            dst[..w].copy_from_slice(row);
        }
        let chroma_rows = buffer[pitch * h..].chunks_mut(pitch);
        for ((u_row, v_row), dst) in u.chunks_exact(w / 2).zip(v.chunks_exact(w / 2)).zip(chroma_rows) {
            for ((pair, &cb), &cr) in dst[..w].chunks_exact_mut(2).zip(u_row).zip(v_row) {
                pair[0] = cb;
                pair[1] = cr;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn rows_land_at_the_pitch_chroma_interleaved_and_padding_untouched() {
        let layout = PictureLayout::new(4, 2, 8).unwrap();
        // Y 0..8, U 100 101, V 200 201.
        let frame: Vec<u8> = (0..8).chain([100, 101, 200, 201]).collect();
        let mut buffer = vec![0xEEu8; layout.buffer_len()];
        layout.copy_into(&frame, &mut buffer).unwrap();
        assert_eq!(buffer.len(), 24);
        assert_eq!(&buffer[0..8], &[0, 1, 2, 3, 0xEE, 0xEE, 0xEE, 0xEE]);
        assert_eq!(&buffer[8..16], &[4, 5, 6, 7, 0xEE, 0xEE, 0xEE, 0xEE]);
        assert_eq!(&buffer[16..24], &[100, 200, 101, 201, 0xEE, 0xEE, 0xEE, 0xEE]);
    }

    #[test]
    fn sizes_are_checked_and_pitches_aligned() {
        assert!(PictureLayout::new(3, 2, 8).is_err());
        assert!(PictureLayout::new(16, 2, 8).is_err(), "pitch narrower than the picture");
        assert_eq!(PictureLayout::aligned_pitch(1920, 256), 2048);
        assert_eq!(PictureLayout::aligned_pitch(1280, 256), 1280);
        let layout = PictureLayout::new(1920, 1080, 2048).unwrap();
        let mut buffer = vec![0u8; layout.buffer_len()];
        let short = vec![0u8; layout.frame_len() - 1];
        assert!(matches!(layout.copy_into(&short, &mut buffer), Err(PictureError::Size { what: "the frame", .. })));
        let frame = vec![7u8; layout.frame_len()];
        assert!(matches!(layout.copy_into(&frame, &mut buffer[..10]), Err(PictureError::Size { what: "the input buffer", .. })));
        layout.copy_into(&frame, &mut buffer).unwrap();
        // The last chroma row of the picture, at its pitch.
        let last = 2048 * 1080 + 2048 * 539;
        assert!(buffer[last..last + 1920].iter().all(|&b| b == 7));
        assert!(buffer[last + 1920..last + 2048].iter().all(|&b| b == 0));
    }
}
