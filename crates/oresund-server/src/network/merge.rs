//! Merging the answers of several nodes into one network answer: each node's result sets, tagged
//! with its beacon id and country, its status and latency, and the pooled figures — counts summed,
//! allele frequency as ΣAC/ΣAN (never an average of frequencies), `exists` if any node says so.
//! A pooled figure built from any imprecise (suppressed) count is itself imprecise.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::peer_error::PeerError;

/// What one node answered (or why it did not): a Beacon document, or another typed answer.
#[derive(Debug, Clone)]
pub struct NodeAnswer<T = Value> {
    pub id: String,
    pub country: String,
    pub latency_ms: u64,
    pub outcome: Result<T, PeerError>,
}

impl<T> NodeAnswer<T> {
    /// The node's entry in `info.nodes`: id, country, latency, `ok` or `unavailable` with why.
    pub fn status(&self) -> Value {
        let mut status = json!({"beaconId": self.id, "country": self.country, "latencyMs": self.latency_ms});
        match &self.outcome {
            Ok(_) => status["status"] = json!("ok"),
            Err(error) => {
                status["status"] = json!("unavailable");
                status["error"] = json!(error.to_string());
            }
        }
        status
    }
}

#[derive(Debug, Default, Clone)]
struct Pool {
    vrs_id: String,
    allele_count: u64,
    allele_number: u64,
    imprecise: bool,
    by_node: serde_json::Map<String, Value>,
}

fn granularity_rank(g: &str) -> u8 {
    match g {
        "record" => 3,
        "count" => 2,
        _ => 1,
    }
}

/// The merged `responseSummary`, `response` and `info` (the caller adds `meta`).
pub fn merge(answers: &[NodeAnswer], pool_variants: bool) -> (Value, Value, Value, &'static str) {
    let mut exists = false;
    let mut total = 0u64;
    let mut total_imprecise = false;
    let mut granularity = "count";
    let mut result_sets = Vec::new();
    let mut nodes = Vec::new();
    let mut pools: BTreeMap<String, Pool> = BTreeMap::new();
    for answer in answers {
        let mut status = answer.status();
        if let Ok(body) = &answer.outcome {
            let returned = body["meta"]["returnedGranularity"].as_str().unwrap_or("boolean");
            if granularity_rank(returned) < granularity_rank(granularity) {
                granularity = if returned == "count" { "count" } else { "boolean" };
            }
            let node_exists = body["responseSummary"]["exists"].as_bool().unwrap_or(false);
            exists |= node_exists;
            status["exists"] = json!(node_exists);
            status["returnedGranularity"] = json!(returned);
            if let Some(n) = body["responseSummary"]["numTotalResults"].as_u64() {
                total += n;
                total_imprecise |= body["responseSummary"]["countPrecision"] == "imprecise";
                status["numTotalResults"] = json!(n);
            }
            if let Some(warnings) = body["info"]["warnings"].as_array() {
                status["warnings"] = json!(warnings);
            }
            for set in body["response"]["resultSets"].as_array().into_iter().flatten() {
                let mut set = set.clone();
                set["beaconId"] = json!(answer.id);
                set["country"] = json!(answer.country);
                if pool_variants {
                    add_rows(&mut pools, answer, &set);
                }
                result_sets.push(set);
            }
        }
        nodes.push(status);
    }
    let mut summary = json!({"exists": exists});
    if granularity == "count" {
        let pooled_total =
            if pool_variants { pools.values().filter(|p| p.allele_count > 0).count() as u64 } else { total };
        summary["numTotalResults"] = json!(pooled_total);
        summary["countPrecision"] = json!(if total_imprecise && !pool_variants { "imprecise" } else { "exact" });
    }
    let pooled: Vec<Value> = pools
        .into_iter()
        .map(|(id, p)| {
            json!({
                "variantInternalId": id,
                "vrsId": p.vrs_id,
                "alleleCount": p.allele_count,
                "alleleNumber": p.allele_number,
                "alleleFrequency": if p.allele_number == 0 { 0.0 } else { p.allele_count as f64 / p.allele_number as f64 },
                "countPrecision": if p.imprecise { "imprecise" } else { "exact" },
                "nodes": p.by_node,
            })
        })
        .collect();
    let mut info = json!({"nodes": nodes});
    if pool_variants {
        info["pooled"] = json!({"variants": pooled});
    }
    (summary, json!({"resultSets": result_sets}), info, granularity)
}

/// Adds one node result set's per-variant rows (count answers) to the pools.
fn add_rows(pools: &mut BTreeMap<String, Pool>, answer: &NodeAnswer, set: &Value) {
    for row in set["info"]["variants"].as_array().into_iter().flatten() {
        let (Some(id), Some(ac), Some(an)) =
            (row["variantInternalId"].as_str(), row["alleleCount"].as_u64(), row["alleleNumber"].as_u64())
        else {
            continue;
        };
        let imprecise = row["countPrecision"] == "imprecise";
        let pool = pools.entry(id.to_string()).or_default();
        pool.vrs_id = row["vrsId"].as_str().unwrap_or_default().to_string();
        pool.allele_count += ac;
        pool.allele_number += an;
        pool.imprecise |= imprecise;
        let node = pool.by_node.entry(answer.id.clone()).or_insert_with(
            || json!({"country": answer.country, "alleleCount": 0, "alleleNumber": 0, "countPrecision": "exact"}),
        );
        node["alleleCount"] = json!(node["alleleCount"].as_u64().unwrap_or(0) + ac);
        node["alleleNumber"] = json!(node["alleleNumber"].as_u64().unwrap_or(0) + an);
        let (c, n) = (node["alleleCount"].as_u64().unwrap_or(0), node["alleleNumber"].as_u64().unwrap_or(0));
        node["alleleFrequency"] = json!(if n == 0 { 0.0 } else { c as f64 / n as f64 });
        if imprecise {
            node["countPrecision"] = json!("imprecise");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count_answer(id: &str, country: &str, rows: Value) -> NodeAnswer {
        NodeAnswer {
            id: id.into(),
            country: country.into(),
            latency_ms: 3,
            outcome: Ok(json!({
                "meta": {"returnedGranularity": "count"},
                "responseSummary": {"exists": true, "numTotalResults": 1},
                "response": {"resultSets": [{"id": format!("{id}-1"), "exists": true, "resultsCount": 1, "results": [],
                                             "info": {"variants": rows}}]},
            })),
        }
    }

    #[test]
    fn frequencies_pool_as_sums_not_averages() {
        let dk = count_answer(
            "DK",
            "DK",
            json!([{"variantInternalId": "22-1-A-C", "vrsId": "ga4gh:VA.x", "alleleCount": 10, "alleleNumber": 1000, "countPrecision": "exact"}]),
        );
        let se = count_answer(
            "SE",
            "SE",
            json!([{"variantInternalId": "22-1-A-C", "vrsId": "ga4gh:VA.x", "alleleCount": 90, "alleleNumber": 100, "countPrecision": "exact"}]),
        );
        let down = NodeAnswer {
            id: "NO".into(),
            country: "NO".into(),
            latency_ms: 5000,
            outcome: Err(PeerError::Timeout { ms: 5000 }),
        };
        let (summary, response, info, granularity) = merge(&[dk, se, down], true);
        assert_eq!(granularity, "count");
        assert_eq!(summary["exists"], true);
        let pooled = &info["pooled"]["variants"][0];
        assert_eq!((pooled["alleleCount"].as_u64(), pooled["alleleNumber"].as_u64()), (Some(100), Some(1100)));
        // ΣAC/ΣAN = 100/1100, not (0.01 + 0.9) / 2.
        assert!((pooled["alleleFrequency"].as_f64().unwrap() - 100.0 / 1100.0).abs() < 1e-12);
        assert_eq!(response["resultSets"][1]["country"], "SE");
        assert_eq!(info["nodes"][2]["status"], "unavailable");
    }

    #[test]
    fn suppressed_counts_make_the_pool_imprecise() {
        let dk = count_answer(
            "DK",
            "DK",
            json!([{"variantInternalId": "v", "alleleCount": 5, "alleleNumber": 1000, "countPrecision": "imprecise"}]),
        );
        let se = count_answer(
            "SE",
            "SE",
            json!([{"variantInternalId": "v", "alleleCount": 40, "alleleNumber": 1000, "countPrecision": "exact"}]),
        );
        let (_, _, info, _) = merge(&[dk, se], true);
        assert_eq!(info["pooled"]["variants"][0]["countPrecision"], "imprecise");
        assert_eq!(info["pooled"]["variants"][0]["nodes"]["SE"]["countPrecision"], "exact");
    }
}
