//! Audit chain heads between peers (issue #17): each node sends its signed head
//! (`oresund_node::audit_head`) to every peer, at start and every `[network] head_interval_s`;
//! each peer keeps the last one (`oresund_store::PeerHeads`), so that a node's chain can be
//! checked against a copy of its head held outside its own database.
//!
//! | request (peer-signed)               | what it does                                          |
//! |-------------------------------------|-------------------------------------------------------|
//! | `POST /network/audit-head`          | `{"head": JWS}`: the sender's head, kept if it verifies with the sender's published keys and does not go back |
//! | `GET /network/audit-head/{node id}` | the head kept for that node (`{node, seq, hash, jws, received}`) |
//!
//! A head is accepted only from the node it names, over the pair's HMAC channel, with an ES256
//! signature checked against the JWKS the sender publishes at its configured url: a peer cannot
//! deposit a head in another's name. Sending never fails the server: a peer that is down or
//! refuses is logged and gets the next head.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use oresund_access::jwk::Jwks;
use oresund_node::audit_head::SignedHead;
use oresund_node::clock::{now_rfc3339, unix_now};
use oresund_store::{PeerHead, PeerHeadOutcome};
use serde_json::{Value, json};

use super::peer_error::PeerError;
use super::{Network, PeerConfig, exchange, read_capped};
use crate::error::BeaconError;
use crate::state::AppState;

/// The path under `/network/`.
pub(super) const PATH: &str = "audit-head";

/// Whether a `/network/` path is one of this module's.
pub(super) fn is_path(path: &str) -> bool {
    path == PATH || path.starts_with("audit-head/")
}

/// A peer-signed request under `/network/audit-head` (see the module's table).
pub(super) async fn answer_peer(
    network: &Network,
    method: &Method,
    path: &str,
    peer_id: &str,
    body: Bytes,
) -> Response {
    let result = match (method, path.strip_prefix("audit-head/")) {
        (&Method::POST, None) => receive(network, peer_id, &body).await,
        (&Method::GET, Some(node)) if !node.is_empty() => held(network, node).await,
        _ => Err(BeaconError::not_found("use POST /network/audit-head or GET /network/audit-head/{node id}")),
    };
    match result {
        Ok(value) => Json(value).into_response(),
        Err(error) => error.with_beacon(&network.beacon.id).into_response(),
    }
}

fn local(network: &Network) -> Result<&AppState, BeaconError> {
    network.local.as_ref().ok_or_else(|| BeaconError::not_found("this network portal keeps no audit heads"))
}

/// A head from `peer_id`: checked, then kept unless it goes back (409 then, and a warning here:
/// the peer's chain lost entries or was rewritten since its last head).
async fn receive(network: &Network, peer_id: &str, body: &[u8]) -> Result<Value, BeaconError> {
    let local = local(network)?;
    let jws = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["head"].as_str().map(str::to_string))
        .ok_or_else(|| BeaconError::bad_request(r#"the body must be {"head": "<signed audit head>"}"#))?;
    let head = SignedHead::parse(&jws).map_err(|e| BeaconError::bad_request(e.to_string()))?;
    if head.node != peer_id {
        return Err(BeaconError::forbidden(format!("peer {peer_id} sent the audit head of node {}", head.node)));
    }
    let peer = network.peers.iter().find(|p| p.id == peer_id).ok_or_else(|| BeaconError::forbidden("unknown peer"))?;
    let keys = peer_keys(network, peer)
        .await
        .map_err(|e| BeaconError::bad_gateway(format!("cannot read the published keys of peer {peer_id}: {e}")))?;
    head.verify(&keys).map_err(|e| BeaconError::unauthorized(e.to_string()))?;
    let kept =
        PeerHead { node: head.node.clone(), seq: head.seq, hash: head.hash.clone(), jws, received: now_rfc3339() };
    let outcome = local.blocking(move |app| app.node.record_peer_head(&kept)).await?.map_err(BeaconError::internal)?;
    match outcome {
        PeerHeadOutcome::Stored | PeerHeadOutcome::Repeated => {
            tracing::info!(peer = peer_id, seq = head.seq, "audit head of a peer kept");
            Ok(json!({"node": head.node, "seq": head.seq, "kept": true}))
        }
        PeerHeadOutcome::Refused { kept } => {
            tracing::warn!(
                peer = peer_id,
                seq = head.seq,
                hash = %head.hash,
                kept_seq = kept.seq,
                kept_hash = %kept.hash,
                "a peer sent an audit head that contradicts the one kept: its chain lost entries or was rewritten"
            );
            let message = format!(
                "audit head refused: seq {} does not follow the head kept (seq {}, received {})",
                head.seq, kept.seq, kept.received
            );
            Err(BeaconError::new(StatusCode::CONFLICT, message))
        }
    }
}

/// The head kept for `node`.
async fn held(network: &Network, node: &str) -> Result<Value, BeaconError> {
    let id = node.to_string();
    let head = local(network)?.blocking(move |app| app.node.peer_head(&id)).await?;
    let head = head
        .map_err(BeaconError::internal)?
        .ok_or_else(|| BeaconError::not_found(format!("this node keeps no audit head of node {node}")))?;
    Ok(json!({"node": head.node, "seq": head.seq, "hash": head.hash, "jws": head.jws, "received": head.received}))
}

/// The keys a peer publishes at its configured url (never at a url the head names).
async fn peer_keys(network: &Network, peer: &PeerConfig) -> Result<Jwks, PeerError> {
    let base = peer.url.as_deref().ok_or(PeerError::BadUrl("the peer has no url to fetch its keys from".into()))?;
    let url = format!("{}/.well-known/jwks.json", base.trim_end_matches('/'));
    let response = network
        .client
        .get(&url)
        .timeout(network.timeout)
        .send()
        .await
        .map_err(|e| PeerError::Request(e.to_string()))?;
    let status = response.status();
    let bytes = read_capped(response).await?;
    if !status.is_success() {
        return Err(PeerError::NotBeacon(status));
    }
    Jwks::parse(&bytes).map_err(|e| PeerError::Read(e.to_string()))
}

/// Sends this node's signed head to every peer with a url, at once and then every
/// `head_interval`, for as long as the server runs (a node without data of its own sends none).
pub async fn send_periodically(network: Arc<Network>) {
    let Some(local) = network.local.clone() else { return };
    let mut ticks = tokio::time::interval(network.head_interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        send_once(&network, &local).await;
    }
}

/// One round of [`send_periodically`]; failures are logged, never returned.
async fn send_once(network: &Network, local: &AppState) {
    let (id, base_url, at) = (network.id.clone(), network.beacon.base_url.clone(), unix_now());
    let head = match local.blocking(move |app| app.node.sign_audit_head(&id, &base_url, at)).await {
        Ok(Ok(Some(head))) => head,
        Ok(Ok(None)) => {
            tracing::warn!(
                "no audit head sent to peers: this node has no signing key (`oresund keys rotate --signing`)"
            );
            return;
        }
        Ok(Err(e)) => return tracing::warn!(cause = %e, "no audit head sent to peers: cannot sign it"),
        Err(e) => return tracing::warn!(cause = %e.message, "no audit head sent to peers: cannot sign it"),
    };
    let body = Bytes::from(json!({"head": head.jws}).to_string());
    let sends = network.peers.iter().filter(|p| p.url.is_some()).map(|peer| {
        let body = body.clone();
        async move { (peer, exchange(network, peer, &Method::POST, "/network/audit-head", body, "").await) }
    });
    for (peer, reply) in futures::future::join_all(sends).await {
        match reply {
            Ok(reply) if reply.status.is_success() => {
                tracing::debug!(peer = %peer.id, seq = head.seq, "audit head sent to a peer");
            }
            Ok(reply) => {
                let message = serde_json::from_slice::<Value>(&reply.bytes)
                    .ok()
                    .and_then(|v| v["error"]["errorMessage"].as_str().map(str::to_string))
                    .unwrap_or_default();
                tracing::warn!(peer = %peer.id, status = reply.status.as_u16(), %message, "a peer refused this node's audit head");
            }
            Err(e) => tracing::warn!(peer = %peer.id, cause = %e, "cannot send this node's audit head to a peer"),
        }
    }
}

/// A head a peer keeps for this node, as it answered (not yet verified).
#[derive(Debug, Clone)]
pub struct HeldHead {
    pub jws: String,
    /// RFC 3339 time the peer received it.
    pub received: String,
}

/// Asks `peer` (signed like any peer request) for the head it keeps for this node; `None` when
/// it keeps none.
pub async fn ask_held_head(network: &Network, peer: &PeerConfig) -> Result<Option<HeldHead>, PeerError> {
    let path = format!("/network/audit-head/{}", network.id);
    let reply = exchange(network, peer, &Method::GET, &path, Bytes::new(), "").await?;
    let value: Value = serde_json::from_slice(&reply.bytes).map_err(|_| PeerError::NotJson(reply.status))?;
    if reply.status == StatusCode::NOT_FOUND && !reply.signature_refused {
        return Ok(None);
    }
    if let Some(refused) = reply.refusal(&value) {
        return Err(refused);
    }
    match (value["jws"].as_str(), value["received"].as_str()) {
        (Some(jws), Some(received)) if reply.status.is_success() => {
            Ok(Some(HeldHead { jws: jws.to_string(), received: received.to_string() }))
        }
        _ => Err(PeerError::NotBeacon(reply.status)),
    }
}
