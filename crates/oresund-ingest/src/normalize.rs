//! Variant normalisation identical to `bcftools norm -f REF -m -any` (bcftools 1.16, `vcfnorm.c`):
//! every record's REF is checked against the reference; multi-allelic records are split into one
//! record per ALT first, and each piece is then realigned on its own.
//!
//! Realignment (`realign()` in vcfnorm.c): while both alleles end in the same base, drop it, padding
//! both on the left with reference bases whenever one becomes empty (this is what left-aligns an
//! indel through a repeat, however long); stop at the contig start. Then drop the shared leading
//! bases while the shorter allele keeps at least one (the VCF anchor base).
//!
//! One deliberate difference: alleles are stored upper-case, where bcftools keeps lower-case bases
//! from a soft-masked FASTA in realigned records. Comparisons ignore case in both.

use std::io;

use oresund_core::sequence::Sequence;

/// Why a record cannot be normalised. Each is fatal in bcftools too (exit 255).
#[derive(Debug, thiserror::Error)]
pub enum NormaliseError {
    #[error("REF {vcf:?} does not match the reference, which has {reference:?} at {chrom}:{pos}")]
    ReferenceMismatch { chrom: String, pos: u64, vcf: String, reference: String },
    #[error("REF {0:?} has a base other than A, C, G, T or N")]
    NonAcgtnReference(String),
    #[error("position {pos} is beyond the end of {chrom} ({length} bases)")]
    PastTheEnd { chrom: String, pos: u64, length: u64 },
    #[error("ALT {0:?} has a base other than A, C, G, T or N (symbolic alleles are written <...>)")]
    NonAcgtnAlternate(String),
    #[error("ALT {0:?} is the same as REF")]
    DuplicateAllele(String),
    #[error("reading the reference: {0}")]
    Io(#[from] io::Error),
}

/// A normalised biallelic variant: 1-based `pos`, upper-case alleles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalised {
    pub pos: u64,
    pub reference: Vec<u8>,
    pub alternate: Vec<u8>,
    /// True when position or alleles changed (bcftools' "realigned" count).
    pub realigned: bool,
}

fn is_acgtn(b: u8) -> bool {
    matches!(b.to_ascii_uppercase(), b'A' | b'C' | b'G' | b'T' | b'N')
}

/// Reference bases as vcfnorm.c compares them: upper-case, anything but ACGTN read as N.
fn reference_bases<S: Sequence + ?Sized>(sequence: &S, start: u64, end: u64) -> io::Result<Vec<u8>> {
    let mut bases = sequence.fetch(start, end)?;
    for b in &mut bases {
        *b = if is_acgtn(*b) { b.to_ascii_uppercase() } else { b'N' };
    }
    Ok(bases)
}

/// Checks a record's REF against the reference, as bcftools does for every record (SNVs, symbolic,
/// ALT `.` included). A REF running past the contig end is a mismatch, as in htslib.
pub fn check_reference<S: Sequence + ?Sized>(
    sequence: &S,
    chrom: &str,
    pos: u64,
    reference: &[u8],
) -> Result<(), NormaliseError> {
    if !reference.iter().all(|b| is_acgtn(*b)) {
        return Err(NormaliseError::NonAcgtnReference(String::from_utf8_lossy(reference).into_owned()));
    }
    // htslib clamps a POS past the end to the last base and may then accept the record; a position
    // outside the contig is an error here.
    if pos > sequence.len() {
        return Err(NormaliseError::PastTheEnd { chrom: chrom.to_string(), pos, length: sequence.len() });
    }
    let start = pos - 1;
    let on_reference = reference_bases(sequence, start, start + reference.len() as u64)?;
    if !on_reference.eq_ignore_ascii_case(reference) {
        return Err(NormaliseError::ReferenceMismatch {
            chrom: chrom.to_string(),
            pos,
            vcf: String::from_utf8_lossy(reference).into_owned(),
            reference: String::from_utf8_lossy(&on_reference).into_owned(),
        });
    }
    Ok(())
}

/// Realigns one biallelic piece (REF already checked). `pos` is 1-based.
pub fn realign<S: Sequence + ?Sized>(
    sequence: &S,
    pos: u64,
    reference: &[u8],
    alternate: &[u8],
) -> Result<Normalised, NormaliseError> {
    if !alternate.iter().all(|b| is_acgtn(*b)) || alternate.is_empty() {
        return Err(NormaliseError::NonAcgtnAlternate(String::from_utf8_lossy(alternate).into_owned()));
    }
    let mut r = reference.to_ascii_uppercase();
    let mut a = alternate.to_ascii_uppercase();
    if r == a {
        return Err(NormaliseError::DuplicateAllele(String::from_utf8_lossy(alternate).into_owned()));
    }
    let mut start = pos - 1;
    // Trim the shared last base, padding from the reference on the left (vcfnorm.c, aln_win = 100).
    while r.last() == a.last() {
        if r.len().min(a.len()) <= 1 && start == 0 {
            break;
        }
        r.pop();
        a.pop();
        if r.is_empty() || a.is_empty() {
            let pad = start.min(100);
            let bases = reference_bases(sequence, start - pad, start)?;
            r.splice(0..0, bases.iter().copied());
            a.splice(0..0, bases);
            start -= pad;
        }
    }
    // Trim the shared first bases, keeping at least one base in the shorter allele.
    let mut k = 0;
    while k < r.len() && k < a.len() && r[k] == a[k] && r.len().min(a.len()) - k > 1 {
        k += 1;
    }
    r.drain(..k);
    a.drain(..k);
    start += k as u64;
    let realigned = start + 1 != pos || !r.eq_ignore_ascii_case(reference) || !a.eq_ignore_ascii_case(alternate);
    Ok(Normalised { pos: start + 1, reference: r, alternate: a, realigned })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scratch reference used to check bcftools 1.16 by hand (see the module docs): contig c1.
    const C1: &[u8] = b"AAACGATTACACACACACATGGGGGTACGTACGTTTTTTACGTGCRNTAGATCGATCGAGATCGATCGAGATCGATCGA";

    fn norm(pos: u64, r: &str, a: &str) -> (u64, String, String) {
        let n = realign(C1, pos, r.as_bytes(), a.as_bytes()).unwrap();
        (n.pos, String::from_utf8(n.reference).unwrap(), String::from_utf8(n.alternate).unwrap())
    }

    fn t(pos: u64, r: &str, a: &str) -> (u64, String, String) {
        (pos, r.to_string(), a.to_string())
    }

    #[test]
    fn matches_bcftools_on_hand_checked_cases() {
        // Outputs observed from `bcftools norm -f ref.fa -m -any` 1.16 on the same sequence.
        assert_eq!(norm(6, "A", "T"), t(6, "A", "T"));
        assert_eq!(norm(5, "GA", "GT"), t(6, "A", "T"), "padded SNV trims to the SNV");
        assert_eq!(norm(5, "GAT", "TAT"), t(5, "G", "T"));
        assert_eq!(norm(5, "GATT", "GACA"), t(7, "TT", "CA"));
        assert_eq!(norm(5, "GAT", "TAA"), t(5, "GAT", "TAA"), "an MNP stays an MNP");
        assert_eq!(norm(37, "TTT", "T"), t(33, "GTT", "G"), "deletion left-aligned through TTTTT");
        assert_eq!(norm(39, "T", "TT"), t(33, "G", "GT"));
        assert_eq!(norm(11, "A", "CA"), t(9, "A", "AC"));
        assert_eq!(norm(16, "C", "AC"), t(14, "C", "CA"));
    }

    #[test]
    fn contig_start_breaks_the_anchor_rule_like_bcftools() {
        assert_eq!(norm(3, "AC", "C"), t(1, "AA", "A"));
        assert_eq!(norm(1, "AAAC", "AAC"), t(1, "AA", "A"));
        assert_eq!(norm(1, "A", "AA"), t(1, "A", "AA"));
        assert_eq!(norm(3, "A", "AA"), t(1, "A", "AA"));
    }

    #[test]
    fn long_shifts_cross_the_100_base_window() {
        // G then 250 A: deleting one A at the right end moves 249 bases, to GA>G at 1.
        let mut seq = b"G".to_vec();
        seq.extend(std::iter::repeat_n(b'A', 250));
        seq.extend(b"CTGACTGACT");
        let n = realign(seq.as_slice(), 250, b"AA", b"A").unwrap();
        assert_eq!(
            (n.pos, n.reference.as_slice(), n.alternate.as_slice(), n.realigned),
            (1, &b"GA"[..], &b"G"[..], true)
        );
    }

    #[test]
    fn reference_checks_match_bcftools_errors() {
        assert!(check_reference(C1, "c1", 5, b"GAT").is_ok());
        assert!(check_reference(C1, "c1", 5, b"gat").is_ok());
        let err = check_reference(C1, "c1", 5, b"A").unwrap_err();
        assert_eq!(err.to_string(), "REF \"A\" does not match the reference, which has \"G\" at c1:5");
        assert!(matches!(check_reference(C1, "c1", 5, b"R"), Err(NormaliseError::NonAcgtnReference(_))));
        assert!(check_reference(C1, "c1", 47, b"N").is_ok());
        let short: &[u8] = b"ACGTACGTAC";
        assert!(
            matches!(check_reference(short, "c2", 12, b"C"), Err(NormaliseError::PastTheEnd { .. })),
            "bcftools clamps POS past the end to the last base; here it is an error"
        );
        assert!(matches!(check_reference(short, "c2", 9, b"ACG"), Err(NormaliseError::ReferenceMismatch { .. })));
        assert!(matches!(realign(C1, 5, b"G", b"g"), Err(NormaliseError::DuplicateAllele(_))));
        assert!(matches!(realign(C1, 5, b"G", b"R"), Err(NormaliseError::NonAcgtnAlternate(_))));
    }
}
