//! A node over HTTP: the GA4GH Beacon v2 API (framework + default model) with security tiers
//! and small-count protection. Handlers are thin: parsing in [`request`] and [`genomic`],
//! decisions in [`scope`], answers from `oresund-node`, documents built in [`response`].

pub mod collections;
pub mod entities;
pub mod error;
pub mod filters;
pub mod framework;
pub mod g_variants;
pub mod genomic;
pub mod individuals;
pub mod network;
pub mod portal;
pub mod request;
pub mod response;
pub mod routes;
pub mod scope;
pub mod state;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use oresund_node::Node;

pub use state::{AppState, BeaconSettings};

/// The Beacon API version this node implements.
pub const API_VERSION: &str = "v2.0.0";

/// All routes of a node; with a network, also `/network/…` and the portal page at `/portal/`.
pub fn router(state: AppState, network: Option<Arc<network::Network>>) -> Router {
    let node = node_router(state);
    match network {
        Some(network) => node.merge(network::router(network)).merge(portal::pages("/portal/")),
        None => node,
    }
}

/// A portal without data of its own: the page at `/` and `/network/…`.
pub fn portal_router(network: Arc<network::Network>) -> Router {
    network::router(network).merge(portal::pages("/"))
}

fn node_router(state: AppState) -> Router {
    Router::new()
        .route("/", get(routes::info))
        .route("/info", get(routes::info))
        .route("/service-info", get(routes::service_info))
        .route("/configuration", get(routes::configuration))
        .route("/entry_types", get(routes::entry_types))
        .route("/map", get(routes::map))
        .route("/filtering_terms", get(routes::filtering_terms))
        .route("/openapi.json", get(routes::openapi))
        .route("/{*path}", get(routes::entry_get).post(routes::entry_post))
        .fallback(routes::not_found)
        .with_state(state)
}

/// The state for serving `node`, with operator tokens as the authenticator.
pub fn state_for(node: Node, base_url: String) -> AppState {
    let beacon = BeaconSettings::from_config(&node.config, base_url);
    let auth = state::token_authenticator(&node.config);
    AppState { node: Arc::new(node), auth: Arc::new(auth), beacon: Arc::new(beacon) }
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    router: Router,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
