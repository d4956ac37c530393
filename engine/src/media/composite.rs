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
const Y_SCALE: f64 = 219.0 / 255.0;
const C_SCALE: f64 = 224.0 / 255.0;
const KR: f64 = 0.2126;
const KG: f64 = 0.7152;
const KB: f64 = 0.0722;

/// Fixed point: values are carried times 2^16.
const SHIFT: u32 = 16;
const HALF: i32 = 1 << (SHIFT - 1);
/// `1 / 255` in fixed point, near enough (65536 / 255 = 257.004): the
/// source's weight `(255 - alpha) / 255` is `(255 - alpha) * 257 >> 16`.
const PER_255: i32 = 257;

/// How one premultiplied overlay pixel `(r, g, b, a)` adds to a plane:
/// `r * r + g * g + b * b + a * a`, in fixed point. The offset (16 for Y,
/// 128 for Cb/Cr) comes in through alpha, premultiplied like the colour.
#[derive(Clone, Copy)]
struct Weights {
    r: i32,
    g: i32,
    b: i32,
    a: i32,
}

impl Weights {
    fn new(r: f64, g: f64, b: f64, offset: f64) -> Self {
        let fixed = |w: f64| (w * f64::from(1 << SHIFT)).round() as i32;
        Self { r: fixed(r), g: fixed(g), b: fixed(b), a: fixed(offset / 255.0) }
    }

    #[inline]
    fn of(&self, pixel: &[u8]) -> i32 {
        self.r * i32::from(pixel[0]) + self.g * i32::from(pixel[1]) + self.b * i32::from(pixel[2]) + self.a * i32::from(pixel[3])
    }
}

/// The weights of Y, Cb and Cr: Y = 16 + Y_SCALE (KR r + KG g + KB b), and
/// Cb, Cr = 128 + C_SCALE (b or r - luma) / (2 (1 - KB or KR)).
fn bt709() -> [Weights; 3] {
    let cb = C_SCALE / (2.0 * (1.0 - KB));
    let cr = C_SCALE / (2.0 * (1.0 - KR));
    [
        Weights::new(Y_SCALE * KR, Y_SCALE * KG, Y_SCALE * KB, 16.0),
        Weights::new(-cb * KR, -cb * KG, cb * (1.0 - KB), 128.0),
        Weights::new(cr * (1.0 - KR), -cr * KG, -cr * KB, 128.0),
    ]
}

/// `src * (1 - alpha / (255 n)) + add / n`, rounded and clamped: `alpha`
/// and `add` (fixed point) summed over `n` overlay pixels.
#[inline]
fn blend(src: u8, alpha: i32, add: i32, n: i32) -> u8 {
    let kept = i32::from(src) * (255 * n - alpha) * PER_255;
    (((kept + add) / n + HALF).clamp(0, 255 << SHIFT) >> SHIFT) as u8
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
    let [luma_weights, cb_weights, cr_weights] = bt709();

    let (luma, chroma) = frame.split_at_mut(layout.luma_len());
    for y in by..by + bh {
        let row = &mut luma[y * layout.width + bx..y * layout.width + bx + bw];
        let pixels = overlay[(y - by) * bw * 4..(y - by + 1) * bw * 4].chunks_exact(4);
        for (dst, pixel) in row.iter_mut().zip(pixels) {
            if pixel == [0, 0, 0, 0] {
                continue;
            }
            *dst = blend(*dst, i32::from(pixel[3]), luma_weights.of(pixel), 1);
        }
    }

    let (cb_plane, cr_plane) = chroma.split_at_mut(layout.chroma_len());
    // Per chroma column of the box: the covered pixels' alpha, Cb and Cr
    // sums, and whether any of them is visible.
    let first_column = bx / 2;
    let mut sums = vec![(0i32, 0i32, 0i32, false); (bx + bw - 1) / 2 - first_column + 1];
    for cy in by / 2..=(by + bh - 1) / 2 {
        sums.fill((0, 0, 0, false));
        for y in (2 * cy..2 * cy + 2).filter(|y| (by..by + bh).contains(y)) {
            let pixels = overlay[(y - by) * bw * 4..(y - by + 1) * bw * 4].chunks_exact(4);
            for (x, pixel) in (bx..bx + bw).zip(pixels) {
                if pixel == [0, 0, 0, 0] {
                    continue;
                }
                let sum = &mut sums[x / 2 - first_column];
                sum.0 += i32::from(pixel[3]);
                sum.1 += cb_weights.of(pixel);
                sum.2 += cr_weights.of(pixel);
                sum.3 = true;
            }
        }
        let rows = (2 * cy + 2).min(layout.height) - 2 * cy;
        for (column, &(alpha, cb, cr, visible)) in sums.iter().enumerate() {
            if !visible {
                continue;
            }
            let cx = first_column + column;
            let represented = (rows * ((2 * cx + 2).min(layout.width) - 2 * cx)) as i32;
            let at = cy * layout.chroma_width + cx;
            cb_plane[at] = blend(cb_plane[at], alpha, cb, represented);
            cr_plane[at] = blend(cr_plane[at], alpha, cr, represented);
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
    fn fixed_point_blend_is_within_one_of_the_exact_formula() {
        // Premultiplied pixels over a spread of sources, one covered 2x2
        // block each: Y, Cb and Cr against the formula in f64.
        let mut state = 0x2545_f491_u32;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        let bbox = BoundingBox { x: 0, y: 0, width: 2, height: 2 };
        for _ in 0..20_000 {
            let a = (next() % 256) as u8;
            let channel = |v: u32| (v % (u32::from(a) + 1)) as u8;
            let pixel = [channel(next()), channel(next()), channel(next()), a];
            let (src_y, src_c) = ((next() % 256) as u8, (next() % 256) as u8);
            let mut frame = vec![src_y; 4];
            frame.extend([src_c, src_c]);
            composite(&mut frame, 2, 2, &pixel.repeat(4), bbox).unwrap();
            let [r, g, b] = [pixel[0], pixel[1], pixel[2]].map(f64::from);
            let alpha = f64::from(a) / 255.0;
            let luma = KR * r + KG * g + KB * b;
            let exact = |src: u8, offset: f64, colour: f64| (f64::from(src) * (1.0 - alpha) + offset * alpha + colour).clamp(0.0, 255.0);
            let expected = [
                exact(src_y, 16.0, Y_SCALE * luma),
                exact(src_c, 128.0, C_SCALE * (b - luma) / (2.0 * (1.0 - KB))),
                exact(src_c, 128.0, C_SCALE * (r - luma) / (2.0 * (1.0 - KR))),
            ];
            for (got, want) in [frame[0], frame[4], frame[5]].into_iter().zip(expected) {
                assert!((f64::from(got) - want).abs() <= 1.0, "pixel {pixel:?} over Y {src_y} C {src_c}: got {got}, exact {want}");
            }
        }
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
