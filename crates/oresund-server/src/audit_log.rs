//! Request decisions into the hash-chained audit log without slowing requests down: handlers hand
//! each record to a bounded channel, and one background writer appends them in batches — every
//! 100 ms, and once more when the server stops — each batch one store transaction holding the
//! chain head (so several `serve` processes over one PostgreSQL keep one chain).
//!
//! The window: a record reaches the log at most ~100 ms (plus the append) after its request was
//! answered; a crash (`kill -9`) in that window loses those records. When the store cannot take a
//! batch, the writer retries it and stops reading the channel; once the channel is full, handlers
//! wait — a node does not answer what it cannot record.

use std::sync::Arc;
use std::time::Duration;

use oresund_core::audit::AuditRecord;
use oresund_node::Node;

use crate::metrics::Metrics;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// How often queued records are appended.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(100);
/// Records waiting in the channel before handlers wait.
const CHANNEL: usize = 16_384;
/// Most records in one append.
const MAX_BATCH: usize = 8_192;

/// Where handlers send audit records (cheap to clone). A portal without a node records nothing.
#[derive(Clone, Default)]
pub struct AuditLog {
    sender: Option<mpsc::Sender<AuditRecord>>,
    metrics: Arc<Metrics>,
}

impl AuditLog {
    /// Queues a record; waits only when the writer is behind by a full channel. The record also
    /// tells the metrics, and the request's log line, how the request was decided.
    pub async fn record(&self, record: AuditRecord) {
        crate::request_log::note(self.metrics.audited(&record));
        if let Some(sender) = &self.sender {
            // An error means the writer has stopped (the server is shutting down).
            let _ = sender.send(record).await;
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

/// Appends `pending`; on failure keeps it for the next attempt.
async fn flush(node: &Arc<Node>, metrics: &Metrics, pending: &mut Vec<AuditRecord>) -> bool {
    let queued = pending.len();
    let ok = append(node, pending).await;
    metrics.appended(queued, ok);
    ok
}

async fn append(node: &Arc<Node>, pending: &mut Vec<AuditRecord>) -> bool {
    if pending.is_empty() {
        return true;
    }
    let batch = std::mem::take(pending);
    let writer = node.clone();
    let outcome = crate::blocking::run(move || {
        let result = writer.append_audit(&batch);
        (result, batch)
    })
    .await;
    match outcome {
        Ok((Ok(()), _)) => true,
        Ok((Err(e), batch)) => {
            tracing::warn!(records = batch.len(), cause = %e, "audit log: appending failed, retrying");
            *pending = batch;
            false
        }
        Err(e) => {
            tracing::error!(cause = %e, "audit log: the writer task failed");
            false
        }
    }
}

async fn run(
    node: Arc<Node>,
    metrics: Arc<Metrics>,
    mut receiver: mpsc::Receiver<AuditRecord>,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut pending: Vec<AuditRecord> = Vec::new();
    let mut tick = tokio::time::interval(FLUSH_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            received = receiver.recv(), if pending.len() < MAX_BATCH => match received {
                Some(record) => pending.push(record),
                None => break,
            },
            _ = tick.tick() => {
                flush(&node, &metrics, &mut pending).await;
            }
            _ = &mut stopped => break,
        }
    }
    // Shutting down: take what is queued, refuse anything later, and append it all.
    receiver.close();
    while let Some(record) = receiver.recv().await {
        pending.push(record);
    }
    for attempt in 0..5 {
        if flush(&node, &metrics, &mut pending).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
    }
    tracing::error!(records = pending.len(), "audit log: records could not be appended before stopping");
}
