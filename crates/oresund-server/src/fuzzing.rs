//! Entry points for the fuzz targets (`fuzz/`, issue #17): the request parsers of each API, which
//! live in private modules, fed arbitrary bytes. Nothing else calls these.

use axum::body::Bytes;

use crate::endpoint::{Endpoint, Input};
use crate::entities::GENOMIC_VARIANT;
use crate::genomic::parse_variant_query;

/// A Beacon `/g_variants` request, as a GET query string and as a POST body, through the request
/// parser, the variant query parser (a contig `22` of 50 Mb) and the filter resolver.
pub fn beacon_request(data: &[u8]) {
    let endpoint = Endpoint::Entries(GENOMIC_VARIANT);
    let query = String::from_utf8_lossy(data).into_owned();
    for input in [Input::Query(Some(query)), Input::Body(Bytes::copy_from_slice(data))] {
        if let Ok(request) = endpoint.parse_request(input) {
            let _ = parse_variant_query(&request, "GRCh38", |chrom| (chrom == "22").then_some(50_000_000));
            let _ = crate::filters::resolve(&request.filters, None);
        }
    }
}

/// An htsget ticket request: the query string of a GET, and a POST body with that query.
pub fn htsget_request(data: &[u8]) {
    let query = String::from_utf8_lossy(data);
    let _ = crate::htsget::parse_query(Some(&query));
    let _ = crate::htsget::parse_body(data, Some(&query));
}

/// A DRS POST body carrying passports.
pub fn drs_request(data: &[u8]) {
    let _ = crate::drs::post_credentials(data);
}

/// A Matchmaker Exchange match request: JSON with a `patient`, read and checked as the endpoint does.
pub fn mme_request(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let Some(patient) = value.get("patient").cloned() else { return };
    if let Ok(patient) = oresund_match::patient::Patient::from_value(patient) {
        let _ = patient.check();
    }
}
