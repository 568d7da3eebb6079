//! Synthetic ingests: people, files of variants shaped like real ones (multi-allelic sites,
//! long deletions, indels arriving slightly out of order, haploid calls on a second contig,
//! gaps wider than a block's span), and what each store should give back for them.

use oresund_core::carriers::CarrierSets;
use oresund_core::individual::{Individual, Sex};
use oresund_core::pseudonym::Pseudonym;
use oresund_store::prelude::*;
use oresund_store::{ArchiveKind, ArchiveObject, FileNumber, IngestStats, NewFile, VariantKey};

pub fn person(n: u32, sex: Sex) -> Individual {
    Individual {
        pseudonym: Pseudonym::parse(&format!("{n:032x}")).expect("32 hex digits"),
        sex,
        birth_year: Some(1950 + (n % 50) as u16),
        hpo_terms: vec![format!("HP:{:07}", 1250 + n % 3)],
        icd10_codes: if n.is_multiple_of(2) { vec!["G40.9".into()] } else { vec![] },
        consent: vec!["DUO:0000042".into()],
    }
}

/// One variant as a file brings it.
#[derive(Debug, Clone)]
pub struct Call {
    pub key: VariantKey,
    pub carriers: Vec<u8>,
    pub haploid: Vec<u32>,
}

pub fn vrs_id(key: &VariantKey) -> String {
    format!("ga4gh:VA.{}-{}-{}-{}", key.contig, key.pos, key.reference, key.alternate)
}

fn key(contig: u32, pos: u64, reference: &str, alternate: &str) -> VariantKey {
    VariantKey { contig, pos, reference: reference.into(), alternate: alternate.into() }
}

/// The calls of a synthetic file with `columns` samples; `seed` varies carriers and some sites.
pub fn calls(columns: usize, seed: u32) -> Vec<Call> {
    let mut out = Vec::new();
    // Two heterozygous carriers and, now and then, a missing call: real carrier sets. Every fourth
    // variant is common, all columns but one carrying it and pairs of them alike, so its set is a
    // bitset and the embedded store links it to its pair's (`oresund_core::carrier_links`).
    let carriers = |i: u32| {
        let mut het = vec![(i + seed) % columns as u32, (i * 7 + seed) % columns as u32];
        if i % 4 == 3 {
            let spared = (i / 8 + seed) % columns as u32;
            het = (0..columns as u32).filter(|&c| c != spared).collect();
        }
        het.sort_unstable();
        het.dedup();
        let missing = i.is_multiple_of(5).then_some((i * 3 + seed + 1) % columns as u32).filter(|c| !het.contains(c));
        CarrierSets { het, missing_two: missing.into_iter().collect(), ..CarrierSets::default() }.encode(columns)
    };
    let mut i = 0;
    let mut pos = 1_000u64;
    // 300 sites on contig 0, several blocks; a gap wider than BLOCK_SPAN in the middle.
    while i < 300 {
        pos += if i == 150 { 250_000 } else { 37 + u64::from((i * 13 + seed) % 50) };
        out.push(Call { key: key(0, pos, "A", "C"), carriers: carriers(i), haploid: vec![] });
        if i % 25 == 0 {
            // A multi-allelic site split in two, and a 60-base deletion reaching far right.
            out.push(Call { key: key(0, pos, "A", "G"), carriers: carriers(i + 1), haploid: vec![] });
            out.push(Call { key: key(0, pos + 2, &"T".repeat(60), "T"), carriers: carriers(i + 2), haploid: vec![] });
        }
        i += 1;
    }
    // A left-aligned indel arriving after later records (normalisation moves indels left).
    let late = out.len() - 3;
    let moved = Call { key: key(0, out[late].key.pos - 5, "CA", "C"), carriers: carriers(999), haploid: vec![] };
    out.insert(late + 2, moved);
    // Contig 1: men are haploid (the same set each time, interned once), one all-diploid site.
    let men: Vec<u32> = (0..columns as u32).filter(|c| c % 2 == 1).collect();
    for j in 0..40u32 {
        let haploid = if j == 7 { vec![] } else { men.clone() };
        out.push(Call { key: key(1, 5_000 + u64::from(j) * 11, "G", "T"), carriers: carriers(j + 400), haploid });
    }
    out
}

/// An archive object of a file.
pub fn object(accession: &str, file: FileNumber, kind: ArchiveKind) -> ArchiveObject {
    ArchiveObject {
        accession: accession.into(),
        file,
        kind,
        name: "x.vcf.gz".into(),
        plaintext_sha256: "aa".into(),
        plaintext_size: 10,
        body_sha256: "bb".into(),
        body_size: 38,
        header_path: format!("{accession}/h"),
        body_path: format!("{accession}/b"),
        key_id: "k1".into(),
        created: String::new(),
        version: 1,
    }
}

/// What an ingest brings.
pub struct Ingest<'a> {
    pub dataset: &'a str,
    pub sha256: &'a str,
    pub people: Vec<Individual>,
    pub calls: Vec<Call>,
    pub archive: bool,
}

impl<'a> Ingest<'a> {
    /// A file of `columns` people numbered from `first_person`, with [`calls`] for `seed`.
    pub fn new(dataset: &'a str, sha256: &'a str, first_person: u32, columns: usize, seed: u32) -> Self {
        let people = (0..columns as u32)
            .map(|i| person(first_person + i, if i % 2 == 1 { Sex::Male } else { Sex::Female }))
            .collect();
        Ingest { dataset, sha256, people, calls: calls(columns, seed), archive: true }
    }
}

/// Runs `ingest` in one transaction, committing it if `commit`; returns file number and accession.
pub fn run(store: &dyn NodeStore, ingest: &Ingest<'_>, commit: bool) -> (FileNumber, String) {
    let mut tx = store.begin_ingest().expect("begin ingest");
    let columns = tx.upsert_individuals(&ingest.people).expect("upsert individuals");
    let file = NewFile {
        dataset: ingest.dataset.into(),
        name: format!("{}.vcf.gz", ingest.sha256),
        sha256: ingest.sha256.into(),
        size: 1234,
        columns,
    };
    let (number, accession) = tx.add_file(&file, "TEST").expect("add file");
    for call in &ingest.calls {
        tx.add_variant(number, &call.key, &vrs_id(&call.key), &call.carriers, &call.haploid).expect("add variant");
    }
    if ingest.archive {
        tx.add_archive_object(&object(&accession, number, ArchiveKind::Vcf)).expect("archive object");
        let metadata = object(&format!("{accession}-M"), number, ArchiveKind::Individuals);
        tx.add_archive_object(&metadata).expect("archive object");
    }
    let stats = IngestStats { records: ingest.calls.len() as u64, ..Default::default() };
    let stats = tx.finish_file(number, &stats).expect("finish file");
    assert_eq!(stats.variants as usize, ingest.calls.len(), "every synthetic call is a distinct variant");
    if commit {
        tx.commit().expect("commit");
    }
    (number, accession)
}

/// Every stored entry of a region scan, as (file, pos, ref, alt, vrs id, haploid set, carriers).
pub type Scanned = (FileNumber, u64, String, String, String, u32, Vec<u8>);

pub fn scan(store: &dyn NodeStore, contig: u32, start: u64, end: u64) -> Vec<Scanned> {
    let mut out = Vec::new();
    store
        .scan_region(contig, start, end, &mut |file, e| {
            out.push((
                file,
                e.pos,
                e.reference.to_string(),
                e.alternate.to_string(),
                e.vrs_id.to_id(),
                e.haploid_set,
                e.plain_carriers()?.into_owned(),
            ));
            Ok(())
        })
        .expect("scan region");
    out
}

/// What a scan must return, computed from the calls: per file in order, sorted by position and
/// alleles, every variant whose REF overlaps `start..=end`.
pub fn expected_scan(
    files: &[(FileNumber, &[Call])],
    contig: u32,
    start: u64,
    end: u64,
) -> Vec<(FileNumber, u64, String, String)> {
    let mut out = Vec::new();
    for (file, calls) in files {
        let mut hits: Vec<(FileNumber, u64, String, String)> = calls
            .iter()
            .filter(|c| c.key.contig == contig && c.key.pos <= end && c.key.end() >= start)
            .map(|c| (*file, c.key.pos, c.key.reference.clone(), c.key.alternate.clone()))
            .collect();
        hits.sort();
        out.extend(hits);
    }
    out
}
