//! ActivityPub wire types: what peers send us and what we send them.
//!
//! Reading is lenient because the fediverse speaks many dialects of one vocabulary: a property
//! may hold one value or an array, a reference may be an IRI, an embedded object or a `Link`,
//! and `type`s we have never heard of must not stop an inbox. Every optional property that does
//! not have the expected shape is dropped on its own (the rest of the document still parses),
//! array elements that cannot be read are skipped, and unknown types are kept as `Other`.
//!
//! Writing is exact: the builders produce the shapes and `@context` Mastodon produces, the most
//! widely tested dialect, and absent properties are left out rather than sent as `null`.

use std::collections::BTreeMap;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};

pub const AS_CONTEXT: &str = "https://www.w3.org/ns/activitystreams";
pub const SECURITY_CONTEXT: &str = "https://w3id.org/security/v1";
/// The special collection that makes a post public when addressed.
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// The `@context` of our actors, notes and the activities that embed them: every term our
/// output uses, defined as Mastodon defines it, so JSON-LD processors read our documents
/// exactly as they read Mastodon's.
pub fn context() -> Value {
    json!([
        AS_CONTEXT,
        SECURITY_CONTEXT,
        {
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            "toot": "http://joinmastodon.org/ns#",
            "featured": { "@id": "toot:featured", "@type": "@id" },
            "alsoKnownAs": { "@id": "as:alsoKnownAs", "@type": "@id" },
            "movedTo": { "@id": "as:movedTo", "@type": "@id" },
            "schema": "http://schema.org#",
            "PropertyValue": "schema:PropertyValue",
            "value": "schema:value",
            "discoverable": "toot:discoverable",
            "indexable": "toot:indexable",
            "sensitive": "as:sensitive",
            "Hashtag": "as:Hashtag",
            "Emoji": "toot:Emoji",
            "blurhash": "toot:blurhash",
            "focalPoint": { "@container": "@list", "@id": "toot:focalPoint" },
            "quote": "https://w3id.org/fep/044f#quote",
            "quoteUrl": "as:quoteUrl",
            "quoteUri": "http://fedibird.com/ns#quoteUri",
            "_misskey_quote": "https://misskey-hub.net/ns#_misskey_quote",
            "quoteAuthorization": { "@id": "https://w3id.org/fep/044f#quoteAuthorization", "@type": "@id" },
            "gts": "https://gotosocial.org/ns#",
            "interactionPolicy": { "@id": "gts:interactionPolicy", "@type": "@id" },
            "canQuote": { "@id": "gts:canQuote", "@type": "@id" },
            "automaticApproval": { "@id": "gts:automaticApproval", "@type": "@id" },
            "manualApproval": { "@id": "gts:manualApproval", "@type": "@id" }
        }
    ])
}

// ---------------------------------------------------------------------------------------------
// Lenient readers

/// Absent properties are left out of our output, not written as `null`.
fn is_none<T>(v: &Option<T>) -> bool {
    v.is_none()
}

/// Reads an optional property; a value of the wrong shape counts as absent, so one odd property
/// from a peer costs that property only, never the whole document.
fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let v = Value::deserialize(d)?;
    if v.is_null() {
        return Ok(None);
    }
    Ok(T::deserialize(v).ok())
}

/// Pixel sizes arrive as integers, floats (`1200.0`) or strings depending on the peer.
fn pixels<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()).or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0 && *f <= f64::from(u32::MAX))
                .map(|f| f.round() as u32)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

// ---------------------------------------------------------------------------------------------
// OneOrMany

/// A property that peers send either as a single value or as an array (JSON-LD treats both
/// alike). Arrays stay arrays on output so what we read re-serializes the same way.
#[derive(Debug, Clone, PartialEq)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    pub fn as_slice(&self) -> &[T] {
        match self {
            OneOrMany::One(t) => std::slice::from_ref(t),
            OneOrMany::Many(v) => v,
        }
    }

    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.as_slice().iter()
    }

    pub fn first(&self) -> Option<&T> {
        self.as_slice().first()
    }

    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    pub fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(t) => vec![t],
            OneOrMany::Many(v) => v,
        }
    }
}

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany::Many(Vec::new())
    }
}

impl<T> From<Vec<T>> for OneOrMany<T> {
    fn from(v: Vec<T>) -> Self {
        OneOrMany::Many(v)
    }
}

impl<'a, T> IntoIterator for &'a OneOrMany<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T: Serialize> Serialize for OneOrMany<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            OneOrMany::One(t) => t.serialize(s),
            OneOrMany::Many(v) => v.serialize(s),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            // One unreadable element (a tag shape we do not know, say) must not cost the others.
            Value::Array(items) => Ok(OneOrMany::Many(
                items
                    .into_iter()
                    .filter_map(|v| T::deserialize(v).ok())
                    .collect(),
            )),
            v => T::deserialize(v)
                .map(OneOrMany::One)
                .map_err(D::Error::custom),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Vocabulary (`type`)

/// Some peers write `as:Note` or the full ActivityStreams IRI instead of `Note`.
fn bare_type(s: &str) -> &str {
    s.strip_prefix("https://www.w3.org/ns/activitystreams#")
        .or_else(|| s.strip_prefix("as:"))
        .unwrap_or(s)
}

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
            /// A type without a variant here, kept as the peer spelled it so nothing is lost.
            Other(String),
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => stringify!($variant),)+
                    $name::Other(s) => s,
                }
            }

            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Other(_))
            }

            fn from_value(v: &Value) -> Option<$name> {
                match v {
                    Value::String(s) => Some($name::from(s.as_str())),
                    // JSON-LD allows several types at once; the first one we know wins.
                    Value::Array(items) => {
                        let mut names = items.iter().filter_map(Value::as_str).map($name::from);
                        let first = names.next()?;
                        if first.is_known() {
                            return Some(first);
                        }
                        Some(names.find($name::is_known).unwrap_or(first))
                    }
                    _ => None,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> $name {
                match bare_type(s) {
                    $(stringify!($variant) => $name::$variant,)+
                    _ => $name::Other(s.to_owned()),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let v = Value::deserialize(d)?;
                $name::from_value(&v)
                    .ok_or_else(|| D::Error::custom("`type` is neither a string nor a list of strings"))
            }
        }
    };
}

vocabulary! {
    /// The activities we act on. Anything else parses as `Other` so an inbox never rejects a
    /// delivery just for being new to us.
    ActivityKind {
        Follow, Accept, Reject, Undo, Create, Update, Delete, Announce, Like, EmojiReact,
        Block, Flag, Move, Add, Remove,
    }
}

vocabulary! {
    ActorKind { Person, Service, Application, Group, Organization }
}

vocabulary! {
    /// Post-like objects and media. Lemmy posts are `Page`s, PeerTube's are `Video`s.
    ObjectKind { Note, Article, Page, Question, Tombstone, Document, Image, Video, Audio, Event }
}

vocabulary! {
    TagKind { Mention, Hashtag, Emoji, Link }
}

// ---------------------------------------------------------------------------------------------
// References and links

/// Anything with an IRI, so a reference can answer with its target's IRI whether the target
/// was sent by IRI or embedded.
pub trait HasIri {
    fn iri(&self) -> Option<&str>;
}

/// A `Link` object: how PeerTube and Pleroma give URLs, and how FEP-e232 tags point at objects.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    #[serde(rename = "type")]
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub href: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub media_type: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub rel: Option<OneOrMany<String>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub hreflang: Option<String>,
    #[serde(default, deserialize_with = "pixels", skip_serializing_if = "is_none")]
    pub width: Option<u32>,
    #[serde(default, deserialize_with = "pixels", skip_serializing_if = "is_none")]
    pub height: Option<u32>,
}

impl HasIri for Link {
    fn iri(&self) -> Option<&str> {
        self.href.as_deref()
    }
}

/// A `url` entry: a bare IRI (Mastodon) or a `Link` with a media type (PeerTube, Fedify).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UrlValue {
    Iri(String),
    Link(Link),
}

impl UrlValue {
    pub fn href(&self) -> Option<&str> {
        match self {
            UrlValue::Iri(s) => Some(s),
            UrlValue::Link(l) => l.href.as_deref(),
        }
    }

    fn is_html(&self) -> bool {
        match self {
            UrlValue::Iri(_) => false,
            UrlValue::Link(l) => l
                .media_type
                .as_deref()
                .is_some_and(|m| m.starts_with("text/html")),
        }
    }
}

/// The page a person should open: the `text/html` entry when a peer lists several (PeerTube
/// lists video files too), else the first.
fn preferred_href(urls: &OneOrMany<UrlValue>) -> Option<&str> {
    urls.iter()
        .find(|u| u.is_html())
        .or_else(|| urls.first())
        .and_then(UrlValue::href)
}

/// How many levels of arrays and objects an embedded object may hold; deeper ones are kept as
/// their IRI only (to be fetched, if wanted).
const MAX_EMBED_DEPTH: usize = 16;

/// Whether `v` holds more than `limit` levels of arrays and objects. Iterative, so the check
/// itself cannot exhaust the stack.
fn deeper_than(v: &Value, limit: usize) -> bool {
    let mut pending = vec![(v, 0usize)];
    while let Some((v, depth)) = pending.pop() {
        match v {
            Value::Array(_) | Value::Object(_) if depth >= limit => return true,
            Value::Array(items) => pending.extend(items.iter().map(|c| (c, depth + 1))),
            Value::Object(map) => pending.extend(map.values().map(|c| (c, depth + 1))),
            _ => {}
        }
    }
    false
}

/// A property that may name its target by IRI, embed it, or wrap the IRI in a `Link`.
#[derive(Debug, Clone, PartialEq)]
pub enum Reference<T> {
    Iri(String),
    Link(Link),
    Object(Box<T>),
}

impl<T> Reference<T> {
    pub fn embed(t: T) -> Reference<T> {
        Reference::Object(Box::new(t))
    }

    /// The embedded target, when the peer sent it whole.
    pub fn object(&self) -> Option<&T> {
        match self {
            Reference::Object(t) => Some(t),
            _ => None,
        }
    }
}

impl<T: HasIri> Reference<T> {
    pub fn iri(&self) -> Option<&str> {
        match self {
            Reference::Iri(s) => Some(s),
            Reference::Link(l) => l.href.as_deref(),
            Reference::Object(t) => t.iri(),
        }
    }
}

impl<T> From<&str> for Reference<T> {
    fn from(s: &str) -> Self {
        Reference::Iri(s.to_owned())
    }
}

impl<T> From<String> for Reference<T> {
    fn from(s: String) -> Self {
        Reference::Iri(s)
    }
}

impl<T: Serialize> Serialize for Reference<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Reference::Iri(iri) => s.serialize_str(iri),
            Reference::Link(l) => l.serialize(s),
            Reference::Object(t) => t.serialize(s),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Reference<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = match Value::deserialize(d)? {
            Value::String(s) => return Ok(Reference::Iri(s)),
            Value::Object(map) => map,
            _ => return Err(D::Error::custom("expected an IRI, a Link or an object")),
        };
        let is_link = match map.get("type") {
            Some(t) => t.as_str().map(bare_type) == Some("Link"),
            None => map.contains_key("href") && !map.contains_key("id"),
        };
        if is_link {
            return Link::deserialize(Value::Object(map))
                .map(Reference::Link)
                .map_err(D::Error::custom);
        }
        let id = map.get("id").and_then(Value::as_str).map(str::to_owned);
        // Each embedding level costs stack while it is read; a hostile peer could nest
        // `Undo`s a hundred deep. Real documents nest a few levels (Announce, Create, Note).
        if map.values().any(|v| deeper_than(v, MAX_EMBED_DEPTH - 1)) {
            return id
                .map(Reference::Iri)
                .ok_or_else(|| D::Error::custom("embedded object nested too deeply"));
        }
        match T::deserialize(Value::Object(map)) {
            Ok(t) => Ok(Reference::Object(Box::new(t))),
            // An embedded copy we cannot read still names the original, which can be fetched.
            Err(e) => id.map(Reference::Iri).ok_or_else(|| D::Error::custom(e)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Small objects

/// Media: post attachments, avatars, headers, emoji images. Lemmy sends link posts here as
/// `Link`s with `href` instead of `url`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    #[serde(rename = "type")]
    pub kind: ObjectKind,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub media_type: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub url: Option<OneOrMany<UrlValue>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub href: Option<String>,
    /// Alt text, for Mastodon and most others.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub name: Option<String>,
    /// Alt text where a peer follows ActivityStreams to the letter (GoToSocial plans to).
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub summary: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub blurhash: Option<String>,
    /// x and y in -1.0..=1.0, y pointing up.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub focal_point: Option<[f64; 2]>,
    #[serde(default, deserialize_with = "pixels", skip_serializing_if = "is_none")]
    pub width: Option<u32>,
    #[serde(default, deserialize_with = "pixels", skip_serializing_if = "is_none")]
    pub height: Option<u32>,
}

impl Attachment {
    /// A media attachment as Mastodon sends one; fill in the optional fields after.
    pub fn document(url: &str, media_type: &str) -> Attachment {
        Attachment {
            kind: ObjectKind::Document,
            media_type: Some(media_type.to_owned()),
            url: Some(OneOrMany::One(UrlValue::Iri(url.to_owned()))),
            href: None,
            name: None,
            summary: None,
            blurhash: None,
            focal_point: None,
            width: None,
            height: None,
        }
    }

    pub fn href(&self) -> Option<&str> {
        self.url
            .as_ref()
            .and_then(preferred_href)
            .or(self.href.as_deref())
    }

    pub fn description(&self) -> Option<&str> {
        [self.name.as_deref(), self.summary.as_deref()]
            .into_iter()
            .flatten()
            .find(|s| !s.trim().is_empty())
    }
}

impl HasIri for Attachment {
    fn iri(&self) -> Option<&str> {
        self.href()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tag {
    #[serde(rename = "type")]
    pub kind: TagKind,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub href: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub media_type: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub rel: Option<OneOrMany<String>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub updated: Option<String>,
    /// The image of a custom emoji.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub icon: Option<Reference<Attachment>>,
}

impl Tag {
    /// `href` is the actor IRI, `name` is `@user@host` (Mastodon writes `@user` for its own).
    pub fn mention(href: &str, name: &str) -> Tag {
        Tag::plain(TagKind::Mention, href, name)
    }

    /// `name` includes the `#`.
    pub fn hashtag(href: &str, name: &str) -> Tag {
        Tag::plain(TagKind::Hashtag, href, name)
    }

    fn plain(kind: TagKind, href: &str, name: &str) -> Tag {
        Tag {
            kind,
            id: None,
            href: Some(href.to_owned()),
            name: Some(name.to_owned()),
            media_type: None,
            rel: None,
            updated: None,
            icon: None,
        }
    }
}

/// The author's own text, in the markup they wrote it in (Markdown, MFM, plain).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub content: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub media_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub owner: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub public_key_pem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub shared_inbox: Option<String>,
}

/// A profile field; `value` is HTML.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyValue {
    #[serde(rename = "type")]
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub value: Option<String>,
}

impl PropertyValue {
    pub fn new(name: &str, value_html: &str) -> PropertyValue {
        PropertyValue {
            kind: Some("PropertyValue".to_owned()),
            name: Some(name.to_owned()),
            value: Some(value_html.to_owned()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Collection {
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub id: Option<String>,
    #[serde(rename = "type")]
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub total_items: Option<u64>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub first: Option<Reference<Collection>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub next: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub part_of: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub items: Option<OneOrMany<Value>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub ordered_items: Option<OneOrMany<Value>>,
}

impl HasIri for Collection {
    fn iri(&self) -> Option<&str> {
        self.id.as_deref()
    }
}

/// GoToSocial's interaction policy, which Mastodon adopted for quote permissions (FEP-044f).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InteractionPolicy {
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub can_like: Option<InteractionRule>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub can_reply: Option<InteractionRule>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub can_announce: Option<InteractionRule>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub can_quote: Option<InteractionRule>,
}

/// Actors and collections allowed to interact. GoToSocial renamed `always` and
/// `approvalRequired` to `automaticApproval` and `manualApproval` and sends both for a while;
/// read through [`InteractionRule::automatic`] and [`InteractionRule::manual`] to see either.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InteractionRule {
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub automatic_approval: Option<OneOrMany<String>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub manual_approval: Option<OneOrMany<String>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub always: Option<OneOrMany<String>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub approval_required: Option<OneOrMany<String>>,
}

fn iris(lists: [Option<&OneOrMany<String>>; 2]) -> impl Iterator<Item = &str> {
    lists
        .into_iter()
        .flatten()
        .flat_map(|l| l.iter().map(String::as_str))
}

impl InteractionRule {
    pub fn automatic(&self) -> impl Iterator<Item = &str> {
        iris([self.automatic_approval.as_ref(), self.always.as_ref()])
    }

    pub fn manual(&self) -> impl Iterator<Item = &str> {
        iris([
            self.manual_approval.as_ref(),
            self.approval_required.as_ref(),
        ])
    }
}

// ---------------------------------------------------------------------------------------------
// Actor

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    #[serde(rename = "@context")]
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub ld_context: Option<Value>,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: ActorKind,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub following: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub followers: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub inbox: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub outbox: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub featured: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub preferred_username: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub name: Option<String>,
    /// HTML.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub summary: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub url: Option<OneOrMany<UrlValue>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub manually_approves_followers: Option<bool>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub discoverable: Option<bool>,
    /// Whether the actor's public posts may be full-text indexed (Mastodon's opt-in).
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub indexable: Option<bool>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub published: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub public_key: Option<PublicKey>,
    /// Custom emoji and hashtags used in the name and bio.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub tag: Option<OneOrMany<Tag>>,
    /// Profile fields.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub attachment: Option<OneOrMany<PropertyValue>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub endpoints: Option<Endpoints>,
    /// Misskey repeats the shared inbox at the top level; older software sent it only there.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub shared_inbox: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub icon: Option<OneOrMany<Reference<Attachment>>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub image: Option<OneOrMany<Reference<Attachment>>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub moved_to: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub also_known_as: Option<OneOrMany<String>>,
}

impl HasIri for Actor {
    fn iri(&self) -> Option<&str> {
        Some(&self.id)
    }
}

fn first_image(images: Option<&OneOrMany<Reference<Attachment>>>) -> Option<&str> {
    images?.iter().find_map(Reference::iri)
}

impl Actor {
    /// A local person as Mastodon serves one. The collections and key id follow Mastodon's
    /// layout under `id` (`{id}/inbox`, `{id}/collections/featured`, `{id}#main-key`, ...), so
    /// the routes must serve them there; set the display name, bio, fields and images after.
    pub fn person(
        id: &str,
        username: &str,
        url: &str,
        shared_inbox: &str,
        public_key_pem: &str,
    ) -> Actor {
        Actor {
            ld_context: Some(context()),
            id: id.to_owned(),
            kind: ActorKind::Person,
            following: Some(format!("{id}/following")),
            followers: Some(format!("{id}/followers")),
            inbox: Some(format!("{id}/inbox")),
            outbox: Some(format!("{id}/outbox")),
            featured: Some(format!("{id}/collections/featured")),
            preferred_username: Some(username.to_owned()),
            // Mastodon falls back to the username when there is no display name.
            name: Some(username.to_owned()),
            summary: Some(String::new()),
            url: Some(OneOrMany::One(UrlValue::Iri(url.to_owned()))),
            manually_approves_followers: Some(false),
            discoverable: Some(false),
            indexable: Some(false),
            published: None,
            public_key: Some(PublicKey {
                id: Some(format!("{id}#main-key")),
                owner: Some(id.to_owned()),
                public_key_pem: Some(public_key_pem.to_owned()),
            }),
            tag: Some(OneOrMany::default()),
            attachment: Some(OneOrMany::default()),
            endpoints: Some(Endpoints {
                shared_inbox: Some(shared_inbox.to_owned()),
            }),
            shared_inbox: None,
            icon: None,
            image: None,
            moved_to: None,
            also_known_as: None,
        }
    }

    /// Where to deliver once for everyone on the actor's server; `None` means the personal
    /// inbox (GoToSocial has no shared inbox).
    pub fn shared_inbox(&self) -> Option<&str> {
        self.endpoints
            .as_ref()
            .and_then(|e| e.shared_inbox.as_deref())
            .or(self.shared_inbox.as_deref())
            .filter(|s| !s.is_empty())
    }

    pub fn public_key_pem(&self) -> Option<&str> {
        self.public_key.as_ref()?.public_key_pem.as_deref()
    }

    pub fn profile_url(&self) -> Option<&str> {
        self.url.as_ref().and_then(preferred_href)
    }

    pub fn icon_url(&self) -> Option<&str> {
        first_image(self.icon.as_ref())
    }

    pub fn image_url(&self) -> Option<&str> {
        first_image(self.image.as_ref())
    }

    /// Profile fields as (name, HTML value).
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.attachment
            .iter()
            .flatten()
            .filter(|p| {
                p.kind
                    .as_deref()
                    .is_none_or(|k| bare_type(k) == "PropertyValue")
            })
            .filter_map(|p| Some((p.name.as_deref()?, p.value.as_deref()?)))
    }
}

// ---------------------------------------------------------------------------------------------
// Object / Note

/// A post or other content object. Field order is Mastodon's, so our output reads like its.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Object {
    #[serde(rename = "@context")]
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub ld_context: Option<Value>,
    /// Absent only on anonymous embedded objects such as poll options.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: ObjectKind,
    /// Lemmy's post title.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub name: Option<String>,
    /// The content warning.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub summary: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub in_reply_to: Option<Reference<Object>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub published: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub url: Option<OneOrMany<UrlValue>>,
    /// An IRI for most; PeerTube lists the account and the channel as objects.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub attributed_to: Option<OneOrMany<Reference<Actor>>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub to: Option<OneOrMany<String>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub cc: Option<OneOrMany<String>>,
    /// Lemmy's community.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub audience: Option<OneOrMany<String>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub sensitive: Option<bool>,
    /// HTML.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub content: Option<String>,
    /// Language tag to HTML.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub content_map: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub media_type: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub source: Option<Source>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub updated: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub attachment: Option<OneOrMany<Attachment>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub tag: Option<OneOrMany<Tag>>,
    /// Lemmy's thumbnail.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub image: Option<OneOrMany<Reference<Attachment>>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub replies: Option<Reference<Collection>>,
    /// FEP-044f (Mastodon 4.5, Fedify).
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub quote: Option<Reference<Object>>,
    /// Misskey and its forks, Threads.
    #[serde(rename = "_misskey_quote")]
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub misskey_quote: Option<String>,
    /// Fedibird.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub quote_uri: Option<String>,
    /// Pleroma and Akkoma.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub quote_url: Option<String>,
    /// The quoted author's stamp of approval (FEP-044f), to be checked before showing a quote.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub quote_authorization: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub interaction_policy: Option<InteractionPolicy>,
    /// On a `Tombstone`, what the object was.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub former_type: Option<String>,
}

/// Most objects we handle are notes; the name reads better at call sites.
pub type Note = Object;

impl HasIri for Object {
    fn iri(&self) -> Option<&str> {
        self.id.as_deref()
    }
}

impl Object {
    fn empty(kind: ObjectKind, id: &str) -> Object {
        Object {
            ld_context: None,
            id: Some(id.to_owned()),
            kind,
            name: None,
            summary: None,
            in_reply_to: None,
            published: None,
            url: None,
            attributed_to: None,
            to: None,
            cc: None,
            audience: None,
            sensitive: None,
            content: None,
            content_map: None,
            media_type: None,
            source: None,
            updated: None,
            attachment: None,
            tag: None,
            image: None,
            replies: None,
            quote: None,
            misskey_quote: None,
            quote_uri: None,
            quote_url: None,
            quote_authorization: None,
            interaction_policy: None,
            former_type: None,
        }
    }

    /// A note as Mastodon serves one: `sensitive`, `attachment` and `tag` always present.
    /// Set the content warning, reply target, URL, language map, media, tags and quote after.
    pub fn note(
        id: &str,
        attributed_to: &str,
        published: &str,
        content: &str,
        addressing: Addressing,
    ) -> Note {
        Object {
            ld_context: Some(context()),
            published: Some(published.to_owned()),
            attributed_to: Some(OneOrMany::One(Reference::from(attributed_to))),
            to: Some(OneOrMany::Many(addressing.to)),
            cc: Some(OneOrMany::Many(addressing.cc)),
            sensitive: Some(false),
            content: Some(content.to_owned()),
            attachment: Some(OneOrMany::default()),
            tag: Some(OneOrMany::default()),
            ..Object::empty(ObjectKind::Note, id)
        }
    }

    pub fn tombstone(id: &str) -> Object {
        Object::empty(ObjectKind::Tombstone, id)
    }

    /// Quotes the way every dialect marks them: FEP-044f `quote` first, then Pleroma's
    /// `quoteUrl`, Misskey's `_misskey_quote` and Fedibird's `quoteUri`.
    pub fn quote_iri(&self) -> Option<&str> {
        self.quote
            .as_ref()
            .and_then(Reference::iri)
            .or(self.quote_url.as_deref())
            .or(self.misskey_quote.as_deref())
            .or(self.quote_uri.as_deref())
    }

    /// Sets every quote property, so Mastodon, Misskey, Pleroma and Fedibird all see it.
    pub fn set_quote(&mut self, quoted: &str, authorization: Option<&str>) {
        self.quote = Some(Reference::from(quoted));
        self.misskey_quote = Some(quoted.to_owned());
        self.quote_uri = Some(quoted.to_owned());
        self.quote_url = Some(quoted.to_owned());
        self.quote_authorization = authorization.map(str::to_owned);
    }

    /// The author. PeerTube lists the channel (a `Group`) beside the account, so an embedded
    /// group is passed over when anything else is listed.
    pub fn attributed_actor(&self) -> Option<&str> {
        let list = self.attributed_to.as_ref()?;
        let is_group =
            |r: &&Reference<Actor>| r.object().is_some_and(|a| a.kind == ActorKind::Group);
        list.iter()
            .filter(|r| !is_group(r))
            .find_map(Reference::iri)
            .or_else(|| list.iter().find_map(Reference::iri))
    }

    pub fn in_reply_to_iri(&self) -> Option<&str> {
        self.in_reply_to.as_ref()?.iri()
    }

    pub fn url_href(&self) -> Option<&str> {
        self.url.as_ref().and_then(preferred_href)
    }

    /// Actor IRIs of the `Mention` tags.
    pub fn mentions(&self) -> impl Iterator<Item = &str> {
        self.tag
            .iter()
            .flatten()
            .filter(|t| t.kind == TagKind::Mention)
            .filter_map(|t| t.href.as_deref())
    }

    /// See [`visibility`]; `followers` is the author's followers collection.
    pub fn visibility(&self, followers: Option<&str>) -> Visibility {
        visibility(self.to.as_ref(), self.cc.as_ref(), followers)
    }
}

// ---------------------------------------------------------------------------------------------
// Activity

/// What an activity's `object` or `target` points at, told apart by `type`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ActivityObject {
    Activity(Box<Activity>),
    Actor(Box<Actor>),
    Object(Box<Object>),
}

impl HasIri for ActivityObject {
    fn iri(&self) -> Option<&str> {
        match self {
            ActivityObject::Activity(a) => a.iri(),
            ActivityObject::Actor(a) => a.iri(),
            ActivityObject::Object(o) => o.iri(),
        }
    }
}

impl<'de> Deserialize<'de> for ActivityObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let ty = v.get("type");
        let known = |known: Option<bool>| known.unwrap_or(false);
        let activity = known(ty.and_then(ActivityKind::from_value).map(|k| k.is_known()));
        let actor = known(ty.and_then(ActorKind::from_value).map(|k| k.is_known()));
        let object = known(ty.and_then(ObjectKind::from_value).map(|k| k.is_known()));
        // An activity type we have no variant for (Lemmy's `Dislike` inside an `Undo`, say)
        // still has an actor and an object and, unlike Pleroma's notes, no author.
        let activity_shaped = v.get("actor").is_some()
            && v.get("object").is_some()
            && v.get("attributedTo").is_none();
        let parsed = if activity || (!actor && !object && activity_shaped) {
            Activity::deserialize(v).map(|a| ActivityObject::Activity(Box::new(a)))
        } else if actor {
            Actor::deserialize(v).map(|a| ActivityObject::Actor(Box::new(a)))
        } else {
            Object::deserialize(v).map(|o| ActivityObject::Object(Box::new(o)))
        };
        parsed.map_err(D::Error::custom)
    }
}

impl From<Activity> for ActivityObject {
    fn from(a: Activity) -> Self {
        ActivityObject::Activity(Box::new(a))
    }
}

impl From<Actor> for ActivityObject {
    fn from(a: Actor) -> Self {
        ActivityObject::Actor(Box::new(a))
    }
}

impl From<Object> for ActivityObject {
    fn from(o: Object) -> Self {
        ActivityObject::Object(Box::new(o))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    #[serde(rename = "@context")]
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub ld_context: Option<Value>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: ActivityKind,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub actor: Option<Reference<Actor>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub published: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub to: Option<OneOrMany<String>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub cc: Option<OneOrMany<String>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub audience: Option<OneOrMany<String>>,
    /// A `Flag`'s comment, an `EmojiReact`'s emoji.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub content: Option<String>,
    /// A custom emoji reaction's image.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub tag: Option<OneOrMany<Tag>>,
    /// A `Move`'s new account, an `Add`'s collection.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub target: Option<Reference<ActivityObject>>,
    /// Several only on `Flag` (the account and the reported posts).
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "is_none")]
    pub object: Option<OneOrMany<Reference<ActivityObject>>>,
}

impl HasIri for Activity {
    fn iri(&self) -> Option<&str> {
        self.id.as_deref()
    }
}

/// Embedded documents inherit the outer `@context`; Mastodon never repeats it inside.
fn embedded<T: Into<ActivityObject>>(t: T) -> Reference<ActivityObject> {
    let mut o = t.into();
    match &mut o {
        ActivityObject::Activity(a) => a.ld_context = None,
        ActivityObject::Actor(a) => a.ld_context = None,
        ActivityObject::Object(n) => n.ld_context = None,
    }
    Reference::embed(o)
}

fn public_only() -> Option<OneOrMany<String>> {
    Some(OneOrMany::Many(vec![PUBLIC.to_owned()]))
}

impl Activity {
    fn base(
        kind: ActivityKind,
        id: &str,
        actor: Option<&str>,
        object: OneOrMany<Reference<ActivityObject>>,
    ) -> Activity {
        Activity {
            ld_context: Some(Value::String(AS_CONTEXT.to_owned())),
            id: Some(id.to_owned()),
            kind,
            actor: actor.map(Reference::from),
            published: None,
            to: None,
            cc: None,
            audience: None,
            content: None,
            tag: None,
            target: None,
            object: Some(object),
        }
    }

    /// A bare activity with the plain ActivityStreams context, as Mastodon sends those that use
    /// no extension terms.
    pub fn new(
        kind: ActivityKind,
        id: &str,
        actor: &str,
        object: Reference<ActivityObject>,
    ) -> Activity {
        Activity::base(kind, id, Some(actor), OneOrMany::One(object))
    }

    pub fn follow(id: &str, actor: &str, followed: &str) -> Activity {
        Activity::new(ActivityKind::Follow, id, actor, Reference::from(followed))
    }

    /// Accepts a follow request, embedding it as Mastodon does so the follower need not look
    /// it up.
    pub fn accept(id: &str, actor: &str, follow: Activity) -> Activity {
        Activity::new(ActivityKind::Accept, id, actor, embedded(follow))
    }

    pub fn reject(id: &str, actor: &str, follow: Activity) -> Activity {
        Activity::new(ActivityKind::Reject, id, actor, embedded(follow))
    }

    pub fn undo(id: &str, actor: &str, activity: Activity) -> Activity {
        Activity::new(ActivityKind::Undo, id, actor, embedded(activity))
    }

    /// Wraps a note; actor, addressing and time come from the note, as Mastodon's do.
    pub fn create(id: &str, mut note: Note) -> Activity {
        let ld_context = note.ld_context.take().or_else(|| Some(context()));
        let actor = note.attributed_actor().map(str::to_owned);
        Activity {
            ld_context,
            published: note.published.clone(),
            to: note.to.clone(),
            cc: note.cc.clone(),
            ..Activity::base(
                ActivityKind::Create,
                id,
                actor.as_deref(),
                OneOrMany::One(embedded(note)),
            )
        }
    }

    /// Announces a profile change to everyone who holds a copy.
    pub fn update_actor(id: &str, mut actor: Actor) -> Activity {
        let ld_context = actor.ld_context.take().or_else(|| Some(context()));
        let actor_id = actor.id.clone();
        Activity {
            ld_context,
            to: public_only(),
            ..Activity::new(ActivityKind::Update, id, &actor_id, embedded(actor))
        }
    }

    /// Announces an edit; `published` is the edit time and is also the note's `updated`.
    pub fn update_note(id: &str, mut note: Note, published: &str) -> Activity {
        let ld_context = note.ld_context.take().or_else(|| Some(context()));
        let actor = note.attributed_actor().map(str::to_owned);
        note.updated = Some(published.to_owned());
        Activity {
            ld_context,
            published: Some(published.to_owned()),
            to: note.to.clone(),
            cc: note.cc.clone(),
            ..Activity::base(
                ActivityKind::Update,
                id,
                actor.as_deref(),
                OneOrMany::One(embedded(note)),
            )
        }
    }

    pub fn like(id: &str, actor: &str, object: &str) -> Activity {
        Activity::new(ActivityKind::Like, id, actor, Reference::from(object))
    }

    /// A boost. Mastodon addresses it by the booster's visibility and adds the original author
    /// to `cc`; pass [`addressing`]'s result with the author among the mentions.
    pub fn announce(
        id: &str,
        actor: &str,
        object: &str,
        published: &str,
        addressing: Addressing,
    ) -> Activity {
        Activity {
            published: Some(published.to_owned()),
            to: Some(OneOrMany::Many(addressing.to)),
            cc: Some(OneOrMany::Many(addressing.cc)),
            ..Activity::new(ActivityKind::Announce, id, actor, Reference::from(object))
        }
    }

    /// Deletes a post, leaving a `Tombstone`; always addressed to Public, as Mastodon does, so
    /// every server holding a copy drops it.
    pub fn delete_note(id: &str, actor: &str, note: &str) -> Activity {
        Activity {
            to: public_only(),
            ..Activity::new(
                ActivityKind::Delete,
                id,
                actor,
                Reference::embed(Object::tombstone(note).into()),
            )
        }
    }

    pub fn delete_actor(id: &str, actor: &str) -> Activity {
        Activity {
            to: public_only(),
            ..Activity::new(ActivityKind::Delete, id, actor, Reference::from(actor))
        }
    }

    pub fn block(id: &str, actor: &str, blocked: &str) -> Activity {
        Activity::new(ActivityKind::Block, id, actor, Reference::from(blocked))
    }

    /// A report forwarded to the reported account's server: the account first, then the posts,
    /// sent by the instance actor so the reporter stays anonymous.
    pub fn flag(id: &str, actor: &str, comment: &str, objects: &[&str]) -> Activity {
        let objects = objects.iter().map(|o| Reference::from(*o)).collect();
        Activity {
            content: Some(comment.to_owned()),
            ..Activity::base(
                ActivityKind::Flag,
                id,
                Some(actor),
                OneOrMany::Many(objects),
            )
        }
    }

    /// Moves followers from `actor` to `target`, which must list `actor` in `alsoKnownAs`.
    pub fn move_to(id: &str, actor: &str, target: &str) -> Activity {
        Activity {
            target: Some(Reference::from(target)),
            ..Activity::new(ActivityKind::Move, id, actor, Reference::from(actor))
        }
    }

    pub fn actor_iri(&self) -> Option<&str> {
        self.actor.as_ref()?.iri()
    }

    pub fn object_ref(&self) -> Option<&Reference<ActivityObject>> {
        self.object.as_ref()?.first()
    }

    /// The (first) object's IRI, whether it was sent as an IRI or embedded.
    pub fn object_iri(&self) -> Option<&str> {
        self.object_ref()?.iri()
    }

    /// Every object's IRI; only `Flag` has several.
    pub fn object_iris(&self) -> Vec<&str> {
        self.object
            .iter()
            .flatten()
            .filter_map(Reference::iri)
            .collect()
    }

    pub fn target_iri(&self) -> Option<&str> {
        self.target.as_ref()?.iri()
    }

    pub fn embedded_activity(&self) -> Option<&Activity> {
        match self.object_ref()?.object()? {
            ActivityObject::Activity(a) => Some(a),
            _ => None,
        }
    }

    pub fn embedded_actor(&self) -> Option<&Actor> {
        match self.object_ref()?.object()? {
            ActivityObject::Actor(a) => Some(a),
            _ => None,
        }
    }

    pub fn embedded_object(&self) -> Option<&Object> {
        match self.object_ref()?.object()? {
            ActivityObject::Object(o) => Some(o),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Addressing and visibility

/// Who may see a post, in Mastodon's four levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Public in `to`: shown everywhere.
    Public,
    /// Public in `cc` only: visible to all but kept off public timelines.
    Unlisted,
    /// Followers collection in `to`, no Public.
    FollowersOnly,
    /// Only the people addressed.
    Direct,
}

/// Mastodon and others also write the Public collection in its compact forms.
pub fn is_public_iri(iri: &str) -> bool {
    iri == PUBLIC || iri == "as:Public" || iri == "Public"
}

/// Whether a `to` or `cc` list includes the Public collection.
pub fn is_public(addressing: Option<&OneOrMany<String>>) -> bool {
    addressing
        .into_iter()
        .flatten()
        .any(|iri| is_public_iri(iri))
}

/// Mastodon's reading of an object's addressing. It looks for the followers collection in `to`
/// only: followers in `cc` alone make a post direct, as they do on Mastodon.
pub fn visibility(
    to: Option<&OneOrMany<String>>,
    cc: Option<&OneOrMany<String>>,
    followers: Option<&str>,
) -> Visibility {
    if is_public(to) {
        Visibility::Public
    } else if is_public(cc) {
        Visibility::Unlisted
    } else if followers.is_some_and(|f| to.into_iter().flatten().any(|iri| iri == f)) {
        Visibility::FollowersOnly
    } else {
        Visibility::Direct
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Addressing {
    pub to: Vec<String>,
    pub cc: Vec<String>,
}

/// `to` and `cc` for a post, as Mastodon addresses them; [`visibility`] reads them back to the
/// same level. `mentions` are the IRIs of the mentioned actors.
pub fn addressing(
    visibility: Visibility,
    followers: &str,
    mentions: &[impl AsRef<str>],
) -> Addressing {
    let mentioned = mentions.iter().map(|m| m.as_ref().to_owned());
    match visibility {
        Visibility::Public => Addressing {
            to: vec![PUBLIC.to_owned()],
            cc: std::iter::once(followers.to_owned())
                .chain(mentioned)
                .collect(),
        },
        Visibility::Unlisted => Addressing {
            to: vec![followers.to_owned()],
            cc: std::iter::once(PUBLIC.to_owned())
                .chain(mentioned)
                .collect(),
        },
        Visibility::FollowersOnly => Addressing {
            to: vec![followers.to_owned()],
            cc: mentioned.collect(),
        },
        Visibility::Direct => Addressing {
            to: mentioned.collect(),
            cc: Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! fixture {
        ($path:literal) => {
            include_str!(concat!("../../tests/fixtures/ap/", $path))
        };
    }

    const ALICE: &str = "https://mastodon.example.com/users/alice";
    const ALICE_FOLLOWERS: &str = "https://mastodon.example.com/users/alice/followers";
    const BOB: &str = "https://gts.example.org/users/bob";
    const BOB_FOLLOWERS: &str = "https://gts.example.org/users/bob/followers";
    const ALICE_NOTE: &str = "https://mastodon.example.com/users/alice/statuses/113456789012345678";

    /// Every fixture with the type it is read as.
    const FIXTURES: &[(&str, &str, &str)] = &[
        (
            "mastodon/person.json",
            "actor",
            fixture!("mastodon/person.json"),
        ),
        (
            "mastodon/note.json",
            "object",
            fixture!("mastodon/note.json"),
        ),
        (
            "mastodon/create_note.json",
            "activity",
            fixture!("mastodon/create_note.json"),
        ),
        (
            "mastodon/follow.json",
            "activity",
            fixture!("mastodon/follow.json"),
        ),
        (
            "mastodon/accept_follow.json",
            "activity",
            fixture!("mastodon/accept_follow.json"),
        ),
        (
            "mastodon/undo_follow.json",
            "activity",
            fixture!("mastodon/undo_follow.json"),
        ),
        (
            "mastodon/like.json",
            "activity",
            fixture!("mastodon/like.json"),
        ),
        (
            "mastodon/announce.json",
            "activity",
            fixture!("mastodon/announce.json"),
        ),
        (
            "mastodon/delete_note.json",
            "activity",
            fixture!("mastodon/delete_note.json"),
        ),
        (
            "mastodon/update_person.json",
            "activity",
            fixture!("mastodon/update_person.json"),
        ),
        (
            "mastodon/block.json",
            "activity",
            fixture!("mastodon/block.json"),
        ),
        (
            "mastodon/flag.json",
            "activity",
            fixture!("mastodon/flag.json"),
        ),
        (
            "mastodon/move.json",
            "activity",
            fixture!("mastodon/move.json"),
        ),
        (
            "gotosocial/person.json",
            "actor",
            fixture!("gotosocial/person.json"),
        ),
        (
            "gotosocial/note.json",
            "object",
            fixture!("gotosocial/note.json"),
        ),
        (
            "gotosocial/create_note.json",
            "activity",
            fixture!("gotosocial/create_note.json"),
        ),
        (
            "pleroma/person.json",
            "actor",
            fixture!("pleroma/person.json"),
        ),
        ("pleroma/note.json", "object", fixture!("pleroma/note.json")),
        (
            "misskey/person.json",
            "actor",
            fixture!("misskey/person.json"),
        ),
        (
            "misskey/note_with_quote.json",
            "object",
            fixture!("misskey/note_with_quote.json"),
        ),
        ("lemmy/group.json", "actor", fixture!("lemmy/group.json")),
        ("lemmy/page.json", "object", fixture!("lemmy/page.json")),
        (
            "lemmy/create_page.json",
            "activity",
            fixture!("lemmy/create_page.json"),
        ),
        ("lemmy/like.json", "activity", fixture!("lemmy/like.json")),
        (
            "threads/person.json",
            "actor",
            fixture!("threads/person.json"),
        ),
        ("threads/note.json", "object", fixture!("threads/note.json")),
        (
            "fedify/note_with_quote.json",
            "object",
            fixture!("fedify/note_with_quote.json"),
        ),
        (
            "peertube/video.json",
            "object",
            fixture!("peertube/video.json"),
        ),
    ];

    fn actor(json: &str) -> Actor {
        serde_json::from_str(json).unwrap()
    }

    fn object(json: &str) -> Object {
        serde_json::from_str(json).unwrap()
    }

    fn activity(json: &str) -> Activity {
        serde_json::from_str(json).unwrap()
    }

    /// Parse, write, parse again: what we read must survive being written back unchanged.
    fn round_trip<T>(value: &T) -> T
    where
        T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        let written = serde_json::to_value(value).unwrap();
        let again: T = serde_json::from_value(written).unwrap();
        assert_eq!(&again, value);
        again
    }

    fn strings(list: &Option<OneOrMany<String>>) -> Vec<&str> {
        list.iter().flatten().map(String::as_str).collect()
    }

    #[test]
    fn every_fixture_parses_and_survives_a_round_trip() {
        for (name, kind, json) in FIXTURES {
            let ok = match *kind {
                "actor" => serde_json::from_str::<Actor>(json).map(|a| drop(round_trip(&a))),
                "object" => serde_json::from_str::<Object>(json).map(|o| drop(round_trip(&o))),
                _ => serde_json::from_str::<Activity>(json).map(|a| drop(round_trip(&a))),
            };
            assert!(ok.is_ok(), "{name}: {ok:?}");
            // Each fixture also reads as "anything an activity can carry".
            let any: Reference<ActivityObject> = serde_json::from_str(json).unwrap();
            let expected = match *kind {
                "actor" => matches!(any.object(), Some(ActivityObject::Actor(_))),
                "object" => matches!(any.object(), Some(ActivityObject::Object(_))),
                _ => matches!(any.object(), Some(ActivityObject::Activity(_))),
            };
            assert!(expected, "{name} was read as {any:?}");
        }
    }

    #[test]
    fn mastodon_person() {
        let a = actor(fixture!("mastodon/person.json"));
        assert_eq!(a.id, ALICE);
        assert_eq!(a.kind, ActorKind::Person);
        assert_eq!(a.preferred_username.as_deref(), Some("alice"));
        assert_eq!(a.name.as_deref(), Some("Alice Liddell"));
        assert_eq!(
            a.inbox.as_deref(),
            Some("https://mastodon.example.com/users/alice/inbox")
        );
        assert_eq!(a.followers.as_deref(), Some(ALICE_FOLLOWERS));
        assert_eq!(
            a.featured.as_deref(),
            Some("https://mastodon.example.com/users/alice/collections/featured")
        );
        assert_eq!(a.shared_inbox(), Some("https://mastodon.example.com/inbox"));
        assert!(
            a.public_key_pem()
                .unwrap()
                .starts_with("-----BEGIN PUBLIC KEY-----")
        );
        let key = a.public_key.as_ref().unwrap();
        assert_eq!(
            key.id.as_deref(),
            Some("https://mastodon.example.com/users/alice#main-key")
        );
        assert_eq!(key.owner.as_deref(), Some(ALICE));
        assert_eq!(a.manually_approves_followers, Some(false));
        assert_eq!(a.discoverable, Some(true));
        assert_eq!(a.indexable, Some(true));
        assert_eq!(a.published.as_deref(), Some("2023-04-12T00:00:00Z"));
        assert_eq!(a.profile_url(), Some("https://mastodon.example.com/@alice"));
        assert!(a.icon_url().unwrap().ends_with("3f2a1b0c9d8e7f6a.png"));
        assert!(a.image_url().unwrap().ends_with("0a1b2c3d4e5f6a7b.jpg"));
        let fields: Vec<_> = a.fields().collect();
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[0].0, "Website");
        assert!(
            fields[0]
                .1
                .starts_with("<a href=\"https://alice.example.com\"")
        );
        assert_eq!(fields[1], ("Pronouns", "she/her"));
        assert_eq!(
            strings(&a.also_known_as),
            ["https://old.example.net/users/alice"]
        );
        assert_eq!(a.moved_to, None);
        assert_eq!(
            a.tag.as_ref().unwrap().first().unwrap().kind,
            TagKind::Hashtag
        );
    }

    #[test]
    fn mastodon_note() {
        let n = object(fixture!("mastodon/note.json"));
        assert_eq!(n.kind, ObjectKind::Note);
        assert_eq!(n.id.as_deref(), Some(ALICE_NOTE));
        assert_eq!(n.attributed_actor(), Some(ALICE));
        assert_eq!(n.visibility(Some(ALICE_FOLLOWERS)), Visibility::Public);
        assert!(is_public(n.to.as_ref()));
        assert_eq!(n.summary.as_deref(), Some("food, lunch photo"));
        assert_eq!(n.sensitive, Some(true));
        assert_eq!(n.in_reply_to, None);
        assert_eq!(
            n.url_href(),
            Some("https://mastodon.example.com/@alice/113456789012345678")
        );
        assert_eq!(
            n.content_map.as_ref().unwrap().get("en"),
            n.content.as_ref()
        );
        assert_eq!(n.quote_iri(), None);

        let tags: Vec<_> = n.tag.iter().flatten().collect();
        assert_eq!(tags.len(), 2);
        assert_eq!(tags[0].kind, TagKind::Mention);
        assert_eq!(tags[0].href.as_deref(), Some(BOB));
        assert_eq!(tags[0].name.as_deref(), Some("@bob@gts.example.org"));
        assert_eq!(tags[1].kind, TagKind::Hashtag);
        assert_eq!(tags[1].name.as_deref(), Some("#rustlang"));
        assert_eq!(n.mentions().collect::<Vec<_>>(), [BOB]);

        let media = n.attachment.as_ref().unwrap().first().unwrap();
        assert_eq!(media.kind, ObjectKind::Document);
        assert_eq!(media.media_type.as_deref(), Some("image/jpeg"));
        assert!(media.href().unwrap().ends_with("5e6f7a8b9c0d1e2f.jpg"));
        assert_eq!(
            media.blurhash.as_deref(),
            Some("LEHV6nWB2yk8pyo0adR*.7kCMdnj")
        );
        assert_eq!((media.width, media.height), (Some(1600), Some(1200)));
        assert_eq!(media.focal_point, Some([0.0, -0.25]));
        assert_eq!(
            media.description(),
            Some("A bowl of ramen with a soft-boiled egg on a wooden table")
        );

        let replies = n.replies.as_ref().unwrap();
        assert_eq!(
            replies.iri(),
            Some(format!("{ALICE_NOTE}/replies").as_str())
        );
        let quote = n
            .interaction_policy
            .as_ref()
            .unwrap()
            .can_quote
            .as_ref()
            .unwrap();
        assert_eq!(quote.automatic().collect::<Vec<_>>(), [PUBLIC]);
    }

    #[test]
    fn mastodon_create_of_a_followers_only_reply() {
        let a = activity(fixture!("mastodon/create_note.json"));
        assert_eq!(a.kind, ActivityKind::Create);
        assert_eq!(a.actor_iri(), Some(ALICE));
        assert_eq!(
            visibility(a.to.as_ref(), a.cc.as_ref(), Some(ALICE_FOLLOWERS)),
            Visibility::FollowersOnly
        );
        let n = a.embedded_object().unwrap();
        assert_eq!(a.object_iri(), n.id.as_deref());
        assert_eq!(
            n.visibility(Some(ALICE_FOLLOWERS)),
            Visibility::FollowersOnly
        );
        // Without knowing the author's followers collection the same post reads as direct.
        assert_eq!(n.visibility(None), Visibility::Direct);
        assert_eq!(
            n.in_reply_to_iri(),
            Some("https://gts.example.org/users/bob/statuses/01JPB7Q4X2M9T6V3N8K5R1W0ZC")
        );
        assert_eq!(n.summary, None);
        assert_eq!(n.attachment.as_ref().map(OneOrMany::len), Some(0));
        assert_eq!(n.mentions().collect::<Vec<_>>(), [BOB]);
    }

    #[test]
    fn mastodon_follow_accept_undo() {
        let follow = activity(fixture!("mastodon/follow.json"));
        assert_eq!(follow.kind, ActivityKind::Follow);
        assert_eq!(follow.actor_iri(), Some(ALICE));
        assert_eq!(follow.object_iri(), Some(BOB));
        assert!(follow.embedded_activity().is_none());

        let accept = activity(fixture!("mastodon/accept_follow.json"));
        assert_eq!(accept.kind, ActivityKind::Accept);
        assert_eq!(accept.actor_iri(), Some(ALICE));
        let inner = accept.embedded_activity().unwrap();
        assert_eq!(inner.kind, ActivityKind::Follow);
        assert_eq!(inner.actor_iri(), Some(BOB));
        assert_eq!(inner.object_iri(), Some(ALICE));
        assert_eq!(accept.object_iri(), inner.id.as_deref());

        let undo = activity(fixture!("mastodon/undo_follow.json"));
        assert_eq!(undo.kind, ActivityKind::Undo);
        let inner = undo.embedded_activity().unwrap();
        assert_eq!(inner.kind, ActivityKind::Follow);
        assert_eq!(inner.id, follow.id);
        assert_eq!(inner.object_iri(), Some(BOB));
    }

    #[test]
    fn mastodon_like_announce_block() {
        let like = activity(fixture!("mastodon/like.json"));
        assert_eq!(like.kind, ActivityKind::Like);
        assert_eq!(
            like.object_iri(),
            Some("https://gts.example.org/users/bob/statuses/01JPB7Q4X2M9T6V3N8K5R1W0ZC")
        );

        let boost = activity(fixture!("mastodon/announce.json"));
        assert_eq!(boost.kind, ActivityKind::Announce);
        assert_eq!(boost.object_iri(), like.object_iri());
        assert_eq!(boost.published.as_deref(), Some("2025-03-14T14:00:00Z"));
        assert_eq!(
            visibility(boost.to.as_ref(), boost.cc.as_ref(), Some(ALICE_FOLLOWERS)),
            Visibility::Public
        );
        assert_eq!(strings(&boost.cc), [BOB, ALICE_FOLLOWERS]);

        let block = activity(fixture!("mastodon/block.json"));
        assert_eq!(block.kind, ActivityKind::Block);
        assert_eq!(
            block.object_iri(),
            Some("https://spam.example.net/users/troll")
        );
    }

    #[test]
    fn mastodon_delete_leaves_a_tombstone() {
        let delete = activity(fixture!("mastodon/delete_note.json"));
        assert_eq!(delete.kind, ActivityKind::Delete);
        let tombstone = delete.embedded_object().unwrap();
        assert_eq!(tombstone.kind, ObjectKind::Tombstone);
        assert_eq!(delete.object_iri(), Some(ALICE_NOTE));
        assert!(is_public(delete.to.as_ref()));
    }

    #[test]
    fn mastodon_update_person_embeds_the_new_profile() {
        let update = activity(fixture!("mastodon/update_person.json"));
        assert_eq!(update.kind, ActivityKind::Update);
        let person = update.embedded_actor().unwrap();
        assert_eq!(person.id, ALICE);
        assert_eq!(update.actor_iri(), Some(ALICE));
        assert_eq!(person.name.as_deref(), Some("Alice (on holiday)"));
        assert_eq!(person.manually_approves_followers, Some(true));
        assert_eq!(person.indexable, Some(false));
        assert_eq!(person.ld_context, None);
        assert_eq!(
            person.shared_inbox(),
            Some("https://mastodon.example.com/inbox")
        );
        assert!(
            person
                .public_key_pem()
                .unwrap()
                .starts_with("-----BEGIN PUBLIC KEY-----")
        );
    }

    #[test]
    fn mastodon_flag_and_move() {
        let flag = activity(fixture!("mastodon/flag.json"));
        assert_eq!(flag.kind, ActivityKind::Flag);
        assert_eq!(flag.actor_iri(), Some("https://mastodon.example.com/actor"));
        assert_eq!(
            flag.content.as_deref(),
            Some("Posts the same link in reply to everyone")
        );
        assert_eq!(
            flag.object_iris(),
            [
                "https://spam.example.net/users/troll",
                "https://spam.example.net/users/troll/statuses/8812"
            ]
        );
        assert_eq!(
            flag.object_iri(),
            Some("https://spam.example.net/users/troll")
        );

        let moved = activity(fixture!("mastodon/move.json"));
        assert_eq!(moved.kind, ActivityKind::Move);
        assert_eq!(moved.object_iri(), Some(ALICE));
        assert_eq!(moved.actor_iri(), Some(ALICE));
        assert_eq!(
            moved.target_iri(),
            Some("https://new.example.net/users/alice")
        );
    }

    #[test]
    fn gotosocial_person_has_no_shared_inbox() {
        let a = actor(fixture!("gotosocial/person.json"));
        assert_eq!(a.id, BOB);
        assert_eq!(a.shared_inbox(), None);
        assert_eq!(
            a.inbox.as_deref(),
            Some("https://gts.example.org/users/bob/inbox")
        );
        // GoToSocial's key id is a path, not a fragment.
        let key = a.public_key.as_ref().unwrap();
        assert_eq!(
            key.id.as_deref(),
            Some("https://gts.example.org/users/bob/main-key")
        );
        assert!(
            a.public_key_pem()
                .unwrap()
                .starts_with("-----BEGIN PUBLIC KEY-----")
        );
        assert_eq!(a.manually_approves_followers, Some(true));
        assert_eq!(a.fields().next(), Some(("Pronouns", "they/them")));
        let icon = a.icon.as_ref().unwrap().first().unwrap().object().unwrap();
        assert_eq!(icon.kind, ObjectKind::Image);
        assert_eq!(icon.description(), Some("A line drawing of a cat"));
    }

    #[test]
    fn gotosocial_note_uses_single_values() {
        let n = object(fixture!("gotosocial/note.json"));
        // `to`, `cc`, `tag` and `attachment` each arrive as a lone value, not an array.
        assert!(matches!(n.to, Some(OneOrMany::One(_))));
        assert!(matches!(n.tag, Some(OneOrMany::One(_))));
        assert_eq!(n.visibility(Some(BOB_FOLLOWERS)), Visibility::Public);
        assert_eq!(strings(&n.cc), [BOB_FOLLOWERS]);
        assert_eq!(
            n.tag.as_ref().unwrap().first().unwrap().name.as_deref(),
            Some("#cycling")
        );
        let media = n.attachment.as_ref().unwrap().first().unwrap();
        assert_eq!(media.kind, ObjectKind::Image);
        assert_eq!(
            media.blurhash.as_deref(),
            Some("LKO2?U%2Tw=w]~RBVZRi};RPxuwH")
        );
        assert_eq!(media.focal_point, Some([-0.5, 0.5]));
        assert_eq!(media.width, None);
        assert_eq!(n.summary.as_deref(), Some(""));
        let policy = n.interaction_policy.as_ref().unwrap();
        let reply = policy.can_reply.as_ref().unwrap();
        // Both spellings of the same rule are read; each IRI appears once per spelling.
        assert_eq!(reply.automatic().collect::<Vec<_>>(), [PUBLIC, PUBLIC]);
        assert_eq!(reply.manual().count(), 0);
        assert!(policy.can_quote.is_none());
    }

    #[test]
    fn gotosocial_create_limits_replies_with_an_interaction_policy() {
        let a = activity(fixture!("gotosocial/create_note.json"));
        assert_eq!(a.kind, ActivityKind::Create);
        assert_eq!(a.actor_iri(), Some(BOB));
        let n = a.embedded_object().unwrap();
        assert_eq!(n.visibility(Some(BOB_FOLLOWERS)), Visibility::Unlisted);
        assert_eq!(n.in_reply_to_iri(), Some(ALICE_NOTE));
        assert_eq!(n.mentions().collect::<Vec<_>>(), [ALICE]);
        let reply = n
            .interaction_policy
            .as_ref()
            .unwrap()
            .can_reply
            .as_ref()
            .unwrap();
        assert!(reply.automatic().any(|iri| iri == ALICE));
        assert!(!reply.automatic().any(is_public_iri));
        assert!(reply.manual().any(is_public_iri));
        let announce = n
            .interaction_policy
            .as_ref()
            .unwrap()
            .can_announce
            .as_ref()
            .unwrap();
        assert!(announce.automatic().any(|iri| iri == BOB_FOLLOWERS));
    }

    #[test]
    fn pleroma_person_and_note() {
        let a = actor(fixture!("pleroma/person.json"));
        assert_eq!(a.shared_inbox(), Some("https://pleroma.example.net/inbox"));
        assert!(
            a.public_key_pem()
                .unwrap()
                .starts_with("-----BEGIN PUBLIC KEY-----")
        );
        assert_eq!(a.also_known_as.as_ref().map(OneOrMany::len), Some(0));
        let emoji = a.tag.as_ref().unwrap().first().unwrap();
        assert_eq!(emoji.kind, TagKind::Emoji);
        assert_eq!(
            emoji.icon.as_ref().and_then(Reference::iri),
            Some("https://pleroma.example.net/emoji/blobcat.png")
        );

        let n = object(fixture!("pleroma/note.json"));
        assert_eq!(
            n.attributed_actor(),
            Some("https://pleroma.example.net/users/carol")
        );
        assert_eq!(
            n.visibility(Some("https://pleroma.example.net/users/carol/followers")),
            Visibility::Public
        );
        // `"sensitive": null` is absent, not an error.
        assert_eq!(n.sensitive, None);
        assert_eq!(n.quote_iri(), Some(ALICE_NOTE));
        assert_eq!(
            n.source.as_ref().unwrap().media_type.as_deref(),
            Some("text/plain")
        );
        let media = n.attachment.as_ref().unwrap().first().unwrap();
        // Pleroma gives the file as a list of Links.
        assert!(media.href().unwrap().ends_with(".png"));
        assert_eq!((media.width, media.height), (Some(800), Some(600)));
        let kinds: Vec<_> = n.tag.iter().flatten().map(|t| t.kind.clone()).collect();
        assert_eq!(kinds, [TagKind::Mention, TagKind::Hashtag, TagKind::Emoji]);
        assert_eq!(n.mentions().collect::<Vec<_>>(), [ALICE]);
    }

    #[test]
    fn misskey_person_and_quote() {
        let a = actor(fixture!("misskey/person.json"));
        assert_eq!(a.shared_inbox(), Some("https://misskey.example.com/inbox"));
        assert_eq!(a.shared_inbox.as_deref(), a.shared_inbox());
        assert!(
            a.public_key_pem()
                .unwrap()
                .starts_with("-----BEGIN PUBLIC KEY-----")
        );
        // `"name": null` on the avatar does not cost the avatar.
        assert!(a.icon_url().unwrap().contains("webpublic-6b7a8c9d"));
        assert_eq!(a.fields().next().map(|f| f.0), Some("Blog"));
        assert_eq!(
            a.tag.as_ref().unwrap().first().unwrap().kind,
            TagKind::Emoji
        );

        let n = object(fixture!("misskey/note_with_quote.json"));
        assert_eq!(n.misskey_quote.as_deref(), Some(ALICE_NOTE));
        assert_eq!(n.quote_url.as_deref(), Some(ALICE_NOTE));
        assert_eq!(n.quote_iri(), Some(ALICE_NOTE));
        assert_eq!(
            n.source.as_ref().unwrap().media_type.as_deref(),
            Some("text/x.misskeymarkdown")
        );
        assert_eq!(
            n.visibility(Some(
                "https://misskey.example.com/users/9tjlknm0fl/followers"
            )),
            Visibility::Public
        );
    }

    #[test]
    fn fedify_quote_uses_fep_044f() {
        let n = object(fixture!("fedify/note_with_quote.json"));
        assert_eq!(n.quote.as_ref().and_then(Reference::iri), Some(ALICE_NOTE));
        assert_eq!(n.quote_iri(), Some(ALICE_NOTE));
        assert_eq!(
            n.quote_authorization.as_deref(),
            Some("https://mastodon.example.com/users/alice/quote_authorizations/1357924680")
        );
        let link = n.tag.as_ref().unwrap().first().unwrap();
        assert_eq!(link.kind, TagKind::Link);
        assert_eq!(link.href.as_deref(), Some(ALICE_NOTE));
        assert_eq!(
            link.rel
                .as_ref()
                .and_then(OneOrMany::first)
                .map(String::as_str),
            Some("https://misskey-hub.net/ns#_misskey_quote")
        );
        assert_eq!(n.url_href(), n.id.as_deref());
        assert_eq!(
            n.visibility(Some("https://fedify.example.com/@frank/followers")),
            Visibility::Public
        );
    }

    #[test]
    fn each_quote_form_is_found_and_fep_044f_wins() {
        for key in ["quote", "quoteUrl", "_misskey_quote", "quoteUri"] {
            let json =
                json!({ "type": "Note", "id": "https://a.example/1", key: "https://b.example/2" });
            let n: Note = serde_json::from_value(json).unwrap();
            assert_eq!(n.quote_iri(), Some("https://b.example/2"), "{key}");
        }
        let n: Note = serde_json::from_value(json!({
            "type": "Note",
            "quoteUri": "https://b.example/uri",
            "_misskey_quote": "https://b.example/misskey",
            "quoteUrl": "https://b.example/url",
            "quote": { "type": "Note", "id": "https://b.example/fep" }
        }))
        .unwrap();
        assert_eq!(n.quote_iri(), Some("https://b.example/fep"));
        let n: Note = serde_json::from_value(json!({
            "type": "Note",
            "quoteUri": "https://b.example/uri",
            "_misskey_quote": "https://b.example/misskey"
        }))
        .unwrap();
        assert_eq!(n.quote_iri(), Some("https://b.example/misskey"));
    }

    #[test]
    fn lemmy_group_and_page() {
        let g = actor(fixture!("lemmy/group.json"));
        assert_eq!(g.kind, ActorKind::Group);
        assert_eq!(g.preferred_username.as_deref(), Some("rust"));
        assert_eq!(g.shared_inbox(), Some("https://lemmy.example.org/inbox"));
        assert_eq!(
            g.featured.as_deref(),
            Some("https://lemmy.example.org/c/rust/featured")
        );
        assert!(
            g.public_key_pem()
                .unwrap()
                .starts_with("-----BEGIN PUBLIC KEY-----")
        );

        let p = object(fixture!("lemmy/page.json"));
        assert_eq!(p.kind, ObjectKind::Page);
        assert_eq!(
            p.name.as_deref(),
            Some("weft 0.1: a social network in one binary")
        );
        assert_eq!(
            p.attributed_actor(),
            Some("https://lemmy.example.org/u/dave")
        );
        assert_eq!(strings(&p.audience), ["https://lemmy.example.org/c/rust"]);
        assert_eq!(p.media_type.as_deref(), Some("text/html"));
        assert_eq!(
            p.source.as_ref().unwrap().media_type.as_deref(),
            Some("text/markdown")
        );
        let link = p.attachment.as_ref().unwrap().first().unwrap();
        assert_eq!(link.kind, ObjectKind::Other("Link".to_owned()));
        assert_eq!(link.href(), Some("https://weft.example.com/releases/0.1"));
        assert!(first_image(p.image.as_ref()).unwrap().ends_with(".jpeg"));
        assert_eq!(p.visibility(None), Visibility::Public);
    }

    #[test]
    fn lemmy_community_announces_the_create() {
        let a = activity(fixture!("lemmy/create_page.json"));
        assert_eq!(a.kind, ActivityKind::Announce);
        assert_eq!(a.actor_iri(), Some("https://lemmy.example.org/c/rust"));
        let create = a.embedded_activity().unwrap();
        assert_eq!(create.kind, ActivityKind::Create);
        assert_eq!(a.object_iri(), create.id.as_deref());
        assert_eq!(create.actor_iri(), Some("https://lemmy.example.org/u/dave"));
        assert_eq!(
            strings(&create.audience),
            ["https://lemmy.example.org/c/rust"]
        );
        let page = create.embedded_object().unwrap();
        assert_eq!(page.kind, ObjectKind::Page);
        assert_eq!(
            page.id.as_deref(),
            Some("https://lemmy.example.org/post/4242")
        );
        assert_eq!(
            page.name.as_deref(),
            Some("weft 0.1: a social network in one binary")
        );

        let like = activity(fixture!("lemmy/like.json"));
        assert_eq!(like.kind, ActivityKind::Like);
        assert_eq!(
            like.object_iri(),
            Some("https://lemmy.example.org/post/4242")
        );
        assert_eq!(like.to, None);
        assert_eq!(
            strings(&like.audience),
            ["https://lemmy.example.org/c/rust"]
        );
    }

    #[test]
    fn threads_actor_and_note() {
        let a = actor(fixture!("threads/person.json"));
        let id = "https://threads.example.net/ap/users/17841400000000001/";
        assert_eq!(a.id, id);
        assert_eq!(a.kind, ActorKind::Person);
        assert_eq!(a.preferred_username.as_deref(), Some("zoe"));
        assert_eq!(a.name.as_deref(), Some("Zoe"));
        assert_eq!(a.inbox.as_deref(), Some(format!("{id}inbox/").as_str()));
        assert_eq!(
            a.followers.as_deref(),
            Some(format!("{id}followers/").as_str())
        );
        assert_eq!(
            a.shared_inbox(),
            Some("https://threads.example.net/ap/inbox/")
        );
        assert_eq!(
            a.profile_url(),
            Some("https://www.threads.example.net/@zoe")
        );
        assert_eq!(a.public_key.as_ref().unwrap().owner.as_deref(), Some(id));
        assert!(
            a.public_key_pem()
                .unwrap()
                .starts_with("-----BEGIN PUBLIC KEY-----")
        );
        assert_eq!((a.discoverable, a.indexable), (Some(true), Some(false)));
        assert_eq!(a.manually_approves_followers, Some(false));
        assert!(
            a.icon_url()
                .unwrap()
                .starts_with("https://scontent.cdn.example.net/")
        );
        assert_eq!(a.fields().next().map(|f| f.0), Some("Instagram"));

        let n = object(fixture!("threads/note.json"));
        assert_eq!(n.attributed_actor(), Some(id));
        assert_eq!(n.visibility(a.followers.as_deref()), Visibility::Public);
        assert_eq!(
            n.url_href(),
            Some("https://www.threads.example.net/@zoe/post/C4aBcDeFgHi")
        );
        let media = n.attachment.as_ref().unwrap().first().unwrap();
        assert_eq!(
            (media.kind.clone(), media.width, media.height),
            (ObjectKind::Image, Some(1440), Some(1800))
        );
        assert_eq!(media.description(), Some("Boats in a harbour at sunset"));
    }

    #[test]
    fn peertube_lists_account_and_channel_as_authors() {
        let v = object(fixture!("peertube/video.json"));
        assert_eq!(v.kind, ObjectKind::Video);
        assert_eq!(v.attributed_to.as_ref().map(OneOrMany::len), Some(2));
        assert_eq!(
            v.attributed_actor(),
            Some("https://peertube.example.org/accounts/gina")
        );
        assert_eq!(
            v.url_href(),
            Some("https://peertube.example.org/w/hT9kQ2m7VbZ")
        );
        assert_eq!(
            v.tag.as_ref().unwrap().first().unwrap().name.as_deref(),
            Some("rust")
        );
    }

    #[test]
    fn unknown_types_parse_as_other() {
        let a: Activity = serde_json::from_value(json!({
            "type": "Bite",
            "id": "https://a.example/bites/1",
            "actor": "https://a.example/users/x",
            "object": "https://b.example/users/y"
        }))
        .unwrap();
        assert_eq!(a.kind, ActivityKind::Other("Bite".to_owned()));
        assert_eq!(a.kind.as_str(), "Bite");
        assert_eq!(a.object_iri(), Some("https://b.example/users/y"));
        assert_eq!(round_trip(&a).kind, a.kind);

        // An unknown activity nested in a known one is still read as an activity.
        let undo: Activity = serde_json::from_value(json!({
            "type": "Undo",
            "actor": "https://lemmy.example.org/u/erin",
            "object": {
                "type": "Dislike",
                "id": "https://lemmy.example.org/activities/dislike/1",
                "actor": "https://lemmy.example.org/u/erin",
                "object": "https://lemmy.example.org/post/4242"
            }
        }))
        .unwrap();
        let inner = undo.embedded_activity().unwrap();
        assert_eq!(inner.kind, ActivityKind::Other("Dislike".to_owned()));
        assert_eq!(
            inner.object_iri(),
            Some("https://lemmy.example.org/post/4242")
        );

        // Unknown object and actor types, prefixed and multiple types.
        let o: Object =
            serde_json::from_value(json!({ "type": "ChatMessage", "id": "x" })).unwrap();
        assert_eq!(o.kind, ObjectKind::Other("ChatMessage".to_owned()));
        let o: Object =
            serde_json::from_value(json!({ "type": ["schema:Thing", "Note"] })).unwrap();
        assert_eq!(o.kind, ObjectKind::Note);
        let f: Activity = serde_json::from_value(json!({ "type": "as:Follow" })).unwrap();
        assert_eq!(f.kind, ActivityKind::Follow);
        let bot: Actor =
            serde_json::from_value(json!({ "type": "Bot", "id": "https://a.example/b" })).unwrap();
        assert_eq!(bot.kind, ActorKind::Other("Bot".to_owned()));
    }

    #[test]
    fn malformed_properties_cost_only_themselves() {
        let n: Note = serde_json::from_value(json!({
            "type": "Note",
            "id": "https://a.example/notes/1",
            "attributedTo": "https://a.example/users/x",
            "to": [PUBLIC, 7, null, { "id": "weird" }],
            "cc": { "not": "a list" },
            "sensitive": "yes",
            "content": "<p>hi</p>",
            "contentMap": ["not", "a", "map"],
            "published": 1700000000,
            "tag": [
                { "type": "Mention", "href": "https://b.example/users/y", "name": "@y@b.example" },
                { "href": "https://c.example/untyped" },
                "just a string",
                { "type": "SomethingNew", "name": "?" }
            ],
            "attachment": [
                { "type": "Image", "url": 42, "width": "1200", "height": 800.0 },
                { "type": "Document", "url": "https://a.example/f.png", "focalPoint": "middle" }
            ],
            "inReplyTo": { "type": "Note" },
            "quote": ["no"],
            "interactionPolicy": "everyone"
        }))
        .unwrap();
        assert_eq!(strings(&n.to), [PUBLIC]);
        assert_eq!(n.cc, None);
        assert_eq!(n.sensitive, None);
        assert_eq!(n.content.as_deref(), Some("<p>hi</p>"));
        assert_eq!(n.content_map, None);
        assert_eq!(n.published, None);
        let tags: Vec<_> = n.tag.iter().flatten().collect();
        assert_eq!(tags.len(), 2);
        assert_eq!(tags[1].kind, TagKind::Other("SomethingNew".to_owned()));
        assert_eq!(
            n.mentions().collect::<Vec<_>>(),
            ["https://b.example/users/y"]
        );
        let media: Vec<_> = n.attachment.iter().flatten().collect();
        assert_eq!(media[0].url, None);
        assert_eq!((media[0].width, media[0].height), (Some(1200), Some(800)));
        assert_eq!(media[1].href(), Some("https://a.example/f.png"));
        assert_eq!(media[1].focal_point, None);
        // An embedded reply target without an id is kept but names nothing.
        assert_eq!(n.in_reply_to_iri(), None);
        assert_eq!(n.quote, None);
        assert_eq!(n.interaction_policy, None);
        assert_eq!(n.visibility(None), Visibility::Public);
    }

    #[test]
    fn unreadable_embedded_objects_fall_back_to_their_iri() {
        let a: Activity = serde_json::from_value(json!({
            "type": "Announce",
            "actor": { "type": "Person", "id": "https://a.example/users/x", "inbox": 5 },
            "object": { "type": "Person", "name": "no id here" }
        }))
        .unwrap();
        // The actor object parsed (its bad inbox dropped); the object has no id, so it is gone.
        assert_eq!(a.actor_iri(), Some("https://a.example/users/x"));
        assert_eq!(a.object, None);

        let r: Reference<Actor> =
            serde_json::from_value(json!({ "id": "https://a.example/users/x", "type": 5 }))
                .unwrap();
        assert_eq!(r, Reference::Iri("https://a.example/users/x".to_owned()));
        let r: Reference<Actor> =
            serde_json::from_value(json!({ "type": "Link", "href": "https://a.example/u" }))
                .unwrap();
        assert_eq!(r.iri(), Some("https://a.example/u"));
        assert!(matches!(r, Reference::Link(_)));
        assert!(serde_json::from_value::<Reference<Actor>>(json!(12)).is_err());
    }

    #[test]
    fn deep_nesting_is_cut_off_instead_of_overflowing_the_stack() {
        let mut doc = json!("https://x.example/0");
        for i in 1..=126 {
            doc = json!({
                "type": "Undo",
                "id": format!("https://x.example/{i}"),
                "actor": "https://x.example/a",
                "object": doc
            });
        }
        let text = doc.to_string();
        // Smaller than the 2 MiB a tokio worker gets, in a debug build.
        let parsed = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || {
                serde_json::from_str::<Activity>(&text).map(|a| {
                    let mut depth = 0;
                    let mut at = &a;
                    while let Some(inner) = at.embedded_activity() {
                        depth += 1;
                        at = inner;
                    }
                    (
                        a.object_iri().map(str::to_owned),
                        depth,
                        at.object_iri().map(str::to_owned),
                    )
                })
            })
            .unwrap()
            .join()
            .unwrap()
            .unwrap();
        assert_eq!(parsed.0.as_deref(), Some("https://x.example/125"));
        // Too deep to embed: the first level is kept as its IRI, to be fetched if wanted.
        assert_eq!(parsed.1, 0);
        assert_eq!(parsed.2.as_deref(), Some("https://x.example/125"));

        // A shallow chain is kept whole.
        let undo = Activity::undo(
            "u",
            ME,
            Activity::undo("v", ME, Activity::like("w", ME, MY_NOTE)),
        );
        let back = round_trip(&undo);
        assert_eq!(
            back.embedded_activity()
                .and_then(Activity::embedded_activity)
                .map(|l| &l.kind),
            Some(&ActivityKind::Like)
        );
    }

    #[test]
    fn pleroma_notes_carrying_actor_are_objects() {
        let a: Activity = serde_json::from_value(json!({
            "type": "Create",
            "actor": "https://pleroma.example.net/users/carol",
            "object": serde_json::from_str::<Value>(fixture!("pleroma/note.json")).unwrap()
        }))
        .unwrap();
        assert_eq!(a.embedded_object().unwrap().kind, ObjectKind::Note);
    }

    #[test]
    fn public_collection_spellings() {
        for iri in [PUBLIC, "as:Public", "Public"] {
            assert!(is_public_iri(iri), "{iri}");
            let to = OneOrMany::One(iri.to_owned());
            assert_eq!(visibility(Some(&to), None, None), Visibility::Public);
            assert_eq!(visibility(None, Some(&to), None), Visibility::Unlisted);
        }
        assert!(!is_public_iri(
            "https://www.w3.org/ns/activitystreams#Publicity"
        ));
        assert!(!is_public(None));
    }

    #[test]
    fn visibility_follows_mastodon() {
        let f = "https://a.example/users/x/followers";
        let list = |v: &[&str]| Some(OneOrMany::Many(v.iter().map(|s| s.to_string()).collect()));
        let y = "https://b.example/users/y";
        assert_eq!(
            visibility(list(&[PUBLIC]).as_ref(), list(&[f]).as_ref(), Some(f)),
            Visibility::Public
        );
        assert_eq!(
            visibility(list(&[f]).as_ref(), list(&[PUBLIC]).as_ref(), Some(f)),
            Visibility::Unlisted
        );
        assert_eq!(
            visibility(list(&[f]).as_ref(), list(&[y]).as_ref(), Some(f)),
            Visibility::FollowersOnly
        );
        assert_eq!(
            visibility(list(&[y]).as_ref(), None, Some(f)),
            Visibility::Direct
        );
        // Mastodon looks for the followers collection in `to` only.
        assert_eq!(
            visibility(list(&[y]).as_ref(), list(&[f]).as_ref(), Some(f)),
            Visibility::Direct
        );
        assert_eq!(visibility(None, None, None), Visibility::Direct);

        for v in [
            Visibility::Public,
            Visibility::Unlisted,
            Visibility::FollowersOnly,
            Visibility::Direct,
        ] {
            let a = addressing(v, f, &[y]);
            let (to, cc) = (OneOrMany::Many(a.to.clone()), OneOrMany::Many(a.cc.clone()));
            assert_eq!(visibility(Some(&to), Some(&cc), Some(f)), v);
            assert!(
                a.to.iter().chain(&a.cc).any(|iri| iri == y),
                "{v:?} must reach the mentioned"
            );
        }
        assert_eq!(
            addressing(Visibility::Public, f, &[y]),
            Addressing {
                to: vec![PUBLIC.to_owned()],
                cc: vec![f.to_owned(), y.to_owned()]
            }
        );
        assert_eq!(
            addressing(Visibility::Direct, f, &[y]),
            Addressing {
                to: vec![y.to_owned()],
                cc: vec![]
            }
        );
    }

    const ME: &str = "https://weft.example.com/users/ann";
    const MY_NOTE: &str = "https://weft.example.com/users/ann/statuses/42";

    fn my_person() -> Actor {
        let mut a = Actor::person(
            ME,
            "ann",
            "https://weft.example.com/@ann",
            "https://weft.example.com/inbox",
            "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n",
        );
        a.name = Some("Ann".to_owned());
        a.summary = Some("<p>hello</p>".to_owned());
        a.published = Some("2025-01-01T00:00:00Z".to_owned());
        a.attachment = Some(
            vec![PropertyValue::new(
                "Site",
                "<a href=\"https://ann.example\">ann.example</a>",
            )]
            .into(),
        );
        a.icon = Some(OneOrMany::One(Reference::embed(Attachment {
            kind: ObjectKind::Image,
            ..Attachment::document("https://weft.example.com/media/a.png", "image/png")
        })));
        a
    }

    fn my_note() -> Note {
        let mut n = Note::note(
            MY_NOTE,
            ME,
            "2025-03-15T10:00:00Z",
            "<p>hi <a href=\"https://gts.example.org/@bob\">@bob</a></p>",
            addressing(Visibility::Public, &format!("{ME}/followers"), &[BOB]),
        );
        n.url = Some(OneOrMany::One(UrlValue::Iri(
            "https://weft.example.com/@ann/42".to_owned(),
        )));
        n.content_map = Some(BTreeMap::from([(
            "en".to_owned(),
            n.content.clone().unwrap_or_default(),
        )]));
        n.tag = Some(
            vec![
                Tag::mention(BOB, "@bob@gts.example.org"),
                Tag::hashtag("https://weft.example.com/tags/rust", "#rust"),
            ]
            .into(),
        );
        let mut media = Attachment::document("https://weft.example.com/media/b.jpg", "image/jpeg");
        media.name = Some("alt text".to_owned());
        media.blurhash = Some("LEHV6nWB2yk8pyo0adR*.7kCMdnj".to_owned());
        media.focal_point = Some([0.0, 0.0]);
        media.width = Some(640);
        media.height = Some(480);
        n.attachment = Some(vec![media].into());
        n.set_quote(
            ALICE_NOTE,
            Some("https://mastodon.example.com/users/alice/quote_authorizations/1"),
        );
        n.interaction_policy = Some(InteractionPolicy {
            can_quote: Some(InteractionRule {
                automatic_approval: Some(vec![PUBLIC.to_owned()].into()),
                ..InteractionRule::default()
            }),
            ..InteractionPolicy::default()
        });
        n
    }

    #[test]
    fn context_defines_every_term_we_write() {
        let ctx = context();
        assert_eq!(ctx[0], AS_CONTEXT);
        assert_eq!(ctx[1], SECURITY_CONTEXT);
        let terms = &ctx[2];
        assert_eq!(
            terms["featured"],
            json!({ "@id": "toot:featured", "@type": "@id" })
        );
        assert_eq!(terms["quote"], "https://w3id.org/fep/044f#quote");
        assert_eq!(terms["quoteUrl"], "as:quoteUrl");
        assert_eq!(terms["blurhash"], "toot:blurhash");
        assert_eq!(terms["PropertyValue"], "schema:PropertyValue");
        // Every camelCase property of our note and person output has a definition (or is core
        // ActivityStreams / security vocabulary).
        let core = [
            "id",
            "type",
            "summary",
            "inReplyTo",
            "published",
            "url",
            "attributedTo",
            "to",
            "cc",
            "content",
            "contentMap",
            "attachment",
            "tag",
            "name",
            "mediaType",
            "href",
            "width",
            "height",
            "following",
            "followers",
            "inbox",
            "outbox",
            "preferredUsername",
            "publicKey",
            "endpoints",
            "icon",
            "owner",
            "publicKeyPem",
            "sharedInbox",
            "@context",
            "canQuote",
        ];
        let mut keys = Vec::new();
        fn collect(v: &Value, keys: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    for (k, v) in m {
                        // Language tags in `contentMap` are data, not terms.
                        if k == "contentMap" {
                            keys.push(k.clone());
                        } else if k != "@context" {
                            keys.push(k.clone());
                            collect(v, keys);
                        }
                    }
                }
                Value::Array(a) => a.iter().for_each(|v| collect(v, keys)),
                _ => {}
            }
        }
        collect(&serde_json::to_value(my_note()).unwrap(), &mut keys);
        collect(&serde_json::to_value(my_person()).unwrap(), &mut keys);
        for k in keys {
            assert!(
                core.contains(&k.as_str()) || terms.get(&k).is_some(),
                "{k} is undefined"
            );
        }
    }

    #[test]
    fn person_output_is_mastodons_shape() {
        let a = my_person();
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            json!({
                "@context": context(),
                "id": ME,
                "type": "Person",
                "following": format!("{ME}/following"),
                "followers": format!("{ME}/followers"),
                "inbox": format!("{ME}/inbox"),
                "outbox": format!("{ME}/outbox"),
                "featured": format!("{ME}/collections/featured"),
                "preferredUsername": "ann",
                "name": "Ann",
                "summary": "<p>hello</p>",
                "url": "https://weft.example.com/@ann",
                "manuallyApprovesFollowers": false,
                "discoverable": false,
                "indexable": false,
                "published": "2025-01-01T00:00:00Z",
                "publicKey": {
                    "id": format!("{ME}#main-key"),
                    "owner": ME,
                    "publicKeyPem": "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n"
                },
                "tag": [],
                "attachment": [{
                    "type": "PropertyValue",
                    "name": "Site",
                    "value": "<a href=\"https://ann.example\">ann.example</a>"
                }],
                "endpoints": { "sharedInbox": "https://weft.example.com/inbox" },
                "icon": {
                    "type": "Image",
                    "mediaType": "image/png",
                    "url": "https://weft.example.com/media/a.png"
                }
            })
        );
        let back = round_trip(&a);
        assert_eq!(back.shared_inbox(), Some("https://weft.example.com/inbox"));
        assert_eq!(
            back.icon_url(),
            Some("https://weft.example.com/media/a.png")
        );
    }

    #[test]
    fn note_and_create_output_is_mastodons_shape() {
        let note = my_note();
        let note_json = json!({
            "id": MY_NOTE,
            "type": "Note",
            "published": "2025-03-15T10:00:00Z",
            "url": "https://weft.example.com/@ann/42",
            "attributedTo": ME,
            "to": [PUBLIC],
            "cc": [format!("{ME}/followers"), BOB],
            "sensitive": false,
            "content": "<p>hi <a href=\"https://gts.example.org/@bob\">@bob</a></p>",
            "contentMap": { "en": "<p>hi <a href=\"https://gts.example.org/@bob\">@bob</a></p>" },
            "attachment": [{
                "type": "Document",
                "mediaType": "image/jpeg",
                "url": "https://weft.example.com/media/b.jpg",
                "name": "alt text",
                "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
                "focalPoint": [0.0, 0.0],
                "width": 640,
                "height": 480
            }],
            "tag": [
                { "type": "Mention", "href": BOB, "name": "@bob@gts.example.org" },
                { "type": "Hashtag", "href": "https://weft.example.com/tags/rust", "name": "#rust" }
            ],
            "quote": ALICE_NOTE,
            "_misskey_quote": ALICE_NOTE,
            "quoteUri": ALICE_NOTE,
            "quoteUrl": ALICE_NOTE,
            "quoteAuthorization": "https://mastodon.example.com/users/alice/quote_authorizations/1",
            "interactionPolicy": { "canQuote": { "automaticApproval": [PUBLIC] } }
        });
        let mut with_context = note_json.clone();
        with_context["@context"] = context();
        assert_eq!(serde_json::to_value(&note).unwrap(), with_context);
        let back = round_trip(&note);
        assert_eq!(back.quote_iri(), Some(ALICE_NOTE));
        assert_eq!(
            back.visibility(Some(&format!("{ME}/followers"))),
            Visibility::Public
        );

        let create = Activity::create(&format!("{MY_NOTE}/activity"), note);
        assert_eq!(
            serde_json::to_value(&create).unwrap(),
            json!({
                "@context": context(),
                "id": format!("{MY_NOTE}/activity"),
                "type": "Create",
                "actor": ME,
                "published": "2025-03-15T10:00:00Z",
                "to": [PUBLIC],
                "cc": [format!("{ME}/followers"), BOB],
                "object": note_json
            })
        );
        let back = round_trip(&create);
        assert_eq!(
            back.embedded_object().unwrap().quote_iri(),
            Some(ALICE_NOTE)
        );
    }

    #[test]
    fn simple_activities_output_is_mastodons_shape() {
        let follow = Activity::follow("https://weft.example.com/f/1", ME, BOB);
        assert_eq!(
            serde_json::to_value(&follow).unwrap(),
            json!({
                "@context": AS_CONTEXT,
                "id": "https://weft.example.com/f/1",
                "type": "Follow",
                "actor": ME,
                "object": BOB
            })
        );

        let their_follow = activity(fixture!("mastodon/follow.json"));
        let accept = Activity::accept(&format!("{ME}#accepts/follows/1"), ME, their_follow.clone());
        let mut inner = serde_json::to_value(&their_follow).unwrap();
        inner.as_object_mut().unwrap().remove("@context");
        assert_eq!(
            serde_json::to_value(&accept).unwrap(),
            json!({
                "@context": AS_CONTEXT,
                "id": format!("{ME}#accepts/follows/1"),
                "type": "Accept",
                "actor": ME,
                "object": inner
            })
        );
        assert_eq!(
            Activity::reject("r", ME, their_follow).kind,
            ActivityKind::Reject
        );

        let undo = Activity::undo(&format!("{ME}#follows/1/undo"), ME, follow.clone());
        assert_eq!(undo.embedded_activity().unwrap().ld_context, None);
        assert_eq!(undo.embedded_activity().unwrap().object_iri(), Some(BOB));

        let like = Activity::like(&format!("{ME}#likes/9"), ME, ALICE_NOTE);
        assert_eq!(
            serde_json::to_value(&like).unwrap(),
            json!({ "@context": AS_CONTEXT, "id": format!("{ME}#likes/9"), "type": "Like", "actor": ME, "object": ALICE_NOTE })
        );

        let boost = Activity::announce(
            &format!("{MY_NOTE}/activity"),
            ME,
            ALICE_NOTE,
            "2025-03-15T11:00:00Z",
            addressing(Visibility::Public, &format!("{ME}/followers"), &[ALICE]),
        );
        assert_eq!(
            serde_json::to_value(&boost).unwrap(),
            json!({
                "@context": AS_CONTEXT,
                "id": format!("{MY_NOTE}/activity"),
                "type": "Announce",
                "actor": ME,
                "published": "2025-03-15T11:00:00Z",
                "to": [PUBLIC],
                "cc": [format!("{ME}/followers"), ALICE],
                "object": ALICE_NOTE
            })
        );

        let delete = Activity::delete_note(&format!("{MY_NOTE}#delete"), ME, MY_NOTE);
        assert_eq!(
            serde_json::to_value(&delete).unwrap(),
            json!({
                "@context": AS_CONTEXT,
                "id": format!("{MY_NOTE}#delete"),
                "type": "Delete",
                "actor": ME,
                "to": [PUBLIC],
                "object": { "id": MY_NOTE, "type": "Tombstone" }
            })
        );
        let gone = Activity::delete_actor(&format!("{ME}#delete"), ME);
        assert_eq!(gone.object_iri(), Some(ME));

        let block = Activity::block(
            "https://weft.example.com/b/1",
            ME,
            "https://spam.example.net/users/troll",
        );
        assert_eq!(block.kind, ActivityKind::Block);

        let flag = Activity::flag(
            "https://weft.example.com/r/1",
            "https://weft.example.com/actor",
            "spam",
            &[
                "https://spam.example.net/users/troll",
                "https://spam.example.net/users/troll/statuses/8812",
            ],
        );
        let mut expected = activity(fixture!("mastodon/flag.json"));
        expected.id = flag.id.clone();
        expected.actor = flag.actor.clone();
        expected.content = Some("spam".to_owned());
        assert_eq!(flag, expected);

        let moved = Activity::move_to(
            &format!("{ME}#moves/1"),
            ME,
            "https://new.example.net/users/ann",
        );
        assert_eq!(
            serde_json::to_value(&moved).unwrap(),
            json!({
                "@context": AS_CONTEXT,
                "id": format!("{ME}#moves/1"),
                "type": "Move",
                "actor": ME,
                "target": "https://new.example.net/users/ann",
                "object": ME
            })
        );

        for a in [
            follow, accept, undo, like, boost, delete, gone, block, flag, moved,
        ] {
            round_trip(&a);
        }
    }

    #[test]
    fn updates_embed_without_context() {
        let update = Activity::update_actor(&format!("{ME}#updates/1"), my_person());
        assert_eq!(update.ld_context, Some(context()));
        assert_eq!(update.actor_iri(), Some(ME));
        assert!(is_public(update.to.as_ref()));
        let person = update.embedded_actor().unwrap();
        assert_eq!(person.ld_context, None);
        assert_eq!(person.name.as_deref(), Some("Ann"));
        round_trip(&update);

        let edit = Activity::update_note(
            &format!("{MY_NOTE}#updates/1"),
            my_note(),
            "2025-03-15T12:00:00Z",
        );
        let note = edit.embedded_object().unwrap();
        assert_eq!(note.updated.as_deref(), Some("2025-03-15T12:00:00Z"));
        assert_eq!(note.ld_context, None);
        assert_eq!(edit.published.as_deref(), Some("2025-03-15T12:00:00Z"));
        assert_eq!(edit.cc, note.cc);
        round_trip(&edit);
    }

    #[test]
    fn one_or_many_keeps_its_shape() {
        let one: OneOrMany<String> = serde_json::from_value(json!("a")).unwrap();
        assert_eq!(one, OneOrMany::One("a".to_owned()));
        assert_eq!(serde_json::to_value(&one).unwrap(), json!("a"));
        let many: OneOrMany<String> = serde_json::from_value(json!(["a"])).unwrap();
        assert_eq!(serde_json::to_value(&many).unwrap(), json!(["a"]));
        assert_eq!(one.as_slice(), many.as_slice());
        assert_eq!(many.clone().into_vec(), vec!["a".to_owned()]);
        assert!(OneOrMany::<String>::default().is_empty());
        assert!(serde_json::from_value::<OneOrMany<String>>(json!(3)).is_err());
    }
}
