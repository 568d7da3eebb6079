//! GA4GH htsget 1.3 for variants (`/variants/{id}`, `/variants/service-info`): a ticket whose
//! URLs, fetched in order and concatenated, form a bgzipped VCF holding the header and exactly
//! the records of the asked regions. Parts of the stored file come through data URLs
//! (`data_url`); the header, re-compressed boundary blocks and the EOF block come inline as
//! `data:` URIs. With `encryptionScheme=C4GH` and the researcher's key
//! (`Htsget-Context-Public-Key`, as in htsget-rs), everything is one Crypt4GH stream for that
//! key whose body segments are the archive's own.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use oresund_c4gh::PublicKey;
use oresund_core::audit::{AuditAction, Decision};
use oresund_core::region::Region;
use oresund_node::delivery::{Form, Piece, Selection};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::data_url;
use crate::delivery_access::{Cleared, Credentials, Recorded, clear};
use crate::delivery_error::{DeliveryFailure, HTSGET_JSON};
use crate::researcher_key;
use crate::state::AppState;

/// Most regions in one POST (more is `PayloadTooLarge`).
pub const MAX_REGIONS: usize = 1_000;
/// Largest POST body accepted.
const MAX_BODY: usize = 1 << 20;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/variants/service-info", get(service_info))
        .route("/variants/{id}", get(ticket_get).post(ticket_post))
        .with_state(state)
}

/// `GET /variants/service-info` (htsget 1.3 "Service Info"; the `htsget` object's field names
/// are the spec's: `fieldsParameterEffective` is singular there).
async fn service_info(State(app): State<AppState>) -> Response {
    let body = json!({
        "id": format!("{}.htsget", app.beacon.id),
        "name": format!("{} htsget", app.beacon.name),
        "type": {"group": "org.ga4gh", "artifact": "htsget", "version": "1.3.0"},
        "description": "Regions of archived VCFs for approved researchers, plain or as Crypt4GH for their key",
        "organization": {"name": app.beacon.organization, "url": app.beacon.base_url},
        "version": env!("CARGO_PKG_VERSION"),
        "htsget": {
            "datatype": "variants",
            "formats": ["VCF"],
            "fieldsParameterEffective": false,
            "tagsParametersEffective": false,
        },
    });
    ([(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// What a ticket request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRequest {
    pub selection: Selection,
    pub crypt4gh: bool,
}

/// POST body (spec "POST request"): `regions` as `{referenceName, start?, end?}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PostBody {
    format: Option<String>,
    class: Option<String>,
    #[serde(default, rename = "fields")]
    _fields: Option<Vec<String>>,
    #[serde(default, rename = "tags")]
    _tags: Option<Vec<String>>,
    #[serde(default, rename = "notags")]
    _notags: Option<Vec<String>>,
    regions: Option<Vec<PostRegion>>,
    #[serde(rename = "encryptionScheme")]
    encryption_scheme: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PostRegion {
    #[serde(rename = "referenceName")]
    reference_name: String,
    start: Option<u64>,
    end: Option<u64>,
}

fn check_format(format: Option<&str>) -> Result<(), DeliveryFailure> {
    match format {
        None | Some("VCF") => Ok(()),
        Some("BCF") => Err(DeliveryFailure::unsupported_format(
            "format BCF is not served: this node archives bgzipped VCF; ask for format=VCF",
        )),
        Some(other) => Err(DeliveryFailure::unsupported_format(format!("format {other:?} is not served; use VCF"))),
    }
}

fn check_class(class: Option<&str>) -> Result<bool, DeliveryFailure> {
    match class {
        None | Some("body") => Ok(false),
        Some("header") => Ok(true),
        Some(other) => Err(DeliveryFailure::invalid_input(format!("class {other:?}: the only class is \"header\""))),
    }
}

fn check_scheme(scheme: Option<&str>) -> Result<bool, DeliveryFailure> {
    match scheme {
        None => Ok(false),
        Some(s) if s.eq_ignore_ascii_case("c4gh") => Ok(true),
        Some(other) => {
            Err(DeliveryFailure::invalid_input(format!("encryptionScheme {other:?}: the only scheme is C4GH")))
        }
    }
}

/// One region in htsget's coordinates (0-based start, exclusive end: spec "start", "end"), as
/// a 1-based inclusive [`Region`].
fn region(name: &str, start: Option<u64>, end: Option<u64>) -> Result<Region, DeliveryFailure> {
    if name.is_empty() || name == "*" {
        return Err(DeliveryFailure::invalid_input(format!(
            "referenceName {name:?}: name a contig (unplaced reads, '*', do not apply to variants)"
        )));
    }
    let (start, end) = (start.unwrap_or(0), end.unwrap_or(u64::MAX));
    if start >= end {
        return Err(DeliveryFailure::invalid_range(format!(
            "start {start} is not before end {end} (htsget ranges are 0-based, end exclusive)"
        )));
    }
    Region::new(name, start + 1, end).map_err(|e| DeliveryFailure::invalid_range(e.to_string()))
}

fn number(name: &str, value: Option<&str>) -> Result<Option<u64>, DeliveryFailure> {
    value
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| DeliveryFailure::invalid_input(format!("{name} {v:?} is not a non-negative whole number")))
        })
        .transpose()
}

/// A GET request's query (spec "Query parameters").
pub fn parse_query(query: Option<&str>) -> Result<TicketRequest, DeliveryFailure> {
    let mut get = std::collections::BTreeMap::new();
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if get.insert(key.to_string(), value.to_string()).is_some() {
            return Err(DeliveryFailure::invalid_input(format!("parameter {key} is given twice")));
        }
    }
    let param = |name: &str| get.get(name).map(String::as_str);
    check_format(param("format"))?;
    let header_only = check_class(param("class"))?;
    let crypt4gh = check_scheme(param("encryptionScheme"))?;
    let (start, end) = (number("start", param("start"))?, number("end", param("end"))?);
    let selection = match param("referenceName") {
        None if start.is_some() || end.is_some() => {
            return Err(DeliveryFailure::invalid_input("start and end need a referenceName"));
        }
        Some(_) if header_only => {
            return Err(DeliveryFailure::invalid_input("class=header takes no referenceName, start or end"));
        }
        None if header_only => Selection::Header,
        None => Selection::Whole,
        Some(name) => Selection::Regions(vec![region(name, start, end)?]),
    };
    Ok(TicketRequest { selection, crypt4gh })
}

/// A POST request's body (spec "POST request").
pub fn parse_body(body: &[u8], query: Option<&str>) -> Result<TicketRequest, DeliveryFailure> {
    if body.len() > MAX_BODY {
        return Err(DeliveryFailure::too_large(format!("the request body is over {MAX_BODY} bytes")));
    }
    let body: PostBody = if body.iter().all(u8::is_ascii_whitespace) {
        PostBody {
            format: None,
            class: None,
            _fields: None,
            _tags: None,
            _notags: None,
            regions: None,
            encryption_scheme: None,
        }
    } else {
        serde_json::from_slice(body)
            .map_err(|e| DeliveryFailure::invalid_input(format!("the request body is not an htsget request: {e}")))?
    };
    check_format(body.format.as_deref())?;
    let header_only = check_class(body.class.as_deref())?;
    // The scheme may also come as a query parameter, as on GET.
    let scheme = body.encryption_scheme.or_else(|| {
        form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .find(|(k, _)| k == "encryptionScheme")
            .map(|(_, v)| v.into_owned())
    });
    let crypt4gh = check_scheme(scheme.as_deref())?;
    let selection = match body.regions {
        Some(regions) if header_only && !regions.is_empty() => {
            return Err(DeliveryFailure::invalid_input("class=header takes no regions"));
        }
        Some(regions) if regions.len() > MAX_REGIONS => {
            return Err(DeliveryFailure::too_large(format!(
                "{} regions in one request; at most {MAX_REGIONS}",
                regions.len()
            )));
        }
        _ if header_only => Selection::Header,
        None => Selection::Whole,
        Some(regions) if regions.is_empty() => {
            return Err(DeliveryFailure::invalid_input("regions is empty; leave it out for the whole file"));
        }
        Some(regions) => Selection::Regions(
            regions.iter().map(|r| region(&r.reference_name, r.start, r.end)).collect::<Result<_, _>>()?,
        ),
    };
    Ok(TicketRequest { selection, crypt4gh })
}

async fn ticket_get(
    State(app): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let request = parse_query(query.as_deref());
    ticket(&app, &id, request, &headers).await.unwrap_or_else(DeliveryFailure::htsget)
}

async fn ticket_post(
    State(app): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = parse_body(&body, query.as_deref());
    ticket(&app, &id, request, &headers).await.unwrap_or_else(DeliveryFailure::htsget)
}

/// What a ticket covers, for the audit log: `22:1-100,X:5-9`, `header` or `whole file`.
fn describe(selection: &Selection) -> String {
    match selection {
        Selection::Whole => "whole file".into(),
        Selection::Header => "header".into(),
        Selection::Regions(regions) => regions
            .iter()
            .map(|r| match (r.start, r.end) {
                (1, u64::MAX) => r.chrom.clone(),
                (start, u64::MAX) => format!("{}:{start}-", r.chrom),
                (start, end) => format!("{}:{start}-{end}", r.chrom),
            })
            .collect::<Vec<_>>()
            .join(","),
    }
}

async fn ticket(
    app: &AppState,
    id: &str,
    request: Result<TicketRequest, DeliveryFailure>,
    headers: &HeaderMap,
) -> Result<Response, DeliveryFailure> {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    let request = request?;
    let recipient = researcher_key::from_headers(headers)?;
    if request.crypt4gh && recipient.is_none() {
        return Err(DeliveryFailure::invalid_input(
            "encryptionScheme=C4GH needs the researcher's public key in Htsget-Context-Public-Key (base64 of the key file)",
        ));
    }
    let recipient = recipient.filter(|_| request.crypt4gh);
    let scheme = if request.crypt4gh { " encryptionScheme=C4GH" } else { "" };
    let recorded =
        Recorded::new(AuditAction::HtsgetTicket, format!("/variants/{id} {}{scheme}", describe(&request.selection)));
    let cleared = clear(app, Credentials::Header(authorization), id, &recorded).await?;
    let (deliveries, file, selection) = (cleared.deliveries.clone(), cleared.file.clone(), request.selection.clone());
    let planned = app
        .blocking(move |_| deliveries.plan(&file, &selection, recipient.as_ref()))
        .await
        .map_err(DeliveryFailure::from_beacon)?;
    let user = cleared.caller.label().to_string();
    let pieces = match planned {
        Ok(pieces) => pieces,
        Err(e) => {
            let failure = DeliveryFailure::from_delivery(&e);
            let detail = format!("HTTP {}: {}", failure.status.as_u16(), failure.message);
            recorded.note(app, &user, Some(&cleared.file.dataset), Decision::Denied, detail).await;
            return Err(failure);
        }
    };
    let urls = ticket_urls(app, &cleared, &pieces, recipient.as_ref(), matches!(request.selection, Selection::Header));
    let (archived, made) = pieces.iter().fold((0u64, 0u64), |(a, m), p| match p {
        Piece::Bytes(b) => (a, m + b.len() as u64),
        Piece::Plain(r) | Piece::Cipher(r) => (a + r.end - r.start, m),
    });
    let key = recipient.map(|k| format!(" for Crypt4GH key {}", oresund_node::keys::key_id(&k))).unwrap_or_default();
    let detail = format!("{} urls: {archived} archived bytes, {made} bytes made{key}", urls.len());
    recorded.log(app, &user, Some(&cleared.file.dataset), Decision::Allowed, detail).await?;
    let body = json!({"htsget": {"format": "VCF", "urls": urls}});
    Ok(([(header::CONTENT_TYPE, HTSGET_JSON)], body.to_string()).into_response())
}

/// The ticket's `urls`: inline bytes as `data:` URIs, stored bytes as signed data URLs.
fn ticket_urls(
    app: &AppState,
    cleared: &Cleared,
    pieces: &[Piece],
    recipient: Option<&PublicKey>,
    header_only: bool,
) -> Vec<Value> {
    let user = cleared.caller.label();
    let media = if recipient.is_some() { "application/octet-stream" } else { "application/vnd.ga4gh.vcf" };
    pieces
        .iter()
        .enumerate()
        .map(|(i, piece)| {
            let url = match piece {
                Piece::Bytes(bytes) => format!("data:{media};base64,{}", STANDARD.encode(bytes)),
                Piece::Plain(range) => {
                    let claims = data_url::claims(&cleared.file, Form::Plain, range.clone(), user, cleared.url_ttl_s);
                    data_url::sign(app, &cleared.deliveries, &claims)
                }
                Piece::Cipher(range) => {
                    let claims = data_url::claims(&cleared.file, Form::Cipher, range.clone(), user, cleared.url_ttl_s);
                    data_url::sign(app, &cleared.deliveries, &claims)
                }
            };
            let class = if header_only || i == 0 { "header" } else { "body" };
            json!({"url": url, "class": class})
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regions(request: TicketRequest) -> Vec<Region> {
        match request.selection {
            Selection::Regions(r) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn query_parameters_follow_the_spec() {
        let r = regions(parse_query(Some("referenceName=22&start=99&end=200")).unwrap());
        assert_eq!(r, [Region::new("22", 100, 200).unwrap()], "0-based half-open to 1-based inclusive");
        assert_eq!(parse_query(None).unwrap().selection, Selection::Whole);
        assert_eq!(parse_query(Some("class=header")).unwrap().selection, Selection::Header);
        assert!(parse_query(Some("encryptionScheme=c4gh")).unwrap().crypt4gh);
        let fails = |q: &str| parse_query(Some(q)).unwrap_err().kind;
        assert_eq!(fails("format=BCF"), "UnsupportedFormat");
        assert_eq!(fails("format=BAM"), "UnsupportedFormat");
        assert_eq!(fails("start=5"), "InvalidInput");
        assert_eq!(fails("referenceName=22&start=10&end=10"), "InvalidRange");
        assert_eq!(fails("referenceName=22&start=-1"), "InvalidInput");
        assert_eq!(fails("referenceName=22&class=header"), "InvalidInput");
        assert_eq!(fails("class=data"), "InvalidInput");
        assert_eq!(fails("encryptionScheme=PGP"), "InvalidInput");
        assert_eq!(fails("referenceName=*"), "InvalidInput");
        assert_eq!(fails("referenceName=1&referenceName=2"), "InvalidInput");
    }

    #[test]
    fn post_bodies_follow_the_spec() {
        let body = br#"{"format": "VCF", "regions": [{"referenceName": "22", "start": 0, "end": 10}, {"referenceName": "X"}]}"#;
        let r = regions(parse_body(body, None).unwrap());
        assert_eq!(r[0], Region::new("22", 1, 10).unwrap());
        assert_eq!((r[1].start, r[1].end), (1, u64::MAX));
        assert_eq!(parse_body(b"", None).unwrap().selection, Selection::Whole);
        assert!(parse_body(b"{}", Some("encryptionScheme=C4GH")).unwrap().crypt4gh);
        let many = format!(r#"{{"regions": [{}]}}"#, vec![r#"{"referenceName": "1"}"#; MAX_REGIONS + 1].join(","));
        assert_eq!(parse_body(many.as_bytes(), None).unwrap_err().kind, "PayloadTooLarge");
        assert_eq!(parse_body(b"{\"regions\": 5}", None).unwrap_err().kind, "InvalidInput");
        assert_eq!(parse_body(b"{\"bogus\": 1}", None).unwrap_err().kind, "InvalidInput");
        assert_eq!(parse_body(b"{\"regions\": []}", None).unwrap_err().kind, "InvalidInput");
    }
}
