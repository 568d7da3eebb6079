//! `POST /association`: this node's stratum of a case/control association test — per variant the
//! 2×2 allele table (case ALT, case REF, control ALT, control REF) from the carrier index. The
//! network portal pools the nodes' tables and computes the statistics (`network::association`);
//! genotypes never leave the node.
//!
//! Privacy: a CONTROLLED caller (of every dataset counted) gets every table. Below CONTROLLED a
//! table with any cell from 1 to threshold − 1 is never disclosed — the variant is reported
//! "not testable" here — since a small cell tells who carries what as surely as a small count;
//! the tables disclosed are charged to a REGISTERED caller's re-identification budget like
//! genotype counts (`crate::budget`), for the cases and for the controls. A dataset that gives
//! the caller less than counts is left out (or, when named, refused). Every request is audited.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::response::{IntoResponse, Response};
use oresund_access::{Caller, Granularity, Tier};
use oresund_core::association::AlleleTable;
use oresund_core::audit::{AuditAction, AuditRecord, Decision};
use oresund_core::query_note::QueryNote;
use oresund_node::CohortFilter;
use oresund_node::association::{CaseControl, Controls, Target};
use oresund_node::query::VariantCount;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::association_request::{AssociationRequest, Tested};
use crate::caller::authenticate;
use crate::decision::{recordable, shorten};
use crate::error::BeaconError;
use crate::filters::resolve;
use crate::request::{BeaconRequest, Filter};
use crate::scope::{Scope, scope};
use crate::state::AppState;

/// A node's stratum as sent: a Beacon-like envelope (the network checks `meta` and
/// `responseSummary` as for every peer answer) with typed rows — thousands per region, so no
/// `serde_json::Value` per row.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stratum {
    pub meta: Value,
    pub response_summary: Value,
    pub info: StratumInfo,
    pub response: Rows,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StratumInfo {
    /// Every table disclosed in full (CONTROLLED on every dataset counted).
    pub exact: bool,
    pub threshold: u64,
    pub datasets: Vec<String>,
    pub not_testable: usize,
    /// Why the caller's credential gives less than it seems to (see `Caller::notes`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Rows {
    pub results: Vec<Row>,
}

/// One variant: its table, or only that it is not testable here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub variant_internal_id: String,
    pub testable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_alt: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_ref: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_alt: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_ref: Option<u64>,
}

impl Row {
    pub(crate) fn new(variant_internal_id: String, table: Option<AlleleTable>) -> Self {
        Row {
            variant_internal_id,
            testable: table.is_some(),
            case_alt: table.map(|t| t.case_alt),
            case_ref: table.map(|t| t.case_ref),
            control_alt: table.map(|t| t.control_alt),
            control_ref: table.map(|t| t.control_ref),
        }
    }

    /// The table, when the row is testable and complete.
    pub fn table(&self) -> Option<AlleleTable> {
        if !self.testable {
            return None;
        }
        Some(AlleleTable {
            case_alt: self.case_alt?,
            case_ref: self.case_ref?,
            control_alt: self.control_alt?,
            control_ref: self.control_ref?,
        })
    }
}

/// `POST /association`.
pub async fn post(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let result = match authenticate(&app, authorization, "/association").await {
        Ok(caller) => answer_recorded(&app, caller, AssociationRequest::parse(&body), None).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(stratum) => json_response(&stratum),
        Err(error) => error.with_beacon(&app.beacon.id).into_response(),
    }
}

/// A large typed answer as JSON: serialised into one `Vec` (axum's `Json` writes through a
/// growing `BytesMut`, which costs more than the serialisation itself at megabytes).
pub fn json_response(answer: &impl Serialize) -> Response {
    match serde_json::to_vec(answer) {
        Ok(bytes) => ([(axum::http::header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(e) => BeaconError::internal(e).into_response(),
    }
}

/// Answers (or passes on the parse error of) a request and records it in the audit log; `via`
/// names the network peer that forwarded it.
pub async fn answer_recorded(
    app: &AppState,
    caller: Caller,
    request: Result<AssociationRequest, BeaconError>,
    via: Option<String>,
) -> Result<Stratum, BeaconError> {
    let (result, record) = app
        .blocking(move |app| {
            let answered = request.as_ref().map_err(Clone::clone).and_then(|r| answer(app, &caller, r));
            let record = record(app, &caller, request.as_ref().ok(), &answered, via.as_deref());
            (answered, record)
        })
        .await?;
    app.audit.record(record).await?;
    result
}

/// The datasets this caller may have tables of: those giving them at least counts.
fn association_scope(app: &AppState, caller: &Caller, datasets: &[String]) -> Result<Scope, BeaconError> {
    let mut asked = BeaconRequest::empty();
    asked.granularity = Some(Granularity::Count);
    if !datasets.is_empty() {
        asked.parameters.insert("datasets".into(), datasets.join(","));
    }
    let mut scope = scope(app, caller, &asked, None)?;
    if let Some(named) = scope.datasets.iter().find(|d| d.granted < Granularity::Count && datasets.contains(&d.id)) {
        let message = format!("dataset {:?} gives this caller yes/no answers only; association needs counts", named.id);
        return Err(if caller.user.is_none() {
            BeaconError::unauthorized(format!("{message}; send Authorization: Bearer <token>"))
        } else {
            BeaconError::forbidden(message)
        });
    }
    scope.datasets.retain(|d| d.granted >= Granularity::Count);
    if scope.datasets.is_empty() {
        let message = "no dataset of this node gives this caller counts, which association needs";
        return Err(if caller.user.is_none() {
            BeaconError::unauthorized(format!("{message}; send Authorization: Bearer <token>"))
        } else {
            BeaconError::forbidden(format!("{message}; ask the data access committee (POST /dac/requests)"))
        });
    }
    scope.granularity = Granularity::Count;
    Ok(scope)
}

/// Filters as a cohort filter; a filter the node cannot use is an error here (not "matches
/// nobody" as in Beacon queries): a test against an empty group would mislead.
fn cohort(app: &AppState, filters: &[Filter], group: &str, scope: &Scope) -> Result<CohortFilter, BeaconError> {
    let resolved = resolve(filters, app.node.hpo()?);
    if resolved.matches_nobody() {
        return Err(BeaconError::bad_request(format!("{group}: {}", resolved.warnings.join("; "))));
    }
    Ok(scope.cohort_filter(resolved.cohort))
}

fn answer(app: &AppState, caller: &Caller, request: &AssociationRequest) -> Result<Stratum, BeaconError> {
    let scope = association_scope(app, caller, &request.datasets)?;
    let cases = cohort(app, &request.cases, "cases", &scope)?;
    let controls = match request.controls.is_empty() {
        true => Controls::Rest,
        false => Controls::Matching(cohort(app, &request.controls, "controls", &scope)?),
    };
    let target = match &request.tested {
        Tested::Region(region) => Target::Region(region.clone()),
        Tested::Variants(variants) => Target::Variants(variants.clone()),
    };
    let tables = app.node.case_control(&target, &cases, &controls).map_err(BeaconError::from)?;
    let exact = scope.all_exact();
    let threshold = app.beacon.threshold.0;
    let testable = |row: &CaseControl| exact || row.table().cells().iter().all(|&c| c == 0 || c >= threshold);
    let disclosed: Vec<&CaseControl> = tables.iter().filter(|row| testable(row)).collect();
    if scope.datasets.iter().any(|d| d.tier == Tier::Registered) {
        charge(app, caller, &scope, &disclosed, &cases, &controls)?;
    }
    let results: Vec<Row> =
        tables.iter().map(|row| Row::new(row.variant().to_string(), testable(row).then(|| row.table()))).collect();
    let body = Stratum {
        meta: json!({
            "beaconId": app.beacon.id,
            "apiVersion": crate::API_VERSION,
            "returnedGranularity": "count",
            "returnedSchemas": [],
        }),
        response_summary: json!({"exists": !results.is_empty(), "numTotalResults": results.len()}),
        info: StratumInfo {
            exact,
            threshold,
            datasets: scope.ids(),
            not_testable: tables.len() - disclosed.len(),
            warnings: caller.notes.clone(),
        },
        response: Rows { results },
    };
    Ok(body)
}

/// Charges the disclosed tables to a REGISTERED caller's budget: the cases' counts and the
/// controls' (for "everyone else", the carriers among everyone are charged — a little more than
/// the controls alone, never less).
fn charge(
    app: &AppState,
    caller: &Caller,
    scope: &Scope,
    disclosed: &[&CaseControl],
    cases: &CohortFilter,
    controls: &Controls,
) -> Result<(), BeaconError> {
    let of =
        |pick: fn(&CaseControl) -> &VariantCount| disclosed.iter().map(|row| pick(row).clone()).collect::<Vec<_>>();
    crate::budget::charge(app, caller, scope, &of(|r| &r.cases), cases, 0, usize::MAX)?;
    let control_filter = match controls {
        Controls::Rest => {
            CohortFilter { datasets: cases.datasets.clone(), consent: cases.consent.clone(), ..CohortFilter::default() }
        }
        Controls::Matching(filter) => filter.clone(),
    };
    crate::budget::charge(app, caller, scope, &of(|r| &r.controls), &control_filter, 0, usize::MAX)
}

/// `/association cases=… controls=… 22:16000001-17000000` (or `variants=N`).
fn resource(request: &AssociationRequest) -> String {
    let ids = |filters: &[Filter]| filters.iter().map(|f| f.id.as_str()).collect::<Vec<_>>().join(",");
    let controls = if request.controls.is_empty() { "rest".to_string() } else { ids(&request.controls) };
    let tested = match &request.tested {
        Tested::Region(region) => region.to_string(),
        Tested::Variants(variants) => format!("variants={}", variants.len()),
    };
    format!("/association cases={} controls={controls} {tested}", ids(&request.cases))
}

fn record(
    app: &AppState,
    caller: &Caller,
    request: Option<&AssociationRequest>,
    answered: &Result<Stratum, BeaconError>,
    via: Option<&str>,
) -> AuditRecord {
    let (decision, granularity, datasets, mut detail) = match answered {
        Ok(stratum) => {
            let info = &stratum.info;
            let detail = match info.exact {
                true => "exact tables".to_string(),
                false => format!("below CONTROLLED: {} variants not testable", info.not_testable),
            };
            (Decision::Allowed, Some("count".to_string()), info.datasets.clone(), detail)
        }
        Err(e) => {
            // Only the node's own dataset ids: anything else is the caller's text.
            let known = app.node.cohort().map(|c| c.datasets.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
            let asked = request.map(|r| r.datasets.clone()).unwrap_or_default();
            let datasets = asked.into_iter().filter(|d| known.contains(d)).collect();
            (Decision::Denied, None, datasets, format!("HTTP {}: {}", e.status.as_u16(), e.message))
        }
    };
    if let Some(via) = via {
        detail = format!("{via}; {detail}");
    }
    let raised = answered.as_ref().is_ok_and(|s| s.info.not_testable > 0);
    let tier = crate::decision::tier(caller, &datasets);
    AuditRecord {
        time: oresund_node::clock::now_rfc3339(),
        actor: caller.label().to_string(),
        action: AuditAction::Association,
        resource: shorten(recordable(app, request.map(resource).unwrap_or_else(|| "/association".into()))),
        datasets,
        granularity,
        decision,
        detail: QueryNote::render(tier, raised, &shorten(recordable(app, detail))),
        subject: None,
    }
}
