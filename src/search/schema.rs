//! The two Tantivy schemas (posts, people) and how the plain docs callers give become Tantivy
//! documents. Any change here that alters what is on disk must bump [`SCHEMA_VERSION`], so an
//! index written by an older build is rebuilt instead of misread.

use tantivy::TantivyDocument;
use tantivy::index::{IndexSettings, IndexSortByField};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

use super::analysis::{MAX_PREFIX_CHARS, PREFIX_TOKENIZER, TEXT_TOKENIZER};
use super::{PersonDoc, PostDoc};
use crate::domain::text::{Segment, segments};

/// Written beside the index; a different number means "rebuild".
pub const SCHEMA_VERSION: u32 = 3;

/// Tags and mentions kept per post; a post with more is still indexed, with the first ones.
const MAX_TAGS_PER_POST: usize = 64;
const MAX_FIELD_CHARS: usize = 200;

fn analyzed(positions: bool) -> TextOptions {
    let record = if positions {
        IndexRecordOption::WithFreqsAndPositions
    } else {
        IndexRecordOption::WithFreqs
    };
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TEXT_TOKENIZER)
            .set_index_option(record),
    )
}

#[derive(Debug, Clone, Copy)]
pub struct PostFields {
    pub id: Field,
    pub author_id: Field,
    pub author: Field,
    pub text: Field,
    pub tags: Field,
    pub mentions: Field,
    pub created_at: Field,
    pub visibility: Field,
    /// Accounts a non-public post addresses (they may see it whatever its visibility).
    pub addressed: Field,
    pub has_media: Field,
    pub is_reply: Field,
}

/// Posts are kept sorted by id, newest first, inside every segment (see `collect::Newest`).
pub fn post_settings() -> IndexSettings {
    IndexSettings {
        sort_by_field: Some(IndexSortByField {
            field: "id".to_string(),
            order: tantivy::index::Order::Desc,
        }),
        ..IndexSettings::default()
    }
}

pub fn post_schema() -> (Schema, PostFields) {
    let mut b = Schema::builder();
    let fields = PostFields {
        id: b.add_u64_field("id", INDEXED | FAST | STORED),
        author_id: b.add_u64_field("author_id", INDEXED | FAST),
        author: b.add_text_field("author", STRING),
        // Body first, then the content warning: two values of one field (a phrase never spans
        // them). Not stored: results are shown (and highlighted) from SQLite, and the stored
        // text was half of the index's size.
        text: b.add_text_field("text", analyzed(true)),
        tags: b.add_text_field("tags", STRING),
        mentions: b.add_text_field("mentions", STRING),
        created_at: b.add_i64_field("created_at", INDEXED | FAST),
        // Fast: the collectors filter on it per document.
        visibility: b.add_u64_field("visibility", INDEXED | FAST),
        addressed: b.add_u64_field("addressed", FAST),
        has_media: b.add_bool_field("has_media", INDEXED),
        is_reply: b.add_bool_field("is_reply", INDEXED),
    };
    (b.build(), fields)
}

#[derive(Debug, Clone, Copy)]
pub struct PersonFields {
    pub id: Field,
    /// The whole lowercased username (`name` or `name@domain`), for exact matches.
    pub username: Field,
    /// Its edge n-grams (`a`, `al`, `ali`, …), for prefix matches ranked by BM25, which favours
    /// shorter names.
    pub username_prefix: Field,
    pub display_name: Field,
    pub bio: Field,
}

pub fn person_schema() -> (Schema, PersonFields) {
    let mut b = Schema::builder();
    let prefix = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(PREFIX_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = PersonFields {
        id: b.add_u64_field("id", INDEXED | FAST | STORED),
        username: b.add_text_field("username", STRING),
        username_prefix: b.add_text_field("username_prefix", prefix),
        display_name: b.add_text_field("display_name", analyzed(true)),
        bio: b.add_text_field("bio", analyzed(false)),
    };
    (b.build(), fields)
}

/// Ids are positive (time-sortable); anything else cannot be indexed.
pub fn id_u64(id: i64) -> Option<u64> {
    u64::try_from(id).ok().filter(|&v| v > 0)
}

fn cut(s: &str, max_chars: usize) -> &str {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// A tag or account name as the raw fields hold it: no leading `#`/`@`, trimmed, lowercased.
pub fn norm_raw(s: &str, strip: char) -> String {
    cut(s.trim().trim_start_matches(strip), MAX_FIELD_CHARS).to_lowercase()
}

fn push_unique(list: &mut Vec<String>, v: String) {
    if !v.is_empty() && list.len() < MAX_TAGS_PER_POST && !list.contains(&v) {
        list.push(v);
    }
}

/// The tags and mentions of a post: what the caller gave plus what its text contains (remote
/// posts may carry tags that are not in their text, and callers may forget the parse).
fn tags_and_mentions(doc: &PostDoc) -> (Vec<String>, Vec<String>) {
    let mut tags = Vec::new();
    let mut mentions = Vec::new();
    for t in &doc.tags {
        push_unique(&mut tags, norm_raw(t, '#'));
    }
    for m in &doc.mentions {
        push_unique(&mut mentions, norm_raw(m, '@'));
    }
    for text in [&doc.text, &doc.content_warning] {
        for seg in segments(text) {
            match seg {
                Segment::Hashtag { tag, .. } => push_unique(&mut tags, tag.to_lowercase()),
                Segment::Mention { name, domain, .. } => {
                    let acct = match domain {
                        Some(d) => format!("{name}@{d}"),
                        None => name.to_string(),
                    };
                    push_unique(&mut mentions, acct.to_lowercase());
                }
                _ => {}
            }
        }
    }
    (tags, mentions)
}

/// The Tantivy document for a post, or `None` for an id that cannot be indexed.
pub fn post_document(f: &PostFields, doc: &PostDoc) -> Option<TantivyDocument> {
    let id = id_u64(doc.id)?;
    let mut d = TantivyDocument::new();
    d.add_u64(f.id, id);
    d.add_u64(f.author_id, u64::try_from(doc.author_id).unwrap_or(0));
    d.add_text(f.author, norm_raw(&doc.author, '@'));
    d.add_text(f.text, &doc.text);
    if !doc.content_warning.is_empty() {
        d.add_text(f.text, &doc.content_warning);
    }
    let (tags, mentions) = tags_and_mentions(doc);
    for t in tags {
        d.add_text(f.tags, t);
    }
    for m in mentions {
        d.add_text(f.mentions, m);
    }
    d.add_i64(f.created_at, doc.created_at);
    d.add_u64(f.visibility, u64::from(doc.visibility.min(2)));
    if doc.visibility != super::VISIBILITY_PUBLIC {
        for a in doc.addressed.iter().take(MAX_TAGS_PER_POST) {
            if let Some(a) = id_u64(*a) {
                d.add_u64(f.addressed, a);
            }
        }
    }
    d.add_bool(f.has_media, doc.has_media);
    d.add_bool(f.is_reply, doc.is_reply);
    Some(d)
}

pub fn person_document(f: &PersonFields, doc: &PersonDoc) -> Option<TantivyDocument> {
    let id = id_u64(doc.id)?;
    let username = norm_raw(&doc.username, '@');
    let mut d = TantivyDocument::new();
    d.add_u64(f.id, id);
    d.add_text(f.username, &username);
    d.add_text(f.username_prefix, cut(&username, MAX_PREFIX_CHARS));
    d.add_text(f.display_name, &doc.display_name);
    d.add_text(f.bio, &doc.bio);
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_mentions_merge_the_given_and_the_parsed() {
        let doc = PostDoc {
            id: 1,
            text: "hi @Bob and @ann@X.org #Rust".into(),
            content_warning: "#spoilers".into(),
            tags: vec!["#rust".into(), "Given".into()],
            mentions: vec!["@carol".into()],
            ..PostDoc::default()
        };
        let (tags, mentions) = tags_and_mentions(&doc);
        assert_eq!(tags, ["rust", "given", "spoilers"]);
        assert_eq!(mentions, ["carol", "bob", "ann@x.org"]);
    }

    #[test]
    fn non_positive_ids_are_not_indexed() {
        let (_, f) = post_schema();
        assert!(post_document(&f, &PostDoc::default()).is_none());
        let doc = PostDoc {
            id: -5,
            ..PostDoc::default()
        };
        assert!(post_document(&f, &doc).is_none());
    }
}
