//! BCF input without bcftools installed (the comparison with bcftools is `external::bcf_input`):
//! a committed BCF excerpt of the DK cohort (`tests/fixtures/bcf/README.md`) ingests into the
//! same variants and counts as the same records of `demo-data/DK.vcf.gz` as text, the archive
//! keeps its VCF text under a VCF's name, and a withdrawal rewrites it as it rewrites a VCF.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::archive::{field, objects};
use crate::common::*;

const EXCERPT: (u64, u64) = (16_000_000, 16_300_000);

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bcf/DK-22-16000000-16300000.bcf")
}

/// The header and the records of [`EXCERPT`] of the DK cohort, as plain text.
fn excerpt_as_text(dir: &Path) -> PathBuf {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(cohort("DK.vcf.gz")).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let kept: Vec<&str> = text
        .lines()
        .filter(|line| {
            line.starts_with('#')
                || line
                    .split('\t')
                    .nth(1)
                    .and_then(|p| p.parse::<u64>().ok())
                    .is_some_and(|p| (EXCERPT.0..=EXCERPT.1).contains(&p))
        })
        .collect();
    let path = dir.join("excerpt.vcf");
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
    path
}

fn ingest(node: &TestNode, file: &Path) -> String {
    let individuals = cohort("DK.individuals.tsv");
    node.ingest_files("DK-1", file, &individuals)
}

#[test]
fn a_bcf_ingests_like_the_same_records_as_text() {
    let (from_bcf, from_text) = (TestNode::new("BCF", "DK"), TestNode::new("VCF", "DK"));
    ingest(&from_bcf, &fixture());
    ingest(&from_text, &excerpt_as_text(from_text.tmp.path()));
    let (ours, theirs) = (from_bcf.dump(&[]), from_text.dump(&[]));
    assert!(ours.len() > 1_000, "{} variants", ours.len());
    assert_eq!(ours, theirs, "the BCF and the text of its records give different nodes");
    let list = objects(&from_bcf);
    let names: Vec<(&str, &str)> = list.iter().map(|o| (field(o, "kind"), field(o, "name"))).collect();
    assert_eq!(names[0], ("vcf", "DK-22-16000000-16300000.vcf.gz"));
    assert_eq!(names[1], ("block-index", "DK-22-16000000-16300000.vcf.gz.blocks"));
    // The same BCF again is recognised (its archived text is the same bytes): nothing is added,
    // and what the second attempt archived is removed again.
    let stored = || sh(&format!("find {}/archive -type f | sort", from_bcf.path()));
    let before = stored();
    assert!(before.lines().count() >= 6, "the first ingest's objects: {before}");
    let again = ingest(&from_bcf, &fixture());
    assert!(again.contains("already in dataset DK-1"), "{again}");
    assert_eq!(objects(&from_bcf), list);
    assert_eq!(stored(), before, "the second attempt left objects in the archive");
    assert_eq!(from_bcf.dump(&[]), ours);

    // A participant withdraws from both: the archived text is rewritten without them like a VCF,
    // and the two nodes still agree.
    let individuals = std::fs::read_to_string(cohort("DK.individuals.tsv")).unwrap();
    let first = individuals.lines().nth(1).unwrap().split('\t').next().unwrap().to_string();
    for node in [&from_bcf, &from_text] {
        ok(&["withdraw", node.path(), "--individual", &first, "--reason", "consent withdrawn"]);
    }
    let after = from_bcf.dump(&[]);
    assert_ne!(after, ours, "the withdrawal changed some counts");
    assert_eq!(after, from_text.dump(&[]));
    assert_eq!(objects(&from_bcf)[0]["version"], 2, "the archived text has a new version");
}
