//! The only code that speaks SQL. `db` owns connections and the group-committing writer; the
//! other files hold the queries for one table group each and the read models they return.
//! Store functions take a `&Connection` and never decide policy: that is the service's job.

pub mod accounts;
pub mod db;
pub mod feeds;
pub mod follows;
pub mod models;
pub mod notifications;
pub mod posts;
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
                    coalesce((SELECT max(id) FROM post_edits), 0))",
        [],
        |r| r.get(0),
    )
}
