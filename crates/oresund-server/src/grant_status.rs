//! The grants this node's data access committee issued, as passport verification asks about them
//! (`oresund_access::passport::Revocations`): read from the store on every use of a visa, so a
//! revocation in any process — the REST endpoint or `oresund dac revoke` — applies at once.

use std::sync::Arc;

use axum::http::StatusCode;
use oresund_access::passport::{GrantFuture, GrantLookupError, GrantStatus, Revocations};
use oresund_node::Node;
use oresund_node::dac::DacError;
use oresund_node::error::NodeError;

/// Grant records in the node's store.
pub struct StoreGrants {
    pub node: Arc<Node>,
}

impl Revocations for StoreGrants {
    fn status<'a>(&'a self, jti: &'a str, holder: &'a str) -> GrantFuture<'a> {
        let node = self.node.clone();
        let jti = jti.to_string();
        Box::pin(async move {
            let grant = crate::blocking::run(move || node.grant_with_purpose(&jti))
                .await
                .map_err(|e| GrantLookupError::Failed(e.to_string()))?
                .map_err(|e| match e {
                    DacError::Node(NodeError::Store(e))
                        if crate::error_status::store_status(&e) == StatusCode::SERVICE_UNAVAILABLE =>
                    {
                        GrantLookupError::Unavailable(e.to_string())
                    }
                    e => GrantLookupError::Failed(e.to_string()),
                })?;
            Ok(match grant {
                None => GrantStatus::Unknown,
                // Someone else's visa refuses the passport, revoked or not.
                Some((grant, _)) if grant.user != holder => GrantStatus::OtherHolder,
                Some((grant, _)) if grant.revoked.is_some() => GrantStatus::Revoked,
                Some((_, purpose)) => GrantStatus::Active(purpose),
            })
        })
    }
}
