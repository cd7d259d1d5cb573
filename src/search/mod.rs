//! Full-text search over posts and people, on Tantivy. No SQL and no HTTP: callers hand in plain
//! [`PostDoc`]s and [`PersonDoc`]s and get ids back, which they re-check against SQLite (the
//! source of truth) before showing anything. The index can always be rebuilt from SQLite.
//!
//! * [`query`]: the search box's language (`"phrases"`, `-word`, `from:`, `#tag`, `has:media`,
//!   `is:reply`, `before:`/`after:`), a parser that never fails.
//! * [`analysis`]: how text becomes terms: word-boundary tokens that keep `_`, one token per
//!   character for scripts written without spaces, lowercase, ASCII folding, long tokens
//!   dropped, no stemming and no stop words (posts are multilingual and short).
//! * [`SearchIndex`]: the read side, cheap to clone and share. Posts and people are two Tantivy
//!   indexes in one *generation* directory; a small `MANIFEST` file beside them names the live
//!   generation and the schema version, so a rebuild is built aside and swapped in atomically,
//!   and an index from another schema (or an unreadable one) is reported as
//!   [`SearchError::NeedsRebuild`] instead of being misread.
//! * [`Indexer`]: the only writer, a dedicated thread fed over a channel. It commits on a timer
//!   (`commit_interval`, under a second) or after `max_pending` ops, never per document, then
//!   reloads the readers; [`Indexer::flush`] resolves once everything sent before it is
//!   committed and searchable.
//! * [`rebuild`] / [`Indexer::rebuild`]: bulk indexing with a large budget, several threads
//!   and a single commit.
//! * [`bench`]: a synthetic benchmark (`bench::run`) for `weft bench search`.
//!
//! Visibility: the index stores each post's visibility, author and the accounts it addresses,
//! and [`ViewerFilter`] keeps out what a viewer may not see (followers-only posts of people
//! they do not follow, and mentioned-only posts, except their own and those addressed to
//! them). It is a first cut, not the rule: the caller applies
//! the full visibility rules from SQLite to every hit.

pub mod analysis;
pub mod bench;
mod collect;
mod index;
mod indexer;
pub mod query;
mod schema;

pub use index::{SearchIndex, SearchStats};
pub use indexer::{Flush, Indexer, IndexerOptions, OpMark, RebuildOptions, rebuild, rebuild_with};
pub use query::{SearchQuery, parse};
pub use schema::SCHEMA_VERSION;

/// A post as the indexer takes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostDoc {
    /// Positive, time-sortable id (newest-first order and keyset pagination use it).
    pub id: i64,
    pub author_id: i64,
    /// `name` for local accounts, `name@domain` for remote ones (`from:` matches it exactly,
    /// ignoring case).
    pub author: String,
    pub text: String,
    pub content_warning: String,
    /// Hashtags (with or without `#`); those in the text are added anyway.
    pub tags: Vec<String>,
    /// Mentioned accounts (`name` or `name@domain`); those in the text are added anyway.
    pub mentions: Vec<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// 0 public (and unlisted), 1 followers-only, 2 mentioned-only.
    pub visibility: u8,
    /// Accounts the post addresses (mentioned, or the author replied to): they may see it
    /// whatever its visibility.
    pub addressed: Vec<i64>,
    pub has_media: bool,
    pub is_reply: bool,
}

pub const VISIBILITY_PUBLIC: u8 = 0;
pub const VISIBILITY_FOLLOWERS: u8 = 1;
pub const VISIBILITY_MENTIONED: u8 = 2;

/// An account as the people index takes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonDoc {
    pub id: i64,
    /// `name` or `name@domain`.
    pub username: String,
    pub display_name: String,
    pub bio: String,
}

/// Who is searching, for the first-cut visibility filter.
#[derive(Debug, Clone, Default)]
pub struct ViewerFilter {
    /// Logged-in account, if any.
    pub viewer: Option<i64>,
    /// Accounts the viewer follows (their followers-only posts are visible).
    pub followed_authors: Vec<i64>,
}

impl ViewerFilter {
    pub fn anonymous() -> Self {
        ViewerFilter::default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// By id, newest first; paginate with [`Cursor::Before`].
    #[default]
    Newest,
    /// By BM25 relevance (ties: newer first); paginate with
    /// [`Cursor::Offset`], at most [`MAX_RELEVANT_RESULTS`] deep.
    Relevant,
}

/// Relevance-ordered results stop after this many.
pub const MAX_RELEVANT_RESULTS: usize = 500;
/// Most hits in one page.
pub const MAX_PAGE: usize = 100;

/// Where the next page starts. A cursor of the wrong kind for the order is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// Newest first: posts with an id below this.
    Before(i64),
    /// Relevance: skip this many hits.
    Offset(usize),
}

impl Cursor {
    /// A compact form for a URL parameter: `b<id>` or `o<offset>`.
    pub fn to_param(&self) -> String {
        match self {
            Cursor::Before(id) => format!("b{id}"),
            Cursor::Offset(n) => format!("o{n}"),
        }
    }

    /// Reads [`Cursor::to_param`]'s form; anything else is `None`.
    pub fn from_param(s: &str) -> Option<Cursor> {
        if let Some(id) = s.strip_prefix('b') {
            id.parse().ok().map(Cursor::Before)
        } else if let Some(n) = s.strip_prefix('o') {
            n.parse().ok().map(Cursor::Offset)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchPage {
    pub hits: Vec<Hit>,
    /// The cursor for the next page, when there may be one.
    pub next: Option<Cursor>,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The index on disk is missing pieces, unreadable, or from another schema version. Start
    /// with [`SearchIndex::create_fresh`] and rebuild from the database in the background.
    #[error("the search index needs a rebuild: {0}")]
    NeedsRebuild(String),
    #[error("search index I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("search index: {0}")]
    Tantivy(String),
    /// The indexer thread has stopped; nothing more can be written through it.
    #[error("the search indexer has stopped")]
    Stopped,
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        SearchError::Tantivy(e.to_string())
    }
}

impl From<tantivy::directory::error::OpenReadError> for SearchError {
    fn from(e: tantivy::directory::error::OpenReadError) -> Self {
        SearchError::Tantivy(e.to_string())
    }
}

/// The pieces of `text` that match the query's words and phrases as the index matches them
/// (case and accents folded), each once, longest first: what to highlight in a result. The
/// index stores no text; results are shown from the database.
pub fn matched_pieces(q: &SearchQuery, text: &str) -> Vec<String> {
    Highlighter::new(q).pieces(text)
}

/// [`matched_pieces`] for many texts: the query is analysed once.
pub struct Highlighter {
    analyzer: tantivy::tokenizer::TextAnalyzer,
    terms: std::collections::HashSet<String>,
}

impl Highlighter {
    pub fn new(q: &SearchQuery) -> Highlighter {
        let mut analyzer = analysis::text_analyzer();
        let mut terms = std::collections::HashSet::new();
        if q.has_text() {
            for w in q.words.iter().chain(q.phrases.iter().flatten()) {
                terms.extend(analysis::tokens(&mut analyzer, w));
            }
        }
        Highlighter { analyzer, terms }
    }

    pub fn pieces(&mut self, text: &str) -> Vec<String> {
        if self.terms.is_empty() || text.is_empty() {
            return Vec::new();
        }
        let mut out: Vec<String> = Vec::new();
        let mut stream = self.analyzer.token_stream(text);
        while let Some(t) = stream.next() {
            if self.terms.contains(&t.text)
                && let Some(piece) = text.get(t.offset_from..t.offset_to)
                && !out.iter().any(|p| p == piece)
            {
                out.push(piece.to_string());
            }
        }
        out.sort_by_key(|p| std::cmp::Reverse(p.len()));
        out
    }
}

#[cfg(test)]
mod tests;
