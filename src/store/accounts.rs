//! Accounts and sessions.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::models::{Account, AccountBrief, AccountStatus, Session};
use crate::domain::{AccountId, Role};

/// Maps a row selected with `account_columns!()` starting at column `o`.
pub fn account_from_row(r: &Row<'_>, o: usize) -> rusqlite::Result<Account> {
    let fields: String = r.get(o + 5)?;
    Ok(Account {
        id: AccountId(r.get(o)?),
        username: r.get(o + 1)?,
        email: r.get(o + 2)?,
        display_name: r.get(o + 3)?,
        bio: r.get(o + 4)?,
        fields: serde_json::from_str(&fields).unwrap_or_default(),
        role: Role::from_i64(r.get(o + 6)?),
        verified: r.get(o + 7)?,
        locked: r.get(o + 8)?,
        status: AccountStatus::from_i64(r.get(o + 9)?),
        signup_reason: r.get(o + 10)?,
        created_at: r.get(o + 11)?,
        posts_count: r.get(o + 12)?,
        followers_count: r.get(o + 13)?,
        following_count: r.get(o + 14)?,
        notifications_seen_id: r.get(o + 15)?,
        avatar: r.get(o + 16)?,
        header: r.get(o + 17)?,
        bot: r.get(o + 18)?,
    })
}

pub struct NewAccount<'a> {
    pub id: AccountId,
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub password_hash: &'a str,
    pub role: Role,
    pub status: AccountStatus,
    pub signup_reason: &'a str,
    pub created_at: i64,
}

pub fn insert(conn: &Connection, a: &NewAccount<'_>) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO accounts (id, username, email, password_hash, role, status, signup_reason, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        a.id.0,
        a.username,
        a.email,
        a.password_hash,
        a.role as i64,
        a.status as i64,
        a.signup_reason,
        a.created_at
    ])?;
    Ok(())
}

pub fn count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM accounts", [], |r| r.get(0))
}

/// Whether any account exists (one page, where `count` walks them all).
pub fn any(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row("SELECT EXISTS (SELECT 1 FROM accounts)", [], |r| r.get(0))
}

pub fn find_by_id(conn: &Connection, id: AccountId) -> rusqlite::Result<Option<Account>> {
    conn.prepare_cached(concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts a WHERE a.id = ?1"
    ))?
    .query_row([id.0], |r| account_from_row(r, 0))
    .optional()
}

pub fn find_by_username(conn: &Connection, name: &str) -> rusqlite::Result<Option<Account>> {
    conn.prepare_cached(concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts a WHERE a.username = ?1"
    ))?
    .query_row([name], |r| account_from_row(r, 0))
    .optional()
}

pub fn find_brief(conn: &Connection, id: AccountId) -> rusqlite::Result<Option<AccountBrief>> {
    conn.prepare_cached(
        "SELECT id, username, display_name, verified_at IS NOT NULL, avatar_file
         FROM accounts WHERE id = ?1",
    )?
    .query_row([id.0], |r| {
        Ok(AccountBrief {
            id: AccountId(r.get(0)?),
            username: r.get(1)?,
            display_name: r.get(2)?,
            verified: r.get(3)?,
            avatar: r.get(4)?,
        })
    })
    .optional()
}

/// Active accounts with these (lowercase) usernames, for resolving mentions.
pub fn find_active_ids_by_usernames(
    conn: &Connection,
    names: &[String],
) -> rusqlite::Result<Vec<AccountId>> {
    let mut stmt =
        conn.prepare_cached("SELECT id FROM accounts WHERE username = ?1 AND status = 0")?;
    let mut out = Vec::new();
    for n in names {
        if let Some(id) = stmt.query_row([n], |r| r.get(0)).optional()? {
            out.push(AccountId(id));
        }
    }
    Ok(out)
}

pub fn password_hash(conn: &Connection, id: AccountId) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT password_hash FROM accounts WHERE id = ?1")?
        .query_row([id.0], |r| r.get(0))
        .optional()
}

pub fn update_password(conn: &Connection, id: AccountId, hash: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE accounts SET password_hash = ?2 WHERE id = ?1",
        params![id.0, hash],
    )?;
    Ok(())
}

pub struct ProfileChanges<'a> {
    pub display_name: &'a str,
    pub bio: &'a str,
    pub fields_json: &'a str,
    pub locked: bool,
}

pub fn update_profile(
    conn: &Connection,
    id: AccountId,
    c: &ProfileChanges<'_>,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE accounts SET display_name = ?2, bio = ?3, fields = ?4, locked = ?5 WHERE id = ?1",
        params![id.0, c.display_name, c.bio, c.fields_json, c.locked],
    )?;
    Ok(())
}

pub fn set_role(conn: &Connection, id: AccountId, role: Role) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE accounts SET role = ?2 WHERE id = ?1",
        params![id.0, role as i64],
    )
}

pub fn set_verified(conn: &Connection, id: AccountId, at: Option<i64>) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE accounts SET verified_at = ?2 WHERE id = ?1",
        params![id.0, at],
    )
}

pub fn set_status(
    conn: &Connection,
    id: AccountId,
    status: AccountStatus,
) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE accounts SET status = ?2 WHERE id = ?1",
        params![id.0, status as i64],
    )
}

/// Removes an account that never became active (a rejected sign-up). It has no posts.
pub fn delete_pending(conn: &Connection, id: AccountId) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM sessions WHERE account_id = ?1", [id.0])?;
    conn.execute("DELETE FROM accounts WHERE id = ?1 AND status = 1", [id.0])
}

pub fn adjust_counts(
    conn: &Connection,
    id: AccountId,
    posts: i64,
    followers: i64,
    following: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE accounts SET posts_count = max(0, posts_count + ?2),
             followers_count = max(0, followers_count + ?3),
             following_count = max(0, following_count + ?4) WHERE id = ?1",
    )?
    .execute(params![id.0, posts, followers, following])?;
    Ok(())
}

/// Accounts for the admin list, newest first; `status` filters when given.
pub fn list(
    conn: &Connection,
    status: Option<AccountStatus>,
    before: i64,
    limit: usize,
) -> rusqlite::Result<Vec<Account>> {
    let mut stmt = conn.prepare_cached(concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts a WHERE a.id < ?1 AND (?2 IS NULL OR a.status = ?2)
         ORDER BY a.id DESC LIMIT ?3"
    ))?;
    let rows = stmt.query_map(
        params![before, status.map(|s| s as i64), limit as i64],
        |r| account_from_row(r, 0),
    )?;
    rows.collect()
}

pub fn insert_session(conn: &Connection, s: &Session) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO sessions (token_hash, account_id, csrf, created_at, last_seen_at, user_agent, ip)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        s.token_hash,
        s.account_id.0,
        s.csrf,
        s.created_at,
        s.last_seen_at,
        s.user_agent,
        s.ip
    ])?;
    Ok(())
}

fn session_from_row(r: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        token_hash: r.get(0)?,
        account_id: AccountId(r.get(1)?),
        csrf: r.get(2)?,
        created_at: r.get(3)?,
        last_seen_at: r.get(4)?,
        user_agent: r.get(5)?,
        ip: r.get(6)?,
    })
}

/// A live session, its account and the navigation's counts.
pub struct LiveSession {
    pub session: Session,
    pub account: Account,
    pub unread: i64,
    pub follow_requests: i64,
}

/// A session and its (active) account, with the navigation's counts, in one statement: this
/// runs on every logged-in request. A session counts only if it was used after `idle_since`
/// (sessions expire when idle). The counts are unread notifications up to `unread_cap` and,
/// for a locked account, pending follow requests; a cap of 0 skips both.
pub fn find_session(
    conn: &Connection,
    token_hash: &[u8],
    idle_since: i64,
    unread_cap: i64,
) -> rusqlite::Result<Option<LiveSession>> {
    conn.prepare_cached(concat!(
        "SELECT s.token_hash, s.account_id, s.csrf, s.created_at, s.last_seen_at, s.user_agent, s.ip, ",
        account_columns!(),
        ", (SELECT count(*) FROM (SELECT 1 FROM notifications n
               WHERE n.account_id = a.id AND n.id > a.notifications_seen_id LIMIT ?3)),
           CASE WHEN a.locked AND ?3 > 0
               THEN (SELECT count(*) FROM follow_requests WHERE target_id = a.id) ELSE 0 END
         FROM sessions s JOIN accounts a ON a.id = s.account_id
         WHERE s.token_hash = ?1 AND a.status = 0 AND s.last_seen_at > ?2"
    ))?
    .query_row(
        rusqlite::params![token_hash, idle_since, unread_cap],
        |r| {
            Ok(LiveSession {
                session: session_from_row(r)?,
                account: account_from_row(r, 7)?,
                unread: r.get(26)?,
                follow_requests: r.get(27)?,
            })
        },
    )
    .optional()
}

pub fn list_sessions(conn: &Connection, account: AccountId) -> rusqlite::Result<Vec<Session>> {
    let mut stmt = conn.prepare_cached(
        "SELECT token_hash, account_id, csrf, created_at, last_seen_at, user_agent, ip
         FROM sessions WHERE account_id = ?1 ORDER BY last_seen_at DESC",
    )?;
    let rows = stmt.query_map([account.0], session_from_row)?;
    rows.collect()
}

pub fn touch_session(conn: &Connection, token_hash: &[u8], now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE sessions SET last_seen_at = ?2 WHERE token_hash = ?1",
        params![token_hash, now],
    )?;
    Ok(())
}

pub fn delete_session(conn: &Connection, token_hash: &[u8]) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])
}

/// Ends every session of the account except `keep`.
pub fn delete_other_sessions(
    conn: &Connection,
    account: AccountId,
    keep: &[u8],
) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM sessions WHERE account_id = ?1 AND token_hash != ?2",
        params![account.0, keep],
    )
}
