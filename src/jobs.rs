//! The durable job queue's workers. Jobs live in SQLite (`store::jobs`), written in the same
//! transaction as the change that causes them, so a crash loses none: on restart the runner
//! picks up whatever is still queued. A failing job is retried with exponential backoff and,
//! after `jobs.max_attempts`, set aside as dead for the admin to see and retry.
//!
//! What a job *does* is the service's business (`Handler`); this module only schedules.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore, watch};

use crate::config;
use crate::store::{self, Db};

pub use crate::store::jobs::QueuedJob;

/// How a job ended, as the handler reports it.
pub enum Outcome {
    /// Done; the runner deletes the job.
    Done,
    /// Done, and the handler already deleted the job in its own transaction (exactly once).
    DoneAndDeleted,
}

/// Why a job failed. `retry: false` sets it aside at once (it can never succeed).
#[derive(Debug)]
pub struct Failure {
    pub retry: bool,
    pub message: String,
}

impl Failure {
    pub fn retry(message: impl Into<String>) -> Self {
        Failure {
            retry: true,
            message: message.into(),
        }
    }
    pub fn permanent(message: impl Into<String>) -> Self {
        Failure {
            retry: false,
            message: message.into(),
        }
    }
}

pub type JobFuture = Pin<Box<dyn Future<Output = Result<Outcome, Failure>> + Send>>;

pub trait Handler: Send + Sync + 'static {
    fn run(&self, job: QueuedJob) -> JobFuture;

    /// Kinds whose due jobs are handed over together to `run_batch` (work that is cheaper in
    /// bulk, such as index updates that wait for one commit).
    fn batched(&self, _kind: &str) -> bool {
        false
    }

    /// Kinds that mostly wait on the network (deliveries to other servers): they run on
    /// their own `jobs.network_workers` permits, so a slow peer never holds up local work
    /// and many peers are served at once.
    fn network_bound(&self, _kind: &str) -> bool {
        false
    }

    /// Attempts before a job of this kind is set aside, when not `jobs.max_attempts`.
    fn max_attempts(&self, _kind: &str) -> Option<u32> {
        None
    }

    /// Runs a batch of jobs of one batched kind; the outcome applies to each of them.
    fn run_batch(&self, jobs: Vec<QueuedJob>) -> JobFuture {
        let kinds: Vec<String> = jobs.into_iter().map(|j| j.kind).collect();
        Box::pin(async move {
            Err(Failure::permanent(format!(
                "no batch handler for {kinds:?}"
            )))
        })
    }
}

/// The handle kept in the app state: wakes the runner when new jobs are committed.
#[derive(Clone, Default)]
pub struct Queue {
    wake: Arc<Notify>,
}

impl Queue {
    /// Tells the runner that jobs were committed; cheap, call after every write that queues.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// The running workers; `stop` waits for jobs in flight (those not finished stay queued).
pub struct Runner {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

const BATCH: usize = 64;
/// Batches of batched kinds in flight at once. They mostly wait (for an index commit), so
/// they do not take the workers' permits; this bounds the jobs held in memory.
const BATCHES_IN_FLIGHT: usize = 32;
/// Upper bound on sleeping when nothing is due, so retries and clock jumps are noticed.
const IDLE_POLL: Duration = Duration::from_secs(1);

impl Runner {
    pub fn start(db: Db, queue: Queue, cfg: config::Jobs, handler: Arc<dyn Handler>) -> Runner {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run_loop(db, queue, cfg, handler, stopped));
        Runner { stop, task }
    }

    pub async fn stop(self, grace: Duration) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(grace, self.task).await.is_err() {
            tracing::warn!("jobs still running at shutdown stay queued and resume on restart");
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Exponential backoff with a little jitter so that many failures do not retry in lockstep.
pub fn backoff(cfg: &config::Jobs, attempts: u32) -> Duration {
    let base = cfg.backoff_secs.max(1);
    let secs = base
        .saturating_mul(1u64 << attempts.min(30))
        .min(cfg.max_backoff_secs.max(base));
    let jitter = (now_ms() as u64 % 1000) * secs / 10_000; // up to 10%
    Duration::from_secs(secs + jitter)
}

/// Which jobs are running, and which ended lately. A list of due jobs read before a job's end
/// was committed may still hold it; it must not run again.
#[derive(Default)]
struct Tracker {
    in_flight: Mutex<HashSet<i64>>,
    /// Ended jobs, with the poll during which they ended.
    ended: Mutex<HashMap<i64, u64>>,
    poll: std::sync::atomic::AtomicU64,
}

impl Tracker {
    /// Starts a poll; forgets jobs that ended before the previous one began (no read from
    /// now on can still see them).
    fn next_poll(&self) {
        let poll = self.poll.fetch_add(1, std::sync::atomic::Ordering::AcqRel) + 1;
        if let Ok(mut e) = self.ended.lock() {
            e.retain(|_, at| *at + 1 >= poll);
        }
    }

    fn busy(&self) -> usize {
        self.in_flight.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// Takes a due job for running: false when it is running or has just ended. A job is
    /// recorded as ended before it leaves `in_flight`, so one that just left is seen here.
    fn claim(&self, id: i64) -> bool {
        let fresh = self
            .in_flight
            .lock()
            .map(|mut s| s.insert(id))
            .unwrap_or(false);
        if fresh && self.ended.lock().is_ok_and(|e| e.contains_key(&id)) {
            self.release(&[id]);
            return false;
        }
        fresh
    }

    /// Gives jobs back unrun (a later poll takes them).
    fn release(&self, ids: &[i64]) {
        if let Ok(mut s) = self.in_flight.lock() {
            for id in ids {
                s.remove(id);
            }
        }
    }

    /// Jobs whose end (done or failed) is committed.
    fn end(&self, ids: &[i64]) {
        let at = self.poll.load(std::sync::atomic::Ordering::Acquire);
        if let Ok(mut e) = self.ended.lock() {
            for id in ids {
                e.insert(*id, at);
            }
        }
        self.release(ids);
    }
}

async fn run_loop(
    db: Db,
    queue: Queue,
    cfg: config::Jobs,
    handler: Arc<dyn Handler>,
    mut stopped: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(cfg.workers));
    let net_permits = Arc::new(Semaphore::new(cfg.network_workers.max(1)));
    let batch_permits = Arc::new(Semaphore::new(BATCHES_IN_FLIGHT));
    let tracker = Arc::new(Tracker::default());
    let cfg = Arc::new(cfg);
    loop {
        if *stopped.borrow() {
            break;
        }
        tracker.next_poll();
        let busy = tracker.busy();
        let now = now_ms();
        let due = db
            .read(move |c| Ok(store::jobs::due(c, now, BATCH + busy)?))
            .await;
        let due = match due {
            Ok(d) => d,
            Err(e) => {
                tracing::error!("reading the job queue: {e:#}");
                Vec::new()
            }
        };
        let mut started = 0;
        let mut batches: Vec<(String, Vec<QueuedJob>)> = Vec::new();
        for job in due {
            if !tracker.claim(job.id) {
                continue;
            }
            if handler.batched(&job.kind) {
                match batches.iter_mut().find(|(k, _)| *k == job.kind) {
                    Some((_, b)) => b.push(job),
                    None => batches.push((job.kind.clone(), vec![job])),
                }
                continue;
            }
            let pool = if handler.network_bound(&job.kind) {
                &net_permits
            } else {
                &permits
            };
            // A full pool leaves the job for a later poll instead of blocking the loop, so
            // deliveries waiting on slow peers never hold up local jobs (and the reverse).
            let Ok(permit) = pool.clone().try_acquire_owned() else {
                tracker.release(&[job.id]);
                continue;
            };
            started += 1;
            let (db, handler, tracker, cfg) =
                (db.clone(), handler.clone(), tracker.clone(), cfg.clone());
            tokio::spawn(async move {
                let id = job.id;
                run_one(&db, &*handler, &cfg, job).await;
                tracker.end(&[id]);
                drop(permit);
            });
        }
        for (_, jobs) in batches {
            let ids: Vec<i64> = jobs.iter().map(|j| j.id).collect();
            // When every batch slot is taken, these wait for a later poll; the loop itself
            // must not block, or non-batched jobs would wait behind index commits.
            let Ok(permit) = batch_permits.clone().try_acquire_owned() else {
                tracker.release(&ids);
                continue;
            };
            started += 1;
            let (db, handler, tracker, cfg) =
                (db.clone(), handler.clone(), tracker.clone(), cfg.clone());
            tokio::spawn(async move {
                run_batch(&db, &*handler, &cfg, jobs).await;
                tracker.end(&ids);
                drop(permit);
            });
        }
        if started > 0 {
            continue;
        }
        // Nothing new to start: sleep until woken, the next job falls due, or a poll tick.
        let wait = match db.read(|c| Ok(store::jobs::next_run_at(c)?)).await {
            Ok(Some(at)) => Duration::from_millis((at - now_ms()).clamp(0, 1000) as u64),
            _ => IDLE_POLL,
        };
        let wait = if busy > 0 || wait.is_zero() {
            wait.max(Duration::from_millis(20))
        } else {
            wait
        };
        tokio::select! {
            _ = queue.wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = stopped.changed() => {}
        }
    }
    // Let jobs in flight finish: wait until every permit is back.
    let _ = permits.acquire_many(cfg.workers as u32).await;
    let _ = net_permits
        .acquire_many(cfg.network_workers.max(1) as u32)
        .await;
    let _ = batch_permits.acquire_many(BATCHES_IN_FLIGHT as u32).await;
}

/// The failure of a job: when to retry it, or `None` to set it aside.
fn retry_at(
    cfg: &config::Jobs,
    max_attempts: u32,
    id: i64,
    kind: &str,
    attempts: u32,
    f: &Failure,
) -> Option<i64> {
    let tries = attempts + 1;
    let retry_at = (f.retry && tries < max_attempts)
        .then(|| now_ms() + backoff(cfg, attempts).as_millis() as i64);
    match retry_at {
        Some(_) => tracing::warn!("job {id} ({kind}) failed, will retry: {}", f.message),
        None => tracing::error!(
            "job {id} ({kind}) failed {tries} times, set aside: {}",
            f.message
        ),
    }
    retry_at
}

async fn run_batch(db: &Db, handler: &dyn Handler, cfg: &config::Jobs, jobs: Vec<QueuedJob>) {
    let meta: Vec<(i64, String, u32)> = jobs
        .iter()
        .map(|j| (j.id, j.kind.clone(), j.attempts))
        .collect();
    let result = handler.run_batch(jobs).await;
    let failures: Option<Vec<(i64, String, Option<i64>)>> = match result {
        Ok(Outcome::DoneAndDeleted) => return,
        Ok(Outcome::Done) => None,
        Err(f) => Some(
            meta.iter()
                .map(|(id, kind, attempts)| {
                    (
                        *id,
                        f.message.clone(),
                        retry_at(
                            cfg,
                            handler.max_attempts(kind).unwrap_or(cfg.max_attempts),
                            *id,
                            kind,
                            *attempts,
                            &f,
                        ),
                    )
                })
                .collect(),
        ),
    };
    let write = db.write(move |c| {
        match failures {
            None => {
                for (id, _, _) in &meta {
                    store::jobs::delete(c, *id)?;
                }
            }
            Some(fs) => {
                for (id, msg, at) in fs {
                    store::jobs::record_failure(c, id, &msg, at)?;
                }
            }
        }
        Ok(())
    });
    if let Err(e) = write.await {
        tracing::error!("recording the end of a batch of jobs: {e:#}");
    }
}

async fn run_one(db: &Db, handler: &dyn Handler, cfg: &config::Jobs, job: QueuedJob) {
    let (id, kind, attempts) = (job.id, job.kind.clone(), job.attempts);
    let result = handler.run(job).await;
    // None: delete the job; Some: record the failure (retry at, or set aside when None).
    let failure = match result {
        Ok(Outcome::DoneAndDeleted) => return,
        Ok(Outcome::Done) => None,
        Err(f) => {
            let max = handler.max_attempts(&kind).unwrap_or(cfg.max_attempts);
            let at = retry_at(cfg, max, id, &kind, attempts, &f);
            Some((f.message, at))
        }
    };
    let write = db.write(move |c| {
        match failure {
            None => {
                store::jobs::delete(c, id)?;
            }
            Some((msg, retry_at)) => store::jobs::record_failure(c, id, &msg, retry_at)?,
        }
        Ok(())
    });
    if let Err(e) = write.await {
        tracing::error!("recording the end of job {id}: {e:#}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let cfg = config::Jobs {
            workers: 1,
            network_workers: 1,
            max_attempts: 5,
            backoff_secs: 10,
            max_backoff_secs: 100,
        };
        let b0 = backoff(&cfg, 0).as_secs();
        let b1 = backoff(&cfg, 1).as_secs();
        let b9 = backoff(&cfg, 9).as_secs();
        assert!((10..=11).contains(&b0), "{b0}");
        assert!((20..=22).contains(&b1), "{b1}");
        assert!((100..=110).contains(&b9), "{b9}");
    }
}
