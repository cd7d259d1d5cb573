//! Notifications: rows written in the same transaction as what caused them.

use rusqlite::{Connection, params};

use super::models::NotificationKind;
use crate::domain::{AccountId, PostId};

pub fn insert(
    conn: &Connection,
    id: i64,
    to: AccountId,
    kind: NotificationKind,
    actor: AccountId,
    post: Option<PostId>,
    now: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO notifications (id, account_id, kind, actor_id, post_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        id,
        to.0,
        kind as i64,
        actor.0,
        post.map(|p| p.0),
        now
    ])?;
    Ok(())
}

/// Removes the notification an undone action caused (an unlike, an unfollow).
pub fn delete_for(
    conn: &Connection,
    to: AccountId,
    kind: NotificationKind,
    actor: AccountId,
    post: Option<PostId>,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "DELETE FROM notifications WHERE account_id = ?1 AND kind = ?2 AND actor_id = ?3
         AND post_id IS ?4",
    )?
    .execute(params![to.0, kind as i64, actor.0, post.map(|p| p.0)])?;
    Ok(())
}

/// Raw rows: (id, kind, actor, post, created_at), newest first.
pub type Row = (i64, i64, AccountId, Option<PostId>, i64);

pub fn list(
    conn: &Connection,
    to: AccountId,
    before: i64,
    limit: usize,
) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, actor_id, post_id, created_at FROM notifications
         WHERE account_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![to.0, before, limit as i64], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            AccountId(r.get(2)?),
            r.get::<_, Option<i64>>(3)?.map(PostId),
            r.get(4)?,
        ))
    })?;
    rows.collect()
}

/// Marks read everything up to `up_to` (the newest notification the person saw), or all.
pub fn mark_all_read(conn: &Connection, to: AccountId, up_to: Option<i64>) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE accounts SET notifications_seen_id = max(notifications_seen_id,
            coalesce((SELECT max(id) FROM notifications WHERE account_id = ?1 AND id <= ?2), 0))
         WHERE id = ?1",
        rusqlite::params![to.0, up_to.unwrap_or(i64::MAX)],
    )?;
    Ok(())
}
