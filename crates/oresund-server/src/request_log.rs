//! The request middleware: gives each request its id ([`RequestId`]), logs one line when it is
//! answered — id, method, endpoint, tier, decision, status, latency — and counts it in the
//! metrics. The endpoint is the route, never the raw path or query: those carry personal ids
//! and query values.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use crate::entities;
use crate::metrics::{Metrics, Outcome, RequestLabels};
use crate::request_id::{HEADER, RequestId};

tokio::task_local! {
    /// How the request being answered on this task was decided (filled by the audit log).
    static OUTCOME: Cell<Outcome>;
}

/// Notes how the current request was decided; outside a request (a download finishing after
/// its response left) there is nothing to note.
pub fn note(outcome: Outcome) {
    let _ = OUTCOME.try_with(|cell| cell.set(outcome));
}

/// Runs a request under its id, returns the id in `x-request-id`, logs and counts the request.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(RequestId::from_caller)
        .unwrap_or_else(RequestId::random);
    let method = request.method().clone();
    let endpoint = endpoint(&request);
    let started = Instant::now();
    let answered = async {
        let response = next.run(request).await;
        (response, OUTCOME.with(Cell::get))
    };
    let (mut response, outcome) = OUTCOME.scope(Cell::new(Outcome::default()), id.clone().scope(answered)).await;
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        response.headers_mut().insert(HEADER, value);
    }
    let latency = started.elapsed();
    let labels = RequestLabels {
        endpoint,
        tier: outcome.tier.unwrap_or("none"),
        decision: outcome.decision.map_or("none", |d| d.as_str()),
        status: response.status().as_u16(),
    };
    tracing::info!(
        request_id = %id,
        %method,
        endpoint = %labels.endpoint,
        tier = labels.tier,
        decision = labels.decision,
        status = labels.status,
        latency_ms = %format_args!("{:.1}", latency.as_secs_f64() * 1e3),
        "request"
    );
    metrics.request(labels, latency);
    response
}

/// The route a request took: `/individuals/{id}` as routed; under the network's catch-all route,
/// `/network/{entry}/{id}/{related}` with the id left out (`/network/individuals/{id}`).
fn endpoint(request: &Request) -> String {
    let Some(route) = request.extensions().get::<MatchedPath>().map(MatchedPath::as_str) else {
        return "(no route)".into();
    };
    match route.strip_suffix("{*path}") {
        Some(prefix) => {
            let rest = request.uri().path().strip_prefix(prefix).unwrap_or_default();
            format!("{prefix}{}", entry_shape(rest))
        }
        None => route.to_string(),
    }
}

/// `entry[/{id}[/related]]`: entry type names kept, anything else replaced.
fn entry_shape(path: &str) -> String {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let name = |segment: &str| match segment {
        // `/network/info`.
        "info" => "info",
        other => entities::by_path(other).map(|e| e.path).unwrap_or("{unknown}"),
    };
    let mut shape: Vec<&str> = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        shape.push(match i {
            0 | 2 => name(segment),
            1 => "{id}",
            _ => "…",
        });
        if i == 3 {
            break;
        }
    }
    shape.join("/")
}

#[cfg(test)]
mod tests {
    use super::entry_shape;

    #[test]
    fn entry_paths_lose_their_ids() {
        assert_eq!(entry_shape("g_variants"), "g_variants");
        assert_eq!(entry_shape("individuals/DK-000123"), "individuals/{id}");
        assert_eq!(entry_shape("datasets/DK-1/g_variants"), "datasets/{id}/g_variants");
        assert_eq!(entry_shape("NA12878/x/y/z/w"), "{unknown}/{id}/{unknown}/…");
        assert_eq!(entry_shape("info"), "info");
    }
}
