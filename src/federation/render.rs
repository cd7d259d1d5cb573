//! Our people and posts as ActivityStreams JSON, in Mastodon's dialect (addressing, tags,
//! attachments, quotes). Ids are built by `Ids` from the public URL.

use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use crate::domain::{PostId, Visibility};
use crate::service::federation::{WirePost, WireRef};
use crate::service::models::Account;
use crate::urls::Urls;

pub use super::protocol::PUBLIC;
pub const AS_JSON: &str = "application/activity+json";

/// The `@context` of every document we serve: ActivityStreams and the security vocabulary,
/// with the extension terms defined inline (peers may have no network to load others).
pub fn context() -> Value {
    super::protocol::context()
}

/// Every id and address of ours.
#[derive(Clone)]
pub struct Ids {
    urls: Urls,
}

impl Ids {
    pub fn new(urls: Urls) -> Ids {
        Ids { urls }
    }
    pub fn base(&self) -> &str {
        self.urls.base()
    }
    pub fn host(&self) -> &str {
        self.urls.host()
    }
    pub fn actor(&self, name: &str) -> String {
        self.urls.absolute(&format!("/users/{name}"))
    }
    pub fn key(&self, name: &str) -> String {
        format!("{}#main-key", self.actor(name))
    }
    pub fn instance_actor(&self) -> String {
        self.urls.absolute("/actor")
    }
    pub fn instance_key(&self) -> String {
        format!("{}#main-key", self.instance_actor())
    }
    pub fn inbox(&self, name: &str) -> String {
        format!("{}/inbox", self.actor(name))
    }
    pub fn shared_inbox(&self) -> String {
        self.urls.absolute("/inbox")
    }
    pub fn followers(&self, name: &str) -> String {
        format!("{}/followers", self.actor(name))
    }
    pub fn following(&self, name: &str) -> String {
        format!("{}/following", self.actor(name))
    }
    pub fn outbox(&self, name: &str) -> String {
        format!("{}/outbox", self.actor(name))
    }
    pub fn featured(&self, name: &str) -> String {
        format!("{}/collections/featured", self.actor(name))
    }
    pub fn profile_page(&self, name: &str) -> String {
        self.urls.absolute(&Urls::profile(name))
    }
    pub fn note(&self, author: &str, id: PostId) -> String {
        format!("{}/statuses/{id}", self.actor(author))
    }
    pub fn note_page(&self, author: &str, id: PostId) -> String {
        self.urls.absolute(&Urls::post(author, id))
    }
    pub fn media(&self, file: &str) -> String {
        self.urls.absolute(&Urls::media(file))
    }
    pub fn tag(&self, tag: &str) -> String {
        self.urls.absolute(&Urls::tag(tag))
    }
    /// The id of a post referred to: its own when it came from elsewhere.
    pub fn reference(&self, r: &WireRef) -> String {
        r.remote_uri
            .clone()
            .unwrap_or_else(|| self.note(&r.author, r.id))
    }
    /// A local account's name in one of our actor ids (`/users/{name}`).
    pub fn local_name<'a>(&self, uri: &'a str) -> Option<&'a str> {
        let rest = uri.strip_prefix(self.base())?.strip_prefix("/users/")?;
        let name = rest.split(['/', '#', '?']).next()?;
        (!name.is_empty() && rest.len() == name.len()).then_some(name)
    }
    /// The local post an id of ours names (`/users/{name}/statuses/{id}` or the page
    /// `/@{name}/{id}`).
    pub fn local_post(&self, uri: &str) -> Option<PostId> {
        let rest = uri.strip_prefix(self.base())?;
        let id = if let Some(r) = rest.strip_prefix("/users/") {
            r.split_once("/statuses/")?.1
        } else {
            rest.strip_prefix("/@")?.split_once('/')?.1
        };
        id.parse().ok().map(PostId)
    }
}

pub fn rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

/// A local person as an actor document.
/// `discoverable` is false for people who opted out of search (here and elsewhere);
/// `migration` is where the account moved to and the accounts it says it also is.
pub fn actor(
    ids: &Ids,
    a: &Account,
    public_pem: &str,
    bio_html: &str,
    discoverable: bool,
    migration: &(Option<String>, Vec<String>),
) -> Value {
    let name = &a.username;
    let fields: Vec<Value> = a
        .fields
        .iter()
        .map(|(k, v)| {
            json!({"type": "PropertyValue", "name": k,
                   "value": crate::federation::html::from_text(v, &|_, _| None, &|t| ids.tag(t))})
        })
        .collect();
    let mut doc = json!({
        "@context": context(),
        "id": ids.actor(name),
        "type": if a.bot { "Service" } else { "Person" },
        "preferredUsername": name,
        "name": a.display_name,
        "summary": bio_html,
        "url": ids.profile_page(name),
        "inbox": ids.inbox(name),
        "outbox": ids.outbox(name),
        "followers": ids.followers(name),
        "following": ids.following(name),
        "featured": ids.featured(name),
        "endpoints": {"sharedInbox": ids.shared_inbox()},
        "manuallyApprovesFollowers": a.locked,
        "discoverable": discoverable,
        "indexable": discoverable,
        "published": rfc3339(a.created_at),
        "attachment": fields,
        "publicKey": {
            "id": ids.key(name),
            "owner": ids.actor(name),
            "publicKeyPem": public_pem,
        },
    });
    if !migration.1.is_empty() {
        doc["alsoKnownAs"] = json!(migration.1);
    }
    if let Some(to) = &migration.0 {
        doc["movedTo"] = json!(to);
    }
    if let Some(file) = &a.avatar {
        doc["icon"] = json!({"type": "Image", "mediaType": "image/jpeg", "url": ids.media(file)});
    }
    if let Some(file) = &a.header {
        doc["image"] = json!({"type": "Image", "mediaType": "image/jpeg", "url": ids.media(file)});
    }
    doc
}

/// The instance's own actor, which signs fetches no person asked for.
pub fn instance_actor(ids: &Ids, public_pem: &str) -> Value {
    json!({
        "@context": context(),
        "id": ids.instance_actor(),
        "type": "Application",
        "preferredUsername": ids.host(),
        "inbox": ids.shared_inbox(),
        "outbox": format!("{}/outbox", ids.instance_actor()),
        "manuallyApprovesFollowers": true,
        "url": ids.base(),
        "publicKey": {
            "id": ids.instance_key(),
            "owner": ids.instance_actor(),
            "publicKeyPem": public_pem,
        },
    })
}

/// to/cc for a post, exactly as Mastodon addresses each visibility.
pub fn addressing(ids: &Ids, w: &WirePost) -> (Vec<String>, Vec<String>) {
    let author = &w.post.author.username;
    let mentioned: Vec<String> = w
        .mentions
        .iter()
        .filter(|m| m.username != *author)
        .map(|m| {
            m.remote_uri
                .clone()
                .unwrap_or_else(|| ids.actor(&m.username))
        })
        .collect();
    match w.post.visibility {
        Visibility::Public => {
            let mut cc = vec![ids.followers(author)];
            cc.extend(mentioned);
            (vec![PUBLIC.to_string()], cc)
        }
        Visibility::Followers => (vec![ids.followers(author)], mentioned),
        Visibility::Mentioned => (mentioned, Vec::new()),
    }
}

/// A local post as a Note.
pub fn note(ids: &Ids, w: &WirePost) -> Value {
    let p = &w.post;
    let author = &p.author.username;
    let id = ids.note(author, p.id);
    let (to, cc) = addressing(ids, w);
    let mention_href = |name: &str, domain: Option<&str>| -> Option<String> {
        let handle = match domain {
            Some(d) => format!("{name}@{d}").to_ascii_lowercase(),
            None => name.to_ascii_lowercase(),
        };
        w.mentions.iter().find(|m| m.username == handle).map(|m| {
            m.remote_uri
                .clone()
                .unwrap_or_else(|| ids.actor(&m.username))
        })
    };
    let mut content = crate::federation::html::from_text(&p.body, &mention_href, &|t| ids.tag(t));
    let mut tags: Vec<Value> = w
        .mentions
        .iter()
        .filter(|m| m.username != *author)
        .map(|m| {
            let (href, name) = match &m.remote_uri {
                Some(uri) => (uri.clone(), format!("@{}", m.username)),
                None => (
                    ids.actor(&m.username),
                    format!("@{}@{}", m.username, ids.host()),
                ),
            };
            json!({"type": "Mention", "href": href, "name": name})
        })
        .collect();
    tags.extend(
        w.tags
            .iter()
            .map(|t| json!({"type": "Hashtag", "href": ids.tag(t), "name": format!("#{t}")})),
    );
    let attachments: Vec<Value> = p
        .media
        .iter()
        .map(|m| {
            let mut d = json!({
                "type": "Document",
                "mediaType": m.mime,
                "url": ids.media(&m.file),
                "name": if m.alt.is_empty() { Value::Null } else { Value::String(m.alt.clone()) },
                "width": m.width,
                "height": m.height,
            });
            if !m.blurhash.is_empty() {
                d["blurhash"] = Value::String(m.blurhash.clone());
            }
            d
        })
        .collect();
    let mut doc = json!({
        "id": id,
        "type": "Note",
        "attributedTo": ids.actor(author),
        "content": "",
        "published": rfc3339(p.created_at),
        "url": ids.note_page(author, p.id),
        "to": to,
        "cc": cc,
        "sensitive": !p.content_warning.is_empty() || p.media.iter().any(|m| m.sensitive),
        "summary": if p.content_warning.is_empty() { Value::Null } else { Value::String(p.content_warning.clone()) },
        "inReplyTo": w.parent.as_ref().map(|r| ids.reference(r)),
        "tag": tags,
        "attachment": attachments,
        "replies": format!("{id}/replies"),
    });
    if let Some(t) = p.edited_at {
        doc["updated"] = Value::String(rfc3339(t));
    }
    if let Some(q) = &w.quote {
        let qid = ids.reference(q);
        // FEP-044f, and the two older spellings Misskey-family and Akkoma servers read;
        // servers that know none of them see the link at the end of the text.
        content.push_str(&format!(
            "<p class=\"quote-inline\">RE: <a href=\"{0}\">{0}</a></p>",
            super::html::escaped(&qid)
        ));
        doc["quote"] = Value::String(qid.clone());
        doc["quoteUrl"] = Value::String(qid.clone());
        doc["_misskey_quote"] = Value::String(qid);
    }
    doc["content"] = Value::String(content);
    doc
}

/// Wraps an object in an activity with the context.
pub fn activity(
    id: &str,
    kind: &str,
    actor: &str,
    object: Value,
    to: &[String],
    cc: &[String],
) -> Value {
    json!({
        "@context": context(),
        "id": id,
        "type": kind,
        "actor": actor,
        "object": object,
        "to": to,
        "cc": cc,
    })
}

/// An ordered collection's first document: its size (pages are linked by the caller).
pub fn counted_collection(id: &str, total: i64) -> Value {
    json!({
        "@context": context(),
        "id": id,
        "type": "OrderedCollection",
        "totalItems": total,
    })
}
