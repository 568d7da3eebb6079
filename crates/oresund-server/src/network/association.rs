//! `POST /network/association`: every node contributes its stratum — per variant the 2×2 allele
//! table of its own cases and controls (`crate::association`), only what the caller's tier there
//! allows — and the aggregator pools them by country: the Cochran–Mantel–Haenszel test, the
//! Mantel–Haenszel common odds ratio with its 95% CI, Breslow–Day heterogeneity, each country's
//! own OR and allelic χ², and the unstratified allelic χ² (`oresund_core::association`).
//!
//! A node that is down or slow leaves its stratum out; the answer names the nodes that
//! contributed, and per variant the countries whose table went into it. A variant a node does
//! not hold, or reports not testable, has no stratum there. A region holds thousands of
//! variants, so rows travel and are pooled as typed values, never as `serde_json::Value`s.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use oresund_core::association::{AlleleTable, stratified};
use oresund_core::variant::Variant;
use serde::Serialize;
use serde_json::{Value, json};

use super::merge::NodeAnswer;
use super::peer_error::PeerError;
use super::{Network, exchange, local_leg, nobody_answered, timed};
use crate::association::{Stratum, json_response};
use crate::association_request::AssociationRequest;
use crate::caller::authenticate;
use crate::error::BeaconError;

/// The path of the association under `/network/`.
pub(super) const PATH: &str = "association";

/// A signed request from a peer: this node's own stratum.
pub(super) async fn answer_peer(network: &Network, peer_id: &str, authorization: &str, body: Bytes) -> Response {
    let result = match &network.local {
        None => Err(BeaconError::not_found("this network portal holds no data of its own")),
        Some(local) => match authenticate(local, Some(authorization).filter(|a| !a.is_empty()), "/association").await {
            Ok(caller) => {
                let via = format!("network query from peer {peer_id}");
                crate::association::answer_recorded(local, caller, AssociationRequest::parse(&body), Some(via)).await
            }
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(stratum) => json_response(&stratum),
        Err(error) => error.with_beacon(&network.beacon.id).into_response(),
    }
}

/// Pools the nodes' strata for a request from a caller (not a peer).
pub(super) async fn aggregate(network: &Arc<Network>, method: &Method, authorization: &str, body: Bytes) -> Response {
    match pooled_answer(network, method, authorization, body).await {
        Ok(pooled) => json_response(&pooled),
        Err(error) => error.with_beacon(&network.beacon.id).into_response(),
    }
}

async fn pooled_answer(
    network: &Arc<Network>,
    method: &Method,
    authorization: &str,
    body: Bytes,
) -> Result<Pooled, BeaconError> {
    if method != Method::POST {
        return Err(BeaconError::bad_request("ask with POST /network/association and a JSON body (see /openapi.json)"));
    }
    // Refuse a malformed request once, here, rather than once per node.
    AssociationRequest::parse(&body)?;
    let peers = {
        let (network, authorization, body) = (network.clone(), authorization.to_string(), body.clone());
        tokio::spawn(async move {
            let legs = network
                .peers
                .iter()
                .filter(|p| p.url.is_some())
                .map(|peer| timed(&network, peer, ask_stratum(&network, peer, body.clone(), &authorization)));
            futures::future::join_all(legs).await
        })
    };
    let local = local_leg(network, authorization, "/association", async |local, caller| {
        let request = AssociationRequest::parse(&body);
        crate::association::answer_recorded(local, caller, request, Some("network query".into())).await
    });
    let mut answers: Vec<NodeAnswer<Stratum>> = local.await.into_iter().collect();
    answers.extend(peers.await.map_err(BeaconError::internal)?);
    if let Some(error) = nobody_answered(&answers) {
        return Err(error);
    }
    Ok(pool(&network.beacon.id, &answers))
}

/// A peer's stratum, or why there is none.
async fn ask_stratum(
    network: &Network,
    peer: &super::PeerConfig,
    body: Bytes,
    authorization: &str,
) -> Result<Stratum, PeerError> {
    let path = format!("/network/{PATH}");
    let reply = exchange(network, peer, &Method::POST, &path, body, authorization).await?;
    if reply.status.is_success()
        && let Ok(stratum) = serde_json::from_slice::<Stratum>(&reply.bytes)
    {
        // Tables are aggregates; anything else a peer might add is ignored by the typed parse.
        return Ok(stratum);
    }
    let value: Value = serde_json::from_slice(&reply.bytes).map_err(|_| PeerError::NotJson(reply.status))?;
    Err(reply.refusal(&value).unwrap_or(PeerError::NotBeacon(reply.status)))
}

/// The pooled answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Pooled {
    meta: Value,
    response_summary: Value,
    info: Value,
    response: PooledRows,
}

#[derive(Serialize)]
struct PooledRows {
    results: Vec<PooledRow>,
}

/// One variant's statistics over the strata disclosed; `None` (null) where PLINK prints NA.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PooledRow {
    variant_internal_id: String,
    reference_name: String,
    position: u64,
    chi2: Option<f64>,
    p: Option<f64>,
    odds_ratio: Option<f64>,
    ci95: Option<[f64; 2]>,
    breslow_day_chi2: Option<f64>,
    breslow_day_p: Option<f64>,
    allelic_chi2: Option<f64>,
    /// The countries whose table went into the statistics.
    countries: Vec<String>,
    nodes: BTreeMap<String, NodeEntry>,
}

/// One node's part of a variant: its table as disclosed, or only that it is not testable there.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NodeEntry {
    country: String,
    testable: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    shown: Option<Shown>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Shown {
    odds_ratio: Option<f64>,
    allelic_chi2: Option<f64>,
    #[serde(flatten)]
    table: AlleleTable,
}

/// A statistic as sent: a number, or null when undefined.
fn finite(x: Option<f64>) -> Option<f64> {
    x.filter(|x| x.is_finite())
}

/// One node's table of a variant: `None` where it holds the variant but may not disclose it.
type NodeTable<'a> = (&'a NodeAnswer<Stratum>, Option<AlleleTable>);

/// Per variant (in genome order) the statistics over the strata disclosed.
fn pool(beacon_id: &str, answers: &[NodeAnswer<Stratum>]) -> Pooled {
    let mut variants: BTreeMap<Variant, Vec<NodeTable>> = BTreeMap::new();
    let mut nodes = Vec::new();
    let mut contributors = Vec::new();
    for answer in answers {
        let mut status = answer.status();
        if let Ok(stratum) = &answer.outcome {
            let rows = &stratum.response.results;
            status["exact"] = json!(stratum.info.exact);
            status["variants"] = json!(rows.len());
            status["notTestable"] = json!(stratum.info.not_testable);
            if !stratum.info.warnings.is_empty() {
                // Why this node gave the caller less than they may expect (a revoked grant...).
                status["warnings"] = json!(stratum.info.warnings);
            }
            contributors.push(answer.id.clone());
            for row in rows {
                // A row that does not name a variant is not one (a peer's fault): left out.
                if let Ok(variant) = row.variant_internal_id.parse::<Variant>() {
                    variants.entry(variant).or_default().push((answer, row.table()));
                }
            }
        }
        nodes.push(status);
    }
    let results: Vec<PooledRow> = variants.into_iter().map(|(variant, strata)| pooled(variant, &strata)).collect();
    Pooled {
        meta: json!({"beaconId": beacon_id, "apiVersion": crate::API_VERSION, "returnedGranularity": "count",
                     "returnedSchemas": []}),
        response_summary: json!({"exists": !results.is_empty(), "numTotalResults": results.len()}),
        info: json!({"nodes": nodes, "contributors": contributors}),
        response: PooledRows { results },
    }
}

fn pooled(variant: Variant, strata: &[NodeTable]) -> PooledRow {
    let tables: Vec<AlleleTable> = strata.iter().filter_map(|(_, table)| *table).collect();
    let stats = stratified(&tables);
    let mut nodes = BTreeMap::new();
    let mut countries = Vec::new();
    for (node, table) in strata {
        let shown = table.map(|t| {
            countries.push(node.country.clone());
            Shown { odds_ratio: finite(t.odds_ratio()), allelic_chi2: finite(t.allelic_chi2()), table: t }
        });
        nodes.insert(node.id.clone(), NodeEntry { country: node.country.clone(), testable: shown.is_some(), shown });
    }
    let ci95 = stats.ci95.filter(|(low, high)| low.is_finite() && high.is_finite()).map(|(low, high)| [low, high]);
    PooledRow {
        variant_internal_id: variant.to_string(),
        reference_name: variant.chrom().to_string(),
        position: variant.pos(),
        chi2: finite(stats.chi2),
        p: finite(stats.p),
        odds_ratio: finite(stats.odds_ratio),
        ci95,
        breslow_day_chi2: finite(stats.breslow_day_chi2),
        breslow_day_p: finite(stats.breslow_day_p),
        allelic_chi2: finite(stats.allelic_chi2),
        countries,
        nodes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::association::{Row, Rows, StratumInfo};

    #[test]
    fn a_nodes_warnings_reach_the_pooled_answer() {
        let table = AlleleTable { case_alt: 10, case_ref: 90, control_alt: 20, control_ref: 380 };
        let stratum = |warnings: Vec<String>| Stratum {
            meta: json!({}),
            response_summary: json!({}),
            info: StratumInfo { exact: true, threshold: 5, datasets: vec!["D".into()], not_testable: 0, warnings },
            response: Rows { results: vec![Row::new("22-17000017-C-A".into(), Some(table))] },
        };
        let answer = |id: &str, warnings: Vec<String>| NodeAnswer {
            id: id.into(),
            country: "DK".into(),
            latency_ms: 1,
            outcome: Ok(stratum(warnings)),
        };
        let why = "visa 2 of the passport is ignored: the data access committee revoked this grant".to_string();
        let pooled = serde_json::to_value(pool("portal", &[answer("dk", vec![why.clone()]), answer("se", vec![])]))
            .expect("serialises");
        assert_eq!(pooled["info"]["nodes"][0]["warnings"], json!([why]), "{pooled}");
        assert!(pooled["info"]["nodes"][1].get("warnings").is_none(), "{pooled}");
        assert_eq!(pooled["response"]["results"][0]["nodes"]["dk"]["caseAlt"], 10);
    }
}
