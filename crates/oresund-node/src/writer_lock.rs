//! The lock every writer of a node holds — ingest, `archive gc`, key rotation — so that gc
//! never removes the objects of an ingest still running, and two ingests never interleave.
//!
//! Two locks, both released by the kernel or the database when their holder dies (`kill -9`):
//! the node directory's `ingest.lock` file (every process on this machine), and the store's own
//! lock when several machines share it (PostgreSQL: a session advisory lock).

use std::fs::File;

use oresund_store::WriterLock;

use crate::error::NodeError;
use crate::node::Node;

/// Held while a writer runs; dropping it releases both locks.
pub struct WriterGuard {
    _file: File,
    _store: Option<WriterLock>,
}

impl Node {
    /// Takes the writer locks, failing at once if another writer holds one.
    pub fn lock_writers(&self) -> Result<WriterGuard, NodeError> {
        let lock_path = self.layout.ingest_lock();
        let file = File::create(&lock_path).map_err(|e| NodeError::io(&lock_path, e))?;
        if file.try_lock().is_err() {
            return Err(NodeError::Busy(lock_path));
        }
        let store = self.store.lock_writers()?;
        Ok(WriterGuard { _file: file, _store: store })
    }
}
