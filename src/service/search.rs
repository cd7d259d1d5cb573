//! Search, hashtag use and autocompletion over the Tantivy index, which is derived from SQLite
//! and can always be rebuilt from it.
//!
//! Writes reach the index through `index` jobs queued in the same transaction as the change
//! (`queue_posts`, `queue_people`); the job runner hands them over in batches, the batch is
//! read from SQLite, sent to the one [`Indexer`] and the jobs end only once the index has
//! committed it, so a crash at any point leaves the job queued. Reads hydrate every hit from
//! SQLite with the viewer's visibility, so a stale index entry never shows what it should not.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rusqlite::Connection;

use super::accounts::Viewer;
use super::tasks::{self, Task};
use super::{ANONYMOUS, Core};
use crate::config;
use crate::domain::{AccountId, IdGen, PostId};
use crate::error::{AppError, AppResult};
use crate::search::{
    self, Cursor, Indexer, IndexerOptions, Order, PersonDoc, PostDoc, RebuildOptions, SearchError,
    SearchIndex, ViewerFilter,
};
use crate::store::models::{Account, FeedItem};
use crate::store::search::{PersonSource, PostSource};
use crate::store::{self, accounts, posts};

/// Posts or people read from SQLite per chunk of a rebuild.
const REBUILD_CHUNK: usize = 5_000;

/// The index and its writer, shared by every clone of `Core`. Command-line tools that do not
/// serve open the instance without it ([`Search::offline`]): what they change is queued as
/// index jobs, which the server runs.
#[derive(Clone, Default)]
pub struct Search {
    live: Option<Arc<Live>>,
}

struct Live {
    index: SearchIndex,
    indexer: RwLock<Option<Arc<Indexer>>>,
    /// Set while a rebuild runs (the index is then incomplete, and search says so).
    rebuilding: AtomicBool,
    /// Documents a running rebuild has indexed, for progress on the admin page.
    rebuilt: AtomicU64,
    /// Serialises "read from SQLite, send to the indexer", so the last state read is the
    /// last one sent even when two batches touch the same post.
    send: tokio::sync::Mutex<()>,
    needs_rebuild: bool,
    /// Held while this process owns the index, so `weft reindex` cannot run beside a server.
    _lock: std::fs::File,
}

const LOCK_FILE: &str = "LOCK";

/// Takes the index directory for this process, or says who has it.
pub fn lock_dir(dir: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::create_dir_all(dir)?;
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another weft process (a running server?) is using the search index in {}; \
             stop it first, or rebuild from the admin page",
            dir.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
    }
}

impl Search {
    /// Opens the index in `dir`. An unreadable index (or one from another schema) is replaced
    /// by an empty one and `needs_rebuild` is set; so is an empty index beside a database
    /// that has accounts (an upgrade from a version without search, or a deleted index).
    pub fn open(dir: PathBuf, cfg: &config::Search, db_has_accounts: bool) -> anyhow::Result<Self> {
        let lock = lock_dir(&dir)?;
        let (index, mut needs_rebuild) = match SearchIndex::open(&dir) {
            Ok(i) => (i, false),
            Err(SearchError::NeedsRebuild(why)) => {
                tracing::warn!("the search index will be rebuilt: {why}");
                (SearchIndex::create_fresh(&dir)?, true)
            }
            Err(e) => return Err(e.into()),
        };
        let stats = index.stats();
        if stats.posts == 0 && stats.people == 0 && db_has_accounts {
            needs_rebuild = true;
        }
        let indexer = Indexer::start(
            &index,
            IndexerOptions {
                commit_interval: Duration::from_millis(cfg.commit_interval_ms.max(1)),
                max_pending: cfg.commit_docs,
                memory_budget: cfg.writer_memory_mib * 1024 * 1024,
                writer_idle: Duration::from_secs(cfg.writer_idle_secs.max(1)),
            },
        )?;
        Ok(Search {
            live: Some(Arc::new(Live {
                index,
                indexer: RwLock::new(Some(Arc::new(indexer))),
                rebuilding: AtomicBool::new(false),
                rebuilt: AtomicU64::new(0),
                send: tokio::sync::Mutex::new(()),
                needs_rebuild,
                _lock: lock,
            })),
        })
    }

    /// No index in this process (command-line tools).
    pub fn offline() -> Self {
        Search { live: None }
    }

    fn live(&self) -> AppResult<&Live> {
        self.live.as_deref().ok_or(AppError::Unavailable)
    }

    pub fn needs_rebuild(&self) -> bool {
        self.live.as_ref().is_some_and(|l| l.needs_rebuild)
    }

    pub fn is_rebuilding(&self) -> bool {
        self.live
            .as_ref()
            .is_some_and(|l| l.rebuilding.load(Ordering::Acquire))
    }

    pub fn rebuilt_so_far(&self) -> u64 {
        self.live
            .as_ref()
            .map_or(0, |l| l.rebuilt.load(Ordering::Relaxed))
    }

    pub fn stats(&self) -> Option<search::SearchStats> {
        self.live.as_ref().map(|l| l.index.stats())
    }

    /// Commits what is pending and stops the writer (at shutdown). Ops not committed belong
    /// to jobs that are still queued, so nothing is lost if this cannot finish.
    pub fn stop(&self) {
        let Some(live) = &self.live else {
            return;
        };
        let taken = match live.indexer.write() {
            Ok(mut g) => g.take(),
            Err(p) => p.into_inner().take(),
        };
        if let Some(indexer) = taken.and_then(|i| Arc::try_unwrap(i).ok())
            && let Err(e) = indexer.stop()
        {
            tracing::warn!("stopping the search indexer: {e}");
        }
    }
}

impl Live {
    fn indexer(&self) -> AppResult<Arc<Indexer>> {
        let guard = match self.indexer.read() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        guard.clone().ok_or(AppError::Unavailable)
    }
}

fn to_app(e: SearchError) -> AppError {
    AppError::Internal(anyhow::Error::new(e).context("search index"))
}

// ---- queueing, inside the caller's transaction ----

/// Queues re-indexing of these posts (created, edited or deleted) with the caller's write.
pub(crate) fn queue_posts(c: &Connection, ids: &IdGen, posts: &[PostId]) -> AppResult<()> {
    tasks::enqueue(
        c,
        ids,
        &Task::Index {
            posts: posts.iter().map(|p| p.0).collect(),
            people: Vec::new(),
        },
    )
}

/// Queues re-indexing of these accounts (profile changed, approved, opted out…).
pub(crate) fn queue_people(c: &Connection, ids: &IdGen, people: &[AccountId]) -> AppResult<()> {
    tasks::enqueue(
        c,
        ids,
        &Task::Index {
            posts: Vec::new(),
            people: people.iter().map(|p| p.0).collect(),
        },
    )
}

// ---- the writer side, for the job handler ----

fn post_doc(p: PostSource) -> PostDoc {
    PostDoc {
        id: p.id,
        author_id: p.author_id,
        author: p.author,
        text: p.body,
        content_warning: p.content_warning,
        tags: p.tags,
        mentions: Vec::new(),
        addressed: p.addressed,
        created_at: p.created_at,
        visibility: match p.visibility {
            0 => search::VISIBILITY_PUBLIC,
            1 => search::VISIBILITY_FOLLOWERS,
            _ => search::VISIBILITY_MENTIONED,
        },
        has_media: p.has_media,
        is_reply: p.is_reply,
    }
}

fn person_doc(p: PersonSource) -> PersonDoc {
    PersonDoc {
        id: p.id,
        username: p.username,
        display_name: p.display_name,
        bio: p.bio,
    }
}

/// Brings the index up to date with SQLite for these posts and people, and waits until that
/// is committed and searchable (the job behind `Task::Index`, for a whole batch of jobs).
pub(crate) async fn index_now(core: &Core, posts: Vec<i64>, people: Vec<i64>) -> AppResult<()> {
    let search = core.search.live()?;
    let indexer = search.indexer()?;
    let flush = {
        let _order = search.send.lock().await;
        let (post_ids, person_ids) = (posts.clone(), people.clone());
        let (found_posts, found_people) = core
            .db
            .read(move |c| {
                let ps = store::search::posts_by_ids(c, &post_ids)?;
                let mut people = Vec::with_capacity(person_ids.len());
                for id in &person_ids {
                    people.push((*id, store::search::person_by_id(c, AccountId(*id))?));
                }
                Ok((ps, people))
            })
            .await?;
        let mark = indexer.mark();
        let mut seen = std::collections::HashSet::with_capacity(found_posts.len());
        for p in found_posts {
            seen.insert(p.id);
            if p.indexable {
                indexer.upsert_post(post_doc(p))
            } else {
                indexer.delete_post(p.id)
            }
            .map_err(to_app)?;
        }
        for id in posts.iter().filter(|id| !seen.contains(id)) {
            indexer.delete_post(*id).map_err(to_app)?;
        }
        for (id, p) in found_people {
            match p {
                Some(p) if p.indexable => indexer.upsert_person(person_doc(p)),
                _ => indexer.delete_person(id),
            }
            .map_err(to_app)?;
        }
        indexer.flush_since(mark)
    };
    flush.wait().await.map_err(to_app)
}

/// Waits until every index job queued so far has run and its changes are searchable (for
/// tests and benchmarks; gives up after 30 s).
pub async fn settle(core: &Core) -> AppResult<()> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let pending = core
            .db
            .read(|c| {
                Ok(store::jobs::has_kind(c, "index")? || store::jobs::has_kind(c, "index_author")?)
            })
            .await?;
        if !pending {
            break;
        }
        if std::time::Instant::now() > deadline {
            return Err(AppError::Unavailable);
        }
        core.jobs.wake();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Re-indexes every post of an author (after they opt out of search or back in): queues
/// their posts as `index` jobs in chunks, in the same write that ends this job, so the work
/// goes through the batched path and never holds a worker for long.
pub(crate) async fn index_author(core: &Core, job: i64, account: AccountId) -> AppResult<()> {
    let ids = core.ids.clone();
    core.db
        .write(move |c| {
            let mut after = 0;
            loop {
                let chunk = store::search::post_ids_by_author(c, account, after, 500)?;
                let Some(&last) = chunk.last() else {
                    break;
                };
                after = last;
                tasks::enqueue(
                    c,
                    &ids,
                    &Task::Index {
                        posts: chunk,
                        people: Vec::new(),
                    },
                )?;
            }
            queue_people(c, &ids, &[account])?;
            store::jobs::delete(c, job)?;
            Ok(())
        })
        .await?;
    core.jobs.wake();
    Ok(())
}

/// Rebuilds the whole index from SQLite while the server runs (on start when needed, or from
/// the admin page). Changes made meanwhile are replayed onto the new index before it is
/// swapped in. Blocking: run it on a blocking thread.
pub fn rebuild_blocking(core: &Core) -> AppResult<u64> {
    let search = core.search.live()?;
    if search.rebuilding.swap(true, Ordering::AcqRel) {
        return Err(AppError::Conflict(
            "The search index is already being rebuilt.".into(),
        ));
    }
    search.rebuilt.store(0, Ordering::Relaxed);
    let started = std::time::Instant::now();
    let result = search.indexer().and_then(|indexer| {
        indexer
            .rebuild(
                post_chunks(core.db.clone()),
                people_chunks(core.db.clone()),
                &|n| search.rebuilt.store(n, Ordering::Relaxed),
                &RebuildOptions {
                    memory_budget: core.config.search.rebuild_memory_mib * 1024 * 1024,
                    ..RebuildOptions::default()
                },
            )
            .map_err(to_app)
    });
    search.rebuilding.store(false, Ordering::Release);
    result?;
    let n = search.index.doc_count();
    tracing::info!(
        "search index rebuilt: {n} posts in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(n)
}

pub struct ReindexReport {
    pub posts: u64,
    pub people: u64,
    pub seconds: f64,
    pub bytes_on_disk: u64,
}

/// `weft reindex`: rebuilds the index from SQLite with no server running on the data
/// directory (it refuses when one is), reporting `(posts indexed, posts in the database)`.
pub fn reindex_offline(core: &Core, progress: &dyn Fn(u64, u64)) -> anyhow::Result<ReindexReport> {
    let dir = core.config.search_dir();
    let _lock = lock_dir(&dir)?;
    let total = core
        .db
        .read_blocking(|c| Ok(store::search::count_posts(c)?))
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .max(0) as u64;
    let started = std::time::Instant::now();
    let index = search::rebuild_with(
        &dir,
        post_chunks(core.db.clone()),
        people_chunks(core.db.clone()),
        &|n| progress(n, total.max(n)),
        &RebuildOptions {
            memory_budget: core.config.search.rebuild_memory_mib * 1024 * 1024,
            ..RebuildOptions::default()
        },
    )?;
    let stats = index.stats();
    Ok(ReindexReport {
        posts: stats.posts,
        people: stats.people,
        seconds: started.elapsed().as_secs_f64(),
        bytes_on_disk: stats.bytes_on_disk,
    })
}

/// Rows read lazily from SQLite by keyset in chunks of `REBUILD_CHUNK`, oldest first: a
/// rebuild sees every change either in what it reads or among the ops it replays. A read
/// error ends the stream (it is logged).
fn chunks<T: Send + 'static>(
    db: store::Db,
    what: &'static str,
    read: fn(&Connection, i64, usize) -> rusqlite::Result<Vec<T>>,
    id: fn(&T) -> i64,
) -> impl Iterator<Item = T> {
    let mut after = Some(0i64);
    std::iter::from_fn(move || {
        let from = after?;
        match db.read_blocking(move |c| Ok(read(c, from, REBUILD_CHUNK)?)) {
            Ok(rows) => {
                after = rows.last().map(id);
                Some(rows)
            }
            Err(e) => {
                tracing::error!("reading {what} for the search index: {e:#}");
                after = None;
                None
            }
        }
    })
    .flatten()
}

/// Every indexable post, oldest first.
pub fn post_chunks(db: store::Db) -> impl Iterator<Item = PostDoc> {
    chunks(db, "posts", store::search::posts_after, |p| p.id)
        .filter(|p| p.indexable)
        .map(post_doc)
}

/// Every indexable account, oldest first.
pub fn people_chunks(db: store::Db) -> impl Iterator<Item = PersonDoc> {
    chunks(db, "accounts", store::search::people_after, |p| p.id)
        .filter(|p| p.indexable)
        .map(person_doc)
}

// ---- reading ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Posts,
    People,
    Tags,
}

impl Kind {
    pub fn parse(s: Option<&str>) -> Kind {
        match s {
            Some("people") => Kind::People,
            Some("tags") => Kind::Tags,
            _ => Kind::Posts,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Posts => "posts",
            Kind::People => "people",
            Kind::Tags => "tags",
        }
    }
}

pub fn parse_order(s: Option<&str>) -> Order {
    match s {
        Some("relevant") => Order::Relevant,
        _ => Order::Newest,
    }
}

pub struct PostHit {
    pub item: FeedItem,
    /// Pieces of the post's text that the query matched, to highlight.
    pub marks: Vec<String>,
}

pub struct PostResults {
    pub hits: Vec<PostHit>,
    pub next: Option<Cursor>,
}

/// Posts matching `q` that the viewer may see, newest or most relevant first.
pub async fn posts(
    core: &Core,
    viewer: Option<&Viewer>,
    q: &str,
    order: Order,
    cursor: Option<Cursor>,
) -> AppResult<PostResults> {
    let query = search::parse(q, core.config.search.max_query_chars);
    let for_marks = query.clone();
    if query.is_empty() {
        return Ok(PostResults {
            hits: Vec::new(),
            next: None,
        });
    }
    let me = viewer.map(|v| v.id()).unwrap_or(ANONYMOUS);
    let followed = if me == ANONYMOUS {
        Vec::new()
    } else {
        core.db
            .read(move |c| Ok(store::home::followees(c, me)?))
            .await?
    };
    let filter = ViewerFilter {
        viewer: (me != ANONYMOUS).then_some(me.0),
        followed_authors: followed,
    };
    let limit = core.config.limits.page_size;
    let index = core.search.live()?.index.clone();
    let page = tokio::task::spawn_blocking(move || {
        index.search_posts(&query, &filter, order, cursor, limit)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
    .map_err(to_app)?;
    let next = page.next;
    let hits = core
        .db
        .read(move |c| {
            let ids: Vec<i64> = page.hits.iter().map(|h| h.id).collect();
            let allowed: std::collections::HashSet<i64> = store::search::searchable_posts(c, &ids)?
                .into_iter()
                .collect();
            let candidates: Vec<PostId> = ids
                .iter()
                .filter(|id| allowed.contains(id))
                .map(|&id| PostId(id))
                .collect();
            let items = super::timeline::visible_items(c, me, &candidates)?;
            let mut marks = search::Highlighter::new(&for_marks);
            Ok(items
                .into_iter()
                .map(|item| PostHit {
                    marks: marks.pieces(&item.post.body),
                    item,
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(PostResults { hits, next })
}

/// People whose username, display name or bio match, active and not opted out.
pub async fn people(core: &Core, q: &str, limit: usize) -> AppResult<Vec<Account>> {
    let index = core.search.live()?.index.clone();
    let q = q.to_string();
    let ids = tokio::task::spawn_blocking(move || index.search_people(&q, limit))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(to_app)?;
    core.db
        .read(move |c| {
            let allowed: std::collections::HashSet<i64> =
                store::search::searchable_people(c, &ids)?
                    .into_iter()
                    .collect();
            let mut out = Vec::new();
            for id in ids.into_iter().filter(|id| allowed.contains(id)) {
                if let Some(a) = accounts::find_by_id(c, AccountId(id))? {
                    out.push(a);
                }
            }
            Ok(out)
        })
        .await
}

/// A hashtag as search and autocompletion show it: its public posts.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TagUse {
    pub name: String,
    pub posts: i64,
}

/// The normal form of a hashtag typed by someone: no `#`, lowercase, only word characters.
pub fn normalize_tag(s: &str) -> String {
    s.trim()
        .trim_start_matches('#')
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .take(100)
        .collect::<String>()
        .to_lowercase()
}

/// Hashtags starting with `q`, the most used first, counting public posts only.
pub async fn tags(core: &Core, q: &str, limit: usize) -> AppResult<Vec<TagUse>> {
    let prefix = normalize_tag(q);
    if prefix.is_empty() {
        return Ok(Vec::new());
    }
    core.db
        .read(move |c| {
            Ok(store::search::tags_with_prefix(c, &prefix, limit)?
                .into_iter()
                .map(|(name, posts)| TagUse { name, posts })
                .collect())
        })
        .await
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AccountSuggestion {
    pub username: String,
    pub display_name: String,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Suggestions {
    pub accounts: Vec<AccountSuggestion>,
    pub tags: Vec<TagUse>,
}

/// What the composer suggests for the word being typed: `@ali` → people, `#we` → hashtags.
pub async fn autocomplete(core: &Core, word: &str) -> AppResult<Suggestions> {
    let n = core.config.search.autocomplete_results;
    let word: String = word.chars().take(100).collect();
    if let Some(name) = word.strip_prefix('@') {
        if name.is_empty() {
            return Ok(Suggestions::default());
        }
        let accounts = people(core, name, n)
            .await?
            .into_iter()
            .map(|a| AccountSuggestion {
                username: a.username,
                display_name: a.display_name,
            })
            .collect();
        return Ok(Suggestions {
            accounts,
            tags: Vec::new(),
        });
    }
    if word.starts_with('#') {
        return Ok(Suggestions {
            accounts: Vec::new(),
            tags: tags(core, &word, n).await?,
        });
    }
    Ok(Suggestions::default())
}

// ---- settings: followed hashtags and opting out ----

pub async fn set_tag_follow(core: &Core, viewer: &Viewer, tag: &str, on: bool) -> AppResult<()> {
    let tag = normalize_tag(tag);
    if tag.is_empty() {
        return Err(AppError::invalid("That is not a hashtag."));
    }
    let me = viewer.id();
    let keep = core.config.feeds.home_size;
    let max = core.config.search.followed_tags_max;
    core.db
        .write(move |c| {
            let now = crate::domain::now_secs();
            if on {
                if !store::search::follows_tag(c, me, &tag)?
                    && store::search::count_followed_tags(c, me)? >= max as i64
                {
                    return Err(AppError::Invalid(format!(
                        "You can follow at most {max} hashtags. Unfollow one in Settings › Search and hashtags first."
                    )));
                }
                if store::search::follow_tag(c, me, &tag, now)? {
                    super::home::on_follow_tag(c, me, &tag, keep)?;
                }
            } else {
                store::search::unfollow_tag(c, me, &tag)?;
            }
            Ok(())
        })
        .await
}

pub async fn followed_tags(core: &Core, viewer: &Viewer) -> AppResult<Vec<String>> {
    let me = viewer.id();
    core.db
        .read(move |c| Ok(store::search::list_followed_tags(c, me)?))
        .await
}

/// The tag page's header: public posts with the tag, and whether the viewer follows it.
pub async fn tag_header(core: &Core, viewer: Option<&Viewer>, tag: &str) -> AppResult<(i64, bool)> {
    let me = viewer.map(|v| v.id());
    let tag = tag.to_string();
    core.db
        .read(move |c| {
            let n = store::search::tag_posts(c, &tag)?;
            let following = match me {
                Some(me) => store::search::follows_tag(c, me, &tag)?,
                None => false,
            };
            Ok((n, following))
        })
        .await
}

pub async fn is_opted_out(core: &Core, viewer: &Viewer) -> AppResult<bool> {
    let me = viewer.id();
    core.db
        .read(move |c| Ok(store::search::is_opted_out(c, me)?))
        .await
}

/// "Don't show my posts in search": takes the account's posts and profile out of search
/// (at once for results, which are checked against SQLite; from the index by a job).
pub async fn set_opt_out(core: &Core, viewer: &Viewer, out: bool) -> AppResult<()> {
    let me = viewer.id();
    let ids = core.ids.clone();
    core.db
        .write(move |c| {
            if store::search::set_opt_out(c, me, out, crate::domain::now_secs())? {
                tasks::enqueue(c, &ids, &Task::IndexAuthor { account: me.0 })?;
            }
            Ok(())
        })
        .await?;
    core.jobs.wake();
    core.trends.clear();
    Ok(())
}

/// Inside a new post's creation: its tags, which count from now on if it is public.
pub(crate) fn tag_in_tx(
    c: &Connection,
    post: PostId,
    public: bool,
    tags: &[String],
) -> AppResult<()> {
    if public {
        store::search::adjust_tag_stats(c, tags, 1, crate::domain::now_secs())?;
    }
    posts::replace_tags(c, post, tags)?;
    Ok(())
}

/// Inside a post's write: replaces its tags and keeps hashtag use counts right (only the
/// tags that came or went change). Returns whether a tag was added.
pub(crate) fn retag_in_tx(
    c: &Connection,
    post: PostId,
    public: bool,
    tags: &[String],
) -> AppResult<bool> {
    let old = store::search::post_tags(c, post)?;
    let added: Vec<String> = tags.iter().filter(|t| !old.contains(t)).cloned().collect();
    if public {
        let removed: Vec<String> = old.into_iter().filter(|t| !tags.contains(t)).collect();
        let now = crate::domain::now_secs();
        store::search::adjust_tag_stats(c, &removed, -1, now)?;
        store::search::adjust_tag_stats(c, &added, 1, now)?;
    }
    posts::replace_tags(c, post, tags)?;
    Ok(!added.is_empty())
}

/// Inside a post's deletion: its tags stop counting.
pub(crate) fn untag_in_tx(c: &Connection, post: PostId, public: bool) -> AppResult<()> {
    if public {
        let old = store::search::post_tags(c, post)?;
        store::search::adjust_tag_stats(c, &old, -1, crate::domain::now_secs())?;
    }
    Ok(())
}
