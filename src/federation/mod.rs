//! The ActivityPub adapter: weft as other servers see it. `routes` serves WebFinger, NodeInfo,
//! actors, collections and posts; `inbox` verifies signed deliveries and stores them before
//! answering; `receive` acts on them through the services; `publish` turns local events into
//! signed deliveries; `client` is the one outbound HTTP client (SSRF guard, size and time
//! caps); `signatures` is HTTP signing and checking (draft-cavage and RFC 9421, ring);
//! `protocol` the wire types; `render` our JSON; `html` sanitising and text conversion.
//! Nothing here touches SQL: everything goes through `service::federation`.

pub mod client;
pub mod html;
pub mod inbox;
pub mod protocol;
pub mod publish;
pub mod receive;
pub mod render;
pub mod routes;
pub mod signatures;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::config;
use crate::domain::AccountId;
use crate::error::{AppError, AppResult};
use crate::jobs::Failure;
use crate::service::Core;
use crate::service::federation::ActorRow;
use crate::service::federation::{
    self as fed_service, Aliased, BoxFuture, Delivery, Federator, Outbound, RemoteActor, Resolved,
};
use client::{Client, FetchError};
use render::Ids;
use signatures::{PublicKey, Signer};

/// Accept header for ActivityStreams fetches, as Mastodon sends it.
pub const ACCEPT_AS: &str = "application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";

/// A parsed public key and the actor it belongs to.
pub type KeyHit = (Arc<PublicKey>, ActorRow);

pub struct Federation {
    pub ids: Ids,
    pub client: Client,
    cfg: config::Federation,
    /// Parsed private keys of local accounts (0 is the instance actor).
    signers: Mutex<HashMap<i64, Arc<Signer>>>,
    /// Parsed public keys of remote actors by key id, with the actor row they came from.
    keys: Mutex<HashMap<String, KeyHit>>,
    /// When each key id was last refetched after a failed check (bounded by
    /// `key_refetch_secs`, so a forged flood cannot make us hammer a peer).
    refetched: Mutex<HashMap<String, Instant>>,
    /// One fetch at a time per key id.
    fetching: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// New key pair (private PKCS#8 PEM, public SPKI PEM), for the services' lazy key making.
pub fn make_keys() -> anyhow::Result<(String, String)> {
    let k = signatures::generate_keypair().map_err(|e| anyhow::anyhow!("making a key: {e}"))?;
    Ok((k.private_pem, k.public_pem))
}

impl Federation {
    pub fn new(core: &Core) -> anyhow::Result<Arc<Federation>> {
        let cfg = core.config.federation.clone();
        if cfg.allow_private_addresses {
            tracing::warn!(
                "federation.allow_private_addresses is on: this instance will fetch from and \
                 deliver to loopback and private addresses over plain http. Development and \
                 tests only; never in production."
            );
        }
        Ok(Arc::new(Federation {
            ids: Ids::new(core.urls.clone()),
            client: Client::new(&cfg, core.urls.base())?,
            cfg,
            signers: Mutex::default(),
            keys: Mutex::default(),
            refetched: Mutex::default(),
            fetching: Mutex::default(),
        }))
    }

    pub fn config(&self) -> &config::Federation {
        &self.cfg
    }

    pub async fn account_keys(&self, core: &Core, id: AccountId) -> AppResult<(String, String)> {
        fed_service::account_key(core, id, make_keys).await
    }

    pub async fn instance_keys(&self, core: &Core) -> AppResult<(String, String)> {
        fed_service::instance_key(core, make_keys).await
    }

    /// The signer of a local account (0: the instance actor), parsed once.
    pub async fn signer(&self, core: &Core, account: i64) -> AppResult<Arc<Signer>> {
        if let Some(s) = self
            .signers
            .lock()
            .ok()
            .and_then(|m| m.get(&account).cloned())
        {
            return Ok(s);
        }
        let (private, key_id) = if account == 0 {
            (self.instance_keys(core).await?.0, self.ids.instance_key())
        } else {
            let a = crate::service::accounts::find_by_id(core, AccountId(account)).await?;
            let (private, _) = self.account_keys(core, a.id).await?;
            (private, self.ids.key(&a.username))
        };
        let signer = tokio::task::spawn_blocking(move || Signer::from_pem(&private, &key_id))
            .await
            .map_err(|e| AppError::Internal(e.into()))?
            .map_err(|e| AppError::Internal(anyhow::anyhow!("loading a signing key: {e}")))?;
        let signer = Arc::new(signer);
        if let Ok(mut m) = self.signers.lock() {
            m.insert(account, signer.clone());
        }
        Ok(signer)
    }

    /// GETs a document from another server, signed by the instance actor; answers it with
    /// the address it finally came from.
    async fn fetch_raw(
        &self,
        core: &Core,
        url: &str,
    ) -> Result<(url::Url, serde_json::Value), FetchError> {
        let signer = self
            .signer(core, 0)
            .await
            .map_err(|e| FetchError::Refused(format!("no instance key: {e}")))?;
        let sign = signing(signer);
        self.client.get_json(url, ACCEPT_AS, Some(&sign)).await
    }

    /// GETs an ActivityPub object. Its `id` must be the address it came from: a document
    /// served at one address that claims another id is fetched again from that id (same
    /// server only), and must match there, so nobody who can put JSON somewhere on a server
    /// can speak for that server's people.
    pub async fn fetch(&self, core: &Core, url: &str) -> Result<serde_json::Value, FetchError> {
        let (at, doc) = self.fetch_raw(core, url).await?;
        let id = object_id(&doc)?;
        if id == at.as_str() {
            return Ok(doc);
        }
        if domain_of(&id) != domain_of(at.as_str()) {
            return Err(FetchError::Malformed(
                "the object's id is on another server".into(),
            ));
        }
        let (again_at, again) = self.fetch_raw(core, &id).await?;
        if object_id(&again)? == id && again_at.as_str() == id {
            Ok(again)
        } else {
            Err(FetchError::Malformed(
                "the object's id is not where it is served".into(),
            ))
        }
    }

    /// A remote actor, from the database unless missing, stale or `refresh`; fetched and
    /// stored otherwise. Refuses actors of suspended domains.
    pub async fn actor(&self, core: &Core, uri: &str, refresh: bool) -> AppResult<ActorRow> {
        let domain = domain_of(uri).ok_or(AppError::NotFound)?;
        if domain.eq_ignore_ascii_case(self.ids.host()) {
            return Err(AppError::NotFound);
        }
        let host = block_host(uri).ok_or(AppError::NotFound)?;
        if fed_service::domain_block(core, host).await? >= 2 {
            return Err(AppError::forbidden("That server is blocked here."));
        }
        let known = fed_service::actor_by_uri(core, uri.to_string()).await?;
        let stale_after = self.cfg.actor_refresh_secs as i64;
        if let Some(a) = &known
            && !refresh
            && crate::domain::now_secs() - a.fetched_at < stale_after
        {
            return Ok(a.clone());
        }
        let doc = match self.fetch(core, uri).await {
            Ok(d) => d,
            // A stale copy beats nothing when the peer is down for a moment.
            Err(e) => {
                return known.ok_or_else(|| {
                    tracing::info!("fetching actor {uri}: {e}");
                    AppError::NotFound
                });
            }
        };
        let parsed = parse_actor(&doc, uri)?;
        let (icon, image) = (parsed.icon_url.clone(), parsed.image_url.clone());
        let id = fed_service::upsert_actor(core, parsed).await?;
        // New or changed pictures are fetched in the background (never in the way of the
        // request that needed the actor, often a signature check).
        let changed = fed_service::claim_changed_images(core, id, icon, image).await?;
        if !changed.is_empty() {
            let (client, core2) = (self.client.clone(), core.clone());
            tokio::spawn(async move { fetch_images(&client, &core2, id, changed).await });
        }
        fed_service::actor(core, id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// The public key behind a key id and its actor, from memory or the database (no
    /// network).
    pub async fn known_key(&self, core: &Core, key_id: &str) -> AppResult<Option<KeyHit>> {
        if let Some(hit) = self.keys.lock().ok().and_then(|m| m.get(key_id).cloned()) {
            return Ok(Some(hit));
        }
        match fed_service::actor_by_key_id(core, key_id.to_string()).await? {
            Some(actor) => self.remember_key(key_id, actor).map(Some),
            None => Ok(None),
        }
    }

    /// Fetches the actor behind a key id (its key may be new or rotated). Bounded: each key
    /// id at most once per `key_refetch_secs`, and each server's keys at most 120 times a
    /// minute, so forged requests cannot make us hammer a peer or anyone else.
    pub async fn fetch_key(&self, core: &Core, key_id: &str) -> AppResult<Option<KeyHit>> {
        // Requests that need the same unknown key wait for one fetch and share its result
        // (a new peer's first deliveries often arrive together).
        let lock = {
            let mut m = self
                .fetching
                .lock()
                .map_err(|_| AppError::Internal(anyhow::anyhow!("key fetch lock")))?;
            if m.len() > 1_000 {
                m.retain(|_, l| Arc::strong_count(l) > 1);
            }
            m.entry(key_id.to_string()).or_default().clone()
        };
        let _one_at_a_time = lock.lock().await;
        let now = Instant::now();
        let bound = Duration::from_secs(self.cfg.key_refetch_secs);
        let fetched_lately = {
            let mut r = self
                .refetched
                .lock()
                .map_err(|_| AppError::Internal(anyhow::anyhow!("key refetch lock")))?;
            let lately = r
                .get(key_id)
                .is_some_and(|t| now.duration_since(*t) < bound);
            if !lately {
                if r.len() > 10_000 {
                    r.retain(|_, t| now.duration_since(*t) < bound);
                }
                r.insert(key_id.to_string(), now);
            }
            lately
        };
        if fetched_lately {
            // Fetched a moment ago (perhaps by the request this one waited for).
            return self.known_key(core, key_id).await;
        }
        let domain = domain_of(key_id).ok_or(AppError::NotFound)?;
        core.limiter
            .take(&format!("keyfetch:{domain}"), 120, Duration::from_secs(60))?;
        // The key id is the actor's id with a fragment (Mastodon), or a document of its own
        // whose id is the actor (GoToSocial's `/main-key`): `fetch` follows that to the actor.
        let known = fed_service::actor_by_key_id(core, key_id.to_string()).await?;
        let uri = known
            .map(|a| a.uri)
            .unwrap_or_else(|| key_id.split('#').next().unwrap_or(key_id).to_string());
        let actor = self.actor(core, &uri, true).await?;
        if actor.key_id != key_id {
            return Ok(None);
        }
        self.remember_key(key_id, actor).map(Some)
    }

    fn remember_key(&self, key_id: &str, actor: ActorRow) -> AppResult<KeyHit> {
        let key = PublicKey::from_pem(&actor.public_key)
            .map_err(|e| AppError::invalid(format!("the actor's key cannot be read: {e}")))?;
        let hit = (Arc::new(key), actor);
        if let Ok(mut m) = self.keys.lock() {
            if m.len() > 10_000 {
                m.clear();
            }
            m.insert(key_id.to_string(), hit.clone());
        }
        Ok(hit)
    }

    /// In secure mode, GETs of actors and posts must be signed by someone we can check.
    pub async fn check_fetch(&self, core: &Core, req: &actix_web::HttpRequest) -> AppResult<()> {
        if !core.settings().secure_mode {
            return Ok(());
        }
        inbox::verify(self, core, req, &[]).await.map(|_| ())
    }
}

/// Fetches a remote person's avatar and header into the media pipeline.
async fn fetch_images(
    client: &Client,
    core: &Core,
    id: AccountId,
    changed: Vec<(bool, Option<String>)>,
) {
    let cap = core.config.media.image_bytes as usize;
    for (header, url) in changed {
        let Some(u) = url else {
            if let Err(e) = fed_service::clear_image(core, id, header).await {
                tracing::warn!("dropping a picture: {e:#}");
            }
            continue;
        };
        // Pictures may live on another host (a CDN); a suspended one is not fetched from.
        let blocked = match block_host(&u) {
            Some(h) => fed_service::domain_block(core, h).await.unwrap_or(2) >= 2,
            None => true,
        };
        if blocked {
            continue;
        }
        let stored = match client.get_bytes(&u, cap).await {
            Ok(bytes) => {
                crate::service::media::store_fetched_profile_image(core, id, header, bytes).await
            }
            Err(e) => Err(AppError::invalid(e.to_string())),
        };
        if let Err(e) = stored {
            tracing::info!("picture {u}: {}", e.public_message().1);
        }
    }
}

/// A request signer (draft-cavage, as Mastodon signs) for the outbound client.
pub fn signing(signer: Arc<Signer>) -> client::Signer {
    Arc::new(move |t: &client::ToSign| {
        signer
            .sign_cavage(
                t.method,
                t.url.as_str(),
                t.body.as_deref(),
                SystemTime::now(),
            )
            .map(|h| {
                h.to_pairs()
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect()
            })
            .map_err(|e| e.to_string())
    })
}

/// A document's `id`, normalised as a URL (so it compares with the address fetched).
fn object_id(doc: &serde_json::Value) -> Result<String, FetchError> {
    doc.get("id")
        .and_then(|i| i.as_str())
        .and_then(|i| url::Url::parse(i).ok())
        .map(|u| u.to_string())
        .ok_or_else(|| FetchError::Malformed("the document has no id".into()))
}

/// The host of a URL as domain blocks see it: lowercase, without port or trailing dot.
pub fn block_host(uri: &str) -> Option<String> {
    let u = url::Url::parse(uri).ok()?;
    Some(u.host_str()?.trim_end_matches('.').to_ascii_lowercase())
}

/// host[:port] of a URL, lowercase.
pub fn domain_of(uri: &str) -> Option<String> {
    let u = url::Url::parse(uri).ok()?;
    let host = u.host_str()?.to_ascii_lowercase();
    Some(match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    })
}

/// Reads an actor document into what the services store; the document must be the actor
/// it claims to be (its id is the address it was fetched from, on the same host).
pub fn parse_actor(doc: &serde_json::Value, fetched: &str) -> AppResult<RemoteActor> {
    let actor: protocol::Actor = serde_json::from_value(doc.clone())
        .map_err(|_| AppError::invalid("That address does not hold an ActivityPub actor."))?;
    let domain = domain_of(&actor.id).ok_or(AppError::NotFound)?;
    if domain_of(fetched).as_deref() != Some(domain.as_str()) {
        return Err(AppError::invalid("The actor's id is on another server."));
    }
    let inbox = actor.inbox.clone().ok_or(AppError::NotFound)?;
    let key = actor.public_key.clone().unwrap_or_default();
    let pem = key.public_key_pem.clone().ok_or(AppError::NotFound)?;
    let key_id = key
        .id
        .clone()
        .unwrap_or_else(|| format!("{}#main-key", actor.id));
    let name = actor
        .preferred_username
        .clone()
        .filter(|n| !n.is_empty() && n.len() <= 64 && !n.contains(['@', '/', ' ']))
        .ok_or_else(|| AppError::invalid("The actor has no usable username."))?;
    let fields = actor
        .fields()
        .take(8)
        .map(|(k, v)| (clip(&html::to_text(k), 100), clip(&html::to_text(v), 500)))
        .collect();
    Ok(RemoteActor {
        handle: format!("{name}@{domain}").to_ascii_lowercase(),
        uri: actor.id.clone(),
        domain,
        inbox,
        shared_inbox: actor.shared_inbox().map(str::to_string),
        followers_uri: actor.followers.clone(),
        url: actor.profile_url().map(str::to_string),
        key_id,
        public_key: pem,
        kind: actor.kind.as_str().to_string(),
        display_name: clip(&html::to_text(actor.name.as_deref().unwrap_or("")), 100),
        bio: clip(&html::to_text(actor.summary.as_deref().unwrap_or("")), 5000),
        fields,
        locked: actor.manually_approves_followers.unwrap_or(false),
        icon_url: actor.icon_url().map(str::to_string),
        image_url: actor.image_url().map(str::to_string),
        published: actor.published.as_deref().and_then(|p| {
            time::OffsetDateTime::parse(p, &time::format_description::well_known::Rfc3339)
                .ok()
                .map(|t| t.unix_timestamp())
        }),
    })
}

fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// The adapter as the services see it (their `Federator` seam).
pub struct Handle(pub Arc<Federation>);

impl Federator for Handle {
    fn publish(&self, core: Core, event: Outbound) -> BoxFuture<Result<Vec<Delivery>, Failure>> {
        let f = self.0.clone();
        Box::pin(async move { publish::publish(&f, &core, event).await })
    }

    fn deliver(
        &self,
        core: Core,
        inbox: String,
        activity: String,
        signer: i64,
    ) -> BoxFuture<Result<(), Failure>> {
        let f = self.0.clone();
        Box::pin(async move { publish::deliver(&f, &core, &inbox, activity, signer).await })
    }

    fn receive(
        &self,
        core: Core,
        activity: String,
        signer: String,
    ) -> BoxFuture<Result<(), Failure>> {
        let f = self.0.clone();
        Box::pin(async move { receive::receive(&f, &core, &activity, &signer).await })
    }

    fn lookup_aliases(&self, core: Core, query: String) -> BoxFuture<AppResult<Option<Aliased>>> {
        let f = self.0.clone();
        Box::pin(async move { receive::lookup_aliases(&f, &core, &query).await })
    }

    fn local_actor_id(&self, username: &str) -> String {
        self.0.ids.actor(username)
    }

    fn resolve(&self, core: Core, query: String) -> BoxFuture<AppResult<Option<Resolved>>> {
        let f = self.0.clone();
        Box::pin(async move {
            let (found, fill) = receive::resolve(&f, &core, &query).await?;
            if let Some(a) = fill {
                // Their recent posts arrive while the person looks at the profile.
                let (f, core) = (f.clone(), core.clone());
                tokio::spawn(async move { receive::backfill(&f, &core, &a).await });
            }
            Ok(found)
        })
    }
}
