//! Federation's use cases, without the protocol: remote people and posts written through the
//! same tables and rules as local ones, the events local writes queue for other servers, and
//! the seam (`Federator`) through which the ActivityPub adapter turns those events into
//! deliveries. The adapter (`crate::federation`) parses and verifies; this file decides.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::Core;
use super::tasks::{Task, enqueue};
use crate::domain::{AccountId, IdGen, PostId, ReplyPolicy, Visibility, now_secs};
use crate::error::{AppError, AppResult};
use crate::jobs::Failure;
use crate::store::federation as fed;
pub use crate::store::federation::{ActorRow, InstanceRow};
use crate::store::models::{AccountStatus, NotificationKind};
use crate::store::{accounts, follows, posts};

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Something a local person did that other servers must hear of. Queued (as a job) in the
/// transaction of the change itself, so a crash between the two cannot lose it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Outbound {
    PostCreated {
        post: i64,
    },
    PostUpdated {
        post: i64,
    },
    PostDeleted {
        post: i64,
        author: i64,
        /// Who could see it, gathered before the delete (mentions are kept, but the
        /// followers may change before the job runs).
        inboxes: Vec<String>,
    },
    Follow {
        follower: i64,
        followee: i64,
        activity: String,
    },
    Unfollow {
        follower: i64,
        followee: i64,
        activity: String,
    },
    AcceptFollow {
        follower: i64,
        followee: i64,
        activity: String,
    },
    RejectFollow {
        follower: i64,
        followee: i64,
        activity: String,
    },
    Like {
        account: i64,
        post: i64,
        on: bool,
    },
    Announce {
        account: i64,
        post: i64,
        repost: i64,
        on: bool,
    },
    ProfileUpdated {
        account: i64,
    },
    /// A report about someone elsewhere, sent on to their server.
    Report {
        report: i64,
    },
    /// A local account blocked (or unblocked) someone elsewhere; `activity` is the Block's
    /// id (the Undo names the Block it takes back).
    Block {
        blocker: i64,
        blocked: i64,
        on: bool,
        activity: String,
    },
    /// A local account was deleted: the servers that knew it are told (gathered before its
    /// follows went).
    AccountDeleted {
        account: i64,
        inboxes: Vec<String>,
    },
    /// A local account moved to `target` (an actor id): its followers elsewhere are told.
    Move {
        account: i64,
        target: String,
    },
}

/// The ActivityPub adapter, as the job handler and the search page see it.
pub trait Federator: Send + Sync + 'static {
    /// Turns an event into deliveries (the job handler queues them).
    fn publish(&self, core: Core, event: Outbound) -> BoxFuture<Result<Vec<Delivery>, Failure>>;
    /// Sends one signed activity to one inbox.
    fn deliver(
        &self,
        core: Core,
        inbox: String,
        activity: String,
        signer: i64,
    ) -> BoxFuture<Result<(), Failure>>;
    /// Acts on an activity that was verified and stored by the inbox.
    fn receive(
        &self,
        core: Core,
        activity: String,
        signer: String,
    ) -> BoxFuture<Result<(), Failure>>;
    /// `@name@host`, or the URL of a person or a post on another server: fetches it and
    /// answers where it now lives here.
    fn resolve(&self, core: Core, query: String) -> BoxFuture<AppResult<Option<Resolved>>>;
    /// A remote person (by handle or URL) fetched afresh: their account here, actor id and
    /// the ids they say they also are (`alsoKnownAs`), for account moves.
    fn lookup_aliases(&self, core: Core, query: String) -> BoxFuture<AppResult<Option<Aliased>>>;
    /// The actor id of a local account.
    fn local_actor_id(&self, username: &str) -> String;
}

/// A remote person's account here, actor id and `alsoKnownAs`.
pub type Aliased = (AccountId, String, Vec<String>);

/// One activity for one inbox, signed with `signer`'s key when sent.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub inbox: String,
    pub activity: String,
    pub signer: i64,
}

/// What a remote lookup found, as a local path to show.
#[derive(Debug, Clone)]
pub enum Resolved {
    Account(String),
    Post(String, PostId),
}

/// Where the adapter is plugged in (set once at start when federation is on).
#[derive(Clone, Default)]
pub struct Plug(Arc<OnceLock<Arc<dyn Federator>>>);

impl Plug {
    pub fn set(&self, f: Arc<dyn Federator>) {
        let _ = self.0.set(f);
    }
    pub fn get(&self) -> Option<Arc<dyn Federator>> {
        self.0.get().cloned()
    }
}

/// Queues `event` inside the caller's transaction when federation is on.
pub(crate) fn publish_in_tx(
    c: &Connection,
    ids: &IdGen,
    enabled: bool,
    event: Outbound,
) -> AppResult<()> {
    if enabled {
        enqueue(c, ids, &Task::Publish { event })?;
    }
    Ok(())
}

/// A new id for an activity of ours (Follow, Like…) that others will refer back to.
pub fn activity_id(core: &Core, what: &str) -> String {
    core.urls
        .absolute(&format!("/activities/{what}/{}", core.next_id()))
}

// ---------------------------------------------------------------------------------------
// Remote actors

/// A remote actor as parsed (and its HTML sanitised) by the adapter.
#[derive(Debug, Clone)]
pub struct RemoteActor {
    pub uri: String,
    /// `name@host`: the handle people see and mention.
    pub handle: String,
    pub domain: String,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    pub followers_uri: Option<String>,
    pub url: Option<String>,
    pub key_id: String,
    pub public_key: String,
    pub kind: String,
    pub display_name: String,
    pub bio: String,
    pub fields: Vec<(String, String)>,
    pub locked: bool,
    /// Addresses of their avatar and header pictures.
    pub icon_url: Option<String>,
    pub image_url: Option<String>,
    /// When the account was made on its server (Unix seconds), if it says.
    pub published: Option<i64>,
}

/// Creates or refreshes the local row of a remote actor; answers its account id.
pub async fn upsert_actor(core: &Core, a: RemoteActor) -> AppResult<AccountId> {
    let ids = core.ids.clone();
    core.db
        .write(move |c| upsert_actor_in_tx(c, &ids, &a))
        .await
}

fn upsert_actor_in_tx(c: &Connection, ids: &IdGen, a: &RemoteActor) -> AppResult<AccountId> {
    let now = now_secs();
    let row = fed::NewActor {
        uri: &a.uri,
        domain: &a.domain,
        inbox: &a.inbox,
        shared_inbox: a.shared_inbox.as_deref(),
        followers_uri: a.followers_uri.as_deref(),
        url: a.url.as_deref(),
        key_id: &a.key_id,
        public_key: &a.public_key,
        kind: &a.kind,
        fetched_at: now,
    };
    let fields = serde_json::to_string(&a.fields).map_err(anyhow::Error::from)?;
    let profile = fed::ActorProfile {
        display_name: &a.display_name,
        bio: &a.bio,
        fields: &fields,
        locked: a.locked,
    };
    let id = match fed::find_actor_by_uri(c, &a.uri)? {
        Some(existing) => existing.account_id,
        None => {
            // The handle is the unique username; a server that reuses one for a new actor
            // (an account deleted and made again) gets the row under the new id.
            if let Some(old) = accounts::find_by_username(c, &a.handle)? {
                if fed::is_remote(c, old.id)? {
                    c.execute(
                        "UPDATE accounts SET username = username || '#' || id WHERE id = ?1",
                        [old.id.0],
                    )?;
                } else {
                    return Err(AppError::invalid("That handle belongs to a local account."));
                }
            }
            let id = AccountId(ids.next());
            accounts::insert(
                c,
                &accounts::NewAccount {
                    id,
                    username: &a.handle,
                    email: None,
                    // No password: nobody can log in as a remote person.
                    password_hash: "",
                    role: crate::domain::Role::User,
                    status: AccountStatus::Active,
                    signup_reason: "",
                    created_at: a.published.filter(|t| *t <= now).unwrap_or(now),
                },
            )?;
            id
        }
    };
    fed::save_actor(c, id, &row)?;
    fed::update_profile(c, id, &profile)?;
    fed::set_bot(c, id, matches!(a.kind.as_str(), "Service" | "Application"))?;
    super::search::queue_people(c, ids, &[id])?;
    Ok(id)
}

pub async fn actor_by_uri(core: &Core, uri: String) -> AppResult<Option<ActorRow>> {
    core.db
        .read(move |c| Ok(fed::find_actor_by_uri(c, &uri)?))
        .await
}

pub async fn actor_by_key_id(core: &Core, key: String) -> AppResult<Option<ActorRow>> {
    core.db
        .read(move |c| Ok(fed::find_actor_by_key_id(c, &key)?))
        .await
}

pub async fn actor(core: &Core, id: AccountId) -> AppResult<Option<ActorRow>> {
    core.db.read(move |c| Ok(fed::find_actor(c, id)?)).await
}

pub async fn is_remote(core: &Core, id: AccountId) -> AppResult<bool> {
    core.db.read(move |c| Ok(fed::is_remote(c, id)?)).await
}

/// Runs key generation (tens of milliseconds of RSA) on the blocking pool.
async fn make_off_executor(
    make: fn() -> anyhow::Result<(String, String)>,
) -> AppResult<(String, String)> {
    tokio::task::spawn_blocking(make)
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(AppError::Internal)
}

/// A local account's signing key pair (private PEM, public PEM), made on first use.
/// `make` runs on the blocking pool (RSA key generation takes tens of milliseconds).
pub async fn account_key(
    core: &Core,
    id: AccountId,
    make: fn() -> anyhow::Result<(String, String)>,
) -> AppResult<(String, String)> {
    if let Some(k) = core.db.read(move |c| Ok(fed::account_key(c, id)?)).await? {
        return Ok(k);
    }
    let (private, public) = make_off_executor(make).await?;
    core.db
        .write(move |c| {
            fed::insert_account_key(c, id, &private, &public, now_secs())?;
            // Whoever stored first wins; everyone uses that one.
            fed::account_key(c, id)?.ok_or(AppError::NotFound)
        })
        .await
}

/// Local usage for NodeInfo: (accounts, posts).
pub async fn usage(core: &Core) -> AppResult<(i64, i64)> {
    core.db.read(|c| Ok(fed::local_usage(c)?)).await
}

/// A domain's block level (0 none, 1 silence, 2 suspend).
/// A host's block level (0 none, 1 silence, 2 suspend): the strongest of the blocks on it
/// and on every domain above it (blocking `evil.example` covers `a.evil.example`). `host`
/// comes without port or trailing dot.
pub async fn domain_block(core: &Core, host: String) -> AppResult<i64> {
    core.db
        .read(move |c| {
            let mut level = 0;
            let mut rest = host.as_str();
            loop {
                level = level.max(fed::domain_block(c, rest)?);
                match rest.split_once('.') {
                    Some((_, parent)) if !parent.is_empty() => rest = parent,
                    _ => break,
                }
            }
            Ok(level)
        })
        .await
}

pub async fn set_domain_block(core: &Core, domain: String, level: i64) -> AppResult<()> {
    // What people paste: a bare domain, a URL, or a handle's host with its port.
    let d = domain.trim().to_ascii_lowercase();
    let d = d
        .strip_prefix("https://")
        .or_else(|| d.strip_prefix("http://"))
        .unwrap_or(&d)
        .split('/')
        .next()
        .unwrap_or("");
    let domain = d
        .rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or(d, |(h, _)| h)
        .trim_end_matches('.')
        .to_string();
    if domain.is_empty() || domain.contains(['/', '@']) || domain.contains(char::is_whitespace) {
        return Err(AppError::invalid(
            "Give a domain name such as example.org, without https:// or a path.",
        ));
    }
    core.db
        .write(move |c| Ok(fed::set_domain_block(c, &domain, level.clamp(0, 2))?))
        .await
}

pub async fn instances(core: &Core) -> AppResult<Vec<InstanceRow>> {
    core.db.read(|c| Ok(fed::list_instances(c, 200)?)).await
}

/// Records how a delivery to `domain` went.
pub async fn record_delivery(core: &Core, domain: String, ok: bool) -> AppResult<()> {
    core.db
        .write(move |c| Ok(fed::record_delivery(c, &domain, ok, now_secs())?))
        .await
}

pub async fn is_unavailable(
    core: &Core,
    domain: String,
    unavailable_after: i64,
) -> AppResult<bool> {
    core.db
        .read(move |c| {
            Ok(fed::failing_since(c, &domain)?.is_some_and(|t| now_secs() - t > unavailable_after))
        })
        .await
}

// ---------------------------------------------------------------------------------------
// Inbox

/// Stores a verified activity for the workers, unless its id was seen before; answers
/// whether it was new. The 202 goes out only after this commits.
pub async fn accept_inbound(
    core: &Core,
    activity_id: String,
    activity: String,
    signer: String,
    signer_domain: String,
) -> AppResult<bool> {
    let ids = core.ids.clone();
    let fresh = core
        .db
        .write(move |c| {
            let now = now_secs();
            // A server we could not reach is up again: its deliveries resume. (Written only
            // then, so a healthy peer's deliveries cost no second row.)
            if fed::failing_since(c, &signer_domain)?.is_some() {
                fed::record_delivery(c, &signer_domain, true, now)?;
            }
            if !fed::mark_seen(c, &activity_id, now)? {
                return Ok(false);
            }
            enqueue(c, &ids, &Task::Receive { activity, signer })?;
            Ok(true)
        })
        .await?;
    if fresh {
        core.jobs.wake();
    }
    Ok(fresh)
}

/// Forgets inbox ids older than a week (peers stop redelivering long before).
pub async fn sweep_seen(core: &Core) -> AppResult<usize> {
    let before = now_secs() - 7 * 24 * 3600;
    core.db
        .write(move |c| Ok(fed::forget_seen_before(c, before)?))
        .await
}

// ---------------------------------------------------------------------------------------
// Follows across servers

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteFollow {
    Accepted,
    Pending,
    /// Refused because a block stands between them.
    Rejected,
}

/// A remote actor asks to follow a local account.
pub async fn remote_follow(
    core: &Core,
    follower: AccountId,
    followee: String,
    activity: String,
) -> AppResult<RemoteFollow> {
    let ids = core.ids.clone();
    let keep = core.config.feeds.home_size;
    let enabled = core.config.federation.enabled;
    let out = core
        .db
        .write(move |c| {
            let Some(target) = accounts::find_by_username(c, &followee)? else {
                return Err(AppError::NotFound);
            };
            if fed::is_remote(c, target.id)? || target.status != AccountStatus::Active {
                return Err(AppError::NotFound);
            }
            if crate::store::blocks::between(c, follower, target.id)? {
                // Refused in so many words, so their server does not show it as pending.
                publish_in_tx(
                    c,
                    &ids,
                    enabled,
                    Outbound::RejectFollow {
                        follower: follower.0,
                        followee: target.id.0,
                        activity,
                    },
                )?;
                return Ok(RemoteFollow::Rejected);
            }
            fed::set_follow_activity(c, follower, target.id, &activity)?;
            // Followed already (a retry, or they lost our Accept): it is confirmed again.
            if !follows::relationship(c, follower, target.id)?.following {
                if target.locked {
                    let now = now_secs();
                    if follows::insert_request(c, ids.next(), follower, target.id, now)? {
                        super::notify(
                            c,
                            &ids,
                            target.id,
                            NotificationKind::FollowRequest,
                            follower,
                            None,
                        )?;
                    }
                    return Ok(RemoteFollow::Pending);
                }
                super::follows::insert_follow(c, &ids, follower, target.id, keep)?;
            }
            publish_in_tx(
                c,
                &ids,
                enabled,
                Outbound::AcceptFollow {
                    follower: follower.0,
                    followee: target.id.0,
                    activity,
                },
            )?;
            Ok(RemoteFollow::Accepted)
        })
        .await?;
    core.jobs.wake();
    Ok(out)
}

/// A remote actor stops following a local account (or withdraws its request).
pub async fn remote_unfollow(core: &Core, follower: AccountId, followee: String) -> AppResult<()> {
    core.db
        .write(move |c| {
            let Some(target) = accounts::find_by_username(c, &followee)? else {
                return Ok(());
            };
            super::follows::unfollow_in_tx(c, follower, target.id)?;
            fed::delete_follow_activity(c, follower, target.id)?;
            Ok(())
        })
        .await
}

/// A remote actor accepted a local account's request to follow it.
pub async fn follow_accepted(
    core: &Core,
    remote: AccountId,
    local_follower: AccountId,
) -> AppResult<bool> {
    let ids = core.ids.clone();
    let keep = core.config.feeds.home_size;
    core.db
        .write(move |c| super::follows::accept_in_tx(c, &ids, remote, local_follower, keep))
        .await
}

/// A remote actor refused (or ended) a local account's follow.
pub async fn follow_rejected(
    core: &Core,
    remote: AccountId,
    local_follower: AccountId,
) -> AppResult<()> {
    core.db
        .write(move |c| {
            super::follows::unfollow_in_tx(c, local_follower, remote)?;
            fed::delete_follow_activity(c, local_follower, remote)?;
            Ok(())
        })
        .await
}

// ---------------------------------------------------------------------------------------
// Remote posts

/// A remote post as parsed by the adapter (HTML already sanitised, references resolved).
#[derive(Debug, Clone)]
pub struct RemotePost {
    pub uri: String,
    pub url: Option<String>,
    pub author: AccountId,
    pub html: String,
    pub text: String,
    pub content_warning: String,
    pub visibility: Visibility,
    pub in_reply_to: Option<PostId>,
    pub quote: Option<PostId>,
    /// Local accounts it mentions (they can see it and are notified).
    pub mentions: Vec<AccountId>,
    pub tags: Vec<String>,
    pub published: i64,
    /// Fetched attachments (waiting media of the author): (media id, alt text, sensitive).
    pub media: Vec<(i64, String, bool)>,
}

/// Stores a remote post (or updates it when its id is known); answers its local id.
pub async fn receive_post(core: &Core, p: RemotePost) -> AppResult<PostId> {
    let ids = core.ids.clone();
    let id = core
        .db
        .write(move |c| {
            if let Some(id) = fed::find_post_by_uri(c, &p.uri)? {
                update_post_in_tx(c, &ids, id, &p)?;
                return Ok(id);
            }
            create_post_in_tx(c, &ids, &p)
        })
        .await?;
    core.jobs.wake();
    Ok(id)
}

fn create_post_in_tx(c: &Connection, ids: &IdGen, p: &RemotePost) -> AppResult<PostId> {
    let id = PostId(ids.next());
    let parent = match p.in_reply_to {
        Some(pid) => posts::find_facts(c, pid)?.filter(|f| !f.deleted && f.repost_of.is_none()),
        None => None,
    };
    if let Some(parent) = &parent {
        // Reply controls and blocks hold across servers too: a reply the conversation does
        // not allow is not stored here (the remote server may still show it to its people).
        super::blocks::check_not_blocked(c, p.author, parent.author)?;
        super::posts::check_reply_allowed(c, parent, p.author)?;
    }
    let quoted = match p
        .quote
        .map(|q| posts::find_facts(c, q))
        .transpose()?
        .flatten()
    {
        // A quote across a block is kept as a post, without the quote.
        Some(q)
            if !q.deleted
                && q.visibility == Visibility::Public
                && !crate::store::blocks::between(c, p.author, q.author)? =>
        {
            Some(q)
        }
        _ => None,
    };
    posts::insert(
        c,
        &posts::NewPost {
            id,
            author: p.author,
            body: &p.text,
            content_warning: &p.content_warning,
            visibility: p.visibility,
            reply_policy: ReplyPolicy::Anyone,
            in_reply_to: parent.as_ref().map(|x| (x.id, x.author)),
            root: parent.as_ref().map(|x| x.root).unwrap_or(id),
            quote: quoted.as_ref().map(|q| q.id),
            repost_of: None,
            created_at: p.published.min(now_secs()),
        },
    )?;
    fed::set_remote_post(c, id, &p.uri, p.url.as_deref(), &p.html)?;
    super::media::attach_in_tx(c, p.author, id, &p.media)?;
    accounts::adjust_counts(c, p.author, 1, 0, 0)?;
    super::search::tag_in_tx(c, id, p.visibility == Visibility::Public, &p.tags)?;
    super::home::on_new_post(c, ids, p.author, id)?;
    super::search::queue_posts(c, ids, &[id])?;
    let mut notified = vec![p.author];
    if let Some(parent) = &parent {
        posts::adjust_counts(c, parent.id, 1, 0, 0, 0)?;
        posts::insert_mention(c, id, parent.author)?;
        if !fed::is_remote(c, parent.author)? && !notified.contains(&parent.author) {
            super::notify(
                c,
                ids,
                parent.author,
                NotificationKind::Reply,
                p.author,
                Some(id),
            )?;
            notified.push(parent.author);
        }
    }
    for m in &p.mentions {
        if crate::store::blocks::between(c, p.author, *m)? {
            continue;
        }
        posts::insert_mention(c, id, *m)?;
        if !notified.contains(m) {
            super::notify(c, ids, *m, NotificationKind::Mention, p.author, Some(id))?;
            notified.push(*m);
        }
    }
    if let Some(q) = &quoted {
        posts::adjust_counts(c, q.id, 0, 0, 0, 1)?;
        if !fed::is_remote(c, q.author)? {
            super::notify(
                c,
                ids,
                q.author,
                NotificationKind::Quote,
                p.author,
                Some(id),
            )?;
        }
    }
    Ok(id)
}

fn update_post_in_tx(c: &Connection, ids: &IdGen, id: PostId, p: &RemotePost) -> AppResult<()> {
    let Some(facts) = posts::find_facts(c, id)? else {
        return Ok(());
    };
    // Only its author can change a post, whoever relays the Update.
    if facts.author != p.author || facts.deleted {
        return Ok(());
    }
    if facts.body != p.text || facts.content_warning != p.content_warning {
        posts::edit(
            c,
            ids.next(),
            &facts,
            &p.text,
            &p.content_warning,
            now_secs(),
        )?;
    }
    fed::set_post_html(c, id, &p.html)?;
    super::search::retag_in_tx(c, id, facts.visibility == Visibility::Public, &p.tags)?;
    super::search::queue_posts(c, ids, &[id])?;
    Ok(())
}

/// The local id of a post known by its ActivityPub id.
pub async fn post_by_uri(core: &Core, uri: String) -> AppResult<Option<PostId>> {
    core.db
        .read(move |c| Ok(fed::find_post_by_uri(c, &uri)?))
        .await
}

/// A remote author deleted a post (only its author may).
pub async fn delete_remote_post(core: &Core, author: AccountId, uri: String) -> AppResult<bool> {
    let ids = core.ids.clone();
    let done = core
        .db
        .write(move |c| {
            let Some(id) = fed::find_post_by_uri(c, &uri)? else {
                return Ok(false);
            };
            let Some(p) = posts::find_facts(c, id)? else {
                return Ok(false);
            };
            if p.author != author || p.deleted {
                return Ok(false);
            }
            if let Some(target) = p.repost_of {
                // An Announce's id deleted or undone: the repost goes, with its notification.
                super::posts::repost_in_tx(c, &ids, author, target, false, false)?;
                return Ok(true);
            }
            super::posts::delete_in_tx(c, &ids, &p)?;
            fed::set_post_html(c, id, "")?;
            Ok(true)
        })
        .await?;
    core.jobs.wake();
    Ok(done)
}

/// A remote person likes (or stops liking) a post here.
pub async fn remote_like(core: &Core, who: AccountId, post: PostId, on: bool) -> AppResult<()> {
    let ids = core.ids.clone();
    core.db
        .write(move |c| super::posts::like_in_tx(c, &ids, who, post, on, false))
        .await
}

/// A remote person reposts (Announce) a post, or takes the repost back.
pub async fn remote_announce(
    core: &Core,
    who: AccountId,
    post: PostId,
    announce_uri: String,
    on: bool,
) -> AppResult<()> {
    let ids = core.ids.clone();
    core.db
        .write(move |c| {
            if on {
                if let Some(rid) = super::posts::repost_in_tx(c, &ids, who, post, true, false)? {
                    fed::set_remote_post(c, rid, &announce_uri, None, "")?;
                }
            } else {
                super::posts::repost_in_tx(c, &ids, who, post, false, false)?;
            }
            Ok(())
        })
        .await?;
    core.jobs.wake();
    Ok(())
}

/// A remote actor was deleted: it stops following and being followed, and its posts and
/// reposts go.
pub async fn remote_actor_deleted(core: &Core, who: AccountId) -> AppResult<()> {
    remove_account(core, who).await
}

/// An account goes (deleted by its owner, or gone from its server): it is set aside (its
/// name stays taken), follows end both ways, and its posts and reposts are deleted in
/// batches, each its own transaction.
pub(crate) async fn remove_account(core: &Core, who: AccountId) -> AppResult<()> {
    core.db
        .write(move |c| {
            c.execute("UPDATE accounts SET status = 3 WHERE id = ?1", [who.0])?;
            for (a, b) in follows_of(c, who)? {
                super::follows::unfollow_in_tx(c, a, b)?;
            }
            Ok(())
        })
        .await?;
    const BATCH: usize = 200;
    loop {
        let ids = core.ids.clone();
        let n = core
            .db
            .write(move |c| {
                let list: Vec<PostId> = c
                    .prepare_cached(
                        "SELECT id FROM posts WHERE author_id = ?1 AND deleted_at IS NULL LIMIT ?2",
                    )?
                    .query_map(rusqlite::params![who.0, BATCH as i64], |r| {
                        r.get(0).map(PostId)
                    })?
                    .collect::<Result<_, _>>()?;
                for id in &list {
                    let Some(f) = posts::find_facts(c, *id)? else {
                        continue;
                    };
                    match f.repost_of {
                        Some(target) => {
                            posts::delete_repost_row(c, *id)?;
                            posts::adjust_counts(c, target, 0, -1, 0, 0)?;
                        }
                        None => super::posts::delete_in_tx(c, &ids, &f)?,
                    }
                }
                Ok(list.len())
            })
            .await?;
        if n < BATCH {
            break;
        }
    }
    // Its likes go, and the counts they added.
    loop {
        let n = core
            .db
            .write(move |c| {
                let liked: Vec<PostId> = c
                    .prepare_cached("SELECT post_id FROM likes WHERE account_id = ?1 LIMIT ?2")?
                    .query_map(rusqlite::params![who.0, BATCH as i64], |r| {
                        r.get(0).map(PostId)
                    })?
                    .collect::<Result<_, _>>()?;
                for p in &liked {
                    if posts::delete_like(c, who, *p)? {
                        posts::adjust_counts(c, *p, 0, 0, -1, 0)?;
                    }
                }
                Ok(liked.len())
            })
            .await?;
        if n < BATCH {
            break;
        }
    }
    core.jobs.wake();
    Ok(())
}

/// Every server that knows a local account through a follow either way (shared inboxes),
/// to be told when it is deleted.
pub async fn known_inboxes(core: &Core, account: AccountId) -> AppResult<Vec<String>> {
    core.db
        .read(move |c| {
            // Followers and followees elsewhere, and the servers of people its posts
            // addressed (mentions, replies).
            let mut stmt = c.prepare_cached(
                "SELECT coalesce(r.shared_inbox, r.inbox) FROM follows f
                 JOIN actors r ON r.account_id = CASE WHEN f.follower_id = ?1
                                                      THEN f.followee_id ELSE f.follower_id END
                 WHERE f.follower_id = ?1 OR f.followee_id = ?1
                 UNION
                 SELECT coalesce(r.shared_inbox, r.inbox) FROM posts p
                 JOIN mentions m ON m.post_id = p.id JOIN actors r ON r.account_id = m.account_id
                 WHERE p.author_id = ?1",
            )?;
            let rows = stmt.query_map([account.0], |r| r.get(0))?;
            Ok(rows.collect::<Result<Vec<String>, _>>()?)
        })
        .await
}

/// Whether an account opted out of search (and so is not `discoverable` elsewhere).
pub async fn opted_out_of_search(core: &Core, id: AccountId) -> AppResult<bool> {
    core.db
        .read(move |c| Ok(crate::store::search::is_opted_out(c, id)?))
        .await
}

fn follows_of(c: &Connection, who: AccountId) -> AppResult<Vec<(AccountId, AccountId)>> {
    let mut stmt = c.prepare(
        "SELECT follower_id, followee_id FROM follows WHERE follower_id = ?1 OR followee_id = ?1",
    )?;
    let rows = stmt.query_map([who.0], |r| {
        Ok((AccountId(r.get(0)?), AccountId(r.get(1)?)))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

// ---------------------------------------------------------------------------------------
// What the adapter reads to build outgoing activities

/// Inboxes of a local account's remote followers (shared inboxes deduplicated).
pub async fn follower_inboxes(core: &Core, account: AccountId) -> AppResult<Vec<String>> {
    core.db
        .read(move |c| Ok(fed::follower_inboxes(c, account)?))
        .await
}

/// Remote accounts a post addresses (mentions and the author replied to).
pub async fn remote_mentions(core: &Core, post: PostId) -> AppResult<Vec<ActorRow>> {
    core.db
        .read(move |c| {
            let mut out = Vec::new();
            for m in posts::list_mentions(c, post)? {
                if let Some(a) = fed::find_actor(c, m)? {
                    out.push(a);
                }
            }
            Ok(out)
        })
        .await
}

/// A post's ActivityPub id and page, when it came from elsewhere.
pub async fn post_uri(
    core: &Core,
    post: PostId,
) -> AppResult<Option<(Option<String>, Option<String>)>> {
    core.db.read(move |c| Ok(fed::post_uri(c, post)?)).await
}

/// Remote accounts by handle (`name@host`, lowercase), for mentions in local posts.
pub(crate) fn find_remote_by_handles(
    c: &Connection,
    handles: &[String],
) -> AppResult<Vec<AccountId>> {
    let mut out = Vec::new();
    for h in handles {
        if let Some(a) = accounts::find_by_username(c, h)?
            && fed::is_remote(c, a.id)?
        {
            out.push(a.id);
        }
    }
    Ok(out)
}

/// Whether anyone here follows this (remote) author: only then are its posts that address
/// nobody here worth keeping.
pub async fn wanted_author(core: &Core, author: AccountId) -> AppResult<bool> {
    core.db
        .read(move |c| Ok(fed::has_local_followers(c, author)?))
        .await
}

/// Someone a post addresses, as the wire needs them.
#[derive(Debug, Clone)]
pub struct WireMention {
    /// Username here (`name` for local people, `name@host` for remote ones).
    pub username: String,
    /// The actor id of a remote person (local ones are built from the username).
    pub remote_uri: Option<String>,
}

/// Another post a post points at (the one it replies to, or quotes).
#[derive(Debug, Clone)]
pub struct WireRef {
    pub id: PostId,
    pub author: String,
    /// Its ActivityPub id when it came from elsewhere.
    pub remote_uri: Option<String>,
}

/// A local post with what its ActivityPub form needs.
#[derive(Debug, Clone)]
pub struct WirePost {
    pub post: crate::store::models::PostView,
    pub mentions: Vec<WireMention>,
    pub parent: Option<WireRef>,
    pub quote: Option<WireRef>,
    pub tags: Vec<String>,
    pub remote: bool,
}

/// Another post as the wire names it, with its author's account here.
fn wire_ref(c: &Connection, pid: PostId) -> AppResult<Option<(AccountId, WireRef)>> {
    let Some(f) = posts::find_facts(c, pid)? else {
        return Ok(None);
    };
    let Some(author) = accounts::find_brief(c, f.author)? else {
        return Ok(None);
    };
    let remote_uri = fed::post_uri(c, pid)?.and_then(|(u, _)| u);
    Ok(Some((
        f.author,
        WireRef {
            id: pid,
            author: author.username,
            remote_uri,
        },
    )))
}

/// A post as another post's reference (likes and reposts name it), with its author.
pub async fn post_ref(core: &Core, id: PostId) -> AppResult<Option<(AccountId, WireRef)>> {
    core.db.read(move |c| wire_ref(c, id)).await
}

/// A post with everything needed to show it to other servers, as nobody in particular
/// sees it (the caller decides who may read it).
pub async fn wire_post(core: &Core, id: PostId) -> AppResult<Option<WirePost>> {
    core.db
        .read(move |c| {
            let Some(mut post) = posts::find_view(c, super::ANONYMOUS, id)? else {
                return Ok(None);
            };
            super::media::fill(c, &mut [&mut post])?;
            let mut mentions = Vec::new();
            for m in posts::list_mentions(c, id)? {
                if let Some(a) = accounts::find_brief(c, m)? {
                    let remote_uri = fed::find_actor(c, m)?.map(|r| r.uri);
                    mentions.push(WireMention {
                        username: a.username,
                        remote_uri,
                    });
                }
            }
            let parent = match post.in_reply_to {
                Some(p) => wire_ref(c, p)?.map(|(_, r)| r),
                None => None,
            };
            let quote = match post.quote_id {
                Some(q) => wire_ref(c, q)?.map(|(_, r)| r),
                None => None,
            };
            let tags = crate::domain::text::hashtags(&post.body);
            let remote = fed::is_remote(c, post.author.id)?;
            Ok(Some(WirePost {
                post,
                mentions,
                parent,
                quote,
                tags,
                remote,
            }))
        })
        .await
}

/// The signing key of the instance itself (for fetches no person asked for), made on
/// first use and kept in the settings table.
pub async fn instance_key(
    core: &Core,
    make: fn() -> anyhow::Result<(String, String)>,
) -> AppResult<(String, String)> {
    let read = |c: &Connection| -> AppResult<Option<(String, String)>> {
        let private = crate::store::settings::get(c, "instance_private_key")?;
        let public = crate::store::settings::get(c, "instance_public_key")?;
        Ok(private.zip(public))
    };
    if let Some(k) = core.db.read(read).await? {
        return Ok(k);
    }
    let (private, public) = make_off_executor(make).await?;
    core.db
        .write(move |c| {
            if let Some(k) = read(c)? {
                return Ok(k);
            }
            crate::store::settings::set(c, "instance_private_key", &private)?;
            crate::store::settings::set(c, "instance_public_key", &public)?;
            Ok((private, public))
        })
        .await
}

/// Pages of a local account's public posts for its outbox, newest first.
pub async fn outbox_page(
    core: &Core,
    account: AccountId,
    before: Option<i64>,
) -> AppResult<Vec<PostId>> {
    let limit = core.config.limits.page_size as i64;
    core.db
        .read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id FROM posts WHERE author_id = ?1 AND id < ?2 AND visibility = 0
                 AND deleted_at IS NULL AND repost_of_id IS NULL ORDER BY id DESC LIMIT ?3",
            )?;
            let rows = stmt.query_map(
                rusqlite::params![account.0, before.unwrap_or(i64::MAX), limit],
                |r| r.get(0).map(PostId),
            )?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
}

/// The follow (follower, followee) behind a Follow activity id.
pub async fn follow_by_activity(
    core: &Core,
    activity_id: String,
) -> AppResult<Option<(AccountId, AccountId)>> {
    core.db
        .read(move |c| Ok(fed::follow_by_activity(c, &activity_id)?))
        .await
}

/// A local account by username (None for remote ones and unknown names).
pub async fn local_account(core: &Core, name: String) -> AppResult<Option<AccountId>> {
    core.db
        .read(move |c| {
            let Some(a) = accounts::find_by_username(c, &name.to_ascii_lowercase())? else {
                return Ok(None);
            };
            if fed::is_remote(c, a.id)? || a.status != AccountStatus::Active {
                return Ok(None);
            }
            Ok(Some(a.id))
        })
        .await
}

// ---------------------------------------------------------------------------------------
// Administration

fn require_admin(viewer: &super::accounts::Viewer) -> AppResult<()> {
    if viewer.role() == crate::domain::Role::Admin {
        Ok(())
    } else {
        Err(AppError::forbidden("Only admins can manage federation."))
    }
}

/// What the admin's federation page shows.
pub struct FederationOverview {
    pub instances: Vec<InstanceRow>,
    /// Deliveries waiting (first try or a retry), and those given up on.
    pub deliveries_queued: i64,
    pub deliveries_dead: i64,
    /// Received activities waiting to be acted on.
    pub inbox_queued: i64,
}

pub async fn overview(
    core: &Core,
    viewer: &super::accounts::Viewer,
) -> AppResult<FederationOverview> {
    require_admin(viewer)?;
    core.db
        .read(|c| {
            let counts = crate::store::jobs::counts(c)?;
            let count = |kind: &str| {
                counts
                    .iter()
                    .find(|(k, _, _)| k == kind)
                    .map(|(_, q, d)| (*q, *d))
                    .unwrap_or((0, 0))
            };
            let (deliveries_queued, deliveries_dead) = count("deliver");
            Ok(FederationOverview {
                instances: fed::list_instances(c, 200)?,
                deliveries_queued,
                deliveries_dead,
                inbox_queued: count("receive").0,
            })
        })
        .await
}

/// Sets a domain block (0 none, 1 silence, 2 suspend), as an admin.
pub async fn block_domain(
    core: &Core,
    viewer: &super::accounts::Viewer,
    domain: String,
    level: i64,
) -> AppResult<()> {
    require_admin(viewer)?;
    set_domain_block(core, domain, level).await
}

/// Forgets a server's failures and puts its given-up deliveries back in the queue.
pub async fn retry_instance(
    core: &Core,
    viewer: &super::accounts::Viewer,
    domain: String,
) -> AppResult<usize> {
    require_admin(viewer)?;
    let now_ms = now_secs() * 1000;
    let n = core
        .db
        .write(move |c| {
            fed::record_delivery(c, &domain, true, now_secs())?;
            Ok(fed::retry_dead_deliveries(c, &domain, now_ms)?)
        })
        .await?;
    core.jobs.wake();
    Ok(n)
}

/// A page of followers (or followees) for the ActivityPub collections: (cursor, username,
/// remote actor id).
pub async fn collection_page(
    core: &Core,
    account: AccountId,
    followers: bool,
    before: Option<i64>,
) -> AppResult<Vec<(i64, String, Option<String>)>> {
    let limit = core.config.limits.page_size;
    core.db
        .read(move |c| {
            Ok(fed::collection_page(
                c,
                account,
                followers,
                before.unwrap_or(i64::MAX),
                limit,
            )?)
        })
        .await
}

/// The `name@host` handles among `handles` that name nobody known here yet.
pub async fn unknown_handles(core: &Core, handles: Vec<String>) -> AppResult<Vec<String>> {
    core.db
        .read(move |c| {
            let mut out = Vec::new();
            for h in handles {
                if accounts::find_by_username(c, &h)?.is_none() {
                    out.push(h);
                }
            }
            Ok(out)
        })
        .await
}

/// Adds remote people a post mentions (found after it was written) to whom it addresses,
/// unless a block stands between them and the author.
pub async fn add_mentions(core: &Core, post: PostId, people: Vec<AccountId>) -> AppResult<bool> {
    core.db
        .write(move |c| {
            let Some(p) = posts::find_facts(c, post)? else {
                return Ok(false);
            };
            let mut added = false;
            for m in people {
                let active =
                    accounts::find_by_id(c, m)?.is_some_and(|a| a.status == AccountStatus::Active);
                if active
                    && fed::is_remote(c, m)?
                    && !crate::store::blocks::between(c, p.author, m)?
                {
                    added |= posts::insert_mention(c, post, m)?;
                }
            }
            Ok(added)
        })
        .await
}

// ---------------------------------------------------------------------------------------
// Moving accounts

/// Where an account moved to, and the accounts it says it also is.
pub async fn migration(core: &Core, id: AccountId) -> AppResult<(Option<String>, Vec<String>)> {
    core.db.read(move |c| Ok(fed::migration(c, id)?)).await
}

fn federator(core: &Core) -> AppResult<Arc<dyn Federator>> {
    core.federation.get().ok_or_else(|| {
        AppError::forbidden(
            "This instance does not federate, so accounts cannot move here or away.",
        )
    })
}

/// Sets the accounts the viewer says they also are (handles or URLs, each looked up), so
/// that those accounts can move here.
pub async fn set_aliases(
    core: &Core,
    viewer: &super::accounts::Viewer,
    handles: Vec<String>,
) -> AppResult<Vec<String>> {
    let f = federator(core)?;
    let mut uris = Vec::new();
    for h in handles
        .iter()
        .map(|h| h.trim())
        .filter(|h| !h.is_empty())
        .take(5)
    {
        match f.lookup_aliases(core.clone(), h.to_string()).await? {
            Some((_, uri, _)) => uris.push(uri),
            None => {
                return Err(AppError::Invalid(format!(
                    "{h} could not be found. Give a handle such as @name@example.org."
                )));
            }
        }
    }
    let me = viewer.id();
    let saved = uris.clone();
    let enabled = core.config.federation.enabled;
    let ids = core.ids.clone();
    core.db
        .write(move |c| {
            fed::set_aliases(c, me, &saved)?;
            publish_in_tx(c, &ids, enabled, Outbound::ProfileUpdated { account: me.0 })
        })
        .await?;
    core.jobs.wake();
    Ok(uris)
}

/// Moves the viewer's account to another one (elsewhere), which must name this one among
/// the accounts it also is. Followers here and elsewhere follow the new account instead.
pub async fn move_account(
    core: &Core,
    viewer: &super::accounts::Viewer,
    target: &str,
    password: &str,
) -> AppResult<()> {
    let f = federator(core)?;
    let me = viewer.id();
    if migration(core, me).await?.0.is_some() {
        return Err(AppError::invalid("This account has moved already."));
    }
    super::accounts::check_own_password(
        core,
        me,
        password,
        "That is not your password. Type your current password to move your followers.",
    )
    .await?;
    let my_uri = f.local_actor_id(&viewer.account.username);
    let Some((target_id, target_uri, aliases)) = f
        .lookup_aliases(core.clone(), target.trim().to_string())
        .await?
    else {
        return Err(AppError::invalid(
            "That account could not be found. Give a handle such as @name@example.org.",
        ));
    };
    if !aliases.iter().any(|a| a == &my_uri) {
        return Err(AppError::invalid(format!(
            "The new account must first list this one as an alias (its \"also known as\" \
             setting must include {my_uri}). Add it there, then try again."
        )));
    }
    let ids = core.ids.clone();
    let enabled = core.config.federation.enabled;
    if target_id == me {
        return Err(AppError::invalid("An account cannot move to itself."));
    }
    core.db
        .write(move |c| {
            fed::set_moved_to(c, me, Some(&target_uri))?;
            publish_in_tx(
                c,
                &ids,
                enabled,
                Outbound::Move {
                    account: me.0,
                    target: target_uri.clone(),
                },
            )?;
            Ok(())
        })
        .await?;
    move_followers(core, me, target_id).await?;
    core.jobs.wake();
    Ok(())
}

/// Moves the local followers of `old` to `new`, a batch per transaction (a popular account
/// must not hold the writer for long).
async fn move_followers(core: &Core, old: AccountId, new: AccountId) -> AppResult<usize> {
    const BATCH: usize = 200;
    let mut total = 0;
    loop {
        let m = Mover {
            ids: core.ids.clone(),
            base: core.urls.base().to_string(),
            enabled: core.config.federation.enabled,
            keep: core.config.feeds.home_size,
        };
        let n = core
            .db
            .write(move |c| move_followers_in_tx(c, &m, old, new, BATCH))
            .await?;
        total += n;
        if n < BATCH {
            return Ok(total);
        }
    }
}

/// A remote account moved to `new` (checked by the adapter): people here who followed it
/// follow the new one instead.
pub async fn remote_moved(
    core: &Core,
    old: AccountId,
    new: AccountId,
    new_uri: String,
) -> AppResult<usize> {
    if old == new {
        return Err(AppError::invalid("An account cannot move to itself."));
    }
    // A Move seen before (redelivered, or sent again) changes nothing.
    if migration(core, old).await?.0.as_deref() == Some(new_uri.as_str()) {
        return Ok(0);
    }
    core.db
        .write(move |c| Ok(fed::set_moved_to(c, old, Some(&new_uri))?))
        .await?;
    let n = move_followers(core, old, new).await?;
    core.jobs.wake();
    Ok(n)
}

/// Local followers of `old` stop following it and follow `new` (a request and a Follow
/// when `new` is elsewhere or locked).
/// What moving followers needs from the instance.
struct Mover {
    ids: Arc<IdGen>,
    base: String,
    enabled: bool,
    keep: usize,
}

fn move_followers_in_tx(
    c: &Connection,
    m: &Mover,
    old: AccountId,
    new: AccountId,
    limit: usize,
) -> AppResult<usize> {
    let (ids, base, enabled, keep) = (&*m.ids, m.base.as_str(), m.enabled, m.keep);
    let followers = fed::local_followers(c, old, limit)?;
    let remote_new = fed::is_remote(c, new)?;
    let locked_new = accounts::find_by_id(c, new)?.is_some_and(|a| a.locked);
    let now = now_secs();
    for f in &followers {
        super::follows::unfollow_in_tx(c, *f, old)?;
        if *f == new {
            continue;
        }
        // A block between them stands: the follow of the old account just ends.
        if crate::store::blocks::between(c, *f, new)? {
            continue;
        }
        let rel = follows::relationship(c, *f, new)?;
        if rel.following || rel.requested {
            continue;
        }
        if remote_new {
            let activity = format!("{base}/activities/follow/{}", ids.next());
            follows::insert_request(c, ids.next(), *f, new, now)?;
            fed::set_follow_activity(c, *f, new, &activity)?;
            publish_in_tx(
                c,
                ids,
                enabled,
                Outbound::Follow {
                    follower: f.0,
                    followee: new.0,
                    activity,
                },
            )?;
        } else if locked_new {
            if follows::insert_request(c, ids.next(), *f, new, now)? {
                super::notify(c, ids, new, NotificationKind::FollowRequest, *f, None)?;
            }
        } else {
            super::follows::insert_follow(c, ids, *f, new, keep)?;
        }
    }
    Ok(followers.len())
}

/// Pictures of a remote person whose address changed since they were last seen:
/// (header?, new address or None to remove). The new addresses are recorded at once (in the
/// same write), so each is fetched once however many refreshes race, and a picture that
/// cannot be fetched is not tried again until its address changes.
pub async fn claim_changed_images(
    core: &Core,
    id: AccountId,
    icon: Option<String>,
    image: Option<String>,
) -> AppResult<Vec<(bool, Option<String>)>> {
    core.db
        .write(move |c| {
            let (old_icon, old_image) = fed::image_urls(c, id)?;
            let mut out = Vec::new();
            if old_icon != icon {
                fed::set_image_url(c, id, false, icon.as_deref())?;
                out.push((false, icon.clone()));
            }
            if old_image != image {
                fed::set_image_url(c, id, true, image.as_deref())?;
                out.push((true, image.clone()));
            }
            Ok(out)
        })
        .await
}

/// Drops a remote person's avatar or header (their server no longer has one).
pub async fn clear_image(core: &Core, id: AccountId, header: bool) -> AppResult<()> {
    let ids = core.ids.clone();
    core.db
        .write(move |c| {
            let old = crate::store::media::set_account_image(c, id, header, None)?;
            if let Some(old) = old
                && crate::store::media::drop_ref(c, &old)?
            {
                super::media::queue_deletion(c, &ids, vec![old])?;
            }
            Ok(())
        })
        .await
}

/// A post's public direct replies, for its replies collection.
pub async fn public_replies(
    core: &Core,
    post: PostId,
) -> AppResult<Vec<(PostId, String, Option<String>)>> {
    let limit = core.config.limits.page_size;
    core.db
        .read(move |c| Ok(fed::public_replies(c, post, limit)?))
        .await
}

/// An account's public pinned posts (its featured collection).
pub async fn featured(core: &Core, account: AccountId) -> AppResult<Vec<PostId>> {
    core.db
        .read(move |c| {
            let mut out = Vec::new();
            for p in posts::pinned(c, account)? {
                if let Some(f) = posts::find_facts(c, p)?
                    && !f.deleted
                    && f.visibility == Visibility::Public
                {
                    out.push(p);
                }
            }
            Ok(out)
        })
        .await
}

/// Turns secure mode on or off (an admin setting, kept across restarts).
pub async fn set_secure_mode(
    core: &Core,
    viewer: &super::accounts::Viewer,
    on: bool,
) -> AppResult<()> {
    require_admin(viewer)?;
    core.db
        .write(move |c| {
            crate::store::settings::set(c, "secure_mode", if on { "true" } else { "false" })?;
            Ok(())
        })
        .await?;
    core.update_settings(|s| s.secure_mode = on);
    Ok(())
}
