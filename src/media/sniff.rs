//! What a file is, from its first bytes, and an image's size from its header. Every read is
//! bounds-checked: any input gives an answer, never a panic.

use super::Kind;

/// Brands of ISO base media files that hold a video a browser can be asked to play.
/// `qt  ` is a QuickTime movie (what phones record); browsers play the common H.264 ones when
/// served as MP4.
const VIDEO_BRANDS: &[&[u8; 4]] = &[
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso8", b"iso9", b"mp41", b"mp42",
    b"avc1", b"M4V ", b"M4VH", b"M4VP", b"dash", b"mmp4", b"3gp4", b"3gp5", b"3gp6", b"3g2a",
    b"qt  ", b"f4v ", b"MSNV", b"XAVC",
];

/// Brands of still images and image sequences in the same container (HEIF, HEIC, AVIF) and
/// of audio-only files: refused even when a video brand is also listed.
const REFUSED_BRANDS: &[&[u8; 4]] = &[
    b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"mif2",
    b"msf1", b"miaf", b"avif", b"avis", b"avio", b"M4A ", b"M4B ", b"M4P ", b"crx ", b"jp2 ",
];

/// The kind of a file from its first bytes (64 are plenty; fewer are fine). `None` for
/// anything weft does not accept, including empty input, HTML, ZIP, HEIC and Matroska.
pub fn sniff(head: &[u8]) -> Option<Kind> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(Kind::Jpeg);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(Kind::Png);
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return Some(Kind::Gif);
    }
    if head.len() >= 16 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Some(Kind::Webp);
    }
    if head.get(4..8) == Some(b"ftyp") {
        return sniff_ftyp(head);
    }
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return (ebml_doctype(head) == Some(b"webm".as_slice())).then_some(Kind::Webm);
    }
    None
}

fn sniff_ftyp(head: &[u8]) -> Option<Kind> {
    let size = usize::try_from(be32(head, 0)?).ok()?;
    if size < 16 {
        return None;
    }
    let major: &[u8] = head.get(8..12)?;
    // Compatible brands follow the minor version, up to the end of the box (or of `head`).
    let end = size.min(head.len());
    let compatible = head.get(16..end).unwrap_or_default().chunks_exact(4);
    let brands = || std::iter::once(major).chain(compatible.clone());
    if brands().any(|b| REFUSED_BRANDS.iter().any(|r| r.as_slice() == b)) {
        return None;
    }
    brands()
        .any(|b| VIDEO_BRANDS.iter().any(|v| v.as_slice() == b))
        .then_some(Kind::Mp4)
}

/// The EBML header's DocType ("webm", "matroska"), searched within the first 64 bytes.
fn ebml_doctype(head: &[u8]) -> Option<&[u8]> {
    let window = &head[..head.len().min(64)];
    let mut i = 4;
    while i + 2 < window.len() {
        if window[i] == 0x42 && window[i + 1] == 0x82 {
            let (len, n) = ebml_vint(&window[i + 2..])?;
            let start = i + 2 + n;
            let len = usize::try_from(len).ok()?;
            return window.get(start..start.checked_add(len)?);
        }
        i += 1;
    }
    None
}

/// An EBML variable-length size: its value and how many bytes it took.
pub(crate) fn ebml_vint(b: &[u8]) -> Option<(u64, usize)> {
    let first = *b.first()?;
    if first == 0 {
        return None;
    }
    let n = first.leading_zeros() as usize + 1;
    let bytes = b.get(..n)?;
    let mut v = u64::from(first) & (0xFF >> n);
    for &x in &bytes[1..] {
        v = (v << 8) | u64::from(x);
    }
    Some((v, n))
}

/// Width and height from an image's header, without decoding any pixel. `None` when the
/// header is missing or malformed (or `kind` is not an image).
pub fn image_dimensions(kind: Kind, bytes: &[u8]) -> Option<(u32, u32)> {
    match kind {
        Kind::Png => {
            (bytes.get(12..16)? == b"IHDR").then_some(())?;
            Some((be32(bytes, 16)?, be32(bytes, 20)?))
        }
        Kind::Gif => Some((u32::from(le16(bytes, 6)?), u32::from(le16(bytes, 8)?))),
        Kind::Webp => webp_dimensions(bytes),
        Kind::Jpeg => jpeg_dimensions(bytes),
        Kind::Mp4 | Kind::Webm => None,
    }
}

fn webp_dimensions(b: &[u8]) -> Option<(u32, u32)> {
    match b.get(12..16)? {
        b"VP8 " => {
            // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height.
            (b.get(23..26)? == [0x9d, 0x01, 0x2a]).then_some(())?;
            Some((
                u32::from(le16(b, 26)? & 0x3fff),
                u32::from(le16(b, 28)? & 0x3fff),
            ))
        }
        b"VP8L" => {
            (*b.get(20)? == 0x2f).then_some(())?;
            let bits = le32(b, 21)?;
            Some(((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1))
        }
        b"VP8X" => Some((le24(b, 24)? + 1, le24(b, 27)? + 1)),
        _ => None,
    }
}

/// True when the file is at least as long as its RIFF header says (the WebP decoder accepts
/// some cut-short files).
pub(crate) fn webp_is_complete(b: &[u8]) -> bool {
    le32(b, 4).is_some_and(|n| u64::from(n) + 8 <= b.len() as u64)
}

/// What a WebP file holds, from its chunk list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WebpInfo {
    /// The (first) image is VP8L, lossless.
    pub lossless: bool,
}

pub(crate) fn webp_info(b: &[u8]) -> Option<WebpInfo> {
    let mut lossless = None;
    for (fourcc, payload) in riff_chunks(b) {
        match &fourcc {
            b"VP8L" => lossless = lossless.or(Some(true)),
            b"VP8 " => lossless = lossless.or(Some(false)),
            b"ANMF" => {
                // A frame holds its own chunks after a 16-byte header.
                if let Some(inner) = payload.get(16..) {
                    for (f, _) in chunks(inner) {
                        match &f {
                            b"VP8L" => lossless = lossless.or(Some(true)),
                            b"VP8 " => lossless = lossless.or(Some(false)),
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Some(WebpInfo {
        lossless: lossless?,
    })
}

/// The chunks of a RIFF WEBP file (nothing if the header is wrong). Stops at the first chunk
/// that does not fit.
pub(crate) fn riff_chunks(b: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let body = if b.get(0..4) == Some(b"RIFF") && b.get(8..12) == Some(b"WEBP") {
        &b[12..]
    } else {
        &[]
    };
    chunks(body)
}

fn chunks(mut rest: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    std::iter::from_fn(move || {
        let fourcc: [u8; 4] = rest.get(0..4)?.try_into().ok()?;
        let len = usize::try_from(le32(rest, 4)?).ok()?;
        let payload = rest.get(8..8usize.checked_add(len)?)?;
        let padded = (8 + len).saturating_add(len & 1);
        rest = rest.get(padded..).unwrap_or_default();
        Some((fourcc, payload))
    })
}

/// Walks JPEG marker segments to the frame header (SOFn).
fn jpeg_dimensions(b: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    loop {
        // Markers may be preceded by any number of 0xFF fill bytes.
        if *b.get(i)? != 0xFF {
            return None;
        }
        while *b.get(i)? == 0xFF {
            i += 1;
        }
        let marker = *b.get(i)?;
        i += 1;
        match marker {
            0xD8 | 0x01 | 0xD0..=0xD7 => continue,
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                let h = u32::from(be16(b, i + 3)?);
                let w = u32::from(be16(b, i + 5)?);
                return Some((w, h));
            }
            0xD9 | 0xDA => return None,
            _ => i += usize::from(be16(b, i)?),
        }
    }
}

/// True when the JPEG's entropy-coded data runs to an end-of-image marker. Decoders fill a
/// truncated image with grey rather than failing; this catches that. Walks segments by their
/// lengths so an EOI inside an embedded EXIF thumbnail or a table does not count.
pub(crate) fn jpeg_is_complete(b: &[u8]) -> bool {
    let mut i = 2;
    let mut in_scan = false;
    while i + 1 < b.len() {
        if in_scan {
            // Inside entropy-coded data: FF 00 is a stuffed byte, FF D0..D7 a restart, FF FF
            // fill; any other FF xx is the next marker.
            let Some(off) = memchr_ff(&b[i..]) else {
                return false;
            };
            i += off;
            let Some(&next) = b.get(i + 1) else {
                return false;
            };
            match next {
                0x00 | 0xD0..=0xD7 => i += 2,
                0xFF => i += 1,
                _ => in_scan = false,
            }
            continue;
        }
        if b[i] != 0xFF {
            // Stray bytes between segments: decoders skip them, and so does this walk.
            i += 1;
            continue;
        }
        let marker = b[i + 1];
        i += 2;
        match marker {
            0xFF => i -= 1,
            0xD9 => return true,
            0xD8 | 0x01 | 0xD0..=0xD7 => {}
            _ => {
                let Some(len) = be16(b, i) else {
                    return false;
                };
                i += usize::from(len);
                if marker == 0xDA {
                    in_scan = true;
                }
            }
        }
    }
    false
}

fn memchr_ff(b: &[u8]) -> Option<usize> {
    b.iter().position(|&x| x == 0xFF)
}

pub(crate) fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}
pub(crate) fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}
pub(crate) fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}
fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}
fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(3)?)?;
    Some(u32::from(s[0]) | u32::from(s[1]) << 8 | u32::from(s[2]) << 16)
}
pub(crate) fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len();
        let mut v = (size as u32).to_be_bytes().to_vec();
        v.extend_from_slice(b"ftyp");
        v.extend_from_slice(major);
        v.extend_from_slice(&[0, 0, 2, 0]);
        for c in compatible {
            v.extend_from_slice(*c);
        }
        v.extend_from_slice(&[0, 0, 0, 8, b'f', b'r', b'e', b'e']);
        v
    }

    fn ebml(doctype: &[u8]) -> Vec<u8> {
        let mut v = vec![0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01];
        v.extend_from_slice(&[0x42, 0xF7, 0x81, 0x01, 0x42, 0x82]);
        v.push(0x80 | doctype.len() as u8);
        v.extend_from_slice(doctype);
        v.extend_from_slice(&[0x42, 0x87, 0x81, 0x04]);
        v
    }

    #[test]
    fn sniffs_every_kind() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 16]), Some(Kind::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(Kind::Png));
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), Some(Kind::Gif));
        assert_eq!(sniff(b"GIF87a\x01\0\x01\0"), Some(Kind::Gif));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some(Kind::Webp));
        assert_eq!(sniff(&ftyp(b"isom", &[b"isom", b"avc1"])), Some(Kind::Mp4));
        assert_eq!(sniff(&ftyp(b"mp42", &[])), Some(Kind::Mp4));
        assert_eq!(sniff(&ftyp(b"qt  ", &[b"qt  "])), Some(Kind::Mp4));
        assert_eq!(sniff(&ebml(b"webm")), Some(Kind::Webm));
        for k in Kind::ALL {
            assert_eq!(Kind::from_ext(k.ext()), Some(k));
            assert!(k.mime().contains('/'));
            assert!(k.is_image() != k.is_video());
        }
    }

    #[test]
    fn refuses_everything_else() {
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"<!DOCTYPE html><html><body>hi</body></html>"), None);
        assert_eq!(sniff(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), None);
        assert_eq!(sniff(b"PK\x03\x04\x14\0\0\0\x08\0"), None);
        assert_eq!(sniff(b"%PDF-1.7"), None);
        assert_eq!(sniff(&[0xFF, 0xD8]), None);
        assert_eq!(sniff(b"RIFF\x24\0\0\0WAVEfmt "), None);
        // HEIC and AVIF stills, audio-only MP4, Matroska.
        assert_eq!(sniff(&ftyp(b"heic", &[b"mif1", b"heic"])), None);
        assert_eq!(sniff(&ftyp(b"mif1", &[b"heic"])), None);
        assert_eq!(sniff(&ftyp(b"avif", &[b"avif", b"mif1", b"miaf"])), None);
        assert_eq!(sniff(&ftyp(b"isom", &[b"avif"])), None);
        assert_eq!(sniff(&ftyp(b"M4A ", &[b"M4A ", b"isom"])), None);
        assert_eq!(sniff(&ftyp(b"abcd", &[])), None);
        assert_eq!(sniff(&ebml(b"matroska")), None);
        assert_eq!(sniff(&[0x1A, 0x45, 0xDF, 0xA3]), None);
        // A box size too small to hold a brand.
        assert_eq!(sniff(b"\0\0\0\x08ftypisom"), None);
    }

    #[test]
    fn header_dimensions() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&100_000u32.to_be_bytes());
        png.extend_from_slice(&7u32.to_be_bytes());
        assert_eq!(image_dimensions(Kind::Png, &png), Some((100_000, 7)));
        assert_eq!(image_dimensions(Kind::Png, &png[..20]), None);
        assert_eq!(
            image_dimensions(Kind::Gif, b"GIF89a\x20\x03\x58\x02"),
            Some((800, 600))
        );
        let vp8x = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0\x1f\x03\0\x57\x02\0";
        assert_eq!(image_dimensions(Kind::Webp, vp8x), Some((800, 600)));
        // SOI, an APP0 of length 4, SOF0 of a 3000 × 4000 image.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 17, 8, 0x0F, 0xA0, 0x0B, 0xB8,
        ];
        assert_eq!(image_dimensions(Kind::Jpeg, &jpeg), Some((3000, 4000)));
        assert_eq!(image_dimensions(Kind::Jpeg, &jpeg[..14]), None);
    }

    #[test]
    fn jpeg_end_marker() {
        // SOI, APP0 holding a stray EOI, SOS, entropy data with a stuffed FF 00 and a restart
        // marker, EOI.
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0xFF, 0xD9];
        j.extend_from_slice(&[
            0xFF, 0xDA, 0x00, 0x02, 0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56,
        ]);
        assert!(!jpeg_is_complete(&j));
        j.extend_from_slice(&[0xFF, 0xD9]);
        assert!(jpeg_is_complete(&j));
        // Padding between segments is tolerated.
        let mut padded = j[..8].to_vec();
        padded.extend_from_slice(&[0, 0]);
        padded.extend_from_slice(&j[8..]);
        assert!(jpeg_is_complete(&padded));
        for n in 0..j.len() {
            assert!(!jpeg_is_complete(&j[..n]));
        }
    }

    #[test]
    fn ebml_sizes() {
        assert_eq!(ebml_vint(&[0x84]), Some((4, 1)));
        assert_eq!(ebml_vint(&[0x40, 0x10]), Some((16, 2)));
        assert_eq!(ebml_vint(&[0x01, 0, 0, 0, 0, 0, 0, 5]), Some((5, 8)));
        assert_eq!(ebml_vint(&[0x00]), None);
        assert_eq!(ebml_vint(&[0x40]), None);
    }
}
