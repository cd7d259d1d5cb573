//! Local events as activities for other servers, and their delivery. `publish` decides who
//! hears of an event (one delivery per shared inbox), `deliver` signs and sends one; the
//! job queue retries failures with backoff for `federation.delivery_hours` and a server
//! that has failed for `unavailable_after_hours` is skipped until it is heard from again.

use serde_json::{Value, json};

use super::Federation;
use super::client::FetchError;
use super::render::{self, PUBLIC};
use crate::domain::{AccountId, PostId, Visibility};
use crate::error::{AppError, AppResult};
use crate::jobs::Failure;
use crate::service::Core;
use crate::service::federation::{self as fed_service, Delivery, Outbound};

fn retry(e: AppError) -> Failure {
    Failure::retry(format!("{e:#}"))
}

async fn username(core: &Core, id: i64) -> AppResult<String> {
    Ok(crate::service::accounts::find_by_id(core, AccountId(id))
        .await?
        .username)
}

async fn inbox_of(core: &Core, id: i64) -> AppResult<Option<String>> {
    Ok(fed_service::actor(core, AccountId(id))
        .await?
        .map(|a| a.inbox))
}

async fn remote_uri(core: &Core, id: i64) -> AppResult<Option<String>> {
    Ok(fed_service::actor(core, AccountId(id))
        .await?
        .map(|a| a.uri))
}

fn one(inbox: String, activity: &Value, signer: i64) -> Vec<Delivery> {
    vec![Delivery {
        inbox,
        activity: activity.to_string(),
        signer,
    }]
}

fn to_all(inboxes: Vec<String>, activity: &Value, signer: i64) -> Vec<Delivery> {
    let body = activity.to_string();
    let mut inboxes = inboxes;
    inboxes.sort();
    inboxes.dedup();
    inboxes
        .into_iter()
        .map(|inbox| Delivery {
            inbox,
            activity: body.clone(),
            signer,
        })
        .collect()
}

/// Where a post goes: the author's remote followers (unless it is for mentioned people
/// only) and every remote person it addresses.
async fn post_inboxes(core: &Core, w: &fed_service::WirePost) -> AppResult<Vec<String>> {
    let mut inboxes = Vec::new();
    if w.post.visibility != Visibility::Mentioned {
        inboxes = fed_service::follower_inboxes(core, w.post.author.id).await?;
    }
    for a in fed_service::remote_mentions(core, w.post.id).await? {
        inboxes.push(a.shared_inbox.unwrap_or(a.inbox));
    }
    // The author of a quoted post hears of a public quote (as Mastodon tells them); a
    // followers-only or direct post goes to nobody it does not address.
    if let Some(q) = &w.quote
        && w.post.visibility == Visibility::Public
        && q.remote_uri.is_some()
        && let Some(post) = fed_service::wire_post(core, q.id).await?
        && let Some(a) = fed_service::actor(core, post.post.author.id).await?
    {
        inboxes.push(a.shared_inbox.unwrap_or(a.inbox));
    }
    Ok(inboxes)
}

pub async fn publish(
    fed: &Federation,
    core: &Core,
    event: Outbound,
) -> Result<Vec<Delivery>, Failure> {
    build(fed, core, event).await.map_err(retry)
}

async fn build(fed: &Federation, core: &Core, event: Outbound) -> AppResult<Vec<Delivery>> {
    let ids = &fed.ids;
    match event {
        Outbound::PostCreated { post } => post_activity(fed, core, PostId(post), false).await,
        Outbound::PostUpdated { post } => post_activity(fed, core, PostId(post), true).await,
        Outbound::PostDeleted {
            post,
            author,
            inboxes,
        } => {
            if inboxes.is_empty() {
                return Ok(Vec::new());
            }
            let name = username(core, author).await?;
            let note_id = ids.note(&name, PostId(post));
            let activity = render::activity(
                &format!("{note_id}#delete"),
                "Delete",
                &ids.actor(&name),
                json!({"id": note_id, "type": "Tombstone"}),
                &[PUBLIC.to_string()],
                &[],
            );
            Ok(to_all(inboxes, &activity, author))
        }
        Outbound::Follow {
            follower,
            followee,
            activity,
        } => follow(fed, core, follower, followee, &activity, false).await,
        Outbound::Unfollow {
            follower,
            followee,
            activity,
        } => follow(fed, core, follower, followee, &activity, true).await,
        Outbound::AcceptFollow {
            follower,
            followee,
            activity,
        } => answer_follow(fed, core, "Accept", follower, followee, &activity).await,
        Outbound::RejectFollow {
            follower,
            followee,
            activity,
        } => answer_follow(fed, core, "Reject", follower, followee, &activity).await,
        Outbound::Like { account, post, on } => {
            let Some((author_id, target)) = fed_service::post_ref(core, PostId(post)).await? else {
                return Ok(Vec::new());
            };
            let (Some(author), Some(object)) = (
                fed_service::actor(core, author_id).await?,
                target.remote_uri,
            ) else {
                return Ok(Vec::new());
            };
            let me = ids.actor(&username(core, account).await?);
            // Each Like (and Undo) gets an id of its own: peers remember ids they have seen,
            // and a like taken back and given again must not look like a repeat.
            let like_id = format!("{me}#likes/{post}/{}", core.next_id());
            let like = json!({"id": like_id, "type": "Like", "actor": me, "object": object});
            let doc = if on {
                let mut l = like;
                l["@context"] = render::context();
                l
            } else {
                render::activity(
                    &format!("{like_id}/undo"),
                    "Undo",
                    &me,
                    like,
                    std::slice::from_ref(&author.uri),
                    &[],
                )
            };
            Ok(one(
                author.shared_inbox.unwrap_or(author.inbox),
                &doc,
                account,
            ))
        }
        Outbound::Announce {
            account,
            post,
            repost,
            on,
        } => {
            let Some((author_id, target)) = fed_service::post_ref(core, PostId(post)).await? else {
                return Ok(Vec::new());
            };
            let object = ids.reference(&target);
            let name = username(core, account).await?;
            let me = ids.actor(&name);
            let mut inboxes = fed_service::follower_inboxes(core, AccountId(account)).await?;
            let author = fed_service::actor(core, author_id).await?;
            if let Some(a) = &author {
                inboxes.push(a.shared_inbox.clone().unwrap_or(a.inbox.clone()));
            }
            if inboxes.is_empty() {
                return Ok(Vec::new());
            }
            let announce_id = format!("{}/activity", ids.note(&name, PostId(repost)));
            let mut cc = vec![ids.followers(&name)];
            if let Some(a) = &author {
                cc.push(a.uri.clone());
            }
            let announce = render::activity(
                &announce_id,
                "Announce",
                &me,
                Value::String(object),
                &[PUBLIC.to_string()],
                &cc,
            );
            let doc = if on {
                announce
            } else {
                let mut inner = announce;
                strip_context(&mut inner);
                render::activity(
                    &format!("{announce_id}#undo"),
                    "Undo",
                    &me,
                    inner,
                    &[PUBLIC.to_string()],
                    &cc,
                )
            };
            Ok(to_all(inboxes, &doc, account))
        }
        Outbound::Report { report } => {
            let Some((target, post, reason)) =
                crate::service::reports::for_flag(core, report).await?
            else {
                return Ok(Vec::new());
            };
            let Some(actor) = fed_service::actor(core, target).await? else {
                return Ok(Vec::new());
            };
            let mut objects = vec![Value::String(actor.uri.clone())];
            if let Some(p) = post
                && let Some((Some(uri), _)) = fed_service::post_uri(core, p).await?
            {
                objects.push(Value::String(uri));
            }
            // Sent by the instance, not the person, so the reporter stays unknown there.
            let me = ids.instance_actor();
            let doc = json!({
                "@context": render::context(),
                "id": format!("{}/reports/{report}", ids.base()),
                "type": "Flag",
                "actor": me,
                "content": reason,
                "object": objects,
            });
            Ok(one(actor.shared_inbox.unwrap_or(actor.inbox), &doc, 0))
        }
        Outbound::Block {
            blocker,
            blocked,
            on,
            activity,
        } => {
            let Some(target) = fed_service::actor(core, AccountId(blocked)).await? else {
                return Ok(Vec::new());
            };
            let me = ids.actor(&username(core, blocker).await?);
            let block_id = activity;
            let block = json!({"id": block_id, "type": "Block", "actor": me, "object": target.uri});
            let doc = if on {
                let mut b = block;
                b["@context"] = render::context();
                b
            } else {
                render::activity(
                    &format!("{block_id}/undo"),
                    "Undo",
                    &me,
                    block,
                    std::slice::from_ref(&target.uri),
                    &[],
                )
            };
            Ok(one(target.inbox, &doc, blocker))
        }
        Outbound::AccountDeleted { account, inboxes } => {
            if inboxes.is_empty() {
                return Ok(Vec::new());
            }
            let name = username(core, account).await?;
            let me = ids.actor(&name);
            let doc = render::activity(
                &format!("{me}#delete"),
                "Delete",
                &me,
                Value::String(me.clone()),
                &[PUBLIC.to_string()],
                &[],
            );
            Ok(to_all(inboxes, &doc, account))
        }
        Outbound::Move { account, target } => {
            let inboxes = fed_service::follower_inboxes(core, AccountId(account)).await?;
            if inboxes.is_empty() {
                return Ok(Vec::new());
            }
            let name = username(core, account).await?;
            let me = ids.actor(&name);
            let mut doc = render::activity(
                &format!("{me}#moves/{}", core.next_id()),
                "Move",
                &me,
                Value::String(me.clone()),
                &[ids.followers(&name)],
                &[],
            );
            doc["target"] = Value::String(target);
            Ok(to_all(inboxes, &doc, account))
        }
        Outbound::ProfileUpdated { account } => {
            let inboxes = fed_service::follower_inboxes(core, AccountId(account)).await?;
            if inboxes.is_empty() {
                return Ok(Vec::new());
            }
            let a = crate::service::accounts::find_by_id(core, AccountId(account)).await?;
            let (_, public) = fed.account_keys(core, a.id).await?;
            let bio = super::html::from_text(&a.bio, &|_, _| None, &|t| ids.tag(t));
            let discoverable = !fed_service::opted_out_of_search(core, a.id).await?;
            let migration = fed_service::migration(core, a.id).await?;
            let mut actor = render::actor(ids, &a, &public, &bio, discoverable, &migration);
            strip_context(&mut actor);
            let me = ids.actor(&a.username);
            let doc = render::activity(
                &format!("{me}#updates/{}", crate::domain::now_secs()),
                "Update",
                &me,
                actor,
                &[PUBLIC.to_string()],
                &[ids.followers(&a.username)],
            );
            Ok(to_all(inboxes, &doc, account))
        }
    }
}

/// Create (or Update) of a local post, to everyone it concerns.
async fn post_activity(
    fed: &Federation,
    core: &Core,
    post: PostId,
    update: bool,
) -> AppResult<Vec<Delivery>> {
    let ids = &fed.ids;
    let Some(w) = fed_service::wire_post(core, post).await? else {
        return Ok(Vec::new());
    };
    if w.remote || w.post.deleted {
        return Ok(Vec::new());
    }
    // `@name@host` written for someone this server had not met: looked up now, so the post
    // reaches them and mentions them properly (a handful at most per post).
    // Only handles of nobody known here: someone known but left out (a block) stays out.
    let mut unknown =
        fed_service::unknown_handles(core, crate::domain::text::remote_mentions(&w.post.body))
            .await?;
    unknown.truncate(5);
    let mut found = Vec::new();
    for h in unknown {
        if let Ok((Some(fed_service::Resolved::Account(name)), _)) =
            super::receive::resolve(fed, core, &format!("@{h}")).await
            && let Ok(a) = crate::service::accounts::find_by_username(core, &name).await
        {
            found.push(a.id);
        }
    }
    let w = if !found.is_empty() && fed_service::add_mentions(core, post, found).await? {
        match fed_service::wire_post(core, post).await? {
            Some(w) => w,
            None => return Ok(Vec::new()),
        }
    } else {
        w
    };
    let inboxes = post_inboxes(core, &w).await?;
    if inboxes.is_empty() {
        return Ok(Vec::new());
    }
    let note = render::note(ids, &w);
    let (to, cc) = render::addressing(ids, &w);
    let author = &w.post.author.username;
    let note_id = ids.note(author, w.post.id);
    let mut activity = if update {
        let at = w.post.edited_at.unwrap_or_else(crate::domain::now_secs);
        let mut a = render::activity(
            &format!("{note_id}#updates/{at}"),
            "Update",
            &ids.actor(author),
            note,
            &to,
            &cc,
        );
        a["published"] = json!(render::rfc3339(at));
        a
    } else {
        render::activity(
            &format!("{note_id}/activity"),
            "Create",
            &ids.actor(author),
            note,
            &to,
            &cc,
        )
    };
    if !update {
        activity["published"] = json!(render::rfc3339(w.post.created_at));
    }
    Ok(to_all(inboxes, &activity, w.post.author.id.0))
}

/// A Follow of a remote person, or its Undo.
async fn follow(
    fed: &Federation,
    core: &Core,
    follower: i64,
    followee: i64,
    activity: &str,
    undo: bool,
) -> AppResult<Vec<Delivery>> {
    let (Some(inbox), Some(target)) = (
        inbox_of(core, followee).await?,
        remote_uri(core, followee).await?,
    ) else {
        return Ok(Vec::new());
    };
    let me = fed.ids.actor(&username(core, follower).await?);
    let mut doc = follow_doc(activity, &me, &target);
    if undo {
        strip_context(&mut doc);
        doc = render::activity(
            &format!("{activity}#undo"),
            "Undo",
            &me,
            doc,
            &[target],
            &[],
        );
    }
    Ok(one(inbox, &doc, follower))
}

fn follow_doc(id: &str, actor: &str, object: &str) -> Value {
    json!({
        "@context": render::context(),
        "id": id,
        "type": "Follow",
        "actor": actor,
        "object": object,
    })
}

fn strip_context(v: &mut Value) {
    if let Some(o) = v.as_object_mut() {
        o.remove("@context");
    }
}

async fn answer_follow(
    fed: &Federation,
    core: &Core,
    kind: &str,
    follower: i64,
    followee: i64,
    activity: &str,
) -> AppResult<Vec<Delivery>> {
    let Some(remote) = fed_service::actor(core, AccountId(follower)).await? else {
        return Ok(Vec::new());
    };
    let me = fed.ids.actor(&username(core, followee).await?);
    let mut follow = follow_doc(activity, &remote.uri, &me);
    strip_context(&mut follow);
    let doc = render::activity(
        &format!("{me}#{}s/{}", kind.to_ascii_lowercase(), core.next_id()),
        kind,
        &me,
        follow,
        std::slice::from_ref(&remote.uri),
        &[],
    );
    Ok(one(remote.inbox, &doc, followee))
}

/// Signs and sends one activity. A peer that has failed every delivery for
/// `unavailable_after_hours` is not tried (the delivery is dropped) until it is heard from.
pub async fn deliver(
    fed: &Federation,
    core: &Core,
    inbox: &str,
    activity: String,
    signer: i64,
) -> Result<(), Failure> {
    let domain = super::domain_of(inbox)
        .ok_or_else(|| Failure::permanent(format!("not an inbox address: {inbox}")))?;
    let unavailable_after = fed.config().unavailable_after_hours as i64 * 3600;
    if fed_service::is_unavailable(core, domain.clone(), unavailable_after)
        .await
        .map_err(retry)?
    {
        return Err(Failure::permanent(format!(
            "{domain} has failed every delivery for {} hours; skipped until it is heard from",
            fed.config().unavailable_after_hours
        )));
    }
    let host = super::block_host(inbox)
        .ok_or_else(|| Failure::permanent(format!("not an inbox address: {inbox}")))?;
    if fed_service::domain_block(core, host).await.map_err(retry)? >= 2 {
        return Err(Failure::permanent(format!("{domain} is suspended here")));
    }
    let key = fed.signer(core, signer).await.map_err(retry)?;
    let sign = super::signing(key);
    let result = fed
        .client
        .post_activity(inbox, activity.into_bytes(), &sign)
        .await;
    let ok = result.is_ok();
    if let Err(e) = fed_service::record_delivery(core, domain, ok).await {
        tracing::warn!("recording a delivery: {e:#}");
    }
    match result {
        Ok(()) => Ok(()),
        Err(e @ FetchError::Refused(_)) => Err(Failure::permanent(e.to_string())),
        Err(e) if e.retryable() => Err(Failure::retry(format!("{inbox}: {e}"))),
        // A 4xx will not change by trying again (Mastodon gives up on them too).
        Err(e) => Err(Failure::permanent(format!("{inbox}: {e}"))),
    }
}
