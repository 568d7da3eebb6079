//! Removing withdrawn participants' sample columns from an archived VCF, as `bcftools view -s ^ID` does.
//!
//! A withdrawal must not leave the participant's genotypes behind, yet the rest of the archive must stay
//! what bcftools would have written, so the node rewrites the file line by line on bytes: 700 MB of text
//! with 5,000 samples cannot afford a parse into records. Kept columns are copied as contiguous runs;
//! genotypes are read only when INFO/AC and INFO/AN must follow the remaining samples.
//!
//! What bcftools 1.x does, read from its `vcfview.c` (`subset_vcf`) and htslib's `vcf.c`/`vcfutils.c`:
//!
//! - `-s` without `-I` recomputes AC and AN on every record whose FORMAT has GT, and *adds* them when
//!   INFO lacks them (AC first, then AN, at the end of INFO); an existing key keeps its place; AC is
//!   removed when ALT is `.` (zero values); records without GT keep INFO as it is. The header gains
//!   `##INFO` definitions of AC and AN when it lacks them ([`AcAnDefinitions`]).
//!   [`AcAnUpdate::Bcftools`] does that; the default, [`AcAnUpdate::ExistingOnly`], never adds them.
//! - A sample field with fewer values than FORMAT keys is written with `.` for each missing one
//!   (`0/1` under `GT:DP` becomes `0/1:.`); more values than keys is an error.
//! - A record whose FORMAT is `.` has `.` in every sample column.
//!
//! Values htslib would reformat on output (`0.50` as `0.5`, a QUAL of `50.00`) are copied as they are:
//! the result equals bcftools' for files htslib wrote, as archived ones are.

use std::ops::Range;

/// CHROM, POS, ID, REF, ALT, QUAL, FILTER, INFO and FORMAT come before the samples.
const FIXED_COLUMNS: usize = 9;

/// The INFO/AC definition bcftools adds to a header that lacks one.
pub const BCFTOOLS_AC_DEFINITION: &str =
    "##INFO=<ID=AC,Number=A,Type=Integer,Description=\"Allele count in genotypes\">";
/// The INFO/AN definition bcftools adds to a header that lacks one.
pub const BCFTOOLS_AN_DEFINITION: &str =
    "##INFO=<ID=AN,Number=1,Type=Integer,Description=\"Total number of alleles in called genotypes\">";

/// INFO keys that summarise every sample's genotypes (GATK, bcftools +fill-tags, VEP-style
/// cohort annotations). Left as they were, they would still hold a withdrawn person's share — a
/// stale AF minus the remaining genotypes gives theirs back — so a rewrite removes them (bcftools
/// would keep them stale). AC and AN are recomputed instead (see [`AcAnUpdate`]).
pub const SAMPLE_SUMMARIES: [&[u8]; 12] = [
    b"AF",
    b"MAF",
    b"NS",
    b"AC_Het",
    b"AC_Hom",
    b"AC_Hemi",
    b"MLEAC",
    b"MLEAF",
    b"ExcessHet",
    b"HWE",
    b"InbreedingCoeff",
    b"F_MISSING",
];

/// How INFO/AC and INFO/AN follow the samples that remain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AcAnUpdate {
    /// What `bcftools view -s ^ID` does by default: on every record with FORMAT/GT, AC and AN are
    /// recomputed, and added when absent; the header then needs [`AcAnDefinitions`] before `#CHROM`.
    Bcftools,
    /// Recompute AC and AN only where a record's INFO already has them; never add them, so the header
    /// never needs new definitions. Equals bcftools on files whose records all carry both.
    #[default]
    ExistingOnly,
    /// `bcftools view -I -s ^ID`: INFO is copied unchanged and genotypes are never read.
    Keep,
}

/// Rewrites VCF text lines without some sample columns. Holds no state between lines, so one value can
/// serve any number of threads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleSubset {
    /// Number of sample columns in the input.
    samples: usize,
    /// Consecutive kept sample indexes, in order: each is copied as one slice.
    kept_runs: Vec<Range<usize>>,
    kept: usize,
    /// A dropped index past the last sample: refusing beats silently keeping someone's data.
    dropped_out_of_range: Option<usize>,
    ac_an: AcAnUpdate,
}

/// What makes a line impossible to rewrite. Messages name the line and the 1-based sample column, never
/// a sample name or a genotype: both are personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubsetError {
    #[error(
        "line {line}: {found} tab-separated columns where the header has {expected} (9 fixed columns and one per sample)"
    )]
    ColumnCount { line: u64, found: usize, expected: usize },
    #[error("line {line} is empty; a VCF has no empty lines")]
    EmptyLine { line: u64 },
    #[error("line {line}, sample column {column}: more ':'-separated values than the {format_keys} FORMAT key(s)")]
    TooManyValues { line: u64, column: usize, format_keys: usize },
    #[error(
        "line {line}, sample column {column}: GT is not a genotype (VCF 4.3 §1.6.2: allele indexes separated by / or |, . for missing)"
    )]
    MalformedGenotype { line: u64, column: usize },
    #[error(
        "line {line}, sample column {column}: GT refers to allele {allele} but the record has {alts} ALT allele(s)"
    )]
    AlleleOutOfRange { line: u64, column: usize, allele: u64, alts: usize },
    #[error("sample index {index} is to be dropped but the file has only {samples} samples")]
    DroppedIndexOutOfRange { index: usize, samples: usize },
    #[error(
        "every sample column would be removed; bcftools would then keep AC/AN computed from the removed genotypes, so remove the whole file instead"
    )]
    NoSamplesLeft,
}

impl SampleSubset {
    /// `dropped`: 0-based sample indexes (into the samples after FORMAT) to remove; duplicates are fine.
    /// AC and AN follow [`AcAnUpdate::ExistingOnly`] unless [`SampleSubset::with_ac_an`] says otherwise.
    pub fn new(samples: usize, dropped: &[usize]) -> Self {
        let mut dropped = dropped.to_vec();
        dropped.sort_unstable();
        dropped.dedup();
        let dropped_out_of_range = dropped.iter().copied().find(|&index| index >= samples);
        dropped.retain(|&index| index < samples);
        let kept_runs = kept_runs(samples, &dropped);
        let kept = kept_runs.iter().map(|run| run.len()).sum();
        SampleSubset { samples, kept_runs, kept, dropped_out_of_range, ac_an: AcAnUpdate::default() }
    }

    /// Chooses how INFO/AC and INFO/AN follow the remaining samples.
    pub fn with_ac_an(mut self, ac_an: AcAnUpdate) -> Self {
        self.ac_an = ac_an;
        self
    }

    /// How many sample columns the output has; 0 makes every line an error.
    pub fn kept_samples(&self) -> usize {
        self.kept
    }

    /// Rewrites one line (its trailing `\n` or `\r\n`, if any, is ignored) into `out`, followed by `\n`.
    ///
    /// `##` lines are copied unchanged; the `#CHROM` line loses the dropped sample names; a record loses
    /// the dropped sample fields and gets AC/AN as [`AcAnUpdate`] says. `line_number` (1-based) is only
    /// for errors. On error nothing is appended to `out`.
    pub fn rewrite_line(&self, line: &[u8], line_number: u64, out: &mut Vec<u8>) -> Result<(), SubsetError> {
        if let Some(index) = self.dropped_out_of_range {
            return Err(SubsetError::DroppedIndexOutOfRange { index, samples: self.samples });
        }
        if self.kept == 0 {
            return Err(SubsetError::NoSamplesLeft);
        }
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        // htslib drops a trailing '\r' when it reads a line, so bcftools never writes one.
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let written_before = out.len();
        let result = if line.starts_with(b"#CHROM") {
            self.rewrite_column_header(line, line_number, out)
        } else if line.starts_with(b"#") {
            out.extend_from_slice(line);
            Ok(())
        } else if line.is_empty() {
            Err(SubsetError::EmptyLine { line: line_number })
        } else {
            self.rewrite_record(line, line_number, out)
        };
        match result {
            Ok(()) => {
                out.push(b'\n');
                Ok(())
            }
            Err(error) => {
                out.truncate(written_before);
                Err(error)
            }
        }
    }

    fn rewrite_column_header(&self, line: &[u8], line_number: u64, out: &mut Vec<u8>) -> Result<(), SubsetError> {
        let columns = count_columns(line);
        if columns != self.columns() {
            return Err(self.column_count_error(line_number, columns));
        }
        let Some((fixed, samples)) = split_after_columns(line, FIXED_COLUMNS) else {
            return Err(self.column_count_error(line_number, columns));
        };
        out.extend_from_slice(fixed);
        self.copy_kept_columns(samples, None, line_number, out)
    }

    fn rewrite_record(&self, line: &[u8], line_number: u64, out: &mut Vec<u8>) -> Result<(), SubsetError> {
        let Some(record) = Record::split(line) else {
            return Err(self.column_count_error(line_number, count_columns(line)));
        };
        let sample_columns = count_columns(record.samples);
        if sample_columns != self.samples {
            return Err(self.column_count_error(line_number, FIXED_COLUMNS + sample_columns));
        }
        // Counted before anything is written: INFO comes before the samples.
        let allele_counts = self
            .genotype_key_to_count(&record)
            .map(|gt_index| self.count_kept_alleles(record.samples, gt_index, record.alts(), line_number))
            .transpose()?;
        out.extend_from_slice(record.before_info);
        out.push(b'\t');
        match &allele_counts {
            Some(allele_counts) => {
                write_info(record.info, allele_counts, self.ac_an == AcAnUpdate::Bcftools, out);
            }
            None if has_sample_summary(record.info) => write_info_without_summaries(record.info, out),
            None => out.extend_from_slice(record.info),
        }
        out.push(b'\t');
        out.extend_from_slice(record.format);
        if record.format == b"." {
            // htslib keeps no FORMAT keys, so it writes '.' for every sample whatever the field held.
            for _ in 0..self.kept {
                out.extend_from_slice(b"\t.");
            }
            return Ok(());
        }
        let format_keys = count_separated(record.format, b':');
        self.copy_kept_columns(record.samples, Some(format_keys), line_number, out)
    }

    /// The position of GT among the FORMAT keys when AC/AN must be recomputed; `None` copies INFO as is.
    fn genotype_key_to_count(&self, record: &Record<'_>) -> Option<usize> {
        let wanted = match self.ac_an {
            AcAnUpdate::Keep => false,
            AcAnUpdate::ExistingOnly => {
                Fields::new(record.info, b';').map(info_key).any(|key| key == b"AC" || key == b"AN")
            }
            AcAnUpdate::Bcftools => true,
        };
        if !wanted {
            return None;
        }
        // htslib uses the first GT key (a repeated key is ignored).
        Fields::new(record.format, b':').position(|key| key == b"GT")
    }

    /// Counts of each allele (index 0 = REF) over the kept samples' GT, as htslib's `bcf_calc_ac` does:
    /// '.' alleles are not counted, every other allele is, whatever the ploidy or phasing.
    fn count_kept_alleles(
        &self,
        samples: &[u8],
        gt_index: usize,
        alts: usize,
        line_number: u64,
    ) -> Result<Vec<u64>, SubsetError> {
        let mut allele_counts = vec![0u64; alts.saturating_add(1)];
        let mut columns = Fields::new(samples, b'\t');
        let mut next_column = 0;
        for run in &self.kept_runs {
            for _ in next_column..run.start {
                columns.next();
            }
            for column in run.clone() {
                let Some(field) = columns.next() else { break };
                // A field shorter than FORMAT has no GT there: counted as missing.
                let Some(genotype) = Fields::new(field, b':').nth(gt_index) else { continue };
                add_called_alleles(genotype, &mut allele_counts).map_err(|problem| match problem {
                    GenotypeProblem::Malformed => {
                        SubsetError::MalformedGenotype { line: line_number, column: column + 1 }
                    }
                    GenotypeProblem::AlleleOutOfRange(allele) => {
                        SubsetError::AlleleOutOfRange { line: line_number, column: column + 1, allele, alts }
                    }
                })?;
            }
            next_column = run.end;
        }
        Ok(allele_counts)
    }

    /// Appends `\t` and each run of kept columns of `samples`; with `format_keys`, pads short sample
    /// fields with `:.` as htslib writes them.
    fn copy_kept_columns(
        &self,
        samples: &[u8],
        format_keys: Option<usize>,
        line_number: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), SubsetError> {
        let mut spans = ColumnSpans::new(samples);
        let mut next_column = 0;
        for run in &self.kept_runs {
            for _ in next_column..run.start {
                spans.next();
            }
            let Some((run_start, mut run_end)) = spans.next() else {
                return Err(self.column_count_error(line_number, FIXED_COLUMNS + count_columns(samples)));
            };
            if run.end == self.samples {
                // The last run reaches the end of the line: no need to find its tabs.
                run_end = samples.len();
            } else {
                for _ in run.start + 1..run.end {
                    if let Some((_, end)) = spans.next() {
                        run_end = end;
                    }
                }
            }
            next_column = run.end;
            let run_bytes = samples.get(run_start..run_end).unwrap_or_default();
            out.push(b'\t');
            match format_keys {
                None => out.extend_from_slice(run_bytes),
                Some(keys) => copy_padded(run_bytes, run.start, run.len(), keys, line_number, out)?,
            }
        }
        Ok(())
    }

    fn columns(&self) -> usize {
        FIXED_COLUMNS + self.samples
    }

    fn column_count_error(&self, line_number: u64, found: usize) -> SubsetError {
        SubsetError::ColumnCount { line: line_number, found, expected: self.columns() }
    }
}

/// Which of INFO/AC and INFO/AN a header defines, so that under [`AcAnUpdate::Bcftools`] the missing
/// definitions go where bcftools puts them: after the other `##` lines, just before `#CHROM`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AcAnDefinitions {
    ac: bool,
    an: bool,
}

impl AcAnDefinitions {
    /// Notes a `##` line of the header (any other line is ignored).
    pub fn note(&mut self, meta_line: &[u8]) {
        match info_definition_id(meta_line) {
            Some(b"AC") => self.ac = true,
            Some(b"AN") => self.an = true,
            _ => {}
        }
    }

    /// Appends, each with its `\n`, the definitions bcftools adds because the header lacked them.
    pub fn write_missing(&self, out: &mut Vec<u8>) {
        for (defined, definition) in [(self.ac, BCFTOOLS_AC_DEFINITION), (self.an, BCFTOOLS_AN_DEFINITION)] {
            if !defined {
                out.extend_from_slice(definition.as_bytes());
                out.push(b'\n');
            }
        }
    }
}

/// The sample names of a `#CHROM` line (the fields after FORMAT), so callers can find a sample's index.
pub fn sample_columns_of(header_line: &[u8]) -> Vec<&[u8]> {
    let line = header_line.strip_suffix(b"\n").unwrap_or(header_line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Fields::new(line, b'\t').skip(FIXED_COLUMNS).collect()
}

/// The columns of a record line, borrowed from it.
struct Record<'a> {
    /// CHROM to FILTER, without the tab after FILTER: copied as one slice.
    before_info: &'a [u8],
    info: &'a [u8],
    format: &'a [u8],
    samples: &'a [u8],
}

impl<'a> Record<'a> {
    /// `None` when the line has no sample column.
    fn split(line: &'a [u8]) -> Option<Self> {
        let (before_info, rest) = split_after_columns(line, 7)?;
        let (info, rest) = split_after_columns(rest, 1)?;
        let (format, samples) = split_after_columns(rest, 1)?;
        Some(Record { before_info, info, format, samples })
    }

    /// Number of ALT alleles: `.` has none.
    fn alts(&self) -> usize {
        match Fields::new(self.before_info, b'\t').nth(4) {
            Some(b".") | None => 0,
            Some(alt) => count_separated(alt, b','),
        }
    }
}

/// Writes INFO with AC and AN set from `allele_counts` (index 0 = REF): every other entry and the key
/// order stay; with `add_missing`, absent ones are appended, AC then AN, as bcftools'
/// `bcf_update_info_int32` calls do. No ALT means no AC values, which bcftools writes as no AC at all.
fn write_info(info: &[u8], allele_counts: &[u64], add_missing: bool, out: &mut Vec<u8>) {
    let alt_counts = allele_counts.get(1..).unwrap_or_default();
    let allele_number: u64 = allele_counts.iter().sum();
    let start = out.len();
    let (mut had_ac, mut had_an) = (false, false);
    let entries = if info == b"." { Fields::exhausted() } else { Fields::new(info, b';') };
    for entry in entries {
        match info_key(entry) {
            b"AC" => {
                had_ac = true;
                push_allele_counts(out, start, alt_counts);
            }
            b"AN" => {
                had_an = true;
                push_allele_number(out, start, allele_number);
            }
            _ if entry.is_empty() => {}
            key if SAMPLE_SUMMARIES.contains(&key) => {}
            _ => {
                push_info_separator(out, start);
                out.extend_from_slice(entry);
            }
        }
    }
    if add_missing && !had_ac {
        push_allele_counts(out, start, alt_counts);
    }
    if add_missing && !had_an {
        push_allele_number(out, start, allele_number);
    }
    if out.len() == start {
        out.push(b'.');
    }
}

/// Whether INFO holds a key of [`SAMPLE_SUMMARIES`] (cheap: a substring test first).
fn has_sample_summary(info: &[u8]) -> bool {
    info != b"." && Fields::new(info, b';').any(|entry| SAMPLE_SUMMARIES.contains(&info_key(entry)))
}

/// INFO without the keys of [`SAMPLE_SUMMARIES`]; `.` when nothing is left.
fn write_info_without_summaries(info: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    for entry in Fields::new(info, b';').filter(|e| !e.is_empty() && !SAMPLE_SUMMARIES.contains(&info_key(e))) {
        push_info_separator(out, start);
        out.extend_from_slice(entry);
    }
    if out.len() == start {
        out.push(b'.');
    }
}

fn push_allele_counts(out: &mut Vec<u8>, info_start: usize, alt_counts: &[u64]) {
    if alt_counts.is_empty() {
        return;
    }
    push_info_separator(out, info_start);
    out.extend_from_slice(b"AC=");
    for (position, count) in alt_counts.iter().enumerate() {
        if position > 0 {
            out.push(b',');
        }
        push_decimal(out, *count);
    }
}

fn push_allele_number(out: &mut Vec<u8>, info_start: usize, allele_number: u64) {
    push_info_separator(out, info_start);
    out.extend_from_slice(b"AN=");
    push_decimal(out, allele_number);
}

fn push_info_separator(out: &mut Vec<u8>, info_start: usize) {
    if out.len() > info_start {
        out.push(b';');
    }
}

/// Decimal digits without going through `fmt` or allocating.
fn push_decimal(out: &mut Vec<u8>, value: u64) {
    let start = out.len();
    let mut rest = value;
    loop {
        out.push(b'0' + (rest % 10) as u8);
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if let Some(digits) = out.get_mut(start..) {
        digits.reverse();
    }
}

/// The key of an INFO entry (`KEY=VALUE` or a flag).
fn info_key(entry: &[u8]) -> &[u8] {
    match memchr::memchr(b'=', entry) {
        Some(equals) => entry.get(..equals).unwrap_or(entry),
        None => entry,
    }
}

/// The ID of a `##INFO=<ID=...,...>` line.
fn info_definition_id(line: &[u8]) -> Option<&[u8]> {
    let inside = line.strip_prefix(b"##INFO=<")?;
    inside.split(|byte| *byte == b',' || *byte == b'>').find_map(|pair| pair.strip_prefix(b"ID="))
}

enum GenotypeProblem {
    Malformed,
    AlleleOutOfRange(u64),
}

/// Adds one GT value's called alleles to `allele_counts`. Accepts what htslib reads: `.` or an index per
/// allele, separated by `/` or `|`, with VCF 4.4's optional leading phase marker.
fn add_called_alleles(genotype: &[u8], allele_counts: &mut [u64]) -> Result<(), GenotypeProblem> {
    let alleles = match genotype.first() {
        Some(b'/' | b'|') => genotype.get(1..).unwrap_or_default(),
        _ => genotype,
    };
    for allele in alleles.split(|byte| *byte == b'/' || *byte == b'|') {
        match allele {
            b"." => {}
            digits if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) => {
                let index = digits
                    .iter()
                    .fold(0u64, |value, digit| value.saturating_mul(10).saturating_add(u64::from(digit - b'0')));
                let count = usize::try_from(index).ok().and_then(|index| allele_counts.get_mut(index));
                match count {
                    Some(count) => *count += 1,
                    None => return Err(GenotypeProblem::AlleleOutOfRange(index)),
                }
            }
            _ => return Err(GenotypeProblem::Malformed),
        }
    }
    Ok(())
}

/// Copies a run of kept sample fields, padding any with fewer values than `format_keys`. Counting the
/// run's ':' first keeps the usual case (every field complete) a single copy; a run whose count matches
/// only because one field has too many values and another too few is invalid VCF copied as it is.
fn copy_padded(
    run: &[u8],
    first_column: usize,
    columns: usize,
    format_keys: usize,
    line_number: u64,
    out: &mut Vec<u8>,
) -> Result<(), SubsetError> {
    let complete_colons = columns.saturating_mul(format_keys.saturating_sub(1));
    if memchr::memchr_iter(b':', run).count() == complete_colons {
        out.extend_from_slice(run);
        return Ok(());
    }
    for (offset, field) in Fields::new(run, b'\t').enumerate() {
        if offset > 0 {
            out.push(b'\t');
        }
        out.extend_from_slice(field);
        let values = count_separated(field, b':');
        if values > format_keys {
            return Err(SubsetError::TooManyValues {
                line: line_number,
                column: first_column + offset + 1,
                format_keys,
            });
        }
        for _ in values..format_keys {
            out.extend_from_slice(b":.");
        }
    }
    Ok(())
}

/// Ranges of consecutive sample indexes not in `dropped` (sorted, deduplicated, each below `samples`).
fn kept_runs(samples: usize, dropped: &[usize]) -> Vec<Range<usize>> {
    let mut runs = Vec::with_capacity(dropped.len() + 1);
    let mut start = 0;
    for &index in dropped {
        if index > start {
            runs.push(start..index);
        }
        start = index + 1;
    }
    if start < samples {
        runs.push(start..samples);
    }
    runs
}

/// Splits `line` after its first `columns` tab-separated columns: those columns (without the tab that
/// follows them) and the rest. `None` when the line has no more than `columns` columns.
fn split_after_columns(line: &[u8], columns: usize) -> Option<(&[u8], &[u8])> {
    let tab = memchr::memchr_iter(b'\t', line).nth(columns.checked_sub(1)?)?;
    Some((line.get(..tab)?, line.get(tab + 1..)?))
}

fn count_columns(bytes: &[u8]) -> usize {
    count_separated(bytes, b'\t')
}

/// Number of `separator`-separated fields (an empty slice is one empty field).
fn count_separated(bytes: &[u8], separator: u8) -> usize {
    memchr::memchr_iter(separator, bytes).count() + 1
}

/// Fields of a byte string split on one separator with memchr; an empty string is one empty field.
struct Fields<'a> {
    rest: Option<&'a [u8]>,
    separator: u8,
}

impl<'a> Fields<'a> {
    fn new(bytes: &'a [u8], separator: u8) -> Self {
        Fields { rest: Some(bytes), separator }
    }

    /// No fields at all (INFO `.` has no entries).
    fn exhausted() -> Self {
        Fields { rest: None, separator: b';' }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let bytes = self.rest?;
        match memchr::memchr(self.separator, bytes) {
            Some(at) => {
                self.rest = bytes.get(at + 1..);
                bytes.get(..at)
            }
            None => {
                self.rest = None;
                Some(bytes)
            }
        }
    }
}

/// Start and end offsets of tab-separated columns, so runs of them can be copied as one slice.
struct ColumnSpans<'a> {
    tabs: memchr::Memchr<'a>,
    start: usize,
    len: usize,
    finished: bool,
}

impl<'a> ColumnSpans<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        ColumnSpans { tabs: memchr::memchr_iter(b'\t', bytes), start: 0, len: bytes.len(), finished: false }
    }
}

impl Iterator for ColumnSpans<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        if self.finished {
            return None;
        }
        let end = match self.tabs.next() {
            Some(tab) => tab,
            None => {
                self.finished = true;
                self.len
            }
        };
        let span = (self.start, end);
        self.start = end + 1;
        Some(span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXED_HEADER: &str = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT";
    const HEADER: &str = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS0\tS1\tS2\tS3\tS4";
    /// AC = 1 + 2 + 1 = 4, AN = 8 over all five; the last is not called.
    const FIVE: [&str; 5] = ["0/0:1", "0/1:2", "1/1:3", "0|1:4", "./.:5"];

    fn rewrite(subset: &SampleSubset, line: &str) -> String {
        let mut out = Vec::new();
        subset.rewrite_line(line.as_bytes(), 7, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn try_rewrite(subset: &SampleSubset, line: &str, line_number: u64) -> Result<String, SubsetError> {
        let mut out = Vec::new();
        subset.rewrite_line(line.as_bytes(), line_number, &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    fn record(alt: &str, info: &str, format: &str, samples: &[&str]) -> String {
        format!("1\t100\trs1\tA\t{alt}\t50\tPASS\t{info}\t{format}\t{}", samples.join("\t"))
    }

    fn line(alt: &str, info: &str, format: &str, samples: &[&str]) -> String {
        format!("{}\n", record(alt, info, format, samples))
    }

    #[test]
    fn meta_lines_are_copied_unchanged() {
        let subset = SampleSubset::new(5, &[1]);
        for meta in [
            "##fileformat=VCFv4.3",
            "##INFO=<ID=DP,Number=1,Type=Integer,Description=\"Depth, in reads\">",
            "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">",
            "##contig=<ID=1,length=248956422>",
            "#a comment",
        ] {
            assert_eq!(rewrite(&subset, meta), format!("{meta}\n"));
        }
    }

    #[test]
    fn header_line_loses_the_dropped_names() {
        let cases = [
            (vec![0], "S1\tS2\tS3\tS4"),
            (vec![4], "S0\tS1\tS2\tS3"),
            (vec![2], "S0\tS1\tS3\tS4"),
            (vec![0, 2, 4], "S1\tS3"),
            (vec![3, 1, 3], "S0\tS2\tS4"),
            (vec![], "S0\tS1\tS2\tS3\tS4"),
        ];
        for (dropped, kept) in cases {
            let subset = SampleSubset::new(5, &dropped).with_ac_an(AcAnUpdate::Keep);
            assert_eq!(rewrite(&subset, HEADER), format!("{FIXED_HEADER}\t{kept}\n"), "dropping {dropped:?}");
            assert_eq!(rewrite(&subset, &format!("{HEADER}\r")), format!("{FIXED_HEADER}\t{kept}\n"));
        }
    }

    #[test]
    fn bcftools_definitions_are_added_only_when_missing() {
        let written = |definitions: &AcAnDefinitions| {
            let mut out = Vec::new();
            definitions.write_missing(&mut out);
            String::from_utf8(out).unwrap()
        };
        let mut definitions = AcAnDefinitions::default();
        assert_eq!(written(&definitions), format!("{BCFTOOLS_AC_DEFINITION}\n{BCFTOOLS_AN_DEFINITION}\n"));
        definitions.note(b"##INFO=<ID=ANN,Number=.,Type=String,Description=\"Functional annotations, ID=AN\">");
        definitions.note(b"##FORMAT=<ID=AN,Number=1,Type=Integer,Description=\"Not INFO\">");
        definitions.note(b"##INFO=<ID=AN,Number=1,Type=Integer,Description=\"Total number of alleles\">");
        assert_eq!(written(&definitions), format!("{BCFTOOLS_AC_DEFINITION}\n"));
        definitions.note(b"##INFO=<ID=AC,Number=A,Type=Integer,Description=\"Allele count\">");
        assert_eq!(written(&definitions), "");
    }

    #[test]
    fn the_default_never_adds_ac_or_an() {
        assert_eq!(AcAnUpdate::default(), AcAnUpdate::ExistingOnly);
        let subset = SampleSubset::new(5, &[1]);
        assert_eq!(
            rewrite(&subset, &record("G", "DP=15", "GT:DP", &FIVE)),
            line("G", "DP=15", "GT:DP", &["0/0:1", "1/1:3", "0|1:4", "./.:5"])
        );
    }

    #[test]
    fn record_without_ac_an_keeps_its_info() {
        let kept = ["0/0:1", "1/1:3", "0|1:4", "./.:5"];
        for update in [AcAnUpdate::Keep, AcAnUpdate::ExistingOnly] {
            let subset = SampleSubset::new(5, &[1]).with_ac_an(update);
            assert_eq!(rewrite(&subset, &record("G", "DP=15", "GT:DP", &FIVE)), line("G", "DP=15", "GT:DP", &kept));
            assert_eq!(rewrite(&subset, &record("G", ".", "GT:DP", &FIVE)), line("G", ".", "GT:DP", &kept));
        }
        let subset = SampleSubset::new(5, &[1]).with_ac_an(AcAnUpdate::Keep);
        assert_eq!(rewrite(&subset, &record("G", "AC=4;AN=8", "GT:DP", &FIVE)), line("G", "AC=4;AN=8", "GT:DP", &kept));
    }

    #[test]
    fn existing_ac_an_are_recomputed_in_place() {
        // Left after S1: 0/0, 1/1, 0|1, ./. so AC = 2 + 1 = 3 and AN = 2 + 2 + 2 = 6.
        let kept = ["0/0:1", "1/1:3", "0|1:4", "./.:5"];
        for update in [AcAnUpdate::Bcftools, AcAnUpdate::ExistingOnly] {
            let subset = SampleSubset::new(5, &[1]).with_ac_an(update);
            assert_eq!(
                rewrite(&subset, &record("G", "DP=15;AC=4;AN=8;AF=0.5", "GT:DP", &FIVE)),
                line("G", "DP=15;AC=3;AN=6", "GT:DP", &kept),
                "AF summarises every sample: removed, not left stale"
            );
            assert_eq!(
                rewrite(&subset, &record("G", "AN=8;AC=4", "GT:DP", &FIVE)),
                line("G", "AN=6;AC=3", "GT:DP", &kept)
            );
            // Keys are matched whole (ANN is not AN; AC_Het is a sample summary, removed).
            assert_eq!(
                rewrite(&subset, &record("G", "AC_Het=1;AN=8;ANN=x", "GT:DP", &FIVE)),
                line(
                    "G",
                    if update == AcAnUpdate::Bcftools { "AN=6;ANN=x;AC=3" } else { "AN=6;ANN=x" },
                    "GT:DP",
                    &kept
                )
            );
        }
    }

    #[test]
    fn bcftools_adds_missing_ac_and_an_at_the_end() {
        let subset = SampleSubset::new(5, &[1]).with_ac_an(AcAnUpdate::Bcftools);
        let kept = ["0/0:1", "1/1:3", "0|1:4", "./.:5"];
        assert_eq!(
            rewrite(&subset, &record("G", "DP=15", "GT:DP", &FIVE)),
            line("G", "DP=15;AC=3;AN=6", "GT:DP", &kept)
        );
        assert_eq!(rewrite(&subset, &record("G", ".", "GT:DP", &FIVE)), line("G", "AC=3;AN=6", "GT:DP", &kept));
        assert_eq!(
            rewrite(&subset, &record("G", "AN=8;DP=15", "GT:DP", &FIVE)),
            line("G", "AN=6;DP=15;AC=3", "GT:DP", &kept)
        );
        assert_eq!(
            rewrite(&subset, &record("G", "DB;AC=4", "GT:DP", &FIVE)),
            line("G", "DB;AC=3;AN=6", "GT:DP", &kept)
        );

        let only_existing = SampleSubset::new(5, &[1]).with_ac_an(AcAnUpdate::ExistingOnly);
        assert_eq!(
            rewrite(&only_existing, &record("G", "AN=8;DP=15", "GT:DP", &FIVE)),
            line("G", "AN=6;DP=15", "GT:DP", &kept)
        );
    }

    #[test]
    fn multi_allelic_ac_has_one_count_per_alt() {
        // Left after S4: 0/1, 1/2, 2/2, 0/2 so allele 1 twice, allele 2 four times, AN 8.
        let subset = SampleSubset::new(5, &[4]).with_ac_an(AcAnUpdate::Bcftools);
        assert_eq!(
            rewrite(&subset, &record("G,T", "AC=4,4;AN=10", "GT", &["0/1", "1/2", "2/2", "0/2", "1|1"])),
            line("G,T", "AC=2,4;AN=8", "GT", &["0/1", "1/2", "2/2", "0/2"])
        );
        assert_eq!(
            rewrite(&subset, &record("G,T,C", ".", "GT", &["0/0", "0/0", "3/3", "0/0", "1/1"])),
            line("G,T,C", "AC=0,0,2;AN=8", "GT", &["0/0", "0/0", "3/3", "0/0"])
        );
    }

    #[test]
    fn phased_haploid_and_missing_alleles_count_like_bcftools() {
        // Left after S0: 0 (AN 1), 1|0 (AN 2, AC 1), . (nothing), 0|1 (AN 2, AC 1).
        let subset = SampleSubset::new(5, &[0]);
        assert_eq!(
            rewrite(&subset, &record("G", "AC=3;AN=6", "GT", &["1", "0", "1|0", ".", "0|1"])),
            line("G", "AC=2;AN=5", "GT", &["0", "1|0", ".", "0|1"])
        );
        // Left after S3: ./1 (AN 1, AC 1), .|. (nothing), 0/. (AN 1), . (nothing).
        let subset = SampleSubset::new(5, &[3]);
        assert_eq!(
            rewrite(&subset, &record("G", "AC=3;AN=4", "GT", &["./1", ".|.", "0/.", "1/1", "."])),
            line("G", "AC=1;AN=2", "GT", &["./1", ".|.", "0/.", "."])
        );
        // Every remaining call missing.
        let subset = SampleSubset::new(2, &[1]);
        assert_eq!(
            rewrite(&subset, &record("G", "AC=1;AN=4", "GT", &["./.", "0/1"])),
            line("G", "AC=0;AN=0", "GT", &["./."])
        );
    }

    #[test]
    fn no_alt_allele_means_no_ac() {
        let samples = ["0/0", "0/0", "0/0", "0/0", "0/0"];
        let kept = ["0/0", "0/0", "0/0", "0/0"];
        let subset = SampleSubset::new(5, &[1]).with_ac_an(AcAnUpdate::Bcftools);
        assert_eq!(
            rewrite(&subset, &record(".", "AC=0;AN=10;DP=5", "GT", &samples)),
            line(".", "AN=8;DP=5", "GT", &kept)
        );
        assert_eq!(rewrite(&subset, &record(".", ".", "GT", &samples)), line(".", "AN=8", "GT", &kept));
        let only_existing = SampleSubset::new(5, &[1]).with_ac_an(AcAnUpdate::ExistingOnly);
        assert_eq!(rewrite(&only_existing, &record(".", "AC=0", "GT", &samples)), line(".", ".", "GT", &kept));
    }

    #[test]
    fn short_sample_fields_are_padded_and_count_as_missing() {
        let samples = ["0/1:3:20", ".", "1/1:7", "0/0:1:9", "0/1:2:5"];
        // Left after S0: . (nothing), 1/1 (AN 2, AC 2), 0/0 (AN 2), 0/1 (AN 2, AC 1).
        let subset = SampleSubset::new(5, &[0]).with_ac_an(AcAnUpdate::Bcftools);
        assert_eq!(
            rewrite(&subset, &record("G", ".", "GT:DP:GQ", &samples)),
            line("G", "AC=3;AN=6", "GT:DP:GQ", &[".:.:.", "1/1:7:.", "0/0:1:9", "0/1:2:5"])
        );
        // The same in a run that does not reach the end of the line, and with genotypes not read.
        let subset = SampleSubset::new(5, &[4]).with_ac_an(AcAnUpdate::Keep);
        assert_eq!(
            rewrite(&subset, &record("G", ".", "GT:DP:GQ", &samples)),
            line("G", ".", "GT:DP:GQ", &["0/1:3:20", ".:.:.", "1/1:7:.", "0/0:1:9"])
        );
    }

    #[test]
    fn genotype_found_where_format_puts_it() {
        // Left after S0: 1/1 (AN 2, AC 2), no GT (missing), 0/0 (AN 2), ./1 (AN 1, AC 1).
        let subset = SampleSubset::new(5, &[0]);
        assert_eq!(
            rewrite(&subset, &record("G", "AC=4;AN=7", "DP:GT", &["3:0/1", "4:1/1", "5", "6:0/0", "7:./1"])),
            line("G", "AC=3;AN=5", "DP:GT", &["4:1/1", "5:.", "6:0/0", "7:./1"])
        );
    }

    #[test]
    fn without_gt_info_is_left_alone() {
        let subset = SampleSubset::new(5, &[1]).with_ac_an(AcAnUpdate::Bcftools);
        assert_eq!(
            rewrite(&subset, &record("G", "AC=1;AN=2", "DP", &["1", "2", "3", "4", "5"])),
            line("G", "AC=1;AN=2", "DP", &["1", "3", "4", "5"])
        );
    }

    #[test]
    fn empty_format_writes_dots() {
        let subset = SampleSubset::new(5, &[1]);
        assert_eq!(
            rewrite(&subset, &record("G", "DP=3", ".", &["0/1", ".", ".", ".", "."])),
            line("G", "DP=3", ".", &[".", ".", ".", "."])
        );
    }

    #[test]
    fn runs_of_kept_columns_match_a_naive_filter() {
        let fields: Vec<String> = (0..12).map(|index| format!("{}|{}:{index}", index % 2, index % 3 % 2)).collect();
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        let cases: [&[usize]; 9] = [
            &[],
            &[0],
            &[11],
            &[5],
            &[3, 4, 9],
            &[0, 1, 2],
            &[0, 11],
            &[9, 10, 11],
            &[0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11],
        ];
        for dropped in cases {
            let kept: Vec<&str> = fields
                .iter()
                .enumerate()
                .filter(|(index, _)| !dropped.contains(index))
                .map(|(_, field)| *field)
                .collect();
            let subset = SampleSubset::new(12, dropped).with_ac_an(AcAnUpdate::Keep);
            assert_eq!(kept.len(), subset.kept_samples());
            assert_eq!(
                rewrite(&subset, &record("G", "DP=3", "GT:DP", &fields)),
                line("G", "DP=3", "GT:DP", &kept),
                "dropping {dropped:?}"
            );
        }
    }

    #[test]
    fn line_endings_are_not_copied() {
        let subset = SampleSubset::new(5, &[1]).with_ac_an(AcAnUpdate::Bcftools);
        let expected = line("G", "AC=3;AN=6", "GT:DP", &["0/0:1", "1/1:3", "0|1:4", "./.:5"]);
        assert_eq!(rewrite(&subset, &format!("{}\r", record("G", ".", "GT:DP", &FIVE))), expected);
        assert_eq!(rewrite(&subset, &format!("{}\r\n", record("G", ".", "GT:DP", &FIVE))), expected);
        assert_eq!(rewrite(&subset, "##fileformat=VCFv4.3\n"), "##fileformat=VCFv4.3\n");
    }

    #[test]
    fn wrong_column_counts_name_the_line() {
        let subset = SampleSubset::new(5, &[1]);
        let mut out = b"earlier\n".to_vec();
        let four = record("G", ".", "GT", &["0/0", "0/1", "1/1", "0/0"]);
        assert_eq!(
            subset.rewrite_line(four.as_bytes(), 42, &mut out),
            Err(SubsetError::ColumnCount { line: 42, found: 13, expected: 14 })
        );
        assert_eq!(out, b"earlier\n", "nothing is appended on error");
        let six = record("G", ".", "GT", &["0/0", "0/1", "1/1", "0/0", "0/0", "0/0"]);
        assert_eq!(try_rewrite(&subset, &six, 43), Err(SubsetError::ColumnCount { line: 43, found: 15, expected: 14 }));
        let sites_only = "1\t100\trs1\tA\tG\t50\tPASS\t.";
        assert_eq!(
            try_rewrite(&subset, sites_only, 44),
            Err(SubsetError::ColumnCount { line: 44, found: 8, expected: 14 })
        );
        let no_samples = "1\t100\trs1\tA\tG\t50\tPASS\t.\tGT";
        assert_eq!(
            try_rewrite(&subset, no_samples, 45),
            Err(SubsetError::ColumnCount { line: 45, found: 9, expected: 14 })
        );

        let short_header = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS0\tS1\tS2\tS3";
        let error = try_rewrite(&subset, short_header, 3).unwrap_err();
        assert_eq!(error, SubsetError::ColumnCount { line: 3, found: 13, expected: 14 });
        let message = error.to_string();
        assert!(message.contains("line 3"), "{message}");
        assert!(!message.contains("S0"), "sample names are personal: {message}");
        assert_eq!(try_rewrite(&subset, "", 9), Err(SubsetError::EmptyLine { line: 9 }));
    }

    #[test]
    fn bad_genotypes_in_kept_columns_are_errors() {
        let subset = SampleSubset::new(5, &[0]).with_ac_an(AcAnUpdate::Bcftools);
        let out_of_range = record("G", ".", "GT", &["0/0", "0/2", "0/0", "0/0", "0/0"]);
        assert_eq!(
            try_rewrite(&subset, &out_of_range, 5),
            Err(SubsetError::AlleleOutOfRange { line: 5, column: 2, allele: 2, alts: 1 })
        );
        for bad in ["0/x", "0/", "", "0//1", "A"] {
            let field = format!("{bad}:3");
            let malformed = record("G", ".", "GT:DP", &["0/0:1", "0/0:1", field.as_str(), "0/0:1", "0/0:1"]);
            assert_eq!(
                try_rewrite(&subset, &malformed, 6),
                Err(SubsetError::MalformedGenotype { line: 6, column: 3 }),
                "GT {bad:?}"
            );
        }
        // A dropped column's genotypes are never read; nor any when INFO is kept as it is.
        let dropping_it = SampleSubset::new(5, &[1]).with_ac_an(AcAnUpdate::Bcftools);
        assert!(try_rewrite(&dropping_it, &out_of_range, 5).is_ok());
        let keep = SampleSubset::new(5, &[0]).with_ac_an(AcAnUpdate::Keep);
        assert!(try_rewrite(&keep, &out_of_range, 5).is_ok());
    }

    #[test]
    fn more_values_than_format_keys_is_an_error() {
        let samples = ["0/1", "0/1:5", "0/0", "0/0", "0/0"];
        for update in [AcAnUpdate::Bcftools, AcAnUpdate::Keep] {
            let subset = SampleSubset::new(5, &[0]).with_ac_an(update);
            assert_eq!(
                try_rewrite(&subset, &record("G", ".", "GT", &samples), 8),
                Err(SubsetError::TooManyValues { line: 8, column: 2, format_keys: 1 })
            );
        }
    }

    #[test]
    fn dropping_nobody_known_or_everybody_is_refused() {
        let past_the_end = SampleSubset::new(5, &[1, 5]);
        assert_eq!(
            try_rewrite(&past_the_end, HEADER, 1),
            Err(SubsetError::DroppedIndexOutOfRange { index: 5, samples: 5 })
        );
        let everybody = SampleSubset::new(2, &[1, 0]);
        assert_eq!(everybody.kept_samples(), 0);
        assert_eq!(try_rewrite(&everybody, "##fileformat=VCFv4.3", 1), Err(SubsetError::NoSamplesLeft));
    }

    #[test]
    fn sample_columns_of_a_header_line() {
        let expected: [&[u8]; 5] = [b"S0", b"S1", b"S2", b"S3", b"S4"];
        assert_eq!(sample_columns_of(HEADER.as_bytes()), expected);
        assert_eq!(sample_columns_of(format!("{HEADER}\r\n").as_bytes()), expected);
        assert!(sample_columns_of(FIXED_HEADER.as_bytes()).is_empty());
        assert!(sample_columns_of(b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO").is_empty());
    }

    #[test]
    fn decimals_are_written_whole() {
        for value in [0, 7, 10, 1234, u64::MAX] {
            let mut out = b"x".to_vec();
            push_decimal(&mut out, value);
            assert_eq!(out, format!("x{value}").into_bytes());
        }
    }

    #[test]
    fn sample_summaries_are_removed_and_ac_an_recomputed() {
        let subset = SampleSubset::new(3, &[0]);
        let line = record("T", "AF=0.5;DP=30;AC=3;AN=6;MLEAF=0.5", "GT", &["1/1", "0/1", "0/0"]);
        assert_eq!(rewrite(&subset, &line), record("T", "DP=30;AC=1;AN=4", "GT", &["0/1", "0/0"]) + "\n");
        let line = record("T", "AF=0.5;NS=3", "GT", &["1/1", "0/1", "0/0"]);
        assert_eq!(rewrite(&subset, &line), record("T", ".", "GT", &["0/1", "0/0"]) + "\n");
        let line = record("T", "DP=30", "GT", &["1/1", "0/1", "0/0"]);
        assert_eq!(rewrite(&subset, &line), record("T", "DP=30", "GT", &["0/1", "0/0"]) + "\n");
    }
}
