//! Building Beacon v2 response documents: the meta sections, the boolean / count / result-set /
//! collections envelopes, and counts as they may be disclosed.

use oresund_access::{Granularity, Precision};
use serde_json::{Map, Value, json};

use crate::entities::EntryType;
use crate::request::BeaconRequest;
use crate::state::BeaconSettings;

/// `meta` of informational responses (`beaconInformationalResponseMeta.json`).
pub fn informational_meta(beacon: &BeaconSettings, schemas: &[(&str, &str)]) -> Value {
    let returned: Vec<Value> = schemas.iter().map(|(e, s)| json!({"entityType": e, "schema": s})).collect();
    json!({"beaconId": beacon.id, "apiVersion": crate::API_VERSION, "returnedSchemas": returned})
}

/// The granularity named in responses (`none` is reported as `boolean`).
pub fn granularity_name(g: Granularity) -> &'static str {
    match g {
        Granularity::None | Granularity::Boolean => "boolean",
        Granularity::Count => "count",
        Granularity::Record => "record",
    }
}

/// `meta` of query responses (`beaconResponseMeta.json`), echoing what was received.
pub fn response_meta(
    beacon: &BeaconSettings,
    entity: EntryType,
    returned: Granularity,
    request: &BeaconRequest,
) -> Value {
    let requested_schemas: Vec<Value> =
        request.requested_schemas.iter().map(|s| json!({"entityType": entity.id, "schema": s})).collect();
    let mut summary = json!({
        "apiVersion": request.api_version,
        "requestedSchemas": requested_schemas,
        "pagination": {"skip": request.skip, "limit": request.limit},
        "requestedGranularity": granularity_name(request.granularity.unwrap_or(Granularity::Boolean)),
        "includeResultsetResponses": request.resultsets.as_str(),
    });
    if !request.filters.is_empty() {
        summary["filters"] = json!(request.filters.iter().map(|f| f.id.clone()).collect::<Vec<_>>());
    }
    if !request.parameters.is_empty() {
        // The framework schema wants each value to be an object, keyed by entry (`g_variant`).
        let parameters: Map<String, Value> =
            request.parameters.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        let key = if entity.id == "genomicVariant" { "g_variant" } else { entity.id };
        summary["requestParameters"] = json!({ key: parameters });
    }
    json!({
        "beaconId": beacon.id,
        "apiVersion": crate::API_VERSION,
        "returnedGranularity": granularity_name(returned),
        "returnedSchemas": [{"entityType": entity.id, "schema": entity.schema}],
        "receivedRequestSummary": summary,
    })
}

/// A count as disclosed, and whether it is the true value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shown {
    pub value: u64,
    pub exact: bool,
}

impl Shown {
    pub fn precision(self) -> &'static str {
        if self.exact { "exact" } else { "imprecise" }
    }
}

/// A count as the caller may see it: exact at the CONTROLLED tier, else small counts raised.
pub fn shown(beacon: &BeaconSettings, count: u64, controlled: bool) -> Shown {
    let d = beacon.threshold.disclose(count, controlled);
    Shown { value: d.value, exact: d.precision == Precision::Exact }
}

/// One result set (`beaconResultsets.json#/$defs/ResultsetInstance`).
pub fn result_set(id: &str, exists: bool, count: Option<Shown>, results: Vec<Value>, info: Option<Value>) -> Value {
    let mut set = json!({
        "id": id,
        "setType": "dataset",
        "exists": exists,
        "resultsCount": count.map_or(0, |c| c.value),
        "results": results,
    });
    if let Some(count) = count {
        set["countPrecision"] = json!(count.precision());
    }
    if let Some(info) = info {
        set["info"] = info;
    }
    set
}

/// The response envelope for `granularity`: boolean (`beaconBooleanResponse.json`), count
/// (`beaconCountResponse.json`, with the per-dataset result sets as extra detail) or record
/// (`beaconResultsetsResponse.json`).
pub fn query_response(
    meta: Value,
    granularity: Granularity,
    exists: bool,
    total: Shown,
    result_sets: Vec<Value>,
    info: Option<Value>,
) -> Value {
    let mut response = json!({"meta": meta, "responseSummary": {"exists": exists}});
    if granularity >= Granularity::Count {
        response["responseSummary"]["numTotalResults"] = json!(total.value);
        response["responseSummary"]["countPrecision"] = json!(total.precision());
        response["response"] = json!({"resultSets": result_sets});
    }
    if let Some(info) = info {
        response["info"] = info;
    }
    response
}

/// `info` carrying warnings (unknown filters...), when there are any.
pub fn warnings_info(warnings: &[String]) -> Option<Value> {
    (!warnings.is_empty()).then(|| json!({"warnings": warnings}))
}
