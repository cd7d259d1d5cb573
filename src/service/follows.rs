//! Following, follow requests for locked accounts, and removing followers.

use rusqlite::Connection;

use super::accounts::Viewer;
use super::{Core, Page};
use crate::domain::{AccountId, IdGen, now_secs};
use crate::error::{AppError, AppResult};
use crate::store::models::{AccountListItem, AccountStatus, NotificationKind, Relationship};
use crate::store::{accounts, follows, notifications};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowOutcome {
    Following,
    Requested,
}

pub async fn follow(core: &Core, viewer: &Viewer, target: &str) -> AppResult<FollowOutcome> {
    let target = super::accounts::find_by_username(core, target).await?;
    if target.id == viewer.id() {
        return Err(AppError::invalid("You cannot follow yourself."));
    }
    if target.status != AccountStatus::Active {
        return Err(AppError::NotFound);
    }
    let me = viewer.id();
    let ids = core.ids.clone();
    let keep = core.config.feeds.home_size;
    let max = core.config.limits.following_max;
    core.db
        .write(move |c| {
            let rel = follows::relationship(c, me, target.id)?;
            if rel.following {
                return Ok(FollowOutcome::Following);
            }
            // Asking again while the request waits changes nothing, so no limit applies.
            if rel.requested {
                return Ok(FollowOutcome::Requested);
            }
            // Waiting requests count too: each may become a follow when it is accepted.
            let following = accounts::find_by_id(c, me)?.map_or(0, |a| a.following_count);
            if following + follows::count_outgoing_requests(c, me)? >= max {
                return Err(AppError::forbidden(format!(
                    "You follow (or have asked to follow) {max} accounts, the most this \
                     instance allows. Unfollow some to follow new ones."
                )));
            }
            let now = now_secs();
            // Read the lock inside the transaction: it may have changed since the page loaded.
            let locked = accounts::find_by_id(c, target.id)?.is_some_and(|a| a.locked);
            if locked {
                if follows::insert_request(c, ids.next(), me, target.id, now)? {
                    super::notify(
                        c,
                        &ids,
                        target.id,
                        NotificationKind::FollowRequest,
                        me,
                        None,
                    )?;
                }
                Ok(FollowOutcome::Requested)
            } else {
                insert_follow(c, &ids, me, target.id, keep)?;
                Ok(FollowOutcome::Following)
            }
        })
        .await
}

fn insert_follow(
    c: &Connection,
    ids: &IdGen,
    follower: AccountId,
    followee: AccountId,
    keep: usize,
) -> AppResult<()> {
    let now = now_secs();
    if follows::insert_follow(c, ids.next(), follower, followee, now)? {
        super::home::on_follow(c, follower, followee, keep)?;
        accounts::adjust_counts(c, follower, 0, 0, 1)?;
        accounts::adjust_counts(c, followee, 0, 1, 0)?;
        super::notify(c, ids, followee, NotificationKind::Follow, follower, None)?;
    }
    Ok(())
}

/// Turns a pending request into a follow, inside the caller's transaction.
pub fn accept_in_tx(
    c: &Connection,
    ids: &IdGen,
    target: AccountId,
    requester: AccountId,
    keep: usize,
) -> AppResult<bool> {
    if !follows::delete_request(c, requester, target)? {
        return Ok(false);
    }
    notifications::delete_for(c, target, NotificationKind::FollowRequest, requester, None)?;
    insert_follow(c, ids, requester, target, keep)?;
    Ok(true)
}

/// Stops following, or withdraws a pending request.
pub async fn unfollow(core: &Core, viewer: &Viewer, target: &str) -> AppResult<()> {
    let target = super::accounts::find_by_username(core, target).await?;
    let me = viewer.id();
    core.db
        .write(move |c| {
            if follows::delete_follow(c, me, target.id)? {
                super::home::on_unfollow(c, me, target.id)?;
                accounts::adjust_counts(c, me, 0, 0, -1)?;
                accounts::adjust_counts(c, target.id, 0, -1, 0)?;
                notifications::delete_for(c, target.id, NotificationKind::Follow, me, None)?;
            }
            if follows::delete_request(c, me, target.id)? {
                notifications::delete_for(c, target.id, NotificationKind::FollowRequest, me, None)?;
            }
            Ok(())
        })
        .await
}

pub async fn accept(core: &Core, viewer: &Viewer, requester: &str) -> AppResult<()> {
    let requester = super::accounts::find_by_username(core, requester).await?;
    let me = viewer.id();
    let ids = core.ids.clone();
    let keep = core.config.feeds.home_size;
    let done = core
        .db
        .write(move |c| accept_in_tx(c, &ids, me, requester.id, keep))
        .await?;
    if done {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

pub async fn reject(core: &Core, viewer: &Viewer, requester: &str) -> AppResult<()> {
    let requester = super::accounts::find_by_username(core, requester).await?;
    let me = viewer.id();
    core.db
        .write(move |c| {
            if follows::delete_request(c, requester.id, me)? {
                notifications::delete_for(
                    c,
                    me,
                    NotificationKind::FollowRequest,
                    requester.id,
                    None,
                )?;
                Ok(())
            } else {
                Err(AppError::NotFound)
            }
        })
        .await
}

/// Makes `follower` stop following the viewer (they are not told).
pub async fn remove_follower(core: &Core, viewer: &Viewer, follower: &str) -> AppResult<()> {
    let follower = super::accounts::find_by_username(core, follower).await?;
    let me = viewer.id();
    core.db
        .write(move |c| {
            if follows::delete_follow(c, follower.id, me)? {
                super::home::on_unfollow(c, follower.id, me)?;
                accounts::adjust_counts(c, follower.id, 0, 0, -1)?;
                accounts::adjust_counts(c, me, 0, -1, 0)?;
            }
            Ok(())
        })
        .await
}

pub async fn relationship(
    core: &Core,
    viewer: Option<&Viewer>,
    other: AccountId,
) -> AppResult<Relationship> {
    let Some(v) = viewer else {
        return Ok(Relationship::default());
    };
    let me = v.id();
    core.db
        .read(move |c| Ok(follows::relationship(c, me, other)?))
        .await
}

pub enum ListKind {
    Followers,
    Following,
}

pub async fn list(
    core: &Core,
    of: AccountId,
    kind: ListKind,
    before: Option<i64>,
) -> AppResult<Page<AccountListItem>> {
    let limit = core.config.limits.page_size;
    let which = match kind {
        ListKind::Followers => follows::List::Followers,
        ListKind::Following => follows::List::Following,
    };
    let items = core
        .db
        .read(move |c| {
            Ok(follows::list(
                c,
                which,
                of,
                before.unwrap_or(i64::MAX),
                limit,
            )?)
        })
        .await?;
    let next = super::next_cursor(&items, limit, |i| i.cursor);
    Ok(Page { items, next })
}

pub async fn requests(
    core: &Core,
    viewer: &Viewer,
    before: Option<i64>,
) -> AppResult<Page<AccountListItem>> {
    let limit = core.config.limits.page_size;
    let me = viewer.id();
    let items = core
        .db
        .read(move |c| {
            Ok(follows::list(
                c,
                follows::List::Requests,
                me,
                before.unwrap_or(i64::MAX),
                limit,
            )?)
        })
        .await?;
    let next = super::next_cursor(&items, limit, |i| i.cursor);
    Ok(Page { items, next })
}
