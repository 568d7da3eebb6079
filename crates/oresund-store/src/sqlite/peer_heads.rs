//! [`PeerHeads`] for the embedded backend, in `access.db`.

use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use super::tx::WriteTx;
use crate::error::Result;
use crate::peer_heads::{PeerHead, PeerHeadOutcome, PeerHeads};
use crate::rules::{self, PeerHeadRows};

fn head(conn: &Connection, node: &str) -> Result<Option<PeerHead>> {
    let mut select = conn.prepare_cached("SELECT node, seq, hash, jws, received FROM peer_heads WHERE node = ?1")?;
    let head = select
        .query_row(params![node], |r| {
            Ok(PeerHead { node: r.get(0)?, seq: r.get(1)?, hash: r.get(2)?, jws: r.get(3)?, received: r.get(4)? })
        })
        .optional()?;
    Ok(head)
}

impl PeerHeadRows for WriteTx<'_> {
    /// The IMMEDIATE transaction already holds `access.db`'s write lock.
    fn lock_peer_head(&mut self, node: &str) -> Result<Option<PeerHead>> {
        head(self, node)
    }

    fn put_peer_head(&mut self, h: &PeerHead) -> Result<()> {
        self.execute(
            "INSERT INTO peer_heads (node, seq, hash, jws, received) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (node) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, jws = excluded.jws, \
             received = excluded.received",
            params![h.node, h.seq, h.hash, h.jws, h.received],
        )?;
        Ok(())
    }
}

impl PeerHeads for SqliteStore {
    fn record_peer_head(&self, head: &PeerHead) -> Result<PeerHeadOutcome> {
        self.access.write(|tx| rules::peer_heads::record(tx, head))
    }

    fn peer_head(&self, node: &str) -> Result<Option<PeerHead>> {
        head(&*self.access.get()?, node)
    }
}
