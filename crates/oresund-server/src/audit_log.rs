//! Request decisions into the hash-chained audit log, durably before the answer leaves (issue
//! #17). A handler's record is committed before its response is released, in groups: the thread
//! that finds no commit running becomes the leader and writes every record queued so far in one
//! store transaction (holding the chain head, so several `serve` processes over one PostgreSQL
//! keep one chain); the others wait for that group and, if theirs came too late for it, lead the
//! next. It runs on the blocking threads the answers are computed on — no extra thread or task
//! hop per request — so `kill -9` loses no record of an answered request, and a stop (`SIGTERM`)
//! lets the requests in flight finish and commit first.
//!
//! When the store cannot take a group, its requests get [`AuditUnavailable`] (a 503): a node does
//! not answer what it cannot record. Their records are dropped with them — nothing was answered.

use std::collections::HashSet;
use std::sync::{Arc, Condvar, Mutex};

use oresund_core::audit::AuditRecord;
use oresund_node::Node;

use crate::metrics::{Metrics, Outcome};

/// Most records in one group.
const MAX_BATCH: usize = 8_192;

/// The audit log could not take a record: the answer is withheld (503).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the audit log cannot record this request now, so it is not answered; try again later")]
pub struct AuditUnavailable;

/// Records waiting for a group, and what became of the groups written.
#[derive(Default)]
struct Queue {
    waiting: Vec<(u64, AuditRecord)>,
    next_ticket: u64,
    /// Every ticket up to this one is decided: committed, or in `failed`.
    decided_through: u64,
    failed: HashSet<u64>,
    /// Bumped after each group, so waiters never miss the end of one.
    groups: u64,
    stopped: bool,
}

impl Queue {
    /// `Some` once the ticket's group is decided (taking a failure out of `failed`).
    fn outcome(&mut self, ticket: u64) -> Option<Result<(), AuditUnavailable>> {
        if self.failed.remove(&ticket) {
            return Some(Err(AuditUnavailable));
        }
        (ticket <= self.decided_through).then_some(Ok(()))
    }
}

struct GroupCommit {
    node: Arc<Node>,
    metrics: Arc<Metrics>,
    queue: Mutex<Queue>,
    group_done: Condvar,
    /// Held by the leader while it writes a group.
    writing: Mutex<()>,
}

impl GroupCommit {
    /// Queues `record` and returns once its group is committed (or failed). Blocking.
    fn commit(&self, record: AuditRecord) -> Result<(), AuditUnavailable> {
        let ticket = {
            let mut queue = self.queue.lock().map_err(|_| AuditUnavailable)?;
            if queue.stopped {
                return Err(AuditUnavailable);
            }
            queue.next_ticket += 1;
            let ticket = queue.next_ticket;
            queue.waiting.push((ticket, record));
            ticket
        };
        loop {
            let seen = {
                let mut queue = self.queue.lock().map_err(|_| AuditUnavailable)?;
                if let Some(outcome) = queue.outcome(ticket) {
                    return outcome;
                }
                queue.groups
            };
            if let Ok(_leading) = self.writing.try_lock() {
                self.write_group()?;
                continue;
            }
            // Another thread is writing: wait for its group to end, then look again.
            let queue = self.queue.lock().map_err(|_| AuditUnavailable)?;
            drop(self.group_done.wait_while(queue, |q| q.groups == seen).map_err(|_| AuditUnavailable)?);
        }
    }

    /// Writes everything queued (up to a full group) as one transaction. Call holding `writing`.
    fn write_group(&self) -> Result<(), AuditUnavailable> {
        let group: Vec<(u64, AuditRecord)> = {
            let mut queue = self.queue.lock().map_err(|_| AuditUnavailable)?;
            let n = queue.waiting.len().min(MAX_BATCH);
            queue.waiting.drain(..n).collect()
        };
        let Some(&(last, _)) = group.last() else { return Ok(()) };
        let (tickets, records): (Vec<u64>, Vec<AuditRecord>) = group.into_iter().unzip();
        let ok = match self.node.append_audit(&records) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(records = records.len(), cause = %e, "audit log: appending failed; those requests get 503");
                false
            }
        };
        self.metrics.appended(records.len(), ok);
        let mut queue = self.queue.lock().map_err(|_| AuditUnavailable)?;
        if !ok {
            queue.failed.extend(tickets);
        }
        queue.decided_through = last;
        queue.groups += 1;
        drop(queue);
        self.group_done.notify_all();
        Ok(())
    }
}

/// Where handlers record decisions (cheap to clone). A portal without a node records nothing.
#[derive(Clone, Default)]
pub struct AuditLog {
    commits: Option<Arc<GroupCommit>>,
    metrics: Arc<Metrics>,
}

impl AuditLog {
    /// Records a decision and returns once it is committed; the answer may leave only then. The
    /// record also tells the metrics, and the request's log line, how the request was decided.
    pub async fn record(&self, record: AuditRecord) -> Result<(), AuditUnavailable> {
        let (outcome, committed) = {
            let log = self.clone();
            crate::blocking::run(move || log.record_blocking(record)).await.map_err(|_| AuditUnavailable)?
        };
        crate::request_log::note(outcome);
        committed
    }

    /// [`AuditLog::record`] on a blocking thread already at hand (an answer computed there): the
    /// outcome for [`crate::request_log::note`], which the caller passes on in its task.
    pub fn record_blocking(&self, record: AuditRecord) -> (Outcome, Result<(), AuditUnavailable>) {
        let outcome = self.metrics.audited(&record);
        let committed = match &self.commits {
            Some(commits) => commits.commit(record),
            None => Ok(()),
        };
        (outcome, committed)
    }

    /// Records without holding anything back: for refusals (the caller gets its error whether or
    /// not the record could be written; a refusal discloses nothing) and for records written after
    /// the answer left (a streamed body's byte count; its access was recorded before).
    pub async fn note(&self, record: AuditRecord) {
        if let Err(e) = self.record(record).await {
            tracing::warn!(cause = %e, "audit log: a record could not be written");
        }
    }
}

/// Ends the log when the server has stopped: later records are refused.
pub struct AuditWriter {
    commits: Arc<GroupCommit>,
}

impl AuditWriter {
    /// Call after the server has stopped (every answered request has committed its record).
    pub async fn finish(self) {
        if let Ok(mut queue) = self.commits.queue.lock() {
            queue.stopped = true;
        }
    }
}

/// The audit log of `node`'s store.
pub fn start(node: Arc<Node>, metrics: Arc<Metrics>) -> (AuditLog, AuditWriter) {
    let commits = Arc::new(GroupCommit {
        node,
        metrics: metrics.clone(),
        queue: Mutex::new(Queue::default()),
        group_done: Condvar::new(),
        writing: Mutex::new(()),
    });
    (AuditLog { commits: Some(commits.clone()), metrics }, AuditWriter { commits })
}
