//! The audit chain's head as the node signs it for its peers (issue #17): a compact JWS (ES256,
//! the node's signing key) over `{iss, node, seq, hash, iat}`. Peers keep the last one they
//! received (`oresund_store::PeerHeads`); later, the node checks its chain against the head a
//! peer kept (`oresund audit verify --against-peer`), which shows what the database alone cannot:
//! entries removed from the end, or a chain rewritten and rehashed.
//!
//! The signature makes the kept head evidence: a peer cannot make up a head the node never had,
//! and the node cannot deny one it signed.

use oresund_access::jwk::{Jwks, PublicJwk};
use oresund_access::jwt::UnverifiedJwt;
use oresund_store::{AuditQuery, PeerHead, PeerHeadOutcome};
use serde_json::json;

use crate::error::NodeError;
use crate::node::Node;

/// The JWS `typ` of a signed head: no other token of the node can pass for one.
pub const HEAD_TYPE: &str = "oresund-audit-head+jwt";

/// A signed head, its claims read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHead {
    /// The id of the node whose chain it is (its id towards peers).
    pub node: String,
    pub seq: u64,
    pub hash: String,
    /// Unix seconds when the node signed it.
    pub iat: i64,
    pub jws: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    #[error("not a signed audit head: {0}")]
    Malformed(String),
    #[error("the audit head's signature does not verify with the key of node {0}")]
    BadSignature(String),
}

impl SignedHead {
    /// Reads a head's claims without checking its signature (see [`SignedHead::verify`]).
    pub fn parse(jws: &str) -> Result<Self, HeadError> {
        let jwt = UnverifiedJwt::parse(jws).map_err(|e| HeadError::Malformed(e.to_string()))?;
        if jwt.header_str("typ") != Some(HEAD_TYPE) {
            return Err(HeadError::Malformed(format!("typ is not {HEAD_TYPE}")));
        }
        let claims = &jwt.claims;
        let missing = |name: &str| HeadError::Malformed(format!("no {name} claim"));
        Ok(SignedHead {
            node: claims["node"].as_str().ok_or_else(|| missing("node"))?.to_string(),
            seq: claims["seq"].as_u64().ok_or_else(|| missing("seq"))?,
            hash: claims["hash"].as_str().ok_or_else(|| missing("hash"))?.to_string(),
            iat: claims["iat"].as_i64().ok_or_else(|| missing("iat"))?,
            jws: jws.to_string(),
        })
    }

    /// Checks the signature against the keys of the node it names.
    pub fn verify(&self, keys: &Jwks) -> Result<(), HeadError> {
        let jwt = UnverifiedJwt::parse(&self.jws).map_err(|e| HeadError::Malformed(e.to_string()))?;
        let candidates: Vec<&PublicJwk> = keys.candidates(jwt.header_str("kid")).collect();
        jwt.verify(candidates).map_err(|_| HeadError::BadSignature(self.node.clone()))
    }
}

/// How the local chain compares with a head a peer kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadCheck {
    /// The chain holds the entry the head names, with its hash.
    Holds,
    /// The chain ends before the head's entry: entries were removed.
    Shorter { local_seq: u64 },
    /// The chain has the head's entry with another hash: it was rewritten.
    Differs { local_hash: String },
}

impl Node {
    /// The current audit head signed with the node's signing key, as `node_id` at `base_url`;
    /// `None` when the node has no signing key (made before visas were signed).
    pub fn sign_audit_head(&self, node_id: &str, base_url: &str, now: i64) -> Result<Option<SignedHead>, NodeError> {
        let Some(keys) = self.signing_keys()? else { return Ok(None) };
        let (seq, hash) = self.store().audit_head()?;
        let claims = json!({"iss": base_url, "node": node_id, "seq": seq, "hash": hash, "iat": now});
        let jku = format!("{}/.well-known/jwks.json", base_url.trim_end_matches('/'));
        let jws = keys.current.sign(&claims, HEAD_TYPE, &jku);
        Ok(Some(SignedHead { node: node_id.to_string(), seq, hash, iat: now, jws }))
    }

    /// Every public key this node ever signed with and still knows (current and retired, expired
    /// or not: a head signed before a rotation must still verify).
    pub fn own_public_keys(&self) -> Result<Jwks, NodeError> {
        let keys = self.signing_keys()?.ok_or_else(|| NodeError::SigningKey("this node has no signing key".into()))?;
        Jwks::parse(keys.jwks(i64::MIN).to_string().as_bytes()).map_err(|e| NodeError::SigningKey(e.to_string()))
    }

    /// Keeps a peer's head (already verified) unless it goes back: see [`PeerHeadOutcome`].
    pub fn record_peer_head(&self, head: &PeerHead) -> Result<PeerHeadOutcome, NodeError> {
        Ok(self.store().record_peer_head(head)?)
    }

    /// The head kept for the peer node `node`.
    pub fn peer_head(&self, node: &str) -> Result<Option<PeerHead>, NodeError> {
        Ok(self.store().peer_head(node)?)
    }

    /// Compares the chain up to `local_head` (already verified whole) with a head a peer kept.
    pub fn check_audit_head(&self, head: &SignedHead, local_head: u64) -> Result<HeadCheck, NodeError> {
        if head.seq == 0 {
            return Ok(HeadCheck::Holds);
        }
        if head.seq > local_head {
            return Ok(HeadCheck::Shorter { local_seq: local_head });
        }
        let query = AuditQuery { after: Some(head.seq - 1), limit: Some(1), ..AuditQuery::default() };
        let entry = self.store().audit_entries(&query)?.into_iter().next();
        Ok(match entry {
            Some(e) if e.seq == head.seq && e.hash == head.hash => HeadCheck::Holds,
            Some(e) if e.seq == head.seq => HeadCheck::Differs { local_hash: e.hash },
            _ => HeadCheck::Shorter { local_seq: local_head },
        })
    }
}

#[cfg(test)]
mod tests {
    use oresund_access::signing::NodeSigningKey;

    use super::*;

    fn signed(key: &NodeSigningKey, claims: serde_json::Value) -> String {
        key.sign(&claims, HEAD_TYPE, "http://a/.well-known/jwks.json")
    }

    #[test]
    fn a_head_verifies_only_with_its_nodes_key_and_type() {
        let key = NodeSigningKey::generate().unwrap();
        let jws = signed(&key, json!({"node": "DK", "seq": 7, "hash": "ab", "iat": 5}));
        let head = SignedHead::parse(&jws).unwrap();
        assert_eq!((head.node.as_str(), head.seq, head.hash.as_str(), head.iat), ("DK", 7, "ab", 5));
        let jwks = |k: &NodeSigningKey| Jwks::parse(json!({"keys": [k.public_jwk()]}).to_string().as_bytes()).unwrap();
        assert_eq!(head.verify(&jwks(&key)), Ok(()));
        let other = NodeSigningKey::generate().unwrap();
        assert_eq!(head.verify(&jwks(&other)), Err(HeadError::BadSignature("DK".into())));
        let visa = key.sign(&json!({"node": "DK", "seq": 7, "hash": "ab", "iat": 5}), "JWT", "x");
        assert!(matches!(SignedHead::parse(&visa), Err(HeadError::Malformed(_))), "another kind of token");
        let no_seq = signed(&key, json!({"node": "DK", "hash": "ab", "iat": 5}));
        assert!(matches!(SignedHead::parse(&no_seq), Err(HeadError::Malformed(_))));
    }
}
