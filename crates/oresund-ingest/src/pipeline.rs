//! The ingest pipeline for one VCF: validate every record against the node's reference, split and
//! normalise like `bcftools norm -f REF -m -any`, give each variant its VRS id, and turn genotypes
//! into carrier bitmaps. What happens to the results (the store) is the caller's business.

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
    /// Sample columns whose genotype at this variant is haploid.
    pub haploid: Vec<u32>,
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
            summary.variants += 1;
            summary.realigned += u64::from(normalised.realigned);
            sink(NormalisedVariant {
                contig: *contig,
                pos: normalised.pos,
                reference: reference_text,
                alternate: alternate_text,
                vrs_id: allele.id(),
                carriers,
                haploid,
                line,
            })
            .map_err(PipelineError::Sink)?;
        }
    }
    Ok(summary)
}
