//! The photo at the size the terminal can draw: a released photo larger
//! than the box the request named is scaled down to fit it (each pixel of
//! the answer the average of the register's pixels it covers), so a
//! handheld gets the few pixels it shows, not the register's portrait.
//! Which photos are released at all is the core's decision (`0x0` releases
//! none); this is only the size.

use base64::Engine as _;
use okaz_protocol::{Document, Photo, PhotoFit};
use zeroize::Zeroize;

/// Scales the document's photo down to fit `fit`, if one was named. A photo
/// that cannot be decoded is dropped rather than sent at a size the
/// terminal did not ask for.
pub fn fit_document(document: &mut Document, fit: Option<PhotoFit>) {
    let (Some(fit), Some(photo)) = (fit, document.photo.as_mut()) else {
        return;
    };
    match scaled(photo, fit) {
        Ok(Some(data)) => {
            photo.data.zeroize();
            photo.data = data;
            photo.media_type = "image/png".into();
        }
        Ok(None) => {}
        Err(()) => {
            photo.zeroize();
            document.photo = None;
        }
    }
}

/// Fits the photos of a check's answer: its document and its parts'.
pub fn fit_verification(v: &mut okaz_protocol::Verification, fit: Option<PhotoFit>) {
    if let Some(d) = v.document.as_mut() {
        fit_document(d, fit);
    }
    fit_parts(&mut v.parts, fit);
}

/// Fits the photos of a bundle's parts.
pub fn fit_parts(parts: &mut [okaz_protocol::PartResult], fit: Option<PhotoFit>) {
    for d in parts.iter_mut().filter_map(|p| p.document.as_mut()) {
        fit_document(d, fit);
    }
}

/// The photo scaled to fit, base64 PNG; `None` when it fits already.
fn scaled(photo: &Photo, fit: PhotoFit) -> Result<Option<String>, ()> {
    let mut bytes = base64::engine::general_purpose::STANDARD
        .decode(photo.data.trim())
        .map_err(|_| ())?;
    let decoded = okaz_protocol::photo::decode_png_rgb(&bytes);
    bytes.zeroize();
    let (w, h, mut rgb) = decoded.ok_or(())?;
    let (fw, fh) = (u32::from(fit.width), u32::from(fit.height));
    if w <= fw && h <= fh {
        rgb.zeroize();
        return Ok(None);
    }
    // The largest size of the same shape inside the box, at least 1x1.
    let (nw, nh) = if u64::from(w) * u64::from(fh) > u64::from(h) * u64::from(fw) {
        (fw, (h * fw / w).max(1))
    } else {
        ((w * fh / h).max(1), fh)
    };
    let mut out = vec![0u8; (nw * nh * 3) as usize];
    for y in 0..nh {
        let (y0, y1) = (y * h / nh, ((y + 1) * h / nh).max(y * h / nh + 1));
        for x in 0..nw {
            let (x0, x1) = (x * w / nw, ((x + 1) * w / nw).max(x * w / nw + 1));
            let mut sum = [0u32; 3];
            let mut n = 0u32;
            for sy in y0..y1.min(h) {
                for sx in x0..x1.min(w) {
                    let i = ((sy * w + sx) * 3) as usize;
                    if let Some(p) = rgb.get(i..i + 3) {
                        sum[0] += u32::from(p[0]);
                        sum[1] += u32::from(p[1]);
                        sum[2] += u32::from(p[2]);
                        n += 1;
                    }
                }
            }
            let o = ((y * nw + x) * 3) as usize;
            if let (Some(dst), true) = (out.get_mut(o..o + 3), n > 0) {
                for (d, s) in dst.iter_mut().zip(sum) {
                    *d = (s / n) as u8;
                }
            }
        }
    }
    rgb.zeroize();
    let mut png_bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png_bytes, nw, nh);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(|_| ())?;
        writer.write_image_data(&out).map_err(|_| ())?;
    }
    out.zeroize();
    let data = base64::engine::general_purpose::STANDARD.encode(&png_bytes);
    png_bytes.zeroize();
    Ok(Some(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_of(w: u32, h: u32) -> String {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, w, h);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let data: Vec<u8> = (0..w * h).flat_map(|i| [(i % 256) as u8, 7, 9]).collect();
            enc.write_header().unwrap().write_image_data(&data).unwrap();
        }
        base64::engine::general_purpose::STANDARD.encode(out)
    }

    fn size_of(data: &str) -> (u32, u32) {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap();
        let (w, h, _) = okaz_protocol::photo::decode_png_rgb(&bytes).unwrap();
        (w, h)
    }

    fn photo(w: u32, h: u32) -> Photo {
        Photo {
            media_type: "image/png".into(),
            data: png_of(w, h),
        }
    }

    #[test]
    fn a_photo_is_scaled_down_to_the_box_keeping_its_shape() {
        let fit = PhotoFit {
            width: 10,
            height: 20,
        };
        let data = scaled(&photo(24, 32), fit).unwrap().unwrap();
        // 24x32 in 10x20: the width binds, 32 * 10 / 24 = 13 rows.
        assert_eq!(size_of(&data), (10, 13));
        let tall = PhotoFit {
            width: 40,
            height: 16,
        };
        assert_eq!(
            size_of(&scaled(&photo(24, 32), tall).unwrap().unwrap()),
            (12, 16)
        );
    }

    #[test]
    fn a_photo_that_fits_is_left_alone_and_garbage_is_dropped() {
        let fit = PhotoFit {
            width: 48,
            height: 64,
        };
        assert_eq!(scaled(&photo(24, 32), fit), Ok(None));
        let broken = Photo {
            media_type: "image/png".into(),
            data: "bm90IGEgcG5n".into(),
        };
        assert_eq!(scaled(&broken, fit), Err(()));
    }
}
