//! The GT sub-field of each sample column (VCF 4.3 §1.6.2 "Genotype fields").
//!
//! This is the ingest hot path: a 5,000-sample record is 20 kB of `0/0\t0/1\t...`, so the parser
//! walks the bytes once, without allocating, and hands each call to a closure.

/// An allele slot with no call (`.`).
pub const MISSING: u16 = u16::MAX;

/// One sample's genotype: allele indices (0 = REF, 1.. = ALT), or [`MISSING`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Haploid(u16),
    Diploid(u16, u16),
}

/// What is wrong with a genotype. `column` is the 1-based sample column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenotypeError {
    #[error(
        "sample column {column}: GT {found:?} is not a genotype (VCF 4.3 §1.6.2: allele indices separated by / or |, . for missing)"
    )]
    Malformed { column: usize, found: String },
    #[error("sample column {column}: GT refers to allele {allele} but the record has only {alts} ALT allele(s)")]
    AlleleOutOfRange { column: usize, allele: u16, alts: usize },
    #[error("sample column {column}: ploidy above 2 is not supported (GT {found:?})")]
    Polyploid { column: usize, found: String },
    #[error("expected {expected} sample columns as in the header, found {found}")]
    ColumnCount { expected: usize, found: usize },
    #[error("FORMAT must start with GT (VCF 4.3 §1.6.2), found {0:?}")]
    NoGt(String),
}

/// Calls `visit(sample_index, call)` for every sample column in `samples` (the record's bytes after
/// the FORMAT column, GT first in each column). Checks the column count and every allele index.
pub fn for_each_call(
    samples: &[u8],
    expected: usize,
    alts: usize,
    mut visit: impl FnMut(usize, Call),
) -> Result<(), GenotypeError> {
    let mut rest = samples;
    let mut column = 0;
    loop {
        if column == expected {
            return Err(GenotypeError::ColumnCount { expected, found: count_columns(samples) });
        }
        let end = memchr::memchr(b'\t', rest).unwrap_or(rest.len());
        let field = &rest[..end];
        let gt_end = memchr::memchr(b':', field).unwrap_or(field.len());
        let call = parse_gt(&field[..gt_end], column + 1, alts)?;
        visit(column, call);
        column += 1;
        if end == rest.len() {
            break;
        }
        rest = &rest[end + 1..];
    }
    if column != expected {
        return Err(GenotypeError::ColumnCount { expected, found: column });
    }
    Ok(())
}

fn count_columns(samples: &[u8]) -> usize {
    memchr::memchr_iter(b'\t', samples).count() + 1
}

/// Parses one GT value such as `0/1`, `1|0`, `.`, `./.`, `2`; VCF 4.4's leading phase marker is accepted.
pub fn parse_gt(gt: &[u8], column: usize, alts: usize) -> Result<Call, GenotypeError> {
    // Fast paths for the overwhelmingly common diploid single-digit calls.
    if let [a @ b'0'..=b'9', b'/' | b'|', b @ b'0'..=b'9'] = gt {
        let (a, b) = (u16::from(a - b'0'), u16::from(b - b'0'));
        return checked(Call::Diploid(a, b), column, alts);
    }
    let malformed = || GenotypeError::Malformed { column, found: String::from_utf8_lossy(gt).into_owned() };
    let body = match gt.first() {
        Some(b'/' | b'|') => &gt[1..],
        _ => gt,
    };
    let mut alleles = [MISSING; 2];
    let mut count = 0;
    for part in body.split(|b| *b == b'/' || *b == b'|') {
        if count == 2 {
            return Err(GenotypeError::Polyploid { column, found: String::from_utf8_lossy(gt).into_owned() });
        }
        alleles[count] = parse_allele(part).ok_or_else(malformed)?;
        count += 1;
    }
    let call = if count == 1 { Call::Haploid(alleles[0]) } else { Call::Diploid(alleles[0], alleles[1]) };
    checked(call, column, alts)
}

fn parse_allele(part: &[u8]) -> Option<u16> {
    match part {
        b"." => Some(MISSING),
        [] => None,
        digits if digits.len() <= 4 && digits.iter().all(u8::is_ascii_digit) => {
            Some(digits.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0')))
        }
        _ => None,
    }
}

fn checked(call: Call, column: usize, alts: usize) -> Result<Call, GenotypeError> {
    let (a, b) = match call {
        Call::Haploid(a) => (a, MISSING),
        Call::Diploid(a, b) => (a, b),
    };
    for allele in [a, b] {
        if allele != MISSING && usize::from(allele) > alts {
            return Err(GenotypeError::AlleleOutOfRange { column, allele, alts });
        }
    }
    Ok(call)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(samples: &str, expected: usize, alts: usize) -> Result<Vec<Call>, GenotypeError> {
        let mut out = Vec::new();
        for_each_call(samples.as_bytes(), expected, alts, |i, c| {
            assert_eq!(i, out.len());
            out.push(c);
        })?;
        Ok(out)
    }

    #[test]
    fn parses_every_genotype_shape() {
        let got = calls("0/0\t0|1\t./.\t1\t.\t12/3:35:x\t|0|2\t./1", 8, 12).unwrap();
        use Call::*;
        assert_eq!(
            got,
            [
                Diploid(0, 0),
                Diploid(0, 1),
                Diploid(MISSING, MISSING),
                Haploid(1),
                Haploid(MISSING),
                Diploid(12, 3),
                Diploid(0, 2),
                Diploid(MISSING, 1)
            ]
        );
    }

    #[test]
    fn rejects_bad_genotypes_with_their_column() {
        assert_eq!(calls("0/0\t0/2", 2, 1), Err(GenotypeError::AlleleOutOfRange { column: 2, allele: 2, alts: 1 }));
        assert!(matches!(calls("0/0\tA/1", 2, 1), Err(GenotypeError::Malformed { column: 2, .. })));
        assert!(matches!(calls("0/0\t0/", 2, 1), Err(GenotypeError::Malformed { column: 2, .. })));
        assert!(matches!(calls("0/0/1", 1, 1), Err(GenotypeError::Polyploid { column: 1, .. })));
        assert!(matches!(calls("", 1, 1), Err(GenotypeError::Malformed { column: 1, .. })));
        assert_eq!(calls("0/0\t0/1", 3, 1), Err(GenotypeError::ColumnCount { expected: 3, found: 2 }));
        assert_eq!(calls("0/0\t0/1\t1/1", 2, 1), Err(GenotypeError::ColumnCount { expected: 2, found: 3 }));
    }
}
