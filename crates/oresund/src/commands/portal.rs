//! `oresund portal`: a network portal without data of its own.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use oresund_node::config::NetworkConfig;
use oresund_server::BeaconSettings;
use oresund_server::network::Network;

/// Serve a network portal: the web page at `/` and Beacon v2 network queries at `/network/…`,
/// answered by asking every peer and pooling what they disclose.
#[derive(Debug, Args)]
#[command(after_help = "Example peers file (mode 0600; each secret is shared with that node, whose own\n\
[network] section lists this portal with the same secret):\n\n  timeout_ms = 5000\n  \
[[peers]]\n  id = \"DK-NGC\"\n  country = \"DK\"\n  url = \"https://beacon.ngc.dk\"\n  secret = \"…64 hex digits…\"")]
pub struct PortalArgs {
    /// Peers file: the national nodes to ask.
    #[arg(long)]
    pub peers: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// This portal's id towards the nodes (they list it as a peer).
    #[arg(long, default_value = "PORTAL")]
    pub id: String,
    /// Serve `/metrics` (Prometheus text format) on this address only, instead of on the portal's.
    #[arg(long)]
    pub metrics_listen: Option<String>,
}

/// Beacon identity of a portal.
pub fn portal_settings(id: &str, base_url: String) -> BeaconSettings {
    BeaconSettings {
        id: format!("org.oresund.network.{}", id.to_ascii_lowercase()),
        name: "Øresund network".into(),
        organization: "Øresund".into(),
        country: "EU".into(),
        assembly: "GRCh38".into(),
        base_url,
        threshold: Default::default(),
        datasets: Default::default(),
    }
}

pub fn run(args: PortalArgs) -> anyhow::Result<()> {
    let config = NetworkConfig::load(&args.peers)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let beacon = Arc::new(portal_settings(&args.id, base_url.clone()));
        let network =
            Network::new(&config, args.id.clone(), "EU".into(), None, beacon).map_err(|e| anyhow::anyhow!(e))?;
        tracing::info!("portal {} at {base_url} asking {} nodes (Ctrl-C stops)", args.id, network.peers.len());
        let network = Arc::new(network);
        let metrics = oresund_server::metrics_router(network.metrics.clone(), None);
        let portal = oresund_server::portal_router(network);
        let router = super::serve::with_metrics(portal, metrics, args.metrics_listen.as_deref()).await?;
        let shutdown = super::serve::stop_requested();
        oresund_server::serve(router, listener, shutdown).await?;
        Ok(())
    })
}
