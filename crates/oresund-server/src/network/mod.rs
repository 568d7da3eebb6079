//! Federation: one Beacon question answered by every national node, merged.
//!
//! `GET|POST /network/{entry path}` on an aggregator (a node started with peers, or a portal)
//! fans the query out to every peer concurrently — the caller's `Authorization` forwarded, the
//! request signed with the pair's shared secret (see [`signature`]) — answers its own part
//! in-process when it holds data, and merges ([`merge`]). A peer that is down, slow (beyond the
//! configured timeout) or answers garbage yields a partial answer with its status.
//!
//! A node receiving a signed network query answers from its own data only, after checking the
//! signature (401 otherwise), under its own tiers and small-count rule. The network never carries
//! records: requested granularity is capped at `count` on both sides, so only aggregates cross a
//! border. `POST /network/association` pools each node's case/control allele tables instead of
//! Beacon answers ([`association`]). Peers also keep each other's signed audit chain heads
//! ([`audit_head`]).

pub(crate) mod association;
pub mod audit_head;
pub(crate) mod merge;
pub(crate) mod pages;
pub(crate) mod peer_error;
pub(crate) mod report;
pub mod signature;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use oresund_access::Granularity;
use oresund_node::config::{NetworkConfig, PeerConfig};
use serde_json::{Value, json};

use crate::answer::answer_recorded;
use crate::caller::authenticate;
use crate::endpoint::{Endpoint, Input};
use crate::error::BeaconError;
use crate::request::BeaconRequest;
use crate::response::{granularity_name, response_meta};
use crate::setup_error::SetupError;
use crate::state::{AppState, BeaconSettings};
use merge::{NodeAnswer, Page, merge};
use pages::{MAX_NODE_ROWS, every_row};
use peer_error::PeerError;
use signature::{PEER_HEADER, PeerAuthError, REFUSED_HEADER, SIGNATURE_HEADER, Signed, TIMESTAMP_HEADER, unix_now};

/// A node's (or portal's) place in the network.
pub struct Network {
    /// This node's id towards peers.
    pub id: String,
    pub country: String,
    pub timeout: Duration,
    /// How often this node sends its signed audit head to its peers ([`audit_head`]).
    pub head_interval: Duration,
    pub peers: Vec<PeerConfig>,
    /// The node's own data, when it has any (a portal has none).
    pub local: Option<AppState>,
    /// Identity used in the `meta` of merged answers.
    pub beacon: Arc<BeaconSettings>,
    /// The process's metrics (the local node's, when there is one): peer status and latency.
    pub metrics: Arc<crate::metrics::Metrics>,
    client: reqwest::Client,
}

impl Network {
    pub fn new(
        config: &NetworkConfig,
        id: String,
        country: String,
        local: Option<AppState>,
        beacon: Arc<BeaconSettings>,
    ) -> Result<Self, SetupError> {
        config.validate()?;
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(32)
            // A peer answers where it was asked; a redirect is a misconfiguration or an attack.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(SetupError::HttpClient)?;
        let metrics = local.as_ref().map(|l| l.metrics.clone()).unwrap_or_default();
        Ok(Self {
            id: config.id.clone().unwrap_or(id),
            country,
            timeout: Duration::from_millis(config.timeout_ms),
            head_interval: Duration::from_secs(config.head_interval_s),
            peers: config.peers.clone(),
            local,
            beacon,
            metrics,
            client,
        })
    }
}

/// The `/network/…` routes.
pub fn router(network: Arc<Network>) -> Router {
    Router::new().route("/network/{*path}", get(network_get).post(network_post)).with_state(network)
}

async fn network_get(
    State(network): State<Arc<Network>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    handle(network, Method::GET, uri, headers, query, Bytes::new()).await
}

async fn network_post(
    State(network): State<Arc<Network>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(network, Method::POST, uri, headers, None, body).await
}

async fn handle(
    network: Arc<Network>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    query: Option<String>,
    body: Bytes,
) -> Response {
    let path = uri.path().strip_prefix("/network/").unwrap_or("").to_string();
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let result = if headers.contains_key(PEER_HEADER) {
        let path_and_query = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
        match verify_peer(&network, &method, &path_and_query, &headers, &authorization, &body) {
            Ok(peer_id) if path == association::PATH => {
                return association::answer_peer(&network, &peer_id, &authorization, body).await;
            }
            Ok(peer_id) if path == report::PATH => return report::answer_peer(&network, &peer_id, query).await,
            Ok(peer_id) if audit_head::is_path(&path) => {
                return audit_head::answer_peer(&network, &method, &path, &peer_id, body).await;
            }
            Ok(peer_id) => answer_peer(&network, &method, &path, &peer_id, &authorization, query, body).await,
            Err(refused) => return signature_refused(&network, refused),
        }
    } else if audit_head::is_path(&path) {
        // Heads are between peers only: nothing to aggregate for a caller.
        return signature_refused(&network, PeerAuthError::Missing);
    } else if path == association::PATH {
        return association::aggregate(&network, &method, &authorization, body).await;
    } else if path == report::PATH {
        return report::aggregate(&network, &headers, query).await;
    } else {
        aggregate(&network, &method, &path, &authorization, query, body).await
    };
    match result {
        Ok(value) => Json(value).into_response(),
        Err(error) => error.with_beacon(&network.beacon.id).into_response(),
    }
}

fn input(method: &Method, query: Option<String>, body: Bytes) -> Input {
    if method == Method::POST { Input::Body(body) } else { Input::Query(query) }
}

/// Granularity of network answers: never records.
fn capped(request: &BeaconRequest) -> Granularity {
    request.granularity.unwrap_or(Granularity::Boolean).min(Granularity::Count)
}

/// The id of the peer that signed a network query, once its signature checks out.
fn verify_peer(
    network: &Network,
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
    authorization: &str,
    body: &Bytes,
) -> Result<String, PeerAuthError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(peer_id), Some(timestamp), Some(signature)) =
        (header(PEER_HEADER), header(TIMESTAMP_HEADER), header(SIGNATURE_HEADER))
    else {
        return Err(PeerAuthError::Missing);
    };
    let peer = network
        .peers
        .iter()
        .find(|p| p.id == peer_id)
        .ok_or_else(|| PeerAuthError::UnknownPeer(peer_id.to_string()))?;
    let signed = Signed { peer: peer_id, method: method.as_str(), path_and_query, body, authorization };
    signed.verify(&peer.secret, timestamp, unix_now(), signature)?;
    Ok(peer_id.to_string())
}

/// A 401 for a query whose signature did not check out, marked so the aggregator can tell it
/// from a refusal of its caller ([`PeerError::SignatureRefused`]).
fn signature_refused(network: &Network, refused: PeerAuthError) -> Response {
    let error = BeaconError::unauthorized(format!("network query refused: {refused}"));
    let mut response = error.with_beacon(&network.beacon.id).into_response();
    response.headers_mut().insert(REFUSED_HEADER, axum::http::HeaderValue::from_static("signature"));
    response
}

/// A signed query from a peer (see [`verify_peer`]): answered from this node's own data.
async fn answer_peer(
    network: &Network,
    method: &Method,
    path: &str,
    peer_id: &str,
    authorization: &str,
    query: Option<String>,
    body: Bytes,
) -> Result<Value, BeaconError> {
    let local =
        network.local.as_ref().ok_or_else(|| BeaconError::not_found("this network portal holds no data of its own"))?;
    if path == "info" {
        return Ok(crate::framework::info(local));
    }
    let caller = authenticate(local, Some(authorization).filter(|a| !a.is_empty()), path).await?;
    let via = format!("network query from peer {peer_id}");
    let endpoint = Endpoint::parse(path)?;
    let request = endpoint.parse_request(input(method, query, body)).map(|mut request| {
        request.granularity = Some(capped(&request));
        request
    });
    answer_recorded(local, caller, endpoint, request, Some(via)).await
}

/// The query as forwarded: same path and parameters, granularity capped at count, and the
/// caller's `skip`/`limit` replaced by `page` when given.
fn forwarded(
    method: &Method,
    path: &str,
    query: Option<&str>,
    body: &Bytes,
    granularity: Granularity,
    page: Option<Page>,
) -> (String, Bytes) {
    let name = granularity_name(granularity);
    if method == Method::POST {
        let mut value: Value = serde_json::from_slice(body).unwrap_or_else(|_| json!({}));
        if !value["query"].is_object() {
            value["query"] = json!({});
        }
        value["query"]["requestedGranularity"] = json!(name);
        if let Some(page) = page {
            value["query"]["pagination"] = json!({"skip": page.skip, "limit": page.limit});
        }
        return (format!("/network/{path}"), Bytes::from(value.to_string()));
    }
    let replaced = |key: &str| key == "requestedGranularity" || (page.is_some() && matches!(key, "skip" | "limit"));
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if !replaced(&key) {
            serializer.append_pair(&key, &value);
        }
    }
    serializer.append_pair("requestedGranularity", name);
    if let Some(page) = page {
        serializer.append_pair("skip", &page.skip.to_string());
        serializer.append_pair("limit", &page.limit.to_string());
    }
    (format!("/network/{path}?{}", serializer.finish()), Bytes::new())
}

async fn aggregate(
    network: &Arc<Network>,
    method: &Method,
    path: &str,
    authorization: &str,
    query: Option<String>,
    body: Bytes,
) -> Result<Value, BeaconError> {
    if path == "info" {
        return Ok(aggregate_info(network, authorization).await);
    }
    // Refuse malformed requests once, here, rather than once per node.
    let endpoint = Endpoint::parse(path)?;
    let returned = endpoint.returned();
    let request = endpoint.parse_request(input(method, query.clone(), body.clone()))?;
    let granularity = capped(&request);
    // Variant rows are pooled: every node gives all of them (see `pages`), and the caller's
    // page is taken from their union.
    let pool_variants = returned.id == crate::entities::GENOMIC_VARIANT.id;
    // The peers' legs run on their own task while this one answers locally.
    let peers = {
        let (network, method, authorization) = (network.clone(), method.clone(), authorization.to_string());
        let path = path.to_string();
        tokio::spawn(async move {
            let forward = |page| forwarded(&method, &path, query.as_deref(), &body, granularity, page);
            let legs = network
                .peers
                .iter()
                .filter(|p| p.url.is_some())
                .map(|peer| peer_leg(&network, peer, &method, &forward, &authorization, pool_variants));
            futures::future::join_all(legs).await
        })
    };
    let local = local_answer(network, path, endpoint, &request, granularity, authorization, pool_variants).await;
    let mut answers: Vec<NodeAnswer> = local.into_iter().collect();
    answers.extend(peers.await.map_err(BeaconError::internal)?);
    if let Some(error) = nobody_answered(&answers) {
        return Err(error);
    }
    let page = Page { skip: request.skip, limit: request.limit };
    let (summary, response, info, merged_granularity) = merge(&answers, pool_variants.then_some(page));
    let mut echoed = request.clone();
    echoed.granularity = request.granularity;
    let granted = if merged_granularity == "count" { Granularity::Count } else { Granularity::Boolean };
    let mut answer = json!({
        "meta": response_meta(&network.beacon, returned, granted, &echoed),
        "responseSummary": summary,
        "info": info,
    });
    if granted == Granularity::Count {
        answer["response"] = response;
    }
    Ok(answer)
}

/// The error when no node answered: when every node refused the request with the same 4xx status
/// (a bad request, no access anywhere), that status; otherwise 502.
fn nobody_answered<T>(answers: &[NodeAnswer<T>]) -> Option<BeaconError> {
    if answers.is_empty() || answers.iter().any(|a| a.outcome.is_ok()) {
        return None;
    }
    let errors: Vec<&PeerError> = answers.iter().filter_map(|a| a.outcome.as_ref().err()).collect();
    let reasons: Vec<String> = answers.iter().zip(&errors).map(|(a, e)| format!("{}: {e}", a.id)).collect();
    let first = errors[0].refusal_status();
    let status = first.filter(|s| errors.iter().all(|e| e.refusal_status() == Some(*s)));
    Some(match status {
        Some(status) => BeaconError::new(status, format!("every node refused the request: {}", reasons.join("; "))),
        None => BeaconError::bad_gateway(format!("no node answered: {}", reasons.join("; "))),
    })
}

/// This node's own answer; with `all_rows`, every variant row of it (see `pages`).
async fn local_answer(
    network: &Network,
    path: &str,
    endpoint: Endpoint,
    request: &BeaconRequest,
    granularity: Granularity,
    authorization: &str,
    all_rows: bool,
) -> Option<NodeAnswer> {
    let mut request = request.clone();
    request.granularity = Some(granularity);
    let via = || Some("network query".to_string());
    local_leg(network, authorization, path, async |local, caller| {
        if !all_rows {
            return answer_recorded(local, caller, endpoint, Ok(request), via()).await;
        }
        let ask = |page: Page| {
            let request = BeaconRequest { skip: page.skip, limit: page.limit, ..request.clone() };
            answer_recorded(local, caller.clone(), endpoint.clone(), Ok(request), via())
        };
        let too_many = || BeaconError::bad_request(PeerError::TooManyRows { max: MAX_NODE_ROWS }.to_string());
        every_row(ask, too_many).await
    })
    .await
}

/// This node's own part of a network question (`None` on a portal), timed like a peer's leg:
/// the caller authenticated here, then `answer`ed.
async fn local_leg<T>(
    network: &Network,
    authorization: &str,
    path: &str,
    answer: impl AsyncFnOnce(&AppState, oresund_access::Caller) -> Result<T, BeaconError>,
) -> Option<NodeAnswer<T>> {
    let local = network.local.as_ref()?;
    let started = Instant::now();
    let outcome = match authenticate(local, Some(authorization).filter(|a| !a.is_empty()), path).await {
        Ok(caller) => answer(local, caller).await,
        Err(e) => Err(e),
    }
    .map_err(|e| PeerError::Refused { status: e.status, message: e.message });
    Some(NodeAnswer {
        id: network.id.clone(),
        country: network.country.clone(),
        latency_ms: started.elapsed().as_millis() as u64,
        outcome,
    })
}

/// Sends a signed query to one peer and waits at most the network timeout.
async fn ask(
    network: &Network,
    peer: &PeerConfig,
    method: &Method,
    path_and_query: &str,
    body: Bytes,
    authorization: &str,
) -> NodeAnswer {
    timed(network, peer, send(network, peer, method, path_and_query, body, authorization)).await
}

/// One peer's part, `forward`ed: its answer as asked, or with `all_rows` every variant row of it
/// (see `pages`), all pages within the network timeout.
async fn peer_leg(
    network: &Network,
    peer: &PeerConfig,
    method: &Method,
    forward: &impl Fn(Option<Page>) -> (String, Bytes),
    authorization: &str,
    all_rows: bool,
) -> NodeAnswer {
    if !all_rows {
        let (path_and_query, body) = forward(None);
        return ask(network, peer, method, &path_and_query, body, authorization).await;
    }
    let ask_page = |page: Page| {
        let (path_and_query, body) = forward(Some(page));
        async move { send(network, peer, method, &path_and_query, body, authorization).await }
    };
    timed(network, peer, every_row(ask_page, || PeerError::TooManyRows { max: MAX_NODE_ROWS })).await
}

/// One peer's leg, cut at the network timeout.
async fn timed<T>(
    network: &Network,
    peer: &PeerConfig,
    leg: impl std::future::Future<Output = Result<T, PeerError>>,
) -> NodeAnswer<T> {
    let started = Instant::now();
    let outcome = tokio::time::timeout(network.timeout + Duration::from_millis(200), leg)
        .await
        .unwrap_or_else(|_| Err(PeerError::Timeout { ms: network.timeout.as_millis() }));
    let latency = started.elapsed();
    network.metrics.peer(&peer.id, &peer.country, latency, outcome.is_ok());
    NodeAnswer { id: peer.id.clone(), country: peer.country.clone(), latency_ms: latency.as_millis() as u64, outcome }
}

/// What a peer sent back.
struct Reply {
    status: axum::http::StatusCode,
    bytes: Vec<u8>,
    /// The peer refused our signature (not our caller).
    signature_refused: bool,
}

impl Reply {
    /// The peer's refusal, when the body is a Beacon error.
    fn refusal(&self, value: &Value) -> Option<PeerError> {
        let message = value["error"]["errorMessage"].as_str()?.to_string();
        let status = self.status;
        Some(match self.signature_refused {
            true => PeerError::SignatureRefused { status, message },
            false => PeerError::Refused { status, message },
        })
    }
}

/// A Beacon answer from a peer, stripped of anything individual-level.
async fn send(
    network: &Network,
    peer: &PeerConfig,
    method: &Method,
    path_and_query: &str,
    body: Bytes,
    authorization: &str,
) -> Result<Value, PeerError> {
    let reply = exchange(network, peer, method, path_and_query, body, authorization).await?;
    let status = reply.status;
    let mut value: Value = serde_json::from_slice(&reply.bytes).map_err(|_| PeerError::NotJson(status))?;
    if let Some(refused) = reply.refusal(&value) {
        return Err(refused);
    }
    if !status.is_success() || !value["meta"].is_object() || !value["responseSummary"].is_object() {
        return Err(PeerError::NotBeacon(status));
    }
    // The network carries aggregates only, whatever a peer sends.
    if value["meta"]["returnedGranularity"] == "record" {
        return Err(PeerError::Records);
    }
    if let Some(sets) = value["response"]["resultSets"].as_array_mut() {
        for set in sets {
            if set.get("results").is_some() {
                set["results"] = json!([]);
            }
        }
    }
    Ok(value)
}

/// One signed exchange with a peer.
async fn exchange(
    network: &Network,
    peer: &PeerConfig,
    method: &Method,
    path_and_query: &str,
    body: Bytes,
    authorization: &str,
) -> Result<Reply, PeerError> {
    let base = peer.url.as_deref().unwrap_or_default().trim_end_matches('/');
    let url = reqwest::Url::parse(&format!("{base}{path_and_query}")).map_err(|e| PeerError::BadUrl(e.to_string()))?;
    // Sign exactly what goes on the wire (the URL parser may normalise the query).
    let wire = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    };
    let timestamp = unix_now();
    let signature =
        Signed { peer: &network.id, method: method.as_str(), path_and_query: &wire, body: &body, authorization }
            .sign(&peer.secret, timestamp);
    let mut request = network
        .client
        .request(method.clone(), url)
        .timeout(network.timeout)
        .header(PEER_HEADER, &network.id)
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(SIGNATURE_HEADER, signature);
    if !authorization.is_empty() {
        request = request.header(AUTHORIZATION, authorization);
    }
    if method == Method::POST {
        request = request.header(axum::http::header::CONTENT_TYPE, "application/json").body(body);
    }
    let response = request.send().await.map_err(|e| {
        if e.is_timeout() {
            PeerError::Timeout { ms: network.timeout.as_millis() }
        } else if e.is_connect() {
            PeerError::Unreachable
        } else {
            PeerError::Request(e.to_string())
        }
    })?;
    let status = response.status();
    let signature_refused = response.headers().contains_key(REFUSED_HEADER);
    let bytes = read_capped(response).await?;
    Ok(Reply { status, bytes, signature_refused })
}

/// The largest peer answer read; a count answer is kilobytes, a page of 1,000 variant rows
/// (`pages`) about 250 kB per dataset.
const MAX_PEER_ANSWER: usize = 16 << 20;

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, PeerError> {
    let too_big = || PeerError::TooLarge { mb: MAX_PEER_ANSWER >> 20 };
    if response.content_length().is_some_and(|n| n > MAX_PEER_ANSWER as u64) {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| PeerError::Read(e.to_string()))? {
        if bytes.len() + chunk.len() > MAX_PEER_ANSWER {
            return Err(too_big());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

async fn aggregate_info(network: &Arc<Network>, authorization: &str) -> Value {
    let mut legs = Vec::new();
    for peer in network.peers.iter().filter(|p| p.url.is_some()) {
        legs.push(ask(network, peer, &Method::GET, "/network/info", Bytes::new(), authorization));
    }
    let mut nodes = Vec::new();
    if let Some(local) = &network.local {
        nodes.push(json!({"beaconId": network.id, "country": network.country, "status": "ok", "latencyMs": 0,
                          "info": crate::framework::info(local)["response"]}));
    }
    for answer in futures::future::join_all(legs).await {
        let mut node = answer.status();
        if let Ok(info) = &answer.outcome {
            node["info"] = info["response"].clone();
        }
        nodes.push(node);
    }
    json!({
        "meta": crate::response::informational_meta(&network.beacon, &[("info", "beacon-info-v2.0.0")]),
        "response": {"id": network.beacon.id, "name": network.beacon.name, "nodes": nodes},
    })
}

#[cfg(test)]
mod tests {
    use axum::body::Bytes;
    use axum::http::{Method, StatusCode};
    use oresund_access::Granularity;
    use serde_json::{Value, json};

    use super::{NodeAnswer, Page, PeerError, forwarded, nobody_answered};

    fn failed(error: PeerError) -> NodeAnswer {
        NodeAnswer { id: "X".into(), country: "X".into(), latency_ms: 1, outcome: Err(error) }
    }

    fn refused(status: StatusCode) -> PeerError {
        PeerError::Refused { status, message: "no".into() }
    }

    #[test]
    fn the_status_of_no_answer_comes_from_the_kinds_of_refusal() {
        let status = |errors: Vec<PeerError>| {
            nobody_answered(&errors.into_iter().map(failed).collect::<Vec<_>>()).map(|e| e.status)
        };
        let unauthorized = StatusCode::UNAUTHORIZED;
        assert_eq!(status(vec![refused(StatusCode::BAD_REQUEST); 2]), Some(StatusCode::BAD_REQUEST));
        assert_eq!(status(vec![refused(unauthorized), refused(StatusCode::FORBIDDEN)]), Some(StatusCode::BAD_GATEWAY));
        let signature = PeerError::SignatureRefused { status: unauthorized, message: "no".into() };
        assert_eq!(status(vec![refused(unauthorized), signature]), Some(StatusCode::BAD_GATEWAY));
        assert_eq!(status(vec![refused(StatusCode::INTERNAL_SERVER_ERROR)]), Some(StatusCode::BAD_GATEWAY));
        assert_eq!(status(vec![PeerError::Unreachable]), Some(StatusCode::BAD_GATEWAY));
    }

    #[test]
    fn a_page_replaces_the_callers_skip_and_limit() {
        let page = Some(Page { skip: 2000, limit: 1000 });
        let get = |page| {
            forwarded(
                &Method::GET,
                "g_variants",
                Some("start=5&skip=30&limit=10"),
                &Bytes::new(),
                Granularity::Count,
                page,
            )
            .0
        };
        assert_eq!(get(page), "/network/g_variants?start=5&requestedGranularity=count&skip=2000&limit=1000");
        assert_eq!(get(None), "/network/g_variants?start=5&skip=30&limit=10&requestedGranularity=count");
        let body = Bytes::from(r#"{"query":{"pagination":{"skip":30,"limit":10}}}"#);
        let post = |page| {
            let (_, body) = forwarded(&Method::POST, "g_variants", None, &body, Granularity::Count, page);
            serde_json::from_slice::<Value>(&body).unwrap()["query"]["pagination"].clone()
        };
        assert_eq!(post(page), json!({"skip": 2000, "limit": 1000}));
        assert_eq!(post(None), json!({"skip": 30, "limit": 10}));
    }
}
