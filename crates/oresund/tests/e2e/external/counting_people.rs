//! Issue #17: every count counts each person once per variant, across files and datasets, and
//! equals bcftools on the deduplicated data — on both backends.
//!
//! The files overlap in people and in variants, at different sample columns: A holds the first
//! 300 DK samples, B samples 201-500 on the first half of chr22 only, C samples 201-500 everywhere,
//! and a `bcftools view -Oz` copy of the whole cohort (a new SHA-256) comes last.

use std::collections::BTreeSet;
use std::path::Path;

use super::bcftools_parity::{Counts, assert_same, bcftools_counts, counts_of, normalised_vcf, samples};
use crate::common::*;

/// bcftools counts of the normalised DK cohort limited to `samples` (all when `None`) and, after
/// normalisation, to the variants in `only` (all when `None`).
fn expected(samples: Option<&[String]>, only: Option<&BTreeSet<String>>, tmp: &Path) -> Counts {
    let subset = match samples {
        Some(samples) => {
            let list = tmp.join(format!("samples-{}.txt", samples.len()));
            std::fs::write(&list, samples.join("\n") + "\n").unwrap();
            format!(" | bcftools view -S {}", list.display())
        }
        None => String::new(),
    };
    let mut counts = bcftools_counts(&format!("{}{subset}", normalised_vcf("DK")));
    if let Some(only) = only {
        counts.retain(|v, _| only.contains(v));
    }
    counts
}

/// Normalised variants of a VCF, as `CHROM-POS-REF-ALT`.
fn variants_of(vcf: &Path) -> BTreeSet<String> {
    let reference = cohort("reference.fa.gz");
    sh(&format!(
        "bcftools norm -f {} -m -any {} 2>/dev/null | bcftools query -f '%CHROM-%POS-%REF-%ALT\\n'",
        reference.display(),
        vcf.display()
    ))
    .lines()
    .map(|l| l.to_ascii_uppercase())
    .collect()
}

fn ingest(oresund: &mut std::process::Command, node: &TestNode, dataset: &str, vcf: &Path) -> String {
    let individuals = cohort("DK.individuals.tsv");
    let out = oresund
        .args(["ingest", node.path(), "--dataset", dataset, "--individuals"])
        .arg(individuals)
        .arg(vcf)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "ingest of {} failed: {stderr}", vcf.display());
    stderr
}

fn each_person_counted_once(node: &TestNode, oresund: &dyn Fn() -> std::process::Command) {
    require("bcftools", "apt-get install -y bcftools");
    let tmp = tempfile::tempdir().unwrap();
    let everyone = samples("DK", |_| true);
    assert_eq!(everyone.len(), 500);
    let (first, second) = (&everyone[..300], &everyone[200..]);
    let write = |name: &str, people: &[String], region: &str| {
        let list = tmp.path().join(format!("{name}.samples"));
        std::fs::write(&list, people.join("\n") + "\n").unwrap();
        let out = tmp.path().join(format!("{name}.vcf.gz"));
        sh(&format!(
            "bcftools view -S {} {region} {} -Oz -o {}",
            list.display(),
            cohort("DK.vcf.gz").display(),
            out.display()
        ));
        out
    };
    let a = write("A", first, "");
    let b = write("B", second, "-r 22:1-16999999");
    let c = write("C", second, "");
    let copy = tmp.path().join("copy.vcf.gz");
    sh(&format!("bcftools view {} -Oz -o {}", cohort("DK.vcf.gz").display(), copy.display()));
    let in_b = variants_of(&b);
    assert!(in_b.len() > 4000 && in_b.len() < 6000, "B holds half of chr22: {}", in_b.len());

    let all = expected(None, None, tmp.path());
    let of_first = expected(Some(first), None, tmp.path());
    // A and B in one dataset: where B holds a variant, everyone (300 + 300 − 100 shared); elsewhere A's 300.
    ingest(&mut oresund(), node, "DK-A", &a);
    let note = ingest(&mut oresund(), node, "DK-A", &b);
    assert!(note.contains("100 with DK-NGC-F000001 in DK-A"), "{note}");
    let mut a_and_b = of_first.clone();
    for (variant, counts) in &all {
        if in_b.contains(variant) {
            a_and_b.insert(variant.clone(), *counts);
        }
    }
    assert_same(&counts_of(node, &[]), &a_and_b, "A+B");
    assert_same(&counts_of(node, &["--dataset", "DK-A"]), &a_and_b, "DK-A with A+B");
    // One sex filter on top: the shared people are left out of B's count where A holds them.
    let females: Vec<String> = samples("DK", |f| f[1] == "female");
    let female_rows: Counts = {
        let in_first: BTreeSet<&String> = first.iter().collect();
        let first_females: Vec<String> = females.iter().filter(|s| in_first.contains(s)).cloned().collect();
        let mut out = expected(Some(&first_females), None, tmp.path());
        for (variant, counts) in expected(Some(&females), Some(&in_b), tmp.path()) {
            out.insert(variant, counts);
        }
        out
    };
    assert_same(&counts_of(node, &["--sex", "female"]), &female_rows, "A+B, females");

    // C in another dataset: the node counts everyone once everywhere; each dataset its own people.
    ingest(&mut oresund(), node, "DK-B", &c);
    assert_same(&counts_of(node, &[]), &all, "A+B+C");
    assert_same(&counts_of(node, &["--dataset", "DK-A"]), &a_and_b, "DK-A after C");
    assert_same(&counts_of(node, &["--dataset", "DK-B"]), &expected(Some(second), None, tmp.path()), "DK-B");

    // The whole cohort re-compressed (another SHA-256) into DK-B and into a new dataset.
    for dataset in ["DK-B", "DK-C"] {
        let note = ingest(&mut oresund(), node, dataset, &copy);
        assert!(note.contains("each person is counted once"), "{note}");
        assert_same(&counts_of(node, &[]), &all, &format!("everything after the copy into {dataset}"));
        assert_same(&counts_of(node, &["--dataset", dataset]), &all, dataset);
    }
    let an_max = counts_of(node, &[]).values().map(|c| c[1]).max().unwrap();
    assert_eq!(an_max, 1000, "AN never above twice the 500 people");

    // A copy whose 100th record gives the first sample another genotype: refused, nothing changes.
    let conflicting = tmp.path().join("conflicting.vcf.gz");
    sh(&format!(
        "bcftools view {} | awk 'BEGIN{{OFS=\"\\t\"}} /^#/{{print;next}} \
         {{n++; if (n==100) {{split($10,a,\":\"); $10=(a[1]==\"0/0\"?\"0/1\":\"0/0\")}} print}}' \
         | bcftools view -Oz -o {}",
        cohort("DK.vcf.gz").display(),
        conflicting.display()
    ));
    let out = oresund()
        .args(["ingest", node.path(), "--dataset", "DK-D", "--individuals"])
        .arg(cohort("DK.individuals.tsv"))
        .arg(&conflicting)
        .output()
        .unwrap();
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a conflicting copy must be refused");
    assert!(error.contains("the genotype in sample column 1 differs from DK-NGC-F000001 (sample column 1)"), "{error}");
    assert_same(&counts_of(node, &[]), &all, "after the refused copy");
}

#[test]
fn each_person_counts_once_across_files_and_datasets_like_bcftools() {
    let node = TestNode::new("DK-NGC", "DK");
    each_person_counted_once(&node, &oresund);
}

#[test]
fn each_person_counts_once_on_postgres_and_s3() {
    let services = ScaleServices::new();
    let node = services.node("DK-NGC", "DK");
    each_person_counted_once(&node, &|| services.oresund());
}
