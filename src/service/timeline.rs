//! Reading: feeds (home, public, profile, tag, bookmarks), single posts and threads, all as
//! the viewer may see them.

use std::collections::{HashMap, HashSet};

use rusqlite::Connection;

use super::accounts::Viewer;
use super::{ANONYMOUS, Core, Page};
use crate::domain::{AccountId, PostId};
use crate::error::{AppError, AppResult};
use crate::store::feeds::{self, ProfileTab};
use crate::store::models::{AccountBrief, FeedItem, PostView};
use crate::store::{accounts, posts};

fn viewer_id(v: Option<&Viewer>) -> AccountId {
    v.map(|v| v.id()).unwrap_or(ANONYMOUS)
}

/// Adds the quoted post when the viewer may see it.
fn attach_quote(c: &Connection, viewer: AccountId, post: &mut PostView) -> AppResult<()> {
    if let Some(q) = post.quote_id
        && let Some(qv) = posts::find_view(c, viewer, q)?
        && !qv.deleted
        && posts::is_visible(c, viewer, q)?
        && !apart(c, viewer, qv.author.id)?
    {
        post.quote = Some(Box::new(qv));
    }
    super::media::fill(c, &mut [&mut *post])?;
    if let Some(q) = post.quote.as_deref_mut() {
        super::media::fill(c, &mut [q])?;
    }
    Ok(())
}

/// Whether a block stands between the viewer (when logged in) and `other`.
fn apart(c: &Connection, viewer: AccountId, other: AccountId) -> AppResult<bool> {
    Ok(viewer != super::ANONYMOUS && crate::store::blocks::between(c, viewer, other)?)
}

/// Loads the posts behind feed rows in a few queries for the whole page. `read_along` holds
/// posts already read as the viewer sees them along with the rows (the home feed): a post
/// shown as itself needs no second read, and a repost's own post names who reposted. Reposted
/// originals must still be visible and present; quotes are attached when the viewer may see
/// them.
fn hydrate(
    c: &Connection,
    viewer: AccountId,
    rows: &[feeds::Row],
    read_along: Vec<PostView>,
) -> AppResult<Vec<FeedItem>> {
    let mut reposters: HashMap<AccountId, AccountBrief> = HashMap::new();
    let mut shown = Vec::with_capacity(read_along.len());
    for v in read_along {
        if v.repost_of.is_some() {
            reposters.insert(v.author.id, v.author);
        } else {
            shown.push(v);
        }
    }
    let missing: Vec<PostId> = rows
        .iter()
        .filter(|r| r.reposted_by.is_none())
        .map(|r| r.post)
        .filter(|id| !shown.iter().any(|v| v.id == *id))
        .collect();
    // People the viewer blocks, or who block the viewer, stay out of each other's feeds.
    let apart: HashSet<AccountId> = if viewer == super::ANONYMOUS {
        HashSet::new()
    } else {
        crate::store::blocks::involving(c, viewer)?
            .into_iter()
            .collect()
    };
    let present = |p: &PostView| !p.deleted && !apart.contains(&p.author.id);
    let mut views: HashMap<PostId, PostView> = posts::find_views(c, viewer, &missing)?
        .into_iter()
        .chain(shown)
        .filter(present)
        .map(|p| (p.id, p))
        .collect();
    // Read apart from `views`: a post on the page both as itself and reposted is checked for
    // visibility only as the repost.
    let reposted: Vec<PostId> = rows
        .iter()
        .filter(|r| r.reposted_by.is_some())
        .map(|r| r.post)
        .collect();
    let mut originals: HashMap<PostId, PostView> = posts::find_visible_views(c, viewer, &reposted)?
        .into_iter()
        .filter(present)
        .map(|p| (p.id, p))
        .collect();
    let quote_ids: Vec<PostId> = views
        .values()
        .chain(originals.values())
        .filter_map(|p| p.quote_id)
        .collect();
    let mut quotes: HashMap<PostId, PostView> = posts::find_visible_views(c, viewer, &quote_ids)?
        .into_iter()
        .filter(present)
        .map(|q| (q.id, q))
        .collect();
    {
        let mut all: Vec<&mut PostView> = views
            .values_mut()
            .chain(originals.values_mut())
            .chain(quotes.values_mut())
            .collect();
        super::media::fill(c, &mut all)?;
    }
    for p in views.values_mut().chain(originals.values_mut()) {
        if let Some(q) = p.quote_id.and_then(|q| quotes.get(&q)) {
            p.quote = Some(Box::new(q.clone()));
        }
    }

    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let source = if row.reposted_by.is_some() {
            &mut originals
        } else {
            &mut views
        };
        // The same post can appear twice on a page (reposted by two people, say): move it
        // out the last time it is needed, clone it before.
        let needed_again = rows[i + 1..]
            .iter()
            .any(|r| r.post == row.post && r.reposted_by.is_some() == row.reposted_by.is_some());
        let post = if needed_again {
            source.get(&row.post).cloned()
        } else {
            source.remove(&row.post)
        };
        let Some(post) = post else {
            continue;
        };
        let reposted_by = match row.reposted_by {
            Some(r) if apart.contains(&r) => continue,
            Some(r) => match reposters.get(&r) {
                Some(brief) => Some(brief.clone()),
                None => accounts::find_brief(c, r)?,
            },
            None => None,
        };
        out.push(FeedItem {
            cursor: row.cursor,
            post,
            reposted_by,
        });
    }
    Ok(out)
}

/// The posts among `ids` the viewer may see, hydrated, in the order given (search results,
/// trends: lists whose order comes from elsewhere).
pub(crate) fn visible_items(
    c: &Connection,
    viewer: AccountId,
    ids: &[PostId],
) -> AppResult<Vec<FeedItem>> {
    let visible: HashSet<PostId> = posts::visible_among(c, viewer, ids)?.into_iter().collect();
    let rows: Vec<feeds::Row> = ids
        .iter()
        .filter(|id| visible.contains(id))
        .map(|&id| feeds::Row {
            cursor: id.0,
            post: id,
            reposted_by: None,
        })
        .collect();
    hydrate(c, viewer, &rows, Vec::new())
}

pub(crate) fn page(
    c: &Connection,
    viewer: AccountId,
    rows: Vec<feeds::Row>,
    limit: usize,
) -> AppResult<Page<FeedItem>> {
    page_read_along(c, viewer, rows, Vec::new(), limit)
}

/// [`page`] when some of the rows' posts were read along with the rows (the home feed).
pub(crate) fn page_read_along(
    c: &Connection,
    viewer: AccountId,
    rows: Vec<feeds::Row>,
    read_along: Vec<PostView>,
    limit: usize,
) -> AppResult<Page<FeedItem>> {
    let next = super::next_cursor(&rows, limit, |r| r.cursor);
    Ok(Page {
        items: hydrate(c, viewer, &rows, read_along)?,
        next,
    })
}

/// The viewer's home feed (see `home` for how it is kept fast).
pub async fn home(core: &Core, viewer: &Viewer, before: Option<i64>) -> AppResult<Page<FeedItem>> {
    super::home::page(core, viewer, before).await
}

pub async fn public(
    core: &Core,
    viewer: Option<&Viewer>,
    before: Option<i64>,
) -> AppResult<Page<FeedItem>> {
    let limit = core.config.limits.page_size;
    let me = viewer_id(viewer);
    core.db
        .read_now(move |c| {
            let rows = feeds::public(c, before.unwrap_or(i64::MAX), limit)?;
            page(c, me, rows, limit)
        })
        .await
}

pub async fn profile(
    core: &Core,
    viewer: Option<&Viewer>,
    author: AccountId,
    tab: ProfileTab,
    before: Option<i64>,
) -> AppResult<Page<FeedItem>> {
    let limit = core.config.limits.page_size;
    let me = viewer_id(viewer);
    core.db
        .read_now(move |c| {
            let rows = feeds::profile(c, me, author, tab, before.unwrap_or(i64::MAX), limit)?;
            page(c, me, rows, limit)
        })
        .await
}

/// A profile page: the account, the viewer's relationship to it and one page of its posts,
/// read together (one trip to a reader instead of three).
pub struct ProfilePage {
    pub account: crate::store::models::Account,
    pub relationship: crate::store::models::Relationship,
    pub page: Page<FeedItem>,
    /// The account this one moved to: its username here when known, else its actor id.
    pub moved_to: Option<String>,
    /// Pinned posts the viewer may see (on the first page of the Posts tab only).
    pub pinned: Vec<FeedItem>,
}

pub async fn profile_page(
    core: &Core,
    viewer: Option<&Viewer>,
    username: &str,
    tab: ProfileTab,
    before: Option<i64>,
) -> AppResult<ProfilePage> {
    let limit = core.config.limits.page_size;
    let me = viewer_id(viewer);
    let logged_in = viewer.is_some();
    let name = username.trim_start_matches('@').to_ascii_lowercase();
    core.db
        .read_now(move |c| {
            let account = accounts::find_by_username(c, &name)?
                .filter(|a| a.status == crate::store::models::AccountStatus::Active)
                .ok_or(AppError::NotFound)?;
            let relationship = if logged_in {
                crate::store::follows::relationship(c, me, account.id)?
            } else {
                Default::default()
            };
            let rows = feeds::profile(c, me, account.id, tab, before.unwrap_or(i64::MAX), limit)?;
            let page = page(c, me, rows, limit)?;
            let moved_to = match crate::store::federation::migration(c, account.id)?.0 {
                Some(uri) => Some(
                    crate::store::federation::find_actor_by_uri(c, &uri)?
                        .map(|a| a.username)
                        .unwrap_or(uri),
                ),
                None => None,
            };
            let pinned = if tab == ProfileTab::Posts && before.is_none() {
                let ids = posts::pinned(c, account.id)?;
                visible_items(c, me, &ids)?
            } else {
                Vec::new()
            };
            Ok(ProfilePage {
                account,
                relationship,
                page,
                moved_to,
                pinned,
            })
        })
        .await
}

pub async fn tag(
    core: &Core,
    viewer: Option<&Viewer>,
    tag: &str,
    before: Option<i64>,
) -> AppResult<Page<FeedItem>> {
    let limit = core.config.limits.page_size;
    let me = viewer_id(viewer);
    let tag = tag.to_lowercase();
    core.db
        .read_now(move |c| {
            let rows = feeds::tag(c, &tag, before.unwrap_or(i64::MAX), limit)?;
            page(c, me, rows, limit)
        })
        .await
}

/// Bookmarked posts that are still there and still visible to the viewer.
pub async fn bookmarks(
    core: &Core,
    viewer: &Viewer,
    before: Option<i64>,
) -> AppResult<Page<FeedItem>> {
    let limit = core.config.limits.page_size;
    let me = viewer.id();
    core.db
        .read(move |c| {
            let rows = feeds::bookmarks(c, me, before.unwrap_or(i64::MAX), limit)?;
            let next = super::next_cursor(&rows, limit, |r| r.cursor);
            // A bookmarked post the viewer may no longer see stays off the page: checked for
            // the whole page in one statement.
            let ids: Vec<PostId> = rows.iter().map(|r| r.post).collect();
            let visible: HashSet<PostId> = posts::visible_among(c, me, &ids)?.into_iter().collect();
            let rows: Vec<feeds::Row> = rows
                .into_iter()
                .filter(|r| visible.contains(&r.post))
                .collect();
            Ok(Page {
                items: hydrate(c, me, &rows, Vec::new())?,
                next,
            })
        })
        .await
}

/// One post as the viewer sees it; NotFound when it does not exist or is not visible.
pub async fn post(core: &Core, viewer: Option<&Viewer>, id: PostId) -> AppResult<PostView> {
    let me = viewer_id(viewer);
    core.db
        .read_now(move |c| {
            let mut p = posts::find_view(c, me, id)?.ok_or(AppError::NotFound)?;
            if p.repost_of.is_some() || !posts::is_visible(c, me, id)? || apart(c, me, p.author.id)?
            {
                return Err(AppError::NotFound);
            }
            attach_quote(c, me, &mut p)?;
            Ok(p)
        })
        .await
}

#[derive(Debug, Clone)]
pub struct ThreadNode {
    pub post: PostView,
    pub children: Vec<ThreadNode>,
}

#[derive(Debug, Clone)]
pub struct Thread {
    /// From the conversation's first post down to the parent of `post`.
    pub ancestors: Vec<PostView>,
    pub post: PostView,
    pub replies: Vec<ThreadNode>,
    /// Why the viewer may not reply, if they may not.
    pub reply_blocked: Option<String>,
    /// More replies exist than one page shows.
    pub truncated: bool,
}

const MAX_ANCESTORS: usize = 100;

pub async fn thread(core: &Core, viewer: Option<&Viewer>, id: PostId) -> AppResult<Thread> {
    let me = viewer_id(viewer);
    let logged_in = viewer.is_some();
    let limit = core.config.limits.thread_replies;
    core.db
        .read(move |c| {
            let mut post = posts::find_view(c, me, id)?.ok_or(AppError::NotFound)?;
            if post.repost_of.is_some()
                || !posts::is_visible(c, me, id)?
                || apart(c, me, post.author.id)?
            {
                return Err(AppError::NotFound);
            }
            attach_quote(c, me, &mut post)?;

            let mut ancestors = Vec::new();
            let mut next = post.in_reply_to;
            while let Some(pid) = next {
                if ancestors.len() >= MAX_ANCESTORS {
                    break;
                }
                let Some(mut a) = posts::find_view(c, me, pid)? else {
                    break;
                };
                if !a.deleted && !posts::is_visible(c, me, pid)? || apart(c, me, a.author.id)? {
                    break;
                }
                attach_quote(c, me, &mut a)?;
                next = a.in_reply_to;
                ancestors.push(a);
            }
            ancestors.reverse();

            let ids = feeds::descendants(c, id, limit + 1)?;
            let truncated = ids.len() > limit;
            let apart: HashSet<AccountId> = if me == super::ANONYMOUS {
                HashSet::new()
            } else {
                crate::store::blocks::involving(c, me)?
                    .into_iter()
                    .collect()
            };
            let mut by_parent: HashMap<PostId, Vec<PostView>> = HashMap::new();
            for rid in ids.into_iter().take(limit) {
                let Some(mut r) = posts::find_view(c, me, rid)? else {
                    continue;
                };
                if !r.deleted && !posts::is_visible(c, me, rid)? {
                    continue;
                }
                if apart.contains(&r.author.id) {
                    continue;
                }
                attach_quote(c, me, &mut r)?;
                if let Some(parent) = r.in_reply_to {
                    by_parent.entry(parent).or_default().push(r);
                }
            }
            let replies = build_tree(id, &mut by_parent);

            let reply_blocked = if !logged_in {
                Some("Log in to reply.".to_string())
            } else if post.deleted {
                Some("This post was deleted.".to_string())
            } else {
                match posts::find_facts(c, id)? {
                    Some(facts) => match super::posts::check_reply_allowed(c, &facts, me) {
                        Ok(()) => None,
                        Err(AppError::Forbidden(why)) => Some(why),
                        Err(e) => return Err(e),
                    },
                    None => Some("This post was deleted.".to_string()),
                }
            };
            Ok(Thread {
                ancestors,
                post,
                replies,
                reply_blocked,
                truncated,
            })
        })
        .await
}

/// Children in time order; a deleted reply stays only as a placeholder above live replies.
fn build_tree(parent: PostId, by_parent: &mut HashMap<PostId, Vec<PostView>>) -> Vec<ThreadNode> {
    let Some(children) = by_parent.remove(&parent) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(children.len());
    for child in children {
        let grand = build_tree(child.id, by_parent);
        if child.deleted && grand.is_empty() {
            continue;
        }
        out.push(ThreadNode {
            post: child,
            children: grand,
        });
    }
    out
}
