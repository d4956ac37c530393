//! `composite`: blends a premultiplied RGBA overlay into a yuv420p frame, only inside the overlay's bounding box.
//!
//! Colour: the overlay's sRGB-encoded values are converted with the BT.709
//! matrix to limited ("TV") range, Y in 16..=235 and Cb/Cr in 16..=240. One
//! matrix is used for every size; SD sources tagged BT.601 get slightly shifted
//! overlay hues (the source picture itself is never converted).
//!
//! Blend: `dst = src * (1 - a) + overlay`, with the overlay premultiplied, so
//! an overlay pixel contributes `a * offset + matrix * rgb_premultiplied`
//! (offset 16 for Y, 128 for Cb/Cr) and no division by alpha is needed.
//!
//! Chroma rule: a chroma sample stands for the 2×2 luma pixels above it (fewer
//! at an odd frame edge). It is touched only if at least one of those pixels is
//! inside the box, and then it is blended with the *sum* of the covered pixels'
//! alpha and colour divided by the number of pixels it stands for: uncovered
//! pixels count as fully transparent. So a box with an odd edge blends the
//! shared chroma sample by the covered fraction, and every luma pixel outside
//! the box, and every chroma sample with no covered pixel, keeps its bytes.

use super::error::MediaError;
use super::frame_layout::Yuv420pLayout;

/// A rectangle of the frame, in pixels; the overlay holds exactly its pixels.
/// The page reports it as `{x, y, w, h}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub struct BoundingBox {
    pub x: u32,
    pub y: u32,
    #[serde(rename = "w")]
    pub width: u32,
    #[serde(rename = "h")]
    pub height: u32,
}

impl BoundingBox {
    /// Whether the pixel at (`px`, `py`) lies inside the box.
    pub fn contains(&self, px: u32, py: u32) -> bool {
        px >= self.x && py >= self.y && px < self.x + self.width && py < self.y + self.height
    }
}

// BT.709 limited range, per 8-bit full-range RGB unit.
const Y_SCALE: f32 = 219.0 / 255.0;
const C_SCALE: f32 = 224.0 / 255.0;
const KR: f32 = 0.2126;
const KG: f32 = 0.7152;
const KB: f32 = 0.0722;

/// One overlay pixel's premultiplied contribution to Y, Cb and Cr, and its alpha (0..=1).
#[derive(Default, Clone, Copy)]
struct Contribution {
    y: f32,
    cb: f32,
    cr: f32,
    alpha: f32,
}

fn contribution(pixel: &[u8]) -> Contribution {
    let (r, g, b, a) = (
        f32::from(pixel[0]),
        f32::from(pixel[1]),
        f32::from(pixel[2]),
        f32::from(pixel[3]),
    );
    let alpha = a / 255.0;
    Contribution {
        y: 16.0 * alpha + Y_SCALE * (KR * r + KG * g + KB * b),
        cb: 128.0 * alpha + C_SCALE * (b - (KR * r + KG * g + KB * b)) / (2.0 * (1.0 - KB)),
        cr: 128.0 * alpha + C_SCALE * (r - (KR * r + KG * g + KB * b)) / (2.0 * (1.0 - KR)),
        alpha,
    }
}

fn blend(src: u8, alpha: f32, add: f32) -> u8 {
    (f32::from(src) * (1.0 - alpha) + add)
        .round()
        .clamp(0.0, 255.0) as u8
}

/// Blends `overlay` (premultiplied RGBA, `bbox.width * bbox.height * 4` bytes,
/// rows packed) into `frame` (yuv420p, `width`×`height`) at `bbox`.
///
/// Fails, touching nothing, when a buffer has the wrong length or the box
/// reaches outside the frame.
pub fn composite(
    frame: &mut [u8],
    width: u32,
    height: u32,
    overlay: &[u8],
    bbox: BoundingBox,
) -> Result<(), MediaError> {
    let layout = Yuv420pLayout::new(width, height);
    if frame.len() != layout.frame_len() {
        return Err(MediaError::InvalidArgument(format!(
            "frame of {width}x{height} has {} bytes, expected {}",
            frame.len(),
            layout.frame_len()
        )));
    }
    let (bx, by, bw, bh) = (
        bbox.x as usize,
        bbox.y as usize,
        bbox.width as usize,
        bbox.height as usize,
    );
    if bx + bw > layout.width || by + bh > layout.height {
        return Err(MediaError::InvalidArgument(format!(
            "overlay box {bbox:?} reaches outside the {width}x{height} frame"
        )));
    }
    if overlay.len() != bw * bh * 4 {
        return Err(MediaError::InvalidArgument(format!(
            "overlay for box {bbox:?} has {} bytes, expected {}",
            overlay.len(),
            bw * bh * 4
        )));
    }
    if bw == 0 || bh == 0 {
        return Ok(());
    }
    let overlay_pixel = |x: usize, y: usize| {
        let at = ((y - by) * bw + (x - bx)) * 4;
        &overlay[at..at + 4]
    };

    let (luma, chroma) = frame.split_at_mut(layout.luma_len());
    for y in by..by + bh {
        for x in bx..bx + bw {
            let pixel = overlay_pixel(x, y);
            if pixel == [0, 0, 0, 0] {
                continue;
            }
            let c = contribution(pixel);
            let at = y * layout.width + x;
            luma[at] = blend(luma[at], c.alpha, c.y);
        }
    }

    let (cb_plane, cr_plane) = chroma.split_at_mut(layout.chroma_len());
    for cy in by / 2..=(by + bh - 1) / 2 {
        for cx in bx / 2..=(bx + bw - 1) / 2 {
            let mut sum = Contribution::default();
            let mut represented = 0.0f32;
            let mut any_visible = false;
            for y in 2 * cy..(2 * cy + 2).min(layout.height) {
                for x in 2 * cx..(2 * cx + 2).min(layout.width) {
                    represented += 1.0;
                    let covered = (bx..bx + bw).contains(&x) && (by..by + bh).contains(&y);
                    if !covered {
                        continue;
                    }
                    let pixel = overlay_pixel(x, y);
                    if pixel == [0, 0, 0, 0] {
                        continue;
                    }
                    any_visible = true;
                    let c = contribution(pixel);
                    sum.y += c.y;
                    sum.cb += c.cb;
                    sum.cr += c.cr;
                    sum.alpha += c.alpha;
                }
            }
            if !any_visible {
                continue;
            }
            let alpha = sum.alpha / represented;
            let at = cy * layout.chroma_width + cx;
            cb_plane[at] = blend(cb_plane[at], alpha, sum.cb / represented);
            cr_plane[at] = blend(cr_plane[at], alpha, sum.cr / represented);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const W: u32 = 8;
    const H: u32 = 6;

    fn grey_frame() -> Vec<u8> {
        let layout = Yuv420pLayout::new(W, H);
        let mut frame = vec![16u8; layout.frame_len()];
        frame[layout.luma_len()..].fill(128);
        // Some variation so "unchanged" is a meaningful check.
        for (i, byte) in frame.iter_mut().enumerate().take(layout.luma_len()) {
            *byte = 16 + (i % 7) as u8;
        }
        frame
    }

    fn solid(bbox: BoundingBox, pixel: [u8; 4]) -> Vec<u8> {
        pixel.repeat((bbox.width * bbox.height) as usize)
    }

    #[test]
    fn outside_the_box_is_untouched_byte_for_byte() {
        let layout = Yuv420pLayout::new(W, H);
        let bbox = BoundingBox {
            x: 2,
            y: 2,
            width: 4,
            height: 2,
        };
        let before = grey_frame();
        let mut frame = before.clone();
        composite(&mut frame, W, H, &solid(bbox, [255, 255, 255, 255]), bbox).unwrap();
        for y in 0..H as usize {
            for x in 0..W as usize {
                let inside = (2..6).contains(&x) && (2..4).contains(&y);
                let at = y * layout.width + x;
                if inside {
                    assert_eq!(frame[at], 235, "inside at {x},{y}");
                } else {
                    assert_eq!(frame[at], before[at], "outside at {x},{y}");
                }
            }
        }
        // Chroma samples (1..3, 1) are covered; every other one is unchanged.
        for cy in 0..layout.chroma_height {
            for cx in 0..layout.chroma_width {
                let at = layout.luma_len() + cy * layout.chroma_width + cx;
                if cy != 1 || !(1..3).contains(&cx) {
                    assert_eq!(frame[at], before[at]);
                    assert_eq!(
                        frame[at + layout.chroma_len()],
                        before[at + layout.chroma_len()]
                    );
                }
            }
        }
    }

    #[test]
    fn opaque_white_gives_limited_range_white() {
        let layout = Yuv420pLayout::new(W, H);
        let bbox = BoundingBox {
            x: 0,
            y: 0,
            width: W,
            height: H,
        };
        let mut frame = grey_frame();
        composite(&mut frame, W, H, &solid(bbox, [255, 255, 255, 255]), bbox).unwrap();
        assert!(frame[..layout.luma_len()].iter().all(|&y| y == 235));
        assert!(frame[layout.luma_len()..].iter().all(|&c| c == 128));
    }

    #[test]
    fn opaque_red_matches_bt709() {
        let layout = Yuv420pLayout::new(W, H);
        let bbox = BoundingBox {
            x: 0,
            y: 0,
            width: W,
            height: H,
        };
        let mut frame = grey_frame();
        composite(&mut frame, W, H, &solid(bbox, [255, 0, 0, 255]), bbox).unwrap();
        // BT.709 limited-range red: Y 63, Cb 102, Cr 240.
        assert_eq!(frame[0], 63);
        assert_eq!(frame[layout.luma_len()], 102);
        assert_eq!(frame[layout.luma_len() + layout.chroma_len()], 240);
    }

    #[test]
    fn transparent_overlay_changes_nothing() {
        let bbox = BoundingBox {
            x: 1,
            y: 1,
            width: 5,
            height: 3,
        };
        let before = grey_frame();
        let mut frame = before.clone();
        composite(&mut frame, W, H, &solid(bbox, [0, 0, 0, 0]), bbox).unwrap();
        assert_eq!(frame, before);
    }

    #[test]
    fn half_alpha_white_over_black_is_midway() {
        let layout = Yuv420pLayout::new(W, H);
        let bbox = BoundingBox {
            x: 0,
            y: 0,
            width: W,
            height: H,
        };
        let mut frame = vec![16u8; layout.frame_len()];
        frame[layout.luma_len()..].fill(128);
        composite(&mut frame, W, H, &solid(bbox, [128, 128, 128, 128]), bbox).unwrap();
        let midway = (16.0 + 235.0) / 2.0;
        assert!(frame[..layout.luma_len()]
            .iter()
            .all(|&y| (f32::from(y) - midway).abs() <= 1.0));
    }

    #[test]
    fn odd_edge_blends_shared_chroma_by_covered_fraction() {
        let layout = Yuv420pLayout::new(W, H);
        // Covers luma column 3 only of the chroma pair (2,3): 2 of 4 pixels in rows 0..2.
        let bbox = BoundingBox {
            x: 3,
            y: 0,
            width: 1,
            height: 2,
        };
        let mut frame = vec![16u8; layout.frame_len()];
        frame[layout.luma_len()..].fill(128);
        composite(&mut frame, W, H, &solid(bbox, [0, 0, 255, 255]), bbox).unwrap();
        let cb_full = 240.0f32; // opaque blue
        let cb = f32::from(frame[layout.luma_len() + 1]);
        assert!(
            (cb - (128.0 + (cb_full - 128.0) / 2.0)).abs() <= 1.0,
            "cb {cb}"
        );
        assert_eq!(frame[layout.luma_len()], 128);
        assert_eq!(frame[layout.luma_len() + 2], 128);
    }

    #[test]
    fn rejects_a_box_outside_the_frame() {
        let bbox = BoundingBox {
            x: 6,
            y: 0,
            width: 4,
            height: 1,
        };
        let mut frame = grey_frame();
        let result = composite(&mut frame, W, H, &solid(bbox, [1, 1, 1, 1]), bbox);
        assert!(matches!(result, Err(MediaError::InvalidArgument(_))));
    }
}
