//! `oresund serve`.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use oresund_node::Node;
use oresund_node::config::NetworkConfig;
use oresund_server::Router;
use oresund_server::network::Network;

/// Serve the node over HTTP: the GA4GH Beacon v2 API until Ctrl-C.
///
/// Callers send a GA4GH Passport v1.2 JWT (or an operator token) as `Authorization: Bearer`.
/// Anonymous callers get what each dataset's `public` policy allows (boolean answers by default),
/// registered researchers counts (within a re-identification budget), callers granted a dataset
/// records. Counts from 1 to threshold − 1 are never disclosed below the CONTROLLED tier. Every
/// decision is appended to the audit log (`oresund audit`); the data access committee is at /dac/.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  oresund serve dk-node --listen 127.0.0.1:7001\n  \
curl 'http://127.0.0.1:7001/g_variants?referenceName=22&start=17000016&referenceBases=C&alternateBases=A&requestedGranularity=count'\n\n\
Configuration (NODE_DIR/oresund.toml):\n  [server]  listen, base_url\n  [beacon]  name, organization, threshold (default 5)\n  \
[beacon.datasets.ID]  name, description, public/registered/controlled = none|boolean|count|record\n  \
[[beacon.tokens]]  made by `oresund token add`\n  \
[access]  trusted passport issuers ([[access.issuers]] iss, jku, grants), dac_members, clock_skew_s,\n            \
jwks_ttl_s, visa_lifetime_days, dataset_urls; [access.budget] enabled, nats")]
pub struct ServeArgs {
    /// Node directory.
    pub node_dir: PathBuf,
    /// Address to listen on (default: [server] listen in oresund.toml, else 127.0.0.1:7001).
    #[arg(long)]
    pub listen: Option<String>,
    /// Public base URL used in links and dataset URLs (default: [server] base_url, else http://LISTEN).
    #[arg(long)]
    pub base_url: Option<String>,
    /// Peers file (`[[peers]]` with id, country, url, secret): this node also answers network
    /// queries (`/network/…`) by asking its peers. Default: the `[network]` section of oresund.toml.
    #[arg(long)]
    pub peers: Option<PathBuf>,
    /// Serve `/metrics` (Prometheus text format) on this address only, instead of on the API's.
    #[arg(long)]
    pub metrics_listen: Option<String>,
    /// Also stop when standard input closes: for supervisors (and tests) that want the server
    /// to end with them.
    #[arg(long, hide = true)]
    pub until_stdin_closes: bool,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let node = Node::open(&args.node_dir)?;
    // Commands parse the ontology when a question needs it; a server does now, so a damaged file
    // stops it at start and no request waits for the parse.
    node.hpo()?;
    let listen = args.listen.unwrap_or_else(|| node.config.server.listen.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let result = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
        let address = listener.local_addr()?;
        let base_url = args
            .base_url
            .or_else(|| node.config.server.base_url.clone())
            .unwrap_or_else(|| format!("http://{address}"));
        let node_id = node.config.node_id.clone();
        let country = node.config.country.clone();
        let network_config = match &args.peers {
            Some(path) => Some(NetworkConfig::load(path)?),
            None => Some(node.config.network.clone()).filter(|n| !n.peers.is_empty()),
        };
        let (state, audit) = oresund_server::state_for(node, base_url.clone()).map_err(|e| anyhow::anyhow!(e))?;
        let network = network_config
            .map(|config| Network::new(&config, node_id.clone(), country, Some(state.clone()), state.beacon.clone()))
            .transpose()
            .map_err(|e| anyhow::anyhow!(e))?
            .map(Arc::new);
        // Supervisors (and tests) read the address from this first line.
        tracing::info!("node {node_id} serving the Beacon v2 API at {base_url} (Ctrl-C or SIGTERM stops)");
        let peers = network.as_ref().map_or(0, |n| n.peers.len());
        if peers > 0 {
            tracing::info!(
                "network queries at {base_url}/network/… and the portal at {base_url}/portal/ ({peers} peers)"
            );
        }
        if let Some(network) = network.clone().filter(|n| n.peers.iter().any(|p| p.url.is_some())) {
            // A copy of the audit chain's head at every peer (issue #17); failures are logged.
            tokio::spawn(oresund_server::network::audit_head::send_periodically(network));
        }
        let metrics = oresund_server::metrics_router(state.metrics.clone(), Some(state.node.clone()));
        let api = oresund_server::router(state, network);
        let router = with_metrics(api, metrics, args.metrics_listen.as_deref()).await?;
        let until_stdin_closes = args.until_stdin_closes;
        let shutdown = async move {
            let stdin_closed = async {
                if until_stdin_closes {
                    let mut sink = Vec::new();
                    let _ = tokio::io::AsyncReadExt::read_to_end(&mut tokio::io::stdin(), &mut sink).await;
                } else {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                _ = stop_requested() => {}
                _ = stdin_closed => {}
            }
        };
        oresund_server::serve(router, listener, shutdown).await?;
        // The server has stopped: append the decisions still queued for the audit log.
        audit.finish().await;
        tracing::info!("node {node_id} stopped");
        Ok(())
    });
    // Everything that matters (requests, audit records) finished inside; a blocking read of
    // standard input (`--until-stdin-closes`) must not keep a SIGTERM'd process alive.
    runtime.shutdown_background();
    result
}

/// Ctrl-C or `SIGTERM` (what service managers send): the server then stops taking connections,
/// lets the requests in flight finish — each answer leaves once its audit record is committed —
/// and exits.
pub async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `/metrics` merged into the API's router, or served alone on `listen` (for a scrape port that
/// is not exposed where the API is).
pub async fn with_metrics(api: Router, metrics: Router, listen: Option<&str>) -> anyhow::Result<Router> {
    let Some(listen) = listen else { return Ok(api.merge(metrics)) };
    let listener =
        tokio::net::TcpListener::bind(listen).await.map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    tracing::info!("metrics at http://{}/metrics", listener.local_addr()?);
    tokio::spawn(async move {
        if let Err(e) = oresund_server::serve(metrics, listener, std::future::pending()).await {
            tracing::error!(cause = %e, "the metrics listener stopped");
        }
    });
    Ok(api)
}
