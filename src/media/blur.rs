//! Blurhash (https://blurha.sh): a ~28-character placeholder a page paints while the image
//! loads. Computed on a copy at most 32 pixels on its long side, so it costs microseconds.

use super::MediaError;

/// Components across and down; 4 × 3 suits landscape photos and is what Mastodon sends.
const COMPONENTS_X: u32 = 4;
const COMPONENTS_Y: u32 = 3;

/// The blurhash of an 8-bit RGB image (row-major, no padding).
pub(crate) fn encode_rgb(rgb: &[u8], width: u32, height: u32) -> Result<String, MediaError> {
    let pixels = usize::try_from(u64::from(width) * u64::from(height))
        .map_err(|_| MediaError::Encode("blurhash source too large".into()))?;
    if width == 0 || height == 0 || rgb.len() < pixels * 3 {
        return Err(MediaError::Encode("blurhash source has no pixels".into()));
    }
    let mut rgba = Vec::with_capacity(pixels * 4);
    for p in rgb.chunks_exact(3).take(pixels) {
        rgba.extend_from_slice(&[p[0], p[1], p[2], 255]);
    }
    blurhash::encode(COMPONENTS_X, COMPONENTS_Y, width, height, &rgba)
        .map_err(|e| MediaError::Encode(format!("blurhash: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_by_three_hash_has_28_characters() {
        let (w, h) = (32u32, 24u32);
        let mut rgb = Vec::new();
        for y in 0..h {
            for x in 0..w {
                rgb.extend_from_slice(&[(x * 8) as u8, (y * 10) as u8, 128]);
            }
        }
        let hash = encode_rgb(&rgb, w, h).unwrap();
        assert_eq!(hash.len(), 28);
        // The first character encodes the component counts: (4 - 1) + (3 - 1) × 9 = 21 → 'L'.
        assert!(hash.starts_with('L'), "{hash}");
        // Decoding it gives back roughly the average colour.
        let avg = blurhash::decode(&hash, 1, 1, 1.0).unwrap();
        assert!((i32::from(avg[2]) - 128).abs() < 16, "{avg:?}");
    }

    #[test]
    fn flat_white_has_the_known_dc() {
        // Worked by hand from the specification: the size flag 21 is 'L'; the DC term of an
        // all-white image is the colour 0xFFFFFF = 16777215, which in four base-83 digits is
        // 29, 28, 30, 10 = "TSUA". (Character 1, the AC maximum, depends on rounding.)
        let rgb = vec![255u8; 8 * 6 * 3];
        let hash = encode_rgb(&rgb, 8, 6).unwrap();
        assert_eq!(&hash[..1], "L", "{hash}");
        assert_eq!(&hash[2..6], "TSUA", "{hash}");
    }

    #[test]
    fn refuses_empty_input() {
        assert!(encode_rgb(&[], 0, 0).is_err());
        assert!(encode_rgb(&[1, 2], 1, 1).is_err());
    }
}
