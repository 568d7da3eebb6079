//! Which head a peer sends may replace the one kept for it (see [`crate::PeerHeadOutcome`]).

use crate::error::Result;
use crate::peer_heads::{PeerHead, PeerHeadOutcome};

/// A peer's kept head, inside one write transaction.
pub(crate) trait PeerHeadRows {
    /// The head kept for `node`, locked until the transaction ends.
    fn lock_peer_head(&mut self, node: &str) -> Result<Option<PeerHead>>;

    /// Inserts or replaces the head kept for `head.node`.
    fn put_peer_head(&mut self, head: &PeerHead) -> Result<()>;
}

pub(crate) fn record(rows: &mut impl PeerHeadRows, head: &PeerHead) -> Result<PeerHeadOutcome> {
    let outcome = match rows.lock_peer_head(&head.node)? {
        None => PeerHeadOutcome::Stored,
        Some(kept) if head.seq > kept.seq => PeerHeadOutcome::Stored,
        Some(kept) if head.seq == kept.seq && head.hash == kept.hash => PeerHeadOutcome::Repeated,
        Some(kept) => return Ok(PeerHeadOutcome::Refused { kept }),
    };
    rows.put_peer_head(head)?;
    Ok(outcome)
}
