//! Reports: anyone logged in can ask the moderators to look at a post; a post from another
//! server can be reported to its server too (an ActivityPub Flag sent by the instance, so
//! the reporter stays anonymous there, as Mastodon does). Flags from other servers arrive
//! here as reports without a local reporter.

use std::time::Duration;

use super::Core;
use super::accounts::Viewer;
use super::federation::{Outbound, publish_in_tx};
use crate::domain::{AccountId, PostId, now_secs};
use crate::error::{AppError, AppResult};
pub use crate::store::reports::ReportRow;
use crate::store::{federation as fed, posts, reports};

fn require_staff(viewer: &Viewer) -> AppResult<()> {
    if viewer.role().is_staff() {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "Only moderators and admins can see reports.",
        ))
    }
}

/// Reports a post the viewer can see. `forward` sends it on to the author's server when
/// the author is elsewhere.
pub async fn report_post(
    core: &Core,
    viewer: &Viewer,
    post: PostId,
    reason: &str,
    forward: bool,
) -> AppResult<()> {
    let max = core.config.limits.report_chars;
    let reason = crate::domain::long_text(reason, max, "A report")?;
    let rl = &core.config.rate_limits;
    core.limiter.take(
        &format!("report:{}", viewer.id()),
        rl.posts_per_account,
        Duration::from_secs(rl.posts_window_secs),
    )?;
    let me = viewer.id();
    let ids = core.ids.clone();
    let federation = core.config.federation.enabled;
    core.db
        .write(move |c| {
            let p = posts::find_facts(c, post)?.ok_or(AppError::NotFound)?;
            if p.deleted || !posts::is_visible(c, me, post)? {
                return Err(AppError::NotFound);
            }
            if p.author == me {
                return Err(AppError::invalid("You cannot report your own post."));
            }
            let remote = fed::is_remote(c, p.author)?;
            let id = ids.next();
            reports::insert(
                c,
                &reports::NewReport {
                    id,
                    reporter: Some(me),
                    reporter_domain: None,
                    target: p.author,
                    post: Some(post),
                    reason: &reason,
                    forwarded: forward && remote && federation,
                    uri: None,
                    created_at: now_secs(),
                },
            )?;
            if forward && remote {
                publish_in_tx(c, &ids, federation, Outbound::Report { report: id })?;
            }
            Ok(())
        })
        .await?;
    core.jobs.wake();
    Ok(())
}

/// A report from another server (a Flag) about local people and posts.
pub async fn receive(
    core: &Core,
    domain: String,
    uri: String,
    target: AccountId,
    post: Option<PostId>,
    reason: String,
) -> AppResult<()> {
    let ids = core.ids.clone();
    let reason: String = reason
        .chars()
        .take(core.config.limits.report_chars)
        .collect();
    core.db
        .write(move |c| {
            reports::insert(
                c,
                &reports::NewReport {
                    id: ids.next(),
                    reporter: None,
                    reporter_domain: Some(&domain),
                    target,
                    post,
                    reason: &reason,
                    forwarded: false,
                    uri: Some(&uri),
                    created_at: now_secs(),
                },
            )?;
            Ok(())
        })
        .await
}

pub async fn list(core: &Core, viewer: &Viewer) -> AppResult<Vec<ReportRow>> {
    require_staff(viewer)?;
    core.db.read(|c| Ok(reports::list(c, 200)?)).await
}

pub async fn open_count(core: &Core, viewer: &Viewer) -> AppResult<i64> {
    require_staff(viewer)?;
    core.db.read(|c| Ok(reports::open_count(c)?)).await
}

pub async fn resolve(core: &Core, viewer: &Viewer, id: i64) -> AppResult<()> {
    require_staff(viewer)?;
    let me = viewer.id();
    core.db
        .write(move |c| {
            if !reports::exists(c, id)? {
                return Err(AppError::NotFound);
            }
            reports::resolve(c, id, me, now_secs())?;
            Ok(())
        })
        .await
}

/// What a Flag for a report needs: the reported person's id and the post's ids.
pub async fn for_flag(
    core: &Core,
    id: i64,
) -> AppResult<Option<(AccountId, Option<PostId>, String)>> {
    core.db
        .read(move |c| {
            use rusqlite::OptionalExtension;
            Ok(c.query_row(
                "SELECT target_id, post_id, reason FROM reports WHERE id = ?1",
                [id],
                |r| {
                    Ok((
                        AccountId(r.get(0)?),
                        r.get::<_, Option<i64>>(1)?.map(PostId),
                        r.get(2)?,
                    ))
                },
            )
            .optional()?)
        })
        .await
}
