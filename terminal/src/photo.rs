//! The holder's photo, drawn with half blocks: each cell shows two pixels,
//! the upper as the foreground of `▀` and the lower as its background.

use base64::Engine;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;
use zeroize::Zeroize;

/// A decoded photo as RGB triples, wiped when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Pixels {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl std::fmt::Debug for Pixels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pixels({}x{})", self.width, self.height)
    }
}

impl Drop for Pixels {
    fn drop(&mut self) {
        self.rgb.zeroize();
    }
}

impl Pixels {
    /// Decodes a base64 PNG; `None` for anything else or anything broken.
    pub fn from_base64_png(data: &str) -> Option<Pixels> {
        let mut bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .ok()?;
        let decoded = okaz_protocol::photo::decode_png_rgb(&bytes)
            .map(|(width, height, rgb)| Pixels { width, height, rgb });
        bytes.zeroize();
        decoded
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    fn at(&self, x: u32, y: u32) -> Color {
        let i = ((y * self.width + x) * 3) as usize;
        match self.rgb.get(i..i + 3) {
            Some(p) => Color::Rgb(p[0], p[1], p[2]),
            None => Color::Reset,
        }
    }

    /// Draws the photo scaled to fit `area`, keeping its proportions.
    pub fn render(&self, area: Rect, buf: &mut Buffer) {
        if area.width == 0 || area.height == 0 || self.width == 0 || self.height == 0 {
            return;
        }
        let (cols, rows2) = (u32::from(area.width), u32::from(area.height) * 2);
        // Fit by whichever side is tighter, in fixed point to stay exact.
        let (out_w, out_h) = if cols * self.height <= rows2 * self.width {
            (cols, (self.height * cols / self.width).max(1))
        } else {
            ((self.width * rows2 / self.height).max(1), rows2)
        };
        let x0 = area.x + ((cols - out_w) / 2) as u16;
        let y0 = area.y + ((rows2 - out_h) / 4) as u16;
        for cy in 0..out_h.div_ceil(2) {
            for cx in 0..out_w {
                let sx = cx * self.width / out_w;
                let top = self.at(sx, (cy * 2) * self.height / out_h);
                let bottom = if cy * 2 + 1 < out_h {
                    self.at(sx, (cy * 2 + 1) * self.height / out_h)
                } else {
                    Color::Reset
                };
                let pos = (x0 + cx as u16, y0 + cy as u16);
                if let Some(cell) = buf.cell_mut(pos) {
                    cell.set_symbol("▀").set_fg(top).set_bg(bottom);
                }
            }
        }
    }
}

/// A small PNG for tests: a `w`×`h` gradient, base64 encoded.
pub fn sample_png_base64(w: u32, h: u32) -> String {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let data: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                let (x, y) = (i % w, i / w);
                [(x * 255 / w.max(1)) as u8, (y * 255 / h.max(1)) as u8, 128]
            })
            .collect();
        if let Ok(mut writer) = enc.write_header() {
            let _ = writer.write_image_data(&data);
        }
    }
    base64::engine::general_purpose::STANDARD.encode(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_fits_the_area() {
        let p = Pixels::from_base64_png(&sample_png_base64(16, 20)).unwrap();
        assert_eq!((p.width(), p.height()), (16, 20));
        let area = Rect::new(0, 0, 10, 5);
        let mut buf = Buffer::empty(area);
        p.render(area, &mut buf);
        let drawn = buf.content().iter().filter(|c| c.symbol() == "▀").count();
        assert!(drawn > 0 && drawn <= 50);
    }

    #[test]
    fn garbage_is_refused_not_a_crash() {
        assert!(Pixels::from_base64_png("not base64!").is_none());
        assert!(Pixels::from_base64_png("AAAA").is_none());
    }

    #[test]
    fn tiny_areas_do_not_panic() {
        let p = Pixels::from_base64_png(&sample_png_base64(3, 100)).unwrap();
        for (w, h) in [(0, 0), (1, 1), (1, 0), (2, 1), (40, 1)] {
            let area = Rect::new(0, 0, w, h);
            let mut buf = Buffer::empty(area);
            p.render(area, &mut buf);
        }
    }
}
