//! Posts, their edits, mentions, tags, likes, reposts and bookmarks.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::models::{AccountBrief, PostEdit, PostView};
use crate::domain::{AccountId, PostId, ReplyPolicy, Visibility};

macro_rules! post_columns {
    () => {
        "p.id, p.author_id, a.username, a.display_name, a.verified_at IS NOT NULL,
    p.body, p.content_warning, p.visibility, p.reply_policy, p.in_reply_to_id, pa.username,
    p.root_id, p.quote_id, p.repost_of_id, p.hidden, p.created_at, p.edited_at,
    p.deleted_at IS NOT NULL, p.reply_count, p.repost_count, p.like_count, p.quote_count,
    EXISTS (SELECT 1 FROM likes l WHERE l.account_id = ?1 AND l.post_id = p.id),
    EXISTS (SELECT 1 FROM posts r WHERE r.repost_of_id = p.id AND r.author_id = ?1),
    EXISTS (SELECT 1 FROM bookmarks b WHERE b.account_id = ?1 AND b.post_id = p.id),
    p.media_count, a.avatar_file, p.url, p.content_html"
    };
}
pub(crate) use post_columns;

/// The accounts `post_columns!()` reads besides `posts p`: the author and the author replied to.
macro_rules! post_authors {
    () => {
        " JOIN accounts a ON a.id = p.author_id
         LEFT JOIN accounts pa ON pa.id = p.in_reply_to_author_id"
    };
}
pub(crate) use post_authors;

/// The tables `post_columns!()` reads, for a post looked up by id.
macro_rules! views_from {
    () => {
        concat!(" FROM posts p", post_authors!())
    };
}

/// Maps a row that starts with `post_columns!()` (from `posts p`, `accounts a` for the author
/// and `accounts pa` for the author replied to).
pub(crate) fn post_from_row(r: &Row<'_>) -> rusqlite::Result<PostView> {
    Ok(PostView {
        id: PostId(r.get(0)?),
        author: AccountBrief {
            id: AccountId(r.get(1)?),
            username: r.get(2)?,
            display_name: r.get(3)?,
            verified: r.get(4)?,
            avatar: r.get(26)?,
        },
        body: r.get(5)?,
        content_warning: r.get(6)?,
        visibility: Visibility::from_i64(r.get(7)?),
        reply_policy: ReplyPolicy::from_i64(r.get(8)?),
        in_reply_to: r.get::<_, Option<i64>>(9)?.map(PostId),
        in_reply_to_author: r.get(10)?,
        root_id: PostId(r.get(11)?),
        quote_id: r.get::<_, Option<i64>>(12)?.map(PostId),
        quote: None,
        repost_of: r.get::<_, Option<i64>>(13)?.map(PostId),
        hidden: r.get(14)?,
        created_at: r.get(15)?,
        edited_at: r.get(16)?,
        deleted: r.get(17)?,
        reply_count: r.get(18)?,
        repost_count: r.get(19)?,
        like_count: r.get(20)?,
        quote_count: r.get(21)?,
        liked: r.get(22)?,
        reposted: r.get(23)?,
        bookmarked: r.get(24)?,
        media_count: r.get(25)?,
        media: Vec::new(),
        remote_url: r.get(27)?,
        content_html: r.get(28)?,
    })
}

/// A post as `viewer` would see it, without checking that they may.
pub fn find_view(
    conn: &Connection,
    viewer: AccountId,
    id: PostId,
) -> rusqlite::Result<Option<PostView>> {
    conn.prepare_cached(concat!(
        "SELECT ",
        post_columns!(),
        views_from!(),
        " WHERE p.id = ?2"
    ))?
    .query_row(params![viewer.0, id.0], post_from_row)
    .optional()
}

fn id_array(ids: &[PostId]) -> std::rc::Rc<Vec<rusqlite::types::Value>> {
    std::rc::Rc::new(
        ids.iter()
            .map(|i| rusqlite::types::Value::Integer(i.0))
            .collect(),
    )
}

/// Several posts as `viewer` would see them (in no particular order), in one query.
pub fn find_views(
    conn: &Connection,
    viewer: AccountId,
    ids: &[PostId],
) -> rusqlite::Result<Vec<PostView>> {
    views_among(conn, viewer, ids, VIEWS_SQL)
}

/// Those of `ids` the viewer may see, as [`find_views`] reads them, in one query.
pub fn find_visible_views(
    conn: &Connection,
    viewer: AccountId,
    ids: &[PostId],
) -> rusqlite::Result<Vec<PostView>> {
    views_among(conn, viewer, ids, VISIBLE_VIEWS_SQL)
}

const VIEWS_SQL: &str = concat!(
    "SELECT ",
    post_columns!(),
    views_from!(),
    " WHERE p.id IN rarray(?2)"
);

const VISIBLE_VIEWS_SQL: &str = concat!(
    "SELECT ",
    post_columns!(),
    views_from!(),
    " WHERE p.id IN rarray(?2) AND ",
    visible_to_viewer!()
);

/// Runs `sql`, a `post_columns!()` query with the viewer as ?1 and `ids` as ?2.
fn views_among(
    conn: &Connection,
    viewer: AccountId,
    ids: &[PostId],
    sql: &str,
) -> rusqlite::Result<Vec<PostView>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params![viewer.0, id_array(ids)], post_from_row)?;
    rows.collect()
}

/// Which of `ids` the viewer may see.
pub fn visible_among(
    conn: &Connection,
    viewer: AccountId,
    ids: &[PostId],
) -> rusqlite::Result<Vec<PostId>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(concat!(
        "SELECT p.id FROM posts p WHERE p.id IN rarray(?2) AND ",
        visible_to_viewer!()
    ))?;
    let rows = stmt.query_map(params![viewer.0, id_array(ids)], |r| Ok(PostId(r.get(0)?)))?;
    rows.collect()
}

/// Whether `viewer` may see post `id` (deleted posts included; callers decide about those).
pub fn is_visible(conn: &Connection, viewer: AccountId, id: PostId) -> rusqlite::Result<bool> {
    conn.prepare_cached(concat!(
        "SELECT EXISTS (SELECT 1 FROM posts p WHERE p.id = ?2 AND ",
        visible_to_viewer!(),
        ")"
    ))?
    .query_row(params![viewer.0, id.0], |r| r.get(0))
}

pub struct NewPost<'a> {
    pub id: PostId,
    pub author: AccountId,
    pub body: &'a str,
    pub content_warning: &'a str,
    pub visibility: Visibility,
    pub reply_policy: ReplyPolicy,
    pub in_reply_to: Option<(PostId, AccountId)>,
    pub root: PostId,
    pub quote: Option<PostId>,
    pub repost_of: Option<PostId>,
    pub created_at: i64,
}

pub fn insert(conn: &Connection, p: &NewPost<'_>) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO posts (id, author_id, body, content_warning, visibility, reply_policy,
             in_reply_to_id, in_reply_to_author_id, root_id, quote_id, repost_of_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        p.id.0,
        p.author.0,
        p.body,
        p.content_warning,
        p.visibility as i64,
        p.reply_policy as i64,
        p.in_reply_to.map(|(id, _)| id.0),
        p.in_reply_to.map(|(_, a)| a.0),
        p.root.0,
        p.quote.map(|q| q.0),
        p.repost_of.map(|r| r.0),
        p.created_at
    ])?;
    Ok(())
}

/// Facts about a post that write rules need.
#[derive(Debug, Clone)]
pub struct PostFacts {
    pub id: PostId,
    pub author: AccountId,
    pub visibility: Visibility,
    pub reply_policy: ReplyPolicy,
    pub in_reply_to: Option<PostId>,
    pub root: PostId,
    pub quote: Option<PostId>,
    pub repost_of: Option<PostId>,
    pub deleted: bool,
    pub body: String,
    pub content_warning: String,
    pub created_at: i64,
    pub edited_at: Option<i64>,
}

/// The newest post id (0 for none).
pub fn newest_id(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT coalesce(max(id), 0) FROM posts")?
        .query_row([], |r| r.get(0))
}

pub fn find_facts(conn: &Connection, id: PostId) -> rusqlite::Result<Option<PostFacts>> {
    conn.prepare_cached(
        "SELECT id, author_id, visibility, reply_policy, in_reply_to_id, root_id, quote_id,
                repost_of_id, deleted_at IS NOT NULL, body, content_warning, created_at, edited_at
         FROM posts WHERE id = ?1",
    )?
    .query_row([id.0], |r| {
        Ok(PostFacts {
            id: PostId(r.get(0)?),
            author: AccountId(r.get(1)?),
            visibility: Visibility::from_i64(r.get(2)?),
            reply_policy: ReplyPolicy::from_i64(r.get(3)?),
            in_reply_to: r.get::<_, Option<i64>>(4)?.map(PostId),
            root: PostId(r.get(5)?),
            quote: r.get::<_, Option<i64>>(6)?.map(PostId),
            repost_of: r.get::<_, Option<i64>>(7)?.map(PostId),
            deleted: r.get(8)?,
            body: r.get(9)?,
            content_warning: r.get(10)?,
            created_at: r.get(11)?,
            edited_at: r.get(12)?,
        })
    })
    .optional()
}

pub fn is_mentioned(conn: &Connection, post: PostId, account: AccountId) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM mentions WHERE post_id = ?1 AND account_id = ?2)",
    )?
    .query_row(params![post.0, account.0], |r| r.get(0))
}

pub fn insert_mention(
    conn: &Connection,
    post: PostId,
    account: AccountId,
) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("INSERT OR IGNORE INTO mentions (post_id, account_id) VALUES (?1, ?2)")?
        .execute(params![post.0, account.0])?
        > 0)
}

pub fn clear_mentions(conn: &Connection, post: PostId) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM mentions WHERE post_id = ?1")?
        .execute([post.0])?;
    Ok(())
}

pub fn list_mentions(conn: &Connection, post: PostId) -> rusqlite::Result<Vec<AccountId>> {
    let mut stmt = conn.prepare_cached("SELECT account_id FROM mentions WHERE post_id = ?1")?;
    let rows = stmt.query_map([post.0], |r| Ok(AccountId(r.get(0)?)))?;
    rows.collect()
}

pub fn replace_tags(conn: &Connection, post: PostId, tags: &[String]) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM post_tags WHERE post_id = ?1")?
        .execute([post.0])?;
    let mut stmt =
        conn.prepare_cached("INSERT OR IGNORE INTO post_tags (tag, post_id) VALUES (?1, ?2)")?;
    for t in tags {
        stmt.execute(params![t, post.0])?;
    }
    Ok(())
}

pub fn adjust_counts(
    conn: &Connection,
    id: PostId,
    replies: i64,
    reposts: i64,
    likes: i64,
    quotes: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE posts SET reply_count = max(0, reply_count + ?2), repost_count = max(0, repost_count + ?3),
             like_count = max(0, like_count + ?4), quote_count = max(0, quote_count + ?5) WHERE id = ?1",
    )?
    .execute(params![id.0, replies, reposts, likes, quotes])?;
    Ok(())
}

/// Keeps the current text as a past version, then writes the new one.
pub fn edit(
    conn: &Connection,
    edit_id: i64,
    old: &PostFacts,
    body: &str,
    content_warning: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO post_edits (id, post_id, body, content_warning, written_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            edit_id,
            old.id.0,
            old.body,
            old.content_warning,
            old.edited_at.unwrap_or(old.created_at)
        ],
    )?;
    conn.execute(
        "UPDATE posts SET body = ?2, content_warning = ?3, edited_at = ?4 WHERE id = ?1",
        params![old.id.0, body, content_warning, now],
    )?;
    Ok(())
}

/// Past versions, oldest first.
pub fn list_edits(conn: &Connection, post: PostId) -> rusqlite::Result<Vec<PostEdit>> {
    let mut stmt = conn.prepare_cached(
        "SELECT body, content_warning, written_at FROM post_edits WHERE post_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([post.0], |r| {
        Ok(PostEdit {
            body: r.get(0)?,
            content_warning: r.get(1)?,
            written_at: r.get(2)?,
        })
    })?;
    rows.collect()
}

/// Clears a post's content and everything hanging off it; the row stays for thread shape.
pub fn set_media_count(conn: &Connection, id: PostId, n: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE posts SET media_count = ?2 WHERE id = ?1")?
        .execute(params![id.0, n])?;
    Ok(())
}

pub fn soft_delete(conn: &Connection, id: PostId, now: i64) -> rusqlite::Result<()> {
    for sql in [
        "DELETE FROM likes WHERE post_id = ?1",
        "DELETE FROM bookmarks WHERE post_id = ?1",
        "DELETE FROM mentions WHERE post_id = ?1",
        "DELETE FROM post_tags WHERE post_id = ?1",
        "DELETE FROM post_edits WHERE post_id = ?1",
        "DELETE FROM notifications WHERE post_id = ?1",
    ] {
        conn.prepare_cached(sql)?.execute([id.0])?;
    }
    conn.prepare_cached(
        "UPDATE posts SET body = '', content_warning = '', deleted_at = ?2, like_count = 0 WHERE id = ?1",
    )?
    .execute(params![id.0, now])?;
    Ok(())
}

/// The repost rows of a post.
pub fn list_reposts_of(conn: &Connection, id: PostId) -> rusqlite::Result<Vec<PostId>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM posts WHERE repost_of_id = ?1")?;
    let rows = stmt.query_map([id.0], |r| Ok(PostId(r.get(0)?)))?;
    rows.collect()
}

pub fn find_repost(
    conn: &Connection,
    author: AccountId,
    of: PostId,
) -> rusqlite::Result<Option<PostId>> {
    conn.prepare_cached("SELECT id FROM posts WHERE repost_of_id = ?1 AND author_id = ?2")?
        .query_row(params![of.0, author.0], |r| Ok(PostId(r.get(0)?)))
        .optional()
}

pub fn delete_repost_row(conn: &Connection, id: PostId) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM posts WHERE id = ?1 AND repost_of_id IS NOT NULL")?
        .execute([id.0])?;
    Ok(())
}

pub fn set_hidden(conn: &Connection, id: PostId, hidden: bool) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE posts SET hidden = ?2 WHERE id = ?1",
        params![id.0, hidden],
    )?;
    Ok(())
}

/// Returns true when the like is new.
pub fn insert_like(
    conn: &Connection,
    account: AccountId,
    post: PostId,
    now: i64,
) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached(
            "INSERT OR IGNORE INTO likes (account_id, post_id, created_at) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![account.0, post.0, now])?
        > 0)
}

pub fn delete_like(conn: &Connection, account: AccountId, post: PostId) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM likes WHERE account_id = ?1 AND post_id = ?2")?
        .execute(params![account.0, post.0])?
        > 0)
}

pub fn insert_bookmark(
    conn: &Connection,
    id: i64,
    account: AccountId,
    post: PostId,
    now: i64,
) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached(
            "INSERT OR IGNORE INTO bookmarks (id, account_id, post_id, created_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![id, account.0, post.0, now])?
        > 0)
}

pub fn delete_bookmark(
    conn: &Connection,
    account: AccountId,
    post: PostId,
) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM bookmarks WHERE account_id = ?1 AND post_id = ?2")?
        .execute(params![account.0, post.0])?
        > 0)
}

/// Pins a post to its author's profile; false when it was pinned already.
pub fn pin(
    conn: &Connection,
    account: AccountId,
    post: PostId,
    now: i64,
) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached(
            "INSERT OR IGNORE INTO pins (account_id, post_id, created_at) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![account.0, post.0, now])?
        == 1)
}

pub fn unpin(conn: &Connection, account: AccountId, post: PostId) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM pins WHERE account_id = ?1 AND post_id = ?2")?
        .execute(params![account.0, post.0])?
        == 1)
}

/// An account's pinned posts, the most recently pinned first.
pub fn pinned(conn: &Connection, account: AccountId) -> rusqlite::Result<Vec<PostId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT post_id FROM pins WHERE account_id = ?1 ORDER BY created_at DESC, post_id DESC",
    )?;
    let rows = stmt.query_map([account.0], |r| r.get(0).map(PostId))?;
    rows.collect()
}

/// A deleted post leaves every profile it was pinned to.
pub fn unpin_everywhere(conn: &Connection, post: PostId) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM pins WHERE post_id = ?1")?
        .execute([post.0])?;
    Ok(())
}
