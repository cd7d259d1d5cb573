//! Following, follow requests for locked accounts, and removing followers.

use rusqlite::Connection;

use super::accounts::Viewer;
use super::federation::Outbound;
use super::{Core, Page};
use crate::domain::{AccountId, IdGen, now_secs};
use crate::error::{AppError, AppResult};
use crate::store::models::{AccountListItem, AccountStatus, NotificationKind, Relationship};
use crate::store::{accounts, federation as fed, follows, notifications};

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
    let federation = core.config.federation.enabled;
    let follow_id = super::federation::activity_id(core, "follow");
    let out = core
        .db
        .write(move |c| {
            super::blocks::check_not_blocked(c, me, target.id)?;
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
            if fed::is_remote(c, target.id)? {
                if !federation {
                    return Err(AppError::forbidden(
                        "This instance does not federate, so people on other servers cannot \
                         be followed from here.",
                    ));
                }
                // Another server decides: the request waits for its Accept, as in Mastodon.
                follows::insert_request(c, ids.next(), me, target.id, now)?;
                fed::set_follow_activity(c, me, target.id, &follow_id)?;
                super::federation::publish_in_tx(
                    c,
                    &ids,
                    federation,
                    Outbound::Follow {
                        follower: me.0,
                        followee: target.id.0,
                        activity: follow_id,
                    },
                )?;
                return Ok(FollowOutcome::Requested);
            }
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
        .await?;
    core.jobs.wake();
    Ok(out)
}

pub(crate) fn insert_follow(
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
    let ids = core.ids.clone();
    let federation = core.config.federation.enabled;
    core.db
        .write(move |c| {
            let remote = fed::is_remote(c, target.id)?;
            let activity = fed::follow_activity(c, me, target.id)?;
            if unfollow_in_tx(c, me, target.id)?
                && remote
                && let Some(activity) = activity
            {
                fed::delete_follow_activity(c, me, target.id)?;
                super::federation::publish_in_tx(
                    c,
                    &ids,
                    federation,
                    Outbound::Unfollow {
                        follower: me.0,
                        followee: target.id.0,
                        activity,
                    },
                )?;
            }
            Ok(())
        })
        .await?;
    core.jobs.wake();
    Ok(())
}

/// Ends a follow or withdraws a request, inside the caller's transaction; true when there
/// was one.
pub(crate) fn unfollow_in_tx(
    c: &Connection,
    follower: AccountId,
    followee: AccountId,
) -> AppResult<bool> {
    let mut any = false;
    if follows::delete_follow(c, follower, followee)? {
        super::home::on_unfollow(c, follower, followee)?;
        accounts::adjust_counts(c, follower, 0, 0, -1)?;
        accounts::adjust_counts(c, followee, 0, -1, 0)?;
        notifications::delete_for(c, followee, NotificationKind::Follow, follower, None)?;
        any = true;
    }
    if follows::delete_request(c, follower, followee)? {
        notifications::delete_for(c, followee, NotificationKind::FollowRequest, follower, None)?;
        any = true;
    }
    Ok(any)
}

/// Tells the remote follower (if it is one) that the local account accepted or refused it.
pub(crate) fn answer_remote_in_tx(
    c: &Connection,
    ids: &IdGen,
    federation: bool,
    follower: AccountId,
    followee: AccountId,
    accepted: bool,
) -> AppResult<()> {
    if !fed::is_remote(c, follower)? {
        return Ok(());
    }
    let Some(activity) = fed::follow_activity(c, follower, followee)? else {
        return Ok(());
    };
    let (follower, followee) = (follower.0, followee.0);
    let event = if accepted {
        Outbound::AcceptFollow {
            follower,
            followee,
            activity,
        }
    } else {
        Outbound::RejectFollow {
            follower,
            followee,
            activity,
        }
    };
    super::federation::publish_in_tx(c, ids, federation, event)
}

pub async fn accept(core: &Core, viewer: &Viewer, requester: &str) -> AppResult<()> {
    let requester = super::accounts::find_by_username(core, requester).await?;
    let me = viewer.id();
    let ids = core.ids.clone();
    let keep = core.config.feeds.home_size;
    let federation = core.config.federation.enabled;
    let done = core
        .db
        .write(move |c| {
            let done = accept_in_tx(c, &ids, me, requester.id, keep)?;
            if done {
                answer_remote_in_tx(c, &ids, federation, requester.id, me, true)?;
            }
            Ok(done)
        })
        .await?;
    if done {
        core.jobs.wake();
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

pub async fn reject(core: &Core, viewer: &Viewer, requester: &str) -> AppResult<()> {
    let requester = super::accounts::find_by_username(core, requester).await?;
    let me = viewer.id();
    let ids = core.ids.clone();
    let federation = core.config.federation.enabled;
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
                answer_remote_in_tx(c, &ids, federation, requester.id, me, false)?;
                fed::delete_follow_activity(c, requester.id, me)?;
                Ok(())
            } else {
                Err(AppError::NotFound)
            }
        })
        .await?;
    core.jobs.wake();
    Ok(())
}

/// Makes `follower` stop following the viewer (they are not told).
pub async fn remove_follower(core: &Core, viewer: &Viewer, follower: &str) -> AppResult<()> {
    let follower = super::accounts::find_by_username(core, follower).await?;
    let me = viewer.id();
    let ids = core.ids.clone();
    let federation = core.config.federation.enabled;
    core.db
        .write(move |c| {
            if follows::delete_follow(c, follower.id, me)? {
                super::home::on_unfollow(c, follower.id, me)?;
                accounts::adjust_counts(c, follower.id, 0, 0, -1)?;
                accounts::adjust_counts(c, me, 0, -1, 0)?;
                // A remote follower's server hears of it as a Reject of its Follow, as
                // Mastodon sends when someone removes a follower.
                answer_remote_in_tx(c, &ids, federation, follower.id, me, false)?;
                fed::delete_follow_activity(c, follower.id, me)?;
            }
            Ok(())
        })
        .await?;
    core.jobs.wake();
    Ok(())
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
