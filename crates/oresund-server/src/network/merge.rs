//! Merging the answers of several nodes into one network answer: each node's result sets, tagged
//! with its beacon id and country, its status and latency, and the pooled figures — counts summed,
//! allele frequency as ΣAC/ΣAN (never an average of frequencies), `exists` if any node says so.
//! A pooled figure built from any imprecise (suppressed) count is itself imprecise.
//!
//! Pooled variant rows come from every row of every node ([`super::pages`]): the total is the
//! number of distinct variants carried in the union, and `skip`/`limit` walk that union in the
//! nodes' own order, each row with the figures of every node holding the variant.

use std::collections::{BTreeMap, HashSet};

use oresund_core::variant::Variant;
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

/// A window of rows: `skip` rows passed over, then at most `limit` shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub skip: usize,
    pub limit: usize,
}

/// Where a variant sorts in the union: as every node sorts its own rows (contig, position, REF,
/// ALT: `Variant`'s order), so `22-9-A-C` comes before `22-10-A-C`, which text order would not
/// give. An id that is not a variant sorts after the variants, by its text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum RowKey {
    Variant(Variant),
    Other(String),
}

impl RowKey {
    fn of(id: &str) -> Self {
        id.parse().map_or_else(|_| RowKey::Other(id.to_string()), RowKey::Variant)
    }
}

#[derive(Debug, Default, Clone)]
struct Pool {
    id: String,
    vrs_id: String,
    allele_count: u64,
    allele_number: u64,
    imprecise: bool,
    by_node: serde_json::Map<String, Value>,
}

impl Pool {
    /// The variant's row in `info.pooled.variants`.
    fn row(self) -> Value {
        json!({
            "variantInternalId": self.id,
            "vrsId": self.vrs_id,
            "alleleCount": self.allele_count,
            "alleleNumber": self.allele_number,
            "alleleFrequency": frequency(self.allele_count, self.allele_number),
            "countPrecision": if self.imprecise { "imprecise" } else { "exact" },
            "nodes": self.by_node,
        })
    }
}

fn frequency(allele_count: u64, allele_number: u64) -> f64 {
    if allele_number == 0 { 0.0 } else { allele_count as f64 / allele_number as f64 }
}

fn granularity_rank(g: &str) -> u8 {
    match g {
        "record" => 3,
        "count" => 2,
        _ => 1,
    }
}

/// The merged `responseSummary`, `response` and `info` (the caller adds `meta`). With
/// `pool_variants`, the nodes' variant rows (all of them) are pooled and that page of the union
/// is shown.
pub fn merge(answers: &[NodeAnswer], pool_variants: Option<Page>) -> (Value, Value, Value, &'static str) {
    let mut exists = false;
    let mut total = 0u64;
    let mut total_imprecise = false;
    let mut granularity = "count";
    let mut result_sets = Vec::new();
    let mut nodes = Vec::new();
    let mut pools: BTreeMap<RowKey, Pool> = BTreeMap::new();
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
                if pool_variants.is_some() {
                    add_rows(&mut pools, answer, &set);
                }
                result_sets.push(set);
            }
        }
        nodes.push(status);
    }
    let pooled = pool_variants.map(|page| pooled_page(pools, page));
    let mut summary = json!({"exists": exists});
    if granularity == "count" {
        let pooled_total = pooled.as_ref().map_or(total, |p| p.total as u64);
        summary["numTotalResults"] = json!(pooled_total);
        let imprecise = total_imprecise && pooled.is_none();
        summary["countPrecision"] = json!(if imprecise { "imprecise" } else { "exact" });
    }
    let mut info = json!({"nodes": nodes});
    if let Some(pooled) = pooled {
        keep_rows_of(&mut result_sets, &pooled.ids);
        info["pooled"] = json!({"variants": pooled.rows});
    }
    (summary, json!({"resultSets": result_sets}), info, granularity)
}

/// One page of the union of the nodes' variants that someone carries (pooled AC > 0), and how
/// many such variants there are in all.
struct PooledPage {
    total: usize,
    rows: Vec<Value>,
    ids: HashSet<String>,
}

fn pooled_page(pools: BTreeMap<RowKey, Pool>, page: Page) -> PooledPage {
    // A variant no filtered individual carries anywhere is not a result; its rows only served
    // to add the nodes' allele numbers.
    let carried: Vec<Pool> = pools.into_values().filter(|p| p.allele_count > 0).collect();
    let total = carried.len();
    let shown: Vec<Pool> = carried.into_iter().skip(page.skip).take(page.limit).collect();
    let ids = shown.iter().map(|p| p.id.clone()).collect();
    PooledPage { total, rows: shown.into_iter().map(Pool::row).collect(), ids }
}

/// Each node's result set keeps the rows of the page's variants only: the rest of its rows
/// were fetched for the total, not asked for.
fn keep_rows_of(result_sets: &mut [Value], ids: &HashSet<String>) {
    for set in result_sets {
        if let Some(rows) = set["info"]["variants"].as_array_mut() {
            rows.retain(|row| row["variantInternalId"].as_str().is_some_and(|id| ids.contains(id)));
        }
    }
}

/// Adds one node result set's per-variant rows (count answers) to the pools.
fn add_rows(pools: &mut BTreeMap<RowKey, Pool>, answer: &NodeAnswer, set: &Value) {
    for row in set["info"]["variants"].as_array().into_iter().flatten() {
        let (Some(id), Some(ac), Some(an)) =
            (row["variantInternalId"].as_str(), row["alleleCount"].as_u64(), row["alleleNumber"].as_u64())
        else {
            continue;
        };
        let imprecise = row["countPrecision"] == "imprecise";
        let pool = pools.entry(RowKey::of(id)).or_insert_with(|| Pool { id: id.to_string(), ..Pool::default() });
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
        node["alleleFrequency"] = json!(frequency(c, n));
        if imprecise {
            node["countPrecision"] = json!("imprecise");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST_PAGE: Page = Page { skip: 0, limit: 10 };

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
        let (summary, response, info, granularity) = merge(&[dk, se, down], Some(FIRST_PAGE));
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
        let (_, _, info, _) = merge(&[dk, se], Some(FIRST_PAGE));
        assert_eq!(info["pooled"]["variants"][0]["countPrecision"], "imprecise");
        assert_eq!(info["pooled"]["variants"][0]["nodes"]["SE"]["countPrecision"], "exact");
    }

    /// A count row of one variant at one node.
    fn row(id: &str, ac: u64, an: u64) -> Value {
        json!({"variantInternalId": id, "vrsId": format!("vrs:{id}"), "alleleCount": ac, "alleleNumber": an,
               "countPrecision": "exact"})
    }

    /// DK and SE: shared variants (one carried at one node only), variants of one node only, and
    /// one that nobody among the filtered individuals carries; each node's rows in its own order.
    fn overlapping_nodes() -> [NodeAnswer; 2] {
        let dk = [
            row("22-9-A-C", 2, 100),
            row("22-10-A-C", 0, 100),
            row("22-10-A-G", 1, 100),
            row("22-11-T-C", 4, 100),
            row("22-100-G-A", 0, 100),
            row("22-1000-C-T", 7, 100),
            row("22-1001-C-T", 3, 100),
        ];
        let se = [
            row("22-2-A-T", 5, 80),
            row("22-9-A-C", 1, 80),
            row("22-10-A-C", 6, 80),
            row("22-100-G-A", 0, 80),
            row("22-200-C-G", 2, 80),
            row("22-1000-C-T", 1, 80),
            row("22-5000-A-G", 9, 80),
        ];
        [count_answer("DK", "DK", json!(dk)), count_answer("SE", "SE", json!(se))]
    }

    /// variant → (ΣAC, ΣAN) over both nodes, for the variants someone carries.
    fn expected_union() -> BTreeMap<String, (u64, u64)> {
        let mut union = BTreeMap::new();
        for answer in overlapping_nodes() {
            let body = answer.outcome.unwrap();
            for row in body["response"]["resultSets"][0]["info"]["variants"].as_array().unwrap() {
                let sums = union.entry(row["variantInternalId"].as_str().unwrap().to_string()).or_insert((0, 0));
                sums.0 += row["alleleCount"].as_u64().unwrap();
                sums.1 += row["alleleNumber"].as_u64().unwrap();
            }
        }
        union.retain(|_, (ac, _)| *ac > 0);
        union
    }

    #[test]
    fn the_total_is_the_distinct_carried_variants_of_the_union() {
        let (summary, _, info, _) = merge(&overlapping_nodes(), Some(Page { skip: 0, limit: 3 }));
        // 10 distinct variants, of which 22-100-G-A is carried nowhere.
        assert_eq!(expected_union().len(), 9);
        assert_eq!(summary["numTotalResults"], 9, "{summary}");
        assert_eq!(summary["countPrecision"], "exact");
        assert_eq!(info["pooled"]["variants"].as_array().unwrap().len(), 3, "the page's rows only");
    }

    #[test]
    fn pages_walk_the_union_once_with_every_nodes_figures() {
        let answers = overlapping_nodes();
        let mut walked: Vec<(String, (u64, u64))> = Vec::new();
        for skip in (0..).step_by(3) {
            let (summary, response, info, _) = merge(&answers, Some(Page { skip, limit: 3 }));
            assert_eq!(summary["numTotalResults"], 9, "the total does not depend on the page");
            let rows = info["pooled"]["variants"].as_array().unwrap();
            if rows.is_empty() {
                break;
            }
            assert!(rows.len() <= 3);
            let ids: HashSet<&str> = rows.iter().map(|r| r["variantInternalId"].as_str().unwrap()).collect();
            // Each node's result set carries its rows of this page's variants only.
            for set in response["resultSets"].as_array().unwrap() {
                for node_row in set["info"]["variants"].as_array().unwrap() {
                    assert!(ids.contains(node_row["variantInternalId"].as_str().unwrap()), "{node_row}");
                }
            }
            walked.extend(rows.iter().map(|r| {
                let id = r["variantInternalId"].as_str().unwrap().to_string();
                (id, (r["alleleCount"].as_u64().unwrap(), r["alleleNumber"].as_u64().unwrap()))
            }));
        }
        let expected = expected_union();
        assert_eq!(walked.len(), expected.len(), "each variant once: {walked:?}");
        assert_eq!(walked.iter().cloned().collect::<BTreeMap<_, _>>(), expected);
        // 22-10-A-C is on one page with DK's AC 0 and SE's 6: both nodes' AN count.
        let shared = walked.iter().find(|(id, _)| id == "22-10-A-C").unwrap();
        assert_eq!(shared.1, (6, 180));
    }

    #[test]
    fn the_union_is_ordered_by_position_not_by_text() {
        let (_, _, info, _) = merge(&overlapping_nodes(), Some(Page { skip: 0, limit: 100 }));
        let order: Vec<&str> = info["pooled"]["variants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["variantInternalId"].as_str().unwrap())
            .collect();
        assert_eq!(
            order,
            [
                "22-2-A-T",
                "22-9-A-C",
                "22-10-A-C",
                "22-10-A-G",
                "22-11-T-C",
                "22-200-C-G",
                "22-1000-C-T",
                "22-1001-C-T",
                "22-5000-A-G",
            ]
        );
    }

    #[test]
    fn boolean_answers_have_no_total() {
        let mut answers = overlapping_nodes();
        for answer in &mut answers {
            if let Ok(body) = &mut answer.outcome {
                body["meta"]["returnedGranularity"] = json!("boolean");
            }
        }
        let (summary, _, _, granularity) = merge(&answers, Some(FIRST_PAGE));
        assert_eq!(granularity, "boolean");
        assert_eq!(summary, json!({"exists": true}));
    }
}
