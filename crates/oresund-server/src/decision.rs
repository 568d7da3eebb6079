//! What the audit log records of a request: who asked (user id or `anonymous`; `unauthenticated`
//! with the identity a refused credential claimed), what (the endpoint and the parsed request, not
//! the raw query string), which datasets, the granularity returned, allowed or denied, and why.
//! User ids and pseudonyms only: a node never holds a local id to record.

use oresund_access::{Caller, Tier};
use oresund_core::audit::{AuditAction, AuditRecord, Decision};
use oresund_core::query_note::QueryNote;
use serde_json::Value;

use crate::endpoint::Endpoint;
use crate::entities::{COHORT, DATASET};
use crate::error::BeaconError;
use crate::passport_auth::{claimed_identity, is_jws};
use crate::request::BeaconRequest;
use crate::scope::scope;
use crate::state::AppState;

/// The longest `resource` or `detail` recorded (a request or a refused token can be long, and
/// partly the caller's words; their gist is not).
const MAX_RESOURCE: usize = 1000;

/// A text as it may be recorded: local ids a caller typed become pseudonyms (see
/// `oresund_node::scrub`); if that cannot be checked, the text is withheld.
pub(crate) fn recordable(app: &AppState, text: String) -> String {
    app.node.scrub_local_ids(&text).unwrap_or_else(|e| {
        tracing::warn!(cause = %e, "audit log: cannot check a request text for local ids, withholding it");
        "(withheld)".to_string()
    })
}

pub(crate) fn shorten(mut text: String) -> String {
    if text.len() > MAX_RESOURCE {
        let mut end = MAX_RESOURCE;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// `/path {parameters} filters=[…] granularity=…`.
fn resource(endpoint: &Endpoint, request: Option<&BeaconRequest>) -> String {
    let path = endpoint.path();
    let Some(request) = request else { return path };
    let mut text = path;
    if !request.parameters.is_empty() {
        let parameters: Vec<String> = request.parameters.iter().map(|(k, v)| format!("{k}={v}")).collect();
        text.push_str(&format!(" {}", parameters.join("&")));
    }
    if !request.filters.is_empty() {
        let filters: Vec<&str> = request.filters.iter().map(|f| f.id.as_str()).collect();
        text.push_str(&format!(" filters={}", filters.join(",")));
    }
    if let Some(g) = request.granularity {
        text.push_str(&format!(" requestedGranularity={g}"));
    }
    text
}

/// The datasets a request touched: its scope, or what it asked for when refused.
fn datasets(app: &AppState, caller: &Caller, endpoint: &Endpoint, request: Option<&BeaconRequest>) -> Vec<String> {
    let Some(request) = request else { return Vec::new() };
    let named = match endpoint.entity() {
        DATASET | COHORT => endpoint.id(),
        _ => None,
    };
    match scope(app, caller, request, named) {
        Ok(scope) => scope.ids(),
        Err(_) => {
            let mut wanted: Vec<String> = request
                .parameter("datasets")
                .map(|list| list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect())
                .unwrap_or_default();
            wanted.extend(named.map(str::to_string));
            // Only the node's own dataset ids: anything else is the caller's text.
            let known = app.node.cohort().map(|c| c.datasets.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
            wanted.retain(|id| known.contains(id));
            wanted
        }
    }
}

/// The record of an answered or refused query; `via` names a network peer that forwarded it.
pub fn query(
    app: &AppState,
    caller: &Caller,
    endpoint: &Endpoint,
    request: Option<&BeaconRequest>,
    outcome: &Result<Value, BeaconError>,
    via: Option<&str>,
) -> AuditRecord {
    let datasets = datasets(app, caller, endpoint, request);
    let (decision, granularity, mut detail) = match outcome {
        Ok(value) => {
            (Decision::Allowed, value["meta"]["returnedGranularity"].as_str().map(str::to_string), String::new())
        }
        Err(e) => (Decision::Denied, None, format!("HTTP {}: {}", e.status.as_u16(), e.message)),
    };
    if let Some(via) = via {
        detail = if detail.is_empty() { via.to_string() } else { format!("{via}; {detail}") };
    }
    let raised = outcome.as_ref().is_ok_and(counts_raised);
    let tier = tier(caller, &datasets);
    AuditRecord {
        time: oresund_node::clock::now_rfc3339(),
        actor: caller.label().to_string(),
        action: AuditAction::Query,
        resource: shorten(recordable(app, resource(endpoint, request))),
        datasets,
        granularity,
        decision,
        detail: QueryNote::render(tier, raised, &shorten(recordable(app, detail))),
        subject: None,
    }
}

/// The tier the caller was answered at — the highest among the datasets the request touched —
/// as the audit note names it (`public`, `registered`, `controlled`).
pub(crate) fn tier(caller: &Caller, datasets: &[String]) -> &'static str {
    let base = if caller.registered { Tier::Registered } else { Tier::Public };
    match datasets.iter().map(|d| caller.tier(d)).fold(base, Tier::max) {
        Tier::Public => "public",
        Tier::Registered => "registered",
        Tier::Controlled => "controlled",
    }
}

/// Whether an answer raised a small count to the threshold (`countPrecision: imprecise` in its
/// summary or any result set).
fn counts_raised(answer: &Value) -> bool {
    let imprecise = |v: &Value| v["countPrecision"].as_str() == Some("imprecise");
    imprecise(&answer["responseSummary"])
        || answer["response"]["resultSets"].as_array().is_some_and(|sets| sets.iter().any(imprecise))
}

/// The record of a refused credential (HTTP 401), with the identity a refused passport claimed.
pub fn credential_refused(app: &AppState, bearer: Option<&str>, path: &str, error: &BeaconError) -> AuditRecord {
    let passport = bearer.filter(|b| is_jws(b));
    let claimed = passport.and_then(claimed_identity);
    let detail = match &claimed {
        Some(claimed) => format!("{} (claimed {claimed})", error.message),
        None => error.message.clone(),
    };
    // Filed under the dataset a refused grant names too, so `audit show --dataset` finds it.
    let known = app.node.cohort().map(|c| c.datasets.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
    let datasets = passport.map(|p| claimed_datasets(p, &known)).unwrap_or_default();
    AuditRecord {
        time: oresund_node::clock::now_rfc3339(),
        actor: "unauthenticated".into(),
        action: AuditAction::Auth,
        resource: shorten(recordable(app, format!("/{}", path.trim_start_matches('/')))),
        datasets,
        granularity: None,
        decision: Decision::Denied,
        detail: shorten(recordable(app, detail)),
        // The identity is unverified: it is the subject of the entry, never its actor.
        subject: claimed.map(|c| shorten(recordable(app, c))),
    }
}

/// The datasets of this node that a passport's ControlledAccessGrants visas name (unverified: for
/// filing a refusal only).
fn claimed_datasets(passport: &str, known: &[String]) -> Vec<String> {
    let claims = crate::passport_auth::unverified_claims;
    let Some(passport) = claims(passport) else { return Vec::new() };
    let visas = passport["ga4gh_passport_v1"].as_array().cloned().unwrap_or_default();
    let mut out: Vec<String> = Vec::new();
    for visa in visas.iter().filter_map(Value::as_str).take(oresund_access::passport::MAX_VISAS).filter_map(claims) {
        let object = &visa["ga4gh_visa_v1"];
        if object["type"].as_str() != Some(oresund_access::passport::CONTROLLED_ACCESS_GRANTS) {
            continue;
        }
        let named = object["value"].as_str().and_then(|v| v.rsplit_once("/datasets/")).map(|(_, id)| id);
        if let Some(id) = named.filter(|id| known.iter().any(|k| k == id) && !out.iter().any(|d| d == id)) {
            out.push(id.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_cut_at_a_character_boundary() {
        assert_eq!(shorten("short".into()), "short");
        let cut = shorten("ø".repeat(800));
        assert!(cut.len() <= MAX_RESOURCE + '…'.len_utf8() && cut.ends_with('…'), "{}", cut.len());
    }
}
