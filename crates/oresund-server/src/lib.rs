//! A node over HTTP: the GA4GH Beacon v2 API (framework + default model) with security tiers,
//! small-count protection and a re-identification budget; GA4GH Passports as bearer tokens
//! ([`passport_auth`]); the data access committee ([`dac_api`]); every decision in the audit log
//! ([`audit_log`]). Handlers are thin: parsing in [`request`] and [`genomic`], decisions in
//! [`scope`], answers from `oresund-node`, documents built in [`response`].

pub(crate) mod answer;
pub(crate) mod association;
pub(crate) mod association_request;
pub(crate) mod audit_log;
pub mod blocking;
pub(crate) mod budget;
pub(crate) mod budget_cache;
pub(crate) mod caller;
pub(crate) mod collections;
pub(crate) mod dac_api;
pub(crate) mod data_url;
pub(crate) mod decision;
pub(crate) mod delivery_access;
pub(crate) mod delivery_error;
pub(crate) mod drs;
pub(crate) mod endpoint;
pub(crate) mod entities;
pub(crate) mod error;
pub(crate) mod error_status;
pub(crate) mod filters;
pub(crate) mod framework;
#[doc(hidden)]
pub mod fuzzing;
pub(crate) mod g_variants;
pub(crate) mod genomic;
pub(crate) mod grant_status;
pub(crate) mod htsget;
pub(crate) mod individuals;
pub(crate) mod jwks_cache;
pub mod metrics;
pub mod mme;
pub mod network;
pub(crate) mod openapi;
pub(crate) mod passport_auth;
pub(crate) mod portal;
pub(crate) mod public_budget;
pub(crate) mod request;
pub(crate) mod request_id;
pub(crate) mod request_limits;
pub(crate) mod request_log;
pub(crate) mod researcher_key;
pub(crate) mod response;
pub(crate) mod routes;
pub(crate) mod scope;
pub(crate) mod setup_error;
pub(crate) mod state;

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use axum::Router;
use axum::routing::get;
use oresund_access::passport::{PassportPolicy, TrustedIssuer};
use oresund_node::Node;
use oresund_node::access::OwnIssuer;

pub use audit_log::{AuditLog, AuditWriter};
pub use state::{AccessSettings, AppState, BeaconSettings, DeliveryService};

/// The Beacon API version this node implements.
pub const API_VERSION: &str = "v2.0.0";

/// All routes of a node and the portal page at `/portal/` (a researcher's files; with a network,
/// also `/network/…`, which the page asks). Every request gets an id and a log line
/// ([`request_log`]).
pub fn router(state: AppState, network: Option<Arc<network::Network>>) -> Router {
    let metrics = state.metrics.clone();
    let node = node_router(state).merge(portal::pages("/portal/"));
    let routes = match network {
        Some(network) => node.merge(network::router(network)),
        None => node,
    };
    routes
        .layer(axum::middleware::from_fn(request_limits::enforce))
        .layer(axum::middleware::from_fn_with_state(metrics, request_log::track))
}

/// A portal without data of its own: the page at `/` and `/network/…`.
pub fn portal_router(network: Arc<network::Network>) -> Router {
    let metrics = network.metrics.clone();
    network::router(network)
        .merge(portal::pages("/"))
        .layer(axum::middleware::from_fn(request_limits::enforce))
        .layer(axum::middleware::from_fn_with_state(metrics, request_log::track))
}

/// `GET /metrics` (Prometheus text format) for a node (`node` set: its holdings too) or a portal;
/// merge it into the API router, or serve it alone on a separate address.
pub fn metrics_router(metrics: Arc<metrics::Metrics>, node: Option<Arc<Node>>) -> Router {
    Router::new().route("/metrics", get(move || metrics_text(metrics.clone(), node.clone())))
}

async fn metrics_text(metrics: Arc<metrics::Metrics>, node: Option<Arc<Node>>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let holdings = match node {
        Some(node) => blocking::run(move || node.holdings()).await.ok().and_then(|h| {
            h.map_err(|e| tracing::warn!(cause = %e, "metrics: cannot read the catalog's holdings")).ok()
        }),
        None => None,
    };
    ([(axum::http::header::CONTENT_TYPE, metrics::CONTENT_TYPE)], metrics.render(holdings.as_ref())).into_response()
}

fn node_router(state: AppState) -> Router {
    let dac = dac_api::router(state.clone());
    Router::new()
        .route("/", get(routes::info))
        .route("/info", get(routes::info))
        .route("/service-info", get(routes::service_info))
        .route("/configuration", get(routes::configuration))
        .route("/entry_types", get(routes::entry_types))
        .route("/map", get(routes::map))
        .route("/filtering_terms", get(routes::filtering_terms))
        .route("/openapi.json", get(routes::openapi))
        .merge(routes::entries(Router::new()))
        .fallback(routes::not_found)
        .route("/ga4gh/data/{id}", get(data_url::serve))
        .route("/association", axum::routing::post(association::post))
        .with_state(state.clone())
        .merge(htsget::router(state.clone()))
        .merge(drs::router(state.clone()))
        .merge(mme::router(state))
        .merge(dac)
}

/// The passport policy of a node served at `issuer`: the configured issuers, and the node itself
/// for its own committee's grants.
pub fn passport_policy(config: &oresund_node::config::NodeConfig, issuer: &OwnIssuer) -> PassportPolicy {
    let access = &config.access;
    let mut trusted: Vec<TrustedIssuer> = access
        .issuers
        .iter()
        .filter(|i| i.iss != issuer.iss)
        .map(|i| TrustedIssuer { iss: i.iss.clone(), jku: i.jku.clone(), grants: i.grants.clone() })
        .collect();
    trusted.push(TrustedIssuer { iss: issuer.iss.clone(), jku: vec![issuer.jku()], grants: vec!["*".into()] });
    let dataset_urls: BTreeMap<String, String> =
        access.dataset_urls.iter().map(|(id, url)| (url.clone(), id.clone())).collect();
    PassportPolicy {
        trusted,
        max_skew: access.clock_skew_s,
        dataset_urls,
        dataset_prefix: Some(format!("{}/datasets/", issuer.iss)),
        own_issuer: Some(issuer.iss.clone()),
        clinician_roles: config.mme.clinician_roles.clone(),
        own_audience: Some(issuer.iss.clone()),
        audiences: access.audiences.clone(),
    }
}

/// The state for serving `node` at `base_url`: passports (and operator tokens) for callers, the
/// audit writer, the budget. Needs a Tokio runtime (the audit writer is a task); stop the writer
/// with [`AuditWriter::finish`] once the server has stopped.
pub fn state_for(node: Node, base_url: String) -> Result<(AppState, AuditWriter), setup_error::SetupError> {
    let beacon = BeaconSettings::from_config(&node.config, base_url.clone());
    let issuer = OwnIssuer::new(&base_url);
    let access_config = node.config.access.clone();
    let policy = passport_policy(&node.config, &issuer);
    let tokens = state::token_authenticator(&node.config);
    let node = Arc::new(node);
    let own_keys = Arc::new(jwks_cache::OwnKeys::new(node.clone()));
    let trusted: HashSet<String> = policy.trusted.iter().flat_map(|t| t.jku.iter().cloned()).collect();
    let keys = jwks_cache::JwksCache::new(
        trusted,
        issuer.jku(),
        own_keys.clone(),
        Duration::from_secs(access_config.jwks_ttl_s),
        Duration::from_secs(access_config.jwks_failure_ttl_s),
    )?;
    let grants = grant_status::StoreGrants { node: node.clone() };
    let auth = passport_auth::PassportAuthenticator::new(
        policy,
        Arc::new(keys),
        Arc::new(grants),
        tokens,
        access_config.jwks_ttl_s as i64,
    );
    let delivery = state::delivery_service(&node, access_config.data_url_ttl_s);
    let metrics = Arc::new(metrics::Metrics::default());
    let (audit, writer) = audit_log::start(node.clone(), metrics.clone())?;
    let state = AppState {
        node,
        auth: Arc::new(auth),
        beacon: Arc::new(beacon),
        access: Arc::new(AccessSettings { issuer, dac_members: access_config.dac_members.clone() }),
        audit,
        budget: Arc::new(budget_cache::Budget::new(
            access_config.budget.enabled,
            access_config.budget.nats,
            access_config.budget.public.then_some(access_config.budget.public_nats),
            access_config.budget.public_min_carriers,
        )),
        own_keys,
        delivery,
        metrics,
    };
    Ok((state, writer))
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    router: Router,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // Answers are small and a request often waits on another node's (a match, a network query):
    // without TCP_NODELAY a response split in two writes waits out the peer's delayed ACK (40 ms).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(cause = %e, "TCP_NODELAY not set");
        }
    });
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
