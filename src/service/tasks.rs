//! Background work the services queue in their own transactions, and the handler the job
//! runner calls for it.

use std::sync::Arc;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::Core;
use crate::domain::{IdGen, PostId};
use crate::error::AppResult;
use crate::jobs::{Failure, Handler, JobFuture, Outcome, QueuedJob};
use crate::store;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Task {
    /// Put a new post (or repost) into its author's followers' home feeds.
    FanOut { post: i64 },
    /// Delete stored files that lost their last reference (unless one came back since).
    DeleteFiles { files: Vec<String> },
    /// Periodic housekeeping: uploads never attached to a post. Requeues itself.
    Sweep,
    /// Bring the search index up to date with SQLite for these posts and accounts. Batched:
    /// the runner hands over every due one at once and they share one index commit.
    Index {
        #[serde(default)]
        posts: Vec<i64>,
        #[serde(default)]
        people: Vec<i64>,
    },
    /// Re-index every post of an account (it opted out of search, or back in).
    IndexAuthor { account: i64 },
    /// Tell other servers of a local change (turned into `Deliver` jobs).
    Publish { event: super::federation::Outbound },
    /// Send one signed activity to one inbox; retried with backoff for about two days.
    Deliver {
        inbox: String,
        activity: String,
        signer: i64,
        /// When the first attempt was queued (deliveries stop after `delivery_hours`).
        #[serde(default)]
        since: i64,
    },
    /// Act on an activity that the inbox verified and stored.
    Receive { activity: String, signer: String },
    /// Finish deleting an account (its posts, follows and likes, in batches), then tell
    /// the servers that knew it.
    RemoveAccount { account: i64, inboxes: Vec<String> },
}

const INDEX_KIND: &str = "index";

/// How often the sweep runs.
const SWEEP_EVERY_MS: i64 = 3600 * 1000;

impl Task {
    fn kind(&self) -> &'static str {
        match self {
            Task::FanOut { .. } => "fan_out",
            Task::DeleteFiles { .. } => "delete_files",
            Task::Sweep => "sweep",
            Task::Index { .. } => INDEX_KIND,
            Task::IndexAuthor { .. } => "index_author",
            Task::Publish { .. } => "publish",
            Task::Deliver { .. } => "deliver",
            Task::Receive { .. } => "receive",
            Task::RemoveAccount { .. } => "remove_account",
        }
    }
}

/// Queues `task` inside the caller's transaction, due now. Call `core.jobs.wake()` after the
/// write is acknowledged.
pub(crate) fn enqueue(c: &Connection, ids: &IdGen, task: &Task) -> AppResult<()> {
    let payload = serde_json::to_string(task).map_err(anyhow::Error::from)?;
    let now = crate::domain::now_secs();
    store::jobs::insert(c, ids.next(), task.kind(), &payload, now * 1000, now)?;
    Ok(())
}

/// Queues `task` to run `delay_ms` from now.
fn schedule(c: &Connection, ids: &IdGen, task: &Task, delay_ms: i64) -> AppResult<()> {
    let payload = serde_json::to_string(task).map_err(anyhow::Error::from)?;
    let now = crate::domain::now_secs();
    store::jobs::insert(
        c,
        ids.next(),
        task.kind(),
        &payload,
        now * 1000 + delay_ms,
        now,
    )?;
    Ok(())
}

/// Makes sure the periodic tasks are queued (once, at start).
pub async fn ensure_periodic(core: &Core) -> AppResult<()> {
    let ids = core.ids.clone();
    core.db
        .write(move |c| {
            if !store::jobs::has_kind(c, Task::Sweep.kind())? {
                schedule(c, &ids, &Task::Sweep, 60 * 1000)?;
            }
            Ok(())
        })
        .await
}

/// Queues a delivery inside the caller's transaction.
fn enqueue_delivery(
    c: &Connection,
    ids: &IdGen,
    inbox: &str,
    activity: &str,
    signer: i64,
) -> AppResult<()> {
    enqueue(
        c,
        ids,
        &Task::Deliver {
            inbox: inbox.to_string(),
            activity: activity.to_string(),
            signer,
            since: crate::domain::now_secs(),
        },
    )
}

/// The adapter, or a retry later if federation was turned off with jobs still queued.
fn federator(core: &Core) -> Result<Arc<dyn super::federation::Federator>, Failure> {
    core.federation
        .get()
        .ok_or_else(|| Failure::retry("federation is turned off; kept for when it is on"))
}

/// Runs queued tasks for the job runner.
pub struct TaskHandler {
    core: Core,
}

impl TaskHandler {
    pub fn shared(core: Core) -> Arc<dyn Handler> {
        Arc::new(TaskHandler { core })
    }
}

impl Handler for TaskHandler {
    fn batched(&self, kind: &str) -> bool {
        kind == INDEX_KIND
    }

    fn network_bound(&self, kind: &str) -> bool {
        // Received activities may fetch actors and posts from their servers, and their
        // writes gain most from group commit when many run at once.
        kind == "deliver" || kind == "receive"
    }

    fn max_attempts(&self, kind: &str) -> Option<u32> {
        // Deliveries end by time (`federation.delivery_hours`), not by count.
        (kind == "deliver").then_some(64)
    }

    fn run_batch(&self, jobs: Vec<QueuedJob>) -> JobFuture {
        let core = self.core.clone();
        Box::pin(async move {
            let (mut posts, mut people) = (Vec::new(), Vec::new());
            for job in &jobs {
                match serde_json::from_str::<Task>(&job.payload) {
                    Ok(Task::Index {
                        posts: p,
                        people: a,
                    }) => {
                        posts.extend(p);
                        people.extend(a);
                    }
                    // One unreadable payload must not hold back the batch; it is dropped.
                    Ok(_) | Err(_) => {
                        tracing::error!("job {} has an unreadable index payload", job.id)
                    }
                }
            }
            posts.sort_unstable();
            posts.dedup();
            people.sort_unstable();
            people.dedup();
            super::search::index_now(&core, posts, people)
                .await
                .map_err(|e| Failure::retry(format!("{e:#}")))?;
            Ok(Outcome::Done)
        })
    }

    fn run(&self, job: QueuedJob) -> JobFuture {
        let core = self.core.clone();
        Box::pin(async move {
            let task: Task = serde_json::from_str(&job.payload)
                .map_err(|e| Failure::permanent(format!("unreadable {} job: {e}", job.kind)))?;
            match task {
                Task::FanOut { post } => {
                    let keep = core.config.feeds.home_size;
                    let id = job.id;
                    core.db
                        .write(move |c| {
                            super::home::fan_out_in_tx(c, PostId(post), keep)?;
                            store::jobs::delete(c, id)?;
                            Ok(())
                        })
                        .await
                        .map_err(|e| Failure::retry(format!("{e:#}")))?;
                    Ok(Outcome::DoneAndDeleted)
                }
                Task::DeleteFiles { files } => {
                    super::media::delete_files(&core, job.id, files)
                        .await
                        .map_err(|e| Failure::retry(format!("{e:#}")))?;
                    Ok(Outcome::DoneAndDeleted)
                }
                Task::Index { posts, people } => {
                    super::search::index_now(&core, posts, people)
                        .await
                        .map_err(|e| Failure::retry(format!("{e:#}")))?;
                    Ok(Outcome::Done)
                }
                Task::IndexAuthor { account } => {
                    super::search::index_author(&core, job.id, crate::domain::AccountId(account))
                        .await
                        .map_err(|e| Failure::retry(format!("{e:#}")))?;
                    Ok(Outcome::DoneAndDeleted)
                }
                Task::Publish { event } => {
                    let fed = federator(&core)?;
                    let deliveries = fed.publish(core.clone(), event).await?;
                    // The deliveries and the end of this job commit together: a crash
                    // between them can neither lose nor repeat them.
                    let (ids, id) = (core.ids.clone(), job.id);
                    core.db
                        .write(move |c| {
                            for d in &deliveries {
                                enqueue_delivery(c, &ids, &d.inbox, &d.activity, d.signer)?;
                            }
                            store::jobs::delete(c, id)?;
                            Ok(())
                        })
                        .await
                        .map_err(|e| Failure::retry(format!("{e:#}")))?;
                    core.jobs.wake();
                    Ok(Outcome::DoneAndDeleted)
                }
                Task::Deliver {
                    inbox,
                    activity,
                    signer,
                    since,
                } => {
                    let hours = core.config.federation.delivery_hours as i64;
                    let fed = federator(&core)?;
                    match fed
                        .deliver(core.clone(), inbox.clone(), activity, signer)
                        .await
                    {
                        Ok(()) => Ok(Outcome::Done),
                        // After about two days of trying, a delivery is given up.
                        Err(e) if crate::domain::now_secs() - since > hours * 3600 => Err(
                            Failure::permanent(format!("gave up on {inbox}: {}", e.message)),
                        ),
                        Err(e) => Err(e),
                    }
                }
                Task::Receive { activity, signer } => {
                    let fed = federator(&core)?;
                    fed.receive(core.clone(), activity, signer).await?;
                    Ok(Outcome::Done)
                }
                Task::RemoveAccount { account, inboxes } => {
                    let who = crate::domain::AccountId(account);
                    super::federation::remove_account(&core, who)
                        .await
                        .map_err(|e| Failure::retry(format!("{e:#}")))?;
                    let (ids, id) = (core.ids.clone(), job.id);
                    let federation = core.config.federation.enabled;
                    core.db
                        .write(move |c| {
                            if !inboxes.is_empty() {
                                super::federation::publish_in_tx(
                                    c,
                                    &ids,
                                    federation,
                                    super::federation::Outbound::AccountDeleted {
                                        account,
                                        inboxes,
                                    },
                                )?;
                            }
                            store::jobs::delete(c, id)?;
                            Ok(())
                        })
                        .await
                        .map_err(|e| Failure::retry(format!("{e:#}")))?;
                    core.jobs.wake();
                    Ok(Outcome::DoneAndDeleted)
                }
                Task::Sweep => {
                    let n = super::media::sweep(&core)
                        .await
                        .map_err(|e| Failure::retry(format!("{e:#}")))?;
                    super::federation::sweep_seen(&core)
                        .await
                        .map_err(|e| Failure::retry(format!("{e:#}")))?;
                    let days = core.config.federation.remote_media_days;
                    if days > 0 {
                        super::media::evict_remote(&core, days)
                            .await
                            .map_err(|e| Failure::retry(format!("{e:#}")))?;
                    }
                    if n > 0 {
                        tracing::info!("swept {n} uploads never attached to a post");
                    }
                    let ids = core.ids.clone();
                    core.db
                        .write(move |c| {
                            store::jobs::delete(c, job.id)?;
                            schedule(c, &ids, &Task::Sweep, SWEEP_EVERY_MS)
                        })
                        .await
                        .map_err(|e| Failure::retry(format!("{e:#}")))?;
                    Ok(Outcome::DoneAndDeleted)
                }
            }
        })
    }
}
