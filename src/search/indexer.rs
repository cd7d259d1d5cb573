//! The write side: the one [`Indexer`] thread that owns the index writers, and bulk rebuilds.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tantivy::indexer::{IndexWriterOptions, NoMergePolicy};
use tantivy::{IndexWriter, TantivyDocument, Term};
use tokio::sync::oneshot;

use super::index::{self, Generation, SearchIndex};
use super::schema::{self, PersonFields, PostFields, id_u64};
use super::{PersonDoc, PostDoc, SearchError};

#[derive(Debug, Clone)]
pub struct IndexerOptions {
    /// Longest time between an op and the commit that makes it searchable.
    pub commit_interval: Duration,
    /// Commit early once this many ops wait.
    pub max_pending: usize,
    /// Writer memory for posts (at least 15 MB; Tantivy's floor).
    pub memory_budget: usize,
    /// The writers are closed after this long without an op (and reopened at the next), so
    /// a quiet instance does not hold their queues and threads.
    pub writer_idle: Duration,
}

impl Default for IndexerOptions {
    fn default() -> Self {
        IndexerOptions {
            // Under a second, so op → commit → reload stays within about one second.
            commit_interval: Duration::from_millis(800),
            max_pending: 1000,
            memory_budget: 50_000_000,
            writer_idle: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RebuildOptions {
    /// Total writer memory, split over the threads.
    pub memory_budget: usize,
    /// Indexing threads.
    pub threads: usize,
}

impl Default for RebuildOptions {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        RebuildOptions {
            memory_budget: 256_000_000,
            threads: cores.clamp(1, 4),
        }
    }
}

/// Tantivy refuses less per writer thread (not exported by it).
const MIN_BUDGET: usize = 15_000_000;
const PEOPLE_BUDGET: usize = MIN_BUDGET;
/// Documents between two progress reports in a rebuild.
const PROGRESS_EVERY: u64 = 10_000;

#[derive(Debug, Clone)]
enum Op {
    UpsertPost(Box<PostDoc>),
    DeletePost(i64),
    UpsertPerson(Box<PersonDoc>),
    DeletePerson(i64),
}

/// Answers a flush; awaited from async code.
type Reply = oneshot::Sender<Result<(), SearchError>>;
/// Answers a swap or a stop; waited for by a plain blocking receive, which (unlike Tokio's)
/// is also allowed where the indexer happens to be dropped inside the async runtime.
type BlockingReply = mpsc::Sender<Result<(), SearchError>>;

enum Msg {
    /// An op and its sequence number (1, 2, …, in the order sent).
    Op(u64, Op),
    /// Answer once every op up to `upto` is committed; an error if one after `from` was lost.
    Flush {
        from: u64,
        upto: u64,
        reply: Reply,
    },
    StartJournal,
    StopJournal,
    Swap(Arc<Generation>, BlockingReply),
    Stop(BlockingReply),
}

/// Resolves once every op sent before it is committed and searchable, or with an error when a
/// failed commit lost one of the ops it covers (they should then be sent again).
pub struct Flush(oneshot::Receiver<Result<(), SearchError>>);

/// A point in the stream of ops sent to an [`Indexer`], taken with [`Indexer::mark`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OpMark(u64);

/// Lost ranges remembered for flushes still to come; older ones are long answered.
const LOST_RANGES_KEPT: usize = 64;

impl Flush {
    pub async fn wait(self) -> Result<(), SearchError> {
        self.0.await.unwrap_or(Err(SearchError::Stopped))
    }

    /// For threads outside the async runtime (it panics inside one, as any blocking receive).
    pub fn wait_blocking(self) -> Result<(), SearchError> {
        self.0.blocking_recv().unwrap_or(Err(SearchError::Stopped))
    }
}

/// The single writer of a [`SearchIndex`], on its own thread. Ops are queued without blocking;
/// they are applied in order and committed together, at most `commit_interval` after the
/// first one, or as soon as `max_pending` wait. Dropping it commits what is pending and stops
/// the thread.
///
/// How a job runner uses it: send the ops of a batch of jobs, then `flush().wait().await`
/// once, and only then mark the jobs done. Waiting on a flush per job would hold a worker for
/// up to `commit_interval` each time.
pub struct Indexer {
    tx: mpsc::Sender<Msg>,
    /// The last op's sequence number; taken and sent under the lock, so the channel carries
    /// ops in sequence order and a flush after every op it counts.
    seq: std::sync::Mutex<u64>,
    thread: Option<JoinHandle<()>>,
    index: SearchIndex,
    rebuilding: AtomicBool,
}

impl Indexer {
    pub fn start(index: &SearchIndex, opts: IndexerOptions) -> Result<Indexer, SearchError> {
        let generation = index.current();
        let (tx, rx) = mpsc::channel();
        let mut worker = Worker {
            index: index.clone(),
            generation,
            // Opened at the first op: each writer's queue holds 10,000 slots up front (4 MB of
            // the idle process).
            writers: None,
            post_fields: index.inner.post_fields,
            person_fields: index.inner.person_fields,
            opts,
            pending_posts: 0,
            pending_people: 0,
            failed: None,
            applied: 0,
            committed: 0,
            lost: std::collections::VecDeque::new(),
            waiters: Vec::new(),
            deadline: None,
            close_at: None,
            journal: None,
        };
        let thread = std::thread::Builder::new()
            .name("search-indexer".into())
            .spawn(move || worker.run(rx))?;
        Ok(Indexer {
            tx,
            seq: std::sync::Mutex::new(0),
            thread: Some(thread),
            index: index.clone(),
            rebuilding: AtomicBool::new(false),
        })
    }

    fn send(&self, msg: Msg) -> Result<(), SearchError> {
        self.tx.send(msg).map_err(|_| SearchError::Stopped)
    }

    fn seq(&self) -> std::sync::MutexGuard<'_, u64> {
        match self.seq.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn send_op(&self, op: Op) -> Result<(), SearchError> {
        let mut seq = self.seq();
        *seq += 1;
        self.send(Msg::Op(*seq, op))
    }

    /// Adds the post, or replaces the indexed version with the same id.
    pub fn upsert_post(&self, doc: PostDoc) -> Result<(), SearchError> {
        self.send_op(Op::UpsertPost(Box::new(doc)))
    }

    pub fn delete_post(&self, id: i64) -> Result<(), SearchError> {
        self.send_op(Op::DeletePost(id))
    }

    pub fn upsert_person(&self, doc: PersonDoc) -> Result<(), SearchError> {
        self.send_op(Op::UpsertPerson(Box::new(doc)))
    }

    pub fn delete_person(&self, id: i64) -> Result<(), SearchError> {
        self.send_op(Op::DeletePerson(id))
    }

    /// The current point in the stream of ops: take it before sending a batch's ops, then
    /// [`Indexer::flush_since`] it.
    pub fn mark(&self) -> OpMark {
        OpMark(*self.seq())
    }

    /// Resolves once every op sent so far is committed; fails if a failed commit lost any op
    /// sent since `since` (another caller's loss does not fail this one). It does not hurry
    /// the commit: it waits for the next one.
    pub fn flush_since(&self, since: OpMark) -> Flush {
        let (tx, rx) = oneshot::channel();
        let seq = self.seq();
        // If the thread is gone the sender is dropped and the wait reports `Stopped`.
        let _ = self.tx.send(Msg::Flush {
            from: since.0,
            upto: *seq,
            reply: tx,
        });
        drop(seq);
        Flush(rx)
    }

    /// See [`Flush`]: every op sent so far, failing on any loss this indexer has seen lately.
    pub fn flush(&self) -> Flush {
        self.flush_since(OpMark(0))
    }

    /// Rebuilds the live index from `posts` and `people` while this indexer keeps running:
    /// the new generation is built aside, ops that arrive meanwhile are applied to both the
    /// old index and (replayed at the end) the new one, then it is swapped in atomically.
    ///
    /// The iterators must read the database lazily, after this call starts (not collect it
    /// before), so that every change is either in what they read or among the replayed ops.
    /// Blocking; run it on a blocking thread, not in async code.
    pub fn rebuild(
        &self,
        posts: impl Iterator<Item = PostDoc>,
        people: impl Iterator<Item = PersonDoc>,
        progress: &dyn Fn(u64),
        opts: &RebuildOptions,
    ) -> Result<(), SearchError> {
        if self.rebuilding.swap(true, Ordering::AcqRel) {
            return Err(SearchError::Tantivy("a rebuild is already running".into()));
        }
        let result = self.rebuild_inner(posts, people, progress, opts);
        self.rebuilding.store(false, Ordering::Release);
        result
    }

    fn rebuild_inner(
        &self,
        posts: impl Iterator<Item = PostDoc>,
        people: impl Iterator<Item = PersonDoc>,
        progress: &dyn Fn(u64),
        opts: &RebuildOptions,
    ) -> Result<(), SearchError> {
        self.send(Msg::StartJournal)?;
        let built =
            build_generation(self.index.dir(), posts, people, progress, opts).and_then(|name| {
                let generation = index::open_generation(self.index.dir(), &name);
                if generation.is_err() {
                    index::remove_other_generations(
                        self.index.dir(),
                        &self.index.current().name,
                        false,
                    );
                }
                generation
            });
        let generation = match built {
            Ok(g) => g,
            Err(e) => {
                let _ = self.send(Msg::StopJournal);
                return Err(e);
            }
        };
        let (tx, rx) = mpsc::channel();
        self.send(Msg::Swap(Arc::new(generation), tx))?;
        rx.recv().unwrap_or(Err(SearchError::Stopped))
    }

    /// Commits what is pending and stops the thread.
    pub fn stop(mut self) -> Result<(), SearchError> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> Result<(), SearchError> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        let (tx, rx) = mpsc::channel();
        let sent = self.tx.send(Msg::Stop(tx)).is_ok();
        let result = if sent {
            rx.recv().unwrap_or(Err(SearchError::Stopped))
        } else {
            Err(SearchError::Stopped)
        };
        if thread.join().is_err() {
            return Err(SearchError::Tantivy("the indexer thread panicked".into()));
        }
        result
    }
}

impl Drop for Indexer {
    fn drop(&mut self) {
        if let Err(e) = self.stop_inner() {
            tracing::warn!("search indexer stopped with an error: {e}");
        }
    }
}

struct Writers {
    posts: IndexWriter<TantivyDocument>,
    people: IndexWriter<TantivyDocument>,
}

impl Writers {
    fn open(generation: &Generation, budget: usize) -> Result<Writers, SearchError> {
        let options = |budget: usize| {
            IndexWriterOptions::builder()
                .memory_budget_per_thread(budget.max(MIN_BUDGET))
                .num_worker_threads(1)
                .num_merge_threads(1)
                .build()
        };
        Ok(Writers {
            posts: generation.posts.writer_with_options(options(budget))?,
            people: generation
                .people
                .writer_with_options(options(PEOPLE_BUDGET))?,
        })
    }
}

struct Worker {
    index: SearchIndex,
    generation: Arc<Generation>,
    writers: Option<Writers>,
    post_fields: PostFields,
    person_fields: PersonFields,
    opts: IndexerOptions,
    pending_posts: usize,
    pending_people: usize,
    /// Why an op since the last commit could not be applied; the next commit reports it.
    failed: Option<String>,
    /// Sequence number of the last op received, and of the last op a commit covered.
    applied: u64,
    committed: u64,
    /// Ranges `(after, upto]` of ops lost to failed commits, newest last.
    lost: std::collections::VecDeque<(u64, u64)>,
    waiters: Vec<(u64, Reply)>,
    /// When the ops received so far must be committed.
    deadline: Option<Instant>,
    /// When the writers are closed if no op comes first.
    close_at: Option<Instant>,
    /// Ops applied since a rebuild started, replayed into the new generation.
    journal: Option<Vec<Op>>,
}

impl Worker {
    fn run(&mut self, rx: mpsc::Receiver<Msg>) {
        loop {
            let msg = match self.deadline.or(self.close_at) {
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(d) => rx.recv_timeout(d.saturating_duration_since(Instant::now())),
            };
            match msg {
                Ok(Msg::Op(seq, op)) => {
                    self.close_at = None;
                    if let Some(journal) = &mut self.journal {
                        journal.push(op.clone());
                    }
                    self.applied = seq;
                    self.apply(&op);
                    if self.deadline.is_none() {
                        self.deadline = Some(Instant::now() + self.opts.commit_interval);
                    }
                    if self.pending_posts + self.pending_people >= self.opts.max_pending {
                        let _ = self.commit();
                    }
                }
                Ok(Msg::Flush { from, upto, reply }) => {
                    if upto <= self.committed {
                        let _ = reply.send(self.outcome(from));
                    } else {
                        self.waiters.push((from, reply));
                    }
                }
                Ok(Msg::StartJournal) => self.journal = Some(Vec::new()),
                Ok(Msg::StopJournal) => self.journal = None,
                Ok(Msg::Swap(generation, reply)) => {
                    let result = self.swap(generation);
                    let _ = reply.send(result);
                }
                Ok(Msg::Stop(reply)) => {
                    let result = self.commit();
                    let _ = reply.send(result);
                    return;
                }
                Err(RecvTimeoutError::Timeout) if self.deadline.is_some() => {
                    let _ = self.commit();
                }
                Err(RecvTimeoutError::Timeout) => {
                    // Everything is committed: closing loses nothing.
                    self.close_at = None;
                    self.writers = None;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let _ = self.commit();
                    return;
                }
            }
        }
    }

    /// The writers, reopened if an earlier failure dropped them.
    fn writers(&mut self) -> Option<&mut Writers> {
        if self.writers.is_none() {
            match Writers::open(&self.generation, self.opts.memory_budget) {
                Ok(w) => self.writers = Some(w),
                Err(e) => {
                    tracing::error!("search: cannot open the index writers: {e}");
                    self.failed = Some(e.to_string());
                }
            }
        }
        self.writers.as_mut()
    }

    fn apply(&mut self, op: &Op) {
        let (pf, sf) = (self.post_fields, self.person_fields);
        let Some(w) = self.writers() else {
            return;
        };
        let result = match op {
            Op::UpsertPost(doc) => match (id_u64(doc.id), schema::post_document(&pf, doc)) {
                (Some(id), Some(d)) => {
                    w.posts.delete_term(Term::from_field_u64(pf.id, id));
                    w.posts.add_document(d).map(drop)
                }
                _ => Ok(()),
            },
            Op::DeletePost(id) => {
                if let Some(id) = id_u64(*id) {
                    w.posts.delete_term(Term::from_field_u64(pf.id, id));
                }
                Ok(())
            }
            Op::UpsertPerson(doc) => match (id_u64(doc.id), schema::person_document(&sf, doc)) {
                (Some(id), Some(d)) => {
                    w.people.delete_term(Term::from_field_u64(sf.id, id));
                    w.people.add_document(d).map(drop)
                }
                _ => Ok(()),
            },
            Op::DeletePerson(id) => {
                if let Some(id) = id_u64(*id) {
                    w.people.delete_term(Term::from_field_u64(sf.id, id));
                }
                Ok(())
            }
        };
        match (result, op) {
            (Ok(_), Op::UpsertPost(_) | Op::DeletePost(_)) => self.pending_posts += 1,
            (Ok(_), _) => self.pending_people += 1,
            (Err(e), _) => {
                tracing::error!("search: indexing failed: {e}");
                self.failed = Some(e.to_string());
                self.writers = None;
            }
        }
    }

    /// What a flush of the ops after `from` (all committed by now) learns.
    fn outcome(&self, from: u64) -> Result<(), SearchError> {
        if self.lost.iter().any(|&(_, upto)| upto > from) {
            Err(SearchError::Tantivy(
                "a commit failed; the changes it held were lost".into(),
            ))
        } else {
            Ok(())
        }
    }

    /// Commits both writers if they have anything, reloads the readers and answers the
    /// flushes that were waiting.
    fn commit(&mut self) -> Result<(), SearchError> {
        self.deadline = None;
        // No deadline (never close) if the setting is too large for the clock.
        self.close_at = self
            .writers
            .as_ref()
            .and_then(|_| Instant::now().checked_add(self.opts.writer_idle));
        let result = self.commit_writers();
        let covered = (self.committed, self.applied);
        self.committed = self.applied;
        if let Err(e) = &result {
            tracing::error!("search: commit failed: {e}");
            // Whatever the writer held is lost; the callers whose ops it held retry them.
            self.writers = None;
            if covered.1 > covered.0 {
                self.lost.push_back(covered);
                if self.lost.len() > LOST_RANGES_KEPT {
                    self.lost.pop_front();
                }
            }
        }
        for (from, reply) in std::mem::take(&mut self.waiters) {
            let _ = reply.send(self.outcome(from));
        }
        result
    }

    fn commit_writers(&mut self) -> Result<(), SearchError> {
        let failed = self.failed.take();
        let (posts, people) = (self.pending_posts, self.pending_people);
        self.pending_posts = 0;
        self.pending_people = 0;
        if let Some(w) = self.writers.as_mut() {
            if posts > 0 {
                w.posts.commit()?;
                self.generation.posts_reader.reload()?;
            }
            if people > 0 {
                w.people.commit()?;
                self.generation.people_reader.reload()?;
            }
        }
        match failed {
            Some(why) => Err(SearchError::Tantivy(why)),
            None => Ok(()),
        }
    }

    /// Replaces the live generation with a freshly built one: commit and close the old
    /// writers, open writers on the new one, replay the ops journaled during the build, commit,
    /// switch the manifest and the readers, delete the old generation.
    fn swap(&mut self, generation: Arc<Generation>) -> Result<(), SearchError> {
        let journal = self.journal.take().unwrap_or_default();
        let _ = self.commit();
        let old_generation = std::mem::replace(&mut self.generation, generation.clone());
        let old_writers = self.writers.take();
        drop(old_writers);
        let result = (|| -> Result<(), SearchError> {
            self.writers = Some(Writers::open(&generation, self.opts.memory_budget)?);
            for op in &journal {
                self.apply(op);
            }
            self.commit()?;
            index::switch_manifest(self.index.dir(), &generation.name)?;
            Ok(())
        })();
        match result {
            Ok(()) => {
                self.index.set_current(generation.clone());
                index::remove_other_generations(self.index.dir(), &generation.name, false);
                Ok(())
            }
            Err(e) => {
                tracing::error!("search: swapping in the rebuilt index failed: {e}");
                self.writers = None;
                self.generation = old_generation;
                self.pending_posts = 0;
                self.pending_people = 0;
                index::remove_other_generations(self.index.dir(), &self.generation.name, false);
                Err(e)
            }
        }
    }
}

/// Builds a complete generation from scratch in `dir` (not yet live); returns its name.
fn build_generation(
    dir: &Path,
    posts: impl Iterator<Item = PostDoc>,
    people: impl Iterator<Item = PersonDoc>,
    progress: &dyn Fn(u64),
    opts: &RebuildOptions,
) -> Result<String, SearchError> {
    std::fs::create_dir_all(dir)?;
    let n = index::next_generation_number(dir)?;
    let tmp = dir.join(index::tmp_name(n));
    let result = (|| -> Result<(), SearchError> {
        let threads = opts.threads.clamp(1, 8);
        let per_thread = (opts.memory_budget / threads).clamp(MIN_BUDGET, 4_000_000_000);
        let (post_schema, pf) = schema::post_schema();
        let (person_schema, sf) = schema::person_schema();
        let post_index = index::new_index(
            &index::posts_path(&tmp),
            post_schema,
            schema::post_settings(),
        )?;
        let people_index = index::new_index(
            &index::people_path(&tmp),
            person_schema,
            tantivy::index::IndexSettings::default(),
        )?;
        let post_writer: IndexWriter<TantivyDocument> = post_index.writer_with_options(
            IndexWriterOptions::builder()
                .memory_budget_per_thread(per_thread)
                .num_worker_threads(threads)
                .num_merge_threads(1)
                .build(),
        )?;
        // Segments are left as the threads cut them; the live writer's merge policy takes
        // over from there. Merging here would double the rebuild time.
        post_writer.set_merge_policy(Box::new(NoMergePolicy));
        let mut count = 0u64;
        for doc in posts {
            if let Some(d) = schema::post_document(&pf, &doc) {
                post_writer.add_document(d)?;
                count += 1;
                if count.is_multiple_of(PROGRESS_EVERY) {
                    progress(count);
                }
            }
        }
        let mut people_writer: IndexWriter<TantivyDocument> =
            people_index.writer_with_num_threads(1, PEOPLE_BUDGET)?;
        for doc in people {
            if let Some(d) = schema::person_document(&sf, &doc) {
                people_writer.add_document(d)?;
                count += 1;
                if count.is_multiple_of(PROGRESS_EVERY) {
                    progress(count);
                }
            }
        }
        let mut post_writer = post_writer;
        post_writer.commit()?;
        people_writer.commit()?;
        post_writer.wait_merging_threads()?;
        people_writer.wait_merging_threads()?;
        progress(count);
        Ok(())
    })();
    match result {
        Ok(()) => {
            let name = index::generation_name(n);
            index::promote(dir, &tmp, &name)?;
            Ok(name)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Err(e)
        }
    }
}

/// Rebuilds the index in `dir` from scratch, with no indexer running on it (`weft reindex`, or
/// before the app starts): builds a new generation aside, makes it live, returns it opened.
/// Use [`Indexer::rebuild`] instead while an indexer runs.
pub fn rebuild(
    dir: &Path,
    posts: impl Iterator<Item = PostDoc>,
    people: impl Iterator<Item = PersonDoc>,
    progress: &dyn Fn(u64),
) -> Result<SearchIndex, SearchError> {
    rebuild_with(dir, posts, people, progress, &RebuildOptions::default())
}

/// [`rebuild`] with explicit memory and thread settings.
pub fn rebuild_with(
    dir: &Path,
    posts: impl Iterator<Item = PostDoc>,
    people: impl Iterator<Item = PersonDoc>,
    progress: &dyn Fn(u64),
    opts: &RebuildOptions,
) -> Result<SearchIndex, SearchError> {
    let name = build_generation(dir, posts, people, progress, opts)?;
    let generation = index::open_generation(dir, &name)?;
    index::switch_manifest(dir, &name)?;
    index::remove_other_generations(dir, &name, true);
    Ok(SearchIndex::from_generation(dir, generation))
}
