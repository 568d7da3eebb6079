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
    metrics: Arc<Metrics>,
}

impl AuditLog {
    /// Records a decision and returns once it is committed; the answer may leave only then. The
    /// record also tells the metrics, and the request's log line, how the request was decided.
    pub async fn record(&self, record: AuditRecord) -> Result<(), AuditUnavailable> {
        crate::request_log::note(self.metrics.audited(&record));
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

/// Starts the writer for `node`'s store.
pub fn start(node: Arc<Node>, metrics: Arc<Metrics>) -> (AuditLog, AuditWriter) {
    let (sender, receiver) = mpsc::channel(CHANNEL);
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(run(node, metrics.clone(), receiver, stopped));
    (AuditLog { sender: Some(sender), metrics }, AuditWriter { stop: Some(stop), task })
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
