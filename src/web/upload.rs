//! Reading `multipart/form-data` bodies: text fields become an urlencoded body (so forms parse
//! the same way whether or not they carry files) and files stream to spool files under the
//! data directory, never whole into memory.
//!
//! A file that is refused (unknown type, too big) does not end the request: the rest of the
//! body is still read so that the handler can show the form again with what was typed and say
//! what was wrong with the file. Only a request over `media.request_bytes` is cut short.

use actix_web::HttpRequest;
use actix_web::dev::Payload;
use actix_web::web::{Bytes, BytesMut};
use futures_util::StreamExt;

use crate::error::{AppError, AppResult};
use crate::media::{self, Kind};
use crate::service::Core;
use crate::service::media::{self as media_service, Spooled};

/// One file field of a multipart body.
pub enum FilePart {
    Ready {
        field: String,
        file: Spooled,
    },
    Refused {
        field: String,
        name: String,
        reason: String,
    },
}

impl FilePart {
    pub fn field(&self) -> &str {
        match self {
            FilePart::Ready { field, .. } | FilePart::Refused { field, .. } => field,
        }
    }
}

/// Who may send files: the session's CSRF token, and whether the header carried it already.
pub struct Gate {
    pub csrf: String,
    pub header_ok: bool,
}

/// What a file's first bytes must reach before its type is decided.
const SNIFF_BYTES: usize = 64;
/// Chunks are gathered to this size before each write, so the blocking pool is used sparingly.
const WRITE_BATCH: usize = 1 << 20;

pub fn is_multipart(req: &HttpRequest) -> bool {
    req.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("multipart/form-data"))
}

fn interrupted<E>(_: E) -> AppError {
    AppError::invalid("The upload was interrupted. Try again.")
}

async fn write_batch(
    f: tempfile::NamedTempFile,
    buf: Vec<u8>,
) -> AppResult<tempfile::NamedTempFile> {
    tokio::task::spawn_blocking(move || {
        let mut f = f;
        media_service::spool_write(&mut f, &buf)?;
        Ok(f)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
}

/// Reads the whole body: `(urlencoded text fields, files)`.
pub async fn read(
    core: &Core,
    req: &HttpRequest,
    payload: Payload,
    gate: &Gate,
) -> AppResult<(Bytes, Vec<FilePart>)> {
    let m = &core.config.media;
    let text_limit = core.config.limits.form_bytes;
    let declared = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > m.request_bytes) {
        return Err(AppError::TooLarge);
    }
    let mut parts = actix_multipart::Multipart::new(req.headers(), payload);
    let mut text = form_urlencoded_pairs();
    let mut text_bytes = 0usize;
    let mut total: u64 = 0;
    let mut files = Vec::new();
    let mut token_seen = gate.header_ok;
    while let Some(field) = parts.next().await {
        let mut field = field.map_err(interrupted)?;
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_string);
        let Some(file_name) = file_name else {
            // A text field.
            let mut value = BytesMut::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(interrupted)?;
                text_bytes += chunk.len();
                if text_bytes > text_limit {
                    return Err(AppError::TooLarge);
                }
                value.extend_from_slice(&chunk);
            }
            let value = String::from_utf8_lossy(&value);
            if name == "csrf" && super::extract::tokens_match(&value, &gate.csrf) {
                token_seen = true;
            }
            text.append_pair(&name, &value);
            continue;
        };
        if !token_seen {
            // No file is written before the form has shown it comes from the session's page.
            return Err(AppError::Csrf);
        }
        // A file field: decide its type from the first bytes, then stream it to disk.
        let mut head: Vec<u8> = Vec::new();
        let mut kind: Option<Kind> = None;
        let mut refused: Option<String> = None;
        let mut spool: Option<tempfile::NamedTempFile> = None;
        let mut buf: Vec<u8> = Vec::new();
        let mut size: u64 = 0;
        let too_many = files.len() >= m.attachments_per_post;
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(interrupted)?;
            total += chunk.len() as u64;
            if total > m.request_bytes {
                return Err(AppError::TooLarge);
            }
            if refused.is_some() {
                continue; // drain the rest of a refused file
            }
            size += chunk.len() as u64;
            if kind.is_none() {
                head.extend_from_slice(&chunk);
                if head.len() < SNIFF_BYTES {
                    continue;
                }
                match media::sniff(&head) {
                    Some(k) => {
                        kind = Some(k);
                        buf = std::mem::take(&mut head);
                    }
                    None => {
                        refused = Some(unsupported());
                        continue;
                    }
                }
            } else {
                buf.extend_from_slice(&chunk);
            }
            let limit = kind.map(|k| {
                if k.is_video() {
                    m.video_bytes
                } else {
                    m.image_bytes
                }
            });
            if let Some(limit) = limit
                && size > limit
            {
                refused = Some(too_large(kind, limit));
                continue;
            }
            if too_many {
                continue;
            }
            if buf.len() >= WRITE_BATCH {
                let f = match spool.take() {
                    Some(f) => f,
                    None => media_service::spool_file(core)?,
                };
                spool = Some(write_batch(f, std::mem::take(&mut buf)).await?);
            }
        }
        if file_name.is_empty() && size == 0 {
            continue; // a file input left empty
        }
        if refused.is_none() && kind.is_none() {
            // Shorter than the sniffing window: decide on what there is.
            match media::sniff(&head) {
                Some(k) => {
                    kind = Some(k);
                    buf = std::mem::take(&mut head);
                }
                None => {
                    refused = Some(if size == 0 {
                        "This file is empty.".to_string()
                    } else {
                        unsupported()
                    })
                }
            }
        }
        let display = display_name(&file_name);
        if too_many && refused.is_none() {
            refused = Some(format!(
                "A post can have at most {} photos or videos.",
                m.attachments_per_post
            ));
        }
        match (refused, kind) {
            (None, Some(kind)) => {
                let f = match spool.take() {
                    Some(f) => f,
                    None => media_service::spool_file(core)?,
                };
                let f = write_batch(f, buf).await?;
                files.push(FilePart::Ready {
                    field: name,
                    file: Spooled {
                        path: f.into_temp_path(),
                        kind,
                        bytes: size,
                        name: display,
                    },
                });
            }
            (reason, _) => files.push(FilePart::Refused {
                field: name,
                name: display,
                reason: reason.unwrap_or_else(unsupported),
            }),
        }
    }
    Ok((Bytes::from(text.finish()), files))
}

fn form_urlencoded_pairs() -> UrlEncoded {
    UrlEncoded(String::new())
}

/// A tiny urlencoded writer (serde_urlencoded has no streaming serializer for pairs).
struct UrlEncoded(String);

impl UrlEncoded {
    fn append_pair(&mut self, k: &str, v: &str) {
        if !self.0.is_empty() {
            self.0.push('&');
        }
        self.0.push_str(&encode(k));
        self.0.push('=');
        self.0.push_str(&encode(v));
    }
    fn finish(self) -> String {
        self.0
    }
}

fn encode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|e| e.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

fn unsupported() -> String {
    "This file type is not supported. Upload a JPEG, PNG, GIF or WebP image, or an MP4 or WebM \
     video."
        .to_string()
}

fn too_large(kind: Option<Kind>, limit: u64) -> String {
    let what = if kind.is_some_and(Kind::is_video) {
        "Videos"
    } else {
        "Images"
    };
    format!(
        "{what} can be at most {}. Make the file smaller and try again.",
        human_bytes(limit)
    )
}

fn human_bytes(n: u64) -> String {
    if n >= 1024 * 1024 {
        format!("{:.0} MB", n as f64 / (1024.0 * 1024.0))
    } else {
        format!("{:.0} KB", (n as f64 / 1024.0).max(1.0))
    }
}

/// The file name as the person knows it, for messages (never used as a path).
fn display_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.chars().filter(|c| !c.is_control()).take(80).collect()
}
