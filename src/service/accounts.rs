//! Sign-up, log-in, sessions, passwords and profiles.

use std::time::Duration;

use base64::Engine;
use sha2::{Digest, Sha256};

use super::Core;
use crate::domain::{self, AccountId, Invalid, RegistrationMode, Role, Username, now_secs};
use crate::error::{AppError, AppResult};
use crate::store::models::{Account, AccountStatus, Session};
use crate::store::{self, accounts as db_accounts};

/// The logged-in person behind a request.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub account: Account,
    pub session_hash: Vec<u8>,
    pub csrf: String,
}

impl Viewer {
    pub fn id(&self) -> AccountId {
        self.account.id
    }
    pub fn role(&self) -> Role {
        self.account.role
    }
}

/// Where a request came from, for rate limits and the sessions list.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub ip: String,
    pub user_agent: String,
}

#[derive(Debug, Clone, Default)]
pub struct SignupInput {
    pub username: String,
    pub password: String,
    pub email: String,
    pub reason: String,
}

pub enum SignupOutcome {
    /// The account is active; the string is the new session's cookie token.
    LoggedIn(String),
    /// The account waits for an admin's approval.
    Pending,
}

/// A random, URL-safe token of 256 bits.
pub fn random_token() -> AppResult<String> {
    let mut buf = [0u8; 32];
    getrandom::fill(&mut buf)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("system randomness: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf))
}

/// Whether `t` has the shape of a [`random_token`]: 32 bytes in unpadded URL-safe base64.
/// Anything else came from a client and is never pasted into a page unescaped.
pub fn is_token_shaped(t: &str) -> bool {
    t.len() == 43
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn check_email(email: &str) -> Result<Option<String>, Invalid> {
    let e = email.trim();
    if e.is_empty() {
        return Ok(None);
    }
    let ok = e.len() <= 254
        && e.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty() && d.contains('.') && !e.contains(char::is_whitespace)
        });
    if !ok {
        return Err(Invalid::new(
            "That email address does not look right; fix it or leave it empty.",
        ));
    }
    Ok(Some(e.to_string()))
}

pub async fn signup(core: &Core, input: SignupInput, client: &Client) -> AppResult<SignupOutcome> {
    let rl = &core.config.rate_limits;
    let signup_key = format!("signup-ip:{}", client.ip);
    let signup_window = Duration::from_secs(rl.signup_window_secs);
    core.limiter
        .check(&signup_key, rl.signup_per_ip, signup_window)?;
    let username = Username::parse(&input.username)?;
    let limits = &core.config.limits;
    domain::check_password(
        &input.password,
        limits.password_min_chars,
        limits.password_max_chars,
    )?;
    let email = check_email(&input.email)?;
    let reason = domain::long_text(&input.reason, 500, "The reason")?;
    let mode = core.settings().registration;
    if mode == RegistrationMode::Approval && reason.is_empty() {
        // Checked before the expensive hash; only matters when others already exist.
        if core.db.read(|c| Ok(db_accounts::any(c)?)).await? {
            return Err(AppError::invalid(
                "Tell the admins briefly why you want to join; they approve new accounts by hand.",
            ));
        }
    }
    // Only well-formed attempts count, so a typo does not use up the allowance.
    core.limiter
        .take(&signup_key, rl.signup_per_ip, signup_window)?;
    let hash = core.hash_password(input.password).await?;
    let id = AccountId(core.next_id());
    let session_token = random_token()?;
    let csrf = random_token()?;
    let token_for_db = token_hash(&session_token);
    let client = client.clone();
    let ids = core.ids.clone();
    let active = core
        .db
        .write(move |conn| {
            let first = !db_accounts::any(conn)?;
            if !first && mode == RegistrationMode::Closed {
                return Err(AppError::forbidden(
                    "Registration on this instance is closed. Ask an admin for an account.",
                ));
            }
            let status = if first || mode == RegistrationMode::Open {
                AccountStatus::Active
            } else {
                AccountStatus::Pending
            };
            let now = now_secs();
            let res = db_accounts::insert(
                conn,
                &db_accounts::NewAccount {
                    id,
                    username: username.as_str(),
                    email: email.as_deref(),
                    password_hash: &hash,
                    role: if first { Role::Admin } else { Role::User },
                    status,
                    signup_reason: &reason,
                    created_at: now,
                },
            );
            match res {
                Err(e) if store::is_unique_violation(&e) => {
                    return Err(AppError::Conflict(format!(
                        "The username {username} is taken. Choose another one."
                    )));
                }
                r => r?,
            }
            if status == AccountStatus::Active {
                super::search::queue_people(conn, &ids, &[id])?;
                db_accounts::insert_session(
                    conn,
                    &Session {
                        token_hash: token_for_db,
                        account_id: id,
                        csrf,
                        created_at: now,
                        last_seen_at: now,
                        user_agent: client.user_agent,
                        ip: client.ip,
                    },
                )?;
            }
            Ok(status == AccountStatus::Active)
        })
        .await?;
    core.jobs.wake();
    Ok(if active {
        SignupOutcome::LoggedIn(session_token)
    } else {
        SignupOutcome::Pending
    })
}

/// Checks credentials and opens a session; returns the session token for the cookie.
pub async fn login(
    core: &Core,
    username: &str,
    password: &str,
    client: &Client,
) -> AppResult<String> {
    let rl = &core.config.rate_limits;
    let window = Duration::from_secs(rl.login_window_secs);
    let ip_key = format!("login-ip:{}", client.ip);
    let name = username.trim().trim_start_matches('@').to_ascii_lowercase();
    let acct_key = format!("login-account:{name}");
    // Count the attempt before the slow check, so parallel guesses cannot all slip through;
    // a successful login takes its hits back.
    core.limiter.take(&ip_key, rl.login_per_ip, window)?;
    if let Err(e) = core.limiter.take(&acct_key, rl.login_per_account, window) {
        core.limiter.refund(&ip_key);
        return Err(e);
    }
    if password.chars().count() > core.config.limits.password_max_chars {
        return Err(AppError::invalid("Wrong username or password."));
    }
    let lookup = name.clone();
    let found = core
        .db
        .read(move |c| {
            Ok(match db_accounts::find_by_username(c, &lookup)? {
                Some(a) => {
                    let h = db_accounts::password_hash(c, a.id)?;
                    h.map(|h| (a, h))
                }
                None => None,
            })
        })
        .await?;
    let (account, hash) = match found {
        Some((a, h)) => (Some(a), Some(h)),
        None => (None, None),
    };
    let ok = core.verify_password(password.to_string(), hash).await?;
    let Some(account) = account.filter(|_| ok) else {
        return Err(AppError::invalid("Wrong username or password."));
    };
    core.limiter.refund(&ip_key);
    match account.status {
        AccountStatus::Active => {}
        AccountStatus::Pending => {
            return Err(AppError::forbidden(
                "Your account is waiting for an admin's approval. Try again later.",
            ));
        }
        AccountStatus::Suspended => {
            return Err(AppError::forbidden("This account has been suspended."));
        }
        AccountStatus::Deleted => {
            return Err(AppError::forbidden("This account was deleted."));
        }
    }
    core.limiter.reset(&acct_key);
    open_session(core, account.id, client).await
}

async fn open_session(core: &Core, account: AccountId, client: &Client) -> AppResult<String> {
    let token = random_token()?;
    let now = now_secs();
    let session = Session {
        token_hash: token_hash(&token),
        account_id: account,
        csrf: random_token()?,
        created_at: now,
        last_seen_at: now,
        user_agent: client.user_agent.chars().take(300).collect(),
        ip: client.ip.clone(),
    };
    core.db
        .write(move |c| Ok(db_accounts::insert_session(c, &session)?))
        .await?;
    Ok(token)
}

/// A session unused this long (60 days, the cookie's lifetime) no longer logs anyone in.
pub const SESSION_IDLE_SECS: i64 = 60 * 86_400;

/// What the navigation shows next to a logged-in person's links.
#[derive(Debug, Clone, Copy, Default)]
pub struct NavCounts {
    pub unread: i64,
    pub follow_requests: i64,
}

/// The viewer for a session cookie (None when the session is unknown or ended), and, when
/// asked, the navigation's counts, all in one read: this runs on every page.
pub async fn viewer_for_token(
    core: &Core,
    token: &str,
    with_counts: bool,
) -> AppResult<Option<(Viewer, NavCounts)>> {
    if token.len() > 100 {
        return Ok(None);
    }
    let hash = token_hash(token);
    let lookup = hash.clone();
    let cap = if with_counts {
        super::notifications::UNREAD_CAP
    } else {
        0
    };
    let found = core
        .db
        .read_one_statement_now(move |c| {
            Ok(db_accounts::find_session(
                c,
                &lookup,
                now_secs() - SESSION_IDLE_SECS,
                cap,
            )?)
        })
        .await?;
    let Some(db_accounts::LiveSession {
        session,
        account,
        unread,
        follow_requests,
    }) = found
    else {
        return Ok(None);
    };
    let counts = NavCounts {
        unread,
        follow_requests,
    };
    let now = now_secs();
    if now - session.last_seen_at > 600 {
        // Recording activity is not worth a write per request; ten minutes is precise enough.
        let db = core.db.clone();
        let h = hash.clone();
        tokio::spawn(async move {
            let _ = db
                .write(move |c| Ok(db_accounts::touch_session(c, &h, now)?))
                .await;
        });
    }
    Ok(Some((
        Viewer {
            account,
            session_hash: hash,
            csrf: session.csrf,
        },
        counts,
    )))
}

pub async fn logout(core: &Core, viewer: &Viewer) -> AppResult<()> {
    let h = viewer.session_hash.clone();
    core.db
        .write(move |c| Ok(db_accounts::delete_session(c, &h)?))
        .await?;
    Ok(())
}

/// Ends every other session of the viewer; returns how many ended.
pub async fn logout_others(core: &Core, viewer: &Viewer) -> AppResult<usize> {
    let h = viewer.session_hash.clone();
    let id = viewer.id();
    core.db
        .write(move |c| Ok(db_accounts::delete_other_sessions(c, id, &h)?))
        .await
}

pub async fn sessions(core: &Core, viewer: &Viewer) -> AppResult<Vec<Session>> {
    let id = viewer.id();
    core.db
        .read(move |c| Ok(db_accounts::list_sessions(c, id)?))
        .await
}

/// Changes the password after checking the current one, and ends all other sessions.
/// Refuses with `wrong` unless `password` is the account's own.
pub(crate) async fn check_own_password(
    core: &Core,
    id: AccountId,
    password: &str,
    wrong: &str,
) -> AppResult<()> {
    let hash = core
        .db
        .read(move |c| Ok(db_accounts::password_hash(c, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    if core
        .verify_password(password.to_string(), Some(hash))
        .await?
    {
        Ok(())
    } else {
        Err(AppError::invalid(wrong))
    }
}

pub async fn change_password(
    core: &Core,
    viewer: &Viewer,
    current: &str,
    new: &str,
) -> AppResult<()> {
    let limits = &core.config.limits;
    let id = viewer.id();
    check_own_password(core, id, current, "Your current password is not right.").await?;
    domain::check_password(new, limits.password_min_chars, limits.password_max_chars)?;
    let new_hash = core.hash_password(new.to_string()).await?;
    let keep = viewer.session_hash.clone();
    core.db
        .write(move |c| {
            db_accounts::update_password(c, id, &new_hash)?;
            db_accounts::delete_other_sessions(c, id, &keep)?;
            Ok(())
        })
        .await
}

/// Sets a password without the old one (the `weft admin set-password` command).
pub async fn set_password(core: &Core, username: &str, new: &str) -> AppResult<()> {
    let limits = &core.config.limits;
    domain::check_password(new, limits.password_min_chars, limits.password_max_chars)?;
    let account = find_by_username(core, username).await?;
    let new_hash = core.hash_password(new.to_string()).await?;
    core.db
        .write(move |c| {
            db_accounts::update_password(c, account.id, &new_hash)?;
            // Whoever knew the old password must not stay logged in.
            c.execute("DELETE FROM sessions WHERE account_id = ?1", [account.id.0])?;
            Ok(())
        })
        .await
}

#[derive(Debug, Clone, Default)]
pub struct ProfileInput {
    pub display_name: String,
    pub bio: String,
    pub fields: Vec<(String, String)>,
    pub locked: bool,
    pub bot: bool,
}

pub async fn update_profile(core: &Core, viewer: &Viewer, input: ProfileInput) -> AppResult<()> {
    let l = &core.config.limits;
    let display_name =
        domain::short_text(&input.display_name, l.display_name_chars, "A display name")?;
    let bio = domain::long_text(&input.bio, l.bio_chars, "A bio")?;
    let mut fields = Vec::new();
    for (name, value) in input.fields {
        let name = domain::short_text(&name, l.profile_field_name_chars, "A field's label")?;
        let value = domain::short_text(&value, l.profile_field_value_chars, "A field's value")?;
        if name.is_empty() && value.is_empty() {
            continue;
        }
        if name.is_empty() {
            return Err(AppError::invalid("Give each profile field a label."));
        }
        fields.push((name, value));
    }
    if fields.len() > l.profile_fields {
        return Err(AppError::Invalid(format!(
            "A profile can have at most {} fields.",
            l.profile_fields
        )));
    }
    let fields_json = serde_json::to_string(&fields).map_err(|e| AppError::Internal(e.into()))?;
    let id = viewer.id();
    let was_locked = viewer.account.locked;
    let locked = input.locked;
    let bot = input.bot;
    let ids = core.ids.clone();
    let keep = core.config.feeds.home_size;
    let federation = core.config.federation.enabled;
    core.db
        .write(move |c| {
            db_accounts::update_profile(
                c,
                id,
                &db_accounts::ProfileChanges {
                    display_name: &display_name,
                    bio: &bio,
                    fields_json: &fields_json,
                    locked,
                },
            )?;
            if was_locked && !locked {
                // Unlocking means whoever asked may follow now.
                for requester in store::follows::list_request_ids(c, id)? {
                    super::follows::accept_in_tx(c, &ids, id, requester, keep)?;
                    super::follows::answer_remote_in_tx(c, &ids, federation, requester, id, true)?;
                }
            }
            crate::store::federation::set_bot(c, id, bot)?;
            super::search::queue_people(c, &ids, &[id])?;
            super::federation::publish_in_tx(
                c,
                &ids,
                federation,
                super::federation::Outbound::ProfileUpdated { account: id.0 },
            )?;
            Ok(())
        })
        .await?;
    core.jobs.wake();
    Ok(())
}

/// Deletes the viewer's account, after checking their password. At once (one
/// transaction): no more logins or sessions, the profile and pictures emptied, pins,
/// requests and bookmarks gone, the name kept taken, and a job queued that deletes the
/// posts, follows and likes in batches and then tells the servers that knew the account
/// (Delete). A crash in between leaves the job to finish the work.
pub async fn delete_account(core: &Core, viewer: &Viewer, password: &str) -> AppResult<()> {
    let id = viewer.id();
    check_own_password(
        core,
        id,
        password,
        "That is not your password. Type your current password to delete your account.",
    )
    .await?;
    let inboxes = super::federation::known_inboxes(core, id).await?;
    let ids = core.ids.clone();
    core.db
        .write(move |c| {
            c.execute("UPDATE accounts SET status = 3 WHERE id = ?1", [id.0])?;
            c.execute("DELETE FROM sessions WHERE account_id = ?1", [id.0])?;
            c.execute(
                "UPDATE accounts SET display_name = '', bio = '', fields = '[]', email = NULL,
                        aliases = '[]', moved_to = NULL, bot = 0
                 WHERE id = ?1",
                [id.0],
            )?;
            c.execute("DELETE FROM pins WHERE account_id = ?1", [id.0])?;
            c.execute(
                "DELETE FROM follow_requests WHERE requester_id = ?1 OR target_id = ?1",
                [id.0],
            )?;
            c.execute("DELETE FROM bookmarks WHERE account_id = ?1", [id.0])?;
            for header in [false, true] {
                if let Some(old) = store::media::set_account_image(c, id, header, None)?
                    && store::media::drop_ref(c, &old)?
                {
                    super::media::queue_deletion(c, &ids, vec![old])?;
                }
            }
            super::tasks::enqueue(
                c,
                &ids,
                &super::tasks::Task::RemoveAccount {
                    account: id.0,
                    inboxes,
                },
            )
        })
        .await?;
    core.jobs.wake();
    Ok(())
}

pub async fn find_by_username(core: &Core, name: &str) -> AppResult<Account> {
    let n = name.trim_start_matches('@').to_ascii_lowercase();
    core.db
        .read(move |c| Ok(db_accounts::find_by_username(c, &n)?))
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn find_by_id(core: &Core, id: AccountId) -> AppResult<Account> {
    core.db
        .read(move |c| Ok(db_accounts::find_by_id(c, id)?))
        .await?
        .ok_or(AppError::NotFound)
}

/// Creates an account from the command line (no rate limit, no registration mode).
pub async fn create_user(
    core: &Core,
    username: &str,
    password: &str,
    email: Option<&str>,
    role: Role,
) -> AppResult<Account> {
    let username = Username::parse(username)?;
    let l = &core.config.limits;
    domain::check_password(password, l.password_min_chars, l.password_max_chars)?;
    let email = check_email(email.unwrap_or(""))?;
    let hash = core.hash_password(password.to_string()).await?;
    let id = AccountId(core.next_id());
    let ids = core.ids.clone();
    core.db
        .write(move |c| {
            super::search::queue_people(c, &ids, &[id])?;
            let res = db_accounts::insert(
                c,
                &db_accounts::NewAccount {
                    id,
                    username: username.as_str(),
                    email: email.as_deref(),
                    password_hash: &hash,
                    role,
                    status: AccountStatus::Active,
                    signup_reason: "",
                    created_at: now_secs(),
                },
            );
            match res {
                Err(e) if store::is_unique_violation(&e) => Err(AppError::Conflict(format!(
                    "The username {username} is taken."
                ))),
                r => Ok(r?),
            }
        })
        .await?;
    core.jobs.wake();
    core.db
        .read(move |c| Ok(db_accounts::find_by_id(c, id)?))
        .await?
        .ok_or(AppError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tokens_this_server_issues_are_token_shaped() {
        let t = random_token().unwrap();
        assert!(is_token_shaped(&t));
        assert!(!is_token_shaped(&t[1..]));
        assert!(!is_token_shaped(&format!("<b>{}", &t[3..])));
        assert!(!is_token_shaped(
            "&quot;allowEval&quot;:false,&quot;allowScr"
        ));
    }
}
