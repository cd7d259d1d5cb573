//! Reports to the moderators.

use rusqlite::{Connection, OptionalExtension, params};

use crate::domain::{AccountId, PostId};

pub struct NewReport<'a> {
    pub id: i64,
    pub reporter: Option<AccountId>,
    pub reporter_domain: Option<&'a str>,
    pub target: AccountId,
    pub post: Option<PostId>,
    pub reason: &'a str,
    pub forwarded: bool,
    pub uri: Option<&'a str>,
    pub created_at: i64,
}

/// Inserts a report; false when one with the same `uri` came already (a redelivered Flag).
pub fn insert(conn: &Connection, r: &NewReport<'_>) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached(
            "INSERT OR IGNORE INTO reports (id, reporter_id, reporter_domain, target_id, post_id,
                 reason, forwarded, uri, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            r.id,
            r.reporter.map(|a| a.0),
            r.reporter_domain,
            r.target.0,
            r.post.map(|p| p.0),
            r.reason,
            r.forwarded,
            r.uri,
            r.created_at
        ])?
        == 1)
}

/// A report as the moderators' queue shows it.
#[derive(Debug, Clone)]
pub struct ReportRow {
    pub id: i64,
    /// Username of the local reporter, or the domain of the server that sent it.
    pub reporter: String,
    pub target: String,
    pub post: Option<PostId>,
    pub reason: String,
    pub forwarded: bool,
    pub created_at: i64,
    pub resolved_at: Option<i64>,
}

/// Open reports first (newest first), then the latest resolved ones.
pub fn list(conn: &Connection, limit: usize) -> rusqlite::Result<Vec<ReportRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.id, coalesce(ra.username, r.reporter_domain, ''), t.username, r.post_id,
                r.reason, r.forwarded, r.created_at, r.resolved_at
         FROM reports r JOIN accounts t ON t.id = r.target_id
         LEFT JOIN accounts ra ON ra.id = r.reporter_id
         ORDER BY r.resolved_at IS NOT NULL, r.id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit as i64], |r| {
        Ok(ReportRow {
            id: r.get(0)?,
            reporter: r.get(1)?,
            target: r.get(2)?,
            post: r.get::<_, Option<i64>>(3)?.map(PostId),
            reason: r.get(4)?,
            forwarded: r.get(5)?,
            created_at: r.get(6)?,
            resolved_at: r.get(7)?,
        })
    })?;
    rows.collect()
}

pub fn open_count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM (SELECT 1 FROM reports WHERE resolved_at IS NULL LIMIT 10000)",
        [],
        |r| r.get(0),
    )
}

pub fn resolve(conn: &Connection, id: i64, by: AccountId, now: i64) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE reports SET resolved_at = ?3, resolved_by = ?2
             WHERE id = ?1 AND resolved_at IS NULL",
        )?
        .execute(params![id, by.0, now])?
        == 1)
}

pub fn exists(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM reports WHERE id = ?1")?
        .query_row([id], |_| Ok(()))
        .optional()?
        .is_some())
}
