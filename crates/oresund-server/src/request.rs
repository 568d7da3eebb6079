//! A Beacon v2 request, from a GET query string or a POST body (`beaconRequestBody.json`), in one
//! shape. Unknown parameters are refused with the list of accepted ones: a typo must not silently
//! widen a query.

use std::collections::BTreeMap;

use oresund_access::Granularity;
use serde_json::{Map, Value};

use crate::error::BeaconError;

/// The most filters one request may carry (each is an ontology expansion and a cohort scan).
pub const MAX_FILTERS: usize = 32;

/// One filter (Beacon v2 `filteringTerms.json`): an ontology or custom term.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub id: String,
    /// `includeDescendantTerms`, default true (Beacon v2 framework, requests/filteringTerms.json).
    pub include_descendants: bool,
    /// Set for alphanumeric filters (`{id, operator, value}`), which this node does not support.
    pub operator: Option<String>,
}

/// Which result sets to return (`includeResultsetResponses`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultsetResponses {
    Hit,
    Miss,
    All,
    None,
}

impl ResultsetResponses {
    pub fn as_str(self) -> &'static str {
        match self {
            ResultsetResponses::Hit => "HIT",
            ResultsetResponses::Miss => "MISS",
            ResultsetResponses::All => "ALL",
            ResultsetResponses::None => "NONE",
        }
    }

    /// Whether a result set with `exists` belongs in the response.
    pub fn includes(self, exists: bool) -> bool {
        match self {
            ResultsetResponses::Hit => exists,
            ResultsetResponses::Miss => !exists,
            ResultsetResponses::All => true,
            ResultsetResponses::None => false,
        }
    }
}

/// A parsed request.
#[derive(Debug, Clone)]
pub struct BeaconRequest {
    /// `requestParameters`, values as strings (GET lists stay comma-joined).
    pub parameters: BTreeMap<String, String>,
    pub filters: Vec<Filter>,
    /// `None` when the caller did not ask: the most they may see is returned.
    pub granularity: Option<Granularity>,
    pub resultsets: ResultsetResponses,
    pub skip: usize,
    pub limit: usize,
    pub requested_schemas: Vec<String>,
    pub api_version: String,
}

/// Largest `limit` a caller may ask for.
pub const MAX_LIMIT: usize = 1000;
const DEFAULT_LIMIT: usize = 10;

/// GET parameters every endpoint accepts besides its own request parameters.
const COMMON_GET: [&str; 7] =
    ["filters", "requestedSchema", "skip", "limit", "includeResultsetResponses", "requestedGranularity", "testMode"];

fn parse_granularity(text: &str) -> Result<Granularity, BeaconError> {
    match text.trim().parse::<Granularity>() {
        Ok(Granularity::None) | Err(_) => Err(BeaconError::bad_request(format!(
            "requestedGranularity must be boolean, count or record, got {text:?}"
        ))),
        Ok(g) => Ok(g),
    }
}

fn parse_resultsets(text: &str) -> Result<ResultsetResponses, BeaconError> {
    match text.trim().to_ascii_uppercase().as_str() {
        "HIT" => Ok(ResultsetResponses::Hit),
        "MISS" => Ok(ResultsetResponses::Miss),
        "ALL" => Ok(ResultsetResponses::All),
        "NONE" => Ok(ResultsetResponses::None),
        _ => Err(BeaconError::bad_request(format!(
            "includeResultsetResponses must be HIT, MISS, ALL or NONE, got {text:?}"
        ))),
    }
}

fn parse_count(name: &str, text: &str) -> Result<usize, BeaconError> {
    text.trim()
        .parse::<usize>()
        .map_err(|_| BeaconError::bad_request(format!("{name} must be a non-negative whole number, got {text:?}")))
}

fn check_limit(limit: usize) -> Result<usize, BeaconError> {
    if limit > MAX_LIMIT {
        return Err(BeaconError::bad_request(format!("limit must be at most {MAX_LIMIT}, got {limit}")));
    }
    Ok(if limit == 0 { DEFAULT_LIMIT } else { limit })
}

fn unknown(name: &str, accepted: &[&str]) -> BeaconError {
    let mut all: Vec<&str> = accepted.to_vec();
    all.extend(COMMON_GET);
    BeaconError::bad_request(format!("unknown parameter {name:?}; this endpoint accepts: {}", all.join(", ")))
}

impl BeaconRequest {
    pub(crate) fn empty() -> Self {
        Self {
            parameters: BTreeMap::new(),
            filters: Vec::new(),
            granularity: None,
            resultsets: ResultsetResponses::Hit,
            skip: 0,
            limit: DEFAULT_LIMIT,
            requested_schemas: Vec::new(),
            api_version: crate::API_VERSION.into(),
        }
    }

    /// From a GET query string's pairs; `accepted` are the endpoint's own request parameters.
    /// Refuses requests with more filters than one request may carry.
    fn within_limits(self) -> Result<Self, BeaconError> {
        if self.filters.len() > MAX_FILTERS {
            return Err(BeaconError::bad_request(format!(
                "{} filters given; a request may carry at most {MAX_FILTERS}",
                self.filters.len()
            )));
        }
        Ok(self)
    }

    pub fn from_query(pairs: &[(String, String)], accepted: &[&str]) -> Result<Self, BeaconError> {
        let mut request = Self::empty();
        for (name, value) in pairs {
            match name.as_str() {
                "filters" => {
                    for id in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        request.filters.push(Filter { id: id.to_string(), include_descendants: true, operator: None });
                    }
                }
                "requestedSchema" => request.requested_schemas.push(value.clone()),
                "skip" => request.skip = parse_count("skip", value)?,
                "limit" => request.limit = check_limit(parse_count("limit", value)?)?,
                "includeResultsetResponses" => request.resultsets = parse_resultsets(value)?,
                "requestedGranularity" => request.granularity = Some(parse_granularity(value)?),
                "testMode" => {}
                other if accepted.contains(&other) => {
                    if request.parameters.insert(other.to_string(), value.clone()).is_some() {
                        return Err(BeaconError::bad_request(format!(
                            "parameter {other:?} is given twice; give lists comma-joined (start=1,5)"
                        )));
                    }
                }
                other => return Err(unknown(other, accepted)),
            }
        }
        request.within_limits()
    }

    /// From a POST body (`beaconRequestBody.json`).
    pub fn from_body(body: &[u8], accepted: &[&str]) -> Result<Self, BeaconError> {
        let mut request = Self::empty();
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(request);
        }
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            BeaconError::bad_request(format!("the request body is not valid JSON ({e}); see beaconRequestBody.json"))
        })?;
        let root =
            value.as_object().ok_or_else(|| BeaconError::bad_request("the request body must be a JSON object"))?;
        for key in root.keys() {
            if !matches!(key.as_str(), "meta" | "query") {
                return Err(BeaconError::bad_request(format!(
                    "unknown top-level field {key:?}; expected meta and query"
                )));
            }
        }
        if let Some(meta) = root.get("meta") {
            let meta = object(meta, "meta")?;
            if let Some(version) = meta.get("apiVersion") {
                request.api_version = string(version, "meta.apiVersion")?.to_string();
            }
            if let Some(schemas) = meta.get("requestedSchemas") {
                for schema in array(schemas, "meta.requestedSchemas")? {
                    let schema = object(schema, "meta.requestedSchemas[]")?;
                    if let Some(id) = schema.get("schema") {
                        request.requested_schemas.push(string(id, "requestedSchemas[].schema")?.to_string());
                    }
                }
            }
        }
        let Some(query) = root.get("query") else { return Ok(request) };
        let query = object(query, "query")?;
        for (key, value) in query {
            match key.as_str() {
                "requestParameters" => {
                    for (name, value) in object(value, "query.requestParameters")? {
                        if !accepted.contains(&name.as_str()) {
                            return Err(unknown(name, accepted));
                        }
                        request.parameters.insert(name.clone(), parameter_text(value, name)?);
                    }
                }
                "filters" => {
                    for filter in array(value, "query.filters")? {
                        request.filters.push(parse_filter(filter)?);
                    }
                }
                "includeResultsetResponses" => {
                    request.resultsets = parse_resultsets(string(value, "includeResultsetResponses")?)?
                }
                "requestedGranularity" => {
                    request.granularity = Some(parse_granularity(string(value, "requestedGranularity")?)?)
                }
                "pagination" => {
                    let pagination = object(value, "query.pagination")?;
                    if let Some(skip) = pagination.get("skip") {
                        request.skip = number(skip, "pagination.skip")?;
                    }
                    if let Some(limit) = pagination.get("limit") {
                        request.limit = check_limit(number(limit, "pagination.limit")?)?;
                    }
                }
                "testMode" => {}
                other => {
                    return Err(BeaconError::bad_request(format!(
                        "unknown field query.{other}; expected requestParameters, filters, includeResultsetResponses, \
                         pagination, requestedGranularity, testMode"
                    )));
                }
            }
        }
        request.within_limits()
    }

    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters.get(name).map(String::as_str)
    }
}

pub(crate) fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, BeaconError> {
    value.as_object().ok_or_else(|| BeaconError::bad_request(format!("{what} must be a JSON object")))
}

pub(crate) fn array<'a>(value: &'a Value, what: &str) -> Result<&'a Vec<Value>, BeaconError> {
    value.as_array().ok_or_else(|| BeaconError::bad_request(format!("{what} must be a JSON array")))
}

pub(crate) fn string<'a>(value: &'a Value, what: &str) -> Result<&'a str, BeaconError> {
    value.as_str().ok_or_else(|| BeaconError::bad_request(format!("{what} must be a string")))
}

fn number(value: &Value, what: &str) -> Result<usize, BeaconError> {
    value
        .as_u64()
        .map(|n| n as usize)
        .ok_or_else(|| BeaconError::bad_request(format!("{what} must be a non-negative whole number")))
}

/// A request parameter as text: numbers and strings as themselves, arrays comma-joined (as GET).
fn parameter_text(value: &Value, name: &str) -> Result<String, BeaconError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Array(items) => {
            let parts: Result<Vec<String>, BeaconError> = items.iter().map(|v| parameter_text(v, name)).collect();
            Ok(parts?.join(","))
        }
        _ => Err(BeaconError::bad_request(format!("requestParameters.{name} must be a string, a number or a list"))),
    }
}

pub(crate) fn parse_filter(value: &Value) -> Result<Filter, BeaconError> {
    if let Some(id) = value.as_str() {
        return Ok(Filter { id: id.to_string(), include_descendants: true, operator: None });
    }
    let filter = object(value, "a filter")?;
    let id =
        string(filter.get("id").ok_or_else(|| BeaconError::bad_request("every filter needs an id"))?, "filter id")?;
    let include_descendants = match filter.get("includeDescendantTerms") {
        None => true,
        Some(v) => {
            v.as_bool().ok_or_else(|| BeaconError::bad_request("includeDescendantTerms must be true or false"))?
        }
    };
    let operator = filter.get("operator").map(|o| string(o, "filter operator").map(str::to_string)).transpose()?;
    for key in filter.keys() {
        if !matches!(key.as_str(), "id" | "includeDescendantTerms" | "operator" | "value" | "scope" | "similarity") {
            return Err(BeaconError::bad_request(format!("unknown filter field {key:?}")));
        }
    }
    Ok(Filter { id: id.to_string(), include_descendants, operator })
}

#[cfg(test)]
mod tests {
    use super::*;

    const G_VARIANTS: [&str; 4] = ["referenceName", "start", "referenceBases", "alternateBases"];

    #[test]
    fn get_and_post_give_the_same_request() {
        let get = BeaconRequest::from_query(
            &[
                ("referenceName".into(), "22".into()),
                ("start".into(), "17000016".into()),
                ("filters".into(), "HP:0001250,NCIT:C16576".into()),
                ("requestedGranularity".into(), "count".into()),
            ],
            &G_VARIANTS,
        )
        .unwrap();
        let post = BeaconRequest::from_body(
            br#"{"meta":{"apiVersion":"2.0"},"query":{"requestParameters":{"referenceName":"22","start":[17000016]},
                "filters":[{"id":"HP:0001250"},{"id":"NCIT:C16576","includeDescendantTerms":false}],
                "requestedGranularity":"count","pagination":{"skip":0,"limit":5}}}"#,
            &G_VARIANTS,
        )
        .unwrap();
        assert_eq!(get.parameters, post.parameters);
        assert_eq!(get.granularity, Some(Granularity::Count));
        assert_eq!(post.filters[1], Filter { id: "NCIT:C16576".into(), include_descendants: false, operator: None });
        assert_eq!(post.limit, 5);
    }

    #[test]
    fn mistakes_are_400_with_what_to_fix() {
        let err = BeaconRequest::from_query(&[("strat".into(), "5".into())], &G_VARIANTS).unwrap_err();
        assert!(
            err.message.contains("unknown parameter \"strat\"") && err.message.contains("start"),
            "{}",
            err.message
        );
        for body in [
            &b"{not json"[..],
            br#"[1]"#,
            br#"{"query":{"requestParameters":{"colour":"red"}}}"#,
            br#"{"query":{"requestedGranularity":"everything"}}"#,
            br#"{"query":{"pagination":{"limit":-1}}}"#,
            br#"{"query":{"filters":[{"value":"x"}]}}"#,
        ] {
            let err = BeaconRequest::from_body(body, &G_VARIANTS).unwrap_err();
            assert_eq!(err.status.as_u16(), 400, "{}", String::from_utf8_lossy(body));
        }
        assert!(BeaconRequest::from_query(&[("limit".into(), "100000".into())], &[]).is_err());
    }
}
