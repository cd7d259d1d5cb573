//! Follows and follow requests.

use rusqlite::{Connection, params};

use super::accounts::account_from_row;
use super::models::{AccountListItem, Relationship};
use crate::domain::AccountId;

pub fn is_following(
    conn: &Connection,
    follower: AccountId,
    followee: AccountId,
) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM follows WHERE follower_id = ?1 AND followee_id = ?2)",
    )?
    .query_row(params![follower.0, followee.0], |r| r.get(0))
}

pub fn relationship(
    conn: &Connection,
    viewer: AccountId,
    other: AccountId,
) -> rusqlite::Result<Relationship> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM follows WHERE follower_id = ?1 AND followee_id = ?2),
                EXISTS (SELECT 1 FROM follow_requests WHERE requester_id = ?1 AND target_id = ?2),
                EXISTS (SELECT 1 FROM follows WHERE follower_id = ?2 AND followee_id = ?1),
                EXISTS (SELECT 1 FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2)",
    )?
    .query_row(params![viewer.0, other.0], |r| {
        Ok(Relationship {
            following: r.get(0)?,
            requested: r.get(1)?,
            followed_by: r.get(2)?,
            blocking: r.get(3)?,
        })
    })
}

/// Returns true when the follow is new.
pub fn insert_follow(
    conn: &Connection,
    id: i64,
    follower: AccountId,
    followee: AccountId,
    now: i64,
) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached(
            "INSERT OR IGNORE INTO follows (id, follower_id, followee_id, created_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![id, follower.0, followee.0, now])?
        > 0)
}

pub fn delete_follow(
    conn: &Connection,
    follower: AccountId,
    followee: AccountId,
) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM follows WHERE follower_id = ?1 AND followee_id = ?2")?
        .execute(params![follower.0, followee.0])?
        > 0)
}

pub fn insert_request(
    conn: &Connection,
    id: i64,
    requester: AccountId,
    target: AccountId,
    now: i64,
) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached(
            "INSERT OR IGNORE INTO follow_requests (id, requester_id, target_id, created_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![id, requester.0, target.0, now])?
        > 0)
}

pub fn delete_request(
    conn: &Connection,
    requester: AccountId,
    target: AccountId,
) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM follow_requests WHERE requester_id = ?1 AND target_id = ?2")?
        .execute(params![requester.0, target.0])?
        > 0)
}

pub fn list_request_ids(conn: &Connection, target: AccountId) -> rusqlite::Result<Vec<AccountId>> {
    let mut stmt =
        conn.prepare_cached("SELECT requester_id FROM follow_requests WHERE target_id = ?1")?;
    let rows = stmt.query_map([target.0], |r| Ok(AccountId(r.get(0)?)))?;
    rows.collect()
}

/// Follow requests `requester` has made that are still waiting.
pub fn count_outgoing_requests(conn: &Connection, requester: AccountId) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT count(*) FROM follow_requests WHERE requester_id = ?1")?
        .query_row([requester.0], |r| r.get(0))
}

pub enum List {
    Followers,
    Following,
    Requests,
}

/// A page of accounts (newest relation first) with keyset cursors.
pub fn list(
    conn: &Connection,
    which: List,
    of: AccountId,
    before: i64,
    limit: usize,
) -> rusqlite::Result<Vec<AccountListItem>> {
    macro_rules! list_sql {
        ($table:literal, $key:literal, $other:literal) => {
            concat!(
                "SELECT x.id, ",
                account_columns!(),
                " FROM ",
                $table,
                " x JOIN accounts a ON a.id = x.",
                $other,
                " WHERE x.",
                $key,
                " = ?1 AND x.id < ?2 ORDER BY x.id DESC LIMIT ?3"
            )
        };
    }
    let sql = match which {
        List::Followers => list_sql!("follows", "followee_id", "follower_id"),
        List::Following => list_sql!("follows", "follower_id", "followee_id"),
        List::Requests => list_sql!("follow_requests", "target_id", "requester_id"),
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params![of.0, before, limit as i64], |r| {
        Ok(AccountListItem {
            cursor: r.get(0)?,
            account: account_from_row(r, 1)?,
        })
    })?;
    rows.collect()
}
