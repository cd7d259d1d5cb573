//! Pure media processing: what an uploaded file is (from its bytes, never its name), turning an
//! image into a metadata-free original plus thumbnails and a blurhash, a first look at videos,
//! and content-addressed blob storage. Blocking functions only: no SQL, no HTTP, no async. The
//! caller runs them on a bounded blocking pool.

pub mod bench;
mod blur;
mod derived;
mod process;
mod sniff;
mod storage;
mod strip;
#[cfg(test)]
mod testdata;
mod video;

use std::time::Duration;

use sha2::{Digest, Sha256};

pub use derived::{placeholder_data_url, square};
pub use process::process_image;
pub use sniff::{image_dimensions, sniff};
pub use storage::{BlobKey, BlobStore, FsStore, InvalidKey, sha256_file};
pub use video::{VideoInfo, probe_video, probe_video_reader};

/// The file types weft accepts, as detected from their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Jpeg,
    Png,
    Gif,
    Webp,
    Mp4,
    Webm,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Jpeg,
        Kind::Png,
        Kind::Gif,
        Kind::Webp,
        Kind::Mp4,
        Kind::Webm,
    ];

    pub fn mime(self) -> &'static str {
        match self {
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
            Kind::Gif => "image/gif",
            Kind::Webp => "image/webp",
            Kind::Mp4 => "video/mp4",
            Kind::Webm => "video/webm",
        }
    }

    /// File extension without the dot; also the extension of stored blobs.
    pub fn ext(self) -> &'static str {
        match self {
            Kind::Jpeg => "jpg",
            Kind::Png => "png",
            Kind::Gif => "gif",
            Kind::Webp => "webp",
            Kind::Mp4 => "mp4",
            Kind::Webm => "webm",
        }
    }

    /// The kind whose `ext()` is exactly `ext` (lower case, as stored).
    pub fn from_ext(ext: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.ext() == ext)
    }

    pub fn is_image(self) -> bool {
        matches!(self, Kind::Jpeg | Kind::Png | Kind::Gif | Kind::Webp)
    }

    pub fn is_video(self) -> bool {
        matches!(self, Kind::Mp4 | Kind::Webm)
    }
}

/// Limits against decompression bombs and the thumbnail sizes. `Default` is what an instance
/// uses unless configured otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageLimits {
    /// Largest accepted image file, in bytes.
    pub max_bytes: u64,
    /// Largest accepted width × height. Checked from the file header before any pixel is
    /// decoded.
    pub max_pixels: u64,
    /// Largest sum of width × height over all frames of an animation (each frame is decoded
    /// once to check that the file is sound).
    pub max_animation_pixels: u64,
    /// Long side of the small thumbnail (timelines).
    pub thumb_small: u32,
    /// Long side of the large thumbnail (the post page, the lightbox on small screens).
    pub thumb_large: u32,
    /// Long side of the stored, re-encoded original (the lightbox, the download); larger
    /// images are scaled down to it. 0 keeps every image at its uploaded size.
    pub original_long_side: u32,
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits {
            max_bytes: 32 * 1024 * 1024,
            max_pixels: 40_000_000,
            max_animation_pixels: 250_000_000,
            thumb_small: 400,
            thumb_large: 1280,
            original_long_side: 2000,
        }
    }
}

/// Why a file was refused. `Display` is for the log; [`MediaError::user_message`] is for the
/// person who uploaded it.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("unsupported file type")]
    Unsupported,
    #[error("image is {width}x{height} pixels, over the limit of {max}")]
    TooManyPixels { width: u32, height: u32, max: u64 },
    #[error("animation too large: more than {max_pixels} pixels over all frames")]
    AnimationTooLarge { max_pixels: u64 },
    #[error("file is {bytes} bytes, over the limit of {max}")]
    TooLarge { bytes: u64, max: u64 },
    /// Truncated or undecodable; the detail is for the log only.
    #[error("corrupt file: {0}")]
    Corrupt(String),
    /// Encoding our own output failed: a bug or resource problem on our side.
    #[error("encoding failed: {0}")]
    Encode(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl MediaError {
    /// True when the file is at fault (answer 4xx); false for our own failures (5xx).
    pub fn is_user_error(&self) -> bool {
        !matches!(self, MediaError::Encode(_) | MediaError::Io(_))
    }

    /// A sentence that says what went wrong and what to do about it.
    pub fn user_message(&self) -> String {
        match self {
            MediaError::Unsupported => "This file type is not supported. Upload a JPEG, PNG, GIF \
                 or WebP image, or an MP4 or WebM video."
                .into(),
            MediaError::TooManyPixels { width, height, max } => format!(
                "This image is {width} × {height} pixels; the limit is {} megapixels. \
                 Resize it and try again.",
                max / 1_000_000
            ),
            MediaError::AnimationTooLarge { .. } => "This animation has too many or too large \
                 frames. Shorten it or make it smaller, or upload it as a video."
                .into(),
            MediaError::TooLarge { max, .. } => format!(
                "This file is larger than the limit of {} MB. Make it smaller and try again.",
                max / 1_000_000
            ),
            MediaError::Corrupt(_) => "This file is damaged or not a complete image.".into(),
            MediaError::Encode(_) | MediaError::Io(_) => {
                "Something went wrong on our side while processing this file. Try again later."
                    .into()
            }
        }
    }

    pub(crate) fn corrupt(detail: impl std::fmt::Display) -> Self {
        MediaError::Corrupt(detail.to_string())
    }
}

/// Bytes ready to store, with their format and content hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    /// The format of `bytes` (not necessarily the uploaded format).
    pub kind: Kind,
    /// Lower-case hex SHA-256 of `bytes`.
    pub sha256_hex: String,
}

impl Encoded {
    pub fn new(bytes: Vec<u8>, kind: Kind) -> Self {
        let sha256_hex = sha256_hex(&bytes);
        Encoded {
            bytes,
            kind,
            sha256_hex,
        }
    }

    /// Where these bytes live in a [`BlobStore`].
    pub fn key(&self) -> BlobKey {
        BlobKey::for_kind(&self.sha256_hex, self.kind)
    }
}

/// One thumbnail. Always JPEG (transparent images are flattened onto white).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumb {
    /// "small" or "large".
    pub label: &'static str,
    pub encoded: Encoded,
    pub width: u32,
    pub height: u32,
}

/// Where the time of one `process_image` call went (for the benchmark and the log).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StageTimings {
    /// Header checks and decoding the pixels (for animations: every frame).
    pub decode: Duration,
    /// Applying the EXIF orientation.
    pub orient: Duration,
    /// Scaling for both thumbnails and the blurhash.
    pub resize: Duration,
    /// Encoding the original and the thumbnails.
    pub encode: Duration,
    /// SHA-256 of every output and the blurhash.
    pub hash: Duration,
    /// The JPEG was decoded at a reduced size (see `process::scaled_jpeg`).
    pub scaled_decode: bool,
}

/// The result of processing one uploaded image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessedImage {
    /// What to store and serve as the full-size image: re-encoded without any metadata (JPEG
    /// for lossy input, PNG for lossless or transparent input), or for an animation the
    /// uploaded bytes with metadata blocks removed.
    pub original: Encoded,
    /// Small then large. Never upscaled: a smaller image gives thumbnails at its own size.
    pub thumbs: Vec<Thumb>,
    /// Displayed size, after orientation.
    pub width: u32,
    pub height: u32,
    /// 4×3 components.
    pub blurhash: String,
    pub animated: bool,
    pub timings: StageTimings,
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}
