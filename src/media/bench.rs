//! `weft bench media`: how long `process_image` takes on a phone-sized photo, one at a time
//! (the JPEG decoder uses helper threads: `taskset -c 0` gives the one-core figure).
//! The photo is made in memory (gradients, shapes and sensor-like noise, so the codecs do real
//! work) and carries an EXIF block with orientation 6 and a GPS position, as a phone writes
//! it, so the run includes rotating the pixels and dropping the metadata.

use std::fmt;
use std::time::{Duration, Instant};

use super::{ImageLimits, MediaError, ProcessedImage, StageTimings, process_image};

#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Size of the generated 4:3 photo.
    pub megapixels: f64,
    /// Times `process_image` runs on it.
    pub runs: usize,
    /// EXIF orientation written into the photo: 6 (a phone held upright) makes every run
    /// rotate the pixels, 1 skips that.
    pub orientation: u16,
    /// `ImageLimits::original_long_side` (0: the original is re-encoded at full size).
    pub original_long_side: u32,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            megapixels: 12.0,
            runs: 15,
            orientation: 6,
            original_long_side: ImageLimits::default().original_long_side,
        }
    }
}

#[derive(Debug, Clone)]
pub struct BenchReport {
    pub width: u32,
    pub height: u32,
    pub input_bytes: usize,
    pub orientation: u16,
    pub runs: Vec<Duration>,
    /// CPU time of the process per run (all its threads), when the OS tells. Unlike wall
    /// time it does not grow while other processes hold the cores.
    pub cpu: Option<Vec<Duration>>,
    /// Per-stage medians.
    pub stages: StageTimings,
    /// The output of the last run.
    pub last: ProcessedImage,
    /// Peak resident memory of the process while processing (VmHWM), if the OS tells.
    pub peak_rss_mb: Option<f64>,
}

/// Generates the photo and processes it `runs` times.
pub fn run(opts: &BenchOptions) -> Result<BenchReport, MediaError> {
    let pixels = (opts.megapixels.max(0.01) * 1e6).round();
    let width = (pixels * 4.0 / 3.0).sqrt().round() as u32;
    let height = (f64::from(width) * 0.75).round().max(1.0) as u32;
    let jpeg = synthetic_photo(width, height, opts.orientation)?;
    let limits = ImageLimits {
        original_long_side: opts.original_long_side,
        ..ImageLimits::default()
    };
    // Start the peak-memory count here, so it covers processing and not the generation.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let mut runs = Vec::with_capacity(opts.runs);
    let mut stages = Vec::with_capacity(opts.runs);
    let mut cpu = Some(Vec::with_capacity(opts.runs));
    let mut last = None;
    for _ in 0..opts.runs.max(1) {
        let cpu_before = process_cpu();
        let t = Instant::now();
        let out = process_image(&jpeg, &limits)?;
        runs.push(t.elapsed());
        match (cpu_before, process_cpu(), cpu.as_mut()) {
            (Some(a), Some(b), Some(v)) => v.push(b.saturating_sub(a)),
            _ => cpu = None,
        }
        stages.push(out.timings);
        last = Some(out);
    }
    let last = last.ok_or_else(|| MediaError::Encode("no run".into()))?;
    let med = |f: fn(&StageTimings) -> Duration| median(stages.iter().map(f).collect());
    Ok(BenchReport {
        width,
        height,
        input_bytes: jpeg.len(),
        orientation: opts.orientation,
        stages: StageTimings {
            decode: med(|s| s.decode),
            orient: med(|s| s.orient),
            resize: med(|s| s.resize),
            encode: med(|s| s.encode),
            hash: med(|s| s.hash),
            scaled_decode: stages.iter().all(|s| s.scaled_decode),
        },
        runs,
        cpu,
        last,
        peak_rss_mb: peak_rss_mb(),
    })
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn kb(n: usize) -> String {
    if n >= 1_000_000 {
        format!("{:.2} MB", n as f64 / 1e6)
    } else {
        format!("{:.0} KB", n as f64 / 1e3)
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sorted = self.runs.clone();
        sorted.sort();
        let min = sorted.first().copied().unwrap_or_default();
        let max = sorted.last().copied().unwrap_or_default();
        writeln!(
            f,
            "input: {} × {} JPEG ({:.1} MP, {}, EXIF orientation {} + GPS)",
            self.width,
            self.height,
            f64::from(self.width) * f64::from(self.height) / 1e6,
            kb(self.input_bytes),
            self.orientation
        )?;
        writeln!(
            f,
            "process_image, {} runs one after another: median {:.1} ms, min {:.1} ms, max {:.1} ms",
            self.runs.len(),
            ms(median(self.runs.clone())),
            ms(min),
            ms(max)
        )?;
        if let Some(cpu) = &self.cpu {
            let mut c = cpu.clone();
            c.sort();
            writeln!(
                f,
                "CPU time per image, all threads: median {:.1} ms, min {:.1} ms (wall time \
                 above includes waiting for a core if the machine is busy; run under \
                 `taskset -c 0` for one core)",
                ms(median(c.clone())),
                ms(c.first().copied().unwrap_or_default())
            )?;
        }
        let s = &self.stages;
        writeln!(
            f,
            "stages (medians): decode {:.1} ms, orient {:.1} ms, resize {:.1} ms, encode {:.1} ms, \
             hash+blurhash {:.1} ms",
            ms(s.decode),
            ms(s.orient),
            ms(s.resize),
            ms(s.encode),
            ms(s.hash)
        )?;
        if s.scaled_decode {
            writeln!(
                f,
                "decoded at a reduced size in the DCT domain (see process::scaled_jpeg)"
            )?;
        }
        let o = &self.last;
        write!(
            f,
            "output: original {} × {} {} {}",
            o.width,
            o.height,
            o.original.kind.ext(),
            kb(o.original.bytes.len())
        )?;
        for t in &o.thumbs {
            write!(
                f,
                "; {} {} × {} {}",
                t.label,
                t.width,
                t.height,
                kb(t.encoded.bytes.len())
            )?;
        }
        writeln!(f, "; blurhash {}", o.blurhash)?;
        match self.peak_rss_mb {
            Some(mb) => write!(f, "peak memory (VmHWM) while processing: {mb:.0} MB"),
            None => write!(f, "peak memory: not available on this system"),
        }
    }
}

/// CPU time the whole process has used, user and system, including threads that have ended
/// (the JPEG decoder runs its IDCT on helper threads).
fn process_cpu() -> Option<Duration> {
    // SAFETY: getrusage only writes the struct it is given, which is zeroed and ours.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut u) != 0 {
            return None;
        }
        u
    };
    let tv = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).ok()?)
            .checked_add(Duration::from_micros(u64::try_from(t.tv_usec).ok()?))
    };
    tv(usage.ru_utime)?.checked_add(tv(usage.ru_stime)?)
}

/// VmHWM from /proc/self/status, in MB.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// A photo-like JPEG (quality 92, 4:2:0) with a phone's EXIF block (the orientation, GPS).
pub fn synthetic_photo(width: u32, height: u32, orientation: u16) -> Result<Vec<u8>, MediaError> {
    let (w, h) = (width as usize, height as usize);
    let mut rgb = vec![0u8; w * h * 3];
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut noise = move || {
        // xorshift64*: cheap, deterministic.
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        (seed.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as i32 - 128
    };
    // Discs and boxes: (centre x, centre y, radius, colour), as fractions of the size.
    let discs = [
        (0.25, 0.35, 0.12, [220, 60, 40]),
        (0.70, 0.60, 0.20, [40, 160, 90]),
        (0.55, 0.25, 0.07, [250, 220, 60]),
    ];
    let boxes = [
        (0.05, 0.70, 0.30, 0.95, [30, 40, 120]),
        (0.80, 0.05, 0.95, 0.40, [200, 200, 210]),
    ];
    for y in 0..h {
        let fy = y as f32 / h as f32;
        for x in 0..w {
            let fx = x as f32 / w as f32;
            // Sky-to-ground gradient with a gentle ripple.
            let ripple = ((fx * 40.0).sin() * (fy * 25.0).cos() * 18.0) as i32;
            let mut c = [
                (90.0 + 120.0 * fx) as i32 + ripple,
                (140.0 + 60.0 * (1.0 - fy)) as i32,
                (230.0 - 150.0 * fy) as i32 - ripple,
            ];
            for &(cx, cy, r, col) in &discs {
                let (dx, dy) = (fx - cx, (fy - cy) * 0.75);
                if dx * dx + dy * dy < r * r {
                    c = col;
                }
            }
            for &(x0, y0, x1, y1, col) in &boxes {
                if fx >= x0 && fx < x1 && fy >= y0 && fy < y1 {
                    c = col;
                }
            }
            let n = noise() / 10;
            let p = &mut rgb[(y * w + x) * 3..(y * w + x) * 3 + 3];
            for (out, v) in p.iter_mut().zip(c) {
                *out = (v + n).clamp(0, 255) as u8;
            }
        }
    }
    // 4:2:0 at quality 92, as phone cameras write.
    let (Ok(w16), Ok(h16)) = (u16::try_from(width), u16::try_from(height)) else {
        return Err(MediaError::Encode("bench photo too large for JPEG".into()));
    };
    let mut jpeg = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut jpeg, 92);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    encoder
        .encode(&rgb, w16, h16, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| MediaError::Encode(e.to_string()))?;
    Ok(with_app1(&jpeg, &exif_app1(orientation, true)))
}

/// Inserts a segment right after a JPEG's SOI marker.
pub(crate) fn with_app1(jpeg: &[u8], segment: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(jpeg.len() + segment.len());
    out.extend_from_slice(jpeg.get(..2).unwrap_or_default());
    out.extend_from_slice(segment);
    out.extend_from_slice(jpeg.get(2..).unwrap_or_default());
    out
}

/// The latitude 52° 31′ 12.34″ as EXIF rationals, as it appears in the GPS IFD.
pub(crate) const GPS_LATITUDE: [u8; 24] = [
    52, 0, 0, 0, 1, 0, 0, 0, 31, 0, 0, 0, 1, 0, 0, 0, 0xD2, 0x04, 0, 0, 100, 0, 0, 0,
];

/// A JPEG APP1 segment (marker included) with a little-endian EXIF block: IFD0 holds the
/// orientation and, if `gps`, a pointer to a GPS IFD with GPSLatitudeRef and GPSLatitude.
pub(crate) fn exif_app1(orientation: u16, gps: bool) -> Vec<u8> {
    let entry = |tiff: &mut Vec<u8>, tag: u16, typ: u16, count: u32, value: [u8; 4]| {
        tiff.extend_from_slice(&tag.to_le_bytes());
        tiff.extend_from_slice(&typ.to_le_bytes());
        tiff.extend_from_slice(&count.to_le_bytes());
        tiff.extend_from_slice(&value);
    };
    let mut tiff = b"II\x2a\x00\x08\x00\x00\x00".to_vec();
    let n: u16 = if gps { 2 } else { 1 };
    tiff.extend_from_slice(&n.to_le_bytes());
    let o = orientation.to_le_bytes();
    entry(&mut tiff, 0x0112, 3, 1, [o[0], o[1], 0, 0]);
    // IFD0 is 2 + 12n + 4 bytes from offset 8; the GPS IFD follows it.
    let gps_ifd = 8 + 2 + 12 * u32::from(n) + 4;
    if gps {
        entry(&mut tiff, 0x8825, 4, 1, gps_ifd.to_le_bytes());
    }
    tiff.extend_from_slice(&0u32.to_le_bytes());
    if gps {
        let data = gps_ifd + 2 + 2 * 12 + 4;
        tiff.extend_from_slice(&2u16.to_le_bytes());
        entry(&mut tiff, 0x0001, 2, 2, *b"N\0\0\0");
        entry(&mut tiff, 0x0002, 5, 3, data.to_le_bytes());
        tiff.extend_from_slice(&0u32.to_le_bytes());
        tiff.extend_from_slice(&GPS_LATITUDE);
    }
    let mut seg = vec![0xFF, 0xE1];
    let len = u16::try_from(2 + 6 + tiff.len()).unwrap_or(u16::MAX);
    seg.extend_from_slice(&len.to_be_bytes());
    seg.extend_from_slice(b"Exif\0\0");
    seg.extend_from_slice(&tiff);
    seg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_bench_runs() {
        let r = run(&BenchOptions {
            megapixels: 0.05,
            runs: 2,
            orientation: 6,
            original_long_side: 0,
        })
        .unwrap();
        assert_eq!(r.runs.len(), 2);
        // Orientation 6 turns the landscape photo upright.
        assert_eq!((r.last.width, r.last.height), (r.height, r.width));
        let text = r.to_string();
        assert!(text.contains("median"), "{text}");
    }
}
