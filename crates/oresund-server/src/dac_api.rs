//! The data access committee over HTTP, and the node's key set as a visa issuer.
//!
//! | endpoint | who | what |
//! |---|---|---|
//! | `POST /dac/requests` `{dataset, purpose: {purpose, disease?, commercial, methods?}}` | registered researcher | files a request; answers with the automatic DUO match |
//! | `GET /dac/requests[/ID]` | the requester, committee members (all) | requests and their state |
//! | `POST /dac/requests/ID/approve` `{note}` | committee member | issues a ControlledAccessGrants visa for the request's purpose, reaching the people whose consent allows it |
//! | `POST /dac/requests/ID/reject` `{note}` | committee member | rejects, saying why |
//! | `GET /dac/grants[?all=true]` | the grantee (members: all) | grants with their visas |
//! | `POST /dac/grants/JTI/revoke` `{reason}` | committee member | the visa stops working at once |
//! | `GET /.well-known/jwks.json` | anyone | the public keys that verify this node's visas |
//!
//! Committee members are the user ids in `[access] dac_members`; each action is recorded under the
//! member and the researcher it concerns, and so is every read of requests and grants. Errors are
//! `{"error": {"errorCode", "errorMessage"}}` with 400/401/403/404/409, and 500/503 with a request
//! id when the node fails (see `error_status`); every refusal is audited.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use oresund_access::Caller;
use oresund_access::duo_match::ResearchPurpose;
use oresund_access::tier::Granularity;
use oresund_core::audit::{AuditAction, AuditRecord, Decision};
use oresund_core::time::rfc3339;
use oresund_node::clock::{now_rfc3339, unix_now};
use oresund_node::dac::{DacError, FiledRequest};
use oresund_store::{AccessRequest, Grant};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::caller::Authenticated;
use crate::error::BeaconError;
use crate::state::AppState;

/// The DAC routes and `/.well-known/jwks.json`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .route("/dac/requests", post(file).get(list))
        .route("/dac/requests/{id}", get(one))
        .route("/dac/requests/{id}/approve", post(approve))
        .route("/dac/requests/{id}/reject", post(reject))
        .route("/dac/grants", get(grants))
        .route("/dac/grants/{jti}/revoke", post(revoke))
        .with_state(state)
}

/// A refusal with its HTTP status.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": {"errorCode": self.0.as_u16(), "errorMessage": self.1}}))).into_response()
    }
}

impl From<BeaconError> for ApiError {
    fn from(e: BeaconError) -> Self {
        ApiError(e.status, e.message)
    }
}

impl From<DacError> for ApiError {
    fn from(e: DacError) -> Self {
        let status = match &e {
            DacError::UnknownDataset(_) | DacError::NoRequest(_) | DacError::NoGrant(_) => StatusCode::NOT_FOUND,
            DacError::Purpose(_) | DacError::NoteNeeded { .. } | DacError::Missing(_) => StatusCode::BAD_REQUEST,
            DacError::Conflict(_) | DacError::ConsentDenies(_) => StatusCode::CONFLICT,
            DacError::NoSigningKey => StatusCode::SERVICE_UNAVAILABLE,
            // Classified as for the Beacon endpoints.
            DacError::Node(cause) => crate::error_status::node_status(cause),
        };
        if status.is_server_error() && matches!(e, DacError::Node(_)) {
            // A node fault's cause goes to the log only.
            return ApiError(status, crate::error::BeaconError::node_fault(status, e).message);
        }
        ApiError(status, e.to_string())
    }
}

type Answer = Result<Response, ApiError>;

async fn jwks(State(app): State<AppState>) -> Response {
    // The key files are read at most every few seconds, but then from disk: across the edge.
    match app.blocking(|app| app.own_keys.current()).await {
        Ok(Ok((document, _))) => Json(document).into_response(),
        Ok(Err(e)) => ApiError::from(DacError::Node(e)).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The caller (see [`Authenticated`]), or the 401 of a refused credential, already audited.
type CallerOr401 = Result<Authenticated, BeaconError>;

/// Records a refused DAC call and returns the refusal.
async fn refuse(app: &AppState, caller: &Caller, action: AuditAction, path: &str, error: ApiError) -> ApiError {
    refuse_about(app, caller, action, path, None, error).await
}

/// [`refuse`], filed under the researcher and dataset concerned (`about`) when known.
async fn refuse_about(
    app: &AppState,
    caller: &Caller,
    action: AuditAction,
    path: &str,
    about: Option<&AccessRequest>,
    error: ApiError,
) -> ApiError {
    let (path, message) = (path.to_string(), error.1.clone());
    let recorded = app
        .blocking(move |app| (crate::decision::recordable(app, path), crate::decision::recordable(app, message)))
        .await;
    let (resource, detail) = match recorded {
        Ok(texts) => texts,
        Err(e) => return ApiError(e.status, e.message),
    };
    let record = AuditRecord {
        time: now_rfc3339(),
        actor: caller.label().to_string(),
        action,
        resource,
        granularity: None,
        decision: Decision::Denied,
        detail,
        subject: about.map(|r| r.user.clone()).filter(|u| Some(u.as_str()) != caller.user.as_deref()),
        datasets: about.map(|r| vec![r.dataset.clone()]).unwrap_or_default(),
    };
    app.audit.note(record).await;
    error
}

/// Records a committee read: one entry per researcher whose items it showed (researcher, dataset).
async fn record_read(
    app: &AppState,
    caller: &Caller,
    action: AuditAction,
    path: &str,
    shown: Vec<(String, String)>,
) -> Result<(), ApiError> {
    let pairs: Vec<(&str, &str)> = shown.iter().map(|(u, d)| (u.as_str(), d.as_str())).collect();
    for record in oresund_node::dac::committee_read_records(caller.label(), action, path, &pairs, unix_now()) {
        app.audit.record(record).await.map_err(BeaconError::from)?;
    }
    Ok(())
}

fn anonymous() -> ApiError {
    ApiError(StatusCode::UNAUTHORIZED, "send Authorization: Bearer <passport>".into())
}

/// A member of this node's committee, with a credential made for this very node: a passport
/// minted for the network (or replayed from another node) does not act for the committee.
fn is_member(app: &AppState, caller: &Caller) -> bool {
    is_listed_member(app, caller) && caller.for_this_node
}

fn is_listed_member(app: &AppState, caller: &Caller) -> bool {
    caller.user.as_ref().is_some_and(|u| app.access.dac_members.contains(u))
}

/// A committee member, or an audited 401/403.
async fn member(app: &AppState, caller: CallerOr401, action: AuditAction, path: &str) -> Result<Caller, ApiError> {
    let caller = caller?.0;
    if is_member(app, &caller) {
        return Ok(caller);
    }
    let (status, message) = match caller.user {
        None => {
            (StatusCode::UNAUTHORIZED, "data access committee actions need Authorization: Bearer <passport>".into())
        }
        Some(_) if is_listed_member(app, &caller) => (
            StatusCode::FORBIDDEN,
            format!(
                "data access committee actions need a passport minted for this node: its aud must name {:?}, not only the network",
                app.access.issuer.iss
            ),
        ),
        Some(_) => (
            StatusCode::FORBIDDEN,
            "only members of this node's data access committee ([access] dac_members) may do this".into(),
        ),
    };
    Err(refuse(app, &caller, action, path, ApiError(status, message)).await)
}

fn request_json(r: &AccessRequest) -> Value {
    json!({
        "id": r.id,
        "user": r.user,
        "dataset": r.dataset,
        "purpose": serde_json::from_str::<Value>(&r.purpose).unwrap_or(Value::Null),
        "automatic": {"decision": r.automatic, "reasons": r.reasons},
        "status": r.status.as_str(),
        "created": r.created,
        "decided": r.decided,
        "decidedBy": r.decided_by,
        "note": r.note,
    })
}

fn grant_json(g: &Grant, purpose: Option<&ResearchPurpose>) -> Value {
    json!({
        "jti": g.jti,
        "request": g.request,
        "user": g.user,
        "dataset": g.dataset,
        "purpose": purpose,
        "issued": rfc3339(g.issued_at),
        "expires": rfc3339(g.expires_at),
        "visa": g.visa,
        "revoked": g.revoked,
        "revokedBy": g.revoked_by,
        "revokeReason": g.revoke_reason,
    })
}

/// A request id: a whole number the store can hold (at most 2^63 - 1; a larger one reached the
/// store and came back as a 500).
fn request_id(text: &str) -> Result<u64, ApiError> {
    text.parse::<u64>()
        .ok()
        .filter(|&id| i64::try_from(id).is_ok())
        .ok_or_else(|| ApiError(StatusCode::BAD_REQUEST, format!("{text:?} is not a request id (a number)")))
}

fn body<T: for<'de> Deserialize<'de>>(bytes: &Bytes, what: &str) -> Result<T, ApiError> {
    let bytes = if bytes.is_empty() { &b"{}"[..] } else { &bytes[..] };
    serde_json::from_slice(bytes).map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("{what}: {e}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBody {
    dataset: String,
    purpose: ResearchPurpose,
}

async fn file(State(app): State<AppState>, caller: CallerOr401, bytes: Bytes) -> Answer {
    let path = "/dac/requests";
    let caller = caller?.0;
    let Some(user) = caller.user.clone() else {
        let e = ApiError(StatusCode::UNAUTHORIZED, "filing a request needs Authorization: Bearer <passport>".into());
        return Err(refuse(&app, &caller, AuditAction::DacRequest, path, e).await);
    };
    if !caller.registered {
        let e = ApiError(
            StatusCode::FORBIDDEN,
            "only registered researchers (ResearcherStatus and AcceptedTermsAndPolicies visas) may file requests"
                .into(),
        );
        return Err(refuse(&app, &caller, AuditAction::DacRequest, path, e).await);
    }
    let parsed: FileBody = match body(
        &bytes,
        "the request body must be {\"dataset\", \"purpose\": {\"purpose\", \"disease\"?, \"commercial\"?, \"methods\"?}}",
    ) {
        Ok(parsed) => parsed,
        Err(e) => return Err(refuse(&app, &caller, AuditAction::DacRequest, path, e).await),
    };
    // A passport holder's visa carries their passport `sub` (an operator token's user: its name).
    let subject = caller.subject.clone().unwrap_or_else(|| user.clone());
    // The match's numbers are counts of the dataset's people: only for those its policy shows counts.
    let sees_counts = app.beacon.granted(&caller, &parsed.dataset, None) >= Granularity::Count;
    let filed = FiledRequest { user, subject, dataset: parsed.dataset, purpose: parsed.purpose, sees_counts };
    let request = app.blocking(move |app| app.node.file_access_request(&filed, unix_now())).await??;
    Ok((StatusCode::CREATED, Json(request_json(&request))).into_response())
}

async fn list(State(app): State<AppState>, caller: CallerOr401) -> Answer {
    let caller = caller?.0;
    let Some(user) = caller.user.as_deref() else {
        return Err(refuse(&app, &caller, AuditAction::DacList, "/dac/requests", anonymous()).await);
    };
    let only = if is_member(&app, &caller) { None } else { Some(user.to_string()) };
    let requests = app.blocking(move |app| app.node.access_requests(only.as_deref())).await?.map_err(DacError::from)?;
    let shown = requests.iter().map(|r| (r.user.clone(), r.dataset.clone())).collect();
    record_read(&app, &caller, AuditAction::DacList, "/dac/requests", shown).await?;
    Ok(Json(json!({"requests": requests.iter().map(request_json).collect::<Vec<_>>()})).into_response())
}

async fn one(State(app): State<AppState>, caller: CallerOr401, Path(id): Path<String>) -> Answer {
    let caller = caller?.0;
    let id = request_id(&id)?;
    let path = format!("/dac/requests/{id}");
    let request = app.blocking(move |app| app.node.access_request(id)).await?.map_err(DacError::from)?;
    match request {
        Some(r) if is_member(&app, &caller) || caller.user.as_deref() == Some(r.user.as_str()) => {
            record_read(&app, &caller, AuditAction::DacRead, &path, vec![(r.user.clone(), r.dataset.clone())]).await?;
            Ok(Json(request_json(&r)).into_response())
        }
        // Someone else's request is not acknowledged to exist (but the attempt is filed under them).
        other => {
            let refusal = ApiError::from(DacError::NoRequest(id));
            Err(refuse_about(&app, &caller, AuditAction::DacRead, &path, other.as_ref(), refusal).await)
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    #[serde(default)]
    note: String,
}

async fn approve(State(app): State<AppState>, caller: CallerOr401, Path(id): Path<String>, bytes: Bytes) -> Answer {
    let caller = caller?;
    let id = request_id(&id)?;
    let path = format!("/dac/requests/{id}/approve");
    let caller = member(&app, Ok(caller), AuditAction::DacApprove, &path).await?;
    let note: NoteBody = match body(&bytes, "the body must be {\"note\": \"…\"}") {
        Ok(note) => note,
        Err(e) => return Err(refuse(&app, &caller, AuditAction::DacApprove, &path, e).await),
    };
    let actor = caller.label().to_string();
    let approval = app
        .blocking(move |app| {
            app.node.approve_access_request(id, &actor, Some(&note.note), &app.access.issuer, unix_now())
        })
        .await??;
    let mut answer = grant_json(&approval.grant, Some(&approval.purpose));
    answer["reached"] = json!(approval.reached);
    answer["leftOut"] = json!(approval.left_out);
    Ok(Json(answer).into_response())
}

async fn reject(State(app): State<AppState>, caller: CallerOr401, Path(id): Path<String>, bytes: Bytes) -> Answer {
    let caller = caller?;
    let id = request_id(&id)?;
    let path = format!("/dac/requests/{id}/reject");
    let caller = member(&app, Ok(caller), AuditAction::DacReject, &path).await?;
    let note: NoteBody = match body(&bytes, "the body must be {\"note\": \"…\"}") {
        Ok(note) => note,
        Err(e) => return Err(refuse(&app, &caller, AuditAction::DacReject, &path, e).await),
    };
    let actor = caller.label().to_string();
    let request = app.blocking(move |app| app.node.reject_access_request(id, &actor, &note.note, unix_now())).await??;
    Ok(Json(request_json(&request)).into_response())
}

async fn grants(State(app): State<AppState>, caller: CallerOr401, RawQuery(query): RawQuery) -> Answer {
    let caller = caller?.0;
    let Some(user) = caller.user.as_deref() else {
        return Err(refuse(&app, &caller, AuditAction::DacGrants, "/dac/grants", anonymous()).await);
    };
    let all =
        query.as_deref().is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "all" && v == "true"));
    let only = if all && is_member(&app, &caller) { None } else { Some(user.to_string()) };
    let grants = app.blocking(move |app| app.node.grants_with_purpose(only.as_deref())).await??;
    let shown = grants.iter().map(|(g, _)| (g.user.clone(), g.dataset.clone())).collect();
    record_read(&app, &caller, AuditAction::DacGrants, "/dac/grants", shown).await?;
    let listed: Vec<Value> = grants.iter().map(|(g, purpose)| grant_json(g, purpose.as_ref())).collect();
    Ok(Json(json!({"grants": listed})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    #[serde(default)]
    reason: String,
}

async fn revoke(State(app): State<AppState>, caller: CallerOr401, Path(jti): Path<String>, bytes: Bytes) -> Answer {
    let path = format!("/dac/grants/{jti}/revoke");
    let caller = member(&app, caller, AuditAction::DacRevoke, &path).await?;
    let reason: ReasonBody = match body(&bytes, "the body must be {\"reason\": \"…\"}") {
        Ok(reason) => reason,
        Err(e) => return Err(refuse(&app, &caller, AuditAction::DacRevoke, &path, e).await),
    };
    let actor = caller.label().to_string();
    let grant = app.blocking(move |app| app.node.revoke_grant(&jti, &actor, &reason.reason, unix_now())).await??;
    Ok(Json(grant_json(&grant, None)).into_response())
}
