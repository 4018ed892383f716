//! The one PNG decoder for a document's photo, shared by the broker (which
//! scales a photo down to the box a terminal asked for) and the terminal
//! (which draws it): a register answer is decoded the same way on both sides.

use zeroize::Zeroize;

/// Largest photo decoded, in pixels per side: a register answer is never
/// trusted to be small.
pub const MAX_SIDE: u32 = 1024;

/// Decodes a PNG into (width, height, RGB triples); `None` for anything
/// broken, empty, palette-coded or larger than [`MAX_SIDE`] per side. The
/// caller owns the pixels and wipes them when done.
pub fn decode_png_rgb(bytes: &[u8]) -> Option<(u32, u32, Vec<u8>)> {
    let mut decoder = png::Decoder::new_with_limits(
        bytes,
        png::Limits {
            bytes: (MAX_SIDE * MAX_SIDE * 4) as usize,
        },
    );
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().ok()?;
    let (w, h) = (reader.info().width, reader.info().height);
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
        return None;
    }
    let mut raw = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut raw).ok()?;
    let channels = match info.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return None,
    };
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h as usize {
        let Some(row) = raw.get(y * info.line_size..(y + 1) * info.line_size) else {
            raw.zeroize();
            rgb.zeroize();
            return None;
        };
        for px in row.chunks_exact(channels).take(w as usize) {
            match channels {
                1 | 2 => rgb.extend_from_slice(&[px[0], px[0], px[0]]),
                // `chunks_exact` gives 3 or 4 bytes here, so the first three exist.
                _ => rgb.extend_from_slice(&px[..3]),
            }
        }
    }
    raw.zeroize();
    Some((w, h, rgb))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_of(w: u32, h: u32, color: png::ColorType, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, w, h);
            enc.set_color(color);
            enc.set_depth(png::BitDepth::Eight);
            let mut writer = enc.write_header().unwrap();
            writer.write_image_data(data).unwrap();
        }
        out
    }

    #[test]
    fn grey_and_alpha_come_out_as_rgb() {
        let grey = png_of(2, 1, png::ColorType::Grayscale, &[10, 20]);
        assert_eq!(
            decode_png_rgb(&grey),
            Some((2, 1, vec![10, 10, 10, 20, 20, 20]))
        );
        let rgba = png_of(1, 1, png::ColorType::Rgba, &[1, 2, 3, 4]);
        assert_eq!(decode_png_rgb(&rgba), Some((1, 1, vec![1, 2, 3])));
    }

    #[test]
    fn broken_and_oversized_are_refused() {
        assert_eq!(decode_png_rgb(b"not a png"), None);
        let wide = png_of(
            MAX_SIDE + 1,
            1,
            png::ColorType::Grayscale,
            &vec![0; MAX_SIDE as usize + 1],
        );
        assert_eq!(decode_png_rgb(&wide), None);
    }
}
