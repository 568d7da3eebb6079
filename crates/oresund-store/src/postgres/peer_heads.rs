//! [`PeerHeads`] for PostgreSQL.

use postgres::Row;

use super::PostgresStore;
use super::rows::unsigned;
use super::tx::WriteTx;
use crate::error::Result;
use crate::peer_heads::{PeerHead, PeerHeadOutcome, PeerHeads};
use crate::rules::{self, PeerHeadRows};

fn from_row(r: &Row) -> Result<PeerHead> {
    Ok(PeerHead {
        node: r.try_get(0)?,
        seq: unsigned(r.try_get(1)?, "peer head seq")?,
        hash: r.try_get(2)?,
        jws: r.try_get(3)?,
        received: r.try_get(4)?,
    })
}

impl PeerHeadRows for WriteTx<'_> {
    /// A peer's first head has no row to lock: two first heads at once both insert, and the
    /// primary key makes the second fail rather than fork (the sender retries at its next send).
    fn lock_peer_head(&mut self, node: &str) -> Result<Option<PeerHead>> {
        let row = self
            .query_opt("SELECT node, seq, hash, jws, received FROM peer_heads WHERE node = $1 FOR UPDATE", &[&node])?;
        row.as_ref().map(from_row).transpose()
    }

    fn put_peer_head(&mut self, h: &PeerHead) -> Result<()> {
        let seq = i64::try_from(h.seq).unwrap_or(i64::MAX);
        self.execute(
            "INSERT INTO peer_heads (node, seq, hash, jws, received) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (node) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, jws = excluded.jws, \
             received = excluded.received",
            &[&h.node, &seq, &h.hash, &h.jws, &h.received],
        )?;
        Ok(())
    }
}

impl PeerHeads for PostgresStore {
    fn record_peer_head(&self, head: &PeerHead) -> Result<PeerHeadOutcome> {
        self.pool.get()?.write(|tx| rules::peer_heads::record(tx, head))
    }

    fn peer_head(&self, node: &str) -> Result<Option<PeerHead>> {
        let row = self
            .pool
            .get()?
            .client
            .query_opt("SELECT node, seq, hash, jws, received FROM peer_heads WHERE node = $1", &[&node])?;
        row.as_ref().map(from_row).transpose()
    }
}
