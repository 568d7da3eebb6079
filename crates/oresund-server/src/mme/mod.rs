//! The Matchmaker Exchange API (MME 1.0, ga4gh/mme-apis `search-api.md`):
//!
//! - `POST /mme/match`: a partner asks (with its `X-Auth-Token`) and gets this node's
//!   cross-border cases ranked; a clinician of this node asks (with their bearer credential) and
//!   gets this node's cases and every partner's, asked concurrently ([`partners`]), merged best
//!   first and labelled by node (`_node`).
//! - `GET|POST /mme/patients`, `DELETE /mme/patients/{id}`: a clinician's own cases.
//! - `GET /mme/metrics`: the metrics API.
//!
//! Every request is audited (the query's features never are: only who asked and how many
//! results went back). The submitter's own patient id never leaves the node: cases go out under
//! the node's case id, queries to partners too.

mod error;
mod media;
mod page;
mod partners;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use oresund_core::audit::{AuditAction, AuditRecord, Decision};
use oresund_match::Patient;
use oresund_node::matchmaking::Asker;
use serde_json::{Value, json};

pub use error::MmeError;
use media::{AUTH_TOKEN_HEADER, MEDIA_TYPE, Negotiated, negotiate};

use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/mme/match", post(match_request))
        .route("/mme/patients", get(list_cases).post(submit_case))
        .route("/mme/patients/{id}", delete(remove_case))
        .route("/mme/metrics", get(metrics))
        .route("/mme/terms", get(terms))
        .with_state(state)
        .merge(page::routes())
}

/// Who asks.
#[derive(Debug, Clone)]
enum MmeCaller {
    /// A partner, by its id in `[[mme.partners]]`.
    Partner(String),
    /// A clinician of this node, by user id.
    Clinician(String),
}

/// A partner's `X-Auth-Token`, or a clinician's bearer credential; a refusal is audited.
async fn who(app: &AppState, headers: &HeaderMap, path: &str) -> Result<MmeCaller, MmeError> {
    if let Some(token) = headers.get(AUTH_TOKEN_HEADER) {
        let digest = oresund_access::authenticator::token_sha256(token.to_str().unwrap_or(""));
        let partner = app.node.config.mme.partners.iter().find(|p| p.accept_sha256.as_deref() == Some(digest.as_str()));
        return match partner {
            Some(p) => Ok(MmeCaller::Partner(p.id.clone())),
            None => Err(refused(app, "mme-partner:?", path, "unknown X-Auth-Token").await),
        };
    }
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    if authorization.is_none() {
        return Err(MmeError::new(
            StatusCode::UNAUTHORIZED,
            "send X-Auth-Token (a matchmaking partner) or Authorization: Bearer (a clinician of this node)",
        ));
    }
    let caller = crate::caller::authenticate(app, authorization, path).await?;
    match (caller.clinician, caller.user) {
        (true, Some(user)) => Ok(MmeCaller::Clinician(user)),
        (_, user) => {
            let actor = user.unwrap_or_else(|| "anonymous".into());
            let error = refused(app, &actor, path, "not a clinician on this node").await;
            Err(MmeError::new(StatusCode::FORBIDDEN, error.body["message"].as_str().unwrap_or_default()))
        }
    }
}

async fn refused(app: &AppState, actor: &str, path: &str, why: &str) -> MmeError {
    let record = AuditRecord {
        time: oresund_node::clock::now_rfc3339(),
        actor: actor.to_string(),
        action: AuditAction::Auth,
        resource: path.to_string(),
        datasets: Vec::new(),
        granularity: None,
        decision: Decision::Denied,
        detail: why.to_string(),
        subject: None,
    };
    app.audit.note(record).await;
    MmeError::new(StatusCode::UNAUTHORIZED, why)
}

fn mme_json(value: Value) -> Response {
    ([(CONTENT_TYPE, MEDIA_TYPE)], Json(value)).into_response()
}

/// The request body as JSON with a `patient` member: 400 for JSON that does not parse, 422 for
/// JSON that is not an MME request.
fn read_body(headers: &HeaderMap, body: &Bytes) -> Result<(Value, Patient), MmeError> {
    match negotiate(headers, true) {
        Negotiated::Ok => {}
        Negotiated::Unsupported(v) => return Err(MmeError::unsupported(&v)),
        Negotiated::WrongContentType(t) => {
            return Err(MmeError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Content-Type {t:?}: send {MEDIA_TYPE} (or application/json)"),
            ));
        }
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| MmeError::new(StatusCode::BAD_REQUEST, format!("the body is not JSON: {e}")))?;
    let patient = value
        .get("patient")
        .cloned()
        .ok_or_else(|| MmeError::new(StatusCode::UNPROCESSABLE_ENTITY, "the request has no \"patient\""))?;
    let patient =
        Patient::from_value(patient).map_err(|e| MmeError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    Ok((value, patient))
}

async fn match_request(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match answer_match(&app, &headers, body).await {
        Ok(v) => mme_json(v),
        Err(e) => e.into_response(),
    }
}

async fn answer_match(app: &AppState, headers: &HeaderMap, body: Bytes) -> Result<Value, MmeError> {
    let caller = who(app, headers, "/mme/match").await?;
    let (request, patient) = read_body(headers, &body)?;
    let test = patient.test || request.get("test").and_then(Value::as_bool) == Some(true);
    let node_id = app.node.config.node_id.clone();
    let disclaimer = app.node.config.mme.disclaimer.clone();
    match caller {
        MmeCaller::Partner(partner) => {
            let query = patient.clone();
            let (answer, record) = app
                .blocking(move |app| {
                    let answer = app.node.mme_match(&query, Asker::Partner)?;
                    let detail = format!("results={}{}", answer.results.len(), if test { "; test" } else { "" });
                    let record = app.node.mme_audit(
                        &format!("mme-partner:{partner}"),
                        AuditAction::MmeMatch,
                        "/mme/match",
                        detail,
                    );
                    Ok::<_, MmeError>((answer, record))
                })
                .await??;
            app.audit.record(record).await?;
            if !test {
                // A write transaction of its own, off the answer's path (the metrics may lag it).
                let (counter, sent) = (app.clone(), answer.results.len());
                tokio::spawn(async move {
                    match counter.blocking(move |app| app.node.mme_count_request(sent)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => tracing::warn!(cause = %e, "mme: a partner's request was not counted"),
                        Err(e) => tracing::warn!(cause = %e.message, "mme: a partner's request was not counted"),
                    }
                });
            }
            let results: Vec<Value> = answer.results.iter().map(|r| r.mme_json(Some(&node_id))).collect();
            Ok(envelope(results, answer.warnings, disclaimer, None))
        }
        MmeCaller::Clinician(user) => {
            let (query, clinician) = (patient.clone(), user.clone());
            let (outgoing, national_only) = app
                .blocking(move |app| {
                    // What partners receive: the node's case id for the patient, never the submitter's.
                    let mut outgoing = query;
                    outgoing.id = app.node.mme_case_id(&clinician, &outgoing.id)?;
                    let national_only = app.node.mme_cross_border(&outgoing.id)? == Some(false);
                    Ok::<_, MmeError>((outgoing, national_only))
                })
                .await??;
            // This node's cases are ranked while the partners answer.
            let (query, clinician) = (patient.clone(), user.clone());
            let local = app.blocking(move |app| app.node.mme_match(&query, Asker::Clinician(&clinician)));
            let asked = async {
                match national_only {
                    true => Ok(Vec::new()),
                    false => partners::ask_all(app, &user, &outgoing, test).await,
                }
            };
            let (local, asked) = tokio::join!(local, asked);
            let (local, asked) = (local??, asked?);
            let mut warnings = local.warnings.clone();
            let mut results: Vec<Value> = local.results.iter().map(|r| r.mme_json(Some(&node_id))).collect();
            let mut nodes = vec![json!({"node": node_id, "status": "ok", "results": local.results.len()})];
            if national_only {
                warnings.push(format!("case {} is for national matching only: no partner was asked", outgoing.id));
            }
            let mut theirs: Vec<Value> = Vec::new();
            for answer in asked {
                nodes.push(answer.summary());
                warnings.extend(answer.warnings.iter().cloned());
                theirs.extend(answer.results);
            }
            if !theirs.is_empty() {
                // What a partner's case shares with the query, worked out here as for our own cases.
                let query = patient.clone();
                theirs = app
                    .blocking(move |app| {
                        // Results that do not read as patients were left out by `partners`.
                        let others: Vec<Patient> =
                            theirs.iter().filter_map(|r| serde_json::from_value(r["patient"].clone()).ok()).collect();
                        for (r, (genes, features)) in theirs.iter_mut().zip(app.node.mme_shared(&query, &others)?) {
                            r["_sharedGenes"] = json!(genes);
                            r["_sharedFeatures"] = json!(features);
                        }
                        Ok::<_, MmeError>(theirs)
                    })
                    .await??;
            }
            results.extend(theirs);
            results.sort_by(|a, b| {
                let score = |v: &Value| v["score"]["patient"].as_f64().unwrap_or(0.0);
                score(b).total_cmp(&score(a)).then_with(|| a["_node"].as_str().cmp(&b["_node"].as_str()))
            });
            let detail = format!(
                "results={}{}; {}",
                results.len(),
                if test { "; test" } else { "" },
                nodes
                    .iter()
                    .map(|n| format!("{} {}", n["node"].as_str().unwrap_or("?"), n["status"].as_str().unwrap_or("?")))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let record = app.node.mme_audit(&user, AuditAction::MmeMatch, "/mme/match", detail);
            app.audit.record(record).await?;
            Ok(envelope(results, warnings, disclaimer, Some(nodes)))
        }
    }
}

fn envelope(
    results: Vec<Value>,
    warnings: Vec<String>,
    disclaimer: Option<String>,
    nodes: Option<Vec<Value>>,
) -> Value {
    let mut out = json!({ "results": results });
    if let Some(d) = disclaimer {
        out["disclaimer"] = json!(d);
    }
    if !warnings.is_empty() {
        out["_warnings"] = json!(warnings);
    }
    if let Some(nodes) = nodes {
        out["_nodes"] = json!(nodes);
    }
    out
}

async fn clinician(app: &AppState, headers: &HeaderMap, path: &str) -> Result<String, MmeError> {
    match who(app, headers, path).await? {
        MmeCaller::Clinician(user) => Ok(user),
        MmeCaller::Partner(_) => Err(MmeError::new(
            StatusCode::FORBIDDEN,
            "partners ask for matches; only this node's clinicians keep cases here",
        )),
    }
}

async fn submit_case(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let submitted = async {
        let user = clinician(&app, &headers, "/mme/patients").await?;
        let (request, patient) = read_body(&headers, &body)?;
        // Consent to cross-border matching is asked for explicitly; without it, national only.
        let cross_border = request.get("crossBorder").and_then(Value::as_bool).unwrap_or(false);
        let submitted = app.blocking(move |app| app.node.mme_submit(&user, patient, cross_border)).await??;
        Ok::<_, MmeError>(
            json!({"id": submitted.case_id, "replaced": submitted.replaced, "crossBorder": cross_border, "_warnings": submitted.warnings}),
        )
    };
    match submitted.await {
        Ok(v) => mme_json(v),
        Err(e) => e.into_response(),
    }
}

async fn list_cases(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let listed = async {
        let user = clinician(&app, &headers, "/mme/patients").await?;
        let actor = user.clone();
        let cases = app.blocking(move |app| app.node.mme_cases(Some(&user))).await??;
        let record =
            app.node.mme_audit(&actor, AuditAction::MmeList, "/mme/patients", format!("cases={}", cases.len()));
        app.audit.record(record).await?;
        let cases: Vec<Value> = cases
            .iter()
            .map(
                |c| json!({"id": c.case_id, "crossBorder": c.cross_border, "updated": c.updated, "patient": c.patient}),
            )
            .collect();
        Ok::<_, MmeError>(json!({ "patients": cases }))
    };
    match listed.await {
        Ok(v) => mme_json(v),
        Err(e) => e.into_response(),
    }
}

async fn remove_case(State(app): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let removed = async {
        let user = clinician(&app, &headers, "/mme/patients").await?;
        let case_id = app.blocking(move |app| app.node.mme_remove(Some(&user), &user, &id)).await??;
        Ok::<_, MmeError>(json!({ "removed": case_id }))
    };
    match removed.await {
        Ok(v) => mme_json(v),
        Err(e) => e.into_response(),
    }
}

async fn metrics(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let answered = async {
        if let Negotiated::Unsupported(v) = negotiate(&headers, false) {
            return Err(MmeError::unsupported(&v));
        }
        who(&app, &headers, "/mme/metrics").await?;
        let metrics = app.blocking(|app| app.node.mme_metrics()).await??;
        Ok::<_, MmeError>(json!({ "metrics": metrics }))
    };
    match answered.await {
        Ok(v) => mme_json(v),
        Err(e) => e.into_response(),
    }
}

/// `GET /mme/terms?q=TEXT`: HPO terms for the clinicians' page's autocomplete (the node's own
/// release; the ontology is public, so no credential is asked).
async fn terms(State(app): State<AppState>, axum::extract::Query(query): axum::extract::Query<TermsQuery>) -> Response {
    let text = query.q.unwrap_or_default();
    if text.len() > 200 {
        return MmeError::new(StatusCode::BAD_REQUEST, "q is longer than 200 characters").into_response();
    }
    match app.blocking(move |app| app.node.hpo_terms(&text, 20)).await {
        Ok(Ok(terms)) => {
            let terms: Vec<Value> = terms.into_iter().map(|(id, label)| json!({"id": id, "label": label})).collect();
            Json(json!({ "terms": terms })).into_response()
        }
        Ok(Err(e)) => MmeError::from(e).into_response(),
        Err(e) => MmeError::from(e).into_response(),
    }
}

#[derive(serde::Deserialize)]
struct TermsQuery {
    q: Option<String>,
}
