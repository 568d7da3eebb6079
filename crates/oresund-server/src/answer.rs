//! Answering a Beacon query to an entry endpoint, and recording the decision in the audit log.

use oresund_access::Caller;
use serde_json::Value;

use crate::endpoint::Endpoint;
use crate::entities::{COHORT, DATASET, EntryType, GENOMIC_VARIANT, INDIVIDUAL};
use crate::error::BeaconError;
use crate::genomic::names_one_variant;
use crate::individuals::Selection;
use crate::request::BeaconRequest;
use crate::response::response_meta;
use crate::state::AppState;
use crate::{collections, g_variants, individuals};

/// Answers a request (or passes on its parse error) and records the decision; `via` names the
/// network peer that forwarded it. One trip across the blocking edge does both, or none when the
/// question is short ([`answered_in_place`]).
pub async fn answer_recorded(
    app: &AppState,
    caller: Caller,
    endpoint: Endpoint,
    request: Result<BeaconRequest, BeaconError>,
    via: Option<String>,
) -> Result<Value, BeaconError> {
    let in_place = answered_in_place(app, &endpoint, request.as_ref().ok());
    let work = move |app: &AppState| {
        let result = request.as_ref().map_err(Clone::clone).and_then(|r| answer(app, &caller, &endpoint, r));
        let record = crate::decision::query(app, &caller, &endpoint, request.as_ref().ok(), &result, via.as_deref());
        (result, record)
    };
    let (result, record) = if in_place { app.in_place(work)? } else { app.blocking(work).await? };
    app.audit.record(record).await?;
    result
}

/// Whether a request is answered on the thread that serves it rather than across the blocking
/// edge: a count of one variant on the embedded store, a few microseconds of reads from SQLite
/// and the block cache (a rare variant's budget charge adds a synced commit, which moves the
/// worker's other tasks to another thread while it waits: `blocking::waiting_on_disk`). Handing it
/// to the blocking pool and back cost two thread switches, a third of a node's CPU per answer on
/// two cores (BENCHMARKS.md, "Federation at eight nodes"). Regions, queries over individuals,
/// parse errors and everything on PostgreSQL (whose client blocks on a runtime of its own) cross
/// the edge.
fn answered_in_place(app: &AppState, endpoint: &Endpoint, request: Option<&BeaconRequest>) -> bool {
    if !app.node.catalog_is_embedded() {
        return false;
    }
    match endpoint {
        Endpoint::Entry(GENOMIC_VARIANT, _) => request.is_some(),
        Endpoint::Entries(GENOMIC_VARIANT) | Endpoint::Related(DATASET, _, GENOMIC_VARIANT) => {
            request.is_some_and(names_one_variant)
        }
        _ => false,
    }
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
