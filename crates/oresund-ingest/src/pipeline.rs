//! The ingest pipeline for one VCF: validate every record against the node's reference, split and
//! normalise like `bcftools norm -f REF -m -any`, give each variant its VRS id, and turn genotypes
//! into carrier bitmaps. What happens to the results (the store) is the caller's business.

use std::sync::Arc;

use crate::alternate::Alternate;
use crate::carrier_builder::carriers_of;
use crate::normalize::{check_reference, realign};
use crate::reference::{ContigSequence, ReferenceDir};
use crate::vcf::genotype::{Call, for_each_non_ref_call};
use crate::vcf::reader::{VcfError, VcfReader};
use crate::warning::Warning;
use oresund_core::carriers::CarrierSets;
use oresund_core::vrs::Allele;

/// One normalised biallelic variant with its carriers among the file's samples.
#[derive(Debug, Clone)]
pub struct NormalisedVariant {
    /// Index of the contig in the node's reference.
    pub contig: usize,
    /// 1-based position after normalisation.
    pub pos: u64,
    pub reference: String,
    pub alternate: String,
    /// GA4GH VRS 2.0 computed identifier.
    pub vrs_id: String,
    /// Carriers by sample column.
    pub carriers: CarrierSets,
    /// Sample columns whose genotype at this variant is haploid: one list shared by the variants
    /// that have the same (on X, every man's column at every variant: 120 kB a variant at 60,000
    /// people, and up to 512 variants are in flight between the threads).
    pub haploid: Arc<[u32]>,
    /// Line of the VCF the variant came from.
    pub line: usize,
}

/// Counts in the words of `bcftools norm`'s summary (`Lines total/split/realigned/skipped`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Data lines read.
    pub records: u64,
    /// Records with more than one ALT allele, split into biallelic variants.
    pub split: u64,
    /// Biallelic variants produced.
    pub variants: u64,
    /// Variants whose position or alleles changed in normalisation.
    pub realigned: u64,
    /// Alleles not indexed: ALT `.`, symbolic (`<DEL>`), breakend and spanning-deletion (`*`)
    /// alleles, and malformed alleles that look like one of them.
    pub skipped: u64,
    /// Malformed alleles (counted in `skipped` too).
    pub malformed: u64,
    /// Their warnings, each with its line (the first [`MAX_WARNINGS`], then one for the rest).
    pub warnings: Vec<Warning>,
}

/// Warnings kept one by one; a file with more gets one more that counts the rest.
pub const MAX_WARNINGS: usize = 20;

impl Summary {
    /// Counts a malformed allele and keeps its warning, or counts it in the last one.
    fn malformed(&mut self, line: usize, message: String) {
        self.skipped += 1;
        self.malformed += 1;
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(Warning { line, message });
            return;
        }
        let more = self.malformed - MAX_WARNINGS as u64;
        let s = if more == 1 { "" } else { "s" };
        let message = format!("{more} more malformed ALT allele{s} skipped (the last on this line)");
        self.warnings.truncate(MAX_WARNINGS);
        self.warnings.push(Warning { line, message });
    }
}

/// A record failed validation, or the sink refused a variant.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError<E> {
    #[error(transparent)]
    Vcf(#[from] VcfError),
    #[error(transparent)]
    Sink(E),
}

/// When the parsing thread hands its variants to the sink: at most `variants` at a time, and
/// fewer once their carrier lists hold `carriers` entries.
#[derive(Debug, Clone, Copy)]
struct Batches {
    variants: usize,
    carriers: usize,
}

/// Each hand-over wakes the other thread: with batches of 16 variants the 1,000-sample ingest took
/// 0.76–0.79 s, against 0.63–0.65 s now (three alternating rounds, BENCHMARKS.md). The carriers'
/// bound (256 KiB of columns) keeps the four batches that may be between the threads (two queued,
/// one filling, one being stored) to about a megabyte whatever the cohort's width: 16 common
/// variants at 60,000 people would hold nearly 4 MB.
const BATCHES: Batches = Batches { variants: 128, carriers: 64 << 10 };
const BATCHES_IN_FLIGHT: usize = 2;

/// The parsing thread stopped because the sink had failed (its error is the one returned).
#[derive(Debug)]
struct SinkGone;

/// [`normalise_vcf`] on a thread of its own while `sink` runs on this one, so that what the sink
/// does (the store's writes) overlaps the parsing on a second core. The same variants reach the
/// sink in the same order, and the same first error is returned: the sink's, when it failed on a
/// variant before the record that failed to parse. `reader` is dropped before this returns.
pub fn normalise_vcf_beside<E>(
    reader: VcfReader,
    reference: &ReferenceDir,
    sink: impl FnMut(NormalisedVariant) -> Result<(), E>,
) -> Result<Summary, PipelineError<E>> {
    beside_in_batches(reader, reference, BATCHES, sink)
}

fn beside_in_batches<E>(
    mut reader: VcfReader,
    reference: &ReferenceDir,
    batches: Batches,
    mut sink: impl FnMut(NormalisedVariant) -> Result<(), E>,
) -> Result<Summary, PipelineError<E>> {
    let path = reader.path().to_path_buf();
    std::thread::scope(|threads| {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<NormalisedVariant>>(BATCHES_IN_FLIGHT);
        let parsing = threads.spawn(move || -> Result<Summary, PipelineError<SinkGone>> {
            let mut filling = Filling::new(batches);
            let parsed = normalise_vcf(&mut reader, reference, |variant| match filling.push(variant) {
                Some(full) => sender.send(full).map_err(|_| SinkGone),
                None => Ok(()),
            });
            // The variants before a record that failed go to the sink too: its error on one of
            // them comes first, as it would without the thread.
            if !filling.variants.is_empty() {
                sender.send(filling.variants).map_err(|_| PipelineError::Sink(SinkGone))?;
            }
            parsed
        });
        let stored = receiver.iter().flatten().try_for_each(&mut sink);
        // A failed sink leaves the parser blocked on a full channel: this lets it stop.
        drop(receiver);
        let parsed = parsing.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        match (stored, parsed) {
            (Err(error), _) => Err(PipelineError::Sink(error)),
            (Ok(()), Ok(summary)) => Ok(summary),
            (Ok(()), Err(PipelineError::Vcf(error))) => Err(PipelineError::Vcf(error)),
            // Not reached: the receiver lived until the parser had sent everything.
            (Ok(()), Err(PipelineError::Sink(SinkGone))) => Err(PipelineError::Vcf(VcfError::Io {
                path,
                error: std::io::Error::other("the parsing thread lost its sink"),
            })),
        }
    })
}

/// The batch the parsing thread is filling.
struct Filling {
    bounds: Batches,
    variants: Vec<NormalisedVariant>,
    /// Entries in the carrier lists of `variants`.
    carriers: usize,
}

impl Filling {
    fn new(bounds: Batches) -> Self {
        Filling { bounds, variants: Vec::with_capacity(bounds.variants), carriers: 0 }
    }

    /// Adds `variant`; returns the batch to hand over once it reaches either bound.
    fn push(&mut self, variant: NormalisedVariant) -> Option<Vec<NormalisedVariant>> {
        self.carriers += carrier_entries(&variant.carriers);
        self.variants.push(variant);
        (self.variants.len() >= self.bounds.variants || self.carriers >= self.bounds.carriers).then(|| {
            self.carriers = 0;
            std::mem::replace(&mut self.variants, Vec::with_capacity(self.bounds.variants))
        })
    }
}

/// Columns listed in a variant's carrier sets.
fn carrier_entries(sets: &CarrierSets) -> usize {
    [&sets.het, &sets.hom_alt, &sets.hemi, &sets.missing_one, &sets.missing_two].iter().map(|list| list.len()).sum()
}

/// Checks the header's `##contig` lines against the node's reference (names and lengths).
pub fn check_header_contigs(reader: &VcfReader, reference: &ReferenceDir) -> Result<(), VcfError> {
    for contig in &reader.header().contigs {
        match reference.contig(&contig.id) {
            None => {
                let known: Vec<&str> = reference.contigs().iter().map(|c| c.name.as_str()).take(30).collect();
                return Err(reader.error_at(
                    contig.line,
                    format!(
                        "contig {:?} is not in the node's reference (which has: {}); was this VCF called against another reference?",
                        contig.id,
                        known.join(", ")
                    ),
                ));
            }
            Some((_, c)) if contig.length.is_some_and(|l| l != c.length) => {
                return Err(reader.error_at(
                    contig.line,
                    format!(
                        "contig {:?} has length {} here but {} in the node's reference",
                        contig.id,
                        contig.length.unwrap_or_default(),
                        c.length
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Reads every record of `reader`, handing each normalised variant to `sink`. Stops at the first
/// invalid record.
pub fn normalise_vcf<E>(
    reader: &mut VcfReader,
    reference: &ReferenceDir,
    mut sink: impl FnMut(NormalisedVariant) -> Result<(), E>,
) -> Result<Summary, PipelineError<E>> {
    check_header_contigs(reader, reference)?;
    let samples = reader.header().samples.len();
    let mut summary = Summary::default();
    // The record's calls other than diploid REF, with their columns.
    let mut calls: Vec<(u32, Call)> = Vec::with_capacity(samples);
    let mut last_haploid: Arc<[u32]> = Arc::from([]);
    let mut alternates: Vec<Vec<u8>> = Vec::new();
    // The current contig, looked up again only when CHROM changes.
    let mut current: Option<(String, usize, ContigSequence<'_>, String)> = None;
    let path = reader.path().to_path_buf();
    let fail = |line: usize, message: String| VcfError::Record { path: path.clone(), line, message };
    while let Some(record) = reader.next_record()? {
        let line = record.line;
        summary.records += 1;
        if current.as_ref().is_none_or(|(name, ..)| name != record.chrom) {
            let Some((index, contig)) = reference.contig(record.chrom) else {
                let message = format!("contig {:?} is not in the node's reference", record.chrom);
                return Err(fail(line, message).into());
            };
            let sequence =
                reference.sequence(index).ok_or_else(|| fail(line, "the node's reference is damaged".into()))?;
            current = Some((record.chrom.to_string(), index, sequence, contig.refget.clone()));
        }
        let Some((chrom, contig, sequence, refget)) = current.as_ref() else { unreachable!("set above") };
        let pos = record.pos;
        let reference_allele = record.reference.to_vec();
        check_reference(sequence, chrom, pos, &reference_allele).map_err(|e| fail(line, e.to_string()))?;
        alternates.clear();
        if record.alternates != b"." {
            alternates.extend(record.alternates.split(|b| *b == b',').map(<[u8]>::to_vec));
        }
        if record.format != b"GT" && !record.format.starts_with(b"GT:") {
            let message = format!(
                "FORMAT {:?} does not start with GT (VCF 4.3 §1.6.2); Øresund ingests genotypes",
                String::from_utf8_lossy(record.format)
            );
            return Err(fail(line, message).into());
        }
        calls.clear();
        for_each_non_ref_call(record.samples, samples, alternates.len(), |column, call| calls.push((column, call)))
            .map_err(|e| fail(line, e.to_string()))?;
        if alternates.len() > 1 {
            summary.split += 1;
        }
        if alternates.is_empty() {
            summary.skipped += 1;
        }
        for (k, alternate) in alternates.iter().enumerate() {
            if alternate.is_empty() {
                return Err(fail(line, "an empty ALT allele (two commas in a row?)".into()).into());
            }
            match Alternate::of(alternate) {
                Alternate::Bases(_) => {}
                Alternate::Symbolic | Alternate::Breakend | Alternate::SpanningDeletion => {
                    summary.skipped += 1;
                    continue;
                }
                Alternate::Malformed(rule) => {
                    let allele = String::from_utf8_lossy(alternate);
                    summary.malformed(
                        line,
                        format!("ALT {allele:?} is malformed ({rule}; VCF 4.3 §1.6.1, §5.4); skipped"),
                    );
                    continue;
                }
            }
            let normalised =
                realign(sequence, pos, &reference_allele, alternate).map_err(|e| fail(line, e.to_string()))?;
            let reference_text = String::from_utf8_lossy(&normalised.reference).into_owned();
            let alternate_text = String::from_utf8_lossy(&normalised.alternate).into_owned();
            let allele = Allele::from_vcf(refget, sequence, normalised.pos, &reference_text, &alternate_text)
                .map_err(|e| fail(line, e.to_string()))?;
            let (carriers, haploid) = carriers_of(&calls, k as u16 + 1);
            if *last_haploid != *haploid {
                last_haploid = Arc::from(haploid);
            }
            summary.variants += 1;
            summary.realigned += u64::from(normalised.realigned);
            sink(NormalisedVariant {
                contig: *contig,
                pos: normalised.pos,
                reference: reference_text,
                alternate: alternate_text,
                vrs_id: allele.id(),
                carriers,
                haploid: last_haploid.clone(),
                line,
            })
            .map_err(PipelineError::Sink)?;
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use std::fmt::Write;
    use std::path::Path;

    use super::*;

    /// A reference of one 2,000-base contig and a VCF of `records` SNVs on it (a malformed record
    /// at line `bad_line`, when given), each with a different carrier.
    fn cohort(dir: &Path, records: usize, bad_line: Option<usize>) -> (ReferenceDir, String) {
        let bases: String = (0..2_000).map(|i| ['A', 'C', 'G', 'T'][(i * 7 + i / 3) % 4]).collect();
        let fasta = dir.join("ref.fa");
        std::fs::write(&fasta, format!(">22\n{bases}\n")).unwrap();
        let reference = ReferenceDir::import(&fasta, &dir.join("ref"), |_| {}).unwrap();
        let mut vcf = String::from("##fileformat=VCFv4.3\n##contig=<ID=22,length=2000>\n");
        vcf.push_str("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ts1\ts2\ts3\n");
        for i in 0..records {
            let pos = 10 + i;
            let reference_base = &bases[pos - 1..pos];
            let alternate = if reference_base == "A" { "C" } else { "A" };
            let mut calls = ["0/0", "0|0", "0/0"];
            calls[i % 3] = if i % 2 == 0 { "0/1" } else { "1|1" };
            if Some(i + 4) == bad_line {
                calls[1] = "0/7";
            }
            writeln!(vcf, "22\t{pos}\t.\t{reference_base}\t{alternate}\t.\t.\t.\tGT\t{}", calls.join("\t")).unwrap();
        }
        (reference, vcf)
    }

    fn reader(vcf: &str) -> VcfReader {
        VcfReader::from_reader(Path::new("t.vcf"), Box::new(std::io::Cursor::new(vcf.as_bytes().to_vec()))).unwrap()
    }

    fn seen(variant: &NormalisedVariant) -> (u64, String, Vec<u32>, Vec<u32>) {
        (variant.pos, variant.vrs_id.clone(), variant.carriers.het.clone(), variant.carriers.hom_alt.clone())
    }

    /// Batches ended by their count of variants, and (the test cohort's variants have one carrier
    /// each) by their carriers, in 7s.
    const BATCHINGS: [Batches; 2] =
        [Batches { variants: 16, carriers: usize::MAX }, Batches { variants: 16, carriers: 7 }];

    #[test]
    fn batches_end_at_either_bound() {
        let dir = tempfile::tempdir().unwrap();
        let (reference, vcf) = cohort(dir.path(), 50, None);
        let mut variants = Vec::new();
        normalise_vcf(&mut reader(&vcf), &reference, |v| {
            variants.push(v);
            Ok::<_, ()>(())
        })
        .unwrap();
        assert!(variants.iter().all(|v| carrier_entries(&v.carriers) == 1), "one carrier a variant");
        // 50 variants: batches of 16 by count, of 7 by carriers; the rest stays in the filling.
        for (bounds, size) in BATCHINGS.into_iter().zip([16, 7]) {
            let mut filling = Filling::new(bounds);
            let handed: Vec<Vec<NormalisedVariant>> =
                variants.iter().cloned().filter_map(|v| filling.push(v)).collect();
            assert!(handed.iter().all(|batch| batch.len() == size), "{bounds:?}");
            assert_eq!(handed.len(), 50 / size, "{bounds:?}");
            assert_eq!(filling.variants.len(), 50 % size, "{bounds:?}");
            let order: Vec<_> = handed.iter().flatten().chain(&filling.variants).map(seen).collect();
            assert_eq!(order, variants.iter().map(seen).collect::<Vec<_>>(), "{bounds:?}");
        }
    }

    #[test]
    fn beside_gives_the_same_variants_summary_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        for (records, bad_line) in [(0, None), (1, None), (16 * 5 + 3, None), (200, Some(4 + 150))] {
            let (reference, vcf) = cohort(dir.path(), records, bad_line);
            let mut inline = Vec::new();
            let expected = normalise_vcf(&mut reader(&vcf), &reference, |v| {
                inline.push(seen(&v));
                Ok::<_, ()>(())
            });
            assert_eq!(inline.len(), bad_line.map_or(records, |line| line - 4));
            for batches in BATCHINGS {
                let mut beside = Vec::new();
                let got = beside_in_batches(reader(&vcf), &reference, batches, |v| {
                    beside.push(seen(&v));
                    Ok::<_, ()>(())
                });
                assert_eq!(beside, inline, "{records} records, {batches:?}");
                assert_eq!(format!("{got:?}"), format!("{expected:?}"), "{records} records, {batches:?}");
            }
        }
    }

    #[test]
    fn variants_with_the_same_haploid_columns_share_one_list() {
        let dir = tempfile::tempdir().unwrap();
        let (reference, vcf) = cohort(dir.path(), 6, None);
        // Haploid calls in columns 1 and 3 at the first three records, in column 1 alone at the
        // fourth, then none (`0/0` diploid again), as on X for men, one with a diploid call.
        let mut lines: Vec<String> = vcf.lines().map(str::to_string).collect();
        let first = lines.iter().position(|l| l.starts_with("22\t")).unwrap();
        for (i, calls) in
            [["0", "0/1", "1"], ["1", "0|0", "0"], [".", "1|1", "0"], ["1", "0/1", "0/0"]].iter().enumerate()
        {
            let fields: Vec<&str> = lines[first + i].split('\t').take(9).collect();
            lines[first + i] = format!("{}\t{}", fields.join("\t"), calls.join("\t"));
        }
        let vcf = lines.join("\n") + "\n";
        let mut haploid: Vec<Arc<[u32]>> = Vec::new();
        normalise_vcf(&mut reader(&vcf), &reference, |v| {
            haploid.push(v.haploid);
            Ok::<_, ()>(())
        })
        .unwrap();
        let lists: Vec<&[u32]> = haploid.iter().map(|h| &h[..]).collect();
        assert_eq!(lists, [&[0, 2][..], &[0, 2], &[0, 2], &[0], &[], &[]]);
        assert!(Arc::ptr_eq(&haploid[0], &haploid[1]) && Arc::ptr_eq(&haploid[1], &haploid[2]));
        assert!(!Arc::ptr_eq(&haploid[2], &haploid[3]) && Arc::ptr_eq(&haploid[4], &haploid[5]));
    }

    #[test]
    fn a_sink_that_fails_stops_the_parser_and_its_error_comes_first() {
        let dir = tempfile::tempdir().unwrap();
        // The parser fails at line 4 + 150; the sink first, at the 20th variant (a full batch
        // waits behind it) or at the 148th (in the batch sent when the parser failed).
        let (reference, vcf) = cohort(dir.path(), 200, Some(4 + 150));
        for (fail_at, batches) in [20, 148].into_iter().flat_map(|at| BATCHINGS.map(|batches| (at, batches))) {
            let mut taken = 0;
            let result = beside_in_batches(reader(&vcf), &reference, batches, |v| {
                taken += 1;
                if taken == fail_at { Err(v.line) } else { Ok(()) }
            });
            assert!(matches!(result, Err(PipelineError::Sink(line)) if line == fail_at + 3), "{result:?}");
            assert_eq!(taken, fail_at, "nothing reaches the sink after its error ({batches:?})");
        }
    }
}
