//! Routing: the framework endpoints by name, every entry-type path (`/{entry}[/{id}[/{related}]]`)
//! through one dispatcher, GET and POST alike.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::response::{IntoResponse, Response};
use oresund_access::Caller;
use serde_json::Value;

use crate::entities::{self, COHORT, DATASET, EntryType, GENOMIC_VARIANT, INDIVIDUAL};
use crate::error::BeaconError;
use crate::genomic::G_VARIANT_PARAMETERS;
use crate::individuals::Selection;
use crate::request::BeaconRequest;
use crate::response::response_meta;
use crate::state::AppState;
use crate::{collections, framework, g_variants, individuals};

/// How the request parameters arrived.
pub enum Input {
    Query(Option<String>),
    Body(Bytes),
}

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

pub async fn openapi() -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], include_str!("openapi.json")).into_response()
}

pub async fn not_found(State(app): State<AppState>) -> Response {
    BeaconError::not_found("no such endpoint; see /map for the endpoints of this beacon")
        .with_beacon(&app.beacon.id)
        .into_response()
}

pub async fn entry_get(
    State(app): State<AppState>,
    Path(path): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    entry(&app, &path, &headers, Input::Query(query)).await
}

pub async fn entry_post(
    State(app): State<AppState>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    entry(&app, &path, &headers, Input::Body(body)).await
}

/// Parameters each kind of endpoint accepts besides the common ones.
fn accepted(entity: EntryType) -> &'static [&'static str] {
    match entity.id {
        "genomicVariant" => &G_VARIANT_PARAMETERS,
        _ => &["datasets"],
    }
}

fn parse(input: Input, entity: EntryType) -> Result<BeaconRequest, BeaconError> {
    match input {
        Input::Query(query) => {
            let pairs: Vec<(String, String)> =
                form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
            BeaconRequest::from_query(&pairs, accepted(entity))
        }
        Input::Body(body) => BeaconRequest::from_body(&body, accepted(entity)),
    }
}

/// The entry type a path is about and the entry type it returns (`/g_variants/{id}/individuals`
/// is about variants and returns individuals).
pub fn entry_types_of(path: &str) -> Result<(EntryType, EntryType), BeaconError> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let entity = entities::by_path(segments[0])
        .ok_or_else(|| BeaconError::not_found("no such endpoint; see /map for the endpoints of this beacon"))?;
    let returned = match segments.get(2).and_then(|s| entities::by_path(s)) {
        Some(related) => related,
        None if segments.len() > 2 => return Err(BeaconError::not_found(format!("no endpoint {path:?}"))),
        None => entity,
    };
    Ok((entity, returned))
}

/// Parses the request of an entry path.
pub fn parse_request(path: &str, input: Input) -> Result<BeaconRequest, BeaconError> {
    let (_, returned) = entry_types_of(path)?;
    parse(input, returned)
}

/// Dispatches `/{entry}[/{id}[/{related}]]`; every decision goes to the audit log.
pub async fn entry(app: &AppState, path: &str, headers: &HeaderMap, input: Input) -> Response {
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let result = match authenticate(app, authorization, path).await {
        Ok(caller) => answer_recorded(app, caller, path.to_string(), parse_request(path, input), None).await,
        Err(e) => Err(e),
    };
    json(result, app)
}

/// The caller of a request; a refused credential is recorded in the audit log.
pub async fn authenticate(app: &AppState, authorization: Option<&str>, path: &str) -> Result<Caller, BeaconError> {
    match app.caller(authorization).await {
        Ok(caller) => Ok(caller),
        Err(e) => {
            let bearer = oresund_access::authenticator::bearer_token(authorization).ok().flatten().map(str::to_string);
            let (path, error) = (path.to_string(), e.clone());
            let record = app
                .blocking(move |app| crate::decision::credential_refused(app, bearer.as_deref(), &path, &error))
                .await?;
            app.audit.record(record).await;
            Err(e)
        }
    }
}

/// Answers a request (or passes on its parse error) and records the decision; `via` names the
/// network peer that forwarded it. One trip across the blocking edge does both.
pub async fn answer_recorded(
    app: &AppState,
    caller: Caller,
    path: String,
    request: Result<BeaconRequest, BeaconError>,
    via: Option<String>,
) -> Result<Value, BeaconError> {
    let (result, record) = app
        .blocking(move |app| {
            let result = request.as_ref().map_err(Clone::clone).and_then(|r| answer(app, &caller, &path, r));
            let record = crate::decision::query(app, &caller, &path, request.as_ref().ok(), &result, via.as_deref());
            (result, record)
        })
        .await?;
    app.audit.record(record).await;
    result
}

/// Answers a parsed request for an entry path.
pub fn answer(app: &AppState, caller: &Caller, path: &str, request: &BeaconRequest) -> Result<Value, BeaconError> {
    let (entity, returned) = entry_types_of(path)?;
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (entity, &segments[1..]) {
        (e, []) if e == GENOMIC_VARIANT => g_variants::search(app, caller, request, None, None),
        (e, [id]) if e == GENOMIC_VARIANT => g_variants::search(app, caller, request, None, Some(id)),
        (e, [id, "individuals"]) if e == GENOMIC_VARIANT => {
            individuals::search(app, caller, request, None, Selection::Carriers(id))
        }
        (e, []) if e == INDIVIDUAL => individuals::search(app, caller, request, None, Selection::Filtered),
        (e, [id]) if e == INDIVIDUAL => individuals::search(app, caller, request, None, Selection::One(id)),
        (e, []) if e == DATASET || e == COHORT => collections::list(app, caller, request, e, None),
        (e, [id]) if e == DATASET || e == COHORT => collections::list(app, caller, request, e, Some(id)),
        (e, [id, "g_variants"]) if e == DATASET => g_variants::search(app, caller, request, Some(id), None),
        (e, [id, "individuals"]) if e == DATASET || e == COHORT => {
            individuals::search(app, caller, request, Some(id), Selection::Filtered)
        }
        // Entry types the node does not hold, and relations it has no data for: a valid empty answer.
        (_, [] | [_] | [_, _]) => Ok(nothing(app, returned, request)),
        _ => Err(BeaconError::not_found(format!("no endpoint {path:?}"))),
    }
}

/// A boolean `exists: false` answer for entries this node does not hold.
fn nothing(app: &AppState, entity: EntryType, request: &BeaconRequest) -> Value {
    let meta = response_meta(&app.beacon, entity, oresund_access::Granularity::Boolean, request);
    serde_json::json!({"meta": meta, "responseSummary": {"exists": false}})
}
