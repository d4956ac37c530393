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

/// Premultiplied RGBA faded by `alpha` (0..=1): every channel scaled, as CSS
/// group opacity composites an opaque group.
pub fn fade(rgba: &[u8], alpha: f64) -> Vec<u8> {
    let factor = (alpha.clamp(0.0, 1.0) * 65536.0).round() as u32;
    rgba.iter().map(|&c| ((u32::from(c) * factor + 32768) >> 16) as u8).collect()
}

#[cfg(test)]
mod tests {
    use super::fade;

    #[test]
    fn fading_scales_every_channel_with_rounding() {
        assert_eq!(fade(&[255, 128, 1, 0], 1.0), [255, 128, 1, 0]);
        assert_eq!(fade(&[255, 128, 1, 0], 0.0), [0, 0, 0, 0]);
        assert_eq!(fade(&[255, 128, 3, 200], 0.5), [128, 64, 2, 100]);
    }
}
