//! `GET /network/report`: the partnership's steering-group page. A portal (or a node with peers)
//! asks every node over the signed peer channel for its [`Summary`] — aggregates only, counts of
//! people below the node's small-count threshold withheld by the node itself — and shows the
//! countries side by side (HTML for a browser, JSON otherwise). `since`/`until` (RFC 3339 or
//! YYYY-MM-DD) bound the period.
//!
//! A signed peer request is answered with this node's own summary; it needs no caller
//! credential (what it returns is what the node would publish), only the pair's signature.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use oresund_node::report::{Period, Summary, html};
use serde_json::{Value, json};

use super::peer_error::PeerError;
use super::{Network, exchange, timed};
use crate::error::BeaconError;
use crate::state::AppState;

/// The path under `/network/`.
pub(super) const PATH: &str = "report";

/// The period a request names (`?since=…&until=…`).
fn period(query: Option<&str>) -> Result<Period, BeaconError> {
    let mut period = Period::default();
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let time = || {
            oresund_core::time::parse_rfc3339(&value)
                .map(oresund_core::time::rfc3339)
                .map_err(|e| BeaconError::bad_request(format!("{key}: {e}")))
        };
        match key.as_ref() {
            "since" => period.since = Some(time()?),
            "until" => period.until = Some(time()?),
            "format" => {}
            other => {
                return Err(BeaconError::bad_request(format!("unknown parameter {other:?}: use since, until, format")));
            }
        }
    }
    Ok(period)
}

/// This node's summary for `period`.
async fn own_summary(local: &AppState, period: Period) -> Result<Summary, BeaconError> {
    local
        .blocking(move |app| {
            let report = app.node.report(&period, vec![app.access.issuer.iss.clone()])?;
            Ok::<_, BeaconError>(Summary::of(&report, app.beacon.threshold))
        })
        .await?
}

/// A signed peer's request: this node's summary.
pub(super) async fn answer_peer(network: &Network, peer_id: &str, query: Option<String>) -> Response {
    let result = match &network.local {
        None => Err(BeaconError::not_found("this network portal holds no data of its own")),
        Some(local) => match period(query.as_deref()) {
            Ok(period) => own_summary(local, period).await,
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(summary) => {
            tracing::info!(peer = peer_id, "report summary sent to a peer");
            Json(summary).into_response()
        }
        Err(error) => error.with_beacon(&network.beacon.id).into_response(),
    }
}

/// Every node's summary, side by side: HTML when the caller accepts it, JSON otherwise.
pub(super) async fn aggregate(network: &Arc<Network>, headers: &HeaderMap, query: Option<String>) -> Response {
    let period = match period(query.as_deref()) {
        Ok(period) => period,
        Err(error) => return error.with_beacon(&network.beacon.id).into_response(),
    };
    let path = match query.as_deref().filter(|q| !q.is_empty()) {
        Some(q) => format!("/network/{PATH}?{q}"),
        None => format!("/network/{PATH}"),
    };
    let legs = network
        .peers
        .iter()
        .filter(|p| p.url.is_some())
        .map(|peer| timed(network, peer, ask_summary(network, peer, path.clone())));
    let mut nodes: Vec<(String, Result<Summary, String>)> = Vec::new();
    if let Some(local) = &network.local {
        nodes.push((network.id.clone(), own_summary(local, period).await.map_err(|e| e.message)));
    }
    for answer in futures::future::join_all(legs).await {
        nodes.push((answer.id, answer.outcome.map_err(|e| e.to_string())));
    }
    let wants_html = headers.get(ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"))
        || query.as_deref().is_some_and(|q| q.split('&').any(|p| p == "format=html"));
    if wants_html {
        return ([(CONTENT_TYPE, "text/html; charset=utf-8")], html::network_page(&nodes)).into_response();
    }
    let nodes: Vec<Value> = nodes
        .into_iter()
        .map(|(id, summary)| match summary {
            Ok(summary) => json!({"node": id, "status": "ok", "summary": summary}),
            Err(reason) => json!({"node": id, "status": "unavailable", "error": reason}),
        })
        .collect();
    Json(json!({ "nodes": nodes })).into_response()
}

async fn ask_summary(network: &Network, peer: &super::PeerConfig, path: String) -> Result<Summary, PeerError> {
    let reply = exchange(network, peer, &Method::GET, &path, Bytes::new(), "").await?;
    if reply.status.is_success()
        && let Ok(summary) = serde_json::from_slice::<Summary>(&reply.bytes)
    {
        return Ok(summary);
    }
    let value: Value = serde_json::from_slice(&reply.bytes).map_err(|_| PeerError::NotJson(reply.status))?;
    Err(reply.refusal(&value).unwrap_or(PeerError::NotBeacon(reply.status)))
}

#[cfg(test)]
mod tests {
    use super::period;

    #[test]
    fn periods_are_read_and_checked() {
        let p = period(Some("since=2026-11-01&until=2026-11-30T12:00:00Z")).unwrap();
        assert_eq!(p.since.as_deref(), Some("2026-11-01T00:00:00Z"));
        assert_eq!(p.until.as_deref(), Some("2026-11-30T12:00:00Z"));
        assert_eq!(period(Some("since=soon")).unwrap_err().status.as_u16(), 400);
        assert_eq!(period(Some("who=1")).unwrap_err().status.as_u16(), 400);
        assert_eq!(period(None).unwrap(), Default::default());
        assert_eq!(period(Some("format=html")).unwrap(), Default::default());
    }
}
