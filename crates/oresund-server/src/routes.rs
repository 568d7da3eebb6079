//! Routing: the framework endpoints by name, and one route per entry endpoint
//! (`/{entry}[/{id}[/{related}]]`, see [`Endpoint`]), GET and POST alike, the caller an extractor.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use axum::{Json, Router};
use oresund_access::Caller;
use serde_json::Value;

use crate::answer::answer_recorded;
use crate::caller::Authenticated;
use crate::endpoint::{Endpoint, Input};
use crate::entities;
use crate::error::BeaconError;
use crate::framework;
use crate::state::AppState;

pub fn json(result: Result<Value, BeaconError>, app: &AppState) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(error) => error.with_beacon(&app.beacon.id).into_response(),
    }
}

pub async fn info(State(app): State<AppState>) -> Response {
    Json(framework::info(&app)).into_response()
}

pub async fn service_info(State(app): State<AppState>) -> Response {
    Json(framework::service_info(&app)).into_response()
}

pub async fn configuration(State(app): State<AppState>) -> Response {
    Json(framework::configuration(&app)).into_response()
}

pub async fn entry_types(State(app): State<AppState>) -> Response {
    Json(framework::entry_types_response(&app)).into_response()
}

pub async fn map(State(app): State<AppState>) -> Response {
    Json(framework::map(&app)).into_response()
}

pub async fn filtering_terms(State(app): State<AppState>) -> Response {
    let result = app.blocking(framework::filtering_terms).await.and_then(|r| r);
    json(result, &app)
}

/// The OpenAPI document, with this node's assembly names and contigs where requests must name
/// one of them (so that a request valid by the document is one the node can answer).
pub async fn openapi(State(app): State<AppState>) -> Response {
    let document =
        crate::openapi::document(&app.beacon.assembly, app.node.reference().contigs().iter().map(|c| c.name.as_str()));
    axum::Json(document).into_response()
}

pub async fn not_found(State(app): State<AppState>) -> Response {
    BeaconError::not_found("no such endpoint; see /map for the endpoints of this beacon")
        .with_beacon(&app.beacon.id)
        .into_response()
}

/// The entry endpoints: for every entry type of the default model `/{entry}`, `/{entry}/{id}`
/// and `/{entry}/{id}/{related}`, GET and POST; each route knows its [`Endpoint`].
pub fn entries(mut router: Router<AppState>) -> Router<AppState> {
    for entity in entities::ALL {
        router = router
            .route(&format!("/{}", entity.path), endpoint(move |_| Endpoint::Entries(entity)))
            // `/g_variants/?…` as the dispatcher before the routes answered it.
            .route(&format!("/{}/", entity.path), endpoint(move |_| Endpoint::Entries(entity)))
            .route(&format!("/{}/{{id}}", entity.path), endpoint(move |id| Endpoint::Entry(entity, id)));
        for related in entities::ALL {
            let path = format!("/{}/{{id}}/{}", entity.path, related.path);
            router = router.route(&path, endpoint(move |id| Endpoint::Related(entity, id, related)));
        }
    }
    router
}

/// GET and POST of one endpoint shape; `make` builds the endpoint from the path's id (empty when
/// the route has none).
fn endpoint<M>(make: M) -> MethodRouter<AppState>
where
    M: Fn(String) -> Endpoint + Clone + Send + Sync + 'static,
{
    let post = make.clone();
    get(move |State(app): State<AppState>, Authenticated(caller), id: Option<Path<String>>, RawQuery(query)| {
        let endpoint = make(id.map(|Path(id)| id).unwrap_or_default());
        async move { entry(app, caller, endpoint, Input::Query(query)).await }
    })
    .post(move |State(app): State<AppState>, Authenticated(caller), id: Option<Path<String>>, body: Bytes| {
        let endpoint = post(id.map(|Path(id)| id).unwrap_or_default());
        async move { entry(app, caller, endpoint, Input::Body(body)).await }
    })
}

/// Answers an entry endpoint; every decision goes to the audit log.
async fn entry(app: AppState, caller: Caller, endpoint: Endpoint, input: Input) -> Response {
    let request = endpoint.parse_request(input);
    let result = answer_recorded(&app, caller, endpoint, request, None).await;
    json(result, &app)
}
