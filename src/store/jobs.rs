//! The jobs table: a durable queue. Jobs are inserted inside the transaction of the change that
//! causes them and deleted when done.

use rusqlite::{Connection, OptionalExtension, params};

#[derive(Debug, Clone)]
pub struct QueuedJob {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub attempts: u32,
}

#[derive(Debug, Clone)]
pub struct DeadJob {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub attempts: u32,
    pub last_error: String,
    pub created_at: i64,
}

const QUEUED: i64 = 0;
pub(crate) const DEAD: i64 = 1;

pub fn insert(
    conn: &Connection,
    id: i64,
    kind: &str,
    payload: &str,
    run_at_ms: i64,
    now: i64,
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO jobs (id, kind, payload, state, run_at, created_at)
         VALUES (?1, ?2, ?3, 0, ?4, ?5)",
    )?;
    stmt.execute(params![id, kind, payload, run_at_ms, now])?;
    Ok(())
}

/// Queued jobs due at `now_ms`, oldest first.
pub fn due(conn: &Connection, now_ms: i64, limit: usize) -> rusqlite::Result<Vec<QueuedJob>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, payload, attempts FROM jobs
         WHERE state = 0 AND run_at <= ?1 ORDER BY run_at, id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![now_ms, limit as i64], |r| {
        Ok(QueuedJob {
            id: r.get(0)?,
            kind: r.get(1)?,
            payload: r.get(2)?,
            attempts: r.get(3)?,
        })
    })?;
    rows.collect()
}

/// When the next queued job falls due, if any is queued.
pub fn next_run_at(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT min(run_at) FROM jobs WHERE state = 0")?
        .query_row([], |r| r.get(0))
}

pub fn delete(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached("DELETE FROM jobs WHERE id = ?1")?
        .execute([id])?;
    Ok(n > 0)
}

/// Records a failed attempt: either retry at `retry_at_ms`, or (when `None`) set it aside.
pub fn record_failure(
    conn: &Connection,
    id: i64,
    error: &str,
    retry_at_ms: Option<i64>,
) -> rusqlite::Result<()> {
    let (state, run_at) = match retry_at_ms {
        Some(t) => (QUEUED, t),
        None => (DEAD, i64::MAX),
    };
    conn.prepare_cached(
        "UPDATE jobs SET attempts = attempts + 1, last_error = ?2, state = ?3, run_at = ?4
         WHERE id = ?1",
    )?
    .execute(params![id, error, state, run_at])?;
    Ok(())
}

/// Puts a dead job back in the queue with a fresh count of attempts.
pub fn retry_dead(conn: &Connection, id: i64, now_ms: i64) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE jobs SET state = 0, attempts = 0, run_at = ?2 WHERE id = ?1 AND state = 1",
        )?
        .execute(params![id, now_ms])?;
    Ok(n > 0)
}

pub fn delete_dead(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached("DELETE FROM jobs WHERE id = ?1 AND state = 1")?
        .execute([id])?;
    Ok(n > 0)
}

/// Most jobs counted per state for the admin page: a backlog of millions must not make the
/// page walk them all.
pub const COUNT_CAP: i64 = 10_000;

/// Queued and dead jobs per kind, each count capped at `COUNT_CAP`.
pub fn counts(conn: &Connection) -> rusqlite::Result<Vec<(String, i64, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT kind, count(*) FROM (SELECT kind FROM jobs WHERE state = ?1 LIMIT ?2)
         GROUP BY kind ORDER BY kind",
    )?;
    let mut out: Vec<(String, i64, i64)> = Vec::new();
    for state in [QUEUED, DEAD] {
        let rows = stmt.query_map(params![state, COUNT_CAP], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (kind, n) = row?;
            let i = match out.iter().position(|(k, _, _)| *k == kind) {
                Some(i) => i,
                None => {
                    out.push((kind, 0, 0));
                    out.len() - 1
                }
            };
            if state == QUEUED {
                out[i].1 = n;
            } else {
                out[i].2 = n;
            }
        }
    }
    out.sort();
    Ok(out)
}

pub fn list_dead(conn: &Connection, limit: usize) -> rusqlite::Result<Vec<DeadJob>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, payload, attempts, last_error, created_at FROM jobs
         WHERE state = 1 ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit as i64], |r| {
        Ok(DeadJob {
            id: r.get(0)?,
            kind: r.get(1)?,
            payload: r.get(2)?,
            attempts: r.get(3)?,
            last_error: r.get(4)?,
            created_at: r.get(5)?,
        })
    })?;
    rows.collect()
}

/// How many jobs are due now (not scheduled later, not dead).
pub fn due_count(conn: &Connection, now_ms: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT count(*) FROM jobs WHERE state = 0 AND run_at <= ?1")?
        .query_row([now_ms], |r| r.get(0))
}

/// How many jobs are waiting to run (dead ones excluded).
pub fn queued_count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT count(*) FROM jobs WHERE state = 0")?
        .query_row([], |r| r.get(0))
}

/// Whether a queued job of this kind exists (for periodic jobs that requeue themselves).
pub fn has_kind(conn: &Connection, kind: &str) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM jobs WHERE state = 0 AND kind = ?1 LIMIT 1")?
        .query_row([kind], |_| Ok(()))
        .optional()?
        .is_some())
}
