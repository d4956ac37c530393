//! Copies between a packed yuv420p buffer (`Yuv420pLayout`) and the three
//! strided planes of an FFmpeg picture.

use ffmpeg_next::util::frame::Video;

use crate::media::Yuv420pLayout;

/// Each plane's `(width, height)` in bytes and rows, Y then U then V.
fn plane_sizes(layout: &Yuv420pLayout) -> [(usize, usize); 3] {
    let chroma = (layout.chroma_width, layout.chroma_height);
    [(layout.width, layout.height), chroma, chroma]
}

/// The picture's pixels, packed: rows without padding, planes one after another.
pub(super) fn pack(picture: &Video, layout: &Yuv420pLayout) -> Vec<u8> {
    let mut packed = Vec::with_capacity(layout.frame_len());
    for (plane, (width, rows)) in plane_sizes(layout).into_iter().enumerate() {
        let stride = picture.stride(plane);
        let data = picture.data(plane);
        for row in 0..rows {
            packed.extend_from_slice(&data[row * stride..row * stride + width]);
        }
    }
    packed
}

/// Writes packed `yuv` (exactly `layout.frame_len()` bytes) into the picture's planes.
pub(super) fn unpack(yuv: &[u8], layout: &Yuv420pLayout, picture: &mut Video) {
    let mut offset = 0;
    for (plane, (width, rows)) in plane_sizes(layout).into_iter().enumerate() {
        let stride = picture.stride(plane);
        let data = picture.data_mut(plane);
        for row in 0..rows {
            data[row * stride..row * stride + width].copy_from_slice(&yuv[offset..offset + width]);
            offset += width;
        }
    }
}

#[cfg(test)]
mod tests {
    use ffmpeg_next::format::Pixel;

    use super::*;

    #[test]
    fn packing_undoes_unpacking_for_odd_sizes() {
        super::super::init().unwrap_or_else(|e| panic!("{e}"));
        for (width, height) in [(64, 48), (33, 17), (1, 1)] {
            let layout = Yuv420pLayout::new(width, height);
            let yuv: Vec<u8> = (0..layout.frame_len()).map(|i| (i * 7 % 251) as u8).collect();
            let mut picture = Video::new(Pixel::YUV420P, width, height);
            unpack(&yuv, &layout, &mut picture);
            assert_eq!(pack(&picture, &layout), yuv, "{width}x{height}");
        }
    }
}
