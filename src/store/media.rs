//! Media rows (attachments) and the reference counts of stored files.

use rusqlite::{Connection, OptionalExtension, params};

use super::models::MediaView;
use crate::domain::{AccountId, PostId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Image = 0,
    Gif = 1,
    Video = 2,
}

impl MediaKind {
    pub fn from_i64(v: i64) -> MediaKind {
        match v {
            1 => MediaKind::Gif,
            2 => MediaKind::Video,
            _ => MediaKind::Image,
        }
    }
}

/// A media row to insert.
pub struct NewMedia<'a> {
    pub id: i64,
    pub owner: AccountId,
    pub kind: MediaKind,
    pub file: &'a str,
    pub mime: &'a str,
    pub bytes: i64,
    pub width: u32,
    pub height: u32,
    pub small: Option<(&'a str, u32, u32)>,
    pub large: Option<(&'a str, u32, u32)>,
    pub blurhash: &'a str,
    pub placeholder: &'a str,
    pub alt: &'a str,
    pub sensitive: bool,
    pub created_at: i64,
}

pub fn insert(conn: &Connection, m: &NewMedia<'_>) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO media (id, owner_id, kind, file, mime, bytes, width, height,
             small_file, small_width, small_height, large_file, large_width, large_height,
             blurhash, placeholder, alt, sensitive, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                 ?18, ?19)",
    )?
    .execute(params![
        m.id,
        m.owner.0,
        m.kind as i64,
        m.file,
        m.mime,
        m.bytes,
        m.width,
        m.height,
        m.small.map(|s| s.0),
        m.small.map(|s| s.1).unwrap_or(0),
        m.small.map(|s| s.2).unwrap_or(0),
        m.large.map(|s| s.0),
        m.large.map(|s| s.1).unwrap_or(0),
        m.large.map(|s| s.2).unwrap_or(0),
        m.blurhash,
        m.placeholder,
        m.alt,
        m.sensitive,
        m.created_at,
    ])?;
    Ok(())
}

/// The files a media row refers to.
pub fn files_of(m: &NewMedia<'_>) -> Vec<String> {
    let mut v = vec![m.file.to_string()];
    v.extend(m.small.map(|s| s.0.to_string()));
    v.extend(m.large.map(|s| s.0.to_string()));
    v
}

/// Counts one more reference to `file` (creating its row).
pub fn add_ref(conn: &Connection, file: &str, bytes: i64, now: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO blobs (file, refs, bytes, created_at) VALUES (?1, 1, ?2, ?3)
         ON CONFLICT (file) DO UPDATE SET refs = refs + 1",
    )?
    .execute(params![file, bytes, now])?;
    Ok(())
}

/// Counts one reference less; returns true when nothing refers to the file any more.
pub fn drop_ref(conn: &Connection, file: &str) -> rusqlite::Result<bool> {
    let refs: Option<i64> = conn
        .prepare_cached("UPDATE blobs SET refs = refs - 1 WHERE file = ?1 RETURNING refs")?
        .query_row([file], |r| r.get(0))
        .optional()?;
    Ok(refs.is_none_or(|n| n <= 0))
}

/// Whether anything refers to `file`.
pub fn is_referenced(conn: &Connection, file: &str) -> rusqlite::Result<bool> {
    let refs: Option<i64> = conn
        .prepare_cached("SELECT refs FROM blobs WHERE file = ?1")?
        .query_row([file], |r| r.get(0))
        .optional()?;
    Ok(refs.is_some_and(|n| n > 0))
}

pub fn forget_blob(conn: &Connection, file: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM blobs WHERE file = ?1 AND refs <= 0")?
        .execute([file])?;
    Ok(())
}

/// Attaches the owner's waiting uploads to a post, in the given order, with their alt text and
/// sensitivity. Returns how many were attached (others were not the owner's, or not waiting).
pub fn attach(
    conn: &Connection,
    owner: AccountId,
    post: PostId,
    items: &[(i64, String, bool)],
) -> rusqlite::Result<usize> {
    let mut stmt = conn.prepare_cached(
        "UPDATE media SET post_id = ?3, position = ?4, alt = ?5, sensitive = ?6
         WHERE id = ?1 AND owner_id = ?2 AND post_id IS NULL",
    )?;
    let mut n = 0;
    for (pos, (id, alt, sensitive)) in items.iter().enumerate() {
        n += stmt.execute(params![id, owner.0, post.0, pos as i64, alt, sensitive])?;
    }
    Ok(n)
}

macro_rules! media_columns {
    () => {
        "m.id, m.post_id, m.kind, m.file, m.mime, m.width, m.height, m.small_file, m.small_width,
         m.small_height, m.large_file, m.large_width, m.large_height, m.blurhash, m.placeholder,
         m.alt, m.sensitive"
    };
}

fn media_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MediaView> {
    let small = match r.get::<_, Option<String>>(7)? {
        Some(f) => Some((f, r.get(8)?, r.get(9)?)),
        None => None,
    };
    let large = match r.get::<_, Option<String>>(10)? {
        Some(f) => Some((f, r.get(11)?, r.get(12)?)),
        None => None,
    };
    Ok(MediaView {
        id: r.get(0)?,
        post: r.get::<_, Option<i64>>(1)?.map(PostId),
        kind: MediaKind::from_i64(r.get(2)?),
        file: r.get(3)?,
        mime: r.get(4)?,
        width: r.get(5)?,
        height: r.get(6)?,
        small,
        large,
        blurhash: r.get(13)?,
        placeholder: r.get(14)?,
        alt: r.get(15)?,
        sensitive: r.get(16)?,
    })
}

/// The attachments of several posts, in post then position order.
pub fn for_posts(conn: &Connection, posts: &[PostId]) -> rusqlite::Result<Vec<MediaView>> {
    if posts.is_empty() {
        return Ok(Vec::new());
    }
    let ids = std::rc::Rc::new(
        posts
            .iter()
            .map(|p| rusqlite::types::Value::Integer(p.0))
            .collect::<Vec<_>>(),
    );
    let mut stmt = conn.prepare_cached(concat!(
        "SELECT ",
        media_columns!(),
        " FROM media m WHERE m.post_id IN rarray(?1) ORDER BY m.post_id, m.position"
    ))?;
    let rows = stmt.query_map([ids], media_from_row)?;
    rows.collect()
}

/// The owner's uploads still waiting for a post, among `ids`, in the order given.
pub fn waiting(
    conn: &Connection,
    owner: AccountId,
    ids: &[i64],
) -> rusqlite::Result<Vec<MediaView>> {
    let mut stmt = conn.prepare_cached(concat!(
        "SELECT ",
        media_columns!(),
        " FROM media m WHERE m.id = ?1 AND m.owner_id = ?2 AND m.post_id IS NULL"
    ))?;
    let mut out = Vec::new();
    for id in ids {
        if let Some(m) = stmt
            .query_row(params![id, owner.0], media_from_row)
            .optional()?
        {
            out.push(m);
        }
    }
    Ok(out)
}

/// Deletes the media rows of a post; returns the files that no longer have any reference.
pub fn delete_for_post(conn: &Connection, post: PostId) -> rusqlite::Result<Vec<String>> {
    delete_where(conn, "post_id = ?1", post.0)
}

/// Deletes one waiting upload of `owner`.
pub fn delete_waiting(
    conn: &Connection,
    owner: AccountId,
    id: i64,
) -> rusqlite::Result<Vec<String>> {
    let is_owners: bool = conn
        .prepare_cached("SELECT 1 FROM media WHERE id = ?1 AND owner_id = ?2 AND post_id IS NULL")?
        .query_row(params![id, owner.0], |_| Ok(true))
        .optional()?
        .unwrap_or(false);
    if !is_owners {
        return Ok(Vec::new());
    }
    delete_where(conn, "id = ?1", id)
}

/// Uploads that waited longer than `before` (unix seconds) without being attached.
pub fn stale_waiting(conn: &Connection, before: i64, limit: usize) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM media WHERE post_id IS NULL AND created_at < ?1 ORDER BY created_at LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![before, limit as i64], |r| r.get(0))?;
    rows.collect()
}

pub fn delete_by_id(conn: &Connection, id: i64) -> rusqlite::Result<Vec<String>> {
    delete_where(conn, "id = ?1", id)
}

fn delete_where(conn: &Connection, filter: &str, value: i64) -> rusqlite::Result<Vec<String>> {
    let sql = format!("DELETE FROM media WHERE {filter} RETURNING file, small_file, large_file");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows: Vec<(String, Option<String>, Option<String>)> = stmt
        .query_map([value], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut unused = Vec::new();
    for (f, s, l) in rows {
        for file in std::iter::once(f).chain(s).chain(l) {
            if drop_ref(conn, &file)? && !unused.contains(&file) {
                unused.push(file);
            }
        }
    }
    Ok(unused)
}

/// Sets an account's avatar or header file; returns the file it replaces, if any.
pub fn set_account_image(
    conn: &Connection,
    account: AccountId,
    header: bool,
    file: Option<&str>,
) -> rusqlite::Result<Option<String>> {
    let (get, set) = if header {
        (
            "SELECT header_file FROM accounts WHERE id = ?1",
            "UPDATE accounts SET header_file = ?2 WHERE id = ?1",
        )
    } else {
        (
            "SELECT avatar_file FROM accounts WHERE id = ?1",
            "UPDATE accounts SET avatar_file = ?2 WHERE id = ?1",
        )
    };
    let old: Option<String> = conn
        .prepare_cached(get)?
        .query_row([account.0], |r| r.get(0))
        .optional()?
        .flatten();
    conn.prepare_cached(set)?
        .execute(params![account.0, file])?;
    Ok(old)
}
