//! Photos and videos: processing uploads off the async executor, storing their files, the
//! rows that use them, and deleting files nothing refers to any more (through a job).
//!
//! A stored file is *pinned* from the moment an upload starts writing it until the upload's
//! rows are committed (or it fails). The job that deletes unreferenced files skips pinned
//! ones and holds the pin lock while it deletes, so a second upload of the same content can
//! never lose its file to a deletion of the first.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use super::Core;
use super::accounts::Viewer;
use super::tasks::{self, Task};
use crate::domain::{AccountId, IdGen, PostId, now_secs};
use crate::error::{AppError, AppResult};
use crate::media::{self, BlobKey, BlobStore, FsStore, ImageLimits, Kind, MediaError};
use crate::store::media::{self as db_media, MediaKind, NewMedia};
use crate::store::models::MediaView;

/// The blob store and the pins of files being written.
#[derive(Clone)]
pub struct MediaFiles {
    /// Behind the trait so that an S3-compatible store can take the file system's place.
    store: Arc<dyn BlobStore>,
    /// Where uploads are spooled while they arrive (same file system as a local store).
    tmp: PathBuf,
    pins: Arc<Mutex<HashMap<String, usize>>>,
    /// Bounds concurrent image processing (CPU and memory heavy).
    permits: Arc<tokio::sync::Semaphore>,
}

impl MediaFiles {
    pub fn new(root: PathBuf, threads: usize) -> MediaFiles {
        let fs = FsStore::new(root);
        // Spool files left by a crash belong to requests that will never finish.
        if let Ok(entries) = std::fs::read_dir(fs.tmp_dir()) {
            for e in entries.flatten() {
                let _ = std::fs::remove_file(e.path());
            }
        }
        MediaFiles {
            tmp: fs.tmp_dir(),
            store: Arc::new(fs),
            pins: Arc::default(),
            permits: Arc::new(tokio::sync::Semaphore::new(threads.max(1))),
        }
    }

    /// Where uploads are spooled while they arrive (same file system as the store).
    pub fn tmp_dir(&self) -> PathBuf {
        self.tmp.clone()
    }

    /// The local path of a stored file, for serving.
    pub fn path_of(&self, file: &str) -> Option<(PathBuf, Kind)> {
        let key = BlobKey::parse_file_name(file).ok()?;
        let kind = key.kind()?;
        let path = self.store.path(&key)?;
        Some((path, kind))
    }

    fn pin(&self, file: &str) {
        if let Ok(mut p) = self.pins.lock() {
            *p.entry(file.to_string()).or_default() += 1;
        }
    }

    fn unpin(&self, files: &[String]) {
        if let Ok(mut p) = self.pins.lock() {
            for f in files {
                if let Some(n) = p.get_mut(f) {
                    *n -= 1;
                    if *n == 0 {
                        p.remove(f);
                    }
                }
            }
        }
    }

    /// Deletes the files among `files` that nothing refers to and no upload is writing.
    /// Runs inside a write transaction, so no commit that adds a reference can interleave.
    fn delete_unused(&self, c: &Connection, files: &[String]) -> AppResult<usize> {
        let pins = self
            .pins
            .lock()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("media pins poisoned")))?;
        let mut deleted = 0;
        for f in files {
            if pins.contains_key(f) || db_media::is_referenced(c, f)? {
                continue;
            }
            db_media::forget_blob(c, f)?;
            if let Ok(key) = BlobKey::parse_file_name(f) {
                self.store.delete(&key).map_err(|e| {
                    AppError::Internal(anyhow::Error::new(e).context("deleting a file"))
                })?;
                deleted += 1;
            }
        }
        Ok(deleted)
    }
}

/// An uploaded file spooled to disk, with the type its first bytes showed.
pub struct Spooled {
    pub path: tempfile::TempPath,
    pub kind: Kind,
    pub bytes: u64,
    /// The name it had on the uploader's device, for messages only.
    pub name: String,
}

/// A processed upload whose files are stored (and pinned) but not yet recorded.
pub struct Staged {
    kind: MediaKind,
    file: String,
    mime: &'static str,
    bytes: u64,
    width: u32,
    height: u32,
    small: Option<(String, u32, u32)>,
    large: Option<(String, u32, u32)>,
    blurhash: String,
    placeholder: String,
    /// Every stored file with its size.
    files: Vec<(String, u64)>,
}

impl Staged {
    fn file_names(&self) -> Vec<String> {
        self.files.iter().map(|(f, _)| f.clone()).collect()
    }
}

fn storage_error(e: std::io::Error) -> AppError {
    AppError::Internal(anyhow::Error::new(e).context("storing a media file"))
}

fn media_error(e: MediaError) -> AppError {
    if e.is_user_error() {
        AppError::Invalid(e.user_message())
    } else {
        AppError::Internal(anyhow::Error::new(e).context("processing media"))
    }
}

/// Processes one spooled upload and stores its files (pinned until `finish`).
fn stage_blocking(files: &MediaFiles, up: Spooled, limits: &ImageLimits) -> AppResult<Staged> {
    if up.kind.is_video() {
        let info = media::probe_video(&up.path).map_err(media_error)?;
        let hash = media::sha256_file(&up.path).map_err(storage_error)?;
        let key = BlobKey::for_kind(&hash, up.kind);
        let name = key.file_name();
        files.pin(&name);
        let stored = files
            .store
            .put_file(&key, &up.path)
            .map_err(storage_error)
            .map(|_| ());
        if let Err(e) = stored {
            files.unpin(std::slice::from_ref(&name));
            return Err(e);
        }
        return Ok(Staged {
            kind: MediaKind::Video,
            file: name.clone(),
            mime: up.kind.mime(),
            bytes: up.bytes,
            width: info.width.unwrap_or(0),
            height: info.height.unwrap_or(0),
            small: None,
            large: None,
            blurhash: String::new(),
            placeholder: String::new(),
            files: vec![(name, up.bytes)],
        });
    }
    let bytes = std::fs::read(&up.path).map_err(storage_error)?;
    let p = media::process_image(&bytes, limits).map_err(media_error)?;
    let mut stored: Vec<(String, u64)> = Vec::new();
    let mut put = |enc: &media::Encoded| -> AppResult<String> {
        let key = enc.key();
        let name = key.file_name();
        files.pin(&name);
        stored.push((name.clone(), enc.bytes.len() as u64));
        files.store.put(&key, &enc.bytes).map_err(storage_error)?;
        Ok(name)
    };
    let result = (|| {
        let original = put(&p.original)?;
        let mut thumbs = Vec::new();
        for t in &p.thumbs {
            thumbs.push((put(&t.encoded)?, t.width, t.height));
        }
        Ok::<_, AppError>((original, thumbs))
    })();
    let (original, mut thumbs) = match result {
        Ok(v) => v,
        Err(e) => {
            let names: Vec<String> = stored.iter().map(|(f, _)| f.clone()).collect();
            files.unpin(&names);
            return Err(e);
        }
    };
    let large = (thumbs.len() > 1).then(|| thumbs.remove(1));
    let small = thumbs.into_iter().next();
    Ok(Staged {
        kind: if p.animated {
            MediaKind::Gif
        } else {
            MediaKind::Image
        },
        mime: p.original.kind.mime(),
        bytes: p.original.bytes.len() as u64,
        file: original,
        width: p.width,
        height: p.height,
        small,
        large,
        placeholder: media::placeholder_data_url(&p.blurhash, p.width, p.height),
        blurhash: p.blurhash,
        files: stored,
    })
}

fn limits(core: &Core) -> ImageLimits {
    let m = &core.config.media;
    ImageLimits {
        max_bytes: m.image_bytes,
        max_pixels: m.image_pixels,
        original_long_side: m.original_long_side,
        ..ImageLimits::default()
    }
}

/// Processes and stores uploads, one blocking-pool task each, at most
/// `media.processing_threads` at once. All or nothing: if one fails, the files of the others
/// are released and the first error is returned.
pub async fn stage_all(core: &Core, uploads: Vec<Spooled>) -> AppResult<Vec<Staged>> {
    let mut handles = Vec::new();
    for up in uploads {
        let files = core.media.clone();
        let limits = limits(core);
        let permit = core
            .media
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| AppError::Unavailable)?;
        let name = up.name.clone();
        handles.push(tokio::task::spawn_blocking(move || {
            let _permit = permit;
            // Say which file, when several were sent.
            stage_blocking(&files, up, &limits).map_err(|e| match e {
                AppError::Invalid(m) if !name.is_empty() => {
                    AppError::Invalid(format!("{name}: {m}"))
                }
                e => e,
            })
        }));
    }
    let mut staged = Vec::new();
    let mut first_error = None;
    for h in handles {
        match h.await {
            Ok(Ok(s)) => staged.push(s),
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(e) => {
                first_error.get_or_insert(AppError::Internal(e.into()));
            }
        }
    }
    if let Some(e) = first_error {
        discard(core, staged).await;
        return Err(e);
    }
    Ok(staged)
}

/// Releases staged files that were not recorded (the request failed).
pub async fn discard(core: &Core, staged: Vec<Staged>) {
    let names: Vec<String> = staged.iter().flat_map(Staged::file_names).collect();
    core.media.unpin(&names);
    if names.is_empty() {
        return;
    }
    let files = core.media.clone();
    let done = core
        .db
        .write(move |c| files.delete_unused(c, &names).map(|_| ()))
        .await;
    if let Err(e) = done {
        tracing::warn!("releasing the files of a failed upload: {e:#}");
    }
}

/// Records staged uploads as the owner's waiting media, inside the caller's transaction.
fn record_in_tx(
    c: &Connection,
    ids: &IdGen,
    owner: AccountId,
    staged: &[Staged],
) -> AppResult<Vec<i64>> {
    let now = now_secs();
    let mut out = Vec::with_capacity(staged.len());
    for s in staged {
        let id = ids.next();
        let row = NewMedia {
            id,
            owner,
            kind: s.kind,
            file: &s.file,
            mime: s.mime,
            bytes: s.bytes as i64,
            width: s.width,
            height: s.height,
            small: s.small.as_ref().map(|(f, w, h)| (f.as_str(), *w, *h)),
            large: s.large.as_ref().map(|(f, w, h)| (f.as_str(), *w, *h)),
            blurhash: &s.blurhash,
            placeholder: &s.placeholder,
            alt: "",
            sensitive: false,
            created_at: now,
        };
        db_media::insert(c, &row)?;
        for (f, bytes) in &s.files {
            db_media::add_ref(c, f, *bytes as i64, now)?;
        }
        out.push(id);
    }
    Ok(out)
}

/// Uploads files for the composer: processed, stored and recorded as waiting media of the
/// viewer, to be attached to a post (or swept after `media.unattached_hours`).
pub async fn upload(core: &Core, viewer: &Viewer, uploads: Vec<Spooled>) -> AppResult<Vec<i64>> {
    upload_for(core, viewer.id(), uploads).await
}

async fn upload_for(core: &Core, me: AccountId, uploads: Vec<Spooled>) -> AppResult<Vec<i64>> {
    if uploads.is_empty() {
        return Ok(Vec::new());
    }
    let staged = stage_all(core, uploads).await?;
    let names: Vec<String> = staged.iter().flat_map(Staged::file_names).collect();
    let ids = core.ids.clone();
    let result = core
        .db
        .write(move |c| {
            let ids = record_in_tx(c, &ids, me, &staged)?;
            Ok((ids, staged))
        })
        .await;
    match result {
        Ok((ids, _)) => {
            core.media.unpin(&names);
            Ok(ids)
        }
        Err(e) => {
            core.media.unpin(&names);
            let files = core.media.clone();
            let _ = core
                .db
                .write(move |c| files.delete_unused(c, &names).map(|_| ()))
                .await;
            Err(e)
        }
    }
}

/// A photo or video fetched from another server for one of its people's posts: its type
/// read from the bytes, then checked, re-encoded, thumbnailed and stored exactly like an
/// upload, recorded as that person's media waiting for the post.
pub async fn store_fetched(
    core: &Core,
    owner: AccountId,
    bytes: Vec<u8>,
    name: String,
) -> AppResult<i64> {
    let kind = media::sniff(&bytes)
        .ok_or_else(|| AppError::invalid("The file is not a photo or video this server keeps."))?;
    let m = &core.config.media;
    let limit = if kind.is_video() {
        m.video_bytes
    } else {
        m.image_bytes
    };
    let size = bytes.len() as u64;
    if size > limit {
        return Err(AppError::TooLarge);
    }
    let mut f = spool_file(core)?;
    let path = tokio::task::spawn_blocking(move || {
        f.write_all(&bytes).map_err(storage_error)?;
        Ok::<_, AppError>(f.into_temp_path())
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))??;
    let ids = upload_for(
        core,
        owner,
        vec![Spooled {
            path,
            kind,
            bytes: size,
            name,
        }],
    )
    .await?;
    ids.first().copied().ok_or(AppError::NotFound)
}

/// Photos and videos of other servers' posts older than `days` are dropped from here (the
/// post keeps its link to the original); answers how many posts lost theirs.
pub(crate) async fn evict_remote(core: &Core, days: u64) -> AppResult<usize> {
    let before = now_secs() - days as i64 * 86_400;
    let ids = core.ids.clone();
    let n = core
        .db
        .write(move |c| {
            let posts = crate::store::federation::remote_posts_with_media(c, before, 500)?;
            for p in &posts {
                delete_for_post_in_tx(c, &ids, *p)?;
                crate::store::posts::set_media_count(c, *p, 0)?;
            }
            Ok(posts.len())
        })
        .await?;
    core.jobs.wake();
    Ok(n)
}

/// The viewer's waiting uploads among `ids`, in that order (for the composer).
pub async fn waiting(core: &Core, viewer: &Viewer, ids: Vec<i64>) -> AppResult<Vec<MediaView>> {
    let me = viewer.id();
    core.db
        .read(move |c| Ok(db_media::waiting(c, me, &ids)?))
        .await
}

/// Removes one of the viewer's waiting uploads.
pub async fn remove_waiting(core: &Core, viewer: &Viewer, id: i64) -> AppResult<()> {
    let me = viewer.id();
    let ids = core.ids.clone();
    core.db
        .write(move |c| {
            let unused = db_media::delete_waiting(c, me, id)?;
            queue_deletion(c, &ids, unused)
        })
        .await?;
    core.jobs.wake();
    Ok(())
}

/// Inside a post's transaction: attaches waiting uploads `(id, alt, sensitive)` in order.
pub(crate) fn attach_in_tx(
    c: &Connection,
    owner: AccountId,
    post: PostId,
    items: &[(i64, String, bool)],
) -> AppResult<()> {
    if items.is_empty() {
        return Ok(());
    }
    let n = db_media::attach(c, owner, post, items)?;
    if n != items.len() {
        return Err(AppError::invalid(
            "An attachment is missing: it may have been removed or expired. Attach it again.",
        ));
    }
    crate::store::posts::set_media_count(c, post, n as i64)?;
    Ok(())
}

/// Queues the deletion of files that lost their last reference in this transaction.
pub(crate) fn queue_deletion(c: &Connection, ids: &IdGen, files: Vec<String>) -> AppResult<()> {
    if files.is_empty() {
        return Ok(());
    }
    tasks::enqueue(c, ids, &Task::DeleteFiles { files })
}

/// Inside a post deletion: its attachments go, and files nothing else uses are queued.
pub(crate) fn delete_for_post_in_tx(c: &Connection, ids: &IdGen, post: PostId) -> AppResult<()> {
    let unused = db_media::delete_for_post(c, post)?;
    queue_deletion(c, ids, unused)
}

/// The job behind `Task::DeleteFiles`.
pub(crate) async fn delete_files(core: &Core, job_id: i64, files: Vec<String>) -> AppResult<()> {
    let media = core.media.clone();
    core.db
        .write(move |c| {
            media.delete_unused(c, &files)?;
            crate::store::jobs::delete(c, job_id)?;
            Ok(())
        })
        .await
}

/// The job behind `Task::Sweep`: deletes uploads left waiting too long.
pub(crate) async fn sweep(core: &Core) -> AppResult<usize> {
    let before = now_secs() - core.config.media.unattached_hours as i64 * 3600;
    let ids = core.ids.clone();
    let n = core
        .db
        .write(move |c| {
            let stale = db_media::stale_waiting(c, before, 500)?;
            let mut unused = Vec::new();
            for id in &stale {
                unused.extend(db_media::delete_by_id(c, *id)?);
            }
            queue_deletion(c, &ids, unused)?;
            Ok(stale.len())
        })
        .await?;
    core.jobs.wake();
    Ok(n)
}

/// Attachments for posts that have some, in one query.
pub(crate) fn fill(
    c: &Connection,
    posts: &mut [&mut crate::store::models::PostView],
) -> AppResult<()> {
    let ids: Vec<PostId> = posts
        .iter()
        .filter(|p| p.media_count > 0)
        .map(|p| p.id)
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let mut by_post: HashMap<PostId, Vec<MediaView>> = HashMap::new();
    for m in db_media::for_posts(c, &ids)? {
        if let Some(p) = m.post {
            by_post.entry(p).or_default().push(m);
        }
    }
    for p in posts.iter_mut() {
        if let Some(list) = by_post.get(&p.id) {
            p.media = list.clone();
        }
    }
    Ok(())
}

/// Sets the viewer's avatar (cropped square, 400 px) or header (1280 px wide at most) from an
/// upload; `None` removes it.
pub async fn set_profile_image(
    core: &Core,
    viewer: &Viewer,
    header: bool,
    upload: Option<Spooled>,
) -> AppResult<()> {
    set_profile_image_for(core, viewer.id(), header, upload).await
}

/// A remote person's avatar or header, fetched from their server: processed like an upload
/// (square avatar, metadata stripped) and set on their account here.
pub async fn store_fetched_profile_image(
    core: &Core,
    owner: AccountId,
    header: bool,
    bytes: Vec<u8>,
) -> AppResult<()> {
    let kind = media::sniff(&bytes)
        .filter(|k| k.is_image())
        .ok_or_else(|| AppError::invalid("The picture is not an image this server keeps."))?;
    if bytes.len() as u64 > core.config.media.image_bytes {
        return Err(AppError::TooLarge);
    }
    let size = bytes.len() as u64;
    let mut f = spool_file(core)?;
    let path = tokio::task::spawn_blocking(move || {
        f.write_all(&bytes).map_err(storage_error)?;
        Ok::<_, AppError>(f.into_temp_path())
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))??;
    let up = Spooled {
        path,
        kind,
        bytes: size,
        name: String::new(),
    };
    set_profile_image_for(core, owner, header, Some(up)).await
}

async fn set_profile_image_for(
    core: &Core,
    me: AccountId,
    header: bool,
    upload: Option<Spooled>,
) -> AppResult<()> {
    let staged = match upload {
        Some(up) => {
            if !up.kind.is_image() {
                return Err(AppError::invalid(
                    "Avatars and headers must be images (JPEG, PNG, GIF or WebP).",
                ));
            }
            let files = core.media.clone();
            let limits = limits(core);
            let permit = core
                .media
                .permits
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| AppError::Unavailable)?;
            let s = tokio::task::spawn_blocking(move || {
                let _permit = permit;
                profile_image_blocking(&files, up, &limits, header)
            })
            .await
            .map_err(|e| AppError::Internal(e.into()))??;
            Some(s)
        }
        None => None,
    };
    let ids = core.ids.clone();
    let federation = core.config.federation.enabled;
    let names: Vec<String> = staged.iter().map(|(f, _)| f.clone()).collect();
    let result = core
        .db
        .write(move |c| {
            let now = now_secs();
            if let Some((f, bytes)) = &staged {
                db_media::add_ref(c, f, *bytes as i64, now)?;
            }
            let old =
                db_media::set_account_image(c, me, header, staged.as_ref().map(|s| s.0.as_str()))?;
            if let Some(old) = old
                && db_media::drop_ref(c, &old)?
            {
                queue_deletion(c, &ids, vec![old])?;
            }
            // Followers elsewhere see the new picture (a remote person's own picture,
            // fetched here, is not theirs to announce).
            if !crate::store::federation::is_remote(c, me)? {
                super::federation::publish_in_tx(
                    c,
                    &ids,
                    federation,
                    super::federation::Outbound::ProfileUpdated { account: me.0 },
                )?;
            }
            Ok(())
        })
        .await;
    core.media.unpin(&names);
    core.jobs.wake();
    result
}

fn profile_image_blocking(
    files: &MediaFiles,
    up: Spooled,
    limits: &ImageLimits,
    header: bool,
) -> AppResult<(String, u64)> {
    let bytes = std::fs::read(&up.path).map_err(storage_error)?;
    // Oriented and stripped of metadata by the same pipeline as post images.
    let p = media::process_image(&bytes, limits).map_err(media_error)?;
    let encoded = if header {
        p.thumbs
            .last()
            .map(|t| t.encoded.clone())
            .unwrap_or(p.original)
    } else {
        media::square(&p.original.bytes, 400).map_err(media_error)?
    };
    let key = encoded.key();
    let name = key.file_name();
    files.pin(&name);
    if let Err(e) = files.store.put(&key, &encoded.bytes) {
        files.unpin(std::slice::from_ref(&name));
        return Err(storage_error(e));
    }
    Ok((name, encoded.bytes.len() as u64))
}

/// Writes an upload to a temporary file under the store, for the web layer.
pub fn spool_file(core: &Core) -> AppResult<tempfile::NamedTempFile> {
    let dir = core.media.tmp_dir();
    std::fs::create_dir_all(&dir).map_err(storage_error)?;
    tempfile::Builder::new()
        .prefix("upload-")
        .tempfile_in(dir)
        .map_err(storage_error)
}

/// Appends bytes to a spool file (blocking; call from the blocking pool for big chunks).
pub fn spool_write(f: &mut tempfile::NamedTempFile, bytes: &[u8]) -> AppResult<()> {
    f.write_all(bytes).map_err(storage_error)
}
