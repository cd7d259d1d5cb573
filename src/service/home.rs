//! The home feed: the bounded per-account feed when the account has one, the pull query over
//! follows and posts below its floor or when it has none yet (then it is built in the
//! background, for the next page view).

use rusqlite::Connection;

use super::accounts::Viewer;
use super::{Core, Page};
use crate::domain::{AccountId, PostId, now_secs};
use crate::error::AppResult;
use crate::store::feeds::{self, Row};
use crate::store::home;
use crate::store::models::{FeedItem, PostView};

/// Rows of the viewer's home feed below `before`, as the pull query would return them, with
/// the posts read along with them (see `store::home::page`).
fn rows(
    c: &Connection,
    me: AccountId,
    before: i64,
    limit: usize,
) -> AppResult<(Vec<Row>, Vec<PostView>, bool)> {
    // Most pages are whole pages from the feed: one statement. Only a short page needs the
    // floor, to know whether the feed exists and whether older posts lie below it.
    let (mut rows, read_along): (Vec<Row>, Vec<PostView>) =
        home::page(c, me, before, limit)?.into_iter().unzip();
    if rows.len() >= limit {
        return Ok((rows, read_along, true));
    }
    let Some(floor) = home::floor(c, me)? else {
        return Ok((feeds::home(c, me, before, limit)?, Vec::new(), false));
    };
    if floor > 0 {
        rows.extend(feeds::home(c, me, before.min(floor), limit - rows.len())?);
    }
    Ok((rows, read_along, true))
}

pub async fn page(core: &Core, viewer: &Viewer, before: Option<i64>) -> AppResult<Page<FeedItem>> {
    let limit = core.config.limits.page_size;
    let me = viewer.id();
    let (page, has_feed) = core
        .db
        .read_now(move |c| {
            let (rows, read_along, has_feed) = rows(c, me, before.unwrap_or(i64::MAX), limit)?;
            Ok((
                super::timeline::page_read_along(c, me, rows, read_along, limit)?,
                has_feed,
            ))
        })
        .await?;
    if !has_feed {
        build_later(core, me);
    }
    Ok(page)
}

/// The same page from the pull query alone: the reference the bounded feed must match.
pub async fn page_by_pull(
    core: &Core,
    viewer: AccountId,
    before: Option<i64>,
) -> AppResult<Page<FeedItem>> {
    let limit = core.config.limits.page_size;
    core.db
        .read(move |c| {
            let rows = feeds::home(c, viewer, before.unwrap_or(i64::MAX), limit)?;
            super::timeline::page(c, viewer, rows, limit)
        })
        .await
}

/// Builds the account's feed in the background, once at a time per account. The candidates
/// are read from a reader (the expensive part); the writer only inserts them.
fn build_later(core: &Core, me: AccountId) {
    let Ok(mut building) = core.home_builds.lock() else {
        return;
    };
    if !building.insert(me) {
        return;
    }
    drop(building);
    let core = core.clone();
    tokio::spawn(async move {
        if let Err(e) = build(&core, me).await {
            tracing::warn!("building the home feed of account {me}: {e:#}");
        }
        if let Ok(mut b) = core.home_builds.lock() {
            b.remove(&me);
        }
    });
}

pub async fn build(core: &Core, me: AccountId) -> AppResult<bool> {
    let keep = core.config.feeds.home_size;
    let (candidates, followees, tags, newest, edit) = core
        .db
        .read(move |c| {
            Ok((
                home::candidates(c, me, keep)?,
                home::followees(c, me)?,
                crate::store::search::list_followed_tags(c, me)?,
                crate::store::posts::newest_id(c)?,
                home::newest_edit(c)?,
            ))
        })
        .await?;
    core.db
        .write(move |c| {
            // A follow or unfollow (of an account or a hashtag), or an edit (which can tag an
            // old post), since the read would make the candidates wrong: leave the feed
            // unbuilt; the next page view tries again.
            if home::floor(c, me)?.is_some()
                || home::followees(c, me)? != followees
                || crate::store::search::list_followed_tags(c, me)? != tags
                || home::newest_edit(c)? != edit
            {
                return Ok(false);
            }
            let floor = if candidates.len() < keep {
                0
            } else {
                candidates.last().copied().unwrap_or(0)
            };
            home::create(c, me, &candidates, floor, newest, now_secs())?;
            Ok(true)
        })
        .await
}

/// Cheap, deterministic 1-in-16 sample: trimming every feed on every insert would cost an
/// index walk of `keep` entries each time; sampled, a feed overshoots by a few dozen at most.
fn trim_now(post: PostId, account: AccountId) -> bool {
    ((post.0 as u64) ^ (account.0 as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 60 == 0
}

/// Adds a post to its author's followers' feeds (the job behind `Task::FanOut`).
pub(crate) fn fan_out_in_tx(c: &Connection, post: PostId, keep: usize) -> AppResult<()> {
    let Some(facts) = crate::store::posts::find_facts(c, post)? else {
        return Ok(()); // an undone repost, gone before its fan-out ran
    };
    let mut reached = home::fan_out(c, facts.author, post)?;
    reached.extend(home::fan_out_tags(c, post)?);
    for f in reached {
        if trim_now(post, f) {
            home::trim(c, f, keep)?;
        }
    }
    if trim_now(post, facts.author) {
        home::trim(c, facts.author, keep)?;
    }
    Ok(())
}

/// Inside a post's transaction: the author sees it at once; followers get it from the queue.
pub(crate) fn on_new_post(
    c: &Connection,
    ids: &crate::domain::IdGen,
    author: AccountId,
    post: PostId,
) -> AppResult<()> {
    home::add_own(c, author, post)?;
    super::tasks::enqueue(c, ids, &super::tasks::Task::FanOut { post: post.0 })
}

/// Inside a follow's transaction: the followee's recent posts join the follower's feed.
pub(crate) fn on_follow(
    c: &Connection,
    follower: AccountId,
    followee: AccountId,
    keep: usize,
) -> AppResult<()> {
    if home::backfill(c, follower, followee, keep)? {
        home::trim(c, follower, keep)?;
    }
    Ok(())
}

/// Inside a hashtag follow's transaction: the tag's recent public posts join the feed.
pub(crate) fn on_follow_tag(
    c: &Connection,
    account: AccountId,
    tag: &str,
    keep: usize,
) -> AppResult<()> {
    if home::backfill_tag(c, account, tag, keep)? {
        home::trim(c, account, keep)?;
    }
    Ok(())
}

pub(crate) fn on_unfollow(
    c: &Connection,
    follower: AccountId,
    followee: AccountId,
) -> AppResult<()> {
    home::remove_author(c, follower, followee)?;
    Ok(())
}
