//! Writing posts: create (with replies and quotes), edit, delete, like, repost, bookmark, and
//! hiding replies. Every rule is checked inside the write transaction, so what it checked
//! cannot change before the write lands.

use std::time::Duration;

use rusqlite::Connection;

use super::Core;
use super::accounts::Viewer;
use super::federation::{Outbound, publish_in_tx};
use crate::domain::{
    self, AccountId, IdGen, PostId, PostText, ReplyPolicy, Visibility, now_secs, text,
};
use crate::error::{AppError, AppResult};
use crate::store::models::{NotificationKind, PostEdit};
use crate::store::posts::PostFacts;
use crate::store::{accounts, federation as fed, follows, notifications, posts};

#[derive(Debug, Clone)]
pub struct NewPost {
    pub body: String,
    pub content_warning: String,
    pub visibility: Visibility,
    pub reply_policy: ReplyPolicy,
    pub in_reply_to: Option<PostId>,
    pub quote_of: Option<PostId>,
    /// Uploads waiting in the composer, in order: (media id, alt text, sensitive).
    pub media: Vec<(i64, String, bool)>,
}

/// What the web layer needs to show or link the new post.
#[derive(Debug, Clone)]
pub struct Created {
    pub id: PostId,
}

fn not_found_or_deleted(p: Option<PostFacts>) -> AppResult<PostFacts> {
    match p {
        Some(p) if !p.deleted && p.repost_of.is_none() => Ok(p),
        _ => Err(AppError::NotFound),
    }
}

/// A post the viewer may act on: it exists, is not deleted and is visible to them.
fn visible_post(c: &Connection, viewer: AccountId, id: PostId) -> AppResult<PostFacts> {
    let p = not_found_or_deleted(posts::find_facts(c, id)?)?;
    if !posts::is_visible(c, viewer, id)? {
        return Err(AppError::NotFound);
    }
    Ok(p)
}

/// Whether `who` may reply to `post` under the post's own reply policy.
fn policy_allows(c: &Connection, post: &PostFacts, who: AccountId) -> AppResult<bool> {
    if post.author == who {
        return Ok(true);
    }
    Ok(match post.reply_policy {
        ReplyPolicy::Anyone => true,
        ReplyPolicy::Following => follows::is_following(c, post.author, who)?,
        ReplyPolicy::Mentioned => posts::is_mentioned(c, post.id, who)?,
    })
}

/// A reply must satisfy the policy of the post it answers and of the conversation's first
/// post; otherwise replying to an allowed reply would slip past the author's choice.
pub(crate) fn check_reply_allowed(
    c: &Connection,
    parent: &PostFacts,
    who: AccountId,
) -> AppResult<()> {
    let mut allowed = policy_allows(c, parent, who)?;
    if allowed
        && parent.root != parent.id
        && let Some(root) = posts::find_facts(c, parent.root)?
    {
        allowed = policy_allows(c, &root, who)?;
    }
    if allowed {
        Ok(())
    } else {
        let why = match parent.reply_policy {
            ReplyPolicy::Following => {
                "Only people the author follows can reply to this conversation."
            }
            ReplyPolicy::Mentioned => {
                "Only people mentioned by the author can reply to this conversation."
            }
            ReplyPolicy::Anyone => "The conversation's author limited who can reply.",
        };
        Err(AppError::forbidden(why))
    }
}

pub async fn create(core: &Core, viewer: &Viewer, input: NewPost) -> AppResult<Created> {
    let rl = &core.config.rate_limits;
    let l = &core.config.limits;
    // A post may be only a quote, or only photos.
    let body = PostText::parse(
        &input.body,
        l.post_chars,
        input.quote_of.is_some() || !input.media.is_empty(),
    )?;
    let m = &core.config.media;
    if input.media.len() > m.attachments_per_post {
        return Err(AppError::Invalid(format!(
            "A post can have at most {} photos or videos.",
            m.attachments_per_post
        )));
    }
    if input
        .media
        .iter()
        .any(|(_, alt, _)| alt.chars().count() > m.alt_chars)
    {
        return Err(AppError::Invalid(format!(
            "A description (alt text) can be at most {} characters.",
            m.alt_chars
        )));
    }
    let cw = domain::short_text(
        &input.content_warning,
        l.content_warning_chars,
        "A content warning",
    )?;
    core.limiter.take(
        &format!("post:{}", viewer.id()),
        rl.posts_per_account,
        Duration::from_secs(rl.posts_window_secs),
    )?;
    let me = viewer.id();
    let ids = core.ids.clone();
    let federation = core.config.federation.enabled;
    let created = core
        .db
        .write(move |c| {
            let created = create_in_tx(c, &ids, me, body, cw, input)?;
            publish_in_tx(
                c,
                &ids,
                federation,
                Outbound::PostCreated { post: created.id.0 },
            )?;
            Ok(created)
        })
        .await?;
    core.jobs.wake();
    Ok(created)
}

fn create_in_tx(
    c: &Connection,
    ids: &IdGen,
    me: AccountId,
    body: PostText,
    cw: String,
    input: NewPost,
) -> AppResult<Created> {
    let now = now_secs();
    let id = PostId(ids.next());
    let parent = match input.in_reply_to {
        Some(pid) => {
            let p = match visible_post(c, me, pid) {
                Ok(p) => p,
                Err(AppError::NotFound) => {
                    return Err(AppError::invalid(
                        "The post you are replying to was deleted or is not visible to you.",
                    ));
                }
                Err(e) => return Err(e),
            };
            super::blocks::check_not_blocked(c, me, p.author)?;
            check_reply_allowed(c, &p, me)?;
            Some(p)
        }
        None => None,
    };
    let quoted = match input.quote_of {
        Some(qid) => {
            let q = match visible_post(c, me, qid) {
                Ok(q) => q,
                Err(AppError::NotFound) => {
                    return Err(AppError::invalid(
                        "The post you are quoting was deleted or is not visible to you.",
                    ));
                }
                Err(e) => return Err(e),
            };
            if q.visibility != Visibility::Public {
                return Err(AppError::forbidden("Only public posts can be quoted."));
            }
            super::blocks::check_not_blocked(c, me, q.author)?;
            Some(q)
        }
        None => None,
    };
    let body_text = body.into_string();
    posts::insert(
        c,
        &posts::NewPost {
            id,
            author: me,
            body: &body_text,
            content_warning: &cw,
            visibility: input.visibility,
            reply_policy: input.reply_policy,
            in_reply_to: parent.as_ref().map(|p| (p.id, p.author)),
            root: parent.as_ref().map(|p| p.root).unwrap_or(id),
            quote: quoted.as_ref().map(|q| q.id),
            repost_of: None,
            created_at: now,
        },
    )?;
    accounts::adjust_counts(c, me, 1, 0, 0)?;
    super::search::tag_in_tx(
        c,
        id,
        input.visibility == Visibility::Public,
        &text::hashtags(&body_text),
    )?;
    super::media::attach_in_tx(c, me, id, &input.media)?;
    super::home::on_new_post(c, ids, me, id)?;
    super::search::queue_posts(c, ids, &[id])?;

    let mut notified: Vec<AccountId> = vec![me];
    if let Some(p) = &parent {
        posts::adjust_counts(c, p.id, 1, 0, 0, 0)?;
        // Replying addresses the author of the post replied to, so they can always see it.
        posts::insert_mention(c, id, p.author)?;
        if !notified.contains(&p.author) {
            super::notify(c, ids, p.author, NotificationKind::Reply, me, Some(id))?;
            notified.push(p.author);
        }
    }
    for m in mentioned_in(c, me, &body_text)? {
        posts::insert_mention(c, id, m)?;
        if !notified.contains(&m) {
            super::notify(c, ids, m, NotificationKind::Mention, me, Some(id))?;
            notified.push(m);
        }
    }
    if let Some(q) = &quoted {
        posts::adjust_counts(c, q.id, 0, 0, 0, 1)?;
        // A followers-only quote the quoted author cannot see must not announce itself.
        if q.author != me && posts::is_visible(c, q.author, id)? {
            super::notify(c, ids, q.author, NotificationKind::Quote, me, Some(id))?;
        }
    }
    Ok(Created { id })
}

/// The accounts a text @mentions: local ones by name, remote ones (`@name@host`) when
/// this server knows them.
/// Someone who blocks the author (or whom the author blocks) is not addressed.
fn mentioned_in(c: &Connection, author: AccountId, body: &str) -> AppResult<Vec<AccountId>> {
    let mut out = accounts::find_active_ids_by_usernames(c, &text::local_mentions(body))?;
    out.extend(super::federation::find_remote_by_handles(
        c,
        &text::remote_mentions(body),
    )?);
    let mut kept = Vec::with_capacity(out.len());
    for m in out {
        if !crate::store::blocks::between(c, author, m)? {
            kept.push(m);
        }
    }
    Ok(kept)
}

/// Replaces the text of the viewer's own post, keeping the old version in its history.
pub async fn edit(
    core: &Core,
    viewer: &Viewer,
    id: PostId,
    body: &str,
    content_warning: &str,
) -> AppResult<()> {
    let l = &core.config.limits;
    let me = viewer.id();
    let ids = core.ids.clone();
    let body_raw = body.to_string();
    let cw = domain::short_text(
        content_warning,
        l.content_warning_chars,
        "A content warning",
    )?;
    let max = l.post_chars;
    let federation = core.config.federation.enabled;
    core.db
        .write(move |c| {
            let p = not_found_or_deleted(posts::find_facts(c, id)?)?;
            if p.author != me {
                return Err(AppError::forbidden("You can only edit your own posts."));
            }
            let body = PostText::parse(&body_raw, max, p.quote.is_some())?.into_string();
            if body == p.body && cw == p.content_warning {
                return Ok(());
            }
            let now = now_secs();
            posts::edit(c, ids.next(), &p, &body, &cw, now)?;
            publish_in_tx(c, &ids, federation, Outbound::PostUpdated { post: id.0 })?;
            let tags = text::hashtags(&body);
            let tagged =
                super::search::retag_in_tx(c, id, p.visibility == Visibility::Public, &tags)?;
            // A tag added by the edit can bring the post to people who follow that tag.
            if tagged {
                super::tasks::enqueue(c, &ids, &super::tasks::Task::FanOut { post: id.0 })?;
            }
            super::search::queue_posts(c, &ids, &[id])?;
            // Who the post addresses follows the new text: a removed @mention loses access.
            let before = posts::list_mentions(c, id)?;
            posts::clear_mentions(c, id)?;
            if let Some(parent) = p.in_reply_to
                && let Some(parent) = posts::find_facts(c, parent)?
            {
                posts::insert_mention(c, id, parent.author)?;
            }
            for m in mentioned_in(c, me, &body)? {
                if posts::insert_mention(c, id, m)? && m != me && !before.contains(&m) {
                    super::notify(c, &ids, m, NotificationKind::Mention, me, Some(id))?;
                }
            }
            Ok(())
        })
        .await?;
    core.jobs.wake();
    Ok(())
}

/// Deletes a post: its author may, and so may moderators and admins.
pub async fn delete(core: &Core, viewer: &Viewer, id: PostId) -> AppResult<()> {
    let me = viewer.id();
    let staff = viewer.role().is_staff();
    let ids = core.ids.clone();
    let federation = core.config.federation.enabled;
    core.db
        .write(move |c| {
            let p = not_found_or_deleted(posts::find_facts(c, id)?)?;
            if p.author != me && !staff {
                return Err(AppError::forbidden("You can only delete your own posts."));
            }
            if federation && !fed::is_remote(c, p.author)? {
                // Whoever could have received it hears of the delete, even if they stop
                // following before the job runs.
                let mut inboxes = fed::follower_inboxes(c, p.author)?;
                for m in posts::list_mentions(c, id)? {
                    if let Some(a) = fed::find_actor(c, m)? {
                        inboxes.push(a.shared_inbox.unwrap_or(a.inbox));
                    }
                }
                inboxes.sort();
                inboxes.dedup();
                publish_in_tx(
                    c,
                    &ids,
                    federation,
                    Outbound::PostDeleted {
                        post: id.0,
                        author: p.author.0,
                        inboxes,
                    },
                )?;
            }
            delete_in_tx(c, &ids, &p)
        })
        .await?;
    core.jobs.wake();
    Ok(())
}

/// Deletes a post (checked by the caller) inside its transaction.
pub(crate) fn delete_in_tx(c: &Connection, ids: &IdGen, p: &PostFacts) -> AppResult<()> {
    let id = p.id;
    for repost in posts::list_reposts_of(c, id)? {
        posts::delete_repost_row(c, repost)?;
    }
    super::search::untag_in_tx(c, id, p.visibility == Visibility::Public)?;
    posts::unpin_everywhere(c, id)?;
    posts::soft_delete(c, id, now_secs())?;
    super::search::queue_posts(c, ids, &[id])?;
    accounts::adjust_counts(c, p.author, -1, 0, 0)?;
    if let Some(parent) = p.in_reply_to {
        posts::adjust_counts(c, parent, -1, 0, 0, 0)?;
    }
    if let Some(q) = p.quote {
        posts::adjust_counts(c, q, 0, 0, 0, -1)?;
    }
    // Attachments go with the post; their files through a job, once unreferenced.
    super::media::delete_for_post_in_tx(c, ids, id)?;
    posts::set_media_count(c, id, 0)?;
    Ok(())
}

pub async fn set_like(core: &Core, viewer: &Viewer, id: PostId, on: bool) -> AppResult<()> {
    let me = viewer.id();
    let ids = core.ids.clone();
    let federation = core.config.federation.enabled;
    core.db
        .write(move |c| like_in_tx(c, &ids, me, id, on, federation))
        .await?;
    core.jobs.wake();
    Ok(())
}

/// The post a like or repost (or its undoing) is about. Undoing needs no visibility:
/// someone who lost access can still take it back.
fn acted_on(c: &Connection, me: AccountId, id: PostId, on: bool) -> AppResult<PostFacts> {
    if on {
        let p = visible_post(c, me, id)?;
        super::blocks::check_not_blocked(c, me, p.author)?;
        Ok(p)
    } else {
        not_found_or_deleted(posts::find_facts(c, id)?)
    }
}

/// Likes or unlikes inside the caller's transaction; `federation` tells other servers.
pub(crate) fn like_in_tx(
    c: &Connection,
    ids: &IdGen,
    me: AccountId,
    id: PostId,
    on: bool,
    federation: bool,
) -> AppResult<()> {
    let p = acted_on(c, me, id, on)?;
    let now = now_secs();
    let changed = if on {
        let new = posts::insert_like(c, me, id, now)?;
        if new {
            posts::adjust_counts(c, id, 0, 0, 1, 0)?;
            if p.author != me {
                super::notify(c, ids, p.author, NotificationKind::Like, me, Some(id))?;
            }
        }
        new
    } else if posts::delete_like(c, me, id)? {
        posts::adjust_counts(c, id, 0, 0, -1, 0)?;
        notifications::delete_for(c, p.author, NotificationKind::Like, me, Some(id))?;
        true
    } else {
        false
    };
    if changed && federation && fed::is_remote(c, p.author)? {
        publish_in_tx(
            c,
            ids,
            federation,
            Outbound::Like {
                account: me.0,
                post: id.0,
                on,
            },
        )?;
    }
    Ok(())
}

pub async fn set_repost(core: &Core, viewer: &Viewer, id: PostId, on: bool) -> AppResult<()> {
    let me = viewer.id();
    let ids = core.ids.clone();
    let federation = core.config.federation.enabled;
    core.db
        .write(move |c| repost_in_tx(c, &ids, me, id, on, federation))
        .await?;
    core.jobs.wake();
    Ok(())
}

/// Reposts or takes a repost back inside the caller's transaction; answers the new
/// repost's id. `federation` tells other servers.
pub(crate) fn repost_in_tx(
    c: &Connection,
    ids: &IdGen,
    me: AccountId,
    id: PostId,
    on: bool,
    federation: bool,
) -> AppResult<Option<PostId>> {
    let p = acted_on(c, me, id, on)?;
    let now = now_secs();
    let existing = posts::find_repost(c, me, id)?;
    if on {
        if p.visibility != Visibility::Public {
            return Err(AppError::forbidden("Only public posts can be reposted."));
        }
        if existing.is_some() {
            return Ok(None);
        }
        let rid = PostId(ids.next());
        posts::insert(
            c,
            &posts::NewPost {
                id: rid,
                author: me,
                body: "",
                content_warning: "",
                visibility: Visibility::Public,
                reply_policy: ReplyPolicy::Anyone,
                in_reply_to: None,
                root: rid,
                quote: None,
                repost_of: Some(id),
                created_at: now,
            },
        )?;
        posts::adjust_counts(c, id, 0, 1, 0, 0)?;
        super::home::on_new_post(c, ids, me, rid)?;
        if p.author != me {
            super::notify(c, ids, p.author, NotificationKind::Repost, me, Some(id))?;
        }
        let event = Outbound::Announce {
            account: me.0,
            post: id.0,
            repost: rid.0,
            on: true,
        };
        publish_in_tx(c, ids, federation, event)?;
        Ok(Some(rid))
    } else {
        if let Some(rid) = existing {
            posts::delete_repost_row(c, rid)?;
            posts::adjust_counts(c, id, 0, -1, 0, 0)?;
            notifications::delete_for(c, p.author, NotificationKind::Repost, me, Some(id))?;
            let event = Outbound::Announce {
                account: me.0,
                post: id.0,
                repost: rid.0,
                on: false,
            };
            publish_in_tx(c, ids, federation, event)?;
        }
        Ok(None)
    }
}

pub async fn set_bookmark(core: &Core, viewer: &Viewer, id: PostId, on: bool) -> AppResult<()> {
    let me = viewer.id();
    let ids = core.ids.clone();
    core.db
        .write(move |c| {
            if on {
                visible_post(c, me, id)?;
                posts::insert_bookmark(c, ids.next(), me, id, now_secs())?;
            } else {
                posts::delete_bookmark(c, me, id)?;
            }
            Ok(())
        })
        .await
}

/// Hides (or shows again) a reply. Allowed to the author of the post it answers and to the
/// author of the conversation's first post.
pub async fn set_hidden(core: &Core, viewer: &Viewer, id: PostId, hidden: bool) -> AppResult<()> {
    let me = viewer.id();
    core.db
        .write(move |c| {
            let p = not_found_or_deleted(posts::find_facts(c, id)?)?;
            let Some(parent_id) = p.in_reply_to else {
                return Err(AppError::invalid("Only replies can be hidden."));
            };
            let parent_author = posts::find_facts(c, parent_id)?.map(|x| x.author);
            let root_author = posts::find_facts(c, p.root)?.map(|x| x.author);
            if parent_author != Some(me) && root_author != Some(me) {
                return Err(AppError::forbidden(
                    "Only the author of the post or of the conversation can hide replies.",
                ));
            }
            posts::set_hidden(c, id, hidden)?;
            Ok(())
        })
        .await
}

/// Earlier versions of a post the viewer can see, oldest first.
pub async fn history(core: &Core, viewer: Option<&Viewer>, id: PostId) -> AppResult<Vec<PostEdit>> {
    let me = viewer.map(|v| v.id()).unwrap_or(super::ANONYMOUS);
    core.db
        .read(move |c| {
            visible_post(c, me, id)?;
            Ok(posts::list_edits(c, id)?)
        })
        .await
}

/// Pins one of the viewer's own posts to their profile (or unpins it); at most
/// `limits.pinned_posts`, and never a post meant for mentioned people only.
pub async fn set_pinned(core: &Core, viewer: &Viewer, id: PostId, on: bool) -> AppResult<()> {
    let me = viewer.id();
    let max = core.config.limits.pinned_posts;
    let ids = core.ids.clone();
    let federation = core.config.federation.enabled;
    core.db
        .write(move |c| {
            // Unpinning works on anything pinned; pinning needs a live post.
            let p = if on {
                not_found_or_deleted(posts::find_facts(c, id)?)?
            } else {
                posts::find_facts(c, id)?.ok_or(AppError::NotFound)?
            };
            if p.author != me {
                return Err(AppError::forbidden("You can only pin your own posts."));
            }
            let changed = if on {
                if p.visibility == Visibility::Mentioned {
                    return Err(AppError::invalid(
                        "Posts for mentioned people only cannot be pinned.",
                    ));
                }
                if posts::pinned(c, me)?.len() >= max && !posts::pinned(c, me)?.contains(&id) {
                    return Err(AppError::Invalid(format!(
                        "You can pin at most {max} posts. Unpin one first."
                    )));
                }
                posts::pin(c, me, id, now_secs())?
            } else {
                posts::unpin(c, me, id)?
            };
            if changed {
                // Other servers read pins from the featured collection when they refresh
                // the profile; the Update tells them to.
                publish_in_tx(
                    c,
                    &ids,
                    federation,
                    Outbound::ProfileUpdated { account: me.0 },
                )?;
            }
            Ok(())
        })
        .await?;
    core.jobs.wake();
    Ok(())
}
