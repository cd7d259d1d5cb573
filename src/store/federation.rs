//! Remote actors, local signing keys, the inbox's seen ids, the Follow activities behind
//! cross-server follows, other servers' health and blocks, and remote posts' ids.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::domain::{AccountId, PostId};

/// What we keep of a remote actor beside its `accounts` row.
#[derive(Debug, Clone)]
pub struct ActorRow {
    pub account_id: AccountId,
    pub username: String,
    pub uri: String,
    pub domain: String,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    pub followers_uri: Option<String>,
    pub url: Option<String>,
    pub key_id: String,
    pub public_key: String,
    pub kind: String,
    pub fetched_at: i64,
}

const ACTOR_COLUMNS: &str = "r.account_id, a.username, r.uri, r.domain, r.inbox, r.shared_inbox,
    r.followers_uri, r.url, r.key_id, r.public_key, r.kind, r.fetched_at";

fn actor_from_row(r: &Row<'_>) -> rusqlite::Result<ActorRow> {
    Ok(ActorRow {
        account_id: AccountId(r.get(0)?),
        username: r.get(1)?,
        uri: r.get(2)?,
        domain: r.get(3)?,
        inbox: r.get(4)?,
        shared_inbox: r.get(5)?,
        followers_uri: r.get(6)?,
        url: r.get(7)?,
        key_id: r.get(8)?,
        public_key: r.get(9)?,
        kind: r.get(10)?,
        fetched_at: r.get(11)?,
    })
}

fn find_actor_where(
    conn: &Connection,
    clause: &str,
    arg: &dyn rusqlite::ToSql,
) -> rusqlite::Result<Option<ActorRow>> {
    conn.prepare_cached(&format!(
        "SELECT {ACTOR_COLUMNS} FROM actors r JOIN accounts a ON a.id = r.account_id WHERE {clause}"
    ))?
    .query_row([arg], actor_from_row)
    .optional()
}

pub fn find_actor_by_uri(conn: &Connection, uri: &str) -> rusqlite::Result<Option<ActorRow>> {
    find_actor_where(conn, "r.uri = ?1", &uri)
}

pub fn find_actor_by_key_id(conn: &Connection, key: &str) -> rusqlite::Result<Option<ActorRow>> {
    find_actor_where(conn, "r.key_id = ?1", &key)
}

pub fn find_actor(conn: &Connection, id: AccountId) -> rusqlite::Result<Option<ActorRow>> {
    find_actor_where(conn, "r.account_id = ?1", &id.0)
}

pub fn is_remote(conn: &Connection, id: AccountId) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM actors WHERE account_id = ?1)")?
        .query_row([id.0], |r| r.get(0))
}

/// The profile fields a remote actor document carries.
pub struct ActorProfile<'a> {
    pub display_name: &'a str,
    pub bio: &'a str,
    pub fields: &'a str,
    pub locked: bool,
}

pub struct NewActor<'a> {
    pub uri: &'a str,
    pub domain: &'a str,
    pub inbox: &'a str,
    pub shared_inbox: Option<&'a str>,
    pub followers_uri: Option<&'a str>,
    pub url: Option<&'a str>,
    pub key_id: &'a str,
    pub public_key: &'a str,
    pub kind: &'a str,
    pub fetched_at: i64,
}

/// Stores a remote actor beside its account row, or refreshes what is stored (its uri and
/// domain never change for an account).
pub fn save_actor(conn: &Connection, id: AccountId, a: &NewActor<'_>) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO actors (account_id, uri, domain, inbox, shared_inbox, followers_uri, url,
                             key_id, public_key, kind, fetched_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (account_id) DO UPDATE SET
             inbox = excluded.inbox, shared_inbox = excluded.shared_inbox,
             followers_uri = excluded.followers_uri, url = excluded.url,
             key_id = excluded.key_id, public_key = excluded.public_key, kind = excluded.kind,
             fetched_at = excluded.fetched_at",
    )?
    .execute(params![
        id.0,
        a.uri,
        a.domain,
        a.inbox,
        a.shared_inbox,
        a.followers_uri,
        a.url,
        a.key_id,
        a.public_key,
        a.kind,
        a.fetched_at
    ])?;
    Ok(())
}

pub fn update_profile(
    conn: &Connection,
    id: AccountId,
    p: &ActorProfile<'_>,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE accounts SET display_name = ?2, bio = ?3, fields = ?4, locked = ?5 WHERE id = ?1",
    )?
    .execute(params![id.0, p.display_name, p.bio, p.fields, p.locked])?;
    Ok(())
}

/// A local account's key pair (PEM), if one was made.
pub fn account_key(conn: &Connection, id: AccountId) -> rusqlite::Result<Option<(String, String)>> {
    conn.prepare_cached("SELECT private_pem, public_pem FROM account_keys WHERE account_id = ?1")?
        .query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
}

/// Stores a key pair unless one is there already (two requests may race to make one).
pub fn insert_account_key(
    conn: &Connection,
    id: AccountId,
    private_pem: &str,
    public_pem: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO account_keys (account_id, private_pem, public_pem, created_at)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![id.0, private_pem, public_pem, now])?;
    Ok(())
}

/// Records an inbox activity id; false when it was seen before.
pub fn mark_seen(conn: &Connection, activity_id: &str, now: i64) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached(
            "INSERT OR IGNORE INTO inbox_seen (activity_id, received_at) VALUES (?1, ?2)",
        )?
        .execute(params![activity_id, now])?
        == 1)
}

pub fn forget_seen_before(conn: &Connection, before: i64) -> rusqlite::Result<usize> {
    conn.prepare_cached("DELETE FROM inbox_seen WHERE received_at < ?1")?
        .execute([before])
}

pub fn set_follow_activity(
    conn: &Connection,
    follower: AccountId,
    followee: AccountId,
    activity_id: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO follow_activities (follower_id, followee_id, activity_id)
         VALUES (?1, ?2, ?3)",
    )?
    .execute(params![follower.0, followee.0, activity_id])?;
    Ok(())
}

pub fn follow_activity(
    conn: &Connection,
    follower: AccountId,
    followee: AccountId,
) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached(
        "SELECT activity_id FROM follow_activities WHERE follower_id = ?1 AND followee_id = ?2",
    )?
    .query_row([follower.0, followee.0], |r| r.get(0))
    .optional()
}

pub fn delete_follow_activity(
    conn: &Connection,
    follower: AccountId,
    followee: AccountId,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "DELETE FROM follow_activities WHERE follower_id = ?1 AND followee_id = ?2",
    )?
    .execute([follower.0, followee.0])?;
    Ok(())
}

/// Where to deliver to an account's remote followers: one shared inbox per server where
/// the server has one, so a post reaches a server once however many there follow.
pub fn follower_inboxes(conn: &Connection, account: AccountId) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT coalesce(r.shared_inbox, r.inbox)
         FROM follows f JOIN actors r ON r.account_id = f.follower_id
         WHERE f.followee_id = ?1",
    )?;
    let rows = stmt.query_map([account.0], |r| r.get(0))?;
    rows.collect()
}

/// Whether any local account follows this one (a remote author worth storing posts of).
pub fn has_local_followers(conn: &Connection, account: AccountId) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM follows f WHERE f.followee_id = ?1
                        AND NOT EXISTS (SELECT 1 FROM actors r WHERE r.account_id = f.follower_id))",
    )?
    .query_row([account.0], |r| r.get(0))
}

pub fn find_post_by_uri(conn: &Connection, uri: &str) -> rusqlite::Result<Option<PostId>> {
    conn.prepare_cached("SELECT id FROM posts WHERE uri = ?1")?
        .query_row([uri], |r| r.get(0).map(PostId))
        .optional()
}

/// A post's ActivityPub id and page (NULL for local posts).
pub fn post_uri(
    conn: &Connection,
    id: PostId,
) -> rusqlite::Result<Option<(Option<String>, Option<String>)>> {
    conn.prepare_cached("SELECT uri, url FROM posts WHERE id = ?1")?
        .query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
}

pub fn set_remote_post(
    conn: &Connection,
    id: PostId,
    uri: &str,
    url: Option<&str>,
    html: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE posts SET uri = ?2, url = ?3, content_html = ?4 WHERE id = ?1")?
        .execute(params![id.0, uri, url, html])?;
    Ok(())
}

pub fn set_post_html(conn: &Connection, id: PostId, html: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE posts SET content_html = ?2 WHERE id = ?1")?
        .execute(params![id.0, html])?;
    Ok(())
}

/// An instance's block level: 0 none, 1 silence, 2 suspend.
pub fn domain_block(conn: &Connection, domain: &str) -> rusqlite::Result<i64> {
    Ok(conn
        .prepare_cached("SELECT block FROM instances WHERE domain = ?1")?
        .query_row([domain], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

pub fn set_domain_block(conn: &Connection, domain: &str, level: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO instances (domain, block) VALUES (?1, ?2)
         ON CONFLICT (domain) DO UPDATE SET block = excluded.block",
    )?
    .execute(params![domain, level])?;
    Ok(())
}

pub fn record_delivery(
    conn: &Connection,
    domain: &str,
    ok: bool,
    now: i64,
) -> rusqlite::Result<()> {
    if ok {
        conn.prepare_cached(
            "INSERT INTO instances (domain, failures, first_failure_at, last_success_at)
             VALUES (?1, 0, NULL, ?2)
             ON CONFLICT (domain) DO UPDATE
             SET failures = 0, first_failure_at = NULL, last_success_at = ?2",
        )?
        .execute(params![domain, now])?;
    } else {
        conn.prepare_cached(
            "INSERT INTO instances (domain, failures, first_failure_at) VALUES (?1, 1, ?2)
             ON CONFLICT (domain) DO UPDATE
             SET failures = failures + 1, first_failure_at = coalesce(first_failure_at, ?2)",
        )?
        .execute(params![domain, now])?;
    }
    Ok(())
}

/// Since when an instance has failed every delivery, if it has.
pub fn failing_since(conn: &Connection, domain: &str) -> rusqlite::Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT first_failure_at FROM instances WHERE domain = ?1")?
        .query_row([domain], |r| r.get::<_, Option<i64>>(0))
        .optional()?
        .flatten())
}

#[derive(Debug, Clone)]
pub struct InstanceRow {
    pub domain: String,
    pub failures: i64,
    pub first_failure_at: Option<i64>,
    pub last_success_at: Option<i64>,
    pub block: i64,
    pub accounts: i64,
}

/// Known servers for the admin page, the ones in trouble or blocked first.
pub fn list_instances(conn: &Connection, limit: usize) -> rusqlite::Result<Vec<InstanceRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT i.domain, i.failures, i.first_failure_at, i.last_success_at, i.block,
                (SELECT count(*) FROM actors r WHERE r.domain = i.domain)
         FROM instances i
         ORDER BY i.block DESC, i.failures DESC, i.domain LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit as i64], |r| {
        Ok(InstanceRow {
            domain: r.get(0)?,
            failures: r.get(1)?,
            first_failure_at: r.get(2)?,
            last_success_at: r.get(3)?,
            block: r.get(4)?,
            accounts: r.get(5)?,
        })
    })?;
    rows.collect()
}

/// Local accounts and their posts, for NodeInfo.
pub fn local_usage(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row(
        "SELECT (SELECT count(*) FROM accounts a WHERE a.status = 0
                 AND NOT EXISTS (SELECT 1 FROM actors r WHERE r.account_id = a.id)),
                (SELECT coalesce(sum(a.posts_count), 0) FROM accounts a
                 WHERE NOT EXISTS (SELECT 1 FROM actors r WHERE r.account_id = a.id))",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// The follow (follower, followee) a Follow activity id stands for.
pub fn follow_by_activity(
    conn: &Connection,
    activity_id: &str,
) -> rusqlite::Result<Option<(AccountId, AccountId)>> {
    conn.prepare_cached(
        "SELECT follower_id, followee_id FROM follow_activities WHERE activity_id = ?1",
    )?
    .query_row([activity_id], |r| {
        Ok((AccountId(r.get(0)?), AccountId(r.get(1)?)))
    })
    .optional()
}

/// Puts the given-up deliveries to one server back in the queue.
pub fn retry_dead_deliveries(
    conn: &Connection,
    domain: &str,
    now_ms: i64,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "UPDATE jobs SET state = 0, attempts = 0, run_at = ?3,
                payload = json_set(payload, '$.since', ?3 / 1000)
         WHERE kind = 'deliver' AND state = ?4
           AND (json_extract(payload, '$.inbox') LIKE 'https://' || ?1 || '/%'
             OR json_extract(payload, '$.inbox') LIKE 'http://' || ?2 || '/%')",
    )?
    .execute(params![domain, domain, now_ms, super::jobs::DEAD])
}

/// Remote posts older than `before` that still have attachments stored here.
pub fn remote_posts_with_media(
    conn: &Connection,
    before: i64,
    limit: usize,
) -> rusqlite::Result<Vec<PostId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.id FROM media m JOIN posts p ON p.id = m.post_id
         WHERE m.created_at < ?1 AND p.uri IS NOT NULL AND p.media_count > 0
         GROUP BY p.id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![before, limit as i64], |r| r.get(0).map(PostId))?;
    rows.collect()
}

/// One page of an account's followers or followees for its ActivityPub collection:
/// (cursor, username, the actor id when remote), newest first.
pub fn collection_page(
    conn: &Connection,
    account: AccountId,
    followers: bool,
    before: i64,
    limit: usize,
) -> rusqlite::Result<Vec<(i64, String, Option<String>)>> {
    let sql = if followers {
        "SELECT f.id, a.username, r.uri FROM follows f JOIN accounts a ON a.id = f.follower_id
         LEFT JOIN actors r ON r.account_id = a.id
         WHERE f.followee_id = ?1 AND f.id < ?2 ORDER BY f.id DESC LIMIT ?3"
    } else {
        "SELECT f.id, a.username, r.uri FROM follows f JOIN accounts a ON a.id = f.followee_id
         LEFT JOIN actors r ON r.account_id = a.id
         WHERE f.follower_id = ?1 AND f.id < ?2 ORDER BY f.id DESC LIMIT ?3"
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params![account.0, before, limit as i64], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    rows.collect()
}

/// Where an account moved to, and the accounts it says it also is.
pub fn migration(
    conn: &Connection,
    id: AccountId,
) -> rusqlite::Result<(Option<String>, Vec<String>)> {
    let (moved, aliases): (Option<String>, String) = conn
        .prepare_cached("SELECT moved_to, aliases FROM accounts WHERE id = ?1")?
        .query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((None, "[]".into()));
    Ok((moved, serde_json::from_str(&aliases).unwrap_or_default()))
}

pub fn set_aliases(conn: &Connection, id: AccountId, aliases: &[String]) -> rusqlite::Result<()> {
    let json = serde_json::to_string(aliases).unwrap_or_else(|_| "[]".into());
    conn.prepare_cached("UPDATE accounts SET aliases = ?2 WHERE id = ?1")?
        .execute(params![id.0, json])?;
    Ok(())
}

pub fn set_moved_to(conn: &Connection, id: AccountId, to: Option<&str>) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE accounts SET moved_to = ?2 WHERE id = ?1")?
        .execute(params![id.0, to])?;
    Ok(())
}

/// Local accounts following `account` (remote followers move themselves).
pub fn local_followers(
    conn: &Connection,
    account: AccountId,
    limit: usize,
) -> rusqlite::Result<Vec<AccountId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT f.follower_id FROM follows f WHERE f.followee_id = ?1
         AND NOT EXISTS (SELECT 1 FROM actors r WHERE r.account_id = f.follower_id) LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![account.0, limit as i64], |r| {
        r.get(0).map(AccountId)
    })?;
    rows.collect()
}

/// The avatar and header addresses a remote actor had when they were last fetched.
pub fn image_urls(
    conn: &Connection,
    id: AccountId,
) -> rusqlite::Result<(Option<String>, Option<String>)> {
    Ok(conn
        .prepare_cached("SELECT icon_url, image_url FROM actors WHERE account_id = ?1")?
        .query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((None, None)))
}

pub fn set_image_url(
    conn: &Connection,
    id: AccountId,
    header: bool,
    url: Option<&str>,
) -> rusqlite::Result<()> {
    let sql = if header {
        "UPDATE actors SET image_url = ?2 WHERE account_id = ?1"
    } else {
        "UPDATE actors SET icon_url = ?2 WHERE account_id = ?1"
    };
    conn.prepare_cached(sql)?.execute(params![id.0, url])?;
    Ok(())
}

pub fn set_bot(conn: &Connection, id: AccountId, bot: bool) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE accounts SET bot = ?2 WHERE id = ?1")?
        .execute(params![id.0, bot])?;
    Ok(())
}

/// Public, live direct replies to a post, oldest first: (id, author's username, the
/// reply's ActivityPub id when it came from elsewhere).
pub fn public_replies(
    conn: &Connection,
    post: PostId,
    limit: usize,
) -> rusqlite::Result<Vec<(PostId, String, Option<String>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, a.username, p.uri FROM posts p JOIN accounts a ON a.id = p.author_id
         WHERE p.in_reply_to_id = ?1 AND p.visibility = 0 AND p.deleted_at IS NULL
         ORDER BY p.id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![post.0, limit as i64], |r| {
        Ok((PostId(r.get(0)?), r.get(1)?, r.get(2)?))
    })?;
    rows.collect()
}
