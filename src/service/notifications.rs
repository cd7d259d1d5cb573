//! The notifications page and the unread badge.

use super::accounts::Viewer;
use super::{Core, Page};
use crate::error::AppResult;
use crate::store::models::{Notification, NotificationKind};
use crate::store::{accounts, notifications, posts};

/// The badge stops counting here and shows "99+".
pub const UNREAD_CAP: i64 = 100;

pub async fn list(
    core: &Core,
    viewer: &Viewer,
    before: Option<i64>,
) -> AppResult<Page<Notification>> {
    let limit = core.config.limits.page_size;
    let me = viewer.id();
    let seen = viewer.account.notifications_seen_id;
    core.db
        .read(move |c| {
            let rows = notifications::list(c, me, before.unwrap_or(i64::MAX), limit)?;
            let next = super::next_cursor(&rows, limit, |r| r.0);
            let mut items = Vec::with_capacity(rows.len());
            for (id, kind, actor, post, created_at) in rows {
                let Some(kind) = NotificationKind::from_i64(kind) else {
                    continue;
                };
                let Some(actor) = accounts::find_brief(c, actor)? else {
                    continue;
                };
                let post = match post {
                    Some(pid) => match posts::find_view(c, me, pid)? {
                        Some(p) if !p.deleted && posts::is_visible(c, me, pid)? => Some(p),
                        _ => continue,
                    },
                    None => None,
                };
                items.push(Notification {
                    id,
                    kind,
                    actor,
                    post,
                    created_at,
                    unread: id > seen,
                });
            }
            Ok(Page { items, next })
        })
        .await
}

pub async fn mark_all_read(core: &Core, viewer: &Viewer, up_to: Option<i64>) -> AppResult<()> {
    let me = viewer.id();
    core.db
        .write(move |c| Ok(notifications::mark_all_read(c, me, up_to)?))
        .await
}
