//! The read side: opening (or refusing) the index on disk, generations and the manifest, and
//! the post and people searches.
//!
//! On disk, `dir/` holds `MANIFEST` (format name, schema version, live generation) and one
//! directory per generation, `gen-<n>/{posts,people}/`. Generations are built as `tmp-<n>/`,
//! renamed once committed, and become live when `MANIFEST` is replaced (write, fsync, rename,
//! fsync the directory), so a crash at any point leaves either the old or the new index.

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use tantivy::collector::TopDocs;
use tantivy::index::{IndexSettings, IndexSortByField};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, Occur, PhrasePrefixQuery, PhraseQuery, Query, RangeQuery,
    TermQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocAddress, Index, IndexReader, ReloadPolicy, Score, TantivyDocument, Term};

use super::analysis::{self, MAX_PREFIX_CHARS};
use super::collect::{self, Visibility};
use super::schema::{self, PersonFields, PostFields, SCHEMA_VERSION, id_u64};
use super::{
    Cursor, Hit, MAX_PAGE, MAX_RELEVANT_RESULTS, Order, SearchError, SearchPage, SearchQuery,
    ViewerFilter,
};

const MANIFEST: &str = "MANIFEST";
const MANIFEST_TMP: &str = "MANIFEST.tmp";
const FORMAT_LINE: &str = "weft-search";
const POSTS_DIR: &str = "posts";
const PEOPLE_DIR: &str = "people";
/// Tokens kept from one query word or phrase (a long CJK word is one token per character).
const MAX_PHRASE_TOKENS: usize = 32;
/// Characters of a people query that are looked at.
const MAX_PEOPLE_QUERY_CHARS: usize = 100;
/// Terms a display-name prefix may expand to.
const PREFIX_EXPANSIONS: u32 = 200;

/// One complete, committed pair of indexes and their readers.
pub(super) struct Generation {
    pub name: String,
    pub path: PathBuf,
    pub posts: Index,
    pub posts_reader: IndexReader,
    pub people: Index,
    pub people_reader: IndexReader,
}

pub(super) struct Inner {
    pub dir: PathBuf,
    pub post_fields: PostFields,
    pub person_fields: PersonFields,
    current: RwLock<Arc<Generation>>,
}

/// A handle on the search index; clones share it. Reads never block on the writer.
#[derive(Clone)]
pub struct SearchIndex {
    pub(super) inner: Arc<Inner>,
}

/// Figures for the admin page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchStats {
    pub posts: u64,
    pub people: u64,
    pub post_segments: usize,
    pub people_segments: usize,
    pub bytes_on_disk: u64,
    pub generation: String,
    pub schema_version: u32,
}

impl SearchIndex {
    /// Opens the index in `dir`, creating an empty one when `dir` is missing or empty. An index
    /// that exists but cannot be used (garbage, missing pieces, another schema version) is
    /// [`SearchError::NeedsRebuild`]: continue with [`SearchIndex::create_fresh`] and rebuild.
    pub fn open(dir: &Path) -> Result<SearchIndex, SearchError> {
        let manifest = match std::fs::read_to_string(dir.join(MANIFEST)) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return if only_our_leftovers(dir)? {
                    SearchIndex::create_fresh(dir)
                } else {
                    Err(SearchError::NeedsRebuild(format!(
                        "{} holds files but no {MANIFEST}",
                        dir.display()
                    )))
                };
            }
            Err(e) => {
                return Err(SearchError::NeedsRebuild(format!(
                    "reading {MANIFEST}: {e}"
                )));
            }
        };
        let name = parse_manifest(&manifest)?;
        let generation = open_generation(dir, &name)
            .map_err(|e| SearchError::NeedsRebuild(format!("generation {name}: {e}")))?;
        remove_other_generations(dir, &name, true);
        Ok(SearchIndex::from_generation(dir, generation))
    }

    /// Makes a new, empty index the live one (the previous one, if any, is deleted), for a
    /// start after [`SearchError::NeedsRebuild`]. Only `MANIFEST`, `gen-*` and `tmp-*` in `dir`
    /// are ever touched.
    pub fn create_fresh(dir: &Path) -> Result<SearchIndex, SearchError> {
        let name = build_empty_generation(dir)?;
        switch_manifest(dir, &name)?;
        let generation = open_generation(dir, &name)?;
        remove_other_generations(dir, &name, true);
        Ok(SearchIndex::from_generation(dir, generation))
    }

    pub(super) fn from_generation(dir: &Path, generation: Generation) -> SearchIndex {
        SearchIndex {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                post_fields: schema::post_schema().1,
                person_fields: schema::person_schema().1,
                current: RwLock::new(Arc::new(generation)),
            }),
        }
    }

    pub(super) fn current(&self) -> Arc<Generation> {
        match self.inner.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub(super) fn set_current(&self, generation: Arc<Generation>) {
        match self.inner.current.write() {
            Ok(mut g) => *g = generation,
            Err(poisoned) => *poisoned.into_inner() = generation,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Posts in the index.
    pub fn doc_count(&self) -> u64 {
        self.current().posts_reader.searcher().num_docs()
    }

    pub fn stats(&self) -> SearchStats {
        let g = self.current();
        let posts = g.posts_reader.searcher();
        let people = g.people_reader.searcher();
        SearchStats {
            posts: posts.num_docs(),
            people: people.num_docs(),
            post_segments: posts.segment_readers().len(),
            people_segments: people.segment_readers().len(),
            bytes_on_disk: dir_size(&g.path),
            generation: g.name.clone(),
            schema_version: SCHEMA_VERSION,
        }
    }

    /// Searches posts. An empty query finds nothing; a query of filters only (`from:ann`,
    /// `#tag`) lists what matches them. Hits are ids only: the caller shows (and highlights,
    /// with [`super::matched_pieces`]) the posts from the database.
    pub fn search_posts(
        &self,
        q: &SearchQuery,
        viewer: &ViewerFilter,
        order: Order,
        cursor: Option<Cursor>,
        limit: usize,
    ) -> Result<SearchPage, SearchError> {
        let limit = limit.clamp(1, MAX_PAGE);
        if q.is_empty() {
            return Ok(SearchPage::default());
        }
        let g = self.current();
        let f = &self.inner.post_fields;
        let mut analyzer = analysis::text_analyzer();
        let Some(clauses) = post_clauses(f, &mut analyzer, q) else {
            return Ok(SearchPage::default());
        };
        let query = BooleanQuery::new(clauses);
        let filter = Arc::new(Visibility::new(viewer));
        let searcher = g.posts_reader.searcher();

        let (found, next): (Vec<(u64, DocAddress)>, Option<Cursor>) = match order {
            Order::Newest => {
                let before = match cursor {
                    Some(Cursor::Before(b)) => match id_u64(b) {
                        Some(b) => Some(b),
                        None => return Ok(SearchPage::default()),
                    },
                    _ => None,
                };
                let found = searcher.search(
                    &query,
                    &collect::Newest {
                        limit,
                        before,
                        filter,
                    },
                )?;
                let next = match found.last() {
                    Some(&(id, _)) if found.len() == limit => {
                        i64::try_from(id).ok().map(Cursor::Before)
                    }
                    _ => None,
                };
                (found, next)
            }
            Order::Relevant => {
                let offset = match cursor {
                    Some(Cursor::Offset(n)) => n,
                    _ => 0,
                };
                if offset >= MAX_RELEVANT_RESULTS {
                    return Ok(SearchPage::default());
                }
                let limit = limit.min(MAX_RELEVANT_RESULTS - offset);
                let top = searcher.search(
                    &query,
                    &collect::Relevant {
                        k: offset + limit,
                        filter,
                    },
                )?;
                let found: Vec<(u64, DocAddress)> =
                    top.iter().skip(offset).map(|s| (s.id, s.addr)).collect();
                let end = offset + found.len();
                let next = (found.len() == limit && end < MAX_RELEVANT_RESULTS)
                    .then_some(Cursor::Offset(end));
                (found, next)
            }
        };

        let hits = found
            .into_iter()
            .filter_map(|(id, _)| i64::try_from(id).ok())
            .map(|id| Hit { id })
            .collect();
        Ok(SearchPage { hits, next })
    }

    /// People whose username starts with `q` (`ali` finds `alice`), or whose display name or
    /// bio has all its words (the last word of a display name may be a prefix). An exact
    /// username match comes first, then by relevance, where shorter names rank higher.
    pub fn search_people(&self, q: &str, limit: usize) -> Result<Vec<i64>, SearchError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let clean: String = q
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_PEOPLE_QUERY_CHARS)
            .collect();
        let clean = clean.trim();
        let acct = clean.trim_start_matches('@').to_lowercase();
        if acct.is_empty() {
            return Ok(Vec::new());
        }
        let f = &self.inner.person_fields;
        let mut analyzer = analysis::text_analyzer();
        let words: Vec<String> = analysis::tokens(&mut analyzer, clean)
            .into_iter()
            .take(8)
            .collect();
        let single = !acct.contains(char::is_whitespace);

        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let exact = Term::from_field_text(f.username, &acct);
        if single {
            should.push((Occur::Should, boost(term_query(exact.clone()), 20.0)));
            let prefix: String = acct.chars().take(MAX_PREFIX_CHARS).collect();
            should.push((
                Occur::Should,
                boost(
                    Box::new(TermQuery::new(
                        Term::from_field_text(f.username_prefix, &prefix),
                        IndexRecordOption::WithFreqs,
                    )),
                    5.0,
                ),
            ));
        }
        if !words.is_empty() {
            let mut all_words: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for w in &words {
                let mut alternatives: Vec<(Occur, Box<dyn Query>)> = vec![
                    (
                        Occur::Should,
                        boost(scored_term(Term::from_field_text(f.display_name, w)), 2.0),
                    ),
                    (
                        Occur::Should,
                        boost(scored_term(Term::from_field_text(f.bio, w)), 0.5),
                    ),
                    (
                        Occur::Should,
                        Box::new(TermQuery::new(
                            Term::from_field_text(f.username_prefix, w),
                            IndexRecordOption::WithFreqs,
                        )),
                    ),
                ];
                if w.chars().count() >= 2 {
                    let mut prefix =
                        PhrasePrefixQuery::new(vec![Term::from_field_text(f.display_name, w)]);
                    prefix.set_max_expansions(PREFIX_EXPANSIONS);
                    alternatives.push((Occur::Should, Box::new(prefix)));
                }
                all_words.push((Occur::Must, Box::new(BooleanQuery::new(alternatives))));
            }
            should.push((Occur::Should, Box::new(BooleanQuery::new(all_words))));
        }
        let g = self.current();
        let searcher = g.people_reader.searcher();
        let query = BooleanQuery::new(should);
        let top = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score())?;
        let mut ids = Vec::with_capacity(top.len() + 1);
        if single {
            let first = searcher.search(
                &TermQuery::new(exact, IndexRecordOption::Basic),
                &TopDocs::with_limit(1).order_by_score(),
            )?;
            if let Some((_, addr)) = first.first()
                && let Some(id) = post_id(&searcher, *addr)?
            {
                ids.push(id);
            }
        }
        for (_, addr) in top {
            if let Some(id) = post_id(&searcher, addr)?
                && !ids.contains(&id)
            {
                ids.push(id);
            }
        }
        ids.truncate(limit);
        Ok(ids)
    }
}

fn term_query(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
}

fn scored_term(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))
}

fn boost(q: Box<dyn Query>, by: Score) -> Box<dyn Query> {
    Box::new(BoostQuery::new(q, by))
}

/// The `id` fast field of a hit (posts and people both have one).
fn post_id(searcher: &tantivy::Searcher, addr: DocAddress) -> Result<Option<i64>, SearchError> {
    let column = searcher
        .segment_reader(addr.segment_ord)
        .fast_fields()
        .u64("id")?;
    Ok(column
        .first(addr.doc_id)
        .and_then(|v| i64::try_from(v).ok()))
}

/// A word or phrase as a query on the text field: a term for one token, a phrase for more.
/// `None` when it has no token (too long, or nothing indexable).
fn text_query(f: &PostFields, analyzer: &mut TextAnalyzer, text: &str) -> Option<Box<dyn Query>> {
    let mut terms: Vec<Term> = analysis::tokens(analyzer, text)
        .into_iter()
        .take(MAX_PHRASE_TOKENS)
        .map(|t| Term::from_field_text(f.text, &t))
        .collect();
    match terms.len() {
        0 => None,
        1 => terms.pop().map(scored_term),
        _ => Some(Box::new(PhraseQuery::new(terms))),
    }
}

/// The clauses for what the query asks. `None` when it can match nothing (a required word
/// that has no indexable token).
fn post_clauses(
    f: &PostFields,
    analyzer: &mut TextAnalyzer,
    q: &SearchQuery,
) -> Option<Vec<(Occur, Box<dyn Query>)>> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for w in &q.words {
        clauses.push((Occur::Must, text_query(f, analyzer, w)?));
    }
    for p in &q.phrases {
        clauses.push((Occur::Must, text_query(f, analyzer, &p.join(" "))?));
    }
    if let Some(from) = &q.from {
        clauses.push((
            Occur::Must,
            term_query(Term::from_field_text(f.author, from)),
        ));
    }
    for t in &q.tags {
        clauses.push((Occur::Must, term_query(Term::from_field_text(f.tags, t))));
    }
    for m in &q.mentions {
        clauses.push((
            Occur::Must,
            term_query(Term::from_field_text(f.mentions, m)),
        ));
    }
    if q.has_media {
        clauses.push((
            Occur::Must,
            term_query(Term::from_field_bool(f.has_media, true)),
        ));
    }
    if let Some(r) = q.is_reply {
        clauses.push((
            Occur::Must,
            term_query(Term::from_field_bool(f.is_reply, r)),
        ));
    }
    if q.before.is_some() || q.after.is_some() {
        let lower = match q.after {
            Some(t) => Bound::Included(Term::from_field_i64(f.created_at, t)),
            None => Bound::Unbounded,
        };
        let upper = match q.before {
            Some(t) => Bound::Excluded(Term::from_field_i64(f.created_at, t)),
            None => Bound::Unbounded,
        };
        clauses.push((Occur::Must, Box::new(RangeQuery::new(lower, upper))));
    }
    if clauses.is_empty() {
        clauses.push((Occur::Must, Box::new(AllQuery)));
    }
    for e in &q.excluded {
        if let Some(query) = text_query(f, analyzer, e) {
            clauses.push((Occur::MustNot, query));
        }
    }
    Some(clauses)
}

// ---- generations on disk -------------------------------------------------------------------

fn parse_manifest(text: &str) -> Result<String, SearchError> {
    let mut lines = text.lines();
    let bad = |why: &str| SearchError::NeedsRebuild(format!("{MANIFEST}: {why}"));
    if lines.next() != Some(FORMAT_LINE) {
        return Err(bad("not a weft search manifest"));
    }
    let version = lines
        .next()
        .and_then(|l| l.strip_prefix("schema "))
        .and_then(|v| v.trim().parse::<u32>().ok())
        .ok_or_else(|| bad("no schema version"))?;
    if version != SCHEMA_VERSION {
        return Err(bad(&format!(
            "schema version {version}, this build uses {SCHEMA_VERSION}"
        )));
    }
    let name = lines
        .next()
        .and_then(|l| l.strip_prefix("generation "))
        .map(str::trim)
        .filter(|n| generation_number(n).is_some())
        .ok_or_else(|| bad("no generation"))?;
    Ok(name.to_string())
}

fn generation_number(name: &str) -> Option<u64> {
    let n = name.strip_prefix("gen-")?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

fn tmp_number(name: &str) -> Option<u64> {
    let n = name.strip_prefix("tmp-")?;
    n.parse().ok()
}

pub(super) fn generation_name(n: u64) -> String {
    format!("gen-{n:08}")
}

pub(super) fn tmp_name(n: u64) -> String {
    format!("tmp-{n:08}")
}

/// A number above every generation (live, old or half-built) in `dir`.
pub(super) fn next_generation_number(dir: &Path) -> Result<u64, SearchError> {
    let mut max = 0;
    if dir.exists() {
        for entry in std::fs::read_dir(dir)? {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            if let Some(n) = generation_number(&name).or_else(|| tmp_number(&name)) {
                max = max.max(n);
            }
        }
    }
    Ok(max + 1)
}

/// True when `dir` is missing, empty, or holds only what an interrupted first start of ours
/// left (no manifest yet).
fn only_our_leftovers(dir: &Path) -> Result<bool, SearchError> {
    if !dir.exists() {
        return Ok(true);
    }
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        let ours = generation_number(&name).is_some()
            || tmp_number(&name).is_some()
            || name == MANIFEST_TMP;
        if !ours {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Deletes `gen-*` directories other than `keep` and, when `tmp_too`, half-built `tmp-*` ones.
/// Best effort: what cannot be deleted now is tried again at the next open.
pub(super) fn remove_other_generations(dir: &Path, keep: &str, tmp_too: bool) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let stale = (generation_number(&name).is_some() && name != keep)
            || (tmp_too && tmp_number(&name).is_some());
        if stale && let Err(e) = std::fs::remove_dir_all(entry.path()) {
            tracing::warn!("search: could not remove {}: {e}", entry.path().display());
        }
    }
}

pub(super) fn new_index(
    path: &Path,
    schema: tantivy::schema::Schema,
    settings: IndexSettings,
) -> Result<Index, SearchError> {
    std::fs::create_dir_all(path)?;
    let index = Index::builder()
        .schema(schema)
        .settings(settings)
        .create_in_dir(path)?;
    analysis::register(index.tokenizers());
    Ok(index)
}

/// Creates `dir/gen-<n>` with two empty committed indexes; returns its name.
fn build_empty_generation(dir: &Path) -> Result<String, SearchError> {
    std::fs::create_dir_all(dir)?;
    let n = next_generation_number(dir)?;
    let tmp = dir.join(tmp_name(n));
    for (sub, schema, settings) in [
        (POSTS_DIR, schema::post_schema().0, schema::post_settings()),
        (
            PEOPLE_DIR,
            schema::person_schema().0,
            IndexSettings::default(),
        ),
    ] {
        let index = new_index(&tmp.join(sub), schema, settings)?;
        let mut writer: tantivy::IndexWriter<TantivyDocument> =
            index.writer_with_num_threads(1, 15_000_000)?;
        writer.commit()?;
        writer.wait_merging_threads()?;
    }
    let name = generation_name(n);
    promote(dir, &tmp, &name)?;
    Ok(name)
}

pub(super) fn posts_path(gen_path: &Path) -> PathBuf {
    gen_path.join(POSTS_DIR)
}

pub(super) fn people_path(gen_path: &Path) -> PathBuf {
    gen_path.join(PEOPLE_DIR)
}

/// Renames a committed `tmp-<n>` to its generation name.
pub(super) fn promote(dir: &Path, tmp: &Path, name: &str) -> Result<(), SearchError> {
    std::fs::rename(tmp, dir.join(name))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), SearchError> {
    // Directories can be opened and fsynced on Unix; elsewhere this is a no-op.
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// Atomically makes `name` the live generation.
pub(super) fn switch_manifest(dir: &Path, name: &str) -> Result<(), SearchError> {
    use std::io::Write;
    let tmp = dir.join(MANIFEST_TMP);
    {
        let mut file = std::fs::File::create(&tmp)?;
        write!(
            file,
            "{FORMAT_LINE}\nschema {SCHEMA_VERSION}\ngeneration {name}\n"
        )?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(MANIFEST))?;
    sync_dir(dir)
}

fn open_index(
    path: &Path,
    expected: &tantivy::schema::Schema,
    sort: Option<&IndexSortByField>,
) -> Result<(Index, IndexReader), SearchError> {
    let index = Index::open_in_dir(path)?;
    if &index.schema() != expected || index.settings().sort_by_field.as_ref() != sort {
        return Err(SearchError::NeedsRebuild(format!(
            "{} has another schema or sort order",
            path.display()
        )));
    }
    analysis::register(index.tokenizers());
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()?;
    // Opening every segment now finds missing or truncated files before the first search.
    let searcher = reader.searcher();
    for segment in searcher.segment_readers() {
        segment.fast_fields().u64("id")?;
    }
    Ok((index, reader))
}

pub(super) fn open_generation(dir: &Path, name: &str) -> Result<Generation, SearchError> {
    let path = dir.join(name);
    let post_settings = schema::post_settings();
    let (posts, posts_reader) = open_index(
        &posts_path(&path),
        &schema::post_schema().0,
        post_settings.sort_by_field.as_ref(),
    )?;
    let (people, people_reader) =
        open_index(&people_path(&path), &schema::person_schema().0, None)?;
    Ok(Generation {
        name: name.to_string(),
        path,
        posts,
        posts_reader,
        people,
        people_reader,
    })
}

fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}
