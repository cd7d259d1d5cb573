//! Blocking someone: follows end both ways, and the two are kept apart from then on (no
//! follows, replies, quotes, likes, reposts or mention notifications between them; neither
//! sees the other's posts in feeds and threads). A person elsewhere hears of it (Block).

use super::Core;
use super::accounts::Viewer;
use super::federation::{Outbound, publish_in_tx};
use crate::domain::{AccountId, now_secs};
use crate::error::{AppError, AppResult};
use crate::store::{accounts, blocks, federation as fed};

pub async fn block(core: &Core, viewer: &Viewer, target: &str, on: bool) -> AppResult<()> {
    let target = super::accounts::find_by_username(core, target).await?;
    let me = viewer.id();
    if target.id == me {
        return Err(AppError::invalid("You cannot block yourself."));
    }
    let ids = core.ids.clone();
    let federation = core.config.federation.enabled;
    let block_id = super::federation::activity_id(core, "block");
    core.db
        .write(move |c| {
            let remote = fed::is_remote(c, target.id)?;
            // The Undo names the Block it takes back.
            let activity = if on {
                block_id
            } else {
                blocks::activity(c, me, target.id)?.unwrap_or(block_id)
            };
            let changed = if on {
                let new = blocks::insert(c, me, target.id, now_secs())?;
                if new {
                    keep_apart(c, me, target.id)?;
                    if remote {
                        blocks::set_activity(c, me, target.id, &activity)?;
                    }
                }
                new
            } else {
                blocks::delete(c, me, target.id)?
            };
            if changed && remote {
                publish_in_tx(
                    c,
                    &ids,
                    federation,
                    Outbound::Block {
                        blocker: me.0,
                        blocked: target.id.0,
                        on,
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

/// What a new block undoes: follows and follow requests both ways, and the notifications
/// either caused the other.
fn keep_apart(c: &rusqlite::Connection, a: AccountId, b: AccountId) -> AppResult<()> {
    for (x, y) in [(a, b), (b, a)] {
        super::follows::unfollow_in_tx(c, x, y)?;
        fed::delete_follow_activity(c, x, y)?;
    }
    blocks::forget_notifications(c, a, b)?;
    Ok(())
}

/// Inside a write: refuses an interaction between two people when either blocks the other.
pub(crate) fn check_not_blocked(
    c: &rusqlite::Connection,
    a: AccountId,
    b: AccountId,
) -> AppResult<()> {
    if a != b && blocks::between(c, a, b)? {
        Err(AppError::forbidden(
            "You cannot do that: one of you has blocked the other.",
        ))
    } else {
        Ok(())
    }
}

/// A remote person blocked (or unblocked) someone here: recorded, so the two stay apart.
pub async fn remote_block(
    core: &Core,
    blocker: AccountId,
    local: String,
    on: bool,
) -> AppResult<()> {
    core.db
        .write(move |c| {
            let Some(target) = accounts::find_by_username(c, &local)? else {
                return Err(AppError::NotFound);
            };
            if on {
                if blocks::insert(c, blocker, target.id, now_secs())? {
                    keep_apart(c, blocker, target.id)?;
                }
            } else {
                blocks::delete(c, blocker, target.id)?;
            }
            Ok(())
        })
        .await
}
