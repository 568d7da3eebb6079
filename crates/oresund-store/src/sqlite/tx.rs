//! A write transaction on one of the embedded store's databases: the shared rules
//! ([`crate::rules`]) run in it through the row traits its SQL implements.

use std::ops::Deref;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::pool::ConnPool;
use crate::error::Result;

pub(super) struct WriteTx<'c>(Transaction<'c>);

impl Deref for WriteTx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.0
    }
}

impl ConnPool {
    /// Runs `work` in one transaction, committed if it succeeds. IMMEDIATE: the write lock is
    /// taken at once, so writers in any process queue instead of failing at commit.
    pub fn write<T>(&self, work: impl FnOnce(&mut WriteTx<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.get()?;
        let mut tx = WriteTx(conn.transaction_with_behavior(TransactionBehavior::Immediate)?);
        let out = work(&mut tx)?;
        tx.0.commit()?;
        Ok(out)
    }

    /// [`ConnPool::write`] committed without waiting for the disk (`synchronous = NORMAL`, WAL
    /// mode): the commit has reached the operating system when this returns, so a killed process
    /// loses nothing; a power failure may lose the last such commits until the next synced commit
    /// or checkpoint, and the database stays consistent. For the audit log's group commits, which
    /// answers wait on (issue #17): one fsync each would cap a node at a few thousand answers/s.
    pub fn write_unsynced<T>(&self, work: impl FnOnce(&mut WriteTx<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.get()?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let result = (|| {
            let mut tx = WriteTx(conn.transaction_with_behavior(TransactionBehavior::Immediate)?);
            let out = work(&mut tx)?;
            tx.0.commit()?;
            Ok(out)
        })();
        // Back to FULL before the connection serves anyone else.
        conn.pragma_update(None, "synchronous", "FULL")?;
        result
    }
}
