//! The database handle: one writer thread that group-commits and a pool of readers.
//!
//! Every write is a closure sent to the writer thread. The thread takes all queued closures,
//! runs each inside its own SAVEPOINT (so one failing write does not spoil the others) in a
//! single transaction, commits once (one fsync under `synchronous=FULL`), and only then answers
//! the callers. A write is acknowledged only after it is durable.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use anyhow::{Context, bail};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

use crate::error::{AppError, AppResult};

/// Finishes one write once the batch's commit has succeeded (`true`) or failed.
type Finish = Box<dyn FnOnce(bool) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Finish + Send>;

enum Msg {
    Write(Job),
    Shutdown,
}

#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    readers: r2d2::Pool<SqliteConnectionManager>,
    /// One permit per reader connection: a read waits here, on the async side, rather than
    /// holding a blocking thread while it waits for a connection (which piled up threads,
    /// each with its own malloc arena, and hundreds of MB under load).
    read_permits: tokio::sync::Semaphore,
    writer: Mutex<Option<mpsc::Sender<Msg>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Counts commits that changed something; see [`Db::generation`].
    generation: Arc<AtomicU64>,
}

pub struct Options {
    pub readers: u32,
    pub group_commit_max: usize,
    pub synchronous_full: bool,
    /// Bytes of the database file read through mmap (0 turns it off).
    pub mmap_bytes: u64,
}

/// Forward-only: a migration that has landed is never edited; changes come as a new file.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_initial.sql"),
    include_str!("../../migrations/0002_jobs_and_home_feeds.sql"),
    include_str!("../../migrations/0003_media.sql"),
    include_str!("../../migrations/0004_search_and_trends.sql"),
    include_str!("../../migrations/0005_drop_unused_indexes.sql"),
    include_str!("../../migrations/0006_federation.sql"),
    include_str!("../../migrations/0007_reports.sql"),
    include_str!("../../migrations/0008_account_moves.sql"),
    include_str!("../../migrations/0009_blocks.sql"),
    include_str!("../../migrations/0010_remote_images_and_bots.sql"),
    include_str!("../../migrations/0011_pins.sql"),
];

fn migrations() -> Migrations<'static> {
    Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect())
}

/// How many migrations this binary knows; the database's `user_version` must not exceed it.
fn known_version() -> i64 {
    MIGRATIONS.len() as i64
}

static RECORDING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static RECORDED: Mutex<std::collections::BTreeSet<String>> =
    Mutex::new(std::collections::BTreeSet::new());

/// Makes every connection opened from now on remember the text of each statement it runs,
/// for the test that checks the query plan of every query the app makes. Off in production.
pub fn record_statements() {
    RECORDING.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// The distinct statements run by connections opened since `record_statements`.
pub fn recorded_statements() -> Vec<String> {
    RECORDED
        .lock()
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default()
}

fn remember(event: rusqlite::trace::TraceEvent<'_>) {
    if let rusqlite::trace::TraceEvent::Stmt(_, sql) = event
        && !sql.starts_with("--")
        && let Ok(mut set) = RECORDED.lock()
    {
        set.insert(sql.to_string());
    }
}

fn pragmas(conn: &Connection, synchronous_full: bool, mmap_bytes: u64) -> rusqlite::Result<()> {
    // Without the query planner stability guarantee, SQLite compares bound values with the
    // constants in partial indexes, marks the statement and re-prepares it whenever that
    // parameter is rebound: every cached post lookup was parsed and planned again on each
    // step (perf: ~60% of a feed page's CPU time). Our partial indexes match on literals.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    if RECORDING.load(std::sync::atomic::Ordering::SeqCst) {
        conn.trace_v2(
            rusqlite::trace::TraceEventCodes::SQLITE_TRACE_STMT,
            Some(remember),
        );
    }
    // Reads through mmap come straight from the OS page cache: without it every page missing
    // from SQLite's small per-connection cache was a pread and a copy (perf: a quarter of a
    // home page's time in the kernel's read path).
    // rarray(?): a list of ids as one parameter, so a feed page loads its posts in one query.
    rusqlite::vtab::array::load_module(conn)?;
    conn.pragma_update(None, "mmap_size", mmap_bytes.min(i64::MAX as u64) as i64)?;
    conn.execute_batch(if synchronous_full {
        "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = FULL;"
    } else {
        "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;"
    })
}

/// Turns off SQLite's allocation statistics. They are kept under one process-wide mutex
/// taken on every allocation, which serialised all readers: under load the server spent its
/// time waiting on that lock (measured with perf: 45% in futex wait, 2.7 ms per feed page).
fn configure_sqlite() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: sqlite3_config may only run before SQLite initialises. This runs once,
        // before the first connection the process opens (Db::open is the only way in). Had
        // SQLite been initialised already, it would return SQLITE_MISUSE and change nothing.
        let rc = unsafe {
            rusqlite::ffi::sqlite3_config(
                rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS,
                0 as std::ffi::c_int,
            )
        };
        if rc != rusqlite::ffi::SQLITE_OK {
            tracing::warn!("could not turn off SQLite memory statistics (code {rc})");
        }
    });
}

impl Db {
    /// Opens (creating if needed) the database, applies migrations and starts the writer.
    pub fn open(path: &Path, opts: Options) -> anyhow::Result<Db> {
        configure_sqlite();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating data directory {}", dir.display()))?;
        }
        let mut conn = Connection::open(path)
            .with_context(|| format!("opening database {}", path.display()))?;
        conn.execute_batch("PRAGMA journal_mode = WAL;")
            .context("switching the database to WAL")?;
        // The writer reads through its own page cache instead of mmap: each connection's map
        // counts the pages it touched in the process's memory again, and fault-around maps
        // 64 KB for every page a write looks up (2.6 MB of mapped file at idle, measured).
        pragmas(&conn, opts.synchronous_full, 0)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > known_version() {
            bail!(
                "the database at {} has schema version {version}, but this weft binary only \
                 knows versions up to {}: it was written by a newer weft. Run that newer \
                 version (or restore a backup made with this one).",
                path.display(),
                known_version()
            );
        }
        migrations()
            .to_latest(&mut conn)
            .context("applying database migrations")?;

        let sync_full = opts.synchronous_full;
        let mmap_bytes = opts.mmap_bytes;
        let manager = SqliteConnectionManager::file(path).with_init(move |c| {
            pragmas(c, sync_full, mmap_bytes)?;
            c.execute_batch("PRAGMA query_only = ON;")
        });
        let readers = r2d2::Pool::builder()
            .max_size(opts.readers)
            // A connection to a local file does not go stale; the check ran a statement on
            // every checkout (perf: 2.5% of a home page's time).
            .test_on_check_out(false)
            .min_idle(Some(1))
            .build(manager)
            .context("opening database readers")?;

        let (tx, rx) = mpsc::channel::<Msg>();
        let max = opts.group_commit_max;
        let generation = Arc::new(AtomicU64::new(1));
        let bumps = generation.clone();
        let thread = std::thread::Builder::new()
            .name("weft-db-writer".into())
            .spawn(move || writer_loop(conn, rx, max, &bumps))
            .context("starting the database writer")?;
        Ok(Db {
            inner: Arc::new(Inner {
                readers,
                read_permits: tokio::sync::Semaphore::new(opts.readers as usize),
                writer: Mutex::new(Some(tx)),
                thread: Mutex::new(Some(thread)),
                generation,
            }),
        })
    }

    /// Runs `f` on the writer thread inside a transaction shared with other queued writes.
    /// `f`'s changes are rolled back alone if it returns an error. Resolves after the commit.
    pub async fn write<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> AppResult<T> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel::<AppResult<T>>();
        self.send(job(f, move |out| {
            let _ = tx.send(out);
        }))?;
        rx.await.map_err(|_| AppError::Unavailable)?
    }

    /// The same as [`Db::write`] for code that is already on a blocking thread (CLI commands).
    pub fn write_blocking<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> AppResult<T> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel::<AppResult<T>>();
        self.send(job(f, move |out| {
            let _ = tx.send(out);
        }))?;
        rx.recv().map_err(|_| AppError::Unavailable)?
    }

    fn send(&self, job: Job) -> AppResult<()> {
        let guard = self
            .inner
            .writer
            .lock()
            .map_err(|_| AppError::Unavailable)?;
        match guard.as_ref() {
            Some(s) => s.send(Msg::Write(job)).map_err(|_| AppError::Unavailable),
            None => Err(AppError::Unavailable),
        }
    }

    /// A number that grows with every commit that changed a row. It is raised after the
    /// commit and before any writer hears that its write is done, so a read that starts after
    /// reading the same value sees no newer write than a read that started before it; a copy
    /// of something read is current while the number has not moved.
    pub fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::SeqCst)
    }

    /// Raises the generation without a write: for state kept beside the database (the
    /// instance settings in memory) that changed after its commit.
    pub fn touch(&self) {
        self.inner.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Runs `f` with a read-only connection on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> AppResult<T> + Send + 'static,
    {
        let _permit = self
            .inner
            .read_permits
            .acquire()
            .await
            .map_err(|_| AppError::Unavailable)?;
        let pool = self.inner.readers.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        run_blocking(Box::new(move || {
            let out = match pool.get() {
                Ok(conn) => in_read_transaction(&conn, f),
                Err(e) => Err(AppError::Internal(
                    anyhow::Error::new(e).context("reader pool"),
                )),
            };
            let _ = tx.send(out);
        }))
        .await?;
        rx.await
            .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("reader task")))?
    }

    /// Runs a short read on the calling thread when a reader connection is free, else as
    /// `read` does. For reads bounded by indexed lookups (a session, one page of a feed):
    /// handing them to the blocking pool and back costs two thread switches, which measured
    /// about a fifth of the server's time per logged-in page (perf, `bench/http.sh` home).
    /// Anything that may scan (search, exports, a whole thread) goes through `read`.
    pub async fn read_now<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> AppResult<T> + Send + 'static,
    {
        match self.inner.readers.try_get() {
            Some(conn) => in_read_transaction(&conn, f),
            None => self.read(f).await,
        }
    }

    /// [`read_now`](Self::read_now) for a closure that runs exactly one statement: SQLite
    /// reads a single statement from one snapshot by itself, so the explicit BEGIN and COMMIT
    /// (two statements more on every logged-in request, for the session) are left out when
    /// it runs on the calling thread; on the blocking pool it is wrapped as `read` wraps any
    /// read. A closure with more than one statement must use `read_now`, or its reads could
    /// see different commits.
    pub async fn read_one_statement_now<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> AppResult<T> + Send + 'static,
    {
        match self.inner.readers.try_get() {
            // A connection left inside a transaction would read an old snapshot: the
            // transaction path's BEGIN fails on it instead.
            Some(conn) if conn.is_autocommit() => f(&conn),
            Some(conn) => in_read_transaction(&conn, f),
            None => self.read(f).await,
        }
    }

    /// A read for code that is already on a blocking thread.
    pub fn read_blocking<T>(&self, f: impl FnOnce(&Connection) -> AppResult<T>) -> AppResult<T> {
        let conn = self
            .inner
            .readers
            .get()
            .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("reader pool")))?;
        in_read_transaction(&conn, f)
    }

    /// Finishes queued writes, stops the writer and closes its connection. Later writes fail
    /// with `Unavailable`. Safe to call more than once.
    pub fn close(&self) {
        if let Ok(mut w) = self.inner.writer.lock()
            && let Some(s) = w.take()
        {
            let _ = s.send(Msg::Shutdown);
        }
        if let Ok(mut t) = self.inner.thread.lock()
            && let Some(h) = t.take()
        {
            let _ = h.join();
        }
    }
}

/// One blocking-pool task type for every read: spawned per closure type, each of the ~100
/// reads instantiated tokio's task machinery again (about 5 KB of code each, 0.6 MB in all
/// by `nm`).
async fn run_blocking(job: Box<dyn FnOnce() + Send>) -> AppResult<()> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("reader task")))
}

/// Runs a whole read in one transaction: one snapshot for everything a page shows, and one
/// set of WAL locks instead of one per statement.
fn in_read_transaction<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> AppResult<T>,
) -> AppResult<T> {
    // Cached statements: `execute_batch` parsed both again on every read (perf: 4% of a
    // home page's time).
    conn.prepare_cached("BEGIN")?.execute([])?;
    let out = f(conn);
    if let Err(e) = conn
        .prepare_cached("COMMIT")
        .and_then(|mut s| s.execute([]))
    {
        tracing::warn!("ending a read transaction: {e}");
        // The connection goes back to the pool: not with its snapshot still held.
        if let Err(e) = conn.execute_batch("ROLLBACK") {
            tracing::warn!("rolling back a read transaction: {e}");
        }
    }
    out
}

/// Wraps a write: run `f` in its own savepoint now, hand its result to `reply` after the commit.
fn job<T, F>(f: F, reply: impl FnOnce(AppResult<T>) + Send + 'static) -> Job
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> AppResult<T> + Send + 'static,
{
    Box::new(move |conn| {
        let result = in_savepoint(conn, f);
        Box::new(move |committed| {
            reply(match result {
                Ok(v) if committed => Ok(v),
                Ok(_) => Err(AppError::Internal(anyhow::anyhow!("commit failed"))),
                Err(e) => Err(e),
            })
        })
    })
}

fn in_savepoint<T>(conn: &Connection, f: impl FnOnce(&Connection) -> AppResult<T>) -> AppResult<T> {
    conn.execute_batch("SAVEPOINT w")?;
    match f(conn) {
        Ok(v) => {
            conn.execute_batch("RELEASE w")?;
            Ok(v)
        }
        Err(e) => {
            if let Err(rb) = conn.execute_batch("ROLLBACK TO w; RELEASE w") {
                tracing::error!("rolling back a failed write: {rb}");
            }
            Err(e)
        }
    }
}

fn writer_loop(conn: Connection, rx: mpsc::Receiver<Msg>, max: usize, generation: &AtomicU64) {
    let mut batch: Vec<Job> = Vec::with_capacity(max);
    let mut shutting_down = false;
    while !shutting_down {
        match rx.recv() {
            Ok(Msg::Write(j)) => batch.push(j),
            Ok(Msg::Shutdown) | Err(_) => break,
        }
        while batch.len() < max {
            match rx.try_recv() {
                Ok(Msg::Write(j)) => batch.push(j),
                Ok(Msg::Shutdown) => {
                    shutting_down = true;
                    break;
                }
                Err(_) => break,
            }
        }
        run_batch(&conn, &mut batch, generation);
    }
    // Writes queued behind the shutdown message still get done.
    while let Ok(Msg::Write(j)) = rx.try_recv() {
        batch.push(j);
    }
    run_batch(&conn, &mut batch, generation);
    if let Err(e) = conn.execute_batch("PRAGMA optimize;") {
        tracing::warn!("PRAGMA optimize at close: {e}");
    }
    if let Err((_, e)) = conn.close() {
        tracing::error!("closing the database: {e}");
    }
}

fn run_batch(conn: &Connection, batch: &mut Vec<Job>, generation: &AtomicU64) {
    if batch.is_empty() {
        return;
    }
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        tracing::error!("starting a write transaction: {e}");
        for job in batch.drain(..) {
            // Without a transaction the job's savepoint would autocommit; fail it instead.
            drop(job);
        }
        return;
    }
    let changes_before = conn.total_changes();
    let mut finishers: Vec<Finish> = Vec::with_capacity(batch.len());
    let mut poisoned = false;
    for job in batch.drain(..) {
        // A panicking write must not take the writer thread (and every later write) with it.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(conn))) {
            Ok(f) => finishers.push(f),
            Err(_) => {
                tracing::error!("a database write panicked; its batch is rolled back");
                poisoned = true;
            }
        }
    }
    if poisoned {
        let _ = conn.execute_batch("ROLLBACK");
        for f in finishers {
            f(false);
        }
        return;
    }
    let committed = match conn.execute_batch("COMMIT") {
        Ok(()) => {
            if conn.total_changes() != changes_before {
                generation.fetch_add(1, Ordering::SeqCst);
            }
            true
        }
        Err(e) => {
            tracing::error!("committing a write batch: {e}");
            let _ = conn.execute_batch("ROLLBACK");
            false
        }
    };
    for f in finishers {
        f(committed);
    }
}
