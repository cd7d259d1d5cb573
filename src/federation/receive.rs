//! Acting on verified activities, and looking up remote people and posts for search. Every
//! decision about what is allowed lives in the services; this file turns wire shapes into
//! their inputs (HTML sanitised, references resolved to local ids).

use super::Federation;
use super::protocol::{Activity, ActivityKind, ActorKind, Object, ObjectKind};
use crate::domain::{AccountId, PostId, Visibility};
use crate::error::{AppError, AppResult};
use crate::jobs::Failure;
use crate::service::Core;
use crate::service::federation::ActorRow;
use crate::service::federation::{self as fed_service, RemotePost, Resolved};

pub async fn receive(
    fed: &Federation,
    core: &Core,
    raw: &str,
    signer: &str,
) -> Result<(), Failure> {
    let activity: Activity = match serde_json::from_str(raw) {
        Ok(a) => a,
        // Stored because it was signed, but not a shape we read: nothing to do, ever.
        Err(e) => return Err(Failure::permanent(format!("unreadable activity: {e}"))),
    };
    match act(fed, core, &activity, signer).await {
        Ok(()) => Ok(()),
        // A refusal (not found, not allowed, invalid) will not change on retry.
        Err(e @ (AppError::NotFound | AppError::Forbidden(_) | AppError::Invalid(_))) => {
            tracing::info!(
                "ignored a {} from {signer}: {}",
                activity.kind.as_str(),
                e.public_message().1
            );
            Ok(())
        }
        Err(e) => Err(Failure::retry(format!("{e:#}"))),
    }
}

async fn act(fed: &Federation, core: &Core, a: &Activity, signer: &str) -> AppResult<()> {
    let actor_uri = a.actor_iri().ok_or(AppError::NotFound)?;
    match &a.kind {
        ActivityKind::Follow => {
            let actor = fed.actor(core, actor_uri, false).await?;
            let object = a.object_iri().ok_or(AppError::NotFound)?;
            let name = fed.ids.local_name(object).ok_or(AppError::NotFound)?;
            let id = a.id.clone().ok_or(AppError::NotFound)?;
            fed_service::remote_follow(core, actor.account_id, name.to_string(), id).await?;
        }
        ActivityKind::Accept | ActivityKind::Reject => {
            let actor = fed.actor(core, actor_uri, false).await?;
            let Some(local) = follower_of_answer(fed, core, a).await? else {
                return Err(AppError::NotFound);
            };
            if a.kind == ActivityKind::Accept {
                fed_service::follow_accepted(core, actor.account_id, local).await?;
            } else {
                fed_service::follow_rejected(core, actor.account_id, local).await?;
            }
        }
        ActivityKind::Undo => undo(fed, core, a, actor_uri).await?,
        ActivityKind::Create | ActivityKind::Update => {
            if let Some(actor) = a.embedded_actor() {
                if actor.id == actor_uri {
                    fed.actor(core, actor_uri, true).await?;
                }
                return Ok(());
            }
            let object = match a.embedded_object() {
                Some(o) => o.clone(),
                None => {
                    let iri = a.object_iri().ok_or(AppError::NotFound)?;
                    if a.kind == ActivityKind::Update && iri == actor_uri {
                        fed.actor(core, actor_uri, true).await?;
                        return Ok(());
                    }
                    fetch_object(fed, core, iri).await?
                }
            };
            let actor = fed.actor(core, actor_uri, false).await?;
            let update = a.kind == ActivityKind::Update;
            let depth = fed.config().thread_fetch_depth;
            store_note(fed, core, &actor, &object, update, false, depth).await?;
        }
        ActivityKind::Delete => {
            let object = a.object_iri().ok_or(AppError::NotFound)?;
            let Some(actor) = fed_service::actor_by_uri(core, actor_uri.to_string()).await? else {
                return Ok(());
            };
            if object == actor_uri {
                fed_service::remote_actor_deleted(core, actor.account_id).await?;
            } else {
                fed_service::delete_remote_post(core, actor.account_id, object.to_string()).await?;
            }
        }
        ActivityKind::Like => {
            let actor = fed.actor(core, actor_uri, false).await?;
            let post = local_or_known_post(fed, core, a.object_iri()).await?;
            fed_service::remote_like(core, actor.account_id, post, true).await?;
        }
        ActivityKind::Announce => {
            let actor = fed.actor(core, actor_uri, false).await?;
            let iri = a.object_iri().ok_or(AppError::NotFound)?;
            let post = match local_or_known_post(fed, core, Some(iri)).await {
                Ok(p) => p,
                // A repost of something we have not seen, by someone people here follow:
                // fetch it so the repost can show.
                Err(AppError::NotFound)
                    if fed_service::wanted_author(core, actor.account_id).await? =>
                {
                    let object = fetch_object(fed, core, iri).await?;
                    let author_uri = object.attributed_actor().ok_or(AppError::NotFound)?;
                    let author = fed.actor(core, author_uri, false).await?;
                    store_note(fed, core, &author, &object, false, true, 0)
                        .await?
                        .ok_or(AppError::NotFound)?
                }
                Err(e) => return Err(e),
            };
            // The repost is kept under the Announce's id, which must be its server's own.
            let id =
                a.id.clone()
                    .filter(|i| super::domain_of(i).as_deref() == Some(actor.domain.as_str()))
                    .ok_or_else(|| AppError::invalid("The Announce's id is on another server."))?;
            fed_service::remote_announce(core, actor.account_id, post, id, true).await?;
        }
        ActivityKind::Block => {
            let actor = fed.actor(core, actor_uri, false).await?;
            let object = a.object_iri().ok_or(AppError::NotFound)?;
            let name = fed.ids.local_name(object).ok_or(AppError::NotFound)?;
            crate::service::blocks::remote_block(core, actor.account_id, name.to_string(), true)
                .await?;
        }
        ActivityKind::Flag => {
            // Reports name the reported person and, often, some of their posts.
            let domain = super::domain_of(actor_uri).ok_or(AppError::NotFound)?;
            let mut target = None;
            let mut post = None;
            for iri in a.object_iris() {
                if let Some(name) = fed.ids.local_name(iri) {
                    target = fed_service::local_account(core, name.to_string()).await?;
                } else if let Some(p) = fed.ids.local_post(iri) {
                    post.get_or_insert(p);
                }
            }
            let target = match (target, post) {
                (Some(t), _) => t,
                (None, Some(p)) => {
                    let w = fed_service::wire_post(core, p)
                        .await?
                        .ok_or(AppError::NotFound)?;
                    w.post.author.id
                }
                (None, None) => return Err(AppError::NotFound),
            };
            let reason = a
                .content
                .as_deref()
                .map(super::html::to_text)
                .unwrap_or_default();
            let uri = a.id.clone().ok_or(AppError::NotFound)?;
            crate::service::reports::receive(core, domain, uri, target, post, reason).await?;
        }
        ActivityKind::Move => {
            // The old account (the signer) names the new one, which must say it is also
            // the old one; then people here who followed the old follow the new.
            let old = fed.actor(core, actor_uri, false).await?;
            if a.object_iri() != Some(actor_uri) {
                return Err(AppError::forbidden("Only an account can move itself."));
            }
            let target = a.target_iri().ok_or(AppError::NotFound)?;
            if target == actor_uri {
                return Err(AppError::invalid("An account cannot move to itself."));
            }
            let new = match fed.ids.local_name(target) {
                Some(name) => {
                    let id = fed_service::local_account(core, name.to_string())
                        .await?
                        .ok_or(AppError::NotFound)?;
                    let (_, aliases) = fed_service::migration(core, id).await?;
                    if !aliases.iter().any(|x| x == actor_uri) {
                        return Err(AppError::forbidden(
                            "The new account does not name the old.",
                        ));
                    }
                    id
                }
                None => {
                    let doc = fed
                        .fetch(core, target)
                        .await
                        .map_err(|_| AppError::NotFound)?;
                    if !also_known_as(&doc).iter().any(|x| x == actor_uri) {
                        return Err(AppError::forbidden(
                            "The new account does not name the old.",
                        ));
                    }
                    fed.actor(core, target, true).await?.account_id
                }
            };
            fed_service::remote_moved(core, old.account_id, new, target.to_string()).await?;
        }
        // The rest are acknowledged; weft has no features to map them to
        // yet, and an inbox must never fail on what it does not know.
        _ => {
            tracing::debug!("no action for a {} from {signer}", a.kind.as_str());
        }
    }
    Ok(())
}

async fn undo(fed: &Federation, core: &Core, a: &Activity, actor_uri: &str) -> AppResult<()> {
    let actor = fed.actor(core, actor_uri, false).await?;
    let Some(inner) = a.embedded_activity() else {
        // Only the inner id: an Announce we stored under its id can still be undone.
        if let Some(iri) = a.object_iri() {
            fed_service::delete_remote_post(core, actor.account_id, iri.to_string()).await?;
        }
        return Ok(());
    };
    if inner.actor_iri() != Some(actor_uri) {
        return Err(AppError::forbidden("Only the actor can undo its activity."));
    }
    match inner.kind {
        ActivityKind::Follow => {
            let object = inner.object_iri().ok_or(AppError::NotFound)?;
            let name = fed.ids.local_name(object).ok_or(AppError::NotFound)?;
            fed_service::remote_unfollow(core, actor.account_id, name.to_string()).await?;
        }
        ActivityKind::Like => {
            let post = local_or_known_post(fed, core, inner.object_iri()).await?;
            fed_service::remote_like(core, actor.account_id, post, false).await?;
        }
        ActivityKind::Block => {
            let object = inner.object_iri().ok_or(AppError::NotFound)?;
            let name = fed.ids.local_name(object).ok_or(AppError::NotFound)?;
            crate::service::blocks::remote_block(core, actor.account_id, name.to_string(), false)
                .await?;
        }
        ActivityKind::Announce => {
            if let Some(id) = &inner.id {
                fed_service::delete_remote_post(core, actor.account_id, id.clone()).await?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The local account whose Follow an Accept or Reject answers.
async fn follower_of_answer(
    fed: &Federation,
    core: &Core,
    a: &Activity,
) -> AppResult<Option<AccountId>> {
    if let Some(inner) = a.embedded_activity()
        && let Some(name) = inner.actor_iri().and_then(|u| fed.ids.local_name(u))
    {
        return fed_service::local_account(core, name.to_string()).await;
    }
    let Some(id) = a.object_iri() else {
        return Ok(None);
    };
    Ok(fed_service::follow_by_activity(core, id.to_string())
        .await?
        .map(|(follower, _)| follower))
}

/// A post named by an id: one of ours, or one we stored.
async fn local_or_known_post(
    fed: &Federation,
    core: &Core,
    iri: Option<&str>,
) -> AppResult<PostId> {
    let iri = iri.ok_or(AppError::NotFound)?;
    if let Some(id) = fed.ids.local_post(iri) {
        return Ok(id);
    }
    fed_service::post_by_uri(core, iri.to_string())
        .await?
        .ok_or(AppError::NotFound)
}

async fn fetch_object(fed: &Federation, core: &Core, iri: &str) -> AppResult<Object> {
    let doc = fed.fetch(core, iri).await.map_err(|e| {
        tracing::info!("fetching {iri}: {e}");
        AppError::NotFound
    })?;
    // `fetch` made sure the object is served at its own id.
    serde_json::from_value(doc).map_err(|_| AppError::NotFound)
}

fn parse_time(s: Option<&str>) -> i64 {
    s.and_then(|s| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
    })
    .map(|t| t.unix_timestamp())
    .unwrap_or_else(crate::domain::now_secs)
}

/// Stores a remote post-like object by `author` (checked to be its author). Answers its
/// local id, or None when nobody here would see it (no follower, mention or known parent)
/// unless `force` (a parent fetched for a thread, a post looked up by its URL).
fn store_note<'a>(
    fed: &'a Federation,
    core: &'a Core,
    author: &'a ActorRow,
    o: &'a Object,
    update: bool,
    force: bool,
    depth: usize,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = AppResult<Option<PostId>>> + Send + 'a>> {
    Box::pin(async move {
        if !matches!(
            o.kind,
            ObjectKind::Note | ObjectKind::Article | ObjectKind::Page | ObjectKind::Question
        ) {
            return Ok(None);
        }
        let id = o.id.clone().ok_or(AppError::NotFound)?;
        if o.attributed_actor() != Some(author.uri.as_str())
            || super::domain_of(&id).as_deref() != Some(author.domain.as_str())
        {
            return Err(AppError::forbidden(
                "A post can only come from its author's server.",
            ));
        }
        if update && fed_service::post_by_uri(core, id.clone()).await?.is_none() {
            return Ok(None);
        }
        let mut mentions = Vec::new();
        for href in o.mentions() {
            let local = fed.ids.local_name(href).map(str::to_string).or_else(|| {
                href.strip_prefix(fed.ids.base())
                    .and_then(|r| r.strip_prefix("/@"))
                    .map(str::to_string)
            });
            if let Some(name) = local
                && let Some(id) = fed_service::local_account(core, name).await?
                && !mentions.contains(&id)
            {
                mentions.push(id);
            }
        }
        let in_reply_to = match o.in_reply_to_iri() {
            None => None,
            Some(iri) => match local_or_known_post(fed, core, Some(iri)).await {
                Ok(p) => Some(p),
                Err(AppError::NotFound) if depth > 0 => {
                    // A reply to something we have not seen: fetch the parent (and so on up
                    // the thread, within `thread_fetch_depth`) so the thread shows whole.
                    fetch_parent(fed, core, iri, depth - 1)
                        .await
                        .unwrap_or_default()
                }
                Err(AppError::NotFound) => None,
                Err(e) => return Err(e),
            },
        };
        let quote = match o.quote_iri() {
            Some(q) => local_or_known_post(fed, core, Some(q)).await.ok(),
            None => None,
        };
        // Quoting one of our posts makes it of interest here, like a mention.
        let quotes_ours = o
            .quote_iri()
            .is_some_and(|q| fed.ids.local_post(q).is_some());
        let wanted = force
            || quotes_ours
            || update
            || !mentions.is_empty()
            || in_reply_to.is_some()
            || fed_service::wanted_author(core, author.account_id).await?;
        if !wanted {
            return Ok(None);
        }
        let raw = o
            .content
            .clone()
            .or_else(|| {
                o.content_map
                    .as_ref()
                    .and_then(|m| m.values().next().cloned())
            })
            .unwrap_or_default();
        let mut html = super::html::sanitize(&raw);
        if let Some(title) = o.name.as_deref().filter(|_| o.kind != ObjectKind::Note) {
            // Lemmy's and others' titled posts: the title leads.
            let title = super::html::sanitize(&format!(
                "<p><strong>{}</strong></p>",
                super::html::escaped(title)
            ));
            html = format!("{title}{html}");
        }
        // Photos and videos are fetched and processed like uploads (the [media] limits
        // hold); any that cannot be are linked to instead.
        let known = fed_service::post_by_uri(core, id.clone()).await?.is_some();
        let m = &core.config.media;
        let cap = m.image_bytes.max(m.video_bytes) as usize;
        let sensitive = o.sensitive.unwrap_or(false);
        let mut media = Vec::new();
        for att in o.attachment.iter().flatten() {
            let Some(href) = att.href() else { continue };
            let alt: String = att
                .description()
                .unwrap_or("")
                .chars()
                .take(m.alt_chars)
                .collect();
            if !known && media.len() < m.attachments_per_post {
                let fetched = match fed.client.get_bytes(href, cap).await {
                    Ok(bytes) => {
                        crate::service::media::store_fetched(
                            core,
                            author.account_id,
                            bytes,
                            alt.clone(),
                        )
                        .await
                    }
                    Err(e) => Err(AppError::invalid(e.to_string())),
                };
                match fetched {
                    Ok(mid) => {
                        media.push((mid, alt, sensitive));
                        continue;
                    }
                    Err(e) => tracing::info!("attachment {href} of {id}: {}", e.public_message().1),
                }
            }
            let label = if alt.is_empty() {
                "Attachment"
            } else {
                alt.as_str()
            };
            html.push_str(&super::html::sanitize(&format!(
                "<p><a href=\"{}\">{}</a></p>",
                super::html::escaped(href),
                super::html::escaped(label)
            )));
        }
        let text = super::html::to_text(&html);
        let visibility = match o.visibility(author.followers_uri.as_deref()) {
            super::protocol::Visibility::Public => Visibility::Public,
            // Unlisted is kept to followers here: never shown to more people than the
            // author meant, at the price of fewer.
            super::protocol::Visibility::Unlisted | super::protocol::Visibility::FollowersOnly => {
                Visibility::Followers
            }
            super::protocol::Visibility::Direct => Visibility::Mentioned,
        };
        // A silenced server's posts reach only the people here who follow its people.
        let visibility = if visibility == Visibility::Public
            && fed_service::domain_block(core, super::block_host(&author.uri).unwrap_or_default())
                .await?
                >= 1
        {
            Visibility::Followers
        } else {
            visibility
        };
        let tags = o
            .tag
            .iter()
            .flatten()
            .filter(|t| t.kind == super::protocol::TagKind::Hashtag)
            .filter_map(|t| t.name.as_deref())
            .map(crate::service::search::normalize_tag)
            .filter(|t| !t.is_empty())
            .take(20)
            .collect();
        let post = RemotePost {
            uri: id,
            url: o.url_href().map(str::to_string),
            author: author.account_id,
            html,
            text,
            content_warning: o
                .summary
                .as_deref()
                .map(super::html::to_text)
                .unwrap_or_default()
                .chars()
                .take(500)
                .collect(),
            visibility,
            in_reply_to,
            quote,
            mentions,
            tags,
            published: parse_time(o.published.as_deref()),
            media,
        };
        fed_service::receive_post(core, post).await.map(Some)
    })
}

async fn fetch_parent(
    fed: &Federation,
    core: &Core,
    iri: &str,
    depth: usize,
) -> AppResult<Option<PostId>> {
    let object = fetch_object(fed, core, iri).await?;
    // Only public parents are fetched: a private one would have been delivered.
    if !super::protocol::is_public(object.to.as_ref())
        && !super::protocol::is_public(object.cc.as_ref())
    {
        return Ok(None);
    }
    let author_uri = object.attributed_actor().ok_or(AppError::NotFound)?;
    let author = fed.actor(core, author_uri, false).await?;
    store_note_public(fed, core, &author, &object, depth).await
}

/// Stores a fetched public post whether or not anyone here follows its author (it is part
/// of a thread someone here is reading).
async fn store_note_public(
    fed: &Federation,
    core: &Core,
    author: &ActorRow,
    o: &Object,
    depth: usize,
) -> AppResult<Option<PostId>> {
    if let Some(id) = o.id.as_deref()
        && let Some(p) = fed_service::post_by_uri(core, id.to_string()).await?
    {
        return Ok(Some(p));
    }
    store_note(fed, core, author, o, false, true, depth).await
}

// ---------------------------------------------------------------------------------------
// Lookups from search

/// `@name@host`, or the URL of an actor or post elsewhere. Also answers a person seen for
/// the first time, whose recent posts the caller may fetch (`backfill`) in the background.
pub async fn resolve(
    fed: &Federation,
    core: &Core,
    query: &str,
) -> AppResult<(Option<Resolved>, Option<ActorRow>)> {
    let new_person = |a: &ActorRow, known: bool| (!known).then(|| a.clone());
    let q = query.trim();
    if q.starts_with("https://") || q.starts_with("http://") {
        let doc = match fed.fetch(core, q).await {
            Ok(d) => d,
            Err(_) => return Ok((None, None)),
        };
        let kind = doc.get("type").and_then(|t| t.as_str()).unwrap_or("");
        let id = doc
            .get("id")
            .and_then(|i| i.as_str())
            .unwrap_or(q)
            .to_string();
        if matches!(
            ActorKind::from(kind),
            ActorKind::Person
                | ActorKind::Service
                | ActorKind::Application
                | ActorKind::Group
                | ActorKind::Organization
        ) {
            let known = fed_service::actor_by_uri(core, id.clone()).await?.is_some();
            let a = fed.actor(core, &id, true).await?;
            let fill = new_person(&a, known);
            return Ok((Some(Resolved::Account(a.username)), fill));
        }
        let object: Object = match serde_json::from_value(doc) {
            Ok(o) => o,
            Err(_) => return Ok((None, None)),
        };
        let Some(author_uri) = object.attributed_actor() else {
            return Ok((None, None));
        };
        let author = fed.actor(core, author_uri, false).await?;
        let public = super::protocol::is_public(object.to.as_ref())
            || super::protocol::is_public(object.cc.as_ref());
        if !public {
            return Ok((None, None));
        }
        let depth = fed.config().thread_fetch_depth;
        let found = store_note_public(fed, core, &author, &object, depth)
            .await?
            .map(|id| Resolved::Post(author.username.clone(), id));
        return Ok((found, None));
    }
    let handle = q.trim_start_matches('@');
    let Some((name, host)) = handle.split_once('@') else {
        return Ok((None, None));
    };
    if name.is_empty() || host.is_empty() || host.contains(['/', '@', ' ']) {
        return Ok((None, None));
    }
    if host.eq_ignore_ascii_case(fed.ids.host()) {
        return Ok((Some(Resolved::Account(name.to_ascii_lowercase())), None));
    }
    // Development setups federate over plain http on loopback; everything else is https.
    let scheme = if fed.config().allow_private_addresses {
        "http"
    } else {
        "https"
    };
    let url = format!("{scheme}://{host}/.well-known/webfinger?resource=acct:{name}@{host}");
    let jrd = match fed
        .client
        .get_json(&url, "application/jrd+json, application/json", None)
        .await
    {
        Ok((_, j)) => j,
        Err(e) => {
            tracing::info!("webfinger {handle}: {e}");
            return Ok((None, None));
        }
    };
    let href = jrd
        .get("links")
        .and_then(|l| l.as_array())
        .into_iter()
        .flatten()
        .find(|l| {
            l.get("rel").and_then(|r| r.as_str()) == Some("self")
                && l.get("type")
                    .and_then(|t| t.as_str())
                    .is_some_and(|t| t.contains("activity+json") || t.contains("ld+json"))
        })
        .and_then(|l| l.get("href"))
        .and_then(|h| h.as_str())
        .map(str::to_string);
    let Some(href) = href else {
        return Ok((None, None));
    };
    let known = fed_service::actor_by_uri(core, href.clone())
        .await?
        .is_some();
    let a = fed.actor(core, &href, true).await?;
    let fill = new_person(&a, known);
    Ok((Some(Resolved::Account(a.username)), fill))
}

/// A person looked up for the first time shows their recent public posts: the first page of
/// their outbox is read (bounded; any failure just leaves the profile as it is).
pub async fn backfill(fed: &Federation, core: &Core, a: &ActorRow) {
    const MAX: usize = 20;
    let Ok(doc) = fed.fetch(core, &a.uri).await else {
        return;
    };
    let Some(outbox) = doc.get("outbox").and_then(|o| o.as_str()) else {
        return;
    };
    if super::domain_of(outbox).as_deref() != Some(a.domain.as_str()) {
        return;
    }
    let Ok(doc) = fed.fetch(core, outbox).await else {
        return;
    };
    let Ok(collection) = serde_json::from_value::<super::protocol::Collection>(doc) else {
        return;
    };
    let page = match collection.first {
        Some(super::protocol::Reference::Object(page)) => *page,
        Some(first) => {
            let Some(iri) = first
                .iri()
                .filter(|i| super::domain_of(i) == super::domain_of(outbox))
            else {
                return;
            };
            match fed.fetch(core, iri).await.map(serde_json::from_value) {
                Ok(Ok(page)) => page,
                _ => return,
            }
        }
        None => collection,
    };
    let items = page
        .ordered_items
        .or(page.items)
        .map(|i| i.into_vec())
        .unwrap_or_default();
    for item in items.into_iter().take(MAX) {
        // Mastodon lists Create activities with the note inside; others list notes.
        let object = match item.get("type").and_then(|t| t.as_str()) {
            Some("Create") => item.get("object").cloned(),
            _ => Some(item),
        };
        let Some(Ok(o)) = object.map(serde_json::from_value::<Object>) else {
            continue;
        };
        if super::protocol::is_public(o.to.as_ref()) && o.attributed_actor() == Some(a.uri.as_str())
        {
            let _ = store_note(fed, core, a, &o, false, true, 0).await;
        }
    }
}

/// A remote person (handle or URL) with their `alsoKnownAs`, fetched afresh.
pub async fn lookup_aliases(
    fed: &Federation,
    core: &Core,
    query: &str,
) -> AppResult<Option<fed_service::Aliased>> {
    let (found, _) = resolve(fed, core, query).await?;
    let Some(Resolved::Account(name)) = found else {
        return Ok(None);
    };
    let account = crate::service::accounts::find_by_username(core, &name).await?;
    let Some(actor) = fed_service::actor(core, account.id).await? else {
        return Ok(None);
    };
    let doc = fed.fetch(core, &actor.uri).await.map_err(|e| {
        tracing::info!("fetching {}: {e}", actor.uri);
        AppError::NotFound
    })?;
    Ok(Some((account.id, actor.uri, also_known_as(&doc))))
}

fn also_known_as(doc: &serde_json::Value) -> Vec<String> {
    match doc.get("alsoKnownAs") {
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}
