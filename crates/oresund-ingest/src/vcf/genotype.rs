//! The GT sub-field of each sample column (VCF 4.3 §1.6.2 "Genotype fields").
//!
//! This is the ingest hot path: a 5,000-sample record is 20 kB of `0/0\t0/1\t...`, so the parser
//! walks the bytes once, without allocating, two `0/0` calls at a time where it can, and hands
//! each call that is not diploid REF to a closure.

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

/// Calls `visit(column, call)` for every sample column of `samples` (the record's bytes after the
/// FORMAT column, GT first in each column) whose call is not diploid REF (`0/0`, `0|0`): those
/// carry nothing for any ALT allele, and in a cohort they are nearly every call. Every column is
/// still checked: the column count, every allele index, every GT's shape.
pub fn for_each_non_ref_call(
    samples: &[u8],
    expected: usize,
    alts: usize,
    mut visit: impl FnMut(u32, Call),
) -> Result<(), GenotypeError> {
    let mut rest = samples;
    let mut column = 0;
    loop {
        // Two bare `0/0` fields and their tabs in one 8-byte compare; not the last two columns,
        // which the field-by-field path below checks for a missing or extra column.
        while column + 2 < expected && two_ref_calls(rest) {
            rest = &rest[8..];
            column += 2;
        }
        if column == expected {
            return Err(GenotypeError::ColumnCount { expected, found: count_columns(samples) });
        }
        let (field, next) = next_field(rest);
        let call = match single_digit_diploid(field) {
            Some(call) => checked(call, column + 1, alts)?,
            None => {
                let gt_end = memchr::memchr(b':', field).unwrap_or(field.len());
                parse_gt(&field[..gt_end], column + 1, alts)?
            }
        };
        if call != Call::Diploid(0, 0) {
            visit(column as u32, call);
        }
        column += 1;
        match next {
            Some(next) => rest = next,
            None => break,
        }
    }
    if column != expected {
        return Err(GenotypeError::ColumnCount { expected, found: column });
    }
    Ok(())
}

/// `0/0\t0/0\t` with the separator bytes (1 and 5) cleared, as a little-endian word.
const TWO_REF_CALLS: u64 = u64::from_le_bytes(*b"0\x000\t0\x000\t");
const SEPARATOR_BYTES: u64 = u64::from_le_bytes([0, 0xFF, 0, 0, 0, 0xFF, 0, 0]);

/// Whether `bytes` starts with two fields `0/0` or `0|0` (either separator), each ending in a tab.
fn two_ref_calls(bytes: &[u8]) -> bool {
    let Some(chunk) = bytes.first_chunk::<8>() else { return false };
    let is_separator = |b: u8| b == b'/' || b == b'|';
    u64::from_le_bytes(*chunk) & !SEPARATOR_BYTES == TWO_REF_CALLS && is_separator(chunk[1]) && is_separator(chunk[5])
}

/// The first sample field of `rest`, and the bytes after its tab (`None`: it was the last field).
fn next_field(rest: &[u8]) -> (&[u8], Option<&[u8]>) {
    // A bare diploid GT is three bytes: look there before searching.
    let end = match rest.get(..4) {
        Some([a, b, c, b'\t']) if ![a, b, c].contains(&&b'\t') => Some(3),
        _ => memchr::memchr(b'\t', rest),
    };
    match end {
        Some(end) => (&rest[..end], Some(&rest[end + 1..])),
        None => (rest, None),
    }
}

fn count_columns(samples: &[u8]) -> usize {
    memchr::memchr_iter(b'\t', samples).count() + 1
}

/// Parses one GT value such as `0/1`, `1|0`, `.`, `./.`, `2`; VCF 4.4's leading phase marker is accepted.
pub fn parse_gt(gt: &[u8], column: usize, alts: usize) -> Result<Call, GenotypeError> {
    if let Some(call) = single_digit_diploid(gt) {
        return checked(call, column, alts);
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

/// The overwhelmingly common shape, `0/1`, `1|1`: read without a call or a loop.
#[inline(always)]
fn single_digit_diploid(gt: &[u8]) -> Option<Call> {
    match *gt {
        [a @ b'0'..=b'9', b'/' | b'|', b @ b'0'..=b'9'] => {
            Some(Call::Diploid(u16::from(a - b'0'), u16::from(b - b'0')))
        }
        _ => None,
    }
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

    /// Every call, `0/0` included, rebuilt from what the parser reports.
    fn calls(samples: &str, expected: usize, alts: usize) -> Result<Vec<Call>, GenotypeError> {
        let mut out = vec![Call::Diploid(0, 0); expected];
        let mut last = None;
        for_each_non_ref_call(samples.as_bytes(), expected, alts, |column, call| {
            assert!(last.is_none_or(|l| l < column), "columns in order, each once");
            last = Some(column);
            out[column as usize] = call;
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

    /// The parser without its fast paths: split on tabs, parse each GT.
    fn field_by_field(samples: &str, expected: usize, alts: usize) -> Result<Vec<Call>, GenotypeError> {
        let fields: Vec<&str> = samples.split('\t').collect();
        let mut out = Vec::new();
        for (i, field) in fields.iter().enumerate() {
            if i == expected {
                return Err(GenotypeError::ColumnCount { expected, found: fields.len() });
            }
            out.push(parse_gt(field.split(':').next().unwrap_or("").as_bytes(), i + 1, alts)?);
        }
        if fields.len() != expected {
            return Err(GenotypeError::ColumnCount { expected, found: fields.len() });
        }
        Ok(out)
    }

    /// Fields that the 8-byte compare must take or refuse exactly as the field parser would.
    const FIELDS: [&str; 17] = [
        "0/0", "0|0", "0/1", "1|1", "./.", "0", ".", "0/0:7", "0:0", "0\\0", "0-0", "00/0", "0/00", "0/0 ", "", "0/2",
        "1/0",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]

        /// Runs of one REF call, as in a cohort, broken by any field; the column count right,
        /// one short or one over.
        #[test]
        fn runs_of_ref_calls_are_checked_like_any_call(
            common in 0..2usize,
            picks in proptest::collection::vec(proptest::option::weighted(0.25, 0..FIELDS.len()), 1..25),
            columns in -1isize..=1,
        ) {
            let samples = picks.iter().map(|pick| FIELDS[pick.unwrap_or(common)]).collect::<Vec<_>>().join("\t");
            let expected = (picks.len() as isize + columns).max(1) as usize;
            proptest::prop_assert_eq!(calls(&samples, expected, 1), field_by_field(&samples, expected, 1), "{:?}", samples);
        }
    }

    #[test]
    fn a_long_run_of_ref_calls_ends_in_its_last_columns() {
        let samples = ["0|0"; 9].join("\t") + "\t0/1";
        assert_eq!(calls(&samples, 10, 1).unwrap()[9], Call::Diploid(0, 1));
        let ten = ["0/0"; 10].join("\t");
        assert_eq!(calls(&ten, 9, 1), Err(GenotypeError::ColumnCount { expected: 9, found: 10 }));
        assert_eq!(calls(&ten, 11, 1), Err(GenotypeError::ColumnCount { expected: 11, found: 10 }));
        assert_eq!(
            calls(&(ten + "\t"), 10, 1).map(|_| ()).unwrap_err(),
            GenotypeError::ColumnCount { expected: 10, found: 11 }
        );
    }
}
