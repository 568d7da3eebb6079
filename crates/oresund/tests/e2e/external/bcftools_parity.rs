//! Normalisation and allele counts must equal bcftools' on the demo-data cohorts, record for record:
//! `bcftools norm -f REF -m -any` for the variants, `bcftools +fill-tags -- -t AC,AN,AC_Het,AC_Hom,AC_Hemi`
//! for the counts, on whole cohorts, on sample subsets (the cohort filters) and on both cohorts merged.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::OnceLock;

use crate::common::*;

/// variant → [AC, AN, het, hom-alt individuals, hemi]
pub(super) type Counts = BTreeMap<String, [u64; 5]>;

/// One node holding DK as dataset DK-1 and SE as SE-1, shared by the tests of this file.
fn node() -> &'static TestNode {
    static NODE: OnceLock<TestNode> = OnceLock::new();
    NODE.get_or_init(|| {
        require("bcftools", "apt-get install -y bcftools");
        TestNode::copy_for_run(dk_se_template())
    })
}

pub(super) fn normalised_vcf(population: &str) -> String {
    format!(
        "bcftools norm -f {} -m -any {} 2>/dev/null",
        cohort("reference.fa.gz").display(),
        cohort(&format!("{population}.vcf.gz")).display()
    )
}

/// Runs `vcf_stream | fill-tags | query` and parses the counts (AC_Hom halved into individuals).
pub(super) fn bcftools_counts(vcf_stream: &str) -> Counts {
    let script = format!(
        "{vcf_stream} | bcftools +fill-tags -- -t AC,AN,AC_Het,AC_Hom,AC_Hemi \
         | bcftools query -f '%CHROM-%POS-%REF-%ALT\\t%AC\\t%AN\\t%AC_Het\\t%AC_Hom\\t%AC_Hemi\\n'"
    );
    sh(&script)
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            let n = |i: usize| f[i].parse::<u64>().unwrap_or_else(|_| panic!("bad count in {line}"));
            (f[0].to_string(), [n(1), n(2), n(3), n(4) / 2, n(5)])
        })
        .collect()
}

fn our_counts(extra: &[&str]) -> Counts {
    counts_of(node(), extra)
}

/// Every variant's counts of `node` (`query --region` over both contigs).
pub(super) fn counts_of(node: &TestNode, extra: &[&str]) -> Counts {
    node.dump(extra)
        .iter()
        .map(|row| {
            let f: Vec<&str> = row.split('\t').collect();
            let n = |i: usize| f[i].parse::<u64>().unwrap();
            (f[0].to_string(), [n(2), n(3), n(5), n(6), n(7)])
        })
        .collect()
}

pub(super) fn assert_same(ours: &Counts, theirs: &Counts, what: &str) {
    assert_eq!(ours.len(), theirs.len(), "{what}: {} variants here, {} from bcftools", ours.len(), theirs.len());
    let mut differences = 0;
    for (variant, expected) in theirs {
        let got = ours.get(variant);
        if got != Some(expected) {
            differences += 1;
            if differences <= 5 {
                eprintln!("{what}: {variant}: bcftools {expected:?}, oresund {got:?}");
            }
        }
    }
    assert_eq!(differences, 0, "{what}: {differences} variants differ from bcftools (first ones above)");
}

/// Local ids (= VCF sample names) of a cohort's individuals passing `keep(row fields)`.
pub(super) fn samples(population: &str, keep: impl Fn(&[&str]) -> bool) -> Vec<String> {
    let text = std::fs::read_to_string(cohort(&format!("{population}.individuals.tsv"))).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|f| keep(f))
        .map(|f| f[0].to_string())
        .collect()
}

pub(super) fn subset_counts(population: &str, samples: &[String]) -> Counts {
    let list = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(list.path(), samples.join("\n") + "\n").unwrap();
    bcftools_counts(&format!("{} | bcftools view -S {}", normalised_vcf(population), list.path().display()))
}

#[test]
fn normalised_records_equal_bcftools_norm() {
    let ours: BTreeSet<String> =
        node().dump(&["--dataset", "DK-1"]).iter().map(|r| r.split('\t').next().unwrap().to_string()).collect();
    let theirs: BTreeSet<String> =
        sh(&format!("{} | bcftools query -f '%CHROM-%POS-%REF-%ALT\\n'", normalised_vcf("DK")))
            .lines()
            .map(|l| l.to_ascii_uppercase())
            .collect();
    assert_eq!(theirs.len(), 10309, "the demo-data DK cohort normalises to 10,309 records");
    let missing: Vec<_> = theirs.difference(&ours).take(5).collect();
    let extra: Vec<_> = ours.difference(&theirs).take(5).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing here: {missing:?}; not in bcftools: {extra:?}");
}

#[test]
fn counts_equal_fill_tags_on_each_cohort() {
    for (population, dataset) in [("DK", "DK-1"), ("SE", "SE-1")] {
        let theirs = bcftools_counts(&normalised_vcf(population));
        assert_same(&our_counts(&["--dataset", dataset]), &theirs, population);
    }
}

#[test]
fn pooled_counts_equal_fill_tags_on_the_merged_cohorts() {
    // bcftools merge leaves a variant absent from one cohort missing there, as the node does.
    let tmp = tempfile::tempdir().unwrap();
    for population in ["DK", "SE"] {
        let out = tmp.path().join(format!("{population}.bcf"));
        sh(&format!("{} -Ob -o {} && bcftools index {}", normalised_vcf(population), out.display(), out.display()));
    }
    let merge = format!("bcftools merge {0}/DK.bcf {0}/SE.bcf", tmp.path().display());
    assert_same(&our_counts(&[]), &bcftools_counts(&merge), "DK+SE");
}

#[test]
fn sex_filter_equals_bcftools_on_the_sample_subset() {
    let females = samples("DK", |f| f[1] == "female");
    assert!(females.len() > 200);
    assert_same(&our_counts(&["--dataset", "DK-1", "--sex", "female"]), &subset_counts("DK", &females), "DK females");
    let males = samples("SE", |f| f[1] == "male");
    assert_same(&our_counts(&["--dataset", "SE-1", "--sex", "male"]), &subset_counts("SE", &males), "SE males");
}

/// The individuals file need not list people in the VCF's sample order: rows are stored in batches
/// (64 at a time in test builds) and each sample column finds its person by pseudonym. Here DK's rows
/// come reversed, so every batch holds people of columns far from its own; each sex's counts must
/// still equal bcftools' on that sex's samples (a column given another's person changes them).
#[test]
fn individuals_in_another_order_than_the_samples_count_like_bcftools() {
    require("bcftools", "apt-get install -y bcftools");
    let text = std::fs::read_to_string(cohort("DK.individuals.tsv")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1..].reverse();
    let node = TestNode::new("REORDERED", "DK");
    let reversed = node.tmp.path().join("DK.reversed.tsv");
    std::fs::write(&reversed, lines.join("\n") + "\n").unwrap();
    let vcf = cohort("DK.vcf.gz");
    node.ingest_files("DK-1", &vcf, &reversed);
    for sex in ["female", "male"] {
        let subset = samples("DK", |f| f[1] == sex);
        assert!(subset.len() > 200, "{sex}: {} samples", subset.len());
        assert_same(
            &counts_of(&node, &["--sex", sex]),
            &subset_counts("DK", &subset),
            &format!("DK {sex}s, reversed rows"),
        );
    }
}

/// HPO descendants of `root`, computed here from hp.obo's is_a lines (independently of the node).
fn hpo_descendants(root: &str) -> HashSet<String> {
    let text = sh(&format!("zcat {} | grep -E '^(id|is_a): '", hpo().display()));
    let mut children: HashMap<String, Vec<String>> = HashMap::new();
    let mut current = String::new();
    for line in text.lines() {
        if let Some(id) = line.strip_prefix("id: ") {
            current = id.to_string();
        } else if let Some(parent) = line.strip_prefix("is_a: ") {
            let parent = parent.split_whitespace().next().unwrap().to_string();
            children.entry(parent).or_default().push(current.clone());
        }
    }
    let mut out = HashSet::from([root.to_string()]);
    let mut stack = vec![root.to_string()];
    while let Some(term) = stack.pop() {
        for child in children.get(&term).into_iter().flatten() {
            if out.insert(child.clone()) {
                stack.push(child.clone());
            }
        }
    }
    out
}

#[test]
fn phenotype_filter_includes_descendants_like_a_sample_subset() {
    // HP:0000707 (nervous system) covers HP:0001250 (seizure): the example.
    let descendants = hpo_descendants("HP:0000707");
    assert!(descendants.contains("HP:0001250"));
    let affected = samples("DK", |f| f[3].split(',').any(|t| descendants.contains(t)));
    let seizure_only = samples("DK", |f| f[3].split(',').any(|t| t == "HP:0001250"));
    assert!(affected.len() > seizure_only.len(), "the closure must add individuals beyond the exact term");
    assert_same(
        &our_counts(&["--dataset", "DK-1", "--phenotype", "HP:0000707"]),
        &subset_counts("DK", &affected),
        "DK HP:0000707",
    );
    let female_seizure = samples("DK", |f| f[1] == "female" && f[3].split(',').any(|t| t == "HP:0001250"));
    assert_same(
        &our_counts(&["--dataset", "DK-1", "--phenotype", "HP:0001250", "--sex", "female"]),
        &subset_counts("DK", &female_seizure),
        "DK female HP:0001250",
    );
}

#[test]
fn the_truth_variant_is_found_and_enriched_in_its_phenotype() {
    let all: serde_json::Value =
        serde_json::from_str(&ok(&["query", node().path(), "--variant", "22-17000017-C-A", "--dataset", "DK-1"]))
            .unwrap();
    let keys: Vec<&str> = all.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "variant",
            "vrs_id",
            "allele_count",
            "allele_number",
            "allele_frequency",
            "heterozygous",
            "homozygous_alt",
            "hemizygous"
        ]
    );
    assert_eq!((all["allele_count"].as_u64(), all["allele_number"].as_u64()), (Some(2), Some(1000)));
    let seizure: serde_json::Value = serde_json::from_str(&ok(&[
        "query",
        node().path(),
        "--variant",
        "22-17000017-C-A",
        "--phenotype",
        "HP:0001250",
    ]))
    .unwrap();
    assert!(seizure["allele_frequency"].as_f64().unwrap() > 5.0 * all["allele_frequency"].as_f64().unwrap());
}

#[test]
fn a_right_shifted_indel_finds_its_left_aligned_record() {
    // SE has `22 16054678 GCTG G,GCTGCTG` in a (CTG)n repeat; bcftools moves both to 16054642.
    let left: serde_json::Value =
        serde_json::from_str(&ok(&["query", node().path(), "--variant", "22-16054642-TCTG-T"])).unwrap();
    let right: serde_json::Value =
        serde_json::from_str(&ok(&["query", node().path(), "--variant", "22-16054678-GCTG-G"])).unwrap();
    assert_eq!(left, right);
    assert_eq!(left["variant"], "22-16054642-TCTG-T");
    assert!(left["allele_count"].as_u64().unwrap() > 0);
}
