//! An uploaded image → a metadata-free original, two JPEG thumbnails and a blurhash.
//!
//! Still images are decoded and re-encoded, so nothing but pixels survives (no EXIF, GPS, XMP,
//! ICC, comments); the stored copy is at most `original_long_side` pixels on its long side,
//! as Threads, Bluesky and X scale theirs (1440, 2000 and 2048 px; weft 2000, half of a 12 MP
//! photo's width, so a JPEG that size is decoded straight at half size). Lossy input (JPEG,
//! lossy WebP) becomes JPEG; lossless input (PNG,
//! lossless WebP, a single-frame GIF) and anything whose transparency is actually used
//! becomes PNG. EXIF orientation is applied to the pixels first. Animations (GIF, animated
//! WebP) keep their uploaded frames byte for byte, minus their metadata blocks, once every
//! frame has been decoded to prove the file is sound; thumbnails come from the first frame.

use std::borrow::Cow;
use std::io::Cursor;
use std::time::Instant;

use fast_image_resize::images::{TypedImage, TypedImageRef};
use fast_image_resize::pixels::{U8x3, U8x4};
use fast_image_resize::{FilterType, PixelTrait, ResizeAlg, ResizeOptions, Resizer};
use image::codecs::gif::GifDecoder;
use image::codecs::jpeg::JpegDecoder;
use image::codecs::png::{CompressionType, PngDecoder, PngEncoder};
use image::codecs::webp::WebPDecoder;
use image::metadata::Orientation;
use image::{
    AnimationDecoder, DynamicImage, ExtendedColorType, ImageDecoder, ImageEncoder, ImageError,
    RgbaImage,
};

use super::sniff::{image_dimensions, jpeg_is_complete, sniff, webp_info, webp_is_complete};
use super::{
    Encoded, ImageLimits, Kind, MediaError, ProcessedImage, StageTimings, Thumb, blur, strip,
};

/// JPEG quality of the re-encoded original: 85 (88 made the 12 MP benchmark's stored copy 470
/// KB instead of 372 and its encode 5 ms slower, for no difference to see at this size).
const ORIGINAL_QUALITY: u8 = 85;
/// JPEG quality of thumbnails.
const THUMB_QUALITY: u8 = 82;
/// Scaling the stored copy down to `original_long_side` (what is left after a reduced-size
/// decode, or about 2x for other large photos): a triangle filter spread over the reduction
/// averages every source pixel and costs a third of Lanczos3's taps (21 against 30 ms for
/// 12 MP here).
const CAP_FILTER: FilterType = FilterType::Bilinear;
/// Thumbnails are a 2x or larger reduction seen at their own size: Catmull-Rom keeps them
/// about as sharp as Lanczos3 with two thirds of its taps.
const THUMB_FILTER: FilterType = FilterType::CatmullRom;
/// Long side of the copy the blurhash is computed from.
const BLURHASH_SIDE: u32 = 32;

/// Processes one uploaded image (see the module documentation). Blocking and CPU-bound: call
/// it from a blocking pool. Never panics, whatever the bytes.
pub fn process_image(bytes: &[u8], limits: &ImageLimits) -> Result<ProcessedImage, MediaError> {
    let started = Instant::now();
    let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if len > limits.max_bytes {
        return Err(MediaError::TooLarge {
            bytes: len,
            max: limits.max_bytes,
        });
    }
    let kind = sniff(bytes)
        .filter(|k| k.is_image())
        .ok_or(MediaError::Unsupported)?;
    let (width, height) = image_dimensions(kind, bytes)
        .ok_or_else(|| MediaError::corrupt("no readable image header"))?;
    check_pixels(width, height, limits)?;
    let mut timings = StageTimings::default();

    let decoded = match kind {
        Kind::Jpeg => {
            if !jpeg_is_complete(bytes) {
                return Err(MediaError::corrupt(
                    "JPEG ends before its end-of-image marker",
                ));
            }
            let scaled = scaled_jpeg(bytes, width, height, limits);
            timings.scaled_decode = scaled.is_some();
            match scaled {
                Some(d) => d,
                None => {
                    let d = JpegDecoder::new(Cursor::new(bytes)).map_err(decode_error)?;
                    decode_still(d, width, height, limits, false)?
                }
            }
        }
        Kind::Png => {
            let d = PngDecoder::with_limits(Cursor::new(bytes), decoder_limits(limits))
                .map_err(decode_error)?;
            decode_still(d, width, height, limits, true)?
        }
        Kind::Webp => {
            if !webp_is_complete(bytes) {
                return Err(MediaError::corrupt(
                    "WebP shorter than its RIFF header says",
                ));
            }
            let d = WebPDecoder::new(Cursor::new(bytes)).map_err(decode_error)?;
            if d.has_animation() {
                let stripped = strip::webp(bytes)
                    .ok_or_else(|| MediaError::corrupt("broken WebP chunk structure"))?;
                decode_animation(d, stripped, Kind::Webp, width, height, limits)?
            } else {
                let lossless = webp_info(bytes).is_some_and(|i| i.lossless);
                decode_still(d, width, height, limits, lossless)?
            }
        }
        Kind::Gif => {
            let stripped = strip::gif(bytes)
                .ok_or_else(|| MediaError::corrupt("GIF block structure broken or cut short"))?;
            let d = GifDecoder::new(Cursor::new(bytes)).map_err(decode_error)?;
            decode_animation(d, stripped, Kind::Gif, width, height, limits)?
        }
        Kind::Mp4 | Kind::Webm => return Err(MediaError::Unsupported),
    };

    // From here on the pixels are 8-bit RGB, or RGBA when transparency is actually used.
    let Decoded {
        pixels,
        orientation,
        lossless,
        animation,
    } = decoded;
    timings.decode = started.elapsed();

    // A still image's stored copy is scaled down to `original_long_side` before it is turned, so the
    // turn, the thumbnails and the re-encode all work on the smaller image.
    let t = Instant::now();
    let mut resizer = Resizer::new();
    // Animations keep their uploaded frames, so their size stays too.
    let cap = if animation.is_some() {
        u32::MAX
    } else {
        stored_long_side(limits)
    };
    let (cw, ch) = fit(pixels.width, pixels.height, cap);
    let pixels = if (cw, ch) == (pixels.width, pixels.height) {
        pixels
    } else {
        let scaled = pixels
            .resize(&mut resizer, cw, ch, CAP_FILTER)?
            .into_owned();
        // The full-size pixels (150 MB at 40 MP) are not needed past this point.
        drop(pixels);
        scaled
    };
    let capped = t.elapsed();

    let t = Instant::now();
    let pixels = pixels.oriented(orientation);
    let (width, height) = (pixels.width, pixels.height);
    timings.orient = t.elapsed();

    let t = Instant::now();
    let (lw, lh) = fit(width, height, limits.thumb_large);
    let large = pixels.resize(&mut resizer, lw, lh, THUMB_FILTER)?;
    let (sw, sh) = fit(lw, lh, limits.thumb_small.min(limits.thumb_large));
    let small = large.resize(&mut resizer, sw, sh, THUMB_FILTER)?;
    let (bw, bh) = fit(sw, sh, BLURHASH_SIDE);
    let tiny = small.resize(&mut resizer, bw, bh, THUMB_FILTER)?;
    let tiny = tiny.flatten_on_white();
    timings.resize = capped + t.elapsed();

    let t = Instant::now();
    let (original_bytes, original_kind, animated) = match animation {
        Some((bytes, kind)) => (bytes, kind, true),
        None if lossless || pixels.has_alpha() => (pixels.encode_png()?, Kind::Png, false),
        None => (pixels.encode_jpeg(ORIGINAL_QUALITY)?, Kind::Jpeg, false),
    };
    let large_jpeg = large.flatten_on_white().encode_jpeg(THUMB_QUALITY)?;
    let small_jpeg = small.flatten_on_white().encode_jpeg(THUMB_QUALITY)?;
    timings.encode = t.elapsed();

    let t = Instant::now();
    let blurhash = blur::encode_rgb(tiny.data(), tiny.width, tiny.height)?;
    let original = Encoded::new(original_bytes, original_kind);
    let thumbs = vec![
        Thumb {
            label: "small",
            encoded: Encoded::new(small_jpeg, Kind::Jpeg),
            width: sw,
            height: sh,
        },
        Thumb {
            label: "large",
            encoded: Encoded::new(large_jpeg, Kind::Jpeg),
            width: lw,
            height: lh,
        },
    ];
    timings.hash = t.elapsed();

    Ok(ProcessedImage {
        original,
        thumbs,
        width,
        height,
        blurhash,
        animated,
        timings,
    })
}

/// The long side of a still image's stored copy (`u32::MAX` when it keeps its size).
fn stored_long_side(limits: &ImageLimits) -> u32 {
    match limits.original_long_side {
        0 => u32::MAX,
        side => side,
    }
}

fn check_pixels(width: u32, height: u32, limits: &ImageLimits) -> Result<(), MediaError> {
    if width == 0 || height == 0 {
        return Err(MediaError::corrupt("zero width or height"));
    }
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(MediaError::TooManyPixels {
            width,
            height,
            max: limits.max_pixels,
        });
    }
    Ok(())
}

/// The image crate's own limits, a second line behind the header check: enough memory for
/// the largest accepted image at 16 bits per RGBA channel, plus decoder working space.
fn decoder_limits(limits: &ImageLimits) -> image::Limits {
    let mut l = image::Limits::default();
    l.max_alloc = Some(limits.max_pixels.saturating_mul(8).saturating_add(64 << 20));
    l
}

struct Decoded {
    pixels: Pixels<'static>,
    orientation: Orientation,
    /// Store the original losslessly (PNG).
    lossless: bool,
    /// For animations: the bytes to keep and their kind.
    animation: Option<(Vec<u8>, Kind)>,
}

fn decode_still(
    mut decoder: impl ImageDecoder,
    width: u32,
    height: u32,
    limits: &ImageLimits,
    lossless: bool,
) -> Result<Decoded, MediaError> {
    decoder
        .set_limits(decoder_limits(limits))
        .map_err(|e| limit_error(e, width, height, limits))?;
    let (w, h) = decoder.dimensions();
    check_pixels(w, h, limits)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let image =
        DynamicImage::from_decoder(decoder).map_err(|e| limit_error(e, width, height, limits))?;
    Ok(Decoded {
        pixels: Pixels::from_image(image),
        orientation,
        lossless,
        animation: None,
    })
}

/// Decodes every frame (the file must be sound before it is kept as it is), keeping the first
/// for the thumbnails. A single-frame file is treated as a still image.
fn decode_animation<'a>(
    mut decoder: impl ImageDecoder + AnimationDecoder<'a>,
    stripped: strip::Stripped,
    kind: Kind,
    width: u32,
    height: u32,
    limits: &ImageLimits,
) -> Result<Decoded, MediaError> {
    decoder
        .set_limits(decoder_limits(limits))
        .map_err(|e| limit_error(e, width, height, limits))?;
    let (w, h) = ImageDecoder::dimensions(&decoder);
    check_pixels(w, h, limits)?;
    let frame_pixels = u64::from(w) * u64::from(h);
    let too_large = MediaError::AnimationTooLarge {
        max_pixels: limits.max_animation_pixels,
    };
    if stripped.frames.saturating_mul(frame_pixels) > limits.max_animation_pixels {
        return Err(too_large);
    }
    let mut first: Option<RgbaImage> = None;
    let mut frames = 0u64;
    for frame in decoder.into_frames() {
        let frame = frame.map_err(|e| limit_error(e, width, height, limits))?;
        frames += 1;
        if frames.saturating_mul(frame_pixels) > limits.max_animation_pixels {
            return Err(too_large);
        }
        if first.is_none() {
            first = Some(frame.into_buffer());
        }
    }
    let first = first.ok_or_else(|| MediaError::corrupt("animation without frames"))?;
    let pixels = Pixels::from_image(DynamicImage::ImageRgba8(first));
    Ok(if frames == 1 {
        Decoded {
            pixels,
            orientation: Orientation::NoTransforms,
            lossless: kind == Kind::Gif || webp_info(&stripped.bytes).is_some_and(|i| i.lossless),
            animation: None,
        }
    } else {
        Decoded {
            pixels,
            orientation: Orientation::NoTransforms,
            lossless: true,
            animation: Some((stripped.bytes, kind)),
        }
    })
}

/// A JPEG at least twice `original_long_side` on its long side, decoded at 1/2, 1/4 or 1/8
/// of its size by jpeg-decoder's scaled IDCT (the smallest scale still at least the stored
/// copy's size): the full-size pixels are never made, which saves most of the decode, the
/// first scaling step and their memory (36 MB for 12 MP). None sends the file to the full
/// decode: no reduction applies, the pixels are not 8-bit colour (grey, CMYK), the file is
/// lossless JPEG (which this decoder cannot scale), or this decoder refused the file or
/// panicked (the full decoder then gives its own verdict). The decoder runs its IDCT on one
/// helper thread per colour channel while this one reads the entropy-coded data.
fn scaled_jpeg(bytes: &[u8], width: u32, height: u32, limits: &ImageLimits) -> Option<Decoded> {
    let cap = stored_long_side(limits);
    if width.max(height) / 2 < cap {
        return None;
    }
    let (cw, ch) = fit(width, height, cap);
    let decoded = std::panic::catch_unwind(|| {
        let mut d = jpeg_decoder::Decoder::new(bytes);
        // A second line behind `check_pixels`: never more than the largest accepted image.
        d.set_max_decoding_buffer_size(
            usize::try_from(limits.max_pixels.saturating_mul(3)).unwrap_or(usize::MAX),
        );
        let (w, h) = d
            .scale(u16::try_from(cw).ok()?, u16::try_from(ch).ok()?)
            .ok()?;
        let info = d.info()?;
        let dct = matches!(
            info.coding_process,
            jpeg_decoder::CodingProcess::DctSequential
                | jpeg_decoder::CodingProcess::DctProgressive
        );
        if !dct || info.pixel_format != jpeg_decoder::PixelFormat::RGB24 {
            return None;
        }
        let data = d.decode().ok()?;
        // Only now has the decoder read every segment before the scan, EXIF included.
        let orientation = d
            .exif_data()
            .and_then(Orientation::from_exif_chunk)
            .unwrap_or(Orientation::NoTransforms);
        Some((data, w, h, orientation))
    });
    let (data, w, h, orientation) = decoded.ok().flatten()?;
    let (w, h) = (u32::from(w), u32::from(h));
    if data.len() != w as usize * h as usize * 3 {
        return None;
    }
    Some(Decoded {
        pixels: Pixels {
            data: Cow::Owned(data),
            width: w,
            height: h,
            channels: 3,
        },
        orientation,
        lossless: false,
        animation: None,
    })
}

fn decode_error(e: ImageError) -> MediaError {
    match e {
        ImageError::Unsupported(e) => {
            tracing::debug!("unsupported image variant: {e}");
            MediaError::Unsupported
        }
        ImageError::IoError(e) if e.kind() != std::io::ErrorKind::UnexpectedEof => {
            MediaError::Io(e)
        }
        e => MediaError::corrupt(e),
    }
}

fn limit_error(e: ImageError, width: u32, height: u32, limits: &ImageLimits) -> MediaError {
    match e {
        ImageError::Limits(_) => MediaError::TooManyPixels {
            width,
            height,
            max: limits.max_pixels,
        },
        e => decode_error(e),
    }
}

/// Scales `src` into `dst`, both rows of `P` pixels without padding.
fn resize_typed<P: PixelTrait>(
    resizer: &mut Resizer,
    src: &[u8],
    dst: &mut [u8],
    ((sw, sh), (dw, dh)): ((u32, u32), (u32, u32)),
    options: &ResizeOptions,
) -> Result<(), MediaError> {
    let src = TypedImageRef::<P>::from_buffer(sw, sh, src).map_err(encode_error)?;
    let mut dst = TypedImage::<P>::from_buffer(dw, dh, dst).map_err(encode_error)?;
    resizer
        .resize_typed(&src, &mut dst, options)
        .map_err(encode_error)
}

fn encode_error(e: impl std::fmt::Display) -> MediaError {
    MediaError::Encode(e.to_string())
}

/// Width and height that fit `long` on the long side, keeping the aspect ratio; never larger
/// than the input.
pub(crate) fn fit(width: u32, height: u32, long: u32) -> (u32, u32) {
    let long = long.max(1);
    if width.max(height) <= long {
        return (width, height);
    }
    let scale = |side: u32, other: u32| -> u32 {
        let v = (u64::from(side) * u64::from(long) + u64::from(other) / 2) / u64::from(other);
        u32::try_from(v).unwrap_or(u32::MAX).clamp(1, long)
    };
    if width >= height {
        (long, scale(height, width))
    } else {
        (scale(width, height), long)
    }
}

/// 8-bit pixels, 3 or 4 channels, row-major without padding.
struct Pixels<'a> {
    data: Cow<'a, [u8]>,
    width: u32,
    height: u32,
    channels: u8,
}

impl Pixels<'static> {
    fn from_image(image: DynamicImage) -> Self {
        let (width, height) = (image.width(), image.height());
        if image.color().has_alpha() {
            let rgba = image.into_rgba8();
            if rgba.as_raw().chunks_exact(4).any(|p| p[3] != 255) {
                return Pixels {
                    data: Cow::Owned(rgba.into_raw()),
                    width,
                    height,
                    channels: 4,
                };
            }
            let rgb = DynamicImage::ImageRgba8(rgba).into_rgb8();
            return Pixels {
                data: Cow::Owned(rgb.into_raw()),
                width,
                height,
                channels: 3,
            };
        }
        Pixels {
            data: Cow::Owned(image.into_rgb8().into_raw()),
            width,
            height,
            channels: 3,
        }
    }
}

impl Pixels<'static> {
    /// The pixels turned as an EXIF orientation says.
    fn oriented(self, orientation: Orientation) -> Pixels<'static> {
        if orientation == Orientation::NoTransforms || self.width == 0 || self.height == 0 {
            return self;
        }
        let (w, h) = (self.width as usize, self.height as usize);
        let (data, ow, oh) = if self.channels == 4 {
            remap::<4>(&self.data, w, h, orientation)
        } else {
            remap::<3>(&self.data, w, h, orientation)
        };
        Pixels {
            data: Cow::Owned(data),
            width: u32::try_from(ow).unwrap_or(self.height),
            height: u32::try_from(oh).unwrap_or(self.width),
            channels: self.channels,
        }
    }
}

/// Copies `w` × `h` pixels of `N` bytes into their oriented places; returns the new buffer and
/// size. Every orientation is an optional transpose followed by optional mirroring of the
/// output's columns and rows. Without a transpose whole rows are copied; with one, 32 × 32
/// tiles keep both sides in cache (about 4x faster than the image crate's rotate90).
fn remap<const N: usize>(
    src: &[u8],
    w: usize,
    h: usize,
    orientation: Orientation,
) -> (Vec<u8>, usize, usize) {
    let (transpose, mirror_x, mirror_y) = match orientation {
        Orientation::NoTransforms => (false, false, false),
        Orientation::FlipHorizontal => (false, true, false),
        Orientation::FlipVertical => (false, false, true),
        Orientation::Rotate180 => (false, true, true),
        Orientation::Rotate90FlipH => (true, false, false),
        Orientation::Rotate90 => (true, true, false),
        Orientation::Rotate270 => (true, false, true),
        Orientation::Rotate270FlipH => (true, true, true),
    };
    let (ow, oh) = if transpose { (h, w) } else { (w, h) };
    let (pixels, _) = src.as_chunks::<N>();
    let mut out = vec![0u8; w * h * N];
    let (dst, _) = out.as_chunks_mut::<N>();
    if !transpose {
        for (oy, row) in dst.chunks_exact_mut(ow).enumerate() {
            let sy = if mirror_y { h - 1 - oy } else { oy };
            let src_row = &pixels[sy * w..(sy + 1) * w];
            if mirror_x {
                for (d, s) in row.iter_mut().zip(src_row.iter().rev()) {
                    *d = *s;
                }
            } else {
                row.copy_from_slice(src_row);
            }
        }
        return (out, ow, oh);
    }
    // Output (ox, oy) comes from source column oy and row ox (each possibly mirrored).
    const TILE: usize = 32;
    for ty in (0..oh).step_by(TILE) {
        for tx in (0..ow).step_by(TILE) {
            let tx_end = (tx + TILE).min(ow);
            for oy in ty..(ty + TILE).min(oh) {
                let sx = if mirror_y { w - 1 - oy } else { oy };
                let row = &mut dst[oy * ow + tx..oy * ow + tx_end];
                if mirror_x {
                    for (d, ox) in row.iter_mut().zip(tx..tx_end) {
                        *d = pixels[(h - 1 - ox) * w + sx];
                    }
                } else {
                    for (d, ox) in row.iter_mut().zip(tx..tx_end) {
                        *d = pixels[ox * w + sx];
                    }
                }
            }
        }
    }
    (out, ow, oh)
}

impl Pixels<'_> {
    fn into_owned(self) -> Pixels<'static> {
        Pixels {
            data: Cow::Owned(self.data.into_owned()),
            width: self.width,
            height: self.height,
            channels: self.channels,
        }
    }

    fn data(&self) -> &[u8] {
        &self.data
    }

    fn has_alpha(&self) -> bool {
        self.channels == 4
    }

    fn color_type(&self) -> ExtendedColorType {
        if self.has_alpha() {
            ExtendedColorType::Rgba8
        } else {
            ExtendedColorType::Rgb8
        }
    }

    /// A scaled copy (a borrowed view when the size is unchanged). Transparent pixels are
    /// weighted by their alpha, so no dark fringes appear around them.
    fn resize(
        &self,
        resizer: &mut Resizer,
        width: u32,
        height: u32,
        filter: FilterType,
    ) -> Result<Pixels<'_>, MediaError> {
        if (width, height) == (self.width, self.height) {
            return Ok(Pixels {
                data: Cow::Borrowed(&self.data),
                width,
                height,
                channels: self.channels,
            });
        }
        let mut out = vec![0u8; width as usize * height as usize * usize::from(self.channels)];
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(filter));
        // Typed resizes: `Resizer::resize` matches over all thirteen pixel types, which linked
        // code for eleven this never uses (0.19 MB of the stripped binary, measured).
        let size = ((self.width, self.height), (width, height));
        if self.has_alpha() {
            resize_typed::<U8x4>(resizer, &self.data, &mut out, size, &options)?;
        } else {
            resize_typed::<U8x3>(resizer, &self.data, &mut out, size, &options)?;
        }
        Ok(Pixels {
            data: Cow::Owned(out),
            width,
            height,
            channels: self.channels,
        })
    }

    /// RGB with transparent areas composited onto white (for JPEG).
    fn flatten_on_white(&self) -> Pixels<'_> {
        if !self.has_alpha() {
            return Pixels {
                data: Cow::Borrowed(&self.data),
                width: self.width,
                height: self.height,
                channels: 3,
            };
        }
        let mut rgb = Vec::with_capacity(self.data.len() / 4 * 3);
        for p in self.data.chunks_exact(4) {
            let a = u32::from(p[3]);
            for &c in &p[..3] {
                let v = (u32::from(c) * a + 255 * (255 - a) + 127) / 255;
                rgb.push(u8::try_from(v).unwrap_or(255));
            }
        }
        Pixels {
            data: Cow::Owned(rgb),
            width: self.width,
            height: self.height,
            channels: 3,
        }
    }

    /// Baseline JPEG, 4:2:0 below quality 90 (as cameras write them), no metadata at all.
    fn encode_jpeg(&self, quality: u8) -> Result<Vec<u8>, MediaError> {
        let (Ok(w), Ok(h)) = (u16::try_from(self.width), u16::try_from(self.height)) else {
            return Err(MediaError::Encode(format!(
                "{} × {} is too large for JPEG",
                self.width, self.height
            )));
        };
        let color = if self.has_alpha() {
            jpeg_encoder::ColorType::Rgba
        } else {
            jpeg_encoder::ColorType::Rgb
        };
        let mut out = Vec::with_capacity(self.data.len() / 8);
        // Nearest (the default) rather than box-averaged chroma: 15% faster, and a decoded
        // 4:2:0 JPEG's chroma is already smooth.
        jpeg_encoder::Encoder::new(&mut out, quality)
            .encode(&self.data, w, h, color)
            .map_err(encode_error)?;
        Ok(out)
    }

    fn encode_png(&self) -> Result<Vec<u8>, MediaError> {
        let mut out = Vec::with_capacity(self.data.len() / 2);
        PngEncoder::new_with_quality(
            &mut out,
            CompressionType::Default,
            image::codecs::png::FilterType::Adaptive,
        )
        .write_image(&self.data, self.width, self.height, self.color_type())
        .map_err(encode_error)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::bench::{GPS_LATITUDE, exif_app1, with_app1};
    use crate::media::testdata::{self, contains};
    use image::GenericImageView;

    fn limits() -> ImageLimits {
        ImageLimits::default()
    }

    fn decode(e: &Encoded) -> DynamicImage {
        image::load_from_memory(&e.bytes).unwrap()
    }

    /// `out` came from `testdata::jpeg` (red left half, blue right) with EXIF orientation 6
    /// and GPS: no metadata survives anywhere, and the original is `size`, turned 90°
    /// clockwise so the red half is on top.
    fn assert_turned_and_stripped(out: &ProcessedImage, size: (u32, u32)) {
        assert_eq!((out.width, out.height), size);
        for bytes in [&out.original.bytes]
            .into_iter()
            .chain(out.thumbs.iter().map(|t| &t.encoded.bytes))
        {
            assert!(!contains(bytes, b"Exif"), "EXIF survived");
            assert!(!contains(bytes, &GPS_LATITUDE), "GPS survived");
            assert!(!contains(bytes, &[0xFF, 0xE1]), "an APP1 segment survived");
        }
        let img = decode(&out.original).into_rgb8();
        assert_eq!(img.dimensions(), size);
        let (w, h) = size;
        let top = img.get_pixel(w / 2, h / 8).0;
        let bottom = img.get_pixel(w / 2, h - 1 - h / 8).0;
        assert!(top[0] > 180 && top[2] < 80, "top {top:?}");
        assert!(bottom[2] > 180 && bottom[0] < 80, "bottom {bottom:?}");
    }

    #[test]
    fn exif_and_gps_are_dropped_and_orientation_applied() {
        let input = with_app1(&testdata::jpeg(40, 20), &exif_app1(6, true));
        assert!(contains(&input, b"Exif\0\0") && contains(&input, &GPS_LATITUDE));
        let out = process_image(&input, &limits()).unwrap();
        assert_eq!(out.original.kind, Kind::Jpeg);
        assert_turned_and_stripped(&out, (20, 40));
        // Thumbnails are never upscaled.
        for t in &out.thumbs {
            assert_eq!((t.width, t.height), (20, 40));
            assert_eq!(decode(&t.encoded).dimensions(), (20, 40));
        }
    }

    #[test]
    fn orientation_matches_the_image_crate() {
        let (w, h) = (7u32, 5u32);
        for channels in [3u8, 4] {
            let raw: Vec<u8> = (0..w * h * u32::from(channels))
                .map(|i| (i * 7 % 251) as u8)
                .collect();
            for o in 1..=8 {
                let o = Orientation::from_exif(o).unwrap();
                let mut expected = if channels == 3 {
                    DynamicImage::ImageRgb8(image::RgbImage::from_raw(w, h, raw.clone()).unwrap())
                } else {
                    DynamicImage::ImageRgba8(image::RgbaImage::from_raw(w, h, raw.clone()).unwrap())
                };
                expected.apply_orientation(o);
                let got = Pixels {
                    data: Cow::Owned(raw.clone()),
                    width: w,
                    height: h,
                    channels,
                }
                .oriented(o);
                assert_eq!((got.width, got.height), expected.dimensions(), "{o:?}");
                assert_eq!(got.data(), expected.as_bytes(), "{o:?} {channels}");
            }
        }
    }

    #[test]
    fn output_is_hashed() {
        let out = process_image(&testdata::jpeg(64, 48), &limits()).unwrap();
        assert_eq!(
            out.original.sha256_hex,
            crate::media::sha256_hex(&out.original.bytes)
        );
        assert_eq!(out.original.key().ext(), "jpg");
        assert_eq!(out.blurhash.len(), 28);
        assert!(!out.animated);
    }

    #[test]
    fn the_stored_copy_is_scaled_to_the_long_side_and_turned() {
        let input = with_app1(&testdata::jpeg(300, 200), &exif_app1(6, true));
        let capped = ImageLimits {
            original_long_side: 150,
            thumb_small: 40,
            thumb_large: 120,
            ..limits()
        };
        let out = process_image(&input, &capped).unwrap();
        // 300 × 200 → 150 × 100, then turned upright.
        assert_eq!((out.width, out.height), (100, 150));
        assert_eq!(decode(&out.original).dimensions(), (100, 150));
        let sizes: Vec<_> = out.thumbs.iter().map(|t| (t.width, t.height)).collect();
        assert_eq!(sizes, [(27, 40), (80, 120)]);

        let whole = ImageLimits {
            original_long_side: 0,
            ..capped
        };
        let out = process_image(&input, &whole).unwrap();
        assert_eq!(decode(&out.original).dimensions(), (200, 300));
        // An image within the bound keeps its size.
        let out = process_image(&input, &limits()).unwrap();
        assert_eq!(decode(&out.original).dimensions(), (200, 300));
    }

    #[test]
    fn a_large_jpeg_is_decoded_at_a_reduced_size_then_turned_and_stripped() {
        let input = with_app1(&testdata::jpeg(400, 200), &exif_app1(6, true));
        let capped = ImageLimits {
            original_long_side: 100,
            thumb_small: 20,
            thumb_large: 60,
            ..limits()
        };
        let out = process_image(&input, &capped).unwrap();
        assert!(out.timings.scaled_decode);
        // 400 × 200 at a quarter, then turned.
        assert_turned_and_stripped(&out, (50, 100));
        let sizes: Vec<_> = out.thumbs.iter().map(|t| (t.width, t.height)).collect();
        assert_eq!(sizes, [(10, 20), (30, 60)]);

        // The EXIF block after the frame header instead of before it: still read and applied.
        let plain = testdata::jpeg(400, 200);
        let sof = plain
            .windows(2)
            .position(|w| w == [0xFF, 0xC0])
            .expect("a baseline frame header");
        let sof_end = sof + 2 + usize::from(u16::from_be_bytes([plain[sof + 2], plain[sof + 3]]));
        let late = [
            &plain[..sof_end],
            &exif_app1(6, true)[..],
            &plain[sof_end..],
        ]
        .concat();
        let out = process_image(&late, &capped).unwrap();
        assert!(out.timings.scaled_decode);
        assert_turned_and_stripped(&out, (50, 100));

        // Less than twice the bound: decoded whole, then scaled.
        let near = process_image(&testdata::jpeg(180, 90), &capped).unwrap();
        assert!(!near.timings.scaled_decode);
        assert_eq!((near.width, near.height), (100, 50));
        // A grey JPEG is not 8-bit colour: the full decode takes it.
        let mut grey = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut grey, 90)
            .write_image(&[128u8; 400 * 200], 400, 200, ExtendedColorType::L8)
            .unwrap();
        let grey = process_image(&grey, &capped).unwrap();
        assert!(!grey.timings.scaled_decode);
        assert_eq!((grey.width, grey.height), (100, 50));
        // Damaged scan data, markers intact: an image or an error, never a panic.
        let mut damaged = testdata::jpeg(400, 200);
        let n = damaged.len();
        for b in &mut damaged[n / 2..n / 2 + 64] {
            *b = b.wrapping_mul(31).wrapping_add(7) | 0x01;
        }
        match process_image(&damaged, &capped) {
            Ok(out) => assert_eq!((out.width, out.height), (100, 50)),
            Err(e) => assert!(matches!(e, MediaError::Corrupt(_)), "{e:?}"),
        }
    }

    #[test]
    fn thumbnail_sizes() {
        assert_eq!(fit(4000, 3000, 1280), (1280, 960));
        assert_eq!(fit(1280, 960, 400), (400, 300));
        assert_eq!(fit(3000, 4000, 400), (300, 400));
        assert_eq!(fit(300, 200, 400), (300, 200));
        assert_eq!(fit(100_000, 10, 1280), (1280, 1));
        assert_eq!(fit(1, 1, 0), (1, 1));

        let big = process_image(&testdata::jpeg(4000, 3000), &limits()).unwrap();
        // The stored copy is scaled to `original_long_side` (2000), here while decoding.
        assert!(big.timings.scaled_decode);
        assert_eq!((big.width, big.height), (2000, 1500));
        assert_eq!(decode(&big.original).dimensions(), (2000, 1500));
        let sizes: Vec<_> = big
            .thumbs
            .iter()
            .map(|t| (t.label, t.width, t.height))
            .collect();
        assert_eq!(sizes, [("small", 400, 300), ("large", 1280, 960)]);
        for t in &big.thumbs {
            assert_eq!(t.encoded.kind, Kind::Jpeg);
            assert_eq!(decode(&t.encoded).dimensions(), (t.width, t.height));
        }

        let small = process_image(&testdata::jpeg(300, 200), &limits()).unwrap();
        let sizes: Vec<_> = small.thumbs.iter().map(|t| (t.width, t.height)).collect();
        assert_eq!(sizes, [(300, 200), (300, 200)]);
    }

    #[test]
    fn too_many_pixels_refused_from_the_header() {
        // Only a signature and an IHDR claiming 100000 × 100000: refusing it must not need
        // any pixel data (decoding would allocate 40 GB).
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&100_000u32.to_be_bytes());
        png.extend_from_slice(&100_000u32.to_be_bytes());
        png.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        let err = process_image(&png, &limits()).unwrap_err();
        assert!(
            matches!(
                err,
                MediaError::TooManyPixels {
                    width: 100_000,
                    height: 100_000,
                    max: 40_000_000
                }
            ),
            "{err:?}"
        );
        assert!(
            err.user_message().contains("100000 × 100000"),
            "{}",
            err.user_message()
        );
        assert!(err.is_user_error());

        let tight = ImageLimits {
            max_pixels: 100,
            ..limits()
        };
        for bytes in [
            testdata::jpeg(20, 20),
            testdata::png(20, 20, false),
            testdata::gif(20, 20, 2),
            testdata::webp(20, 20, false),
        ] {
            assert!(matches!(
                process_image(&bytes, &tight),
                Err(MediaError::TooManyPixels { .. })
            ));
        }
        // 12 MP passes the default limit (checked here from the header alone).
        let photo = testdata::jpeg(64, 48);
        let mut sof = photo.clone();
        let at = sof.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        sof[at + 5..at + 7].copy_from_slice(&3000u16.to_be_bytes());
        sof[at + 7..at + 9].copy_from_slice(&4000u16.to_be_bytes());
        assert_eq!(image_dimensions(Kind::Jpeg, &sof), Some((4000, 3000)));
        assert!(check_pixels(4000, 3000, &limits()).is_ok());
    }

    #[test]
    fn too_large_and_unsupported() {
        let tiny = ImageLimits {
            max_bytes: 10,
            ..limits()
        };
        assert!(matches!(
            process_image(&testdata::jpeg(8, 8), &tiny),
            Err(MediaError::TooLarge { .. })
        ));
        for bytes in [
            &b""[..],
            b"<html><body>hello</body></html>",
            b"PK\x03\x04\x14\0\0\0",
            &crate::media::video::tests::tiny_mp4(),
        ] {
            assert!(matches!(
                process_image(bytes, &limits()),
                Err(MediaError::Unsupported)
            ));
        }
    }

    #[test]
    fn truncated_jpeg_is_corrupt() {
        let jpeg = testdata::jpeg(64, 48);
        for cut in [jpeg.len() - 2, jpeg.len() * 3 / 4, jpeg.len() / 2] {
            let err = process_image(&jpeg[..cut], &limits()).unwrap_err();
            assert!(
                matches!(err, MediaError::Corrupt(_)),
                "cut at {cut}: {err:?}"
            );
            assert_eq!(
                err.user_message(),
                "This file is damaged or not a complete image."
            );
        }
        // Trailing bytes after the end marker are fine (some cameras add them).
        let mut padded = jpeg.clone();
        padded.extend_from_slice(&[0; 16]);
        assert!(process_image(&padded, &limits()).is_ok());
    }

    #[test]
    fn png_keeps_transparency_and_is_lossless() {
        let out = process_image(&testdata::png(64, 48, true), &limits()).unwrap();
        assert_eq!(out.original.kind, Kind::Png);
        let img = decode(&out.original).into_rgba8();
        assert_eq!(img.get_pixel(0, 0).0[3], 0);
        assert_eq!(img.get_pixel(63, 47).0, [20, 20, 230, 255]);
        // Thumbnails are JPEG, the transparent corner flattened onto white.
        let thumb = decode(&out.thumbs[0].encoded).into_rgb8();
        let corner = thumb.get_pixel(2, 2).0;
        assert!(corner.iter().all(|&c| c > 240), "{corner:?}");

        // Opaque PNG: still PNG (lossless in, lossless out), without an alpha channel.
        let out = process_image(&testdata::png(64, 48, false), &limits()).unwrap();
        assert_eq!(out.original.kind, Kind::Png);
        assert_eq!(decode(&out.original).color(), image::ColorType::Rgb8);
    }

    #[test]
    fn lossless_webp_becomes_png() {
        let out = process_image(&testdata::webp(64, 48, true), &limits()).unwrap();
        assert_eq!(out.original.kind, Kind::Png);
        assert_eq!((out.width, out.height), (64, 48));
        assert!(!out.animated);
    }

    #[test]
    fn animated_gif_keeps_its_bytes() {
        let gif = testdata::gif(64, 48, 3);
        let out = process_image(&gif, &limits()).unwrap();
        assert!(out.animated);
        assert_eq!(out.original.kind, Kind::Gif);
        assert_eq!(out.original.bytes, gif);
        assert_eq!((out.width, out.height), (64, 48));
        assert_eq!(out.thumbs.len(), 2);
        assert!(out.thumbs.iter().all(|t| t.encoded.kind == Kind::Jpeg));
        // The first frame has green 0: the thumbnail's left half is red.
        let thumb = decode(&out.thumbs[0].encoded).into_rgb8();
        let p = thumb.get_pixel(5, 24).0;
        assert!(p[0] > 180 && p[1] < 60, "{p:?}");

        // Comments and XMP are dropped, the frames kept.
        let (with, without) = testdata::gif_with_metadata();
        let out = process_image(&with, &limits()).unwrap();
        assert!(out.animated);
        assert_eq!(out.original.bytes, without);

        // A single frame is a still image, stored as PNG.
        let out = process_image(&testdata::gif(16, 16, 1), &limits()).unwrap();
        assert!(!out.animated);
        assert_eq!(out.original.kind, Kind::Png);

        // Too many frames for the budget.
        let budget = ImageLimits {
            max_animation_pixels: 64 * 48 * 2,
            ..limits()
        };
        assert!(matches!(
            process_image(&gif, &budget),
            Err(MediaError::AnimationTooLarge { .. })
        ));
    }

    #[test]
    fn animated_webp_keeps_its_frames_and_loses_exif() {
        let webp = testdata::animated_webp(32, 24, 3);
        let out = process_image(&webp, &limits()).unwrap();
        assert!(out.animated);
        assert_eq!(out.original.kind, Kind::Webp);
        assert_eq!((out.width, out.height), (32, 24));
        assert!(!contains(&out.original.bytes, b"secret-gps"));
        assert!(!contains(&out.original.bytes, b"EXIF"));
        // Exactly the EXIF chunk (8-byte header + 20 bytes) is gone.
        assert_eq!(out.original.bytes.len(), webp.len() - 28);
        // What is kept still decodes, with every frame.
        let d = WebPDecoder::new(Cursor::new(&out.original.bytes[..])).unwrap();
        assert_eq!(d.into_frames().count(), 3);
        assert_eq!(out.thumbs[0].width, 32);
    }

    #[test]
    fn gif_frame_larger_than_its_screen_is_refused_cheaply() {
        // A 1 × 1 screen with one 65535 × 65535 frame: 17 GB of pixels if anything believed it.
        let mut gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff".to_vec();
        gif.extend_from_slice(b"\x2c\x00\x00\x00\x00\xff\xff\xff\xff\x00\x02\x02\x44\x01\x00");
        let mut two = gif.clone();
        two.extend_from_slice(&gif[19..]);
        gif.push(0x3b);
        two.push(0x3b);
        for bytes in [gif, two] {
            let started = std::time::Instant::now();
            let r = process_image(&bytes, &limits());
            assert!(
                r.is_err() || r.as_ref().is_ok_and(|p| p.width == 1),
                "{r:?}"
            );
            assert!(started.elapsed() < std::time::Duration::from_secs(5));
        }
    }

    #[test]
    fn never_panics() {
        // Twice: the second time a bound of 4 px sends every JPEG through the reduced decode.
        for limits in [
            limits(),
            ImageLimits {
                original_long_side: 4,
                ..limits()
            },
        ] {
            never_panics_with(&limits);
        }
    }

    fn never_panics_with(limits: &ImageLimits) {
        let samples = [
            with_app1(&testdata::jpeg(24, 16), &exif_app1(6, true)),
            testdata::png(24, 16, true),
            testdata::gif(24, 16, 2),
            testdata::webp(24, 16, true),
            testdata::animated_webp(16, 12, 2),
        ];
        for sample in &samples {
            let out = process_image(sample, limits).unwrap();
            if sample.starts_with(&[0xFF, 0xD8]) {
                assert_eq!(out.timings.scaled_decode, limits.original_long_side == 4);
            }
            for n in 0..sample.len() {
                let r = process_image(&sample[..n], limits);
                // Anything cut short is refused, except a PNG missing only part of its
                // closing IEND chunk, which still holds the whole picture.
                if !(sample.starts_with(b"\x89PNG") && n + 12 >= sample.len()) {
                    assert!(r.is_err(), "prefix {n} of {} accepted", sample.len());
                }
            }
        }
        // Random bytes, bare and behind every accepted signature.
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let prefixes: [&[u8]; 5] = [
            b"",
            &[0xFF, 0xD8, 0xFF],
            b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x10\0\0\0\x10",
            b"GIF89a\x10\0\x10\0",
            b"RIFF\0\x01\0\0WEBPVP8L",
        ];
        for i in 0..400 {
            let len = (next() % 600) as usize;
            let mut bytes = prefixes[i % prefixes.len()].to_vec();
            bytes.extend((0..len).map(|_| next() as u8));
            assert!(process_image(&bytes, limits).is_err());
        }
        // Flipped bytes inside valid files.
        for sample in &samples {
            for _ in 0..100 {
                let mut bytes = sample.clone();
                let at = (next() as usize) % bytes.len();
                bytes[at] ^= (next() as u8) | 1;
                let _ = process_image(&bytes, limits);
            }
        }
    }
}
