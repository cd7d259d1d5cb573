//! The only code that speaks SQL. `db` owns connections and the group-committing writer; the
//! other files hold the queries for one table group each and the read models they return.
//! Store functions take a `&Connection` and never decide policy: that is the service's job.

/// SQL fragments shared by several queries, as macros so that every query is put together
/// with `concat!` at compile time instead of `format!` on every call (the post columns run
/// twenty times per feed page, the session lookup on every request).
macro_rules! account_columns {
    () => {
        "a.id, a.username, a.email, a.display_name, a.bio, a.fields, \
         a.role, a.verified_at IS NOT NULL, a.locked, a.status, a.signup_reason, a.created_at, \
         a.posts_count, a.followers_count, a.following_count, a.notifications_seen_id, \
         a.avatar_file, a.header_file, a.bot"
    };
}

/// `?1` is the viewer (0 for nobody); `p` is the post. One predicate for every read path.
macro_rules! visible_to_viewer {
    () => {
        "(p.visibility = 0 OR p.author_id = ?1
    OR (p.visibility = 1 AND EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = ?1 AND f.followee_id = p.author_id))
    OR EXISTS (SELECT 1 FROM mentions m WHERE m.post_id = p.id AND m.account_id = ?1))"
    };
}

pub mod accounts;
pub mod blocks;
pub mod db;
pub mod federation;
pub mod feeds;
pub mod follows;
pub mod home;
pub mod jobs;
pub mod media;
pub mod models;
pub mod notifications;
pub mod posts;
pub mod reports;
pub mod search;
pub mod settings;

pub use db::{Db, Options};

use crate::error::AppError;

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        AppError::Internal(anyhow::Error::new(e).context("database"))
    }
}

/// True when `e` is a UNIQUE constraint violation (the row already exists).
pub fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

/// The newest id in any table with application-made ids, so the id generator never goes back.
pub fn max_id(conn: &rusqlite::Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT max(coalesce((SELECT max(id) FROM accounts), 0),
                    coalesce((SELECT max(id) FROM posts), 0),
                    coalesce((SELECT max(id) FROM notifications), 0),
                    coalesce((SELECT max(id) FROM follows), 0),
                    coalesce((SELECT max(id) FROM follow_requests), 0),
                    coalesce((SELECT max(id) FROM bookmarks), 0),
                    coalesce((SELECT max(id) FROM post_edits), 0),
                    coalesce((SELECT max(id) FROM reports), 0))",
        [],
        |r| r.get(0),
    )
}
