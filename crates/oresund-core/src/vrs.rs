//! GA4GH VRS 2.0 Alleles and their computed identifiers (`ga4gh:VA.…`).
//!
//! The algorithm is vrs-python 2.x's (`AlleleTranslator` from a `CHROM-POS-REF-ALT` string, then
//! `normalize`, then `ga4gh_identify`), checked against it on both demo-data cohorts:
//!
//! 1. VCF to interbase: `start = POS - 1`, `end = start + len(REF)`.
//! 2. VRS 2.0 §"Allele Normalization": trim the common prefix, then the common suffix. A substitution
//!    (both sides non-empty) stays a `LiteralSequenceExpression`. An insertion or deletion is rolled
//!    left and right across the repeat it sits in (fully justified, "VOCA"); deletions, and
//!    insertions that repeat reference sequence, become a `ReferenceLengthExpression`.
//! 3. VRS 2.0 §"Computed Identifiers": each object is digested over its canonical JSON (sorted keys,
//!    no white space) restricted to its `ga4ghDigest.keys`; a nested identifiable object (the
//!    location) is replaced by its digest. `ReferenceLengthExpression.sequence` is not a digest key.

use std::io;

use serde_json::{Value, json};

use crate::digest::sha512t24u;
use crate::sequence::{BaseReader, Sequence};

/// vrs-python's `rle_seq_limit`: a ReferenceLengthExpression longer than this omits `sequence`.
const RLE_SEQUENCE_LIMIT: u64 = 50;

/// The state of an Allele.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    LiteralSequence(String),
    ReferenceLength { length: u64, repeat_subunit_length: u64, sequence: Option<String> },
}

/// A normalised VRS Allele on one reference sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allele {
    /// refget accession of the sequence (`SQ.…`).
    pub refget: String,
    /// Interbase start.
    pub start: u64,
    /// Interbase end.
    pub end: u64,
    pub state: State,
}

/// The VCF allele does not fit the reference.
#[derive(Debug, thiserror::Error)]
pub enum VrsError {
    #[error("REF {vcf:?} does not match the reference {reference:?} at 0-based {start}")]
    ReferenceMismatch { start: u64, vcf: String, reference: String },
    #[error("reading the reference: {0}")]
    Io(#[from] io::Error),
}

impl Allele {
    /// The normalised Allele of a VCF-style variant (1-based `pos`, upper-case alleles).
    pub fn from_vcf<S: Sequence + ?Sized>(
        refget: &str,
        sequence: &S,
        pos: u64,
        reference: &str,
        alternate: &str,
    ) -> Result<Self, VrsError> {
        let start = pos.saturating_sub(1);
        let end = start + reference.len() as u64;
        let on_reference = sequence.fetch(start, end)?;
        if !on_reference.eq_ignore_ascii_case(reference.as_bytes()) {
            return Err(VrsError::ReferenceMismatch {
                start,
                vcf: reference.to_string(),
                reference: String::from_utf8_lossy(&on_reference).into_owned(),
            });
        }
        let (start, end, state) =
            normalise(sequence, start, end, on_reference, alternate.to_ascii_uppercase().into_bytes())?;
        Ok(Allele { refget: refget.to_string(), start, end, state })
    }

    fn location_json(&self) -> String {
        format!(
            r#"{{"end":{},"sequenceReference":{{"refgetAccession":"{}","type":"SequenceReference"}},"start":{},"type":"SequenceLocation"}}"#,
            self.end, self.refget, self.start
        )
    }

    fn state_json(&self) -> String {
        match &self.state {
            State::LiteralSequence(sequence) => {
                format!(r#"{{"sequence":"{sequence}","type":"LiteralSequenceExpression"}}"#)
            }
            State::ReferenceLength { length, repeat_subunit_length, .. } => format!(
                r#"{{"length":{length},"repeatSubunitLength":{repeat_subunit_length},"type":"ReferenceLengthExpression"}}"#
            ),
        }
    }

    /// Digest of the SequenceLocation (`ga4gh:SL.` + this).
    pub fn location_digest(&self) -> String {
        sha512t24u(self.location_json().as_bytes())
    }

    /// Digest of the Allele.
    pub fn digest(&self) -> String {
        let serialised =
            format!(r#"{{"location":"{}","state":{},"type":"Allele"}}"#, self.location_digest(), self.state_json());
        sha512t24u(serialised.as_bytes())
    }

    /// The computed identifier, `ga4gh:VA.` + digest.
    pub fn id(&self) -> String {
        format!("ga4gh:VA.{}", self.digest())
    }

    /// The Allele as VRS 2.0 JSON, with identifiers and digests filled in.
    pub fn to_json(&self) -> Value {
        let location_digest = self.location_digest();
        let state = match &self.state {
            State::LiteralSequence(sequence) => {
                json!({"type": "LiteralSequenceExpression", "sequence": sequence})
            }
            State::ReferenceLength { length, repeat_subunit_length, sequence } => {
                let mut state = json!({
                    "type": "ReferenceLengthExpression",
                    "length": length,
                    "repeatSubunitLength": repeat_subunit_length,
                });
                if let Some(sequence) = sequence {
                    state["sequence"] = json!(sequence);
                }
                state
            }
        };
        json!({
            "id": self.id(),
            "type": "Allele",
            "digest": self.digest(),
            "location": {
                "id": format!("ga4gh:SL.{location_digest}"),
                "type": "SequenceLocation",
                "digest": location_digest,
                "sequenceReference": {"type": "SequenceReference", "refgetAccession": self.refget},
                "start": self.start,
                "end": self.end,
            },
            "state": state,
        })
    }
}

/// VRS normalisation of `reference` (the bases at `start..end`) changed to `alternate`.
fn normalise<S: Sequence + ?Sized>(
    sequence: &S,
    start: u64,
    end: u64,
    reference: Vec<u8>,
    alternate: Vec<u8>,
) -> io::Result<(u64, u64, State)> {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    if reference == alternate {
        let n = alternate.len() as u64;
        let sequence = (n <= RLE_SEQUENCE_LIMIT).then(|| text(&alternate));
        return Ok((start, end, State::ReferenceLength { length: n, repeat_subunit_length: n, sequence }));
    }
    let prefix = reference.iter().zip(&alternate).take_while(|(r, a)| r == a).count();
    let (reference, alternate) = (&reference[prefix..], &alternate[prefix..]);
    let suffix = reference.iter().rev().zip(alternate.iter().rev()).take_while(|(r, a)| r == a).count();
    let reference = &reference[..reference.len() - suffix];
    let alternate = &alternate[..alternate.len() - suffix];
    let (start, end) = (start + prefix as u64, end - suffix as u64);
    if !reference.is_empty() && !alternate.is_empty() {
        return Ok((start, end, State::LiteralSequence(text(alternate))));
    }
    // A pure insertion or deletion: roll the changed bases across the repeat in both directions.
    let changed = if reference.is_empty() { alternate } else { reference };
    let n = changed.len();
    let mut bases = BaseReader::new(sequence);
    let mut left = 0u64;
    while left < start && bases.base(start - 1 - left)? == Some(changed[n - 1 - (left as usize % n)]) {
        left += 1;
    }
    let mut right = 0u64;
    while bases.base(end + right)? == Some(changed[right as usize % n]) {
        right += 1;
    }
    let left_flank = sequence.fetch(start - left, start)?;
    let right_flank = sequence.fetch(end, end + right)?;
    let (start, end) = (start - left, end + right);
    let expanded_ref: Vec<u8> = [&left_flank[..], reference, &right_flank[..]].concat();
    let expanded_alt: Vec<u8> = [&left_flank[..], alternate, &right_flank[..]].concat();
    let rle = |length: u64, unit: u64| State::ReferenceLength {
        length,
        repeat_subunit_length: unit,
        sequence: (length <= RLE_SEQUENCE_LIMIT).then(|| text(&expanded_alt)),
    };
    if expanded_ref.is_empty() {
        return Ok((start, end, State::LiteralSequence(text(&expanded_alt))));
    }
    if expanded_alt.len() < expanded_ref.len() {
        return Ok((start, end, rle(expanded_alt.len() as u64, n as u64)));
    }
    // An insertion: the largest divisor of the inserted length whose unit, taken from the end of
    // the expanded reference, regenerates the inserted bases.
    let tail = &expanded_alt[expanded_ref.len()..];
    for unit in (1..=n).rev().filter(|d| n % d == 0 && *d <= expanded_ref.len()) {
        let repeat = &expanded_ref[expanded_ref.len() - unit..];
        if tail.iter().enumerate().all(|(i, b)| *b == repeat[i % unit]) {
            return Ok((start, end, rle(expanded_alt.len() as u64, unit as u64)));
        }
    }
    Ok((start, end, State::LiteralSequence(text(&expanded_alt))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rs7412_test_vector_from_the_brief() {
        let allele = Allele {
            refget: "SQ.IIB53T8CNeJJdUqzn9V_JnRtQadwWCbl".into(),
            start: 44908821,
            end: 44908822,
            state: State::LiteralSequence("T".into()),
        };
        assert_eq!(allele.location_digest(), "wIlaGykfwHIpPY2Fcxtbx4TINbbODFVz");
        assert_eq!(allele.id(), "ga4gh:VA.0AePZIWZUNsUlQTamyLrjm2HWUw2opLt");
        assert_eq!(allele.to_json()["location"]["id"], "ga4gh:SL.wIlaGykfwHIpPY2Fcxtbx4TINbbODFVz");
    }

    /// A made-up contig: `[0, 10)` random, then (CTG)x5, then A x8, then random.
    const SEQ: &[u8] = b"GATCCGTAACCTGCTGCTGCTGCTGAAAAAAAATCGGATCCA";
    const SQ: &str = "SQ.test";

    fn allele(pos: u64, reference: &str, alternate: &str) -> Allele {
        Allele::from_vcf(SQ, SEQ, pos, reference, alternate).unwrap()
    }

    #[test]
    fn substitutions_are_trimmed_literals() {
        let snv = allele(1, "G", "T");
        assert_eq!((snv.start, snv.end, snv.state.clone()), (0, 1, State::LiteralSequence("T".into())));
        let padded = allele(1, "GAT", "GCT");
        assert_eq!((padded.start, padded.end), (1, 2));
        assert_eq!(padded.id(), Allele { start: 1, end: 2, ..allele(2, "A", "C") }.id());
    }

    #[test]
    fn indels_in_repeats_are_fully_justified() {
        // Deleting one CTG anywhere in the repeat gives the same allele: the whole repeat, length 12.
        let left = allele(10, "CCTG", "C");
        let right = allele(22, "GCTG", "G");
        assert_eq!(left, right);
        assert_eq!((left.start, left.end), (10, 25));
        assert_eq!(
            left.state,
            State::ReferenceLength { length: 12, repeat_subunit_length: 3, sequence: Some("CTGCTGCTGCTG".into()) }
        );
        let insertion = allele(26, "A", "AA");
        assert_eq!((insertion.start, insertion.end), (25, 33));
        assert!(matches!(insertion.state, State::ReferenceLength { length: 9, repeat_subunit_length: 1, .. }));
    }

    #[test]
    fn insertion_outside_a_repeat_is_a_literal_at_one_point() {
        // After "GATCC" (0..5) insert "A": flanks C|G do not roll.
        let a = allele(5, "C", "CT");
        assert_eq!((a.start, a.end, a.state), (5, 5, State::LiteralSequence("T".into())));
    }

    #[test]
    fn reference_mismatch_is_reported() {
        assert!(matches!(Allele::from_vcf(SQ, SEQ, 1, "A", "T"), Err(VrsError::ReferenceMismatch { .. })));
    }
}
