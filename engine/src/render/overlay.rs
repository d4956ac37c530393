//! A captured overlay: the PNG of the page's bounding box, decoded to the
//! premultiplied RGBA the compositor blends.

use crate::media::BoundingBox;

/// Premultiplied RGBA pixels of the overlay's bounding box.
#[derive(Debug, Clone)]
pub struct OverlayImage {
    pub bbox: BoundingBox,
    pub rgba: Vec<u8>,
}

/// Decodes a capture (PNG, straight alpha) of `bbox` into premultiplied RGBA.
pub fn decode_overlay(png_bytes: &[u8], bbox: BoundingBox) -> Result<OverlayImage, String> {
    let mut decoder = png::Decoder::new(png_bytes);
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(|e| format!("capture is not a PNG: {e}"))?;
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).map_err(|e| format!("capture PNG is corrupt: {e}"))?;
    if (info.width, info.height) != (bbox.width, bbox.height) {
        return Err(format!("capture is {}x{}, the box is {}x{}", info.width, info.height, bbox.width, bbox.height));
    }
    let rgba: Vec<u8> = match info.color_type {
        png::ColorType::Rgba => pixels[..info.buffer_size()].to_vec(),
        png::ColorType::Rgb => pixels[..info.buffer_size()].chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect(),
        other => return Err(format!("capture has colour type {other:?}, expected RGBA")),
    };
    let mut rgba = rgba;
    for pixel in rgba.chunks_exact_mut(4) {
        let alpha = u16::from(pixel[3]);
        for channel in &mut pixel[..3] {
            *channel = ((u16::from(*channel) * alpha + 127) / 255) as u8;
        }
    }
    Ok(OverlayImage { bbox, rgba })
}
