//! Answering a Beacon query to an entry endpoint, and recording the decision in the audit log.

use oresund_access::Caller;
use serde_json::Value;

use crate::endpoint::Endpoint;
use crate::entities::{COHORT, DATASET, EntryType, GENOMIC_VARIANT, INDIVIDUAL};
use crate::error::BeaconError;
use crate::individuals::Selection;
use crate::request::BeaconRequest;
use crate::response::response_meta;
use crate::state::AppState;
use crate::{collections, g_variants, individuals};

/// Answers a request (or passes on its parse error) and records the decision; `via` names the
/// network peer that forwarded it. One trip across the blocking edge does both.
pub async fn answer_recorded(
    app: &AppState,
    caller: Caller,
    endpoint: Endpoint,
    request: Result<BeaconRequest, BeaconError>,
    via: Option<String>,
) -> Result<Value, BeaconError> {
    let (result, record) = app
        .blocking(move |app| {
            let result = request.as_ref().map_err(Clone::clone).and_then(|r| answer(app, &caller, &endpoint, r));
            let record =
                crate::decision::query(app, &caller, &endpoint, request.as_ref().ok(), &result, via.as_deref());
            (result, record)
        })
        .await?;
    app.audit.record(record).await?;
    result
}

/// Answers a parsed request to an entry endpoint.
pub fn answer(
    app: &AppState,
    caller: &Caller,
    endpoint: &Endpoint,
    request: &BeaconRequest,
) -> Result<Value, BeaconError> {
    match endpoint {
        Endpoint::Entries(GENOMIC_VARIANT) => g_variants::search(app, caller, request, None, None),
        Endpoint::Entry(GENOMIC_VARIANT, id) => g_variants::search(app, caller, request, None, Some(id)),
        Endpoint::Related(GENOMIC_VARIANT, id, INDIVIDUAL) => {
            individuals::search(app, caller, request, None, Selection::Carriers(id))
        }
        Endpoint::Entries(INDIVIDUAL) => individuals::search(app, caller, request, None, Selection::Filtered),
        Endpoint::Entry(INDIVIDUAL, id) => individuals::search(app, caller, request, None, Selection::One(id)),
        Endpoint::Entries(e @ (DATASET | COHORT)) => collections::list(app, caller, request, *e, None),
        Endpoint::Entry(e @ (DATASET | COHORT), id) => collections::list(app, caller, request, *e, Some(id)),
        Endpoint::Related(DATASET, id, GENOMIC_VARIANT) => g_variants::search(app, caller, request, Some(id), None),
        Endpoint::Related(DATASET | COHORT, id, INDIVIDUAL) => {
            individuals::search(app, caller, request, Some(id), Selection::Filtered)
        }
        // Entry types the node does not hold, and relations it has no data for: a valid empty answer.
        _ => Ok(nothing(app, endpoint.returned(), request)),
    }
}

/// A boolean `exists: false` answer for entries this node does not hold.
fn nothing(app: &AppState, entity: EntryType, request: &BeaconRequest) -> Value {
    let meta = response_meta(&app.beacon, entity, oresund_access::Granularity::Boolean, request);
    serde_json::json!({"meta": meta, "responseSummary": {"exists": false}})
}
