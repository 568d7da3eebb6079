//! The audit chain heads that peer nodes signed and sent to this node, behind [`PeerHeads`]: a
//! copy of each peer's chain head kept outside the peer's own database, so that the peer can later
//! prove its chain was neither truncated nor rewritten (`oresund audit verify --against-peer`).
//! What a new head may replace is written once, in `rules/peer_heads.rs`, for both backends.

use crate::error::Result;

/// The last head one peer signed and sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerHead {
    /// The peer's node id (its id in `[network]`).
    pub node: String,
    pub seq: u64,
    pub hash: String,
    /// The compact JWS the peer signed over it, kept as received: the peer checks it with its
    /// own key, so a node holding a head cannot forge one.
    pub jws: String,
    /// RFC 3339 time it was received.
    pub received: String,
}

/// What became of a head offered to [`PeerHeads::record_peer_head`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerHeadOutcome {
    /// Kept: it is the peer's first, or further along the chain than the one kept.
    Stored,
    /// The same head as the one kept, received again: its newer JWS and time replace the old
    /// (the chain had reached it at least by then).
    Repeated,
    /// Refused, the kept head stays: it is behind the kept one (the peer's chain lost entries)
    /// or at the same seq with another hash (the peer's chain was rewritten). The kept head is
    /// the evidence, so it is never replaced by a contradicting one; the refusal is logged.
    Refused { kept: PeerHead },
}

/// The last head each peer sent, only ever moving forward.
pub trait PeerHeads {
    /// Keeps `head` as its peer's last one unless it goes backwards or contradicts the kept
    /// head (see [`PeerHeadOutcome`]), in one transaction.
    fn record_peer_head(&self, head: &PeerHead) -> Result<PeerHeadOutcome>;

    /// The head kept for a peer node.
    fn peer_head(&self, node: &str) -> Result<Option<PeerHead>>;
}
