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
}

impl Task {
    fn kind(&self) -> &'static str {
        match self {
            Task::FanOut { .. } => "fan_out",
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
            }
        })
    }
}
