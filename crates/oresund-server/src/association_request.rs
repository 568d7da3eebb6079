//! The body of `POST /association` (and `/network/association`), checked before anything is
//! counted: cases by filters (at least one), controls by filters (none = everyone else), the
//! datasets, and either a region (Beacon's 0-based `start`, exclusive `end`, at most 10 Mb) or a
//! list of variants (`CHROM-POS-REF-ALT`, at most [`MAX_VARIANTS`]). Camel case, as in Beacon.

use oresund_core::region::Region;
use oresund_core::variant::Variant;
use serde_json::Value;

use crate::error::BeaconError;
use crate::genomic::within_span;
use crate::request::{Filter, MAX_FILTERS, array, object, parse_filter, string};

/// The most variants one request may list.
pub const MAX_VARIANTS: usize = 1000;

/// What to test.
#[derive(Debug, Clone, PartialEq)]
pub enum Tested {
    Region(Region),
    Variants(Vec<Variant>),
}

/// A parsed association request.
#[derive(Debug, Clone, PartialEq)]
pub struct AssociationRequest {
    pub cases: Vec<Filter>,
    /// Empty: everyone in the datasets who is not a case.
    pub controls: Vec<Filter>,
    pub datasets: Vec<String>,
    pub tested: Tested,
}

const FIELDS: [&str; 8] = ["cases", "controls", "datasets", "referenceName", "start", "end", "variants", "assemblyId"];

fn group(value: &Value, name: &str) -> Result<Vec<Filter>, BeaconError> {
    let group = object(value, name)?;
    if let Some(key) = group.keys().find(|k| k.as_str() != "filters") {
        return Err(BeaconError::bad_request(format!("unknown field {name}.{key}; a group has only \"filters\"")));
    }
    let filters = match group.get("filters") {
        Some(list) => array(list, &format!("{name}.filters"))?.iter().map(parse_filter).collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    if filters.len() > MAX_FILTERS {
        return Err(BeaconError::bad_request(format!(
            "{name}.filters has {} filters; at most {MAX_FILTERS}",
            filters.len()
        )));
    }
    Ok(filters)
}

fn coordinate(body: &serde_json::Map<String, Value>, name: &str) -> Result<u64, BeaconError> {
    let value = body.get(name).ok_or_else(|| {
        BeaconError::bad_request(format!("{name} is missing; a region needs referenceName, start and end"))
    })?;
    value
        .as_u64()
        .ok_or_else(|| BeaconError::bad_request(format!("{name} must be a 0-based non-negative integer, got {value}")))
}

impl AssociationRequest {
    pub fn parse(body: &[u8]) -> Result<Self, BeaconError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| BeaconError::bad_request(format!("the request body is not JSON: {e}")))?;
        let body = object(&value, "the request body")?;
        if let Some(key) = body.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(BeaconError::bad_request(format!(
                "unknown field {key:?}; an association request has {}",
                FIELDS.join(", ")
            )));
        }
        let cases = group(
            body.get("cases").ok_or_else(|| {
                BeaconError::bad_request(
                    "cases is missing: define them by filters, e.g. {\"filters\": [{\"id\": \"HP:0001250\"}]}",
                )
            })?,
            "cases",
        )?;
        if cases.is_empty() {
            return Err(BeaconError::bad_request(
                "cases.filters is empty: cases must be defined by at least one filter",
            ));
        }
        let controls = body.get("controls").map(|c| group(c, "controls")).transpose()?.unwrap_or_default();
        let datasets = match body.get("datasets") {
            Some(list) => array(list, "datasets")?
                .iter()
                .map(|d| string(d, "a dataset id").map(str::to_string))
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        let region = ["referenceName", "start", "end"].iter().any(|k| body.contains_key(*k));
        let tested = match (region, body.get("variants")) {
            (true, Some(_)) => {
                return Err(BeaconError::bad_request(
                    "give either a region (referenceName, start, end) or variants, not both",
                ));
            }
            (false, None) => {
                return Err(BeaconError::bad_request(
                    "nothing to test: give a region (referenceName, start, end; 0-based, at most 10 Mb) or variants",
                ));
            }
            (true, None) => {
                let chrom = string(
                    body.get("referenceName").ok_or_else(|| BeaconError::bad_request("referenceName is missing"))?,
                    "referenceName",
                )?;
                let (start, end) = (coordinate(body, "start")?, coordinate(body, "end")?);
                if end <= start {
                    return Err(BeaconError::bad_request(format!("end ({end}) must be greater than start ({start})")));
                }
                within_span(start, end)?;
                Tested::Region(Region { chrom: chrom.to_string(), start: start + 1, end })
            }
            (false, Some(list)) => {
                let list = array(list, "variants")?;
                if list.is_empty() || list.len() > MAX_VARIANTS {
                    return Err(BeaconError::bad_request(format!(
                        "variants must list 1 to {MAX_VARIANTS} variants, got {}",
                        list.len()
                    )));
                }
                let parse = |v: &Value| -> Result<Variant, BeaconError> {
                    let id = string(v, "a variant")?;
                    id.parse().map_err(|e| {
                        BeaconError::bad_request(format!(
                            "variant {id:?}: {e} (expected CHROM-POS-REF-ALT, e.g. 22-17000017-C-A)"
                        ))
                    })
                };
                Tested::Variants(list.iter().map(parse).collect::<Result<_, _>>()?)
            }
        };
        Ok(Self { cases, controls, datasets, tested })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AssociationRequest, String> {
        AssociationRequest::parse(text.as_bytes()).map_err(|e| e.message)
    }

    #[test]
    fn a_region_in_beacon_coordinates_becomes_one_based() {
        let request = parse(
            r#"{"cases": {"filters": [{"id": "HP:0001250"}]}, "controls": {"filters": []},
                "datasets": ["DK-COHORT-1"], "referenceName": "22", "start": 16000000, "end": 17000000}"#,
        )
        .unwrap();
        assert_eq!(request.tested, Tested::Region(Region { chrom: "22".into(), start: 16_000_001, end: 17_000_000 }));
        assert_eq!(request.cases[0].id, "HP:0001250");
        assert!(request.controls.is_empty());
        assert_eq!(request.datasets, vec!["DK-COHORT-1".to_string()]);
        let listed = parse(r#"{"cases": {"filters": ["HP:0001250"]}, "variants": ["22-17000017-C-A"]}"#).unwrap();
        assert_eq!(listed.tested, Tested::Variants(vec!["22-17000017-C-A".parse().unwrap()]));
    }

    #[test]
    fn bad_requests_say_what_to_fix() {
        let cases = r#""cases": {"filters": [{"id": "HP:0001250"}]}"#;
        for (body, expected) in [
            ("[]".to_string(), "must be"),
            ("{".to_string(), "not JSON"),
            (r#"{"referenceName": "22", "start": 1, "end": 2}"#.to_string(), "cases is missing"),
            (r#"{"cases": {"filters": []}, "variants": ["22-1-C-A"]}"#.to_string(), "at least one filter"),
            (format!(r#"{{{cases}}}"#), "nothing to test"),
            (format!(r#"{{{cases}, "referenceName": "22", "start": 0, "end": 20000001}}"#), "more than 10 Mb"),
            (format!(r#"{{{cases}, "referenceName": "22", "start": 5, "end": 5}}"#), "greater than start"),
            (format!(r#"{{{cases}, "referenceName": "22", "start": -1, "end": 5}}"#), "non-negative"),
            (format!(r#"{{{cases}, "referenceName": "22", "end": 5}}"#), "start is missing"),
            (format!(r#"{{{cases}, "variants": []}}"#), "1 to 1000"),
            (format!(r#"{{{cases}, "variants": ["22:1:C:A"]}}"#), "CHROM-POS-REF-ALT"),
            (format!(r#"{{{cases}, "variants": ["22-1-C-A"], "start": 1}}"#), "not both"),
            (format!(r#"{{{cases}, "variants": ["22-1-C-A"], "sex": "f"}}"#), "unknown field \"sex\""),
            (r#"{"cases": {"filter": []}, "variants": ["22-1-C-A"]}"#.to_string(), "unknown field cases.filter"),
        ] {
            let error = parse(&body).unwrap_err();
            assert!(error.contains(expected), "{body}: {error}");
        }
        let many = format!(r#"{{{cases}, "variants": [{}]}}"#, vec!["\"22-1-C-A\""; 1001].join(","));
        assert!(parse(&many).unwrap_err().contains("got 1001"));
    }
}
