//! Bounded home feeds: for each account that reads its home feed, the ids of candidate rows
//! (posts and reposts by the people it follows, and its own), filled on write.
//!
//! Invariant: an account's entries hold *every* candidate with an id at or above its `floor`.
//! Events that create candidates keep it: a new post (fan-out), a new follow (backfill), the
//! build. Nothing needs to keep out stale entries: the page query applies every rule of the
//! pull query (author still followed, reply rule, visibility, deletion) at read time, so an
//! entry can only ever narrow the search, never widen what is shown.

use rusqlite::{Connection, OptionalExtension, params};

use super::feeds::Row;
use crate::domain::{AccountId, PostId};
use crate::store::models::PostView;

/// The feed's floor, when the account has a feed.
pub fn floor(conn: &Connection, account: AccountId) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT floor FROM home_feeds WHERE account_id = ?1")?
        .query_row([account.0], |r| r.get(0))
        .optional()
}

/// `?1` is the feed's owner; `p` a post that reaches the feed through a hashtag it follows
/// (public and top-level). Paging and unfollowing must agree on it.
macro_rules! reached_by_followed_tag {
    () => {
        "(p.visibility = 0 AND p.in_reply_to_id IS NULL AND p.repost_of_id IS NULL
           AND EXISTS (SELECT 1 FROM post_tags t JOIN followed_tags ft ON ft.tag = t.tag
               WHERE t.post_id = p.id AND ft.account_id = ?1))"
    };
}

pub(crate) const PAGE_SQL: &str = concat!(
    "SELECT ",
    crate::store::posts::post_columns!(),
    " FROM home_feeds f
       JOIN home_entries h ON h.account_id = f.account_id JOIN posts p ON p.id = h.post_id",
    crate::store::posts::post_authors!(),
    "
     WHERE f.account_id = ?1 AND h.post_id < ?2 AND h.post_id >= f.floor AND p.deleted_at IS NULL
       AND (((p.author_id = ?1 OR EXISTS (SELECT 1 FROM follows fa
             WHERE fa.follower_id = ?1 AND fa.followee_id = p.author_id))
       AND (p.in_reply_to_author_id IS NULL OR p.in_reply_to_author_id = p.author_id
            OR p.in_reply_to_author_id = ?1
            OR EXISTS (SELECT 1 FROM follows fr
                WHERE fr.follower_id = ?1 AND fr.followee_id = p.in_reply_to_author_id))
       AND ",
    visible_to_viewer!(),
    ") OR ",
    reached_by_followed_tag!(),
    ")
     ORDER BY h.post_id DESC LIMIT ?3"
);

/// One page from the feed's entries: ids below `before` and at or above the feed's floor
/// (none when the account has no feed; `floor` tells the two apart). Each row comes with its
/// post as the viewer sees it, read along in the same statement; for a repost that is the
/// repost itself, not the post it shows.
pub fn page(
    conn: &Connection,
    viewer: AccountId,
    before: i64,
    limit: usize,
) -> rusqlite::Result<Vec<(Row, PostView)>> {
    let mut stmt = conn.prepare_cached(PAGE_SQL)?;
    let rows = stmt.query_map(params![viewer.0, before, limit as i64], |r| {
        let view = crate::store::posts::post_from_row(r)?;
        Ok((Row::of(view.id, view.repost_of, view.author.id), view))
    })?;
    rows.collect()
}

pub(crate) const CANDIDATES_SQL: &str = concat!(
    "WITH authors(id) AS (
        SELECT followee_id FROM follows WHERE follower_id = ?1 UNION ALL SELECT ?1)
     SELECT * FROM (SELECT p.id FROM posts p WHERE p.author_id IN authors AND p.deleted_at IS NULL
     ORDER BY p.id DESC LIMIT ?3)
     UNION SELECT id FROM (",
    crate::store::feeds::followed_tag_posts!(),
    ") ORDER BY 1 DESC LIMIT ?3"
);

/// The newest `limit` candidates for a new feed, newest first.
pub fn candidates(
    conn: &Connection,
    account: AccountId,
    limit: usize,
) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(CANDIDATES_SQL)?;
    let rows = stmt.query_map(params![account.0, i64::MAX, limit as i64], |r| r.get(0))?;
    rows.collect()
}

/// The newest edit's id (to see whether an edit, which can add a followed tag to an old post,
/// happened since a read).
pub fn newest_edit(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT coalesce(max(id), 0) FROM post_edits")?
        .query_row([], |r| r.get(0))
}

/// Who `account` follows, in a stable order (to see whether it changed since a read).
pub fn followees(conn: &Connection, account: AccountId) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT followee_id FROM follows WHERE follower_id = ?1 ORDER BY followee_id",
    )?;
    let rows = stmt.query_map([account.0], |r| r.get(0))?;
    rows.collect()
}

/// Creates the feed from candidates read earlier; `newer_than` is the newest post id at that
/// read, and candidates committed since are added here so none falls in the gap.
pub fn create(
    conn: &Connection,
    account: AccountId,
    entries: &[i64],
    floor: i64,
    newer_than: i64,
    now: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO home_feeds (account_id, floor, built_at) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![account.0, floor, now])?;
    let mut ins = conn.prepare_cached(
        "INSERT OR IGNORE INTO home_entries (account_id, post_id) VALUES (?1, ?2)",
    )?;
    for id in entries {
        ins.execute(params![account.0, id])?;
    }
    conn.prepare_cached(
        "INSERT OR IGNORE INTO home_entries (account_id, post_id)
         SELECT ?1, p.id FROM posts p
         WHERE p.id > ?2 AND p.deleted_at IS NULL AND (p.author_id = ?1 OR p.author_id IN
             (SELECT followee_id FROM follows WHERE follower_id = ?1))",
    )?
    .execute(params![account.0, newer_than])?;
    conn.prepare_cached(
        "INSERT OR IGNORE INTO home_entries (account_id, post_id)
         SELECT ?1, p.id FROM followed_tags ft JOIN post_tags t ON t.tag = ft.tag
         JOIN posts p ON p.id = t.post_id
         WHERE ft.account_id = ?1 AND t.post_id > ?2 AND p.visibility = 0
           AND p.in_reply_to_id IS NULL AND p.repost_of_id IS NULL AND p.deleted_at IS NULL",
    )?
    .execute(params![account.0, newer_than])?;
    Ok(())
}

/// Adds a post to its author's own feed, if they have one.
pub fn add_own(conn: &Connection, author: AccountId, post: PostId) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO home_entries (account_id, post_id)
         SELECT account_id, ?2 FROM home_feeds WHERE account_id = ?1",
    )?
    .execute(params![author.0, post.0])?;
    Ok(())
}

/// Adds a post to the feed of every follower of its author who has a feed; returns those
/// followers, so the caller can keep their feeds bounded.
pub fn fan_out(
    conn: &Connection,
    author: AccountId,
    post: PostId,
) -> rusqlite::Result<Vec<AccountId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT f.follower_id FROM follows f JOIN home_feeds h ON h.account_id = f.follower_id
         WHERE f.followee_id = ?1",
    )?;
    let followers: Vec<AccountId> = stmt
        .query_map([author.0], |r| Ok(AccountId(r.get(0)?)))?
        .collect::<rusqlite::Result<_>>()?;
    add_to_feeds(conn, &followers, post)?;
    Ok(followers)
}

/// Adds one post to these accounts' feeds.
fn add_to_feeds(conn: &Connection, accounts: &[AccountId], post: PostId) -> rusqlite::Result<()> {
    let mut ins = conn.prepare_cached(
        "INSERT OR IGNORE INTO home_entries (account_id, post_id) VALUES (?1, ?2)",
    )?;
    for a in accounts {
        ins.execute(params![a.0, post.0])?;
    }
    Ok(())
}

/// Adds a public top-level post to the feed of everyone with a feed who follows one of its
/// hashtags; returns them.
pub fn fan_out_tags(conn: &Connection, post: PostId) -> rusqlite::Result<Vec<AccountId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT ft.account_id FROM posts p JOIN post_tags t ON t.post_id = p.id
         JOIN followed_tags ft ON ft.tag = t.tag JOIN home_feeds h ON h.account_id = ft.account_id
         WHERE p.id = ?1 AND p.visibility = 0 AND p.in_reply_to_id IS NULL
           AND p.repost_of_id IS NULL AND p.deleted_at IS NULL",
    )?;
    let followers: Vec<AccountId> = stmt
        .query_map([post.0], |r| Ok(AccountId(r.get(0)?)))?
        .collect::<rusqlite::Result<_>>()?;
    add_to_feeds(conn, &followers, post)?;
    Ok(followers)
}

/// After `account` follows `tag`: its public top-level posts at or above the floor join the
/// feed (at most `limit`, the newest; the caller trims afterwards).
pub fn backfill_tag(
    conn: &Connection,
    account: AccountId,
    tag: &str,
    limit: usize,
) -> rusqlite::Result<bool> {
    let Some(floor) = floor(conn, account)? else {
        return Ok(false);
    };
    conn.prepare_cached(
        "INSERT OR IGNORE INTO home_entries (account_id, post_id)
         SELECT ?1, p.id FROM post_tags t JOIN posts p ON p.id = t.post_id
         WHERE t.tag = ?2 AND t.post_id >= ?3 AND p.visibility = 0
           AND p.in_reply_to_id IS NULL AND p.repost_of_id IS NULL AND p.deleted_at IS NULL
         ORDER BY t.post_id DESC LIMIT ?4",
    )?
    .execute(params![account.0, tag, floor, limit as i64])?;
    Ok(true)
}

/// After `follower` starts following `author`: the author's posts at or above the floor join
/// the feed (at most `limit`, the newest; the caller trims to `limit` afterwards, which raises
/// the floor above any that did not fit).
pub fn backfill(
    conn: &Connection,
    follower: AccountId,
    author: AccountId,
    limit: usize,
) -> rusqlite::Result<bool> {
    let Some(floor) = floor(conn, follower)? else {
        return Ok(false);
    };
    conn.prepare_cached(
        "INSERT OR IGNORE INTO home_entries (account_id, post_id)
         SELECT ?1, p.id FROM posts p
         WHERE p.author_id = ?2 AND p.id >= ?3 AND p.deleted_at IS NULL
         ORDER BY p.id DESC LIMIT ?4",
    )?
    .execute(params![follower.0, author.0, floor, limit as i64])?;
    Ok(true)
}

/// After `follower` stops following `author`: drops the author's entries. Not needed for
/// correctness (the page query checks the follow), only to keep the feed small.
pub fn remove_author(
    conn: &Connection,
    follower: AccountId,
    author: AccountId,
) -> rusqlite::Result<()> {
    // Posts that also reach the feed through a followed hashtag stay.
    conn.prepare_cached(concat!(
        "DELETE FROM home_entries WHERE account_id = ?1 AND post_id IN
             (SELECT p.id FROM posts p WHERE p.author_id = ?2
              AND p.id >= (SELECT floor FROM home_feeds WHERE account_id = ?1)
              AND NOT ",
        reached_by_followed_tag!(),
        ")"
    ))?
    .execute(params![follower.0, author.0])?;
    Ok(())
}

pub(crate) const KEEP_FROM_SQL: &str = "SELECT post_id FROM home_entries WHERE account_id = ?1
     ORDER BY post_id DESC LIMIT 1 OFFSET ?2";

/// Keeps the newest `keep` entries and raises the floor to the oldest one kept.
pub fn trim(conn: &Connection, account: AccountId, keep: usize) -> rusqlite::Result<()> {
    let cut: Option<i64> = conn
        .prepare_cached(KEEP_FROM_SQL)?
        .query_row(params![account.0, keep.saturating_sub(1) as i64], |r| {
            r.get(0)
        })
        .optional()?;
    let Some(cut) = cut else {
        return Ok(());
    };
    conn.prepare_cached("DELETE FROM home_entries WHERE account_id = ?1 AND post_id < ?2")?
        .execute(params![account.0, cut])?;
    conn.prepare_cached("UPDATE home_feeds SET floor = max(floor, ?2) WHERE account_id = ?1")?
        .execute(params![account.0, cut])?;
    Ok(())
}

/// Drops an account's feed entirely (it is rebuilt on the next read).
pub fn drop_feed(conn: &Connection, account: AccountId) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM home_entries WHERE account_id = ?1")?
        .execute([account.0])?;
    conn.prepare_cached("DELETE FROM home_feeds WHERE account_id = ?1")?
        .execute([account.0])?;
    Ok(())
}

/// How many accounts have a bounded home feed (one row per account at most, like accounts).
pub fn feed_count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM home_feeds", [], |r| r.get(0))
}
