//! BCF input, against bcftools: a cohort exchanged as BCF (compressed or not) ingests into
//! exactly the variants and counts `bcftools norm | +fill-tags` gives on that BCF; its archived
//! copy decrypts (Python `crypt4gh`) into the text `bcftools view` prints for it, and a region
//! export of it holds the records `bcftools view -r` finds; a damaged BCF is refused naming the
//! record and leaves the node as it was.

use std::path::{Path, PathBuf};

use crate::archive::*;
use crate::common::*;
use crate::external::archive::{export_and_decrypt, reader_keys};
use crate::external::bcftools_parity::{assert_same, bcftools_counts, counts_of};

/// `population`'s cohort written as BCF by bcftools into `dir` (`-Ob`, or `-Ou` uncompressed).
fn bcf_of(dir: &Path, population: &str, mode: &str) -> PathBuf {
    require("bcftools", "apt-get install -y bcftools");
    let out = dir.join(format!("{population}.bcf"));
    let vcf = cohort(&format!("{population}.vcf.gz"));
    // To stdout: with `-o x.bcf` bcftools 1.16 compresses whatever `-O` says.
    sh(&format!("bcftools view --no-version {mode} {} > {}", vcf.display(), out.display()));
    let compressed = std::fs::read(&out).unwrap().starts_with(&[0x1f, 0x8b]);
    assert_eq!(compressed, mode == "-Ob", "{mode} wrote {}", out.display());
    out
}

fn ingest_bcf(node: &TestNode, dataset: &str, bcf: &Path, individuals: &str) -> std::process::Output {
    let individuals = cohort(individuals);
    with_key(&[
        "ingest",
        node.path(),
        "--dataset",
        dataset,
        "--individuals",
        individuals.to_str().unwrap(),
        bcf.to_str().unwrap(),
    ])
}

#[test]
fn a_bcf_ingests_to_the_counts_bcftools_gives_on_it() {
    let node = sealed_empty_node();
    let dir = node.tmp.path();
    for (population, dataset, mode) in [("DK", "DK-1", "-Ob"), ("SE", "SE-1", "-Ou")] {
        let bcf = bcf_of(dir, population, mode);
        let out = ingest_bcf(&node, dataset, &bcf, &format!("{population}.individuals.tsv"));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let normalised =
            format!("bcftools norm -f {} -m -any {} 2>/dev/null", cohort("reference.fa.gz").display(), bcf.display());
        let theirs = bcftools_counts(&normalised);
        assert!(theirs.len() > 10_000, "{population}: {} variants from bcftools", theirs.len());
        assert_same(&counts_of(&node, &["--dataset", dataset]), &theirs, &format!("{population} as BCF ({mode})"));
    }
    // The same BCF again is recognised (the archived text is the same bytes), nothing added.
    let again = ingest_bcf(&node, "DK-1", &dir.join("DK.bcf"), "DK.individuals.tsv");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already in dataset DK-1"));
}

#[test]
fn the_archived_copy_is_the_vcf_text_of_bcftools_view_and_exports_by_region() {
    let node = sealed_empty_node();
    let dir = node.tmp.path();
    let bcf = bcf_of(dir, "DK", "-Ob");
    let out = ingest_bcf(&node, "DK-1", &bcf, "DK.individuals.tsv");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let list = objects(&node);
    let names: Vec<(&str, &str)> = list.iter().map(|o| (field(o, "kind"), field(o, "name"))).collect();
    assert_eq!(
        names,
        [("vcf", "DK.vcf.gz"), ("block-index", "DK.vcf.gz.blocks"), ("individuals", "DK.individuals.tsv")]
    );

    let (sk, pk) = reader_keys(dir, "reader");
    let exported = dir.join("exported.vcf.gz");
    std::fs::write(&exported, export_and_decrypt(&node, "TEST-F000001", &pk, &sk, None)).unwrap();
    let ours = sh(&format!("gzip -dc {}", exported.display()));
    let theirs = sh(&format!("bcftools view --no-version {}", bcf.display()));
    assert_eq!(ours.lines().count(), theirs.lines().count());
    assert!(ours == theirs, "the archived text differs from bcftools view of the BCF");

    // A region export holds every record bcftools finds in the region (and a few neighbours
    // sharing their blocks, like htsget).
    sh(&format!("bcftools index {}", bcf.display()));
    let region = "22:16500000-16700000";
    let part = dir.join("region.vcf.gz");
    std::fs::write(&part, export_and_decrypt(&node, "TEST-F000001", &pk, &sk, Some(region))).unwrap();
    let records = |file: &Path| sh(&format!("bcftools view -H {} | cut -f1-5", file.display()));
    let wanted = sh(&format!("bcftools view -H -r {region} {} | cut -f1-5", bcf.display()));
    assert!(wanted.lines().count() > 20, "{} records in {region}", wanted.lines().count());
    let got = records(&part);
    let missing: Vec<&str> = wanted.lines().filter(|l| !got.contains(l)).collect();
    assert!(missing.is_empty(), "the region export lacks {missing:?}");
    assert!(got.lines().count() < ours.lines().count() / 5, "a region export is not the whole file");
}

#[test]
fn the_committed_fixture_still_matches_this_bcftools() {
    // `oresund-ingest`'s in-process test compares its reading of `types.bcf` with this text.
    require("bcftools", "apt-get install -y bcftools");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../oresund-ingest/tests/fixtures/bcf");
    for (name, text) in [
        ("types.bcf", "types.bcftools-view.vcf"),
        ("types.uncompressed.bcf", "types.bcftools-view.vcf"),
        ("types.idx-gaps.bcf", "types.idx-gaps.bcftools-view.vcf"),
    ] {
        let expected = std::fs::read_to_string(fixtures.join(text)).unwrap();
        let live = sh(&format!("bcftools view --no-version {}", fixtures.join(name).display()));
        assert!(live == expected, "bcftools view {name} no longer prints the committed text");
    }
}

#[test]
fn a_damaged_bcf_is_refused_with_its_record_and_nothing_is_kept() {
    let node = sealed_empty_node();
    let dir = node.tmp.path();
    // A compressed one cut short is refused before anything is read.
    let bytes = std::fs::read(bcf_of(dir, "DK", "-Ob")).unwrap();
    let cut = dir.join("cut.bcf");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = ingest_bcf(&node, "DK-1", &cut, "DK.individuals.tsv");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("no BGZF end-of-file block"), "{stderr}");
    // Uncompressed, cut in the middle of the records.
    let bytes = std::fs::read(bcf_of(dir, "DK", "-Ou")).unwrap();
    let cut = dir.join("cut.bcf");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = ingest_bcf(&node, "DK-1", &cut, "DK.individuals.tsv");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a cut BCF was ingested");
    assert!(stderr.contains("cut.bcf: record ") && stderr.contains("the file ends inside the record"), "{stderr}");
    // A record naming a contig the header does not have.
    let header_end = 9 + u32::from_le_bytes(bytes[5..9].try_into().unwrap()) as usize;
    let mut damaged = bytes.clone();
    damaged[header_end + 8..header_end + 12].copy_from_slice(&99i32.to_le_bytes());
    let wrong = dir.join("contig.bcf");
    std::fs::write(&wrong, &damaged).unwrap();
    let out = ingest_bcf(&node, "DK-1", &wrong, "DK.individuals.tsv");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("contig.bcf: record 1: contig 99 is not in the header"), "{stderr}");
    // Nothing of either attempt is in the catalog or the archive.
    assert!(objects(&node).is_empty());
    assert!(sh(&format!("find {}/archive -type f", node.path())).trim().is_empty(), "objects left in the archive");
}
