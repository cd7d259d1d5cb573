//! Images derived from a processed upload: the blurhash placeholder drawn as a tiny PNG, and
//! the square avatar.

use base64::Engine as _;
use image::ImageEncoder as _;

use super::{Encoded, Kind, MediaError};

/// A PNG of at most 16 px on the long side drawn from `blurhash`, as a `data:` URL, so a page
/// can show it while the real image loads without running any script. Empty if the hash is
/// not valid.
pub fn placeholder_data_url(blurhash: &str, width: u32, height: u32) -> String {
    let (w, h) = if width >= height {
        (16, (16 * height / width.max(1)).clamp(1, 16))
    } else {
        ((16 * width / height.max(1)).clamp(1, 16), 16)
    };
    let Ok(rgba) = blurhash::decode(blurhash, w, h, 1.0) else {
        return String::new();
    };
    let mut png = Vec::new();
    if image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&rgba, w, h, image::ExtendedColorType::Rgba8)
        .is_err()
    {
        return String::new();
    }
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&png)
    )
}

/// The centre square of an already processed (oriented, metadata-free) image, scaled to
/// `side` pixels at most, as JPEG.
pub fn square(processed: &[u8], side: u32) -> Result<Encoded, MediaError> {
    let img = image::load_from_memory(processed).map_err(MediaError::corrupt)?;
    let s = img.width().min(img.height());
    let (x, y) = ((img.width() - s) / 2, (img.height() - s) / 2);
    let out_side = side.min(s).max(1);
    let square = img
        .crop_imm(x, y, s, s)
        .resize_exact(out_side, out_side, image::imageops::FilterType::Lanczos3)
        .to_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 88)
        .write_image(
            square.as_raw(),
            out_side,
            out_side,
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| MediaError::Encode(e.to_string()))?;
    Ok(Encoded::new(out, Kind::Jpeg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_is_a_small_png_data_url() {
        let url = placeholder_data_url("LEHV6nWB2yk8pyo0adR*.7kCMdnj", 400, 300);
        assert!(url.starts_with("data:image/png;base64,"), "{url}");
        assert!(url.len() < 2000);
        assert_eq!(placeholder_data_url("nonsense", 10, 10), "");
    }

    #[test]
    fn square_crops_the_centre() {
        let img = image::RgbImage::from_pixel(300, 100, image::Rgb([10, 200, 30]));
        let mut png = Vec::new();
        image::codecs::png::PngEncoder::new(&mut png)
            .write_image(img.as_raw(), 300, 100, image::ExtendedColorType::Rgb8)
            .unwrap();
        let out = square(&png, 400).unwrap();
        let back = image::load_from_memory(&out.bytes).unwrap();
        assert_eq!((back.width(), back.height()), (100, 100));
    }
}
