//! `/individuals`: who matches the filters, per dataset — counts below CONTROLLED, pseudonymous
//! records (never local ids) at CONTROLLED.

use std::collections::BTreeMap;

use oresund_access::{Caller, Granularity};
use oresund_core::individual::{Individual, Sex};
use oresund_core::ontology::Ontology;
use oresund_store::IndividualNumber;
use serde_json::{Value, json};

use crate::entities::INDIVIDUAL;
use crate::error::BeaconError;
use crate::filters::resolve;
use crate::request::BeaconRequest;
use crate::response::{Shown, query_response, response_meta, result_set, shown, warnings_info};
use crate::scope::{Scope, scope};
use crate::state::AppState;

/// Which individuals a request is about.
pub enum Selection<'a> {
    /// Everyone passing the filters.
    Filtered,
    /// One individual by pseudonym (`/individuals/{id}`).
    One(&'a str),
    /// Carriers of a variant (`/g_variants/{id}/individuals`).
    Carriers(&'a str),
}

/// Runs an individuals request; `dataset` from `/datasets/{id}/individuals` or `/cohorts/{id}/individuals`.
pub fn search(
    app: &AppState,
    caller: &Caller,
    request: &BeaconRequest,
    dataset: Option<&str>,
    selection: Selection<'_>,
) -> Result<Value, BeaconError> {
    let scope = scope(app, caller, request, dataset)?;
    let filters = resolve(&request.filters, app.node.hpo()?);
    let node = &app.node;
    let cohort = node.cohort().map_err(BeaconError::from)?;
    let mut selected: BTreeMap<String, Vec<IndividualNumber>> = BTreeMap::new();
    if !scope.datasets.is_empty() && !filters.matches_nobody() {
        let filter = scope.cohort_filter(filters.cohort.clone());
        let prepared = node.prepare_filter(&filter).map_err(BeaconError::from)?;
        match selection {
            Selection::Filtered => {
                for (dataset, people) in cohort.selected(&prepared) {
                    selected.insert(dataset, people.iter().map(IndividualNumber::new).collect());
                }
            }
            Selection::One(pseudonym) => {
                // Whether a known pseudonym matches the filters is a fact about that person: only
                // for callers who may see their record.
                if scope.granularity < Granularity::Record {
                    return Err(record_needed(caller));
                }
                let number = node.people(&cohort)?.by_pseudonym.get(pseudonym).copied();
                for (dataset, people) in cohort.selected(&prepared) {
                    if let Some(n) = number.filter(|n| people.contains(n.get())) {
                        selected.insert(dataset, vec![n]);
                    }
                }
            }
            Selection::Carriers(variant) => {
                let calls = node.find_variant(variant).map_err(BeaconError::from)?;
                // A carrier count tells as much as an allele count: the same budget applies.
                let counted = match &calls {
                    Some(calls) => node.count_calls(calls, &prepared).map_err(BeaconError::from)?,
                    None => None,
                };
                crate::budget::charge(app, caller, &scope, counted.as_slice(), &filter, 0, 1)?;
                if let Some(calls) = calls {
                    for carrier in node.carriers(&calls, &prepared).map_err(BeaconError::from)? {
                        selected.entry(carrier.dataset.to_string()).or_default().push(carrier.individual);
                    }
                }
            }
        }
    }
    let warnings = [&filters.warnings[..], &caller.notes[..]].concat();
    Ok(respond(app, app.node.hpo()?, request, &scope, &selected, &app.node.people(&cohort)?.people, &warnings))
}

fn record_needed(caller: &Caller) -> BeaconError {
    let message = "/individuals/{id} answers only records: CONTROLLED access, requestedGranularity=record";
    if caller.user.is_none() {
        BeaconError::unauthorized(format!("{message}; send Authorization: Bearer <token>"))
    } else {
        BeaconError::forbidden(message)
    }
}

fn sex_term(sex: Sex) -> Value {
    match sex {
        Sex::Female => json!({"id": "NCIT:C16576", "label": "female"}),
        Sex::Male => json!({"id": "NCIT:C20197", "label": "male"}),
        Sex::Unknown => json!({"id": "NCIT:C17998", "label": "unknown"}),
    }
}

/// An individual record (default model individuals/defaultSchema.json), by pseudonym. No `info`:
/// the model's `$ref` for it (`../common/info.json`) does not resolve in the v2.0 schemas.
fn record(hpo: Option<&Ontology>, person: &Individual) -> Value {
    let label = |id: &str| hpo.and_then(|o| o.resolve(id).map(|t| o.name(t).to_string()));
    let phenotypes: Vec<Value> = person
        .hpo_terms
        .iter()
        .map(|id| json!({"featureType": {"id": id, "label": label(id).unwrap_or_else(|| id.clone())}}))
        .collect();
    let diseases: Vec<Value> = person
        .icd10_codes
        .iter()
        .map(|code| json!({"diseaseCode": {"id": format!("ICD10:{code}"), "label": code}}))
        .collect();
    json!({
        "id": person.pseudonym.as_str(),
        "sex": sex_term(person.sex),
        "phenotypicFeatures": phenotypes,
        "diseases": diseases,
    })
}

/// The number of individuals across datasets as disclosed. When a dataset's count was raised to
/// the threshold, an exact total would give it away (total − the other datasets' counts), so the
/// total is then the sum of what each dataset showed, imprecise.
fn total_shown(
    app: &AppState,
    scope: &Scope,
    selected: &BTreeMap<String, Vec<IndividualNumber>>,
    distinct: u64,
) -> Shown {
    let per_dataset: Vec<Shown> = scope
        .datasets
        .iter()
        .map(|d| shown(&app.beacon, selected.get(&d.id).map_or(0, |m| m.len() as u64), d.exact_counts()))
        .collect();
    if per_dataset.iter().all(|s| s.exact) {
        shown(&app.beacon, distinct, scope.all_exact())
    } else {
        Shown { value: per_dataset.iter().map(|s| s.value).sum(), exact: false }
    }
}

fn respond(
    app: &AppState,
    hpo: Option<&Ontology>,
    request: &BeaconRequest,
    scope: &Scope,
    selected: &BTreeMap<String, Vec<IndividualNumber>>,
    people: &BTreeMap<IndividualNumber, Individual>,
    warnings: &[String],
) -> Value {
    let granularity = scope.granularity;
    let meta = response_meta(&app.beacon, INDIVIDUAL, granularity, request);
    let empty = Vec::new();
    let mut result_sets = Vec::new();
    let mut everyone: Vec<IndividualNumber> = Vec::new();
    for dataset in &scope.datasets {
        let members = selected.get(&dataset.id).unwrap_or(&empty);
        everyone.extend(members);
        let exists = !members.is_empty();
        if !request.resultsets.includes(exists) {
            continue;
        }
        let count = shown(&app.beacon, members.len() as u64, dataset.exact_counts());
        let results = if granularity == Granularity::Record {
            members
                .iter()
                .skip(request.skip)
                .take(request.limit)
                .filter_map(|n| people.get(n))
                .map(|p| record(hpo, p))
                .collect()
        } else {
            Vec::new()
        };
        result_sets.push(result_set(&dataset.id, exists, Some(count), results, None));
    }
    everyone.sort_unstable();
    everyone.dedup();
    let total = total_shown(app, scope, selected, everyone.len() as u64);
    query_response(meta, granularity, !everyone.is_empty(), total, result_sets, warnings_info(warnings))
}
