//! The grants this node's data access committee issued, as passport verification asks about them
//! (`oresund_access::passport::Revocations`): read from the store on every use of a visa, so a
//! revocation in any process — the REST endpoint or `oresund dac revoke` — applies at once.

use std::sync::Arc;

use oresund_access::passport::{GrantFuture, GrantStatus, Revocations};
use oresund_node::Node;

/// Grant records in the node's store.
pub struct StoreGrants {
    pub node: Arc<Node>,
}

impl Revocations for StoreGrants {
    fn status<'a>(&'a self, jti: &'a str, holder: &'a str) -> GrantFuture<'a> {
        let node = self.node.clone();
        let jti = jti.to_string();
        Box::pin(async move {
            let grant = tokio::task::spawn_blocking(move || node.store().grant(&jti))
                .await
                .map_err(|e| format!("the grant lookup failed: {e}"))?
                .map_err(|e| format!("the grant lookup failed: {e}"))?;
            Ok(match grant {
                None => GrantStatus::Unknown,
                Some(grant) if grant.revoked.is_some() => GrantStatus::Revoked,
                Some(grant) if grant.user != holder => GrantStatus::OtherHolder,
                Some(_) => GrantStatus::Active,
            })
        })
    }
}
