//! The peer heads' store ([`oresund_store::PeerHeads`]), generic over the backend.

use oresund_store::prelude::*;
use oresund_store::{PeerHead, PeerHeadOutcome};

use crate::backends::Backend;

fn head(node: &str, seq: u64, hash: &str, received: &str) -> PeerHead {
    PeerHead {
        node: node.into(),
        seq,
        hash: hash.into(),
        jws: format!("jws.{node}.{seq}.{received}"),
        received: received.into(),
    }
}

pub fn peer_heads_only_move_forward_and_keep_the_evidence<B: Backend>() {
    let backend = B::fresh();
    let store = backend.store();
    let other = backend.reopen();
    assert_eq!(store.peer_head("DK").unwrap(), None);
    let first = head("DK", 5, "h5", "2026-12-03T01:00:00Z");
    assert_eq!(store.record_peer_head(&first).unwrap(), PeerHeadOutcome::Stored);
    assert_eq!(other.peer_head("DK").unwrap(), Some(first.clone()), "another handle sees it");
    assert_eq!(store.peer_head("SE").unwrap(), None, "kept per peer");

    let again = head("DK", 5, "h5", "2026-12-03T01:05:00Z");
    assert_eq!(store.record_peer_head(&again).unwrap(), PeerHeadOutcome::Repeated);
    assert_eq!(store.peer_head("DK").unwrap(), Some(again.clone()), "the newer time is kept");

    let behind = head("DK", 3, "h3", "2026-12-03T01:10:00Z");
    assert_eq!(store.record_peer_head(&behind).unwrap(), PeerHeadOutcome::Refused { kept: again.clone() });
    let rewritten = head("DK", 5, "other", "2026-12-03T01:10:00Z");
    assert_eq!(store.record_peer_head(&rewritten).unwrap(), PeerHeadOutcome::Refused { kept: again.clone() });
    assert_eq!(store.peer_head("DK").unwrap(), Some(again), "a refused head changes nothing");

    let ahead = head("DK", 9, "h9", "2026-12-03T01:15:00Z");
    assert_eq!(other.record_peer_head(&ahead).unwrap(), PeerHeadOutcome::Stored);
    assert_eq!(store.peer_head("DK").unwrap(), Some(ahead));
    let se = head("SE", 1, "s1", "2026-12-03T01:15:00Z");
    assert_eq!(store.record_peer_head(&se).unwrap(), PeerHeadOutcome::Stored);
    assert_eq!(store.peer_head("SE").unwrap(), Some(se));
}
