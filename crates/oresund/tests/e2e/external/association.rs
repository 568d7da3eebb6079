//! The network's association statistics against PLINK 1.9 and statsmodels on the merged demo
//! cohorts, country as the stratum: every variant of 22:16,000,001-17,100,000 (the disease
//! variant 22-17000017-C-A included), at CONTROLLED.
//!
//! The oracles see only the VCFs: each cohort normalised by `bcftools norm -m -any`, merged
//! without joining alleles (`bcftools merge -m none`: a variant absent from one cohort is
//! missing there, as the node that does not hold it contributes no stratum); cases are the
//! individuals whose HPO terms in the individuals file include HP:0001250 (the demo cohorts use
//! no term below it). statsmodels (`tests/fixtures/association/statsmodels_cmh.py`) gives full
//! precision and is held to a relative 1e-6; PLINK prints four significant digits and is held to
//! what it prints (relative 1e-3), NA where it says NA.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::*;
use crate::network::{TOKEN, two_countries};

const START: u64 = 16_000_000;
const END: u64 = 17_100_000;

/// PLINK's columns by name, per variant id.
fn plink_table(path: &std::path::Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    lines
        .map(|l| {
            let fields: BTreeMap<String, String> =
                header.iter().zip(l.split_whitespace()).map(|(h, f)| (h.to_string(), f.to_string())).collect();
            (fields["SNP"].clone(), fields)
        })
        .collect()
}

/// Whether our value equals the oracle's within `relative` (both undefined counts as equal). A χ²
/// statistic below 1e-12 is zero up to rounding: where the exact Breslow–Day value is
/// zero (a stratum without REF alleles), PLINK and statsmodels both print ~1e-28.
fn agrees(ours: &Value, theirs: Option<f64>, relative: f64) -> bool {
    match (ours.as_f64(), theirs) {
        (None, None) => ours.is_null(),
        (Some(a), Some(b)) => (a - b).abs() <= relative * b.abs() || (a == 0.0 && b == 0.0),
        _ => false,
    }
}

fn statistic_agrees(ours: &Value, theirs: Option<f64>, relative: f64) -> bool {
    let negligible = |x: f64| x.abs() < 1e-12;
    agrees(ours, theirs, relative) || (ours.as_f64().is_some_and(negligible) && theirs.is_some_and(negligible))
}

fn plink_number(fields: &BTreeMap<String, String>, column: &str) -> Option<f64> {
    let text = &fields[column];
    if text == "NA" { None } else { Some(text.parse().unwrap()) }
}

#[test]
fn every_statistic_equals_plink_and_statsmodels() {
    require("bcftools", "apt-get install -y bcftools");
    require("plink1.9", "apt-get install -y plink1.9");
    let network = two_countries(10_000);
    let (portal, tmp) = (&network.portal, &network.dir);
    let body = format!(
        r#"{{"cases": {{"filters": [{{"id": "HP:0001250"}}]}}, "controls": {{"filters": []}},
            "referenceName": "22", "start": {START}, "end": {END}}}"#
    );
    let (status, answer) = http(&portal.address, "POST", "/network/association", Some(TOKEN), Some(&body));
    assert_eq!(status, 200, "{answer}");
    let ours: BTreeMap<String, &Value> = answer["response"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["variantInternalId"].as_str().unwrap().to_string(), r))
        .collect();

    // The oracles' inputs, from the VCFs and individuals files alone.
    let dir = tmp.path().display();
    for population in ["DK", "SE"] {
        sh(&format!(
            "bcftools norm -f {reference} -m -any {vcf} 2>/dev/null | bcftools view -Oz -o {dir}/{population}.vcf.gz \
             && bcftools index -t {dir}/{population}.vcf.gz",
            reference = cohort("reference.fa.gz").display(),
            vcf = cohort(&format!("{population}.vcf.gz")).display(),
        ));
    }
    sh(&format!(
        "bcftools merge -m none {dir}/DK.vcf.gz {dir}/SE.vcf.gz | bcftools annotate --set-id '%CHROM-%POS-%REF-%ALT' \
         -Oz -o {dir}/merged.vcf.gz && bcftools index -t {dir}/merged.vcf.gz"
    ));
    let (mut pheno, mut within) = (String::new(), String::new());
    for population in ["DK", "SE"] {
        let text = std::fs::read_to_string(cohort(&format!("{population}.individuals.tsv"))).unwrap();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split('\t').collect();
            let case = fields[3].split(',').any(|t| t == "HP:0001250");
            pheno.push_str(&format!("{id}\t{id}\t{}\n", if case { 2 } else { 1 }, id = fields[0]));
            within.push_str(&format!("{id}\t{id}\t{population}\n", id = fields[0]));
        }
    }
    std::fs::write(tmp.path().join("pheno.txt"), pheno).unwrap();
    std::fs::write(tmp.path().join("within.txt"), within).unwrap();
    let plink = |test: &str, out: &str| {
        sh(&format!(
            "plink1.9 --vcf {dir}/merged.vcf.gz --double-id --keep-allele-order --allow-no-sex --pheno {dir}/pheno.txt \
             --within {dir}/within.txt --chr 22 --from-bp {} --to-bp {END} {test} --out {dir}/{out} >/dev/null",
            START + 1
        ))
    };
    plink("--bd", "cmh");
    plink("--assoc", "allelic");
    let cmh = plink_table(&tmp.path().join("cmh.cmh"));
    let allelic = plink_table(&tmp.path().join("allelic.assoc"));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/association/statsmodels_cmh.py");
    let oracle: BTreeMap<String, Value> = serde_json::from_str(&sh(&format!(
        "python3 {script} {dir}/merged.vcf.gz {dir}/pheno.txt {dir}/within.txt 22:{}-{END}",
        START + 1
    )))
    .unwrap();

    // The same variants: those some cohort holds with a called allele in the region.
    assert!(oracle.len() > 4000, "{} variants", oracle.len());
    let missing: Vec<&String> = oracle.keys().filter(|k| !ours.contains_key(*k)).collect();
    let extra: Vec<&String> = ours.keys().filter(|k| !oracle.contains_key(*k)).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing {missing:?}, extra {extra:?}");
    let node_of = |country: &str| if country == "DK" { "DK-NGC" } else { "GMS" };
    let mut compared = 0;
    for (id, expected) in &oracle {
        let row = ours[id];
        // The tables, cell by cell.
        for (country, cells) in expected["tables"].as_object().unwrap() {
            let node = &row["nodes"][node_of(country)];
            let shown: Vec<Value> =
                ["caseAlt", "caseRef", "controlAlt", "controlRef"].iter().map(|k| node[*k].clone()).collect();
            assert_eq!(&Value::from(shown), cells, "{id} {country}");
            let own = &expected["nodes"][country];
            assert!(agrees(&node["oddsRatio"], own["oddsRatio"].as_f64(), 1e-9), "{id} {country} OR: {node} vs {own}");
            assert!(agrees(&node["allelicChi2"], own["allelicChi2"].as_f64(), 1e-9), "{id} {country}: {node} vs {own}");
        }
        // statsmodels, full precision.
        let ci = |i: usize| expected["ci95"].get(i).and_then(Value::as_f64);
        let our_ci = |i: usize| row["ci95"].get(i).cloned().unwrap_or(Value::Null);
        for (name, theirs) in [
            ("chi2", expected["chi2"].as_f64()),
            ("p", expected["p"].as_f64()),
            ("oddsRatio", expected["oddsRatio"].as_f64()),
            ("breslowDayChi2", expected["breslowDayChi2"].as_f64()),
            ("breslowDayP", expected["breslowDayP"].as_f64()),
            ("allelicChi2", expected["allelicChi2"].as_f64()),
        ] {
            assert!(
                statistic_agrees(&row[name], theirs, 1e-6),
                "{id} {name}: ours {} statsmodels {theirs:?}",
                row[name]
            );
        }
        assert!(agrees(&our_ci(0), ci(0), 1e-6) && agrees(&our_ci(1), ci(1), 1e-6), "{id} CI: {row} vs {expected}");
        // PLINK, as printed.
        let (c, a) = (&cmh[id], &allelic[id]);
        for (name, column, ours) in [
            ("chi2", "CHISQ", row["chi2"].clone()),
            ("p", "P", row["p"].clone()),
            ("oddsRatio", "OR", row["oddsRatio"].clone()),
            ("ci95 low", "L95", our_ci(0)),
            ("ci95 high", "U95", our_ci(1)),
            ("breslowDayChi2", "CHISQ_BD", row["breslowDayChi2"].clone()),
            ("breslowDayP", "P_BD", row["breslowDayP"].clone()),
        ] {
            assert!(
                statistic_agrees(&ours, plink_number(c, column), 1e-3),
                "{id} {name}: ours {ours}, PLINK --bd {}",
                c[column]
            );
        }
        let chisq = plink_number(a, "CHISQ");
        assert!(agrees(&row["allelicChi2"], chisq, 1e-3), "{id}: ours {}, PLINK --assoc {chisq:?}", row["allelicChi2"]);
        compared += 1;
    }
    assert_eq!(compared, oracle.len());
    // The disease variant, by name.
    let disease = ours["22-17000017-C-A"];
    assert!(disease["p"].as_f64().unwrap() < 1e-13, "{disease}");
    assert_eq!(cmh["22-17000017-C-A"]["P"], "3.48e-14");
}
