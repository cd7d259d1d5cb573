//! Small images made in memory for the unit tests (no binary fixtures in the repository).

use image::codecs::gif::{GifEncoder, Repeat};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{Delay, ExtendedColorType, Frame, ImageEncoder, RgbaImage};

/// Left half red, right half blue, with a little texture.
pub fn rgb(w: u32, h: u32) -> Vec<u8> {
    let mut v = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let t = ((x ^ y) & 7) as u8;
            if x < w / 2 {
                v.extend_from_slice(&[230 + t, 20, 20]);
            } else {
                v.extend_from_slice(&[20, 20, 230 + t]);
            }
        }
    }
    v
}

pub fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(&rgb(w, h), w, h, ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// RGBA; the top-left quarter is transparent when `transparent`.
pub fn rgba(w: u32, h: u32, transparent: bool) -> Vec<u8> {
    let mut v = Vec::new();
    for (i, p) in rgb(w, h).chunks_exact(3).enumerate() {
        let (x, y) = (i as u32 % w, i as u32 / w);
        let a = if transparent && x < w / 2 && y < h / 2 {
            0
        } else {
            255
        };
        v.extend_from_slice(&[p[0], p[1], p[2], a]);
    }
    v
}

pub fn png(w: u32, h: u32, transparent: bool) -> Vec<u8> {
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(&rgba(w, h, transparent), w, h, ExtendedColorType::Rgba8)
        .unwrap();
    out
}

/// Lossless WebP (the only kind the image crate writes).
pub fn webp(w: u32, h: u32, transparent: bool) -> Vec<u8> {
    let mut out = Vec::new();
    WebPEncoder::new_lossless(&mut out)
        .write_image(&rgba(w, h, transparent), w, h, ExtendedColorType::Rgba8)
        .unwrap();
    out
}

/// An animated lossless WebP made of `frames` still frames, with an EXIF chunk. Built by
/// hand (the image crate writes only stills): VP8X, ANIM, ANMF × frames, EXIF.
pub fn animated_webp(w: u32, h: u32, frames: u32) -> Vec<u8> {
    let chunk = |fourcc: &[u8; 4], payload: &[u8]| {
        let mut c = fourcc.to_vec();
        c.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        c.extend_from_slice(payload);
        if payload.len() % 2 == 1 {
            c.push(0);
        }
        c
    };
    let le24 = |v: u32| v.to_le_bytes()[..3].to_vec();
    let still = webp(w, h, false);
    let (_, vp8l) = crate::media::sniff::riff_chunks(&still)
        .find(|(f, _)| f == b"VP8L")
        .unwrap();
    let mut vp8x = vec![0x02 | 0x08, 0, 0, 0];
    vp8x.extend(le24(w - 1));
    vp8x.extend(le24(h - 1));
    let mut body = chunk(b"VP8X", &vp8x);
    body.extend(chunk(b"ANIM", &[255, 255, 255, 255, 0, 0]));
    for _ in 0..frames {
        let mut anmf = [le24(0), le24(0), le24(w - 1), le24(h - 1), le24(100)].concat();
        anmf.push(0);
        anmf.extend(chunk(b"VP8L", vp8l));
        body.extend(chunk(b"ANMF", &anmf));
    }
    body.extend(chunk(b"EXIF", b"Exif\0\0II*\0secret-gps"));
    let mut file = b"RIFF".to_vec();
    file.extend_from_slice(&(body.len() as u32 + 4).to_le_bytes());
    file.extend_from_slice(b"WEBP");
    file.extend(body);
    file
}

/// An animated GIF with `frames` frames, looping forever.
pub fn gif(w: u32, h: u32, frames: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = GifEncoder::new(&mut out);
        enc.set_repeat(Repeat::Infinite).unwrap();
        for i in 0..frames {
            let mut img = RgbaImage::from_raw(w, h, rgba(w, h, false)).unwrap();
            for p in img.pixels_mut() {
                p.0[1] = (i * 60) as u8;
            }
            let frame = Frame::from_parts(img, 0, 0, Delay::from_numer_denom_ms(100, 1));
            enc.encode_frame(frame).unwrap();
        }
    }
    out
}

/// A 2-frame 1 × 1 GIF with a comment and an XMP application extension, and the same file
/// without them.
pub fn gif_with_metadata() -> (Vec<u8>, Vec<u8>) {
    let header = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff".to_vec();
    let looping = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00".to_vec();
    let comment = b"\x21\xfe\x05hello\x00".to_vec();
    let xmp = b"\x21\xff\x0bXMP DataXMP\x04<x/>\x00".to_vec();
    let gce = b"\x21\xf9\x04\x00\x0a\x00\x00\x00".to_vec();
    let frame = b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00".to_vec();
    let trailer = b"\x3b".to_vec();
    let with = [
        header.clone(),
        looping.clone(),
        comment,
        gce.clone(),
        frame.clone(),
        xmp,
        gce.clone(),
        frame.clone(),
        trailer.clone(),
    ]
    .concat();
    let without = [
        header,
        looping,
        gce.clone(),
        frame.clone(),
        gce,
        frame,
        trailer,
    ]
    .concat();
    (with, without)
}

/// `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
