//! GA4GH DRS 1.5 (`/ga4gh/drs/v1/…`): each archived VCF as a DrsObject (id = accession,
//! checksums = the original's SHA-256), with an htsget access method for regions and two
//! `https` access ids for the whole file: `plain`, and `crypt4gh` (the file as a Crypt4GH
//! stream for the key in `Htsget-Context-Public-Key`: its header re-encrypted, the stored body
//! as it is). GET authenticates from the `Authorization` header; POST from the body's
//! `passports`, each verified like a bearer passport.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use oresund_access::Tier;
use oresund_core::audit::{AuditAction, Decision};
use oresund_node::delivery::{DeliverableFile, Form};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::data_url;
use crate::delivery_access::{Credentials, Recorded, clear, service};
use crate::delivery_error::DeliveryFailure;
use crate::researcher_key;
use crate::state::AppState;

const PREFIX: &str = "/ga4gh/drs/v1";

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(&format!("{PREFIX}/service-info"), get(service_info))
        .route(&format!("{PREFIX}/objects/{{id}}"), get(object_get).post(object_post))
        .route(&format!("{PREFIX}/objects/{{id}}/access/{{access_id}}"), get(access_get).post(access_post))
        .route("/delivery/files", get(files))
        .with_state(state)
}

/// `GET /service-info`: GA4GH service-info 1.0 with DRS's `maxBulkRequestLength` (required at
/// the root in 1.5; this node has no bulk endpoints, so 1).
async fn service_info(State(app): State<AppState>) -> Response {
    axum::Json(json!({
        "id": format!("{}.drs", app.beacon.id),
        "name": format!("{} DRS", app.beacon.name),
        "type": {"group": "org.ga4gh", "artifact": "drs", "version": "1.5.0"},
        "description": "Archived VCFs for approved researchers, whole or by region (htsget), plain or Crypt4GH",
        "organization": {"name": app.beacon.organization, "url": app.beacon.base_url},
        "version": env!("CARGO_PKG_VERSION"),
        "maxBulkRequestLength": 1,
    }))
    .into_response()
}

/// A POST body: `{"passports": [...], "expand": false}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PostBody {
    #[serde(default)]
    passports: Vec<String>,
    #[serde(default, rename = "expand")]
    _expand: bool,
}

pub(crate) fn post_credentials(body: &[u8]) -> Result<Credentials, DeliveryFailure> {
    if body.len() > 1 << 20 {
        return Err(DeliveryFailure::too_large("the request body is over 1 MiB"));
    }
    let body: PostBody = if body.iter().all(u8::is_ascii_whitespace) {
        PostBody::default()
    } else {
        serde_json::from_slice(body)
            .map_err(|e| DeliveryFailure::invalid_input(format!("the body must be {{\"passports\": [...]}}: {e}")))?
    };
    Ok(Credentials::Passports(body.passports))
}

fn header_credentials(headers: &HeaderMap) -> Credentials {
    Credentials::Header(headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string))
}

async fn object_get(State(app): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    object(&app, &id, Ok(header_credentials(&headers))).await.unwrap_or_else(DeliveryFailure::drs)
}

async fn object_post(State(app): State<AppState>, Path(id): Path<String>, body: Bytes) -> Response {
    object(&app, &id, post_credentials(&body)).await.unwrap_or_else(DeliveryFailure::drs)
}

async fn access_get(
    State(app): State<AppState>,
    Path((id, access_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let credentials = Ok(header_credentials(&headers));
    access(&app, &id, &access_id, credentials, &headers).await.unwrap_or_else(DeliveryFailure::drs)
}

async fn access_post(
    State(app): State<AppState>,
    Path((id, access_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    access(&app, &id, &access_id, post_credentials(&body), &headers).await.unwrap_or_else(DeliveryFailure::drs)
}

/// `drs://host[:port]/id` (DRS "DRS URIs", hostname-based).
fn self_uri(app: &AppState, id: &str) -> String {
    let url = oresund_node::http_url::parse_http_url(&app.beacon.base_url);
    let host = url.as_ref().and_then(|u| u.host_str()).unwrap_or("localhost");
    match url.as_ref().and_then(|u| u.port()) {
        Some(port) => format!("drs://{host}:{port}/{id}"),
        None => format!("drs://{host}/{id}"),
    }
}

/// The DrsObject of a file (DRS 1.5 `DrsObject`): its size and checksum are those of the file
/// as delivered (samples named by pseudonyms), `size` bytes with SHA-256 `sha256`.
fn drs_object(app: &AppState, file: &DeliverableFile, size: u64, sha256: &str) -> Value {
    let object = &file.object;
    let base = app.beacon.base_url.trim_end_matches('/');
    let mut methods =
        vec![json!({"type": "https", "access_id": "plain"}), json!({"type": "https", "access_id": "crypt4gh"})];
    if file.index.is_some() {
        methods.insert(
            0,
            json!({"type": "htsget", "access_url": {"url": format!("{base}/variants/{}", object.accession)}}),
        );
    }
    json!({
        "id": object.accession,
        "name": object.name,
        "self_uri": self_uri(app, &object.accession),
        "size": size,
        "created_time": object.created,
        "checksums": [{"checksum": sha256, "type": "sha-256"}],
        "mime_type": "application/vnd.ga4gh.vcf",
        "description": format!(
            "VCF of dataset {}, its samples named by pseudonyms (the archived original's SHA-256 is {}); \
             access id crypt4gh needs Htsget-Context-Public-Key",
            file.dataset, object.plaintext_sha256
        ),
        "access_methods": methods,
    })
}

/// `GET /delivery/files` (this node's, not DRS's): the archived VCFs the caller may receive —
/// those of the datasets it has CONTROLLED access to — with their DRS and htsget addresses. The
/// portal page lists them for a researcher.
async fn files(State(app): State<AppState>, headers: HeaderMap) -> Response {
    list_files(&app, &headers).await.unwrap_or_else(DeliveryFailure::drs)
}

async fn list_files(app: &AppState, headers: &HeaderMap) -> Result<Response, DeliveryFailure> {
    let recorded = Recorded::new(AuditAction::DrsObject, "/delivery/files".to_string());
    let (deliveries, _) = service(app)?;
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let caller = crate::caller::authenticate(app, authorization, &recorded.resource)
        .await
        .map_err(DeliveryFailure::from_beacon)?;
    if caller.user.is_none() {
        return Err(DeliveryFailure::unauthenticated("send your token (Authorization: Bearer …) to see your files"));
    }
    let files = app
        .blocking(move |app| deliveries.files(&app.node))
        .await
        .map_err(DeliveryFailure::from_beacon)?
        .map_err(|e| DeliveryFailure::from_delivery(&e))?;
    let controlled: Vec<_> = files.into_iter().filter(|f| caller.tier(&f.dataset) == Tier::Controlled).collect();
    // A file holding anyone the caller's grant does not reach is not delivered (see `clear`).
    let mut deliverable = Vec::with_capacity(controlled.len());
    let mut withheld = Vec::new();
    for file in controlled {
        match crate::delivery_access::outside_consent(app, &caller, &file).await? {
            None => deliverable.push(file),
            Some(why) => {
                withheld.push(json!({"id": file.object.accession, "dataset": file.dataset, "reason": why.message}))
            }
        }
    }
    let base = app.beacon.base_url.trim_end_matches('/');
    let listed: Vec<Value> = deliverable
        .iter()
        .map(|f| {
            let id = &f.object.accession;
            json!({
                "id": id,
                "name": f.object.name,
                "dataset": f.dataset,
                "self_uri": self_uri(app, id),
                "drs": format!("{base}{PREFIX}/objects/{id}"),
                "htsget": f.index.as_ref().map(|_| format!("{base}/variants/{id}")),
            })
        })
        .collect();
    let detail = format!("{} files listed", listed.len());
    let dataset = listed.first().and_then(|f| f["dataset"].as_str());
    recorded.log(app, caller.label(), dataset, Decision::Allowed, detail).await?;
    let mut answer = json!({"files": listed});
    if !withheld.is_empty() {
        answer["withheld"] = json!(withheld);
    }
    Ok(axum::Json(answer).into_response())
}

async fn object(
    app: &AppState,
    id: &str,
    credentials: Result<Credentials, DeliveryFailure>,
) -> Result<Response, DeliveryFailure> {
    let recorded = Recorded::new(AuditAction::DrsObject, format!("{PREFIX}/objects/{id}"));
    let cleared = clear(app, credentials?, id, &recorded).await?;
    let (deliveries, file) = (cleared.deliveries.clone(), cleared.file.clone());
    let digest = app
        .blocking(move |_| deliveries.delivered_digest(&file))
        .await
        .map_err(DeliveryFailure::from_beacon)?
        .map_err(|e| DeliveryFailure::from_delivery(&e))?;
    recorded.log(app, cleared.caller.label(), Some(&cleared.file.dataset), Decision::Allowed, String::new()).await?;
    Ok(axum::Json(drs_object(app, &cleared.file, digest.0, &digest.1)).into_response())
}

async fn access(
    app: &AppState,
    id: &str,
    access_id: &str,
    credentials: Result<Credentials, DeliveryFailure>,
    headers: &HeaderMap,
) -> Result<Response, DeliveryFailure> {
    let form = match access_id {
        "plain" => Form::Whole,
        "crypt4gh" => Form::WholeCrypt4gh,
        other => {
            return Err(DeliveryFailure::not_found(format!(
                "no access id {other:?} for {id}; the object lists its access methods (plain, crypt4gh)"
            )));
        }
    };
    let recipient = researcher_key::from_headers(headers)?;
    if form == Form::WholeCrypt4gh && recipient.is_none() {
        return Err(DeliveryFailure::invalid_input(
            "access id crypt4gh needs the researcher's public key in Htsget-Context-Public-Key (base64 of the key file)",
        ));
    }
    let recorded = Recorded::new(AuditAction::DrsAccess, format!("{PREFIX}/objects/{id}/access/{access_id}"));
    let cleared = clear(app, credentials?, id, &recorded).await?;
    let user = cleared.caller.label();
    let mut claims = data_url::claims(&cleared.file, form, 0..0, user, cleared.url_ttl_s);
    if form == Form::WholeCrypt4gh {
        claims.recipient = recipient.as_ref().map(data_url::encode_key);
    }
    let url = data_url::sign(app, &cleared.deliveries, &claims);
    let key = recipient
        .filter(|_| form == Form::WholeCrypt4gh)
        .map(|k| format!("for Crypt4GH key {}", oresund_node::keys::key_id(&k)))
        .unwrap_or_default();
    recorded.log(app, user, Some(&cleared.file.dataset), Decision::Allowed, key).await?;
    Ok(axum::Json(json!({"url": url, "headers": []})).into_response())
}
