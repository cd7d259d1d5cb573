//! What search, hashtags and trends read from SQLite: the facts behind index documents (the
//! index is derived from these and can always be rebuilt), hashtag use, followed hashtags,
//! the search opt-out, and the raw numbers behind trends.

use rusqlite::{Connection, OptionalExtension, params};

use crate::domain::{AccountId, PostId};

/// A post as the index needs it. `indexable` is false for what must not be in the index at
/// all (deleted posts, reposts, authors who opted out or are not active).
#[derive(Debug, Clone)]
pub struct PostSource {
    pub id: i64,
    pub author_id: i64,
    pub author: String,
    pub body: String,
    pub content_warning: String,
    pub created_at: i64,
    pub visibility: i64,
    pub has_media: bool,
    pub is_reply: bool,
    pub indexable: bool,
    pub tags: Vec<String>,
    /// Accounts the post addresses (mentions and the author replied to), for non-public posts.
    pub addressed: Vec<i64>,
}

macro_rules! post_source_sql {
    ($where:literal) => {
        concat!(
            "SELECT p.id, p.author_id, a.username, p.body, p.content_warning, p.created_at,
                    p.visibility, p.media_count > 0, p.in_reply_to_id IS NOT NULL,
                    p.deleted_at IS NULL AND p.repost_of_id IS NULL AND a.status = 0
                      AND NOT EXISTS (SELECT 1 FROM search_opt_outs o WHERE o.account_id = p.author_id)
             FROM posts p JOIN accounts a ON a.id = p.author_id WHERE ",
            $where
        )
    };
}

fn post_source(r: &rusqlite::Row<'_>) -> rusqlite::Result<PostSource> {
    Ok(PostSource {
        id: r.get(0)?,
        author_id: r.get(1)?,
        author: r.get(2)?,
        body: r.get(3)?,
        content_warning: r.get(4)?,
        created_at: r.get(5)?,
        visibility: r.get(6)?,
        has_media: r.get(7)?,
        is_reply: r.get(8)?,
        indexable: r.get(9)?,
        tags: Vec::new(),
        addressed: Vec::new(),
    })
}

fn fill_tags(conn: &Connection, posts: &mut [PostSource]) -> rusqlite::Result<()> {
    let mut tags = conn.prepare_cached("SELECT tag FROM post_tags WHERE post_id = ?1")?;
    let mut addressed =
        conn.prepare_cached("SELECT account_id FROM mentions WHERE post_id = ?1")?;
    for p in posts.iter_mut().filter(|p| p.indexable) {
        p.tags = tags
            .query_map([p.id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if p.visibility != 0 {
            p.addressed = addressed
                .query_map([p.id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
        }
    }
    Ok(())
}

fn id_values(ids: &[i64]) -> std::rc::Rc<Vec<rusqlite::types::Value>> {
    std::rc::Rc::new(
        ids.iter()
            .map(|&i| rusqlite::types::Value::Integer(i))
            .collect(),
    )
}

/// The posts among `ids` that exist (a missing one should simply leave the index).
pub fn posts_by_ids(conn: &Connection, ids: &[i64]) -> rusqlite::Result<Vec<PostSource>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(post_source_sql!("p.id IN rarray(?1)"))?;
    let mut out: Vec<PostSource> = stmt
        .query_map([id_values(ids)], post_source)?
        .collect::<rusqlite::Result<_>>()?;
    fill_tags(conn, &mut out)?;
    Ok(out)
}

/// Posts with an id above `after`, oldest first, indexable or not (the caller skips those
/// that are not): one chunk of a rebuild.
pub fn posts_after(
    conn: &Connection,
    after: i64,
    limit: usize,
) -> rusqlite::Result<Vec<PostSource>> {
    let mut stmt = conn.prepare_cached(post_source_sql!("p.id > ?1 ORDER BY p.id LIMIT ?2"))?;
    let mut out: Vec<PostSource> = stmt
        .query_map(params![after, limit as i64], post_source)?
        .collect::<rusqlite::Result<_>>()?;
    fill_tags(conn, &mut out)?;
    Ok(out)
}

/// Ids of an author's posts above `after`, oldest first (to re-index them after an opt-out).
pub fn post_ids_by_author(
    conn: &Connection,
    author: AccountId,
    after: i64,
    limit: usize,
) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM posts WHERE author_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![author.0, after, limit as i64], |r| r.get(0))?;
    rows.collect()
}

#[derive(Debug, Clone)]
pub struct PersonSource {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub bio: String,
    pub indexable: bool,
}

macro_rules! person_source_sql {
    ($where:literal) => {
        concat!(
            "SELECT a.id, a.username, a.display_name, a.bio,
                    a.status = 0 AND NOT EXISTS (SELECT 1 FROM search_opt_outs o WHERE o.account_id = a.id)
             FROM accounts a WHERE ",
            $where
        )
    };
}

fn person_source(r: &rusqlite::Row<'_>) -> rusqlite::Result<PersonSource> {
    Ok(PersonSource {
        id: r.get(0)?,
        username: r.get(1)?,
        display_name: r.get(2)?,
        bio: r.get(3)?,
        indexable: r.get(4)?,
    })
}

pub fn person_by_id(conn: &Connection, id: AccountId) -> rusqlite::Result<Option<PersonSource>> {
    conn.prepare_cached(person_source_sql!("a.id = ?1"))?
        .query_row([id.0], person_source)
        .optional()
}

/// Accounts with an id above `after`, oldest first: one chunk of a rebuild.
pub fn people_after(
    conn: &Connection,
    after: i64,
    limit: usize,
) -> rusqlite::Result<Vec<PersonSource>> {
    let mut stmt = conn.prepare_cached(person_source_sql!("a.id > ?1 ORDER BY a.id LIMIT ?2"))?;
    let rows = stmt.query_map(params![after, limit as i64], person_source)?;
    rows.collect()
}

/// Which of `ids` may appear in search results now (SQLite decides, not the index).
pub fn searchable_posts(conn: &Connection, ids: &[i64]) -> rusqlite::Result<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(
        "SELECT p.id FROM posts p JOIN accounts a ON a.id = p.author_id
         WHERE p.id IN rarray(?1) AND p.deleted_at IS NULL AND p.repost_of_id IS NULL
           AND a.status = 0
           AND NOT EXISTS (SELECT 1 FROM search_opt_outs o WHERE o.account_id = p.author_id)",
    )?;
    let rows = stmt.query_map([id_values(ids)], |r| r.get(0))?;
    rows.collect()
}

/// Which of `ids` are active accounts that did not opt out.
pub fn searchable_people(conn: &Connection, ids: &[i64]) -> rusqlite::Result<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(
        "SELECT a.id FROM accounts a WHERE a.id IN rarray(?1) AND a.status = 0
           AND NOT EXISTS (SELECT 1 FROM search_opt_outs o WHERE o.account_id = a.id)",
    )?;
    let rows = stmt.query_map([id_values(ids)], |r| r.get(0))?;
    rows.collect()
}

pub fn count_posts(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM posts", [], |r| r.get(0))
}

// ---- hashtag use ----

/// Adds `delta` public uses to each tag (called where a public post gains or loses tags).
pub fn adjust_tag_stats(
    conn: &Connection,
    tags: &[String],
    delta: i64,
    now: i64,
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO tag_stats (tag, posts, last_used) VALUES (?1, max(?2, 0), ?3)
         ON CONFLICT (tag) DO UPDATE SET posts = max(posts + ?2, 0),
             last_used = CASE WHEN ?2 > 0 THEN ?3 ELSE last_used END",
    )?;
    for t in tags {
        stmt.execute(params![t, delta, now])?;
    }
    if delta < 0 {
        // A tag nobody uses publicly any more leaves the table (it is not a known hashtag).
        let mut gone =
            conn.prepare_cached("DELETE FROM tag_stats WHERE tag = ?1 AND posts <= 0")?;
        for t in tags {
            gone.execute([t])?;
        }
    }
    Ok(())
}

/// Hashtags with public posts that start with `prefix` (lowercase), the most used first; an
/// exact match comes first of all. A tag whose public posts all come from accounts that are
/// not searchable (opted out, not active) is left out.
pub fn tags_with_prefix(
    conn: &Connection,
    prefix: &str,
    limit: usize,
) -> rusqlite::Result<Vec<(String, i64)>> {
    // Walk at most a bounded slice of the tag range, so a one-letter prefix stays cheap.
    let mut stmt = conn.prepare_cached(
        "SELECT tag, posts FROM (
             SELECT tag, posts FROM tag_stats WHERE tag >= ?1 AND tag < ?3 LIMIT 5000)
         ORDER BY tag = ?1 DESC, posts DESC, tag LIMIT ?2",
    )?;
    let upper = format!("{prefix}\u{10FFFF}");
    let candidates: Vec<(String, i64)> = stmt
        .query_map(params![prefix, (limit * 4) as i64, upper], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut searchable = conn.prepare_cached(TAG_SEARCHABLE_SQL)?;
    let mut out = Vec::with_capacity(limit);
    for (tag, n) in candidates {
        if out.len() == limit {
            break;
        }
        if searchable.query_row([&tag], |r| r.get::<_, bool>(0))? {
            out.push((tag, n));
        }
    }
    Ok(out)
}

/// Whether a tag has a public, live post by a searchable author (newest posts first, so the
/// walk stops early for any tag in real use).
pub(crate) const TAG_SEARCHABLE_SQL: &str = "SELECT EXISTS (
        SELECT 1 FROM post_tags t JOIN posts p ON p.id = t.post_id
        JOIN accounts a ON a.id = p.author_id
        WHERE t.tag = ?1 AND p.visibility = 0 AND p.deleted_at IS NULL AND a.status = 0
          AND NOT EXISTS (SELECT 1 FROM search_opt_outs o WHERE o.account_id = p.author_id)
        ORDER BY t.post_id DESC)";

pub fn tag_posts(conn: &Connection, tag: &str) -> rusqlite::Result<i64> {
    Ok(conn
        .prepare_cached("SELECT posts FROM tag_stats WHERE tag = ?1")?
        .query_row([tag], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// The tags of one post.
pub fn post_tags(conn: &Connection, post: PostId) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT tag FROM post_tags WHERE post_id = ?1")?;
    let rows = stmt.query_map([post.0], |r| r.get(0))?;
    rows.collect()
}

// ---- followed hashtags ----

pub fn follow_tag(
    conn: &Connection,
    account: AccountId,
    tag: &str,
    now: i64,
) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO followed_tags (account_id, tag, created_at) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![account.0, tag, now])?;
    Ok(n > 0)
}

pub fn unfollow_tag(conn: &Connection, account: AccountId, tag: &str) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached("DELETE FROM followed_tags WHERE account_id = ?1 AND tag = ?2")?
        .execute(params![account.0, tag])?;
    Ok(n > 0)
}

pub fn follows_tag(conn: &Connection, account: AccountId, tag: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM followed_tags WHERE account_id = ?1 AND tag = ?2)",
    )?
    .query_row(params![account.0, tag], |r| r.get(0))
}

pub fn count_followed_tags(conn: &Connection, account: AccountId) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT count(*) FROM followed_tags WHERE account_id = ?1")?
        .query_row([account.0], |r| r.get(0))
}

pub fn list_followed_tags(conn: &Connection, account: AccountId) -> rusqlite::Result<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT tag FROM followed_tags WHERE account_id = ?1 ORDER BY tag")?;
    let rows = stmt.query_map([account.0], |r| r.get(0))?;
    rows.collect()
}

// ---- opting out of search ----

pub fn set_opt_out(
    conn: &Connection,
    account: AccountId,
    out: bool,
    now: i64,
) -> rusqlite::Result<bool> {
    let n = if out {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO search_opt_outs (account_id, created_at) VALUES (?1, ?2)",
        )?
        .execute(params![account.0, now])?
    } else {
        conn.prepare_cached("DELETE FROM search_opt_outs WHERE account_id = ?1")?
            .execute([account.0])?
    };
    Ok(n > 0)
}

pub fn is_opted_out(conn: &Connection, account: AccountId) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM search_opt_outs WHERE account_id = ?1)")?
        .query_row([account.0], |r| r.get(0))
}

// ---- trends ----

/// One author's public use of one tag since the window opened.
#[derive(Debug, Clone)]
pub struct TagUse {
    pub tag: String,
    pub author: i64,
    pub posts: i64,
    pub last_at: i64,
}

pub(crate) const TAG_USES_SQL: &str =
    "SELECT t.tag, p.author_id, count(*), max(p.created_at) FROM post_tags t
     JOIN posts p ON p.id = t.post_id
     WHERE t.post_id >= ?1 AND p.visibility = 0 AND p.deleted_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM trend_hidden_tags h WHERE h.tag = t.tag)
       AND NOT EXISTS (SELECT 1 FROM search_opt_outs o WHERE o.account_id = p.author_id)
     GROUP BY t.tag, p.author_id";

/// Per tag and author: public posts with an id at or above `since_id`.
pub fn tag_uses_since(conn: &Connection, since_id: i64) -> rusqlite::Result<Vec<TagUse>> {
    let mut stmt = conn.prepare_cached(TAG_USES_SQL)?;
    let rows = stmt.query_map([since_id], |r| {
        Ok(TagUse {
            tag: r.get(0)?,
            author: r.get(1)?,
            posts: r.get(2)?,
            last_at: r.get(3)?,
        })
    })?;
    rows.collect()
}

/// A public post of the window with some engagement, as counted on the post.
#[derive(Debug, Clone)]
pub struct PostEngagement {
    pub id: PostId,
    pub author: AccountId,
    pub created_at: i64,
    pub interactions: i64,
}

pub(crate) const ENGAGED_POSTS_SQL: &str = "SELECT p.id, p.author_id, p.created_at,
            p.like_count + p.repost_count + p.reply_count + p.quote_count
     FROM posts p
     WHERE p.id >= ?1 AND p.visibility = 0 AND p.deleted_at IS NULL AND p.repost_of_id IS NULL
       AND p.like_count + p.repost_count + p.reply_count + p.quote_count > 0
       AND NOT EXISTS (SELECT 1 FROM trend_hidden_posts h WHERE h.post_id = p.id)
       AND NOT EXISTS (SELECT 1 FROM search_opt_outs o WHERE o.account_id = p.author_id)";

pub fn engaged_posts_since(
    conn: &Connection,
    since_id: i64,
) -> rusqlite::Result<Vec<PostEngagement>> {
    let mut stmt = conn.prepare_cached(ENGAGED_POSTS_SQL)?;
    let rows = stmt.query_map([since_id], |r| {
        Ok(PostEngagement {
            id: PostId(r.get(0)?),
            author: AccountId(r.get(1)?),
            created_at: r.get(2)?,
            interactions: r.get(3)?,
        })
    })?;
    rows.collect()
}

pub(crate) const ENGAGED_PEOPLE_SQL: &str = "SELECT count(*) FROM (
        SELECT account_id AS who FROM likes WHERE post_id = ?1 AND account_id != ?2
        UNION SELECT author_id FROM posts WHERE repost_of_id = ?1 AND author_id != ?2
        UNION SELECT author_id FROM posts WHERE in_reply_to_id = ?1 AND author_id != ?2
            AND deleted_at IS NULL
        UNION SELECT author_id FROM posts WHERE quote_id = ?1 AND author_id != ?2
            AND deleted_at IS NULL)";

/// Distinct people other than the author who liked, reposted, replied to or quoted a post.
pub fn engaged_people(conn: &Connection, post: PostId, author: AccountId) -> rusqlite::Result<i64> {
    conn.prepare_cached(ENGAGED_PEOPLE_SQL)?
        .query_row(params![post.0, author.0], |r| r.get(0))
}

pub fn hide_tag_from_trends(
    conn: &Connection,
    tag: &str,
    by: AccountId,
    now: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO trend_hidden_tags (tag, hidden_by, created_at) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![tag, by.0, now])?;
    Ok(())
}

pub fn unhide_tag_from_trends(conn: &Connection, tag: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM trend_hidden_tags WHERE tag = ?1")?
        .execute([tag])?;
    Ok(())
}

pub fn hide_post_from_trends(
    conn: &Connection,
    post: PostId,
    by: AccountId,
    now: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO trend_hidden_posts (post_id, hidden_by, created_at)
         VALUES (?1, ?2, ?3)",
    )?
    .execute(params![post.0, by.0, now])?;
    Ok(())
}

pub fn unhide_post_from_trends(conn: &Connection, post: PostId) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM trend_hidden_posts WHERE post_id = ?1")?
        .execute([post.0])?;
    Ok(())
}

/// What is hidden from trends, newest first: (tags, post ids).
pub fn list_hidden_from_trends(
    conn: &Connection,
    limit: usize,
) -> rusqlite::Result<(Vec<String>, Vec<PostId>)> {
    let tags = conn
        .prepare_cached("SELECT tag FROM trend_hidden_tags ORDER BY created_at DESC LIMIT ?1")?
        .query_map([limit as i64], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let posts = conn
        .prepare_cached("SELECT post_id FROM trend_hidden_posts ORDER BY created_at DESC LIMIT ?1")?
        .query_map([limit as i64], |r| Ok(PostId(r.get(0)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok((tags, posts))
}
