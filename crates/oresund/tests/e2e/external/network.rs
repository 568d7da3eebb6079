//! Federation against bcftools: pooled counts of two real national nodes behind a portal equal
//! `bcftools merge` + `+fill-tags` on the merged cohorts. The nodes and helpers are those of the
//! in-process-tier module `crate::network`.

use std::collections::BTreeMap;

use crate::common::*;
use crate::network::*;
use serde_json::Value;

/// variant → (AC, AN) from a network answer's pooled figures.
fn pooled(answer: &Value) -> BTreeMap<String, (u64, u64)> {
    answer["info"]["pooled"]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            assert_eq!(v["countPrecision"], "exact", "a controlled caller gets exact counts: {v}");
            (
                v["variantInternalId"].as_str().unwrap().to_string(),
                (v["alleleCount"].as_u64().unwrap(), v["alleleNumber"].as_u64().unwrap()),
            )
        })
        .collect()
}

#[test]
fn pooled_counts_equal_bcftools_on_the_merged_cohorts() {
    require("bcftools", "apt-get install -y bcftools");
    let network = two_countries(5000);
    let (portal, tmp) = (&network.portal, &network.dir);
    let (start, end) = (16_000_000u64, 16_220_000u64);
    let path =
        format!("/network/g_variants?referenceName=22&start={start}&end={end}&requestedGranularity=record&limit=1000");
    let (status, answer) = http(&portal.address, "GET", &path, Some(TOKEN), None);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["meta"]["returnedGranularity"], "count", "the network never carries records");
    let nodes = answer["info"]["nodes"].as_array().unwrap();
    assert!(nodes.iter().all(|n| n["status"] == "ok"), "{nodes:?}");
    let ours = pooled(&answer);

    // bcftools: normalise each cohort, merge (a variant absent from one cohort is missing there), count.
    for population in ["DK", "SE"] {
        let out = tmp.path().join(format!("{population}.bcf"));
        sh(&format!(
            "bcftools norm -f {} -m -any {} 2>/dev/null | bcftools view -Ob -o {} && bcftools index {}",
            cohort("reference.fa.gz").display(),
            cohort(&format!("{population}.vcf.gz")).display(),
            out.display(),
            out.display()
        ));
    }
    let merged = sh(&format!(
        "bcftools merge -r 22:{first}-{end} {dir}/DK.bcf {dir}/SE.bcf | bcftools +fill-tags -- -t AC,AN \
         | bcftools query -f '%CHROM-%POS-%REF-%ALT\\t%AC\\t%AN\\n'",
        first = start + 1,
        dir = tmp.path().display(),
    ));
    // The network's results are the variants someone carries (AC > 0): its total and its rows.
    let theirs: BTreeMap<String, (u64, u64)> = merged
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), (f[1].parse().unwrap(), f[2].parse().unwrap()))
        })
        .filter(|(_, (ac, _))| *ac > 0)
        .collect();
    assert!(theirs.len() > 700, "the region holds hundreds of variants");
    assert_eq!(answer["responseSummary"]["numTotalResults"].as_u64(), Some(theirs.len() as u64));
    assert_eq!(ours.len(), theirs.len(), "the network found {} variants, bcftools {}", ours.len(), theirs.len());
    let wrong: Vec<_> = theirs.iter().filter(|(v, c)| ours.get(*v) != Some(c)).take(5).collect();
    assert!(wrong.is_empty(), "pooled counts differ from bcftools merge for {wrong:?}");
    // Pooled frequency is ΣAC/ΣAN, not the mean of the two countries' frequencies.
    let some = answer["info"]["pooled"]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["nodes"].as_object().unwrap().len() == 2)
        .unwrap();
    let (ac, an) = (some["alleleCount"].as_f64().unwrap(), some["alleleNumber"].as_f64().unwrap());
    assert!((some["alleleFrequency"].as_f64().unwrap() - ac / an).abs() < 1e-12);
}
