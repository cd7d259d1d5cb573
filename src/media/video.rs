//! A first look at an uploaded video: its type from the bytes, and where cheap its size and
//! duration from the container headers (MP4 `moov/mvhd` and `trak/tkhd`, WebM `Info` and
//! `Tracks`). Videos are stored as uploaded, not transcoded; nothing here decodes a frame.
//! The box and element walkers are bounded and never panic.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::sniff::{be32, be64, ebml_vint, sniff};
use super::{Kind, MediaError};

/// Largest `moov` box read into memory (a long video's sample tables run to a few MB).
const MAX_MOOV: u64 = 64 * 1024 * 1024;
/// Most top-level MP4 boxes walked before giving up.
const MAX_TOP_BOXES: usize = 10_000;
/// How much of a WebM file is searched for its Info and Tracks elements.
const WEBM_HEAD: u64 = 4 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct VideoInfo {
    pub kind: Kind,
    /// Displayed size (a rotation in an MP4 track matrix is applied), when the header says.
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_secs: Option<f64>,
}

/// Probes a video file on disk (see [`probe_video_reader`]).
pub fn probe_video(path: &Path) -> Result<VideoInfo, MediaError> {
    probe_video_reader(BufReader::new(File::open(path)?))
}

/// Checks that the stream is an MP4 or WebM weft accepts and reads what its headers say.
/// An MP4 must have a `moov` box and no box may run past the end of the file (a cut-short
/// upload is `Corrupt`); a WebM must have a Segment.
pub fn probe_video_reader<R: Read + Seek>(mut r: R) -> Result<VideoInfo, MediaError> {
    let mut head = [0u8; 64];
    let n = read_up_to(&mut r, &mut head)?;
    let kind = sniff(&head[..n])
        .filter(|k| k.is_video())
        .ok_or(MediaError::Unsupported)?;
    let len = r.seek(SeekFrom::End(0))?;
    r.seek(SeekFrom::Start(0))?;
    match kind {
        Kind::Mp4 => probe_mp4(r, len),
        _ => probe_webm(r, len),
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn probe_mp4<R: Read + Seek>(mut r: R, len: u64) -> Result<VideoInfo, MediaError> {
    let mut info = VideoInfo {
        kind: Kind::Mp4,
        width: None,
        height: None,
        duration_secs: None,
    };
    let mut pos = 0u64;
    let mut found_moov = false;
    for _ in 0..MAX_TOP_BOXES {
        if pos == len {
            break;
        }
        r.seek(SeekFrom::Start(pos))?;
        let mut header = [0u8; 16];
        let got = read_up_to(&mut r, &mut header)?;
        let size32 = be32(&header[..got], 0).ok_or_else(cut_short)?;
        let fourcc: [u8; 4] = header[4..8].try_into().map_err(|_| cut_short())?;
        let (size, header_len) = match size32 {
            0 => (len - pos, 8),
            1 => (be64(&header[..got], 8).ok_or_else(cut_short)?, 16),
            n => (u64::from(n), 8),
        };
        if size < header_len || size > len - pos {
            return Err(cut_short());
        }
        if &fourcc == b"moov" {
            found_moov = true;
            let body_len = size - header_len;
            if body_len <= MAX_MOOV {
                r.seek(SeekFrom::Start(pos + header_len))?;
                let mut body = vec![0u8; usize::try_from(body_len).unwrap_or(0)];
                r.read_exact(&mut body)?;
                read_moov(&body, &mut info);
            }
        }
        pos += size;
    }
    if !found_moov {
        return Err(MediaError::corrupt("MP4 without a moov box"));
    }
    Ok(info)
}

fn cut_short() -> MediaError {
    MediaError::corrupt("MP4 box runs past the end of the file")
}

/// Child boxes of an in-memory box body. Stops at the first box that does not fit.
fn boxes(mut b: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    std::iter::from_fn(move || {
        let size = be32(b, 0)?;
        let fourcc: [u8; 4] = b.get(4..8)?.try_into().ok()?;
        let (size, header) = match size {
            0 => (b.len(), 8),
            1 => (usize::try_from(be64(b, 8)?).ok()?, 16),
            n => (usize::try_from(n).ok()?, 8),
        };
        if size < header {
            return None;
        }
        let body = b.get(header..size)?;
        b = &b[size..];
        Some((fourcc, body))
    })
}

fn read_moov(moov: &[u8], info: &mut VideoInfo) {
    for (fourcc, body) in boxes(moov) {
        match &fourcc {
            b"mvhd" => {
                let (timescale, duration) = match body.first() {
                    Some(1) => (be32(body, 20), be64(body, 24)),
                    _ => (be32(body, 12), be32(body, 16).map(u64::from)),
                };
                if let (Some(ts @ 1..), Some(d)) = (timescale, duration)
                    && d != 0
                    && d != u64::from(u32::MAX)
                    && d != u64::MAX
                {
                    info.duration_secs = Some(d as f64 / f64::from(ts));
                }
            }
            b"trak" if info.width.is_none() => {
                if let Some((w, h)) = video_track_size(body) {
                    info.width = Some(w);
                    info.height = Some(h);
                }
            }
            _ => {}
        }
    }
}

/// The displayed size of a track if it is a video track (`mdia/hdlr` says `vide`).
fn video_track_size(trak: &[u8]) -> Option<(u32, u32)> {
    let mut size = None;
    let mut is_video = false;
    for (fourcc, body) in boxes(trak) {
        match &fourcc {
            b"tkhd" => {
                let base = if body.first() == Some(&1) { 52 } else { 40 };
                // Matrix a, b (16.16 fixed point), then width and height (16.16).
                let a = be32(body, base)?;
                let bm = be32(body, base + 4)?;
                let w = be32(body, base + 36)? >> 16;
                let h = be32(body, base + 40)? >> 16;
                let rotated = a == 0 && (bm == 0x0001_0000 || bm == 0xFFFF_0000);
                size = (w > 0 && h > 0).then_some(if rotated { (h, w) } else { (w, h) });
            }
            b"mdia" => {
                is_video = boxes(body)
                    .any(|(f, b)| &f == b"hdlr" && b.get(8..12) == Some(b"vide".as_slice()));
            }
            _ => {}
        }
    }
    if is_video { size } else { None }
}

fn probe_webm<R: Read + Seek>(r: R, len: u64) -> Result<VideoInfo, MediaError> {
    let mut head = Vec::new();
    r.take(WEBM_HEAD.min(len)).read_to_end(&mut head)?;
    let mut info = VideoInfo {
        kind: Kind::Webm,
        width: None,
        height: None,
        duration_secs: None,
    };
    let mut found_segment = false;
    let mut timecode_scale = 1_000_000u64;
    let mut duration = None;
    let mut in_video_track = false;
    let mut pos = 0usize;
    // A flat walk: master elements are entered (their children follow), others skipped.
    while let Some((id, id_len)) = ebml_id(head.get(pos..).unwrap_or_default()) {
        let Some((size, size_len)) = ebml_vint(head.get(pos + id_len..).unwrap_or_default()) else {
            break;
        };
        let body = pos + id_len + size_len;
        let unknown = size == (1u64 << (7 * size_len)) - 1;
        match id {
            // Segment, Info, Tracks, TrackEntry, Video: descend.
            0x1853_8067 => {
                found_segment = true;
                pos = body;
                continue;
            }
            0x1549_A966 | 0x1654_AE6B | 0xE0 => {
                pos = body;
                continue;
            }
            0xAE => {
                in_video_track = false;
                pos = body;
                continue;
            }
            // Cluster: the media data starts; nothing more to learn.
            0x1F43_B675 => break,
            _ => {}
        }
        if unknown {
            break;
        }
        let Some(data) = usize::try_from(size)
            .ok()
            .and_then(|s| head.get(body..body.checked_add(s)?))
        else {
            break;
        };
        match id {
            0x2A_D7B1 => timecode_scale = uint(data).unwrap_or(timecode_scale),
            0x4489 => duration = float(data),
            0x83 => in_video_track = uint(data) == Some(1),
            0xB0 if in_video_track && info.width.is_none() => {
                info.width = uint(data).and_then(|v| u32::try_from(v).ok());
            }
            0xBA if in_video_track && info.height.is_none() => {
                info.height = uint(data).and_then(|v| u32::try_from(v).ok());
            }
            _ => {}
        }
        pos = body + data.len();
    }
    if !found_segment {
        return Err(MediaError::corrupt("WebM without a Segment"));
    }
    // Duration counts TimecodeScale nanoseconds.
    info.duration_secs = duration
        .map(|d| d * timecode_scale as f64 / 1e9)
        .filter(|d| d.is_finite() && *d > 0.0);
    if info.width.is_none() || info.height.is_none() {
        info.width = None;
        info.height = None;
    }
    Ok(info)
}

/// An EBML element ID (the length marker kept, as IDs are written) and its length.
fn ebml_id(b: &[u8]) -> Option<(u32, usize)> {
    let first = *b.first()?;
    let n = first.leading_zeros() as usize + 1;
    if n > 4 {
        return None;
    }
    let bytes = b.get(..n)?;
    Some((bytes.iter().fold(0u32, |v, &x| (v << 8) | u32::from(x)), n))
}

fn uint(b: &[u8]) -> Option<u64> {
    (b.len() <= 8).then(|| b.iter().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
}

fn float(b: &[u8]) -> Option<f64> {
    match b.len() {
        4 => Some(f64::from(f32::from_bits(be32(b, 0)?))),
        8 => Some(f64::from_bits(be64(b, 0)?)),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Cursor;

    use super::*;

    fn mp4_box(fourcc: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(fourcc);
        v.extend_from_slice(body);
        v
    }

    /// A minimal MP4: ftyp, a moov with mvhd (10 s) and one video track 1920 × 1080 turned
    /// 90° (so displayed 1080 × 1920), and an mdat.
    pub(crate) fn tiny_mp4() -> Vec<u8> {
        let ftyp = mp4_box(b"ftyp", b"isom\0\0\x02\0isomavc1mp41");
        let mut mvhd = vec![0u8; 100];
        mvhd[12..16].copy_from_slice(&1000u32.to_be_bytes());
        mvhd[16..20].copy_from_slice(&10_000u32.to_be_bytes());
        let mut tkhd = vec![0u8; 84];
        // Matrix for a 90° rotation: a = 0, b = 1.0, c = -1.0, d = 0.
        tkhd[44..48].copy_from_slice(&0x0001_0000u32.to_be_bytes());
        tkhd[48..52].copy_from_slice(&0xFFFF_0000u32.to_be_bytes());
        tkhd[76..80].copy_from_slice(&(1920u32 << 16).to_be_bytes());
        tkhd[80..84].copy_from_slice(&(1080u32 << 16).to_be_bytes());
        let hdlr = mp4_box(b"hdlr", b"\0\0\0\0\0\0\0\0vide\0\0\0\0\0\0\0\0\0\0\0\0\0");
        let trak = mp4_box(
            b"trak",
            &[mp4_box(b"tkhd", &tkhd), mp4_box(b"mdia", &hdlr)].concat(),
        );
        let moov = mp4_box(b"moov", &[mp4_box(b"mvhd", &mvhd), trak].concat());
        [ftyp, moov, mp4_box(b"mdat", &[0u8; 32])].concat()
    }

    #[test]
    fn mp4_size_rotation_and_duration() {
        let info = probe_video_reader(Cursor::new(tiny_mp4())).unwrap();
        assert_eq!(info.kind, Kind::Mp4);
        assert_eq!((info.width, info.height), (Some(1080), Some(1920)));
        assert_eq!(info.duration_secs, Some(10.0));
    }

    #[test]
    fn mp4_cut_short_or_without_moov_is_corrupt() {
        let mp4 = tiny_mp4();
        assert!(matches!(
            probe_video_reader(Cursor::new(&mp4[..mp4.len() - 1])),
            Err(MediaError::Corrupt(_))
        ));
        let ftyp_only = mp4_box(b"ftyp", b"isom\0\0\x02\0isomavc1mp41");
        assert!(matches!(
            probe_video_reader(Cursor::new(ftyp_only)),
            Err(MediaError::Corrupt(_))
        ));
        for n in 0..mp4.len() {
            let _ = probe_video_reader(Cursor::new(&mp4[..n]));
        }
    }

    #[test]
    fn webm_size_and_duration() {
        // EBML header (DocType webm), Segment of unknown size, Info (TimecodeScale 1 ms,
        // Duration 2500.0 as f32), Tracks/TrackEntry (type 1, Video 640 × 360), Cluster.
        let mut v = vec![0x1A, 0x45, 0xDF, 0xA3, 0x87, 0x42, 0x82, 0x84];
        v.extend_from_slice(b"webm");
        v.extend_from_slice(&[
            0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        v.extend_from_slice(&[0x15, 0x49, 0xA9, 0x66, 0x8E]);
        v.extend_from_slice(&[0x2A, 0xD7, 0xB1, 0x83, 0x0F, 0x42, 0x40]);
        v.extend_from_slice(&[0x44, 0x89, 0x84]);
        v.extend_from_slice(&2500.0f32.to_bits().to_be_bytes());
        v.extend_from_slice(&[0x16, 0x54, 0xAE, 0x6B, 0x8F, 0xAE, 0x8D, 0x83, 0x81, 0x01]);
        v.extend_from_slice(&[0xE0, 0x88, 0xB0, 0x82, 0x02, 0x80, 0xBA, 0x82, 0x01, 0x68]);
        v.extend_from_slice(&[
            0x1F, 0x43, 0xB6, 0x75, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        let info = probe_video_reader(Cursor::new(&v)).unwrap();
        assert_eq!(info.kind, Kind::Webm);
        assert_eq!((info.width, info.height), (Some(640), Some(360)));
        assert_eq!(info.duration_secs, Some(2.5));
        for n in 0..v.len() {
            let _ = probe_video_reader(Cursor::new(&v[..n]));
        }
    }

    #[test]
    fn not_a_video() {
        assert!(matches!(
            probe_video_reader(Cursor::new(b"GIF89a".to_vec())),
            Err(MediaError::Unsupported)
        ));
        assert!(matches!(
            probe_video_reader(Cursor::new(Vec::new())),
            Err(MediaError::Unsupported)
        ));
    }
}
