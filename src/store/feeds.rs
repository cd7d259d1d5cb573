//! Feed queries. Each returns one page of raw rows, newest first, by keyset on the row id
//! (never OFFSET): `(cursor, shown post, reposter)`. Visibility to the viewer is part of the SQL
//! for the row itself; a reposted original is checked by the caller after hydration.

use rusqlite::{Connection, params};

use crate::domain::{AccountId, PostId};

#[derive(Debug, Clone, Copy)]
pub struct Row {
    pub cursor: i64,
    pub post: PostId,
    pub reposted_by: Option<AccountId>,
}

impl Row {
    /// The row for post `id` by `author`: itself, or the post it reposts.
    pub(crate) fn of(id: PostId, repost_of: Option<PostId>, author: AccountId) -> Row {
        match repost_of {
            Some(original) => Row {
                cursor: id.0,
                post: original,
                reposted_by: Some(author),
            },
            None => Row {
                cursor: id.0,
                post: id,
                reposted_by: None,
            },
        }
    }
}

fn map_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row::of(
        PostId(r.get(0)?),
        r.get::<_, Option<i64>>(1)?.map(PostId),
        AccountId(r.get(2)?),
    ))
}

/// Public top-level posts carrying a hashtag `?1` follows, below `?2`, newest `?3`. Each
/// followed tag is read newest first and stops after `?3` posts (a tag with a million posts
/// costs the same as a small one); the few rows left are merged.
macro_rules! followed_tag_posts {
    () => {
        "SELECT DISTINCT p.id, p.repost_of_id, p.author_id FROM followed_tags ft JOIN posts p
         ON p.id IN (SELECT t.post_id FROM post_tags t JOIN posts q ON q.id = t.post_id
             WHERE t.tag = ft.tag AND t.post_id < ?2 AND q.visibility = 0
               AND q.in_reply_to_id IS NULL AND q.repost_of_id IS NULL AND q.deleted_at IS NULL
             ORDER BY t.post_id DESC LIMIT ?3)
         WHERE ft.account_id = ?1
         ORDER BY p.id DESC LIMIT ?3"
    };
}
pub(crate) use followed_tag_posts;

const HOME_SQL: &str = concat!(
    "WITH authors(id) AS (SELECT followee_id FROM follows WHERE follower_id = ?1 UNION ALL SELECT ?1)
     SELECT * FROM (SELECT p.id, p.repost_of_id, p.author_id FROM posts p
     WHERE p.author_id IN authors AND p.id < ?2 AND p.deleted_at IS NULL
       AND (p.in_reply_to_author_id IS NULL OR p.in_reply_to_author_id = p.author_id
            OR p.in_reply_to_author_id IN authors)
       AND ",
    visible_to_viewer!(),
    " ORDER BY p.id DESC LIMIT ?3)
     UNION SELECT * FROM (",
    followed_tag_posts!(),
    ") ORDER BY 1 DESC LIMIT ?3"
);

/// Posts and reposts by the people `viewer` follows and by `viewer`. Replies show when they
/// answer the viewer, someone the viewer follows, or the replier themself (as Mastodon does).
/// Public top-level posts with a hashtag the viewer follows join them.
pub fn home(
    conn: &Connection,
    viewer: AccountId,
    before: i64,
    limit: usize,
) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(HOME_SQL)?;
    let rows = stmt.query_map(params![viewer.0, before, limit as i64], map_row)?;
    rows.collect()
}

/// Public top-level posts on the instance.
const PUBLIC_SQL: &str = "SELECT p.id, p.repost_of_id, p.author_id FROM posts p
     WHERE p.visibility = 0 AND p.in_reply_to_id IS NULL AND p.repost_of_id IS NULL
       AND p.deleted_at IS NULL AND p.id < ?1
     ORDER BY p.id DESC LIMIT ?2";

pub fn public(conn: &Connection, before: i64, limit: usize) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(PUBLIC_SQL)?;
    let rows = stmt.query_map(params![before, limit as i64], map_row)?;
    rows.collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileTab {
    Posts,
    WithReplies,
    Reposts,
}

impl ProfileTab {
    pub fn parse(s: Option<&str>) -> ProfileTab {
        match s {
            Some("replies") => ProfileTab::WithReplies,
            Some("reposts") => ProfileTab::Reposts,
            _ => ProfileTab::Posts,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileTab::Posts => "posts",
            ProfileTab::WithReplies => "replies",
            ProfileTab::Reposts => "reposts",
        }
    }
}

fn profile_sql(tab: ProfileTab) -> &'static str {
    macro_rules! profile_sql {
        ($filter:literal) => {
            concat!(
                "SELECT p.id, p.repost_of_id, p.author_id FROM posts p
                 WHERE p.author_id = ?2 AND p.id < ?3 AND p.deleted_at IS NULL AND ",
                $filter,
                " AND ",
                visible_to_viewer!(),
                " ORDER BY p.id DESC LIMIT ?4"
            )
        };
    }
    match tab {
        ProfileTab::Posts => profile_sql!("p.in_reply_to_id IS NULL AND p.repost_of_id IS NULL"),
        ProfileTab::WithReplies => profile_sql!("p.repost_of_id IS NULL"),
        ProfileTab::Reposts => profile_sql!("p.repost_of_id IS NOT NULL"),
    }
}

pub fn profile(
    conn: &Connection,
    viewer: AccountId,
    author: AccountId,
    tab: ProfileTab,
    before: i64,
    limit: usize,
) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(profile_sql(tab))?;
    let rows = stmt.query_map(params![viewer.0, author.0, before, limit as i64], map_row)?;
    rows.collect()
}

/// Public posts carrying a hashtag.
const TAG_SQL: &str =
    "SELECT p.id, p.repost_of_id, p.author_id FROM post_tags t JOIN posts p ON p.id = t.post_id
     WHERE t.tag = ?1 AND t.post_id < ?2 AND p.visibility = 0 AND p.deleted_at IS NULL
     ORDER BY t.post_id DESC LIMIT ?3";

pub fn tag(conn: &Connection, tag: &str, before: i64, limit: usize) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(TAG_SQL)?;
    let rows = stmt.query_map(params![tag, before, limit as i64], map_row)?;
    rows.collect()
}

/// The viewer's bookmarks, newest bookmark first; the cursor is the bookmark's id.
const BOOKMARKS_SQL: &str = "SELECT b.id, b.post_id FROM bookmarks b
     WHERE b.account_id = ?1 AND b.id < ?2 ORDER BY b.id DESC LIMIT ?3";

pub fn bookmarks(
    conn: &Connection,
    viewer: AccountId,
    before: i64,
    limit: usize,
) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(BOOKMARKS_SQL)?;
    let rows = stmt.query_map(params![viewer.0, before, limit as i64], |r| {
        Ok(Row {
            cursor: r.get(0)?,
            post: PostId(r.get(1)?),
            reposted_by: None,
        })
    })?;
    rows.collect()
}

const DESCENDANTS_SQL: &str = "WITH RECURSIVE d(id) AS (
        SELECT id FROM posts WHERE in_reply_to_id = ?1
        UNION ALL
        SELECT p.id FROM posts p JOIN d ON p.in_reply_to_id = d.id
     )
     SELECT id FROM d ORDER BY id LIMIT ?2";

/// Every reply below `post`, at any depth, oldest first, at most `limit`.
pub fn descendants(conn: &Connection, post: PostId, limit: usize) -> rusqlite::Result<Vec<PostId>> {
    let mut stmt = conn.prepare_cached(DESCENDANTS_SQL)?;
    let rows = stmt.query_map(params![post.0, limit as i64], |r| Ok(PostId(r.get(0)?)))?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan's lines for `sql`; every parameter bound to 1.
    fn plan(conn: &Connection, sql: &str) -> Vec<String> {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let n = stmt.parameter_count();
        let params: Vec<i64> = vec![1; n];
        stmt.query_map(rusqlite::params_from_iter(params), |r| {
            r.get::<_, String>(3)
        })
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
    }

    /// A full scan of a big table is a line "SCAN <table or alias>" with no index.
    fn full_scans(lines: &[String]) -> Vec<String> {
        lines
            .iter()
            .filter(|l| l.starts_with("SCAN ") && !l.contains("USING"))
            // A union's branches are read back from their own (bounded) results.
            .filter(|l| !l.starts_with("SCAN (subquery-"))
            .filter(|l| !matches!(l.as_str(), "SCAN d" | "SCAN authors" | "SCAN CONSTANT ROW"))
            .cloned()
            .collect()
    }

    #[test]
    fn hot_feed_queries_use_indexes_and_never_scan_a_table() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::Db::open(
            &dir.path().join("t.sqlite3"),
            crate::store::Options {
                readers: 1,
                group_commit_max: 1,
                synchronous_full: false,
                mmap_bytes: 0,
            },
        )
        .unwrap();
        let queries = [
            ("home", HOME_SQL.to_string()),
            ("public", PUBLIC_SQL.to_string()),
            ("profile posts", profile_sql(ProfileTab::Posts).to_string()),
            (
                "profile replies",
                profile_sql(ProfileTab::WithReplies).to_string(),
            ),
            (
                "profile reposts",
                profile_sql(ProfileTab::Reposts).to_string(),
            ),
            ("tag", TAG_SQL.to_string()),
            ("bookmarks", BOOKMARKS_SQL.to_string()),
            ("descendants", DESCENDANTS_SQL.to_string()),
            ("home entries", crate::store::home::PAGE_SQL.to_string()),
            ("home build", crate::store::home::CANDIDATES_SQL.to_string()),
            ("home trim", crate::store::home::KEEP_FROM_SQL.to_string()),
            ("trend tags", crate::store::search::TAG_USES_SQL.to_string()),
            (
                "trend posts",
                crate::store::search::ENGAGED_POSTS_SQL.to_string(),
            ),
            (
                "trend people",
                crate::store::search::ENGAGED_PEOPLE_SQL.to_string(),
            ),
        ];
        db.read_blocking(|conn| {
            for (name, sql) in &queries {
                let lines = plan(conn, sql);
                let scans = full_scans(&lines);
                assert!(scans.is_empty(), "{name} scans a table: {lines:#?}");
            }
            Ok(())
        })
        .unwrap();
        db.close();
    }
}
