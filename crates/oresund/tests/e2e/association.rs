//! Case/control association across two national nodes and a portal, on the demo cohorts: the
//! disease variant (`demo-data/truth.json`: 22-17000017-C-A, carriers mostly HP:0001250) stands
//! out; below CONTROLLED no node discloses a cell from 1 to threshold − 1; a node down gives a
//! partial answer in time naming who contributed; bad requests get 400; every answer is audited.
//! (Exactness against PLINK 1.9 and statsmodels: `external::association`.)

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::passports::wait_for_audit;
use crate::common::*;
use crate::network::{Portal, SECRET_DK, SECRET_SE, TOKEN, national_node, peers_file, two_countries};

const DISEASE: &str = "22-17000017-C-A";
const REGION: &str = r#""referenceName": "22", "start": 16000000, "end": 17100000"#;

fn seizures(extra: &str) -> String {
    format!(r#"{{"cases": {{"filters": [{{"id": "HP:0001250"}}]}}, {extra}}}"#)
}

fn result<'a>(answer: &'a Value, id: &str) -> &'a Value {
    let results = answer["response"]["results"].as_array().unwrap();
    results.iter().find(|r| r["variantInternalId"] == id).unwrap_or_else(|| panic!("no {id} in the answer"))
}

fn cells(row: &Value) -> [u64; 4] {
    ["caseAlt", "caseRef", "controlAlt", "controlRef"].map(|k| row[k].as_u64().unwrap_or_else(|| panic!("{k}: {row}")))
}

#[test]
fn the_disease_variant_stands_out_and_small_cells_never_leave_a_node() {
    let crate::network::TwoCountries { dk_node, dk, se_node, se, portal, dir: _dir } = two_countries(5000);

    // CONTROLLED on both datasets: every table, exact.
    let (status, answer) = http(&portal.address, "POST", "/network/association", Some(TOKEN), Some(&seizures(REGION)));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["info"]["contributors"], json!(["DK-NGC", "GMS"]), "{}", answer["info"]);
    let disease = result(&answer, DISEASE);
    // The tables bcftools gives on the cohorts (cases: the 48 people with HP:0001250 in each
    // individuals file, all called here), and the statistics statsmodels computes from them.
    assert_eq!(cells(&disease["nodes"]["DK-NGC"]), [2, 94, 0, 904], "{disease}");
    assert_eq!(cells(&disease["nodes"]["GMS"]), [6, 90, 2, 902], "{disease}");
    assert_eq!(disease["countries"], json!(["DK", "SE"]));
    let close = |value: &Value, expected: f64| (value.as_f64().unwrap() - expected).abs() <= 1e-9 * expected.abs();
    assert!(close(&disease["chi2"], 57.44264538686074), "{disease}");
    assert!(close(&disease["p"], 3.479799551788018e-14), "{disease}"); // scipy chi2.sf
    assert!(close(&disease["oddsRatio"], 40.111111111111114), "{disease}");
    assert!(close(&disease["ci95"][0], 8.38003962983762) && close(&disease["ci95"][1], 191.99207946932782));
    assert!(close(&disease["breslowDayP"], 0.43770495693919687), "{disease}");
    assert_eq!(disease["nodes"]["DK-NGC"]["oddsRatio"], Value::Null, "b·c = 0: no odds ratio (PLINK: NA)");
    // It is the strongest signal of the region, by orders of magnitude.
    let results = answer["response"]["results"].as_array().unwrap();
    assert!(results.len() > 3000, "{} variants", results.len());
    let mut ps: Vec<(f64, &str)> =
        results.iter().filter_map(|r| Some((r["p"].as_f64()?, r["variantInternalId"].as_str().unwrap()))).collect();
    ps.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(ps[0].1, DISEASE, "{:?}", &ps[..3]);
    assert!(ps[1].0 > 1e4 * ps[0].0, "{:?}", &ps[..3]);
    // The same question, by variant list, gives the same table.
    let (status, listed) = http(
        &portal.address,
        "POST",
        "/network/association",
        Some(TOKEN),
        Some(&seizures(&format!(r#""variants": ["{DISEASE}", "22-17000017-C-A"]"#))),
    );
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["response"]["results"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(result(&listed, DISEASE)["p"], disease["p"]);

    // Controls by a second filter: women without seizures. Their counts are those of women
    // minus those of women with seizures, as the node's own Beacon counts them.
    let women =
        seizures(&format!(r#""controls": {{"filters": [{{"id": "NCIT:C16576"}}]}}, "variants": ["{DISEASE}"]"#));
    let (status, answer) = dk.post("/association", Some(TOKEN), &women);
    assert_eq!(status, 200, "{answer}");
    let count = |filters: &str| {
        let path = format!(
            "/g_variants?referenceName=22&start=17000016&referenceBases=C&alternateBases=A&filters={filters}&requestedGranularity=record"
        );
        let (status, body) = dk.get(&path, Some(TOKEN));
        assert_eq!(status, 200, "{body}");
        let frequency = &body["response"]["resultSets"][0]["results"][0]["frequencyInPopulations"][0]["frequencies"][0];
        (frequency["alleleCount"].as_u64().unwrap(), frequency["alleleNumber"].as_u64().unwrap())
    };
    let (female_ac, female_an) = count("NCIT:C16576");
    let (both_ac, both_an) = count("NCIT:C16576,HP:0001250");
    let [_, _, control_alt, control_ref] = cells(result(&answer, DISEASE));
    assert_eq!((control_alt, control_alt + control_ref), (female_ac - both_ac, female_an - both_an), "{answer}");
    wait_for_audit(&dk_node.dir, &[], |e| {
        e["record"]["action"] == "association"
            && e["record"]["actor"] == "researcher@example.org"
            && e["record"]["datasets"] == json!(["DK-1"])
            && e["record"]["resource"].as_str().unwrap().contains("controls=NCIT:C16576 variants=1")
    });

    // Anonymous callers get yes/no answers on these datasets, which association cannot use.
    let (status, answer) = http(&portal.address, "POST", "/network/association", None, Some(&seizures(REGION)));
    assert_eq!(status, 401, "{answer}");
    assert!(answer["error"]["errorMessage"].as_str().unwrap().contains("which association needs"), "{answer}");

    // Bad requests: 400 with what to fix, from the portal and from a node.
    for body in [seizures(r#""referenceName": "22", "start": 0, "end": 20000001"#), "{}".to_string()] {
        let (status, answer) = http(&portal.address, "POST", "/network/association", Some(TOKEN), Some(&body));
        assert_eq!(status, 400, "{answer}");
    }
    let unknown = r#"{"cases": {"filters": [{"id": "HP:9999999"}]}, "variants": ["22-17000017-C-A"]}"#;
    let (status, answer) = dk.post("/association", Some(TOKEN), unknown);
    assert_eq!(status, 400, "{answer}");
    assert!(answer["error"]["errorMessage"].as_str().unwrap().contains("HP:9999999"), "{answer}");
    let (status, answer) =
        dk.post("/association", Some(TOKEN), &seizures(r#""referenceName": "chrZ", "start": 0, "end": 9"#));
    assert_eq!(status, 400, "{answer}");

    // REGISTERED only: no cell from 1 to 4 in any byte a node returns, to the portal or directly.
    let registered_dk = token(&dk_node.dir, &["--user", "reg@example.org", "--registered"]);
    let registered_se = token(&se_node.dir, &["--user", "reg@example.org", "--registered"]);
    // Operator tokens are read when `serve` starts.
    for (node, server, token) in [(&dk_node, dk, &registered_dk), (&se_node, se, &registered_se)] {
        assert!(server.stop().success());
        let restarted = Server::start(&node.dir, &[]);
        let (status, text) =
            http_text(&restarted.address, "POST", "/association", Some(token), Some(&seizures(REGION)));
        assert_eq!(status, 200, "{text}");
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(answer["info"]["exact"], false);
        let rows = answer["response"]["results"].as_array().unwrap();
        let hidden = rows.iter().filter(|r| r["testable"] == false).count();
        assert!(hidden > 100 && hidden < rows.len(), "{hidden} of {} not testable", rows.len());
        assert_eq!(answer["info"]["notTestable"], hidden);
        for row in rows.iter().filter(|r| r["testable"] == true) {
            assert!(cells(row).iter().all(|&c| c == 0 || c >= 5), "{row}");
        }
        for row in rows.iter().filter(|r| r["testable"] == false) {
            let mut keys: Vec<&String> = row.as_object().unwrap().keys().collect();
            keys.sort();
            assert_eq!(keys, ["testable", "variantInternalId"], "a hidden table shows nothing: {row}");
        }
        assert_eq!(result(&answer, DISEASE)["testable"], false, "its cells are 2 and 0 (DK), 2 (SE)");
    }
}

#[test]
fn a_node_down_leaves_its_stratum_out_in_time() {
    let (_dk_node, dk) = national_node("DK-NGC", "DK", "DK-1", SECRET_DK);
    let tmp = tempfile::tempdir().unwrap();
    let timeout_ms = 1500;
    let (_silent, slow) = crate::network::silent_listener();
    let portal = Portal::start(
        tmp.path(),
        &peers_file(
            timeout_ms,
            &[
                ("DK-NGC", "DK", format!("http://{}", dk.address), SECRET_DK),
                ("GMS", "SE", format!("http://{slow}"), SECRET_SE),
            ],
        ),
    );
    let started = Instant::now();
    let (status, answer) = http(
        &portal.address,
        "POST",
        "/network/association",
        Some(TOKEN),
        Some(&seizures(&format!(r#""variants": ["{DISEASE}"]"#))),
    );
    assert!(started.elapsed() < Duration::from_millis(timeout_ms + 1000), "{:?}", started.elapsed());
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["info"]["contributors"], json!(["DK-NGC"]));
    let se = answer["info"]["nodes"].as_array().unwrap().iter().find(|n| n["beaconId"] == "GMS").unwrap();
    assert_eq!(se["status"], "unavailable", "{se}");
    let disease = result(&answer, DISEASE);
    assert_eq!(disease["countries"], json!(["DK"]));
    assert_eq!(cells(&disease["nodes"]["DK-NGC"]), [2, 94, 0, 904]);
    // One stratum: the CMH statistic is the allelic χ² times (n − 1)/n; no heterogeneity test.
    let allelic = disease["allelicChi2"].as_f64().unwrap();
    assert!((disease["chi2"].as_f64().unwrap() - allelic * 999.0 / 1000.0).abs() < 1e-9 * allelic, "{disease}");
    assert_eq!(disease["breslowDayChi2"], Value::Null);
}

#[test]
fn registered_association_answers_are_charged_to_the_reidentification_budget() {
    let node = TestNode::new("DK-NGC", "DK");
    node.ingest("DK-1", "DK");
    let mut config = std::fs::OpenOptions::new().append(true).open(node.dir.join("oresund.toml")).unwrap();
    std::io::Write::write_all(&mut config, b"\n[access.budget]\nenabled = true\nnats = 0.05\n").unwrap();
    let registered = token(&node.dir, &["--user", "reg@example.org", "--registered"]);
    let server = Server::start(&node.dir, &[]);
    // A region's disclosed tables include rare variants' carriers: past a tiny budget, refused.
    let (status, answer) = server.post("/association", Some(&registered), &seizures(REGION));
    assert_eq!(status, 403, "{answer}");
    assert!(answer["error"]["errorMessage"].as_str().unwrap().contains("re-identification budget"), "{answer}");
    // And the user gets no new REGISTERED answer about genotypes afterwards.
    let (status, answer) =
        server.post("/association", Some(&registered), &seizures(r#""variants": ["22-16000317-G-A"]"#));
    assert_eq!(status, 403, "{answer}");
    wait_for_audit(&node.dir, &[], |e| {
        e["record"]["action"] == "association"
            && e["record"]["decision"] == "denied"
            && e["record"]["actor"] == "reg@example.org"
            && e["record"]["detail"].as_str().unwrap().contains("re-identification budget")
    });
}
