//! Small generated portraits: a 24x32 PNG with a face, hair and background
//! colours drawn from the citizen, so each citizen's photo differs and stays the same.

use crate::rng::Rng;

const W: u32 = 24;
const H: u32 = 32;

/// The portrait PNG of (seed, index); `None` only if encoding fails.
pub fn portrait_png(seed: u64, index: u64) -> Option<Vec<u8>> {
    let mut r = Rng::new(seed, index, 2);
    let bg = [
        170 + r.below(60) as u8,
        180 + r.below(60) as u8,
        200 + r.below(55) as u8,
    ];
    let skins = [
        [241u8, 194, 167],
        [224, 172, 138],
        [198, 134, 100],
        [160, 110, 80],
    ];
    let hairs = [
        [40u8, 30, 20],
        [90, 60, 30],
        [200, 170, 100],
        [120, 120, 120],
        [150, 50, 20],
    ];
    let skin = skins[r.below(4) as usize];
    let hair = hairs[r.below(5) as usize];
    let shirt = [r.below(200) as u8, r.below(200) as u8, r.below(200) as u8];
    let mut px = Vec::with_capacity((W * H * 3) as usize);
    for y in 0..H as i32 {
        for x in 0..W as i32 {
            let (dx, dy) = (x - 12, y - 13);
            let face = dx * dx * 100 / 36 + dy * dy * 100 / 64 <= 100;
            let hair_cap = dx * dx * 100 / 49 + (dy + 3) * (dy + 3) * 100 / 64 <= 100 && y < 10;
            let eye = (y == 12) && (x == 9 || x == 15);
            let body = y >= 24 && (x - 12).abs() <= 10 - (31 - y) / 3;
            let c = if eye {
                [20, 20, 20]
            } else if hair_cap {
                hair
            } else if face {
                skin
            } else if body {
                shirt
            } else {
                bg
            };
            px.extend_from_slice(&c);
        }
    }
    let mut out = Vec::with_capacity(600);
    {
        let mut enc = png::Encoder::new(&mut out, W, H);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().ok()?;
        w.write_image_data(&px).ok()?;
        w.finish().ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portraits_are_small_pngs_that_differ() {
        let a = portrait_png(1, 1).unwrap();
        let b = portrait_png(1, 2).unwrap();
        assert!(a.starts_with(b"\x89PNG"));
        assert!(a.len() < 2000, "{}", a.len());
        assert_eq!(a, portrait_png(1, 1).unwrap());
        assert_ne!(a, b);
    }
}
