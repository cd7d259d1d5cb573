//! Blocks between people.

use rusqlite::{Connection, params};

use crate::domain::AccountId;

/// Records a block; false when it was there already.
pub fn insert(
    conn: &Connection,
    blocker: AccountId,
    blocked: AccountId,
    now: i64,
) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached(
            "INSERT OR IGNORE INTO blocks (blocker_id, blocked_id, created_at) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![blocker.0, blocked.0, now])?
        == 1)
}

pub fn delete(conn: &Connection, blocker: AccountId, blocked: AccountId) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2")?
        .execute(params![blocker.0, blocked.0])?
        == 1)
}

pub fn blocks(conn: &Connection, blocker: AccountId, blocked: AccountId) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2)",
    )?
    .query_row(params![blocker.0, blocked.0], |r| r.get(0))
}

/// Whether either of the two blocks the other.
pub fn between(conn: &Connection, a: AccountId, b: AccountId) -> rusqlite::Result<bool> {
    Ok(blocks(conn, a, b)? || blocks(conn, b, a)?)
}

/// Everyone `account` blocks or is blocked by (kept out of each other's feeds).
pub fn involving(conn: &Connection, account: AccountId) -> rusqlite::Result<Vec<AccountId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT blocked_id FROM blocks WHERE blocker_id = ?1
         UNION SELECT blocker_id FROM blocks WHERE blocked_id = ?1",
    )?;
    let rows = stmt.query_map([account.0], |r| r.get(0).map(AccountId))?;
    rows.collect()
}

pub fn set_activity(
    conn: &Connection,
    blocker: AccountId,
    blocked: AccountId,
    activity: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE blocks SET activity_id = ?3 WHERE blocker_id = ?1 AND blocked_id = ?2",
    )?
    .execute(params![blocker.0, blocked.0, activity])?;
    Ok(())
}

pub fn activity(
    conn: &Connection,
    blocker: AccountId,
    blocked: AccountId,
) -> rusqlite::Result<Option<String>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .prepare_cached("SELECT activity_id FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2")?
        .query_row(params![blocker.0, blocked.0], |r| {
            r.get::<_, Option<String>>(0)
        })
        .optional()?
        .flatten())
}

/// Notifications either of the two caused the other (they go with a block).
pub fn forget_notifications(conn: &Connection, a: AccountId, b: AccountId) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "DELETE FROM notifications WHERE (account_id = ?1 AND actor_id = ?2)
                                      OR (account_id = ?2 AND actor_id = ?1)",
    )?
    .execute(params![a.0, b.0])?;
    Ok(())
}
