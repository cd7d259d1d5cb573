//! Photos and videos: uploads through the real multipart forms, files in the real store,
//! served over HTTP with Range; every bad input refused cleanly with nothing left behind.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::StatusCode;

use crate::common::{TestApp, User};

fn jpeg(w: u32, h: u32, seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x % 251) as u8 ^ seed,
            (y % 241) as u8,
            ((x + y) % 239) as u8,
        ])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&img)
        .unwrap();
    out
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(w, h, |x, y| image::Rgba([x as u8, y as u8, 90, 255]));
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgba8)
        .unwrap();
    out
}
use image::ImageEncoder as _;

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in bytes {
        crc ^= *b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG whose header claims 100,000 × 100,000 pixels (a decompression bomb's calling card).
fn png_bomb() -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&ihdr);
    out.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    let idat = b"IDAT\x78\x9c\x03\x00\x00\x00\x00\x01";
    out.extend_from_slice(&((idat.len() - 4) as u32).to_be_bytes());
    out.extend_from_slice(idat);
    out.extend_from_slice(&crc32(idat).to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(b"IEND");
    out.extend_from_slice(&crc32(b"IEND").to_be_bytes());
    out
}

fn mp4_box(fourcc: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    v.extend_from_slice(fourcc);
    v.extend_from_slice(body);
    v
}

/// A small well-formed MP4: ftyp, moov with mvhd, and `payload` bytes of media data.
fn mp4(payload: usize) -> Vec<u8> {
    let ftyp = mp4_box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41");
    let mut mvhd = vec![0u8; 100];
    mvhd[12..16].copy_from_slice(&1000u32.to_be_bytes()); // timescale
    mvhd[16..20].copy_from_slice(&5000u32.to_be_bytes()); // duration: 5 s
    let moov = mp4_box(b"moov", &mp4_box(b"mvhd", &mvhd));
    let data: Vec<u8> = (0..payload).map(|i| (i * 7 % 251) as u8).collect();
    [ftyp, moov, mp4_box(b"mdat", &data)].concat()
}

/// Every stored file (not the spool directory).
fn stored_files(data: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "tmp") {
                    continue;
                }
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&data.join("media"), &mut out);
    out.sort();
    out
}

fn spooled(data: &Path) -> usize {
    std::fs::read_dir(data.join("media").join("tmp"))
        .map(|rd| rd.count())
        .unwrap_or(0)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// `/media/…` addresses on a page, in order, without repeats.
fn media_urls(body: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in body.split("/media/").skip(1) {
        let name: String = part
            .chars()
            .take_while(|c| c.is_ascii_hexdigit() || *c == '.' || c.is_ascii_alphanumeric())
            .collect();
        let url = format!("/media/{name}");
        if name.contains('.') && !out.contains(&url) {
            out.push(url);
        }
    }
    out
}

async fn attach(
    u: &User,
    files: &[(&str, Vec<u8>, &str)],
    fields: &[(&str, &str)],
) -> crate::common::Resp {
    let files: Vec<(&str, &str, Vec<u8>, &str)> = files
        .iter()
        .map(|(name, bytes, mime)| ("media", *name, bytes.clone(), *mime))
        .collect();
    let mut all = fields.to_vec();
    all.push(("action", "attach"));
    u.post_multipart("/posts", &all, &files).await
}

/// The waiting upload ids in a composer page, in order.
fn waiting_ids(body: &str) -> Vec<String> {
    body.split("name=\"media_id\" value=\"")
        .skip(1)
        .map(|s| s.chars().take_while(|c| c.is_ascii_digit()).collect())
        .collect()
}

async fn wait_for(mut check: impl FnMut() -> bool) {
    for _ in 0..300 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("condition not reached");
}

#[actix_web::test]
async fn photos_with_descriptions_thumbnails_no_exif_dedup_and_cleanup() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;

    // A phone photo: EXIF with orientation 6 (rotated) and GPS coordinates.
    let photo = weft::media::bench::synthetic_photo(640, 480, 6).unwrap();
    assert!(contains(&photo, b"Exif\0\0"));
    let r = attach(
        &alice,
        &[
            ("IMG_0001.jpg", photo.clone(), "image/jpeg"),
            ("second.png", png(300, 200), "image/png"),
            ("third.jpg", jpeg(2000, 1000, 1), "image/jpeg"),
        ],
        &[("body", "Holiday photos")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.assert_contains("Holiday photos"); // the text is kept
    r.assert_contains("No description yet"); // the composer asks for alt text
    let ids = waiting_ids(&r.body);
    assert_eq!(ids.len(), 3, "{}", r.body);

    let alt0 = format!("alt_{}", ids[0]);
    let alt2 = format!("alt_{}", ids[2]);
    let sens1 = format!("sensitive_{}", ids[1]);
    let r = alice
        .post_multipart(
            "/posts",
            &[
                ("body", "Holiday photos"),
                ("media_id", &ids[0]),
                ("media_id", &ids[1]),
                ("media_id", &ids[2]),
                (&alt0, "A red and blue test card on a beach"),
                (&alt2, "A wide gradient"),
                (&sens1, "1"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let post_id = alice.newest_post_id().await;
    let page = alice.get(&format!("/@alice/{post_id}")).await;
    page.assert_contains("alt=\"A red and blue test card on a beach\"");
    page.assert_contains("A wide gradient");
    page.assert_contains("Sensitive content");
    page.assert_contains("media-grid n3");
    page.assert_contains("srcset=");
    page.assert_contains("data:image/png;base64,"); // the blurhash placeholder

    // Thumbnails: 400 and 1280 on the long side, never upscaled; orientation applied.
    let urls = media_urls(&page.body);
    let mut sizes = Vec::new();
    for u in &urls {
        let (status, headers, bytes) = alice.get_bytes(u, None).await;
        assert_eq!(status, StatusCode::OK, "{u}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(
            headers["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        assert!(headers.contains_key("etag"));
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("sandbox")
        );
        let img = image::load_from_memory(&bytes).unwrap();
        sizes.push((img.width(), img.height()));
    }
    assert!(sizes.contains(&(400, 200)), "{sizes:?}"); // 2000 × 1000 small
    assert!(sizes.contains(&(1280, 640)), "{sizes:?}"); // 2000 × 1000 large
    assert!(sizes.contains(&(300, 400)), "{sizes:?}"); // 640 × 480 turned upright, small

    // No stored file keeps EXIF or GPS.
    let files = stored_files(app.data_dir());
    assert!(files.len() >= 7, "{files:?}");
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        assert!(!contains(&bytes, b"Exif"), "EXIF in {}", f.display());
        assert!(!contains(&bytes, b"GPS"), "GPS in {}", f.display());
    }
    let lightbox = alice.get(&format!("/@alice/{post_id}/media/1")).await;
    lightbox.assert_contains("A red and blue test card on a beach");
    lightbox.assert_contains("Download full size");

    // The same photo again, posted in one step: stored once.
    let before = stored_files(app.data_dir());
    let r = alice
        .post_multipart(
            "/posts",
            &[("body", "Same photo")],
            &[("media", "again.jpg", photo.clone(), "image/jpeg")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let second = alice.newest_post_id().await;
    assert_eq!(
        stored_files(app.data_dir()),
        before,
        "an identical upload is stored once"
    );

    // Deleting the first post keeps the shared files; deleting the second removes them all.
    alice.post(&format!("/posts/{post_id}/delete"), &[]).await;
    let shared = stored_files(app.data_dir());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let dir = app.data_dir().to_path_buf();
    wait_for(|| stored_files(&dir).len() < shared.len() || stored_files(&dir).len() == 3).await;
    assert_eq!(
        stored_files(app.data_dir()).len(),
        3,
        "the photo shared with the second post stays"
    );
    alice.post(&format!("/posts/{second}/delete"), &[]).await;
    wait_for(|| stored_files(&dir).is_empty()).await;
    assert_eq!(spooled(app.data_dir()), 0);
}

#[actix_web::test]
async fn video_is_served_with_range_requests() {
    let app = TestApp::spawn().await;
    let bob = app.signup("bob").await;
    let video = mp4(20_000);
    let r = bob
        .post_multipart(
            "/posts",
            &[("body", "A clip")],
            &[("media", "clip.mp4", video.clone(), "video/mp4")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let id = bob.newest_post_id().await;
    let page = bob.get(&format!("/@bob/{id}")).await;
    page.assert_contains("<video");
    let url = media_urls(&page.body)
        .into_iter()
        .find(|u| u.ends_with(".mp4"))
        .unwrap();
    let (status, headers, bytes) = bob.get_bytes(&url, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "video/mp4");
    assert_eq!(bytes, video, "videos are stored as uploaded");
    let (status, headers, bytes) = bob.get_bytes(&url, Some("bytes=1000-1999")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(bytes, video[1000..2000]);
    assert_eq!(
        headers["content-range"],
        format!("bytes 1000-1999/{}", video.len()).as_str()
    );
    // Names that are not stored files are not found, traversal included.
    for bad in ["/media/..%2Fweft.sqlite3", "/media/abc.mp4", "/media/x"] {
        assert_eq!(
            bob.get_bytes(bad, None).await.0,
            StatusCode::NOT_FOUND,
            "{bad}"
        );
    }
}

#[actix_web::test]
async fn bad_files_are_refused_with_the_text_kept_and_nothing_left_behind() {
    let app = TestApp::with_config(|c| {
        c.media.video_bytes = 4096;
        c.media.request_bytes = 1 << 20;
    })
    .await;
    let carol = app.signup("carol").await;
    let good = jpeg(64, 48, 3);
    let mut truncated = jpeg(400, 300, 4);
    truncated.truncate(truncated.len() / 2);
    type Upload<'a> = (&'a str, Vec<u8>, &'a str);
    let cases: Vec<(&str, Vec<Upload>, &str)> = vec![
        (
            "truncated JPEG",
            vec![("cut.jpg", truncated, "image/jpeg")],
            "damaged",
        ),
        (
            "pixel bomb",
            vec![("bomb.png", png_bomb(), "image/png")],
            "megapixels",
        ),
        (
            "zip renamed .jpg",
            vec![(
                "archive.jpg",
                [b"PK\x03\x04".as_slice(), &[0u8; 200]].concat(),
                "image/jpeg",
            )],
            "not supported",
        ),
        (
            "HTML as an image",
            vec![(
                "x.jpg",
                b"<html><script>alert(1)</script></html>".repeat(4),
                "image/jpeg",
            )],
            "not supported",
        ),
        (
            "empty file",
            vec![("empty.jpg", Vec::new(), "image/jpeg")],
            "empty",
        ),
        (
            "video over the limit",
            vec![("big.mp4", mp4(10_000), "video/mp4")],
            "at most",
        ),
        (
            "a good photo with a bad one",
            vec![
                ("good.jpg", good.clone(), "image/jpeg"),
                ("bomb.png", png_bomb(), "image/png"),
            ],
            "megapixels",
        ),
        (
            "11 attachments",
            (0..11)
                .map(|i| ("p.jpg", jpeg(16, 16, i as u8), "image/jpeg"))
                .collect(),
            "at most 10",
        ),
    ];
    for (what, files, message) in cases {
        let files: Vec<(&str, &str, Vec<u8>, &str)> = files
            .into_iter()
            .map(|(n, b, m)| ("media", n, b, m))
            .collect();
        let r = carol
            .post_multipart("/posts", &[("body", "My words stay")], &files)
            .await;
        assert!(
            r.status.is_client_error(),
            "{what}: {} {}",
            r.status,
            r.body
        );
        r.assert_contains(message);
        r.assert_contains("My words stay");
        assert!(
            stored_files(app.data_dir()).is_empty(),
            "{what}: files left behind"
        );
        assert_eq!(
            spooled(app.data_dir()),
            0,
            "{what}: spool files left behind"
        );
    }
    let profile = carol.get("/@carol").await;
    profile.assert_lacks("My words stay");
    // A request over media.request_bytes is cut off with 413.
    let r = carol
        .post_multipart(
            "/posts",
            &[("body", "x")],
            &[("media", "huge.mp4", mp4(2 << 20), "video/mp4")],
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(stored_files(app.data_dir()).is_empty());
}

#[actix_web::test]
async fn avatar_and_header_and_a_removed_upload() {
    let app = TestApp::spawn().await;
    let dan = app.signup("dan").await;
    let r = dan
        .post_multipart(
            "/settings/pictures",
            &[],
            &[
                ("avatar", "me.jpg", jpeg(900, 600, 9), "image/jpeg"),
                ("header", "wide.png", png(1600, 400), "image/png"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let profile = dan.get("/@dan").await;
    let urls = media_urls(&profile.body);
    assert_eq!(urls.len(), 2, "{}", profile.body);
    let mut dims = Vec::new();
    for u in &urls {
        let (_, _, bytes) = dan.get_bytes(u, None).await;
        let img = image::load_from_memory(&bytes).unwrap();
        dims.push((img.width(), img.height()));
    }
    assert!(dims.contains(&(400, 400)), "square avatar: {dims:?}");
    assert!(dims.contains(&(1280, 320)), "header: {dims:?}");

    // A refused avatar says why and changes nothing.
    let r = dan
        .post_multipart(
            "/settings/pictures",
            &[],
            &[("avatar", "x.gif", b"GIF89a".to_vec(), "image/gif")],
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.status);
    assert_eq!(media_urls(&dan.get("/@dan").await.body), urls);

    // Removing a waiting upload in the composer deletes its files.
    let before = stored_files(app.data_dir()).len();
    let r = attach(
        &dan,
        &[("a.jpg", jpeg(50, 50, 7), "image/jpeg")],
        &[("body", "draft")],
    )
    .await;
    let id = waiting_ids(&r.body).remove(0);
    assert!(stored_files(app.data_dir()).len() > before);
    let remove = format!("remove_{id}");
    let r = dan
        .post_multipart(
            "/posts",
            &[
                ("body", "draft"),
                ("media_id", &id),
                (&remove, "1"),
                ("action", "attach"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    r.assert_contains("draft");
    assert!(waiting_ids(&r.body).is_empty());
    let dir = app.data_dir().to_path_buf();
    wait_for(|| stored_files(&dir).len() == before).await;
}

#[actix_web::test]
async fn image_size_and_description_limits_come_from_the_config() {
    let app = TestApp::with_config(|c| {
        c.media.image_bytes = 20 * 1024;
        c.media.alt_chars = 10;
        c.media.image_pixels = 10_000;
    })
    .await;
    let erin = app.signup("erin").await;
    let big = jpeg(400, 400, 5);
    assert!(big.len() > 20 * 1024, "{}", big.len());
    let r = erin
        .post_multipart(
            "/posts",
            &[("body", "too big")],
            &[("media", "big.jpg", big, "image/jpeg")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    r.assert_contains("Images can be at most 20 KB");
    r.assert_contains("too big");

    // 120 × 100 = 12,000 pixels, over a 10,000-pixel limit.
    let r = erin
        .post_multipart(
            "/posts",
            &[("body", "too many pixels")],
            &[("media", "p.png", png(120, 100), "image/png")],
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.status);
    r.assert_contains("the limit is");
    assert!(stored_files(app.data_dir()).is_empty());

    let r = attach(
        &erin,
        &[("s.png", png(80, 60), "image/png")],
        &[("body", "described")],
    )
    .await;
    let id = waiting_ids(&r.body).remove(0);
    let alt = format!("alt_{id}");
    let r = erin
        .post_multipart(
            "/posts",
            &[
                ("body", "described"),
                ("media_id", &id),
                (&alt, "far more than ten characters"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    r.assert_contains("at most 10 characters");
    r.assert_contains("far more than ten characters"); // what was typed is kept
    let r = erin
        .post_multipart(
            "/posts",
            &[("body", "described"), ("media_id", &id), (&alt, "short")],
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

#[actix_web::test]
async fn files_are_read_only_from_a_session_whose_token_comes_first() {
    let app = TestApp::spawn().await;
    let frank = app.signup("frank").await;
    let photo = jpeg(64, 64, 1);
    let send = |client: &reqwest::Client, path: &str, form: reqwest::multipart::Form| {
        client
            .post(format!("{}{path}", app.base))
            .multipart(form)
            .send()
    };
    let part = || {
        reqwest::multipart::Part::bytes(photo.clone())
            .file_name("a.jpg")
            .mime_str("image/jpeg")
            .unwrap()
    };
    // Logged out: refused before the body is read.
    let anon = app.anon();
    let token = anon.csrf().await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", token)
        .text("body", "unposted-words-xyz")
        .part("media", part());
    let r = send(&anon.client, "/posts", form).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // A file before the token: refused, nothing written.
    let token = frank.csrf().await;
    let form = reqwest::multipart::Form::new()
        .part("media", part())
        .text("csrf", token.clone())
        .text("body", "unposted-words-xyz");
    let r = send(&frank.client, "/posts", form).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A wrong token: refused.
    let form = reqwest::multipart::Form::new()
        .text("csrf", "not-the-token")
        .part("media", part());
    let r = send(&frank.client, "/posts", form).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Forms without files do not take multipart bodies at all.
    let form = reqwest::multipart::Form::new()
        .text("csrf", token)
        .text("display_name", "F")
        .part("avatar", part());
    let r = send(&frank.client, "/settings/profile", form)
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(stored_files(app.data_dir()).is_empty());
    assert_eq!(spooled(app.data_dir()), 0);
    frank
        .get("/@frank")
        .await
        .assert_lacks("unposted-words-xyz");
}
