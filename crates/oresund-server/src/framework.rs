//! The framework endpoints: `/` and `/info`, `/service-info`, `/configuration`, `/entry_types`,
//! `/map`, `/filtering_terms` (Beacon v2 framework, responses/*.json).

use serde_json::{Map, Value, json};

use crate::entities::{ALL, EntryType};
use crate::response::informational_meta;
use crate::state::AppState;

const CONFIGURATION_SCHEMA: &str = "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main/framework/json/configuration/beaconConfigurationSchema.json";
const MAP_SCHEMA: &str =
    "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main/framework/json/configuration/beaconMapSchema.json";

pub fn info(app: &AppState) -> Value {
    let b = &app.beacon;
    json!({
        "meta": informational_meta(b, &[("info", "beacon-info-v2.0.0")]),
        "response": {
            "id": b.id,
            "name": b.name,
            "apiVersion": crate::API_VERSION,
            "environment": "prod",
            "organization": {"id": b.organization, "name": b.organization},
            "description": format!(
                "Øresund national genome node ({}), assembly {}: allele counts and frequencies under small-count protection",
                b.country, b.assembly
            ),
            "version": env!("CARGO_PKG_VERSION"),
            "welcomeUrl": b.base_url,
            "info": {"country": b.country, "assemblyId": b.assembly, "countThreshold": b.threshold.0},
        },
    })
}

pub fn service_info(app: &AppState) -> Value {
    let b = &app.beacon;
    json!({
        "id": b.id,
        "name": b.name,
        "type": {"group": "org.ga4gh", "artifact": "beacon", "version": crate::API_VERSION},
        "description": "GA4GH Beacon v2 API of an Øresund national genome node",
        "organization": {"name": b.organization, "url": b.base_url},
        "version": env!("CARGO_PKG_VERSION"),
        "environment": "prod",
    })
}

fn entry_type(e: &EntryType) -> Value {
    let mut definition = json!({
        "id": e.id,
        "name": e.name,
        "partOfSpecification": "Beacon v2.0.0",
        "ontologyTermForThisType": {"id": e.term.0, "label": e.term.1},
        "defaultSchema": {
            "id": e.schema,
            "name": format!("Default schema for {}", e.name),
            "referenceToSchemaDefinition": format!(
                "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main/models/json/beacon-v2-default-model/{}/defaultSchema.json",
                e.model_dir
            ),
            "schemaVersion": "v2.0.0",
        },
        "nonFilteredQueriesAllowed": true,
    });
    if let Some((id, name)) = e.collection_of {
        definition["aCollectionOf"] = json!([{"id": id, "name": name}]);
    }
    definition
}

fn entry_types() -> Map<String, Value> {
    ALL.iter().filter(|e| e.held).map(|e| (e.id.to_string(), entry_type(e))).collect()
}

pub fn configuration(app: &AppState) -> Value {
    json!({
        "meta": informational_meta(&app.beacon, &[("configuration", "beacon-configuration-v2.0.0")]),
        "response": {
            "$schema": CONFIGURATION_SCHEMA,
            "maturityAttributes": {"productionStatus": "PROD"},
            "securityAttributes": {
                "defaultGranularity": "boolean",
                "securityLevels": ["PUBLIC", "REGISTERED", "CONTROLLED"],
            },
            "entryTypes": entry_types(),
        },
    })
}

pub fn entry_types_response(app: &AppState) -> Value {
    json!({
        "meta": informational_meta(&app.beacon, &[("entryType", "beacon-entry-types-v2.0.0")]),
        "response": {"entryTypes": entry_types()},
    })
}

pub fn map(app: &AppState) -> Value {
    let base = app.beacon.base_url.trim_end_matches('/');
    let related = |path: &str, links: &[(&str, &str)]| -> Map<String, Value> {
        links
            .iter()
            .map(|(entry, sub)| {
                (
                    format!("{entry}Lookup"),
                    json!({"returnedEntryType": entry, "url": format!("{base}/{path}/{{id}}/{sub}")}),
                )
            })
            .collect()
    };
    let set = |e: &EntryType, links: &[(&str, &str)]| {
        json!({
            "entryType": e.id,
            "rootUrl": format!("{base}/{}", e.path),
            "singleEntryUrl": format!("{base}/{}/{{id}}", e.path),
            "filteringTermsUrl": format!("{base}/filtering_terms"),
            "endpoints": related(e.path, links),
        })
    };
    use crate::entities::{COHORT, DATASET, GENOMIC_VARIANT, INDIVIDUAL};
    json!({
        "meta": informational_meta(&app.beacon, &[("map", "beacon-map-v2.0.0")]),
        "response": {
            "$schema": MAP_SCHEMA,
            "endpointSets": {
                "genomicVariant": set(&GENOMIC_VARIANT, &[("individual", "individuals")]),
                "individual": set(&INDIVIDUAL, &[]),
                "dataset": set(&DATASET, &[("genomicVariant", "g_variants"), ("individual", "individuals")]),
                "cohort": set(&COHORT, &[("individual", "individuals")]),
            },
        },
    })
}

/// The terms present in the node: every HPO term that selects someone (ancestors included),
/// ICD-10 codes and categories, and the sex terms. No counts: listing terms is public.
pub fn filtering_terms(app: &AppState) -> Result<Value, crate::error::BeaconError> {
    let cohort = app.node.cohort().map_err(crate::error::BeaconError::from)?;
    // A term held by fewer people than the small-count threshold is not listed: that it exists
    // at all would say something about those few (it can still be used as a filter).
    let hpo = app.node.hpo()?;
    let phenotypes = app.node.people(&cohort)?.phenotypes(hpo);
    let mut terms: Vec<(String, Value)> = phenotypes
        .terms(hpo)
        .filter(|(_, _, people)| *people >= app.beacon.threshold.0)
        .map(|(id, label, _)| {
            let label = label.unwrap_or_else(|| id.trim_start_matches("ICD10:")).to_string();
            (id.to_string(), json!({"type": "ontologyTerm", "id": id, "label": label, "scopes": ["individuals", "genomicVariations"]}))
        })
        .collect();
    for (id, label) in [(crate::filters::FEMALE, "female"), (crate::filters::MALE, "male")] {
        terms.push((
            id.to_string(),
            json!({"type": "ontologyTerm", "id": id, "label": label, "scopes": ["individuals", "genomicVariations"]}),
        ));
    }
    terms.sort_by(|a, b| a.0.cmp(&b.0));
    let hpo_version = hpo.and_then(|o| o.version()).unwrap_or("").to_string();
    Ok(json!({
        "meta": informational_meta(&app.beacon, &[("filteringTerm", "beacon-filtering-terms-v2.0.0")]),
        "response": {
            "filteringTerms": terms.into_iter().map(|(_, t)| t).collect::<Vec<_>>(),
            "resources": [
                {"id": "hp", "name": "Human Phenotype Ontology", "url": "https://hpo.jax.org", "version": hpo_version,
                 "nameSpacePrefix": "HP", "iriPrefix": "http://purl.obolibrary.org/obo/HP_"},
                {"id": "ncit", "name": "NCI Thesaurus", "url": "https://ncit.nci.nih.gov",
                 "nameSpacePrefix": "NCIT", "iriPrefix": "http://purl.obolibrary.org/obo/NCIT_"},
                {"id": "icd10", "name": "ICD-10", "url": "https://icd.who.int/browse10",
                 "nameSpacePrefix": "ICD10", "iriPrefix": "https://icd.who.int/browse10/2019/en#/"},
            ],
        },
    }))
}
