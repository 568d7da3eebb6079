//! Request decisions into the hash-chained audit log, durably before the answer leaves (issue
//! #17): a handler hands its record to one background writer and waits until the record is
//! committed. The writer commits records in groups — everything that arrived while the previous
//! group was being written, up to `MAX_BATCH` — each group one store transaction holding the
//! chain head (so several `serve` processes over one PostgreSQL keep one chain). So `kill -9`
//! loses no record of an answered request, and a stop (`SIGTERM`) lets in-flight requests finish
//! and their records commit first.
//!
//! When the store cannot take a group, its requests get [`AuditUnavailable`] (a 503): a node does
//! not answer what it cannot record. Their records are dropped with them — nothing was answered.
//!
//! On the embedded store the server owns the node's audit journal instead
//! (`oresund_node::audit_journal`): a handler's record is written to the journal file before the
//! answer leaves (the same `kill -9` guarantee, one system call instead of a commit), and the
//! writer moves the journal into the chain every `MOVE_INTERVAL`. A journal that cannot be
//! written is a 503 as above; a store that cannot take a file leaves it to the next round.

use std::sync::Arc;

use oresund_core::audit::AuditRecord;
use oresund_node::Node;

use crate::metrics::Metrics;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Records waiting in the channel before handlers wait.
const CHANNEL: usize = 16_384;
/// Most records in one append.
const MAX_BATCH: usize = 8_192;
/// How often the journal is moved into the chain.
const MOVE_INTERVAL: std::time::Duration = std::time::Duration::from_millis(20);

/// A record and the handler waiting for it to be committed.
struct Queued {
    record: AuditRecord,
    committed: oneshot::Sender<bool>,
}

/// The audit log could not take a record: the answer is withheld (503).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the audit log cannot record this request now, so it is not answered; try again later")]
pub struct AuditUnavailable;

/// Where handlers send audit records (cheap to clone). A portal without a node records nothing.
#[derive(Clone, Default)]
pub struct AuditLog {
    sender: Option<mpsc::Sender<Queued>>,
    /// The node whose audit journal this process owns, when it does.
    journal: Option<Arc<Node>>,
    metrics: Arc<Metrics>,
}

impl AuditLog {
    /// Records a decision and returns once it is committed; the answer may leave only then. The
    /// record also tells the metrics, and the request's log line, how the request was decided.
    pub async fn record(&self, record: AuditRecord) -> Result<(), AuditUnavailable> {
        crate::request_log::note(self.metrics.audited(&record));
        if let Some(journal) = self.journal.as_ref().and_then(|node| node.audit_journal()) {
            // A line of a few hundred bytes to the page cache: microseconds, fine on this thread.
            return journal.write(&record).map_err(|e| {
                tracing::warn!(cause = %e, "audit log: the journal cannot be written; the request gets 503");
                self.metrics.appended(1, false);
                AuditUnavailable
            });
        }
        let Some(sender) = &self.sender else { return Ok(()) };
        let (committed, done) = oneshot::channel();
        // An error means the writer has stopped (the server is shutting down).
        sender.send(Queued { record, committed }).await.map_err(|_| AuditUnavailable)?;
        match done.await {
            Ok(true) => Ok(()),
            _ => Err(AuditUnavailable),
        }
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

/// The background writer; [`AuditWriter::finish`] appends what is queued and stops it.
pub struct AuditWriter {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl AuditWriter {
    /// Appends every queued record, then stops the writer. Call after the server has stopped.
    pub async fn finish(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = self.task.await;
    }
}

/// Starts the writer for `node`'s store: over the node's audit journal when this process can take
/// it (embedded store), else committing groups on the answer's path.
pub fn start(node: Arc<Node>, metrics: Arc<Metrics>) -> Result<(AuditLog, AuditWriter), oresund_store::StoreError> {
    let (stop, stopped) = oneshot::channel();
    if let Some(journal) = node.take_audit_journal()? {
        if journal.recovered() > 0 {
            tracing::warn!(
                records = journal.recovered(),
                "audit log: moved into the chain the journaled records a stopped server had left"
            );
        }
        let task = tokio::spawn(move_journal(node.clone(), metrics.clone(), stopped));
        let log = AuditLog { sender: None, journal: Some(node), metrics };
        return Ok((log, AuditWriter { stop: Some(stop), task }));
    }
    let (sender, receiver) = mpsc::channel(CHANNEL);
    let task = tokio::spawn(run(node, metrics.clone(), receiver, stopped));
    Ok((AuditLog { sender: Some(sender), journal: None, metrics }, AuditWriter { stop: Some(stop), task }))
}

/// Moves the journal into the chain every `MOVE_INTERVAL`, and once more when stopped (after the
/// server has drained its requests). The metrics count what was moved in by anyone (a read of the
/// log moves the journal in too).
async fn move_journal(node: Arc<Node>, metrics: Arc<Metrics>, mut stopped: oneshot::Receiver<()>) {
    let mut ticks = tokio::time::interval(MOVE_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut counted = 0;
    loop {
        let last = tokio::select! {
            _ = ticks.tick() => false,
            _ = &mut stopped => true,
        };
        let mover = node.clone();
        match crate::blocking::run(move || mover.move_audit_journal_in()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::warn!(cause = %e, "audit log: moving the journal into the chain failed; it is tried again");
                metrics.appended(0, false);
            }
            Err(e) => tracing::error!(cause = %e, "audit log: the journal task failed"),
        }
        let moved = node.audit_journal().map_or(0, |journal| journal.moved());
        metrics.appended(usize::try_from(moved - counted).unwrap_or(usize::MAX), true);
        counted = moved;
        if last {
            return;
        }
    }
}

/// Appends one group and tells each waiting handler whether its record is committed.
async fn commit(node: &Arc<Node>, metrics: &Metrics, group: Vec<Queued>) {
    if group.is_empty() {
        return;
    }
    let (records, waiters): (Vec<AuditRecord>, Vec<oneshot::Sender<bool>>) =
        group.into_iter().map(|q| (q.record, q.committed)).unzip();
    let count = records.len();
    let writer = node.clone();
    let ok = match crate::blocking::run(move || writer.append_audit(&records)).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::warn!(records = count, cause = %e, "audit log: appending failed; those requests get 503");
            false
        }
        Err(e) => {
            tracing::error!(cause = %e, "audit log: the writer task failed");
            false
        }
    };
    metrics.appended(count, ok);
    for waiter in waiters {
        // A handler that gave up (its connection closed) no longer listens.
        let _ = waiter.send(ok);
    }
}

/// Takes what else is queued now, up to a full group.
fn fill(group: &mut Vec<Queued>, receiver: &mut mpsc::Receiver<Queued>) {
    while group.len() < MAX_BATCH {
        match receiver.try_recv() {
            Ok(queued) => group.push(queued),
            Err(_) => break,
        }
    }
}

async fn run(
    node: Arc<Node>,
    metrics: Arc<Metrics>,
    mut receiver: mpsc::Receiver<Queued>,
    mut stopped: oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            received = receiver.recv() => match received {
                Some(first) => {
                    // Group commit: whatever arrived while the last group was written goes together.
                    let mut group = vec![first];
                    fill(&mut group, &mut receiver);
                    commit(&node, &metrics, group).await;
                }
                None => break,
            },
            _ = &mut stopped => break,
        }
    }
    // Stopping (after the server has drained its requests): commit anything still queued.
    receiver.close();
    let mut group = Vec::new();
    while let Some(queued) = receiver.recv().await {
        group.push(queued);
        if group.len() == MAX_BATCH {
            commit(&node, &metrics, std::mem::take(&mut group)).await;
        }
    }
    commit(&node, &metrics, group).await;
}
