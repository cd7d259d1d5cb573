//! Metadata removal at the container level for the formats kept as uploaded (animations):
//! the frames are copied byte for byte, and comments, XMP, EXIF and ICC blocks are left out.
//! Both walkers are bounded by the input and return `None` on anything malformed, including a
//! file cut short.

use super::sniff::{le32, riff_chunks};

/// A container rewritten without its metadata.
#[derive(Debug)]
pub(crate) struct Stripped {
    pub bytes: Vec<u8>,
    /// Number of image frames it holds.
    pub frames: u64,
}

/// Copies a GIF keeping the header, colour tables, images, graphic control extensions,
/// plain-text extensions and the looping (NETSCAPE2.0 / ANIMEXTS1.0) application extension;
/// drops comment extensions, every other application extension (XMP, ICC) and anything
/// after the trailer. `None` if the block structure is broken or the trailer is missing.
pub(crate) fn gif(b: &[u8]) -> Option<Stripped> {
    let packed = *b.get(10)?;
    let mut pos = 13 + color_table_len(packed);
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(b.get(..pos)?);
    let mut frames = 0u64;
    loop {
        match *b.get(pos)? {
            0x2C => {
                let start = pos;
                let packed = *b.get(pos + 9)?;
                // Descriptor (10 bytes), local colour table, LZW minimum code size.
                pos += 10 + color_table_len(packed) + 1;
                pos = skip_sub_blocks(b, pos)?;
                out.extend_from_slice(b.get(start..pos)?);
                frames += 1;
            }
            0x21 => {
                let start = pos;
                let label = *b.get(pos + 1)?;
                let keep = match label {
                    0xF9 | 0x01 => true,
                    0xFF => matches!(
                        b.get(pos + 2..pos + 14),
                        Some(b"\x0bNETSCAPE2.0") | Some(b"\x0bANIMEXTS1.0")
                    ),
                    _ => false,
                };
                pos = skip_sub_blocks(b, pos + 2)?;
                if keep {
                    out.extend_from_slice(b.get(start..pos)?);
                }
            }
            0x3B => {
                out.push(0x3B);
                return Some(Stripped { bytes: out, frames });
            }
            _ => return None,
        }
    }
}

fn color_table_len(packed: u8) -> usize {
    if packed & 0x80 != 0 {
        3 << ((packed & 0x07) + 1)
    } else {
        0
    }
}

/// Position after a chain of data sub-blocks (each a length byte and that many bytes, ended by
/// a zero length).
fn skip_sub_blocks(b: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let n = usize::from(*b.get(pos)?);
        pos += 1;
        if n == 0 {
            return Some(pos);
        }
        pos += n;
        if pos > b.len() {
            return None;
        }
    }
}

/// Copies a WebP keeping only the chunks that make up the picture (VP8X, ANIM, ANMF, ALPH,
/// VP8, VP8L); drops EXIF, XMP, ICCP and unknown chunks and clears their flags in VP8X. `None`
/// if the chunks do not fill the file as its RIFF header says.
pub(crate) fn webp(b: &[u8]) -> Option<Stripped> {
    let riff_len = usize::try_from(le32(b, 4)?).ok()?;
    let declared_end = riff_len.checked_add(8)?;
    if b.len() < declared_end {
        return None;
    }
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(b"RIFF\0\0\0\0WEBP");
    let mut consumed = 12;
    let mut frames = 0u64;
    let mut has_image = false;
    for (fourcc, payload) in riff_chunks(&b[..declared_end]) {
        consumed += 8 + payload.len() + (payload.len() & 1);
        let keep = match &fourcc {
            b"ANMF" => {
                frames += 1;
                true
            }
            b"VP8 " | b"VP8L" => {
                has_image = true;
                true
            }
            b"VP8X" | b"ANIM" | b"ALPH" => true,
            _ => false,
        };
        if !keep {
            continue;
        }
        out.extend_from_slice(&fourcc);
        out.extend_from_slice(&u32::try_from(payload.len()).ok()?.to_le_bytes());
        let at = out.len();
        out.extend_from_slice(payload);
        if &fourcc == b"VP8X" {
            // Flags: ICC 0x20, EXIF 0x08, XMP 0x04.
            if let Some(flags) = out.get_mut(at) {
                *flags &= !(0x20 | 0x08 | 0x04);
            }
        }
        if payload.len() & 1 == 1 {
            out.push(0);
        }
    }
    if consumed != declared_end || (frames == 0 && !has_image) {
        return None;
    }
    let size = u32::try_from(out.len() - 8).ok()?;
    out[4..8].copy_from_slice(&size.to_le_bytes());
    Some(Stripped {
        bytes: out,
        frames: frames.max(1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::testdata::gif_with_metadata;

    #[test]
    fn gif_loses_comments_and_xmp_keeps_frames() {
        let (with, without) = gif_with_metadata();
        let s = gif(&with).unwrap();
        assert_eq!(s.bytes, without);
        assert_eq!(s.frames, 2);
        // Already clean: unchanged.
        assert_eq!(gif(&without).unwrap().bytes, without);
        // Cut anywhere: refused.
        for n in 0..without.len() {
            assert!(gif(&without[..n]).is_none(), "prefix {n}");
        }
    }

    #[test]
    fn webp_loses_exif_and_xmp() {
        let mut vp8x = vec![0x08 | 0x04 | 0x10, 0, 0, 0];
        vp8x.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        let chunk = |fourcc: &[u8; 4], payload: &[u8]| {
            let mut c = fourcc.to_vec();
            c.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            c.extend_from_slice(payload);
            if payload.len() % 2 == 1 {
                c.push(0);
            }
            c
        };
        let body = [
            chunk(b"VP8X", &vp8x),
            chunk(b"VP8L", &[0x2f, 0, 0, 0, 0]),
            chunk(b"EXIF", b"Exif\0\0secret"),
            chunk(b"XMP ", b"<x/>"),
        ]
        .concat();
        let mut file = b"RIFF".to_vec();
        file.extend_from_slice(&(body.len() as u32 + 4).to_le_bytes());
        file.extend_from_slice(b"WEBP");
        file.extend_from_slice(&body);
        let s = webp(&file).unwrap();
        assert!(!s.bytes.windows(4).any(|w| w == b"EXIF" || w == b"XMP "));
        assert_eq!(s.bytes[20], 0x10, "only the alpha flag is left");
        assert_eq!(le32(&s.bytes, 4).unwrap() as usize, s.bytes.len() - 8);
        for n in 0..file.len() {
            assert!(webp(&file[..n]).is_none(), "prefix {n}");
        }
    }
}
