//! `oresund audit verify NODE --against-peer PEER`: the node's chain checked against the head a
//! peer kept for it (issue #17). A chain cut short, or rewritten and rehashed, is still a valid
//! chain on its own; the head the node signed and sent earlier, kept outside its database,
//! shows that it once reached further or held another entry.

use std::path::Path;
use std::sync::Arc;

use oresund_node::Node;
use oresund_node::audit_head::{HeadCheck, SignedHead};
use oresund_node::config::NetworkConfig;
use oresund_server::BeaconSettings;
use oresund_server::network::Network;
use oresund_server::network::audit_head::ask_held_head;

/// Checks the chain, verified whole up to `local_head`, against the head `peer` (a peer id, or
/// its url) keeps for this node; returns what to tell the operator when it holds.
pub fn verify(node: &Node, peer: &str, peers_file: Option<&Path>, local_head: u64) -> anyhow::Result<String> {
    let config = match peers_file {
        Some(path) => NetworkConfig::load(path)?,
        None => node.config.network.clone(),
    };
    let wanted = peer.trim_end_matches('/');
    let peer = config
        .peers
        .iter()
        .find(|p| p.id == wanted || p.url.as_deref().map(|u| u.trim_end_matches('/')) == Some(wanted))
        .ok_or_else(|| anyhow::anyhow!("{wanted:?} is not a peer of this node (neither its id nor its url)"))?
        .clone();
    if peer.url.is_none() {
        anyhow::bail!("peer {} has no url to ask", peer.id);
    }
    let base_url =
        node.config.server.base_url.clone().unwrap_or_else(|| format!("http://{}", node.config.server.listen));
    let beacon = Arc::new(BeaconSettings::from_config(&node.config, base_url));
    let network = Network::new(&config, node.config.node_id.clone(), node.config.country.clone(), None, beacon)
        .map_err(|e| anyhow::anyhow!(e))?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let held = runtime
        .block_on(ask_held_head(&network, &peer))
        .map_err(|e| anyhow::anyhow!("cannot ask peer {} for this node's audit head: {e}", peer.id))?
        .ok_or_else(|| anyhow::anyhow!("peer {} keeps no audit head of node {} yet", peer.id, network.id))?;
    let head = SignedHead::parse(&held.jws).map_err(|e| anyhow::anyhow!("peer {}: {e}", peer.id))?;
    // Signed by this node's own key: what the peer holds is what this node sent, not the peer's word.
    head.verify(&node.own_public_keys()?).map_err(|e| anyhow::anyhow!("the head peer {} holds: {e}", peer.id))?;
    if head.node != network.id {
        anyhow::bail!("peer {} answered with the audit head of node {}, not {}", peer.id, head.node, network.id);
    }
    let (id, at, seq) = (&peer.id, &held.received, head.seq);
    match node.check_audit_head(&head, local_head)? {
        HeadCheck::Holds => Ok(format!("audit log matches the head peer {id} received at {at} (seq {seq})")),
        HeadCheck::Shorter { local_seq } => anyhow::bail!(
            "the chain is shorter than the head peer {id} received at {at} (seq {seq}): entries were removed \
             (the chain now ends at seq {local_seq})"
        ),
        HeadCheck::Differs { local_hash } => anyhow::bail!(
            "entry {seq} differs from the head peer {id} received at {at}: the chain was rewritten \
             (hash {local_hash} here, {} signed then)",
            head.hash
        ),
    }
}
