//! Serving uploaded files, and the full-size view of a post's photo.
//!
//! Files are named by their content hash, so they never change: cached for a year, with an
//! ETag, Range requests (seeking in videos) and a Content-Type taken from the stored kind,
//! never from the request. They are served as inert data: `nosniff` and a sandboxing CSP, so
//! an uploaded file can never run as a page or a script on this origin.

use actix_files::NamedFile;
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::extract::Ctx;
use super::views::pages;
use super::{html, parse_post_id};
use crate::error::{AppError, AppResult};
use crate::service::{Core, timeline};

#[derive(Deserialize)]
pub struct FileQuery {
    download: Option<String>,
}

pub async fn file(
    core: web::Data<Core>,
    req: HttpRequest,
    name: web::Path<String>,
    q: web::Query<FileQuery>,
) -> AppResult<HttpResponse> {
    let (path, kind) = core.media.path_of(&name).ok_or(AppError::NotFound)?;
    let f = web::block(move || NamedFile::open(path))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(|_| AppError::NotFound)?;
    // From the kind we stored, never from the request.
    let mime = actix_files::file_extension_to_mime(kind.ext());
    let disposition = ContentDisposition {
        disposition: if q.download.is_some() {
            DispositionType::Attachment
        } else {
            DispositionType::Inline
        },
        parameters: vec![DispositionParam::Filename(name.to_string())],
    };
    let mut res = f
        .set_content_type(mime)
        .set_content_disposition(disposition)
        .use_etag(true)
        .use_last_modified(true)
        .into_response(&req);
    let h = res.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    Ok(res)
}

/// `/@name/ID/media/N`: one attachment at full size, with its description, the way to the
/// others and a download of the original.
pub async fn lightbox(
    ctx: Ctx,
    path: web::Path<(String, String, usize)>,
) -> AppResult<HttpResponse> {
    let (name, id, n) = path.into_inner();
    let id = parse_post_id(&id)?;
    let post = timeline::post(&ctx.core, ctx.viewer.as_ref(), id).await?;
    if post.author.username != name.to_ascii_lowercase() || n == 0 || n > post.media.len() {
        return Err(AppError::NotFound);
    }
    Ok(html(pages::lightbox(&ctx, &post, n - 1)))
}
